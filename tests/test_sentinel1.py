"""Sentinel-1 collections: S1Tiling products on the Sentinel-2 grid and Planetary Computer-like RTC COGs.

Files are written here in each producer's layout (S1Tiling names and its 0 no-data, LIA in degrees x 100;
RTC float32 COGs with -32768 and NaN no-data), indexed, loaded lazily with terra_lab.load and checked
against the files read with rasterio and numpy (linear values, no-data as NaN, dB = 10 log10, orbit
coordinates); the demo's S1Tiling series loads lazily from the demo catalogue.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

import terra_lab
from terra_lab.catalog._s1_items import s1tiling_items
from terra_lab.products.backscatter import from_db, orbit_key, to_db
from terra_lab.profiles import S1_RTC, S1TILING, profile_for_item
from terra_lab.profiles import _collections as C
from terra_lab.profiles._sentinel1 import S1TILING_RE

X0, Y0, RES, N = 757_200.0, 5_010_800.0, 20.0, 16


def _cog(path, data, nodata):
    prof = dict(driver="COG", dtype=data.dtype.name, count=1, height=data.shape[0], width=data.shape[1],
                crs="EPSG:32631", transform=from_origin(X0, Y0, RES, RES), nodata=nodata, blocksize=256)
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(data[None])


def _read(path):
    with rasterio.open(path) as src:
        return src.read(1).astype(np.float64)


@pytest.fixture(scope="module")
def s1tiling_dir(tmp_path_factory):
    """Three acquisitions as S1Tiling writes them: DES 008 and ASC 088 on the same day, DES 008 six days later."""
    root = tmp_path_factory.mktemp("s1tiling")
    tiles = root / "31TGK"
    tiles.mkdir()
    rng = np.random.default_rng(5)
    for orbit, direction, day in ((8, "DES", "20240105"), (88, "ASC", "20240105"), (8, "DES", "20240111")):
        for pol in ("vv", "vh"):
            data = rng.uniform(0.005, 0.3, (N, N)).astype(np.float32)
            data[:, :2] = 0.0  # outside the swath
            _cog(tiles / f"s1a_31TGK_{pol}_{direction}_{orbit:03d}_{day}txxxxxx.tif", data, 0)
    # S1Tiling 1.0 names its LIA maps with unit and direction; 1.1+ without: both read
    _cog(root / "LIA_s1a_31TGK_DES_008.tif", np.full((N, N), 4123, np.uint16), 0)
    _cog(root / "LIA_31TGK_088.tif", np.full((N, N), 3550, np.uint16), 0)
    return root


def test_s1tiling_names_match_the_producer_format():
    m = re.match(S1TILING_RE, "s1a_31TGK_vv_DES_008_20230101txxxxxx.tif")
    assert m is not None and m["orbit_direction"] == "DES" and m["orbit"] == "008" and m["polarisation"] == "vv"
    assert re.match(S1TILING_RE, "s1b_33NWB_vh_ASC_110_20200108t054321.tif")
    assert re.match(S1TILING_RE, "S2A_31TGK_vv_DES_008_20230101txxxxxx.tif") is None


def test_s1tiling_items(s1tiling_dir):
    items = list(s1tiling_items(s1tiling_dir))
    assert [it["id"] for it in items] == ["s1a_31TGK_ASC_088_20240105txxxxxx", "s1a_31TGK_DES_008_20240105txxxxxx",
                                          "s1a_31TGK_DES_008_20240111txxxxxx"]
    asc, des = items[0], items[1]
    assert sorted(des["assets"]) == ["lia", "vh", "vv"]
    assert des["properties"]["sat:orbit_state"] == "descending" and des["properties"]["sat:relative_orbit"] == 8
    assert asc["properties"]["sat:orbit_state"] == "ascending"
    # txxxxxx: the orbit's nominal time over France, the two orbits of a day apart
    assert des["properties"]["datetime"] == "2024-01-05T06:00:00Z" and asc["properties"]["datetime"] == "2024-01-05T18:00:00Z"
    assert des["collection"] == C.S1TILING_COLLECTION and profile_for_item(des) is S1TILING
    assert des["assets"]["vv"]["raster:bands"][0]["nodata"] == 0.0
    assert des["assets"]["lia"]["raster:bands"][0]["scale"] == 0.01


def test_s1tiling_load_decodes_linear_nodata_incidence_and_orbits(s1tiling_dir, no_compute):
    items = list(s1tiling_items(s1tiling_dir))
    with no_compute():
        ds = terra_lab.load(items, bands=["vv", "vh", "incidence"], resolution=RES)
        db = to_db(ds["vv"])
    assert ds.sizes["time"] == 3  # ASC and DES of one day are not mosaicked together
    assert list(ds["sat:orbit_state"].values) == ["descending", "ascending", "descending"]
    assert list(orbit_key(ds).values) == ["DES_008", "ASC_088", "DES_008"]
    for k, it in enumerate(sorted(items, key=lambda i: i["properties"]["datetime"])):
        raw = _read(it["assets"]["vv"]["href"])
        vv = ds["vv"].isel(time=k).values
        np.testing.assert_array_equal(np.isnan(vv), raw == 0)  # S1Tiling's 0 is no data
        np.testing.assert_allclose(vv[raw > 0], raw[raw > 0], rtol=1e-7)
        np.testing.assert_allclose(db.isel(time=k).values[raw > 0], 10 * np.log10(raw[raw > 0]), rtol=1e-5)
        assert np.isnan(db.isel(time=k).values[raw == 0]).all()
        lia = _read(it["assets"]["lia"]["href"]) / 100.0
        np.testing.assert_allclose(ds["incidence"].isel(time=k).values, lia, rtol=1e-6)
    assert db.attrs["units"] == "dB" and ds["vv"].attrs["units"] == "1"
    back = from_db(db).values
    np.testing.assert_allclose(back[np.isfinite(back)], ds["vv"].values[np.isfinite(back)], rtol=1e-5)


def _rtc_item(root, k: int, day: dt.date, state: str, orbit: int, rng) -> dict:
    assets = {}
    for pol in ("vv", "vh"):
        data = rng.uniform(0.01, 0.5, (N, N)).astype(np.float32)
        data[0, :] = -32768.0  # the COGs' no-data tag
        data[1, :3] = np.nan
        path = root / f"S1A_IW_GRDH_{day:%Y%m%d}_{k}_rtc_{pol}.tif"
        _cog(path, data, -32768.0)
        assets[pol] = {"href": str(path), "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                       "roles": ["data"], "proj:shape": [N, N], "proj:transform": [RES, 0, X0, 0, -RES, Y0],
                       "raster:bands": [{"data_type": "float32", "nodata": -32768, "unit": "natural"}]}
    lon0, lat0, lon1, lat1 = 6.24, 45.24, 6.26, 45.26
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": f"S1A_IW_GRDH_1SDV_{day:%Y%m%d}T054321_{k}_rtc",
        "collection": C.S1_RTC_COLLECTION, "bbox": [lon0, lat0, lon1, lat1],
        "geometry": {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]},
        "properties": {"datetime": f"{day:%Y-%m-%d}T{'05:43:21' if state == 'descending' else '17:33:12'}Z",
                       "platform": "SENTINEL-1A", "constellation": "Sentinel-1", "proj:code": "EPSG:32631",
                       "sat:orbit_state": state, "sat:relative_orbit": orbit, "sar:instrument_mode": "IW",
                       "sar:polarizations": ["VV", "VH"], "sar:product_type": "GRD", "s1:processing_level": "1"},
        "assets": assets, "links": [],
    }


def test_rtc_items_load_with_nodata_and_orbits(tmp_path, no_compute):
    rng = np.random.default_rng(9)
    items = [_rtc_item(tmp_path, 0, dt.date(2024, 5, 1), "descending", 8, rng),
             _rtc_item(tmp_path, 1, dt.date(2024, 5, 4), "ascending", 88, rng)]
    assert profile_for_item(items[0]) is S1_RTC
    with no_compute():
        ds = terra_lab.load(items, bands=["vv", "vh"], resolution=RES)
    assert list(orbit_key(ds).values) == ["DES_008", "ASC_088"]
    for k, it in enumerate(items):
        raw = _read(it["assets"]["vh"]["href"])
        vh = ds["vh"].isel(time=k).values
        bad = (raw == -32768) | np.isnan(raw)
        np.testing.assert_array_equal(np.isnan(vh), bad)
        np.testing.assert_allclose(vh[~bad], raw[~bad], rtol=1e-7)
        np.testing.assert_allclose(to_db(ds["vh"]).isel(time=k).values[~bad], 10 * np.log10(raw[~bad]), rtol=1e-5)


def test_demo_s1tiling_series_loads_lazily(demo_catalog, demo_root, no_compute):
    items = demo_catalog.search(collections=C.S1TILING_COLLECTION).items
    assert len(items) >= 120  # two orbits every 6 days over a year
    with no_compute():
        ds = terra_lab.load(items, bands=["vv", "vh", "incidence"], resolution=20)
        db = to_db(ds["vv"])
    assert ds.sizes["y"] == ds.sizes["x"] == 120 and ds.rio.crs.to_epsg() == 32631
    assert set(orbit_key(ds).values) == {"DES_008", "ASC_088"}
    first = sorted(items, key=lambda i: i["properties"]["datetime"])[0]
    import os

    raw = _read(os.path.normpath(os.path.join(demo_root, "catalog", first["assets"]["vv"]["href"])))
    vv = ds["vv"].isel(time=0).values
    np.testing.assert_array_equal(np.isnan(vv), raw == 0)
    assert -30 < float(np.nanmedian(db.isel(time=0).values)) < 0


@pytest.mark.server
def test_rtc_collection_served_by_a_stac_api_loads_lazily(stac_server, tmp_path_factory, no_compute):
    """A Planetary Computer-like ``sentinel-1-rtc`` collection in its own catalogue, served by the real pgstac API."""
    from terra_lab.catalog._local import LocalCatalog

    root = tmp_path_factory.mktemp("rtc")
    rng = np.random.default_rng(11)
    items = [_rtc_item(root, k, dt.date(2024, 6, 1) + dt.timedelta(days=6 * k), state, orbit, rng)
             for k, (state, orbit) in enumerate([("descending", 8), ("ascending", 88), ("descending", 8)])]
    cat = LocalCatalog(root / "catalog", name="rtc-shaped")
    cat.add_items(items, collection=C.S1_RTC_COLLECTION, description="Sentinel-1 RTC as Planetary Computer serves it",
                  license="CC-BY-4.0")
    api = terra_lab.catalog.open(stac_server.add_catalog(cat))
    found = api.search((6.245, 45.245, 6.255, 45.255), ("2024-05-30", "2024-06-30"), C.S1_RTC_COLLECTION)
    assert len(found) == 3
    with no_compute():
        ds = terra_lab.load(found, bands=["vv"], resolution=RES)
    assert list(orbit_key(ds).values) == ["DES_008", "ASC_088", "DES_008"]
    raw = _read(items[1]["assets"]["vv"]["href"])
    got = ds["vv"].sel(time="2024-06-07").squeeze().values
    bad = (raw == -32768) | np.isnan(raw)
    np.testing.assert_array_equal(np.isnan(got), bad)
    np.testing.assert_allclose(got[~bad], raw[~bad], rtol=1e-7)
