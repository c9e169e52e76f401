"""WASP-type synthesis and composites: weights, an independent per-pixel reference, demo truth, real data."""

import numpy as np
import pandas as pd
import pytest
import rasterio
import xarray as xr

import terra_lab
from terra_lab.demo._scene import SPECTRA
from terra_lab.kernels import _synthesis as k
from terra_lab.products.synthesis import max_ndvi_composite, median_composite, monthly_syntheses, wasp_synthesis

BANDS = ["blue", "green", "red", "nir", "swir16"]


@pytest.fixture(scope="module")
def cube(demo_items):
    items = [it for it in demo_items if "_T31TGK_" in it["id"]]
    return terra_lab.load(items, bands=BANDS, resolution=20, raw_masks=True)


def test_weights():
    clouds = np.zeros((120, 120), bool)
    clouds[:36, :36] = True  # a 720 m cloud in a corner (20 m pixels, 240 m coarse = 12 px)
    w = k.cloud_weight_2d(clouds, 12, 2.0, 10.0)
    assert w.shape == clouds.shape
    assert w[:12, :12].max() < 0.2 and w[-1, -1] > 0.9  # small next to the cloud, ~1 far from it
    assert np.all(np.diff(w[60, 36:]) >= -1e-6)  # grows with the distance to the cloud
    assert k.cloud_weight_2d(np.ones((48, 48), bool), 12, 2.0, 10.0).max() == 0
    np.testing.assert_allclose(k.aot_weight(np.array([-0.1, 0.0, 0.4, 0.8, 1.5])), [0, 1.0, 0.665, 0.33, 0.33])


def _reference(refl, weight, state, days):
    """Straightforward WASP update rule for one pixel."""
    land = (state == 4) & np.isfinite(refl).all(axis=1)
    if land.any():
        w = np.abs(weight[land])
        if w.sum() > 0:
            return (w[:, None] * refl[land]).sum(0) / w.sum(), 4, int(land.sum())
        return refl[land].mean(0), 4, int(land.sum())
    sw = np.flatnonzero((state == 2) | (state == 3))
    if sw.size:
        return refl[sw[-1]], int(state[sw[-1]]), 0
    cl = np.flatnonzero(state == 1)
    if cl.size:
        return refl[cl[np.nanargmin(refl[cl, 0])]], 1, 0
    return np.full(refl.shape[1], np.nan), 0, 0


def test_wasp_kernel_matches_a_reference():
    rng = np.random.default_rng(3)
    for _ in range(300):
        t = int(rng.integers(1, 12))
        refl = rng.uniform(0, 0.5, (t, 3)).astype(np.float32)
        state = rng.choice([0, 1, 2, 3, 4], t).astype(np.uint8)
        weight = rng.uniform(0, 1, t).astype(np.float32)
        days = np.sort(rng.uniform(-23, 23, t)).astype(np.float32)
        out, _wsum, _date, flag, count = k.wasp_pixel(refl, weight, state, days)
        ref, rflag, rcount = _reference(refl, weight, state, days)
        assert int(flag) == rflag and int(count) == rcount
        np.testing.assert_allclose(out, ref, rtol=1e-5)


def test_wasp_on_the_demo(cube, demo_root):
    syn = wasp_synthesis(cube, "2024-07-15").compute()
    with rasterio.open(demo_root / "truth" / "landcover_R2.tif") as ds:
        lc = ds.read(1)
    urban = lc == 1  # the town's spectrum is constant: the synthesis must give it back
    for i, b in enumerate(BANDS):
        # within 0.01: WASP keeps thin clouds (CLM bit 0 leaves them out), which brighten a few dates
        assert float(syn[b].values[urban].mean()) == pytest.approx(float(SPECTRA["urban"][[0, 1, 2, 6, 8][i]]), abs=0.01)
    # count = clear dates in the +/- 23-day window, as the truth says
    with rasterio.open(demo_root / "truth" / "cloud_R2.tif") as ds:
        cloud = ds.read()
    truth = {n: rasterio.open(demo_root / "truth" / f"{n}_R2.tif").read() for n in ("shadow", "edge", "snow")}
    thin = cube["CLM"].compute().values & 16 != 0  # thin clouds are clear for WASP (CLM bit 0 leaves them out)
    t = pd.DatetimeIndex(cube["time"].values)
    window = np.abs((t - pd.Timestamp("2024-07-15")).days) <= 23
    clear = (((cloud[window] == 0) | thin[window]) & (truth["shadow"][window] == 0) & (truth["edge"][window] == 0)
             & (truth["snow"][window] == 0)).sum(0)
    land = (lc != 8)
    assert np.mean(syn["count"].values[land] == clear[land]) > 0.97
    assert set(np.unique(syn.flag.values)) <= {0, 1, 2, 3, 4}
    assert (syn.flag.values[lc == 8] == 3).mean() > 0.9  # the lake: water
    assert syn["date"].attrs["units"].startswith("days since 2024-07-15")
    assert syn.attrs["terra_lab:algorithm"].startswith("WASP")


def test_monthly_syntheses_and_real_sample(zonetest_catalog):
    res = zonetest_catalog.search(collections="ZONETEST", dates="2019-05/2019-09")
    real = terra_lab.load(res, bands=["red", "nir08", "swir16"], resolution=20, raw_masks=True)
    monthly = monthly_syntheses(real).compute()
    assert monthly.sizes["time"] == 5 and set(monthly.flag.values.ravel()) <= {0, 1, 2, 3, 4}
    assert (monthly.flag.values == 4).mean() > 0.8 and np.isfinite(monthly.red.values[monthly.flag.values == 4]).all()


def test_composites_against_numpy(cube):
    summer = cube.sel(time=slice("2024-06-01", "2024-08-31"))
    med = median_composite(summer).compute()
    values = summer.compute()
    clear = ~(values.cloud | values.shadow | values.edge | values.saturated).values
    red = np.where(clear, values.red.values, np.nan)
    with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        np.testing.assert_allclose(med.red.values, np.nanmedian(red, axis=0), rtol=1e-6)
    mx = max_ndvi_composite(summer).compute()
    nir = np.where(clear, values.nir.values, np.nan)
    ndvi = (nir - red) / (nir + red)
    has = np.isfinite(ndvi).any(0)
    best = np.nanargmax(np.where(np.isfinite(ndvi), ndvi, -np.inf), axis=0)
    expected_red = np.take_along_axis(red, best[None], 0)[0]
    np.testing.assert_allclose(mx.red.values[has], expected_red[has], rtol=1e-6)
    assert np.isnan(mx.red.values[~has]).all()


def test_all_cloud_pixels_lazy_and_backends_agree(cube, no_compute):
    window = cube.sel(time=slice("2024-01-01", "2024-02-20"))
    cloudy = window.copy()
    cloudy["CLM"] = xr.full_like(window["CLM"], 3)  # every date cloudy (bits 0 and 1)
    with no_compute():
        lazy = wasp_synthesis(cloudy, "2024-01-25")
    out = lazy.compute()
    assert set(np.unique(out.flag.values)) <= {0, 1}  # no data or cloud, nothing else
    assert np.isnan(out.red.values[out.flag.values == 1]).all() and (out.flag.values == 1).mean() > 0.9
    kept = wasp_synthesis(cloudy, "2024-01-25", keep_cloudy=True).compute()
    assert np.isfinite(kept.red.values[kept.flag.values == 1]).all()
    eager = wasp_synthesis(window.compute(), "2024-01-25").compute()
    rechunked = wasp_synthesis(window.chunk(y=64, x=48), "2024-01-25").compute()
    lazy_ok = wasp_synthesis(window, "2024-01-25").compute()
    xr.testing.assert_allclose(eager[["red", "weight", "count"]], lazy_ok[["red", "weight", "count"]])
    xr.testing.assert_allclose(rechunked[["red", "weight", "count"]], lazy_ok[["red", "weight", "count"]])
