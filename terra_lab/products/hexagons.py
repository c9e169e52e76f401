"""Aggregation of raster products into hexagonal cells (hex-bin maps such as "forest loss per hexagon").

A hexagon grid of a given ``size`` (centre-to-vertex distance, in the raster's CRS units) is
laid on the plane of the raster's projected CRS, anchored at ``origin`` (default the CRS
origin, so every raster in one CRS shares the same cells).  Each pixel goes to the hexagon
that contains its centre, found by exact axial-coordinate arithmetic with cube rounding
([1]_, a numba kernel), and per-cell statistics are accumulated with ``bincount``-style
group sums, one Dask block at a time (memory stays bounded by a block).  No h3 dependency:
hexagons are planar, equal-area (``3 sqrt(3) / 2 size^2``) in the projected CRS.

References
----------
.. [1] Patel, A. (2013, updated 2021). Hexagonal Grids. Red Blob Games.
   https://www.redblobgames.com/grids/hexagons/
.. [2] Birch, C. P. D., Oom, S. P., Beecham, J. A. (2007). Rectangular and hexagonal grids used
   for observation, experiment and simulation in ecology. Ecological Modelling 206, 347-359.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import AOIError
from ..kernels._hexagons import hex_grid_ids
from ._common import provenance_attrs, with_provenance

__all__ = ["HEX_STATS", "aggregate_hexagons", "hexagon_area", "hexagon_grid", "hexagon_index", "hexagon_polygons"]

#: Statistics :func:`aggregate_hexagons` can report (``fraction`` and ``true_area_ha`` for boolean inputs).
HEX_STATS = ("count", "sum", "mean", "std", "min", "max", "fraction", "area_ha", "true_area_ha")

_SQRT3 = math.sqrt(3.0)
_REF = "Red Blob Games hexagonal grids (axial coordinates, cube rounding); Birch et al. 2007"


def hexagon_area(size: float) -> float:
    """Area of a regular hexagon of circumradius ``size``: ``3 sqrt(3) / 2 size^2``."""
    return 1.5 * _SQRT3 * size * size


def _check_orientation(orientation: str) -> bool:
    if orientation not in ("pointy", "flat"):
        raise ValueError(f"orientation={orientation!r}: use 'pointy' (vertex up) or 'flat' (edge up)")
    return orientation == "pointy"


def _centres(q: Sequence[int] | np.ndarray, r: Sequence[int] | np.ndarray, size: float, pointy: bool,
             origin: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    q = np.asarray(q, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    if pointy:
        cx, cy = size * (_SQRT3 * q + _SQRT3 / 2 * r), size * 1.5 * r
    else:
        cx, cy = size * 1.5 * q, size * (_SQRT3 / 2 * q + _SQRT3 * r)
    return cx + origin[0], cy + origin[1]


def hexagon_polygons(q: Sequence[int] | np.ndarray, r: Sequence[int] | np.ndarray, size: float, *,
                     orientation: str = "pointy",
                     origin: tuple[float, float] = (0.0, 0.0)):
    """Shapely polygons of the hexagons with axial coordinates ``(q, r)``.

    Vertices are at angles 30 + 60 k degrees (pointy-top) or 60 k degrees (flat-top) from the
    centre, counter-clockwise.
    """
    import shapely

    pointy = _check_orientation(orientation)
    cx, cy = _centres(q, r, size, pointy, origin)
    ang = np.deg2rad(np.arange(6) * 60.0 + (30.0 if pointy else 0.0))
    vx = cx[:, None] + size * np.cos(ang)[None, :]
    vy = cy[:, None] + size * np.sin(ang)[None, :]
    ring = np.stack([vx, vy], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.polygons(ring)


def hexagon_grid(bounds: Sequence[float], size: float, *, orientation: str = "pointy",
                 origin: tuple[float, float] = (0.0, 0.0), crs=None):
    """Every hexagon of the grid that intersects ``bounds`` = (xmin, ymin, xmax, ymax).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``q``, ``r`` (axial coordinates), ``x``, ``y`` (centre) and the hexagon geometry.
    """
    import geopandas as gpd
    import shapely

    if size <= 0:
        raise ValueError(f"size={size!r}: the hexagon size (centre to vertex, CRS units) must be > 0")
    pointy = _check_orientation(orientation)
    xmin, ymin, xmax, ymax = map(float, bounds)
    # candidate centres from the axial ids of a grid of points finer than the hexagons, padded by one cell
    step = size / 2
    xs = np.arange(xmin - 2 * size, xmax + 2 * size + step, step) - origin[0]
    ys = np.arange(ymin - 2 * size, ymax + 2 * size + step, step) - origin[1]
    q = np.empty((ys.size, xs.size), np.int64)
    r = np.empty_like(q)
    hex_grid_ids(xs, ys, float(size), pointy, q, r)
    qr = np.unique(np.stack([q.ravel(), r.ravel()], axis=1), axis=0)
    polys = hexagon_polygons(qr[:, 0], qr[:, 1], size, orientation=orientation, origin=origin)
    keep = shapely.intersects(polys, shapely.box(xmin, ymin, xmax, ymax))
    cx, cy = _centres(qr[keep, 0], qr[keep, 1], size, pointy, origin)
    return gpd.GeoDataFrame({"q": qr[keep, 0], "r": qr[keep, 1], "x": cx, "y": cy}, geometry=polys[keep], crs=crs)


def _grid_checks(da: xr.DataArray, product: str) -> None:
    if not isinstance(da, xr.DataArray):
        raise TypeError(f"{product} takes one 2-D DataArray (got {type(da).__name__}); pick a variable, e.g. ds['ndvi']")
    extra = [d for d in da.dims if d not in ("y", "x")]
    if extra or "x" not in da.dims or "y" not in da.dims:
        raise ValueError(
            f"{product} needs a 2-D (y, x) DataArray; {da.name!r} has dims {da.dims}; "
            f"select or reduce the others first, e.g. da.isel({extra[0] if extra else 'time'}=0) or da.mean('time')"
        )
    crs = da.rio.crs
    if crs is None:
        raise AOIError(f"{da.name!r} has no CRS; set it first: da = da.rio.write_crs('EPSG:32631')")
    if crs.is_geographic:
        raise AOIError(
            f"{da.name!r} is in a geographic CRS ({crs}); hexagons are laid out in a projected plane: "
            "reproject first, e.g. da.rio.reproject('EPSG:2154') or da.rio.reproject(da.rio.estimate_utm_crs())"
        )


def hexagon_index(da: xr.DataArray, size: float, *, orientation: str = "pointy",
                  origin: tuple[float, float] = (0.0, 0.0)) -> xr.Dataset:
    """Axial coordinates ``q`` and ``r`` (int64, y x) of the hexagon holding each pixel centre.

    Lazy when ``da`` is Dask-backed (same chunks); reads no pixel of ``da``, only its coordinates.
    """
    _grid_checks(da, "hexagon_index")
    pointy = _check_orientation(orientation)
    da = da.transpose("y", "x")
    xs = da["x"].values.astype(np.float64) - origin[0]
    ys = da["y"].values.astype(np.float64) - origin[1]

    def block(yb, xb):
        q = np.empty((yb.size, xb.size), np.int64)
        r = np.empty_like(q)
        hex_grid_ids(xb, yb, float(size), pointy, q, r)
        return np.stack([q, r])

    if da.chunks is None:
        qr = block(ys, xs)
    else:
        import dask.array as dsa

        cy, cx = da.data.chunks
        ysd = dsa.from_array(ys, chunks=(cy,))[:, None]
        xsd = dsa.from_array(xs, chunks=(cx,))[None, :]
        qr = dsa.map_blocks(lambda yb, xb: block(yb.ravel(), xb.ravel()), ysd, xsd, dtype=np.int64,
                            new_axis=0, chunks=((2,), cy, cx))
    coords = {k: v for k, v in da.coords.items() if set(v.dims) <= {"y", "x"}}
    out = xr.Dataset({"q": (("y", "x"), qr[0]), "r": (("y", "x"), qr[1])}, coords=coords)
    return with_provenance(out, algorithm="hexagon index", source=da, reference=_REF,
                           params={"size": size, "orientation": orientation, "origin": list(origin)})


def _block_table(values: np.ndarray, ys: np.ndarray, xs: np.ndarray, size: float, pointy: bool,
                 nodata) -> pd.DataFrame:
    q = np.empty((ys.size, xs.size), np.int64)
    r = np.empty_like(q)
    hex_grid_ids(xs, ys, size, pointy, q, r)
    v = np.asarray(values)
    is_bool = v.dtype == bool
    v = v.astype(np.float64)
    valid = ~np.isnan(v)
    if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
        valid &= v != nodata
    keys = np.stack([q.ravel(), r.ravel()], axis=1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.ravel()
    n = len(uniq)
    vv = np.where(valid, v, 0.0).ravel()
    w = valid.ravel()
    table = {
        "q": uniq[:, 0],
        "r": uniq[:, 1],
        "n_pixels": np.bincount(inv, minlength=n),
        "count": np.bincount(inv, weights=w, minlength=n).astype(np.int64),
        "sum": np.bincount(inv, weights=vv, minlength=n),
        "sumsq": np.bincount(inv, weights=vv * vv, minlength=n),
    }
    mn = np.full(n, np.inf)
    mx = np.full(n, -np.inf)
    np.minimum.at(mn, inv[w], vv[w])
    np.maximum.at(mx, inv[w], vv[w])
    table["min"], table["max"] = mn, mx
    out = pd.DataFrame(table)
    out.attrs["is_bool"] = is_bool
    return out


def aggregate_hexagons(da: xr.DataArray, size: float, *, orientation: str = "pointy",
                       origin: tuple[float, float] = (0.0, 0.0), stats: Iterable[str] | None = None,
                       nodata: float | None = None):
    """Aggregate a 2-D product into hexagonal cells of ``size``: a GeoDataFrame of hexagons.

    Each pixel is assigned to the hexagon that contains its centre (exact axial arithmetic,
    see :func:`hexagon_index`); NaN and ``nodata`` pixels count in ``n_pixels`` but not in the
    statistics.  Runs eagerly, one Dask block at a time: per-block group sums are combined, so
    the whole raster never sits in memory.

    Parameters
    ----------
    da
        2-D (y, x) DataArray in a projected CRS (``da.rio.crs``), numeric or boolean (e.g. a
        forest-loss mask).
    size
        Hexagon size: the centre-to-vertex distance (= side length), in CRS units (m).
        Cell area is ``3 sqrt(3) / 2 size^2`` (:func:`hexagon_area`).
    orientation
        ``"pointy"`` (pointy-top, rows of hexagons; default) or ``"flat"`` (flat-top, columns).
    origin
        Centre of hexagon (0, 0) in CRS coordinates; default the CRS origin, so rasters of one
        CRS share their cells.
    stats
        Subset of :data:`HEX_STATS` to report (default: count, sum, mean, area_ha, and for
        booleans fraction and true_area_ha).  ``count`` is the number of valid pixels,
        ``area_ha`` their area, ``fraction`` the share of valid pixels that are True and
        ``true_area_ha`` the area of True pixels.
    nodata
        Value to ignore besides NaN (default ``da.rio.nodata``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per hexagon holding at least one pixel centre: ``q``, ``r`` (axial ids), ``x``,
        ``y`` (centre), ``n_pixels`` (pixel centres inside), ``coverage`` (share of the hexagon
        covered by the raster's pixels), ``hex_area_ha``, the requested statistics and the
        hexagon geometry, in ``da``'s CRS.  Provenance is in ``.attrs``.

    References
    ----------
    .. [1] Patel, A. Hexagonal Grids, Red Blob Games (axial coordinates, cube rounding).

    Examples
    --------
    >>> import numpy as np, xarray as xr, rioxarray  # noqa: F401
    >>> da = xr.DataArray(np.ones((100, 100)), dims=("y", "x"),
    ...                   coords={"y": 1000 - 10 * np.arange(100) - 5, "x": 10 * np.arange(100) + 5})
    >>> hexes = aggregate_hexagons(da.rio.write_crs(32631), 100.0)
    >>> int(hexes["sum"].sum())
    10000
    """
    import geopandas as gpd

    _grid_checks(da, "aggregate_hexagons")
    if size <= 0:
        raise ValueError(f"size={size!r}: the hexagon size (centre to vertex, CRS units) must be > 0")
    pointy = _check_orientation(orientation)
    is_bool = da.dtype == bool
    if stats is None:
        stats = ["count", "sum", "mean", "area_ha"] + (["fraction", "true_area_ha"] if is_bool else [])
    stats = list(stats)
    unknown = [s for s in stats if s not in HEX_STATS]
    if unknown:
        raise ValueError(f"unknown statistics {unknown}; choose from {list(HEX_STATS)}")
    if not is_bool and any(s in ("fraction", "true_area_ha") for s in stats):
        raise ValueError(f"'fraction' and 'true_area_ha' need a boolean DataArray ({da.name!r} is {da.dtype}); "
                         "pass e.g. da > threshold")
    if nodata is None and not is_bool:
        nodata = da.rio.nodata
    da = da.transpose("y", "x")
    xs = da["x"].values.astype(np.float64) - origin[0]
    ys = da["y"].values.astype(np.float64) - origin[1]
    resx = abs(float(xs[1] - xs[0])) if xs.size > 1 else abs(da.rio.resolution()[0])
    resy = abs(float(ys[1] - ys[0])) if ys.size > 1 else abs(da.rio.resolution()[1])
    pixel_area = resx * resy

    if da.chunks is None:
        parts = [_block_table(da.values, ys, xs, float(size), pointy, nodata)]
    else:
        import dask

        cy, cx = da.data.chunks
        oy, ox = np.cumsum((0, *cy)), np.cumsum((0, *cx))
        blocks = da.data.to_delayed()
        tasks = [dask.delayed(_block_table)(blocks[i, j], ys[oy[i]:oy[i + 1]], xs[ox[j]:ox[j + 1]], float(size),
                                            pointy, nodata)
                 for i in range(len(cy)) for j in range(len(cx))]
        parts = list(dask.compute(*tasks))
    table = pd.concat(parts, ignore_index=True)
    agg = table.groupby(["q", "r"], sort=True).agg(
        n_pixels=("n_pixels", "sum"), count=("count", "sum"), sum=("sum", "sum"), sumsq=("sumsq", "sum"),
        min=("min", "min"), max=("max", "max")).reset_index()
    cnt = agg["count"].to_numpy().astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = agg["sum"].to_numpy() / cnt
        var = np.maximum(agg["sumsq"].to_numpy() / cnt - mean * mean, 0.0)
    hex_area = hexagon_area(size)
    out = pd.DataFrame({"q": agg["q"], "r": agg["r"]})
    out["x"], out["y"] = _centres(agg["q"], agg["r"], size, pointy, origin)
    out["n_pixels"] = agg["n_pixels"].to_numpy()
    out["coverage"] = np.minimum(out["n_pixels"] * pixel_area / hex_area, 1.0)
    out["hex_area_ha"] = hex_area / 1e4
    columns = {
        "count": agg["count"].to_numpy(),
        "sum": agg["sum"].to_numpy().astype(np.int64) if is_bool else agg["sum"].to_numpy(),
        "mean": mean,
        "std": np.sqrt(var),
        "min": np.where(cnt > 0, agg["min"], np.nan),
        "max": np.where(cnt > 0, agg["max"], np.nan),
        "fraction": mean,
        "area_ha": cnt * pixel_area / 1e4,
        "true_area_ha": agg["sum"].to_numpy() * pixel_area / 1e4,
    }
    for s in stats:
        out[s] = columns[s]
    geoms = hexagon_polygons(out["q"].to_numpy(), out["r"].to_numpy(), size, orientation=orientation, origin=origin)
    gdf = gpd.GeoDataFrame(out, geometry=geoms, crs=da.rio.crs)
    params = {"size": size, "orientation": orientation, "origin": list(origin), "stats": stats, "nodata": nodata,
              "pixel_area": pixel_area}
    gdf.attrs.update(provenance_attrs(algorithm="hexagon aggregation", params=params, source=da, reference=_REF))
    gdf.attrs["terra_lab:variable"] = str(da.name)
    return gdf
