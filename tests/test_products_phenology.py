"""Phenology: scipy's Savitzky-Golay, hand-computed DHI, and the demo's known seasons.

The demo scene draws every land-cover class's greenness from a double logistic
g(doy) = lo + (hi - lo) (1/(1 + exp(-(doy - sos)/8)) - 1/(1 + exp(-(doy - eos)/8)))
(truth/scene.json) and mixes soil and vegetation spectra with it; the true NDVI curve, and
so the true 50 %-amplitude dates, follow from the formula (computed here numerically).
"""

from __future__ import annotations

import json

import dask
import numpy as np
import pandas as pd
import pytest
import rasterio
import xarray as xr
from scipy.signal import savgol_filter

import terra_lab
from terra_lab.demo._scene import SPECTRA
from terra_lab.kernels import _phenology as k
from terra_lab.products.phenology import dynamic_habitat_index, season_metrics, smooth_series


def _series(values, times, ny=1, nx=1):
    v = np.asarray(values, np.float32)
    data = np.broadcast_to(v[:, None, None], (v.size, ny, nx)).copy()
    return xr.DataArray(data, dims=("time", "y", "x"), coords={"time": pd.DatetimeIndex(times)}, name="NDVI")


def _truth_ndvi(p, doy):
    """NDVI (B8A, B4) of the demo's soil/vegetation mix for greenness parameters ``p``."""
    g = p["min"] + (p["max"] - p["min"]) * (1 / (1 + np.exp(-(doy - p["sos"]) / 8)) - 1 / (1 + np.exp(-(doy - p["eos"]) / 8)))
    red = (1 - g) * float(SPECTRA["soil"][2]) + g * float(SPECTRA["veg"][2])
    nir = (1 - g) * float(SPECTRA["soil"][7]) + g * float(SPECTRA["veg"][7])
    return (nir - red) / (nir + red)


def _truth_dates(p, fraction=0.5):
    """SOS/EOS of the true curve, same definition as season_metrics, on a 0.01-day grid."""
    doy = np.arange(1, 366, 0.01)
    nd = _truth_ndvi(p, doy)
    ip = nd.argmax()
    lmin, rmin = nd[: ip + 1].min(), nd[ip:].min()
    thr_l, thr_r = lmin + fraction * (nd[ip] - lmin), rmin + fraction * (nd[ip] - rmin)
    sos = doy[np.nonzero(nd[:ip] < thr_l)[0][-1] + 1]
    eos = doy[ip + np.nonzero(nd[ip:] < thr_r)[0][0]]
    return sos, eos


def test_smoothing_equals_scipy_savgol():
    rng = np.random.default_rng(1)
    times = pd.date_range("2023-01-01", periods=200, freq="D")
    x = (0.3 + 0.4 * np.sin(np.arange(200) / 25.0) + rng.normal(0, 0.03, 200)).astype(np.float32)
    for window, order in [(31, 2), (15, 3), (7, 0)]:
        ours = smooth_series(_series(x, times), window=window, polyorder=order).values[:, 0, 0]
        ref = savgol_filter(x.astype(np.float64), window, order, mode="interp")
        np.testing.assert_allclose(ours, ref, rtol=0, atol=2e-6)
        out = np.empty(200)
        k.savgol_smooth(x.astype(np.float64), k.savgol_hat(window, order), out)  # the kernel itself
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-10)


def test_gap_filling_is_linear_in_time():
    times = pd.to_datetime(["2023-01-01", "2023-01-05", "2023-01-11", "2023-01-21", "2023-01-31"])
    v = np.array([0.2, np.nan, 0.5, np.nan, 0.3])
    # window 3 / order 2 fits every window exactly: the smoother is the identity
    out = smooth_series(_series(v, times), window=3, polyorder=2)
    days = (out["time"].values - np.datetime64("2023-01-01")) / np.timedelta64(1, "D")
    assert out.sizes["time"] == 31 and out["time"].values[0] == np.datetime64("2023-01-01")
    np.testing.assert_allclose(out.values[:, 0, 0], np.interp(days, [0, 10, 30], [0.2, 0.5, 0.3]), atol=1e-6)


def test_synthetic_double_logistic_dates():
    """Noise-free NDVI every 5 days with gaps: the 50 % dates are recovered to a fraction of a day."""
    p = {"sos": 120, "eos": 260, "min": 0.1, "max": 0.85}
    times = pd.date_range("2022-10-01", "2024-03-31", freq="5D")
    doy = np.asarray(times.dayofyear, float)
    v = _truth_ndvi(p, doy)
    v[(times.year == 2023) & (np.arange(times.size) % 3 == 0)] = np.nan  # a third of the dates cloudy
    m = season_metrics(_series(v, times), years=[2023]).sel(year=2023).isel(y=0, x=0)
    sos, eos = _truth_dates(p)
    assert int(m.flag) == 0
    assert abs(float(m.sos) - sos) < 1.0 and abs(float(m.eos) - eos) < 1.0
    assert abs(float(m.pos) - 190) < 3 and float(m.los) == pytest.approx(float(m.eos) - float(m.sos))
    assert float(m.amplitude) == pytest.approx(_truth_ndvi(p, 190.0) - _truth_ndvi(p, 1.0), abs=0.02)


def test_too_few_observations_give_nan_and_flag():
    times = pd.date_range("2023-01-01", "2023-12-31", freq="10D")
    v = np.full(times.size, np.nan)
    data = _series(v, times, ny=1, nx=3)
    data[[5, 20], 0, 1] = [0.3, 0.6]  # two valid dates only
    data[:, 0, 2] = 0.4  # valid but flat: no season
    m = season_metrics(data, min_obs=6)
    assert list(m.flag.values[0, 0]) == [1, 1, 2]
    assert np.isnan(m.sos.values[0, 0]).all() and np.isnan(m.eos.values[0, 0]).all()
    assert list(m.n_obs.values[0, 0]) == [0, 2, times.size]
    dhi = dynamic_habitat_index(data)
    assert np.isnan(dhi.dhi_cum.values[0, 0, :2]).all()  # 0 and 2 months < 6 valid months
    assert dhi.dhi_cum.values[0, 0, 2] == pytest.approx(12 * 0.4, rel=1e-6)


def test_dhi_equals_hand_computation():
    rng = np.random.default_rng(3)
    times = pd.date_range("2023-01-03", "2023-12-30", freq="4D")
    v = rng.uniform(0.1, 0.9, (times.size, 2, 2)).astype(np.float32)
    v[5, 0, 0] = np.nan
    data = xr.DataArray(v, dims=("time", "y", "x"), coords={"time": times}, name="fPAR")
    ours = dynamic_habitat_index(data).sel(year=2023)
    for iy in range(2):
        for ix in range(2):
            s = pd.Series(v[:, iy, ix].astype(np.float64), index=times)
            comp = np.array([np.nanmedian(s[s.index.month == mth]) for mth in range(1, 13)])
            assert ours.dhi_cum.values[iy, ix] == pytest.approx(comp.sum(), rel=1e-6)
            assert ours.dhi_min.values[iy, ix] == pytest.approx(comp.min(), rel=1e-6)
            assert ours.dhi_var.values[iy, ix] == pytest.approx(comp.std() / comp.mean(), rel=1e-5)
    per_date = dynamic_habitat_index(data, period="date").sel(year=2023)
    x = v[:, 1, 1].astype(np.float64)
    assert per_date.dhi_cum.values[1, 1] == pytest.approx(x.sum(), rel=1e-6)
    assert per_date.dhi_var.values[1, 1] == pytest.approx(x.std() / x.mean(), rel=1e-5)
    # a month without any valid value is filled linearly from its neighbours
    gap = data.where(data["time"].dt.month != 6)
    g = dynamic_habitat_index(gap).sel(year=2023)
    s = pd.Series(v[:, 1, 0].astype(np.float64), index=times)
    comp = np.array([np.nanmedian(s[s.index.month == mth]) for mth in range(1, 13)])
    comp[5] = 0.5 * (comp[4] + comp[6])
    assert g.dhi_cum.values[1, 0] == pytest.approx(comp.sum(), rel=1e-6)


@pytest.fixture(scope="module")
def demo_ndvi(demo_items):
    items = [it for it in demo_items if "_T31TGK_" in it["id"]]
    cube = terra_lab.load(items, bands=["red", "nir08"], resolution=20, chunks={"time": -1, "x": 100, "y": 100})
    bad = cube["cloud"] | cube["shadow"] | cube["snow"] | cube["edge"]
    ndvi = ((cube["nir08"] - cube["red"]) / (cube["nir08"] + cube["red"])).where(~bad).rename("NDVI")
    # 2023 with three months on each side, so smoothing and minima are not cut by the series' ends
    return ndvi.sel(time=slice("2022-10-01", "2024-03-31"))


def test_demo_seasons_against_truth(demo_ndvi, demo_root, no_compute):
    with no_compute():
        lazy = season_metrics(demo_ndvi, years=[2023])
        dhi = dynamic_habitat_index(demo_ndvi, years=[2023])
    with dask.config.set(scheduler="threads", num_workers=2):
        m = lazy.sel(year=2023).compute()
    scene = json.loads((demo_root / "truth" / "scene.json").read_text())["phenology_doy"]
    with rasterio.open(demo_root / "truth" / "landcover_R2.tif") as ds:
        lc = ds.read(1)
    assert lc.shape == m.sos.shape
    lines = []
    for code, limit in [(2, 5.0), (3, 5.0), (4, 10.0), (5, 10.0)]:
        sos, eos = _truth_dates(scene[str(code)])
        sel = lc == code
        ok = m.flag.values[sel] == 0
        e_sos = np.nanmedian(np.abs(m.sos.values[sel] - sos))
        e_eos = np.nanmedian(np.abs(m.eos.values[sel] - eos))
        lines.append(f"class {code}: truth SOS {sos:.1f} EOS {eos:.1f}; median |error| SOS {e_sos:.2f} d, "
                     f"EOS {e_eos:.2f} d; seasons found {ok.mean():.1%} of {sel.sum()} px")
        assert ok.mean() > 0.95
        assert e_sos <= limit and e_eos <= limit
    print("\n" + "\n".join(lines))
    assert m.sos.dims == ("y", "x") and m.sos.rio.crs == demo_ndvi.rio.crs
    assert "terra_lab:algorithm" in m.attrs
    with dask.config.set(scheduler="threads", num_workers=2):
        d = dhi.sel(year=2023).compute()
    veg = np.isin(lc, [2, 3, 4, 5])
    assert np.isfinite(d.dhi_cum.values[veg]).mean() > 0.95
    var = {c: np.nanmedian(d.dhi_var.values[lc == c]) for c in (2, 4, 5)}
    dmin = {c: np.nanmedian(d.dhi_min.values[lc == c]) for c in (2, 4, 5)}
    print(f"DHI 2023 median variation {var}, minimum {dmin}")
    assert var[2] > var[4]  # the summer crop is more seasonal than grassland (greenness 0.05-0.9 vs 0.35-0.8)
    assert dmin[4] > dmin[2]  # and grassland never as bare


def test_time_must_be_one_chunk():
    times = pd.date_range("2023-01-01", periods=40, freq="5D")
    data = _series(np.linspace(0, 1, 40), times).chunk({"time": 10})
    with pytest.raises(ValueError, match=r"chunk\(time=-1"):
        season_metrics(data)
    with pytest.raises(ValueError, match="odd"):
        smooth_series(data.chunk({"time": -1}), window=30)
