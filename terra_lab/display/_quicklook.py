"""The quicklook (thumbnail asset) of a STAC item, for a search form: bytes when local, a link when remote.

Local files and members of zipped products (GDAL ``/vsizip/`` hrefs, as in the demo archive)
are read; ``http(s)`` quicklooks are only linked (nothing is downloaded by the kernel).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

from ..catalog._zip import split_vsizip

__all__ = ["Quicklook", "quicklook"]

_FORMATS = {b"\xff\xd8": "jpeg", b"\x89P": "png", b"GI": "gif"}


@dataclass(frozen=True)
class Quicklook:
    """``data`` (image bytes) and ``format`` when it could be read here; else ``href`` to link, or ``why`` not."""

    data: bytes = b""
    format: str = ""
    href: str = ""
    why: str = ""


def thumbnail_href(item: dict) -> str | None:
    """The href of the item's thumbnail asset (role ``thumbnail``, else key ``thumbnail``), or None."""
    assets = item.get("assets", {})
    a = next((a for a in assets.values() if "thumbnail" in (a.get("roles") or [])), None) or assets.get("thumbnail")
    return a.get("href") if a else None


def quicklook(item: dict, *, max_bytes: int = 8 << 20) -> Quicklook:
    """Read the item's quicklook when it is on this machine (file or zip member), else say where it is."""
    href = thumbnail_href(item)
    if not href:
        return Quicklook(why=f"{item.get('id', 'this item')} has no quicklook")
    if "://" in href and not href.startswith("file://"):
        return Quicklook(href=href)
    try:
        member = split_vsizip(href)
        if member is not None:
            with zipfile.ZipFile(member[0]) as zf:
                data = zf.read(member[1])
        else:
            with open(href.removeprefix("file://"), "rb") as f:
                data = f.read(max_bytes + 1)
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        return Quicklook(why=f"the quicklook {href} cannot be read ({e})")
    fmt = _FORMATS.get(data[:2], "")
    if not fmt or len(data) > max_bytes:
        return Quicklook(why=f"the quicklook {href} is not a JPEG/PNG/GIF image under {max_bytes >> 20} MiB")
    return Quicklook(data=data, format=fmt)
