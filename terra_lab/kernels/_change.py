"""numba kernels of change and smoothing over time: Whittaker smoother, BFAST Monitor, clear cuts.

Arrays in, arrays out; no xarray.  Values are float32 with NaN for missing observations
(clouds, shadows, no data); times are days (float64).  The methods and their references are
documented in :mod:`terra_lab.products.change`.

* :func:`whittaker_pixel` - Whittaker-Eilers smoothing with weights (0 for gaps) and divided
  differences for uneven dates (Eilers 2003), by a banded Cholesky solve; optional lambda
  chosen per pixel by the V-curve (Frasso & Eilers 2015).
* :func:`bfast_monitor_pixel` - BFAST Monitor (Verbesselt et al. 2012): harmonic season-trend
  model fitted on the history, OLS-MOSUM of the residuals in the monitoring period, first
  crossing of the boundary.
* :func:`clearcut_pixel` - sudden, confirmed drop of a vegetation index below its harmonic
  seasonal model (fordead's training and three-date confirmation, Dutrieux et al. 2021).
"""

from __future__ import annotations

import numpy as np

from ._dieback import solve_normal_equations
from ._jit import gufunc, jit

__all__ = [
    "BREAK",
    "CLEARCUT",
    "NO_BREAK",
    "STABLE",
    "TOO_FEW_DATES",
    "bfast_monitor_pixel",
    "clearcut_pixel",
    "divided_differences",
    "fit_masked",
    "whittaker_pixel",
    "whittaker_solve",
]

#: States of :func:`bfast_monitor_pixel` and :func:`clearcut_pixel`: no change detected; a
#: (break, clear cut) detected; too few valid dates in the history / training or monitoring period.
NO_BREAK, BREAK, TOO_FEW_DATES = 0, 1, 2
STABLE, CLEARCUT = NO_BREAK, BREAK


@jit()
def divided_differences(x, order, out):  # pragma: no cover - numba
    """Rows of Eilers' (2003) ``ddmat(x, order)``: ``out[r, j]`` is the coefficient of value
    ``r + j`` in divided difference ``r`` (``out`` is (n - order, order + 1)).

    ``D_0 = I``; ``D_k = diag(1 / (x[k:] - x[:-k])) diff(D_{k-1})``.
    """
    n = x.shape[0]
    prev = np.zeros((n, order + 1), np.float64)
    for r in range(n):
        prev[r, 0] = 1.0
    for k in range(1, order + 1):
        cur = np.zeros((n, order + 1), np.float64)
        for r in range(n - k):
            dx = x[r + k] - x[r]
            for j in range(k + 1):
                hi = prev[r + 1, j - 1] if j >= 1 else 0.0
                lo = prev[r, j] if j < k else 0.0
                cur[r, j] = (hi - lo) / dx
        prev = cur
    for r in range(n - order):
        for j in range(order + 1):
            out[r, j] = prev[r, j]


@jit()
def whittaker_solve(y, w, dd, lmbda, band, z):  # pragma: no cover - numba
    """Solve ``(W + lmbda D'D) z = W y`` (banded Cholesky, half bandwidth ``order``).

    ``dd``: :func:`divided_differences` rows; ``band``: (n, order + 1) work array.  ``y`` must be
    finite where ``w > 0``.  Returns False (z NaN) if the system is not positive definite (fewer
    valid values than the order).
    """
    n = y.shape[0]
    d = dd.shape[1] - 1
    band[:, :] = 0.0
    for i in range(n):
        band[i, 0] = w[i]
    for r in range(dd.shape[0]):  # band[i, k] = A[i, i + k]
        for a in range(d + 1):
            for b in range(a, d + 1):
                band[r + a, b - a] += lmbda * dd[r, a] * dd[r, b]
    # in place: band[i, m] becomes L[i + m, i] (m > 0) and L[i, i] (m = 0)
    for j in range(n):
        s = band[j, 0]
        for m in range(1, d + 1):
            if j - m >= 0:
                s -= band[j - m, m] * band[j - m, m]
        if not s > 0.0:
            z[:] = np.nan
            return False
        ljj = np.sqrt(s)
        band[j, 0] = ljj
        for m in range(1, d + 1):
            i = j + m
            if i >= n:
                break
            s = band[j, m]  # A[j, i]
            for q in range(1, d + 1):  # sum over k < j of L[i, k] L[j, k]
                kk = j - q
                if kk < 0 or i - kk > d:
                    continue
                s -= band[kk, i - kk] * band[kk, q]
            band[j, m] = s / ljj
    for i in range(n):  # L u = W y
        s = w[i] * y[i] if w[i] > 0 else 0.0
        for m in range(1, d + 1):
            if i - m >= 0:
                s -= band[i - m, m] * z[i - m]
        z[i] = s / band[i, 0]
    for i in range(n - 1, -1, -1):  # L' z = u
        s = z[i]
        for m in range(1, d + 1):
            if i + m < n:
                s -= band[i, m] * z[i + m]
        z[i] = s / band[i, 0]
    return True


@jit()
def _vcurve_terms(y, w, dd, z):  # pragma: no cover - numba
    """log of the weighted residual sum of squares and log of the penalty ``|D z|^2``."""
    fit = 0.0
    for i in range(y.shape[0]):
        if w[i] > 0:
            fit += w[i] * (y[i] - z[i]) ** 2
    pen = 0.0
    for r in range(dd.shape[0]):
        s = 0.0
        for j in range(dd.shape[1]):
            s += dd[r, j] * z[r + j]
        pen += s * s
    return np.log(fit + 1e-300), np.log(pen + 1e-300)


@gufunc(["void(float32[:], float64[:], float64[:, :], float64[:], float32[:], float32[:])",
         "void(float64[:], float64[:], float64[:, :], float64[:], float64[:], float32[:])"],
        "(t),(t),(r,o),(l)->(t),()")
def whittaker_pixel(values, weights, dd, lambdas, out, lmbda_out):  # pragma: no cover - numba
    """Whittaker-Eilers smoothing of one pixel's series at its own (uneven) dates.

    ``weights``: per-date weights (multiplied by 0 where ``values`` is NaN, so gaps are
    interpolated); ``dd``: :func:`divided_differences` of the dates; ``lambdas``: one value (the
    smoothing parameter) or an increasing grid, over which the V-curve picks the lambda whose
    (log fit, log penalty) point moves least towards the next one (Frasso & Eilers 2015).
    Fewer valid dates than ``order + 1``: NaN.
    """
    n = values.shape[0]
    order = dd.shape[1] - 1
    y = np.empty(n, np.float64)
    w = np.empty(n, np.float64)
    nv = 0
    for i in range(n):
        if np.isnan(values[i]) or not weights[i] > 0:
            y[i] = 0.0
            w[i] = 0.0
        else:
            y[i] = values[i]
            w[i] = weights[i]
            nv += 1
    lmbda_out[0] = np.nan
    if nv < order + 1:
        out[:] = np.nan
        return
    band = np.empty((n, order + 1), np.float64)
    z = np.empty(n, np.float64)
    best = lambdas[0]
    nl = lambdas.shape[0]
    if nl > 1:
        prev_u, prev_v = 0.0, 0.0
        best_dist = np.inf
        for k in range(nl):
            if not whittaker_solve(y, w, dd, lambdas[k], band, z):
                out[:] = np.nan
                return
            u, v = _vcurve_terms(y, w, dd, z)
            if k > 0:
                dist = np.sqrt((u - prev_u) ** 2 + (v - prev_v) ** 2)
                if dist < best_dist:
                    best_dist = dist
                    best = np.sqrt(lambdas[k - 1] * lambdas[k])
            prev_u, prev_v = u, v
    if not whittaker_solve(y, w, dd, best, band, z):
        out[:] = np.nan
        return
    for i in range(n):
        out[i] = z[i]
    lmbda_out[0] = best


@jit()
def fit_masked(design, values, valid, stop, coeff):  # pragma: no cover - numba
    """Least-squares coefficients (normal equations) of ``values[t] ~ design[t, :]`` over the
    valid dates ``t < stop``; returns how many there were (coefficients NaN if singular)."""
    p = design.shape[1]
    ata = np.zeros((p, p), np.float64)
    aty = np.zeros(p, np.float64)
    n = 0
    for t in range(stop):
        if valid[t]:
            y = np.float64(values[t])
            for i in range(p):
                aty[i] += design[t, i] * y
                for j in range(i, p):
                    ata[i, j] += design[t, i] * design[t, j]
            n += 1
    for i in range(p):
        for j in range(i):
            ata[i, j] = ata[j, i]
    solve_normal_equations(ata, aty, coeff)
    return n


@jit(inline="always")
def _predict(design, coeff, t):  # pragma: no cover - numba
    s = 0.0
    for k in range(coeff.shape[0]):
        s += coeff[k] * design[t, k]
    return s


@gufunc(["void(float32[:], float64[:, :], int64, float64[:], float64, int64,"
         " uint8[:], int32[:], float32[:], float32[:], int32[:], int32[:], float32[:])"],
        "(t),(t,p),(),(m),(),()->(),(),(),(),(),(),(p)")
def bfast_monitor_pixel(values, design, n_hist, bounds, hfrac, min_obs,
                        state, i_break, magnitude, mosum_mean, n_history, n_monitor, coeff):  # pragma: no cover
    """BFAST Monitor on one pixel (Verbesselt et al. 2012, as ``bfast.monitor.python``).

    ``design``: (t, p) season-trend regressors (1, trend, sin/cos of k harmonics); dates
    ``< n_hist`` are the stable history, the others are monitored; ``bounds[j]`` is the
    boundary at monitoring date ``j`` (``lambda sqrt(log+ (t_j / t_n))``).  With ``ns`` valid
    history dates and ``h = floor(ns hfrac)``, the MOSUM at valid monitoring date ``j`` is the
    sum of the ``h`` residuals ending there over ``sigma sqrt(ns)``, ``sigma`` the residual
    standard deviation of the history (``ns - p`` degrees of freedom).  Outputs: state
    (``NO_BREAK``, ``BREAK``, ``TOO_FEW_DATES`` when ``ns`` or the valid monitoring dates are
    ``<= min_obs``), index of the first monitoring date (counted from ``n_hist``) where
    ``|MOSUM| > bound`` (-1 if none), magnitude (median residual over the valid monitoring
    dates), mean MOSUM, valid history and monitoring dates, the history model's coefficients.
    """
    nt = values.shape[0]
    p = design.shape[1]
    valid = np.empty(nt, np.bool_)
    ns = 0
    nm = 0
    for t in range(nt):
        valid[t] = not np.isnan(values[t])
        if valid[t]:
            if t < n_hist:
                ns += 1
            else:
                nm += 1
    n_history[0] = ns
    n_monitor[0] = nm
    i_break[0] = -1
    magnitude[0] = np.nan
    mosum_mean[0] = np.nan
    coeff[:] = np.nan
    if ns <= min_obs or nm <= min_obs or ns <= p:
        state[0] = TOO_FEW_DATES
        return
    sol = np.empty(p, np.float64)
    fit_masked(design, values, valid, n_hist, sol)
    if np.isnan(sol[0]):
        state[0] = TOO_FEW_DATES
        return
    for k in range(p):
        coeff[k] = sol[k]
    resid = np.empty(ns + nm, np.float64)
    where = np.empty(ns + nm, np.int64)
    q = 0
    ss = 0.0
    for t in range(nt):
        if valid[t]:
            r = np.float64(values[t]) - _predict(design, sol, t)
            resid[q] = r
            where[q] = t
            if t < n_hist:
                ss += r * r
            q += 1
    sigma = np.sqrt(ss / (ns - p))
    h = max(1, int(np.floor(ns * hfrac)))
    scale = 1.0 / (sigma * np.sqrt(ns))
    state[0] = NO_BREAK
    total = 0.0
    win = 0.0
    for q in range(ns - h, ns):  # the window ending at the last history date
        win += resid[q]
    for j in range(nm):
        q = ns + j
        win += resid[q] - resid[q - h]
        mos = win * scale
        total += mos
        if i_break[0] < 0 and abs(mos) > bounds[where[q] - n_hist]:
            i_break[0] = where[q] - n_hist
            state[0] = BREAK
    mosum_mean[0] = total / nm
    magnitude[0] = np.median(resid[ns:])


@gufunc(["void(float32[:], float64[:, :], int64, int64, float64, int64,"
         " uint8[:], int32[:], float32[:], int32[:], float32[:])"],
        "(t),(t,c),(),(),(),()->(),(),(),(),(c)")
def clearcut_pixel(values, design, n_train, min_train, threshold, n_confirm,
                   state, i_cut, drop, n_training, coeff):  # pragma: no cover - numba
    """Clear cut on one pixel: a sudden drop of a vegetation index below its seasonal model.

    The harmonic model (fordead's ``design``, :func:`terra_lab.kernels._dieback.harmonic_design`)
    is fitted on the valid dates ``< n_train`` (at least ``min_train`` of them, else
    ``TOO_FEW_DATES``).  On the later valid dates, a drop is ``model - value > threshold``;
    ``n_confirm`` successive drops (cloudy dates skipped) make a clear cut dated by the first of
    them (``i_cut``, -1 if none; the first confirmed run counts, a clear cut is not undone by
    regrowth).  ``drop``: median of ``model - value`` over the confirming dates.
    """
    nt = values.shape[0]
    c = design.shape[1]
    valid = np.empty(nt, np.bool_)
    for t in range(nt):
        valid[t] = not np.isnan(values[t])
    i_cut[0] = -1
    drop[0] = np.nan
    coeff[:] = np.nan
    sol = np.empty(c, np.float64)
    n = fit_masked(design, values, valid, n_train, sol)
    n_training[0] = n
    if n < min_train or n < c or np.isnan(sol[0]):
        state[0] = TOO_FEW_DATES
        return
    for k in range(c):
        coeff[k] = sol[k]
    state[0] = STABLE
    run = np.empty(n_confirm, np.float64)
    count = 0
    first = -1
    for t in range(n_train, nt):
        if not valid[t]:
            continue
        d = _predict(design, sol, t) - np.float64(values[t])
        if d > threshold:
            if count == 0:
                first = t
            run[count] = d
            count += 1
            if count == n_confirm:
                state[0] = CLEARCUT
                i_cut[0] = first
                drop[0] = np.median(run)
                return
        else:
            count = 0

