"""Quantile regression from point samples to maps, shared by forest structure and soil mapping.

A model is fitted eagerly on the covariate values at the sample points only (those values are
computed: for scattered points that reads the chunks holding them); the map is predicted
lazily, one task per spatial chunk of the covariate stack, with every quantile at once.

Two learners, each giving per-pixel prediction intervals:

* ``"qrf"``: a quantile regression forest (Meinshausen 2006) with the ``quantile-forest``
  package (Johnson 2024): one forest, every quantile from its weighted training sample;
* ``"hgb"``: scikit-learn's ``HistGradientBoostingRegressor`` with the pinball (quantile) loss,
  one model per quantile (Friedman 2001).  Quantiles of separate models can cross; each
  pixel's quantiles are sorted (Chernozhukov et al. 2010's rearrangement).

References
----------
.. [1] Meinshausen, N. (2006). Quantile regression forests. JMLR 7, 983-999.
.. [2] Johnson, R. A. (2024). quantile-forest: A Python package for quantile regression forests.
   JOSS 9(93), 5976. https://doi.org/10.21105/joss.05976
.. [3] Friedman, J. H. (2001). Greedy function approximation: a gradient boosting machine.
   Annals of Statistics 29(5), 1189-1232.
.. [4] Chernozhukov, V., Fernandez-Val, I., Galichon, A. (2010). Quantile and probability curves
   without crossing. Econometrica 78(3), 1093-1125.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from threadpoolctl import threadpool_limits

from ..errors import SamplingError, TerraLabWarning
from ._common import rechunk, valid_rows
from .niche import annotate

__all__ = ["METHODS", "QuantileModel", "fit_quantile_model", "predict_quantile_map", "sample_at_points"]

METHODS = ("qrf", "hgb")


def sample_at_points(stack: xr.DataArray, points: Any, columns: Sequence[str], *, product: str,
                     min_samples: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Covariates (rows, feature) and the ``columns`` of ``points`` where both are complete.

    ``stack`` is (feature, y, x).  Points outside the grid are dropped with a warning (an error
    when none is inside), as are points with a missing covariate or value.

    Raises
    ------
    SamplingError
        When ``points`` is not a GeoDataFrame with the columns, or fewer than ``min_samples``
        usable points remain.
    """
    if not hasattr(points, "geometry") or not hasattr(points, "crs"):
        raise SamplingError(f"{product} needs the samples as a geopandas.GeoDataFrame of points, got "
                            f"{type(points).__name__}; read them with geopandas.read_file(path)")
    missing = [c for c in columns if c not in points.columns]
    if missing:
        raise SamplingError(f"{product}: the samples lack the column(s) {missing} (they have "
                            f"{[c for c in points.columns if c != 'geometry']}); rename them or pass the column name")
    if len(points) and not (points.geom_type == "Point").all():
        raise SamplingError(f"{product} needs point samples; take the footprints' centres: points.centroid")
    values = annotate(points, stack.rename(feature="variable"))
    inside = ~values.isna().all(axis=1).to_numpy()
    x0, y1, x1, y0 = stack.rio.bounds() if stack.rio.crs is not None else (np.nan,) * 4
    if not inside.any():
        raise SamplingError(f"{product}: none of the {len(points)} sample points falls inside the cube "
                            f"(bounds {x0:.0f}, {y1:.0f}, {x1:.0f}, {y0:.0f} in {stack.rio.crs}); check the points' "
                            "CRS or load a cube over them")
    if not inside.all():
        warnings.warn(f"{product}: {int((~inside).sum())} of {len(points)} sample points fall outside the cube "
                      "(or on pixels never observed) and are ignored", TerraLabWarning, stacklevel=3)
    target = pd.DataFrame({c: pd.to_numeric(points[c], errors="coerce").to_numpy(np.float64) for c in columns})
    ok = values.notna().all(axis=1).to_numpy() & target.notna().all(axis=1).to_numpy()
    if ok.sum() < min_samples:
        raise SamplingError(f"{product} needs at least {min_samples} samples with every covariate and value, "
                            f"only {int(ok.sum())} of {len(points)} have them; add samples (or lower min_samples=)")
    return values.to_numpy(np.float64)[ok], target[ok].reset_index(drop=True)


@dataclass(frozen=True)
class QuantileModel:
    """A fitted quantile regression of one target on named features.

    ``estimators`` holds one quantile forest (``qrf``) or one model per quantile (``hgb``).
    """

    method: str
    target: str
    features: tuple[str, ...]
    quantiles: tuple[float, ...]
    estimators: tuple[Any, ...]
    n_samples: int
    params: dict = field(default_factory=dict)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """(n, quantile) predictions for (n, feature) rows, sorted along the quantile axis."""
        if self.method == "qrf":
            out = np.asarray(self.estimators[0].predict(rows, quantiles=list(self.quantiles)), np.float64)
            out = out.reshape(rows.shape[0], len(self.quantiles))
        else:
            out = np.stack([e.predict(rows) for e in self.estimators], axis=1)
        return np.sort(out, axis=1)


def fit_quantile_model(x: np.ndarray, y: np.ndarray, *, target: str, features: Sequence[str], method: str = "qrf",
                       quantiles: Sequence[float] = (0.05, 0.5, 0.95), random_state: int = 0,
                       **options: Any) -> QuantileModel:
    """Fit ``method`` (``"qrf"`` or ``"hgb"``) on (n, feature) ``x`` and (n,) ``y``.

    ``options`` go to the estimator (defaults: 300 trees and 5 samples per leaf for the forest;
    200 iterations, learning rate 0.05 and 10 samples per leaf for the boosting).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {list(METHODS)}")
    qs = tuple(float(q) for q in quantiles)
    if not qs or any(not 0 < q < 1 for q in qs):
        raise ValueError(f"quantiles must lie strictly between 0 and 1, got {list(quantiles)}")
    if method == "qrf":
        from quantile_forest import RandomForestQuantileRegressor

        opts = {"n_estimators": 300, "min_samples_leaf": 5, "max_features": 0.5, **options}
        est: tuple[Any, ...] = (RandomForestQuantileRegressor(random_state=random_state, **opts).fit(x, y),)
    else:
        from sklearn.ensemble import HistGradientBoostingRegressor

        opts = {"max_iter": 200, "learning_rate": 0.05, "min_samples_leaf": 10, **options}
        with threadpool_limits(1):  # OpenMP threads on a few hundred rows cost far more than they save
            est = tuple(HistGradientBoostingRegressor(loss="quantile", quantile=q, random_state=random_state, **opts)
                        .fit(x, y) for q in qs)
    return QuantileModel(method=method, target=target, features=tuple(features), quantiles=qs, estimators=est,
                         n_samples=int(len(y)), params={"method": method, "random_state": random_state, **opts})


def _predict_block(x: np.ndarray, predict, nq: int) -> np.ndarray:
    rows, ok, shape = valid_rows(x)
    out = np.full((rows.shape[0], nq), np.nan, np.float32)
    if ok.any():
        with threadpool_limits(1):  # Dask runs one block per thread already
            out[ok] = predict(rows[ok].astype(np.float64))
    return out.reshape(*shape, nq)


def predict_quantile_map(stack: xr.DataArray, predict, quantiles: Sequence[float]) -> xr.DataArray:
    """``predict`` ((n, feature) -> (n, quantile)) over a (feature, y, x) stack: a lazy (quantile, y, x) map.

    One task per spatial chunk (the feature axis is gathered into one chunk); pixels with a
    missing feature are NaN.  A numpy stack gives a numpy result.
    """
    feats = stack.transpose("feature", "y", "x")
    if feats.chunks is not None:
        feats = rechunk(feats, feature=-1)
    out = xr.apply_ufunc(_predict_block, feats, input_core_dims=[["feature"]], output_core_dims=[["quantile"]],
                         kwargs={"predict": predict, "nq": len(quantiles)}, dask="parallelized",
                         output_dtypes=[np.float32], dask_gufunc_kwargs={"output_sizes": {"quantile": len(quantiles)}},
                         keep_attrs=False)
    out = out.assign_coords(quantile=list(quantiles)).transpose("quantile", "y", "x")
    return out.drop_vars([c for c in out.coords if c not in ("x", "y", "spatial_ref", "quantile")])
