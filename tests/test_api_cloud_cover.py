"""search(max_cloud=) on a STAC API keeps the items that carry no eo:cloud_cover and says how many,
as a local catalogue does (the demo holds one such product: R1 masks only, no MTD_ALL.xml)."""

from __future__ import annotations

import pytest

import terra_lab
from terra_lab.demo import DEMO_COLLECTION
from terra_lab.errors import TerraLabWarning

pytestmark = pytest.mark.server


def _no_cloud_ids(items) -> set[str]:
    return {it["id"] for it in items if it["properties"].get("eo:cloud_cover") is None}


def test_api_max_cloud_keeps_and_counts_items_without_cloud_cover(stac_server, demo_catalog):
    local = demo_catalog.search(collections=DEMO_COLLECTION)
    unknown = _no_cloud_ids(local.items)
    assert unknown, "the demo must hold a product without eo:cloud_cover"
    api = terra_lab.catalog.open(stac_server.url)
    with pytest.warns(TerraLabWarning, match=rf"{len(unknown)} of the \d+ items found have no eo:cloud_cover"):
        res = api.search(collections=DEMO_COLLECTION, max_cloud=10)
    with pytest.warns(TerraLabWarning):
        expected = demo_catalog.search(collections=DEMO_COLLECTION, max_cloud=10)
    assert _no_cloud_ids(res.items) == unknown
    assert sorted(it["id"] for it in res.items) == sorted(it["id"] for it in expected.items)
    assert all(it["properties"]["eo:cloud_cover"] <= 10 for it in res.items if it["id"] not in unknown)
