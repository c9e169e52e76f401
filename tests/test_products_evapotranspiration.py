"""Evapotranspiration: TSEB-PT against pyTSEB, FAO-56 reference ET against refet and pyet, SSEBop on hand-built
arrays, dekad sums, the stress index, laziness, and ET on the demo against its truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rioxarray
import xarray as xr

import terra_lab
from terra_lab.kernels import _tseb as k
from terra_lab.products import evapotranspiration as et


def _inputs(n: int = 400, seed: int = 0) -> dict[str, np.ndarray]:
    """Random but physical overpass conditions (crops to shrubs, cool to hot surfaces)."""
    rng = np.random.default_rng(seed)
    lai = rng.uniform(0.3, 4.0, n)
    h_c = rng.uniform(0.3, 2.0, n)
    ta = rng.uniform(288, 305, n)
    sn = rng.uniform(400, 700, n)
    canopy = 1 - np.exp(-0.5 * lai)
    return dict(tr=ta + rng.uniform(-3, 15, n), vza=np.full(n, 5.0), ta=ta, u=rng.uniform(1, 6, n),
                ea=rng.uniform(8, 20, n), p=np.full(n, 950.0), sn_c=sn * canopy, sn_s=sn * (1 - canopy),
                l_dn=rng.uniform(300, 380, n), lai=lai, h_c=h_c, z0m=0.125 * h_c, d0=0.65 * h_c,
                f_c=np.clip(lai / 3, 0.2, 1.0), f_g=np.ones(n))


def test_tseb_pt_matches_pytseb():
    TSEB = pytest.importorskip("pyTSEB.TSEB")
    x = _inputs()
    p = et.TSEBParams(z_u=10.0, z_t=2.0)
    out = np.empty((k.N_OUTPUTS, x["tr"].size))
    k.tseb_pt_block(np.ascontiguousarray(np.stack([x[n] for n in k.INPUTS])), p.kernel_params(), out)
    r = TSEB.TSEB_PT(x["tr"], x["vza"], x["ta"], x["u"], x["ea"], x["p"], x["sn_c"], x["sn_s"], x["l_dn"], x["lai"],
                     x["h_c"], p.emis_c, p.emis_s, x["z0m"], x["d0"], p.z_u, p.z_t, leaf_width=p.leaf_width,
                     z0_soil=p.z0_soil, alpha_PT=p.alpha_pt, x_LAD=p.x_lad, f_c=x["f_c"], f_g=x["f_g"], w_C=p.w_c,
                     calcG_params=[[1], p.g_ratio])
    flag, _t_s, _t_c, _t_ac, ln_s, ln_c, le_c, h_c, le_s, h_s, g = r[:11]
    ref = {"rn": x["sn_c"] + x["sn_s"] + ln_s + ln_c, "h": h_c + h_s, "le": le_c + le_s, "g": g}
    worst = {}
    for name, want in ref.items():
        got = out[k.OUTPUTS.index(name)]
        worst[name] = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 10.0)))
    print("TSEB-PT vs pyTSEB, max relative difference:", worst)
    assert max(worst.values()) < 1e-3  # pyTSEB computes in float32
    np.testing.assert_array_equal(out[k.OUTPUTS.index("flag")], flag)
    assert set(np.unique(flag)) >= {0, 3}  # both the full-alpha and the reduced-alpha paths were exercised


def test_tseb_invalid_inputs_give_nan():
    x = _inputs(3)
    x["tr"][0] = np.nan
    x["lai"][1] = 0.0
    out = np.empty((k.N_OUTPUTS, 3))
    k.tseb_pt_block(np.ascontiguousarray(np.stack([x[n] for n in k.INPUTS])), et.TSEBParams().kernel_params(), out)
    assert np.isnan(out[k.OUTPUTS.index("le"), :2]).all() and np.isfinite(out[k.OUTPUTS.index("le"), 2])
    assert (out[k.OUTPUTS.index("flag"), :2] == k.F_INVALID).all()


def _scene(chunks=None):
    rng = np.random.default_rng(3)
    shape = (2, 6, 5)
    coords = {"time": pd.to_datetime(["2024-07-01T10:30", "2024-07-17T10:30"]), "y": np.arange(6.0), "x": np.arange(5.0)}
    lst = xr.DataArray(rng.uniform(295, 320, shape), dims=("time", "y", "x"), coords=coords, name="lwir11")
    lai = xr.DataArray(rng.uniform(0.2, 4, shape), dims=lst.dims, coords=coords)
    if chunks:
        lst, lai = lst.chunk(chunks), lai.chunk(chunks)
    ta = xr.DataArray([299.0, 302.0], dims="time", coords={"time": coords["time"]})
    return lst, lai, dict(albedo=0.18, air_temperature=ta, wind_speed=3.0, vapour_pressure=14.0, pressure=950.0,
                          solar_radiation=800.0, canopy_height=1.0, solar_zenith=30.0)


def test_tseb_wrapper_lazy_and_chunk_independent(no_compute):
    lst, lai, met = _scene()
    eager = et.tseb_pt(lst, lai, **met)
    lst_d, lai_d, _ = _scene({"time": 1, "y": 4, "x": 2})
    with no_compute():
        lazy = et.tseb_pt(lst_d, lai_d, **met)
        ef = et.evaporative_fraction(lazy)
    assert lazy.le.chunks is not None and lazy.le.dims == ("time", "y", "x")
    xr.testing.assert_allclose(lazy.compute(), eager)
    assert eager.attrs["terra_lab:algorithm"] == "tseb_pt" and "alpha_pt" in eager.attrs["terra_lab:parameters"]
    closure = eager.rn - eager.g - eager.h - eager.le
    assert float(abs(closure).max()) < 0.05  # the energy balance closes
    assert float(ef.min()) >= 0 and float(ef.max()) <= 1.2


def test_reference_et_against_refet_and_pyet():
    refet = pytest.importorskip("refet")
    pyet = pytest.importorskip("pyet")
    rng = np.random.default_rng(1)
    n = 60
    tmax = rng.uniform(18, 36, n)
    tmin = tmax - rng.uniform(6, 16, n)
    rs, u2 = rng.uniform(12, 27, n), rng.uniform(0.5, 5, n)  # 0.3 < Rs/Rso <= 1: ASCE clips there
    ea = 0.6108 * np.exp(17.27 * tmin / (tmin + 237.3)) * rng.uniform(0.6, 1.0, n)  # dew point below Tmin
    days = pd.date_range("2023-05-01", periods=n, freq="3D")
    doy = days.dayofyear.values
    ours = et.reference_et_daily(tmax, tmin, rs, ea, u2, elevation=700.0, latitude=45.2, doy=doy)
    asce = refet.Daily(tmin=tmin, tmax=tmax, ea=ea, rs=rs, uz=u2, zw=2, elev=700.0, lat=45.2, doy=doy,
                       method="asce").eto()
    s = lambda a: pd.Series(a, index=days)
    fao = pyet.pm_fao56(s((tmax + tmin) / 2), s(u2), rs=s(rs), tmax=s(tmax), tmin=s(tmin), ea=s(ea), elevation=700.0,
                        lat=np.radians(45.2)).values
    print("FAO-56 ET0 max rel. diff: refet (ASCE)", np.max(np.abs(ours / asce - 1)), "pyet", np.max(np.abs(ours / fao - 1)))
    np.testing.assert_allclose(ours, fao, rtol=1e-6)  # same equations
    np.testing.assert_allclose(ours, asce, rtol=2e-3)  # ASCE's constants (Gsc, es at Tmean...) differ slightly
    # SSEBop's clear-sky net radiation: pyet's net radiation with Rs = its own Rso (W/m2 day mean)
    rso = pyet.calc_rso(pyet.extraterrestrial_r(days, np.radians(45.2)), 700.0)
    rn_pyet = pyet.calc_rad_net(s((tmax + tmin) / 2), rs=rso, lat=np.radians(45.2), tmax=s(tmax), tmin=s(tmin),
                                ea=s(ea), elevation=700.0).values * 1e6 / 86400.0
    rn = et.clear_sky_net_radiation(tmax, tmin, ea, elevation=700.0, latitude=45.2, doy=doy)
    np.testing.assert_allclose(rn, rn_pyet, rtol=1e-6)


def test_ssebop_fraction_hand_built():
    tmax = 300.0
    dt_k = 15.0
    lst = xr.DataArray(np.array([[[0.98 * tmax, 0.98 * tmax + 7.5, 0.98 * tmax + 15.0, 0.98 * tmax + 30, np.nan]]]),
                       dims=("time", "y", "x"))
    etf = et.ssebop_fraction(lst, tmax, dt_k, params=et.SSEBopParams(c_factor=0.98))
    np.testing.assert_allclose(etf.values.ravel()[:4], [1.0, 0.5, 0.0, 0.0])
    assert np.isnan(etf.values.ravel()[4])
    ndvi = xr.DataArray(np.array([[[0.9, 0.3, 0.2, 0.1, 0.9]]]), dims=lst.dims)
    fitted = et.ssebop_fraction(lst, tmax, dt_k, ndvi=ndvi)  # c from the dense, wet pixel: 0.98
    np.testing.assert_allclose(fitted.values.ravel()[:4], [1.0, 0.5, 0.0, 0.0], atol=1e-9)
    with pytest.raises(terra_lab.errors.RasterInputError, match="ndvi="):
        et.ssebop_fraction(lst, tmax, dt_k)
    # Senay et al. 2013: rho = 1000 P / (1.01 T 287), dT = Rn rah / (rho cp)
    assert et.ssebop_dt(200.0, 300.0, 100.0) == pytest.approx(200 * 110 / (1000 * 100 / (1.01 * 300 * 287) * 1013))


def test_dekad_sums_and_stress():
    days = pd.date_range("2024-06-01", "2024-07-31", freq="D")
    daily = xr.DataArray(np.arange(days.size, dtype=float), dims="time", coords={"time": days}, name="et",
                         attrs={"units": "mm day-1"})
    daily[3] = np.nan
    out = dekad_sums = et.dekad_sums(daily)
    assert out.n_days.values.tolist() == [10, 10, 10, 10, 10, 11]
    s = pd.Series(daily.values, index=days)
    want = [s["2024-06-01":"2024-06-10"].sum(), s["2024-06-11":"2024-06-20"].sum(), s["2024-06-21":"2024-06-30"].sum(),
            s["2024-07-01":"2024-07-10"].sum(), s["2024-07-11":"2024-07-20"].sum(), s["2024-07-21":"2024-07-31"].sum()]
    np.testing.assert_allclose(dekad_sums.values, want)
    assert out.attrs["units"] == "mm dekad-1"
    wsi = et.water_stress_index(xr.DataArray([0.0, 2.0, 5.0, 6.0, 1.0]), xr.DataArray([5.0, 4.0, 5.0, 5.0, 0.0]))
    np.testing.assert_allclose(wsi.values[:4], [1.0, 0.5, 0.0, 0.0])
    assert np.isnan(wsi.values[4])


@pytest.fixture(scope="module")
def demo_et(demo_catalog, demo_root):
    from terra_lab.cube import load_station

    cube = terra_lab.load(demo_catalog.search(collections="landsat-c2-l2"), apply_masks=["cloud", "shadow", "edge"])
    station = demo_catalog.search(collections="terra-lab-demo-meteo-stations").items
    ov = load_station(station, "overpass")
    per_date = {c: xr.DataArray(ov[c].values, dims="time", coords={"time": cube.time}) for c in ov.columns}
    daily = load_station(station)
    days = pd.DatetimeIndex(daily.index)
    et0 = xr.DataArray(et.reference_et_daily(daily.tmax_c.values, daily.tmin_c.values, daily.rs_mj_m2_day.values,
                                             daily.ea_kpa.values, daily.u2_m_s.values, elevation=daily.attrs["elevation_m"],
                                             latitude=daily.attrs["latitude"], doy=days.dayofyear.values),
                       dims="time", coords={"time": days}, name="et0")
    truth = rioxarray.open_rasterio(demo_root / "truth" / "et_fraction_landsat_R30.tif").rename(band="time")
    truth = truth.assign_coords(time=cube.time.values, x=cube.x.values, y=cube.y.values)
    return cube, per_date, et0, truth


def test_demo_ssebop_against_truth(demo_et, no_compute):
    cube, m, et0, truth = demo_et
    tmax = m["air_temperature_max_c"] + 273.15
    with no_compute():
        ndvi = (cube.nir - cube.red) / (cube.nir + cube.red)
        etf = et.ssebop_fraction(cube.lwir11, tmax, et.ssebop_dt(m["rn_clear_w_m2"], tmax, m["pressure_kpa"]), ndvi=ndvi)
        daily = et.daily_et(etf, et0)
        dekads = et.dekad_sums(daily)
        wsi = et.water_stress_index(dekads, et.dekad_sums(et0))
    assert daily.chunks is not None and dekads.sizes["time"] == 9
    etf_v = etf.compute()
    rmse_f = float(np.sqrt(((etf_v - truth) ** 2).mean()))
    truth_daily = et.daily_et(truth, et0)
    rmse_d = float(np.sqrt(((daily - truth_daily) ** 2).mean()))
    bias_dekad = float((dekads - et.dekad_sums(truth_daily)).mean())
    print(f"SSEBop on the demo: ET fraction RMSE {rmse_f:.3f}, daily ET RMSE {rmse_d:.3f} mm/day, "
          f"dekad bias {bias_dekad:.2f} mm")
    assert rmse_f < 0.06 and rmse_d < 0.35
    assert float(wsi.min()) >= 0 and float(wsi.max()) <= 1


def test_demo_tseb_follows_truth(demo_et):
    cube, m, _et0, truth = demo_et
    ndvi = (cube.nir - cube.red) / (cube.nir + cube.red)
    lai = et.lai_from_ndvi(ndvi)
    fluxes = et.tseb_pt(cube.lwir11, lai, albedo=et.broadband_albedo_landsat(cube),
                        air_temperature=m["air_temperature_c"] + 273.15, wind_speed=m["wind_speed_m_s"],
                        vapour_pressure=m["vapour_pressure_kpa"] * 10, pressure=m["pressure_kpa"] * 10,
                        solar_radiation=m["solar_radiation_w_m2"], canopy_height=xr.where(lai > 2.5, 10.0, 0.5),
                        solar_zenith=m["solar_zenith_deg"])
    ef = et.evaporative_fraction(fluxes).compute()
    ok = np.isfinite(ef.values) & np.isfinite(truth.values)
    r = float(np.corrcoef(ef.values[ok], truth.values[ok])[0, 1])
    rmse = float(np.sqrt(np.mean((ef.values[ok] - truth.values[ok]) ** 2)))
    print(f"TSEB-PT on the demo: evaporative fraction vs ET-fraction truth r = {r:.3f}, RMSE {rmse:.3f}")
    assert r > 0.85 and ok.mean() > 0.8
