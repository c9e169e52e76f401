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
    "no_landcover_water": ("no OSO land-cover collection in '{catalog}': lakes were not left out of the stable "
                           "terrain"),
    "no_landcover_structure": ("no OSO land-cover collection in '{catalog}': canopy height on every pixel, "
                               "no wood volume or biomass (their allometries need the forest type)"),
    "no_dem_structure": "no DEM collection in '{catalog}': canopy height from Sentinel-2 alone (no elevation)",
    "et_station_gaps": "station '{station}': {n} missing day(s) interpolated, first {first}",
    "et_cloudy_dates": "{n} cloudy Landsat date(s) left out: {dates}",
    "et_no_overpass": "station '{station}' has no overpass values for the clearest date: no TSEB fluxes",
    "et_period_clipped": "station '{station}' covers {first} .. {last} only: ET computed on those days",
}


class Note(str):
    """``NOTES[key]`` filled with ``values``; ``.key`` and ``.values`` let a page translate it."""

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, **values: Any) -> Note:
        note = super().__new__(cls, NOTES[key].format(**values))
        note.key, note.values = key, values
        return note
