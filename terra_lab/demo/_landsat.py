"""Demo Landsat 8/9 Collection 2 Level-2 series with an evapotranspiration truth, and its weather station.

Six summer overpasses of 2024, 16 days apart, at 30 m over the main tile, written as USGS Level-2
science products (``LC09_L2SP_196029_...`` folders: ``SR_B1``..``SR_B7``, ``ST_B10``, ``QA_PIXEL``
uint16 GeoTIFFs with the Collection 2 scale and offset) and indexed in the demo catalogue's
``landsat-c2-l2`` collection (:mod:`terra_lab.catalog._landsat_items`).

The truth is analytic.  Each pixel's ET fraction (``ET / ET0``) follows its water availability:
a value per land cover (irrigated summer crops and water wet, forests moist, grassland and alpine
meadows drying through the summer, harvested winter crops and towns dry) modulated by the scene's
patch noise.  The surface temperature closes the energy balance of Senay et al. (2013)'s
bounds with known fluxes: a wet surface sits at the cold reference ``Tc = C_FACTOR * Tmax``, and
the sensible heat of a drier one raises it by ``(1 - ETf) dT`` with ``dT = Rn rah / (rho cp)``
(``rah`` 110 s/m, ``Rn`` the day's clear-sky net radiation of the station), plus 0.3 K of sensor
noise.  Daily actual ET is the truth fraction, interpolated linearly between overpasses, times the
station's FAO-56 grass reference ET0.  Clouds (QA_PIXEL bits 1 dilated, 3 cloud, 4 shadow) cover part
of two dates and their pixels are cold and bright; the lake sets bit 7 (water).

Files: ``landsat/<product>/``, ``truth/et_fraction_landsat_R30.tif`` (one band per date, float32),
and the station's tables ``meteo/station_daily.csv`` (the daily series) and ``meteo/station_overpass.csv``
(the values at each overpass), published as the item of the catalogue collection
``terra-lab-demo-meteo-stations`` (:func:`terra_lab.catalog._station_items.station_item`: a point,
the CSVs as ``text/csv`` assets ``daily`` and ``overpass`` with their columns and units in
``table:columns``), read back by :func:`terra_lab.cube.load_station`.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
from pyproj import Transformer

from ._muscate import Tile, _Grid, write_cog
from ._scene import SPECTRA, Scene

__all__ = ["C_FACTOR", "ET_DAYS", "LANDSAT_DIR", "RAH", "STATION_DIR", "STATION_ID", "add_landsat", "station",
           "station_columns", "write_landsat"]

LANDSAT_DIR, STATION_DIR = "landsat", "meteo"
STATION_ID = "terra-lab-demo-station"
#: Overpass days: every 16 days through the summer of 2024 (Landsat 9's repeat cycle).
ET_DAYS = tuple(dt.date(2024, 6, 5) + dt.timedelta(days=16 * i) for i in range(6))
#: Cold-reference factor and aerodynamic resistance of the truth's energy balance (Senay et al. 2013).
C_FACTOR, RAH = 0.985, 110.0
_DAILY = (dt.date(2024, 6, 1), dt.date(2024, 8, 31))
_CLOUDY = {1: (0.30, 0.35, 700.0), 4: (0.70, 0.55, 900.0)}  # date index -> centre (u, v) and radius (m)
_RES = 30.0
_BANDS = {"SR_B1": 0, "SR_B2": 0, "SR_B3": 1, "SR_B4": 2, "SR_B5": 7, "SR_B6": 8, "SR_B7": 9}  # -> S2 spectrum index
_ETF_LC = {1: 0.12, 2: 1.0, 3: 0.25, 4: 0.85, 5: 1.0, 6: 1.0, 7: 0.55, 8: 1.0}  # forests and irrigated crops: wet
_DRYING = {4: 0.35, 7: 0.40}  # share of the fraction lost between June 1 and August 31


def _site(tile: Tile) -> tuple[float, float]:
    tr = Transformer.from_crs(tile.epsg, 4326, always_xy=True)
    lon, lat = tr.transform(tile.x0 + tile.extent / 2, tile.y0 - tile.extent / 2)
    return float(lon), float(lat)


def _svp(t):
    return 0.6108 * np.exp(17.27 * t / (t + 237.3))


def station(tile: Tile, elevation: float = 700.0) -> dict:
    """The demo's weather station: smooth analytic summer weather, daily and at each overpass."""
    lon, lat = _site(tile)
    n = (_DAILY[1] - _DAILY[0]).days + 1
    days = [_DAILY[0] + dt.timedelta(days=i) for i in range(n)]
    i = np.arange(n)
    tmax = 27.0 + 4.0 * np.sin(np.pi * i / (n - 1)) + 1.5 * np.sin(2 * np.pi * i / 9.0)
    tmin = tmax - 12.5 - 1.0 * np.cos(2 * np.pi * i / 13.0)
    rs = 26.5 - 5.0 * (i / (n - 1)) ** 1.5 + 1.2 * np.sin(2 * np.pi * i / 7.0)  # MJ m-2 day-1
    ea = _svp(tmin) * 0.92  # kPa: dew point near the minimum temperature
    u2 = 2.0 + 0.6 * np.sin(2 * np.pi * i / 5.0)
    p_kpa = 101.3 * ((293.0 - 0.0065 * elevation) / 293.0) ** 5.26
    doy = np.array([d.timetuple().tm_yday for d in days])
    # day's clear-sky net radiation (W/m2) for SSEBop's dT: FAO-56 Rso, albedo 0.23, Rnl of eq. 39
    phi, dr = np.radians(lat), 1 + 0.033 * np.cos(2 * np.pi * doy / 365)
    decl = 0.409 * np.sin(2 * np.pi * doy / 365 - 1.39)
    ws = np.arccos(-np.tan(phi) * np.tan(decl))
    ra = 24 * 60 / np.pi * 0.082 * dr * (ws * np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.sin(ws))
    rso = (0.75 + 2e-5 * elevation) * ra
    rnl = 4.903e-9 * ((tmax + 273.16) ** 4 + (tmin + 273.16) ** 4) / 2 * (0.34 - 0.14 * np.sqrt(ea)) * 1.0
    rn_clear = ((1 - 0.23) * rso - rnl) * 1e6 / 86400.0
    daily = {
        "date": [d.isoformat() for d in days], "tmax_c": tmax.round(3).tolist(), "tmin_c": tmin.round(3).tolist(),
        "rs_mj_m2_day": rs.round(3).tolist(), "ea_kpa": ea.round(4).tolist(), "u2_m_s": u2.round(3).tolist(),
        "rn_clear_w_m2": rn_clear.round(2).tolist(),
    }
    overpass = []
    for day in ET_DAYS:
        k = (day - _DAILY[0]).days
        d = day.timetuple().tm_yday
        decl_d = 0.409 * np.sin(2 * np.pi * d / 365 - 1.39)
        hour_angle = np.radians(15.0 * (10.5 + lon / 15.0 - 12.0))  # 10:30 UTC, local solar time
        cos_sza = np.sin(phi) * np.sin(decl_d) + np.cos(phi) * np.cos(decl_d) * np.cos(hour_angle)
        ta = tmin[k] + 0.82 * (tmax[k] - tmin[k])
        overpass.append({
            "date": day.isoformat(), "time_utc": "10:30", "air_temperature_c": round(float(ta), 3),
            "air_temperature_max_c": round(float(tmax[k]), 3),
            "wind_speed_m_s": round(float(u2[k] * 1.3), 3), "vapour_pressure_kpa": round(float(ea[k]), 4),
            "pressure_kpa": round(float(p_kpa), 3), "solar_zenith_deg": round(float(np.degrees(np.arccos(cos_sza))), 3),
            "solar_radiation_w_m2": round(float(0.76 * 1361.0 * dr[k] * cos_sza), 2),
            "rn_clear_w_m2": round(float(rn_clear[k]), 2),
        })
    return {
        "site": {"name": "terra_lab demo station", "longitude": round(lon, 5), "latitude": round(lat, 5),
                 "elevation_m": elevation, "wind_height_m": 2.0},
        "sources": "analytic (terra_lab.demo._landsat.station); ET0 by FAO-56 Penman-Monteith from the daily series",
        "daily": daily, "overpass": overpass,
    }


#: the station's tables: column -> (type, unit, meaning); written to the items' ``table:columns``
_COLUMNS = {
    "daily": {
        "date": ("date", None, "day (UTC)"),
        "tmax_c": ("float64", "degC", "daily maximum air temperature at 2 m"),
        "tmin_c": ("float64", "degC", "daily minimum air temperature at 2 m"),
        "rs_mj_m2_day": ("float64", "MJ m-2 day-1", "daily incoming shortwave radiation"),
        "ea_kpa": ("float64", "kPa", "daily mean actual vapour pressure"),
        "u2_m_s": ("float64", "m s-1", "daily mean wind speed at 2 m"),
        "rn_clear_w_m2": ("float64", "W m-2", "day-mean clear-sky net radiation (FAO-56 Rso, albedo 0.23, eq. 39)"),
    },
    "overpass": {
        "datetime": ("datetime", None, "overpass time (UTC)"),
        "air_temperature_c": ("float64", "degC", "air temperature at the overpass"),
        "air_temperature_max_c": ("float64", "degC", "the day's maximum air temperature"),
        "wind_speed_m_s": ("float64", "m s-1", "wind speed at the overpass, above the canopies (blending height)"),
        "vapour_pressure_kpa": ("float64", "kPa", "actual vapour pressure at the overpass"),
        "pressure_kpa": ("float64", "kPa", "air pressure"),
        "solar_zenith_deg": ("float64", "deg", "solar zenith angle at the overpass"),
        "solar_radiation_w_m2": ("float64", "W m-2", "incoming shortwave radiation at the overpass"),
        "rn_clear_w_m2": ("float64", "W m-2", "the day's clear-sky net radiation (day mean)"),
    },
}


def station_columns(table: str) -> list[dict]:
    """``table:columns`` of the station's ``"daily"`` or ``"overpass"`` table."""
    return [{"name": name, "type": kind, "description": text, **({"unit": unit} if unit else {})}
            for name, (kind, unit, text) in _COLUMNS[table].items()]


def _write_tables(root: Path, st: dict) -> dict[str, dict]:
    """Write the station's CSV tables under ``root / STATION_DIR``; return them as :func:`station_item` wants."""
    folder = root / STATION_DIR
    folder.mkdir(parents=True, exist_ok=True)
    rows = {"daily": [[st["daily"][c][i] for c in _COLUMNS["daily"]] for i in range(len(st["daily"]["date"]))],
            "overpass": [[f"{o['date']}T{o['time_utc']}:00Z", *(o[c] for c in list(_COLUMNS["overpass"])[1:])]
                         for o in st["overpass"]]}
    tables = {}
    for key, body in rows.items():
        path = folder / f"station_{key}.csv"
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(list(_COLUMNS[key]))
            w.writerows(body)
        tables[key] = {"path": path, "columns": station_columns(key), "rows": len(body),
                       "title": {"daily": "daily weather", "overpass": "weather at the Landsat overpasses"}[key]}
    return tables


def _dt(rn: float, ta_k: float, p_kpa: float) -> float:
    rho = 1000.0 * p_kpa / (1.01 * ta_k * 287.0)
    return rn * RAH / (rho * 1013.0)


def _fraction(scene: Scene, grid: _Grid, day: dt.date) -> np.ndarray:
    lc = grid.static["landcover"]
    base = np.zeros(lc.shape, np.float32)
    t = (day - _DAILY[0]).days / (_DAILY[1] - _DAILY[0]).days
    for code, value in _ETF_LC.items():
        base[lc == code] = value * (1.0 - _DRYING.get(code, 0.0) * t)
    green = scene.greenness(lc, day)
    base = np.where(lc == 3, 0.15 + 0.7 * green, base)  # winter crops: ET follows the (harvested) canopy
    noise = 0.06 * scene._patch(grid.x, grid.y)  # the scene's own patch field
    return np.clip(np.where(lc == 8, 1.0, base + noise), 0.02, 1.0).astype(np.float32)


def _reflectance(scene: Scene, grid: _Grid, day: dt.date) -> np.ndarray:
    """(7, y, x) surface reflectance of OLI B1..B7 from the scene's spectra and greenness."""
    lc = grid.static["landcover"]
    g = scene.greenness(lc, day)[..., None]
    spec = g * SPECTRA["veg"] + (1 - g) * SPECTRA["soil"]
    spec = np.where((lc == 6)[..., None], SPECTRA["conifer"], spec)
    spec = np.where((lc == 1)[..., None], SPECTRA["urban"], spec)
    spec = np.where((lc == 7)[..., None], g * SPECTRA["veg"] + (1 - g) * SPECTRA["rock"], spec)
    spec = np.where((lc == 8)[..., None], SPECTRA["water"], spec)
    return np.moveaxis(spec[..., list(_BANDS.values())], -1, 0)


def write_landsat(root: Path, scene: Scene, tile: Tile) -> dict:
    """Write the products and the truth under ``root``; return the station (its tables are written by
    :func:`add_landsat`)."""
    grid = _Grid(scene, tile, _RES)
    st = station(tile)
    rng = np.random.default_rng(scene.seed + 17)
    lake = grid.static["landcover"] == 8
    fractions = []
    u, v = (grid.x - tile.x0) / tile.extent, (tile.y0 - grid.y) / tile.extent
    for i, (day, ov) in enumerate(zip(ET_DAYS, st["overpass"])):
        etf = _fraction(scene, grid, day)
        fractions.append(etf)
        tmax_k = ov["air_temperature_max_c"] + 273.15
        d_t = _dt(ov["rn_clear_w_m2"], tmax_k, ov["pressure_kpa"])
        lst = C_FACTOR * tmax_k + (1.0 - etf) * d_t + rng.normal(0.0, 0.3, etf.shape)
        refl = _reflectance(scene, grid, day)
        qa = np.where(lake, (1 << 7) | (1 << 6), 1 << 6).astype(np.uint16)
        if i in _CLOUDY:
            cu, cv, r = _CLOUDY[i]
            dist = np.hypot(u - cu, v - cv) * tile.extent
            cloud, dilated = dist < r, dist < r + 90.0
            shadow = (np.hypot(u - cu - 0.12, v - cv - 0.06) * tile.extent < r) & ~dilated
            lst = np.where(cloud, 268.0, np.where(shadow, lst - 4.0, lst))
            refl = np.where(cloud[None], 0.5, np.where(shadow[None], refl * 0.4, refl))
            qa = np.where(dilated, (qa & ~np.uint16(1 << 6)) | (1 << 1), qa)
            qa = np.where(cloud, qa | (1 << 3), qa)
            qa = np.where(shadow, (qa & ~np.uint16(1 << 6)) | (1 << 4), qa).astype(np.uint16)
        name = f"LC09_L2SP_196029_{day:%Y%m%d}_{day + dt.timedelta(days=8):%Y%m%d}_02_T1"
        pdir = root / LANDSAT_DIR / name
        pdir.mkdir(parents=True)
        sr = np.clip(np.round((refl + 0.2) / 2.75e-05), 1, 65535).astype(np.uint16)
        for b, band in enumerate(_BANDS):
            write_cog(pdir / f"{name}_{band}.TIF", sr[b], tile, _RES, nodata=0)
        st_dn = np.clip(np.round((lst - 149.0) / 0.00341802), 1, 65535).astype(np.uint16)
        write_cog(pdir / f"{name}_ST_B10.TIF", st_dn, tile, _RES, nodata=0)
        write_cog(pdir / f"{name}_QA_PIXEL.TIF", qa, tile, _RES, nodata=1)
    (root / "truth").mkdir(exist_ok=True)
    write_cog(root / "truth" / "et_fraction_landsat_R30.tif", np.stack(fractions), tile, _RES, nodata=np.nan,
              descriptions=[d.isoformat() for d in ET_DAYS])
    return st


def add_landsat(cat, root: Path, scene: Scene, tile: Tile) -> None:
    """Write the Landsat series and the station under ``root`` and add them to ``cat`` (collections
    ``landsat-c2-l2`` and ``terra-lab-demo-meteo-stations``)."""
    from ..catalog._landsat_items import landsat_c2_items_from_folder
    from ..catalog._station_items import TABLE_EXTENSION, station_item
    from ..profiles import _collections as C

    st = write_landsat(root, scene, tile)
    items = list(landsat_c2_items_from_folder(root / LANDSAT_DIR, href_root=root / "catalog"))
    cat.add_items(items, collection=C.LANDSAT_C2_L2_COLLECTION, license="CC0-1.0",
                  title="terra_lab demo: synthetic Landsat 8/9 Collection 2 Level-2 (SR + ST)",
                  description=("Synthetic USGS Collection 2 Level-2 science products (SR_B1-B7, ST_B10, QA_PIXEL) of "
                               "summer 2024 over the demo scene, surface temperature from an ET truth "
                               "(truth/et_fraction_landsat_R30.tif); weather in the collection "
                               f"{C.METEO_STATIONS_COLLECTION}."))
    site = st["site"]
    item = station_item(STATION_ID, site["longitude"], site["latitude"], tables=_write_tables(root, st),
                        period=_DAILY, elevation_m=site["elevation_m"], title=site["name"], href_root=root / "catalog",
                        properties={"description": st["sources"]})
    cat.add_items([item], collection=C.METEO_STATIONS_COLLECTION, license="CC0-1.0",
                  title="terra_lab demo: weather stations (daily and overpass tables)",
                  description=("One item per weather station (point): CSV tables `daily` (FAO-56 reference-ET forcing) "
                               "and `overpass` (values at the Landsat overpasses), columns and units in table:columns."),
                  providers=[{"name": "terra_lab", "roles": ["producer"]}],
                  stac_extensions=["https://stac-extensions.github.io/item-assets/v1.0.0/schema.json", TABLE_EXTENSION])
