"""terra_lab.load: lazy THEIA-aware cubes checked pixel by pixel against the raw files."""

import shutil
import warnings

import numpy as np
import pytest
import rasterio
import xarray as xr

import terra_lab
from terra_lab.errors import AssetReadError, MissingBandError, NoItemsFoundError, RequestTooLargeError

DEMO = "THEIA_REFLECTANCE_SENTINEL2_L2A"


def _raw(item, key):
    with rasterio.open(item["assets"][key]["href"]) as ds:
        return ds.read(1)


@pytest.fixture(scope="module")
def main_items(demo_items):
    return [it for it in demo_items if "_T31TGK_" in it["id"]]


def test_load_is_lazy(demo_items, no_compute):
    with no_compute():
        cube = terra_lab.load(demo_items)
        ndvi = (cube.nir - cube.red) / (cube.nir + cube.red)
        clear = ndvi.where(~cube.cloud & ~cube.shadow).mean("time")
    assert all(v.chunks is not None for v in cube.data_vars.values())
    assert clear.chunks is not None


def test_structure_dtypes_crs_provenance(main_items):
    cube = terra_lab.load(main_items[:5])
    assert set(cube.data_vars) == {
        "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir08", "swir16", "swir22",
        "cloud", "shadow", "snow", "water", "edge", "saturated",
    }
    assert cube["red"].dims == ("time", "y", "x") and cube["red"].dtype == np.float32
    assert cube["cloud"].dtype == bool
    assert cube.sizes == {"time": 5, "y": 400, "x": 400}
    assert cube.rio.crs.to_epsg() == 32631
    assert cube.rio.resolution() == (10.0, -10.0)
    assert cube.rio.transform().c == 757200.0 and cube.rio.transform().f == 5012400.0
    assert cube.attrs["terra_lab:source_items"] == [it["id"] for it in main_items[:5]]
    assert cube.attrs["terra_lab:level"] == "FRE"
    assert list(cube["id"].values) == [it["id"] for it in main_items[:5]]


def test_reflectance_equals_raw_dn_scaled_with_nodata_as_nan(main_items):
    # a product cut by the swath edge has nodata pixels
    item = next(it for it in main_items if it["properties"]["terra:valid_percent"] < 100)
    cube = terra_lab.load([item], bands=["red", "swir16"], masks=False).compute()
    raw = _raw(item, "FRE_B4")
    expected = np.where(raw == -10000, np.nan, raw.astype(np.float32) * np.float32(1e-4))
    np.testing.assert_array_equal(cube.red.isel(time=0).values, expected)
    assert np.isnan(cube.red.values).any()
    # a 20 m band on the 10 m grid: nearest neighbour, each pixel repeated 2 x 2
    raw20 = _raw(item, "FRE_B11")
    exp20 = np.where(raw20 == -10000, np.nan, raw20.astype(np.float32) * np.float32(1e-4))
    np.testing.assert_array_equal(cube.swir16.isel(time=0).values, np.repeat(np.repeat(exp20, 2, 0), 2, 1))


def test_masks_decode_maja_bits(main_items):
    item = max(main_items, key=lambda it: 0 < (it["properties"].get("eo:cloud_cover") or 0) < 80)
    cube = terra_lab.load([item], bands=["red"], resolution=20).compute()
    clm = _raw(item, "CLM_R2")
    mg2 = _raw(item, "MG2_R2")
    edg = _raw(item, "EDG_R2") == 1
    valid = ~edg
    np.testing.assert_array_equal(cube.cloud[0].values, ((clm & (2 | 16 | 128)) != 0) & valid)
    np.testing.assert_array_equal(cube.shadow[0].values, ((clm & (32 | 64)) != 0) & valid)
    np.testing.assert_array_equal(cube.snow[0].values, ((mg2 & 4) != 0) & valid)
    np.testing.assert_array_equal(cube.water[0].values, ((mg2 & 1) != 0) & valid)
    np.testing.assert_array_equal(cube.edge[0].values, edg)
    assert cube.cloud.any() and cube.water.any()


def test_apply_masks(main_items):
    item = next(it for it in main_items if 10 < (it["properties"].get("eo:cloud_cover") or 0) < 90)
    cube = terra_lab.load([item], bands=["red"], resolution=20, apply_masks=True).compute()
    assert np.isnan(cube.red.values[cube.cloud.values | cube.shadow.values]).all()
    assert np.isfinite(cube.red.values[~(cube.cloud | cube.shadow | cube.edge).values]).all()
    assert cube.attrs["terra_lab:masks_applied"] == ["cloud", "shadow", "edge", "saturated"]


def test_solar_day_mosaic_of_two_utm_zones(demo_items):
    same_day = [it for it in demo_items if it["properties"]["datetime"].startswith("2022-09-01")]
    assert len(same_day) == 2 and {it["properties"]["proj:epsg"] for it in same_day} == {32631, 32632}
    cube = terra_lab.load(same_day, bands=["nir08"], resolution=20).compute()
    apart = terra_lab.load(same_day, bands=["nir08"], resolution=20, group_by=None).compute()
    assert cube.sizes["time"] == 1 and apart.sizes["time"] == 2
    assert cube.rio.crs.to_epsg() == 32631  # the most common zone (tie: first) is the common grid
    both = apart.nir08.values
    first_valid = np.where(np.isnan(both[0]), both[1], both[0])
    np.testing.assert_array_equal(cube.nir08[0].values, first_valid)
    assert "," in str(cube["id"].values[0])
    # the east tile, reprojected from EPSG:32632, fills pixels the main tile does not cover
    assert np.isnan(both[0]).any() and np.isfinite(cube.nir08[0].values).sum() > np.isfinite(both[0]).sum()


def test_common_grid_in_another_zone(demo_items):
    east = [it for it in demo_items if "_T32TLQ_" in it["id"]][:3]
    cube = terra_lab.load(east, bands=["nir08"], crs=32632, resolution=20, masks=False).compute()
    raw = _raw(east[0], "FRE_B8A")
    np.testing.assert_array_equal(cube.nir08[0].values, raw.astype(np.float32) * np.float32(1e-4))
    other = terra_lab.load(east, bands=["nir08"], crs="EPSG:32631", resolution=20, masks=False)
    assert other.rio.crs.to_epsg() == 32631


def test_bbox_crop_matches_the_full_cube(main_items):
    full = terra_lab.load(main_items[:3], bands=["red"], resolution=20)
    crop = terra_lab.load(main_items[:3], bands=["red"], resolution=20, bbox=(6.285, 45.19, 6.30, 45.205))
    assert crop.sizes["x"] < full.sizes["x"] and crop.sizes["y"] < full.sizes["y"]
    sub = full.sel(x=crop.x, y=crop.y)
    xr.testing.assert_equal(crop.red.compute(), sub.red.compute())


def test_results_do_not_depend_on_chunks(main_items):
    a = terra_lab.load(main_items[:4], bands=["green", "swir16"], resolution=20)
    b = terra_lab.load(main_items[:4], bands=["green", "swir16"], resolution=20, chunks={"time": 2, "y": 64, "x": 48})
    assert b.green.chunks[1][0] == 64 and b.green.chunks[0][0] == 2
    xr.testing.assert_identical(a.compute(), b.compute())


def test_sre_is_refused_for_products_that_only_hold_fre(main_items):
    with pytest.raises(MissingBandError, match="SRE_B4"):
        terra_lab.load(main_items[:1], bands=["red"], level="SRE")


def test_unknown_band_lists_the_known_ones(main_items):
    with pytest.raises(MissingBandError, match=r"band 'B13' is not defined.*available: \['blue'"):
        terra_lab.load(main_items[:1], bands=["B13"])


def test_band_aliases(main_items):
    cube = terra_lab.load(main_items[:1], bands=["B4", "B8A"], masks=False)
    assert list(cube.data_vars) == ["red", "nir08"]


def test_no_items():
    with pytest.raises(NoItemsFoundError, match="widen the area or the dates"):
        terra_lab.load([])


def test_oversized_request_is_refused_with_advice(main_items):
    with pytest.raises(RequestTooLargeError, match=r"GiB .*narrow bbox=, coarsen resolution="):
        terra_lab.load(main_items, max_bytes=10_000_000)
    with pytest.raises(RequestTooLargeError):  # the default limit: 4x the machine's memory
        terra_lab.load(main_items, resolution=0.1)


def test_missing_file_is_reported_at_load(main_items, tmp_path):
    item = _copy_item(main_items[0], tmp_path)
    (tmp_path / "FRE_B4.tif").unlink()
    with pytest.raises(AssetReadError, match=r"points to a missing file.*on_error='skip'"):
        terra_lab.load([item], bands=["red"])


def test_corrupt_asset_raises_or_is_skipped(main_items, tmp_path):
    item = _copy_item(main_items[0], tmp_path)
    path = tmp_path / "FRE_B4.tif"
    path.write_bytes(path.read_bytes()[:600])  # truncated COG
    cube = terra_lab.load([item], bands=["red", "green"], masks=False)
    with pytest.raises(AssetReadError, match=r"could not read asset .*FRE_B4.tif.*re-download the product"):
        cube.red.compute()
    skipped = terra_lab.load([item], bands=["red", "green"], masks=False, on_error="skip")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = skipped.compute()
    assert np.isnan(out.red.values).all() and np.isfinite(out.green.values).all()
    assert any("FRE_B4.tif" in str(x.message) for x in w)


def _copy_item(item, folder):
    import copy

    new = copy.deepcopy(item)
    for key in ("FRE_B4", "FRE_B3"):
        src = item["assets"][key]["href"]
        shutil.copy(src, folder / f"{key}.tif")
        new["assets"][key]["href"] = str(folder / f"{key}.tif")
    return new


def test_real_theia_sample(zonetest_catalog):
    res = zonetest_catalog.search(collections="ZONETEST", dates="2019")
    cube = terra_lab.load(res, bands=["red", "nir08", "swir16", "swir22"], resolution=20)
    # only CLM_R2 exists in this sample: cloud and shadow from it, edge from the nodata
    assert set(cube.data_vars) == {"red", "nir08", "swir16", "swir22", "cloud", "shadow", "edge"}
    assert cube.sizes["y"] == 40 and cube.sizes["x"] == 40
    out = cube.compute()
    assert float(out.swir16.min()) >= 0 and float(out.swir16.max()) < 1
    cloudy = (out.cloud | out.shadow).mean(("x", "y")).values * 100
    np.testing.assert_allclose(cloudy, out["eo:cloud_cover"].values, atol=0.5)
    with pytest.raises(MissingBandError, match="mask layer 'snow' needs asset"):
        terra_lab.load(res, masks=["snow"])
