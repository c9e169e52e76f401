"""Lazy per-date reductions over space (histograms and the like), summed across spatial chunks."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import dask.array as da
import numpy as np
import xarray as xr

__all__ = ["per_date_sum"]


def _as_dask(a, chunks=None):
    if isinstance(a, da.Array):
        return a if chunks is None else a.rechunk(chunks)
    return da.from_array(np.asarray(a), chunks=chunks if chunks is not None else -1)


def per_date_sum(
    func: Callable[..., np.ndarray],
    dated: Sequence[xr.DataArray | da.Array],
    *,
    static: Sequence[xr.DataArray | da.Array] = (),
    scalars: Sequence = (),
    shape: tuple[int, ...],
    dtype=np.int64,
    **kwargs,
) -> da.Array:
    """Sum over spatial chunks of ``func(block_t_y_x..., block_y_x..., scalar..., **kwargs)``.

    ``func`` gets one (t, y, x) block of each ``dated`` array, the matching (y, x) block of each
    ``static`` array and the (0-d) ``scalars``, and returns an array of shape ``(t, *shape)``.
    The result is a lazy (time, *shape) Dask array: one task per block plus a tree sum.
    """
    arrays = [d.transpose("time", "y", "x").data if isinstance(d, xr.DataArray) else d for d in dated]
    arrays = [_as_dask(a, chunks=(1, -1, -1) if not isinstance(a, da.Array) else None) for a in arrays]
    first = arrays[0]
    arrays = [a.rechunk(first.chunks) for a in arrays]
    statics = [_as_dask(s.transpose("y", "x").data if isinstance(s, xr.DataArray) else s, chunks=first.chunks[1:])
               for s in static]
    extra = {"abcdefghijklmnopqrsuvw"[i]: n for i, n in enumerate(shape)}  # one letter per new axis
    args = []
    for a in arrays:
        args += [a, "tyx"]
    for s in statics:
        args += [s, "yx"]
    for v in scalars:
        args += [_as_dask(v), ""]

    def block(*blocks, **kw):
        out = func(*blocks, **kw)
        return out.reshape(out.shape[0], 1, 1, *out.shape[1:])

    out_index = "tyx" + "".join(extra)
    summed = da.blockwise(
        block, out_index, *args, dtype=dtype, new_axes=extra, adjust_chunks={"y": 1, "x": 1},
        concatenate=False, **kwargs,
    ).sum(axis=(1, 2))
    return summed.rechunk({i + 1: -1 for i in range(len(shape))})
