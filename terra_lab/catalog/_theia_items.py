"""STAC items from THEIA/MUSCATE Sentinel-2 L2A product folders.

Reads only what is on disk: the product name (platform, acquisition time, tile,
version), raster headers (CRS, shape, transform), the metadata XML when present,
and the R2 cloud and edge masks to compute the cloud cover and the footprint of
valid data.  Works on the real THEIA products (``../shared/data/theia-zonetest``)
and on the demo archive, which share this layout.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import rasterio
import rasterio.features
import shapely
import shapely.geometry
from pyproj import Transformer

from ..errors import AssetReadError, TerraLabWarning
from ..profiles import MUSCATE_S2

__all__ = ["PRODUCT_RE", "eo_common_name", "find_products", "item_from_product", "items_from_folder", "used_extensions"]

PRODUCT_RE = re.compile(
    r"^(?P<platform>SENTINEL2[A-D]?|LANDSAT8|VENUS)_(?P<date>\d{8})-(?P<time>\d{6})-(?P<ms>\d{3})"
    r"_L2A_(?P<tile>T?\w{5}|\w+)_(?P<kind>[A-Z])_V(?P<version>\d+-\d+)$"
)

STAC_EXTENSIONS = [
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "https://stac-extensions.github.io/view/v1.0.0/schema.json",
]

_EXTENSION_PREFIX = {"projection": "proj"}  # field prefix of an extension, when not its name

_COG = "image/tiff; application=geotiff; profile=cloud-optimized"
_S2_BY_NAME = {spec.s2_name: (common, spec) for common, spec in MUSCATE_S2.bands.items()}


def used_extensions(properties: dict, assets: dict, candidates: list[str] = STAC_EXTENSIONS) -> list[str]:
    """The extension schemas of ``candidates`` whose fields an item uses (in its properties or assets).

    An item declares only these: a declared extension without its fields fails the extension's
    schema (view v1.0.0 requires one ``view:`` field).
    """
    fields = {k.partition(":")[0] for k in properties} | {k.partition(":")[0] for a in assets.values() for k in a}
    used = []
    for uri in candidates:
        name = uri.split("stac-extensions.github.io/")[1].split("/")[0]
        if _EXTENSION_PREFIX.get(name, name) in fields:
            used.append(uri)
    return used


def eo_common_name(band: str) -> str:
    """The eo v1.1.0 common name of a terra_lab band name: its red-edge bands are all ``rededge``."""
    return "rededge" if re.fullmatch(r"rededge\d", band) else band


def find_products(root: str | os.PathLike) -> list[Path]:
    """All MUSCATE L2A product folders under ``root`` (sorted by name)."""
    root = Path(root)
    if not root.exists():
        raise AssetReadError(f"the folder {str(root)!r} does not exist; give the folder holding THEIA L2A products")
    found = [p for p in root.rglob("*") if p.is_dir() and PRODUCT_RE.match(p.name)]
    if PRODUCT_RE.match(root.name):
        found.append(root)
    return sorted(found, key=lambda p: p.name)


def _asset_key(product: str, filename: str) -> str | None:
    if filename.endswith(".aux.xml"):  # GDAL's side-car statistics (the ZoneTest sample ships one)
        return None
    stem = filename
    for ext in (".tif", ".jpg", ".xml"):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
            break
    else:
        return None
    if not stem.startswith(product + "_"):
        return None
    return stem[len(product) + 1 :]


def _asset(path: Path, key: str, root: Path | None) -> dict:
    href = os.path.relpath(path, root) if root else str(path)
    if key.endswith("MTD_ALL"):
        return {"href": href, "type": "application/xml", "roles": ["metadata"], "title": "MUSCATE metadata"}
    if key.startswith("QKL"):
        return {"href": href, "type": "image/jpeg", "roles": ["thumbnail", "overview"], "title": "Quicklook"}
    with rasterio.open(path) as ds:
        t = ds.transform
        asset = {
            "href": href,
            "type": _COG,
            "proj:shape": [ds.height, ds.width],
            "proj:transform": [t.a, t.b, t.c, t.d, t.e, t.f],
            "proj:epsg": ds.crs.to_epsg() if ds.crs else None,
            "gsd": abs(t.a),
        }
    level, _, band = key.partition("_")
    if level in ("FRE", "SRE") and band in _S2_BY_NAME:
        common, spec = _S2_BY_NAME[band]
        asset.update(
            title=f"{level} {band} ({'flat reflectance' if level == 'FRE' else 'surface reflectance'})",
            roles=["data", "reflectance"],
        )
        asset["eo:bands"] = [{"name": band, "common_name": eo_common_name(common), "center_wavelength": spec.wavelength}]
        asset["raster:bands"] = [
            {"data_type": "int16", "nodata": MUSCATE_S2.nodata, "scale": MUSCATE_S2.scale, "offset": 0.0}
        ]
    else:
        asset.update(title=f"MAJA {key} mask", roles=["cloud" if key.startswith("CLM") else "data-mask"])
        asset["raster:bands"] = [{"data_type": "uint8"}]
    return asset


def _read_mtd(path: Path) -> dict:
    out: dict = {}
    try:
        root = ET.fromstring(path.read_bytes())  # a file, or a member of a zip (catalog._zip.ZipDir)
    except (ET.ParseError, OSError) as e:
        warnings.warn(f"unreadable metadata {path}: {e}", TerraLabWarning, stacklevel=3)
        return out
    cp = root.find(".//QUALITY_INDEX[@name='CloudPercent']")
    if cp is not None and cp.text:
        out["cloud_percent"] = float(cp.text)
    zen = root.find(".//Sun_Angles/ZENITH_ANGLE")
    az = root.find(".//Sun_Angles/AZIMUTH_ANGLE")
    if zen is not None and az is not None:
        out["view:sun_elevation"] = round(90.0 - float(str(zen.text)), 4)
        out["view:sun_azimuth"] = float(str(az.text))
    out.update(_view_angles(root))
    return out


def _view_angles(root: ET.Element) -> dict:
    """``view:incidence_angle`` and ``view:azimuth`` (degrees) of a MUSCATE metadata document: its
    mean ``Incidence_Angles``, else the mean over bands of ``Mean_Viewing_Incidence_Angle_List``
    (azimuths averaged as directions); none when neither is given."""
    mean = root.find(".//Mean_Value_List/Incidence_Angles")
    pairs = [mean] if mean is not None else root.findall(".//Mean_Viewing_Incidence_Angle_List/Mean_Viewing_Incidence_Angle")
    zen, az = [], []
    for el in pairs:
        z, a = el.find("ZENITH_ANGLE"), el.find("AZIMUTH_ANGLE")
        if z is not None and a is not None and z.text and a.text:
            zen.append(float(z.text))
            az.append(math.radians(float(a.text)))
    if not zen:
        return {}
    azimuth = math.degrees(math.atan2(sum(map(math.sin, az)), sum(map(math.cos, az)))) % 360
    return {"view:incidence_angle": round(sum(zen) / len(zen), 4), "view:azimuth": round(azimuth, 4)}


def _mask_stats(pdir: Path, name: str) -> tuple[float | None, float, shapely.Geometry | None, int | None]:
    """(cloud %, valid fraction, valid footprint in the product CRS, EPSG) from the R2 masks."""
    # in-swath pixels are read from B11 (20 m, the grid of the R2 masks), as fordead does
    candidates = [pdir / f"{name}_{lvl}_{b}.tif" for lvl in ("FRE", "SRE") for b in ("B11", "B12", "B8A", "B2")]
    fre = next((p for p in candidates if p.exists()), None)
    clm = pdir / "MASKS" / f"{name}_CLM_R2.tif"
    edg = pdir / "MASKS" / f"{name}_EDG_R2.tif"
    ref = next((p for p in (edg, clm, fre) if p is not None and p.exists()), None)
    if ref is None:
        return None, 0.0, None, None
    try:
        with rasterio.open(ref) as ds:
            shape, transform, crs = (ds.height, ds.width), ds.transform, ds.crs
        if edg.exists():
            with rasterio.open(edg) as ds:
                valid = ds.read(1) == 0
        else:  # no edge mask: valid where the reflectance is not nodata (resampled to the mask grid)
            with rasterio.open(fre) as ds:
                data = ds.read(1, out_shape=shape, resampling=rasterio.enums.Resampling.nearest)
            valid = data != MUSCATE_S2.nodata
        cloud = None
        if clm.exists():
            with rasterio.open(clm) as ds:
                cloudy = ds.read(1) != 0
            cloud = 100.0 * float((cloudy & valid).sum()) / valid.sum() if valid.any() else None
    except rasterio.errors.RasterioIOError as e:
        raise AssetReadError(f"product {name!r} has an unreadable mask or band ({e}); re-download it or remove it") from e
    footprint = None
    if valid.any():
        shapes = rasterio.features.shapes(valid.astype(np.uint8), transform=transform)
        polys = [shapely.geometry.shape(g) for g, v in shapes if v == 1]
        footprint = shapely.union_all(polys).simplify(abs(transform.a))
    return cloud, float(valid.mean()), footprint, crs.to_epsg()


def item_from_product(pdir: str | os.PathLike, *, collection: str, root: str | os.PathLike | None = None) -> dict | None:
    """A STAC item (dict) for one product folder, or None when the product holds no valid pixel.

    ``root``: asset hrefs are written relative to it (absolute paths when None).
    """
    folder: Path = pdir if hasattr(pdir, "glob") else Path(pdir)  # type: ignore[assignment] # or a ZipDir, Path-like
    m = PRODUCT_RE.match(folder.name)
    if m is None:
        raise AssetReadError(f"{folder.name!r} is not a THEIA L2A product name "
                             "(e.g. SENTINEL2A_20180101-105435-459_L2A_T31TCJ_C_V2-2)")
    name = folder.name
    when = dt.datetime.strptime(m["date"] + m["time"], "%Y%m%d%H%M%S").replace(
        microsecond=int(m["ms"]) * 1000, tzinfo=dt.timezone.utc
    )
    cloud, valid_fraction, footprint, epsg = _mask_stats(folder, name)
    if footprint is None:
        return None
    rootp = Path(root) if root is not None else None
    assets = {}
    for path in sorted(list(folder.glob("*")) + list((folder / "MASKS").glob("*"))):
        key = _asset_key(name, path.name)
        if key is not None and path.is_file():
            assets[key] = _asset(path, key, rootp)
    mtd = _read_mtd(folder / f"{name}_MTD_ALL.xml") if "MTD_ALL" in assets else {}
    if cloud is None:
        cloud = mtd.get("cloud_percent")
    to_ll = Transformer.from_crs(epsg, 4326, always_xy=True)
    geom = shapely.transform(footprint, lambda c: np.column_stack(to_ll.transform(c[:, 0], c[:, 1])))
    platform = m["platform"].lower().replace("sentinel2", "sentinel-2")
    props = {
        "datetime": when.isoformat().replace("+00:00", "Z"),
        "platform": platform,
        "constellation": "sentinel-2" if platform.startswith("sentinel-2") else platform,
        "instruments": ["msi"],
        "processing:level": "L2A",
        "proj:epsg": epsg,
        "grid:code": f"MGRS-{m['tile'].lstrip('T')}",
        "theia:tile": m["tile"],
        "theia:product_version": m["version"].replace("-", "."),
        "theia:product_id": name,
        "terra:valid_percent": round(100.0 * valid_fraction, 2),
    }
    if cloud is not None:
        props["eo:cloud_cover"] = round(float(cloud), 2)  # a Python float: stackstac chokes on numpy scalars
    props.update({k: v for k, v in mtd.items() if k.startswith("view:")})
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": used_extensions(props, assets),
        "id": name,
        "collection": collection,
        "geometry": shapely.geometry.mapping(geom),
        "bbox": list(geom.bounds),
        "properties": props,
        "links": [],
        "assets": assets,
    }


def items_from_folder(root: str | os.PathLike, *, collection: str, href_root: str | os.PathLike | None = None) -> Iterator[dict]:
    """Items of every product under ``root``; products with no valid pixel are skipped (with a warning)."""
    products = find_products(root)
    empty = 0
    for pdir in products:
        item = item_from_product(pdir, collection=collection, root=href_root)
        if item is None:
            empty += 1
            continue
        yield item
    if empty:
        warnings.warn(
            f"{empty} of {len(products)} products under {str(root)!r} hold no valid pixel "
            "(outside the orbit's swath) and were not indexed",
            TerraLabWarning,
            stacklevel=2,
        )
