"""Index THEIA L2A products (folders, zip files as THEIA delivers them, tar archives) into a local catalogue.

A ``.zip`` is indexed in place: its rasters are read through GDAL's ``/vsizip/`` (item hrefs
``/vsizip/PATH.zip/PRODUCT/FILE.tif``), after a check that every member reads to its end.
A tar archive is unpacked once under ``$TERRA_LAB_HOME/archives`` (tar has no index to read
members in place efficiently).
"""

from __future__ import annotations

import os
import shutil
import tarfile
import warnings
from pathlib import Path
from typing import Iterator

from .._paths import data_home
from ..errors import AssetReadError, NoItemsFoundError, TerraLabWarning
from ._local import LocalCatalog
from ._theia_items import PRODUCT_RE, item_from_product, items_from_folder
from ._thematic_items import thematic_items_from_folder, thematic_items_from_zip
from ._zip import ZipDir, split_vsizip, verify_zip, vsizip_href

__all__ = ["ingest", "items_from_zip", "local_catalog"]

DEFAULT_COLLECTION = "SENTINEL2_L2A_THEIA"
_TARS = (".tar.gz", ".tgz", ".tar")


def local_catalog() -> LocalCatalog:
    """The user's own local catalogue (``$TERRA_LAB_HOME/catalog``), where ``ingest`` writes."""
    return LocalCatalog(data_home() / "catalog", name="local")


def _extract(archive: Path) -> Path:
    """Unpack a .tgz/.tar.gz/.tar once into ``$TERRA_LAB_HOME/archives/<name>`` (atomically)."""
    name = archive.name
    for suffix in _TARS:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    dest = data_home() / "archives" / name
    if dest.exists():
        return dest
    tmp = dest.parent / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
    except (tarfile.TarError, OSError, EOFError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AssetReadError(f"could not unpack {str(archive)!r}: {e}; check the archive is complete") from e
    os.replace(tmp, dest)
    return dest


def items_from_zip(path: str | os.PathLike, *, collection: str, href_root: str | os.PathLike | None = None) -> Iterator[dict]:
    """Items of every product inside the zip ``path``, read in place (``/vsizip/`` hrefs).

    ``href_root``: the zip's path in the hrefs is written relative to it (a catalogue that can
    be moved with its archive, see :class:`~terra_lab.catalog.LocalCatalog`); absolute when None.

    The archive is first read to its end (CRC of every member): a truncated download raises
    :class:`~terra_lab.errors.AssetReadError` naming the file.  Products without any valid
    pixel are skipped with a warning, as for folders.
    """
    verify_zip(path)
    products = ZipDir.products(path, PRODUCT_RE)
    empty = 0
    for pdir in products:
        item = item_from_product(pdir, collection=collection)
        if item is None:
            empty += 1
            continue
        if href_root is not None:
            rel = os.path.relpath(os.fspath(path), href_root)
            for asset in item["assets"].values():
                asset["href"] = vsizip_href(rel, split_vsizip(asset["href"])[1])
        yield item
    if empty:
        warnings.warn(f"{empty} of {len(products)} products in {os.fspath(path)!r} hold no valid pixel and "
                      "were not indexed", TerraLabWarning, stacklevel=2)


def _items(path: Path, collection: str) -> list[dict]:
    if path.is_file() and path.suffix.lower() == ".zip":
        return list(items_from_zip(path, collection=collection))
    if path.is_file():
        if not path.name.lower().endswith(_TARS):
            raise AssetReadError(f"{str(path)!r} is neither a folder, a .zip nor a .tar/.tgz of THEIA L2A products")
        path = _extract(path)
    items = list(items_from_folder(path, collection=collection))
    for z in sorted(p for p in path.rglob("*") if p.suffix.lower() == ".zip" and p.is_file()):  # zipped products
        items += items_from_zip(z, collection=collection)
    return items


def _thematic_items(path: Path) -> list[dict]:
    """Thematic / Landsat / Venus products of a folder (unpacked or zipped) or of one zip."""
    if path.is_file():
        return list(thematic_items_from_zip(path)) if path.suffix.lower() == ".zip" else []
    items = list(thematic_items_from_folder(path))
    for z in sorted(p for p in path.rglob("*") if p.suffix.lower() == ".zip" and p.is_file()):
        items += thematic_items_from_zip(z)
    return items


def ingest(path: str | os.PathLike, *, collection: str = DEFAULT_COLLECTION, catalog: LocalCatalog | None = None) -> int:
    """Add every THEIA L2A product found under ``path`` to ``catalog`` (default: the local one).

    ``path`` may be a product folder, a folder of products (unpacked or zipped), a product
    ``.zip`` as THEIA delivers it (indexed in place, read through ``/vsizip/``) or a tar
    archive.  Returns the number of items in the collection afterwards.  Products without any
    valid pixel are skipped with a warning.
    """
    path = Path(path).expanduser().resolve()
    if not path.exists():
        raise AssetReadError(f"{str(path)!r} does not exist; give a folder, a .zip or a .tgz of THEIA L2A products")
    catalog = catalog or local_catalog()
    items = _items(path, collection)
    thematic = _thematic_items(path)  # snow, OSO, L3A, Landsat, Venus...
    for coll in sorted({it["collection"] for it in thematic}):  # each product type in its GEODES collection
        catalog.add_items([it for it in thematic if it["collection"] == coll], collection=coll)
    if not items and thematic:
        return len(thematic)
    if not items:
        raise NoItemsFoundError(
            f"no THEIA L2A product with valid pixels under {str(path)!r} (folders or zips named like "
            "SENTINEL2A_20180101-105435-459_L2A_T31TCJ_C_V2-2)"
        )
    return catalog.add_items(items, collection=collection)
