"""Soil-moisture workflow: Sentinel-1 VV + Sentinel-2 NDVI -> soil moisture (vol.%) on the radar dates.

THEIA's *soil moisture at plot scale* method (El Hajj et al. 2017), run by
:func:`terra_lab.products.soil_moisture.soil_moisture`: the Sentinel-1 collection (S1Tiling or RTC,
found by kind ``"radar"``) and the Sentinel-2 reflectance of the same catalogue, the NDVI
interpolated to the radar dates, the Water Cloud Model inverted by its neural network (or in
closed form).  Dense vegetation (NDVI above ``ndvi_max``) and snow seen by Sentinel-2 (carried to
the radar dates) are masked, as the method does, and so is open water (Sentinel-2's water flag on
most clear dates: the smooth surface's low backscatter would read as dry soil), and so are bright
scatterers (sigma0 above the model's range on most dates: built-up blocks, layover; they would read as
saturated soil, :func:`~terra_lab.products.soil_moisture.bright_scatterers`); the result names those pixels.

Without agricultural plot outlines, sigma0 and NDVI are averaged over a small moving window
(``window`` pixels: speckle) instead of over each plot.  The water dashboard displays the result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import xarray as xr

from ._aux import find_collection
from ._progress import Progress, report
from ._search import search_reflectance

__all__ = ["NDVI_MAX_GAP_DAYS", "SoilMoistureResult", "SoilMoistureSettings", "soil_moisture_workflow"]

#: the longest gap (days) between Sentinel-2 dates over which NDVI (and snow) is interpolated to a radar
#: date (:func:`terra_lab.products.soil_moisture.ndvi_at`'s default); Sentinel-2 is searched this far
#: beyond the period
NDVI_MAX_GAP_DAYS = 30.0


@dataclass(frozen=True)
class SoilMoistureSettings:
    """Inversion ``method`` (``"nn"``: El Hajj et al.'s neural network, ``"direct"``: closed form),
    ``window`` (pixels, odd: moving mean of sigma0 and NDVI against speckle; 1: none) and
    ``ndvi_max`` (vegetation too dense above it: El Hajj et al. 2017 mask NDVI > 0.75)."""

    method: str = "nn"
    window: int = 3
    ndvi_max: float = 0.75


@dataclass(frozen=True)
class SoilMoistureResult:
    """What :func:`soil_moisture_workflow` computed (in memory)."""

    moisture: xr.DataArray    #: (time, y, x) soil moisture, vol.%, NaN where masked or not seen
    masked: xr.DataArray      #: (time, y, x) bool: dense vegetation, snow, open water or bright scatterers (masks)
    dates: pd.DataFrame       #: per radar date: mean soil moisture (vol.%), share of valid and of masked pixels
    notes: tuple = ()
    provenance: dict = field(default_factory=dict)


def _dates(moisture: xr.DataArray, masked: xr.DataArray) -> pd.DataFrame:
    valid = moisture.notnull()
    frame = pd.DataFrame({
        "mean": moisture.mean(("x", "y")).values,
        "valid": valid.mean(("x", "y")).values,
        "masked": masked.mean(("x", "y")).values,
    }, index=pd.DatetimeIndex(moisture["time"].values, name="time"))
    return frame.astype("float64")


def _smooth(da: xr.DataArray, window: int) -> xr.DataArray:
    if window <= 1:
        return da
    out = da.rolling(x=window, y=window, center=True, min_periods=1).mean()
    return out.assign_attrs(da.attrs)


def soil_moisture_workflow(catalog: Any, aoi: Any, start: Any, end: Any, settings: SoilMoistureSettings | None = None,
                           *, collection: str | None = None, s1_collection: str | None = None,
                           max_cloud: float | None = None, progress: Progress | None = None) -> SoilMoistureResult:
    """Soil moisture (vol.%) over ``aoi`` on the Sentinel-1 dates from ``start`` to ``end``.

    ``collection``: the Sentinel-2 reflectance collection, ``s1_collection``: the Sentinel-1 one
    (both found by kind when None).  Raises :class:`~terra_lab.errors.NoItemsFoundError` when either
    has nothing over the area and period.

    Examples
    --------
    >>> r = soil_moisture_workflow("demo", (6.272, 45.183, 6.294, 45.195), "2024-04-01", "2024-06-30")  # doctest: +SKIP
    >>> r.dates["mean"]                                                                                 # doctest: +SKIP
    """
    import dataclasses

    import numpy as np

    import terra_lab

    from ..catalog import parse_aoi
    from ..errors import DateRangeError, NoItemsFoundError
    from ..products import soil_moisture as sm

    settings = settings or SoilMoistureSettings()
    if settings.window < 1 or settings.window % 2 == 0:
        raise ValueError(f"window={settings.window}: give an odd number of pixels (1: no smoothing)")
    report(progress, "search")
    # Sentinel-2 beyond the period by the NDVI's interpolation gap: the first and last radar dates get an NDVI
    margin = pd.Timedelta(days=NDVI_MAX_GAP_DAYS)
    if start is None or end is None or pd.Timestamp(start) > pd.Timestamp(end):
        raise DateRangeError(f"the period {start} .. {end} is empty or reversed; give start <= end")
    cat, cid, res = search_reflectance(catalog, aoi, (pd.Timestamp(start) - margin).date(),
                                       (pd.Timestamp(end) + margin).date(), collection=collection, max_cloud=max_cloud)
    sid = find_collection(cat, "radar", s1_collection)
    radar = cat.search(aoi, (str(start), str(end)), sid)
    if len(radar) == 0:
        raise NoItemsFoundError(f"no {sid!r} (Sentinel-1) item of the catalogue {cat.name!r} over {aoi} between "
                                f"{start} and {end}; widen the area or the period")
    report(progress, "read")
    s1 = terra_lab.load(radar, bands=["vv", "incidence"], resolution=20, bbox=parse_aoi(aoi))
    s2 = terra_lab.load(res, bands=["red", "nir"], like=s1, apply_masks=True)
    ndvi = (s2["nir"] - s2["red"]) / (s2["nir"] + s2["red"])
    notes: tuple = ()
    frozen = None
    if "snow" in s2:  # snow seen by Sentinel-2 (its clear dates), carried to the radar dates
        snow = s2["snow"].where(~s2["cloud"]) if "cloud" in s2 else s2["snow"]
        frozen = sm.ndvi_at(snow.astype("float32"), s1["time"], max_gap_days=NDVI_MAX_GAP_DAYS) > 0.5
    params = dataclasses.replace(sm.WCM_VV, ndvi_max=settings.ndvi_max)
    # built-up blocks, layover: above the model's range on most dates, out before the window mixes them in
    nd_px = sm.ndvi_at(ndvi, s1["time"], max_gap_days=NDVI_MAX_GAP_DAYS).assign_coords(time=s1["time"])
    bright = sm.bright_scatterers(s1["vv"], nd_px, s1["incidence"], params=params)
    radar_in = s1.assign(vv=_smooth(s1["vv"].where(~bright), settings.window))
    report(progress, "compute")
    nd = sm.ndvi_at(_smooth(ndvi, settings.window), s1["time"], max_gap_days=NDVI_MAX_GAP_DAYS)
    nd = nd.assign_coords(time=s1["time"])
    moisture = sm.soil_moisture(radar_in, nd, method=settings.method, params=params, frozen=frozen).where(~bright)
    masked = (nd > settings.ndvi_max) | bright
    if frozen is not None:
        masked = masked | frozen.assign_coords(time=s1["time"]).fillna(False).astype(bool)
    moisture, masked = (v.compute() for v in xr.align(moisture, masked, join="override"))
    if "water" in s2:  # open water (MAJA's water flag on most clear dates): no soil to estimate
        clear = ~s2["cloud"] if "cloud" in s2 else xr.ones_like(s2["water"], dtype=bool)
        water = (s2["water"].astype("float32").where(clear).mean("time") > 0.5).compute()
        moisture = moisture.where(~water)
        masked = masked | water
    masked = (masked & moisture.isnull()).rename("masked")
    moisture = moisture.rename("soil_moisture")
    moisture.attrs.setdefault("units", "%")
    moisture.attrs["terra_lab:quantity"] = "volumetric soil moisture (vol.%)"
    return SoilMoistureResult(
        moisture=moisture, masked=masked, dates=_dates(moisture, masked), notes=notes,
        provenance={"catalog": cat.name, "collection": cid, "s1_collection": sid, "aoi": str(aoi),
                    "period": [str(start), str(end)], "items": len(res), "s1_items": len(radar),
                    "settings": asdict(settings), "valid_share": float(np.isfinite(moisture.values).mean())})
