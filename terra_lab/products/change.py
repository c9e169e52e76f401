"""Change and smoothing over the time axis of a cube: Whittaker smoother, BFAST Monitor, clear cuts.

Per-pixel time-series algorithms (``xr.apply_ufunc`` over ``time``, lazily; the whole time
axis in one chunk), on a vegetation index such as
``terra_lab.products.indices.spectral_index(cube, "NDVI")`` with NaN on masked dates.

* :func:`whittaker_smooth` - Whittaker-Eilers smoothing and gap filling at uneven dates [1]_,
  lambda fixed or chosen per pixel by the V-curve [2]_.
* :func:`bfast_monitor` - BFAST Monitor [3]_: first break of the season-trend model of a stable
  history, with its date and magnitude.
* :func:`clearcut` - clear cuts and their dates: a sudden drop of the index below its harmonic
  seasonal model confirmed by successive clear dates (fordead's model and confirmation [5]_).

References
----------
.. [1] Eilers, P. H. C. (2003). A perfect smoother. Analytical Chemistry 75(14), 3631-3636
   (weights for gaps, ``ddmat`` divided differences for uneven sampling).
.. [2] Frasso, G., Eilers, P. H. C. (2015). L- and V-curves for optimal smoothing. Statistical
   Modelling 15(1), 91-111.
.. [3] Verbesselt, J., Zeileis, A., Herold, M. (2012). Near real-time disturbance detection using
   satellite image time series. Remote Sensing of Environment 123, 98-108; the Python port
   ``bfast`` 0.7 (diku-dk, ``bfast.monitor.python.BFASTMonitorPython``), whose day-based
   design and boundary this follows.
.. [4] Leisch, F., Hornik, K., Kuan, C.-M. (2000). Monitoring structural changes with the
   generalized fluctuation test. Econometric Theory 16, 835-854; Zeileis, A., Leisch, F.,
   Kleiber, C., Hornik, K. (2005). Monitoring structural change in dynamic econometric models.
   J. Applied Econometrics 20, 99-121 (the OLS-MOSUM critical values tabulated by R
   ``strucchange``, transcribed in ``bfast/monitor/utils.py``).
.. [5] Dutrieux, R., Feret, J.-B., Ose, K., de Boissieu, F. (2021). Package fordead. INRAE, UMR
   TETIS (harmonic model of the index, three-date confirmation of anomalies, bare soil /
   clear-cut detection); Hansen, M. C. et al. (2013). High-resolution global maps of
   21st-century forest cover change. Science 342, 850-853 (stand-replacing loss).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DateRangeError
from ..kernels import _change as k
from ..kernels._dieback import harmonic_design
from ._common import with_provenance
from .dieback import TIME_ORIGIN, _index_to_date, _on_grid, masked_vegetation_index
from .params import with_overrides
from .phenology import _series

__all__ = ["BFAST_CRITICAL_VALUES", "CHANGE_STATES", "BfastMonitorParams", "ClearcutParams", "WhittakerParams",
           "bfast_critical_value", "bfast_monitor", "clearcut", "whittaker_smooth"]

#: States of :func:`bfast_monitor` and :func:`clearcut`.
CHANGE_STATES = {k.NO_BREAK: "no_change", k.BREAK: "change", k.TOO_FEW_DATES: "too_few_dates"}

#: Critical values of the OLS-MOSUM monitoring test (maximum functional, level 0.95) [4]_, by the
#: monitored ``period`` (2, 4, 6, 8, 10 times the history) and the bandwidth ``h`` (0.25, 0.5, 1):
#: R strucchange's ``monitor.mosum.max`` table as bfast 0.7 ``bfast/monitor/utils.py`` holds it
#: (row 0.95 of ``__critvals[0]``), before bfast's sqrt(2) scaling.
BFAST_CRITICAL_VALUES = {
    2: {0.25: 1.22762665817831, 0.5: 1.68732328328598, 1.0: 2.22408818231127},
    4: {0.25: 1.33623105388957, 0.5: 1.88633090100410, 1.0: 2.70443676308234},
    6: {0.25: 1.34108685187662, 0.5: 1.89958445059510, 1.0: 2.73714807589866},
    8: {0.25: 1.34165681503561, 0.5: 1.90129850983572, 1.0: 2.74287924359951},
    10: {0.25: 1.34182451007628, 0.5: 1.90200317899371, 1.0: 2.74592761324742},
}

_REF_WHITTAKER = "Eilers 2003 (Anal. Chem. 75, 3631); Frasso & Eilers 2015 (V-curve)"
_REF_BFAST = ("Verbesselt, Zeileis, Herold 2012 (RSE 123, 98); Leisch, Hornik, Kuan 2000; Zeileis et al. 2005; "
              "bfast 0.7 (diku-dk) BFASTMonitorPython")
_REF_CLEARCUT = "Dutrieux et al. 2021, fordead (INRAE/UMR TETIS): harmonic model and 3-date confirmation"


@dataclass(frozen=True)
class WhittakerParams:
    """Whittaker-Eilers smoother [1]_ (see :func:`whittaker_smooth`).

    ``lmbda``: smoothing parameter for dates in days (its relation to the lambda of regular
    series is in :func:`whittaker_smooth`), or ``"vcurve"`` to choose it per pixel among
    ``vcurve_lambdas``; ``order``: order of the differences (2: penalises curvature).
    """

    lmbda: float | str = 1e4
    order: int = 2
    vcurve_lambdas: tuple[float, ...] = tuple(float(v) for v in np.logspace(1, 7, 25))


@dataclass(frozen=True)
class BfastMonitorParams:
    """BFAST Monitor [3]_ with the defaults of R ``bfastmonitor`` and bfast 0.7's Python port.

    ``monitor_start``: first date of the monitoring period (the history is every earlier date:
    bfast's ``history="all"``); ``k``: harmonic terms (3); ``freq``: days of the season (365);
    ``trend``: a linear trend term; ``hfrac``: MOSUM bandwidth as a fraction of the valid history
    dates (0.25); ``level``: significance (0.05, the only level tabulated here); ``period``:
    monitored span in multiples of the history, which picks the critical value (10);
    ``min_obs``: a pixel needs more valid dates than this in both periods (5, as bfast).
    """

    monitor_start: str = "2020-01-01"
    k: int = 3
    freq: float = 365.0
    trend: bool = True
    hfrac: float = 0.25
    level: float = 0.05
    period: int = 10
    min_obs: int = 5


@dataclass(frozen=True)
class ClearcutParams:
    """Clear-cut detection (see :func:`clearcut`).

    ``training_end``: the harmonic model is fitted on the valid dates before it; ``min_train``:
    fewest training dates (fordead's ``nb_min_date``, 10); ``threshold``: drop of the index
    below the model that counts as an anomaly (0.25 NDVI, above the 0.1-0.2 seasonal residuals
    and dieback stress of forests); ``n_confirm``: successive anomalous clear dates that confirm
    the cut (fordead's 3); ``vi``: the index computed from a cube (``"NDVI"``, or fordead's
    ``"NDWI"``; a cube is masked as :func:`~terra_lab.products.dieback.masked_vegetation_index`).
    """

    training_end: str = "2018-01-01"
    min_train: int = 10
    threshold: float = 0.25
    n_confirm: int = 3
    vi: str = "NDVI"


def _exact_days(da: xr.DataArray, product: str) -> np.ndarray:
    """Days (with their fraction) of the sorted dates, which must all differ."""
    times = pd.DatetimeIndex(da["time"].values)
    days = np.asarray((times - times[0].normalize()) / pd.Timedelta(days=1), np.float64)
    if np.any(np.diff(days) <= 0):
        dup = times[1:][np.diff(days) <= 0][0]
        raise ValueError(f"{product}: date {dup} appears twice in {da.name!r}; merge the acquisitions of one "
                         "date first, e.g. index.groupby('time').mean() or terra_lab.load(..., groupby='solar_day')")
    return days


def whittaker_smooth(index: xr.DataArray, params: WhittakerParams | None = None, *,
                     weights: xr.DataArray | None = None, **overrides: Any) -> xr.Dataset:
    """Whittaker-Eilers smoothing with gaps at the cube's (uneven) dates [1]_, lazily.

    Per pixel, ``z`` minimises ``sum_i w_i (y_i - z_i)^2 + lmbda sum_r (D z)_r^2`` where ``D`` is
    Eilers' divided-difference matrix of order ``order`` of the dates in days (``ddmat``), so
    uneven revisits are handled; masked dates (NaN) get weight 0 and are interpolated.  The
    banded system ``(W + lmbda D'D) z = W y`` is solved by a Cholesky factorisation per pixel
    (numba).  Matches ``whittaker_eilers.WhittakerSmoother(lmbda, order, n, x_input=days,
    weights=w)``.  For dates every ``h`` days, ``lmbda`` equals the regular-spacing lambda
    times ``4 h^4`` (order 2): 1e4 is about lambda 4 on a 5-day series.

    With ``lmbda="vcurve"`` each pixel's lambda is chosen among ``vcurve_lambdas`` by the
    V-curve [2]_: the geometric mean of the two consecutive lambdas whose points (log weighted
    residual sum of squares, log penalty) are closest.

    Parameters
    ----------
    index
        Index values on ``time`` (and any other dims), NaN where masked, the whole time axis
        in one chunk.
    params
        :class:`WhittakerParams` (``lmbda``, ``order``, ``vcurve_lambdas``); keyword overrides
        replace its fields, e.g. ``whittaker_smooth(ndvi, lmbda="vcurve")``.
    weights
        Optional per-date weights in 0-1 on the index's dims or on ``time`` only (1 by default).

    Returns
    -------
    xarray.Dataset
        ``smoothed`` (float32, the index's dims, NaN for pixels with fewer than ``order + 1``
        valid dates) and ``lmbda`` (float32 per pixel, the lambda used).
    """
    p = with_overrides(params, WhittakerParams, overrides, "whittaker_smooth")
    if p.order < 1:
        raise ValueError(f"order={p.order}: use a difference order >= 1 (2 is usual)")
    if isinstance(p.lmbda, str):
        if p.lmbda != "vcurve":
            raise ValueError(f"lmbda={p.lmbda!r}: give a positive number (e.g. 1e4) or 'vcurve'")
        lambdas = np.asarray(sorted(p.vcurve_lambdas), np.float64)
        if lambdas.size < 3 or lambdas[0] <= 0:
            raise ValueError("vcurve_lambdas: give at least 3 positive values, e.g. numpy.logspace(1, 7, 25)")
    else:
        if not p.lmbda > 0:
            raise ValueError(f"lmbda={p.lmbda}: the smoothing parameter must be positive, e.g. 1e4")
        lambdas = np.array([float(p.lmbda)])
    da, _, _ = _series(index, "whittaker_smooth")
    days = _exact_days(da, "whittaker_smooth")
    if days.size <= p.order:
        raise ValueError(f"whittaker_smooth: {days.size} dates for order {p.order}; give more dates or a lower order")
    dd = np.empty((days.size - p.order, p.order + 1), np.float64)
    k.divided_differences(days, p.order, dd)
    w = xr.DataArray(np.ones(days.size), dims="time") if weights is None else weights.astype(np.float64)
    smoothed, lmbda = xr.apply_ufunc(
        k.whittaker_pixel, da, w, xr.DataArray(dd, dims=("row", "tap")), xr.DataArray(lambdas, dims="lmbda"),
        input_core_dims=[["time"], ["time"], ["row", "tap"], ["lmbda"]], output_core_dims=[["time"], []],
        dask="parallelized", output_dtypes=[np.float32, np.float32], keep_attrs=False,
    )
    name = index.name or "index"
    smoothed = smoothed.transpose(*da.dims).assign_coords(time=da["time"])
    smoothed.attrs.update(long_name=f"Whittaker-smoothed {name}", units=index.attrs.get("units", "1"))
    lmbda.attrs.update(long_name="Whittaker smoothing parameter (dates in days)",
                       method="V-curve" if lambdas.size > 1 else "fixed")
    ds = xr.Dataset({"smoothed": smoothed, "lmbda": lmbda})
    recorded = asdict(p) | {"vcurve_lambdas": [float(v) for v in p.vcurve_lambdas]}
    return with_provenance(ds, algorithm="Whittaker-Eilers smoother (divided differences, weights)",
                           params=recorded, source=index, reference=_REF_WHITTAKER)


def bfast_critical_value(hfrac: float, period: float, level: float = 0.05) -> float:
    """The boundary's ``lambda``: the tabulated OLS-MOSUM critical value [4]_ times sqrt(2).

    As bfast 0.7: the period closest to ``period`` among 2, 4, 6, 8, 10; ``hfrac`` one of 0.25,
    0.5, 1; only ``level=0.05`` is tabulated here.
    """
    if level != 0.05:
        raise ValueError(f"level={level}: only the 0.05 critical values are tabulated; use level=0.05")
    periods = np.array(sorted(BFAST_CRITICAL_VALUES))
    row = BFAST_CRITICAL_VALUES[int(periods[np.abs(periods - period).argmin()])]
    if float(hfrac) not in row:
        raise ValueError(f"hfrac={hfrac}: the MOSUM critical values exist for h in {sorted(row)}; choose one")
    return row[float(hfrac)] * float(np.sqrt(2.0))


def _bfast_design(days: np.ndarray, p: BfastMonitorParams) -> np.ndarray:
    """1, trend (days / freq: bfast's day index rescaled, same fitted values), sin, cos of k harmonics."""
    w = 2 * np.pi * days / p.freq
    cols = [np.ones_like(days)]
    if p.trend:
        cols.append(days / p.freq)
    for j in range(1, p.k + 1):
        cols += [np.sin(j * w), np.cos(j * w)]
    return np.stack(cols, axis=-1)


def bfast_monitor(index: xr.DataArray, params: BfastMonitorParams | None = None, **overrides: Any) -> xr.Dataset:
    """BFAST Monitor [3]_: the first break after ``monitor_start`` of each pixel's series, lazily.

    1. Dates are days since 1 January of the first date's year (bfast's ``map_indices``).
    2. On the history (valid dates before ``monitor_start``), ``y = a + b t + sum_j (c_j
       sin(2 pi j t / freq) + d_j cos(2 pi j t / freq))``, j = 1..k, is fitted by least squares.
    3. With ``ns`` valid history dates, ``h = floor(hfrac ns)`` and ``sigma`` the history's
       residual standard deviation, the OLS-MOSUM at a valid monitoring date is the sum of the
       last ``h`` residuals over ``sigma sqrt(ns)``.
    4. A break is the first date where ``|MOSUM| > lambda sqrt(log+(t / t_n))``, ``t_n`` the last
       history date's day, ``log+ x = max(1, log x)`` (1 below e), ``lambda`` from
       :func:`bfast_critical_value`.  The magnitude is the median residual of the monitoring
       period (bfast's definition).

    Parameters
    ----------
    index
        Index values on ``time`` (NaN where masked), the whole time axis in one chunk.
    params
        :class:`BfastMonitorParams`; keyword overrides, e.g. ``bfast_monitor(ndvi,
        monitor_start="2021-01-01")``.

    Returns
    -------
    xarray.Dataset
        ``state`` (uint8, :data:`CHANGE_STATES`; ``too_few_dates`` for all-cloud pixels, with NaN
        magnitude), ``break_date`` (NaT if none), ``magnitude``, ``mosum_mean``, ``n_history``,
        ``n_monitor`` and the history model's ``coefficients``.
    """
    p = with_overrides(params, BfastMonitorParams, overrides, "bfast_monitor")
    lam = bfast_critical_value(p.hfrac, p.period, p.level)
    da, days, _ = _series(index, "bfast_monitor")
    times = pd.DatetimeIndex(da["time"].values)
    start = pd.Timestamp(p.monitor_start)
    n_hist = int(np.sum(times < start))
    n_coef = 1 + int(p.trend) + 2 * p.k
    if n_hist <= max(p.min_obs, n_coef):
        raise DateRangeError(f"bfast_monitor: only {n_hist} date(s) before monitor_start={start.date()} (the series "
                             f"starts {times[0].date()}); the history needs more than {max(p.min_obs, n_coef)}: "
                             "choose a later monitor_start or load earlier dates")
    if n_hist >= len(times):
        raise DateRangeError(f"bfast_monitor: no date on or after monitor_start={start.date()} (the series ends "
                             f"{times[-1].date()}); choose an earlier monitor_start")
    t_n = max(days[n_hist - 1], 1.0)
    ratio = days[n_hist:] / t_n
    bounds = lam * np.sqrt(np.where(ratio > np.e, np.log(np.maximum(ratio, 1e-300)), 1.0))
    design = _bfast_design(days, p)
    outs = xr.apply_ufunc(
        k.bfast_monitor_pixel, da, xr.DataArray(design, dims=("time", "coeff")), n_hist,
        xr.DataArray(bounds, dims="monitor"), float(p.hfrac), int(p.min_obs),
        input_core_dims=[["time"], ["time", "coeff"], [], ["monitor"], [], []],
        output_core_dims=[[], [], [], [], [], [], ["coeff"]],
        dask="parallelized", keep_attrs=False,
        output_dtypes=[np.uint8, np.int32, np.float32, np.float32, np.int32, np.int32, np.float32],
        dask_gufunc_kwargs={"output_sizes": {"coeff": n_coef}},
    )
    state, i_break, magnitude, mosum_mean, n_history, n_monitor, coeff = outs
    dates = times.values[n_hist:].astype("datetime64[ns]")
    names = ["intercept"] + (["trend"] if p.trend else []) + [f"{f}{j}" for j in range(1, p.k + 1)
                                                              for f in ("sin", "cos")]
    ds = xr.Dataset({
        "state": state, "break_date": _as_date(i_break, dates), "magnitude": magnitude, "mosum_mean": mosum_mean,
        "n_history": n_history, "n_monitor": n_monitor, "coefficients": coeff.assign_coords(coeff=names).transpose("coeff", ...),
    })
    ds["state"].attrs.update(long_name="BFAST Monitor state", flag_values=list(CHANGE_STATES),
                             flag_meanings=" ".join(CHANGE_STATES.values()),
                             note="too_few_dates: at most min_obs valid dates in the history or the monitoring "
                                  "period (all-cloud pixels); their magnitude is NaN")
    ds["break_date"].attrs["long_name"] = "first date where |MOSUM| crosses the boundary"
    ds["magnitude"].attrs["long_name"] = "median residual of the monitoring period (index units)"
    ds["mosum_mean"].attrs["long_name"] = "mean of the MOSUM process over the monitoring period"
    ds["coefficients"].attrs.update(long_name="history season-trend model (trend per freq days, t in days since "
                                              "1 January of the first year)")
    recorded = asdict(p) | {"lambda": lam, "n_history_dates": n_hist, "n_dates": len(times)}
    return with_provenance(ds, algorithm="BFAST Monitor (OLS-MOSUM)", params=recorded, source=index,
                           reference=_REF_BFAST)


def _as_date(idx: xr.DataArray, dates: np.ndarray) -> xr.DataArray:
    return xr.apply_ufunc(_index_to_date, idx, kwargs={"dates": dates}, dask="parallelized",
                          output_dtypes=["datetime64[ns]"], keep_attrs=False)


def clearcut(data: xr.DataArray | xr.Dataset, params: ClearcutParams | None = None, *,
             forest_mask: xr.DataArray | None = None, **overrides: Any) -> xr.Dataset:
    """Clear cuts and their dates: a sudden drop of a vegetation index below its seasonal model, lazily.

    1. **Index**: a DataArray is used as given (NaN on masked dates); from a cube, ``vi`` is
       computed and masked by the MAJA layers and no data
       (:func:`~terra_lab.products.dieback.masked_vegetation_index` without fordead's blue > 0.06
       rule: bare soil is that bright in blue, the rule would mask the clear cut itself).
    2. **Model**: fordead's harmonic model ``a1 + b1 sin(2 pi t/T) + b2 cos(2 pi t/T) + b3 sin(4 pi
       t/T) + b4 cos(4 pi t/T)`` (t in days since 2015-01-01, T = 365.25 d) fitted per pixel on
       the valid dates before ``training_end`` (at least ``min_train``, else ``too_few_dates``).
    3. **Detection**: after ``training_end``, a clear date whose index is more than ``threshold``
       below the model is an anomaly; ``n_confirm`` successive anomalies (cloudy dates skipped)
       confirm a clear cut, dated by the first of them (fordead's confirmation [5]_).  The
       threshold, larger than fordead's dieback anomaly, keeps the stand-replacing loss [5]_ and
       leaves gradual decline to :func:`~terra_lab.products.dieback.forest_dieback`.

    ``forest_mask``: optional boolean (y, x) layer on the grid; outside it nothing is detected
    (harvests and mowing are drops of the index too: restrict the map to forests).

    Returns
    -------
    xarray.Dataset
        ``clearcut`` (bool), ``clearcut_date`` (first anomaly of the confirming run, NaT),
        ``magnitude`` (median drop below the model over the confirming dates, index units, NaN),
        ``state`` (uint8, :data:`CHANGE_STATES`), ``n_training_dates`` and ``coefficients``.
    """
    p = with_overrides(params, ClearcutParams, overrides, "clearcut")
    if p.n_confirm < 1 or not p.threshold > 0:
        raise ValueError(f"n_confirm={p.n_confirm}, threshold={p.threshold}: use n_confirm >= 1 and a positive "
                         "threshold (e.g. 3 and 0.25)")
    if isinstance(data, xr.Dataset):
        index = masked_vegetation_index(data, vi=p.vi, blue_max=np.inf)["vi"]
    else:
        index = data
    da, _, _ = _series(index, "clearcut")
    times = pd.DatetimeIndex(da["time"].values)
    end = pd.Timestamp(p.training_end)
    n_train = int(np.sum(times < end))
    if n_train < p.min_train:
        raise DateRangeError(f"clearcut: {n_train} date(s) before training_end={end.date()} (the series starts "
                             f"{times[0].date()}), fewer than min_train={p.min_train}; choose a later training_end")
    if n_train >= len(times):
        raise DateRangeError(f"clearcut: no date on or after training_end={end.date()} (the series ends "
                             f"{times[-1].date()}); choose an earlier training_end")
    t = np.asarray((times.normalize() - TIME_ORIGIN) / pd.Timedelta(days=1), np.float64)
    design = harmonic_design(t)
    state, i_cut, drop, n_training, coeff = xr.apply_ufunc(
        k.clearcut_pixel, da, xr.DataArray(design, dims=("time", "coeff")), n_train, int(p.min_train),
        float(p.threshold), int(p.n_confirm),
        input_core_dims=[["time"], ["time", "coeff"], [], [], [], []],
        output_core_dims=[[], [], [], [], ["coeff"]], dask="parallelized", keep_attrs=False,
        output_dtypes=[np.uint8, np.int32, np.float32, np.int32, np.float32],
        dask_gufunc_kwargs={"output_sizes": {"coeff": design.shape[1]}},
    )
    ds = xr.Dataset({
        "clearcut": i_cut >= 0,  # (from i_cut, not state: dask 2026.8 loses a key computing both state and state == x)
        "clearcut_date": _as_date(i_cut, times.values.astype("datetime64[ns]")),
        "magnitude": drop, "state": state, "n_training_dates": n_training,
        "coefficients": coeff.assign_coords(coeff=["a1", "b1", "b2", "b3", "b4"]).transpose("coeff", ...),
    })
    if forest_mask is not None:
        forest = _on_grid(forest_mask, index.to_dataset(name="vi"))
        ds["clearcut"] = ds["clearcut"] & forest
        ds["clearcut_date"] = ds["clearcut_date"].where(forest)
        ds["magnitude"] = ds["magnitude"].where(forest)
    ds["clearcut"].attrs["long_name"] = "clear cut detected after training_end"
    ds["clearcut_date"].attrs["long_name"] = "first clear date of the confirmed drop"
    ds["magnitude"].attrs["long_name"] = f"median drop of {p.vi} below its seasonal model over the confirming dates"
    ds["state"].attrs.update(long_name="clear-cut state", flag_values=list(CHANGE_STATES),
                             flag_meanings=" ".join(CHANGE_STATES.values()),
                             note="too_few_dates: fewer than min_train valid training dates (all-cloud pixels); "
                                  "no detection there")
    recorded = asdict(p) | {"n_training_dates": n_train, "n_dates": len(times), "forest_mask": forest_mask is not None}
    return with_provenance(ds, algorithm="clear-cut detection (harmonic model, confirmed drop)", params=recorded,
                           source=data, reference=_REF_CLEARCUT)
