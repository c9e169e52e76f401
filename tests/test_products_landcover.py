"""iota2-like land cover: gap filling worked by hand, metrics against scikit-learn, the demo truth."""

import numpy as np
import pandas as pd
import pytest
import rioxarray
import shapely
import xarray as xr
from sklearn.metrics import cohen_kappa_score, confusion_matrix, f1_score

import terra_lab
from terra_lab.demo import DEMO_TO_OSO, LANDCOVER_CLASSES
from terra_lab.errors import AOIError, MissingBandError, SamplingError
from terra_lab.kernels._gapfill import gapfill_linear
from terra_lab.products.landcover import (
    OSO_NOMENCLATURE,
    OSO_NOMENCLATURE_2016,
    accuracy_report,
    classify,
    gapfilled_features,
    reference_polygons,
    sample_polygons,
    split_polygons,
    train_landcover,
    validate,
)

BANDS = ["blue", "green", "red", "rededge1", "nir", "swir16", "swir22"]


# --------------------------------------------------------------------------- gap filling by hand
def test_gapfill_linear_worked_by_hand():
    days = np.array([0.0, 10.0, 20.0, 40.0])
    vals = np.array([np.nan, 0.2, np.nan, 0.6], np.float32)
    grid = np.array([0.0, 10.0, 15.0, 30.0, 50.0])
    # held 0.2 before the first valid date; day 15: 5/30 of the way 0.2 -> 0.6; day 30: 20/30 of it
    np.testing.assert_allclose(gapfill_linear(vals, days, grid), [0.2, 0.2, 0.2 + 0.4 / 6, 0.2 + 0.8 / 3, 0.6], rtol=1e-6)
    assert np.isnan(gapfill_linear(np.full(4, np.nan, np.float32), days, grid)).all()
    # matches numpy's interp (same end rule) on random series
    rng = np.random.default_rng(1)
    for _ in range(20):
        v = rng.random(12).astype(np.float32)
        v[rng.random(12) < 0.4] = np.nan
        if np.isnan(v).all():
            continue
        d = np.sort(rng.choice(365, 12, replace=False)).astype(float)
        g = np.arange(0.0, 365.0, 10.0)
        ok = ~np.isnan(v)
        np.testing.assert_allclose(gapfill_linear(v, d, g), np.interp(g, d[ok], v[ok]), rtol=1e-5)


def _tiny_cube():
    t = pd.date_range("2023-01-01", periods=4, freq="20D")
    y, x = np.array([15.0, 5.0]), np.array([5.0, 15.0, 25.0])
    red = np.full((4, 2, 3), 0.1, np.float32)
    nir = np.full((4, 2, 3), 0.5, np.float32)
    nir[2] = 0.3
    cloud = np.zeros((4, 2, 3), bool)
    cloud[1, 0, 0] = True
    red[1, 0, 0] = 0.9  # cloudy: must be ignored
    nir[:, 1, 2] = np.nan  # never observed
    dims = ("time", "y", "x")
    ds = xr.Dataset({"red": (dims, red), "nir": (dims, nir), "swir16": (dims, np.full_like(red, 0.2)),
                     "cloud": (dims, cloud)}, coords={"time": t, "y": y, "x": x})
    return ds.rio.write_crs(32631)


def test_features_on_a_tiny_cube():
    cube = _tiny_cube()
    f = gapfilled_features(cube.chunk(time=1), bands=["red", "nir", "swir16"], step_days=20)
    assert f.dims == ("feature", "y", "x") and f.chunks is not None
    v = f.compute()
    assert list(v["feature"].values[:4]) == ["red@20230101", "red@20230121", "red@20230210", "red@20230302"]
    assert float(v.sel(feature="red@20230121")[0, 0]) == pytest.approx(0.1)  # cloudy 0.9 interpolated away
    ndvi = v.sel(feature="NDVI@20230210")[0, 1]
    assert float(ndvi) == pytest.approx((0.3 - 0.1) / 0.4)
    ndwi = v.sel(feature="NDWI@20230101")[0, 1]
    assert float(ndwi) == pytest.approx((0.5 - 0.2) / 0.7)
    assert float(v.sel(feature="brightness@20230101")[0, 1]) == pytest.approx(np.sqrt(0.01 + 0.25 + 0.04), rel=1e-6)
    nir_based = v["band"].isin(["nir", "NDVI", "NDWI", "brightness"])
    assert np.isnan(v[nir_based, 1, 2]).all() and not np.isnan(v[~nir_based, 1, 2]).any()  # nir never observed
    assert not np.isnan(v[:, :1]).any()
    assert v.rio.crs.to_epsg() == 32631 and "terra_lab:algorithm" in v.attrs
    assert "cloud" in cube and float(cube["red"][1, 0, 0]) == pytest.approx(0.9)  # input untouched
    with pytest.raises(MissingBandError, match="swir16"):
        gapfilled_features(cube, bands=["red", "nir"])


# --------------------------------------------------------------------------- metrics vs sklearn
def test_accuracy_report_matches_sklearn():
    rng = np.random.default_rng(3)
    ref = rng.choice([1, 6, 10, 17, 23], 2000)
    pred = np.where(rng.random(2000) < 0.8, ref, rng.choice([1, 6, 10, 17, 23], 2000))
    rep = accuracy_report(ref, pred)
    labels = [1, 6, 10, 17, 23]
    np.testing.assert_array_equal(rep.confusion.to_numpy(), confusion_matrix(ref, pred, labels=labels))
    assert rep.kappa == pytest.approx(cohen_kappa_score(ref, pred))
    assert rep.overall_accuracy == pytest.approx(np.mean(ref == pred))
    np.testing.assert_allclose(rep.f1.to_numpy(), f1_score(ref, pred, labels=labels, average=None))
    # hand-checked 2-class case: cm [[2,1],[0,1]], po 3/4, pe (2*3 + 2*1)/16 = 1/2, kappa 1/2
    r = accuracy_report([1, 1, 1, 2], [1, 1, 2, 2])
    assert r.kappa == pytest.approx(0.5) and r.overall_accuracy == 0.75
    assert accuracy_report([1, 0, 2], [1, 2, 0]).n == 1  # nodata (0) on either side is left out


def test_nomenclature_tables():
    assert sorted(OSO_NOMENCLATURE) == list(range(1, 24)) and len(OSO_NOMENCLATURE_2016) == 17
    assert all(c.startswith("#") and len(c) == 7 for _, _, c in OSO_NOMENCLATURE.values())
    assert set(DEMO_TO_OSO) == set(LANDCOVER_CLASSES) and set(DEMO_TO_OSO.values()) <= set(OSO_NOMENCLATURE)
    assert OSO_NOMENCLATURE[DEMO_TO_OSO[6]][1] == "Coniferous forest"
    assert OSO_NOMENCLATURE[DEMO_TO_OSO[8]][1] == "Water"


# --------------------------------------------------------------------------- the demo
@pytest.fixture(scope="module")
def demo_setup(demo_catalog, demo_root):
    items = [it for it in demo_catalog.search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A", dates="2023-01-01/2023-12-31")
             if "_T31TGK_" in it["id"]]
    cube = terra_lab.load(items, bands=BANDS, resolution=20)
    feats = gapfilled_features(cube)
    truth = rioxarray.open_rasterio(demo_root / "truth" / "landcover_R2.tif").squeeze(drop=True)
    polys = reference_polygons(truth, size=5, mapping=DEMO_TO_OSO)
    train, valid = split_polygons(polys, ratio=0.5, random_state=0)
    return cube, feats.persist(), truth, polys, train, valid


def test_reference_polygons_and_grouped_split(demo_setup):
    _, _, truth, polys, train, valid = demo_setup
    assert set(polys["code"]) == set(DEMO_TO_OSO.values())
    assert polys.crs.to_epsg() == 32631
    np.testing.assert_allclose(polys.area, (5 * 20.0) ** 2)
    # squares are pure: the truth at their centres is their class
    cx, cy = polys.centroid.x.to_numpy(), polys.centroid.y.to_numpy()
    lab = truth.sel(x=xr.DataArray(cx, dims="p"), y=xr.DataArray(cy, dims="p"), method="nearest").values
    np.testing.assert_array_equal(np.vectorize(DEMO_TO_OSO.get)(lab), polys["code"].to_numpy())
    assert not set(train["polygon"]) & set(valid["polygon"])
    assert set(train["code"]) == set(valid["code"]) == set(polys["code"])


def test_demo_classification_scores(demo_setup, no_compute):
    cube, feats, truth, _, train, valid = demo_setup
    clf = train_landcover(feats, train, max_samples_per_class=400, n_jobs=2)
    with no_compute():
        lc = classify(feats, clf)  # lazy
    assert lc["landcover"].dims == ("y", "x") and lc["landcover"].chunks is not None
    assert lc.rio.crs.to_epsg() == 32631
    np.testing.assert_array_equal(lc["x"], cube["x"])
    lc = lc.compute()
    rep = validate(lc, valid)
    # full map against the truth, leaving out the pixels of training polygons
    ref = np.vectorize(lambda c: DEMO_TO_OSO.get(int(c), 0))(truth.values)
    sampled = sample_polygons(feats, train)
    ref[sampled["row"], sampled["col"]] = 0
    full = accuracy_report(ref, lc["landcover"].values)
    print(f"\nvalidation polygons: {rep}\nfull map outside training polygons: {full}\n{full.confusion}")
    assert rep.overall_accuracy > 0.97 and rep.kappa > 0.95
    assert full.overall_accuracy > 0.97 and full.kappa > 0.95
    assert full.f1.min() > 0.85
    conf = lc["confidence"].values
    assert np.nanmin(conf) >= 0 and np.nanmax(conf) <= 1
    # misclassified pixels have lower confidence than correct ones (OSO's use of the layer)
    wrong = (ref != 0) & (ref != lc["landcover"].values)
    assert np.mean(conf[wrong]) < np.mean(conf[(ref != 0) & ~wrong])


def test_bad_reference_data(demo_setup):
    _, feats, _, polys, _, _ = demo_setup
    import geopandas as gpd

    far = gpd.GeoDataFrame({"code": [1, 2]}, geometry=[shapely.box(0, 0, 100, 100), shapely.box(200, 0, 300, 100)],
                           crs=32631)
    with pytest.raises(AOIError, match="overlaps the cube"):
        sample_polygons(feats, far)
    # one class only outside the cube: it gets no sample
    mixed = pd.concat([polys[polys["code"] == 23].head(3), far.assign(polygon=-1).iloc[:1].assign(code=99)])
    with pytest.raises(SamplingError, match=r"\[99\]"):
        train_landcover(feats, gpd.GeoDataFrame(mixed, crs=32631))
    with pytest.raises(AOIError, match="no CRS"):
        sample_polygons(feats, polys.set_crs(None, allow_override=True))
    with pytest.raises(KeyError, match="label="):
        sample_polygons(feats, polys, label="class")
