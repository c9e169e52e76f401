"""Evapotranspiration workflow: Landsat surface temperature + the nearest weather station -> daily and ten-day ET.

From one catalogue: the Landsat 8/9 Collection 2 Level-2 items (kind ``"thermal"``:
:data:`terra_lab.profiles.LANDSAT_C2_L2`) over the area, and the nearest station of a weather-station
collection (:data:`~terra_lab.profiles._collections.METEO_STATIONS_COLLECTION`: one item per station,
CSV tables read by :func:`terra_lab.cube.load_station`).  Then, with
:mod:`terra_lab.products.evapotranspiration`:

1. the SSEBop ET fraction of each overpass (Senay et al. 2013: cold reference ``c Tmax`` fitted on the
   dense, well-watered pixels of the date, ``dT`` from the day's clear-sky net radiation: the station's
   ``rn_clear_w_m2`` column, else FAO-56's from its daily table), clouds,
   shadows and the swath's edge masked; dates with less than ``min_clear`` of the area clear are left
   out (a note says which);
2. the station's FAO-56 reference ET0 for every day of the period, daily actual ET = ET fraction
   (interpolated between the clear overpasses) x ET0;
3. ten-day sums (dekads) and the water-stress index ``1 - ET/ET0`` of each dekad;
4. with the station's ``overpass`` table, the instantaneous TSEB-PT fluxes (Rn, H, LE, G) of the
   clearest overpass (Norman et al. 1995).

The water dashboard (analysis ``"evapotranspiration"``) displays the result.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._aux import find_collection, open_catalog
from ._notes import Note
from ._progress import Progress, report

__all__ = ["ETResult", "ETSettings", "et_workflow", "nearest_station"]

#: Landsat is searched this many days beyond the period (one repeat cycle), so the fraction of its
#: first and last days is interpolated between overpasses rather than held from one side
OVERPASS_MARGIN_DAYS = 16
_LANDSAT_BANDS = ["blue", "red", "nir", "swir16", "swir22", "lwir11"]


@dataclass(frozen=True)
class ETSettings:
    """``max_station_km``: the farthest station used (km from the area's centre); ``min_clear``: share of
    the area that must be clear for an overpass to be used; ``max_gap_days``: missing station days
    filled by linear interpolation up to this run length; ``cold_ndvi``, ``rah``: SSEBop's NDVI of the
    well-watered pixels fitting ``c`` and aerodynamic resistance (s/m); ``fluxes``: TSEB-PT fluxes of
    the clearest overpass (needs the station's ``overpass`` table)."""

    max_station_km: float = 50.0
    min_clear: float = 0.2
    max_gap_days: int = 3
    cold_ndvi: float = 0.7
    rah: float = 110.0
    fluxes: bool = True


@dataclass(frozen=True)
class ETResult:
    """What :func:`et_workflow` computed (in memory)."""

    et_daily: xr.DataArray      #: (y, x) actual ET (mm/day) of the clearest overpass day (its ``time`` kept)
    et_dekad: xr.DataArray      #: (time, y, x) ten-day sums of actual ET (mm); ``time``: each dekad's first day
    stress: xr.DataArray        #: (time, y, x) water-stress index 1 - ET/ET0 of each dekad (0-1)
    fraction: xr.DataArray      #: (time, y, x) SSEBop ET fraction of the overpasses used (NaN: cloud)
    dates: pd.DataFrame         #: per overpass in the period: mean ET and ET0 (mm/day), stress, clear share
    dekads: pd.DataFrame        #: per dekad: mean ET sum, ET0 sum (mm), mean stress, days
    station: dict               #: the station used: id, name, longitude, latitude, elevation_m, distance_km
    fluxes: xr.Dataset | None = None  #: TSEB-PT rn, h, le, g (W/m2) at the clearest overpass, or None
    notes: tuple = ()
    provenance: dict = field(default_factory=dict)


def _distance_km(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    """Great-circle distance (haversine, R = 6371 km)."""
    p0, p1 = math.radians(lat0), math.radians(lat1)
    a = math.sin((p1 - p0) / 2) ** 2 + math.cos(p0) * math.cos(p1) * math.sin(math.radians(lon1 - lon0) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def nearest_station(catalog: Any, aoi: Any, max_km: float, collection: str | None = None) -> tuple[dict, float]:
    """(item, distance in km) of the station of ``collection`` nearest the centre of ``aoi``.

    Raises :class:`~terra_lab.errors.UnknownCollectionError` when the catalogue has no station
    collection and :class:`~terra_lab.errors.NoItemsFoundError` when no station is within ``max_km``.
    """
    from ..catalog import parse_aoi
    from ..cube._station import station_site
    from ..errors import NoItemsFoundError, UnknownCollectionError
    from ..profiles._collections import METEO_STATIONS_COLLECTION

    cat = open_catalog(catalog)
    sid = collection or METEO_STATIONS_COLLECTION
    if sid not in cat.collection_ids():
        raise UnknownCollectionError(f"the catalogue {cat.name!r} has no weather-station collection {sid!r} "
                                     f"(collections: {cat.collection_ids()}); pass station_collection= with the id "
                                     "of a collection of station items (point, CSV table 'daily')")
    centre = parse_aoi(aoi).centroid
    lon, lat = centre.x, centre.y

    def ranked_within(km: float) -> list[tuple[float, dict]]:
        dlat, dlon = km / 111.0, km / (111.0 * max(math.cos(math.radians(lat)), 0.01))
        found = cat.search((lon - dlon, lat - dlat, lon + dlon, lat + dlat), None, sid).items
        return sorted(((_distance_km(lon, lat, station_site(it)["longitude"], station_site(it)["latitude"]), it)
                       for it in found), key=lambda pair: pair[0])

    ranked = ranked_within(max_km)
    if not ranked or ranked[0][0] > max_km:
        ranked = ranked_within(max(10 * max_km, 100.0))  # to name the nearest one in the message
        nearest = f"; the nearest, {ranked[0][1]['id']!r}, is {ranked[0][0]:.1f} km away" if ranked else ""
        raise NoItemsFoundError(f"no station of {sid!r} in {cat.name!r} within {max_km:g} km of the area's centre "
                                f"({lon:.4f}, {lat:.4f}){nearest}; raise ETSettings.max_station_km or add a station")
    return ranked[0][1], ranked[0][0]


def _fill_short_gaps(table: pd.DataFrame, max_gap: int) -> pd.DataFrame:
    """``table`` with its runs of missing days no longer than ``max_gap`` interpolated linearly (longer runs,
    and runs at either end, stay NaN)."""
    missing = table.isna().any(axis=1)
    run = (missing != missing.shift()).cumsum()
    short = missing & (missing.groupby(run).transform("sum") <= max_gap)
    return table.mask(short, table.interpolate(limit_area="inside"), axis=0)


def _station_days(daily: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, max_gap: int, where: str):
    """The station's days of the period, short gaps filled; (table, filled days, note or None)."""
    from ..errors import NoItemsFoundError

    days = daily.loc[start:end]
    if days.empty:
        raise NoItemsFoundError(f"{where} has no day between {start.date()} and {end.date()} (it covers "
                                f"{daily.index[0].date()} .. {daily.index[-1].date()}); choose a period it covers")
    gaps = days.index[days.isna().any(axis=1)]
    filled = _fill_short_gaps(daily, max_gap).loc[days.index]
    left = filled.index[filled.isna().any(axis=1)]
    if len(left):
        raise NoItemsFoundError(f"{where} misses {len(left)} day(s) of the period that cannot be interpolated "
                                f"(gaps longer than {max_gap} days or at its ends), first {left[0].date()}; "
                                "choose another period or raise ETSettings.max_gap_days")
    return filled, [d.strftime("%Y-%m-%d") for d in gaps]


def _dates_table(frac: xr.DataArray, clear: pd.Series, daily: xr.DataArray, et0: xr.DataArray) -> pd.DataFrame:
    rows = []
    for t in frac["time"].values:
        day = pd.Timestamp(t).normalize()
        if day not in et0.indexes["time"]:
            continue  # an overpass of the margin, outside the period
        et_mean = float(daily.sel(time=day).mean(("y", "x")))
        e0 = float(et0.sel(time=day))
        rows.append({"time": day, "et": et_mean, "et0": e0, "stress": float(np.clip(1.0 - et_mean / e0, 0, 1)),
                     "clear": float(clear[pd.Timestamp(t)])})
    frame = pd.DataFrame(rows, columns=["time", "et", "et0", "stress", "clear"])
    return frame.set_index("time").astype("float64")


def et_workflow(catalog: Any, aoi: Any, start: Any, end: Any, settings: ETSettings | None = None, *,
                thermal_collection: str | None = None, station_collection: str | None = None,
                max_cloud: float | None = None, progress: Progress | None = None) -> ETResult:
    """Daily and ten-day evapotranspiration over ``aoi`` from ``start`` to ``end``.

    ``thermal_collection``: the Landsat C2 L2 collection (found by kind when None);
    ``station_collection``: the weather stations (default
    :data:`~terra_lab.profiles._collections.METEO_STATIONS_COLLECTION`); ``max_cloud``: the Landsat
    items' largest cloud cover (%, ``eo:cloud_cover``).

    Raises
    ------
    DateRangeError
        An empty or reversed period.
    NoItemsFoundError
        No Landsat item over the area and period, no station within ``settings.max_station_km``, every
        overpass cloudy (less than ``settings.min_clear`` clear), or station days missing.

    Examples
    --------
    >>> r = et_workflow("demo", (6.272, 45.183, 6.294, 45.195), "2024-06-01", "2024-08-31")  # doctest: +SKIP
    >>> r.dates[["et", "et0", "stress"]]                                                      # doctest: +SKIP
    """
    import terra_lab

    from ..catalog import parse_aoi
    from ..cube import load_station
    from ..errors import DateRangeError, NoItemsFoundError
    from ..products import evapotranspiration as et

    settings = settings or ETSettings()
    if start is None or end is None or pd.Timestamp(start) > pd.Timestamp(end):
        raise DateRangeError(f"the period {start} .. {end} is empty or reversed; give start <= end")
    t0, t1 = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    report(progress, "search")
    cat = open_catalog(catalog)
    lid = find_collection(cat, "thermal", thermal_collection)
    margin = pd.Timedelta(days=OVERPASS_MARGIN_DAYS)
    landsat = cat.search(aoi, (str((t0 - margin).date()), str((t1 + margin).date())), lid, max_cloud=max_cloud)
    if len(landsat) == 0:
        raise NoItemsFoundError(f"no {lid!r} (Landsat C2 L2) item of the catalogue {cat.name!r} over {aoi} between "
                                f"{(t0 - margin).date()} and {(t1 + margin).date()}; widen the area or the period")
    item, distance = nearest_station(cat, aoi, settings.max_station_km, station_collection)

    report(progress, "read")
    daily_all = load_station(item)
    site = {k: daily_all.attrs[k] for k in ("id", "name", "longitude", "latitude", "elevation_m")}
    if site["elevation_m"] is None:
        raise NoItemsFoundError(f"station {site['id']!r} has no elevation (properties.elevation_m): FAO-56 needs it")
    rn_source = "station"
    if "rn_clear_w_m2" not in daily_all.columns:  # SSEBop's dT: the day's clear-sky net radiation (FAO-56)
        rn_source = "FAO-56 clear sky (clear_sky_net_radiation)"
        daily_all = daily_all.assign(rn_clear_w_m2=et.clear_sky_net_radiation(
            daily_all.tmax_c.to_numpy(), daily_all.tmin_c.to_numpy(), daily_all.ea_kpa.to_numpy(),
            elevation=site["elevation_m"], latitude=site["latitude"], doy=daily_all.index.dayofyear.to_numpy()))
    where = f"station {site['id']!r}"
    days, gaps = _station_days(daily_all, t0, t1, settings.max_gap_days, where)
    notes: list = []
    if days.index[0] > t0 or days.index[-1] < t1:
        notes.append(Note("et_period_clipped", station=site["id"], first=days.index[0].strftime("%Y-%m-%d"),
                          last=days.index[-1].strftime("%Y-%m-%d")))
    if gaps:
        notes.append(Note("et_station_gaps", station=site["id"], n=len(gaps), first=gaps[0]))
    cube = terra_lab.load(landsat, bands=_LANDSAT_BANDS, bbox=parse_aoi(aoi), apply_masks=["cloud", "shadow", "edge"])
    overpass_days = pd.DatetimeIndex(cube["time"].values).normalize()
    weather = _fill_short_gaps(daily_all, settings.max_gap_days).reindex(overpass_days)
    known = weather[["tmax_c", "rn_clear_w_m2"]].notna().all(axis=1).to_numpy()
    if not known.any():
        raise NoItemsFoundError(f"{where} has no data on any Landsat overpass day ({list(overpass_days.date)}); "
                                "choose a period the station covers")
    cube, weather = cube.isel(time=np.flatnonzero(known)), weather[known]
    def along(values: np.ndarray) -> xr.DataArray:  # one value per overpass
        return xr.DataArray(values, dims="time", coords={"time": cube["time"]})

    tmax = along(weather["tmax_c"].to_numpy() + 273.15)
    p_kpa = 101.3 * ((293.0 - 0.0065 * site["elevation_m"]) / 293.0) ** 5.26  # FAO-56 eq. 7
    d_t = et.ssebop_dt(along(weather["rn_clear_w_m2"].to_numpy()), tmax, p_kpa, rah=settings.rah)
    ndvi = (cube["nir"] - cube["red"]) / (cube["nir"] + cube["red"])
    fraction = et.ssebop_fraction(cube["lwir11"], tmax, d_t, ndvi=ndvi,
                                  params=et.SSEBopParams(rah=settings.rah, cold_ndvi=settings.cold_ndvi))

    report(progress, "compute")
    fraction = fraction.compute()
    clear = fraction.notnull().mean(("y", "x")).to_series()
    used = clear[clear >= settings.min_clear]
    if used.empty:
        raise NoItemsFoundError(f"every Landsat overpass over {aoi} is cloudy: at most {clear.max():.0%} of the area "
                                f"clear ({len(clear)} dates, {settings.min_clear:.0%} needed); widen the period or "
                                "lower ETSettings.min_clear")
    left_out = [pd.Timestamp(t).strftime("%Y-%m-%d") for t in clear.index if t not in used.index]
    if left_out:
        notes.append(Note("et_cloudy_dates", n=len(left_out), dates=", ".join(left_out)))
    fraction = fraction.sel(time=used.index.values)
    et0 = xr.DataArray(et.reference_et_daily(days.tmax_c.to_numpy(), days.tmin_c.to_numpy(), days.rs_mj_m2_day.to_numpy(),
                                             days.ea_kpa.to_numpy(), days.u2_m_s.to_numpy(),
                                             elevation=site["elevation_m"], latitude=site["latitude"],
                                             doy=days.index.dayofyear.to_numpy()),
                       dims="time", coords={"time": days.index.values}, name="et0",
                       attrs={"long_name": "FAO-56 grass reference ET", "units": "mm day-1"})
    daily = et.daily_et(fraction, et0)
    dekad = et.dekad_sums(daily)
    stress = et.water_stress_index(dekad, et.dekad_sums(et0))
    best = pd.Timestamp(used.idxmax())
    in_period = [t for t in used.index if t0 <= pd.Timestamp(t).normalize() <= t1]
    shown_day = pd.Timestamp(max(in_period, key=lambda t: used[t])).normalize() if in_period else \
        min(days.index, key=lambda d: abs(d - best.normalize()))
    et_daily = daily.sel(time=shown_day).assign_attrs(daily.attrs)
    fluxes = None
    if settings.fluxes:
        fluxes = _fluxes(item, cube.sel(time=[best]), best, notes, site["id"])
    dates = _dates_table(fraction, clear, daily, et0)
    dek = et.dekad_sums(et0)
    dekads = pd.DataFrame({"et": dekad.mean(("y", "x")).values, "et0": dek.values,
                           "stress": stress.mean(("y", "x")).values, "days": dekad["n_days"].values},
                          index=pd.DatetimeIndex(dekad["time"].values, name="time"))
    station = {**site, "distance_km": round(distance, 3)}
    for arr in (et_daily, dekad, stress, fraction):
        arr.attrs["terra_lab:station"] = site["id"]
    return ETResult(
        et_daily=et_daily, et_dekad=dekad, stress=stress, fraction=fraction, dates=dates, dekads=dekads,
        station=station, fluxes=fluxes, notes=tuple(notes),
        provenance={"catalog": cat.name, "thermal_collection": lid, "station": site["id"],
                    "station_distance_km": round(distance, 3), "aoi": str(aoi), "period": [str(start), str(end)],
                    "items": len(landsat), "dates_used": [pd.Timestamp(t).strftime("%Y-%m-%d") for t in used.index],
                    "station_days_filled": gaps, "clear_sky_net_radiation": rn_source, "settings": asdict(settings)})


def _fluxes(item: dict, cube: xr.Dataset, when: pd.Timestamp, notes: list, station_id: str) -> xr.Dataset | None:
    """TSEB-PT fluxes of one overpass, forced by the station's ``overpass`` row of that day (None and a
    note when the station has no such table or row)."""
    from ..cube import load_station
    from ..products import evapotranspiration as et

    need = ("air_temperature_c", "wind_speed_m_s", "vapour_pressure_kpa", "pressure_kpa", "solar_radiation_w_m2",
            "solar_zenith_deg")
    if "overpass" not in item.get("assets", {}):
        notes.append(Note("et_no_overpass", station=station_id))
        return None
    table = load_station(item, "overpass", required=need)
    rows = table[table.index.normalize() == when.normalize()]
    if rows.empty:
        notes.append(Note("et_no_overpass", station=station_id))
        return None
    row = rows.iloc[0]
    ndvi = (cube["nir"] - cube["red"]) / (cube["nir"] + cube["red"])
    lai = et.lai_from_ndvi(ndvi)
    fluxes = et.tseb_pt(cube["lwir11"], lai, albedo=et.broadband_albedo_landsat(cube),
                        air_temperature=row.air_temperature_c + 273.15, wind_speed=row.wind_speed_m_s,
                        vapour_pressure=row.vapour_pressure_kpa * 10, pressure=row.pressure_kpa * 10,
                        solar_radiation=row.solar_radiation_w_m2, canopy_height=xr.where(lai > 2.5, 10.0, 0.5),
                        solar_zenith=row.solar_zenith_deg)
    return fluxes[["rn", "h", "le", "g"]].isel(time=0).compute()
