"""LIS snow products: hand-checked rules, an independent L3B reference, and the demo's ground truth."""

import itertools

import numpy as np
import pytest
import rasterio
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import terra_lab
from terra_lab.errors import GridMismatchError
from terra_lab.kernels import _snow as k
from terra_lab.products.snow import fractional_snow_cover, snow_l2b, snow_l3b

DEMO = "THEIA_REFLECTANCE_SENTINEL2_L2A"


@pytest.fixture(scope="module")
def snow_inputs(demo_catalog, demo_items):
    items = [it for it in demo_items if "_T31TGK_" in it["id"]]
    cube = terra_lab.load(items, bands=["green", "red", "swir16"], resolution=20, raw_masks=True)
    dem = terra_lab.load(demo_catalog.search(collections="cop-dem-eea-10-laea-tif"), bands=["elevation"], like=cube, masks=False)
    return cube, dem


@pytest.fixture(scope="module")
def l2b_demo(snow_inputs):
    cube, dem = snow_inputs
    return snow_l2b(cube, dem).compute()


def _truth(root, name):
    with rasterio.open(root / "truth" / name) as ds:
        return ds.read()


def _kappa(pred, truth):
    tp, tn = np.sum(pred & truth), np.sum(~pred & ~truth)
    fp, fn = np.sum(pred & ~truth), np.sum(~pred & truth)
    n = tp + tn + fp + fn
    po = (tp + tn) / n
    pe = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / n**2
    return (po - pe) / (1 - pe), po


def test_l2b_scores_against_the_demo_truth(l2b_demo, demo_root):
    snow = _truth(demo_root, "snow_R2.tif") == 1
    clear = ((_truth(demo_root, "cloud_R2.tif") == 0) & (_truth(demo_root, "shadow_R2.tif") == 0)
             & (_truth(demo_root, "edge_R2.tif") == 0))
    kappa, acc = _kappa(l2b_demo.values[clear] == 100, snow[clear])
    print(f"snow L2B on cloud-free truth pixels: accuracy {acc:.4f}, kappa {kappa:.4f}")
    assert kappa >= 0.85
    cloud = _truth(demo_root, "cloud_R2.tif") == 1
    assert np.mean(l2b_demo.values[cloud] == 205) > 0.95  # thick and thin clouds stay cloud
    assert np.all(l2b_demo.values[_truth(demo_root, "edge_R2.tif") == 1] == 254)
    assert set(np.unique(l2b_demo.values)) <= {0, 100, 205, 254}
    # the snowline follows the scene's: high in autumn, about 1000 m lower in mid-winter
    zs = l2b_demo["snowline"].to_series()
    assert zs["2024-01"].min() < 1100 < 2200 < zs["2023-10"].max()


def _px(**kw):
    """L2B code of one pixel; a companion pixel in the same 2-pixel block sets its 240 m red."""
    v = dict(green=0.1, red=0.1, swir=0.2, clm=0, red_coarse=None, dem=1500.0, zs=1000.0, run=1)
    v.update(kw)
    rc = v["red"] if v["red_coarse"] is None else v["red_coarse"]
    f = np.float32
    arr = lambda a, b, dt=f: np.array([[[a, b]]], dtype=dt)
    out = np.empty((1, 1, 2), np.uint8)
    k.l2b_block_codes(arr(v["green"], 0.1), arr(v["red"], 2 * rc - v["red"]), arr(v["swir"], 0.2),
                      arr(v["clm"], 0, np.uint8), np.array([[v["dem"], np.nan]], f), np.array([v["zs"]], f),
                      np.array([v["run"]], np.uint8), 2, 0.4, 0.2, 0.15, 0.04, 0.30, 0.10, out)
    return int(out[0, 0, 0])


def test_l2b_rules_worked_by_hand():
    # pass 1: NDSI = (0.6-0.05)/0.65 = 0.846 > 0.4 and red 0.5 > 0.2 (even below the snowline)
    assert _px(green=0.6, red=0.5, swir=0.05, dem=500.0) == 100
    assert _px(green=0.6, red=0.15, swir=0.05, dem=500.0) == 0  # red 0.15 <= 0.20: not pass 1
    # pass 2 above the snowline: NDSI (0.3-0.2)/0.5 = 0.2 > 0.15, red 0.05 > 0.04
    assert _px(green=0.3, red=0.05, swir=0.2) == 100
    assert _px(green=0.3, red=0.05, swir=0.2, dem=900.0) == 0  # below zs
    assert _px(green=0.3, red=0.05, swir=0.2, run=0) == 0  # pass 2 not run for this date
    # a dark cloud (240 m red <= 0.30, no shadow/high-cloud bit) leaves the mask: pass 2 may find snow
    assert _px(green=0.3, red=0.05, swir=0.2, clm=2, red_coarse=0.2) == 100
    # a cloudy pixel is never pass-1 snow, and a bright cloud (240 m red > 0.30) stays cloud
    assert _px(green=0.6, red=0.5, swir=0.05, clm=2, dem=500.0) == 205
    assert _px(green=0.3, red=0.05, swir=0.2, clm=2, red_coarse=0.5) == 205
    # shadows (bit 5) and high clouds (bit 7) stay cloud whatever their red
    assert _px(green=0.3, red=0.05, swir=0.2, clm=32, red_coarse=0.2) == 205
    assert _px(green=0.3, red=0.05, swir=0.2, clm=128, red_coarse=0.2) == 205
    # dark cloud, not snow: back to cloud if red > 0.10, else no snow
    assert _px(green=0.1, red=0.12, swir=0.2, clm=2, red_coarse=0.2) == 205
    assert _px(green=0.1, red=0.08, swir=0.2, clm=2, red_coarse=0.2) == 0
    assert _px(swir=np.nan) == 254


def test_snowline_from_a_hand_made_histogram():
    # DEM 500..1500 m, dz 100: 10 bands of 100 m; snow starts in band 6 (1100-1200 m)
    counts = np.zeros((20, 3), np.int64)
    counts[:10, 0] = 100
    counts[:10, 1] = 100
    counts[6:10, 2] = 50
    zs = k.snowline_from_histogram(counts, 500.0, 1500.0, 100.0)
    assert zs == 900.0  # lower edge of band 6 - 2 = band 4: floor(950 - 50)
    counts[:10, 1] = 5  # every band 95 % cloudy: no band is clear enough
    assert np.isnan(k.snowline_from_histogram(counts, 500.0, 1500.0, 100.0))


def _l3b_reference(codes, days, n_days, min_days=10):
    """Straightforward LIS L3B: daily linear interpolation of the clear 0/1 series, >= 0.5 is snow."""
    import bisect

    clear = [(int(d), 1.0 if 0 < c <= 100 else 0.0) for c, d in zip(codes, days) if c not in (205, 254, 255)]
    daily = np.zeros(n_days, bool)
    xs = [d for d, _ in clear]
    for day in range(n_days if clear else 0):
        i = bisect.bisect_right(xs, day)  # clear[i-1] <= day < clear[i]
        if i == 0:
            value = clear[0][1]
        elif i == len(clear) or clear[i - 1][0] == day:
            value = clear[i - 1][1]
        else:
            (x0, y0), (x1, y1) = clear[i - 1], clear[i]
            value = y0 + (y1 - y0) * (day - x0) / (x1 - x0)  # OTB's linear gap filling
        daily[day] = value >= 0.5
    scd = int(daily.sum())
    runs, pos = [], 0
    for value, group in itertools.groupby(daily):
        n = len(list(group))
        if value:
            runs.append((n, -pos, pos))
        pos += n
    sod = smod = 0
    if scd > min_days and runs:
        n, _, start = max(runs)
        sod, smod = start, start + n - 1
    return scd, sod, smod, len(clear)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(-15, 380), st.sampled_from([0, 100, 205, 254, 42])), min_size=0, max_size=40,
                unique_by=lambda t: t[0]))
def test_l3b_kernel_matches_an_independent_reference(obs):
    obs = sorted(obs)
    days = np.array([d for d, _ in obs], np.int32)
    codes = np.array([c for _, c in obs], np.uint8)
    out = np.zeros((4, 1, 1), np.uint16)
    k.l3b_block(codes.reshape(-1, 1, 1), days.astype(np.int64), 366, 10, out)
    assert tuple(int(v) for v in out.ravel()) == _l3b_reference(codes, days, 366)


def test_l3b_against_the_daily_truth(l2b_demo, demo_root):
    l3 = snow_l3b(l2b_demo.chunk(time=-1), 2023).compute()
    truth = _truth(demo_root, "snow_annual_2023-2024_R2.tif").astype(int)
    snowy = truth[0] > 10
    err = {n: np.abs(l3[n].values.astype(int) - truth[i])[snowy] for i, n in enumerate(("SCD", "SOD", "SMOD"))}
    print({n: (float(np.median(e)), float(np.percentile(e, 90))) for n, e in err.items()})
    assert np.median(err["SCD"]) <= 10 and np.median(err["SOD"]) <= 7 and np.median(err["SMOD"]) <= 7
    assert l3.attrs["start_date"] == "2023-09-01" and l3.attrs["n_days"] == 366
    assert l3.NOBS.max() <= 73 + 6  # the year's dates plus the 15-day margins
    assert l3.SCD.dtype == np.uint16


def test_all_cloud_pixels_never_crash():
    codes = xr.DataArray(np.full((6, 2, 2), 205, np.uint8), dims=("time", "y", "x"),
                         coords={"time": np.array(["2023-09-05", "2023-10-05", "2023-12-01", "2024-02-01",
                                                   "2024-05-01", "2024-08-01"], "datetime64[ns]")})
    l3 = snow_l3b(codes, 2023).compute()
    assert l3.SCD.values.max() == 0 and l3.NOBS.values.max() == 0 and l3.SOD.values.max() == 0


def test_split_time_axis_says_how_to_rechunk(l2b_demo):
    with pytest.raises(ValueError, match=r"rechunk first: cube = cube.chunk\(time=-1"):
        snow_l3b(l2b_demo.chunk(time=10), 2023)


def test_missing_inputs_are_named(snow_inputs):
    cube, dem = snow_inputs
    with pytest.raises(terra_lab.errors.MissingBandError, match=r"snow_l2b needs \['swir16'\]"):
        snow_l2b(cube.drop_vars("swir16"), dem)
    with pytest.raises(GridMismatchError, match=r"dem is not on the grid of cube .* like=cube"):
        snow_l2b(cube, dem.isel(x=slice(0, 50)))


def test_lazy_numpy_dask_and_chunking_agree(snow_inputs, l2b_demo, no_compute):
    cube, dem = snow_inputs
    sub = cube.isel(time=slice(60, 75))
    with no_compute():
        lazy = snow_l2b(sub, dem)
        fsc = fractional_snow_cover(sub, lazy)
    eager = snow_l2b(sub.compute(), dem.compute()).compute()
    rechunked = snow_l2b(sub.chunk(y=48, x=64), dem).compute()
    np.testing.assert_array_equal(eager.values, l2b_demo.isel(time=slice(60, 75)).values)
    np.testing.assert_array_equal(rechunked.values, eager.values)
    np.testing.assert_array_equal(eager["snowline"].values, rechunked["snowline"].values)
    f = fsc.compute()
    assert set(np.unique(f.values[(eager.values == 100)])) <= set(range(1, 101))


def test_fsc_formula_worked_values():
    # FSC = 0.5 tanh(2.65 NDSI - 1.42) + 0.5 (Gascoin et al. 2020): NDSI 0.5 -> 45.26 %, 1.0 -> 92.1 %
    green = xr.DataArray(np.array([0.75, 0.95, 0.5], np.float32), dims="x")
    swir = xr.DataArray(np.array([0.25, 0.0, 0.1], np.float32), dims="x")  # NDSI 0.5, 1.0, 0.667
    cube = xr.Dataset({"green": green, "swir16": swir})
    out = fractional_snow_cover(cube, xr.DataArray(np.array([100, 100, 205], np.uint8), dims="x"))
    assert out.values.tolist() == [45, 92, 205]  # non-snow pixels keep their L2B code


def test_precomputed_snowlines_give_the_same_maps(snow_inputs, l2b_demo):
    from terra_lab.products.snow import snowline

    cube, dem = snow_inputs
    sub = cube.isel(time=slice(40, 60))
    lines = snowline(sub, dem).compute()
    np.testing.assert_array_equal(lines["snowline"].values, l2b_demo["snowline"].values[40:60])
    streamed = snow_l2b(sub, dem, snowlines=lines).compute()
    np.testing.assert_array_equal(streamed.values, l2b_demo.values[40:60])


def test_missing_dem_says_how_to_load_one(snow_inputs):
    cube, _ = snow_inputs
    with pytest.raises(terra_lab.errors.MissingBandError, match=r"needs a DEM .* like=cube"):
        snow_l2b(cube, None)
