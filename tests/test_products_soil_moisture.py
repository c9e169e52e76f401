"""Soil moisture from Sentinel-1 VV and NDVI: the Water Cloud Model and its two inversions (El Hajj et al. 2017).

Checked against an independent numpy transcription of the model's equations (Attema & Ulaby 1978 with
V1 = V2 = NDVI, soil term linear in dB), against scipy's root finder on the same model (the direct
inversion), on the model's own forward simulations (both inversions round-trip), and on the demo's
soil-moisture truth: the demo's S1Tiling series is simulated from it with speckle, and the plot-scale
RMSE (vol.%) of both inversions is printed and asserted below the method's ~5 vol.%.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import rasterio
import xarray as xr
from scipy.optimize import brentq

import terra_lab
from terra_lab.products import soil_moisture as sm
from terra_lab.profiles import _collections as C

P = sm.WCM_VV


def _wcm_numpy(mv, ndvi, theta_deg, p=P):
    """The model written out again, independently of the numba kernel."""
    th = np.radians(theta_deg)
    t2 = np.exp(-2 * p.b * ndvi / np.cos(th))
    veg = p.a * ndvi * np.cos(th) * (1 - t2)
    soil = 10 ** ((p.c * mv + p.d + p.d_slope * (theta_deg - p.theta_ref)) / 10)
    return veg + t2 * soil


def _da(x):
    return xr.DataArray(np.asarray(x, dtype=np.float32), dims="i")


def test_forward_matches_the_equations():
    mv, nd, th = np.array([5.0, 20.0, 35.0, 12.0]), np.array([0.0, 0.3, 0.7, 0.5]), np.array([39.0, 30.0, 45.0, 36.0])
    got = sm.wcm_forward(_da(mv), _da(nd), _da(th)).values
    np.testing.assert_allclose(got, _wcm_numpy(mv, nd, th), rtol=2e-6)
    # bare soil at the reference angle: sigma0 (dB) = C mv + D exactly
    assert 10 * np.log10(sm.wcm_forward(_da([20.0]), _da([0.0]), 39.0).values[0]) == pytest.approx(P.c * 20 + P.d, abs=1e-4)


def test_worked_value_by_hand():
    """One forward simulation written out with the math module, step by step (WCM, V1 = V2 = NDVI, soil term in dB).

    mv = 25 vol.%, NDVI = 0.4, theta = 35 deg with the WCM_VV preset (A 0.20, B 0.50, C 0.25 dB/vol.%,
    D -17.25 dB at 39 deg, -0.20 dB/deg): cos 35 = 0.81915, T2 = exp(-2 B NDVI / cos) = 0.61366,
    sigma_veg = A NDVI cos (1 - T2) = 0.025318, sigma_soil = 10^((C mv + D - 0.2 (35 - 39)) / 10) = 10^(-1.02)
    = 0.095499, sigma_tot = 0.083922 = -10.761 dB.
    """
    import math

    mv, nd, th = 25.0, 0.4, 35.0
    cos_t = math.cos(math.radians(th))
    t2 = math.exp(-2.0 * P.b * nd / cos_t)
    veg = P.a * nd * cos_t * (1.0 - t2)
    soil_db = P.c * mv + P.d + P.d_slope * (th - P.theta_ref)
    total = veg + t2 * 10.0 ** (soil_db / 10.0)
    assert soil_db == pytest.approx(-10.2) and t2 == pytest.approx(0.613663, abs=1e-6)
    assert 10 * math.log10(total) == pytest.approx(-10.7612, abs=1e-4)  # the value worked out in the docstring
    got = float(sm.wcm_forward(_da([mv]), _da([nd]), _da([th])).values[0])
    assert 10 * math.log10(got) == pytest.approx(10 * math.log10(total), abs=1e-4)
    # and back: the closed form returns the soil moisture the signal was made with
    assert float(sm.invert_wcm(_da([total]), _da([nd]), _da([th])).values[0]) == pytest.approx(mv, abs=1e-3)


def test_nn_rmse_on_noisy_simulations_vs_the_papers_accuracy():
    """El Hajj et al. 2017 report about 5 vol.% RMSE for the network without a priori information; ours on
    independent noisy simulations (the training noise: 1 dB on sigma0, 10 % on NDVI, 0.5 deg)."""
    x, y = sm.training_set(n=3000, seed=11)  # another seed than the network's training set
    th, nd = x[:, 2], x[:, 1]
    got = sm.invert_wcm_nn(_da(10 ** (x[:, 0] / 10)), _da(nd), _da(th)).values
    ok = np.isfinite(got)
    rmse = float(np.sqrt(np.mean((got[ok] - y[ok]) ** 2)))
    direct = sm.invert_wcm(_da(10 ** (x[:, 0] / 10)), _da(nd), _da(th)).values
    ok_d = np.isfinite(direct)
    rmse_d = float(np.sqrt(np.mean((direct[ok_d] - y[ok_d]) ** 2)))
    flagged = sm.range_flag(_da(10 ** (x[:, 0] / 10)), _da(nd), _da(th)).values == sm.ABOVE_RANGE
    above = float(flagged.mean())
    print(f"\nnoisy WCM simulations (mv {P.mv_min:g}-{P.mv_max:g} vol.%, NDVI 0-{P.ndvi_max}): NN RMSE {rmse:.2f} vol.%, "
          f"direct {rmse_d:.2f} vol.% (El Hajj et al. 2017: about 5 vol.% without a priori information); "
          f"{above:.1%} flagged above the model's range by the noise alone")
    assert np.array_equal(~ok, (nd > P.ndvi_max) | flagged)  # NaN only under dense vegetation or above the range
    assert above < 0.02 and rmse < 6.5 and rmse < rmse_d


def test_a_priori_dry_network_is_more_accurate_on_dry_soils():
    """El Hajj et al.'s a priori information: a network trained on dry soils only beats the full-range one there."""
    dry = dataclasses.replace(P, mv_max=20.0)
    x, y = sm.training_set(dry, n=2000, seed=12)
    sigma, nd, th = _da(10 ** (x[:, 0] / 10)), _da(x[:, 1]), _da(x[:, 2])
    rmse = {}
    for name, params in (("full range", P), ("dry prior", dry)):
        got = sm.invert_wcm_nn(sigma, nd, th, params=params).values
        ok = np.isfinite(got)
        rmse[name] = float(np.sqrt(np.mean((got[ok] - y[ok]) ** 2)))
    print(f"\nnoisy simulations of dry soils ({P.mv_min:g}-20 vol.%): NN RMSE {rmse['full range']:.2f} vol.% without, "
          f"{rmse['dry prior']:.2f} vol.% with the dry a priori")
    assert rmse["dry prior"] < 0.8 * rmse["full range"]


def test_out_of_range_sigma0_is_flagged_not_saturated():
    """A built-up block (-3 dB under NDVI 0.15) is brighter than the wettest soil the model makes: NaN and
    ABOVE_RANGE, not mv_max; open water (-23 dB) is BELOW_RANGE; a soil inside the range inverts."""
    nd, th = 0.15, 35.0
    top_db = 10 * np.log10(_wcm_numpy(P.mv_max, nd, th))
    bottom_db = 10 * np.log10(_wcm_numpy(P.mv_min, nd, th))
    sigma_db = np.array([-3.0, top_db + 0.5 * P.range_tol_db, top_db + 2 * P.range_tol_db, -23.0,
                         10 * np.log10(_wcm_numpy(20.0, nd, th)), np.nan])
    sigma = _da(10 ** (sigma_db / 10))
    flag = sm.range_flag(sigma, _da([nd] * 6), th)
    np.testing.assert_array_equal(flag.values[:5], [sm.ABOVE_RANGE, sm.IN_RANGE, sm.ABOVE_RANGE, sm.BELOW_RANGE,
                                                    sm.IN_RANGE])
    assert np.isnan(flag.values[5]) and "above_model_range" in flag.attrs["flag_meanings"]
    assert bottom_db - P.range_tol_db > -23.0
    direct = sm.invert_wcm(sigma, _da([nd] * 6), th).values
    nn = sm.invert_wcm_nn(sigma, _da([nd] * 6), th).values
    for got in (direct, nn):
        assert np.isnan(got[[0, 2, 5]]).all() and np.isfinite(got[[1, 3, 4]]).all()
    assert direct[1] == P.mv_max and direct[3] == P.mv_min and direct[4] == pytest.approx(20.0, abs=1e-3)


def test_direct_inversion_round_trips_and_matches_scipy():
    rng = np.random.default_rng(0)
    mv, nd, th = rng.uniform(3, 44, 400), rng.uniform(0, 0.75, 400), rng.uniform(29, 46, 400)
    sigma = _wcm_numpy(mv, nd, th)
    got = sm.invert_wcm(_da(sigma), _da(nd), _da(th)).values
    np.testing.assert_allclose(got, mv, atol=2e-3)
    # scipy's root finder on the same model, pixel by pixel
    ref = np.array([brentq(lambda m, s=s, n=n, t=t: _wcm_numpy(m, n, t) - s, P.mv_min, P.mv_max)
                    for s, n, t in zip(sigma[:50], nd[:50], th[:50])])
    np.testing.assert_allclose(got[:50], ref, atol=2e-3)


def test_masks_dense_vegetation_frozen_and_missing():
    sigma = _da([0.05, 0.05, 0.05, np.nan, 0.05])
    nd = _da([0.4, 0.8, 0.4, 0.4, np.nan])
    frozen = xr.DataArray(np.array([False, False, True, False, False]), dims="i")
    for fn in (sm.invert_wcm, sm.invert_wcm_nn):
        got = fn(sigma, nd, 39.0, frozen=frozen).values
        assert np.isfinite(got[0]) and np.isnan(got[1:]).all(), fn.__name__
    # vegetation alone brighter than the signal: the driest soil, not NaN
    assert sm.invert_wcm(_da([1e-4]), _da([0.7]), 39.0).values[0] == P.mv_min


def test_neural_network_round_trips_the_model():
    rng = np.random.default_rng(1)
    mv, nd, th = rng.uniform(5, 40, 3000), rng.uniform(0, 0.7, 3000), rng.uniform(30, 45, 3000)
    got = sm.invert_wcm_nn(_da(_wcm_numpy(mv, nd, th)), _da(nd), _da(th)).values
    rmse = float(np.sqrt(np.mean((got - mv) ** 2)))
    print(f"\nNN inversion on noise-free WCM simulations: RMSE {rmse:.2f} vol.%")
    assert rmse < 4.0
    x, y = sm.training_set(n=100, seed=3)
    assert x.shape == (100, 3) and ((y >= P.mv_min) & (y <= P.mv_max)).all()


def test_ndvi_at_interpolates_clear_dates():
    t = np.array(["2024-05-01", "2024-05-06", "2024-05-11", "2024-05-16"], dtype="datetime64[ns]")
    nd = xr.DataArray(np.array([0.2, np.nan, 0.4, 0.5], np.float32)[:, None, None], dims=("time", "y", "x"),
                      coords={"time": t, "y": [0.0], "x": [0.0]}).chunk({"time": 1})
    got = sm.ndvi_at(nd, np.array(["2024-05-06", "2024-05-13T12"], dtype="datetime64[ns]")).values[:, 0, 0]
    np.testing.assert_allclose(got, [0.3, 0.45], rtol=1e-6)


def _truth(demo_root, name):
    with rasterio.open(os.path.join(demo_root, "truth", name)) as src:
        return src.read()


@pytest.fixture(scope="module")
def demo_s1(demo_catalog):
    items = demo_catalog.search(collections=C.S1TILING_COLLECTION).items
    return terra_lab.load(items, bands=["vv", "incidence"], resolution=20)


def test_rmse_against_the_demo_truth(demo_s1, demo_root, no_compute):
    truth = _truth(demo_root, "soil_moisture_R2.tif")
    ndvi = xr.DataArray(_truth(demo_root, "s1_ndvi_R2.tif"), dims=("time", "y", "x"),
                        coords={"time": demo_s1["time"], "y": demo_s1["y"], "x": demo_s1["x"]})
    plots = xr.DataArray(_truth(demo_root, "plots_R2.tif")[0].astype(np.int64), dims=("y", "x"))
    truth_plot = sm.plot_mean(xr.DataArray(truth, dims=ndvi.dims, coords=ndvi.coords), plots).values
    sm.train_inversion_network(P)  # trained before the graph (cached), so building it computes nothing
    for method in ("direct", "nn"):
        with no_compute():
            mv = sm.soil_moisture(demo_s1, ndvi, method=method, plots=plots)
        assert mv.attrs["units"] == "%" and "terra_lab:algorithm" in mv.attrs and "sat:orbit_state" in mv.coords
        got = mv.values
        ok = np.isfinite(got) & np.isfinite(truth_plot)
        rmse = float(np.sqrt(np.mean((got[ok] - truth_plot[ok]) ** 2)))
        bias = float(np.mean(got[ok] - truth_plot[ok]))
        print(f"\n{method}: plot-scale RMSE {rmse:.2f} vol.% (bias {bias:+.2f}) on {ok.sum()} pixel-dates vs the demo truth")
        assert ok.mean() > 0.3 and rmse < 5.0
    # per pixel (no plot averaging) speckle dominates: worse, but the inversion still runs everywhere
    first = {"time": slice(0, 4)}
    px = sm.invert_wcm(demo_s1["vv"].isel(first), ndvi.isel(first), demo_s1["incidence"].isel(first)).values
    assert np.isfinite(px).mean() > 0.3


def test_demo_built_up_block_is_flagged_not_saturated(demo_s1, demo_root):
    """The 40 vol.% patch the dashboard showed by the lake shore (lon 6.273-6.279 E, lat 45.183-45.186 N) was the
    village: built-up pixels (sigma0 about -3 dB, 3 dB above the wettest soil the model makes there) inverted at
    the top of the range.  They are above the model's range; the soils around are not."""
    from pyproj import Transformer

    (x0, x1), (y0, y1) = Transformer.from_crs(4326, 32631, always_xy=True).transform([6.273, 6.279], [45.183, 45.186])
    box = {"x": slice(x0, x1), "y": slice(y1, y0)}
    s1 = demo_s1.sel(box).isel(time=slice(60, 110))  # spring and summer
    ndvi = xr.DataArray(_truth(demo_root, "s1_ndvi_R2.tif"), dims=("time", "y", "x"),
                        coords={"time": demo_s1["time"], "y": demo_s1["y"], "x": demo_s1["x"]}).sel(box).isel(time=slice(60, 110))
    lc = xr.DataArray(_truth(demo_root, "landcover_R2.tif")[0][80:, :120], dims=("y", "x"),
                      coords={"y": demo_s1["y"], "x": demo_s1["x"]}).sel(box)  # the S1 crop: the tile's south-west
    vv = s1["vv"].where(s1["vv"] > 0)
    flag = sm.range_flag(vv, ndvi, s1["incidence"]).values
    urban, soil = (lc == 1).values, np.isin(lc.values, (2, 3, 4, 5, 6, 7))
    seen = np.isfinite(flag)
    above_urban = (flag == sm.ABOVE_RANGE)[:, urban][seen[:, urban]].mean()
    above_soil = (flag == sm.ABOVE_RANGE)[:, soil][seen[:, soil]].mean()
    print(f"\nby the lake shore: {above_urban:.0%} of built-up and {above_soil:.2%} of soil pixel-dates above the range")
    assert urban.sum() > 50 and above_urban > 0.6 and above_soil < 0.01
    bright = sm.bright_scatterers(vv, ndvi, s1["incidence"]).values
    assert bright[urban].mean() > 0.95 and not bright[soil].any()
    direct = sm.invert_wcm(vv, ndvi, s1["incidence"]).values
    assert (direct[:, urban] >= P.mv_max).mean() < 0.3  # before: nearly every built-up pixel-date at mv_max


def test_parameters_are_frozen_and_replaceable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        P.a = 1.0  # type: ignore[misc]
    other = dataclasses.replace(P, c=0.3)
    assert other.vector()[2] == 0.3 and P.vector()[2] == 0.25
    with pytest.raises(ValueError, match="incidence"):
        sm.invert_wcm(_da([0.05]), _da([0.3]), 0.7)


def test_full_chain_with_the_demo_sentinel2_ndvi(demo_catalog, demo_s1, demo_root):
    """NDVI from the demo's Sentinel-2 L2A cube (clouds masked), interpolated to the radar dates."""
    s2_items = demo_catalog.search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A", dates=("2023-08-01", "2024-09-30")).items
    s2 = terra_lab.load(s2_items, bands=["red", "nir"], like=demo_s1, apply_masks=True)
    ndvi = (s2["nir"] - s2["red"]) / (s2["nir"] + s2["red"])
    plots = xr.DataArray(_truth(demo_root, "plots_R2.tif")[0].astype(np.int64), dims=("y", "x"))
    truth = sm.plot_mean(xr.DataArray(_truth(demo_root, "soil_moisture_R2.tif"), dims=("time", "y", "x")), plots).values
    got = sm.soil_moisture(demo_s1, ndvi, method="direct", plots=plots).values
    ok = np.isfinite(got) & np.isfinite(truth)
    rmse = float(np.sqrt(np.mean((got[ok] - truth[ok]) ** 2)))
    print(f"\nS1 + S2 chain (direct): plot-scale RMSE {rmse:.2f} vol.% on {ok.mean():.0%} of the pixel-dates")
    assert ok.mean() > 0.15 and rmse < 5.0
