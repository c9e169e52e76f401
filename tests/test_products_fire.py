"""Fire severity (dNBR, RdNBR, RBR): the papers' formulas and thresholds, spyndex's NBR, the demo's
burnt scar against its truth, the real THEIA ZoneTest sample, laziness and errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import rioxarray
import xarray as xr

import terra_lab
from terra_lab.errors import DateRangeError, GridMismatchError, MissingBandError, RasterInputError
from terra_lab.products.fire import (
    NO_CLASS,
    SEVERITY_SCHEMES,
    burn_severity,
    dnbr,
    dnbr_offset,
    fire_composites,
    fire_windows,
    nbr,
    rbr,
    rdnbr,
    severity_classes,
)

FIRE_DATE = "2023-07-22"  # the demo's fire (truth/disturbances.json)


def _da(values) -> xr.DataArray:
    return xr.DataArray(np.asarray(values, dtype=np.float32), dims=("x",))


# ------------------------------------------------------------------ (1) the papers' formulas, worked values
# pre- and post-fire NBR x 1000, as the papers write them
PAIRS = [(600, -200), (350, 100), (120, -300), (-50, -250), (0, -300), (800, 820)]


def _paper_values(pre1000: float, post1000: float, offset: float = 0.0) -> tuple[float, float, float]:
    """dNBR (Key & Benson 2006), RdNBR (Miller & Thode 2007) and RBR (Parks et al. 2014), as published."""
    d = pre1000 - post1000 - offset
    pre_for_sqrt = pre1000 if pre1000 != 0 else 1  # Miller et al. 2009: a pre-fire NBR of 0 set to 0.001
    return d, d / math.sqrt(abs(pre_for_sqrt / 1000)), d / (pre1000 / 1000 + 1.001)


@pytest.mark.parametrize("offset", [0.0, 35.0])
def test_worked_values_from_the_papers(offset):
    pre = _da([p / 1000 for p, _ in PAIRS])
    post = _da([q / 1000 for _, q in PAIRS])
    want = np.array([_paper_values(p, q, offset) for p, q in PAIRS])
    np.testing.assert_allclose(dnbr(pre, post, offset=offset).values, want[:, 0], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(rdnbr(pre, post, offset=offset).values, want[:, 1], rtol=1e-5, atol=1e-2)
    np.testing.assert_allclose(rbr(pre, post, offset=offset).values, want[:, 2], rtol=1e-5, atol=1e-3)
    if offset == 0:
        # hand-worked: pre 600, post -200 -> dNBR 800, RdNBR 800 / sqrt(0.6) = 1032.80, RBR 800 / 1.601 = 499.69
        assert dnbr(pre, post).values[0] == pytest.approx(800.0, abs=1e-3)
        assert rdnbr(pre, post).values[0] == pytest.approx(1032.796, abs=1e-2)
        assert rbr(pre, post).values[0] == pytest.approx(499.688, abs=1e-2)


def test_nan_in_nan_out_and_no_infinity():
    pre, post = _da([np.nan, 0.0, -1.0]), _da([0.2, 0.0, -1.0])
    for f in (dnbr, rdnbr, rbr):
        v = f(pre, post).values
        assert np.isnan(v[0]) and np.all(np.isfinite(v[1:]))


@pytest.mark.parametrize(("scheme", "values", "classes"), [
    # Key & Benson 2006 (USGS FIREMON): -500..-251, -250..-101, -100..99, 100..269, 270..439, 440..659, 660..1300
    ("key_benson_usgs", [-400, -251, -250, -101, -100, 99, 100, 269, 270, 439, 440, 659, 660, 1300],
     [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]),
    ("key_benson", [-300, 99, 100, 269, 270, 659, 660], [0, 0, 1, 1, 2, 2, 3]),
    ("miller_thode", [68, 69, 315, 316, 640, 641], [0, 1, 1, 2, 2, 3]),  # RdNBR 69, 316, 641
    ("miller_thode_dnbr", [40, 41, 175, 176, 366, 367], [0, 1, 1, 2, 2, 3]),  # dNBR 41, 176, 367
    ("parks", [34.9, 35, 129.9, 130, 297.9, 298], [0, 1, 1, 2, 2, 3]),  # RBR 35, 130, 298
])
def test_published_class_thresholds(scheme, values, classes):
    index = _da(values).rename(SEVERITY_SCHEMES[scheme].index)
    out = severity_classes(index, scheme)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out.values, classes)
    assert severity_classes(_da([np.nan]).rename(index.name), scheme).values[0] == NO_CLASS
    assert out.attrs["flag_meanings"].split()[0] == SEVERITY_SCHEMES[scheme].labels[0].replace(" ", "_")


def test_scheme_errors():
    with pytest.raises(RasterInputError, match="classifies RdNBR, but got dNBR"):
        severity_classes(_da([1.0]).rename("dNBR"), "miller_thode")
    with pytest.raises(ValueError, match="unknown severity scheme 'mtbs'"):
        severity_classes(_da([1.0]), "mtbs")


def test_nbr_matches_spyndex():
    """spyndex (Awesome Spectral Indices) as the independent source of the NBR formula."""
    import spyndex

    rng = np.random.default_rng(1)
    nir = rng.uniform(0.02, 0.5, (3, 4)).astype(np.float32)
    swir = rng.uniform(0.02, 0.4, (3, 4)).astype(np.float32)
    nir[0, 0] = swir[0, 0] = 0.0  # 0 / 0: NaN
    cube = xr.Dataset({"nir08": (("y", "x"), nir), "swir22": (("y", "x"), swir)})
    ours = nbr(cube).values
    with np.errstate(invalid="ignore"):
        ref = np.asarray(spyndex.computeIndex("NBR", {"N": nir, "S2": swir}))
    assert spyndex.indices["NBR"].bands == ["N", "S2"]
    np.testing.assert_allclose(ours[1:], ref[1:], rtol=1e-6)
    assert np.isnan(ours[0, 0])
    assert nbr(cube).attrs["terra_lab:algorithm"] == "NBR"


# ------------------------------------------------------------------ (2) composites on a generated cube
def synthetic_cube(*, cloudy_pre=False, drop=0.0) -> xr.Dataset:
    """A 6 x 8 forest; pixels x >= 4 burn on 2023-07-22; every date has clouds over a different column,
    and the whole scene's NBR falls by ``drop`` after the fire (season), burnt or not."""
    time = pd.date_range("2023-05-01", "2023-10-01", freq="5D") + pd.Timedelta(hours=10.5)
    ny, nx = 6, 8
    after = (time > pd.Timestamp(FIRE_DATE))[:, None, None]
    burnt = (np.arange(nx) >= 4)[None, None, :]
    nir = np.where(after & burnt, 0.10, 0.40) + np.zeros((len(time), ny, nx))
    swir = np.where(after & burnt, 0.19, 0.08) + np.zeros((len(time), ny, nx))
    nir = nir * np.where(after, 1 - drop, 1.0)
    cloud = np.zeros(nir.shape, bool)
    for i in range(len(time)):
        cloud[i, :, i % nx] = True
    nir = np.where(cloud, 0.5, nir)
    swir = np.where(cloud, 0.4, swir)
    ds = xr.Dataset({"nir08": (("time", "y", "x"), nir.astype(np.float32)),
                     "swir22": (("time", "y", "x"), swir.astype(np.float32)),
                     "cloud": (("time", "y", "x"), cloud)},
                    coords={"time": time, "y": 5e6 - 20 * np.arange(ny), "x": 6e5 + 20 * np.arange(nx)})
    cover = np.full(len(time), 100.0 / nx)
    if cloudy_pre:
        cover[time < pd.Timestamp(FIRE_DATE)] = 100.0
    ds = ds.rio.write_crs(32631).chunk({"time": -1, "y": 3, "x": 4})
    ds.attrs["terra_lab:source_items"] = ["synthetic"]
    return ds.assign_coords({"eo:cloud_cover": ("time", cover)})  # item metadata: numpy, as terra_lab.load gives


def test_composites_are_medians_of_clear_observations():
    cube = synthetic_cube()
    comp = fire_composites(cube, FIRE_DATE, window_days=40).compute()
    np.testing.assert_allclose(comp["pre_nir08"].values, 0.40, atol=1e-6)  # clouds (0.5) left out
    np.testing.assert_allclose(comp["post_swir22"].values[:, 4:], 0.19, atol=1e-6)
    days = pd.DatetimeIndex(cube.time.values).normalize()
    in_pre = (days >= pd.Timestamp("2023-06-12")) & (days <= pd.Timestamp("2023-07-21"))
    assert comp["n_pre"].values.sum() == in_pre.sum() * 6 * 8 - cube["cloud"].values[in_pre].sum()
    assert comp.attrs["pre_window"] == "2023-06-12/2023-07-21"
    assert comp.attrs["post_window"] == "2023-07-23/2023-08-31"


def test_burn_severity_on_a_generated_cube_and_the_offset():
    res = burn_severity(synthetic_cube(), FIRE_DATE).compute()
    assert res["burnt"].values[:, 4:].all() and not res["burnt"].values[:, :4].any()
    pre, post = (0.40 - 0.08) / 0.48, (0.10 - 0.19) / 0.29
    np.testing.assert_allclose(res["dNBR"].values[:, 4:], 1000 * (pre - post), rtol=1e-5)
    assert (res["severity"].values[:, 4:] == 3).all()  # dNBR 977: high
    # a seasonal fall of NBR everywhere: the offset (mean dNBR of unburnt pixels) removes it
    dropped = synthetic_cube(drop=0.3)
    raw = burn_severity(dropped, FIRE_DATE).compute()
    assert raw["dNBR"].values[:, :4].mean() > 100 and raw["burnt"].values[:, :4].all()  # read as a low-severity burn
    unburnt = xr.DataArray(np.arange(8) < 4, dims="x", coords={"x": dropped.x}).broadcast_like(dropped["nir08"].isel(time=0))
    unburnt = unburnt.drop_vars([c for c in unburnt.coords if c not in ("x", "y", "spatial_ref")])
    fixed = burn_severity(dropped, FIRE_DATE, offset=unburnt).compute()
    np.testing.assert_allclose(fixed["dNBR"].values[:, :4], 0.0, atol=1e-2)
    assert not fixed["burnt"].values[:, :4].any() and fixed["burnt"].values[:, 4:].all()
    assert float(fixed["dNBR_offset"]) == pytest.approx(raw["dNBR"].values[:, :4].mean(), rel=1e-5)
    np.testing.assert_allclose(fixed["RBR"].values, (fixed["dNBR"] / (fixed["pre_nbr"] + 1.001)).values, rtol=1e-5)
    assert json.loads(fixed.attrs["terra_lab:parameters"])["offset"] == "mean dNBR of unburnt pixels"
    assert dnbr_offset(raw["pre_nbr"], raw["post_nbr"], unburnt).ndim == 0


def test_errors_name_the_input_and_the_fix():
    cube = synthetic_cube()
    with pytest.raises(DateRangeError, match=r"pre-fire window 2022-01-01\.\.2022-02-01 holds no acquisition"):
        burn_severity(cube, pre=("2022-01-01", "2022-02-01"), post=("2023-08-01", "2023-09-01"))
    with pytest.raises(DateRangeError, match="no clear pre-fire observation"):
        burn_severity(synthetic_cube(cloudy_pre=True), FIRE_DATE)
    with pytest.raises(DateRangeError, match="give a fire date"):
        fire_windows(pre=("2023-06-01", "2023-07-01"))
    with pytest.raises(DateRangeError, match="must start after the pre-fire window"):
        fire_windows(pre=("2023-06-01", "2023-08-01"), post=("2023-07-01", "2023-09-01"))
    with pytest.raises(DateRangeError, match="ends before it starts"):
        fire_windows(pre=("2023-07-01", "2023-06-01"), post=("2023-08-01", "2023-09-01"))
    with pytest.raises(MissingBandError, match="swir22"):
        burn_severity(cube.drop_vars("swir22"), FIRE_DATE)
    other = xr.DataArray(np.ones((6, 8), bool), dims=("y", "x"), coords={"y": cube.y + 10, "x": cube.x})
    with pytest.raises(GridMismatchError, match="mask is not on the grid of cube"):
        burn_severity(cube, FIRE_DATE, mask=other)
    with pytest.raises(RasterInputError, match="boolean"):
        burn_severity(cube, FIRE_DATE, mask=other.astype(np.uint8))


def test_lazy_on_a_generated_cube(no_compute):
    cube = synthetic_cube()
    with no_compute():
        res = burn_severity(cube, FIRE_DATE, scheme="parks")
    assert all(v.chunks is not None for v in res.data_vars.values())
    assert res["severity"].dims == ("y", "x") and res["severity"].attrs["index"] == "RBR"
    xr.testing.assert_identical(cube, synthetic_cube())  # the input is not modified


# ------------------------------------------------------------------ (3) the demo's burnt scar
@pytest.fixture(scope="module")
def demo_summer(demo_items):
    items = [it for it in demo_items if "_T31TGK_" in (it["id"] if isinstance(it, dict) else it.id)]
    return terra_lab.load(items, bands=["nir08", "swir22"], resolution=20, chunks={"time": -1, "x": 100, "y": 100})


def _truth(demo_root, name):
    return rioxarray.open_rasterio(demo_root / "truth" / name).squeeze(drop=True)


def _grid_only(da):
    return da.drop_vars([c for c in da.coords if c not in ("x", "y", "spatial_ref")])


def test_demo_disturbance_truth_is_consistent(demo_root):
    meta = json.loads((demo_root / "truth" / "disturbances.json").read_text())
    for r in ("R1", "R2"):
        sev = _truth(demo_root, f"burn_severity_{r}.tif").values
        frac = _truth(demo_root, f"burn_fraction_{r}.tif").values
        date = _truth(demo_root, f"fire_date_{r}.tif").values
        lc = _truth(demo_root, f"landcover_{r}.tif").values
        assert set(np.unique(sev)) == {0, 1, 2, 3}
        assert np.all(date[frac > 0] == meta["fire_date_days"]) and np.all(date[frac == 0] == 0)
        np.testing.assert_array_equal(sev, np.digitize(frac, meta["burn_class_fractions"]))
        assert set(np.unique(lc[frac > 0])) <= {4, 5, 6}  # only grassland and forest burn
        cut = _truth(demo_root, f"clearcut_{r}.tif").values
        cut_date = _truth(demo_root, f"clearcut_date_{r}.tif").values
        assert cut.sum() > 0 and np.all(cut_date[cut == 1] == meta["clearcut_date_days"])
        assert np.all(cut_date[cut == 0] == 0) and not (cut.astype(bool) & (frac > 0)).any()


def test_demo_burnt_scar_against_truth(demo_summer, demo_root, no_compute):
    meta = json.loads((demo_root / "truth" / "disturbances.json").read_text())
    assert meta["fire_date"] == FIRE_DATE
    truth = _truth(demo_root, "burn_severity_R2.tif").values
    lc = _grid_only(_truth(demo_root, "landcover_R2.tif"))
    burnable = lc.isin([4, 5, 6, 7])  # grassland, forest, alpine meadows: everything but crops, towns, water
    with no_compute():
        lazy = burn_severity(demo_summer, FIRE_DATE, mask=burnable)
    res = lazy.compute()
    burnt, scar = res["burnt"].values, truth > 0
    iou = (burnt & scar).sum() / (burnt | scar).sum()
    acc = float(np.mean(res["severity"].values[scar] == truth[scar]))
    print(f"\ndemo fire: scar {scar.sum()} px, mapped {burnt.sum()} px, IoU {iou:.3f}, "
          f"Key & Benson class accuracy in the scar {acc:.3f}")
    assert scar.sum() > 400
    assert iou > 0.75  # misses: alpine meadows greening or thawing between the windows
    forest = lc.isin([4, 5, 6]).values
    assert (burnt & scar).sum() / ((burnt & forest) | scar).sum() > 0.95
    assert acc > 0.85
    # the relative indices rise with the truth class too
    for index in ("dNBR", "RdNBR", "RBR"):
        means = [float(np.nanmean(res[index].values[truth == c])) for c in range(4)]
        assert means == sorted(means), (index, means)
    assert res["n_pre"].values[scar].min() >= 1 and res["n_post"].values[scar].min() >= 1
    assert "SENTINEL2" in res.attrs["terra_lab:source_items"][0]
    params = json.loads(res.attrs["terra_lab:parameters"])
    assert params["pre_window"] == "2023-05-23/2023-07-21" and params["scheme"]["index"] == "dNBR"


def test_demo_burnt_area_without_a_mask_flags_harvests_but_not_water(demo_summer, demo_root):
    res = burn_severity(demo_summer, FIRE_DATE).compute()
    lc = _truth(demo_root, "landcover_R2.tif").values
    burnt = res["burnt"].values
    assert not burnt[lc == 8].any()  # the lake: MAJA's water flag
    assert burnt[lc == 3].mean() > 0.2  # winter crops harvested in July look burnt: why mask= exists


# ------------------------------------------------------------------ (4) the real THEIA ZoneTest sample
def test_zonetest_runs_lazily_and_finds_no_fire(zonetest_catalog, no_compute):
    """A real MAJA archive without a fire: the composites and indices build lazily, NBR agrees with
    spyndex on real reflectances, and almost nothing reaches high severity."""
    import spyndex

    items = zonetest_catalog.search(collections="ZONETEST")
    cube = terra_lab.load(items, bands=["nir08", "swir22"], resolution=20, chunks={"time": -1, "x": 256, "y": 256})
    with no_compute():
        lazy = burn_severity(cube, pre=("2018-06-01", "2018-07-31"), post=("2018-08-01", "2018-09-30"))
    res = lazy.compute()
    ok = (res["n_pre"].values > 0) & (res["n_post"].values > 0)
    assert ok.mean() > 0.9
    high = float(np.mean(res["severity"].values[ok] == 3))
    print(f"\nZoneTest summer 2018: {ok.sum()} px with clear observations, high severity {100 * high:.2f} %, "
          f"burnt {100 * float(res['burnt'].values[ok].mean()):.2f} %")
    assert high < 0.01
    comp = fire_composites(cube, pre=("2018-06-01", "2018-07-31"), post=("2018-08-01", "2018-09-30")).compute()
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = np.asarray(spyndex.computeIndex("NBR", {"N": comp["pre_nir08"].values, "S2": comp["pre_swir22"].values}))
    np.testing.assert_allclose(res["pre_nbr"].values[ok], ref[ok], rtol=1e-5, atol=1e-6)
