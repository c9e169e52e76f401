"""Digital soil mapping: demo soil truth (PICP, RMSE), quantile forest vs analytic quantiles and sklearn, laziness."""

from __future__ import annotations

import dask
import geopandas as gpd
import numpy as np
import pytest
import rioxarray
import xarray as xr

import terra_lab
from terra_lab.errors import GridMismatchError, SamplingError
from terra_lab.products._regression import fit_quantile_model
from terra_lab.products.niche import annotate
from terra_lab.products.soil import SOIL_PROPERTIES, TEXTURE, fit_soil, picp, soil_covariates, soil_properties

FAST = {"n_estimators": 100}  # fewer trees than the default 300: seconds per test


@pytest.fixture(scope="module")
def demo(demo_year_cube, demo_root):
    cube, dem = demo_year_cube
    cov = soil_covariates(dem, cube=cube)
    with dask.config.set(scheduler="threads", num_workers=2):
        cov = cov.persist()
    points = gpd.read_file(demo_root / "truth" / "soil_points.geojson")
    truth = rioxarray.open_rasterio(demo_root / "truth" / "soil_R2.tif")
    return cube, dem, cov, points, truth


def test_demo_soil_truth_picp_and_rmse(demo):
    _, _, cov, points, truth = demo
    rng = np.random.default_rng(0)
    test = np.zeros(len(points), bool)
    test[rng.permutation(len(points))[:100]] = True
    model = fit_soil(cov, points[~test], **FAST)
    # the held-out points, and every third truth pixel (held-out pixels: the samples are 300 of 40 000)
    maps = soil_properties(cov, model)
    at = annotate(points[test], maps.compute())
    sub = soil_properties(cov.isel(y=slice(1, None, 3), x=slice(1, None, 3)), model).compute()
    tsub = truth.isel(y=slice(1, None, 3), x=slice(1, None, 3)).values
    print()
    for i, p in enumerate(SOIL_PROPERTIES):
        cover = picp(points[test][p], at[f"{p}_p05"], at[f"{p}_p95"])
        err = sub[p].values - tsub[i]
        rmse, spread = float(np.sqrt(np.nanmean(err ** 2))), float(np.nanstd(tsub[i]))
        print(f"{p:5s} PICP {cover:.2f} on {test.sum()} held-out points; RMSE {rmse:.2f} {SOIL_PROPERTIES[p]} on "
              f"truth pixels (truth sd {spread:.2f}), bias {np.nanmean(err):+.2f}")
        assert 0.8 <= cover <= 1.0, p
        assert rmse < 0.9 * spread, p  # the covariates explain part of the variance (silt least: noise-driven)
        assert (sub[f"{p}_p05"] <= sub[p]).all() and (sub[p] <= sub[f"{p}_p95"]).all()
    total = sum(sub[p] for p in TEXTURE)
    np.testing.assert_allclose(total.values[np.isfinite(total.values)], 100, rtol=1e-4)  # ALR medians close
    assert np.isnan(sub["clay"].values).mean() < 0.05  # only where a covariate is missing
    assert "Meinshausen" in maps.attrs["references"] and maps.rio.crs == cov.rio.crs


def _analytic(n, seed):
    """y = 2 x1 + sin(3 x2) + N(0, sd), sd = 0.2 + 0.3 x1: its quantiles are known exactly."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 2))
    mean, sd = 2 * x[:, 0] + np.sin(3 * x[:, 1]), 0.2 + 0.3 * x[:, 0]
    return x, mean + sd * rng.standard_normal(n), mean, sd


def test_quantile_forest_against_analytic_quantiles_and_sklearn():
    from sklearn.ensemble import GradientBoostingRegressor

    x, y, _, _ = _analytic(3000, 1)
    xt, yt, mean, sd = _analytic(500, 2)
    z = 1.6448536269514722  # scipy.stats.norm.ppf(0.95)
    qrf = fit_quantile_model(x, y, target="y", features=["x1", "x2"], method="qrf", min_samples_leaf=20).predict(xt)
    hgb = fit_quantile_model(x, y, target="y", features=["x1", "x2"], method="hgb").predict(xt)
    gbr = np.stack([GradientBoostingRegressor(loss="quantile", alpha=q, n_estimators=200, max_depth=3,
                                              random_state=0).fit(x, y).predict(xt) for q in (0.05, 0.5, 0.95)], 1)
    exact = np.stack([mean - z * sd, mean, mean + z * sd], 1)
    half = float(np.mean(z * sd))
    # gradient boosting's pinball-loss intervals are known to be narrower than nominal on finite samples
    for name, pred, low in (("quantile-forest", qrf, 0.82), ("HistGradientBoosting", hgb, 0.75),
                            ("sklearn GBR", gbr, 0.75)):
        mae = np.abs(pred - exact).mean(axis=0)
        cover = picp(yt, pred[:, 0], pred[:, 2])
        print(f"\n{name}: mean |error| vs exact quantiles q05 {mae[0]:.3f} q50 {mae[1]:.3f} q95 {mae[2]:.3f} "
              f"(interval half-width {half:.3f}); PICP {cover:.2f}")
        assert (mae < 0.35 * half).all(), name
        assert low <= cover <= 0.97, name
    assert np.abs(qrf - gbr).mean() < 0.35 * half  # the two independent learners agree


def test_lazy_on_the_demo(demo, no_compute):
    cube, dem, cov, points, _ = demo
    model = fit_soil(cov, points, properties=["soc", "ph"], **FAST)
    with no_compute():
        c = soil_covariates(dem, cube=cube)
        maps = soil_properties(c, model)
    assert set(maps.data_vars) == {"soc", "soc_p05", "soc_p95", "ph", "ph_p05", "ph_p95"}
    assert isinstance(maps["soc"].data, dask.array.Array)
    assert maps["soc"].data.npartitions == np.prod([len(ch) for ch in c.data.chunks[1:]])  # one task per chunk
    assert {"slope", "northness", "tpi_300m", "temperature_proxy", "ndvi_median", "red_median"} <= set(
        map(str, c["feature"].values))


def test_zonetest_runs_lazily(zonetest_catalog, no_compute):
    """The real THEIA sample (non-demo catalogue) with an analytic DEM on its grid and synthetic samples."""
    items = zonetest_catalog.search(collections="ZONETEST", dates="2018")
    cube = terra_lab.load(items, bands=["red", "nir08", "swir16"], resolution=20, chunks={"time": -1, "x": 48, "y": 48})
    cube = cube.isel(x=slice(0, 48), y=slice(0, 48))
    ny, nx = cube.sizes["y"], cube.sizes["x"]
    u, v = np.meshgrid(np.linspace(0, 1, nx), np.linspace(0, 1, ny))
    dem = xr.DataArray((300 + 200 * u + 80 * np.sin(6 * v)).astype(np.float32), dims=("y", "x"),
                       coords={"y": cube.y, "x": cube.x}).rio.write_crs(cube.rio.crs)
    with no_compute():
        cov = soil_covariates(dem, cube=cube, bands=["red", "nir08", "swir16"])
    with dask.config.set(scheduler="threads", num_workers=2):
        cov = cov.compute()
    rng = np.random.default_rng(0)
    r, c = rng.integers(0, ny, 200), rng.integers(0, nx, 200)
    soc = 1 + 0.01 * (dem.values[r, c] - 300) + rng.normal(0, 0.1, 200)
    pts = gpd.GeoDataFrame({"soc": soc}, geometry=gpd.points_from_xy(cube.x.values[c], cube.y.values[r]),
                           crs=cube.rio.crs)
    model = fit_soil(cov, pts, **FAST)
    with no_compute():
        maps = soil_properties(cov.chunk({"x": 24, "y": 24}), model)
    maps = maps.compute()
    err = maps.soc.values - (1 + 0.01 * (dem.values - 300))
    print(f"\nZoneTest {ny} x {nx} px: synthetic SOC RMSE {np.sqrt(np.nanmean(err ** 2)):.3f} %")
    assert np.nanmean(np.abs(err)) < 0.3 and maps.rio.crs == cube.rio.crs


def test_clear_errors(demo):
    _, dem, cov, points, _ = demo
    with pytest.raises(SamplingError, match="texture needs clay, silt and sand together"):
        fit_soil(cov, points, properties=["clay", "soc"])
    with pytest.raises(SamplingError, match="none of the soil properties"):
        fit_soil(cov, points[["geometry"]])
    with pytest.raises(SamplingError, match="at least 30"):
        fit_soil(cov, points.iloc[:20], properties=["ph"])
    bad = points.copy()
    bad.loc[bad.index[0], "sand"] = 0.0
    with pytest.raises(SamplingError, match="must all be > 0"):
        fit_soil(cov, bad, **FAST)
    model = fit_soil(cov, points, properties=["ph"], **FAST)
    with pytest.raises(SamplingError, match="differ from those the model was fitted on"):
        soil_properties(cov.isel(feature=slice(1, None)), model)
    shifted = dem.assign_coords(x=dem.x + 5)
    with pytest.raises(GridMismatchError, match="not on the grid"):
        soil_covariates(shifted, extra={"other": dem})
