"""Ecological continuities: friction, habitat sources, accumulated cost and potential dispersal
areas, as BioDispersal computes them.

BioDispersal [1]_ (INRAE UMR TETIS) models the dispersal of a species group ("subnetwork") from
its habitat patches (biodiversity reservoirs) across a friction raster built by giving each
land-cover class a friction coefficient (classes without a value are ignored: impassable).  The
accumulated cost from the reservoirs is GRASS ``r.cost`` [2]_ (8 neighbours, no knight's move),
and the dispersal output keeps the accumulated cost where it does not exceed the group's
maximal dispersal cost, no data elsewhere.

Cost convention: a move between two neighbouring cells costs the mean of their frictions
times the step length, 1 for a side step and sqrt(2) for a diagonal one (square pixels).  With
``units="cells"`` (the default) step lengths are in pixels, as in ``r.cost`` and therefore in
BioDispersal, whose dispersal thresholds are in "cost units" = friction x pixels; with
``units="metres"`` they are multiplied by the pixel size (ArcGIS Cost Distance convention), so
thresholds are friction x metres.  Either way the result equals scikit-image's
``MCP_Geometric(friction, sampling=...).find_costs(sources)`` [3]_.

References
----------
.. [1] Chailloux, M., Vanpeene, S., Amsallem, J., Bonnevialle, M., Chaurand, J., Luque, S.
   BioDispersal, QGIS plugin computing ecological continuities (INRAE UMR TETIS),
   https://github.com/MathieuChailloux/BioDispersal (user guide v1.1).
.. [2] GRASS GIS ``r.cost``: cumulative cost of moving between cells of a cost raster.
.. [3] van der Walt, S. et al. (2014). scikit-image: image processing in Python. PeerJ 2:e453
   (``skimage.graph.MCP_Geometric``).
.. [4] Adriaensen, F. et al. (2003). The application of 'least-cost' modelling as a functional
   landscape model. Landscape and Urban Planning 64, 233-247.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

import numpy as np
import xarray as xr

from ..errors import NoSourceError, RasterInputError
from ..kernels import _continuity, _fragmentation
from ._common import per_block, whole_raster, with_provenance
from ._grid import as_yx, check_same_grid, pixel_size

__all__ = ["continuity", "cost_distance", "friction_from_classes", "habitat_sources"]

_REF = "BioDispersal (INRAE TETIS); GRASS r.cost"
_UNITS = ("cells", "metres")


def _friction_block(values, *, mapping, nodata):
    out = np.full(values.shape, np.nan, np.float32)
    for cls, fr in mapping.items():
        if fr is not None:
            out[values == cls] = fr
    if nodata is not None:
        out[values == nodata] = np.nan
    return out


def friction_from_classes(landcover: xr.DataArray, mapping: Mapping[int, float | None], *,
                          nodata: float | None = None) -> xr.DataArray:
    """Friction raster from a land-cover raster and a class -> friction coefficient mapping.

    As in BioDispersal's friction step, classes missing from ``mapping`` (or mapped to
    ``None``/NaN) and no-data pixels get no value: NaN, impassable for :func:`cost_distance`.

    Parameters
    ----------
    landcover
        (y, x) land-cover classes.
    mapping
        ``{class: friction}``; frictions are costs per unit length (> 0).
    nodata
        Land-cover no-data value (default ``landcover.rio.nodata``).

    Returns
    -------
    xarray.DataArray
        float32 (y, x) friction on the land-cover grid, CRS kept.

    References
    ----------
    BioDispersal user guide, "Friction" step.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> lc = xr.DataArray(np.array([[1, 2], [3, 0]], np.uint8), dims=("y", "x"))
    >>> friction_from_classes(lc, {1: 1, 2: 50}).values.tolist()
    [[1.0, 50.0], [nan, nan]]
    """
    landcover = as_yx(landcover, "landcover")
    bad = {c: v for c, v in mapping.items() if v is not None and not np.isnan(v) and v <= 0}
    if bad:
        raise ValueError(f"mapping gives non-positive frictions {bad}; frictions are costs per unit length, "
                         "use values > 0 (leave a class out of the mapping to make it impassable)")
    nd = landcover.rio.nodata if nodata is None else nodata
    out = per_block(partial(_friction_block, mapping=dict(mapping), nodata=nd), landcover.data, np.float32)
    da = landcover.copy(data=out).rename("friction")
    da.attrs = {"long_name": "friction (cost per unit length)"}
    da = da.rio.write_nodata(np.nan, encoded=False)
    return with_provenance(da, algorithm="friction from land cover (BioDispersal)",
                           params={"mapping": {str(k): v for k, v in mapping.items()}}, source=landcover,
                           reference=_REF)


def _sources_block(values, *, classes, min_px, conn8):
    mask = np.asarray(values, bool).copy() if classes is None else np.isin(values, classes)
    if min_px > 0:
        labels, sizes, _, _ = _fragmentation.label_patches(mask.view(np.uint8), np.zeros((1, 1), np.int32), False, conn8, True)
        mask = (sizes >= min_px - 1e-9)[labels] & mask
    return mask


def habitat_sources(landcover: xr.DataArray, *, classes: int | Sequence[int] | None = None, min_area: float = 0.0,
                    connectivity: int = 8) -> xr.DataArray:
    """Habitat patches (biodiversity reservoirs) used as dispersal sources.

    Parameters
    ----------
    landcover
        (y, x) land-cover raster with ``classes``, or a boolean habitat mask.
    classes
        Land-cover value(s) of the habitat.
    min_area
        Keep only patches of at least this area (m^2), as BioDispersal's selection of
        reservoirs by surface.
    connectivity
        8 (default, as ``r.cost`` moves) or 4, for grouping pixels into patches.

    Returns
    -------
    xarray.DataArray
        bool (y, x) on the input grid.
    """
    landscape = as_yx(landcover, "landcover")
    if classes is None and landscape.dtype != bool:
        raise RasterInputError(f"landcover has dtype {landscape.dtype} but classes=None: pass classes=[...] "
                               "(the habitat's land-cover values) or a boolean habitat mask")
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity={connectivity!r}: use 8 (queen's case) or 4 (rook's case)")
    min_px = 0.0
    if min_area > 0:
        rx, ry = pixel_size(landscape, "landcover")
        min_px = min_area / (rx * ry)
    block = partial(_sources_block, classes=None if classes is None else np.atleast_1d(classes), min_px=min_px,
                    conn8=connectivity == 8)
    mask = whole_raster(block, landscape.data, dtype=bool) if min_px > 0 else per_block(block, landscape.data, bool)
    da = landscape.copy(data=mask).rename("sources")
    da.attrs = {"long_name": "habitat sources"}
    return with_provenance(da, algorithm="habitat sources (BioDispersal)",
                           params={"classes": None if classes is None else np.atleast_1d(classes).tolist(),
                                   "min_area": min_area, "connectivity": connectivity},
                           source=landscape, reference=_REF)


def _steps(friction: xr.DataArray, units: str) -> tuple[float, float]:
    if units not in _UNITS:
        raise ValueError(f"units={units!r}: use 'cells' (GRASS r.cost / BioDispersal) or 'metres'")
    if "x" not in friction.coords or "y" not in friction.coords:
        if units == "metres":
            raise RasterInputError("friction has no x/y coordinates, so no pixel size for units='metres'; "
                                  "keep the raster's coordinates or use units='cells'")
        return 1.0, 1.0
    rx, ry = pixel_size(friction, "friction")
    return (rx, ry) if units == "metres" else (1.0, ry / rx)


def _cost_block(friction, sources, *, dx, dy, limit):
    f = np.ascontiguousarray(friction, dtype=np.float64)
    if np.any(f <= 0):
        raise ValueError("friction has values <= 0; frictions are costs per unit length, use values > 0 "
                         "(NaN for impassable cells)")
    s = np.ascontiguousarray(np.asarray(sources, bool)) & ~np.isnan(f)
    if not s.any():
        raise NoSourceError("sources has no cell on passable (non-NaN) friction; check the habitat classes "
                            "and min_area of habitat_sources(), and that friction is defined on the habitat")
    return _continuity.cost_distance(f, s.view(np.uint8), dx, dy, limit)


def cost_distance(friction: xr.DataArray, sources: xr.DataArray, *, max_cost: float | None = None,
                  units: str = "cells") -> xr.DataArray:
    """Least accumulated cost from the nearest source over a friction raster (8-neighbour Dijkstra).

    Parameters
    ----------
    friction
        (y, x) cost per unit length of each cell (> 0); NaN is impassable.
    sources
        bool (y, x) source cells on the friction grid (accumulated cost 0); sources on NaN
        friction are ignored.
    max_cost
        Stop the propagation at this accumulated cost (GRASS ``max_cost``): cells beyond it
        are ``inf``.  Faster when most of the raster lies beyond.
    units
        ``"cells"`` (default): step lengths 1 and sqrt(2) in pixels (r.cost, BioDispersal);
        ``"metres"``: step lengths times the pixel size.

    Returns
    -------
    xarray.DataArray
        float64 (y, x) accumulated cost, 0 on sources, ``inf`` where unreachable (or beyond
        ``max_cost``), NaN on impassable cells; CRS and coordinates of ``friction``.

    Raises
    ------
    RasterInputError
        ``sources`` not on the ``friction`` grid.
    NoSourceError
        No source cell on passable friction.

    References
    ----------
    Dijkstra (1959); GRASS ``r.cost``; see the module docstring.

    Examples
    --------
    Worked 3 x 3 example, from the top-left corner (side steps 1, diagonal sqrt(2)):

    >>> import numpy as np, xarray as xr
    >>> f = xr.DataArray(np.arange(1.0, 10.0).reshape(3, 3), dims=("y", "x"))
    >>> s = xr.DataArray(np.arange(9).reshape(3, 3) == 0, dims=("y", "x"))  # source: top-left cell
    >>> cost_distance(f, s).round(4).values.tolist()
    [[0.0, 1.5, 4.0], [2.5, 4.2426, 7.1569], [8.0, 10.7426, 14.1421]]
    """
    friction = as_yx(friction, "friction")
    sources = as_yx(sources, "sources")
    check_same_grid(friction, sources, "friction", "sources")
    dx, dy = _steps(friction, units)
    limit = np.inf if max_cost is None else float(max_cost)
    out = whole_raster(partial(_cost_block, dx=float(dx), dy=float(dy), limit=limit), friction.data, sources.data,
                       dtype=np.float64)
    da = friction.copy(data=out).rename("cost")
    da.attrs = {"long_name": "accumulated cost from the sources",
                "units": "friction x pixels" if units == "cells" else "friction x metres"}
    return with_provenance(da, algorithm="accumulated cost-distance (Dijkstra, 8 neighbours)",
                           params={"max_cost": max_cost, "units": units}, source=friction, reference=_REF)


def continuity(friction: xr.DataArray, sources: xr.DataArray, *, max_cost: float,
               units: str = "cells") -> xr.Dataset:
    """Potential dispersal area of a species group: BioDispersal's dispersal step.

    Parameters
    ----------
    friction, sources, units
        As :func:`cost_distance`.
    max_cost
        Maximal dispersal cost (dispersal capacity of the group), in the cost unit.

    Returns
    -------
    xarray.Dataset
        ``cost``: float32 accumulated cost where it is <= ``max_cost``, NaN elsewhere (the
        raster BioDispersal writes, NaN for its no data); ``dispersal_area``: bool,
        ``cost <= max_cost``.

    References
    ----------
    BioDispersal user guide, "Dispersal" step; GRASS ``r.cost``.
    """
    if max_cost is None or not np.isfinite(max_cost) or max_cost < 0:
        raise ValueError(f"max_cost={max_cost!r}: give the group's maximal dispersal cost, a number >= 0")
    cost = cost_distance(friction, sources, max_cost=max_cost, units=units)
    inside = cost <= max_cost
    ds = xr.Dataset({"cost": cost.where(inside).astype(np.float32), "dispersal_area": inside})
    ds["cost"].attrs = dict(cost.attrs, long_name="accumulated cost within the dispersal capacity")
    ds["dispersal_area"].attrs = {"long_name": "potential dispersal area (cost <= max_cost)"}
    return with_provenance(ds, algorithm="potential dispersal area (BioDispersal)",
                           params={"max_cost": max_cost, "units": units}, source=friction, reference=_REF)
