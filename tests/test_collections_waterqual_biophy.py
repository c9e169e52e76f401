"""THEIA water-quality and biophysical L2B collections, and snow L2B across the LIS 1.7 change.

The demo writes both L2B products in the layout of :mod:`terra_lab.profiles._thematic` (whose
docstring says which details are verified and which are not).  Each test loads a collection
lazily with terra_lab.load, then checks it against the files (read with rasterio), the demo's truth
and formulas written out here from the papers (Dogliotti et al. 2015, Nechad et al. 2010 with the
ACOLITE Sentinel-2 calibration of 2016).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
import xarray as xr

import terra_lab
from terra_lab.catalog._thematic_items import find_thematic_products, thematic_item
from terra_lab.errors import MissingBandError
from terra_lab.profiles import BIOPHY_L2B, SNOW_FSC, SNOW_L2B, WATERQUAL_L2B, profile_for_item
from terra_lab.profiles import _collections as C


def _items(cat, cid):
    return sorted(cat.search(collections=cid).items, key=lambda it: it["properties"]["datetime"])


def _read(demo_root, item, key):
    import os

    href = item["assets"][key]["href"]
    path = href if os.path.isabs(href) else os.path.normpath(os.path.join(demo_root, "catalog", href))
    with rasterio.open(path) as src:
        return src.read(1)


def _truth_band(demo_root, name, when):
    scene = json.loads((demo_root / "truth" / "scene.json").read_text())
    index = [d[:19] for d in scene["dates"]].index(str(when)[:19])
    return xr.open_dataarray(demo_root / "truth" / name, engine="rasterio").isel(band=index).values


# ------------------------------------------------------------------ water quality
def test_water_quality_lazy_values_units_and_flag_legend(demo_catalog, demo_root, no_compute):
    items = _items(demo_catalog, C.WATERQUAL_L2B_COLLECTION)
    assert len(items) == 3 and all(profile_for_item(it) is WATERQUAL_L2B for it in items)
    assert all("_L2B-WATERQUAL_T31TGK_" in it["id"] for it in items)
    with no_compute():
        ds = terra_lab.load(items, group_by=None)
    assert {v: ds[v].attrs.get("units") for v in ("turbidity", "spm", "chla")} == \
        {"turbidity": "FNU", "spm": "g m-3", "chla": "mg m-3"}
    q = ds["quality"]
    assert q.attrs["flag_values"] == [0, 1, 2, 3] and "Water, valid value" in q.attrs["flag_names_en"]
    assert {"water", "cloud", "edge"} <= set(ds.data_vars)
    ds = ds.compute()
    for i, it in enumerate(items):
        flags = _read(demo_root, it, "QUALITY_R2")
        np.testing.assert_array_equal(ds["quality"][i].values, np.where(flags == 255, np.nan, flags))
        np.testing.assert_array_equal(ds["cloud"][i].values, flags == 2)
        for var, key in (("turbidity", "TUR_R2"), ("spm", "SPM_R2"), ("chla", "CHL_R2")):
            raw = _read(demo_root, it, key)
            assert raw.dtype == np.uint16
            got = ds[var][i].values
            np.testing.assert_array_equal(np.isnan(got), raw == 65535)
            np.testing.assert_allclose(got[raw != 65535], raw[raw != 65535] * 0.01, rtol=1e-6)
            assert (raw[flags != 0] == 65535).all()  # land, clouds: no value
    assert (ds["quality"] == 0).sum() > 500 and (ds["quality"] == 2).any()


def test_water_quality_turbidity_equals_the_truth(demo_catalog, demo_root):
    items = _items(demo_catalog, C.WATERQUAL_L2B_COLLECTION)
    ds = terra_lab.load(items, group_by=None).compute()
    for i, it in enumerate(items):
        truth = _truth_band(demo_root, "turbidity_R2.tif", it["properties"]["datetime"].rstrip("Z"))
        usable = ds["quality"][i].values == 0
        assert np.isfinite(truth[usable]).all()  # every usable water pixel is on the lake of the truth
        got = ds["turbidity"][i].values
        np.testing.assert_allclose(got[usable], truth[usable], atol=0.005 + 1e-4)  # uint16 x 100
        assert np.isnan(got[~usable]).all()
        # SPM from the same water-leaving reflectance: Dogliotti (red) inverted, Nechad S2 (red)
        rho = truth / (228.1 + truth / 0.1641)
        spm = 342.10 * rho / (1 - rho / 0.19563)
        np.testing.assert_allclose(ds["spm"][i].values[usable], spm[usable], atol=0.005 + 1e-3)
        assert (ds["chla"][i].values[usable] > 0).all()


# ------------------------------------------------------------------ biophysical
def test_biophysical_lazy_scaled_integers_and_nodata(demo_catalog, demo_root, no_compute):
    items = _items(demo_catalog, C.BIOPHY_L2B_COLLECTION)
    assert len(items) == 3 and all(profile_for_item(it) is BIOPHY_L2B for it in items)
    assert items[0]["assets"]["LAI_R2"]["raster:bands"][0] == {
        "data_type": "int16", "nodata": -10000, "scale": 0.001, "offset": 0.0, "unit": "m2 m-2"}
    with no_compute():
        ds = terra_lab.load(items, group_by=None)
    assert ds["lai"].attrs["units"] == "m2 m-2" and ds["fapar"].attrs["units"] == "1"
    ds = ds.compute()
    for i, it in enumerate(items):
        raw = _read(demo_root, it, "LAI_R2")
        assert raw.dtype == np.int16
        lai = ds["lai"][i].values
        np.testing.assert_array_equal(np.isnan(lai), raw == -10000)
        np.testing.assert_allclose(lai[raw != -10000], raw[raw != -10000] / 1000.0, rtol=1e-6)  # what the demo wrote
        # the demo's simulated relation, decoded independently for each variable
        ok = np.isfinite(lai)
        np.testing.assert_allclose(ds["fcover"][i].values[ok], 1 - np.exp(-0.5 * lai[ok]), atol=1.5e-3)
        np.testing.assert_allclose(ds["fapar"][i].values[ok], 0.95 * (1 - np.exp(-0.6 * lai[ok])), atol=1.5e-3)
        cloud = _truth_band(demo_root, "cloud_R2.tif", it["properties"]["datetime"].rstrip("Z")).astype(bool)
        assert np.isnan(lai[cloud]).all()
    lai = ds["lai"].values
    assert np.nanmax(lai) > 3 and np.nanmin(lai) == 0 and 0 < np.isnan(lai).mean() < 0.6


def test_biophysical_lai_follows_the_vegetation(demo_catalog, demo_root):
    items = _items(demo_catalog, C.BIOPHY_L2B_COLLECTION)
    lai = terra_lab.load(items, group_by=None)["lai"].isel(time=-1).values  # summer
    lc = xr.open_dataarray(demo_root / "truth" / "landcover_R2.tif", engine="rasterio").isel(band=0).values
    assert np.nanmean(lai[np.isin(lc, (5, 6))]) > 2.0  # forests
    assert np.nanmax(lai[lc == 8]) == 0.0  # the lake


# ------------------------------------------------------------------ item builders
def test_new_folders_make_items_in_their_geodes_collections(demo_root):
    found = {thematic_item(p)["collection"] for p in find_thematic_products(demo_root / "thematic")
             if "L2B-WATERQUAL" in p.name or "L2B-BIOPHY" in p.name}
    assert found == {C.WATERQUAL_L2B_COLLECTION, C.BIOPHY_L2B_COLLECTION}


# ------------------------------------------------------------------ snow across LIS versions
def test_snow_collection_spanning_lis_versions_loads_as_one_cube(demo_catalog, demo_root, no_compute):
    items = _items(demo_catalog, C.SNOW_L2B_COLLECTION)
    assert {profile_for_item(it).name for it in items} == {SNOW_L2B.name, SNOW_FSC.name}
    with no_compute():
        ds = terra_lab.load(items, group_by=None)
    assert ds.sizes["time"] == len(items)
    assert ds["snow"].attrs["flag_values"] == [0, 100, 205]
    assert ds["fsc"].attrs["units"] == "%"
    ds = ds.compute()
    for i, it in enumerate(items):
        snow, fsc = ds["snow"][i].values, ds["fsc"][i].values
        if "SNW_R2" in it["assets"]:
            raw = _read(demo_root, it, "SNW_R2")
            np.testing.assert_array_equal(np.isnan(snow), np.isin(raw, (254, 255)))
            np.testing.assert_array_equal(snow[~np.isnan(snow)], raw[~np.isnan(snow)])
            assert np.isnan(fsc).all()  # no fraction before LIS 1.7
        else:
            raw = _read(demo_root, it, "FSC")
            expect = np.where((raw >= 1) & (raw <= 100), 100, raw).astype(np.float32)
            expect[raw == 255] = np.nan
            np.testing.assert_array_equal(snow, expect)
            np.testing.assert_array_equal(np.isnan(fsc), np.isin(raw, (205, 255)))
    values = ds["snow"].values
    assert set(np.unique(values[np.isfinite(values)])) == {0, 100, 205}
    assert np.isfinite(ds["fsc"].values).any()


def test_snow_across_versions_bands_and_masks(demo_catalog):
    items = _items(demo_catalog, C.SNOW_L2B_COLLECTION)
    only = terra_lab.load(items, bands="fsc", group_by=None)  # only the FSC products have it
    assert set(only.data_vars) == {"fsc"} and all(i.startswith("LIS_") for i in only.attrs["terra_lab:source_items"])
    assert set(terra_lab.load(items, bands="snow", group_by=None).data_vars) == {"snow"}
    with pytest.raises(MissingBandError, match="cloud"):  # SNW_R2 products carry cloud in their codes
        terra_lab.load(items, masks="cloud")


def test_sources_of_different_collections_are_not_stacked(demo_catalog):
    snow = _items(demo_catalog, C.SNOW_L2B_COLLECTION)[:1]
    oso = _items(demo_catalog, C.OSO_COLLECTION)[:1]
    with pytest.raises(MissingBandError, match="several sources"):
        terra_lab.load(snow + oso)
