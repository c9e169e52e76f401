"""Index folders (or tar archives) of THEIA L2A products into a local catalogue."""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

from .._paths import data_home
from ..errors import AssetReadError, NoItemsFoundError
from ._local import LocalCatalog
from ._theia_items import items_from_folder

__all__ = ["ingest", "local_catalog"]

DEFAULT_COLLECTION = "SENTINEL2_L2A_THEIA"


def local_catalog() -> LocalCatalog:
    """The user's own local catalogue (``$TERRA_LAB_HOME/catalog``), where ``ingest`` writes."""
    return LocalCatalog(data_home() / "catalog", name="local")


def _extract(archive: Path) -> Path:
    """Unpack a .tgz/.tar.gz/.tar once into ``$TERRA_LAB_HOME/archives/<name>`` (atomically)."""
    name = archive.name
    for suffix in (".tar.gz", ".tgz", ".tar"):
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
    except (tarfile.TarError, OSError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AssetReadError(f"could not unpack {str(archive)!r}: {e}; check the archive is complete") from e
    os.replace(tmp, dest)
    return dest


def ingest(path: str | os.PathLike, *, collection: str = DEFAULT_COLLECTION, catalog: LocalCatalog | None = None) -> int:
    """Add every THEIA L2A product found under ``path`` to ``catalog`` (default: the local one).

    ``path`` may be a folder or a tar archive of products.  Returns the number of items in
    the collection afterwards.  Products without any valid pixel are skipped with a warning.
    """
    path = Path(path).expanduser().resolve()
    if not path.exists():
        raise AssetReadError(f"{str(path)!r} does not exist; give a folder or a .tgz of THEIA L2A products")
    if path.is_file():
        path = _extract(path)
    catalog = catalog or local_catalog()
    items = list(items_from_folder(path, collection=collection))
    if not items:
        raise NoItemsFoundError(
            f"no THEIA L2A product with valid pixels under {str(path)!r} (folders named like "
            "SENTINEL2A_20180101-105435-459_L2A_T31TCJ_C_V2-2)"
        )
    return catalog.add_items(items, collection=collection)
