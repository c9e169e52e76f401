"""numba kernels of DEM co-registration: bilinear resampling of a DEM at shifted positions.

Arrays in, arrays out; no xarray.  Elevations are float32 or float64 with NaN for no data.
A sample is NaN when any of the (up to four) pixels with a non-zero bilinear weight is NaN
or lies outside the array; pixels with a zero weight (integer positions) are not read, so an
integer shift moves the no-data mask without growing it.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit

__all__ = ["bilinear_points", "shift_block"]


@jit(inline="always")
def _bilinear(z, r, c):  # pragma: no cover - numba
    """``z`` at the fractional (row, column) ``(r, c)`` (pixel centres at integers), NaN outside."""
    ny, nx = z.shape
    if not (math.isfinite(r) and math.isfinite(c)):
        return np.nan
    r0 = math.floor(r)
    c0 = math.floor(c)
    fr = r - r0
    fc = c - c0
    acc = 0.0
    for a in range(2):
        wr = (1.0 - fr) if a == 0 else fr
        if wr == 0.0:
            continue
        for b in range(2):
            wc = (1.0 - fc) if b == 0 else fc
            if wc == 0.0:
                continue
            i = r0 + a
            j = c0 + b
            if i < 0 or j < 0 or i >= ny or j >= nx:
                return np.nan
            v = z[i, j]
            if np.isnan(v):
                return np.nan
            acc += wr * wc * v
    return acc


@jit()
def bilinear_points(z, rows, cols, out):  # pragma: no cover - numba
    """``out[k] = z`` bilinearly interpolated at ``(rows[k], cols[k])`` (fractional pixel indices)."""
    for k in range(rows.shape[0]):
        out[k] = _bilinear(z, rows[k], cols[k])


@jit()
def shift_block(z, drow, dcol, depth, out):  # pragma: no cover - numba
    """Resample a block padded by ``depth`` pixels: ``out[i, j] = z[depth + i + drow, depth + j + dcol]``.

    ``out`` is (h, w) for ``z`` of (h + 2 depth, w + 2 depth); ``|drow|, |dcol| < depth``.
    """
    h, w = out.shape
    for i in range(h):
        for j in range(w):
            out[i, j] = _bilinear(z, depth + i + drow, depth + j + dcol)
