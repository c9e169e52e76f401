"""SearchMap: catalogue search on a map, the front door of terra_lab in a notebook.

Draw a rectangle or a polygon on the map (or upload a GeoJSON file), pick the catalogue
(demo, theia, geodes, earth-search or a STAC API URL), the collection, the dates and the cloud
limit, and press Search.  Results show as footprints outlined on the map (grouped per date and
tile, with a count) and as a sortable table; hovering or clicking one lights the other.  A row
shows its quicklook.  "Load as cube" stacks the selected rows (or all of them) over the drawn
area into a lazy cube (``search_map.cube``), with the bands and resolution picked; "Show" puts
its first product (NDVI for reflectance, the product itself for thematic collections) on the map.
One language per view: ``lang="fr"`` (the default, as the dashboards') or ``"en"``; the words are in
:data:`terra_lab.display._i18n.SEARCH_LABELS`.  Requires the ``ui`` extra.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import warnings
from typing import Any

import ipywidgets as w
import xarray as xr

from .. import catalog as _catalog
from ..catalog import SearchResults
from ..errors import TerraLabError, TerraLabWarning
from ..profiles import CollectionProfile, profile_for_item
from ..workflows import find_collection
from ._first_product import available_bands, default_bands, first_product, resolutions
from ._footprints import Footprints, tile_of
from ._i18n import DEFAULT_LANGUAGE, SEARCH_LABELS, check_language, label
from ._quicklook import quicklook
from ._results_table import COLUMNS, ResultsTable, item_row
from .map import TerraMap

__all__ = ["SearchMap"]

CATALOGS = ["demo", "local", "theia", "geodes", "earth-search"]
_FORM = {"width": "auto"}


class SearchMap(w.VBox):
    """A search form over a full-width :class:`TerraMap`, a results table and a quicklook, wired together.

    >>> sm = SearchMap("demo")    # doctest: +SKIP   (in French; SearchMap("demo", lang="en") in English)
    >>> sm                        # doctest: +SKIP   (draw an area, Search, pick rows, Load as cube, Show)
    >>> sm.results.gdf            # doctest: +SKIP
    >>> sm.cube                   # doctest: +SKIP   (after "Load as cube", or sm.load(bands=[...], resolution=20))
    """

    def __init__(self, catalog: str = "demo", *, center=(45.19, 6.30), zoom: int = 12, limit: int = 500,
                 lang: str = DEFAULT_LANGUAGE, **load_defaults):
        self.lang = check_language(lang)
        t = self._t
        self.map = TerraMap(center=center, zoom=zoom)
        self.map.layout.width = "100%"
        self.map.layout.height = "460px"
        self.catalog_box = w.Combobox(value=str(catalog), options=CATALOGS, description=t("catalogue"),
                                      placeholder=t("catalogue_hint"),
                                      ensure_option=False, continuous_update=False,
                                      layout={"width": "330px"})
        self.collection = w.Dropdown(description=t("collection"), options=[], layout={"width": "430px"})
        self.start = w.DatePicker(description=t("from"), value=dt.date(2023, 9, 1), layout={"width": "230px"})
        self.end = w.DatePicker(description=t("to"), value=dt.date(2024, 8, 31), layout={"width": "230px"})
        self.max_cloud = w.IntSlider(description=t("max_cloud"), value=60, min=0, max=100, layout={"width": "330px"},
                                     style={"description_width": "initial"})
        self.upload = w.FileUpload(accept=".geojson,.json", multiple=False, description=t("upload"),
                                   icon="upload", layout={"width": "170px"})
        self.search_button = w.Button(description=t("search"), button_style="primary", icon="search",
                                      layout={"width": "120px"})
        self.message = w.HTML(layout={"width": "100%"})
        self.table = ResultsTable(layout={"width": "100%"})
        self.table.columns = [[key, t(f"col_{key}")] for key, _ in COLUMNS]
        self.quicklook = w.Image(format="jpeg", layout={"max_width": "240px", "max_height": "240px",
                                                         "display": "none"})
        self.quicklook_text = w.HTML(layout={"width": "240px"})
        self.bands = w.SelectMultiple(description=t("bands"), options=[], rows=4, layout={"width": "260px"})
        self.resolution = w.Dropdown(description=t("resolution"), options=[], layout={"width": "230px"},
                                     style={"description_width": "initial"})
        self.load_button = w.Button(description=t("load"), icon="cube", disabled=True, layout={"width": "150px"})
        self.show_button = w.Button(description=t("show"), icon="map", disabled=True, layout={"width": "200px"})
        self.extra = w.VBox(layout={"width": "100%"})  # the time slider of the shown layer
        self.results: SearchResults | None = None
        self.cube: xr.Dataset | None = None
        self.profile: CollectionProfile | None = None
        self.layer: Any = None
        self.footprints: Footprints | None = None
        self.limit = int(limit)
        self._load_defaults = load_defaults
        self._catalog: Any = None
        self._area_layer: Any = None
        self._uploaded = False

        self.catalog_box.observe(lambda _: self._open_catalog(), names="value")
        self.upload.observe(self._on_upload, names="value")
        self.search_button.on_click(lambda _: self.search())
        self.load_button.on_click(lambda _: self.load())
        self.show_button.on_click(lambda _: self.show())
        self.table.observe(self._on_rows_selected, names="selected")
        self.table.observe(self._on_row_hovered, names="hovered")
        self.bands.observe(self._on_bands, names="value")
        self.map.observe(self._on_drawn, names="aoi")

        form = [
            w.HBox([self.catalog_box, self.collection], layout={"flex_flow": "row wrap"}),
            w.HBox([self.start, self.end, self.max_cloud], layout={"flex_flow": "row wrap"}),
            w.HBox([self.upload, self.search_button], layout={"flex_flow": "row wrap"}),
            self.message,
        ]
        results = w.HBox([w.Box([self.table], layout={"flex": "1 1 auto", "min_width": "0"}),
                          w.VBox([self.quicklook, self.quicklook_text], layout={"flex": "0 0 250px"})],
                         layout={"width": "100%", "align_items": "flex-start"})
        cube_row = w.HBox([self.bands, self.resolution, self.load_button, self.show_button],
                          layout={"flex_flow": "row wrap", "align_items": "flex-start"})
        super().__init__([*form, self.map, self.extra, results, cube_row], layout={"width": "100%"})
        self._open_catalog()

    # ----------------------------------------------------------------- messages
    def _t(self, key: str, **values: object) -> str:
        """The view's words for ``key`` in its language, its ``{fields}`` filled with ``values``."""
        text = label(SEARCH_LABELS, key, self.lang)
        return text.format(**values) if values else text

    def _words(self) -> tuple[str, str]:
        """"item", "items" in the view's language (footprint counts)."""
        return self._t("item"), self._t("items")

    def _say(self, text: str, error: bool = False) -> None:
        color = "#b00020" if error else "#1b5e20"
        role = "alert" if error else "status"
        self.message.value = f'<div role="{role}" class="tl-search-message" style="color:{color}">{html.escape(text)}</div>'

    # ----------------------------------------------------------------- catalogue
    def _open_catalog(self) -> None:
        name = (self.catalog_box.value or "").strip()
        self._catalog = None
        self.collection.options = []
        if not name:
            self._say(self._t("choose_catalogue"), error=True)
            return
        try:
            # one retry: a form must answer within seconds (an unreachable API took ~70 s with the default 3)
            self._catalog = _catalog.open(name, retries=1)
            ids = list(self._catalog.collection_ids())
        except (TerraLabError, OSError, ValueError) as e:
            self._catalog = None
            self._say(self._t("catalogue_error", name=repr(name), error=e), error=True)
            return
        self.collection.options = ids
        try:  # the catalogue's Sentinel-2 L2A collection, found by kind (any STAC API URL too)
            preferred = find_collection(self._catalog, "reflectance")
        except (TerraLabError, OSError):
            preferred = None
        self.collection.value = preferred if preferred in ids else (ids[0] if ids else None)
        self._say(self._t("catalogue_open", name=name, n=len(ids))
                  + (self._t("no_aoi") + self._t("then_search") if not self.map.aoi else self._t("press_search")))

    # ----------------------------------------------------------------- area
    def _show_area(self, geojson: dict | None) -> None:
        import ipyleaflet

        if self._area_layer is not None and self._area_layer in self.map.layers:
            self.map.remove(self._area_layer)
        self._area_layer = None
        if geojson:
            self._area_layer = ipyleaflet.GeoJSON(data=geojson, name=self._t("uploaded_area"),
                                                  style={"color": "#444", "weight": 2, "dashArray": "6 4",
                                                         "fillOpacity": 0.0})
            self.map.add(self._area_layer)

    def _on_drawn(self, change) -> None:
        if self._uploaded:  # our own assignment from an upload
            return
        self._show_area(None)  # a drawn shape replaces an uploaded area
        if change["new"]:
            self._say(self._t("area_drawn"))

    def set_area(self, aoi) -> None:
        """Use ``aoi`` (anything :func:`terra_lab.catalog.parse_aoi` takes) as the search area, drawn dashed."""
        import shapely.geometry

        geom = _catalog.parse_aoi(aoi)
        geojson = shapely.geometry.mapping(geom)
        self._uploaded = True
        try:
            self.map.aoi = dict(geojson)
        finally:
            self._uploaded = False
        self._show_area({"type": "Feature", "geometry": geojson, "properties": {}})
        w_, s, e, n = geom.bounds
        self.map.fit_bounds([[s, w_], [n, e]])

    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        f = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        name = f.get("name", "?")
        try:
            data = json.loads(bytes(f["content"]).decode("utf-8"))
            self.set_area(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            self._say(self._t("not_geojson", name=name, error=f"{e.__class__.__name__}: {e}"), error=True)
            return
        except (TerraLabError, ValueError, TypeError, KeyError) as e:
            self._say(self._t("file_error", name=name, error=e), error=True)
            return
        self._say(self._t("area_from", name=name))

    # ----------------------------------------------------------------- search
    def search(self):
        """Run the search with the form's values over the drawn (or uploaded) area; returns the results."""
        if self._catalog is None:
            self._say(self._t("no_catalogue"), error=True)
            return None
        if not self.map.aoi:
            self._say(self._t("no_aoi") + self._t("then_search"), error=True)
            return None
        start, end = self.start.value, self.end.value
        if start is None or end is None:
            self._say(self._t("both_dates"), error=True)
            return None
        if start > end:
            self._say(self._t("dates_reversed", start=start, end=end), error=True)
            return None
        cloud = self.max_cloud.value if self.max_cloud.value < 100 else None
        try:
            with warnings.catch_warnings(record=True) as caught:  # shown in the form, not as a pink cell output
                warnings.simplefilter("always", TerraLabWarning)
                res = self._catalog.search(self.map.aoi, (start.isoformat(), end.isoformat()), self.collection.value,
                                           cloud, limit=self.limit)
        except (TerraLabError, ValueError, OSError) as e:
            self._say(self._t("search_error", error=e), error=True)
            return None
        self._show_results(res)
        notes = [str(c.message) for c in caught if issubclass(c.category, TerraLabWarning)]
        if notes and len(res):
            self.message.value += f'<div class="tl-search-note" style="color:#8a5a00">{html.escape(" ".join(notes))}</div>'
        return res

    def _show_results(self, res) -> None:
        self.results, self.cube = res, None
        self.footprints = self.map.show_items(res, name=self._t("footprints"), words=self._words())
        self.footprints.on_hover(self._on_footprint_hover)
        self.footprints.on_click(self._on_footprint_click)
        self.table.set_rows(item_row(it, tile_of(it)) for it in res)
        self.load_button.disabled = self.show_button.disabled = True
        self._show_quicklook(None)
        if not len(res):
            self._say(self._t("no_items", collection=self.collection.value, start=self.start.value, end=self.end.value,
                              cloud=self.max_cloud.value), error=True)
            return
        n_groups = len(self.footprints.groups)
        more = self._t("first_of", n=len(res), matched=res.matched) if res.matched and res.matched > len(res) else ""
        found = self._t("found", n=len(res), more=more, groups=n_groups)
        try:
            self.profile = profile_for_item(res.items[0])
        except TerraLabError as e:  # listed, but terra_lab cannot read them
            self.profile = None
            self.bands.options = []
            self._say(self._t("not_loadable", found=found, error=e), error=True)
            return
        offered = available_bands(self.profile, res)
        self.bands.options = offered
        self.bands.value = tuple(default_bands(self.profile, offered))
        self.load_button.disabled = False
        self._say(self._t("found_next", found=found))

    def _on_bands(self, _change) -> None:
        if self.profile is None:
            return
        opts = resolutions(self.profile, list(self.bands.value) or None)
        keep = self.resolution.value if self.resolution.value in opts else None
        self.resolution.options = [(f"{r:g}", r) for r in opts]
        native = max((self.profile.bands[b].resolution for b in self.bands.value), default=opts[0] if opts else None)
        self.resolution.value = keep or (float(native) if native in opts else (opts[0] if opts else None))

    # ----------------------------------------------------------------- linking
    def _on_rows_selected(self, change) -> None:
        if self.footprints is not None:
            self.footprints.select(change["new"])
        self._show_quicklook(change["new"][0] if change["new"] else None)

    def _on_row_hovered(self, change) -> None:
        if self.footprints is not None:
            self.footprints.hover([change["new"]] if change["new"] else [])

    def _on_footprint_click(self, ids: list[str]) -> None:
        self.table.selected = list(ids)

    def _on_footprint_hover(self, ids: list[str]) -> None:
        self.table.highlighted = list(ids)
        g = next((g for g in (self.footprints.groups if self.footprints else []) if g.ids == ids), None)
        if g is not None:
            cloud = self._t("footprint_cloud", cloud=min(g.clouds)) if g.clouds else ""
            self._say(self._t("footprint", group=g.label(self._words()), cloud=cloud))

    def _show_quicklook(self, item_id: str | None) -> None:
        items: list[dict] = list(self.results or [])
        item = next((it for it in items if it["id"] == item_id), None)
        if item is None:
            self.quicklook.layout.display = "none"
            self.quicklook_text.value = f"<i>{html.escape(self._t('pick_row'))}</i>" if self.results else ""
            return
        ql = quicklook(item)
        title = f"<b>{html.escape(item['id'])}</b>"
        if ql.data:
            self.quicklook.format = ql.format
            self.quicklook.value = ql.data
            self.quicklook.layout.display = ""
            self.quicklook_text.value = title
        else:
            self.quicklook.layout.display = "none"
            link = (f'<a href="{html.escape(ql.href, quote=True)}" target="_blank" rel="noopener noreferrer">'
                    f"{html.escape(self._t('open_quicklook'))}</a>") if ql.href else html.escape(ql.why)
            self.quicklook_text.value = f"{title}<br>{link}"

    # ----------------------------------------------------------------- cube and layer
    def selected_items(self) -> list[dict]:
        """The items of the selected rows, or every result when no row is selected."""
        if not self.results:
            return []
        chosen = set(self.table.selected)
        return [it for it in self.results if it["id"] in chosen] or list(self.results)

    def load(self, **kwargs):
        """The selected results (or all of them) over the search area as a lazy cube, kept in ``self.cube``.

        Bands and resolution come from the form unless given; other keywords go to :func:`terra_lab.load`.
        """
        import terra_lab

        if not self.results:
            self._say(self._t("search_first"), error=True)
            return None
        items = self.selected_items()
        opts = {"bands": list(self.bands.value) or None, "resolution": self.resolution.value,
                "bbox": self.map.aoi or None, **self._load_defaults, **kwargs}
        try:
            self.cube = terra_lab.load(items, **opts)
        except (TerraLabError, ValueError, OSError) as e:
            self.cube = None
            self._say(self._t("load_error", error=e), error=True)
            return None
        self.profile = profile_for_item(items[0])
        product = first_product(self.cube, self.profile)
        self.show_button.description = self._t("show_product", product=product.name)
        self.show_button.disabled = False
        sizes = ", ".join(f"{k} {v}" for k, v in self.cube.sizes.items())
        self._say(self._t("cube_ready", n=len(items), sizes=sizes, variables=", ".join(map(str, self.cube.data_vars)),
                          button=self.show_button.description))
        return self.cube

    def show(self):
        """Put the cube's first product (NDVI, or the thematic product itself) on the map, with a date slider."""
        if self.cube is None or self.profile is None:
            self._say(self._t("load_first"), error=True)
            return None
        try:
            product = first_product(self.cube, self.profile)
            if self.layer is not None and self.layer in self.map.layers:
                self.map.remove_layer(self.layer)
            self.layer = self.map.add_layer(product.data, name=product.name, **product.style)
        except (TerraLabError, ValueError, TypeError) as e:
            self._say(self._t("show_error", error=e), error=True)
            return None
        if "time" in product.data.dims and product.data.sizes["time"] > 1:
            self.extra.children = [self.map.time_slider(self.layer)]
        else:
            self.extra.children = []
        self._say(self._t("on_the_map", product=product.name))
        return self.layer
