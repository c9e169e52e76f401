"""Map options of a categorical layer: its classes' colours, their names on the colour bar.

The classes come from the layer's producer legend (a layer that :func:`terra_lab.load` read from
a categorical product carries it in its attributes, :class:`terra_lab.profiles.Legend`; see
:func:`terra_lab.display._legend.legend_entries`) or from the theme (the forest's dieback states).
Zoomed-out pixels take the first class (a mean of class codes means nothing).
"""

from __future__ import annotations

__all__ = ["categorical_options"]

#: colour of the codes between two classes of the legend (never drawn: no pixel holds them)
_GAP = "#00000000"


def categorical_options(entries: list[tuple[int, str, str]]) -> dict:
    """``{"cmap", "clim", "aggregator", "colorbar_opts"}`` drawing ``[(code, colour, name)]``'s classes."""
    from bokeh.models import FixedTicker

    colours = {int(code): colour for code, colour, _ in entries}
    low, high = min(colours), max(colours)
    return {
        # one colour per integer code from the lowest to the highest class, clim centred on the codes
        "cmap": [colours.get(code, _GAP) for code in range(low, high + 1)],
        "clim": (low - 0.5, high + 0.5),
        "aggregator": "first",
        "colorbar_opts": {"ticker": FixedTicker(ticks=list(colours)),
                          "major_label_overrides": {int(code): name for code, _, name in entries}},
    }
