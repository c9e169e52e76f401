"""Landscape fragmentation: the effective mesh size and its companions, as FragScape reports them.

The effective mesh size [1]_ is the expected area reachable from a random point of a reporting
unit without crossing a fragmenting element, ``m_eff = (1 / A_t) * sum_i A_i**2``, with ``A_t``
the unit's area and ``A_i`` the areas of the habitat ("landscape") patches left once fragmenting
elements (roads, urban areas...) are removed.  Patches crossing a unit boundary are handled as
in Moser et al. (2007) [2]_:

* cutting-out (CUT): patches are clipped at the unit boundary, ``m_eff = (1/A_t) sum A_i**2``;
* cross-boundary connection (CBC): each patch's area inside the unit is multiplied by its
  complete area, parts outside the unit included, ``m_eff_CBC = (1/A_t) sum A_i * A_i_cmpl``.

This follows FragScape [3]_ (INRAE UMR TETIS): raster patches are 4-connected (its raster mode
labels with the rook's-case structure), the unit area ``A_t`` counts every valid (non-nodata)
pixel of the unit, fragmenting ones included, and the auxiliary measures are Jaeger's
coherence ``C``, landscape division ``D = 1 - C`` and splitting index ``S = A_t**2 / sum``.
pylandstats [4]_ uses the same formula (``Landscape.effective_mesh_size(class_val=...)``, in
hectares, landscape area without nodata pixels) but 8-connectivity by default.

Unlike the per-pixel products, :func:`effective_mesh_size` runs when called: patches couple the
whole raster and the result is a handful of numbers per reporting unit (whose number, with
``zones``, depends on the data), so a Dask input is computed first (one byte per pixel for the
habitat mask: about 120 MB for a full Sentinel-2 tile at 10 m).

References
----------
.. [1] Jaeger, J. A. G. (2000). Landscape division, splitting index, and effective mesh size:
   new measures of landscape fragmentation. Landscape Ecology 15, 115-130.
.. [2] Moser, B., Jaeger, J. A. G., Tappeiner, U., Tasser, E., Eiselt, B. (2007). Modification
   of the effective mesh size for measuring landscape fragmentation to solve the boundary
   problem. Landscape Ecology 22, 447-459.
.. [3] Chailloux, M., Sainte-Marie, J. et al. FragScape, QGIS plugin computing the effective
   mesh size (INRAE UMR TETIS), https://github.com/MathieuChailloux/FragScape (user guide).
.. [4] Bosch, M. (2019). PyLandStats: an open-source Pythonic library to compute landscape
   metrics. PLOS ONE 14(12), e0225734.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..errors import RasterInputError
from ..kernels import _fragmentation as k
from ._common import with_provenance
from ._grid import as_yx, check_same_grid, pixel_size

__all__ = ["AREA_UNITS", "effective_mesh_size"]

#: Area units of the outputs and their size in square metres (FragScape's unit choice).
AREA_UNITS = {"m2": 1.0, "ha": 1e4, "km2": 1e6}

_REF = "Jaeger 2000, Landsc. Ecol. 15:115; Moser et al. 2007, Landsc. Ecol. 22:447; FragScape (INRAE TETIS)"


def _habitat_and_valid(landscape: xr.DataArray, classes, nodata):
    values = np.asarray(landscape.values)
    if classes is None:
        if values.dtype != bool:
            raise RasterInputError(f"landscape has dtype {values.dtype} but classes=None: pass classes=[...] "
                                  "(the land-cover values forming the habitat), or a boolean habitat mask")
        return values.astype(np.uint8), np.ones(values.shape, np.uint8), False
    cls = np.atleast_1d(np.asarray(classes))
    valid = np.ones(values.shape, bool)
    if np.issubdtype(values.dtype, np.floating):
        valid &= ~np.isnan(values)
    nd = landscape.rio.nodata if nodata is None else nodata
    if nd is not None and not (isinstance(nd, float) and np.isnan(nd)):
        valid &= values != nd
    if cls.size <= 16:  # a few comparisons beat np.isin's sort on large rasters
        habitat = values == cls[0]
        for c in cls[1:]:
            habitat |= values == c
        habitat &= valid
    else:
        habitat = np.isin(values, cls) & valid
    return habitat.view(np.uint8), valid.view(np.uint8), True


def _zones_units(zones: xr.DataArray):
    z = np.asarray(zones.values)
    ok = np.ones(z.shape, bool)
    if np.issubdtype(z.dtype, np.floating):
        ok &= ~np.isnan(z)
    if zones.rio.nodata is not None:
        ok &= z != zones.rio.nodata
    ids, inv = np.unique(z[ok], return_inverse=True)
    unit = np.full(z.shape, -1, np.int32)
    unit[ok] = inv.astype(np.int32)
    return unit, ids


def _grid_units(shape, pixel: tuple[float, float], grid_size: float):
    fx, fy = grid_size / pixel[0], grid_size / pixel[1]
    kx, ky = int(round(fx)), int(round(fy))
    if kx < 1 or ky < 1 or abs(fx - kx) > 1e-6 * fx or abs(fy - ky) > 1e-6 * fy:
        raise RasterInputError(f"grid_size={grid_size} m is not a whole multiple of the landscape pixel size "
                              f"{pixel} m; pass a multiple, e.g. grid_size={max(kx, 1) * pixel[0]:g}")
    ny, nx = shape
    gy, gx = -(-ny // ky), -(-nx // kx)
    rows = (np.arange(ny, dtype=np.int32) // ky)[:, None]
    cols = (np.arange(nx, dtype=np.int32) // kx)[None, :]
    return (rows * gx + cols).astype(np.int32), (gy, gx), (ky, kx)


def effective_mesh_size(
    landscape: xr.DataArray,
    *,
    classes: int | Sequence[int] | None = None,
    barriers: xr.DataArray | None = None,
    zones: xr.DataArray | None = None,
    grid_size: float | None = None,
    method: str = "cutting",
    connectivity: int = 4,
    nodata: float | None = None,
    units: str = "ha",
) -> xr.Dataset:
    """Effective mesh size and fragmentation measures of a habitat, per reporting unit.

    Parameters
    ----------
    landscape
        (y, x) land-cover raster (with ``classes``) or boolean habitat mask (``classes=None``),
        in a projected CRS (pixel size taken from ``landscape.rio.resolution()``).
    classes
        Land-cover value(s) forming the habitat ("landscape" classes in FragScape); the other
        valid values are fragmenting or non-habitat land and count in the unit area.
    barriers
        Optional boolean (y, x) raster of fragmenting elements (roads, railways...) on the same
        grid, removed from the habitat (they still count in the unit area).
    zones
        Optional integer (y, x) raster of reporting units on the same grid (one id per unit;
        NaN or its nodata value: outside every unit).  Exclusive with ``grid_size``.
    grid_size
        Optional side (m) of square reporting cells, a whole multiple of the pixel size, laid
        from the raster's top-left corner (edge cells may be partial).
    method
        ``"cutting"`` (CUT, patches clipped at unit boundaries) or ``"cbc"`` (cross-boundary
        connection: complete patch areas, including parts outside the unit, anywhere on the
        raster).  Both give the same value without reporting units.
    connectivity
        4 (FragScape's raster labelling, the default) or 8 (pylandstats' default).
    nodata
        Value of ``landscape`` marking no data (default ``landscape.rio.nodata``); NaN is always
        no data.  No-data pixels are left out of the unit area, as in FragScape and pylandstats.
    units
        Area unit of the outputs: ``"m2"``, ``"ha"`` (default, as pylandstats) or ``"km2"``.

    Returns
    -------
    xarray.Dataset
        Scalars for the whole raster; dim ``zone`` (the zone ids) with ``zones``; dims (y, x) of
        the coarse grid, with the CRS, with ``grid_size``.  Variables: ``effective_mesh_size``
        (area unit), ``n_patches`` (patches in the unit; for CBC the distinct patches that
        intersect it), ``area`` (``A_t``, valid area), ``habitat_area`` (``sum A_i`` inside the
        unit), ``coherence`` (``m_eff / A_t``), ``division`` (``1 - coherence``) and
        ``splitting_index`` (``A_t / m_eff``).  Units without habitat have ``m_eff`` = 0 and
        an infinite splitting index; units without valid pixels are NaN.

    Raises
    ------
    RasterInputError
        Inputs not on one grid, geographic CRS, grid size not a multiple of the pixel size,
        non-boolean landscape without ``classes``.
    ValueError
        Unknown ``method``, ``connectivity`` or ``units``.

    References
    ----------
    Jaeger (2000); Moser et al. (2007); FragScape; see the module docstring.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> hab = xr.DataArray(np.array([[1, 1, 0, 1]] * 4, bool), dims=("y", "x"),
    ...                    coords={"y": [35., 25., 15., 5.], "x": [5., 15., 25., 35.]}).rio.write_crs(32631)
    >>> float(effective_mesh_size(hab, units="m2").effective_mesh_size)  # (800**2 + 400**2) / 1600
    500.0
    """
    _check_options(method, connectivity, units, zones, grid_size)
    landscape = as_yx(landscape, "landscape")
    pixel = pixel_size(landscape, "landscape")
    habitat, valid, has_nodata = _habitat_and_valid(landscape, classes, nodata)
    if barriers is not None:
        barriers = as_yx(barriers, "barriers")
        check_same_grid(landscape, barriers, "landscape", "barriers")
        habitat = (habitat.view(bool) & ~np.asarray(barriers.values, bool)).view(np.uint8)
    ru = _reporting_units(landscape, zones, grid_size, pixel)
    n_valid, n_patches, s1, net = _patch_sums(habitat, valid, has_nodata, ru, method, connectivity == 8)
    data = _measures(n_valid, n_patches, s1, net, pixel[0] * pixel[1] / AREA_UNITS[units])
    ds = _on_units(data, ru, landscape, pixel)
    for name in ("effective_mesh_size", "area", "habitat_area"):
        ds[name].attrs["units"] = units
    ds["effective_mesh_size"].attrs["long_name"] = (
        "effective mesh size (cross-boundary connection)" if method == "cbc" else "effective mesh size (cutting-out)")
    ds["coherence"].attrs["long_name"] = "degree of coherence (m_eff / A_t)"
    ds["division"].attrs["long_name"] = "degree of landscape division (1 - coherence)"
    ds["splitting_index"].attrs["long_name"] = "splitting index (A_t / m_eff)"
    params = {"classes": None if classes is None else np.atleast_1d(classes).tolist(), "method": method,
              "connectivity": connectivity, "units": units, "grid_size": grid_size,
              "zones": zones is not None, "barriers": barriers is not None}
    return with_provenance(ds, algorithm="effective mesh size (FragScape)", params=params, source=landscape,
                           reference=_REF)


def _check_options(method: str, connectivity: int, units: str, zones: Any, grid_size: float | None) -> None:
    if method not in ("cutting", "cbc"):
        raise ValueError(f"method={method!r}: use 'cutting' (CUT) or 'cbc' (cross-boundary connection)")
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity={connectivity!r}: use 4 (rook's case, FragScape) or 8 (queen's case)")
    if units not in AREA_UNITS:
        raise ValueError(f"units={units!r}: use one of {sorted(AREA_UNITS)}")
    if zones is not None and grid_size is not None:
        raise ValueError("pass either zones= or grid_size= as reporting units, not both")


@dataclass(frozen=True)
class _Units:
    """Reporting units: ``unit`` (y, x) ids (a (1, 1) zero array for the whole raster), their
    count, and the zone ids (``zones=``) or the coarse grid's shape and factors (``grid_size=``)."""

    unit: np.ndarray
    n_units: int
    ids: np.ndarray | None = None
    gshape: tuple[int, int] | None = None
    coarse: tuple[int, int] | None = None


def _reporting_units(landscape: xr.DataArray, zones: xr.DataArray | None, grid_size: float | None,
                     pixel: tuple[float, float]) -> _Units:
    """Step 1: the reporting units (zones, square cells, or the whole raster)."""
    if zones is not None:
        zones = as_yx(zones, "zones")
        check_same_grid(landscape, zones, "landscape", "zones")
        unit, ids = _zones_units(zones)
        if len(ids) == 0:
            raise RasterInputError("zones has no pixel inside a reporting unit (all NaN or nodata); pass a raster "
                                   "of unit ids, e.g. rasterised communes, on the landscape grid")
        return _Units(unit, len(ids), ids=ids)
    if grid_size is not None:
        unit, gshape, coarse = _grid_units(landscape.shape, pixel, float(grid_size))
        return _Units(unit, gshape[0] * gshape[1], gshape=gshape, coarse=coarse)
    return _Units(np.zeros((1, 1), np.int32), 1)


def _patch_sums(habitat: np.ndarray, valid: np.ndarray, has_nodata: bool, ru: _Units, method: str,
                conn8: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Step 2: per unit, (valid pixels, patches, habitat pixels, sum of squared patch sizes: clipped
    at the unit for CUT, complete patches for CBC), from the labelled patches."""
    unit, n_units = ru.unit, ru.n_units
    use_units = unit.shape == habitat.shape
    if use_units:
        n_valid = k.count_units(unit, valid, n_units)
    else:
        n_valid = np.array([np.count_nonzero(valid) if has_nodata else valid.size], np.int64)
    _, sizes, first, _ = k.label_patches(habitat, unit, use_units, conn8, False)
    piece_unit = unit.ravel()[first] if use_units else np.zeros(first.shape, np.int32)
    piece_unit[0] = 0
    full = sizes
    n_patches = None
    if method == "cbc" and use_units:
        glabels, gsizes, _, gfinal = k.label_patches(habitat, unit, False, conn8, False)
        gl = gfinal[glabels.ravel()[first]]
        gl[0] = 0
        full = gsizes[gl]
        pairs = np.unique(gl[1:].astype(np.int64) * n_units + piece_unit[1:])
        n_patches = np.bincount(pairs % n_units, minlength=n_units)
        del glabels
    n_pieces, s1, s2, scbc = k.piece_sums(sizes, piece_unit, full, n_units)
    if n_patches is None:
        n_patches = n_pieces
    return n_valid, n_patches, s1, (scbc if method == "cbc" else s2)


def _measures(n_valid: np.ndarray, n_patches: np.ndarray, s1: np.ndarray, net: np.ndarray,
              cell: float) -> dict[str, np.ndarray]:
    """Step 3: the measures per unit from pixel counts (``cell``: one pixel's area in the output unit)."""
    area = n_valid * cell
    with np.errstate(invalid="ignore", divide="ignore"):
        net_u = net * cell ** 2
        meff = np.where(n_valid > 0, net_u / area, np.nan)
        coherence = meff / area
        split = np.where(meff > 0, area / meff, np.where(n_valid > 0, np.inf, np.nan))
    return {
        "effective_mesh_size": meff,
        "n_patches": n_patches.astype(np.int64),
        "area": np.where(n_valid > 0, area, np.nan),
        "habitat_area": s1 * cell,
        "coherence": coherence,
        "division": 1.0 - coherence,
        "splitting_index": split,
    }


def _on_units(data: dict[str, np.ndarray], ru: _Units, landscape: xr.DataArray,
              pixel: tuple[float, float]) -> xr.Dataset:
    """Step 4: the measures as a Dataset on the units: ``zone``, the coarse (y, x) grid, or scalars."""
    if ru.ids is not None:
        ds = xr.Dataset({n: ("zone", v) for n, v in data.items()}, coords={"zone": ru.ids})
    elif ru.coarse is not None and ru.gshape is not None:
        ky, kx = ru.coarse
        gy, gx = ru.gshape
        y0, x0 = float(landscape.y.values[0]), float(landscape.x.values[0])
        dy = float(landscape.y.values[1] - landscape.y.values[0]) if landscape.sizes["y"] > 1 else -pixel[1]
        dx = float(landscape.x.values[1] - landscape.x.values[0]) if landscape.sizes["x"] > 1 else pixel[0]
        ys = y0 - dy / 2 + (np.arange(gy) + 0.5) * dy * ky
        xs = x0 - dx / 2 + (np.arange(gx) + 0.5) * dx * kx
        ds = xr.Dataset({n: (("y", "x"), v.reshape(gy, gx)) for n, v in data.items()}, coords={"y": ys, "x": xs})
    else:
        ds = xr.Dataset({n: ((), v[0]) for n, v in data.items()})
    if landscape.rio.crs is not None:
        ds = ds.rio.write_crs(landscape.rio.crs)
    return ds
