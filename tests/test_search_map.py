"""SearchMap without a browser: real searches on the demo catalogue, footprints grouped per date and tile,
the sortable table, hover and selection linked both ways, quicklooks, errors in the form, the cube and
its first product layer.  (tests/test_browser_search.py drives the same widget in JupyterLab.)"""

import datetime as dt
import json

import pytest

import terra_lab
from terra_lab.display._first_product import first_product
from terra_lab.display._footprints import STYLE, Footprints, group_items, tile_of
from terra_lab.display._kernel_layer import KernelTileLayer
from terra_lab.display._quicklook import quicklook
from terra_lab.display._results_table import ResultsTable, item_row
from terra_lab.display.search import SearchMap
from terra_lab.profiles import profile_for_item

NOW = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
S2 = "THEIA_REFLECTANCE_SENTINEL2_L2A"
AOI = {"type": "Polygon", "coordinates": [[[6.28, 45.17], [6.33, 45.17], [6.33, 45.2], [6.28, 45.2], [6.28, 45.17]]]}
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


def _item(id_, date, geometry=SQUARE, **props):
    return {"type": "Feature", "id": id_, "geometry": geometry, "assets": {},
            "properties": {"datetime": f"{date}T10:37:00Z", **props}}


def _search_map(**form):
    sm = SearchMap("demo", lang="en")
    sm.map.aoi = AOI
    sm.start.value, sm.end.value = form.get("dates", (dt.date(2024, 1, 1), dt.date(2024, 3, 31)))
    sm.max_cloud.value = form.get("cloud", 30)
    return sm


# ------------------------------------------------------------------ tiles and groups
def test_tile_codes_of_each_catalogue_read_the_same():
    assert tile_of(_item("a", "2024-01-01", **{"theia:tile": "T31TGK", "grid:code": "MGRS-31TGK"})) == "T31TGK"  # demo
    assert tile_of(_item("b", "2024-01-01", **{"grid:code": "T31TGK"})) == "T31TGK"                   # GEODES
    assert tile_of(_item("c", "2024-01-01", **{"grid:code": "MGRS-31TGK", "mgrs:utm_zone": 31})) == "T31TGK"  # Earth Search
    assert tile_of(_item("d", "2024-01-01", **{"mgrs:utm_zone": 31, "mgrs:latitude_band": "T",
                                               "mgrs:grid_square": "GK"})) == "T31TGK"
    assert tile_of(_item("e", "2024-01-01", **{"landsat:wrs_path": 196, "landsat:wrs_row": 29})) == "196/029"
    assert tile_of(_item("f", "2024-01-01")) == ""


def test_items_group_per_date_and_tile_with_counts():
    other = {"type": "Polygon", "coordinates": [[[2, 0], [3, 0], [3, 1], [2, 1], [2, 0]]]}
    items = [_item("a1", "2024-01-05", **{"theia:tile": "T31TGK"}), _item("a2", "2024-01-05", **{"theia:tile": "T31TGK"}),
             _item("a3", "2024-01-05", **{"theia:tile": "T31TGK"}), _item("b", "2024-01-05", other, **{"theia:tile": "T31TGL"}),
             _item("c", "2024-01-10", **{"theia:tile": "T31TGK"}),
             _item("n1", "2024-01-10", other), _item("n2", "2024-01-10", SQUARE)]   # no tile: told apart by footprint
    groups = group_items(items)
    assert [(g.date, g.tile, g.ids) for g in groups] == [
        ("2024-01-05", "T31TGK", ["a1", "a2", "a3"]), ("2024-01-05", "T31TGL", ["b"]),
        ("2024-01-10", "", ["n2"]), ("2024-01-10", "", ["n1"]), ("2024-01-10", "T31TGK", ["c"])]
    assert groups[0].label() == "2024-01-05 · T31TGK · 3 items" and groups[1].label().endswith("1 item")
    fp = Footprints(items)
    labels = sorted(m.title for m in fp.labels)   # one count label per tile (or footprint), not per date
    assert labels == ["1 item", "1 item", "T31TGK: 4 items", "T31TGL: 1 item"]
    assert len(fp.outlines.data["features"]) == 5


def test_footprints_are_outlined_not_filled_and_highlight_on_top():
    items = [_item(f"i{d}", f"2024-01-{d:02d}", **{"theia:tile": "T31TGK"}) for d in (1, 6, 11)]
    fp = Footprints(items)
    feats = fp.outlines.data["features"]
    assert all(f["properties"]["style"]["fillOpacity"] == 0 for f in feats) and STYLE["fillOpacity"] == 0
    fp.select(["i6"])
    feats = fp.outlines.data["features"]
    assert feats[-1]["properties"]["ids"] == ["i6"] and feats[-1]["properties"]["style"]["color"] != STYLE["color"]
    assert [f["properties"]["style"]["color"] for f in feats[:-1]] == [STYLE["color"]] * 2
    fp.select([])
    assert all(f["properties"]["style"] == STYLE for f in fp.outlines.data["features"])
    hovered, clicked = [], []
    fp.on_hover(hovered.append)
    fp.on_click(clicked.append)
    key = fp.groups[2].key
    fp.outlines._handle_mouse_events(None, {"event": "mouseover", "feature": {"properties": {"key": key}}}, [])
    fp.outlines._handle_mouse_events(None, {"event": "click", "properties": {"key": key}}, [])
    assert hovered == [["i11"]] and clicked == [["i11"]]


# ------------------------------------------------------------------ the table
def test_table_sorts_by_any_header_and_keeps_missing_values_last():
    items = [_item("b", "2024-02-01", **{"eo:cloud_cover": 40.0, "platform": "sentinel-2b"}),
             _item("a", "2024-01-01", **{"eo:cloud_cover": 5.0, "platform": "sentinel-2a"}),
             _item("c", "2024-03-01", platform="sentinel-2a")]              # no cloud cover (a thematic product)
    table = ResultsTable()
    table.set_rows(item_row(it, "T31TGK") for it in items)
    assert [c[1] for c in table.columns] == ["date", "tile", "cloud %", "platform", "id"]
    assert table.ids == ["a", "b", "c"] and table.rows[0]["cloud"] == "5" and table.rows[2]["cloud"] == "–"
    table.sort_by = "cloud"
    assert table.ids == ["a", "b", "c"]
    table.ascending = False
    assert table.ids == ["b", "a", "c"]   # no value: last either way
    table.sort_by, table.ascending = "id", True
    assert table.ids == ["a", "b", "c"]
    with pytest.raises(Exception, match="use one of"):
        table.sort_by = "nope"


# ------------------------------------------------------------------ SearchMap on the demo
def test_search_links_table_and_footprints_both_ways(demo_root):
    sm = _search_map()
    assert sm.collection.value == S2 and sm.map.layout.width == "100%"
    res = sm.search()
    expected = terra_lab.catalog.open("demo").search(AOI, ("2024-01-01", "2024-03-31"), S2, 30, limit=500)
    assert res.ids == expected.ids and sorted(sm.table.ids) == sorted(expected.ids)
    assert f"{len(expected)} items" in sm.message.value and not sm.load_button.disabled
    assert sm.footprints in sm.map.layers
    n_features = len(sm.footprints.outlines.data["features"])
    assert n_features == len({(it["properties"]["datetime"][:10], tile_of(it)) for it in expected})
    # a row selects its footprint (drawn last, in the selection colour) and shows its quicklook
    row = sm.table.ids[2]
    sm.table.selected = [row]
    top = sm.footprints.outlines.data["features"][-1]["properties"]
    assert row in top["ids"] and top["selected"] and sm.quicklook.value[:2] == b"\xff\xd8"
    # a footprint click selects its rows; hovering a footprint lights its rows and names it in the form
    group = sm.footprints.groups[0]
    sm.footprints.outlines._handle_mouse_events(None, {"event": "click", "feature": {"properties": {"key": group.key}}}, [])
    assert sm.table.selected == group.ids
    other = sm.footprints.groups[1]
    sm.footprints.outlines._handle_mouse_events(None, {"event": "mouseover", "properties": {"key": other.key}}, [])
    assert sm.table.highlighted == other.ids and other.date in sm.message.value
    # hovering a row lights its footprint
    sm.table.hovered = other.ids[0]
    assert sm.footprints.hovered == [other.ids[0]]


def test_load_selected_rows_then_show_ndvi_lazily(demo_root, no_compute):
    sm = _search_map()
    sm.search()
    assert sm.bands.value == ("red", "nir") and 20.0 in [v for _, v in sm.resolution.options]
    sm.table.selected = sm.table.ids[:2]
    sm.resolution.value = 20.0
    with no_compute():
        cube = sm.load()
        assert cube is sm.cube and cube.sizes["time"] == 2 and {"red", "nir", "cloud"} <= set(cube.data_vars)
        assert "ready in .cube" in sm.message.value and sm.show_button.description == "Show NDVI on map"
        product = first_product(cube, sm.profile)
    assert product.name == "NDVI" and product.style["vmin"] == 0 and product.style["masked"].dtype == bool
    layer = sm.show()
    assert isinstance(layer, KernelTileLayer) and layer in sm.map.layers and layer.name == "NDVI"
    assert sm.extra.children, "a 2-date layer gets a date slider"
    assert sm.show() is not None and sm.map.data_layers == [sm.layer]   # Show again replaces the layer


def test_a_thematic_collection_shows_the_product_itself(demo_root):
    sm = _search_map(dates=(dt.date(2023, 9, 1), dt.date(2024, 8, 31)), cloud=100)
    sm.collection.value = "THEIA_SNOW_SENTINEL2_L2B"
    res = sm.search()
    assert len(res) > 0 and sm.bands.value == ("snow",)
    sm.table.selected = sm.table.ids[:1]
    assert "no quicklook" in sm.quicklook_text.value
    cube = sm.load()
    assert cube is not None and sm.show_button.description == "Show snow on map", sm.message.value
    layer = sm.show()
    assert layer.legend.get("labels") or layer.legend.get("classes"), layer.legend  # the producer's classes


# ------------------------------------------------------------------ errors in the form
def test_each_failure_says_what_to_do_in_the_form(demo_root):
    sm = SearchMap("demo", lang="en")
    assert sm.search() is None and "Draw an area" in sm.message.value and 'role="alert"' in sm.message.value
    sm.map.aoi = AOI
    sm.start.value, sm.end.value = dt.date(2024, 5, 1), dt.date(2024, 1, 1)
    assert sm.search() is None and "reversed" in sm.message.value and "swap" in sm.message.value
    sm.start.value = None
    assert sm.search() is None and "pick both dates" in sm.message.value
    sm.start.value, sm.end.value = dt.date(2031, 1, 1), dt.date(2031, 2, 1)
    res = sm.search()
    assert len(res) == 0 and "widen the area, the dates or the cloud limit" in sm.message.value and sm.load_button.disabled
    assert sm.load() is None and "search first" in sm.message.value
    assert sm.show() is None and "load a cube first" in sm.message.value
    sm.catalog_box.value = "nowhere-at-all"
    assert "unknown catalogue" in sm.message.value and sm.collection.options == ()
    assert sm.search() is None and "no catalogue is open" in sm.message.value
    sm.catalog_box.value = "demo"
    assert sm.collection.value == S2


def test_upload_a_geojson_area_or_get_a_clear_error(demo_root):
    sm = SearchMap("demo", lang="en")
    feature = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": AOI}]}
    sm.upload.value = ({"name": "area.geojson", "type": "application/geo+json", "size": 1,
                        "content": memoryview(json.dumps(feature).encode()), "last_modified": NOW},)
    assert sm.map.aoi["type"] == "Polygon" and "area from area.geojson" in sm.message.value
    assert sm._area_layer in sm.map.layers
    sm.start.value, sm.end.value = dt.date(2024, 1, 1), dt.date(2024, 3, 31)
    assert len(sm.search()) > 0
    sm.upload.value = ({"name": "notes.txt", "type": "text/plain", "size": 1, "content": memoryview(b"not json"),
                        "last_modified": NOW},)
    assert "notes.txt is not a GeoJSON file" in sm.message.value and 'role="alert"' in sm.message.value
    sm.upload.value = ({"name": "far.geojson", "type": "", "size": 1, "last_modified": NOW,
                        "content": memoryview(b'{"type": "Point", "coordinates": [700000, 5000000]}')},)
    assert "far.geojson" in sm.message.value and "longitude" in sm.message.value
    sm.map.aoi = AOI   # a drawn shape replaces the uploaded area on the map
    assert sm._area_layer is None


def test_quicklooks_are_read_locally_or_linked(demo_root, tmp_path):
    res = terra_lab.catalog.open("demo").search(collections=S2)
    zipped = next(it for it in res if it["assets"]["QKL_ALL"]["href"].startswith("/vsizip/"))
    plain = next(it for it in res if not it["assets"]["QKL_ALL"]["href"].startswith("/vsizip/"))
    assert quicklook(zipped).format == "jpeg" and quicklook(plain).data[:2] == b"\xff\xd8"
    remote = {"id": "r", "assets": {"thumbnail": {"href": "https://example.org/q.jpg", "roles": ["thumbnail"]}}}
    assert quicklook(remote).href == "https://example.org/q.jpg" and not quicklook(remote).data
    gone = {"id": "g", "assets": {"t": {"href": str(tmp_path / "missing.jpg"), "roles": ["thumbnail"]}}}
    assert "cannot be read" in quicklook(gone).why
    assert "has no quicklook" in quicklook({"id": "x", "assets": {}}).why
    sm = SearchMap("demo", lang="en")
    sm._show_results(terra_lab.catalog.SearchResults([remote | {"geometry": SQUARE, "properties": {
        "datetime": "2024-01-01T00:00:00Z"}, "collection": S2}]))
    sm.table.selected = ["r"]
    assert 'href="https://example.org/q.jpg"' in sm.quicklook_text.value and sm.quicklook.layout.display == "none"


def test_profile_bands_are_offered(demo_root):
    sm = _search_map()
    sm.search()
    assert list(sm.bands.options) == list(profile_for_item(sm.results.items[0]).bands)


@pytest.mark.server
def test_search_a_stac_api_by_url(stac_server, demo_root):
    """Any STAC API URL in the catalogue box: the real stac-fastapi-pgstac server serving the demo catalogue."""
    sm = SearchMap(stac_server.url, lang="en")
    assert S2 in sm.collection.options and sm.collection.value == S2 and "collections" in sm.message.value
    sm.map.aoi = AOI
    sm.start.value, sm.end.value = dt.date(2024, 1, 1), dt.date(2024, 3, 31)
    sm.max_cloud.value = 30
    res = sm.search()
    expected = terra_lab.catalog.open("demo").search(AOI, ("2024-01-01", "2024-03-31"), S2, 30)
    assert sorted(res.ids) == sorted(expected.ids) and sorted(sm.table.ids) == sorted(expected.ids)
    sm.catalog_box.value = "http://127.0.0.1:9/nothing-listens-here"
    assert 'role="alert"' in sm.message.value and sm.collection.options == ()


def test_terramap_show_items_replaces_its_footprints(demo_root):
    from terra_lab.display.map import TerraMap

    res = terra_lab.catalog.open("demo").search(AOI, ("2024-01-01", "2024-03-31"), S2, 30)
    m = TerraMap(center=(45.19, 6.30), zoom=12)
    first = m.show_items(res)
    second = m.show_items(res.items[:2])
    assert first not in m.layers and second in m.layers and isinstance(second, Footprints)
    assert sum(g.count for g in second.groups) == 2


def test_search_map_on_the_real_theia_sample(zonetest_catalog):
    """The real MUSCATE sample (../shared/data, ingested as it is): SearchMap opens its folder,
    finds its products over their own footprint, groups them by date and THEIA tile, offers their
    bands and loads a lazy cube from the selected row."""
    from terra_lab.display.search import SearchMap

    every = zonetest_catalog.search(collections="ZONETEST")
    assert len(every) > 0
    import shapely.geometry

    w_, s, e, n = shapely.union_all([shapely.geometry.shape(it["geometry"]) for it in every]).bounds
    cx, cy = (w_ + e) / 2, (s + n) / 2
    sm = SearchMap(str(zonetest_catalog.root), lang="en")
    assert sm.collection.value == "ZONETEST"
    sm.start.value, sm.end.value = dt.date(2015, 1, 1), dt.date(2026, 1, 1)
    sm.max_cloud.value = 100
    sm.set_area((cx - 0.01, cy - 0.01, cx + 0.01, cy + 0.01))
    res = sm.search()
    assert res is not None and len(res) > 0, sm.message.value
    tiles = {g.tile for g in sm.footprints.groups}
    assert tiles and all(t for t in tiles), f"every real product has its THEIA tile: {tiles}"
    assert sum(len(g.ids) for g in sm.footprints.groups) == len(res)
    # the sample's products hold their 20 m bands only: only those are offered, NDVI from B8A
    assert "nir" not in sm.bands.options and {"red", "nir08", "swir16"} <= set(sm.bands.options)
    assert sm.bands.value == ("red", "nir08")
    sm.table.selected = [res.items[0]["id"]]
    cube = sm.load()
    assert cube is not None, sm.message.value
    assert cube.sizes["time"] == 1 and {"red", "nir08"} <= set(cube.data_vars)
    layer = sm.show()
    assert layer is not None and "NDVI" in str(layer.name), sm.message.value


# ------------------------------------------------------------------ language
def _shown(sm: SearchMap) -> str:
    """Every word the view shows: widget descriptions, placeholders, table headers and the message."""
    import html
    import re

    words = [getattr(c, "description", "") for c in (sm.catalog_box, sm.collection, sm.start, sm.end, sm.max_cloud,
                                                     sm.upload, sm.search_button, sm.bands, sm.resolution,
                                                     sm.load_button, sm.show_button)]
    words += [sm.catalog_box.placeholder, *(lbl for _, lbl in sm.table.columns), re.sub("<[^>]+>", " ", sm.message.value),
              re.sub("<[^>]+>", " ", sm.quicklook_text.value)]
    return html.unescape("\n".join(words))


def test_search_map_speaks_one_language_french_by_default(demo_root):
    """French by default (as the dashboards), English on request; every label from the one table, and
    a French view shows none of the English words (and the other way round)."""
    from terra_lab.display._i18n import DEFAULT_LANGUAGE, SEARCH_LABELS

    assert DEFAULT_LANGUAGE == "fr"
    fr, en = SearchMap("demo"), SearchMap("demo", lang="en")
    assert fr.lang == "fr" and fr.search_button.description == "Rechercher" and en.search_button.description == "Search"
    for sm in (fr, en):
        sm.set_area(AOI)
        sm.start.value, sm.end.value = dt.date(2024, 1, 1), dt.date(2024, 3, 31)
        sm.search()
        sm.load()
    assert "images" in fr.message.value and fr.show_button.description == "Afficher NDVI sur la carte"
    assert fr.footprints.labels[0].title.endswith(" images") and en.footprints.labels[0].title.endswith(" items")
    assert [lbl for _, lbl in fr.table.columns] == ["date", "tuile", "nuages %", "plateforme", "identifiant"]
    for sm, other in ((fr, "en"), (en, "fr")):
        shown = _shown(sm)
        own = {e[sm.lang] for e in SEARCH_LABELS.values()}
        foreign = [e[other] for e in SEARCH_LABELS.values()
                   if e[other] not in own and len(e[other]) > 3 and "{" not in e[other] and e[other] in shown]
        assert not foreign, f"the {sm.lang} view shows {foreign}"
    assert "Rechercher" not in _shown(en) and "Search" not in _shown(fr)
    with pytest.raises(ValueError, match="'fr', 'en'"):
        SearchMap("demo", lang="de")


def test_french_messages_keep_the_librarys_english_details(demo_root):
    """A French view says what happened in French; a library's message (English: it names the input
    and the fix) follows its French words."""
    import html

    sm = SearchMap("demo")
    assert sm.search() is None and "Dessinez d'abord une zone" in html.unescape(sm.message.value)
    sm.catalog_box.value = "nope"
    said = html.unescape(sm.message.value)
    assert "catalogue 'nope' : " in said and "unknown catalogue" in said, said
