"""Map options of a categorical layer drawn with its producer's legend (OSO classes, snow codes...).

A layer that :func:`terra_lab.load` read from a categorical product carries its legend in its
attributes (:class:`terra_lab.profiles.Legend`); the dashboards then draw it in the producer's
colours, name the classes on the colour bar, and aggregate zoomed-out pixels by the first class
(a mean of class codes means nothing), without the theme choosing a colour map.
"""

from __future__ import annotations

import xarray as xr

from ..display._legend import legend_entries

__all__ = ["legend_map_options"]

#: colour of the codes between two classes of the legend (never drawn: no pixel holds them)
_GAP = "#00000000"


def legend_map_options(layer: xr.DataArray, lang: str) -> dict | None:
    """``{"cmap", "clim", "aggregator", "colorbar_opts"}`` for ``layer``'s legend, or None without one."""
    entries = legend_entries(layer, lang)
    if not entries:
        return None
    from bokeh.models import FixedTicker

    colours = {code: colour for code, colour, _ in entries}
    low, high = min(colours), max(colours)
    return {
        # one colour per integer code from the lowest to the highest class, clim centred on the codes
        "cmap": [colours.get(code, _GAP) for code in range(low, high + 1)],
        "clim": (low - 0.5, high + 0.5),
        "aggregator": "first",
        "colorbar_opts": {"ticker": FixedTicker(ticks=list(colours)),
                          "major_label_overrides": {code: name for code, _, name in entries}},
    }
