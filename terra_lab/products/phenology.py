"""Land-surface phenology from a vegetation-index time series: season metrics and the DHI.

Per-pixel time-series algorithms (``xr.apply_ufunc`` over ``time``, lazily): the index
(NDVI or any other, with NaN for clouds, shadows, snow and no data) is gap-filled by linear
interpolation in time onto a daily grid, smoothed with a Savitzky-Golay filter, and the
seasons are read from the smoothed curve as TIMESAT does [1]_ [2]_.

Why Savitzky-Golay rather than a Whittaker smoother or double-logistic fits: it is linear,
local and parameter-light (a window and a polynomial order), it keeps the height and timing
of peaks better than moving averages [3]_, and on a daily gap-filled series its result is
independent of the other pixels and years, which keeps results chunk-independent.  The
TIMESAT upper-envelope adaptation (weighting against residual clouds) is not applied: mask
clouds, shadows and snow before (``terra_lab.load(..., apply_masks=...)`` or ``.where``).

References
----------
.. [1] Jönsson, P., Eklundh, L. (2002). Seasonality extraction by function fitting to
   time-series of satellite sensor data. IEEE TGRS 40(8), 1824-1832.
.. [2] Jönsson, P., Eklundh, L. (2004). TIMESAT - a program for analyzing time-series of
   satellite sensor data. Computers & Geosciences 30, 833-845.
.. [3] Chen, J., Jönsson, P., Tamura, M., Gu, Z., Matsushita, B., Eklundh, L. (2004). A simple
   method for reconstructing a high-quality NDVI time-series data set based on the
   Savitzky-Golay filter. Remote Sensing of Environment 91, 332-344.
.. [4] Coops, N. C., Wulder, M. A., Duro, D. C., Han, T., Berry, S. (2008). The development of
   a Canadian dynamic habitat index using multi-temporal satellite estimates of canopy light
   absorbance. Ecological Indicators 8, 754-766.
.. [5] Radeloff, V. C., et al. (2019). The Dynamic Habitat Indices (DHIs) from MODIS and global
   biodiversity. Remote Sensing of Environment 222, 204-214.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..kernels import _phenology as k
from ._common import require_single_time_chunk, with_provenance

__all__ = ["SEASON_FLAGS", "dynamic_habitat_index", "season_metrics", "smooth_series"]

#: Meaning of the ``flag`` of :func:`season_metrics`.
SEASON_FLAGS = {k.FLAG_OK: "season found", k.FLAG_FEW_OBSERVATIONS: "too few valid observations in the year",
                k.FLAG_NO_SEASON: "amplitude below min_amplitude (no season)",
                k.FLAG_NO_CROSSING: "start or end of season not reached inside the year"}

_REF = "Jönsson & Eklundh 2002, 2004 (TIMESAT); Savitzky & Golay 1964"


def _series(index: xr.DataArray, product: str) -> tuple[xr.DataArray, np.ndarray, pd.Timestamp]:
    """The index as float32 sorted by time, its days from 1 January of the first year, that day."""
    if not isinstance(index, xr.DataArray):
        raise TypeError(
            f"{product} needs a DataArray of index values on time, e.g. "
            f"terra_lab.products.indices.spectral_index(cube, 'NDVI'), not {type(index).__name__}"
        )
    if "time" not in index.dims:
        raise ValueError(f"{product} needs a 'time' dimension; {index.name!r} has {index.dims}")
    if index.sizes["time"] < 2:
        raise ValueError(f"{product} needs a time series, but {index.name!r} has {index.sizes['time']} date(s)")
    times = pd.DatetimeIndex(index["time"].values)
    if not times.is_monotonic_increasing:
        index = index.sortby("time")
        times = pd.DatetimeIndex(index["time"].values)
    require_single_time_chunk(index, product)
    ref = pd.Timestamp(year=times[0].year, month=1, day=1)
    days = np.asarray((times.normalize() - ref).days, np.float64)  # the acquisition's day (hour ignored)
    drop = [c for c in index.coords if c not in index.dims and "time" in index[c].dims]
    return index.drop_vars(drop).astype(np.float32), days, ref


def _hat(window: int, polyorder: int) -> np.ndarray:
    if window < 3 or window % 2 == 0:
        raise ValueError(f"window={window}: the Savitzky-Golay window must be an odd number of days >= 3, e.g. 31")
    if not 0 <= polyorder < window:
        raise ValueError(f"polyorder={polyorder} must be >= 0 and smaller than window={window}, e.g. 2")
    return k.savgol_hat(window, polyorder)


def smooth_series(index: xr.DataArray, *, window: int = 31, polyorder: int = 2) -> xr.DataArray:
    """The gap-filled, Savitzky-Golay-smoothed daily series of each pixel (lazy).

    Valid observations are interpolated linearly in time onto every day from the first to the
    last date (constant beyond the pixel's first and last valid observation), then smoothed
    by a Savitzky-Golay filter of ``window`` days and polynomial order ``polyorder`` [3]_,
    with the polynomial fitted to the first and last windows at the ends of the series (as
    ``scipy.signal.savgol_filter(..., mode="interp")``).

    Parameters
    ----------
    index
        Index values on ``time`` (any other dims, e.g. ``y``, ``x``), NaN where missing, with
        the whole time axis in one chunk.
    window
        Odd number of days of the filter.
    polyorder
        Order of the local polynomial (2 keeps peaks, 0 is a moving average).

    Returns
    -------
    xarray.DataArray
        float32 on a daily ``time`` axis (midnights), NaN for pixels without any valid value.

    References
    ----------
    Savitzky & Golay (1964); Chen et al. (2004), see the module references.
    """
    da, days, ref = _series(index, "smooth_series")
    hat = _hat(window, polyorder)
    grid = np.arange(days[0], days[-1] + 1, dtype=np.float64)
    out = xr.apply_ufunc(
        k.smooth_pixel, da, xr.DataArray(days, dims="time"), xr.DataArray(grid, dims="day"),
        xr.DataArray(hat, dims=("w1", "w2")),
        input_core_dims=[["time"], ["time"], ["day"], ["w1", "w2"]], output_core_dims=[["day"]],
        dask="parallelized", output_dtypes=[np.float32], dask_gufunc_kwargs={"output_sizes": {"day": grid.size}},
        keep_attrs=False,
    )
    out = out.rename(day="time").assign_coords(time=ref + pd.to_timedelta(grid, unit="D"))
    out = out.transpose(*index.dims).rename(f"{index.name or 'index'}_smooth")
    out.attrs.update(long_name=f"gap-filled, Savitzky-Golay smoothed {index.name or 'index'}")
    return with_provenance(out, algorithm="linear gap filling + Savitzky-Golay",
                           params={"window": window, "polyorder": polyorder}, source=index, reference=_REF)


def season_metrics(
    index: xr.DataArray,
    *,
    fraction: float = 0.5,
    window: int = 31,
    polyorder: int = 2,
    min_obs: int = 6,
    min_amplitude: float = 0.05,
    years: Sequence[int] | None = None,
) -> xr.Dataset:
    """Start, peak and end of season of each pixel and year (TIMESAT-type), lazily.

    The series is gap-filled and smoothed as by :func:`smooth_series`.  In each calendar year
    the peak (POS) is the maximum of the smoothed curve; the left and right minima are its
    minima before and after the peak, the amplitude the peak minus their mean [2]_.  The
    start of season (SOS) is the last day before the peak where the curve crosses
    ``left min + fraction (peak - left min)`` upwards, the end (EOS) the first day after the
    peak where it crosses ``right min + fraction (peak - right min)`` downwards (``fraction``
    = 0.5: the 50 % amplitude dates of [1]_; 0.2 is also common), interpolated between days.

    Parameters
    ----------
    index
        NDVI or any vegetation index on ``time`` (and ``y``, ``x``...), NaN where cloudy,
        shadowed, snowy or missing; the whole time axis in one chunk (``.chunk(time=-1)``).
        Include some dates before and after the years of interest so the smoothing and the
        minima are not cut by the ends of the series.
    fraction
        Amplitude fraction of the start and end of season.
    window, polyorder
        Savitzky-Golay window (odd number of days) and polynomial order.
    min_obs
        Fewer valid observations in a year give NaN metrics with ``flag`` = 1.
    min_amplitude
        Smaller amplitudes give NaN SOS/EOS with ``flag`` = 2 (evergreen, urban, water).
    years
        Calendar years to analyse (default: every year with an observation).

    Returns
    -------
    xarray.Dataset
        On (``year``, ...): ``sos``, ``pos``, ``eos`` (day of year, 1 = 1 January, float),
        ``los`` (days), ``amplitude``, ``peak`` and ``base`` (index units), ``n_obs`` and
        ``flag`` (uint8, see :data:`SEASON_FLAGS`: 0 found, 1 too few observations, 2 no
        season, 3 start or end not reached inside the year).  Seasons crossing 1 January
        (southern hemisphere, winter crops sown in autumn are fine) are not supported.

    References
    ----------
    Jönsson & Eklundh (2002, 2004); see the module references.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction={fraction}: use an amplitude fraction between 0 and 1, e.g. 0.5 or 0.2")
    da, days, ref = _series(index, "season_metrics")
    hat = _hat(window, polyorder)
    times = pd.DatetimeIndex(index.sortby("time")["time"].values)
    years = sorted(set(times.year)) if years is None else sorted(int(y) for y in years)
    starts = np.array([(pd.Timestamp(year=y, month=1, day=1) - ref).days for y in years], np.float64)
    lo = min(days[0], starts[0])
    hi = max(days[-1], starts[-1] + (366 if pd.Timestamp(year=years[-1], month=1, day=1).is_leap_year else 365) - 1)
    grid = np.arange(lo, hi + 1, dtype=np.float64)
    params = np.array([fraction, min_obs, min_amplitude], np.float64)
    res = xr.apply_ufunc(
        k.season_pixel, da, xr.DataArray(days, dims="time"), xr.DataArray(grid, dims="day"),
        xr.DataArray(starts, dims="year"), xr.DataArray(hat, dims=("w1", "w2")), xr.DataArray(params, dims="param"),
        xr.DataArray(np.zeros(len(k.METRICS)), dims="metric"),
        input_core_dims=[["time"], ["time"], ["day"], ["year"], ["w1", "w2"], ["param"], ["metric"]],
        output_core_dims=[["year", "metric"]], dask="parallelized", output_dtypes=[np.float32], keep_attrs=False,
    )
    res = res.assign_coords(year=np.asarray(years), metric=list(k.METRICS))
    ds = res.to_dataset("metric")
    ds["flag"] = ds["flag"].fillna(k.FLAG_FEW_OBSERVATIONS).astype(np.uint8)
    ds["n_obs"] = ds["n_obs"].fillna(0).astype(np.uint16)
    ds = ds.transpose("year", ...)
    units = {"sos": "day of year", "pos": "day of year", "eos": "day of year", "los": "days"}
    names = {"sos": f"start of season ({fraction:.0%} of the left amplitude)", "pos": "peak of season",
             "eos": f"end of season ({fraction:.0%} of the right amplitude)", "los": "length of season",
             "amplitude": "seasonal amplitude (peak - mean of the minima)", "peak": "peak value",
             "base": "base level (mean of the left and right minima)", "n_obs": "valid observations in the year",
             "flag": "season quality flag"}
    for v in ds.data_vars:
        ds[v].attrs["long_name"] = names[v]
        if v in units:
            ds[v].attrs["units"] = units[v]
    ds["flag"].attrs.update(flag_values=list(SEASON_FLAGS), flag_meanings=" ".join(
        ["ok", "few_observations", "no_season", "no_crossing"]))
    p = dict(fraction=fraction, window=window, polyorder=polyorder, min_obs=min_obs, min_amplitude=min_amplitude,
             years=years, gap_filling="linear", smoother="Savitzky-Golay")
    return with_provenance(ds, algorithm="TIMESAT-type season metrics", params=p, source=index, reference=_REF)


def dynamic_habitat_index(
    index: xr.DataArray,
    *,
    period: str = "month",
    min_periods: int | None = None,
    years: Sequence[int] | None = None,
) -> xr.Dataset:
    """Dynamic Habitat Index components of each pixel and year (Coops et al. 2008, Radeloff et al. 2019).

    The year is cut into composite periods (months, or each date); each period's composite
    is the median of its valid values; periods without a valid value are filled linearly
    from the neighbouring periods (constant at the ends of the year).  Then [4]_ [5]_:

    * ``dhi_cum``: the sum of the composites (cumulative annual productivity);
    * ``dhi_min``: the smallest composite (the year's minimum productivity);
    * ``dhi_var``: standard deviation over mean of the composites (population standard
      deviation, ``ddof=0``), the seasonality.

    Parameters
    ----------
    index
        A productivity proxy (fPAR, NDVI, EVI...) on ``time``, NaN where missing; the whole
        time axis in one chunk.
    period
        ``"month"`` (12 monthly composites) or ``"date"`` (each acquisition date of the year
        is its own composite; fill no gaps then, missing dates are dropped).
    min_periods
        Fewer valid composites in a year give NaN (default: half the periods).
    years
        Calendar years (default: every year with an observation).

    Returns
    -------
    xarray.Dataset
        ``dhi_cum``, ``dhi_min``, ``dhi_var`` (float32) and ``n_periods`` (the number of
        composite periods) on (``year``, ...).

    References
    ----------
    Coops et al. (2008); Radeloff et al. (2019); see the module references.
    """
    if period not in ("month", "date"):
        raise ValueError(f"period={period!r}; use 'month' (monthly median composites) or 'date'")
    da, _, _ = _series(index, "dynamic_habitat_index")
    times = pd.DatetimeIndex(da["time"].values)
    years = sorted(set(times.year)) if years is None else sorted(int(y) for y in years)
    outs, sizes = [], []
    for y in years:
        sel = times.year == y
        if period == "month":
            per = np.where(sel, times.month - 1, -1).astype(np.int64)
            n = 12
        else:
            per = np.where(sel, np.cumsum(sel) - 1, -1).astype(np.int64)
            n = int(sel.sum())
        if n == 0:
            raise ValueError(f"no date of {index.name!r} falls in {y}; choose years among {sorted(set(times.year))}")
        need = (n + 1) // 2 if min_periods is None else int(min_periods)
        res = xr.apply_ufunc(
            k.dhi_pixel, da, xr.DataArray(per, dims="time"), xr.DataArray(np.zeros(n), dims="period"),
            xr.DataArray(np.array([float(need)]), dims="param"), xr.DataArray(np.zeros(3), dims="component"),
            input_core_dims=[["time"], ["time"], ["period"], ["param"], ["component"]],
            output_core_dims=[["component"]], dask="parallelized", output_dtypes=[np.float32], keep_attrs=False,
        )
        outs.append(res)
        sizes.append(n)
    res = xr.concat(outs, dim=xr.DataArray(np.asarray(years), dims="year", name="year"))
    res = res.assign_coords(component=["dhi_cum", "dhi_min", "dhi_var"])
    ds = res.to_dataset("component").transpose("year", ...)
    ds["n_periods"] = xr.DataArray(np.asarray(sizes, np.uint16), dims="year")
    ds["dhi_cum"].attrs["long_name"] = f"DHI cumulative: sum of the {period} composites"
    ds["dhi_min"].attrs["long_name"] = f"DHI minimum: smallest {period} composite"
    ds["dhi_var"].attrs["long_name"] = f"DHI variation: std / mean of the {period} composites"
    p = dict(period=period, min_periods=min_periods, years=years, composite="median", gap_filling="linear")
    return with_provenance(ds, algorithm="Dynamic Habitat Index", params=p, source=index,
                           reference="Coops et al. 2008, Ecol. Indic. 8:754; Radeloff et al. 2019, RSE 222:204")
