"""Cheap looks at a lazy layer before drawing it: its colour range and its clearest date.

Both read a decimated sample (at most ~64 x 64 pixels a date for the date, 256 x 256 for the
range) of the layer's central window, so adding a layer to a map never computes the layer.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["clearest_time", "sample_range"]


def _central(da: xr.DataArray, window: int, points: int) -> xr.DataArray:
    """The central ``window`` x ``window`` pixels of ``da``, one in every ``window // points``."""
    sel = {}
    for dim in ("y", "x"):
        n = da.sizes[dim]
        w = min(n, window)
        start = (n - w) // 2
        sel[dim] = slice(start, start + w, max(1, w // points))
    return da.isel(sel)


def clearest_time(da: xr.DataArray, masked: xr.DataArray | None = None) -> int:
    """Index of the date of ``da`` (dims (time, y, x)) with the most valid (finite, unmasked) pixels.

    Counted on a decimated sample of the central 1024 x 1024 pixels (64 x 64 points a date);
    ties go to the first date.  0 for a 2-D layer.
    """
    if "time" not in da.dims or da.sizes["time"] <= 1:
        return 0
    valid = _central(da, 1024, 64).notnull()
    if masked is not None and masked.sizes == da.sizes:  # the same grid: masked pixels are not valid
        valid = valid & ~_central(masked.transpose(*da.dims), 1024, 64).astype(bool).data
    counts = np.asarray(valid.sum(["y", "x"]).values)
    return int(np.argmax(counts))


def sample_range(da: xr.DataArray, time_index: int = 0) -> tuple[float, float]:
    """2nd-98th percentiles of a decimated sample (at most 256 x 256 pixels of date ``time_index``)."""
    if "time" in da.dims:
        da = da.isel(time=time_index)
    sy = max(1, da.sizes["y"] // 256)
    sx = max(1, da.sizes["x"] // 256)
    v = np.asarray(da.isel(y=slice(None, None, sy), x=slice(None, None, sx)).values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(v, [2, 98])
    return float(lo), float(hi if hi > lo else lo + 1)
