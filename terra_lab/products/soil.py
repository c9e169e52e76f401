"""Digital soil mapping: soil properties with their 5-95 % prediction interval from point samples.

The *scorpan* approach of McBratney et al. [1]_: a soil property at a point is a function of
covariates that stand for the soil-forming factors, here

* **relief** (:func:`soil_covariates`): elevation, slope, northness and eastness (cosine and
  sine of the aspect) from :mod:`terra_lab.products.terrain`, and the topographic position
  index at two scales (elevation minus its mean in a 300 m and a 1 km window: hollows < 0,
  ridges > 0; Weiss 2001);
* **organisms / land use** and parent-material hints: the multi-temporal median of clear
  reflectances and the median NDVI over the cube (a cheap proxy of the bare-soil composite);
* **climate**: temperature and precipitation proxies driven by elevation, ``T = t0 - 6.5 K/km *
  z`` (the standard-atmosphere lapse rate) and ``P = p0 + 0.6 mm/m * z`` (an orographic
  gradient of the order seen in the French Alps), with ``t0 = 12.5 degC`` and ``p0 = 800 mm``.
  Being linear in elevation they add nothing to a tree model beyond elevation itself: they stand
  in for real climate grids, which callers pass with ``extra=`` under the same names.

A quantile regression forest [2]_ (``quantile-forest``) per property maps the median and the
5 % and 95 % quantiles (a 90 % prediction interval whose coverage, the PICP, should be near
0.9 on held-out samples [3]_).

**Texture** (clay, silt, sand in % summing to 100) is compositional: the medians are mapped
through the additive log-ratio transform (Aitchison 1986) [4]_, ``alr_clay = ln(clay / sand)``
and ``alr_silt = ln(silt / sand)`` are regressed and transformed back, so the three median maps
sum to 100 on every pixel.  The 5 % and 95 % bounds come from forests fitted on each fraction
(marginal intervals: bounds of parts of a composition need not sum to 100); where the ALR median
falls outside them, the bound is moved to the median.

References
----------
.. [1] McBratney, A. B., Mendonca Santos, M. L., Minasny, B. (2003). On digital soil mapping.
   Geoderma 117, 3-52.
.. [2] Meinshausen, N. (2006). Quantile regression forests. JMLR 7, 983-999; Johnson, R. A.
   (2024). quantile-forest. JOSS 9(93), 5976.
.. [3] Shrestha, D. L., Solomatine, D. P. (2006). Machine learning approaches for estimation of
   prediction interval for the model output. Neural Networks 19, 225-235 (PICP).
.. [4] Aitchison, J. (1986). The Statistical Analysis of Compositional Data. Chapman and Hall.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..errors import SamplingError
from ._common import with_provenance
from ._grid import check_same_grid, pixel_size
from ._regression import QuantileModel, fit_quantile_model, predict_quantile_map, sample_at_points
from .indices import spectral_index
from .niche import stack_covariates
from .synthesis import median_composite
from .terrain import aspect, slope

__all__ = [
    "LAPSE_RATE",
    "SOIL_PROPERTIES",
    "TEXTURE",
    "SoilModel",
    "fit_soil",
    "picp",
    "soil_covariates",
    "soil_properties",
]

_REF = "McBratney et al. 2003 (scorpan); Meinshausen 2006 (quantile regression forest, quantile-forest); Aitchison 1986"
#: Properties mapped by default, with units.
SOIL_PROPERTIES = {"clay": "%", "silt": "%", "sand": "%", "soc": "%", "ph": "1", "awc": "mm/m"}
#: The texture fractions (the last is the ALR denominator).
TEXTURE = ("clay", "silt", "sand")
#: Temperature lapse rate of the climate proxy (K per m).
LAPSE_RATE = 0.0065
_BANDS = ("blue", "green", "red", "nir", "swir16", "swir22")


def _tpi(z: xr.DataArray, metres: float) -> xr.DataArray:
    px, _ = pixel_size(z, "dem")
    k = max(3, int(round(metres / px)) | 1)
    return z - z.rolling(y=k, x=k, center=True, min_periods=1).mean()


def soil_covariates(dem: xr.DataArray, *, cube: xr.Dataset | None = None, bands: Sequence[str] | None = None,
                    climate: bool = True, t0: float = 12.5, p0: float = 800.0,
                    extra: Mapping[str, xr.DataArray] | None = None) -> xr.DataArray:
    """Relief, spectral and climate-proxy covariates: a lazy (feature, y, x) float32 stack.

    ``dem``: elevation (m) on (y, x) in a projected CRS.  ``cube``: reflectances on the DEM's
    grid (:func:`terra_lab.load` with ``like=`` or the same resolution) whose clear medians
    (``bands``, default those of blue, green, red, nir, swir16, swir22 it has) and median NDVI
    join the covariates.  ``extra``: further (y, x) layers (real climate grids, geology...).
    """
    z = dem.astype(np.float32)
    asp = aspect(z) * (np.pi / 180)
    layers: dict[str, xr.DataArray] = {
        "elevation": z,
        "slope": slope(z, compute_edges=True),
        "northness": xr.ufuncs.cos(asp).fillna(0),
        "eastness": xr.ufuncs.sin(asp).fillna(0),
        "tpi_300m": _tpi(z, 300.0),
        "tpi_1000m": _tpi(z, 1000.0),
    }
    if climate:
        layers["temperature_proxy"] = t0 - LAPSE_RATE * z
        layers["precipitation_proxy"] = p0 + 0.6 * z
    if cube is not None:
        check_same_grid(dem, cube, "dem", "cube")
        use = list(bands) if bands is not None else [b for b in _BANDS if b in cube]
        med = median_composite(cube, bands=use)
        for b in use:
            layers[f"{b}_median"] = med[b]
        if {"red", "nir"} <= set(use):
            layers["ndvi_median"] = spectral_index(med, "NDVI")
    for name, da in (extra or {}).items():
        layers[str(name)] = da
    stack = stack_covariates(layers).rename(variable="feature")
    stack = stack.drop_vars([c for c in stack.coords if c not in ("x", "y", "spatial_ref", "feature")])
    return with_provenance(stack.rename("covariates"), algorithm="soil covariates (scorpan)", source=dem,
                           params={"climate": climate, "t0": t0, "p0": p0, "lapse_rate": LAPSE_RATE,
                                   "bands": list(bands) if bands is not None else None,
                                   "extra": sorted(map(str, extra or {}))})


@dataclass(frozen=True)
class SoilModel:
    """Quantile models per property (``models``) and the texture's ALR models (``alr``)."""

    models: Mapping[str, QuantileModel]
    alr: Mapping[str, QuantileModel]
    features: tuple[str, ...]
    quantiles: tuple[float, ...]
    params: dict = field(default_factory=dict)


def fit_soil(covariates: xr.DataArray, points: Any, *, properties: Sequence[str] | None = None,
             quantiles: Sequence[float] = (0.05, 0.5, 0.95), min_samples: int = 30, random_state: int = 0,
             **options: Any) -> SoilModel:
    """Fit a quantile regression forest per soil property on the covariates at the sample points.

    ``points``: GeoDataFrame of points with one column per property (default: those of
    :data:`SOIL_PROPERTIES` it has; clay, silt and sand must come together).  Eager on the
    points only; map with :func:`soil_properties` (lazy).
    """
    qs = tuple(float(q) for q in quantiles)
    if 0.5 not in qs:
        raise ValueError(f"quantiles must include 0.5 (the mapped median), got {list(quantiles)}")
    cols = getattr(points, "columns", [])
    props = list(properties) if properties is not None else [p for p in SOIL_PROPERTIES if p in cols]
    if not props:
        raise SamplingError(f"the samples hold none of the soil properties {list(SOIL_PROPERTIES)} (columns "
                            f"{[c for c in cols if c != 'geometry']}); pass properties=[...]")
    tex = [p for p in TEXTURE if p in props]
    if tex and len(tex) != 3:
        raise SamplingError(f"texture needs clay, silt and sand together (got {tex}); pass all three or none")
    x, y = sample_at_points(covariates, points, props, product="fit_soil", min_samples=min_samples)
    names = tuple(str(f) for f in covariates["feature"].values)
    kw = dict(features=names, method="qrf", quantiles=qs, random_state=random_state, **options)
    models = {p: fit_quantile_model(x, y[p].to_numpy(), target=p, **kw) for p in props}
    alr = {}
    if tex:
        parts = y[list(TEXTURE)].to_numpy()
        if (parts <= 0).any():
            raise SamplingError("clay, silt and sand must all be > 0 % for the log-ratio transform; replace zeros "
                                "by a small detection limit (e.g. 0.5 %) and renormalise to 100")
        for i, p in enumerate(TEXTURE[:2]):
            alr[p] = fit_quantile_model(x, np.log(parts[:, i] / parts[:, 2]), target=f"alr_{p}", **kw)
    return SoilModel(models=models, alr=alr, features=names, quantiles=qs,
                     params={"n_samples": len(y), "properties": props, **models[props[0]].params})


def _name(prop: str, q: float) -> str:
    return prop if q == 0.5 else f"{prop}_p{round(100 * q):02d}"


def soil_properties(covariates: xr.DataArray, model: SoilModel) -> xr.Dataset:
    """Maps of every fitted property: median (``clay``) and bounds (``clay_p05``, ``clay_p95``), lazy.

    NaN where a covariate is missing.  Texture medians sum to 100 (ALR back-transform).
    """
    given = tuple(str(f) for f in covariates["feature"].values)
    if given != model.features:
        missing = [f for f in model.features if f not in given]
        raise SamplingError(f"the covariates differ from those the model was fitted on (missing {missing}); "
                            "build them with the same soil_covariates(...) options")
    out = xr.Dataset()
    im = model.quantiles.index(0.5)
    for p, m in model.models.items():
        q = predict_quantile_map(covariates, m.predict, m.quantiles)
        for i, qq in enumerate(m.quantiles):
            out[_name(p, qq)] = q.isel(quantile=i, drop=True).assign_attrs(
                long_name=f"{p}, quantile {qq:g}", units=SOIL_PROPERTIES.get(p, ""))
    if model.alr:
        med = {p: np.exp(predict_quantile_map(covariates, m.predict, m.quantiles).isel(quantile=im, drop=True))
               for p, m in model.alr.items()}
        total = 1 + med["clay"] + med["silt"]
        comp = {"clay": 100 * med["clay"] / total, "silt": 100 * med["silt"] / total, "sand": 100 / total}
        for p in TEXTURE:
            out[p] = comp[p].astype(np.float32).assign_attrs(long_name=f"{p} (median, ALR back-transform)",
                                                              units="%")
            lo, hi = _name(p, model.quantiles[0]), _name(p, model.quantiles[-1])
            if lo in out and hi in out and lo != p != hi:
                out[lo], out[hi] = np.minimum(out[lo], out[p]), np.maximum(out[hi], out[p])
    out = with_provenance(out, algorithm="digital soil mapping (quantile regression forest)", source=covariates,
                          reference=_REF, params={**model.params, "quantiles": list(model.quantiles),
                                                  "texture": "additive log-ratio (denominator sand)"})
    return out


def picp(observed: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Prediction interval coverage probability: share of observations within [lower, upper]."""
    obs, lo, hi = (np.asarray(a, np.float64) for a in (observed, lower, upper))
    ok = ~(np.isnan(obs) | np.isnan(lo) | np.isnan(hi))
    if not ok.any():
        raise SamplingError("no observation with a prediction to compute the PICP")
    return float(np.mean((obs[ok] >= lo[ok]) & (obs[ok] <= hi[ok])))

