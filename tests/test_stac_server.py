"""Integration: a real STAC API (stac-fastapi-pgstac on PostgreSQL/PostGIS) on 127.0.0.1, queried with pystac-client."""

import os

import pytest
from conftest import free_port
from pystac_client import Client

import terra_lab
from terra_lab.catalog._server import PgStacServer, find_postgres_bin
from terra_lab.demo import DEM_COLLECTION
from terra_lab.demo import DEMO_COLLECTION as DEMO
from terra_lab.errors import CatalogUnreachableError, TerraLabError, UnknownCollectionError

AOI = (6.28, 45.17, 6.33, 45.2)


def _postgres_available() -> bool:
    try:
        find_postgres_bin()
        return True
    except TerraLabError:
        return False


pytestmark = pytest.mark.server
if not _postgres_available() and os.environ.get("TERRA_LAB_REQUIRE_SYSTEM") != "1":
    pytestmark = [pytest.mark.server, pytest.mark.skip(reason="PostgreSQL not installed: bash scripts/setup-system.sh")]


@pytest.fixture(scope="module")
def server(stac_server):
    return stac_server  # one PostgreSQL for the session (tests/conftest.py)


def test_landing_page_and_conformance(server):
    client = Client.open(server.url)
    assert {c.id for c in client.get_collections()} == set(server.catalog.collection_ids()) >= {DEMO, DEM_COLLECTION}
    assert client.conforms_to("ITEM_SEARCH") and client.conforms_to("FILTER")


@pytest.mark.parametrize(
    "collection, kwargs",
    [
        (DEMO, {"bbox": AOI}),
        (DEMO, {"datetime": "2024-01-01/2024-03-31"}),
        (DEMO, {"bbox": AOI, "datetime": "2023-12-01/2024-04-30", "max_cloud": 20}),
        (DEM_COLLECTION, {}),
    ],
)
def test_pystac_client_queries_match_the_embedded_catalogue(server, demo_catalog, collection, kwargs):
    client = Client.open(server.url)
    query = {k: v for k, v in kwargs.items() if k != "max_cloud"}
    if "max_cloud" in kwargs:
        query["filter"] = {"op": "<=", "args": [{"property": "eo:cloud_cover"}, kwargs["max_cloud"]]}
    search = client.search(collections=[collection], limit=7, **query)  # pages of 7
    got = sorted(it["id"] for it in search.items_as_dicts())
    expected = demo_catalog.search(kwargs.get("bbox"), kwargs.get("datetime"), collection, max_cloud=kwargs.get("max_cloud"))
    assert got == sorted(expected.ids)
    assert len(got) >= 1


def test_paging_walks_every_page(server, demo_items):
    client = Client.open(server.url)
    search = client.search(collections=[DEMO], limit=10)
    pages = list(search.pages_as_dicts())
    assert len(pages) == 13  # 129 items, 10 a page
    assert sum(len(p["features"]) for p in pages) == len(demo_items)


def test_terra_lab_catalog_over_the_server_loads_a_cube(server, demo_catalog):
    api = terra_lab.catalog.open(server.url, retries=1, backoff=0.05)
    res = api.search(AOI, "2024-01/2024-03", DEMO, max_cloud=30, page_size=5)
    local = demo_catalog.search(AOI, "2024-01/2024-03", DEMO, max_cloud=30)
    assert res.ids == local.ids
    cube = terra_lab.load(res, bands=["red"], resolution=20, masks=False)
    ref = terra_lab.load(local, bands=["red"], resolution=20, masks=False)
    assert float(cube.red.mean().compute()) == pytest.approx(float(ref.red.mean().compute()))
    with pytest.raises(UnknownCollectionError,
                       match=r"'S2' is not offered by .*available: \[.*'THEIA_REFLECTANCE_SENTINEL2_L2A'"):
        api.search(collections="S2")


def test_unreachable_catalogue_retries_then_says_so():
    port = free_port()  # closed once chosen: nothing listens there
    api = terra_lab.catalog.open(f"http://127.0.0.1:{port}/", retries=2, backoff=0.01, timeout=2)
    with pytest.raises(CatalogUnreachableError, match=r"after 3 attempts.*catalog.open\('demo'\)"):
        api.search(AOI)


def test_server_refuses_non_loopback(demo_catalog):
    with pytest.raises(ValueError, match="loopback"):
        PgStacServer(demo_catalog, host="0.0.0.0")


def test_cli_serve_answers_then_stops_on_sigterm(demo_root):
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "terra_lab.cli", "catalog", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert f"STAC API on http://127.0.0.1:{port}" in line, line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/collections?limit=100", timeout=10) as r:
            assert DEMO in r.read().decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    time.sleep(0.5)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def test_mixed_load_no_server_error_and_same_items(server):
    """A short run of benchmarks/bench_stac_load.py's load (that script sends 3,000): 240 mixed requests
    from 8 clients: no 5xx, malformed ones 4xx, valid ones 2xx, every item and collection unchanged."""
    from _stac_load import plan, run, snapshot

    items = [(it["collection"], it["id"], it["bbox"], it["properties"]["datetime"])
             for cid in server.catalog.collection_ids() for it in server.catalog.search(collections=cid).items]
    before = snapshot(server.url)
    assert len(before) == len(items) + len(server.catalog.collection_ids())
    result = run(server.url, plan(items, 240, seed=2), workers=8)
    rows = {r["kind"]: r for r in result["rows"]}
    assert rows["malformed"]["requests"] > 0 and rows["malformed"]["4xx"] == rows["malformed"]["requests"]
    for kind, row in rows.items():
        assert row["5xx"] == 0 and row["other"] == 0, row
        if kind != "malformed":
            assert row["2xx"] == row["requests"], row
    assert snapshot(server.url) == before
