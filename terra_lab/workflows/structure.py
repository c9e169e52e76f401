"""Forest-structure workflow (FORMS-like, issue 16): canopy height with its 5-95 % prediction
interval, wood volume and above-ground biomass over an area for one year, trained on the lidar
footprints (GEDI L2A-like) of the catalogue.

Every input comes from one catalogue, found by kind (:mod:`._aux`): the year's Sentinel-2
reflectance (the features of :func:`terra_lab.products.structure.structure_features`), the DEM
(elevation, a covariate), the OSO land cover (the forest type of the allometries, and the table's
classes) and the lidar footprints (a vector collection read with :func:`terra_lab.load_features`,
filtered with the GEDI L2A quality flags of :func:`terra_lab.products.structure.gedi_quality`).

1. the kept shots are split into a training share and a held-out share (``holdout``): a model fitted
   on the first gives the diagnostics (held-out RMSE, bias and the interval's coverage), then the
   map's model is fitted on every kept shot;
2. the maps (:func:`structure_maps`: height median and bounds, interval width, volume, biomass)
   are lazy: predicted when the caller (the dashboard, ``.compute()``) asks; the table per forest
   type (:attr:`StructureResult.table`) is computed on first access.

Training is eager: the footprints lie across the area, so the features are computed once (kept
in memory) before the model sees them.  A catalogue without land cover gives the height on every
pixel and no volume or biomass (``require_landcover=False``; the result's notes say so); one
without a DEM gives a height from Sentinel-2 alone (a note too).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import NoItemsFoundError, SamplingError, UnknownCollectionError
from ..products.structure import AllometryParams
from ._aux import FOREST_CLASSES, find_collection, find_landcover, load_dem, load_landcover
from ._notes import Note
from ._progress import Progress, report
from ._search import search_reflectance

__all__ = ["BANDS", "FOREST_TYPES", "StructureResult", "StructureSettings", "structure_maps", "structure_table",
           "structure_workflow"]

#: bands read (20 m): every Sentinel-2 band a 20 m THEIA product has (B8A for the NIR, no B8)
BANDS = ["blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir08", "swir16", "swir22"]
#: OSO 23-class forest codes -> the allometries' forest types (16 broad-leaved, 17 coniferous)
FOREST_TYPES = dict(zip(FOREST_CLASSES, ("broadleaf", "conifer"), strict=True))


@dataclass(frozen=True)
class StructureSettings:
    """Learner (``"qrf"`` quantile regression forest or ``"hgb"`` gradient boosting), the footprints'
    height column (GEDI L2A ``rh98``, as FORMS), the share of kept shots held out for the
    diagnostics, the years of footprints before the map's year also used (GEDI flies since 2019),
    and the fewest kept shots the fit accepts."""

    method: str = "qrf"
    height_column: str = "rh98"
    holdout: float = 0.25
    footprint_years_before: int = 0
    min_samples: int = 30
    random_state: int = 0


@dataclass(frozen=True)
class StructureResult:
    """What :func:`structure_workflow` computed.  ``maps`` is lazy until asked (``.compute()``, or the
    dashboard); ``table`` is computed from it on first access."""

    year: int
    maps: xr.Dataset                #: height, height_p05, height_p95, height_interval (m); volume*, agb* with land cover
    forest_type: xr.DataArray | None  #: OSO classes on the map's grid (None without land cover)
    footprints: Any                 #: the kept shots (GeoDataFrame in the map's CRS) with ``split``: train / held-out
    model: Any                      #: the map's HeightModel (fitted on every kept shot)
    diagnostics: dict               #: shots found, kept, dropped; held-out RMSE, bias, interval coverage (PICP)
    notes: tuple[str, ...] = ()     #: what the workflow had to do without (land cover, DEM)
    provenance: dict = field(default_factory=dict)

    @functools.cached_property
    def table(self) -> pd.DataFrame:
        """Per forest type: pixels, area (ha), mean height, mean interval width (m), mean volume (m3/ha),
        mean biomass (Mg/ha) and total biomass (Mg)."""
        return structure_table(self.maps, self.forest_type)


def structure_maps(features: xr.DataArray, model, forest_type: xr.DataArray | None, *,
                   allometry: AllometryParams | None = None) -> xr.Dataset:
    """Height (median and bounds), interval width and, with ``forest_type``, volume and biomass: lazy.

    Outside the forest types of ``allometry`` every layer is NaN (the map is the forest's).
    """
    from ..products.structure import canopy_height, wood_volume_biomass

    height = canopy_height(features, model)
    bounds = sorted(str(v) for v in height.data_vars if v != "height")
    maps = height.copy()
    maps["height_interval"] = (height[bounds[-1]] - height[bounds[0]]).assign_attrs(
        long_name=f"width of the canopy-height interval {bounds[0][-3:]}-{bounds[-1][-3:]}", units="m")
    if forest_type is not None:
        params = allometry or AllometryParams(types=FOREST_TYPES)
        forest = forest_type.isin(list(params.types))
        maps = maps.where(forest)
        maps.update(wood_volume_biomass(height, forest_type, params=params))
    for name in maps.data_vars:
        maps[name].attrs.update(height[name].attrs if name in height else {})
    maps["height_interval"].attrs["units"] = "m"
    maps.attrs.update(height.attrs)
    return maps


def structure_table(maps: xr.Dataset, forest_type: xr.DataArray | None) -> pd.DataFrame:
    """Per forest type (one row ``"all"`` without land cover): pixels, area (ha), mean height, mean
    interval width, mean volume and biomass, total biomass (Mg)."""
    pixel_ha = abs(float(np.prod(maps.rio.resolution()))) / 1e4
    values = {k: np.asarray(v.values, dtype="float64") for k, v in maps.data_vars.items()}
    if forest_type is None:
        groups = {"all": np.isfinite(values["height"])}
    else:
        codes = np.asarray(forest_type.values)
        groups = {FOREST_TYPES[c]: (codes == c) & np.isfinite(values["height"]) for c in FOREST_TYPES}
    rows = []
    for name, sel in groups.items():
        row: dict[str, Any] = {"forest type": name, "pixels": int(sel.sum()), "area (ha)": round(sel.sum() * pixel_ha, 2)}
        for column, var in (("mean height (m)", "height"), ("mean interval width (m)", "height_interval"),
                            ("mean volume (m3/ha)", "volume"), ("mean biomass (Mg/ha)", "agb")):
            row[column] = float(np.mean(values[var][sel])) if var in values and sel.any() else np.nan
        agb = values.get("agb")
        row["biomass (Mg)"] = float(np.nansum(agb[sel]) * pixel_ha) if agb is not None else np.nan
        rows.append(row)
    return pd.DataFrame(rows).round(2)


def _footprints(cat, aoi, year: int, crs, settings: StructureSettings, collection: str | None):
    """(collection id, every shot over ``aoi`` in the years, the shots ``gedi_quality`` keeps), in ``crs``."""
    import terra_lab

    from ..catalog import parse_aoi
    from ..products.structure import gedi_quality

    try:
        fid = find_collection(cat, "footprints", collection)
    except UnknownCollectionError as e:
        raise UnknownCollectionError(
            f"{e.args[0]}; canopy height is trained on lidar footprints (GEDI L2A: rh98 and its quality flags)"
        ) from None
    first = year - int(settings.footprint_years_before)
    res = cat.search(aoi, (f"{first}-01-01", f"{year}-12-31"), fid)
    if len(res) == 0:
        raise NoItemsFoundError(f"no footprint of {fid!r} in the catalogue {cat.name!r} over {aoi} in "
                                f"{first}..{year}; widen the area, or use earlier years "
                                "(StructureSettings(footprint_years_before=N))")
    shots = terra_lab.load_features(res, bbox=parse_aoi(aoi), crs=crs)
    kept = gedi_quality(shots)
    if len(kept) < settings.min_samples:
        raise SamplingError(
            f"{len(kept)} of the {len(shots)} footprints of {fid!r} over {aoi} in {first}..{year} pass the GEDI "
            f"quality filter (quality_flag 1, degrade_flag 0, sensitivity); the fit needs at least "
            f"{settings.min_samples}: widen the area or use earlier years (footprint_years_before=N)")
    return fid, shots, kept.reset_index(drop=True)


def _diagnostics(features: xr.DataArray, kept, settings: StructureSettings) -> tuple[Any, dict]:
    """(kept shots with their ``split``, held-out RMSE, bias and PICP of a model fitted on the rest)."""
    from ..products.niche import annotate
    from ..products.soil import picp
    from ..products.structure import fit_canopy_height

    rng = np.random.default_rng(settings.random_state)
    held = rng.random(len(kept)) < settings.holdout
    kept = kept.assign(split=np.where(held, "held-out", "train"))
    model = fit_canopy_height(features, kept[~held], height=settings.height_column, method=settings.method,
                              min_samples=max(settings.min_samples - int(held.sum()), 10),
                              random_state=settings.random_state)
    test = kept[held]
    rows = annotate(test, features.rename(feature="variable")).to_numpy(np.float64)
    ok = np.isfinite(rows).all(axis=1)
    observed = test[settings.height_column].to_numpy(np.float64)[ok]
    stats = {"n_train": int((~held).sum()), "n_held_out": int(ok.sum()), "rmse_m": np.nan, "bias_m": np.nan,
             "picp": np.nan}
    if ok.any():
        pred = np.clip(model.model.predict(rows[ok]), 0, None)  # (n, quantile) sorted, >= 0 as the map
        median = pred[:, list(model.model.quantiles).index(0.5)]
        stats.update(rmse_m=float(np.sqrt(np.mean((median - observed) ** 2))),
                     bias_m=float(np.mean(median - observed)), picp=picp(observed, pred[:, 0], pred[:, -1]))
    return kept, stats


def structure_workflow(catalog: Any, aoi: Any, year: int, settings: StructureSettings | None = None, *,
                       collection: str | None = None, footprint_collection: str | None = None,
                       landcover_collection: str | None = None, dem_collection: str | None = None,
                       require_landcover: bool = True, max_cloud: float | None = None,
                       progress: Progress | None = None) -> StructureResult:
    """Canopy height (median, 5-95 % interval), wood volume and biomass over ``aoi`` in ``year``.

    Raises
    ------
    UnknownCollectionError
        The catalogue has no footprint collection (or no OSO land cover while ``require_landcover``).
    NoItemsFoundError
        No reflectance or no footprint over the area in the year.
    SamplingError
        Too few footprints pass the quality filter.

    Examples
    --------
    >>> r = structure_workflow("demo", (6.28, 45.17, 6.34, 45.21), 2023)   # doctest: +SKIP
    >>> r.diagnostics["rmse_m"], r.table                                   # doctest: +SKIP
    """
    import terra_lab

    from ..catalog import parse_aoi
    from ..products.structure import fit_canopy_height, structure_features

    settings = settings or StructureSettings()
    if not 0 < settings.holdout < 1:
        raise ValueError(f"holdout must lie strictly between 0 and 1 (a share of the shots), got {settings.holdout}")
    year = int(year)
    report(progress, "search")
    cat, cid, res = search_reflectance(catalog, aoi, f"{year}-01-01", f"{year}-12-31", collection=collection,
                                       max_cloud=max_cloud)
    report(progress, "read")
    cube = terra_lab.load(res, bands=BANDS, resolution=20, bbox=parse_aoi(aoi),
                          chunks={"time": -1, "y": 256, "x": 256})
    fid, shots, kept = _footprints(cat, aoi, year, cube.rio.crs, settings, footprint_collection)
    notes: list = []
    covariates, dem_id = {}, None
    try:
        dem_id = find_collection(cat, "dem", dem_collection)
        covariates["elevation"] = load_dem(cat, cube, collection=dem_id)
    except UnknownCollectionError:
        if dem_collection:
            raise
        notes.append(Note("no_dem_structure", catalog=cat.name))
    lc_id = find_landcover(cat, landcover_collection, require=require_landcover, notes=notes,
                           note="no_landcover_structure")
    forest_type = (load_landcover(cat, cube, collection=lc_id, date=f"{year}-07-01").compute()
                   if lc_id else None)
    report(progress, "compute")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN seasons of never-clear pixels: NaN features
        features = structure_features(cube, year=year, covariates=covariates).persist()
    kept, stats = _diagnostics(features, kept, settings)
    model = fit_canopy_height(features, kept, height=settings.height_column, method=settings.method,
                              min_samples=settings.min_samples, random_state=settings.random_state)
    maps = structure_maps(features, model, forest_type)
    diagnostics = {"shots": len(shots), "kept": len(kept), "dropped": len(shots) - len(kept), **stats}
    return StructureResult(
        year=year, maps=maps, forest_type=forest_type, footprints=kept, model=model, diagnostics=diagnostics,
        notes=tuple(notes),
        provenance={"catalog": cat.name, "collection": cid, "footprint_collection": fid, "dem_collection": dem_id,
                    "landcover_collection": lc_id, "forest_types": FOREST_TYPES if lc_id else None, "aoi": str(aoi),
                    "year": year, "items": len(res), "settings": asdict(settings),
                    "features": len(features["feature"])},
    )
