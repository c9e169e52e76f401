"""Forest structure (FORMS-like): canopy height on the demo truth, intervals, allometries, laziness, errors."""

from __future__ import annotations

import dask
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rioxarray
import xarray as xr

import terra_lab
from terra_lab.errors import MissingBandError, SamplingError, TerraLabWarning
from terra_lab.products.niche import annotate
from terra_lab.products.soil import picp
from terra_lab.products.structure import (
    AllometryParams,
    canopy_height,
    fit_canopy_height,
    structure_features,
    wood_volume_biomass,
)

BANDS = ["red", "nir", "swir16"]
DEMO_TYPES = AllometryParams(types={5: "broadleaf", 6: "conifer"})


def _truth(demo_root, name):
    return rioxarray.open_rasterio(demo_root / "truth" / name).squeeze(drop=True)


@pytest.fixture(scope="module")
def demo(demo_year_cube, demo_root):
    """2023 features of the demo (3 bands, the DEM as a covariate), the GEDI-like points and the truth."""
    cube, dem = demo_year_cube
    feats = structure_features(cube, year=2023, covariates={"elevation": dem})
    with dask.config.set(scheduler="threads", num_workers=2):
        feats = feats.persist()
    points = gpd.read_file(demo_root / "truth" / "gedi_points.geojson")
    return cube, dem, feats, points, _truth(demo_root, "canopy_height_R2.tif"), _truth(demo_root, "landcover_R2.tif")


@pytest.mark.parametrize(("method", "max_rmse", "min_cover"), [("qrf", 3.5, 0.8), ("hgb", 4.0, 0.6)])
def test_demo_truth_height_rmse_bias_and_interval_coverage(demo, method, max_rmse, min_cover):
    cube, _, feats, points, truth, lc = demo
    assert truth.shape == (cube.sizes["y"], cube.sizes["x"])
    train = points.iloc[::2]
    test = points.iloc[1::2]
    model = fit_canopy_height(feats, train, method=method)
    h = canopy_height(feats, model).compute()
    # held-out truth pixels: forest pixels holding no training footprint
    used = np.zeros(truth.shape, bool)
    inv = ~truth.rio.transform()
    cols, rows = inv * (train.geometry.x.to_numpy(), train.geometry.y.to_numpy())
    used[rows.astype(int), cols.astype(int)] = True
    forest = np.isin(lc.values, (5, 6)) & ~used
    err = h.height.values[forest] - truth.values[forest]
    rmse, bias = float(np.sqrt(np.nanmean(err ** 2))), float(np.nanmean(err))
    cover_px = float(np.nanmean((truth.values >= h.height_p05.values) & (truth.values <= h.height_p95.values),
                                where=forest))
    at = annotate(test, h)  # held-out GEDI footprints: PICP of the 90 % interval against their rh98
    cover_pts = picp(test["rh98"], at["height_p05"], at["height_p95"])
    print(f"\n{method}: held-out forest pixels RMSE {rmse:.2f} m, bias {bias:+.2f} m, 90 % interval covers "
          f"{cover_px:.1%} of pixels, PICP {cover_pts:.2f} on {len(test)} held-out footprints")
    assert np.isfinite(err).mean() > 0.99
    assert rmse < max_rmse and abs(bias) < 1.0
    assert min_cover < cover_pts <= 1.0 and cover_px > min_cover
    assert (h.height_p05 <= h.height).all() and (h.height <= h.height_p95).all()
    assert h.height.attrs["units"] == "m" and "FORMS" in h.attrs["references"]
    assert h.rio.crs == cube.rio.crs


def test_allometry_golden_values_and_interval_bounds():
    # V = a H^b (m3/ha), AGB = V WD BEF: conifer 30 m -> 0.9 * 30**1.9 = 576.46 m3/ha, x 0.40 x 1.3 = 299.76 Mg/ha;
    # broadleaf 20 m -> 0.7 * 20**1.9 = 207.52 m3/ha, x 0.58 x 1.4 = 168.50 Mg/ha (python floats, by hand)
    coords = {"y": [1.5, 0.5], "x": [0.5, 1.5]}
    h = xr.Dataset({"height": (("y", "x"), [[30.0, 20.0], [10.0, 5.0]]),
                    "height_p05": (("y", "x"), [[25.0, 15.0], [5.0, 1.0]])}, coords=coords)
    ft = xr.DataArray([[32, 31], [11, 32]], dims=("y", "x"), coords=coords)
    out = wood_volume_biomass(h, ft)
    np.testing.assert_allclose(out.volume.values[0], [576.46, 207.52], rtol=1e-3)
    np.testing.assert_allclose(out.agb.values[0], [299.76, 168.50], rtol=1e-3)
    assert np.isnan(out.volume.values[1, 0])  # a crop is not forest
    assert (out.volume_p05 <= out.volume).sum() == 3
    assert out.agb.attrs["units"] == "Mg ha-1"
    with pytest.raises(ValueError, match="no coefficients"):
        wood_volume_biomass(h, ft, params=AllometryParams(types={31: "larch"}))


def test_demo_volume_biomass_from_the_map(demo):
    _, _, feats, points, _, lc = demo
    h = canopy_height(feats, fit_canopy_height(feats, points, method="qrf"))
    vb = wood_volume_biomass(h, lc, params=DEMO_TYPES).compute()
    forest = np.isin(lc.values, (5, 6))
    assert np.isfinite(vb.agb.values[forest]).mean() > 0.99 and np.isnan(vb.agb.values[~forest]).all()
    assert 50 < float(np.nanmedian(vb.agb.values)) < 400  # Mg/ha, temperate forest range


def test_lazy_on_the_demo(demo_catalog, demo, no_compute):
    _, dem, feats, points, _, lc = demo
    model = fit_canopy_height(feats, points, method="qrf")
    items = [it for it in demo_catalog.search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A", dates="2023")
             if "_T31TGK_" in it["id"]]
    with no_compute():
        cube = terra_lab.load(items, bands=BANDS, resolution=20, chunks={"time": -1, "x": 100, "y": 100})
        f = structure_features(cube, year=2023, covariates={"elevation": dem})
        h = canopy_height(f, model)
        vb = wood_volume_biomass(h, lc, params=DEMO_TYPES)
    assert isinstance(h.height.data, dask.array.Array) and isinstance(vb.agb.data, dask.array.Array)
    assert h.height.data.npartitions == 4  # one task per spatial chunk


def _synthetic_cube(ny=20, nx=24, seed=0, s1=True):
    """A small cube of one year with a known density field driving red/nir and (optionally) vv/vh."""
    rng = np.random.default_rng(seed)
    time = pd.date_range("2021-01-05", "2021-12-31", freq="10D")
    dens = np.linspace(0.2, 1.0, nx)[None, :] * np.ones((ny, 1))
    doy = time.dayofyear.values[:, None, None]
    g = 0.5 + 0.4 * np.sin(np.pi * (doy - 80) / 200).clip(0)
    data = {
        "red": 0.12 - 0.09 * dens * g + rng.normal(0, 0.003, (time.size, ny, nx)),
        "nir": 0.2 + 0.2 * dens * g + rng.normal(0, 0.003, (time.size, ny, nx)),
        "swir16": 0.28 - 0.12 * dens + rng.normal(0, 0.003, (time.size, ny, nx)),
    }
    if s1:
        data["vv"] = -12 + 4 * dens + rng.normal(0, 0.5, (time.size, ny, nx))
        data["vh"] = -20 + 6 * dens + rng.normal(0, 0.5, (time.size, ny, nx))
    ds = xr.Dataset({k: (("time", "y", "x"), v.astype(np.float32)) for k, v in data.items()},
                    coords={"time": time, "y": 6.3e6 - 10 * np.arange(ny) - 5, "x": 5e5 + 10 * np.arange(nx) + 5})
    ds["cloud"] = (("time", "y", "x"), rng.random((time.size, ny, nx)) < 0.2)
    return ds.rio.write_crs(2154).chunk({"time": -1, "y": 10, "x": 12}), 30 * dens


def _points(ds, height, n=120, seed=1):
    rng = np.random.default_rng(seed)
    r, c = rng.integers(0, height.shape[0], n), rng.integers(0, height.shape[1], n)
    return gpd.GeoDataFrame({"rh98": height[r, c] + rng.normal(0, 1, n)},
                            geometry=gpd.points_from_xy(ds.x.values[c], ds.y.values[r]), crs=ds.rio.crs)


def test_sentinel1_variables_are_features_and_help():
    ds, height = _synthetic_cube()
    f = structure_features(ds, percentiles=(50,), seasonal=False)
    names = list(f["feature"].values)
    assert {"vv_p50", "vh_p50", "NDVI_p50", "red_p50"} <= set(names)
    f2 = structure_features(ds, percentiles=(50,), seasonal=True, extra_variables=[])
    assert not any(n.startswith("v") for n in f2["feature"].values) and "red_JJA" in f2["feature"].values
    model = fit_canopy_height(f, _points(ds, height), method="qrf", min_samples=20)
    h = canopy_height(f, model).compute()
    assert float(np.sqrt(np.nanmean((h.height.values - height) ** 2))) < 3.0


def test_zonetest_runs_lazily(zonetest_catalog, no_compute):
    """The real THEIA sample (non-demo catalogue): features, fit on synthetic footprints, lazy map."""
    items = zonetest_catalog.search(collections="ZONETEST", dates="2018")
    cube = terra_lab.load(items, bands=["red", "nir08", "swir16"], resolution=20, chunks={"time": -1, "x": 48, "y": 48})
    cube = cube.isel(x=slice(0, 48), y=slice(0, 48))  # 20 m products only: B8A, no B8
    with no_compute():
        f = structure_features(cube, percentiles=(25, 75), seasonal=False)  # NDVI, NDMI on B8A
    with dask.config.set(scheduler="threads", num_workers=2):
        f = f.compute()
    nir, red = f.sel(feature="nir08_p75").values, f.sel(feature="red_p75").values
    ndvi = (nir - red) / (nir + red)
    assert np.nanmedian(np.abs(f.sel(feature="NDVI_p75").values - ndvi)) < 0.05  # p75 of NDVI ~ NDVI of the p75s
    ok = np.isfinite(f.values).all(axis=0)
    rng = np.random.default_rng(0)
    rows, cols = np.nonzero(ok)
    pick = rng.choice(rows.size, 150, replace=False)
    pts = gpd.GeoDataFrame({"rh98": 35 * np.clip(ndvi[rows[pick], cols[pick]], 0, 1)},
                           geometry=gpd.points_from_xy(f.x.values[cols[pick]], f.y.values[rows[pick]]), crs=cube.rio.crs)
    model = fit_canopy_height(f, pts, method="hgb")
    with no_compute():
        h = canopy_height(f.chunk({"x": 24, "y": 24}), model)
    h = h.compute()
    err = h.height.values - 35 * np.clip(ndvi, 0, 1)
    print(f"\nZoneTest 48 x 48 px: synthetic height RMSE {np.sqrt(np.nanmean(err ** 2)):.2f} m")
    assert np.nanmean(np.abs(err)) < 3.0 and h.rio.crs == cube.rio.crs


def test_clear_errors():
    ds, height = _synthetic_cube(s1=False)
    f = structure_features(ds, percentiles=(50,), seasonal=False)
    pts = _points(ds, height)
    with pytest.raises(SamplingError, match="at least 30"):
        fit_canopy_height(f, pts.iloc[:10])
    with pytest.raises(SamplingError, match="lack the column"):
        fit_canopy_height(f, pts, height="rh95")
    far = pts.copy()
    far.geometry = gpd.points_from_xy(pts.geometry.x + 1e5, pts.geometry.y)
    with pytest.raises(SamplingError, match="none of the 120 sample points falls inside"):
        fit_canopy_height(f, far)
    with pytest.warns(TerraLabWarning, match="10 of 130 sample points fall outside"):
        fit_canopy_height(f, pd.concat([pts, far.iloc[:10]]), method="qrf")
    model = fit_canopy_height(f, pts, method="qrf")
    with pytest.raises(MissingBandError, match="differ from those the model was fitted on"):
        canopy_height(f.isel(feature=slice(1, None)), model)
    with pytest.raises(MissingBandError, match="vv"):
        structure_features(ds, extra_variables=["vv"])
    with pytest.raises(ValueError, match="no acquisition in 2019"):
        structure_features(ds, year=2019)
    with pytest.raises(ValueError, match="split into"):
        structure_features(ds.chunk(time=5))
    with pytest.raises(ValueError, match=r"must include 0\.5"):
        fit_canopy_height(f, pts, quantiles=(0.1, 0.9))
