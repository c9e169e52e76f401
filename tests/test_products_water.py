"""Water surfaces and quality: published worked values, skimage's Otsu, and the demo lake's truth."""

import numpy as np
import pytest
import rasterio
import xarray as xr
from skimage.filters import threshold_otsu

import terra_lab
from terra_lab.kernels._water import histogram_masked, otsu_from_counts
from terra_lab.products.water import chlorophyll_a, suspended_matter, turbidity, water_mask, water_quality


@pytest.fixture(scope="module")
def lake_cube(demo_items):
    items = [it for it in demo_items if "_T31TGK_" in it["id"]]
    cube = terra_lab.load(items, bands=["green", "red", "rededge1", "nir08", "swir16"], resolution=20, raw_masks=True)
    return cube.isel(x=slice(0, 90), y=slice(120, 200))  # the lake and its shores


def _truth(root, name, sl=(slice(120, 200), slice(0, 90))):
    with rasterio.open(root / "truth" / name) as ds:
        return ds.read()[(slice(None), *sl)]


def test_otsu_matches_scikit_image():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(-0.4, 0.1, 5000), rng.normal(0.5, 0.15, 1500)]).astype(np.float32)
    counts = np.zeros(200, np.int64)
    histogram_masked(values.reshape(1, -1), np.ones((1, values.size), bool), -1.0, 1.0, counts)
    centres = -1 + (np.arange(200) + 0.5) * 2 / 200
    ours = otsu_from_counts(counts, -1.0, 1.0)
    assert ours == pytest.approx(threshold_otsu(hist=(counts, centres)))
    assert -0.2 < ours < 0.3


def test_water_mask_against_truth(lake_cube, demo_root):
    water = water_mask(lake_cube, threshold="otsu").compute()
    truth = _truth(demo_root, "water_R2.tif")[0] == 1
    clear = ~(lake_cube.cloud | lake_cube.shadow | lake_cube.edge | lake_cube.snow).compute().values
    pred, t = water.values, np.broadcast_to(truth, water.shape)
    tp, tn = (pred & t & clear).sum(), (~pred & ~t & clear).sum()
    fp, fn = (pred & ~t & clear).sum(), (~pred & t & clear).sum()
    n = tp + tn + fp + fn
    po, pe = (tp + tn) / n, ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / n**2
    kappa = (po - pe) / (1 - pe)
    print(f"water (MNDWI, Otsu) around the lake: accuracy {po:.4f}, kappa {kappa:.4f}")
    assert kappa > 0.9
    assert not water.values[~clear].any()  # clouds, shadows, snow and no data are never water
    fixed = water_mask(lake_cube, threshold=0.0).compute()
    assert float(fixed["threshold"][0]) == 0.0


def test_dogliotti_turbidity_worked_values():
    # T = A rho / (1 - rho / C): red A = 228.1, C = 0.1641; NIR A = 3078.9, C = 0.2112
    red = xr.DataArray(np.array([0.02, 0.05, 0.06, 0.08], np.float32), dims="x")
    nir = xr.DataArray(np.array([0.001, 0.004, 0.006, 0.01], np.float32), dims="x")
    cube = xr.Dataset({"red": red, "nir08": nir})
    t = turbidity(cube, xr.DataArray(np.ones(4, bool), dims="x")).values
    t_red = lambda r: 228.1 * r / (1 - r / 0.1641)
    t_nir = lambda r: 3078.9 * r / (1 - r / 0.2112)
    assert t[0] == pytest.approx(t_red(0.02), rel=1e-5)  # red branch: 5.195 FNU
    assert t[0] == pytest.approx(5.1948, rel=1e-3)
    assert t[1] == pytest.approx(t_red(0.05), rel=1e-5)  # at 0.05 the blend weight is 0
    assert t[2] == pytest.approx(0.5 * t_red(0.06) + 0.5 * t_nir(0.006), rel=1e-5)  # half-way blend
    assert t[3] == pytest.approx(t_nir(0.01), rel=1e-5)  # NIR branch above 0.07


def test_nechad_spm_and_ndci_chla_worked_values():
    red = xr.DataArray(np.array([0.03, 0.25], np.float32), dims="x")
    re1 = xr.DataArray(np.array([0.04, 0.2], np.float32), dims="x")
    cube = xr.Dataset({"red": red, "rededge1": re1})
    water = xr.DataArray(np.ones(2, bool), dims="x")
    spm = suspended_matter(cube, water).values
    assert spm[0] == pytest.approx(342.10 * 0.03 / (1 - 0.03 / 0.19563), rel=1e-5)  # 12.39 g m-3
    assert np.isnan(spm[1])  # rho above C: outside the model's range
    chl = chlorophyll_a(cube, water).values
    ndci = (0.04 - 0.03) / (0.04 + 0.03)
    assert chl[0] == pytest.approx(14.039 + 86.115 * ndci + 194.325 * ndci**2, rel=1e-5)


def test_turbidity_against_the_lake_truth(lake_cube, demo_root):
    q = water_quality(lake_cube).compute()
    truth = _truth(demo_root, "turbidity_R2.tif")
    ok = np.isfinite(q.turbidity.values) & np.isfinite(truth)
    rel = np.abs(q.turbidity.values[ok] - truth[ok]) / truth[ok]
    print(f"turbidity vs truth on {ok.sum()} clear lake pixel-dates: median relative error {np.median(rel):.3f}")
    assert ok.sum() > 10000 and np.median(rel) < 0.3
    # the seasonal cycle is found: the melt-season month is the most turbid
    monthly = q.turbidity.median(("x", "y")).groupby("time.month").median()
    assert int(monthly.idxmax()) in (5, 6, 7)
    assert set(q.data_vars) == {"water", "turbidity", "spm", "chla"}
    assert np.all(np.isnan(q.spm.values[~q.water.values]))  # water pixels only
    assert np.isfinite(q.spm.values).sum() < q.water.values.sum()  # shore pixels (eroded) left out
