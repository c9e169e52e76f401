"""THEIA's collections beyond Sentinel-2 L2A, on files in their producers' formats.

Each collection of the demo catalogue (written by terra_lab.demo._thematic as THEIA delivers the
products) is loaded lazily with terra_lab.load, then checked against the files themselves (read
with rasterio) and against the demo's truth: codes and values, no-data as NaN, legends with the
producer's colours, native resolutions.  Files the demo does not hold (Copernicus DEM GLO-30 as
Earth Search publishes it, a LIS 1.7 product with 255) are written here.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import xarray as xr
from rasterio.transform import from_origin

import terra_lab
from terra_lab.catalog._thematic_items import find_fsc_products, find_thematic_products, fsc_item, thematic_item
from terra_lab.errors import MissingBandError
from terra_lab.profiles import (
    LANDSAT_L2A,
    MUSCATE_S2,
    OSO,
    OSO_2016_TO_2018,
    OSO_LEGEND,
    OSO_NOMENCLATURE,
    OSO_NOMENCLATURE_2016,
    S2_L3A,
    SNOW_L2B,
    VENUS_VM5_L2A,
    Legend,
    profile_for_item,
)
from terra_lab.profiles import _collections as C


def _items(cat, cid):
    return cat.search(collections=cid).items


def _path(demo_root, item, key):
    """GDAL path of an asset of a demo item (hrefs, zip paths included, are relative to the catalogue folder)."""
    import os

    from terra_lab.catalog._zip import split_vsizip, vsizip_href

    href = item["assets"][key]["href"]
    parts = split_vsizip(href)
    if parts is not None:
        return vsizip_href(os.path.normpath(os.path.join(demo_root, "catalog", parts[0])), parts[1])
    return href if os.path.isabs(href) else os.path.normpath(os.path.join(demo_root, "catalog", href))


# ------------------------------------------------------------------ profiles and legends
def test_every_thematic_collection_is_in_the_demo(demo_catalog):
    ids = set(demo_catalog.collection_ids())
    for cid in (C.SNOW_L2B_COLLECTION, C.SNOW_L3B_COLLECTION, C.OSO_COLLECTION, C.S2_L3A_COLLECTION,
                C.LANDSAT8_L2A_COLLECTION, C.VENUS_VM5_L2A_COLLECTION, C.WATERQUAL_L2B_COLLECTION,
                C.BIOPHY_L2B_COLLECTION):
        assert cid in ids


def test_profile_picked_by_collection_then_markers(demo_catalog):
    expected = {C.SNOW_L2B_COLLECTION: SNOW_L2B, C.OSO_COLLECTION: OSO, C.S2_L3A_COLLECTION: S2_L3A,
                C.LANDSAT8_L2A_COLLECTION: LANDSAT_L2A, C.VENUS_VM5_L2A_COLLECTION: VENUS_VM5_L2A}
    for cid, profile in expected.items():
        item = _snw(demo_catalog)[0] if cid == C.SNOW_L2B_COLLECTION else _items(demo_catalog, cid)[0]
        assert profile_for_item(item) is profile
        # by markers alone (another catalogue's id): Landsat/Venus share MUSCATE keys, told apart by platform
        other = {**item, "collection": "SOMEONE_ELSES_ID"}
        found = profile_for_item(other)
        assert found.kind == profile.kind and found is not MUSCATE_S2
    s2 = _items(demo_catalog, "THEIA_REFLECTANCE_SENTINEL2_L2A")[0]
    assert profile_for_item(s2) is MUSCATE_S2


def test_oso_legends_and_2016_mapping():
    assert sorted(OSO_LEGEND.codes) == list(range(1, 24))
    assert OSO_LEGEND.classes[17].colour == "#003200" and OSO_LEGEND.classes[23].name_fr == "Eau"
    assert set(OSO_2016_TO_2018) == set(OSO_NOMENCLATURE_2016) and len(OSO_2016_TO_2018) == 17
    # the classes that exist in both nomenclatures keep their meaning
    for old, new in OSO_2016_TO_2018.items():
        fr_old, fr_new = OSO_NOMENCLATURE_2016[old][0].lower(), OSO_NOMENCLATURE[new][0].lower()
        if old not in (11, 12):  # the two crop classes were split in 2018
            assert fr_old.split()[0][:5] in fr_new or fr_new.split()[0][:5] in fr_old, (old, new)
    attrs = OSO_LEGEND.cf_attrs()
    back = Legend.from_attrs(attrs)
    assert back.colours() == OSO_LEGEND.colours() and back.names("fr") == OSO_LEGEND.names("fr")
    assert len(attrs["flag_meanings"].split()) == 23


# ------------------------------------------------------------------ snow L2B
def _snw(cat):
    return [it for it in _items(cat, C.SNOW_L2B_COLLECTION) if "SNW_R2" in it["assets"]]


def _fsc(cat):
    return [it for it in _items(cat, C.SNOW_L2B_COLLECTION) if "FSC" in it["assets"]]


def test_snow_l2b_lazy_codes_legend_and_both_nodata_codes(demo_catalog, demo_root, no_compute):
    items = _snw(demo_catalog)
    assert {it["properties"]["theia:product_version"] for it in items} == {"2.0"}
    with no_compute():
        ds = terra_lab.load(items, group_by=None)
    snow = ds["snow"]
    assert snow.attrs["flag_values"] == [0, 100, 205]
    assert snow.attrs["flag_colors"].split() == ["#777777", "#00ffff", "#ffffff"]
    assert "Neige" in snow.attrs["flag_names_fr"]
    values = snow.values
    for i, it in enumerate(sorted(items, key=lambda it: it["properties"]["datetime"])):
        with rasterio.open(_path(demo_root, it, "SNW_R2")) as src:
            raw = src.read(1)
        nodata = 254
        assert np.isin(raw, [0, 100, 205, nodata]).all()
        np.testing.assert_array_equal(np.isnan(values[i]), raw == nodata)
        np.testing.assert_array_equal(values[i][raw != nodata], raw[raw != nodata])
    assert set(np.unique(values[np.isfinite(values)])) <= {0, 100, 205}
    assert (values == 100).any() and (values == 205).any() and np.isnan(values).any()


def test_snow_l2b_matches_the_truth(demo_catalog, demo_root):
    items = _snw(demo_catalog)
    ds = terra_lab.load(items, group_by=None).compute()
    dates = [str(d)[:10] for d in ds.time.values]
    truth = xr.open_dataarray(demo_root / "truth" / "snow_R2.tif", engine="rasterio")
    import json

    scene = json.loads((demo_root / "truth" / "scene.json").read_text())
    all_dates = [d[:10] for d in scene["dates"]]
    for i, d in enumerate(dates):
        t = truth.isel(band=all_dates.index(d)).values.astype(bool)
        code = ds["snow"].isel(time=i).values
        assert ((code == 100) <= t).all()  # snow is only mapped where the truth has snow
        assert (code[t] != 0).all()  # and truth snow is never called no-snow


def test_lis17_255_is_nodata_in_a_product_written_here(tmp_path):
    name = "SENTINEL2B_20240301-103700-000_L2B-SNOW_T31TGK_C_V1-7"
    (tmp_path / name).mkdir()
    arr = np.array([[0, 100], [205, 255]], np.uint8).repeat(8, 0).repeat(8, 1)
    with rasterio.open(tmp_path / name / f"{name}_SNW_R2.tif", "w", driver="GTiff", width=16, height=16, count=1,
                       dtype="uint8", crs="EPSG:32631", transform=from_origin(700000, 5000000, 20, 20)) as dst:
        dst.write(arr, 1)  # no nodata tag, as LIS writes it
    item = thematic_item(tmp_path / name)
    assert item["collection"] == C.SNOW_L2B_COLLECTION
    out = terra_lab.load([item])["snow"].isel(time=0).values
    assert np.isnan(out[8:, 8:]).all() and (out[:8, :8] == 0).all() and (out[:8, 8:] == 100).all()
    assert (out[8:, :8] == 205).all()


def test_lis17_fsc_products_percent_cloud_and_nodata_layers(demo_catalog, demo_root, no_compute):
    from terra_lab.profiles import SNOW_FSC

    items = _fsc(demo_catalog)
    assert items and all(profile_for_item(it) is SNOW_FSC for it in items)
    assert all(it["id"].startswith("LIS_S2-SNOW-FSC_T31TGK_2024") for it in items)
    with no_compute():
        ds = terra_lab.load(items, group_by=None)
    assert ds["fsc"].attrs["units"] == "%" and {"cloud", "edge", "water"} <= set(ds.data_vars)
    fsc, cloud, edge, water = (ds[v].values for v in ("fsc", "cloud", "edge", "water"))
    for i, it in enumerate(sorted(items, key=lambda it: it["properties"]["datetime"])):
        with rasterio.open(_path(demo_root, it, "FSC")) as src:
            raw = src.read(1)
        with rasterio.open(_path(demo_root, it, "QCFLAGS")) as src:
            qc = src.read(1)
        assert src.nodata is None  # untagged, as LIS writes them
        np.testing.assert_array_equal(cloud[i], raw == 205)
        np.testing.assert_array_equal(edge[i], raw == 255)
        np.testing.assert_array_equal(np.isnan(fsc[i]), (raw == 205) | (raw == 255))
        np.testing.assert_array_equal(water[i], (qc & 4) != 0)
    assert set(np.unique(fsc[np.isfinite(fsc)])) <= {0.0, 100.0} and water.any() and edge.any()


def test_zipped_thematic_products_are_read_in_place(demo_catalog, demo_root):
    """OSO 2023 and the first LIS 1.7 product ship zipped (as THEIA delivers them): /vsizip/ hrefs."""
    zipped = [it for cid in (C.OSO_COLLECTION, C.SNOW_L2B_COLLECTION) for it in _items(demo_catalog, cid)
              if any("/vsizip/" in a["href"] for a in it["assets"].values())]
    assert {it["id"][:8] for it in zipped} == {"OSO_2023", "LIS_S2-S"}
    for it in zipped:
        da = terra_lab.load([it])[next(iter(profile_for_item(it).bands))].isel(time=0).values
        key = next(iter(it["assets"])) if "OCS" not in it["assets"] else "OCS"
        key = "FSC" if "FSC" in it["assets"] else key
        with rasterio.open(_path(demo_root, it, key)) as src:
            raw = src.read(1).astype(np.float32)
        nodata = {"OCS": (0,), "FSC": (205, 255)}[key]
        raw[np.isin(raw, nodata)] = np.nan
        np.testing.assert_array_equal(da, raw)


def test_fsc_no_data_is_edge_whether_or_not_the_file_tags_it(tmp_path):
    arr = np.array([[0, 40], [205, 255]], np.uint8).repeat(8, 0).repeat(8, 1)
    items = []
    for k, tag in enumerate((None, 255)):
        pid = f"LIS_S2-SNOW-FSC_T31TGK_2024030{k + 1}T103700_1-10_01"
        (tmp_path / pid).mkdir()
        with rasterio.open(tmp_path / pid / f"{pid}.tif", "w", driver="GTiff", width=16, height=16, count=1,
                           dtype="uint8", nodata=tag, crs="EPSG:32631",
                           transform=from_origin(700000, 5000000, 20, 20)) as dst:
            dst.write(arr, 1)
        (found,) = find_fsc_products(tmp_path / pid).items()
        items.append(fsc_item(*found))
    ds = terra_lab.load(items, group_by=None)
    for t in range(2):
        assert ds["edge"].isel(time=t).values[8:, 8:].all() and not ds["edge"].isel(time=t).values[:8].any()
        assert ds["cloud"].isel(time=t).values[8:, :8].all()
        np.testing.assert_array_equal(ds["fsc"].isel(time=t).values[:8, 8:], 40)


# ------------------------------------------------------------------ snow L3B
def test_snow_l3b_equals_the_daily_truth(demo_catalog, demo_root, no_compute):
    items = _items(demo_catalog, C.SNOW_L3B_COLLECTION)
    assert items[0]["properties"]["start_datetime"].startswith("2023-09-01")
    with no_compute():
        ds = terra_lab.load(items)
    assert set(ds.data_vars) == {"SCD", "SOD", "SMOD", "NOBS"}
    assert ds["SCD"].attrs["units"] == "d"
    truth = xr.open_dataarray(demo_root / "truth" / "snow_annual_2023-2024_R2.tif", engine="rasterio").values
    np.testing.assert_array_equal(ds["SCD"].isel(time=0).values, truth[0])
    np.testing.assert_array_equal(ds["SMOD"].isel(time=0).values, truth[2])
    nobs = ds["NOBS"].isel(time=0).values
    assert 10 < nobs.max() <= 73 and nobs.min() >= 0


# ------------------------------------------------------------------ OSO
def test_oso_codes_legend_and_2016_recoded(demo_catalog, demo_root, no_compute):
    items = _items(demo_catalog, C.OSO_COLLECTION)
    assert sorted(it["properties"]["datetime"][:4] for it in items) == ["2016", "2023"]
    assert all(it["properties"]["proj:epsg"] == 2154 for it in items)  # Lambert-93, as OSO
    with no_compute():
        ds = terra_lab.load(items, bands=["landcover"], group_by=None)
    lc = ds["landcover"]
    assert lc.attrs["flag_values"] == list(range(1, 24)) and lc.attrs["flag_colors"].split()[16] == "#003200"
    v = lc.values
    old = next(it for it in items if it["id"].startswith("OSO_2016"))
    with rasterio.open(_path(demo_root, old, "OCS")) as src:
        raw2016 = src.read(1)
    assert set(np.unique(raw2016)) <= set(OSO_2016_TO_2018) | {0}  # the file holds 17-class codes...
    np.testing.assert_array_equal(v[0], v[1])  # ...loaded as the 23-class codes of 2023
    assert set(np.unique(v[np.isfinite(v)])) <= set(OSO_LEGEND.codes)


def test_oso_on_the_sentinel2_grid_matches_the_truth(demo_catalog, demo_root):
    from terra_lab.demo import DEMO_TO_OSO

    s2 = terra_lab.load(demo_catalog.search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A").items[:1], bands=["red"],
                        resolution=20)
    oso = terra_lab.load(_items(demo_catalog, C.OSO_COLLECTION)[-1:], bands=["landcover"], like=s2)
    got = oso["landcover"].isel(time=0).values
    truth = xr.open_dataarray(demo_root / "truth" / "landcover_R2.tif", engine="rasterio").isel(band=0).values
    want = np.vectorize(lambda c: DEMO_TO_OSO.get(int(c), 0))(truth)
    inside = np.isfinite(got)
    assert inside.mean() > 0.7  # the Lambert-93 map covers the inner 90% of the tile
    assert (got[inside] == want[inside]).mean() > 0.9  # nearest resampling across projections


# ------------------------------------------------------------------ DEMs
def test_demo_dem_is_continuous_metres(demo_catalog):
    from terra_lab.demo import DEM_COLLECTION

    ds = terra_lab.load(_items(demo_catalog, DEM_COLLECTION), bands=["elevation"])
    assert ds["elevation"].attrs["units"] == "m" and ds.attrs["terra_lab:kind"] == "continuous"
    assert 500 < float(ds["elevation"].mean()) < 3000


def test_untagged_dem_nodata_never_blends_into_resampled_values(tmp_path):
    elev = np.full((60, 60), 1500, np.int16)
    elev[:, :20] = -32768  # no data, and no nodata tag in the file
    path = tmp_path / "dem.tif"
    with rasterio.open(path, "w", driver="GTiff", width=60, height=60, count=1, dtype="int16", crs="EPSG:32631",
                       transform=from_origin(700000, 5000000, 20, 20)) as dst:
        dst.write(elev, 1)
    item = {"type": "Feature", "stac_version": "1.0.0", "id": "dem", "collection": "MY_DEM", "links": [],
            "bbox": [4.4, 45.1, 4.5, 45.2], "geometry": None,
            "properties": {"datetime": "2000-01-01T00:00:00Z", "proj:epsg": 32631},
            "assets": {"elevation": {"href": str(path), "proj:shape": [60, 60],
                                     "proj:transform": [20, 0, 700000, 0, -20, 5000000]}}}
    e = terra_lab.load([item], resolution=30, resampling="bilinear")["elevation"].isel(time=0).values
    assert np.isnan(e).any() and np.nanmin(e) == np.nanmax(e) == 1500


def test_copernicus_dem_glo30_as_earth_search_publishes_it(tmp_path):
    # one float32 COG in EPSG:4326 on a 1 arc-second grid, asset key "data", collection cop-dem-glo-30
    d = 1 / 3600
    h = w = 180
    lon0, lat0 = 6.30, 45.25
    elev = (1000 + 10 * np.arange(h)[:, None] + np.zeros((1, w))).astype(np.float32)
    path = tmp_path / "Copernicus_DSM_COG_10_N45_00_E006_00_DEM.tif"
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_origin(lon0, lat0, d, d)) as dst:
        dst.write(elev, 1)
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": "Copernicus_DSM_COG_10_N45_00_E006_00_DEM",
        "collection": "cop-dem-glo-30", "bbox": [lon0, lat0 - h * d, lon0 + w * d, lat0],
        "geometry": {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon0 + w * d, lat0], [lon0 + w * d, lat0 - h * d],
                                                          [lon0, lat0 - h * d], [lon0, lat0]]]},
        "properties": {"datetime": "2021-04-22T00:00:00Z", "proj:epsg": 4326},
        "assets": {"data": {"href": str(path), "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                            "roles": ["data"], "proj:shape": [h, w], "proj:transform": [d, 0, lon0, 0, -d, lat0]}},
        "links": [],
    }
    with pytest.raises(ValueError, match="resolution="):
        terra_lab.load([item])
    ds = terra_lab.load([item], crs=32631, resolution=30)
    e = ds["elevation"].isel(time=0).values
    assert ds["elevation"].attrs["units"] == "m"
    assert np.nanmin(e) >= 1000 and np.nanmax(e) <= 1000 + 10 * h and np.isfinite(e).mean() > 0.5
    with pytest.raises(MissingBandError, match="level"):
        terra_lab.load([item], crs=32631, resolution=30, level="SRE")


# ------------------------------------------------------------------ L3A
def test_l3a_wasp_flags_and_reflectance(demo_catalog, demo_root, no_compute):
    items = _items(demo_catalog, C.S2_L3A_COLLECTION)
    with no_compute():
        ds = terra_lab.load(items, bands=["red", "swir16"], resolution=20, raw_masks=True)
    flg = ds["FLG"].values
    assert set(np.unique(flg)) <= {1, 2, 3, 4} and (flg == 4).any() and (flg == 3).any()
    np.testing.assert_array_equal(ds["cloud"].values, flg == 1)
    np.testing.assert_array_equal(ds["water"].values, flg == 3)
    red = ds["red"].values
    assert np.isnan(red[flg == 1]).all() and np.isfinite(red[flg != 1]).all()
    assert np.nanmin(red) > 0 and np.nanmax(red) < 1.3
    with rasterio.open(_path(demo_root, items[0], "FRC_B4")) as src:  # 10 m native
        assert src.res == (10.0, 10.0) and src.nodata == -10000


# ------------------------------------------------------------------ Landsat and Venus
def test_landsat_bands_native_30m_and_xs_masks(demo_catalog, no_compute):
    items = _items(demo_catalog, C.LANDSAT8_L2A_COLLECTION)
    assert len(items) == 3 and items[0]["properties"]["platform"] == "landsat-8"
    assert {"CLM_XS", "MG2_XS", "EDG_XS", "SAT_XS", "FRE_B7"} <= set(items[0]["assets"])
    with no_compute():
        ds = terra_lab.load(items)
    assert list(ds["coastal"].dims) == ["time", "y", "x"] and ds.attrs["terra_lab:resolution"] == 30.0
    assert set(LANDSAT_L2A.bands) <= set(ds.data_vars) and "cloud" in ds and "rededge1" not in ds
    nir = ds["nir"].values
    assert 0 < np.nanmedian(nir) < 1


def test_venus_vm5_twelve_bands_at_4m(demo_catalog, no_compute):
    items = _items(demo_catalog, C.VENUS_VM5_L2A_COLLECTION)
    assert items[0]["properties"]["gsd"] == 4.0
    with no_compute():
        ds = terra_lab.load(items, bands=["B3", "B11", "B12"])
    assert ds.attrs["terra_lab:resolution"] == 4.0 and list(ds.data_vars)[:3] == ["blue", "nir", "nir09"]
    assert abs(float(ds.x[1] - ds.x[0])) == 4.0
    assert 0 < np.nanmedian(ds["nir"].values) < 1


def _muscate_xs(root, name, bands, res, shape=(24, 24)):
    (root / name / "MASKS").mkdir(parents=True)
    kw = dict(driver="GTiff", width=shape[1], height=shape[0], count=1, crs="EPSG:32631",
              transform=from_origin(700000, 5000000, res, res))
    for i, b in enumerate(bands):
        with rasterio.open(root / name / f"{name}_FRE_{b}.tif", "w", dtype="int16", **kw) as dst:
            dst.write(np.full(shape, 1000 * (i + 1), np.int16), 1)  # no nodata tag, as MUSCATE writes them
    with rasterio.open(root / name / "MASKS" / f"{name}_CLM_XS.tif", "w", dtype="uint8", **kw) as dst:
        dst.write(np.where(np.arange(shape[1]) < 4, 2, 0).astype(np.uint8)[None].repeat(shape[0], 1), 1)
    return root / name


@pytest.mark.parametrize("name, bands, res, collection, platform", [
    ("VENUS-XS_20190101-105203-000_L2A_SUDOUE-1_C_V2-2", ("B3", "B11"), 5.0, C.VENUS_L2A_COLLECTION, "venus"),
    ("LANDSAT9-OLITIRS-XS_20230101-103112-000_L2A_T31TGK_C_V3-1", ("B4", "B5"), 30.0, C.LANDSAT8_L2A_COLLECTION,
     "landsat-9"),
])
def test_venus_vm1_and_landsat9_products_written_here(tmp_path, name, bands, res, collection, platform):
    item = thematic_item(_muscate_xs(tmp_path, name, bands, res))
    assert item["collection"] == collection and item["properties"]["platform"] == platform
    profile = profile_for_item(item)
    ds = terra_lab.load([item], bands=list(bands))
    assert ds.attrs["terra_lab:resolution"] == res == profile.bands[profile.common_name(bands[0])].resolution
    first = ds[profile.common_name(bands[0])].isel(time=0).values
    assert np.allclose(first, 0.1) and ds["cloud"].isel(time=0).values[:, :4].all()


# ------------------------------------------------------------------ ingest
def test_thematic_items_from_the_demo_folders(demo_root):
    products = find_thematic_products(demo_root / "thematic")
    colls = {thematic_item(p)["collection"] for p in products}
    assert colls == {C.SNOW_L2B_COLLECTION, C.SNOW_L3B_COLLECTION, C.OSO_COLLECTION, C.S2_L3A_COLLECTION,
                     C.LANDSAT8_L2A_COLLECTION, C.VENUS_VM5_L2A_COLLECTION, C.WATERQUAL_L2B_COLLECTION,
                     C.BIOPHY_L2B_COLLECTION}


def test_ingest_puts_each_product_type_in_its_collection(demo_root, tmp_path):
    from terra_lab.catalog import LocalCatalog
    from terra_lab.catalog._ingest import ingest

    cat = LocalCatalog(tmp_path / "catalog", name="t")
    ingest(demo_root / "thematic", catalog=cat)
    assert {C.SNOW_L2B_COLLECTION, C.OSO_COLLECTION, C.LANDSAT8_L2A_COLLECTION} <= set(cat.collection_ids())
    ds = terra_lab.load(_snw(cat)[:2], group_by=None)
    assert ds["snow"].attrs["flag_values"] == [0, 100, 205]


# ------------------------------------------------------------------ display
def test_terramap_shows_the_legend_colours(demo_catalog):
    pytest.importorskip("ipyleaflet")
    import io

    from PIL import Image

    from terra_lab.display._legend import legend_entries, legend_style
    from terra_lab.display._tiles import colorize
    from terra_lab.display.map import TerraMap

    items = _snw(demo_catalog)[:3]
    snow = terra_lab.load(items, group_by=None)["snow"]
    style, spec = legend_style(snow)
    rgba = colorize(np.array([[0.0, 100.0, 205.0, np.nan]]), style)
    assert [tuple(p[:3]) for p in rgba[0][:3]] == [(0x77, 0x77, 0x77), (0, 255, 255), (255, 255, 255)]
    assert rgba[0][3][3] == 0  # no data transparent
    assert [c["label"] for c in spec["classes"]] == ["No snow", "Snow", "Cloud including cloud shadow"]
    assert legend_entries(snow, "fr")[1] == (100, "#00ffff", "Neige")

    m = TerraMap()
    lid = m.add_layer(snow, name="snow")  # no cmap: the producer's legend
    assert lid.legend["classes"][1]["color"] == "#00ffff"
    # a rendered tile holds only legend colours (and transparency)
    w, s_, e, n = items[0]["bbox"]
    lon, lat, z = (w + e) / 2, (s_ + n) / 2, 13
    tx = int((lon + 180) / 360 * 2**z)
    ty = int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * 2**z)
    png = lid.tile(z, tx, ty, 0)
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).reshape(-1, 4)
    seen = {tuple(p[:3]) for p in img if p[3] > 0}
    assert seen and seen <= {(0x77, 0x77, 0x77), (0, 255, 255), (255, 255, 255)}

    oso = terra_lab.load(_items(demo_catalog, C.OSO_COLLECTION)[-1:], bands=["landcover"])["landcover"]
    style, _ = legend_style(oso)
    rgba = colorize(np.array([[17.0, 23.0]]), style)
    assert [tuple(p[:3]) for p in rgba[0]] == [(0, 0x32, 0), (0, 0, 255)]
