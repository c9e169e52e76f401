"""SearchMap: the form drives real searches on the demo catalogue; map and table stay linked."""

import datetime as dt

import terra_lab
from terra_lab.display.search import SearchMap


def test_search_select_and_load(demo_root):
    sm = SearchMap("demo")
    assert "THEIA_REFLECTANCE_SENTINEL2_L2A" in sm.collection.options and sm.collection.value == "THEIA_REFLECTANCE_SENTINEL2_L2A"
    sm.map.aoi = {"type": "Polygon", "coordinates": [[[6.28, 45.17], [6.33, 45.17], [6.33, 45.2], [6.28, 45.2], [6.28, 45.17]]]}
    sm.start.value, sm.end.value = dt.date(2024, 1, 1), dt.date(2024, 3, 31)
    sm.max_cloud.value = 30
    res = sm.search()
    expected = terra_lab.catalog.open("demo").search(sm.map.aoi, ("2024-01-01", "2024-03-31"), "THEIA_REFLECTANCE_SENTINEL2_L2A", 30)
    assert res.ids == expected.ids and len(sm.table.options) == len(expected)
    assert len(sm.map.footprints["features"]) == len(expected) and not sm.load_button.disabled
    # a footprint click selects the table row, and a row selects the footprint; the quicklook shows
    sm.map.selected = expected.ids[2]
    assert sm.table.value == expected.ids[2]
    sm.table.value = expected.ids[0]
    assert sm.map.selected == expected.ids[0] and sm.thumbnail.value[:2] == b"\xff\xd8"  # a JPEG quicklook
    sm.map._on_msg(sm.map, {"type": "hover", "id": expected.ids[1]}, [])  # mouse over a footprint
    assert expected.ids[1] in sm.message.value
    cube = sm.load(bands=["red"], resolution=20)
    assert cube is sm.cube and cube.red.chunks is not None and "ready in .cube" in sm.message.value


def test_errors_show_in_the_form(demo_root):
    sm = SearchMap("demo")
    sm.start.value, sm.end.value = dt.date(2024, 5, 1), dt.date(2024, 1, 1)
    assert sm.search() is None and "reversed" in sm.message.value
    sm.catalog_box.value = "nowhere-at-all"
    assert "unknown catalogue" in sm.message.value and sm.collection.options == ()
    sm.catalog_box.value = "demo"
    sm.start.value, sm.end.value = dt.date(2031, 1, 1), dt.date(2031, 2, 1)
    assert len(sm.search()) == 0 and "widen the area" in sm.message.value and sm.load_button.disabled
