"""Species distribution (ecological niche) models, MaxEnt-type, with elapid.

Presence-only occurrences (points) are contrasted with background points drawn at random
over the covariate grid; a MaxEnt model [1]_ (elapid's ``MaxentModel`` [2]_: linear, hinge
and product features, regularised logistic regression) is fitted on the covariate values at
those points, and its cloglog output [3]_ is mapped lazily over the covariate rasters as a
habitat suitability in [0, 1].  The relative importance of each covariate is its permutation
importance (drop in AUC when the covariate is shuffled), normalised to 100 %, as the tables
of relative variable importance of niche studies (e.g. snow cover duration for the mountain
hare) report.  Held-out occurrences and background points give the test AUC.

Covariates are a mapping name -> 2-D DataArray, all on one grid (same CRS, shape and
coordinates), e.g. elevation, THEIA snow cover duration (:func:`terra_lab.products.snow.snow_l3b`)
and a summer NDVI.

References
----------
.. [1] Phillips, S. J., Anderson, R. P., Schapire, R. E. (2006). Maximum entropy modeling of
   species geographic distributions. Ecological Modelling 190, 231-259.
.. [2] Anderson, C. B. (2023). elapid: Species distribution modeling tools for Python. Journal
   of Open Source Software 8(84), 4930. https://doi.org/10.21105/joss.04930
.. [3] Phillips, S. J., Anderson, R. P., Dudík, M., Schapire, R. E., Blair, M. E. (2017).
   Opening the black box: an open-source release of Maxent. Ecography 40, 887-893.
.. [4] Fisher, A., Rudin, C., Dominici, F. (2019). All models are wrong, but many are useful:
   variable importance by permutation. JMLR 20(177), 1-81.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import AOIError, GridMismatchError, SamplingError, TerraLabWarning
from ._common import valid_rows, with_provenance
from ._grid import grid_differences

__all__ = [
    "NicheModel",
    "annotate",
    "fit_niche",
    "sample_background",
    "stack_covariates",
    "suitability",
    "variable_importance",
]

_REF = "Phillips et al. 2006, Ecol. Model. 190:231; elapid (Anderson 2023, JOSS 8:4930)"


def _as_2d(name: str, da: xr.DataArray) -> xr.DataArray:
    if not isinstance(da, xr.DataArray):
        raise TypeError(f"covariate {name!r} is a {type(da).__name__}; pass a 2-D (y, x) DataArray")
    for dim in [d for d in da.dims if d not in ("y", "x")]:
        if da.sizes[dim] != 1:
            raise ValueError(f"covariate {name!r} has dimension {dim!r} of size {da.sizes[dim]}; pick one layer, "
                             f"e.g. covariates[{name!r}] = da.isel({dim}=0) or da.median({dim!r})")
        da = da.isel({dim: 0}, drop=True)
    if "x" not in da.dims or "y" not in da.dims:
        raise ValueError(f"covariate {name!r} has dims {da.dims}; it needs 'y' and 'x'")
    return da.transpose("y", "x")


def stack_covariates(covariates: Mapping[str, xr.DataArray]) -> xr.DataArray:
    """Check that the covariates share one grid and stack them: (variable, y, x) float32.

    Raises
    ------
    GridMismatchError
        Naming every covariate whose CRS, shape or coordinates differ from the first one's,
        with the fix (``.rio.reproject_match``).
    """
    if not covariates:
        raise ValueError("no covariates given; pass e.g. {'elevation': dem, 'snow_days': scd}")
    items = [(str(k), _as_2d(str(k), v)) for k, v in covariates.items()]
    ref_name, ref = items[0]
    bad = []
    for name, da in items[1:]:
        why = grid_differences(ref, da)
        if why:
            bad.append(f"{name!r} ({'; '.join(why)})")
    if bad:
        raise GridMismatchError(
            f"covariates {', '.join(bad)} are not on the grid of {ref_name!r}; put them on it first, e.g. "
            f"covariates[name] = covariates[name].rio.reproject_match(covariates[{ref_name!r}]) "
            "(or load them with terra_lab.load(..., like=cube))"
        )
    layers = [da.drop_vars([c for c in da.coords if c not in ("x", "y", "spatial_ref")]).astype(np.float32)
              .assign_coords(x=ref["x"], y=ref["y"]) for _, da in items]
    out = xr.concat(layers, dim="variable", coords="minimal", compat="override", join="override")
    out = out.assign_coords(variable=[n for n, _ in items]).rename("covariates")
    if ref.rio.crs is not None:
        out = out.rio.write_crs(ref.rio.crs)
    return out


def _pixel_index(stack: xr.DataArray, points):
    """Row and column of the pixel holding each point (-1 outside the grid)."""
    crs = stack.rio.crs
    if points.crs is None:
        raise AOIError(f"the points have no CRS; set it, e.g. points.set_crs({crs.to_epsg() if crs else 4326})")
    if crs is not None and points.crs != crs:
        points = points.to_crs(crs)
    inv = ~stack.rio.transform()
    cols, rows = inv @ (points.geometry.x.to_numpy(), points.geometry.y.to_numpy())
    rows, cols = np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)
    out = (rows < 0) | (cols < 0) | (rows >= stack.sizes["y"]) | (cols >= stack.sizes["x"])
    rows[out], cols[out] = -1, -1
    return rows, cols


def annotate(points, covariates: Mapping[str, xr.DataArray] | xr.DataArray) -> pd.DataFrame:
    """Covariate values at points (the pixel holding each point), like ``elapid.annotate``.

    Points outside the grid get NaN.  Returns a DataFrame indexed like ``points``, one column
    per covariate.
    """
    stack = covariates if isinstance(covariates, xr.DataArray) else stack_covariates(covariates)
    rows, cols = _pixel_index(stack, points)
    inside = rows >= 0
    vals = np.full((len(points), stack.sizes["variable"]), np.nan, np.float32)
    if inside.any():
        vals[inside] = stack.transpose("variable", "y", "x").isel(
            y=xr.DataArray(rows[inside], dims="p"), x=xr.DataArray(cols[inside], dims="p")).values.T
    return pd.DataFrame(vals, columns=[str(v) for v in stack["variable"].values], index=points.index)


def sample_background(covariates: Mapping[str, xr.DataArray] | xr.DataArray, count: int = 10000, *,
                      random_state: int = 0, mask: xr.DataArray | None = None):
    """Random background points at centres of pixels where every covariate is valid.

    Like ``elapid.sample_raster``: pixels are drawn without replacement (all valid pixels if
    fewer than ``count``); ``mask`` (bool, same grid) restricts the draw.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the covariates' CRS.
    """
    import geopandas as gpd

    stack = covariates if isinstance(covariates, xr.DataArray) else stack_covariates(covariates)
    valid = stack.notnull().all("variable").values
    if mask is not None:
        valid &= np.asarray(_as_2d("mask", mask).values, bool)
    idx = np.flatnonzero(valid)
    if idx.size == 0:
        raise AOIError("no pixel has valid values for every covariate (or the mask is empty); check the covariates")
    rng = np.random.default_rng(random_state)
    pick = np.sort(rng.choice(idx, size=min(count, idx.size), replace=False))
    rows, cols = np.unravel_index(pick, valid.shape)
    x, y = stack.rio.transform() @ (cols + 0.5, rows + 0.5)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=stack.rio.crs)


def variable_importance(model, x: np.ndarray | pd.DataFrame, y: np.ndarray, *, names: Sequence[str] | None = None,
                        n_repeats: int = 10, random_state: int = 0) -> pd.Series:
    """Relative permutation importance of each covariate, in % (sums to 100).

    The mean drop in ROC AUC when one covariate's values are shuffled ([4]_, as
    ``elapid.MaxentModel.permutation_importance_scores`` computes it), negative drops set to
    0, normalised to 100 %.
    """
    from sklearn.inspection import permutation_importance

    xv = np.asarray(x, dtype=np.float64)
    names = list(names) if names is not None else (list(x.columns) if isinstance(x, pd.DataFrame)
                                                   else [f"x{i}" for i in range(xv.shape[1])])
    pi = permutation_importance(model, xv, np.asarray(y), scoring="roc_auc", n_repeats=n_repeats,
                                random_state=random_state, n_jobs=1)
    drop = np.clip(pi.importances_mean, 0, None)
    total = drop.sum()
    pct = 100 * drop / total if total > 0 else np.full(drop.size, 100.0 / drop.size)
    return pd.Series(pct, index=pd.Index(names, name="covariate"), name="importance_pct").sort_values(ascending=False)


@dataclass
class NicheModel:
    """A fitted MaxEnt niche model with its evaluation."""

    model: Any  #: the fitted ``elapid.MaxentModel``
    covariates: list[str]
    importance: pd.Series  #: relative permutation importance (%)
    auc_train: float
    auc_test: float
    n_presence: int
    n_background: int
    params: dict = field(default_factory=dict)

    def predict(self, x) -> np.ndarray:
        """Suitability (cloglog) of covariate rows (columns in ``covariates`` order)."""
        return self.model.predict(np.asarray(x, dtype=np.float64))


def fit_niche(occurrences, covariates: Mapping[str, xr.DataArray], *, background=None, n_background: int = 10000,
              test_size: float = 0.25, feature_types: Sequence[str] = ("linear", "hinge", "product"),
              beta_multiplier: float = 1.5, n_repeats: int = 10, random_state: int = 0) -> NicheModel:
    """Fit a MaxEnt model on occurrences against background points; evaluate it on held-out points.

    Training is eager on the sampled points (the covariates are read only there and, for the
    background draw, their validity mask); use :func:`suitability` for the lazy map.

    Parameters
    ----------
    occurrences
        GeoDataFrame of presence points (any CRS; reprojected to the covariates').  Points
        outside the grid or on a pixel with a missing covariate are dropped, with a warning.
    covariates
        Mapping name -> 2-D DataArray, all on one grid (see :func:`stack_covariates`).
    background
        Background points (GeoDataFrame); default :func:`sample_background` with ``n_background``.
    test_size
        Share of the occurrences and of the background held out for the test AUC.
    feature_types, beta_multiplier
        elapid ``MaxentModel`` options (defaults are elapid's).
    n_repeats
        Permutations per covariate for :func:`variable_importance` (on the held-out points).

    Returns
    -------
    NicheModel

    References
    ----------
    .. [1] Phillips et al. (2006), Ecological Modelling 190; elapid (Anderson 2023).
    """
    import elapid
    from sklearn.metrics import roc_auc_score

    if not 0 < test_size < 1:
        raise ValueError(f"test_size={test_size!r} must be between 0 and 1")
    stack = stack_covariates(covariates)
    names = [str(v) for v in stack["variable"].values]
    if occurrences is None or len(occurrences) == 0:
        raise AOIError("no occurrence points given; pass a GeoDataFrame of presence points")
    pres = annotate(occurrences, stack)
    ok = pres.notna().all(axis=1).to_numpy()
    if not ok.all():
        warnings.warn(f"{(~ok).sum()} of {len(ok)} occurrences fall outside the covariate grid or on missing "
                      "values and are dropped", TerraLabWarning, stacklevel=2)
    pres = pres[ok].to_numpy(np.float64)
    if len(pres) < 10:
        raise AOIError(f"only {len(pres)} usable occurrences inside the covariate grid; at least 10 are needed "
                       "(check the points' CRS and the covariates' extent)")
    if background is None:
        background = sample_background(stack, n_background, random_state=random_state)
    bg = annotate(background, stack)
    bg = bg[bg.notna().all(axis=1)].to_numpy(np.float64)
    if len(bg) < 10:
        raise SamplingError(f"only {len(bg)} background points fall on valid covariates; at least 10 are needed "
                            "(raise n_background or check the covariates' missing values)")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size={test_size!r}: give the held-out share, between 0 and 1 (e.g. 0.25)")
    rng = np.random.default_rng(random_state)
    tp, tb = _held_out(len(pres), test_size, rng), _held_out(len(bg), test_size, rng)
    x_train = np.vstack([pres[~tp], bg[~tb]])
    y_train = np.r_[np.ones((~tp).sum()), np.zeros((~tb).sum())]
    x_test = np.vstack([pres[tp], bg[tb]])
    y_test = np.r_[np.ones(tp.sum()), np.zeros(tb.sum())]
    model = elapid.MaxentModel(feature_types=list(feature_types), beta_multiplier=beta_multiplier,
                               transform="cloglog", random_state=random_state, n_cpus=1)
    model.fit(x_train, y_train, labels=names)
    auc_train = float(roc_auc_score(y_train, model.predict(x_train)))
    auc_test = float(roc_auc_score(y_test, model.predict(x_test)))
    importance = variable_importance(model, x_test, y_test, names=names, n_repeats=n_repeats,
                                     random_state=random_state)
    params = dict(feature_types=list(feature_types), beta_multiplier=beta_multiplier, test_size=test_size,
                  n_repeats=n_repeats, random_state=random_state, transform="cloglog")
    return NicheModel(model=model, covariates=names, importance=importance, auc_train=auc_train,
                      auc_test=auc_test, n_presence=len(pres), n_background=len(bg), params=params)


def _held_out(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """Mask of ``round(share n)`` points drawn for testing, at least one kept on each side."""
    k = min(max(1, round(share * n)), n - 1)
    mask = np.zeros(n, bool)
    mask[rng.permutation(n)[:k]] = True
    return mask


def _predict_block(x: np.ndarray, model) -> np.ndarray:
    rows, ok, shape = valid_rows(x)
    out = np.full(rows.shape[0], np.nan, np.float32)
    if ok.any():
        out[ok] = model.predict(rows[ok].astype(np.float64))
    return out.reshape(shape)


def suitability(niche: NicheModel, covariates: Mapping[str, xr.DataArray]) -> xr.DataArray:
    """Habitat suitability map (MaxEnt cloglog, [0, 1]; NaN where a covariate is missing), lazy.

    One task per spatial chunk of the covariates (numpy covariates give a numpy result).
    Covariates must carry the names the model was fitted with.
    """
    missing = [n for n in niche.covariates if n not in covariates]
    if missing:
        raise KeyError(f"covariates {missing} used to fit the model are missing (given {sorted(covariates)}); "
                       "pass the same covariates as to fit_niche")
    stack = stack_covariates({n: covariates[n] for n in niche.covariates})
    if stack.chunks is not None:
        stack = stack.chunk({"variable": -1})
    out = xr.apply_ufunc(_predict_block, stack, input_core_dims=[["variable"]], kwargs={"model": niche.model},
                         dask="parallelized", output_dtypes=[np.float32], keep_attrs=False)
    out = out.rename("suitability")
    out.attrs.update(long_name="habitat suitability (MaxEnt cloglog)", units="1")
    first = covariates[niche.covariates[0]]
    return with_provenance(out, algorithm="MaxEnt (elapid) suitability", source=first, reference=_REF,
                           params={**niche.params, "covariates": niche.covariates,
                                   "importance_pct": niche.importance.round(2).to_dict(),
                                   "auc_test": round(niche.auc_test, 4)})
