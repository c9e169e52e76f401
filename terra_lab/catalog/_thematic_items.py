"""STAC items from THEIA's thematic and non-Sentinel-2 product folders, each in its GEODES collection.

Recognised folder names (as THEIA delivers them):

* ``SENTINEL2A_YYYYMMDD-HHMMSS-mmm_L2B-SNOW_TXXXXX_C_V2-0`` (snow L2B, ``*_SNW_R2.tif``);
* ``LIS_S2-SNOW-FSC_TXXXXX_YYYYMMDDTHHMMSS_1-10_01.tif`` with its ``LIS_S2-SNOW-FSC-QCFLAGS_...``
  twin (snow L2B since LIS 1.7, loose or in a folder; assets ``FSC`` and ``QCFLAGS``);
* ``MULTISAT_YYYYMMDD-000000-000_L3B-SNOW_TXXXXX_C_V1-0`` (snow L3B: SCD, SOD, SMD, NOBS);
* ``SENTINEL2X_YYYYMMDD-000000-000_L3A_TXXXXX_C_V1-1`` (WASP monthly synthesis);
* ``LANDSAT8-OLITIRS-XS_..._L2A_...`` and ``VENUS-XS_..._L2A_SITE_C_V3-1`` (MUSCATE L2A, XS masks);
* ``SENTINEL2A_YYYYMMDD-HHMMSS-mmm_L2B-WATERQUAL_TXXXXX_C_V1-0`` (water quality: ``TUR_R2``, ``SPM_R2``,
  ``CHL_R2``, ``QUALITY_R2``) and ``..._L2B-BIOPHY_..._C_V1-0`` (``LAI_R2``, ``FAPAR_R2``, ``FCOVER_R2``,
  ``FLAGS_R2``): names and files as :mod:`terra_lab.profiles._thematic` states them, not verified
  against delivered products (no published description was found);
* ``OSO_YYYY0101_RASTER_V1-0`` holding ``DATA/OCS_YYYY.tif`` (land cover) with
  ``OCS_YYYY_Confidence.tif`` and ``OCS_YYYY_Validity.tif``; the 2016 map's ``OCS_2016_CESBIO.tif``.

Asset keys are the file names without the product name (``SNW_R2``, ``FRC_B2``, ``CLM_XS``...), as
for the Sentinel-2 L2A items of :mod:`terra_lab.catalog._theia_items`; Sentinel-2 L2A folders are
left to that module.  Each item's collection is the GEODES id of its product type, and its
profile (:mod:`terra_lab.profiles`) is found from that id.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import rasterio
import shapely.geometry
from pyproj import Transformer

from ..errors import AssetReadError
from ..profiles import CollectionProfile, profile_for_item
from ..profiles import _collections as C
from ._zip import ZipDir, rebase_vsizip, verify_zip

__all__ = [
    "FSC_RE",
    "OSO_RE",
    "THEMATIC_RE",
    "find_fsc_products",
    "find_thematic_products",
    "fsc_item",
    "thematic_item",
    "thematic_items_from_folder",
    "thematic_items_from_zip",
]

THEMATIC_RE = re.compile(
    r"^(?P<platform>[A-Z0-9]+(?:-[A-Z0-9]+)*)_(?P<date>\d{8})-(?P<time>\d{6})-(?P<ms>\d{3})"
    r"_(?P<level>L2A|L3A|L2B-SNOW|L3B-SNOW|L2B-WATERQUAL|L2B-BIOPHY)_(?P<tile>[A-Za-z0-9-]+?)_(?P<kind>[A-Z])_V(?P<version>\d+-\d+)$"
)
OSO_RE = re.compile(r"^OSO_(?P<date>\d{8})_RASTER_V(?P<version>\d+-\d+)$")
FSC_RE = re.compile(r"^LIS_S2-SNOW-FSC(?P<qc>-QCFLAGS)?_(?P<tile>T\w{5})_(?P<time>\d{8}T\d{6})"
                    r"_(?P<version>\d+-\d+)_(?P<n>\d+)\.tif$")
_OSO_FILE = re.compile(r"^OCS_(?P<year>\d{4})(?:_CESBIO)?(?:_(?P<layer>Confidence|Validity))?\.tif$", re.IGNORECASE)

_STAC_EXTENSIONS = [
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
]
_COG = "image/tiff; application=geotiff; profile=cloud-optimized"


def _collection(level: str, platform: str, gsd: float) -> str | None:
    """GEODES collection id of a product type (None: not a thematic product of this module)."""
    if level == "L2A":
        if platform.startswith("LANDSAT"):
            return C.LANDSAT8_L2A_COLLECTION
        if platform.startswith("VENUS"):
            return C.VENUS_VM5_L2A_COLLECTION if gsd < 4.5 else C.VENUS_L2A_COLLECTION
        return None  # Sentinel-2 L2A: catalog._theia_items
    return {"L2B-SNOW": C.SNOW_L2B_COLLECTION, "L3B-SNOW": C.SNOW_L3B_COLLECTION, "L3A": C.S2_L3A_COLLECTION,
            "L2B-WATERQUAL": C.WATERQUAL_L2B_COLLECTION, "L2B-BIOPHY": C.BIOPHY_L2B_COLLECTION}[level]


def find_thematic_products(root: str | os.PathLike) -> list[Path]:
    """Every thematic / Landsat / Venus product folder under ``root`` (sorted by name)."""
    root = Path(root)
    if not root.exists():
        raise AssetReadError(f"the folder {str(root)!r} does not exist; give the folder holding THEIA products")
    cands = [p for p in root.rglob("*") if p.is_dir()] + [root]
    return sorted({p for p in cands if _is_thematic(p.name)}, key=lambda p: p.name)


def _is_thematic(name: str) -> bool:
    """A product folder name of this module (Sentinel-2 L2A ones belong to catalog._theia_items)."""
    m = THEMATIC_RE.match(name)
    return bool(OSO_RE.match(name) or (m and (m["level"] != "L2A" or m["platform"].startswith(("LANDSAT", "VENUS")))))


def _tifs(pdir) -> list:
    """GeoTIFFs under a folder or a folder of a zip (:class:`~terra_lab.catalog._zip.ZipDir`), sorted."""
    if not isinstance(pdir, zipfile.Path):
        return sorted(p for p in Path(pdir).rglob("*.tif") if p.is_file())
    out, todo = [], [pdir]
    while todo:
        for p in todo.pop().iterdir():
            if p.is_dir():
                todo.append(p)
            elif p.name.lower().endswith(".tif"):
                out.append(p)
    return sorted(out, key=lambda p: p.at)


def _asset_key(product: str, path: Path) -> str | None:
    if path.suffix.lower() != ".tif":
        return None
    m = _OSO_FILE.match(path.name)
    if product.startswith("OSO_") and m:
        return "OCS" + (f"_{m['layer'].capitalize()}" if m["layer"] else "")
    stem = path.stem
    return stem[len(product) + 1:] if stem.startswith(product + "_") else None


def _asset(path: Path, key: str, profile: CollectionProfile, root: Path | None) -> dict:
    with rasterio.open(os.fspath(path)) as ds:
        t = ds.transform
        asset = {
            "href": str(path) if root is None or isinstance(path, zipfile.Path) else os.path.relpath(path, root),
            "type": _COG, "roles": ["data"], "title": key,
            "proj:epsg": ds.crs.to_epsg(), "proj:shape": [ds.height, ds.width],
            "proj:transform": [t.a, t.b, t.c, t.d, t.e, t.f], "gsd": abs(t.a),
        }
        band = {"data_type": ds.dtypes[0]}
    name = next((n for n, s in profile.bands.items() if s.asset == key), None)
    if name is None:  # masks, weights, dates...: described by their key only
        asset["roles"] = ["data-mask" if key.split("_")[0] in ("CLM", "MG2", "EDG", "SAT", "FLG") else "metadata"]
    else:
        dec = profile.decoding(name)
        asset["title"] = dec.long_name or name
        if dec.nodata:
            band["nodata"] = dec.nodata[0]
        if dec.kind != "categorical" and (dec.scale != 1 or dec.offset != 0):
            band.update(scale=dec.scale, offset=dec.offset)
        if dec.units:
            band["unit"] = dec.units
    asset["raster:bands"] = [band]
    return asset


def _when(date: str, time: str = "000000", ms: str = "000") -> dt.datetime:
    return dt.datetime.strptime(date + time, "%Y%m%d%H%M%S").replace(microsecond=int(ms) * 1000, tzinfo=dt.timezone.utc)


def _iso(t: dt.datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def thematic_item(pdir: str | os.PathLike, *, root: str | os.PathLike | None = None,
                  collection: str | None = None) -> dict:
    """A STAC item (dict) for one product folder; ``collection`` overrides its GEODES collection id."""
    pdir = pdir if isinstance(pdir, zipfile.Path) else Path(pdir)  # a folder, or one inside a zip (ZipDir)
    name = pdir.name
    files = _tifs(pdir)
    if not files:
        raise AssetReadError(f"product {name!r} holds no GeoTIFF; re-download it")
    with rasterio.open(os.fspath(files[0])) as ds:
        gsd = abs(ds.transform.a)
    props: dict = {"theia:product_id": name}
    m, o = THEMATIC_RE.match(name), OSO_RE.match(name)
    if m is not None:
        when = _when(m["date"], m["time"], m["ms"])
        coll = _collection(m["level"], m["platform"], gsd)
        if coll is None:
            raise AssetReadError(f"{name!r} is a Sentinel-2 L2A product: index it with catalog._theia_items")
        platform = re.sub(r"^(sentinel|landsat)(\d)", r"\1-\2", m["platform"].split("-")[0].lower())
        props.update({"platform": platform, "processing:level": m["level"].split("-")[0], "theia:tile": m["tile"],
                      "theia:product_version": m["version"].replace("-", ".")})
        if m["level"] == "L3B-SNOW":  # a hydrological year, 1 September - 31 August
            end = dt.datetime(when.year + 1, 8, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
            props.update(start_datetime=_iso(when), end_datetime=_iso(end))
    elif o is not None:
        when, coll = _when(o["date"]), C.OSO_COLLECTION
        end = dt.datetime(when.year, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
        props.update({"processing:level": "L3B", "start_datetime": _iso(when), "end_datetime": _iso(end),
                      "theia:product_version": o["version"].replace("-", ".")})
    else:
        raise AssetReadError(f"{name!r} is not a THEIA product name this module knows (see its docstring)")
    keys = {p: _asset_key(name, p) for p in files}
    return _assemble(name, {p: k for p, k in keys.items() if k}, props, when, collection or coll, root)


def _assemble(name: str, keys: dict[Path, str], props: dict, when: dt.datetime, coll: str,
              root: str | os.PathLike | None) -> dict:
    """The item of product ``name`` from its files (path -> asset key) and properties."""
    first = next(iter(keys))
    with rasterio.open(os.fspath(first)) as ds:
        epsg, gsd, b = ds.crs.to_epsg(), abs(ds.transform.a), ds.bounds
    props = {**props, "datetime": _iso(when), "proj:epsg": epsg, "gsd": gsd}
    item: dict[str, Any] = {"type": "Feature", "stac_version": "1.0.0", "stac_extensions": list(_STAC_EXTENSIONS), "id": name,
            "collection": coll, "links": [], "properties": props, "assets": {k: {} for k in keys.values()}}
    profile = profile_for_item(item)
    rootp = Path(root) if root is not None else None
    item["assets"] = {k: _asset(p, k, profile, rootp) for p, k in keys.items()}
    props["gsd"] = min(a["gsd"] for a in item["assets"].values())  # the finest native resolution
    to_ll = Transformer.from_crs(epsg, 4326, always_xy=True)
    lon, lat = to_ll.transform([b.left, b.right, b.right, b.left], [b.top, b.top, b.bottom, b.bottom])
    geom = shapely.geometry.Polygon(zip(lon, lat))
    item.update(geometry=shapely.geometry.mapping(geom), bbox=list(geom.bounds))
    return item


def find_fsc_products(root: str | os.PathLike) -> dict[str, list[Path]]:
    """LIS 1.7+ snow products under ``root`` (loose or in folders): product id -> its GeoTIFFs."""
    out: dict[str, list[Path]] = {}
    for p in sorted(Path(root).rglob("LIS_S2-SNOW-FSC*.tif")):
        m = FSC_RE.match(p.name)
        if m:
            out.setdefault(f"LIS_S2-SNOW-FSC_{m['tile']}_{m['time']}_{m['version']}_{m['n']}", []).append(p)
    return out


def fsc_item(pid: str, files: list[Path], *, root: str | os.PathLike | None = None,
             collection: str | None = None) -> dict:
    """A STAC item for one LIS 1.7+ snow product (``FSC`` and ``QCFLAGS`` rasters)."""
    m = FSC_RE.match(pid + ".tif")
    if m is None:
        raise AssetReadError(f"{pid!r} is not a LIS 1.7+ snow product id (LIS_S2-SNOW-FSC_TXXXXX_YYYYMMDDTHHMMSS_V_N)")
    when = dt.datetime.strptime(m["time"], "%Y%m%dT%H%M%S").replace(tzinfo=dt.timezone.utc)
    keys = {p: "QCFLAGS" if (f := FSC_RE.match(p.name)) and f["qc"] else "FSC" for p in files}
    props = {"theia:product_id": pid, "platform": "sentinel-2", "processing:level": "L2B", "theia:tile": m["tile"],
             "theia:product_version": m["version"].replace("-", ".")}
    return _assemble(pid, keys, props, when, collection or C.SNOW_L2B_COLLECTION, root)


def thematic_items_from_zip(path: str | os.PathLike, *, href_root: str | os.PathLike | None = None) -> Iterator[dict]:
    """Items of the thematic / Landsat / Venus products inside a zip, read in place (``/vsizip/`` hrefs).

    ``href_root``: the zip's path in the hrefs is written relative to it; absolute when None.
    """
    names = type("_ThematicNames", (), {"match": staticmethod(_is_thematic)})  # what ZipDir.products asks of a pattern
    folders = ZipDir.products(path, names)
    fsc: dict[str, list] = {}
    for p in _tifs(ZipDir(os.fspath(path))):
        m = FSC_RE.match(p.name)
        if m:
            fsc.setdefault(f"LIS_S2-SNOW-FSC_{m['tile']}_{m['time']}_{m['version']}_{m['n']}", []).append(p)
    if not folders and not fsc:  # e.g. a zipped Sentinel-2 L2A product: catalog._ingest.items_from_zip
        return
    verify_zip(path)
    items = [thematic_item(p) for p in folders] + [fsc_item(pid, files) for pid, files in sorted(fsc.items())]
    for item in items:
        if href_root is not None:
            rel = os.path.relpath(os.fspath(path), href_root)
            for asset in item["assets"].values():
                asset["href"] = rebase_vsizip(asset["href"], rel)
        yield item


def thematic_items_from_folder(root: str | os.PathLike, *, href_root: str | os.PathLike | None = None) -> Iterator[dict]:
    """Items of every thematic / Landsat / Venus product under ``root``, each with its GEODES collection id."""
    for pdir in find_thematic_products(root):
        yield thematic_item(pdir, root=href_root)
    for pid, files in find_fsc_products(root).items():
        yield fsc_item(pid, files, root=href_root)
