"""THEIA snow products (let-it-snow): L2B snow maps, fractional snow cover, L3B annual syntheses.

All functions are lazy: they build Dask graphs from a cube made by :func:`terra_lab.load`.

References
----------
.. [1] Gascoin, S., Grizonnet, M., Bouchet, M., Salgues, G., Hagolle, O. (2019). Theia Snow
   collection: high-resolution operational snow cover maps from Sentinel-2 and Landsat-8 data.
   Earth Syst. Sci. Data 11, 493-514. https://doi.org/10.5194/essd-11-493-2019
.. [2] Gascoin, S., Barrou Dumont, Z., Deschamps-Berger, C., et al. (2020). Estimating
   fractional snow cover in open terrain from Sentinel-2 using the normalized difference snow
   index. Remote Sensing 12, 2904. https://doi.org/10.3390/rs12182904
.. [3] let-it-snow source (CNES/CESBIO): ``s2snow/snow_detector.py`` (passes, thresholds),
   ``histo_utils.cxx`` (snowline), ``snow_annual_map.py`` and ``compute_SOD_SMOD.py`` (L3B).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from ..errors import MissingBandError
from ..kernels import _snow as k
from ..profiles._maja import CLM_BITS, bitmask, bits_of
from ._common import chunks_along, rechunk, require, require_single_time_chunk, with_provenance
from ._grid import check_same_grid
from ._reduce import per_date_sum
from .params import LisParams, with_overrides

__all__ = ["L2B_CODES", "LisParams", "equilibrium_line_altitude", "fractional_snow_cover", "hydrological_year",
           "snow_l2b", "snow_l3b", "snowline"]

#: L2B encoding of THEIA snow products (LIS): 0 no snow, 100 snow, 205 cloud, 254 no data.
#: (LIS >= 1.5 writes 255 for no data; THEIA products and the ATBD use 254.)
L2B_CODES = {"no_snow": k.NO_SNOW, "snow": k.SNOW, "cloud": k.CLOUD, "nodata": k.NODATA}

_REF = "Gascoin et al. 2019, ESSD 11:493; let-it-snow (CNES/CESBIO)"
#: The CLM bits a cube without the raw CLM gets from its cloud and shadow layers.
_LAYER_CLOUD = bitmask(bits_of(CLM_BITS, "clouds"))
_LAYER_SHADOW = bitmask(bits_of(CLM_BITS, "cloud_shadows"))


def _clm(cube: xr.Dataset) -> xr.DataArray:
    """The MAJA CLM bits: the raw mask when loaded (raw_masks=True), else rebuilt from the layers."""
    if "CLM" in cube:
        return cube["CLM"]
    require(cube, ["cloud", "shadow"], "snow_l2b")
    # cloud -> the "clouds" bit, shadow -> the "cloud_shadows" bit; no high-cloud bit then
    return ((cube["cloud"].astype(np.uint8) * np.uint8(_LAYER_CLOUD))
            | (cube["shadow"].astype(np.uint8) * np.uint8(_LAYER_SHADOW)))


def _dem_on_grid(dem: xr.DataArray | xr.Dataset, cube: xr.Dataset | xr.DataArray) -> xr.DataArray:
    if dem is None:
        raise MissingBandError(
            "snow_l2b needs a DEM (elevation in m) on the cube's grid for the snowline; load one with "
            "terra_lab.load(catalog.search(collections='cop-dem-eea-10-laea-tif'), bands=['elevation'], like=cube)"
        )
    if isinstance(dem, xr.Dataset):
        if "elevation" not in dem:
            raise ValueError(f"the DEM dataset has no 'elevation' variable (it has {sorted(map(str, dem.data_vars))})")
        dem = dem["elevation"]
    if "time" in dem.dims:
        dem = dem.isel(time=0, drop=True)
    check_same_grid(cube, dem, "cube", "dem",
                    fix="load it on the cube's grid: terra_lab.load(dem_items, bands=['elevation'], like=cube)")
    dem = dem.drop_vars([c for c in dem.coords if c not in ("x", "y", "spatial_ref")])
    return dem.astype(np.float32).assign_coords(x=cube["x"], y=cube["y"])


def _aligned(cube: xr.Dataset, dem: Any, rf: int) -> tuple[list[da.Array], da.Array]:
    """Dask arrays (t, y, x) of green, red, swir, CLM and (y, x) of the DEM, with the same
    spatial chunks, each a multiple of ``rf`` so that 240 m blocks never straddle chunks."""
    require(cube, ["green", "red", "swir16"], "snow_l2b")
    dem = _dem_on_grid(dem, cube)
    arrays = [cube[b].astype(np.float32).transpose("time", "y", "x") for b in ("green", "red", "swir16")]
    arrays.append(_clm(cube).astype(np.uint8).transpose("time", "y", "x"))
    first = arrays[0]
    ct = chunks_along(first, "time")[0]
    cy = max(rf, (max(chunks_along(first, "y")) // rf) * rf)
    cx = max(rf, (max(chunks_along(first, "x")) // rf) * rf)
    data = [rechunk(a, time=ct, y=cy, x=cx).data for a in arrays]
    demd = rechunk(dem.transpose("y", "x"), y=cy, x=cx).data
    return data, demd


def _hist_block(green, red, swir, clm, dem, zmin, zmax, *, dz, maxbins, ndsi1, red1):
    out = np.zeros((green.shape[0], maxbins, 3), np.int64)
    zmin, zmax = float(zmin), float(zmax)
    if np.isfinite(zmin) and np.isfinite(zmax):
        k.l2b_block_histogram(green, red, swir, clm, dem, zmin, zmax, dz, ndsi1, red1, out)
    return out


def _codes_block(green, red, swir, clm, dem, zs, run, **kw):
    out = np.empty(green.shape, np.uint8)
    k.l2b_block_codes(green, red, swir, clm, dem, zs.astype(np.float32), run.astype(np.uint8), out=out, **kw)
    return out


def _snowline_blocks(hist, zmin, zmax, *, dz, fsnow_lim, fclear_lim, fsnow_total_lim, n_pixels):
    zmin, zmax = float(zmin), float(zmax)
    zs = np.full(hist.shape[0], np.nan, np.float32)
    run = np.zeros(hist.shape[0], np.uint8)
    for i in range(hist.shape[0]):
        zs[i] = k.snowline_from_histogram(hist[i], zmin, zmax, dz, fsnow_lim, fclear_lim)
        run[i] = (hist[i, :, 2].sum() / n_pixels > fsnow_total_lim) and np.isfinite(zs[i])
    return np.stack([zs, run.astype(np.float32)], axis=1)


def snowline(cube: xr.Dataset, dem: xr.DataArray | xr.Dataset, params: LisParams | None = None,
             **overrides: Any) -> xr.Dataset:
    """The LIS snowline of every date (step 3 of :func:`snow_l2b`), lazily.

    ``params`` (default :class:`LisParams`, LIS' published values) with keyword ``overrides``
    of its fields, e.g. ``snowline(cube, dem, red_pass1=0.15)``; it uses the pass-1 thresholds,
    ``dz``, ``fsnow_lim``, ``fclear_lim``, ``fsnow_total_lim`` and ``rf``.

    Returns a Dataset with ``snowline`` (m, NaN when none) and ``pass2`` (whether pass 2 runs)
    on ``time``.  Computing it first and handing it to :func:`snow_l2b` (``snowlines=``) lets
    the snow maps stream through memory chunk by chunk: the snowline couples every pixel of
    a date, so without it the whole cube stays in memory until the snowlines are known.
    """
    p = with_overrides(params, LisParams, overrides, "snowline")
    arrays, demd = _aligned(cube, dem, p.rf)
    return _snowlines(arrays, demd, cube, p)


def _snowlines(arrays: list[da.Array], demd: da.Array, cube: xr.Dataset, p: LisParams) -> xr.Dataset:
    """:func:`snowline` on inputs already aligned by :func:`_aligned`."""
    zmin, zmax = da.nanmin(demd), da.nanmax(demd)
    maxbins = max(1, int(np.ceil(9000.0 / p.dz)) + 1)
    hist = per_date_sum(_hist_block, list(arrays), static=[demd], scalars=[zmin, zmax], shape=(maxbins, 3),
                        dz=float(p.dz), maxbins=maxbins, ndsi1=float(p.ndsi_pass1), red1=float(p.red_pass1))
    line = da.map_blocks(
        _snowline_blocks, hist, zmin, zmax, dtype=np.float32, drop_axis=[1, 2], new_axis=[1], chunks=(hist.chunks[0], (2,)),
        dz=float(p.dz), fsnow_lim=p.fsnow_lim, fclear_lim=p.fclear_lim, fsnow_total_lim=p.fsnow_total_lim,
        n_pixels=cube.sizes["y"] * cube.sizes["x"],
    )
    coords = {"time": cube["time"]}
    return xr.Dataset({
        "snowline": xr.DataArray(line[:, 0], dims="time", coords=coords, attrs={"units": "m"}),
        "pass2": xr.DataArray(line[:, 1].astype(np.uint8), dims="time", coords=coords),
    })


def snow_l2b(
    cube: xr.Dataset,
    dem: xr.DataArray | xr.Dataset,
    params: LisParams | None = None,
    *,
    snowlines: xr.Dataset | None = None,
    **overrides: Any,
) -> xr.DataArray:
    """LIS L2B snow map of every date: 0 no snow, 100 snow, 205 cloud, 254 no data (:data:`L2B_CODES`).

    The LIS algorithm [1]_ [3]_ on MAJA L2A reflectance (green B3, red B4, SWIR B11) and the
    CLM cloud mask, with the S2 defaults of the reference:

    1. pass 1: clear (CLM = 0) pixels with NDSI > 0.4 and red > 0.20 are snow;
    2. cloud refinement: cloud pixels whose 240 m-averaged red is <= 0.30 ("dark clouds")
       leave the cloud mask unless they are shadows (CLM bits 5, 6) or high clouds (bit 7);
    3. snowline: the DEM is cut into bands of ``dz``; the lowest band with more than 10 %
       clear pixels of which more than 10 % are pass-1 snow gives ``zs``, the lower edge of
       the band two below;
    4. pass 2 (when pass 1 found > 0.1 % snow and a snowline exists): non-cloud pixels above
       ``zs`` with NDSI > 0.15 and red > 0.04 are snow too;
    5. cloud pixels that are not snow stay cloud if refined-cloud or red > 0.10, else no snow.

    Parameters
    ----------
    cube
        From :func:`terra_lab.load` with bands green, red, swir16 (20 m recommended) and
        ``raw_masks=True`` (the CLM bits); without ``CLM`` the cloud/shadow layers are used.
    dem
        Elevation (m) on the cube's grid: ``terra_lab.load(dem_items, bands=["elevation"], like=cube)``;
        a DEM on another grid raises :class:`~terra_lab.errors.GridMismatchError`.
    params
        The LIS parameters (default :class:`LisParams`: the published Sentinel-2 values);
        ``**overrides`` replace some of its fields (``snow_l2b(cube, dem, red_pass1=0.15)``).
    snowlines
        The result of :func:`snowline` (computed or not); default: computed inside the graph.

    Returns
    -------
    xarray.DataArray
        uint8 codes on (time, y, x), with the snowline elevation of each date as coordinate
        ``snowline`` (NaN when none was found) and provenance in attrs.
    """
    p = with_overrides(params, LisParams, overrides, "snow_l2b")
    arrays, demd = _aligned(cube, dem, p.rf)
    green, red, swir, clm = arrays
    if snowlines is None:
        snowlines = _snowlines(arrays, demd, cube, p)
    zs = snowlines["snowline"].astype(np.float32)
    zsd = da.asarray(zs.data).rechunk((green.chunks[0],))
    rund = da.asarray(snowlines["pass2"].astype(np.uint8).data).rechunk((green.chunks[0],))
    data = da.blockwise(
        _codes_block, "tyx", green, "tyx", red, "tyx", swir, "tyx", clm, "tyx", demd, "yx", zsd, "t", rund, "t",
        dtype=np.uint8, rf=int(p.rf), ndsi1=float(p.ndsi_pass1), red1=float(p.red_pass1), ndsi2=float(p.ndsi_pass2),
        red2=float(p.red_pass2), red_darkcloud=float(p.red_darkcloud), red_backtocloud=float(p.red_backtocloud),
    )
    first = cube["green"].transpose("time", "y", "x")
    codes = xr.DataArray(data, dims=("time", "y", "x"), coords=dict(first.coords.items()))
    codes = codes.assign_coords(snowline=zs).rename("snow")
    codes.attrs.update(
        long_name="LIS L2B snow cover", flag_values=[k.NO_SNOW, k.SNOW, k.CLOUD, k.NODATA],
        flag_meanings="no_snow snow cloud no_data", _FillValue=k.NODATA,
    )
    recorded = asdict(p) | {"cloud_bits": "CLM" if "CLM" in cube else "layers"}
    return with_provenance(codes, algorithm="LIS L2B snow detection", params=recorded, source=cube, reference=_REF)


def fractional_snow_cover(cube: xr.Dataset, l2b: xr.DataArray, *, a: float = 2.65, b: float = -1.42) -> xr.DataArray:
    """Fractional snow cover on top of canopy (FSCTOC, %) from the NDSI of snow pixels [2]_.

    ``FSC = 0.5 tanh(a NDSI + b) + 0.5`` on pixels that ``l2b`` marks as snow (LIS >= 1.7 with
    the published Sentinel-2 calibration); other pixels keep their L2B code (0, 205, 254).
    The NDSI is taken from its integer percentage, as LIS does.
    """
    require(cube, ["green", "swir16"], "fractional_snow_cover")
    ndsi = (cube["green"] - cube["swir16"]) / (cube["green"] + cube["swir16"])
    ndsi_pct = np.trunc(ndsi * 100) / 100
    fsc = np.minimum(0.5 * np.tanh(a * ndsi_pct + b) + 0.5, 1.0)
    pct = np.trunc(fsc * 100).clip(0, 100).fillna(0).astype(np.uint8)
    out = xr.where(l2b == k.SNOW, pct, l2b).astype(np.uint8).rename("fsc")
    out.attrs.update(long_name="fractional snow cover on top of canopy (%)", units="%",
                     flag_values=[k.CLOUD, k.NODATA], flag_meanings="cloud no_data")
    return with_provenance(out, algorithm="LIS FSCTOC", params={"a": a, "b": b}, source=cube,
                           reference="Gascoin et al. 2020, Remote Sensing 12:2904")


def _l3b_block(codes, *, days, n_days, min_days):
    out = np.zeros((4, *codes.shape[1:]), np.uint16)
    k.l3b_block(codes, days, n_days, min_days, out)
    return out


def hydrological_year(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """1 September ``year`` to 31 August ``year + 1``."""
    return pd.Timestamp(f"{year}-09-01"), pd.Timestamp(f"{year + 1}-08-31")


def snow_l3b(
    l2b: xr.DataArray,
    year: int | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    margin_days: int = 15,
    min_snow_days: int = 10,
) -> xr.Dataset:
    """LIS L3B annual synthesis: snow cover duration, onset and melt-out dates, clear observations.

    Parameters
    ----------
    l2b
        Snow codes from :func:`snow_l2b` (or FSC from :func:`fractional_snow_cover`), with the
        whole time axis in one chunk (``l2b.chunk(time=-1)``).
    year
        Hydrological year starting 1 September ``year`` (default: the one holding most dates),
        or give ``start`` and ``end`` dates.
    margin_days
        Observations up to this many days before/after the period feed the gap filling
        (the LIS documentation's 15 days), so no day is extrapolated needlessly.
    min_snow_days
        SOD and SMOD are computed for pixels with more snow days than this (LIS: 10).

    Returns
    -------
    xarray.Dataset
        ``SCD`` (days), ``SOD`` and ``SMOD`` (day index from ``start``, 0 = first day; 0 when
        SCD <= ``min_snow_days``) and ``NOBS`` (clear observations), all uint16.
    """
    if start is None:
        if year is None:
            t = pd.DatetimeIndex(l2b["time"].values)
            years = np.where(t.month >= 9, t.year, t.year - 1)
            year = int(pd.Series(years).mode().iloc[0])
        t0, t1 = hydrological_year(year)
    else:
        t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    if t1 < t0:
        raise ValueError(f"the synthesis period is reversed: {t0.date()} > {t1.date()}")
    n_days = int((t1 - t0).days) + 1
    lo, hi = t0 - pd.Timedelta(days=margin_days), t1 + pd.Timedelta(days=margin_days + 1)
    sel = l2b.sel(time=slice(lo, hi))
    if sel.sizes["time"] == 0:
        raise ValueError(f"no L2B date between {lo.date()} and {hi.date()}; choose another year or period")
    require_single_time_chunk(sel, "snow_l3b")
    days = np.asarray((pd.DatetimeIndex(sel["time"].values).normalize() - t0).days, dtype=np.int64)
    codes = sel.astype(np.uint8).transpose("time", "y", "x")
    data = codes.data if codes.chunks is not None else da.from_array(codes.values, chunks=(-1, 512, 512))
    res = da.map_blocks(_l3b_block, data, days=days, n_days=n_days, min_days=int(min_snow_days), dtype=np.uint16,
                        chunks=((4,), *data.chunks[1:]))
    names = ("SCD", "SOD", "SMOD", "NOBS")
    meanings = ("snow cover duration (days)", "snow onset: first day of the longest snow period (index from start)",
                "snow melt-out: last day of the longest snow period (index from start)", "number of clear observations")
    ds = xr.Dataset({n: (("y", "x"), res[i]) for i, n in enumerate(names)}, coords={"y": sel["y"], "x": sel["x"]})
    for n, m in zip(names, meanings):
        ds[n].attrs["long_name"] = m
    ds = ds.drop_vars([c for c in ds.coords if c not in ("x", "y", "spatial_ref")])
    ds.attrs.update(start_date=str(t0.date()), end_date=str(t1.date()), n_days=n_days)
    p = {"start": str(t0.date()), "end": str(t1.date()), "margin_days": margin_days, "min_snow_days": min_snow_days,
         "n_dates": int(sel.sizes["time"])}
    return with_provenance(ds, algorithm="LIS L3B annual snow synthesis", params=p, source=l2b, reference=_REF)


# ------------------------------------------------------------------ glacier equilibrium-line altitude
def _ela_hist_block(codes, dem, labels, *, dz, nbins, n_out):
    """(t, outline, band, 3) counts of (all, clear, snow) pixels per elevation band of ``dz``."""
    out = np.zeros((codes.shape[0], n_out, nbins, 3), np.int64)
    valid = np.isfinite(dem) & (labels >= 0)
    if not valid.any():
        return out
    band = np.clip(np.floor(dem[valid] / dz).astype(np.int64), 0, nbins - 1)
    idx = labels[valid].astype(np.int64) * nbins + band
    size = n_out * nbins
    every = np.bincount(idx, minlength=size).reshape(n_out, nbins)
    for t in range(codes.shape[0]):
        c = codes[t][valid]
        clear = c <= k.SNOW  # L2B 0/100 or FSC 0-100; clouds 205 and no data 254 are not clear
        snow = clear & (c >= k.SNOW // 2)
        out[t, :, :, 0] = every
        out[t, :, :, 1] = np.bincount(idx[clear], minlength=size).reshape(n_out, nbins)
        out[t, :, :, 2] = np.bincount(idx[snow], minlength=size).reshape(n_out, nbins)
    return out


def _band_snowline(counts: np.ndarray, dz: float, fsnow: float, min_pixels: int) -> float:
    """Snowline (m) of one date over one outline from its band counts (band, 3), NaN when none.

    Bands with at least ``min_pixels`` clear pixels are scanned from the top down; the snowline
    is where the snow fraction first falls below ``fsnow``, interpolated linearly between the
    centres of that band and the one above.  NaN when the top band is already below ``fsnow``
    (no snow on the glacier: the line lies above it) or no band is (snow down to its foot).
    """
    used = np.nonzero(counts[:, 1] >= min_pixels)[0]
    if used.size < 2:
        return float("nan")
    frac = counts[used, 2] / counts[used, 1]
    centres = (used + 0.5) * dz
    if frac[-1] < fsnow:
        return float("nan")
    for i in range(used.size - 2, -1, -1):
        if frac[i] < fsnow:
            f0, f1 = frac[i], frac[i + 1]
            return float(centres[i] + (fsnow - f0) / (f1 - f0) * (centres[i + 1] - centres[i]))
    return float("nan")


def _lis_snowline(counts: np.ndarray, dz: float, p: LisParams) -> float:
    """LIS' snowline rule (:func:`k.snowline_from_histogram`) on the outline's occupied bands."""
    occupied = np.nonzero(counts[:, 0] > 0)[0]
    if occupied.size == 0:
        return float("nan")
    lo, hi = int(occupied[0]), int(occupied[-1])
    return k.snowline_from_histogram(counts[lo:hi + 1], lo * dz, (hi + 1) * dz, dz, p.fsnow_lim, p.fclear_lim)


def _ela_years(hist, *, year_of, window, years, dz, fsnow, min_clear, min_pixels, method, lis, times_ns):
    n_t, n_out = hist.shape[:2]
    out = np.full((n_out, len(years), 4), np.nan)
    for o in range(n_out):
        allpx = hist[:, o, :, 0].sum(axis=1)
        clear = hist[:, o, :, 1].sum(axis=1) / np.maximum(allpx, 1)
        for j, yr in enumerate(years):
            cands = [t for t in range(n_t) if window[t] and year_of[t] == yr and allpx[t] > 0 and clear[t] >= min_clear]
            best, when = np.nan, -1
            for t in cands:
                zs = (_band_snowline(hist[t, o], dz, fsnow, min_pixels) if method == "fraction"
                      else _lis_snowline(hist[t, o], dz, lis))
                if np.isfinite(zs) and not zs <= best:
                    best, when = zs, t
            out[o, j] = (best, times_ns[when] if when >= 0 else np.nan, len(cands),
                         clear[when] if when >= 0 else np.nan)
    return out


def equilibrium_line_altitude(
    snow: xr.DataArray,
    dem: xr.DataArray | xr.Dataset,
    outlines: Any,
    *,
    window: tuple[str, str] = ("08-15", "09-30"),
    dz: float = 50.0,
    fsnow: float = 0.5,
    min_clear: float = 0.9,
    min_pixels: int = 10,
    method: str = "fraction",
    params: LisParams | None = None,
    name_field: str = "name",
) -> xr.Dataset:
    """Glacier equilibrium-line altitude (ELA) per year from the end-of-summer snowline, lazily.

    The end-of-summer snowline on a glacier approximates its ELA (the transient snowline
    method, Rabatel et al. 2005 [4]_).  For each outline and each year:

    1. candidate dates: those of ``snow`` between ``window`` (month-day, inclusive; default
       15 August - 30 September) on which at least ``min_clear`` of the outline is clear
       (not cloud, not no data);
    2. on each, the outline's pixels are cut into elevation bands of ``dz`` m (as LIS'
       snowline [3]_) and the snowline is found from the band snow fractions:
       ``method="fraction"``: going down from the top, where the snow fraction of the clear
       pixels falls below ``fsnow`` (interpolated between band centres, bands with fewer than
       ``min_pixels`` clear pixels skipped); ``method="lis"``: LIS' own rule (lowest band with
       over 10 % snow, lowered two bands; ``params`` as :class:`LisParams`), which is biased
       low by design (it seeds LIS' pass 2);
    3. the ELA of the year is the highest of these snowlines (the end of the ablation season).

    Parameters
    ----------
    snow
        Snow maps on (time, y, x): LIS L2B codes (0 no snow, 100 snow, 205 cloud, 254 no data,
        from :func:`snow_l2b` or THEIA's L2B product) or FSC (0-100 %, snow when >= 50 %).
    dem
        Elevation (m) on the same grid (``terra_lab.load(dem_items, bands=['elevation'], like=cube)``).
    outlines
        Glacier outlines: a GeoJSON path or mapping, a GeoDataFrame or shapely geometries
        (see :func:`terra_lab.products.relief.outline_masks`); a pixel in two outlines counts
        for the first.

    Returns
    -------
    xarray.Dataset
        On (outline, year): ``ela`` (m, NaN when no clear date or the snowline lay outside the
        glacier), ``date`` (the date it was seen), ``n_dates`` (clear candidates) and
        ``clear_fraction``.  Lazy: the per-date band counts are a Dask reduction.

    References
    ----------
    .. [4] Rabatel, A., Dedieu, J.-P., Vincent, C. (2005). Using remote-sensing data to determine
       equilibrium-line altitude and mass-balance time series: validation on three French
       glaciers, 1994-2002. J. Glaciol. 51(175), 539-546.
    """
    from .relief import outline_masks

    if method not in ("fraction", "lis"):
        raise ValueError(f"method={method!r}; use 'fraction' (snow fraction crossing fsnow) or 'lis'")
    if "time" not in snow.dims:
        raise ValueError("snow must have a time dimension (one snow map per date); pass the L2B series")
    demg = _dem_on_grid(dem, snow)
    masks = outline_masks(outlines, demg, name_field=name_field)
    labels = np.full(demg.shape, -1, np.int16)
    for i in range(masks.sizes["outline"] - 1, -1, -1):
        labels[masks.values[i]] = i
    times = pd.DatetimeIndex(snow["time"].values)
    lo, hi = (pd.Timestamp(f"2000-{w}") for w in window)
    md = pd.to_datetime({"year": 2000, "month": times.month, "day": times.day})
    in_window = np.asarray((md >= lo) & (md <= hi))
    years = sorted({int(y) for y in times.year})
    nbins = int(np.ceil(9000.0 / dz)) + 1
    codes = snow.transpose("time", "y", "x").astype(np.uint8)
    hist = per_date_sum(_ela_hist_block, [codes], static=[demg.transpose("y", "x"), da.from_array(labels)],
                        shape=(masks.sizes["outline"], nbins, 3), dz=float(dz), nbins=nbins,
                        n_out=masks.sizes["outline"])
    lis = with_overrides(params, LisParams, {}, "equilibrium_line_altitude")
    import dask

    per_year = dask.delayed(_ela_years, pure=True)(
        hist, year_of=np.asarray(times.year), window=in_window, years=years, dz=float(dz), fsnow=float(fsnow),
        min_clear=float(min_clear), min_pixels=int(min_pixels), method=method, lis=lis,
        times_ns=times.asi8.astype(np.float64))
    res = da.from_delayed(per_year, shape=(masks.sizes["outline"], len(years), 4), dtype=np.float64)
    coords = {"outline": masks["outline"].values, "year": years}
    dims = ("outline", "year")
    date_ns = da.where(da.isnan(res[..., 1]), np.iinfo(np.int64).min, res[..., 1]).astype(np.int64)
    ds = xr.Dataset({
        "ela": xr.DataArray(res[..., 0], dims=dims, coords=coords,
                            attrs={"units": "m", "long_name": "equilibrium-line altitude (end-of-summer snowline)"}),
        "date": xr.DataArray(date_ns.astype("datetime64[ns]"), dims=dims, coords=coords),
        "n_dates": xr.DataArray(res[..., 2].astype(np.int64), dims=dims, coords=coords),
        "clear_fraction": xr.DataArray(res[..., 3], dims=dims, coords=coords),
    })
    p = dict(window=list(window), dz=dz, fsnow=fsnow, min_clear=min_clear, min_pixels=min_pixels, method=method)
    return with_provenance(ds, algorithm="ELA from the end-of-summer snowline", params=p, source=snow,
                           reference=f"{_REF}; Rabatel et al. 2005, J. Glaciol. 51:539")
