"""SearchMap: catalogue search on a map (draw an AOI, pick catalogue, collection, dates, cloud cover).

Results show as footprints on the map and as a table linked to it (click a row or a
footprint: both highlight); "Load as cube" builds the lazy cube (``search_map.cube``).
Requires the ``ui`` extra.
"""

from __future__ import annotations

import datetime as dt
import html

import ipywidgets as w

from .. import catalog as _catalog
from ..errors import TerraLabError
from .map import TerraMap

__all__ = ["SearchMap"]

_CATALOGS = ["demo", "local", "theia", "geodes", "earth-search"]


class SearchMap(w.VBox):
    """A search form, a :class:`TerraMap` and a results table, wired together.

    >>> sm = SearchMap()          # doctest: +SKIP
    >>> sm                        # doctest: +SKIP   (draw with shift + drag, then Search)
    >>> sm.results.gdf            # doctest: +SKIP
    >>> cube = sm.load(bands=["red", "nir"], resolution=20)   # doctest: +SKIP
    """

    def __init__(self, catalog: str = "demo", *, center=(45.19, 6.30), zoom: int = 12, **load_defaults):
        self.map = TerraMap(center=center, zoom=zoom)
        self.catalog_box = w.Combobox(value=catalog, options=_CATALOGS, description="catalogue",
                                      placeholder="demo, theia, earth-search or a STAC API URL")
        self.collection = w.Dropdown(description="collection", options=[])
        self.start = w.DatePicker(description="from", value=dt.date(2023, 9, 1))
        self.end = w.DatePicker(description="to", value=dt.date(2024, 8, 31))
        self.max_cloud = w.IntSlider(description="max cloud %", value=60, min=0, max=100)
        self.search_button = w.Button(description="Search", button_style="primary", icon="search")
        self.load_button = w.Button(description="Load as cube", icon="cube", disabled=True)
        self.message = w.HTML()
        self.table = w.Select(options=[], rows=8, layout={"width": "100%"})
        self.thumbnail = w.Image(format="jpeg", layout={"max_width": "220px"})
        self.results = None
        self.cube = None
        self._load_defaults = load_defaults
        self._catalog = None
        self.catalog_box.observe(lambda _: self._open_catalog(), names="value")
        self.search_button.on_click(lambda _: self.search())
        self.load_button.on_click(lambda _: self.load())
        self.table.observe(self._on_row, names="value")
        self.map.observe(self._on_footprint, names="selected")
        self.map.observe(self._on_hover, names="hovered")
        form = w.VBox([self.catalog_box, self.collection, self.start, self.end, self.max_cloud,
                       w.HBox([self.search_button, self.load_button]), self.message])
        super().__init__([w.HBox([form, self.map], layout={"align_items": "flex-start"}),
                          w.HBox([self.table, self.thumbnail])])
        self._open_catalog()

    # ------------------------------------------------------------------ actions
    def _say(self, text: str, error: bool = False) -> None:
        color = "#b00020" if error else "#333"
        self.message.value = f'<span style="color:{color}">{html.escape(text)}</span>'

    def _open_catalog(self) -> None:
        try:
            self._catalog = _catalog.open(self.catalog_box.value)
            ids = self._catalog.collection_ids()
        except (TerraLabError, OSError) as e:
            self._catalog = None
            self.collection.options = []
            self._say(str(e), error=True)
            return
        self.collection.options = ids
        preferred = _catalog.DEFAULT_COLLECTIONS.get(self.catalog_box.value)
        self.collection.value = preferred if preferred in ids else (ids[0] if ids else None)
        self._say(f"{len(ids)} collections")

    def search(self):
        """Run the search with the form's values and the drawn AOI (or the map's view)."""
        if self._catalog is None:
            self._say("no catalogue open", error=True)
            return None
        aoi = self.map.aoi or (tuple(self.map.bounds) if self.map.bounds else None)
        dates = (self.start.value, self.end.value)
        try:
            self.results = self._catalog.search(aoi, dates, self.collection.value, self.max_cloud.value, limit=500)
        except (TerraLabError, ValueError, OSError) as e:
            self.results = None
            self._say(str(e), error=True)
            return None
        self.map.show_items(self.results)
        self.table.options = [(self._row(it), it["id"]) for it in self.results]
        self.load_button.disabled = len(self.results) == 0
        self._say(f"{len(self.results)} items" + ("" if len(self.results) else ": widen the area, the dates or the cloud limit"))
        return self.results

    @staticmethod
    def _row(item: dict) -> str:
        p = item.get("properties", {})
        cloud = p.get("eo:cloud_cover")
        cloud = f"{cloud:5.1f} %" if isinstance(cloud, (int, float)) else "  ?  "
        return f"{p.get('datetime', '')[:19]}  {cloud}  {item['id']}"  # plain text: Select shows no HTML

    def load(self, **kwargs):
        """The selected results (or all of them) as a lazy cube, kept in ``self.cube``."""
        import terra_lab

        if not self.results:
            self._say("search first", error=True)
            return None
        try:
            self.cube = terra_lab.load(self.results, **{**self._load_defaults, **kwargs})
        except (TerraLabError, ValueError) as e:
            self._say(str(e), error=True)
            return None
        self._say(f"cube {dict(self.cube.sizes)} ready in .cube (lazy)")
        return self.cube

    # ------------------------------------------------------------------ linking
    def _on_row(self, change) -> None:
        if change["new"] and self.map.selected != change["new"]:
            self.map.selected = change["new"]
        self._show_thumbnail(change["new"])

    def _on_footprint(self, change) -> None:
        ids = [v for _, v in self.table.options]
        if change["new"] in ids and self.table.value != change["new"]:
            self.table.value = change["new"]

    def _on_hover(self, change) -> None:
        item = next((it for it in (self.results or []) if it["id"] == change["new"]), None)
        if item is not None:
            self._say(self._row(item))

    def _show_thumbnail(self, item_id: str | None) -> None:
        item = next((it for it in (self.results or []) if it["id"] == item_id), None)
        href = next((a["href"] for a in (item or {}).get("assets", {}).values() if "thumbnail" in (a.get("roles") or [])), None)
        if href and "://" not in href:
            try:
                with open(href, "rb") as f:
                    self.thumbnail.value = f.read()
            except OSError:
                self.thumbnail.value = b""
        else:
            self.thumbnail.value = b""
