"""Forest dieback (fordead): demo truth, the real THEIA ZoneTest sample, kernel checks, laziness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rioxarray
import xarray as xr

import terra_lab
from terra_lab.errors import MissingBandError
from terra_lab.kernels import _dieback as k
from terra_lab.products.dieback import DIEBACK_STATES, crswir, forest_dieback, masked_vegetation_index, predict_index

BANDS = ["blue", "green", "red", "nir08", "swir16", "swir22"]
CONIFER = {"blue": 0.02, "green": 0.04, "red": 0.02, "nir08": 0.28, "swir16": 0.13, "swir22": 0.06}
DEAD = {"blue": 0.05, "green": 0.08, "red": 0.10, "nir08": 0.23, "swir16": 0.29, "swir22": 0.20}


# ------------------------------------------------------------------ synthetic cubes
def synthetic_cube(ny=4, nx=5, start="2016-01-03", periods=300, freq="5D", seed=0, cloud_frac=0.3,
                   onset=None, chunks=None) -> xr.Dataset:
    """Conifer pixels with noise and random clouds (NaN + cloud layer); pixel (0, 0) dies at ``onset``."""
    rng = np.random.default_rng(seed)
    time = pd.date_range(start, periods=periods, freq=freq) + pd.Timedelta(hours=10.5)
    doy = time.dayofyear.values[:, None, None]
    season = 0.01 * np.sin(2 * np.pi * doy / 365.25)
    data = {}
    stress = np.zeros((periods, ny, nx))
    if onset is not None:
        days = (time - pd.Timestamp(onset)) / pd.Timedelta(days=1)
        stress[:, 0, 0] = np.clip(days / 45.0, 0, 1)
    for b in BANDS:
        v = (1 - stress) * CONIFER[b] + stress * DEAD[b] + season * (b in ("nir08", "swir16"))
        data[b] = (v + rng.normal(0, 0.003, v.shape)).astype(np.float32)
    cloud = rng.random((periods, ny, nx)) < cloud_frac
    for b in BANDS:
        data[b][cloud] = 0.5
    ds = xr.Dataset({b: (("time", "y", "x"), v) for b, v in data.items()},
                    coords={"time": time, "y": 5000000.0 - 20 * np.arange(ny), "x": 600000.0 + 20 * np.arange(nx)})
    ds["cloud"] = (("time", "y", "x"), cloud)
    ds["shadow"] = xr.zeros_like(ds["cloud"])
    ds["edge"] = xr.zeros_like(ds["cloud"])
    ds = ds.rio.write_crs(32631)
    ds.attrs["terra_lab:source_items"] = ["synthetic"]
    return ds.chunk(chunks) if chunks else ds


# ------------------------------------------------------------------ (1) demo truth
@pytest.fixture(scope="module")
def demo_cube(demo_items, demo_root):
    items = [it for it in demo_items if "_T31TGK_" in (it["id"] if isinstance(it, dict) else it.id)]
    return terra_lab.load(items, bands=BANDS, resolution=20, chunks={"time": -1, "x": 100, "y": 100})


def _truth(demo_root, name):
    return rioxarray.open_rasterio(demo_root / "truth" / name).squeeze(drop=True)


def test_demo_truth_detection_dates_and_false_positives(demo_cube, demo_root):
    lc = _truth(demo_root, "landcover_R2.tif")
    onset = _truth(demo_root, "dieback_onset_R2.tif").values
    forest = lc.isin([5, 6])
    assert lc.shape == (demo_cube.sizes["y"], demo_cube.sizes["x"])
    np.testing.assert_allclose(lc.x.values, demo_cube.x.values)
    res = forest_dieback(demo_cube, training_end="2024-01-01", training_max_end="2024-03-01", forest_mask=forest)
    res = res.compute()
    st, det = res.state.values, res.dieback_date.values
    fo, patch = forest.values, onset > 0
    assert patch.sum() > 50 and np.all(lc.values[patch] == 6)
    # tolerance: the demo's stress ramps linearly to the dead spectrum in 45 days; CR_SWIR
    # (0.83 healthy, 1.36 dead) crosses model + 0.16 at ~24 % stress, i.e. ~11 days after onset.
    # The first anomaly can be no earlier than the first valid acquisition after that, and a
    # detection must come by the first valid acquisition once the spectrum is fully dead.
    vi = masked_vegetation_index(demo_cube)["vi"].notnull().values
    days = pd.DatetimeIndex(demo_cube.time.values).normalize().values
    exact = within = 0
    lags = []
    for y, x in zip(*np.nonzero(patch)):
        o = np.datetime64(int(onset[y, x]), "D").astype("datetime64[ns]")
        ok = vi[:, y, x]
        expected = days[np.nonzero(ok & (days >= o + np.timedelta64(11, "D")))[0][0]]
        dead = days[np.nonzero(ok & (days >= o + np.timedelta64(45, "D")))[0][0]]
        d = np.datetime64(pd.Timestamp(det[y, x]).normalize()) if not np.isnat(det[y, x]) else None
        exact += d == expected
        within += d is not None and o <= d <= dead
        lags.append(np.nan if d is None else (d - o) / np.timedelta64(1, "D"))
    n = int(patch.sum())
    out = fo & ~patch
    fp = float(np.mean(st[out] == k.DIEBACK))
    print(f"\ndemo: {n} dieback pixels (onset {sorted(set(onset[patch].tolist()))} days since 1970); "
          f"detected {100 * np.mean(st[patch] == k.DIEBACK):.1f} %; at the expected acquisition (first valid "
          f">= onset + 11 d) {100 * exact / n:.1f} %; between onset and the first valid acquisition >= onset + 45 d "
          f"{100 * within / n:.1f} %; lag after onset (days) median {np.nanmedian(lags):.0f}, "
          f"max {np.nanmax(lags):.0f}; "
          f"false positives {100 * fp:.2f} % of {int(out.sum())} forest pixels outside the patches; "
          f"too few dates {int(np.sum(st == k.TOO_FEW_DATES))} px; confidence index median "
          f"{np.nanmedian(res.confidence_index.values[patch]):.3f}")
    assert within / n >= 0.95
    assert exact / n >= 0.5
    assert fp < 0.02
    assert np.all(st[~fo] == k.NOT_FOREST) and np.all(np.isnat(det[~fo]))
    assert np.all(res.confidence_class.values[patch & (st == 1)] >= 1)
    assert res.rio.crs is not None and res.attrs["terra_lab:algorithm"].startswith("fordead")


def test_demo_soil_detection_flags_dead_stands_as_bare_soil(demo_cube, demo_root):
    """With fordead's bare-soil mode, the demo's dead spectrum (B11 0.29, B2 0.05, B3 + B4 0.18)
    is a soil anomaly already at ~17 % stress, before the CR_SWIR anomaly: as fordead documents,
    late-stage attacked stands (and leafless broadleaf) end as bare soil, dated by their first soil anomaly."""
    lc = _truth(demo_root, "landcover_R2.tif")
    onset = _truth(demo_root, "dieback_onset_R2.tif").values
    res = forest_dieback(demo_cube, training_end="2024-01-01", training_max_end="2024-03-01",
                         forest_mask=lc.isin([5, 6]), soil_detection=True).compute()
    patch = onset > 0
    st = res.state.values
    lag = (res.soil_date.values[patch] - onset[patch].astype("datetime64[D]")) / np.timedelta64(1, "D")
    conifer = (lc.values == 6) & ~patch
    print(f"\ndemo, soil_detection: bare soil {100 * np.mean(st[patch] == k.BARE_SOIL):.1f} % of the patch, "
          f"soil date {np.nanmin(lag):.0f}..{np.nanmax(lag):.0f} days after onset; healthy conifers flagged bare soil "
          f"{100 * np.mean(st[conifer] == k.BARE_SOIL):.2f} %, "
          f"broadleaf {100 * np.mean(st[lc.values == 5] == k.BARE_SOIL):.1f} %")
    assert np.mean(np.isin(st[patch], (k.BARE_SOIL, k.DIEBACK))) >= 0.95
    assert np.nanmin(lag) >= 0 and np.nanmax(lag) <= 60
    assert np.mean(st[conifer] == k.BARE_SOIL) < 0.02


# ------------------------------------------------------------------ (2) the real THEIA sample
def test_zonetest_bark_beetle_outbreak(zonetest_catalog, zonetest_dir):
    from rasterio.enums import Resampling

    items = zonetest_catalog.search(collections="ZONETEST")
    cube = terra_lab.load(items, bands=BANDS, resolution=20, chunks={"time": -1, "x": 256, "y": 256})
    raw = rioxarray.open_rasterio(zonetest_dir / "Rasters" / "ZoneTest" / "BDForet_ZoneTest.tif").squeeze(drop=True)
    assert set(np.unique(raw.values)) <= {0, 1}  # a binary BD Foret mask at 10 m
    forest = raw.rio.reproject_match(cube["blue"].isel(time=0), resampling=Resampling.mode) == 1
    # the fordead tutorial's training settings on this very zone
    res = forest_dieback(cube, training_end="2018-01-01", training_max_end="2018-06-01", forest_mask=forest).compute()
    fo, st = forest.values, res.state.values
    frac = float(np.mean(st[fo] == k.DIEBACK))
    dates = pd.DatetimeIndex(res.dieback_date.values[fo & (st == k.DIEBACK)])
    print(f"\nZoneTest: {int(fo.sum())} forest pixels (20 m); dieback {100 * frac:.1f} %, "
          f"too few dates {100 * np.mean(st[fo] == k.TOO_FEW_DATES):.1f} %; training dates median "
          f"{np.median(res.n_training_dates.values[fo]):.0f}; detections per quarter: "
          + ", ".join(f"{p}: {c}" for p, c in pd.Series(dates.to_period("Q")).value_counts().sort_index().items()))
    assert 0.03 < frac < 0.6  # a real outbreak, not everywhere
    assert dates.min() >= pd.Timestamp("2018-01-01") and dates.max() < pd.Timestamp("2020-07-01")
    assert np.mean((dates >= "2018-06-01") & (dates < "2020-01-01")) > 0.8
    assert np.all(st[~fo] == k.NOT_FOREST)
    assert np.all(res.n_training_dates.values[fo & (st != k.TOO_FEW_DATES)] >= 10)


# ------------------------------------------------------------------ (3) kernel against independent references
def _fordead_training_end(valid, i_min, n_max, nb_min):
    """First detection date as fordead's get_detection_dates computes it: the first index at or after
    the training cut whose cumulative count of valid dates exceeds nb_min, searched by argmax over the
    whole series (no loop), -1 when none lies before max_last_date_training."""
    idx = np.arange(len(valid))
    ok = (idx >= i_min) & (np.cumsum(valid) > nb_min)
    d = int(np.argmax(ok))
    return d if ok[d] and d < n_max else -1


def _run_pixels(vi, soil, days, i_min, n_max, nb_min=10, thr=0.16, sign=1.0, weighted=1.0, max_periods=5):
    return k.dieback_pixel(vi, soil, k.harmonic_design(days), i_min, n_max, nb_min, thr, sign, weighted, max_periods)


def test_kernel_fit_equals_lstsq_on_random_pixels():
    rng = np.random.default_rng(42)
    npx, nt = 200, 150
    days = np.sort(rng.uniform(300, 1500, nt)).astype(np.float64)
    truth = rng.normal(0, 0.2, (npx, 5))
    vi = (truth @ k.harmonic_design(days).T + rng.normal(0, 0.03, (npx, nt))).astype(np.float32)
    vi[rng.random((npx, nt)) < rng.uniform(0.2, 0.95, (npx, 1))] = np.nan
    soil = np.zeros((npx, nt), np.uint8)
    i_min, n_max = 60, 100
    coeff, n_train, i_detect, *_ = _run_pixels(vi, soil, days, i_min, n_max)
    checked = 0
    for p in range(npx):
        d = _fordead_training_end(~np.isnan(vi[p]), i_min, n_max, 10)
        assert i_detect[p] == d
        if d < 0:
            assert np.all(np.isnan(coeff[p])) and n_train[p] == np.sum(~np.isnan(vi[p, :n_max])) <= 10
            continue
        use = ~np.isnan(vi[p, :d])
        ref = np.linalg.lstsq(k.harmonic_design(days[:d][use]), vi[p, :d][use].astype(np.float64), rcond=None)[0]
        np.testing.assert_allclose(coeff[p], ref, rtol=1e-4, atol=1e-5)
        assert n_train[p] == use.sum() >= 10
        checked += 1
    assert 50 < checked < npx  # both branches exercised


def test_kernel_detection_stress_and_return_to_normal():
    """Hand-built series on a flat model (0.8): golden values worked out by hand from fordead's rules."""
    days = np.arange(0, 400, 5.0)
    nt = len(days)
    vi = np.full(nt, 0.8, np.float32)  # training on dates 0-19: the fit is the constant 0.8
    vi[34:] = 1.0 + 0.002 * np.arange(nt - 34)  # anomalies from date 34 on
    seq = {30: 1.0, 31: np.nan, 32: 1.1, 33: 0.85}  # a 2-anomaly run (NaN skipped) that 33 breaks
    for i, v in seq.items():
        vi[i] = v
    soil = np.zeros(nt, np.uint8)
    out = _run_pixels(vi, soil, days, 20, 25)
    coeff, n_train, i_detect, state, i_dieback, _i_soil, stress, n_stress, _n_periods = out
    np.testing.assert_allclose(coeff, [0.8, 0, 0, 0, 0], atol=1e-6)
    assert i_detect == 20 and n_train == 20
    assert state == k.DIEBACK and i_dieback == 34  # 34, 35, 36 confirm; 31 (NaN) never counts
    pred = predict_index(xr.DataArray(coeff[None, :], dims=("p", "coeff"), coords={"coeff": list("abcde")}),
                         pd.Timestamp("2015-01-01") + pd.to_timedelta(days, "D")).values[0]
    diffs = vi[34:] - pred[34:]
    n = len(diffs)
    assert n_stress == n
    np.testing.assert_allclose(stress, np.sum(diffs * np.arange(1, n + 1)) / (n * (n + 1) / 2), rtol=1e-5)
    # return to normal after three normal dates, then a new 3-anomaly run is another period
    vi2 = vi.copy()
    vi2[38:] = 0.8
    out = _run_pixels(vi2, soil, days, 20, 25)
    assert out[3] == k.HEALTHY and out[4] == -1 and out[8] == 1
    out = _run_pixels(vi2, soil, days, 20, 25, max_periods=0)
    assert out[3] == k.TOO_MANY_STRESS_PERIODS
    # a falling index (NDVI-like): negative departures are the anomalies
    out = _run_pixels((1.6 - vi).astype(np.float32), soil, days, 20, 25, sign=-1.0)
    assert out[3] == k.DIEBACK and out[4] == 34
    # bare soil: three soil anomalies on usable dates (invalid ones skipped), dated by the first
    soil2 = soil.copy()
    soil2[[50, 52, 53]] = k.SOIL_ANOMALY
    soil2[51] = k.SOIL_INVALID
    out = _run_pixels(vi, soil2, days, 20, 25)
    assert out[3] == k.BARE_SOIL and out[5] == 50
    soil2[52] = k.SOIL_VALID  # breaks the run
    assert _run_pixels(vi, soil2, days, 20, 25)[3] == k.DIEBACK


def test_solver_singular_gives_nan():
    ata = np.ones((5, 5))
    out = np.empty(5)
    k.solve_normal_equations(ata, np.ones(5), out)
    assert np.all(np.isnan(out))


def test_crswir_formula():
    ds = xr.Dataset({"nir08": ("x", [0.28, 0.0]), "swir16": ("x", [0.13, 0.1]), "swir22": ("x", [0.06, 0.0])})
    out = crswir(ds).values
    # fordead: B11 / (B8A + (B12 - B8A) / (2185.7 - 864) * (1610.4 - 864)), computed by hand
    np.testing.assert_allclose(out[0], 0.13 / (0.28 + (0.06 - 0.28) / (2185.7 - 864) * (1610.4 - 864)), rtol=1e-6)
    assert np.isnan(out[1])


# ------------------------------------------------------------------ (4) xarray wrapper
def test_lazy_and_numpy_equals_dask(no_compute):
    cube = synthetic_cube(onset="2019-05-01")
    chunked = cube.chunk(time=-1, y=2, x=3)
    with no_compute():
        lazy = forest_dieback(chunked, training_end="2018-01-01", training_max_end="2018-06-01")
    assert lazy["state"].chunks is not None
    a = lazy.compute()
    b = forest_dieback(cube, training_end="2018-01-01", training_max_end="2018-06-01")
    xr.testing.assert_identical(a, b.compute() if b.chunks else b)
    assert int(a.state[0, 0]) == k.DIEBACK
    assert pd.Timestamp("2019-05-05") <= pd.Timestamp(a.dieback_date.values[0, 0]) <= pd.Timestamp("2019-06-15")
    assert np.all(a.state.values.ravel()[1:] == k.HEALTHY)
    assert a.coefficients.dims == ("coeff", "y", "x") and list(a.coeff.values) == ["a1", "b1", "b2", "b3", "b4"]
    assert set(DIEBACK_STATES.values()) >= {"healthy", "dieback", "bare_soil", "too_few_dates", "masked"}
    xr.testing.assert_identical(cube, synthetic_cube(onset="2019-05-01"))  # input untouched


def test_too_few_dates_nan_and_flag():
    cube = synthetic_cube(periods=150, cloud_frac=0.0)
    cube["cloud"][:, 1, :] = True  # row 1 always cloudy
    cube["cloud"][:, 2, :] = cube["time"] > pd.Timestamp("2016-01-30")  # row 2: 6 clear dates only
    res = forest_dieback(cube, training_end="2017-01-01", training_max_end="2017-03-01").compute()
    for row in (1, 2):
        assert np.all(res.state.values[row] == k.TOO_FEW_DATES)
        assert np.all(np.isnan(res.coefficients.values[:, row]))
        assert np.all(np.isnat(res.dieback_date.values[row]))
    assert np.all(res.n_training_dates.values[2] == 6)
    assert np.all(res.state.values[0] == k.HEALTHY) and np.all(res.n_training_dates.values[0] > 10)


def test_errors():
    cube = synthetic_cube(periods=80)
    with pytest.raises(MissingBandError, match="swir22"):
        forest_dieback(cube.drop_vars("swir22"))
    with pytest.raises(ValueError, match="unknown vegetation index"):
        forest_dieback(cube, vi="EVI")
    with pytest.raises(ValueError, match="chunk"):
        forest_dieback(cube.chunk(time=10), training_end="2016-06-01", training_max_end="2016-07-01")
    with pytest.raises(terra_lab.errors.DateRangeError):
        forest_dieback(cube, training_end="2016-06-01", training_max_end="2016-01-01")
    with pytest.raises(ValueError, match="grid"):
        forest_dieback(cube, training_end="2016-06-01",
                       forest_mask=xr.DataArray(np.ones((2, 2), bool), dims=("y", "x")))
