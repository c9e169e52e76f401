"""Validation of search inputs: areas of interest and date ranges."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from ..errors import AOIError, DateRangeError, UnknownCollectionError

__all__ = ["DateRange", "SearchQuery", "parse_aoi", "parse_dates"]

DateRange = tuple[pd.Timestamp | None, pd.Timestamp | None]

_AOI_HELP = (
    "pass a (west, south, east, north) bbox in degrees, a GeoJSON dict, a shapely geometry, "
    "a GeoDataFrame/GeoSeries, a WKT string or the path of a vector file"
)


def parse_aoi(aoi: Any, *, crs: Any = "EPSG:4326") -> BaseGeometry:
    """Return the area of interest as a valid, non-empty shapely geometry in EPSG:4326.

    Parameters
    ----------
    aoi
        A ``(west, south, east, north)`` bbox, a GeoJSON geometry/Feature/FeatureCollection,
        a shapely geometry, a GeoDataFrame or GeoSeries (reprojected from its own CRS),
        a WKT string, or the path of a vector file readable by geopandas.
    crs
        CRS of ``aoi`` when it carries none (bbox, GeoJSON, shapely, WKT).

    Raises
    ------
    AOIError
        With what was wrong and how to fix it.
    """
    if aoi is None:
        raise AOIError(f"no area of interest given; {_AOI_HELP}")
    geom, own_crs = _to_geometry(aoi)
    src_crs = own_crs or crs
    if geom.is_empty:
        raise AOIError(f"the area of interest {_short(aoi)} is empty; {_AOI_HELP}")
    coords = shapely.get_coordinates(geom)
    if not all(math.isfinite(v) for v in coords.ravel()):
        raise AOIError(f"the area of interest {_short(aoi)} has non-finite coordinates (NaN or inf)")
    if str(src_crs).upper() not in ("EPSG:4326", "OGC:CRS84", "4326"):
        import geopandas as gpd
        from pyproj.exceptions import CRSError

        try:
            geom = gpd.GeoSeries([geom], crs=src_crs).to_crs("EPSG:4326").iloc[0]
        except (CRSError, ValueError, TypeError) as e:
            raise AOIError(f"crs={src_crs!r} of the area of interest is not a CRS pyproj knows ({e}); give an "
                           "EPSG code such as 'EPSG:2154'") from None
        if not geom.is_empty and not all(math.isfinite(v) for v in shapely.get_coordinates(geom).ravel()):
            raise AOIError(f"the area of interest {_short(aoi)} lies outside the area where crs={src_crs!r} is "
                           "defined (its coordinates do not project to longitude/latitude); check the crs")
    else:
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
            raise AOIError(
                f"the area of interest {_short(aoi)} has coordinates outside longitude [-180, 180] / "
                f"latitude [-90, 90] (bounds {tuple(round(b, 3) for b in geom.bounds)}); if these are "
                "projected coordinates, pass crs='EPSG:xxxx' or a GeoDataFrame with its CRS"
            )
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise AOIError(
            f"the area of interest is not a valid geometry ({reason}); repair it with "
            "shapely.make_valid(geom) or draw it again"
        )
    if geom.area == 0 and geom.geom_type not in ("Point", "MultiPoint", "LineString", "MultiLineString"):
        raise AOIError(f"the area of interest {_short(aoi)} has zero area; {_AOI_HELP}")
    return geom


def _to_geometry(aoi: Any) -> tuple[BaseGeometry, Any]:
    if isinstance(aoi, BaseGeometry):
        return aoi, None
    if hasattr(aoi, "geometry") and hasattr(aoi, "crs"):  # GeoDataFrame / GeoSeries
        if len(aoi) == 0:
            raise AOIError(f"the area of interest (a {type(aoi).__name__}) has no rows")
        geoms = aoi.geometry if hasattr(aoi, "geometry") else aoi
        return shapely.union_all(list(geoms)), aoi.crs
    if isinstance(aoi, dict):
        return _from_geojson(aoi), None
    if isinstance(aoi, (str, Path)):
        text = str(aoi).strip()
        if text.startswith("{"):
            try:
                obj = json.loads(text)
            except ValueError as e:
                raise AOIError(f"the GeoJSON area of interest could not be parsed ({e}); {_AOI_HELP}") from None
            return _from_geojson(obj), None
        if re.match(r"^(MULTI)?(POINT|LINESTRING|POLYGON)|^GEOMETRYCOLLECTION", text, re.I):
            try:
                return shapely.from_wkt(text), None
            except shapely.errors.GEOSException as e:
                raise AOIError(f"the WKT area of interest could not be parsed: {e}") from e
        path = Path(text).expanduser()
        if not path.exists():
            raise AOIError(f"the area of interest {text!r} is neither WKT, GeoJSON nor an existing file; {_AOI_HELP}")
        import geopandas as gpd

        try:
            gdf = gpd.read_file(path)
        except Exception as e:
            raise AOIError(f"could not read the area of interest file {str(path)!r}: {e}") from e
        return _to_geometry(gdf)
    try:
        values = [float(v) for v in aoi]
    except (TypeError, ValueError):
        raise AOIError(f"unsupported area of interest {_short(aoi)}; {_AOI_HELP}") from None
    if len(values) != 4:
        raise AOIError(f"a bbox needs 4 numbers (west, south, east, north), got {len(values)}: {_short(aoi)}")
    w, s, east, n = values
    if not all(math.isfinite(v) for v in values):
        raise AOIError(f"the bbox {_short(aoi)} has non-finite values")
    if w >= east or s >= n:
        raise AOIError(
            f"the bbox {tuple(values)} is empty or reversed: it must be (west, south, east, north) "
            f"with west < east and south < north; did you mean {(min(w, east), min(s, n), max(w, east), max(s, n))}?"
        )
    return shapely.geometry.box(w, s, east, n), None


def _from_geojson(obj: dict) -> BaseGeometry:
    kind = obj.get("type")
    try:
        if kind == "FeatureCollection":
            feats = obj.get("features") or []
            if not feats:
                raise AOIError("the GeoJSON FeatureCollection has no features")
            return shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in feats])
        if kind == "Feature":
            return shapely.geometry.shape(obj["geometry"])
        return shapely.geometry.shape(obj)
    except AOIError:
        raise
    except Exception as e:
        raise AOIError(f"the GeoJSON area of interest could not be read ({e}); {_AOI_HELP}") from e


def _short(obj: Any, n: int = 80) -> str:
    text = repr(obj)
    return text if len(text) <= n else text[: n - 3] + "..."


# --------------------------------------------------------------------------- dates
_PERIOD = re.compile(r"^\d{4}(-\d{2})?$")


def parse_dates(dates: Any) -> DateRange:
    """Return ``(start, end)`` UTC timestamps (either may be None for an open range).

    Accepts ``"2023-09-01/2024-08-31"``, ``"2024"`` (a whole year), ``"2024-05"`` (a whole
    month), ``"2024-05-12"`` (a day), ``".."`` open ends, or a ``(start, end)`` pair of
    strings, dates, datetimes or pandas Timestamps.
    """
    if dates is None:
        return None, None
    if isinstance(dates, str):
        text = dates.strip()
        if "/" in text:
            parts = text.split("/")
            if len(parts) != 2:
                raise DateRangeError(f"malformed date range {dates!r}: use 'START/END', e.g. '2023-09-01/2024-08-31'")
            start, end = parts
        else:
            start = end = text
    else:
        try:
            start, end = dates
        except (TypeError, ValueError):
            start = end = dates
    t0 = _parse_one(start, dates, end_of_period=False)
    t1 = _parse_one(end, dates, end_of_period=True)
    if t0 is not None and t1 is not None and t0 > t1:
        raise DateRangeError(
            f"the date range {dates!r} is reversed: start {t0.date()} is after end {t1.date()}; "
            f"swap them: ({str(t1.date())!r}, {str(t0.date())!r})"
        )
    return t0, t1


def _parse_one(value: Any, original: Any, *, end_of_period: bool) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and value.strip() in ("", "..")):
        return None
    text = value.strip() if isinstance(value, str) else None
    if text is None and not isinstance(value, (dt.date, pd.Timestamp, np.datetime64)):
        raise DateRangeError(
            f"the date {value!r} in {original!r} is a {type(value).__name__}; give dates as strings "
            "('2024-05-12', '2024-05', '2024'), datetime.date/datetime or pandas Timestamps"
        )
    try:
        if text is not None and _PERIOD.match(text):
            period = pd.Period(text, freq="Y" if len(text) == 4 else "M")
            ts = period.end_time.floor("ms") if end_of_period else period.start_time
        else:
            ts = pd.Timestamp(value)
            whole_day = text is None or len(text) == 10
            if end_of_period and isinstance(value, (str, dt.date)) and not isinstance(value, dt.datetime) and whole_day:
                ts = ts + pd.Timedelta(days=1) - pd.Timedelta(milliseconds=1)
    except (ValueError, TypeError, OverflowError) as e:
        raise DateRangeError(
            f"could not read the date {value!r} in {original!r} ({e}); use ISO dates such as "
            "'2024-05-12', '2024-05', '2024' or a range '2023-09-01/2024-08-31'"
        ) from None
    if ts is pd.NaT:
        raise DateRangeError(f"the date {value!r} in {original!r} is not a date")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


class SearchQuery:
    """Validated search arguments, shared by every catalogue kind."""

    def __init__(self, aoi: Any = None, dates: Any = None, collections: Any = None, max_cloud: float | None = None,
                 limit: int | None = None, *, crs: Any = "EPSG:4326"):
        self.geom = parse_aoi(aoi, crs=crs) if aoi is not None else None
        self.start, self.end = parse_dates(dates)
        self.collections = _collection_list(collections)
        self.max_cloud: float | None = _number(max_cloud, "max_cloud", "a percentage between 0 and 100",
                                               lambda v: 0 <= v <= 100)
        limit_ = _number(limit, "limit", "a positive whole number of items", lambda v: v >= 1, integer=True)
        self.limit: int | None = None if limit_ is None else int(limit_)

    def as_dict(self) -> dict:
        return {"aoi": self.geom.wkt if self.geom is not None else None, "dates": (self.start, self.end),
                "collections": self.collections, "max_cloud": self.max_cloud, "limit": self.limit}


def _collection_list(collections: Any) -> list[str] | None:
    """``collections=`` as a list of ids (None: every collection)."""
    if collections is None:
        return None
    if isinstance(collections, str):
        collections = [collections]
    try:
        ids = list(collections)
    except TypeError:
        ids = [None]
    if not ids:  # as before: an empty selection means every collection
        return None
    if not all(isinstance(c, str) and c for c in ids):
        raise UnknownCollectionError(
            f"collections={collections!r}: give a collection id or a list of ids (strings), or None for every collection"
        )
    return ids


def _number(value: Any, name: str, what: str, ok, *, integer: bool = False) -> float | int | None:
    """``value`` as a float (or int), None kept; ValueError naming ``name`` unless it is ``what``."""
    if value is None:
        return None
    try:
        v = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and ok(v)) or (integer and v != int(v)):
        raise ValueError(f"{name}={value!r} must be {what}")
    return int(v) if integer else v
