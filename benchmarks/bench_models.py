"""Model-based product families against the libraries called directly on the same data.

* landcover: :func:`train_landcover` (sampling of the reference polygons + iota2's random forest)
  and the lazy :func:`classify` map vs scikit-learn's ``RandomForestClassifier`` fitted on the same
  samples and ``predict_proba`` on the whole feature array (``tests/test_products_landcover.py``
  checks our metrics against scikit-learn's).
* niche: :func:`fit_niche` (annotation, held-out AUC, one permutation round) vs
  ``elapid.MaxentModel.fit`` on the same points; :func:`suitability` (lazy map) vs
  ``MaxentModel.predict`` on the stacked covariates (``tests/test_products_niche.py`` checks
  the map equals elapid's predictions).

Synthetic rasters (classes of blocks with noisy spectral features; smooth covariates) with a CRS.
Dask: 2 threads.  Run: ``python benchmarks/bench_models.py [--size 200] [--update-baseline]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

import dask
import elapid
import geopandas as gpd
import numpy as np
import rioxarray  # noqa: F401 - registers .rio
import xarray as xr
from sklearn.ensemble import RandomForestClassifier

sys.path.insert(0, os.path.dirname(__file__))
from _util import check_baseline, measure, row

from terra_lab.products.landcover import classify, reference_polygons, sample_polygons, train_landcover
from terra_lab.products.niche import annotate, fit_niche, sample_background, stack_covariates, suitability

RF = dict(n_estimators=50, max_depth=25, min_samples_split=5, max_features="sqrt", random_state=0)


def _grid(size: int) -> dict:
    return {"y": 5012400.0 - 20.0 * np.arange(size), "x": 757200.0 + 20.0 * np.arange(size)}


def landcover_data(size: int, n_features: int = 24, seed: int = 0):
    rng = np.random.default_rng(seed)
    classes = np.array([1, 2, 3, 4, 5])
    blocks = rng.choice(classes, (size // 20 + 1, size // 20 + 1))
    labels = np.kron(blocks, np.ones((20, 20), int))[:size, :size]
    centres = rng.uniform(0, 1, (classes.size + 1, n_features))
    f = centres[labels].transpose(2, 0, 1) + rng.normal(0, 0.15, (n_features, size, size))
    coords = _grid(size)
    lab = xr.DataArray(labels.astype(np.uint8), dims=("y", "x"), coords=coords).rio.write_crs(32631)
    feats = xr.DataArray(f.astype(np.float32), dims=("feature", "y", "x"),
                         coords={"feature": [f"f{i}" for i in range(n_features)], **coords}).rio.write_crs(32631)
    return feats.chunk(feature=-1, y=100, x=100), reference_polygons(lab, size=5, max_per_class=60)


def sklearn_landcover(x_train, y_train, flat):
    rf = RandomForestClassifier(**RF).fit(x_train, y_train)
    p = rf.predict_proba(flat)
    return rf.classes_[p.argmax(1)], p.max(1)


def niche_data(size: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    coords = _grid(size)
    cov = {"elevation": 500 + 2500 * (xx + yy) / 2, "snow_days": 365 * yy * (0.5 + 0.5 * xx),
           "ndvi": 0.2 + 0.5 * np.sin(6 * xx) ** 2}
    cov = {k: xr.DataArray(v.astype(np.float32), dims=("y", "x"), coords=coords).rio.write_crs(32631).chunk(100)
           for k, v in cov.items()}
    p = 1 / (1 + np.exp(-(cov["snow_days"].values - 200) / 10))
    rr, cc = np.nonzero(rng.random(p.shape) < p)
    k = rng.choice(rr.size, 300, replace=False)
    x, y = coords["x"][cc[k]], coords["y"][rr[k]]  # pixel centres
    occ = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=32631)
    return cov, occ


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=200)
    p.add_argument("--update-baseline", action="store_true")
    args = p.parse_args()
    rows = []
    with dask.config.set(scheduler="threads", num_workers=2), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feats, polys = landcover_data(args.size)
        samples = sample_polygons(feats, polys)
        names = [str(f) for f in feats["feature"].values]
        x_train, y_train = samples[names].to_numpy(np.float32), samples["code"].to_numpy()
        fv = feats.values
        flat = fv.reshape(fv.shape[0], -1).T

        def ours_lc():
            clf = train_landcover(feats, polys, n_estimators=RF["n_estimators"], random_state=0)
            return classify(feats, clf).compute()

        mine, theirs = ours_lc(), sklearn_landcover(x_train, y_train, flat)
        agree = float(np.mean(mine["landcover"].values.ravel() == theirs[0]))
        print(f"landcover: {args.size} x {args.size} px, {len(names)} features, {len(x_train)} training pixels; "
              f"map agreement with scikit-learn: {100 * agree:.2f} %")
        rows.append(row("landcover: train_landcover + classify vs sklearn RandomForest", measure(ours_lc, repeat=2),
                        measure(lambda: sklearn_landcover(x_train, y_train, flat), repeat=2)))

        cov, occ = niche_data(args.size)
        stack = stack_covariates(cov).compute()
        bg = sample_background(stack, 2000, random_state=0)
        xp, xb = annotate(occ, stack).to_numpy(np.float64), annotate(bg, stack).to_numpy(np.float64)
        xy = np.vstack([xp, xb])
        yy = np.r_[np.ones(len(xp)), np.zeros(len(xb))]
        ok = np.isfinite(xy).all(1)
        xy, yy = xy[ok], yy[ok]

        def elapid_fit():
            return elapid.MaxentModel(feature_types=["linear", "hinge", "product"], beta_multiplier=1.5).fit(xy, yy)

        niche = fit_niche(occ, cov, background=bg, n_repeats=1, random_state=0)
        sv = stack.values.reshape(stack.shape[0], -1).T.astype(np.float64)
        np.testing.assert_allclose(suitability(niche, cov).values.ravel(), niche.model.predict(sv), rtol=1e-5)
        print(f"niche: {len(xp)} presences, {len(xb)} background points; suitability == elapid predict (rtol 1e-5)")
        rows.append(row("niche: fit_niche vs elapid MaxentModel.fit",
                        measure(lambda: fit_niche(occ, cov, background=bg, n_repeats=1, random_state=0), repeat=2),
                        measure(elapid_fit, repeat=2)))
        rows.append(row("niche: suitability map vs elapid predict", measure(lambda: suitability(niche, cov).compute()),
                        measure(lambda: niche.model.predict(sv))))
    check_baseline("bench_models", rows, config=f"{args.size} px", update=args.update_baseline)


if __name__ == "__main__":
    main()
