"""Search results as footprints on an ipyleaflet map: outlined, grouped per date and tile, counted.

A catalogue search over one place returns many items with the same footprint (one per date,
sometimes several per date: two processing baselines, two platforms).  Filled, they pile into
one opaque blob that hides the data below; here each (acquisition date, tile) group is one
outline with no fill, and each tile gets one count label ("T31TGK: 52 items").  Hover and click
callbacks receive the item ids of the group under the mouse; :meth:`Footprints.select` and
:meth:`Footprints.hover` highlight groups from elsewhere (a results table).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import ipyleaflet
import shapely
import shapely.geometry

__all__ = ["FootprintGroup", "Footprints", "group_items", "tile_of"]

#: Outline styles (no fill: the data under a footprint keep the colours of their legend).
#: ``fill_opacity`` 0 with ``fill`` on keeps the inside hoverable and clickable.
STYLE = {"color": "#1f6feb", "weight": 1.5, "opacity": 0.9, "fill": True, "fillOpacity": 0.0}
HOVER_STYLE = {"color": "#9c27b0", "weight": 3, "opacity": 1.0, "fillOpacity": 0.0}
LABEL_CSS = ("display:inline-block;transform:translate(0,-100%);white-space:nowrap;padding:1px 5px;"
             "background:rgba(255,255,255,0.85);border:1px solid #1f6feb;border-radius:3px;color:#0b3d91;"
             "font:12px/1.3 sans-serif;pointer-events:none")
SELECTED_STYLE = {"color": "#e0115f", "weight": 3.5, "opacity": 1.0, "fillOpacity": 0.0, "dashArray": ""}


def tile_of(item: dict) -> str:
    """The tile or grid code of a STAC item, as THEIA spells it (``T31TGK``), or "" when it has none.

    Reads ``theia:tile`` (the demo, ingested products), ``grid:code`` (GEODES ``T31TGK``; Earth
    Search and the demo ``MGRS-31TGK``), ``s2:mgrs_tile`` and the ``mgrs:`` fields (Earth Search),
    and Landsat's WRS path/row.
    """
    p = item.get("properties", {})
    if p.get("theia:tile"):
        return str(p["theia:tile"])
    code = str(p.get("grid:code") or p.get("s2:mgrs_tile") or "")
    if code:
        code = code.split("-", 1)[1] if code.upper().startswith("MGRS-") else code
        return code if not code[:2].isdigit() else f"T{code}"
    if p.get("mgrs:utm_zone") is not None:
        return f"T{int(p['mgrs:utm_zone']):02d}{p.get('mgrs:latitude_band', '')}{p.get('mgrs:grid_square', '')}"
    if p.get("landsat:wrs_path") is not None:
        return f"{int(p['landsat:wrs_path']):03d}/{int(p.get('landsat:wrs_row', 0)):03d}"
    return ""


@dataclass
class FootprintGroup:
    """The items of one acquisition date on one tile: one outline on the map."""

    key: str
    date: str
    tile: str
    ids: list[str] = field(default_factory=list)
    geometry: dict | None = None
    clouds: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.ids)

    def label(self, words: tuple[str, str] = ("item", "items")) -> str:
        """Date · tile · count, the count with ``words`` (singular, plural) in the view's language."""
        n = f"{self.count} {words[self.count > 1]}"
        return " · ".join(s for s in (self.date, self.tile, n) if s)


def group_items(items: Iterable[dict]) -> list[FootprintGroup]:
    """Group items per (acquisition date, tile), in date order; a group's outline is its items' union.

    Items without a tile code are grouped per date and footprint (rounded to ~10 m), so distinct
    scenes of one date are never merged.
    """
    groups: dict[str, FootprintGroup] = {}
    shapes: dict[str, list] = {}
    for it in items:
        p = it.get("properties", {})
        date = str(p.get("datetime") or p.get("start_datetime") or "")[:10]
        tile = tile_of(it)
        geom = shapely.geometry.shape(it["geometry"]) if it.get("geometry") else None
        where = tile or (shapely.to_wkt(geom, rounding_precision=4) if geom is not None else it["id"])
        key = f"{date}|{where}"
        g = groups.setdefault(key, FootprintGroup(key=key, date=date, tile=tile))
        g.ids.append(it["id"])
        if isinstance(p.get("eo:cloud_cover"), (int, float)):
            g.clouds.append(float(p["eo:cloud_cover"]))
        if geom is not None:
            shapes.setdefault(key, []).append(geom)
    for key, geoms in shapes.items():
        union = shapely.union_all(geoms) if len(geoms) > 1 else geoms[0]
        groups[key].geometry = shapely.geometry.mapping(union)
    return sorted(groups.values(), key=lambda g: (g.date, g.tile, g.key))


def _tile_labels(groups: list[FootprintGroup], words: tuple[str, str]) -> list[tuple[tuple[float, float], str]]:
    """One count label per place (tile, or footprint when there is no tile): ((lat, lon), text), at the
    place's north-west corner (overlapping tiles have distinct corners: their labels do not pile up)."""
    places: dict[str, list[FootprintGroup]] = {}
    for g in groups:
        if g.geometry is not None:
            places.setdefault(g.tile or g.key.split("|", 1)[1], []).append(g)
    labels = []
    for gs in places.values():
        n = sum(g.count for g in gs)
        geom = shapely.union_all([shapely.geometry.shape(g.geometry) for g in gs])
        west, _, _, north = geom.bounds
        text = f"{n} {words[n > 1]}"
        if gs[0].tile:
            text = f"{gs[0].tile}: {text}"
        labels.append(((north, west), text))
    return labels


class Footprints(ipyleaflet.LayerGroup):
    """The footprints of search results (SearchResults or item dicts) as one map layer.

    >>> fp = Footprints(res)                     # doctest: +SKIP
    >>> m.add(fp); fp.on_click(print)            # doctest: +SKIP   (prints the ids of a clicked group)
    >>> fp.select(res.ids[:1])                   # doctest: +SKIP   (outlines that item's group in pink)

    ``fp.outlines`` is the ipyleaflet GeoJSON of the groups, ``fp.labels`` the count labels.
    """

    def __init__(self, results=(), *, name: str = "footprints", words: tuple[str, str] = ("item", "items"), **kwargs):
        items = list(getattr(results, "items", results))
        self.groups = group_items(items)
        self._words = words
        self._group_of = {i: g.key for g in self.groups for i in g.ids}
        self.selected: list[str] = []
        self.hovered: list[str] = []
        self.outlines = ipyleaflet.GeoJSON(data=self._data(), name=f"{name} outlines", hover_style=HOVER_STYLE)
        self.labels = [
            ipyleaflet.Marker(location=loc, draggable=False, title=text, icon=ipyleaflet.DivIcon(
                html=f'<span class="tl-footprint-count" style="{LABEL_CSS}">{html.escape(text)}</span>', icon_size=[0, 0]))
            for loc, text in _tile_labels(self.groups, words)
        ]
        super().__init__(layers=[self.outlines, *self.labels], name=name, **kwargs)
        self._hover_cbs: list[Callable[[list[str]], None]] = []
        self._click_cbs: list[Callable[[list[str]], None]] = []
        self.outlines.on_hover(self._on_mouse(self._hover_cbs))
        self.outlines.on_click(self._on_mouse(self._click_cbs))

    # -------------------------------------------------------------- drawing
    def _style(self, g: FootprintGroup) -> dict:
        if self.selected and set(g.ids) & set(self.selected):
            return dict(SELECTED_STYLE)
        if self.hovered and set(g.ids) & set(self.hovered):
            return dict(HOVER_STYLE)
        return dict(STYLE)

    def _data(self) -> dict:
        lit = set(self.selected) | set(self.hovered)
        # highlighted groups last: drawn on top of the pile, so their outline shows whole
        order = sorted((g for g in self.groups if g.geometry is not None), key=lambda g: bool(lit & set(g.ids)))
        feats = [{"type": "Feature", "id": g.key, "geometry": g.geometry,
                  "properties": {"key": g.key, "date": g.date, "tile": g.tile, "count": g.count, "ids": list(g.ids),
                                 "label": g.label(self._words), "selected": bool(set(g.ids) & set(self.selected)),
                                 "style": self._style(g)}}
                 for g in order]
        return {"type": "FeatureCollection", "features": feats}

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) of every footprint, or None."""
        geoms = [shapely.geometry.shape(g.geometry) for g in self.groups if g.geometry is not None]
        return tuple(shapely.union_all(geoms).bounds) if geoms else None

    def group_ids(self, item_id: str) -> list[str]:
        """The ids of the group holding ``item_id`` (itself when unknown)."""
        key = self._group_of.get(item_id)
        return next((list(g.ids) for g in self.groups if g.key == key), [item_id])

    def select(self, ids: Iterable[str]) -> None:
        """Outline the groups holding ``ids`` as selected (drawn on top); ``[]`` clears."""
        ids = [i for i in ids if i in self._group_of]
        if ids != self.selected:
            self.selected = ids
            self.outlines.data = self._data()

    def hover(self, ids: Iterable[str]) -> None:
        """Outline the groups holding ``ids`` as hovered (a table row under the mouse)."""
        ids = [i for i in ids if i in self._group_of]
        if ids != self.hovered:
            self.hovered = ids
            self.outlines.data = self._data()

    # ------------------------------------------------------------- callbacks
    def on_hover(self, callback: Callable[[list[str]], None]) -> None:
        """Call ``callback(ids)`` with the item ids of the group under the mouse."""
        self._hover_cbs.append(callback)

    def on_click(self, callback: Callable[[list[str]], None]) -> None:
        """Call ``callback(ids)`` with the item ids of a clicked group."""
        self._click_cbs.append(callback)

    def _on_mouse(self, callbacks: list):
        def handler(**event):
            props = (event.get("feature") or {}).get("properties") or event.get("properties") or {}
            key = props.get("key")
            ids = next((list(g.ids) for g in self.groups if g.key == key), None)
            if ids:
                for cb in callbacks:
                    cb(ids)
        return handler
