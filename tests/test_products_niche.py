"""MaxEnt niche model (elapid): a simulated snow-loving species on the demo's covariates."""

import elapid
import geopandas as gpd
import numpy as np
import pytest
import rioxarray
from scipy.stats import spearmanr

import terra_lab
from terra_lab.errors import AOIError, GridMismatchError
from terra_lab.products.indices import spectral_index
from terra_lab.products.niche import (
    annotate,
    fit_niche,
    sample_background,
    stack_covariates,
    suitability,
)


@pytest.fixture(scope="module")
def covariates(demo_catalog, demo_root):
    items = [it for it in demo_catalog.search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A", dates="2023-06-01/2023-08-31")
             if "_T31TGK_" in it["id"]]
    cube = terra_lab.load(items, bands=["red", "nir"], resolution=20, apply_masks=True)
    ndvi = spectral_index(cube, "NDVI").median("time")  # lazy
    dem = terra_lab.load(demo_catalog.search(collections="cop-dem-eea-10-laea-tif"), bands=["elevation"], like=cube, masks=False)
    # truth snow cover duration (band 1 'SCD days') of hydrological year 2023-2024
    scd = rioxarray.open_rasterio(demo_root / "truth" / "snow_annual_2023-2024_R2.tif").sel(band=1, drop=True)
    return {"elevation": dem["elevation"], "snow_days": scd.astype(np.float32), "ndvi_summer": ndvi}


def _sig(v):
    return 1 / (1 + np.exp(-v))


@pytest.fixture(scope="module")
def species(covariates):
    """A mountain-hare-like species: presence probability rises steeply with snow cover duration
    (p = 0.9 sigmoid((SCD - 200 d) / 10 d)), with a weaker liking for vegetated ground."""
    st = stack_covariates(covariates).compute()
    scd, ndvi = st.sel(variable="snow_days").values, st.sel(variable="ndvi_summer").values
    p = 0.9 * _sig((scd - 200) / 10) * (0.6 + 0.4 * _sig((ndvi - 0.2) / 0.05))
    rng = np.random.default_rng(42)
    rr, cc = np.nonzero(rng.random(p.shape) < p)
    k = rng.choice(rr.size, 400, replace=False)
    x, y = st.rio.transform() * (cc[k] + rng.random(k.size), rr[k] + rng.random(k.size))
    occ = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=32631).to_crs(4326)  # any CRS
    return occ, p


@pytest.fixture(scope="module")
def niche(covariates, species):
    return fit_niche(species[0], covariates, n_background=5000, random_state=0)


def test_known_niche_is_recovered(covariates, species, niche, no_compute):
    print(f"\nimportance (%):\n{niche.importance.round(1)}\nAUC train {niche.auc_train:.3f}, test {niche.auc_test:.3f}")
    assert niche.importance.index[0] == "snow_days"
    assert niche.importance.sum() == pytest.approx(100)
    assert niche.importance["snow_days"] > 50
    assert niche.auc_test > 0.8
    with no_compute():
        suit = suitability(niche, covariates)  # lazy (the NDVI covariate is a Dask array)
    assert suit.chunks is not None and suit.dims == ("y", "x") and suit.rio.crs.to_epsg() == 32631
    sv = suit.values
    rho = spearmanr(sv.ravel(), species[1].ravel()).statistic
    print(f"Spearman(suitability, true probability) = {rho:.3f}")
    assert rho > 0.7
    assert np.nanmin(sv) >= 0 and np.nanmax(sv) <= 1
    assert "terra_lab:algorithm" in suit.attrs


def test_map_equals_elapid_predictions(covariates, niche, tmp_path):
    st = stack_covariates(covariates).compute()
    pts = sample_background(st, 25, random_state=7)
    # our annotate == elapid.annotate on GeoTIFFs of the covariates
    paths = []
    for name in niche.covariates:
        p = tmp_path / f"{name}.tif"
        st.sel(variable=name).drop_vars("variable").rio.to_raster(p)
        paths.append(str(p))
    ours = annotate(pts, st)
    theirs = elapid.annotate(pts, paths, labels=niche.covariates, quiet=True)
    np.testing.assert_allclose(ours.to_numpy(), theirs[niche.covariates].to_numpy(), rtol=1e-6)
    # elapid's own predictions at those points == our lazy map there
    suit = suitability(niche, covariates).compute()
    rows, cols = np.floor(~st.rio.transform() * (pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()))[::-1]
    mapped = suit.values[rows.astype(int), cols.astype(int)]
    np.testing.assert_allclose(mapped, niche.model.predict(ours.to_numpy(np.float64)), rtol=1e-5)
    # and elapid's whole-raster application agrees with the map
    out = tmp_path / "suit.tif"
    elapid.apply_model_to_rasters(niche.model, paths, str(out), quiet=True)
    with rioxarray.open_rasterio(out) as ref:
        theirs_map = ref.values[0]
    ok = np.isfinite(suit.values) & (theirs_map != -9999)
    assert ok.mean() > 0.95
    np.testing.assert_allclose(theirs_map[ok], suit.values[ok], rtol=1e-4, atol=1e-6)


def test_grid_mismatch_names_the_covariates(covariates):
    shifted = covariates["snow_days"].assign_coords(x=covariates["snow_days"]["x"] + 10)
    coarse = covariates["elevation"].isel(x=slice(0, None, 2), y=slice(0, None, 2))
    with pytest.raises(GridMismatchError) as err:
        stack_covariates({"ndvi_summer": covariates["ndvi_summer"], "snow_days": shifted, "elevation": coarse})
    msg = str(err.value)
    assert "'snow_days'" in msg and "'elevation'" in msg and "reproject_match" in msg and "'ndvi_summer'" in msg
    assert isinstance(err.value, ValueError)


def test_bad_occurrences(covariates):
    far = gpd.GeoDataFrame(geometry=gpd.points_from_xy(np.zeros(20), np.zeros(20)), crs=32631)
    with pytest.warns(UserWarning, match="dropped"), pytest.raises(AOIError, match="usable occurrences"):
        fit_niche(far, covariates, n_background=200)
    with pytest.raises(AOIError, match="no CRS"):
        annotate(far.set_crs(None, allow_override=True), covariates)
