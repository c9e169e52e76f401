"""Every STAC item and collection terra_lab writes or serves validates against the schemas it declares.

Offline: the core and extension schemas are vendored in tests/data/stac-schemas/ (see its README);
each object is checked against its core schema and every schema in its ``stac_extensions``.
"""

import copy
import json
import os
import urllib.request

import pytest
from _stac_schema import assert_valid, schema_errors
from test_stac_server import _postgres_available

from terra_lab.catalog._server import PgStacServer


def _assert_all_valid(objects: list[dict], what: str) -> None:
    failures = {}
    for obj in objects:
        errors = schema_errors(obj)
        if errors:
            failures[obj.get("id")] = errors
    assert objects, f"no {what} to validate"
    if failures:
        first = next(iter(failures))
        pytest.fail(
            f"{len(failures)} of {len(objects)} {what} fail their schemas, e.g. {first!r}:\n  "
            + "\n  ".join(failures[first][:10])
            + f"\nfailing: {sorted(failures)[:20]}"
        )


# ------------------------------------------------------------------ the demo catalogue
def test_every_demo_collection_is_valid(demo_catalog):
    collections = demo_catalog.collections()
    assert len(collections) >= 2
    _assert_all_valid(list(collections.values()), "demo collections")


def test_every_demo_item_is_valid(demo_catalog):
    for cid in demo_catalog.collection_ids():
        _assert_all_valid(demo_catalog.search(collections=[cid]).items, f"items of the demo collection {cid}")


# ------------------------------------------------------------------ the real THEIA sample
def test_items_of_the_real_theia_sample_are_valid(zonetest_catalog):
    for cid, coll in zonetest_catalog.collections().items():
        assert_valid(coll)
        _assert_all_valid(zonetest_catalog.search(collections=[cid]).items, f"ingested items of {cid}")


# ------------------------------------------------------------------ the STAC API server
def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


@pytest.mark.server
@pytest.mark.skipif(not _postgres_available() and os.environ.get("TERRA_LAB_REQUIRE_SYSTEM") != "1",
                    reason="PostgreSQL not installed: bash scripts/setup-system.sh")
def test_items_and_collections_served_by_the_stac_api_are_valid(demo_catalog):
    with PgStacServer(demo_catalog) as srv:
        collections = _get(srv.url + "/collections?limit=100")["collections"]  # one page: the demo has more than 10
        assert {c["id"] for c in collections} == set(demo_catalog.collection_ids())
        _assert_all_valid(collections, "served collections")
        for coll in collections:
            items, url = [], f"{srv.url}/collections/{coll['id']}/items?limit=100"
            while url:
                page = _get(url)
                items += page["features"]
                url = next((link["href"] for link in page.get("links", []) if link["rel"] == "next"), None)
            local = {it["id"]: it for it in demo_catalog.search(collections=[coll["id"]]).items}
            assert len(items) == len(local)
            dropped = [it["id"] for it in items
                       if set(local[it["id"]].get("stac_extensions") or []) - set(it.get("stac_extensions") or [])]
            assert not dropped, f"the server dropped the stac_extensions of {dropped[:5]}"
            _assert_all_valid(items, f"served items of {coll['id']}")


# ------------------------------------------------------------------ the validator itself
@pytest.fixture(scope="module")
def s2_item(demo_catalog):
    cid = next(c for c in demo_catalog.collection_ids() if "SENTINEL2_L2A" in c)
    return demo_catalog.search(collections=[cid], limit=1).items[0]


def test_a_wrong_common_name_fails_naming_the_field(s2_item):
    item = copy.deepcopy(s2_item)
    key = next(k for k, a in item["assets"].items() if "eo:bands" in a)
    item["assets"][key]["eo:bands"][0]["common_name"] = "rededge1"
    errors = schema_errors(item)
    assert errors, "a common name outside eo v1.1.0 passed"
    assert any(f"assets.{key}.eo:bands[0].common_name: 'rededge1' is not one of" in e for e in errors), errors
    assert all(e.startswith("https://stac-extensions.github.io/eo/v1.1.0/schema.json") for e in errors), errors
    with pytest.raises(AssertionError, match=r"eo:bands\[0\]\.common_name"):
        assert_valid(item)


def test_core_failures_and_undeclared_schemas_are_reported(s2_item):
    item = copy.deepcopy(s2_item)
    del item["properties"]["datetime"]
    item["bbox"] = item["bbox"][:3]
    errors = schema_errors(item)
    assert any("datetime" in e and "item.json" in e for e in errors), errors
    assert any(e.split(": ", 1)[1].startswith("bbox") for e in errors), errors
    item = copy.deepcopy(s2_item)
    item["stac_extensions"] = [*item["stac_extensions"], "https://stac-extensions.github.io/sat/v1.0.0/schema.json"]
    assert schema_errors(item) == [
        "https://stac-extensions.github.io/sat/v1.0.0/schema.json: no schema vendored for it "
        "(add it under tests/data/stac-schemas/)"
    ]
    assert schema_errors({"type": "Feature", "stac_version": "0.9.0", "stac_extensions": []})[0].startswith(
        "https://schemas.stacspec.org/v0.9.0/item-spec/json-schema/item.json: no schema vendored"
    )
