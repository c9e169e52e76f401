"""Relief change: DEM co-registration, differencing with uncertainty, glacier change, coloured relief.

* :func:`nuth_kaab` estimates the horizontal and vertical offset of a DEM to a reference on
  stable terrain (Nuth & Kääb 2011 [1]_); :func:`coregister` applies it (lazy bilinear
  resampling); :func:`dem_difference` returns the elevation change (lazy).
* :func:`dh_error` measures the error of the elevation change on stable terrain: its NMAD
  and a spatially correlated part for area means (Hugonnet et al. 2022 [2]_, simplified, see
  there); :func:`glacier_change` gives per outline the mean elevation change, volume and mass
  change with their uncertainty (density 850 +- 60 kg m-3, Huss 2013 [3]_).
* :func:`colour_relief` blends an elevation colour ramp (as ``gdaldem color-relief``) with a
  single-direction or multidirectional hillshade (:func:`terra_lab.products.terrain.hillshade`,
  as ``gdaldem hillshade -multidirectional``), the coloured shaded views of THEIA's DSM-OPT.

Laziness: differencing, resampling and the coloured relief stay lazy on Dask inputs.  The
co-registration fit and the error model need numbers: they compute the two DEMs (the fit
samples up to ``subsample`` stable pixels, the variogram ``variogram_sample``) when called.

References
----------
.. [1] Nuth, C., Kääb, A. (2011). Co-registration and bias corrections of satellite elevation
   data sets for quantifying glacier thickness change. The Cryosphere 5, 271-290.
   https://doi.org/10.5194/tc-5-271-2011
.. [2] Hugonnet, R., Brun, F., Berthier, E., et al. (2022). Uncertainty analysis of digital
   elevation models by spatial inference from stable terrain. IEEE JSTARS 15, 6456-6472.
   https://doi.org/10.1109/JSTARS.2022.3188922
.. [3] Huss, M. (2013). Density assumptions for converting geodetic glacier volume change to
   mass change. The Cryosphere 7, 877-887. https://doi.org/10.5194/tc-7-877-2013
.. [4] Rolstad, C., Haug, T., Denby, B. (2009). Spatially integrative geodetic glacier mass
   balance and its uncertainty based on geostatistical analysis. J. Glaciol. 55(192), 666-680.
.. [5] xdem (GlacioHack): ``xdem.coreg.NuthKaab``, ``xdem.spatialstats`` (the comparison).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from ..errors import RasterInputError
from ..kernels import _relief as k
from ._common import with_provenance
from ._grid import as_yx, grid_differences, pixel_size
from .params import with_overrides
from .terrain import _prepare, aspect, hillshade, slope

__all__ = [
    "DEFAULT_RAMP",
    "CoregResult",
    "DhError",
    "NuthKaabParams",
    "colour_relief",
    "coregister",
    "dem_difference",
    "dh_error",
    "glacier_change",
    "nmad",
    "nuth_kaab",
    "outline_masks",
]

_REF_NK = "Nuth & Kääb 2011, The Cryosphere 5:271"
_REF_ERR = "Hugonnet et al. 2022, IEEE JSTARS 15:6456 (simplified); Rolstad et al. 2009, J. Glaciol. 55:666"
#: Huss (2013): volume-to-mass conversion density and its uncertainty (kg m-3)
ICE_DENSITY, ICE_DENSITY_SIGMA = 850.0, 60.0
WATER_DENSITY = 1000.0


@dataclass(frozen=True)
class NuthKaabParams:
    """Parameters of :func:`nuth_kaab` (defaults: xdem's ``NuthKaab``, itself after the paper).

    ``offset_threshold`` (pixels) and ``max_iterations`` stop the iterations as xdem does;
    ``min_improvement`` adds the paper's criterion (stop when the NMAD of dh improves by less
    than this fraction, 0.02 in [1]_; ``None``: off).  ``bins`` aspect bins whose medians of
    dh/tan(slope) are fitted (xdem: 72); ``min_slope`` (degrees): flatter pixels are left out
    (dh/tan(slope) explodes there; xdem leaves out only zero slopes, the medians make both
    robust).  ``subsample``: at most this many stable pixels are used (seeded by ``seed``).
    """

    max_iterations: int = 10
    offset_threshold: float = 0.001
    min_improvement: float | None = None
    bins: int = 72
    min_slope: float = 1.0
    subsample: int = 500_000
    seed: int = 0


@dataclass(frozen=True)
class CoregResult:
    """The offset of a DEM to its reference: ``dem(x) ~ reference(x - (shift_x, shift_y)) + shift_z``.

    Metres east, north and up (``xdem.coreg.NuthKaab`` stores the opposite: the translation that
    corrects ``dem``).  ``nmad_before``/``nmad_after``: NMAD (m) of dh on the sampled
    stable pixels before and after; ``iterations`` done; ``n_samples`` stable pixels used.
    """

    shift_x: float
    shift_y: float
    shift_z: float
    iterations: int
    nmad_before: float
    nmad_after: float
    n_samples: int
    pixel_size: tuple[float, float]

    @property
    def shift_pixels(self) -> tuple[float, float]:
        """(x, y) shift in pixels."""
        return self.shift_x / self.pixel_size[0], self.shift_y / self.pixel_size[1]


def nmad(values: Any) -> float:
    """Normalised median absolute deviation, ``1.4826 median(|v - median(v)|)``, ignoring NaN."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan")
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


# ---------------------------------------------------------------------------------------- inputs
def _dem(dem: Any, name: str) -> xr.DataArray:
    """A (y, x) float32 DEM with NaN for no data (:func:`terra_lab.products.terrain._prepare`; a length-1
    time/band is kept as a scalar coordinate: it dates the DEM), in a projected CRS."""
    out, _ = _prepare(dem, name, None, name=name, drop=False)
    if out.rio.crs is None:
        raise RasterInputError(f"{name} has no CRS; write one: {name} = {name}.rio.write_crs('EPSG:...')")
    if not out.rio.crs.is_projected:
        raise RasterInputError(f"{name} is in geographic coordinates ({out.rio.crs}); slopes and shifts need metres: "
                               f"{name} = {name}.rio.reproject(<a projected CRS such as the UTM zone>)")
    return out.rio.write_nodata(np.nan, encoded=False)


def _on_grid(reference: xr.DataArray, dem: xr.DataArray, reproject: bool) -> tuple[xr.DataArray, list[str]]:
    """``dem`` on the reference's grid: as is, or bilinearly reprojected (``reproject``)."""
    why = grid_differences(reference, dem)
    if not why:
        return dem.assign_coords(x=reference["x"].values, y=reference["y"].values), []
    if not reproject:
        from ..errors import GridMismatchError

        raise GridMismatchError(f"dem is not on the grid of reference ({'; '.join(why)}); pass reproject=True, or "
                                "dem = dem.rio.reproject_match(reference, resampling=Resampling.bilinear)")
    from rasterio.enums import Resampling

    out = dem.rio.reproject_match(reference, resampling=Resampling.bilinear, nodata=np.nan)
    return out.assign_coords(x=reference["x"].values, y=reference["y"].values).astype(np.float32), why


def outline_masks(outlines: Any, like: xr.DataArray, *, name_field: str = "name") -> xr.DataArray:
    """Rasterise glacier (or any) outlines onto ``like``'s grid: a bool DataArray on (outline, y, x).

    ``outlines``: a GeoJSON file path or mapping, a GeoDataFrame, a shapely geometry or a list
    of them; GeoJSON without a ``crs`` member is WGS 84 (RFC 7946).  A pixel belongs to an
    outline when its centre does.  Names come from ``name_field`` (else the row number).
    """
    import geopandas as gpd
    import shapely.geometry
    from rasterio.features import rasterize

    if isinstance(outlines, (str, Path)):
        gdf = gpd.read_file(outlines)
    elif isinstance(outlines, gpd.GeoDataFrame):
        gdf = outlines
    elif isinstance(outlines, dict) and outlines.get("type") == "FeatureCollection":
        gdf = gpd.GeoDataFrame.from_features(outlines["features"], crs="EPSG:4326")
    else:
        geoms = outlines if isinstance(outlines, (list, tuple)) else [outlines]
        geoms = [shapely.geometry.shape(g) if isinstance(g, dict) else g for g in geoms]
        gdf = gpd.GeoDataFrame(geometry=geoms, crs=like.rio.crs)
    if len(gdf) == 0:
        raise RasterInputError("the outlines hold no geometry; pass at least one polygon")
    if gdf.crs is None:
        gdf = gdf.set_crs(like.rio.crs)
    gdf = gdf.to_crs(like.rio.crs)
    names = [str(v) for v in gdf[name_field]] if name_field in gdf else [str(i) for i in range(len(gdf))]
    shape = (like.sizes["y"], like.sizes["x"])
    masks = np.stack([rasterize([(g, 1)], out_shape=shape, transform=like.rio.transform(), fill=0,
                                dtype="uint8").astype(bool) for g in gdf.geometry])
    out = xr.DataArray(masks, dims=("outline", "y", "x"),
                       coords={"outline": names, "y": like["y"], "x": like["x"]}, name="outline_mask")
    out.attrs["area_m2"] = [float(a) for a in gdf.geometry.area]
    return out


def _stable_mask(reference: xr.DataArray, stable: Any, exclude: Any) -> np.ndarray:
    """Stable terrain as a numpy bool array: ``stable`` (bool raster) minus the ``exclude`` outlines."""
    shape = (reference.sizes["y"], reference.sizes["x"])
    ok = np.ones(shape, bool)
    if stable is not None:
        s = as_yx(stable if not isinstance(stable, xr.DataArray) or "time" not in stable.dims
                  else stable.isel(time=0), "stable")
        if s.shape != shape:
            raise RasterInputError(f"stable has shape {s.shape}, the reference {shape}; put the stable-terrain mask "
                                   "on the reference's grid (rio.reproject_match(reference))")
        ok &= np.asarray(s.values).astype(bool)
    if exclude is not None:
        ok &= ~outline_masks(exclude, reference).values.any(axis=0)
    return ok


# ---------------------------------------------------------------------------------- co-registration
def _sample(z: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    out = np.empty(rows.shape[0], np.float64)
    k.bilinear_points(z, rows, cols, out)
    return out


def _fit_offset(dh: np.ndarray, tan_slope: np.ndarray, aspect_rad: np.ndarray, bins: int) -> tuple[float, float]:
    """Horizontal offset (east, north; the units of dh / tan) from one Nuth & Kääb fit.

    ``dh / tan(slope) = a cos(b - aspect) + c`` [1]_ is linear in (a sin b, a cos b, c):
    ``sx sin(aspect) + sy cos(aspect) + c``; it is fitted by least squares to the medians of
    ``dh / tan(slope)`` in ``bins`` aspect bins (bins with fewer than 5 pixels are left out).
    """
    y = dh / tan_slope
    edges = np.linspace(0.0, 2 * np.pi, bins + 1)
    idx = np.clip(np.digitize(aspect_rad, edges) - 1, 0, bins - 1)
    order = np.argsort(idx, kind="stable")
    starts = np.searchsorted(idx[order], np.arange(bins + 1))
    centres, medians = [], []
    for b in range(bins):
        chunk = y[order[starts[b]:starts[b + 1]]]
        if chunk.size >= 5:
            centres.append(0.5 * (edges[b] + edges[b + 1]))
            medians.append(np.median(chunk))
    if len(centres) < 3:
        raise RasterInputError(f"only {len(centres)} aspect bins hold stable pixels; the fit needs terrain facing "
                               "several directions: widen the stable area or lower min_slope")
    c = np.asarray(centres)
    a = np.column_stack([np.sin(c), np.cos(c), np.ones_like(c)])
    (sx, sy, _), *_ = np.linalg.lstsq(a, np.asarray(medians), rcond=None)
    return float(sx), float(sy)


def nuth_kaab(reference: xr.DataArray, dem: xr.DataArray, *, stable: xr.DataArray | None = None,
              exclude: Any = None, reproject: bool = True, params: NuthKaabParams | None = None,
              **overrides: Any) -> CoregResult:
    """Horizontal and vertical offset of ``dem`` to ``reference`` on stable terrain (Nuth & Kääb 2011).

    On stable terrain, the elevation difference caused by a horizontal shift ``s`` of a DEM
    is ``dh = tan(slope) (sx sin(aspect) + sy cos(aspect)) + dz`` [1]_.  Each iteration samples
    ``dem`` bilinearly at the positions shifted by the offset found so far, takes the median of
    dh as the vertical offset, fits the cosine of aspect to ``(dh - median) / tan(slope)``
    (:func:`_fit_offset`) and adds the shift found, until it is below ``offset_threshold``
    pixels or ``max_iterations`` are done (as xdem; ``min_improvement`` adds the paper's
    criterion).  Slope and aspect are the reference's (Horn, :mod:`terra_lab.products.terrain`).

    Parameters
    ----------
    reference, dem
        Elevations (m) in a projected CRS, NaN or ``nodata`` for no data.  ``dem`` on another
        grid or CRS is reprojected onto the reference's (bilinear) when ``reproject`` (the
        default), else :class:`~terra_lab.errors.GridMismatchError`.
    stable
        Bool raster on the reference's grid, True on stable terrain (default: everywhere).
    exclude
        Outlines of unstable terrain (glaciers, landslides), as :func:`outline_masks` takes.
    params, **overrides
        :class:`NuthKaabParams` and keyword overrides of its fields.

    Returns
    -------
    CoregResult
        ``dem(x) ~ reference(x - (shift_x, shift_y)) + shift_z``; :func:`coregister` undoes it.

    Notes
    -----
    Computes both DEMs (the fit needs their values): at most ``subsample`` stable pixels
    are used, drawn with ``seed``.
    """
    p = with_overrides(params, NuthKaabParams, overrides, "nuth_kaab")
    ref = _dem(reference, "reference")
    tba, _ = _on_grid(ref, _dem(dem, "dem"), reproject)
    rx, ry = pixel_size(ref, "reference")
    t = ref.rio.transform()
    zr = np.asarray(ref.values, np.float64)
    zt = np.ascontiguousarray(np.asarray(tba.values, np.float64))
    sl = np.asarray(slope(ref).values, np.float64)
    asp = np.asarray(aspect(ref).values, np.float64)
    ok = (_stable_mask(ref, stable, exclude) & np.isfinite(zr) & np.isfinite(zt) & np.isfinite(asp)
          & (sl >= p.min_slope))
    rows, cols = np.nonzero(ok)
    if rows.size < 100:
        raise RasterInputError(f"only {rows.size} stable pixels with a slope of at least {p.min_slope} degrees and "
                               "valid elevations in both DEMs; the fit needs stable terrain: check the stable mask "
                               "and the outlines excluded, or lower min_slope")
    if rows.size > p.subsample:
        pick = np.sort(np.random.default_rng(p.seed).choice(rows.size, p.subsample, replace=False))
        rows, cols = rows[pick], cols[pick]
    zref = zr[rows, cols]
    tan = np.tan(np.radians(sl[rows, cols]))
    asp_r = np.radians(asp[rows, cols])
    frows, fcols = rows.astype(np.float64), cols.astype(np.float64)
    sx = sy = 0.0
    dh0 = _sample(zt, frows, fcols) - zref
    before = last = nmad(dh0)
    n_iter = 0
    for n_iter in range(1, p.max_iterations + 1):
        # dem sampled at x + s: columns move by sx / a, rows by sy / e (e < 0 north-up)
        dh = _sample(zt, frows + sy / t.e, fcols + sx / t.a) - zref
        good = np.isfinite(dh)
        dz = float(np.median(dh[good]))
        ex, ey = _fit_offset(dh[good] - dz, tan[good], asp_r[good], p.bins)
        sx, sy = sx + ex, sy + ey
        step = math.hypot(ex / rx, ey / ry)
        now = nmad(dh[good])
        if step < p.offset_threshold:
            break
        if p.min_improvement is not None and n_iter > 1 and (last - now) < p.min_improvement * last:
            break
        last = now
    dh = _sample(zt, frows + sy / t.e, fcols + sx / t.a) - zref
    dz = float(np.nanmedian(dh))
    return CoregResult(shift_x=sx, shift_y=sy, shift_z=dz, iterations=n_iter, nmad_before=before,
                       nmad_after=nmad(dh - dz), n_samples=int(rows.size), pixel_size=(rx, ry))


def _shift_block(block: np.ndarray, *, drow: float, dcol: float, pad: int) -> np.ndarray:
    out = np.empty((block.shape[0] - 2 * pad, block.shape[1] - 2 * pad), np.float32)
    k.shift_block(np.ascontiguousarray(block, dtype=np.float32), drow, dcol, pad, out)
    return out


def coregister(reference: xr.DataArray, dem: xr.DataArray, result: CoregResult | None = None, *,
               stable: xr.DataArray | None = None, exclude: Any = None, reproject: bool = True,
               vertical: bool = True, **overrides: Any) -> xr.DataArray:
    """``dem`` aligned on ``reference``: resampled at ``x + shift`` and lowered by ``shift_z``.

    ``result`` from :func:`nuth_kaab` (default: fitted here with ``stable``, ``exclude`` and
    ``overrides``).  Bilinear resampling, lazy on Dask inputs (a ``map_overlap`` deep enough
    for the shift); pixels whose neighbours leave the raster or are no data are NaN.
    ``vertical=False`` keeps the vertical offset.
    """
    if result is None:
        result = nuth_kaab(reference, dem, stable=stable, exclude=exclude, reproject=reproject, **overrides)
    ref = _dem(reference, "reference")
    tba, moved = _on_grid(ref, _dem(dem, "dem"), reproject)
    t = ref.rio.transform()
    drow, dcol = result.shift_y / t.e, result.shift_x / t.a
    depth = int(math.ceil(max(abs(drow), abs(dcol)))) + 1
    fn: dict[str, Any] = dict(drow=float(drow), dcol=float(dcol), pad=depth)
    if tba.chunks is None:
        data: Any = _shift_block(np.pad(tba.values, depth, constant_values=np.nan), **fn)
    else:
        data = da.map_overlap(_shift_block, tba.data, depth=depth, boundary=np.nan, trim=False, dtype=np.float32,
                              **fn)
    dz = np.float32(result.shift_z if vertical else 0.0)
    out = tba.copy(data=data) - dz
    out = out.rio.write_crs(ref.rio.crs).rio.write_transform(t).rio.write_nodata(np.nan, encoded=False)
    out = out.rename("elevation")
    out.attrs.update(units="m", long_name="co-registered elevation")
    rec = asdict(result) | {"vertical": vertical, "reprojected": "; ".join(moved)}
    return with_provenance(out, algorithm="Nuth & Kääb co-registration", params=rec, source=dem, reference=_REF_NK)


def _when(dem: Any) -> pd.Timestamp | None:
    if isinstance(dem, (xr.DataArray, xr.Dataset)) and "time" in dem.coords and dem["time"].size == 1:
        return pd.Timestamp(np.asarray(dem["time"].values).reshape(-1)[0])
    return None


def dem_difference(reference: xr.DataArray, dem: xr.DataArray, *, reproject: bool = True) -> xr.DataArray:
    """Elevation change ``dem - reference`` (m), lazily; co-register ``dem`` first (:func:`coregister`).

    The attribute ``terra_lab:years`` holds the time between the two DEMs when both carry a
    ``time`` coordinate (as :func:`terra_lab.load` gives), for :func:`glacier_change`.
    """
    ref = _dem(reference, "reference")
    other, _ = _on_grid(ref, _dem(dem, "dem"), reproject)
    dh = (other - ref).rename("dh")
    dh = dh.rio.write_crs(ref.rio.crs).rio.write_transform(ref.rio.transform()).rio.write_nodata(np.nan, encoded=False)
    dh.attrs.update(units="m", long_name="elevation change (dem - reference)")
    t0, t1 = _when(reference), _when(dem)
    if t0 is not None and t1 is not None:
        dh.attrs["terra_lab:years"] = float((t1 - t0).days / 365.25)
    return with_provenance(dh, algorithm="DEM difference", params={}, source=dem, reference=_REF_NK)


# ---------------------------------------------------------------------------------------- errors
def _spherical(h: np.ndarray, nugget: float, psill: float, rng: float) -> np.ndarray:
    r = np.minimum(h / rng, 1.0)
    return nugget + psill * (1.5 * r - 0.5 * r**3)


@dataclass(frozen=True)
class DhError:
    """Error model of an elevation change, from stable terrain (see :func:`dh_error`).

    ``nmad`` (m) is the per-pixel error; the variogram ``nugget + psill sph(h, range_m)``
    (m^2, m) its spatial correlation; ``median`` the residual bias on stable terrain.
    """

    nmad: float
    median: float
    n_stable: int
    nugget: float
    psill: float
    range_m: float
    pixel_area: float

    def sigma_mean(self, area: float) -> float:
        """Standard error (m) of the mean elevation change over an area (m^2).

        Rolstad et al. (2009) [4]_ for a disk of the same area: the uncorrelated part (the
        nugget) averages over ``area / pixel_area`` pixels; the spherical part ``psill`` over
        its correlation area: ``psill (1 - L/r + (L/r)^3 / 5)`` for a disk radius ``L <= r``,
        ``psill r^2 / (5 L^2)`` beyond; the two are scaled so that they sum to ``nmad^2``.
        """
        if area <= 0:
            return float("nan")
        total = self.nugget + self.psill
        scale = self.nmad**2 / total if total > 0 else 0.0
        big_l = math.sqrt(area / math.pi)
        rr = self.range_m
        sph = (1 - big_l / rr + (big_l / rr) ** 3 / 5) if big_l <= rr else rr**2 / (5 * big_l**2)
        white = min(1.0, self.pixel_area / area)
        return math.sqrt(scale * (self.nugget * white + self.psill * sph))


def _variogram(x: np.ndarray, y: np.ndarray, v: np.ndarray, max_lag: float, n_bins: int = 25):
    """Empirical semivariance of ``v`` at points (x, y), binned by distance up to ``max_lag``."""
    from scipy.spatial.distance import pdist

    d = pdist(np.column_stack([x, y]))
    g = 0.5 * pdist(v[:, None], "sqeuclidean")
    edges = np.linspace(0, max_lag, n_bins + 1)
    idx = np.digitize(d, edges) - 1
    keep = (idx >= 0) & (idx < n_bins)
    counts = np.bincount(idx[keep], minlength=n_bins)
    sums = np.bincount(idx[keep], weights=g[keep], minlength=n_bins)
    lags = np.bincount(idx[keep], weights=d[keep], minlength=n_bins)
    ok = counts >= 30
    return lags[ok] / counts[ok], sums[ok] / counts[ok], counts[ok]


def dh_error(dh: xr.DataArray, *, stable: xr.DataArray | None = None, exclude: Any = None,
             variogram_sample: int = 3000, seed: int = 0) -> DhError:
    """Error of an elevation change measured on stable terrain (Hugonnet et al. 2022, simplified).

    What is implemented: dh on stable terrain (``stable`` mask, minus the ``exclude``
    outlines), outliers beyond 4 NMAD of the median left out; its NMAD is the per-pixel
    error (homoscedastic: no dependence on slope or curvature, which [2]_ models); an
    empirical variogram of ``variogram_sample`` random stable pixels, up to half the raster's
    extent, fitted with one spherical model and a nugget (weighted least squares); the
    error of an area mean follows from :meth:`DhError.sigma_mean` (Rolstad's disk
    approximation, as ``xdem.spatialstats.neff_circular_approx_theoretical``).  Only one
    correlation range is fitted where [2]_ sums several.
    """
    from scipy.optimize import curve_fit

    d = _dem(dh, "dh")
    v = np.asarray(d.values, np.float64)
    ok = _stable_mask(d, stable, exclude) & np.isfinite(v)
    vals = v[ok]
    if vals.size < 100:
        raise RasterInputError(f"only {vals.size} stable pixels with an elevation change; pass a stable mask that "
                               "covers terrain outside the glaciers (or fewer exclusions)")
    med, spread = float(np.median(vals)), nmad(vals)
    ok &= np.abs(v - med) <= 4 * max(spread, 1e-6)
    rows, cols = np.nonzero(ok)
    rng = np.random.default_rng(seed)
    pick = rng.choice(rows.size, min(variogram_sample, rows.size), replace=False)
    rx, ry = pixel_size(d, "dh")
    xs, ys = cols[pick] * rx, rows[pick] * ry
    max_lag = 0.5 * max(d.sizes["x"] * rx, d.sizes["y"] * ry)
    lag, gam, cnt = _variogram(xs, ys, v[rows[pick], cols[pick]], max_lag)
    var = float(np.var(v[rows, cols]))
    try:
        (nug, ps, rg), _ = curve_fit(_spherical, lag, gam, p0=(0.3 * var, 0.7 * var, max_lag / 4),
                                     bounds=([0, 0, max(rx, ry)], [4 * var + 1e-9, 4 * var + 1e-9, 4 * max_lag]),
                                     sigma=1 / np.sqrt(cnt), maxfev=20000)
    except (RuntimeError, ValueError, TypeError):  # too few lags: all white noise
        nug, ps, rg = var, 0.0, max(rx, ry)
    return DhError(nmad=spread, median=med, n_stable=int(ok.sum()), nugget=float(nug), psill=float(ps),
                   range_m=float(rg), pixel_area=rx * ry)


def glacier_change(dh: xr.DataArray, outlines: Any, error: DhError, *, years: float | None = None,
                   density: float = ICE_DENSITY, density_sigma: float = ICE_DENSITY_SIGMA,
                   area_sigma: float = 0.05, name_field: str = "name") -> pd.DataFrame:
    """Per outline: mean elevation change, volume and mass change with their 1-sigma errors.

    ``mean_dh`` is the mean of the valid pixels inside the outline (no gap filling: see
    ``valid_fraction``); its error ``error.sigma_mean(area)`` (:class:`DhError`).  The area is
    the outline's (projected); ``area_sigma`` its relative error (default 5 %).  Volume
    ``dV = mean_dh A``, ``sigma_dV^2 = (sigma_dh A)^2 + (mean_dh sigma_A)^2``.  Mass: density
    850 +- 60 kg m-3 [3]_; the specific mass balance rate (m w.e. per year) over ``years``
    (default: ``dh.attrs['terra_lab:years']`` from :func:`dem_difference`),
    ``sigma_B^2 = (sigma_dh rho/rho_w / T)^2 + (mean_dh sigma_rho/rho_w / T)^2``.
    """
    d = _dem(dh, "dh")
    years = years if years is not None else d.attrs.get("terra_lab:years", dh.attrs.get("terra_lab:years"))
    if years is None or not years > 0:
        raise RasterInputError("the time between the two DEMs is unknown; pass years=<DEM interval in years> "
                               "(dem_difference sets it when both DEMs carry a time coordinate)")
    masks = outline_masks(outlines, d, name_field=name_field)
    v = np.asarray(d.values, np.float64)
    rows = []
    for i, name in enumerate(masks["outline"].values):
        m = masks.values[i]
        area = float(masks.attrs["area_m2"][i])
        vals = v[m & np.isfinite(v)]
        mean = float(vals.mean()) if vals.size else float("nan")
        s_dh = error.sigma_mean(area)
        s_a = area_sigma * area
        vol = mean * area
        s_vol = math.sqrt((s_dh * area) ** 2 + (mean * s_a) ** 2)
        b = mean * density / WATER_DENSITY / years
        s_b = math.sqrt((s_dh * density / WATER_DENSITY / years) ** 2
                        + (mean * density_sigma / WATER_DENSITY / years) ** 2)
        rows.append({"outline": str(name), "area_m2": area, "valid_fraction": vals.size / max(int(m.sum()), 1),
                     "mean_dh_m": mean, "mean_dh_sigma_m": s_dh, "dh_rate_m_per_yr": mean / years,
                     "volume_change_m3": vol, "volume_change_sigma_m3": s_vol,
                     "mass_change_kg": vol * density,
                     "mass_change_sigma_kg": math.sqrt((s_vol * density) ** 2 + (vol * density_sigma) ** 2),
                     "mass_balance_mwe_per_yr": b, "mass_balance_sigma_mwe_per_yr": s_b, "years": float(years)})
    out = pd.DataFrame(rows).set_index("outline")
    out.attrs.update({"density_kg_m3": density, "density_sigma_kg_m3": density_sigma,
                      "references": f"{_REF_ERR}; Huss 2013, The Cryosphere 7:877"})
    return out


# ------------------------------------------------------------------------------------ colour relief
#: A hypsometric colour ramp (elevation m, red, green, blue): valley greens, alpine browns, snow white.
DEFAULT_RAMP: tuple[tuple[float, int, int, int], ...] = (
    (0.0, 46, 125, 50), (500.0, 120, 170, 80), (1000.0, 200, 205, 120), (1500.0, 215, 180, 110),
    (2000.0, 175, 130, 85), (2500.0, 150, 140, 135), (3000.0, 235, 235, 240), (4500.0, 255, 255, 255),
)


def _ramp(z: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """(3, ...) float colours linearly interpolated between ``stops`` (clamped at both ends)."""
    return np.stack([np.interp(z, stops[:, 0], stops[:, c]) for c in (1, 2, 3)])


def _blend_block(z: np.ndarray, shade: np.ndarray, *, stops: np.ndarray, strength: float) -> np.ndarray:
    rgb = _ramp(z, stops)
    f = (1.0 - strength) + strength * shade.astype(np.float64) / 255.0
    out = np.empty((4, *z.shape), np.uint8)
    out[:3] = np.clip(np.floor(np.nan_to_num(rgb * f) + 0.5), 0, 255).astype(np.uint8)
    valid = np.isfinite(z) & (shade > 0)
    out[:3][:, ~valid] = 0
    out[3] = np.where(valid, 255, 0)
    return out


def colour_relief(dem: xr.DataArray, *, mode: str = "multidirectional", ramp: Any = DEFAULT_RAMP,
                  strength: float = 0.8, azimuth: float = 315.0, altitude: float = 45.0, z_factor: float = 1.0,
                  compute_edges: bool = True) -> xr.DataArray:
    """Coloured shaded relief: an elevation colour ramp times a hillshade, as RGBA (uint8).

    Colour: linear interpolation of ``ramp`` ((elevation, r, g, b) rows, ascending), as
    ``gdaldem color-relief`` does between the entries of its colour file.  Shade:
    :func:`terra_lab.products.terrain.hillshade` (``mode="single"`` under ``azimuth`` and
    ``altitude``, or ``"multidirectional"``, Mark 1992 as ``gdaldem -multidirectional``).
    Blend: ``colour ((1 - strength) + strength shade / 255)`` (multiply, softened by
    ``strength``).  Alpha 0 on no data.  Lazy on Dask inputs.
    """
    if mode not in ("single", "multidirectional"):
        raise ValueError(f"mode={mode!r}; use 'single' or 'multidirectional'")
    stops = np.asarray(ramp, np.float64)
    if stops.ndim != 2 or stops.shape[1] != 4 or np.any(np.diff(stops[:, 0]) <= 0):
        raise ValueError("ramp must be rows of (elevation, red, green, blue) with increasing elevations")
    z = _dem(dem, "dem") if dem.rio.crs is not None else as_yx(dem, "dem").astype(np.float32)
    shade = hillshade(z, mode=mode, azimuth=azimuth, altitude=altitude, z_factor=z_factor,
                      compute_edges=compute_edges)
    kw: dict[str, Any] = dict(stops=stops, strength=float(strength))
    if z.chunks is None:
        data: Any = _blend_block(z.values, shade.values, **kw)
    else:
        data = da.map_blocks(_blend_block, z.data, shade.data, dtype=np.uint8, new_axis=0,
                             chunks=((4,), *z.data.chunks), **kw)
    out = xr.DataArray(data, dims=("band", "y", "x"),
                       coords={"band": ["red", "green", "blue", "alpha"], "y": z["y"], "x": z["x"]}, name="relief")
    if z.rio.crs is not None:
        out = out.rio.write_crs(z.rio.crs)
    out = out.rio.write_transform(z.rio.transform())
    p = dict(mode=mode, strength=strength, azimuth=azimuth, altitude=altitude, z_factor=z_factor,
             ramp=stops.tolist())
    return with_provenance(out, algorithm="colour relief (gdaldem color-relief x hillshade)", params=p, source=dem,
                           reference="Mark 1992; GDAL gdaldem color-relief and hillshade")

