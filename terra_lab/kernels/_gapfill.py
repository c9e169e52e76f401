"""numba kernel: temporal gap filling by linear interpolation onto a regular date grid (iota2).

iota2 resamples each pixel's masked reflectance series onto dates every ``n`` days by linear
interpolation between the nearest valid acquisitions before and after, and holds the first
(last) valid value before (after) them.  A pixel with no valid date stays NaN.

References
----------
.. [1] Inglada, J., Vincent, A., Arias, M., Tardy, B., Morin, D., Rodes, I. (2017). Operational
   high resolution land cover map production at the country scale using satellite image time
   series. Remote Sensing 9(1), 95. https://doi.org/10.3390/rs9010095
.. [2] OTB ``ImageTimeSeriesGapFilling`` (temporal gap filling used by iota2).
"""

from __future__ import annotations

import numpy as np

from ._jit import gufunc, jit

__all__ = ["fill_linear", "gapfill_linear"]


@jit()
def fill_linear(t, v, grid, out):  # pragma: no cover - numba
    """Linear interpolation in time of the valid (non-NaN) ``v`` at times ``t`` (sorted) onto
    ``grid``; constant beyond the first and last valid observations; all NaN if none is valid.
    Returns the number of valid observations."""
    n = 0
    for i in range(t.shape[0]):
        if not np.isnan(v[i]):
            n += 1
    if n == 0:
        out[:] = np.nan
        return 0
    tv = np.empty(n, np.float64)
    vv = np.empty(n, np.float64)
    k = 0
    for i in range(t.shape[0]):
        if not np.isnan(v[i]):
            tv[k] = t[i]
            vv[k] = v[i]
            k += 1
    j = 0
    for g in range(grid.shape[0]):
        x = grid[g]
        if x <= tv[0]:
            out[g] = vv[0]
            continue
        if x >= tv[n - 1]:
            out[g] = vv[n - 1]
            continue
        while tv[j + 1] < x:
            j += 1
        dt = tv[j + 1] - tv[j]
        out[g] = vv[j] if dt == 0 else vv[j] + (vv[j + 1] - vv[j]) * (x - tv[j]) / dt
    return n


@gufunc(
    ["void(float32[:], float64[:], float64[:], float32[:])", "void(float64[:], float64[:], float64[:], float64[:])"],
    "(t),(t),(g)->(g)")
def gapfill_linear(values, days, grid, out):  # pragma: no cover - numba
    """Linearly interpolate the non-NaN ``values`` (at increasing ``days``) onto ``grid``.

    Before the first (after the last) valid date the first (last) valid value is held.
    All-NaN series give NaN.
    """
    fill_linear(days, values, grid, out)
