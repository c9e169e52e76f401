"""Validation of areas of interest and date ranges: accepted forms and clear errors."""

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely.geometry

from terra_lab.catalog import parse_aoi, parse_dates
from terra_lab.errors import AOIError, DateRangeError

BOX = (6.28, 45.17, 6.34, 45.21)


@pytest.mark.parametrize(
    "aoi",
    [
        BOX,
        list(BOX),
        shapely.geometry.box(*BOX),
        shapely.geometry.mapping(shapely.geometry.box(*BOX)),
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(shapely.geometry.box(*BOX))},
        shapely.geometry.box(*BOX).wkt,
        gpd.GeoDataFrame(geometry=[shapely.geometry.box(*BOX)], crs="EPSG:4326"),
    ],
)
def test_aoi_forms_give_the_same_geometry(aoi):
    geom = parse_aoi(aoi)
    assert geom.equals(shapely.geometry.box(*BOX))


def test_aoi_is_reprojected_from_its_crs():
    utm = gpd.GeoDataFrame(geometry=[shapely.geometry.box(757200, 5008400, 761200, 5012400)], crs="EPSG:32631")
    geom = parse_aoi(utm)
    w, s, e, n = geom.bounds
    assert 6.2 < w < e < 6.4 and 45.1 < s < n < 45.3


def test_aoi_from_file(tmp_path):
    path = tmp_path / "aoi.geojson"
    gpd.GeoDataFrame(geometry=[shapely.geometry.box(*BOX)], crs="EPSG:4326").to_file(path)
    assert parse_aoi(str(path)).equals(shapely.geometry.box(*BOX))


@pytest.mark.parametrize(
    "aoi, match",
    [
        ((6.34, 45.17, 6.28, 45.21), "reversed.*did you mean \\(6.28, 45.17, 6.34, 45.21\\)"),
        ((1, 2, 3), "needs 4 numbers"),
        ((757200, 5008400, 761200, 5012400), "projected coordinates, pass crs="),
        ((float("nan"), 45, 6, 46), "non-finite"),
        (shapely.geometry.Polygon(), "empty"),
        (shapely.geometry.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)]), "not a valid geometry.*make_valid"),
        ({"type": "FeatureCollection", "features": []}, "no features"),
        ("/no/such/file.geojson", "neither WKT, GeoJSON nor an existing file"),
        (None, "no area of interest"),
        (object(), "unsupported area of interest"),
    ],
)
def test_bad_aoi_errors_name_the_problem_and_the_fix(aoi, match):
    with pytest.raises(AOIError, match=match):
        parse_aoi(aoi)


def test_aoi_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_aoi((1, 2, 3))


@pytest.mark.parametrize(
    "dates, start, end",
    [
        ("2023-09-01/2024-08-31", "2023-09-01T00:00:00", "2024-08-31T23:59:59.999"),
        ("2024", "2024-01-01T00:00:00", "2024-12-31T23:59:59.999"),
        ("2024-02", "2024-02-01T00:00:00", "2024-02-29T23:59:59.999"),
        ("2024-05-12", "2024-05-12T00:00:00", "2024-05-12T23:59:59.999"),
        (("2024-01-01", dt.date(2024, 1, 31)), "2024-01-01T00:00:00", "2024-01-31T23:59:59.999"),
        ((pd.Timestamp("2024-01-01T10:00"), None), "2024-01-01T10:00:00", None),
        ("../2024-01-01", None, "2024-01-01T23:59:59.999"),
    ],
)
def test_date_forms(dates, start, end):
    t0, t1 = parse_dates(dates)
    assert (t0 is None and start is None) or t0 == pd.Timestamp(start, tz="UTC")
    assert (t1 is None and end is None) or t1 == pd.Timestamp(end, tz="UTC")


def test_reversed_dates_say_how_to_swap():
    with pytest.raises(DateRangeError, match=r"reversed.*swap them: \('2024-01-01', '2024-08-31'\)"):
        parse_dates("2024-08-31/2024-01-01")


@pytest.mark.parametrize("dates", ["2024-13-01", "yesterday/today", "2024-01-01/2024-02-01/2024-03-01", "31/12/2024"])
def test_malformed_dates(dates):
    with pytest.raises(DateRangeError, match=r"ISO dates|START/END|could not read"):
        parse_dates(dates)
