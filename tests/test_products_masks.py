"""MAJA mask decoding and cloud percentages (against fordead's Ennuagement.csv on real data)."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import terra_lab
from terra_lab.products.masks import CLM_BITS, MG2_BITS, cloud_percentage, decode_clm, decode_mg2, decode_sat


def test_every_clm_and_mg2_bit_is_decoded():
    values = xr.DataArray(np.array([[0, 1, 2, 4], [8, 16, 32, 64], [128, 255, 34, 129]], np.uint8), dims=("y", "x"))
    clm = decode_clm(values)
    assert list(clm.data_vars) == list(CLM_BITS.values())
    for bit, name in CLM_BITS.items():
        np.testing.assert_array_equal(clm[name].values, (values.values >> bit) & 1 == 1)
    assert clm["cloud_shadows"].values[2, 2] and clm["clouds"].values[2, 2]  # 34 = bits 1 and 5
    mg2 = decode_mg2(values)
    assert mg2["snow"].values[0, 3] and not mg2["water"].values[0, 3]
    assert list(mg2.data_vars) == list(MG2_BITS.values())
    sat = decode_sat(values, "R1")
    assert list(sat.data_vars) == ["saturated_B2", "saturated_B3", "saturated_B4", "saturated_B8"]
    assert sat["saturated_B4"].values[0, 3]


def test_nan_masks_decode_to_false():
    values = xr.DataArray(np.array([np.nan, 2.0], np.float32), dims="x")
    assert decode_clm(values)["clouds"].values.tolist() == [False, True]


def test_cloud_percentage_matches_fordead_on_the_real_sample(zonetest_catalog, zonetest_dir):
    res = zonetest_catalog.search(collections="ZONETEST")
    cube = terra_lab.load(res, bands=["swir16"], resolution=20, raw_masks=True)
    pct = cloud_percentage(cube).compute()
    ref = pd.read_csv(next(zonetest_dir.rglob("Ennuagement.csv")), index_col=0).iloc[:, 0]
    ref.index = pd.to_datetime(ref.index).strftime("%Y-%m-%d")
    ours = pd.Series(pct.values / 100, index=pd.DatetimeIndex(pct["time"].values).strftime("%Y-%m-%d"))
    both = pd.concat([ours, ref[ref <= 1]], axis=1, join="inner").dropna()
    assert len(both) == 97
    r = np.corrcoef(both.iloc[:, 0], both.iloc[:, 1])[0, 1]
    assert r >= 0.99, r
    # and the same as the per-item cloud cover written at ingest
    np.testing.assert_allclose(pct.values, cube["eo:cloud_cover"].values, atol=0.01)


def test_cloud_percentage_edge_cases_and_aoi(demo_items):
    items = [it for it in demo_items if "_T31TGK_" in it["id"]][:12]
    cube = terra_lab.load(items, bands=["red"], resolution=20, raw_masks=True)
    pct = cloud_percentage(cube).compute()
    covers = np.array([it["properties"].get("eo:cloud_cover", np.nan) for it in items], dtype=float)  # NaN: unknown
    assert np.all(pct.values[covers == 100] == 100)
    assert np.all(pct.values[covers == 0] == 0)
    # a date with no valid pixel at all is NaN, not a crash or a division warning
    blank = cube.copy()
    blank["edge"] = xr.ones_like(cube["edge"])
    assert np.isnan(cloud_percentage(blank).compute().values).all()
    west = cloud_percentage(cube, aoi=(6.28, 45.18, 6.29, 45.19)).compute()
    assert west.shape == pct.shape and not np.allclose(west.values, pct.values, equal_nan=True)
    with pytest.raises(terra_lab.errors.MissingBandError, match="raw_masks=True"):
        cloud_percentage(terra_lab.load(items, bands=["red"]))
