"""The embedded stac-geoparquet catalogue searched in-process with DuckDB."""

import json
import os

import pandas as pd
import pystac
import pytest
import shapely.geometry

import terra_lab
from terra_lab.catalog import DEFAULT_COLLECTIONS, LocalCatalog
from terra_lab.demo import DEM_COLLECTION
from terra_lab.demo import DEMO_COLLECTION as DEMO
from terra_lab.errors import UnknownCollectionError

WEST = (6.28, 45.17, 6.30, 45.19)  # inside T31TGK only


def test_open_demo_lists_collections(demo_catalog):
    ids = demo_catalog.collection_ids()
    assert ids == sorted(ids) and {DEMO, DEM_COLLECTION} <= set(ids)
    assert DEFAULT_COLLECTIONS["demo"] == DEMO == "THEIA_REFLECTANCE_SENTINEL2_L2A"  # GEODES' id
    coll = demo_catalog.collection(DEMO)
    assert coll["type"] == "Collection"
    assert {"FRE_B2", "FRE_B8A", "CLM_R1", "MG2_R2", "EDG_R2", "SAT_R1"} <= set(coll["item_assets"])
    pystac.Collection.from_dict(coll)


def test_all_items_sorted_and_valid(demo_items):
    assert len(demo_items) == 129
    dates = [it["properties"]["datetime"] for it in demo_items]
    assert dates == sorted(dates)
    item = pystac.Item.from_dict(demo_items[0])
    assert demo_items[0]["properties"]["proj:epsg"] in (32631, 32632)
    assert os.path.isabs(item.assets["FRE_B2"].href) and os.path.exists(item.assets["FRE_B2"].href)


def test_search_filters_agree_with_a_brute_force_scan(demo_catalog, demo_items):
    res = demo_catalog.search(WEST, "2024-01-01/2024-03-31", DEMO, max_cloud=30)
    aoi = shapely.geometry.box(*WEST)
    expected = [
        it["id"]
        for it in demo_items
        if shapely.geometry.shape(it["geometry"]).intersects(aoi)
        and "2024-01-01" <= it["properties"]["datetime"][:10] <= "2024-03-31"
        and it["properties"]["eo:cloud_cover"] <= 30
    ]
    assert res.ids == expected
    assert 0 < len(res) < 30
    assert all("T31TGK" in i for i in res.ids)  # the east tile does not reach WEST


def test_limit_and_matched(demo_catalog):
    res = demo_catalog.search(dates="2024", collections=DEMO, limit=5)
    assert len(res) == 5 and res.matched > 5
    full = demo_catalog.search(dates="2024", collections=DEMO)
    assert res.ids == full.ids[:5]


def test_search_by_ids(demo_catalog, demo_items):
    ids = demo_items.ids[3:6]
    assert demo_catalog.get_items(ids).ids == ids


def test_geodataframe_view(demo_catalog):
    res = demo_catalog.search(WEST, "2024-02", DEMO)
    gdf = res.gdf
    assert list(gdf["id"]) == res.ids
    assert gdf.crs.to_epsg() == 4326
    assert isinstance(gdf["datetime"].dtype, pd.DatetimeTZDtype)
    assert gdf["eo:cloud_cover"].between(0, 100).all()
    assert gdf["thumbnail"].str.endswith("_QKL_ALL.jpg").all()
    ic = res.item_collection()
    assert [it.id for it in ic] == res.ids


def test_unknown_collection_lists_the_known_ones(demo_catalog):
    with pytest.raises(UnknownCollectionError, match=r"'SENTINEL2_L2A' is not in the catalogue 'demo'; available: "
                                                     r"\[.*'THEIA_REFLECTANCE_SENTINEL2_L2A'.*'cop-dem-eea-10-laea-tif'.*\]"):
        demo_catalog.search(collections="SENTINEL2_L2A")


def test_bad_search_arguments(demo_catalog):
    with pytest.raises(ValueError, match="max_cloud=120"):
        demo_catalog.search(max_cloud=120)
    with pytest.raises(ValueError, match="limit=0"):
        demo_catalog.search(limit=0)


def test_empty_result_is_not_an_error(demo_catalog):
    res = demo_catalog.search((0.0, 0.0, 0.1, 0.1), collections=DEMO)
    assert len(res) == 0 and res.gdf.empty


def test_add_items_replaces_by_id_and_writes_atomically(tmp_path, demo_items):
    cat = LocalCatalog(tmp_path)
    items = [json.loads(json.dumps(it)) for it in demo_items.items[:4]]
    assert cat.add_items(items[:3], collection="C") == 3
    changed = json.loads(json.dumps(items[0]))
    changed["properties"]["eo:cloud_cover"] = 42.0
    assert cat.add_items([changed, items[3]], collection="C") == 4
    res = cat.search(collections="C")
    assert res.ids == [it["id"] for it in items]
    assert res[0]["properties"]["eo:cloud_cover"] == 42.0
    leftovers = [p.name for p in tmp_path.rglob(".*")]
    assert leftovers == []  # no temporary files left behind
    assert json.loads((tmp_path / "collections" / "C.json").read_text())["id"] == "C"


def test_open_unknown_names(tmp_path):
    with pytest.raises(UnknownCollectionError, match="unknown catalogue 'nowhere'"):
        terra_lab.catalog.open("nowhere")
    assert isinstance(terra_lab.catalog.open(tmp_path), LocalCatalog)
    assert terra_lab.catalog.open("earth-search").url.startswith("https://earth-search")
