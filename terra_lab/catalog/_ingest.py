"""Index THEIA L2A products (folders, zip files as THEIA delivers them, tar archives) into a local catalogue.

A ``.zip`` is indexed in place: its rasters are read through GDAL's ``/vsizip/`` (item hrefs
``/vsizip/PATH.zip/PRODUCT/FILE.tif``), after a check that every member reads to its end.
A tar archive is unpacked once under ``$TERRA_LAB_HOME/archives`` (tar has no index to read
members in place efficiently), read to the end of its compressed stream (gzip/bz2/xz check
their CRC there), under a lock per archive: a second ingest of the same archive waits and
reuses the first one's folder.  Temporary folders are removed on every exit path, and those
of a killed unpacking by the next one.

A product that cannot be read (a damaged band, a symlink to a non-raster, a corrupt zip) is
skipped with a :class:`~terra_lab.errors.TerraLabWarning` naming it; the others are indexed.
"""

from __future__ import annotations

import lzma
import os
import shutil
import tarfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from rasterio.errors import RasterioError

from .._paths import data_home
from ..errors import AssetReadError, NoItemsFoundError, TerraLabError, TerraLabWarning
from ._ids import validate_collection_id
from ._landsat_items import find_landsat_c2_products, landsat_c2_item
from ._local import LocalCatalog
from ._lock import exclusive_lock
from ._theia_items import PRODUCT_RE, find_products, item_from_product
from ._thematic_items import (
    find_fsc_products,
    find_thematic_products,
    fsc_item,
    thematic_item,
    thematic_items_from_zip,
)
from ._zip import ZipDir, rebase_vsizip, verify_zip

__all__ = ["ingest", "items_from_zip", "local_catalog"]

DEFAULT_COLLECTION = "SENTINEL2_L2A_THEIA"
_TARS = (".tar.gz", ".tgz", ".tar")
_UNPACK_TIMEOUT = 3600.0  # s that a second ingest of one archive waits for the first one's unpacking
# what reading a damaged product raises (anything else is a bug and propagates)
_READ_ERRORS = (TerraLabError, RasterioError, OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


def local_catalog() -> LocalCatalog:
    """The user's own local catalogue (``$TERRA_LAB_HOME/catalog``), where ``ingest`` writes."""
    return LocalCatalog(data_home() / "catalog", name="local")


def _archive_stem(archive: Path) -> str:
    name = archive.name
    for suffix in _TARS:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _unpack(archive: Path, dest: Path) -> None:
    """Unpack ``archive`` into ``dest``, reading the compressed stream to its end (its CRC check)."""
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
            # tar stops at its end-of-archive blocks, before gzip's trailer: read on, so a corrupt
            # archive fails here and not when a pixel is first computed
            while tar.fileobj.read(1 << 20):
                pass
    except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as e:
        raise AssetReadError(
            f"could not unpack {str(archive)!r}: {e}; the archive is truncated or corrupt: download it again"
        ) from e


def _extract(archive: Path) -> Path:
    """Unpack a .tgz/.tar.gz/.tar once into ``$TERRA_LAB_HOME/archives/<name>`` (atomically, under a lock)."""
    home = data_home() / "archives"
    name = _archive_stem(archive)
    dest = home / name
    with exclusive_lock(home / f".{name}.lock", timeout=_UNPACK_TIMEOUT, what=f"the unpacking of {str(archive)!r}"):
        if dest.exists():  # unpacked before (complete: it appears in one rename)
            return dest
        for stale in home.glob(f".{name}.tmp-*"):  # left by a killed unpacking
            shutil.rmtree(stale, ignore_errors=True)
        tmp = home / f".{name}.tmp-{os.getpid()}"
        tmp.mkdir(parents=True)
        try:
            _unpack(archive, tmp)
            os.replace(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
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
                asset["href"] = rebase_vsizip(asset["href"], rel)
        yield item
    if empty:
        warnings.warn(f"{empty} of {len(products)} products in {os.fspath(path)!r} hold no valid pixel and "
                      "were not indexed", TerraLabWarning, stacklevel=2)


def _units(path: Path, collection: str) -> list[tuple[str, Callable[[], list[dict] | dict | None]]]:
    """(name, reader) of every product (or zip) under ``path``; a reader returns its items, its
    item, or None for a product without any valid pixel."""
    if path.is_file() and path.suffix.lower() == ".zip":
        zips, folder = [path], None
    elif path.is_file():
        if not path.name.lower().endswith(_TARS):
            raise AssetReadError(f"{str(path)!r} is neither a folder, a .zip nor a .tar/.tgz of THEIA L2A products")
        folder = _extract(path)
        zips = []
    else:
        folder = path
    units: list[tuple[str, Callable[..., list[dict] | dict | None]]] = []
    if folder is not None:
        zips = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".zip" and p.is_file())
        for pdir in find_products(folder):  # Sentinel-2 L2A (None: no valid pixel)
            units.append((str(pdir), lambda p=pdir: item_from_product(p, collection=collection)))
        for pdir in find_thematic_products(folder):  # snow, OSO, L3A, Landsat, Venus...
            units.append((str(pdir), lambda p=pdir: [thematic_item(p)]))
        for pid, files in find_fsc_products(folder).items():  # LIS 1.7+ snow
            units.append((str(files[0].parent / pid), lambda p=pid, f=files: [fsc_item(p, f)]))
        for pdir in find_landsat_c2_products(folder):  # USGS Landsat Collection 2 Level-2 (SR + ST)
            units.append((str(pdir), lambda p=pdir: [landsat_c2_item(p)]))
    for z in zips:
        units.append((str(z), lambda z=z: list(items_from_zip(z, collection=collection)) + list(thematic_items_from_zip(z))))
    return units


def _read_all(units: list, path: Path) -> list[dict]:
    """Items of every unit of :func:`_units`; an unreadable one is skipped with a warning naming it."""
    items: list[dict] = []
    failed: list[str] = []
    empty = 0
    for name, read in units:
        try:
            got = read()
        except _READ_ERRORS as e:
            failed.append(f"{name!r}: {e}")
            continue
        if got is None:
            empty += 1
        else:
            items += [got] if isinstance(got, dict) else got
    if empty:
        warnings.warn(f"{empty} of {len(units)} products under {str(path)!r} hold no valid pixel (outside the "
                      "orbit's swath) and were not indexed", TerraLabWarning, stacklevel=3)
    if failed and not items:
        raise AssetReadError(
            f"nothing could be indexed under {str(path)!r}: {len(failed)} unreadable product(s): "
            + "; ".join(failed[:3]) + (" ..." if len(failed) > 3 else "") + "; re-download them or remove them"
        )
    for reason in failed:
        warnings.warn(f"skipped the unreadable product {reason}; the other products are indexed; "
                      "re-download it or remove it", TerraLabWarning, stacklevel=3)
    return items


def ingest(path: str | os.PathLike, *, collection: str = DEFAULT_COLLECTION, catalog: LocalCatalog | None = None) -> int:
    """Add every THEIA L2A product found under ``path`` to ``catalog`` (default: the local one).

    ``path`` may be a product folder, a folder of products (unpacked or zipped), a product
    ``.zip`` as THEIA delivers it (indexed in place, read through ``/vsizip/``) or a tar
    archive.  Returns the number of items in the collection afterwards.  Products without any
    valid pixel are skipped with a warning, and so are unreadable ones (the warning names them;
    :class:`~terra_lab.errors.AssetReadError` when none could be read).  Safe to run several at
    once on one catalogue (see :class:`~terra_lab.catalog.LocalCatalog`).
    """
    validate_collection_id(collection)
    path = Path(path).expanduser().resolve()
    if not path.exists():
        raise AssetReadError(f"{str(path)!r} does not exist; give a folder, a .zip or a .tgz of THEIA L2A products")
    catalog = catalog or local_catalog()
    units = _units(path, collection)
    n_found = len(units)
    every = _read_all(units, path)
    items = [it for it in every if it["collection"] == collection]
    thematic = [it for it in every if it["collection"] != collection]
    for coll in sorted({it["collection"] for it in thematic}):  # each product type in its GEODES collection
        catalog.add_items([it for it in thematic if it["collection"] == coll], collection=coll)
    if not items and thematic:
        return len(thematic)
    if not items:
        raise NoItemsFoundError(
            f"no THEIA L2A product with valid pixels under {str(path)!r} ({n_found} product folders or zips found; "
            "folders or zips named like SENTINEL2A_20180101-105435-459_L2A_T31TCJ_C_V2-2)"
        )
    return catalog.add_items(items, collection=collection)
