"""A requested cube's size and chunk count, from its grid, before any graph is built.

``stackstac.stack`` builds the whole task graph (and its arrays of asset metadata) for the
grid it is given: an absurd request (``resolution=1e-3`` on a tile) would exhaust memory in
graph construction, long before a size check on the result.  This module sizes the grid
from what the request states (bounds, CRS, resolution, the items' extent, dates, variables,
chunks) so that :func:`terra_lab.load` refuses it first, in microseconds.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MAX_CHUNKS", "check_request", "grid_shape"]

_MAX_SIDE = 1e9  # px along one side
MAX_CHUNKS = 1_000_000  # a Dask graph of more chunks takes GBs and minutes before any pixel is read


def grid_shape(items: list[dict], epsg: int, resolution: float, bounds: tuple | None,
               bounds_latlon: tuple | None) -> tuple[int, int] | None:
    """(ny, nx) of the output grid, or None when its extent cannot be known before stacking."""
    from stackstac import geom_utils

    if bounds is None:
        if bounds_latlon is None:  # the union of the items (stackstac's default)
            boxes = [it["bbox"] for it in items if len(it.get("bbox") or ()) == 4]
            if not boxes:
                return None
            bounds_latlon = (min(b[0] for b in boxes), min(b[1] for b in boxes),
                             max(b[2] for b in boxes), max(b[3] for b in boxes))
        bounds = geom_utils.reproject_bounds(bounds_latlon, 4326, epsg)
    w, h = bounds[2] - bounds[0], bounds[3] - bounds[1]
    if not (math.isfinite(w) and math.isfinite(h)):
        return None
    if resolution > 2 * max(w, h):
        raise ValueError(f"resolution={resolution:g} is larger than the whole area to load ({w:g} x {h:g} in units "
                         "of crs=): the cube would be a single pixel wider than the area; give a smaller resolution")
    fy, fx = h / resolution, w / resolution
    if not (fy < _MAX_SIDE and fx < _MAX_SIDE):  # (also NaN/inf) beyond any size check's arithmetic
        from ..errors import RequestTooLargeError

        raise RequestTooLargeError(f"resolution={resolution:g} would make a grid of {fy:.3g} x {fx:.3g} px; coarsen "
                                   "resolution= or narrow bbox=")
    return max(1, math.ceil(fy) + 1), max(1, math.ceil(fx) + 1)  # +1: snapping


def check_request(items: list[dict], *, epsg: int, resolution: float, bounds: tuple | None,
                  bounds_latlon: tuple | None, n_vars: int, chunks: Any, max_bytes: int | None, what: str) -> None:
    """Raise :class:`~terra_lab.errors.RequestTooLargeError` for a cube over ``max_bytes`` or :data:`MAX_CHUNKS`."""
    from ..errors import RequestTooLargeError
    from ._load import _chunks, _default_max_bytes, estimate_bytes

    shape = grid_shape(items, epsg, resolution, bounds, bounds_latlon)
    if shape is None:
        return
    ny, nx = shape
    n_time = len(items)
    size = estimate_bytes(n_time, n_vars, ny, nx)
    limit = max_bytes if max_bytes is not None else _default_max_bytes()
    if size > limit:
        raise RequestTooLargeError(
            f"the {what} would hold {size / 2**30:,.1f} GiB (up to {n_time} dates x {n_vars} variables x {ny} x {nx} px "
            f"float32 at resolution={resolution:g}), over the limit of {limit / 2**30:.1f} GiB; narrow bbox=, "
            "coarsen resolution=, ask fewer bands= or dates, or pass max_bytes= to raise the limit (the cube stays "
            "lazy: compute it piecewise, e.g. with .to_zarr())"
        )
    ct, cy, cx = _chunks(chunks, n_time, ny * nx * 4)
    n_chunks = math.ceil(n_time / ct) * n_vars * math.ceil(ny / cy) * math.ceil(nx / cx)
    if n_chunks > MAX_CHUNKS:
        raise RequestTooLargeError(
            f"chunks={chunks!r} would split the {what} ({n_time} dates x {n_vars} variables x {ny} x {nx} px) into "
            f"{n_chunks:,} chunks, over {MAX_CHUNKS:,}: the task graph alone would fill memory; ask larger chunks "
            "(e.g. chunks=1024, or chunks='auto')"
        )
