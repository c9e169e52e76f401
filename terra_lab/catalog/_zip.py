"""Zipped products read in place: GDAL ``/vsizip/`` hrefs and a folder view of a zip archive.

THEIA and CNES GEODES deliver each product as one ``.zip``.  Its rasters are read where they
lie through GDAL's ``/vsizip/`` virtual file system (``/vsizip/PATH.zip/MEMBER``), so ingest
needs no extraction and no second copy on disk.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
import zipfile
from functools import lru_cache
from typing import Any

from ..errors import AssetReadError

__all__ = ["VSIZIP", "ZipDir", "gdal_path", "rebase_vsizip", "split_vsizip", "verify_zip", "vsizip_href",
           "zip_member_exists"]

VSIZIP = "/vsizip/"
# rasterio's own spellings of a zip member (Apache Commons VFS style): zip://a.zip!/b.tif
_ZIP_URL = re.compile(r"^zip(\+file)?://(?P<zip>[^!]+)!/?(?P<member>.*)$", re.I)


def vsizip_href(zip_path: str | os.PathLike, member: str) -> str:
    """The GDAL path of ``member`` inside ``zip_path``."""
    return f"{VSIZIP}{os.fspath(zip_path)}/{member.lstrip('/')}"


def split_vsizip(href: str) -> tuple[str, str] | None:
    """``(zip path, member)`` of a ``/vsizip/`` (or ``zip://a.zip!/b``) href, else None."""
    href = gdal_path(href)
    if not href.startswith(VSIZIP):
        return None
    rest = href[len(VSIZIP):]
    i = rest.lower().find(".zip/")
    if i < 0:
        return None
    return rest[: i + 4], rest[i + 5:]


def rebase_vsizip(href: str, zip_path: str | os.PathLike) -> str:
    """The ``/vsizip/`` href ``href`` with its zip path replaced by ``zip_path`` (same member)."""
    parts = split_vsizip(href)
    if parts is None:
        raise ValueError(f"{href!r} is not a /vsizip/ href")
    return vsizip_href(zip_path, parts[1])


def gdal_path(href: str) -> str:
    """``zip://a.zip!/b.tif`` and ``zip+file://...`` as GDAL's ``/vsizip/a.zip/b.tif``; others unchanged."""
    m = _ZIP_URL.match(href)
    return vsizip_href(m["zip"], m["member"]) if m else href


@lru_cache(maxsize=256)
def _members(zip_path: str, mtime_ns: int) -> frozenset[str]:
    with zipfile.ZipFile(zip_path) as zf:
        return frozenset(zf.namelist())


def zip_member_exists(href: str) -> bool:
    """Whether a ``/vsizip/`` href names an existing member of an existing zip (central directory only)."""
    parts = split_vsizip(href)
    if parts is None:
        return False
    zip_path, member = parts
    try:
        return member in _members(zip_path, os.stat(zip_path).st_mtime_ns)
    except (OSError, zipfile.BadZipFile):
        return False


def verify_zip(path: str | os.PathLike) -> None:
    """Read every member of a zip to its end (CRC check); raise naming the file when it is damaged."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as e:
        raise AssetReadError(
            f"{os.fspath(path)!r} is not a readable zip archive ({e}); the download is incomplete or "
            "corrupt: download the product again"
        ) from e
    if bad is not None:
        raise AssetReadError(
            f"{os.fspath(path)!r} is damaged: its member {bad!r} fails the CRC check; "
            "download the product again"
        )


class ZipDir(zipfile.Path):
    """A folder inside a zip with the part of the :class:`pathlib.Path` API that indexing uses.

    ``glob`` lists a folder, paths sort by name, and ``str()`` / ``os.fspath()`` give the
    GDAL ``/vsizip/`` path, so that ``rasterio.open(path)`` reads the member in place.
    """

    def glob(self, pattern: str) -> list[ZipDir]:
        if not self.is_dir():
            return []
        return [p for p in self.iterdir() if fnmatch.fnmatch(p.name, pattern)]

    def __lt__(self, other: ZipDir) -> bool:
        return self.at < other.at

    def __fspath__(self) -> str:
        return vsizip_href(str(self.root.filename), self.at.rstrip("/"))

    __str__ = __fspath__

    @classmethod
    def products(cls, zip_path: str | os.PathLike, pattern: Any) -> list[ZipDir]:
        """Folders of the zip whose name matches ``pattern`` (a compiled regex, or anything with a
        ``match(name)`` method), sorted by name."""
        root = cls(os.fspath(zip_path))
        names = {posixpath.dirname(n.rstrip("/")) for n in root.root.namelist()}
        dirs = set()
        for n in names:
            parts = n.split("/")
            for i in range(len(parts)):
                if pattern.match(parts[i]):
                    dirs.add("/".join(parts[: i + 1]) + "/")
        return sorted((cls(root.root, d) for d in dirs), key=lambda p: p.name)
