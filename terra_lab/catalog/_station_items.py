"""STAC items of weather stations: a point, and each table of the station as a CSV asset with its columns.

One item per station (:func:`station_item`); each table (``daily``, ``overpass`` ...) is a
``text/csv`` asset listing its columns, their type, unit and meaning in the STAC table extension's
``table:columns`` (read back by :func:`terra_lab.cube.load_station`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["station_item"]

TABLE_EXTENSION = "https://stac-extensions.github.io/table/v1.2.0/schema.json"


def _iso(day: dt.date | dt.datetime) -> str:
    if isinstance(day, dt.datetime):
        return day.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{day:%Y-%m-%d}T00:00:00Z"


def station_item(station_id: str, longitude: float, latitude: float, *, tables: Mapping[str, dict],
                 period: tuple[dt.date, dt.date], elevation_m: float | None = None, title: str = "",
                 href_root: str | os.PathLike | None = None, properties: Mapping[str, Any] | None = None) -> dict:
    """The STAC item of one station.

    ``tables``: asset key -> ``{"path": CSV file, "columns": [{"name", "type", "unit", "description"}],
    "title": ..., "rows": row count}``; ``period``: first and last day of the data; ``href_root``:
    hrefs relative to this folder (a catalogue's), else absolute.
    """
    assets = {}
    for key, table in tables.items():
        path = Path(table["path"])
        href = os.path.relpath(path, href_root) if href_root is not None else str(path.resolve())
        columns: Sequence[dict] = table["columns"]
        asset = {"href": href, "type": "text/csv", "roles": ["data"], "title": table.get("title", key),
                 "table:columns": [dict(c) for c in columns]}
        if "rows" in table:
            asset["table:row_count"] = int(table["rows"])
        assets[key] = asset
    props = {"datetime": _iso(period[0]), "start_datetime": _iso(period[0]),
             "end_datetime": _iso(dt.datetime.combine(period[1], dt.time(23, 59, 59))),
             "title": title or station_id, **({"elevation_m": elevation_m} if elevation_m is not None else {}),
             **(properties or {})}
    return {
        "type": "Feature", "stac_version": "1.0.0", "stac_extensions": [TABLE_EXTENSION], "id": station_id,
        "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
        "bbox": [longitude, latitude, longitude, latitude], "properties": props, "links": [], "assets": assets,
    }
