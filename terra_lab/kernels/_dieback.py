"""numba kernels of the fordead forest-dieback method: harmonic training, anomalies, stress, bare soil.

Arrays in, arrays out; no xarray.  One call handles one pixel's whole time series in a
single pass (numba ``guvectorize``; Dask supplies the parallelism over pixels).

References
----------
.. [1] Dutrieux, R., Feret, J.-B., Ose, K., de Boissieu, F. (2021). Package fordead.
   INRAE / UMR TETIS. https://gitlab.com/fordead/fordead_package (docs at
   https://fordead.gitlab.io/fordead_package): steps ``compute_masked_vegetationindex``
   (bare-soil detection), ``train_model`` (harmonic model, ``nb_min_date``,
   ``min/max_last_date_training``) and ``dieback_detection`` (anomalies, 3-date
   confirmation, stress periods and index).
.. [2] Dutrieux, R., Feret, J.-B., Ose, K. (2021). Mise au point d'une methode de detection
   precoce des attaques de scolytes sur epiceas a partir d'images Sentinel-2 (fordead).
"""

from __future__ import annotations

import numpy as np

from ._jit import gufunc, jit

__all__ = [
    "BARE_SOIL",
    "DIEBACK",
    "HEALTHY",
    "NOT_FOREST",
    "N_COEFFS",
    "PERIOD_DAYS",
    "SOIL_ANOMALY",
    "SOIL_INVALID",
    "SOIL_VALID",
    "TOO_FEW_DATES",
    "TOO_MANY_STRESS_PERIODS",
    "dieback_pixel",
    "harmonic_design",
    "solve_normal_equations",
]

#: Pixel states written by :func:`dieback_pixel` (NOT_FOREST is set by the product wrapper).
HEALTHY, DIEBACK, BARE_SOIL, TOO_FEW_DATES, NOT_FOREST, TOO_MANY_STRESS_PERIODS = 0, 1, 2, 3, 4, 5
#: Per-date bare-soil codes fed to the kernel: a clear date without / with a soil anomaly,
#: and a date that does not count for the soil detection (cloud, shadow, outside the swath).
SOIL_VALID, SOIL_ANOMALY, SOIL_INVALID = 0, 1, 2
#: Coefficients of the model a1 + b1 sin(wt) + b2 cos(wt) + b3 sin(2wt) + b4 cos(2wt).
N_COEFFS = 5
#: Period of the harmonic model (days); fordead counts t in days since 2015-01-01.
PERIOD_DAYS = 365.25


def harmonic_design(days: np.ndarray) -> np.ndarray:
    """Design matrix (t, 5) of the fordead model: 1, sin(2 pi t / T), cos, sin(4 pi t / T), cos; T = 365.25 d."""
    w = 2 * np.pi * np.asarray(days, dtype=np.float64) / PERIOD_DAYS
    return np.stack([np.ones_like(w), np.sin(w), np.cos(w), np.sin(2 * w), np.cos(2 * w)], axis=-1)


@jit()
def solve_normal_equations(ata, aty, out):  # pragma: no cover - numba
    """Solve the 5 x 5 system ``ata @ x = aty`` (Gaussian elimination, partial pivoting) into ``out``.

    ``ata`` and ``aty`` are overwritten.  A singular (or near-singular: pivot below 1e-12
    times the largest diagonal term) system gives NaN.
    """
    n = aty.shape[0]
    scale = 0.0
    for i in range(n):
        scale = max(scale, abs(ata[i, i]))
    tol = 1e-12 * scale if scale > 0 else 1e-300
    for k in range(n):
        p = k
        for i in range(k + 1, n):
            if abs(ata[i, k]) > abs(ata[p, k]):
                p = i
        if abs(ata[p, k]) <= tol:
            for i in range(n):
                out[i] = np.nan
            return
        if p != k:
            for j in range(n):
                ata[k, j], ata[p, j] = ata[p, j], ata[k, j]
            aty[k], aty[p] = aty[p], aty[k]
        for i in range(k + 1, n):
            f = ata[i, k] / ata[k, k]
            for j in range(k, n):
                ata[i, j] -= f * ata[k, j]
            aty[i] -= f * aty[k]
    for i in range(n - 1, -1, -1):
        s = aty[i]
        for j in range(i + 1, n):
            s -= ata[i, j] * out[j]
        out[i] = s / ata[i, i]


@gufunc(
    ["void(float32[:], uint8[:], float64[:, :], int64, int64, int64, float64, float64, float64, int64,"
     " float32[:], int16[:], int32[:], uint8[:], int32[:], int32[:], float32[:], int16[:], int16[:])"],
    "(t),(t),(t,c),(),(),(),(),(),(),()->(c),(),(),(),(),(),(),(),()")
def dieback_pixel(vi, soil, design, i_min, n_max, nb_min_date, threshold, sign, weighted, max_periods,
                  coeff, n_train, i_detect, state, i_dieback, i_soil, stress, n_stress, n_periods):  # pragma: no cover
    """fordead on one pixel: bare soil, harmonic training, anomalies, dieback and stress periods.

    Parameters (per date ``t``, sorted by time)
    ----------
    vi
        Vegetation index, NaN where the date is masked (clouds, shadows, no data...).
    soil
        ``SOIL_VALID`` / ``SOIL_ANOMALY`` / ``SOIL_INVALID`` (see the module constants).
    design
        (t, 5) harmonic terms of the dates, :func:`harmonic_design` of their days since
        2015-01-01 (the same for every pixel, so computed once).
    i_min
        Index of the first date on or after ``min_last_date_training``.
    n_max
        Number of dates on or before ``max_last_date_training``.
    nb_min_date, threshold, sign, weighted, max_periods
        Minimum number of valid training dates; anomaly threshold; +1 when the index rises
        with dieback (CRSWIR), -1 when it falls (NDVI); 1 for the weighted-mean stress index,
        0 for the mean; maximum number of completed stress periods.

    Outputs
    -------
    coeff (5), n_train (valid training dates; without a model, the valid dates available),
    i_detect (first date index used for detection, -1 without model),
    state, i_dieback (first date of the anomaly run that confirmed the current dieback, -1),
    i_soil (first date of the soil-anomaly run that confirmed bare soil, -1), stress (stress
    index of the current dieback period, NaN when not in dieback), n_stress (valid dates in
    that period), n_periods (completed stress periods: dieback then return to normal).

    Notes
    -----
    Bare soil (fordead step 1): a soil anomaly on three successive valid dates (invalid dates
    are skipped) makes the pixel bare soil from then on; soil-anomaly dates and every date
    after the confirmation are masked for the vegetation index.
    Training (step 2): detection starts at the first date ``d >= i_min`` such that more than
    ``nb_min_date`` valid dates lie in ``[0, d]``; all valid dates before ``d`` are fitted by
    least squares (5 x 5 normal equations).  No such ``d`` before ``n_max``: too few dates.
    Detection (step 3): on valid dates from ``d`` on, an anomaly is ``sign (vi - model) >
    threshold``; three successive anomalies (valid dates only) switch a healthy pixel to
    dieback, dated by the first of the three; three successive normal dates switch it back
    and close a stress period.  The stress index is the (weighted) mean of ``sign (vi -
    model)`` over the valid dates since the first anomaly of the current period (weights 1,
    2, 3... in date order for the weighted mean).
    """
    nt = vi.shape[0]
    for k in range(N_COEFFS):
        coeff[k] = np.nan
    n_train[0] = 0
    i_detect[0] = -1
    i_dieback[0] = -1
    i_soil[0] = -1
    stress[0] = np.nan
    n_stress[0] = 0
    n_periods[0] = 0

    # pass 1: bare soil and the per-date validity of the index
    valid = np.zeros(nt, np.bool_)
    soil_state = False
    soil_count = 0
    soil_first = -1
    for t in range(nt):
        s = soil[t]
        if not soil_state and s != SOIL_INVALID:
            if s == SOIL_ANOMALY:
                soil_count += 1
                if soil_count == 1:
                    soil_first = t
                if soil_count == 3:
                    soil_state = True
                    i_soil[0] = soil_first
            else:
                soil_count = 0
        valid[t] = not soil_state and s != SOIL_ANOMALY and not np.isnan(vi[t])

    # training period: first detection date d >= i_min with more than nb_min_date valid dates in [0, d]
    d = -1
    cum = 0
    for t in range(min(nt, n_max)):
        if valid[t]:
            cum += 1
        if t >= i_min and cum > nb_min_date:
            d = t
            break
    if d < 0:
        n_train[0] = cum  # the valid dates available up to max_last_date_training
        state[0] = BARE_SOIL if soil_state else TOO_FEW_DATES
        return
    ata = np.zeros((N_COEFFS, N_COEFFS), np.float64)
    aty = np.zeros(N_COEFFS, np.float64)
    a = np.empty(N_COEFFS, np.float64)
    n = 0
    for t in range(d):
        if valid[t]:
            for i in range(N_COEFFS):
                a[i] = design[t, i]
            y = np.float64(vi[t])
            for i in range(N_COEFFS):
                aty[i] += a[i] * y
                for j in range(i, N_COEFFS):
                    ata[i, j] += a[i] * a[j]
            n += 1
    for i in range(N_COEFFS):
        for j in range(i):
            ata[i, j] = ata[j, i]
    sol = np.empty(N_COEFFS, np.float64)
    solve_normal_equations(ata, aty, sol)
    n_train[0] = n
    if np.isnan(sol[0]):
        state[0] = BARE_SOIL if soil_state else TOO_FEW_DATES
        return
    for k in range(N_COEFFS):
        coeff[k] = sol[k]
    i_detect[0] = d

    # detection
    dieback = False
    count = 0
    first_unconfirmed = -1
    first_confirmed = -1
    periods = 0
    cum_diff = 0.0
    n_dates = 0
    for t in range(d, nt):
        if not valid[t]:
            continue
        pred = 0.0
        for k in range(N_COEFFS):
            pred += sol[k] * design[t, k]
        diff = sign * (np.float64(vi[t]) - pred)
        anomaly = diff > threshold
        if anomaly != dieback:
            count += 1
            if count == 1:
                first_unconfirmed = t
        else:
            count = 0
        if count == 3:
            dieback = not dieback
            count = 0
            if dieback:
                first_confirmed = first_unconfirmed
            else:
                periods += 1
                cum_diff = 0.0
                n_dates = 0
        if not dieback and count == 0:  # healthy, no pending anomaly: no stress period open
            cum_diff = 0.0
            n_dates = 0
        else:
            n_dates += 1
            cum_diff += diff * (n_dates if weighted else 1.0)
    n_periods[0] = periods
    if dieback:
        i_dieback[0] = first_confirmed
        n_stress[0] = n_dates
        denom = n_dates * (n_dates + 1) / 2.0 if weighted else float(n_dates)
        stress[0] = cum_diff / denom if n_dates > 0 else np.nan
    if soil_state:
        state[0] = BARE_SOIL
    elif periods > max_periods:
        state[0] = TOO_MANY_STRESS_PERIODS
    elif dieback:
        state[0] = DIEBACK
    else:
        state[0] = HEALTHY
