"""Show a categorical product with its producer's legend, found in the DataArray's attributes.

:func:`terra_lab.load` gives every categorical variable (snow codes, OSO classes, WASP flags) CF
flag attributes plus the producer's colours and French/English class names (see
:class:`terra_lab.profiles.Legend`).  These helpers turn them into what a map needs, so that no
user has to pick a colormap:

* :func:`legend_style`: a tile :class:`~terra_lab.display.Style` drawing each code in its class
  colour (used by :meth:`terra_lab.display.map.TerraMap.add_layer`);
* :func:`legend_entries`: ``(code, colour, label)`` for a legend or colour bar in any front end
  (Panel / HoloViews dashboards: ``cmap=[c for _, c, _ in entries]`` with the codes as levels).
"""

from __future__ import annotations

import hashlib

import numpy as np
import xarray as xr

from ..profiles import Legend
from ._tiles import Style

__all__ = ["legend_entries", "legend_html", "legend_of_array", "legend_style"]

#: colour of codes a legend does not list (never expected; visible rather than hidden)
_UNLISTED = "#808080"


def legend_of_array(da: xr.DataArray) -> Legend | None:
    """The legend carried by ``da``'s attributes (a categorical product loaded by terra_lab), or None."""
    return Legend.from_attrs(da.attrs)


def legend_entries(da: xr.DataArray, lang: str = "en") -> list[tuple[int, str, str]] | None:
    """``[(code, colour, class name), ...]`` of ``da``'s legend in ``lang`` (``en``/``fr``), or None."""
    legend = legend_of_array(da)
    if legend is None:
        return None
    names = legend.names(lang)
    return [(c, legend.classes[c].colour, names[c]) for c in legend.codes]


def _colormap_name(legend: Legend) -> str:
    """A matplotlib colormap (registered once) whose entry ``k`` is the colour of code ``k`` (0..255)."""
    import matplotlib
    from matplotlib.colors import ListedColormap, to_rgba

    colours = legend.colours()
    key = hashlib.sha1(repr(sorted(colours.items())).encode()).hexdigest()[:12]
    name = f"terra_lab_legend_{key}"
    if name not in matplotlib.colormaps:
        table = [to_rgba(colours.get(k, _UNLISTED)) for k in range(256)]
        matplotlib.colormaps.register(ListedColormap(np.array(table), name=name), name=name)
    return name


def legend_style(da: xr.DataArray, opacity: float = 1.0) -> tuple[Style, dict] | None:
    """(tile style, legend spec for the map widget) drawing ``da``'s codes in their class colours.

    None when ``da`` carries no legend or has codes above 255 (then show it as a continuous layer).
    The style maps value ``v`` to colour-table entry ``v`` exactly: ``vmin=-0.5``, ``vmax=254.5``
    make the tile renderer's index ``(v + 0.5) * 255 / 255``, truncated to ``v``.
    """
    legend = legend_of_array(da)
    if legend is None or max(legend.codes) > 255 or min(legend.codes) < 0:
        return None
    style = Style(cmap=_colormap_name(legend), vmin=-0.5, vmax=254.5, opacity=float(opacity))
    entries = legend_entries(da) or []
    spec = {
        "colors": [c for _, c, _ in entries],
        "vmin": float(min(legend.codes)),
        "vmax": float(max(legend.codes)),
        "label": legend.name,
        "classes": [{"value": v, "color": c, "label": n} for v, c, n in entries],
    }
    return style, spec


def legend_html(specs: list[tuple[str, dict]]) -> str:
    """HTML of a map legend: one block per ``(layer title, legend spec)``, every text escaped.

    A spec is a :class:`~terra_lab.display._kernel_layer.KernelTileLayer` ``legend``: class
    swatches (``classes``) or a colour bar (``colors`` from ``vmin`` to ``vmax``).
    """
    import html

    blocks = []
    for title, spec in specs:
        head = f'<div class="title">{html.escape(str(spec.get("label") or title))}</div>'
        if spec.get("classes"):
            rows = "".join(
                f'<div class="class"><span class="swatch" style="background:{html.escape(str(c["color"]))}"></span>'
                f'<span>{html.escape(str(c["value"]))} {html.escape(str(c["label"]))}</span></div>'
                for c in spec["classes"])
            blocks.append(f'<div class="entry">{head}{rows}</div>')
            continue
        colours = ",".join(html.escape(str(c)) for c in spec.get("colors", []))
        ticks = "".join(f"<span>{float(v):.3g}</span>" for v in
                        (spec["vmin"], (spec["vmin"] + spec["vmax"]) / 2, spec["vmax"]))
        blocks.append(f'<div class="entry">{head}<div class="bar" style="background:linear-gradient(to right,{colours})">'
                      f'</div><div class="ticks">{ticks}</div></div>')
    return f'<div class="terra-legend">{"".join(blocks)}</div>' if blocks else ""
