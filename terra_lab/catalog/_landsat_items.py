"""STAC items for USGS Landsat 8/9 Collection 2 Level-2 product folders, as the large providers publish them.

A USGS Level-2 science product is a folder (or a tar, extracted) named
``LC09_L2SP_PPPRRR_YYYYMMDD_yyyymmdd_02_T1`` holding one GeoTIFF per band:
``*_SR_B1.TIF``..``*_SR_B7.TIF`` (surface reflectance), ``*_ST_B10.TIF`` (surface temperature),
``*_QA_PIXEL.TIF`` [1]_.  The items follow Planetary Computer's and Earth Search's ``landsat-c2-l2``:
assets keyed by common name (``coastal``, ``blue``, ``green``, ``red``, ``nir08``, ``swir16``,
``swir22``, ``lwir11``, ``qa_pixel``), with the scale and offset of each band in ``raster:bands``
(``raster_bands="asset"``), or without them (``raster_bands="none"``, as some catalogues serve them:
the profile's defaults then apply, :data:`terra_lab.profiles.LANDSAT_C2_L2`).

References
----------
.. [1] USGS, Landsat 8-9 Collection 2 Level 2 Science Product Guide, LSDS-1619.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import AssetReadError
from ..profiles import _collections as C
from ._thematic_items import _assemble, _when

__all__ = ["C2_L2_FILES", "C2_L2_RE", "find_landsat_c2_products", "landsat_c2_item", "landsat_c2_items_from_folder"]

C2_L2_RE = re.compile(
    r"^(?P<sensor>L[CO])(?P<sat>0[89])_L2SP_(?P<path>\d{3})(?P<row>\d{3})_(?P<date>\d{8})_(?P<processed>\d{8})"
    r"_(?P<collection>02)_(?P<tier>T1|T2|RT)$"
)
#: File suffix -> asset key (the providers' common names).
C2_L2_FILES = {
    "SR_B1": "coastal", "SR_B2": "blue", "SR_B3": "green", "SR_B4": "red", "SR_B5": "nir08",
    "SR_B6": "swir16", "SR_B7": "swir22", "ST_B10": "lwir11", "QA_PIXEL": "qa_pixel",
}
_VARIANTS = ("asset", "none")


def landsat_c2_item(pdir: str | os.PathLike, *, root: str | os.PathLike | None = None,
                    collection: str = C.LANDSAT_C2_L2_COLLECTION, raster_bands: str = "asset",
                    acquired: dt.datetime | None = None) -> dict:
    """A STAC item (dict) for one Collection 2 Level-2 folder.

    ``root``: hrefs relative to this folder (a catalogue's); ``raster_bands``: ``"asset"`` (scale and
    offset declared per asset) or ``"none"`` (no scale/offset declared); ``acquired``: the scene
    centre time (default: the folder's date at 10:30 UTC, about the descending overpass over Europe).
    """
    if raster_bands not in _VARIANTS:
        raise ValueError(f"raster_bands={raster_bands!r}: use one of {_VARIANTS}")
    pdir = Path(pdir)
    m = C2_L2_RE.match(pdir.name)
    if m is None:
        raise AssetReadError(f"{pdir.name!r} is not a USGS Collection 2 Level-2 product name "
                             "(LC09_L2SP_PPPRRR_YYYYMMDD_yyyymmdd_02_T1)")
    keys = {}
    for f in sorted(pdir.iterdir()):
        suffix = f.stem[len(pdir.name) + 1:] if f.stem.startswith(pdir.name + "_") else ""
        if f.suffix.lower() in (".tif", ".tiff") and suffix in C2_L2_FILES:
            keys[f] = C2_L2_FILES[suffix]
    if "qa_pixel" not in keys.values() or len(keys) < 2:
        raise AssetReadError(f"product {pdir.name!r} lacks its QA_PIXEL or band GeoTIFFs (found {sorted(keys.values())}); "
                             "extract the whole USGS archive")
    when = acquired or _when(m["date"], "103000")
    props = {
        "platform": f"landsat-{int(m['sat'])}", "instruments": ["oli", "tirs"] if m["sensor"] == "LC" else ["oli"],
        "landsat:wrs_path": m["path"], "landsat:wrs_row": m["row"], "landsat:collection_category": m["tier"],
        "landsat:collection_number": m["collection"], "processing:level": "L2SP",
    }
    item = _assemble(pdir.name, keys, props, when, collection, root)
    for asset in item["assets"].values():
        band = asset["raster:bands"][0]
        if raster_bands == "none":
            band.pop("scale", None)
            band.pop("offset", None)
        if asset["title"] == "qa_pixel":
            asset["roles"] = ["cloud", "data-mask"]
    return item


def landsat_c2_items_from_folder(root: str | os.PathLike, *, href_root: str | os.PathLike | None = None,
                                 collection: str = C.LANDSAT_C2_L2_COLLECTION,
                                 raster_bands: str = "asset") -> Iterator[dict]:
    """Items of every Collection 2 Level-2 folder under ``root`` (sorted by name)."""
    root = Path(root)
    if not root.exists():
        raise AssetReadError(f"the folder {str(root)!r} does not exist; give the folder holding the Landsat products")
    for pdir in find_landsat_c2_products(root):
        yield landsat_c2_item(pdir, root=href_root, collection=collection, raster_bands=raster_bands)


def find_landsat_c2_products(root: str | os.PathLike) -> list[Path]:
    """Every Collection 2 Level-2 product folder under ``root`` (sorted by name)."""
    return sorted((p for p in Path(root).rglob("*") if p.is_dir() and C2_L2_RE.match(p.name)), key=lambda p: p.name)
