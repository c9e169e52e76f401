"""Forest structure (FORMS-like): canopy height from Sentinel-2 (and Sentinel-1) features and
reference heights at points, then wood volume and above-ground biomass through allometries.

FORMS [1]_ maps the canopy height of France from Sentinel-1 and Sentinel-2 time series trained
on GEDI lidar footprints (the ``rh95``/``rh98`` relative heights [2]_), then derives wood volume
and biomass with allometric equations fitted to the National Forest Inventory plots.  This
module follows the same chain with tabular learners instead of FORMS' deep network:

1. :func:`structure_features`: per-pixel temporal statistics of clear observations over the
   cube's year (seasonal medians and percentiles of bands and indices; those of ``vv``/``vh``
   backscatter when the cube holds Sentinel-1), plus static covariates (e.g. the DEM), lazy;
2. :func:`fit_canopy_height`: a quantile regression (quantile regression forest or gradient
   boosting with the pinball loss, :mod:`._regression`) fitted eagerly on the features at the
   sample points only;
3. :func:`canopy_height`: the median height and its 5-95 % prediction interval on every pixel,
   lazy (one task per spatial chunk of the features);
4. :func:`wood_volume_biomass`: ``V = a H^b`` per forest type and ``AGB = V WD BEF``
   (:class:`AllometryParams`).  Both are increasing in ``H``, so the interval bounds map
   through them as quantiles do.

References
----------
.. [1] Schwartz, M., Ciais, P., De Truchis, A., Chave, J., Ottle, C., Vega, C., Wigneron, J.-P.,
   Nicolas, M., Jouaber, S., Liu, S., Brandt, M., Fayad, I. (2023). FORMS: Forest Multiple
   Source height, wood volume, and biomass maps in France at 10 to 30 m resolution based on
   Sentinel-1, Sentinel-2, and GEDI data with a deep learning approach. Earth System Science
   Data 15, 4927-4945. https://doi.org/10.5194/essd-15-4927-2023
.. [2] Dubayah, R. et al. (2020). The Global Ecosystem Dynamics Investigation: high-resolution
   laser ranging of the Earth's forests and topography. Science of Remote Sensing 1, 100002.
.. [3] IPCC (2003). Good Practice Guidance for Land Use, Land-Use Change and Forestry, Annex 3A.1:
   Table 3A.1.9 (basic wood densities) and Table 3A.1.10 (biomass expansion factors, temperate).
.. [4] Beck, J., Wirt, B., Armston, J., Hofton, M., Luthcke, S., Tang, H. (2021). GEDI L02 User Guide,
   version 2.0 (LP DAAC), and the GEDI L2A data dictionary (``quality_flag``, ``degrade_flag``,
   ``sensitivity``, ``solar_elevation``).
.. [5] de Conto, T., Armston, J., Dubayah, R. (2024). Characterizing the structural complexity of the
   Earth's forests with spaceborne lidar. Nature Communications 15, 8116, Table 1 (``degrade_flag`` 0,
   ``sensitivity`` > 0.95, 0.98 in the tropics).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..errors import MissingBandError, RasterInputError, TerraLabWarning
from ._common import require, require_single_time_chunk, with_provenance
from ._grid import check_same_grid
from ._regression import QuantileModel, fit_quantile_model, predict_quantile_map, sample_at_points
from .indices import spectral_index
from .niche import stack_covariates
from .synthesis import _clear_bands

__all__ = [
    "S1_VARIABLES",
    "AllometryParams",
    "HeightModel",
    "canopy_height",
    "fit_canopy_height",
    "gedi_quality",
    "structure_features",
    "wood_volume_biomass",
]

_REF = ("Schwartz et al. 2023, FORMS, ESSD 15:4927; quantile regression: Meinshausen 2006 (quantile-forest), "
        "Friedman 2001 (scikit-learn HistGradientBoosting)")
#: Sentinel-1 backscatter variables used when the cube holds them (linear or dB, as loaded).
S1_VARIABLES = ("vv", "vh")
_DEFAULT_BANDS = ("blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir08", "swir16", "swir22")
_SEASONS = ("DJF", "MAM", "JJA", "SON")


def structure_features(cube: xr.Dataset, *, year: int | None = None, bands: Sequence[str] | None = None,
                       indices: Sequence[str] = ("NDVI", "NDMI"), percentiles: Sequence[float] = (10, 50, 90),
                       seasonal: bool = True, extra_variables: Sequence[str] | None = None,
                       covariates: Mapping[str, xr.DataArray] | None = None) -> xr.DataArray:
    """Per-pixel features of one year of a cube: (feature, y, x) float32, lazy.

    Parameters
    ----------
    cube
        From :func:`terra_lab.load`, reflectance 0-1 with NaN for no data; the ``cloud``,
        ``shadow``, ``edge`` and ``saturated`` layers (those present) mask observations.
    year
        Calendar year whose acquisitions are used (default: all of the cube).
    bands
        Reflectance bands (default: the ten Sentinel-2 bands the cube has).
    indices
        spyndex indices computed from the clear bands (NDVI, and NDMI, a water-sensitive one);
        with ``nir08`` (B8A) but no ``nir`` (B8), spyndex's ``N`` is ``nir08``.
    percentiles
        Percentiles (0-100) over the year of every band and index (``red_p10`` ...).
    seasonal
        Also the seasonal medians (``red_JJA`` ...; DJF, MAM, JJA, SON of that year).
    extra_variables
        Further time-varying variables of the cube summarised the same way, e.g. Sentinel-1
        ``vv``, ``vh`` (default: those of :data:`S1_VARIABLES` the cube holds).
    covariates
        Static (y, x) layers on the cube's grid added as features (e.g. ``{"elevation": dem}``).

    Notes
    -----
    The time axis must be one chunk (``cube.chunk(time=-1)``).  A pixel with no clear
    observation in a season gets NaN there and no prediction.
    """
    if not isinstance(cube, xr.Dataset) or "time" not in cube.dims:
        raise RasterInputError("structure_features needs a cube (xarray.Dataset with a time axis) from terra_lab.load")
    if year is not None:
        cube = cube.sel(time=cube["time"].dt.year == int(year))
        if cube.sizes["time"] == 0:
            raise RasterInputError(f"the cube has no acquisition in {year}; choose a year it covers")
    bands = list(bands) if bands is not None else [b for b in _DEFAULT_BANDS if b in cube]
    if not bands:
        raise MissingBandError(f"structure_features needs reflectance bands; the cube has {sorted(map(str, cube.data_vars))}")
    extra = list(extra_variables) if extra_variables is not None else [v for v in S1_VARIABLES if v in cube]
    require(cube, [*bands, *extra], "structure_features")
    clear = _clear_bands(cube, bands)
    require_single_time_chunk(clear[bands[0]], "structure_features")
    # 20 m products (THEIA R2, the ZoneTest sample) have B8A only: spyndex's N is then nir08
    nir = {"N": "nir08"} if "nir" not in clear and "nir08" in clear else {}
    idx = xr.Dataset({i: spectral_index(clear, i, bands=nir) for i in indices})
    variables = xr.merge([clear, idx], compat="override") if indices else clear
    for v in extra:
        variables[v] = cube[v].astype(np.float32)
    layers: dict[str, xr.DataArray] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN
        qs = variables.quantile([p / 100 for p in percentiles], dim="time", skipna=True)
        for name in variables.data_vars:
            for p in percentiles:
                layers[f"{name}_p{p:g}"] = qs[name].sel(quantile=p / 100)
        if seasonal:
            med = variables.groupby("time.season").median("time", skipna=True)
            for s in _SEASONS:
                for name in variables.data_vars:
                    layers[f"{name}_{s}"] = (med[name].sel(season=s) if s in med["season"].values
                                             else xr.full_like(variables[name].isel(time=0), np.nan))
    for name, da in (covariates or {}).items():
        check_same_grid(cube, da, "cube", f"covariates[{name!r}]")
        layers[str(name)] = da
    stack = stack_covariates(layers).rename(variable="feature")
    stack = stack.drop_vars([c for c in stack.coords if c not in ("x", "y", "spatial_ref", "feature")])
    return with_provenance(stack.rename("features"), algorithm="forest structure features", source=cube,
                           params={"year": year, "bands": bands, "indices": list(indices),
                                   "percentiles": list(percentiles), "seasonal": seasonal, "extra": extra,
                                   "covariates": sorted(map(str, covariates or {}))})


#: Minimum beam sensitivity of :func:`gedi_quality`: the GEDI L2A user guide's land threshold [4]_.
GEDI_MIN_SENSITIVITY = 0.9
#: The stricter threshold common over dense forest (de Conto et al. 2024 [5]_; 0.98 in the tropics).
GEDI_FOREST_SENSITIVITY = 0.95
_GEDI_COLUMNS = ("quality_flag", "degrade_flag", "sensitivity")


def gedi_quality(shots: Any, *, min_sensitivity: float = GEDI_MIN_SENSITIVITY, night_only: bool = False) -> Any:
    """The GEDI L2A shots fit to train a canopy-height model, as the GEDI L2A user guide selects them.

    Keeps the shots with ``quality_flag == 1`` (the L2A flag "simplifying selection of most useful
    data": waveform energy and amplitude, surface tracking), ``degrade_flag == 0`` (no degraded
    pointing or positioning: a non-zero tens digit flags the attitude, a non-zero ones digit the
    trajectory) and ``sensitivity >= min_sensitivity`` (the largest canopy cover the beam can see
    the ground through) [4]_.  ``min_sensitivity`` defaults to the guide's land threshold 0.9
    (:data:`GEDI_MIN_SENSITIVITY`); 0.95 over dense forest (:data:`GEDI_FOREST_SENSITIVITY`, de
    Conto et al. 2024 [5]_) removes more shots whose waveform missed the ground under the canopy.
    ``night_only`` also drops daytime shots (``solar_elevation >= 0``), whose solar background noise
    makes the canopy top less certain.

    Parameters
    ----------
    shots
        GeoDataFrame of GEDI L2A shots, e.g. ``terra_lab.load_features(cat.search(...))``.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows kept (a copy, the original index).

    Raises
    ------
    SamplingError
        ``shots`` lacks a GEDI L2A column the filter needs.

    Examples
    --------
    >>> kept = gedi_quality(terra_lab.load_features(cat.search(collections="terra-lab-demo-gedi-l2a")))  # doctest: +SKIP
    """
    from ..errors import SamplingError

    needed = [*_GEDI_COLUMNS, *(["solar_elevation"] if night_only else [])]
    cols = list(getattr(shots, "columns", []))
    missing = [c for c in needed if c not in cols]
    if missing:
        raise SamplingError(f"gedi_quality needs the GEDI L2A columns {needed}; the shots lack {missing} (they have "
                            f"{[c for c in cols if c != 'geometry'][:20]}); load the L2A shots with their quality "
                            "fields, or filter other lidar footprints yourself")
    if not 0.0 <= float(min_sensitivity) <= 1.0:
        raise ValueError(f"min_sensitivity={min_sensitivity!r} is not a fraction; use 0.9 (land) or 0.95 (forest)")
    keep = ((shots["quality_flag"] == 1) & (shots["degrade_flag"] == 0)
            & (shots["sensitivity"] >= float(min_sensitivity))).to_numpy()
    if night_only:
        keep &= (shots["solar_elevation"] < 0).to_numpy()
    return shots[keep].copy()


@dataclass(frozen=True)
class HeightModel:
    """A canopy-height model fitted by :func:`fit_canopy_height`."""

    model: QuantileModel
    height_column: str
    params: dict = field(default_factory=dict)

    @property
    def features(self) -> tuple[str, ...]:
        return self.model.features


def fit_canopy_height(features: xr.DataArray, points: Any, *, height: str = "rh98", method: str = "hgb",
                      quantiles: Sequence[float] = (0.05, 0.5, 0.95), min_samples: int = 30, random_state: int = 0,
                      **options: Any) -> HeightModel:
    """Fit a quantile regression of the reference heights at ``points`` on the ``features``.

    Parameters
    ----------
    features
        From :func:`structure_features`.
    points
        GeoDataFrame of points (GEDI-like footprints) with a ``height`` column in metres.  GEDI
        L2A shots should be selected with :func:`gedi_quality` first (a warning says so when
        shots of ``quality_flag`` 0 are given).
    method
        ``"hgb"`` (gradient boosting, pinball loss, one model per quantile) or ``"qrf"``
        (quantile regression forest).
    quantiles
        Must include 0.5 (the mapped height); the others bound the prediction interval.

    Eager: the feature values at the points are computed (only the chunks holding points are
    read) and the model fitted now; the map itself is predicted lazily by :func:`canopy_height`.
    """
    if 0.5 not in [float(q) for q in quantiles]:
        raise ValueError(f"quantiles must include 0.5 (the mapped height), got {list(quantiles)}")
    if "quality_flag" in getattr(points, "columns", []) and (points["quality_flag"] != 1).any():
        warnings.warn(f"{int((points['quality_flag'] != 1).sum())} of the {len(points)} footprints have quality_flag "
                      "!= 1 (GEDI shots through clouds, or weak waveforms) and will train the model; select the good "
                      "ones first with gedi_quality(points)", TerraLabWarning, stacklevel=2)
    x, y = sample_at_points(features, points, [height], product="fit_canopy_height", min_samples=min_samples)
    names = [str(f) for f in features["feature"].values]
    model = fit_quantile_model(x, y[height].to_numpy(), target="canopy_height", features=names, method=method,
                               quantiles=quantiles, random_state=random_state, **options)
    return HeightModel(model=model, height_column=height, params={**model.params, "n_samples": model.n_samples})


def _check_features(features: xr.DataArray, names: Sequence[str], fix: str) -> None:
    given = [str(f) for f in features["feature"].values]
    if given != list(names):
        missing = [f for f in names if f not in given]
        raise MissingBandError(f"the features differ from those the model was fitted on (missing {missing[:6]}; "
                               f"{len(given)} given, {len(names)} expected); {fix}")


def canopy_height(features: xr.DataArray, model: HeightModel) -> xr.Dataset:
    """Canopy height (m) per pixel: ``height`` (median) and ``height_p05`` / ``height_p95`` (lazy).

    The bound names follow the model's quantiles (``height_p05`` for 0.05 ...).  Negative
    predictions are set to 0.  NaN where a feature is missing.
    """
    _check_features(features, model.features, "compute them with the same structure_features(...) options")
    qs = model.model.quantiles
    q = predict_quantile_map(features, model.model.predict, qs).clip(min=0)
    out = xr.Dataset()
    for i, qq in enumerate(qs):
        name = "height" if qq == 0.5 else f"height_p{round(100 * qq):02d}"
        out[name] = q.isel(quantile=i, drop=True)
        out[name].attrs.update(long_name=f"canopy height, quantile {qq:g}", units="m")
    return with_provenance(out, algorithm=f"canopy height ({model.model.method} quantile regression)",
                           source=features, reference=_REF,
                           params={**model.params, "quantiles": list(qs), "height_column": model.height_column})


@dataclass(frozen=True)
class AllometryParams:
    """Height -> wood volume -> above-ground biomass, per forest type.

    ``volume = a * H ** b`` (m3/ha, H in m) is the form of the stand-level height-volume
    relations FORMS fits to French NFI plots [1]_; the default ``a``, ``b`` are illustrative
    values of that form (a 30 m conifer stand holds ~580 m3/ha, a 28 m broadleaf one ~400):
    refit them on inventory plots of the region.  ``AGB = volume * wood_density * bef`` (Mg/ha):
    basic wood densities (t/m3, IPCC 2003 Table 3A.1.9: Fagus sylvatica / Quercus 0.58, Picea
    abies / Abies alba 0.40) and biomass expansion factors for temperate forests (IPCC 2003
    Table 3A.1.10: broadleaf 1.4, spruce-fir 1.3) [3]_.  ``types`` maps land-cover codes to
    types (default: OSO's 31 broadleaf, 32 conifer; the demo uses 5 and 6).
    """

    a: Mapping[str, float] = field(default_factory=lambda: {"broadleaf": 0.7, "conifer": 0.9})
    b: Mapping[str, float] = field(default_factory=lambda: {"broadleaf": 1.9, "conifer": 1.9})
    wood_density: Mapping[str, float] = field(default_factory=lambda: {"broadleaf": 0.58, "conifer": 0.40})
    bef: Mapping[str, float] = field(default_factory=lambda: {"broadleaf": 1.4, "conifer": 1.3})
    types: Mapping[int, str] = field(default_factory=lambda: {31: "broadleaf", 32: "conifer"})


def wood_volume_biomass(height: xr.Dataset | xr.DataArray, forest_type: xr.DataArray, *,
                        params: AllometryParams | None = None) -> xr.Dataset:
    """Wood volume (m3/ha) and above-ground biomass (Mg/ha) from canopy height, per forest type.

    ``height``: :func:`canopy_height`'s Dataset (every height variable is converted: ``volume``,
    ``volume_p05`` ...) or one height DataArray.  ``forest_type``: land-cover codes on the same
    grid; codes not in ``params.types`` get NaN (not forest).  Lazy.
    """
    params = params or AllometryParams()
    ds = height if isinstance(height, xr.Dataset) else height.to_dataset(name="height")
    check_same_grid(ds, forest_type, "height", "forest_type")
    tables = (params.a, params.b, params.wood_density, params.bef)
    unknown = sorted(t for t in set(params.types.values()) if any(t not in tab for tab in tables))
    if unknown:
        raise ValueError(f"AllometryParams has no coefficients for forest types {unknown}; add them to a, b, "
                         "wood_density and bef")
    ft = forest_type.drop_vars([c for c in forest_type.coords if c not in ("x", "y", "spatial_ref")])
    coef = {k: xr.full_like(ft, np.nan, dtype=np.float32) for k in ("a", "b", "wd", "bef")}
    for code, kind in params.types.items():
        sel = ft == code
        for key, table in (("a", params.a), ("b", params.b), ("wd", params.wood_density), ("bef", params.bef)):
            coef[key] = xr.where(sel, np.float32(table[kind]), coef[key])
    out = xr.Dataset()
    for name, h in ds.data_vars.items():
        if not str(name).startswith("height"):
            continue
        suffix = str(name)[len("height"):]
        vol = (coef["a"] * h.clip(min=0) ** coef["b"]).astype(np.float32)
        out[f"volume{suffix}"] = vol.assign_attrs(long_name="wood volume (V = a H^b)", units="m3 ha-1")
        out[f"agb{suffix}"] = (vol * coef["wd"] * coef["bef"]).astype(np.float32).assign_attrs(
            long_name="above-ground biomass (V WD BEF)", units="Mg ha-1")
    if not out.data_vars:
        raise RasterInputError(f"no height variable in {list(ds.data_vars)}; pass canopy_height(...)'s result")
    return with_provenance(out, algorithm="height-volume-biomass allometry", source=ds, reference=_REF,
                           params={k: dict(v) for k, v in asdict(params).items()})
