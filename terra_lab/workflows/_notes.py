"""Notes a workflow leaves on its result (what it had to do without), sayable in any language.

A :class:`Note` is the English sentence (a ``str``: printed, logged, joined like any text) that
also carries its ``key`` and ``values``, so a page in another language can say the same thing
from its own table (``terra_lab.dashboards._i18n``) instead of showing English.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NOTES", "Note"]

#: English text of each note, with its ``{placeholders}``
NOTES = {
    "no_landcover_forest": "no OSO land-cover collection in '{catalog}': no forest mask, every pixel was examined",
    "no_landcover_diversity": ("no OSO land-cover collection in '{catalog}': spectral diversity only "
                               "(no fragmentation or continuity)"),
}


class Note(str):
    """``NOTES[key]`` filled with ``values``; ``.key`` and ``.values`` let a page translate it."""

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, **values: Any) -> Note:
        note = super().__new__(cls, NOTES[key].format(**values))
        note.key, note.values = key, values
        return note
