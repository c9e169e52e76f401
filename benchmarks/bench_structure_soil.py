"""Forest structure and soil mapping against the learners called directly on the same data.

* structure: the lazy :func:`canopy_height` map (one task per spatial chunk, every quantile at once)
  vs ``RandomForestQuantileRegressor.predict`` / ``HistGradientBoostingRegressor.predict`` (one per
  quantile) on the whole flat feature array with the same fitted models; the maps must agree.
* soil: :func:`fit_soil` (sampling at the points, one forest per property and the texture's two
  log-ratio forests) + :func:`soil_properties` vs ``quantile_forest`` fitted and predicted per property
  on the same arrays (no log-ratio models: the comparison does less).

Synthetic (feature, y, x) rasters with a CRS whose heights / soil values are known functions plus
noise; the RMSE against them and the PICP of the 90 % interval on held-out points are printed.
Dask: 2 threads.  Run: ``python benchmarks/bench_structure_soil.py [--size 200] [--update-baseline]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

import dask
import geopandas as gpd
import numpy as np
import rioxarray  # noqa: F401 - registers .rio
import xarray as xr
from quantile_forest import RandomForestQuantileRegressor

sys.path.insert(0, os.path.dirname(__file__))
from _util import check_baseline, measure, row

from terra_lab.products.niche import annotate
from terra_lab.products.soil import fit_soil, picp, soil_properties
from terra_lab.products.structure import canopy_height, fit_canopy_height

QS = [0.05, 0.5, 0.95]
TREES = 100


def data(size: int, n_features: int = 12, n_points: int = 400, seed: int = 0):
    """Features, a height-like and two soil-like targets (known functions + noise), and sample points."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = [np.sin(3 * xx + k) * np.cos(2 * yy - k) for k in range(n_features)]
    f = np.stack(base) + rng.normal(0, 0.05, (n_features, size, size))
    height = np.clip(20 + 10 * base[0] + 5 * base[1] * base[2], 0, None)
    clay = 100 / (1 + np.exp(-(base[3] + 0.5 * base[4])))  # 0-100 %
    silt = (100 - clay) * 0.6
    sand = 100 - clay - silt
    coords = {"y": 5012400.0 - 20.0 * np.arange(size), "x": 757200.0 + 20.0 * np.arange(size)}
    feats = xr.DataArray(f.astype(np.float32), dims=("feature", "y", "x"),
                         coords={"feature": [f"f{i}" for i in range(n_features)], **coords}).rio.write_crs(32631)
    r, c = rng.integers(0, size, n_points), rng.integers(0, size, n_points)
    pts = gpd.GeoDataFrame({"rh98": height[r, c] + rng.normal(0, 1.5, n_points),
                            "clay": clay[r, c], "silt": silt[r, c], "sand": sand[r, c],
                            "ph": 6 + base[5][r, c] + rng.normal(0, 0.2, n_points)},
                           geometry=gpd.points_from_xy(coords["x"][c], coords["y"][r]), crs=32631)
    return feats.chunk(feature=-1, y=100, x=100), pts, {"height": height, "ph": 6 + base[5]}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=200)
    p.add_argument("--update-baseline", action="store_true")
    args = p.parse_args()
    rows = []
    with dask.config.set(scheduler="threads", num_workers=2), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feats, pts, truth = data(args.size)
        train, test = pts.iloc[: len(pts) * 3 // 4], pts.iloc[len(pts) * 3 // 4:]
        fv = feats.values
        flat = fv.reshape(fv.shape[0], -1).T.astype(np.float64)
        for method in ("qrf", "hgb"):
            opts = {"n_estimators": TREES} if method == "qrf" else {}
            model = fit_canopy_height(feats, train, method=method, **opts)
            est = model.model.estimators

            def direct(est=est, method=method):
                if method == "qrf":
                    return est[0].predict(flat, quantiles=QS)
                return np.stack([e.predict(flat) for e in est], 1)

            mine = canopy_height(feats, model).compute()
            theirs = np.sort(direct(), axis=1)
            np.testing.assert_allclose(mine.height.values.ravel(), np.clip(theirs[:, 1], 0, None), rtol=1e-4, atol=1e-3)
            at = annotate(test, mine)
            err = mine.height.values - truth["height"]
            print(f"structure {method}: {args.size} x {args.size} px, {fv.shape[0]} features, {len(train)} points; "
                  f"RMSE {np.sqrt(np.mean(err ** 2)):.2f} m, bias {err.mean():+.2f} m, "
                  f"PICP {picp(test['rh98'], at['height_p05'], at['height_p95']):.2f} on {len(test)} held-out points; "
                  "map == direct predict")
            rows.append(row(f"structure {method}: canopy_height map vs direct predict on the flat array",
                            measure(lambda model=model: canopy_height(feats, model).compute(), repeat=2),
                            measure(direct, repeat=2)))

        def ours_soil():
            m = fit_soil(feats, train, properties=["clay", "silt", "sand", "ph"], n_estimators=TREES)
            return soil_properties(feats, m).compute()

        x_train = annotate(train, feats.rename(feature="variable")).to_numpy(np.float64)

        def direct_soil():
            return [RandomForestQuantileRegressor(n_estimators=TREES, min_samples_leaf=5, max_features=0.5,
                                                  random_state=0).fit(x_train, train[p].to_numpy()).predict(flat, QS)
                    for p in ("clay", "silt", "sand", "ph")]

        soil = ours_soil()
        at = annotate(test, soil)
        err = soil.ph.values - truth["ph"]
        total = (soil.clay + soil.silt + soil.sand).values
        print(f"soil: pH RMSE {np.sqrt(np.mean(err ** 2)):.3f}, PICP {picp(test['ph'], at['ph_p05'], at['ph_p95']):.2f}; "
              f"clay+silt+sand medians 100 +- {np.abs(total - 100).max():.1e}")
        rows.append(row("soil: fit_soil + soil_properties (4 properties, ALR) vs quantile-forest per property",
                        measure(ours_soil, repeat=2), measure(direct_soil, repeat=2)))
    check_baseline("bench_structure_soil", rows, config=f"{args.size} px", update=args.update_baseline)


if __name__ == "__main__":
    main()
