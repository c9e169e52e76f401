"""Glacier workflow: elevation change between two DEMs per glacier outline, and the equilibrium-line altitude.

Everything comes from one catalogue:

* the DEMs: every DEM collection of the catalogue (:func:`dem_items`); the earliest DEM over
  the area is the reference, the latest dated no later than the end of ``year`` the one compared;
* the glacier outlines: a vector collection (:func:`find_outline_collection`: RGI 7.0-like
  fields ``rgi_id``, ``glac_name``, ``area_km2``, ``src_date``), read with
  :func:`terra_lab.load_features`; every glacier touching the area is measured whole;
* the land cover (optional): OSO's water class leaves lakes out of the stable terrain;
* the reflectance of the late summers: snow maps (LIS L2B, :func:`terra_lab.products.snow.snow_l2b`)
  whose end-of-summer snowline on each glacier is its equilibrium-line altitude (ELA).

The work is done by :mod:`terra_lab.products.relief` (Nuth & Kääb co-registration on stable
terrain: outside the outlines, off water, slopes between ``NuthKaabParams.min_slope`` and
``max_slope``; differencing; error model; per-glacier change) and
:func:`terra_lab.products.snow.equilibrium_line_altitude`.  No user interface here: the snow
dashboard's glacier analysis displays the result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import NoItemsFoundError, UnknownCollectionError
from ..products.params import LisParams
from ._aux import KNOWN_COLLECTIONS, _is_kind, find_landcover, load_landcover, open_catalog
from ._progress import Progress, report

__all__ = ["OUTLINE_COLLECTIONS", "WATER_CLASS", "GlacierResult", "GlacierSettings", "dem_items",
           "find_outline_collection", "glacier_workflow"]

#: glacier-outline collection ids tried first (the demo's); else any collection whose id names glaciers or RGI
OUTLINE_COLLECTIONS = ("terra-lab-demo-glacier-outlines",)
#: OSO class of water bodies (23-class nomenclature): not stable terrain (lake levels change)
WATER_CLASS = 23


@dataclass(frozen=True)
class GlacierSettings:
    """Stable terrain (slopes steeper than ``max_slope`` degrees left out: their DEM errors are
    large; the DEMs are read ``margin_deg`` degrees around the area and its glaciers, about 1 km of
    terrain for the co-registration and the error model), the summers whose ELA is tabled
    (``ela_years`` up to the chosen year), the snowline search (``ela_window`` month-days, ``dz`` m
    bands, snow fraction ``fsnow``: see :func:`~terra_lab.products.snow.equilibrium_line_altitude`)
    and the shaded relief's ``relief_mode``."""

    max_slope: float = 40.0
    margin_deg: float = 0.01
    ela_years: int = 2
    ela_window: tuple[str, str] = ("08-15", "09-30")
    dz: float = 50.0
    fsnow: float = 0.5
    relief_mode: str = "multidirectional"


@dataclass(frozen=True)
class GlacierResult:
    """What :func:`glacier_workflow` computed (arrays in memory, on the reference DEM's grid)."""

    year: int
    dh: xr.DataArray              #: elevation change (m), co-registered later DEM - reference
    relief: xr.DataArray          #: coloured shaded relief of the later DEM (RGBA uint8 on band, y, x)
    elevation: xr.DataArray       #: the later DEM (m), co-registered
    outlines: Any                 #: the glaciers measured (GeoDataFrame in the DEM's CRS; column ``name``)
    glaciers: pd.DataFrame        #: per glacier: area, mean dh +- error, volume, mass balance rate, ELA of the year
    ela: pd.DataFrame             #: per glacier and summer: ELA (m), the date seen, clear candidate dates
    coregistration: Any           #: :class:`~terra_lab.products.relief.CoregResult`
    error: Any                    #: :class:`~terra_lab.products.relief.DhError`
    stable: xr.DataArray          #: the stable terrain used (bool)
    notes: tuple[str, ...] = ()
    provenance: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------ DEMs
def _dem_collections(cat: Any, explicit: tuple[str | None, ...]) -> list[str]:
    ids = list(cat.collection_ids())
    given = [c for c in explicit if c]
    for c in given:
        if c not in ids:
            raise UnknownCollectionError(f"collection {c!r} (digital elevation model) is not in the catalogue "
                                         f"{cat.name!r}; available: {ids}")
    if given:
        return given
    candidates = [c for c in ids if c in KNOWN_COLLECTIONS["dem"] or "dem" in c.lower()]
    return [c for c in candidates if _is_kind(cat, c, "dem")]


def dem_items(catalog: Any, bbox: Any, *, collections: tuple[str | None, ...] = ()) -> list[tuple[pd.Timestamp, str, dict]]:
    """``[(date, collection, item)]`` of every DEM item over ``bbox``, oldest first.

    ``collections``: the DEM collection ids to search (default: every DEM collection of the
    catalogue: known ids and ids containing "dem" whose items have a DEM profile).
    """
    cat = open_catalog(catalog)
    found = []
    for cid in _dem_collections(cat, collections):
        for item in cat.search(bbox, collections=cid).items:
            when = pd.Timestamp(item["properties"]["datetime"])
            found.append((when.tz_convert(None) if when.tzinfo else when, cid, item))
    return sorted(found, key=lambda t: t[0])


def _pick_dems(found: list, year: int, cat_name: str, bbox: Any):
    """(reference, later) DEM entries: the earliest, and the latest dated before the end of ``year``."""
    dates = sorted({t[0].normalize() for t in found})
    if len(dates) < 2:
        which = ", ".join(f"{t[2]['id']} ({t[0].date()}, {t[1]})" for t in found) or "none"
        raise NoItemsFoundError(f"elevation change needs two DEMs of different dates over {bbox}; the catalogue "
                                f"{cat_name!r} has {len(dates)} date(s) ({which}); add a DEM of another date "
                                "(a DEM collection such as terra-lab-demo-dem-2023) or widen the area")
    ref_day = dates[0]
    later = [d for d in dates[1:] if d <= pd.Timestamp(f"{year}-12-31")]
    if not later:
        raise NoItemsFoundError(f"no DEM later than the reference ({ref_day.date()}) dated {year} or before in "
                                f"{cat_name!r} (DEM dates: {[str(d.date()) for d in dates]}); choose a later year")
    later_day = later[-1]
    pick = {d: [t for t in found if t[0].normalize() == d] for d in (ref_day, later_day)}
    return pick[ref_day], pick[later_day]


def _load_dem(entries: list, bbox: Any, like: xr.DataArray | None, resolution: float) -> xr.DataArray:
    import terra_lab

    items = [t[2] for t in entries]
    kw: dict[str, Any] = {"like": like} if like is not None else {"bbox": bbox, "resolution": resolution}
    ds = terra_lab.load(items, bands=["elevation"], masks=False, resampling="bilinear", **kw)
    return ds["elevation"].isel(time=0)  # the scalar time stays: dem_difference dates the change with it


# -------------------------------------------------------------------------------- outlines
def find_outline_collection(catalog: Any, collection: str | None = None) -> str:
    """The id of the catalogue's glacier-outline collection (explicit, known, or an id naming glaciers / RGI)."""
    cat = open_catalog(catalog)
    ids = list(cat.collection_ids())
    if collection:
        if collection not in ids:
            raise UnknownCollectionError(f"collection {collection!r} (glacier outlines) is not in the catalogue "
                                         f"{cat.name!r}; available: {ids}")
        return collection
    for c in [*(k for k in OUTLINE_COLLECTIONS if k in ids), *ids]:
        if c in OUTLINE_COLLECTIONS or "glacier" in c.lower() or "rgi" in c.lower():
            return c
    raise UnknownCollectionError(f"the catalogue {cat.name!r} has no glacier-outline collection (its collections: "
                                 f"{ids}); add one (RGI 7.0 outlines as a STAC collection of vector items) or name it "
                                 "with outline_collection='COLLECTION_ID'")


def _named(gdf: Any) -> Any:
    """The outlines with a ``name`` column: the glacier's name, else its RGI id, else its row number."""
    names = []
    for i, row in enumerate(gdf.itertuples(index=False)):
        name = next((str(getattr(row, f)) for f in ("glac_name", "name", "rgi_id")
                     if f in gdf.columns and isinstance(getattr(row, f), str) and getattr(row, f).strip()), None)
        names.append(name or f"glacier {i + 1}")
    seen = pd.Series(names).duplicated().to_numpy()
    out = gdf.copy()
    out["name"] = [f"{n} ({i + 1})" if dup else n for i, (n, dup) in enumerate(zip(names, seen))]
    return out


def _outlines(cat: Any, aoi_box: Any, outlines: Any, collection: str | None, crs: Any) -> tuple[Any, str | None]:
    """(glaciers touching the area, in ``crs``, with a ``name``; the collection id or None when given)."""
    import geopandas as gpd

    import terra_lab

    cid = None
    if outlines is None:
        cid = find_outline_collection(cat, collection)
        res = cat.search(aoi_box.bounds, collections=cid)
        if len(res) == 0:
            raise NoItemsFoundError(f"the glacier-outline collection {cid!r} of {cat.name!r} has no item over "
                                    f"{tuple(round(v, 5) for v in aoi_box.bounds)}; move the area onto a glacier")
        # whole outlines (a bbox would cut them): the items over the area, filtered below
        gdf = terra_lab.load_features(res, crs="EPSG:4326")
    elif isinstance(outlines, gpd.GeoDataFrame):
        gdf = outlines if outlines.crs is not None else outlines.set_crs("EPSG:4326")
    else:
        gdf = gpd.read_file(outlines)
    gdf = gdf.to_crs("EPSG:4326")
    gdf = gdf[gdf.geometry.intersects(aoi_box)]
    if len(gdf) == 0:
        where = f"collection {cid!r}" if cid else "the outlines given"
        raise NoItemsFoundError(f"no glacier outline of {where} lies over the area "
                                f"{tuple(round(v, 5) for v in aoi_box.bounds)}; move the area onto a glacier")
    return _named(gdf.reset_index(drop=True)).to_crs(crs), cid


# ------------------------------------------------------------------------------ stable terrain
def _stable(cat: Any, reference: xr.DataArray, settings: GlacierSettings, landcover_collection: str | None,
            notes: list) -> tuple[xr.DataArray, str | None]:
    """Stable terrain: slope at most ``max_slope`` and, with an OSO map, not water (outlines: excluded later)."""
    from ..products.terrain import slope

    steep = slope(reference) > settings.max_slope
    stable = ~steep
    lc_id = find_landcover(cat, landcover_collection, require=False, notes=notes, note="no_landcover_water")
    if lc_id is not None:
        water = load_landcover(cat, reference, collection=lc_id) == WATER_CLASS
        stable = stable & ~water
    stable = stable.compute().rename("stable")
    stable.attrs = {"long_name": f"stable terrain (slope <= {settings.max_slope} degrees"
                                 f"{', not OSO water' if lc_id else ''}; glacier outlines excluded separately)"}
    return stable, lc_id


# ---------------------------------------------------------------------------------------- ELA
def _summer_items(cat: Any, aoi: Any, years: list[int], window: tuple[str, str], collection: str | None,
                  max_cloud: float | None) -> tuple[str, dict[int, list]]:
    """The reflectance collection and its items of each summer's window over ``aoi``."""
    from ._aux import find_collection

    cid = find_collection(cat, "reflectance", collection)
    out = {}
    for y in years:
        res = cat.search(aoi, (f"{y}-{window[0]}", f"{y}-{window[1]}"), cid, max_cloud=max_cloud)
        out[y] = list(res.items)
    return cid, out


def _summers(cat: Any, aoi: Any, year: int, first_year: int, settings: GlacierSettings, collection: str | None,
             max_cloud: float | None) -> tuple[str, list[int], list]:
    """(reflectance collection, the summers of the ELA table, their late-summer items); raises when
    ``year`` has none (no snow map for its ELA)."""
    years = list(range(max(first_year, year - settings.ela_years + 1), year + 1))
    cid, per_year = _summer_items(cat, aoi, years, settings.ela_window, collection, max_cloud)
    if not per_year.get(year):
        raise NoItemsFoundError(f"no {cid!r} image of {cat.name!r} over the glaciers between {year}-"
                                f"{settings.ela_window[0]} and {year}-{settings.ela_window[1]}: no snow map for the "
                                f"equilibrium-line altitude of {year}; choose another year or widen ela_window")
    return cid, years, [it for y in years for it in per_year[y]]


def _ela(cube: xr.Dataset, dem: xr.DataArray, outlines: Any, years: list[int],
         settings: GlacierSettings) -> pd.DataFrame:
    """ELA per glacier and summer (table) from the LIS snow maps of ``cube``, made with ``dem``
    (the later DEM, nearer the summers, on the cube's grid)."""
    from ..products.snow import equilibrium_line_altitude, snow_l2b

    params = LisParams()
    l2b = snow_l2b(cube, dem, params)
    ds = equilibrium_line_altitude(l2b, dem, outlines, window=settings.ela_window, dz=settings.dz,
                                   fsnow=settings.fsnow, params=params).compute()
    rows = []
    for g in ds["outline"].values:
        for y in ds["year"].values:
            px = ds.sel(outline=g, year=y)
            rows.append({"glacier": str(g), "year": int(y), "ela_m": float(px["ela"]),
                         "date": pd.Timestamp(px["date"].values) if not np.isnat(px["date"].values) else pd.NaT,
                         "n_dates": int(px["n_dates"]), "clear_fraction": float(px["clear_fraction"])})
    table = pd.DataFrame(rows, columns=["glacier", "year", "ela_m", "date", "n_dates", "clear_fraction"])
    return table[table["year"].isin(years)].reset_index(drop=True)


# ------------------------------------------------------------------------------------ workflow
def _glacier_table(change: pd.DataFrame, outlines: Any, ela: pd.DataFrame, year: int) -> pd.DataFrame:
    """glacier_change's table with the outline's RGI fields and the ELA of ``year``."""
    table = change.reset_index().rename(columns={"outline": "glacier"})
    for f in ("rgi_id", "src_date"):
        if f in outlines.columns:
            table.insert(1, f, [str(v) for v in outlines[f].values])
    this = ela[ela["year"] == year].set_index("glacier")["ela_m"]
    table["ela_m"] = [float(this.get(g, np.nan)) for g in table["glacier"]]
    return table


def glacier_workflow(catalog: Any, aoi: Any, year: int, settings: GlacierSettings | None = None, *,
                     outlines: Any = None, outline_collection: str | None = None,
                     reference_collection: str | None = None, dem_collection: str | None = None,
                     landcover_collection: str | None = None, collection: str | None = None,
                     max_cloud: float | None = None, progress: Progress | None = None) -> GlacierResult:
    """Elevation change of the glaciers over ``aoi`` between two DEMs, and their ELA of the summer of ``year``.

    Parameters
    ----------
    catalog
        A catalogue or its name (``"demo"``...).
    aoi
        Area of interest (see :func:`terra_lab.catalog.parse_aoi`); every glacier touching it is
        measured whole.
    year
        The summer whose end-of-summer snowline gives the ELA; the later DEM is the latest dated
        no later than 31 December of ``year``.
    settings
        :class:`GlacierSettings`.
    outlines
        Glacier outlines given directly (a GeoJSON path or a GeoDataFrame) instead of the
        catalogue's outline collection (``outline_collection``: found by :func:`find_outline_collection`).
    reference_collection, dem_collection
        The DEM collections to compare (default: every DEM collection of the catalogue);
    landcover_collection
        OSO land cover (water left out of the stable terrain; without one, a note says so).
    collection, max_cloud
        The reflectance collection of the snow maps (default: found by kind) and its items' maximum
        cloud cover (percent).
    progress
        Called with each step's name as it starts (:mod:`terra_lab.workflows._progress`).

    Raises
    ------
    NoItemsFoundError
        One DEM date only; no outline over the area; no reflectance (snow map) in the late
        summer of ``year``.

    Notes
    -----
    The ``search`` and ``read`` steps read no pixel (the DEMs and the late-summer reflectance are
    opened lazily); the ``compute`` step computes everything, in memory (20 m pixels around the
    glaciers).

    Examples
    --------
    >>> r = glacier_workflow("demo", (6.30, 45.195, 6.335, 45.22), 2023)     # doctest: +SKIP
    >>> r.glaciers[["glacier", "mean_dh_m", "mean_dh_sigma_m", "ela_m"]]       # doctest: +SKIP
    """
    import shapely.geometry

    import terra_lab

    from ..catalog import parse_aoi
    from ..products import relief as R

    settings = settings or GlacierSettings()
    notes: list = []
    report(progress, "search")
    cat = open_catalog(catalog)
    box = parse_aoi(aoi)
    found = dem_items(cat, box.bounds, collections=(reference_collection, dem_collection)
                      if reference_collection or dem_collection else ())
    ref_entries, later_entries = _pick_dems(found, year, cat.name, box.bounds)
    crs = f"EPSG:{ref_entries[0][2]['properties'].get('proj:epsg')}" \
        if ref_entries[0][2]["properties"].get("proj:epsg") else None
    glaciers, outline_id = _outlines(cat, box, outlines, outline_collection, crs or "EPSG:4326")
    # the area and the glaciers touching it, with a margin of stable terrain around them
    area = shapely.geometry.box(*glaciers.to_crs("EPSG:4326").total_bounds).union(box).buffer(settings.margin_deg)
    refl_id, years, summer_items = _summers(cat, box.bounds, year, int(ref_entries[0][0].year) + 1, settings,
                                            collection, max_cloud)
    report(progress, "read")
    resolution = float(ref_entries[0][2]["properties"].get("gsd") or 20.0)
    reference = _load_dem(ref_entries, area.bounds, None, resolution)
    later = _load_dem(later_entries, None, reference, resolution)
    cube = terra_lab.load(summer_items, bands=["green", "red", "swir16"], like=reference, raw_masks=True,
                          chunks={"time": -1, "y": 1024, "x": 1024})
    if crs is None:
        glaciers = glaciers.to_crs(reference.rio.crs)
    report(progress, "compute")
    reference = reference.compute()
    later = later.compute()
    stable, lc_id = _stable(cat, reference, settings, landcover_collection, notes)
    coreg = R.nuth_kaab(reference, later, stable=stable, exclude=glaciers)
    aligned = R.coregister(reference, later, coreg)
    dh = R.dem_difference(reference, aligned).compute()
    error = R.dh_error(dh, stable=stable, exclude=glaciers)
    change = R.glacier_change(dh, glaciers, error)
    elevation = aligned.where(np.isfinite(aligned), reference).compute()  # the border the shift left empty
    relief = R.colour_relief(elevation, mode=settings.relief_mode).compute()
    ela = _ela(cube, elevation, glaciers, years, settings)
    return GlacierResult(
        year=year, dh=dh, relief=relief, elevation=elevation, outlines=glaciers,
        glaciers=_glacier_table(change, glaciers, ela, year), ela=ela, coregistration=coreg, error=error,
        stable=stable, notes=tuple(notes),
        provenance={"catalog": cat.name, "aoi": str(aoi), "year": year,
                    "reference_dem": [t[2]["id"] for t in ref_entries], "dem": [t[2]["id"] for t in later_entries],
                    "dem_collections": sorted({t[1] for t in ref_entries + later_entries}),
                    "dem_dates": [str(ref_entries[0][0].date()), str(later_entries[0][0].date())],
                    "outline_collection": outline_id, "landcover_collection": lc_id,
                    "reflectance_collection": refl_id, "reflectance_items": len(summer_items),
                    "coregistration": asdict(coreg), "error": asdict(error), "settings": asdict(settings)},
    )

