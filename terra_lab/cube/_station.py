"""Weather-station tables from STAC items: a CSV asset per table, its columns and units in ``table:columns``.

A station item (one per station, point geometry) carries its tables as CSV assets (``text/csv``):
``daily`` (one row per day: the forcing of the reference ET) and, optionally, ``overpass`` (the
values at the satellite's overpass times).  Each asset lists its columns in the STAC table
extension's ``table:columns`` with a ``unit`` per column; :func:`load_station` reads one table into
a :class:`pandas.DataFrame` with terra_lab's column names and units (:data:`UNITS`), converting the
units it knows (kelvin, hPa, J/cm2, km/h ...) and raising, naming the column, for a missing required
column or a unit it cannot convert.

The CSV variants of real station exports are read as they come:

* ``,``, ``;`` or tab delimiter, and a comma decimal separator (Météo-France's ``;``-delimited
  exports with ``12,5``);
* a units row under the header (its units win over the item's metadata; they must agree when both exist);
* missing days: the daily table is reindexed to every day between its first and last, the missing
  ones NaN and listed in ``attrs["missing_days"]``;
* Météo-France's daily column names ``AAAAMMJJ`` (date), ``TX``, ``TN`` (deg C) and ``GLOT``
  (global radiation, J/cm2) as aliases of ``date``, ``tmax_c``, ``tmin_c``, ``rs_mj_m2_day``.

>>> from terra_lab.cube import load_station
>>> daily = load_station(catalog.search(collections="terra-lab-demo-meteo-stations").items[0])  # doctest: +SKIP
>>> daily[["tmax_c", "tmin_c"]].head()                                                        # doctest: +SKIP
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AssetReadError, MissingBandError
from ._features import _as_items, asset_bytes

__all__ = ["DAILY_REQUIRED", "UNITS", "load_station", "read_table", "station_site"]

#: terra_lab's station columns and their units (what :func:`load_station` returns)
UNITS = {
    "tmax_c": "degC", "tmin_c": "degC", "air_temperature_c": "degC", "air_temperature_max_c": "degC",
    "rs_mj_m2_day": "MJ m-2 day-1", "rn_clear_w_m2": "W m-2", "solar_radiation_w_m2": "W m-2",
    "ea_kpa": "kPa", "vapour_pressure_kpa": "kPa", "pressure_kpa": "kPa",
    "u2_m_s": "m s-1", "wind_speed_m_s": "m s-1", "solar_zenith_deg": "deg",
}

#: the daily columns FAO-56 reference ET needs
#: the largest station table read (bytes): decades of daily rows are a few MiB
STATION_MAX_BYTES = 64 * 2**20
DAILY_REQUIRED = ("tmax_c", "tmin_c", "rs_mj_m2_day", "ea_kpa", "u2_m_s")

#: other names of the columns (Météo-France's daily exports)
_ALIASES = {"aaaammjj": "date", "tx": "tmax_c", "tn": "tmin_c", "glot": "rs_mj_m2_day"}
_TIME_NAMES = ("date", "datetime", "time")

#: unit -> accepted spellings (normalised by :func:`_norm`) -> (scale, offset) to that unit
_CONVERSIONS: dict[str, dict[str, tuple[float, float]]] = {
    "degC": {**dict.fromkeys(("degc", "c", "celsius", "degreec", "degreesc", "degreecelsius"), (1.0, 0.0)),
             **dict.fromkeys(("k", "kelvin"), (1.0, -273.15))},
    "MJ m-2 day-1": {**dict.fromkeys(("mjm-2day-1", "mjm-2d-1", "mj/m2", "mj/m2/day", "mj/m2/d", "mjm-2"), (1.0, 0.0)),
                     **dict.fromkeys(("j/cm2", "jcm-2", "j/cm2/day", "jcm-2day-1"), (0.01, 0.0)),
                     **dict.fromkeys(("wm-2", "w/m2"), (0.0864, 0.0))},
    "W m-2": {**dict.fromkeys(("wm-2", "w/m2"), (1.0, 0.0)),
              **dict.fromkeys(("mjm-2day-1", "mj/m2/day", "mj/m2"), (1.0 / 0.0864, 0.0))},
    "kPa": {"kpa": (1.0, 0.0), **dict.fromkeys(("hpa", "mb", "mbar"), (0.1, 0.0)), "pa": (0.001, 0.0)},
    "m s-1": {**dict.fromkeys(("ms-1", "m/s"), (1.0, 0.0)), **dict.fromkeys(("km/h", "kmh-1"), (1.0 / 3.6, 0.0))},
    "deg": {**dict.fromkeys(("deg", "degree", "degrees"), (1.0, 0.0))},
}


def _norm(unit: str) -> str:
    return (str(unit).strip().lower().replace("°", "deg").replace("²", "2").replace("^", "").replace(" ", "")
            .replace("·", "").replace("per", "/"))


def _conversion(column: str, unit: str | None, where: str) -> tuple[float, float]:
    want = UNITS[column]
    if unit is None or str(unit).strip() == "":
        raise AssetReadError(f"{where}: column {column!r} has no unit (give it in the asset's table:columns "
                             f"'unit' or in a units row under the header; expected {want!r})")
    factor = _CONVERSIONS[want].get(_norm(unit))
    if factor is None:
        raise AssetReadError(f"{where}: column {column!r} is in {unit!r}, which terra_lab cannot convert to {want!r}; "
                             f"give it in one of {sorted(_CONVERSIONS[want])}")
    return factor


def _text(href: str) -> str:
    raw = asset_bytes(href, limit=STATION_MAX_BYTES, what=f"the station table {href!r}",
                      fix="a station table (read whole); split the export by year")
    for enc in ("utf-8-sig", "latin-1"):  # Météo-France's exports are Latin-1
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise AssetReadError(f"{href!r} is neither UTF-8 nor Latin-1 text")


def _number(cell: str) -> bool:
    return bool(re.fullmatch(r"\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*", cell)) or cell.strip() == ""


def read_table(href: str, columns: Sequence[Mapping[str, Any]] = ()) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """(table with every cell as text, column -> unit) of the CSV at ``href``.

    The delimiter (``,``, ``;`` or tab) is the header's; a comma decimal separator is turned into a
    point; a units row under the header is dropped from the table and gives the units, else they come
    from ``columns`` (``table:columns``: ``{"name", "unit"}`` objects).  Column names are lower-cased
    and Météo-France's aliases renamed.
    """
    text = _text(href)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise AssetReadError(f"the station table {href!r} is empty")
    sep = ";" if ";" in lines[0] else "\t" if "\t" in lines[0] else ","
    frame = pd.read_csv(io.StringIO("\n".join(lines)), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
    frame.columns = [c.strip() for c in frame.columns]
    meta_units = {str(c["name"]).strip(): c.get("unit") for c in columns if "name" in c}
    units: dict[str, str | None] = {c: meta_units.get(c) for c in frame.columns}
    value_cols = [c for c in frame.columns if c.lower() not in (*_TIME_NAMES, "aaaammjj")]
    if len(frame) and value_cols and not any(_number(frame.iloc[0][c]) for c in value_cols):
        row = frame.iloc[0]
        for c in value_cols:
            given, declared = row[c].strip(), meta_units.get(c)
            known = _CONVERSIONS.get(UNITS.get(_canonical(c), ""), {})
            if declared and known and known.get(_norm(given)) != known.get(_norm(declared)):
                raise AssetReadError(f"{href}: column {c!r} is in {given!r} by its units row but {declared!r} by the "
                                     "item's table:columns; correct the item's metadata")
            units[c] = given
        frame = frame.iloc[1:].reset_index(drop=True)
    if sep != "," or any("," in v for c in value_cols for v in frame[c].head(20)):
        frame[value_cols] = frame[value_cols].apply(lambda s: s.str.replace(",", ".", regex=False))
    renamed = {c: _canonical(c) for c in frame.columns}
    return frame.rename(columns=renamed), {renamed[c]: u for c, u in units.items()}


def _canonical(name: str) -> str:
    low = name.strip().lower()
    return _ALIASES.get(low, low)


def _times(frame: pd.DataFrame, where: str) -> pd.DatetimeIndex:
    name = next((c for c in _TIME_NAMES if c in frame.columns), None)
    if name is None:
        raise MissingBandError(f"{where}: no date column (one of {list(_TIME_NAMES)} or AAAAMMJJ) in {list(frame.columns)}")
    raw = frame[name].str.strip()
    try:
        if raw.str.fullmatch(r"\d{8}").all():
            times = pd.to_datetime(raw, format="%Y%m%d")
        else:
            times = pd.to_datetime(raw, utc=True).dt.tz_convert(None)
    except (ValueError, TypeError) as e:
        raise AssetReadError(f"{where}: column {name!r} has a value that is not a date: {e}") from e
    return pd.DatetimeIndex(times, name="time")


def station_site(item: Mapping[str, Any]) -> dict[str, Any]:
    """``{"id", "name", "longitude", "latitude", "elevation_m"}`` of a station item (point geometry)."""
    geom = item.get("geometry") or {}
    if geom.get("type") != "Point":
        raise AssetReadError(f"station item {item.get('id')!r}: its geometry is a {geom.get('type')!r}, not a Point")
    lon, lat = geom["coordinates"][:2]
    props = item.get("properties", {})
    elevation = props.get("elevation_m", geom["coordinates"][2] if len(geom["coordinates"]) > 2 else None)
    return {"id": item.get("id"), "name": props.get("title", item.get("id")), "longitude": float(lon),
            "latitude": float(lat), "elevation_m": None if elevation is None else float(elevation)}


def _items(items: Any) -> list[dict]:
    found = _as_items(items)
    if not found:
        raise AssetReadError("load_station: no station item given; search the station collection first")
    return found


def _one(item: Mapping[str, Any], asset: str, required: Sequence[str]) -> pd.DataFrame:
    where = f"station {item.get('id')!r}, asset {asset!r}"
    assets = item.get("assets", {})
    if asset not in assets:
        raise AssetReadError(f"station {item.get('id')!r} has no {asset!r} asset (it has {sorted(assets)})")
    a = assets[asset]
    where = f"{where} ({a['href']})"
    frame, units = read_table(a["href"], a.get("table:columns", ()))
    times = _times(frame, where)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise MissingBandError(f"{where}: column {missing[0]!r} is missing (columns: {list(frame.columns)}); "
                               f"a station table needs {list(required)}")
    out = {}
    for col in frame.columns:
        if col in _TIME_NAMES or col not in UNITS:
            continue
        try:
            values = pd.to_numeric(frame[col].replace("", np.nan)).to_numpy(dtype="float64")
        except ValueError as e:
            raise AssetReadError(f"{where}: column {col!r} has a value that is not a number: {e}") from e
        scale, offset = _conversion(col, units.get(col), where)
        out[col] = values * scale + offset
    table = pd.DataFrame(out, index=times).sort_index()
    if table.index.has_duplicates:
        raise AssetReadError(f"{where}: the date {table.index[table.index.duplicated()][0]} appears twice")
    missing_days: list[str] = []
    if asset == "daily" and len(table):
        days = pd.date_range(table.index[0].normalize(), table.index[-1].normalize(), freq="D", name="time")
        table.index = table.index.normalize()
        missing_days = [d.strftime("%Y-%m-%d") for d in days.difference(table.index)]
        table = table.reindex(days)
    table.attrs.update(station_site(item), asset=asset, href=a["href"], missing_days=missing_days,
                       units={c: UNITS[c] for c in table.columns})
    return table


def load_station(items: Any, asset: str = "daily", *, required: Sequence[str] | None = None) -> pd.DataFrame:
    """One table of weather-station items, in terra_lab's columns and units (:data:`UNITS`).

    Parameters
    ----------
    items
        A station item (dict) or several (a list, or a catalogue's search results).
    asset
        The table: ``"daily"`` (reindexed to every day, missing days NaN) or ``"overpass"``.
    required
        Columns that must be there (default: :data:`DAILY_REQUIRED` for ``"daily"``, none otherwise);
        a missing one raises :class:`~terra_lab.errors.MissingBandError` naming it.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``time`` (one station) or by ``(station, time)`` (several); float64 columns;
        ``attrs``: the station's site (:func:`station_site`), ``units``, ``missing_days``, ``href``.

    Raises
    ------
    AssetReadError
        An unreadable table, a value that is not a number or a date, a unit that cannot be converted.
    """
    need = tuple(DAILY_REQUIRED if required is None and asset == "daily" else required or ())
    tables = [_one(it, asset, need) for it in _items(items)]
    if len(tables) == 1:
        return tables[0]
    out = pd.concat({t.attrs["id"]: t for t in tables}, names=["station", "time"])
    out.attrs.update(units=tables[0].attrs["units"], stations=[t.attrs["id"] for t in tables])
    return out
