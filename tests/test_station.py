"""Weather-station tables from STAC items (terra_lab.cube.load_station): the CSV variants of real station
exports (missing days, ';' delimiter and comma decimals, a units row, Météo-France names and units), unit
conversion and the errors naming the column; the demo's station collection; the items' schemas."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from _stac_schema import assert_valid

from terra_lab.catalog._station_items import station_item
from terra_lab.cube import load_station
from terra_lab.errors import AssetReadError, MissingBandError

COLUMNS = [{"name": "date", "type": "date"}, {"name": "tmax_c", "unit": "degC"}, {"name": "tmin_c", "unit": "degC"},
           {"name": "rs_mj_m2_day", "unit": "MJ m-2 day-1"}, {"name": "ea_kpa", "unit": "kPa"},
           {"name": "u2_m_s", "unit": "m s-1"}]
PLAIN = """date,tmax_c,tmin_c,rs_mj_m2_day,ea_kpa,u2_m_s
2024-07-01,30.5,15.0,25.1,1.50,2.0
2024-07-02,31.0,16.0,24.0,1.60,2.5
2024-07-03,29.0,14.5,26.0,1.40,1.8
"""


def _item(tmp_path, text: str, columns=COLUMNS, name="daily.csv", encoding="utf-8", **kw) -> dict:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return station_item("st1", 6.3, 45.2, tables={"daily": {"path": path, "columns": columns}},
                        period=(dt.date(2024, 7, 1), dt.date(2024, 7, 3)), elevation_m=700.0, title="test station",
                        **kw)


def test_plain_csv(tmp_path):
    item = _item(tmp_path, PLAIN)
    assert_valid(item)  # the table extension's schema (vendored v1.2.0)
    df = load_station(item)
    assert list(df.columns) == ["tmax_c", "tmin_c", "rs_mj_m2_day", "ea_kpa", "u2_m_s"]
    assert df.index.name == "time" and df.index[0] == pd.Timestamp("2024-07-01")
    np.testing.assert_allclose(df.tmax_c, [30.5, 31.0, 29.0])
    assert df.attrs["units"]["rs_mj_m2_day"] == "MJ m-2 day-1" and df.attrs["elevation_m"] == 700.0
    assert (df.attrs["longitude"], df.attrs["latitude"], df.attrs["missing_days"]) == (6.3, 45.2, [])


def test_several_stations_in_one_table(tmp_path):
    one = _item(tmp_path, PLAIN)
    two = {**_item(tmp_path, PLAIN.replace("30.5", "20.5"), name="other.csv"), "id": "st2"}
    df = load_station([one, two])
    assert df.index.names == ["station", "time"] and df.attrs["stations"] == ["st1", "st2"]
    assert df.loc[("st2", "2024-07-01"), "tmax_c"] == 20.5 and df.loc[("st1", "2024-07-01"), "tmax_c"] == 30.5


def test_missing_days_are_nan_and_listed(tmp_path):
    text = PLAIN.replace("2024-07-02,31.0,16.0,24.0,1.60,2.5\n", "") + "2024-07-06,28.0,13.0,22.0,1.3,2.2\n"
    df = load_station(_item(tmp_path, text))
    assert len(df) == 6 and df.attrs["missing_days"] == ["2024-07-02", "2024-07-04", "2024-07-05"]
    assert df.loc["2024-07-02"].isna().all() and df.loc["2024-07-06", "tmax_c"] == 28.0


def test_semicolon_comma_decimal_and_units_row(tmp_path):
    """A French export: ';' delimiter, '12,5' decimals, a units row in other units (K, hPa, km/h), Latin-1."""
    text = ("date;tmax_c;tmin_c;rs_mj_m2_day;ea_kpa;u2_m_s\n"
            ";K;°C;MJ/m2;hPa;km/h\n"
            "2024-07-01;303,65;15,0;25,1;15,0;7,2\n"
            "2024-07-02;304,15;16,0;24,0;16,0;9,0\n")
    bare = [{"name": c["name"]} for c in COLUMNS]  # units only in the file
    df = load_station(_item(tmp_path, text, columns=bare, encoding="latin-1"))
    np.testing.assert_allclose(df.tmax_c, [30.5, 31.0], atol=1e-9)   # K -> deg C
    np.testing.assert_allclose(df.ea_kpa, [1.5, 1.6])                 # hPa -> kPa
    np.testing.assert_allclose(df.u2_m_s, [2.0, 2.5])                 # km/h -> m/s
    np.testing.assert_allclose(df.tmin_c, [15.0, 16.0])


def test_units_row_contradicting_the_metadata_is_an_error(tmp_path):
    text = PLAIN.replace("\n", "\n,degC,degC,MJ m-2 day-1,hPa,m s-1\n", 1)
    with pytest.raises(AssetReadError, match=r"'ea_kpa' is in 'hPa' by its units row but 'kPa'"):
        load_station(_item(tmp_path, text))


def test_meteo_france_names_and_units(tmp_path):
    """Météo-France's daily names: AAAAMMJJ, TX, TN, GLOT in J/cm2 (2510 J/cm2 = 25.1 MJ/m2)."""
    text = ("NUM_POSTE;AAAAMMJJ;TX;TN;GLOT;ea_kpa;u2_m_s\n"
            "38185001;20240701;30,5;15,0;2510;1,5;2,0\n"
            "38185001;20240702;31,0;16,0;2400;1,6;2,5\n")
    cols = [{"name": "NUM_POSTE"}, {"name": "AAAAMMJJ"}, {"name": "TX", "unit": "°C"}, {"name": "TN", "unit": "°C"},
            {"name": "GLOT", "unit": "J/cm2"}, {"name": "ea_kpa", "unit": "kPa"}, {"name": "u2_m_s", "unit": "m/s"}]
    df = load_station(_item(tmp_path, text, columns=cols))
    np.testing.assert_allclose(df.rs_mj_m2_day, [25.1, 24.0])
    assert df.index[1] == pd.Timestamp("2024-07-02") and "num_poste" not in df.columns


def test_errors_name_the_column(tmp_path):
    no_wind = "\n".join(",".join(line.split(",")[:-1]) for line in PLAIN.strip().splitlines())
    with pytest.raises(MissingBandError, match=r"column 'u2_m_s' is missing"):
        load_station(_item(tmp_path, no_wind))
    with pytest.raises(AssetReadError, match=r"'tmax_c' is in 'furlongs'.*cannot convert to 'degC'"):
        load_station(_item(tmp_path, PLAIN, columns=[{**c, "unit": "furlongs"} if c["name"] == "tmax_c" else c
                                                     for c in COLUMNS]))
    with pytest.raises(AssetReadError, match=r"column 'rs_mj_m2_day' has no unit"):
        load_station(_item(tmp_path, PLAIN, columns=[c for c in COLUMNS if c["name"] != "rs_mj_m2_day"]))
    with pytest.raises(AssetReadError, match=r"'tmin_c' has a value that is not a number"):
        load_station(_item(tmp_path, PLAIN.replace("15.0", "n/a")))
    with pytest.raises(AssetReadError, match="no 'overpass' asset"):
        load_station(_item(tmp_path, PLAIN), "overpass")


def test_demo_station_collection(demo_catalog):
    items = demo_catalog.search(collections="terra-lab-demo-meteo-stations").items
    assert len(items) == 1 and items[0]["geometry"]["type"] == "Point"
    assert {a["type"] for a in items[0]["assets"].values()} == {"text/csv"}
    daily = load_station(items)
    assert daily.index[0] == pd.Timestamp("2024-06-01") and len(daily) == 92 and not daily.isna().any().any()
    over = load_station(items, "overpass", required=["air_temperature_c", "solar_zenith_deg"])
    assert len(over) == 6 and (over.index.hour == 10).all()
    # the overpass's daily maximum is the daily table's of that day
    np.testing.assert_allclose(over.air_temperature_max_c.values, daily.tmax_c.reindex(over.index.normalize()).values)
    assert_valid(demo_catalog.collection("terra-lab-demo-meteo-stations"))


def test_station_through_the_stac_api(stac_server, demo_catalog):
    """The station items served by the real STAC API (pgstac) keep their tables' columns and read alike,
    and the workflow's station lookup finds the nearest one there."""
    import terra_lab
    from terra_lab.workflows.evapotranspiration import nearest_station

    api = terra_lab.catalog.open(stac_server.url, retries=1, backoff=0.05)
    served = api.search(collections="terra-lab-demo-meteo-stations").items
    assert served[0]["assets"]["daily"]["table:columns"][1]["unit"] == "degC"
    pd.testing.assert_frame_equal(load_station(served), load_station(demo_catalog.search(
        collections="terra-lab-demo-meteo-stations").items), check_like=True)
    item, km = nearest_station(api, (6.272, 45.183, 6.294, 45.195), 50.0)
    assert item["id"] == "terra-lab-demo-station" and 1.0 < km < 3.0
