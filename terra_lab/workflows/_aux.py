"""Find a catalogue's collections by kind, and load its auxiliary layers on a cube's grid.

Every workflow takes its inputs from one catalogue: the reflectance time series (Sentinel-2
L2A), the DEM (a DEM collection) and the land cover (an OSO land-cover collection, whose
forest classes give the forest mask).  A collection is found by *kind*, never by a fixed id:

1. an explicit id (the ``collection=`` arguments) wins, and must exist;
2. else the known ids of :data:`KNOWN_COLLECTIONS` present in the catalogue (the ids of the
   demo, of THEIA's STAC API and GEODES, of `terra-lab ingest`), if their items have a
   profile of that kind;
3. else, for a local catalogue, every collection whose first item has a profile of that kind.

A missing kind raises :class:`~terra_lab.errors.UnknownCollectionError` naming the kind, the
catalogue's collections and the fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..errors import NoItemsFoundError, UnknownCollectionError
from ._notes import Note

__all__ = [
    "FOREST_CLASSES",
    "KINDS",
    "KNOWN_COLLECTIONS",
    "find_collection",
    "forest_mask",
    "load_dem",
    "load_landcover",
    "open_catalog",
    "profile_kind",
]

#: kind -> what it is (for messages) and the argument that names such a collection explicitly
KINDS = {
    "reflectance": ("Sentinel-2 L2A surface reflectance", "collection"),
    "dem": ("digital elevation model", "dem_collection"),
    "landcover": ("OSO land-cover", "landcover_collection"),
    "thermal": ("Landsat 8/9 Collection 2 Level-2 surface temperature", "thermal_collection"),
    "radar": ("Sentinel-1 backscatter (S1Tiling or RTC)", "s1_collection"),
    "footprints": ("GEDI L2A-like lidar footprints (vector)", "footprint_collection"),
    "soil_samples": ("soil samples (vector points with laboratory values)", "samples_collection"),
}

#: Collection ids tried first for each kind (demo, THEIA STAC API, GEODES, `terra-lab ingest`,
#: Earth Search and the large STAC providers' Copernicus DEM); other ids are found by profile.
KNOWN_COLLECTIONS: dict[str, tuple[str, ...]] = {
    "reflectance": ("THEIA_REFLECTANCE_SENTINEL2_L2A", "sentinel2-l2a-theia", "SENTINEL2_L2A_THEIA",
                    "sentinel-2-l2a"),
    "dem": ("cop-dem-eea-10-laea-tif", "cop-dem-glo-30", "cop-dem-glo-90"),
    "landcover": ("THEIA_OSO_RASTER_L3B",),
    "thermal": ("landsat-c2-l2", "landsat-c2l2-st"),
    "radar": ("THEIA_S1TILING_SENTINEL1_L1", "sentinel-1-rtc"),
    "footprints": ("terra-lab-demo-gedi-l2a", "GEDI02_A_002", "GEDI02_A.v002"),
    "soil_samples": ("terra-lab-demo-soil-samples",),
}

#: OSO forest classes (23-class nomenclature since 2018): 16 broad-leaved, 17 coniferous forest
FOREST_CLASSES = (16, 17)

#: kind of each profile of :data:`terra_lab.profiles.PROFILES` (by key); profiles added later are
#: classified by their variables (``elevation``: a DEM, ``landcover``: a land-cover map)
_PROFILE_KINDS = {"muscate": "reflectance", "theia-stac": "reflectance", "earth-search": "reflectance",
                  "dem": "dem", "cop-dem": "dem", "oso": "landcover", "landsat-c2-l2": "thermal",
                  "s1tiling": "radar", "s1-rtc": "radar"}


def open_catalog(catalog: Any):
    """A catalogue object: ``catalog`` itself, or :func:`terra_lab.catalog.open` of a name/URL/folder."""
    if isinstance(catalog, str) or hasattr(catalog, "__fspath__"):
        from .. import catalog as _catalog

        return _catalog.open(catalog)
    return catalog


def profile_kind(profile) -> str | None:
    """``"reflectance"``, ``"dem"``, ``"landcover"`` or None (another kind) for a collection profile."""
    from ..profiles import PROFILES

    key = next((k for k, p in PROFILES.items() if p is profile), None)
    if key in _PROFILE_KINDS:
        return _PROFILE_KINDS[key]
    if "elevation" in profile.bands:
        return "dem"
    if "landcover" in profile.bands:
        return "landcover"
    return None


def _first_item(cat, collection: str) -> dict | None:
    try:
        res = cat.search(collections=collection, limit=1)
    except Exception:  # noqa: BLE001 - an unreadable collection is simply not a candidate
        return None
    return res.items[0] if len(res) else None


def _is_footprints(collection: str, item: dict, names: tuple[str, ...] = ("gedi", "lidar")) -> bool:
    """A collection of lidar footprints: vector assets, and GEDI (or lidar) named in its id or instruments
    (other vector kinds: other ``names``)."""
    from ..cube._features import vector_assets
    from ..errors import MissingBandError

    try:
        vector_assets(item)
    except MissingBandError:
        return False
    words = f"{collection} {item.get('properties', {}).get('instruments', '')}".lower()
    return any(n in words for n in names)


def _is_kind(cat, collection: str, kind: str) -> bool:
    from ..profiles import profile_for_item

    item = _first_item(cat, collection)
    if item is None:
        return False
    if kind == "footprints":
        return _is_footprints(collection, item)
    if kind == "soil_samples":
        return _is_footprints(collection, item, ("soil",))
    try:
        return profile_kind(profile_for_item(item)) == kind
    except Exception:  # noqa: BLE001 - items no profile knows are not of a known kind
        return False


def find_collection(catalog: Any, kind: str, collection: str | None = None) -> str:
    """The id of ``catalog``'s collection of ``kind`` (a key of :data:`KINDS`: ``"reflectance"``, ``"dem"``, ``"footprints"``...).

    Parameters
    ----------
    catalog
        A catalogue (or its name for :func:`terra_lab.catalog.open`).
    kind
        One of :data:`KINDS`.
    collection
        An explicit id: returned if the catalogue has it.

    Raises
    ------
    UnknownCollectionError
        The catalogue has no such collection (the message lists its collections and the fix).

    Examples
    --------
    >>> find_collection("demo", "dem")            # doctest: +SKIP
    'cop-dem-eea-10-laea-tif'
    """
    if kind not in KINDS:
        raise ValueError(f"unknown collection kind {kind!r}; use one of {sorted(KINDS)}")
    cat = open_catalog(catalog)
    ids = list(cat.collection_ids())
    what, arg = KINDS[kind]
    name = getattr(cat, "name", repr(cat))
    if collection:
        if collection not in ids:
            raise UnknownCollectionError(
                f"collection {collection!r} ({what}) is not in the catalogue {name!r}; available: {ids}"
            )
        return collection
    known = [c for c in KNOWN_COLLECTIONS[kind] if c in ids]
    if kind == "reflectance":
        from ..catalog import DEFAULT_COLLECTIONS

        default = DEFAULT_COLLECTIONS.get(name)
        if default is not None and default in ids and default not in known:
            known.insert(0, default)
    local = getattr(cat, "kind", "") == "local"
    for c in known:
        if not local or _is_kind(cat, c, kind):
            return c
    if local:
        for c in ids:
            if c not in known and _is_kind(cat, c, kind):
                return c
    raise UnknownCollectionError(
        f"the catalogue {name!r} has no {what} collection (its collections: {ids}); add one "
        f"(`terra-lab ingest PRODUCTS`, or a catalogue that has it) or name it with {arg}='COLLECTION_ID'"
    )


def _grid(like: xr.Dataset | xr.DataArray):
    if "time" in like.dims:
        like = like.isel(time=0, drop=True)
    return like


def _search_covering(catalog: Any, like: xr.Dataset | xr.DataArray, kind: str, collection: str | None,
                     what: str, fix: str):
    """``(cid, items)``: the catalogue's ``kind`` collection and its items over ``like``.

    Raises :class:`~terra_lab.errors.NoItemsFoundError` naming the ``what`` collection and ``fix``
    when none covers ``like``."""
    cat = open_catalog(catalog)
    cid = find_collection(cat, kind, collection)
    res = cat.search(_bbox4326(like), collections=cid)
    if len(res) == 0:
        raise NoItemsFoundError(f"the {what} collection {cid!r} of {cat.name!r} does not cover the area; {fix}")
    return cid, res


def load_dem(catalog: Any, like: xr.Dataset | xr.DataArray, *, collection: str | None = None) -> xr.DataArray:
    """Elevation (m) of the catalogue's DEM collection on the grid of ``like`` (lazy, (y, x)).

    Raises :class:`~terra_lab.errors.UnknownCollectionError` when the catalogue has no DEM
    collection and :class:`~terra_lab.errors.NoItemsFoundError` when it does not cover ``like``.
    """
    import terra_lab

    _, res = _search_covering(catalog, like, "dem", collection, "DEM",
                              "add DEM tiles of it or pass dem_collection= another DEM collection")
    return _grid(terra_lab.load(res, bands=["elevation"], like=like, masks=False)["elevation"])


def _bbox4326(like) -> tuple[float, float, float, float]:
    from pyproj import Transformer

    x, y = like["x"].values, like["y"].values
    crs = like.rio.crs
    tr = Transformer.from_crs(crs, 4326, always_xy=True)
    lon, lat = tr.transform([x.min(), x.max(), x.min(), x.max()], [y.min(), y.min(), y.max(), y.max()])
    return (float(min(lon)), float(min(lat)), float(max(lon)), float(max(lat)))


def load_landcover(catalog: Any, like: xr.Dataset | xr.DataArray, *, collection: str | None = None,
                   date: Any = None) -> xr.DataArray:
    """OSO land-cover classes (23-class codes) of the catalogue on the grid of ``like`` ((y, x), lazy).

    ``date``: the map of the year nearest to it is taken (default: the latest map).  Classes
    are read with nearest-neighbour resampling (codes are never averaged).
    """
    import pandas as pd

    import terra_lab

    cid, res = _search_covering(catalog, like, "landcover", collection, "land-cover",
                                "pass landcover_collection= another OSO collection")
    times = pd.to_datetime([it["properties"]["datetime"] for it in res.items], utc=True).tz_convert(None)
    if date is None:
        year = times.max().year
    else:
        target = pd.Timestamp(date)
        year = times[np.argmin(np.abs((times - target).days))].year
    items = [it for it, t in zip(res.items, times) if t.year == year]
    lc = terra_lab.load(items, bands=["landcover"], like=like, masks=False, resampling="nearest")["landcover"]
    lc = _grid(lc)
    lc.attrs.setdefault("terra_lab:collections", cid)
    return lc.rename("landcover")


def forest_mask(landcover: xr.DataArray, classes=FOREST_CLASSES) -> xr.DataArray:
    """Forest pixels of an OSO land-cover map (broad-leaved and coniferous forest by default)."""
    return landcover.isin(list(classes)).rename("forest")


def find_landcover(cat: Any, collection: str | None, *, require: bool, notes: list, note: str) -> str | None:
    """The catalogue's OSO land-cover collection id; None, with the ``note`` key appended to ``notes``,
    when it has none, unless ``require`` or ``collection`` asks for one (then the
    :class:`UnknownCollectionError` names the fix)."""
    try:
        return find_collection(cat, "landcover", collection)
    except UnknownCollectionError:
        if require or collection:
            raise
        notes.append(Note(note, catalog=cat.name))
        return None


def landcover_mask(cat: Any, like: xr.Dataset | xr.DataArray, *, collection: str | None, date: Any, classes,
                   require: bool, notes: list) -> tuple[str | None, xr.DataArray | None]:
    """``(land-cover collection id, mask of its ``classes`` on ``like``'s grid, computed)`` from the
    catalogue's OSO land cover, or ``(None, None)`` and a ``no_landcover_forest`` note (see
    :func:`find_landcover`)."""
    lc_id = find_landcover(cat, collection, require=require, notes=notes, note="no_landcover_forest")
    if lc_id is None:
        return None, None
    return lc_id, forest_mask(load_landcover(cat, like, collection=lc_id, date=date), classes=classes).compute()
