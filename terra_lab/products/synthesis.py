"""Syntheses of reflectance time series: WASP-type weighted averages (THEIA L3A) and composites.

References
----------
.. [1] Hagolle, O., Morin, D., Kadiri, M. (2018). Detailed processing model for the Weighted
   Average Synthesis Processor (WASP) for Sentinel-2. CNES/CESBIO. doi:10.5281/zenodo.1401360
.. [2] CNES WASP source (github.com/CNES/WASP): default parameters used below (half period
   23 days, minimum time weight 0.5, AOT weights 0.33..1 up to AOT 0.8, clouds at 240 m with
   Gaussian sigmas of 2 and 10 coarse pixels).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..kernels import _synthesis as k
from ..profiles import WASP_FLAG_LEGEND
from ..profiles._maja import CLM_CLOUD_OR_SHADOW, MG2_SNOW, MG2_WATER, bitmask
from ._common import chunks_along, rechunk, require, with_provenance
from .indices import spectral_index

__all__ = ["SYNTHESIS_FLAGS", "max_ndvi_composite", "median_composite", "monthly_syntheses", "wasp_synthesis"]

#: Flags of the L3A synthesis (FLG), as WASP writes them (the L3A profile's legend).
SYNTHESIS_FLAGS = dict(zip(WASP_FLAG_LEGEND.codes, WASP_FLAG_LEGEND.cf_attrs()["flag_meanings"].split()))


def _state(cube: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    """(state, cloud): state 0 no data, 1 cloud, 2 snow, 3 water, 4 clear land, from the raw MAJA masks when present."""
    if "CLM" in cube:
        cloud = (cube["CLM"] & np.uint8(bitmask(CLM_CLOUD_OR_SHADOW))) != 0  # WASP: the summary bit
    else:
        require(cube, ["cloud", "shadow"], "wasp_synthesis")
        cloud = cube["cloud"] | cube["shadow"]
    if "MG2" in cube:
        snow = (cube["MG2"] & np.uint8(bitmask(MG2_SNOW))) != 0
        water = (cube["MG2"] & np.uint8(bitmask(MG2_WATER))) != 0
    else:
        snow = cube["snow"] if "snow" in cube else xr.zeros_like(cloud)
        water = cube["water"] if "water" in cube else xr.zeros_like(cloud)
    nodata = cube["edge"] if "edge" in cube else cube[next(iter(cube.data_vars))].isnull()
    state = xr.where(water, k.WATER, k.LAND)
    state = xr.where(snow, k.SNOW, state)
    state = xr.where(cloud, k.CLOUD, state)
    state = xr.where(nodata, k.NODATA, state)
    return state.astype(np.uint8), cloud


def wasp_synthesis(
    cube: xr.Dataset,
    date: str | pd.Timestamp,
    *,
    bands: Sequence[str] | None = None,
    half_period_days: int = 23,
    time_weight_min: float = 0.5,
    coarse_resolution: float = 240.0,
    sigma_small: float = 2.0,
    sigma_large: float = 10.0,
    aot: xr.DataArray | None = None,
    keep_cloudy: bool = False,
) -> xr.Dataset:
    """Weighted-average synthesis of clear observations around ``date`` (THEIA L3A, WASP method).

    Each clear land observation within ``date`` +/- ``half_period_days`` gets the weight
    ``W_aot x W_cloud x W_time`` [1]_ [2]_:

    * ``W_cloud = (1 - G_small)(1 - G_large)``: cloud fractions of the neighbourhood at
      ``coarse_resolution`` blurred by Gaussians of ``sigma_small`` and ``sigma_large`` coarse
      pixels (far from clouds = 1; next to large clouds = 0);
    * ``W_aot`` from the aerosol optical thickness when ``aot`` is given (else 1);
    * ``W_time = 1 - (|dt| / half_period)(1 - time_weight_min)``.  (The reference code
      computes this ratio with integer division, which makes it 1 inside the window; the
      published formula is used here.)

    Pixels without any clear land date keep their latest snow/water observation.  Pixels
    cloudy on every date get flag 1 and NaN reflectance (``keep_cloudy=True`` keeps, as WASP
    does, their least bright cloudy observation instead).

    Returns
    -------
    xarray.Dataset
        The bands (float32), ``weight`` (sum of weights), ``date`` (weighted mean acquisition
        date), ``flag`` (see :data:`SYNTHESIS_FLAGS`) and ``count`` (clear dates used).
    """
    centre = pd.Timestamp(date)
    bands = list(bands) if bands is not None else [str(b) for b in cube.data_vars if cube[b].dtype.kind == "f"]
    require(cube, bands, "wasp_synthesis")
    half = pd.Timedelta(days=half_period_days)
    sel = cube.sel(time=slice(centre - half, centre + half))
    if sel.sizes["time"] == 0:
        raise ValueError(f"no date within {half_period_days} days of {centre.date()}; choose another date")
    state, cloud = _state(sel)
    res = float(abs(sel["x"].values[1] - sel["x"].values[0]))
    factor = max(1, int(round(coarse_resolution / res)))
    cloud_full = rechunk(cloud, time=1, y=-1, x=-1) if cloud.chunks is not None else cloud
    w_cloud = xr.apply_ufunc(
        k.cloud_weight_2d, cloud_full, input_core_dims=[["y", "x"]], output_core_dims=[["y", "x"]],
        kwargs={"factor": factor, "sigma_small": sigma_small, "sigma_large": sigma_large},
        dask="parallelized", output_dtypes=[np.float32],
    )
    dt_days = (pd.DatetimeIndex(sel["time"].values) - centre) / pd.Timedelta(days=1)
    days = xr.DataArray(np.asarray(dt_days, np.float32), dims="time", coords={"time": sel["time"]})
    w_time = 1 - (np.abs(days) / half_period_days) * (1 - time_weight_min)
    weight = w_cloud * w_time
    if aot is not None:
        weight = weight * xr.apply_ufunc(k.aot_weight, aot.sel(time=sel["time"]), dask="parallelized", output_dtypes=[np.float32])
    refl = sel[bands].to_array("band").transpose("time", "y", "x", "band").astype(np.float32)
    if refl.chunks is not None:
        target = {"time": -1, "band": -1, "y": min(512, max(chunks_along(refl, "y"))),
                  "x": min(512, max(chunks_along(refl, "x")))}
        refl = rechunk(refl, **target)
        weight, state = (rechunk(a, **{d: target[d] for d in ("time", "y", "x")}) for a in (weight, state))
    out, wsum, wdate, flag, count = xr.apply_ufunc(
        k.wasp_pixel, refl, weight.astype(np.float32).transpose("time", "y", "x"), state.transpose("time", "y", "x"), days,
        input_core_dims=[["time", "band"], ["time"], ["time"], ["time"]],
        output_core_dims=[["band"], [], [], [], []],
        dask="parallelized", output_dtypes=[np.float32, np.float32, np.float32, np.uint8, np.uint16],
    )
    if not keep_cloudy:
        out = out.where(flag != k.CLOUD)
    ds = out.to_dataset("band")
    ds["weight"] = wsum
    ds["date"] = wdate  # weighted mean acquisition date, CF-encoded relative to the central date
    ds["date"].attrs.update(long_name="weighted mean acquisition date", units=f"days since {centre:%Y-%m-%d %H:%M:%S}")
    ds["flag"] = flag
    ds["count"] = count
    ds = ds.drop_vars([c for c in ds.coords if c not in ("x", "y", "spatial_ref")])
    ds = ds.assign_coords(time=centre)
    for b in bands:
        ds[b].attrs.update(units="1", long_name=f"L3A synthesis reflectance {b}")
    ds["flag"].attrs.update(flag_values=list(SYNTHESIS_FLAGS), flag_meanings=" ".join(SYNTHESIS_FLAGS.values()))
    ds["count"].attrs["long_name"] = "number of clear dates in the synthesis"
    params = dict(date=str(centre.date()), half_period_days=half_period_days, time_weight_min=time_weight_min,
                  coarse_resolution=coarse_resolution, sigma_small=sigma_small, sigma_large=sigma_large,
                  aot=aot is not None, keep_cloudy=keep_cloudy, n_dates=int(sel.sizes["time"]))
    return with_provenance(ds, algorithm="WASP weighted-average synthesis (L3A)", params=params, source=cube,
                           reference="Hagolle et al. 2018, WASP processing model; CNES WASP")


def monthly_syntheses(cube: xr.Dataset, months: Sequence[str] | None = None, **kwargs) -> xr.Dataset:
    """One :func:`wasp_synthesis` per month, centred on the 15th (THEIA's monthly L3A), along ``time``."""
    if months is None:
        t = pd.DatetimeIndex(cube["time"].values)
        months = sorted({f"{d.year}-{d.month:02d}" for d in t})
    parts = [wasp_synthesis(cube, pd.Timestamp(f"{m}-15"), **kwargs) for m in months]
    return xr.concat(parts, dim="time", combine_attrs="drop_conflicts")


def _clear_bands(cube: xr.Dataset, bands: list[str]) -> xr.Dataset:
    bad = None
    for layer in ("cloud", "shadow", "edge", "saturated"):
        if layer in cube:
            bad = cube[layer] if bad is None else bad | cube[layer]
    ds = cube[bands]
    return ds.where(~bad) if bad is not None else ds


def median_composite(cube: xr.Dataset, *, freq: str | None = None, bands: Sequence[str] | None = None) -> xr.Dataset:
    """Per-pixel median of clear observations (over the whole cube, or per ``freq`` period, e.g. ``"1MS"``)."""
    bands = list(bands) if bands is not None else [str(b) for b in cube.data_vars if cube[b].dtype.kind == "f"]
    ds = _clear_bands(cube, bands)
    if ds.chunks:
        ds = ds.chunk(time=-1)
    out = ds.resample(time=freq).median(skipna=True) if freq else ds.median("time", skipna=True)
    return with_provenance(out, algorithm="median composite", params={"freq": freq, "bands": bands}, source=cube)


def max_ndvi_composite(cube: xr.Dataset, *, bands: Sequence[str] | None = None) -> xr.Dataset:
    """Each pixel's clear observation of maximum NDVI (all bands from that date), and its date."""
    bands = list(bands) if bands is not None else [str(b) for b in cube.data_vars if cube[b].dtype.kind == "f"]
    clear = _clear_bands(cube, sorted(set(bands) | {"red", "nir"}))
    ndvi = spectral_index(clear, "NDVI")
    has = ndvi.notnull().any("time")
    best = ndvi.fillna(-np.inf).max("time")  # no all-NaN slices: pixels never clear are masked below
    at_best = ndvi == best  # the date(s) reaching the maximum; NaN pixels match none
    out = xr.Dataset({b: clear[b].where(at_best).fillna(-np.inf).max("time").where(has) for b in bands})
    out["date"] = cube["time"].where(at_best).max("time").where(has)
    out["ndvi"] = best.where(has)
    out = out.drop_vars([c for c in out.coords if c not in ("x", "y", "spatial_ref")])
    return with_provenance(out, algorithm="maximum-NDVI composite", params={"bands": bands}, source=cube)
