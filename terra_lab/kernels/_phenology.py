"""numba kernels of land-surface phenology: gap filling, Savitzky-Golay smoothing, season metrics, DHI.

Arrays in, arrays out; no xarray.  Index values are float32 with NaN for missing
observations (clouds, shadows, snow, no data); times are days (float64) from a reference day.

The method and its references are documented in :mod:`terra_lab.products.phenology`.
"""

from __future__ import annotations

import numpy as np

from ._gapfill import fill_linear
from ._jit import gufunc, jit

__all__ = [
    "FLAG_FEW_OBSERVATIONS",
    "FLAG_NO_CROSSING",
    "FLAG_NO_SEASON",
    "FLAG_OK",
    "METRICS",
    "dhi_pixel",
    "savgol_hat",
    "savgol_smooth",
    "season_pixel",
    "smooth_pixel",
]

#: season metrics written by :func:`season_pixel`, in this order
METRICS = ("sos", "pos", "eos", "los", "amplitude", "peak", "base", "n_obs", "flag")
#: quality flags of a season: found; fewer valid observations than asked in the year;
#: amplitude below the minimum (no season); a 50 % crossing not found inside the year
FLAG_OK, FLAG_FEW_OBSERVATIONS, FLAG_NO_SEASON, FLAG_NO_CROSSING = 0, 1, 2, 3


def savgol_hat(window: int, polyorder: int) -> np.ndarray:
    """(window, window) least-squares "hat" matrix of a polynomial fit over ``window`` points.

    Row ``i`` holds the weights giving the fitted polynomial at position ``i`` of the window
    from the window's values: the middle row is the Savitzky-Golay smoothing filter [3]_, the
    first and last rows give the fit at the series' ends (scipy's ``mode="interp"``).
    """
    half = window // 2
    x = np.arange(-half, half + 1, dtype=np.float64)
    v = np.vander(x, polyorder + 1, increasing=True)
    return v @ np.linalg.pinv(v)


@jit()
def savgol_smooth(x, hat, out):  # pragma: no cover - numba
    """Savitzky-Golay smoothing of the regular series ``x`` with the window's ``hat`` matrix
    (:func:`savgol_hat`); the first and last half-windows take the polynomial fitted to the
    first and last windows (as ``scipy.signal.savgol_filter(..., mode="interp")``).  A series
    shorter than the window is copied unsmoothed."""
    n = x.shape[0]
    w = hat.shape[0]
    half = w // 2
    if n < w:
        out[:] = x
        return
    for i in range(n):
        if i < half:
            start, row = 0, i
        elif i >= n - half:
            start, row = n - w, i - (n - w)
        else:
            start, row = i - half, half
        acc = 0.0
        for k in range(w):
            acc += hat[row, k] * x[start + k]
        out[i] = acc


@gufunc(["void(float32[:], float64[:], float64[:], float64[:, :], float32[:])"], "(t),(t),(g),(w,w)->(g)")
def smooth_pixel(values, days, grid, hat, out):  # pragma: no cover - numba
    """Gap-filled (linear) and smoothed series of one pixel on the regular ``grid`` of days."""
    filled = np.empty(grid.shape[0], np.float64)
    if fill_linear(days, values, grid, filled) == 0:
        out[:] = np.nan
        return
    smooth = np.empty(grid.shape[0], np.float64)
    savgol_smooth(filled, hat, smooth)
    for i in range(grid.shape[0]):
        out[i] = smooth[i]


@gufunc(["void(float32[:], float64[:], float64[:], float64[:], float64[:, :], float64[:], float64[:], float32[:, :])"],
             "(t),(t),(g),(n),(w,w),(p),(m)->(n,m)")
def season_pixel(values, days, grid, year_start, hat, params, metrics_template, out):  # pragma: no cover - numba
    """Season metrics of one pixel for each year starting on day ``year_start[k]``.

    ``grid``: the regular (daily) days on which the series is gap-filled and smoothed; a year
    spans ``[year_start[k], year_start[k + 1])`` (the last one 365 days).  ``params``:
    (fraction, min_obs, min_amplitude); ``metrics_template``: any array of len(METRICS).
    Output row k (see :data:`METRICS`): SOS, POS, EOS
    as day of year (1 = 1 January, fractional), LOS (days), amplitude, peak value, base level,
    valid observations in the year and the flag.

    In the year, the peak is the maximum of the smoothed curve; the left (right) minimum is
    its minimum before (after) the peak; the amplitude is the peak minus the mean of both
    minima (TIMESAT [2]_).  SOS is where the curve, going back from the peak, falls below
    ``left min + fraction (peak - left min)``; EOS where it falls, after the peak, below
    ``right min + fraction (peak - right min)``; both interpolated linearly between days.
    """
    fraction, min_obs, min_amp = params[0], params[1], params[2]
    ng, ny = grid.shape[0], year_start.shape[0]
    out[:, :] = np.nan
    filled = np.empty(ng, np.float64)
    smooth = np.empty(ng, np.float64)
    n_all = fill_linear(days, values, grid, filled)
    if n_all > 0:
        savgol_smooth(filled, hat, smooth)
    step = grid[1] - grid[0] if ng > 1 else 1.0
    for k in range(ny):
        y0 = year_start[k]
        y1 = year_start[k + 1] if k + 1 < ny else y0 + 365.0
        n = 0
        for i in range(days.shape[0]):
            if y0 <= days[i] < y1 and not np.isnan(values[i]):
                n += 1
        out[k, 7] = n
        if n < min_obs or n == 0:
            out[k, 8] = FLAG_FEW_OBSERVATIONS
            continue
        i0, i1 = -1, -1
        for g in range(ng):
            if y0 <= grid[g] < y1:
                if i0 < 0:
                    i0 = g
                i1 = g
        if i0 < 0 or i1 - i0 < 2:
            out[k, 8] = FLAG_FEW_OBSERVATIONS
            continue
        ip = i0
        for g in range(i0, i1 + 1):
            if smooth[g] > smooth[ip]:
                ip = g
        il = i0
        for g in range(i0, ip + 1):
            if smooth[g] < smooth[il]:
                il = g
        ir = ip
        for g in range(ip, i1 + 1):
            if smooth[g] < smooth[ir]:
                ir = g
        peak, lmin, rmin = smooth[ip], smooth[il], smooth[ir]
        base = 0.5 * (lmin + rmin)
        amp = peak - base
        out[k, 1] = grid[ip] - y0 + 1
        out[k, 4] = amp
        out[k, 5] = peak
        out[k, 6] = base
        if not amp >= min_amp:
            out[k, 8] = FLAG_NO_SEASON
            continue
        thr_l = lmin + fraction * (peak - lmin)
        thr_r = rmin + fraction * (peak - rmin)
        sos, eos = np.nan, np.nan
        for g in range(ip, il, -1):
            if smooth[g - 1] < thr_l:
                d = smooth[g] - smooth[g - 1]
                f = (thr_l - smooth[g - 1]) / d if d != 0 else 0.0
                sos = grid[g - 1] + f * step - y0 + 1
                break
        for g in range(ip + 1, ir + 1):
            if smooth[g] < thr_r:
                d = smooth[g - 1] - smooth[g]
                f = (smooth[g - 1] - thr_r) / d if d != 0 else 0.0
                eos = grid[g - 1] + f * step - y0 + 1
                break
        out[k, 0] = sos
        out[k, 2] = eos
        out[k, 3] = eos - sos
        out[k, 8] = FLAG_OK if not (np.isnan(sos) or np.isnan(eos)) else FLAG_NO_CROSSING


@gufunc(["void(float32[:], int64[:], float64[:], float64[:], float64[:], float32[:])"],
             "(t),(t),(p),(k),(c)->(c)")
def dhi_pixel(values, period, n_periods_template, params, components_template, out):  # pragma: no cover - numba
    """Dynamic Habitat Index components of one pixel over one year [4]_ [5]_.

    ``period[i]`` is the composite period (0 .. p-1, e.g. the month) of observation ``i``
    (-1: outside the year).  Each period's composite is the median of its valid values;
    periods without one are filled linearly from the neighbouring periods (constant at the
    ends).  With fewer than ``params[0]`` valid periods the result is NaN.  ``out`` (sized by
    ``components_template``, 3):
    cumulative (sum of the composites), minimum, variation (population standard deviation
    over mean).
    """
    p = n_periods_template.shape[0]
    comp = np.full(p, np.nan)
    buf = np.empty(values.shape[0], np.float64)
    nvalid = 0
    for q in range(p):
        m = 0
        for i in range(values.shape[0]):
            if period[i] == q and not np.isnan(values[i]):
                buf[m] = values[i]
                m += 1
        if m > 0:
            comp[q] = np.median(buf[:m])
            nvalid += 1
    out[:] = np.nan
    if nvalid == 0 or nvalid < params[0]:
        return
    idx = np.arange(p).astype(np.float64)
    filled = np.empty(p, np.float64)
    fill_linear(idx, comp, idx, filled)
    s = filled.sum()
    mean = s / p
    var = 0.0
    for q in range(p):
        var += (filled[q] - mean) ** 2
    out[0] = s
    out[1] = filled.min()
    out[2] = np.sqrt(var / p) / mean if mean != 0 else np.nan
