"""Frozen parameter objects of the published algorithms, whose defaults are the published values.

One object per algorithm: the product functions take it (``snow_l2b(cube, dem, LisParams())``),
workflows and dashboards read their defaults and presets from it, and results record it in
their provenance.  Keyword overrides (``snow_l2b(cube, dem, red_pass1=0.15)``) are applied
with :func:`with_overrides`, so an unknown name fails with the list of known ones.

Pure Python: importing this module loads no array library (dashboards read defaults from it).

References
----------
.. [1] let-it-snow (CNES/CESBIO), ``s2snow/snow_detector.py`` and the Sentinel-2 JSON
   configuration of its README (``ndsi_pass1`` 0.4, ``red_pass1`` 200, ``ndsi_pass2`` 0.15,
   ``red_pass2`` 40, ``dz`` 100, ``fsnow_lim`` 0.1, ``fclear_lim`` 0.1, ``fsnow_total_lim``
   0.001, ``rf`` 12, ``red_darkcloud`` 300, ``red_backtocloud`` 100; reflectance x 1000 there).
.. [2] fordead (INRAE/UMR TETIS), ``fordead.steps`` defaults and tutorial
   (https://fordead.gitlab.io/fordead_package): ``threshold_anomaly`` 0.16, ``nb_min_date`` 10,
   ``min_last_date_training`` 2018-01-01, ``max_last_date_training`` 2018-06-01,
   ``vi`` CRSWIR, ``formula_mask`` B2 > 600, ``max_nb_stress_periods`` 5,
   ``stress_index_mode`` weighted_mean, ``conf_threshold_list`` [0.265],
   ``conf_classes_list`` ["Low anomaly", "Severe anomaly"], and its date filter
   ``get_date_cloudiness_perc`` <= 40 %.
.. [3] biodivMapR (Féret & de Boissieu 2020), ``perform_radiometric_filtering`` and
   ``map_spectral_species`` defaults: ``nb_clusters`` 50, ``nb_partitions`` 20, ``nb_pix_pca``
   1e6, ``nb_samples_alpha`` 1e5, NDVI 0.65, NIR 1500, blue 500 (reflectance x 10000),
   R ``kmeans(nstart = 10, iter.max = 50)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["DIVERSITY_BANDS", "FORDEAD_MAX_CLOUDINESS", "BiodivMapRParams", "FordeadParams", "LisParams",
           "with_overrides"]

P = TypeVar("P")


def with_overrides(params: P | None, default: type[P], overrides: dict[str, Any], product: str) -> P:
    """``params`` (default: ``default()``) with the keyword ``overrides`` replaced.

    Raises ``TypeError`` naming the unknown keywords and the known ones, as a Python call would.
    """
    base = default() if params is None else params
    if not isinstance(base, default):
        raise TypeError(f"{product}: params must be a {default.__name__}, not {type(base).__name__}")
    names = {f.name for f in dataclasses.fields(default)}  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise TypeError(f"{product}() got unknown keyword(s) {unknown}; the {default.__name__} fields are "
                        f"{sorted(names)}")
    return dataclasses.replace(base, **overrides) if overrides else base  # type: ignore[type-var]


@dataclass(frozen=True)
class LisParams:
    """let-it-snow's snow detection (L2B) for Sentinel-2 [1]_, reflectances in 0-1.

    The first four fields are the thresholds a user tunes (pass 1: NDSI and red of sure snow;
    pass 2: above the snowline); the others are LIS' snowline and cloud-refinement constants.
    """

    ndsi_pass1: float = 0.4
    red_pass1: float = 0.20
    ndsi_pass2: float = 0.15
    red_pass2: float = 0.04
    dz: float = 100.0
    fsnow_lim: float = 0.1
    fclear_lim: float = 0.1
    fsnow_total_lim: float = 0.001
    rf: int = 12
    red_darkcloud: float = 0.30
    red_backtocloud: float = 0.10

    def __post_init__(self) -> None:
        if self.dz <= 0 or self.rf < 1:
            raise ValueError(f"LisParams: dz ({self.dz}) must be > 0 and rf ({self.rf}) >= 1")


#: fordead's date filter: dates whose cloudiness (share of CLM != 0 among valid pixels) exceeds
#: this percentage are not used [2]_.  The forest workflow searches with it as ``max_cloud``.
FORDEAD_MAX_CLOUDINESS = 40.0

#: fordead's stress-index modes.
STRESS_INDEX_MODES = ("mean", "weighted_mean")


@dataclass(frozen=True)
class FordeadParams:
    """fordead's dieback detection [2]_ (see :func:`terra_lab.products.dieback.forest_dieback`)."""

    training_end: str = "2018-01-01"
    training_max_end: str = "2018-06-01"
    nb_min_date: int = 10
    threshold_anomaly: float = 0.16
    vi: str = "CRSWIR"
    soil_detection: bool = False
    source_mask: bool = True
    blue_max: float = 0.06
    stress_index_mode: str = "weighted_mean"
    max_nb_stress_periods: int = 5
    confidence_thresholds: tuple[float, ...] = (0.265,)
    confidence_classes: tuple[str, ...] = ("low anomaly", "severe anomaly")

    def __post_init__(self) -> None:
        import datetime as dt

        from ..errors import DateRangeError

        # normalise what callers pass (dates, lists) so that equal settings compare equal
        object.__setattr__(self, "training_end", str(_date(self.training_end, "training_end")))
        object.__setattr__(self, "training_max_end", str(_date(self.training_max_end, "training_max_end")))
        object.__setattr__(self, "confidence_thresholds", tuple(float(v) for v in self.confidence_thresholds))
        object.__setattr__(self, "confidence_classes", tuple(str(c) for c in self.confidence_classes))
        if self.stress_index_mode not in STRESS_INDEX_MODES:
            raise ValueError(f"stress_index_mode must be 'mean' or 'weighted_mean', not {self.stress_index_mode!r}")
        thresholds = list(self.confidence_thresholds)
        if len(self.confidence_classes) != len(thresholds) + 1 or sorted(thresholds) != thresholds:
            raise ValueError(f"confidence_classes needs one name more than confidence_thresholds (increasing): got "
                             f"{list(self.confidence_classes)} for {thresholds}")
        t_end, t_max = dt.date.fromisoformat(self.training_end), dt.date.fromisoformat(self.training_max_end)
        if t_max < t_end:
            raise DateRangeError(f"training_max_end ({t_max}) is before training_end ({t_end}); "
                                 "it must be the same date or later")


def _date(value: Any, name: str) -> Any:
    """``value`` (a string, date or Timestamp) as a ``datetime.date``."""
    import datetime as dt

    from ..errors import DateRangeError

    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as err:
        raise DateRangeError(f"{name}={value!r} is not a date; give 'YYYY-MM-DD'") from err


#: The 10 Sentinel-2 bands at 10 and 20 m.
DIVERSITY_BANDS = ("blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir08", "swir16", "swir22")


@dataclass(frozen=True)
class BiodivMapRParams:
    """biodivMapR's spectral species [3]_ (see :func:`terra_lab.products.diversity.fit_spectral_species`).

    ``components=None``: the first components that explain ``explained_variance`` (at least 2).
    A threshold set to ``None`` disables its test.
    """

    bands: tuple[str, ...] = DIVERSITY_BANDS
    components: tuple[int, ...] | None = None
    explained_variance: float = 0.99
    n_clusters: int = 50
    n_partitions: int = 20
    n_samples_pca: int = 1_000_000
    n_samples_kmeans: int = 100_000
    n_init: int = 10
    max_iter: int = 50
    ndvi_threshold: float | None = 0.65
    nir_threshold: float | None = 0.15
    blue_threshold: float | None = 0.05
    mask_layers: tuple[str, ...] = ("cloud", "shadow", "snow", "edge")
    continuum_removal: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", tuple(self.bands))
        object.__setattr__(self, "mask_layers", tuple(self.mask_layers))
        if self.components is not None:
            object.__setattr__(self, "components", tuple(int(c) for c in self.components))
