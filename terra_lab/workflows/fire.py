"""Fire workflow: burn severity (dNBR, RdNBR, RBR and severity classes) of one fire, within the
burnable land of the catalogue's OSO land-cover map, and the burnt area per severity class.

The pre- and post-fire composites are the median of clear observations ``window_days`` before
and after the fire date (:func:`terra_lab.products.fire.burn_severity`).  The burnable mask is
OSO's vegetation classes (:data:`BURNABLE_CLASSES`: grasslands, forests, natural grasslands,
woody moorlands): a harvested field also loses its NBR in summer.  A catalogue without an OSO
collection raises :class:`~terra_lab.errors.UnknownCollectionError`, unless
``require_landcover=False``: then every pixel may burn and the result's ``notes`` say so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DateRangeError
from ..products.fire import NO_CLASS, SEVERITY_SCHEMES
from ._aux import landcover_mask
from ._progress import Progress, report
from ._search import search_reflectance

__all__ = ["BURNABLE_CLASSES", "FireResult", "FireSettings", "burnt_area_table", "fire_workflow"]

#: OSO classes that can burn: 13 grasslands, 16 broad-leaved and 17 coniferous forest, 18 natural
#: grasslands, 19 woody moorlands
BURNABLE_CLASSES = (13, 16, 17, 18, 19)
#: bands read: NBR's B8A and B12
BANDS = ["nir08", "swir22"]


@dataclass(frozen=True)
class FireSettings:
    """Composite window (days each side of the fire), severity scheme (a key of
    :data:`~terra_lab.products.fire.SEVERITY_SCHEMES`) and the dNBR from which a pixel is burnt
    (Key & Benson 2006's lower bound of low severity)."""

    window_days: int = 60
    scheme: str = "key_benson"
    burnt_threshold: float = 100.0


@dataclass(frozen=True)
class FireResult:
    """What :func:`fire_workflow` computed."""

    fire_date: Any                  #: the fire's date (datetime.date)
    severity: xr.Dataset            #: burn_severity's dataset: dNBR, RdNBR, RBR, severity, burnt, n_pre, n_post
    burnable: xr.DataArray | None   #: the burnable-land mask from OSO (in memory); None when none was found
    classes: pd.DataFrame           #: per severity class of the burnt pixels: class, name, pixels, area (ha)
    burnt_ha: float                 #: burnt area (ha)
    notes: tuple[str, ...] = ()     #: what the workflow had to do without (e.g. no land-cover map)
    provenance: dict = field(default_factory=dict)


def burnt_area_table(severity: xr.Dataset, scheme: str) -> tuple[pd.DataFrame, float]:
    """(table, burnt ha): burnt pixels and area (ha) per class of ``scheme``, every class listed."""
    pixel_ha = abs(float(np.prod(severity.rio.resolution()))) / 1e4
    burnt = np.asarray(severity["burnt"].values, dtype=bool)
    codes = np.asarray(severity["severity"].values)[burnt]
    labels = SEVERITY_SCHEMES[scheme].labels
    counts = [int(np.sum(codes == c)) for c in range(len(labels))]
    table = pd.DataFrame({"class": range(len(labels)), "name": labels, "pixels": counts,
                          "area (ha)": [round(n * pixel_ha, 3) for n in counts]})
    return table, float(burnt.sum()) * pixel_ha


def fire_workflow(catalog: Any, aoi: Any, fire_date: Any, settings: FireSettings | None = None, *,
                  collection: str | None = None, landcover_collection: str | None = None,
                  require_landcover: bool = True, max_cloud: float | None = None,
                  progress: Progress | None = None) -> FireResult:
    """Burn severity of the fire of ``fire_date`` over ``aoi`` (composites ``window_days`` each side).

    Examples
    --------
    >>> r = fire_workflow("demo", (6.28, 45.17, 6.34, 45.21), "2023-07-22")   # doctest: +SKIP
    >>> r.burnt_ha, r.classes                                                 # doctest: +SKIP
    """
    import terra_lab

    from ..catalog import parse_aoi
    from ..products.fire import burn_severity

    settings = settings or FireSettings()
    if settings.scheme not in SEVERITY_SCHEMES:
        raise ValueError(f"unknown severity scheme {settings.scheme!r}; choose one of {sorted(SEVERITY_SCHEMES)}")
    if fire_date is None or pd.isna(pd.Timestamp(fire_date)):
        raise DateRangeError(f"fire_date is {fire_date!r}; give the fire's date, e.g. fire_date='2023-07-22'")
    day = pd.Timestamp(fire_date).normalize()
    span = pd.Timedelta(days=settings.window_days)
    report(progress, "search")
    cat, cid, res = search_reflectance(catalog, aoi, (day - span).date(), (day + span).date(),
                                       collection=collection, max_cloud=max_cloud)
    report(progress, "read")
    cube = terra_lab.load(res, bands=BANDS, resolution=20, bbox=parse_aoi(aoi), chunks={"time": -1, "y": 256, "x": 256})
    notes: list = []
    lc_id, burnable = landcover_mask(cat, cube, collection=landcover_collection, date=day, classes=BURNABLE_CLASSES,
                                     require=require_landcover, notes=notes)
    if burnable is not None:
        burnable = burnable.rename("burnable")
    report(progress, "compute")
    ds = burn_severity(cube, day, window_days=settings.window_days, scheme=settings.scheme,
                       burnt_threshold=settings.burnt_threshold, mask=burnable).compute()
    table, total = burnt_area_table(ds, settings.scheme)
    return FireResult(
        fire_date=day.date(), severity=ds, burnable=burnable, classes=table, burnt_ha=total, notes=tuple(notes),
        provenance={"catalog": cat.name, "collection": cid, "landcover_collection": lc_id,
                    "burnable_classes": list(BURNABLE_CLASSES) if lc_id else None, "aoi": str(aoi),
                    "fire_date": str(day.date()), "items": len(res), "settings": asdict(settings),
                    "no_class": NO_CLASS},
    )
