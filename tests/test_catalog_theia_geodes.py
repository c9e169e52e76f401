"""The two THEIA catalogues by name, against servers of the project's on 127.0.0.1.

* ``catalog.open("theia")``: a real STAC API (stac-fastapi-pgstac) holding items shaped like the
  THEIA STAC API's (``B02``... FRE keys, ``CLM_R1``..., ``proj:code`` on the assets only, plain
  hrefs), their files served only under S3-style signatures that expire, signed by the real
  ``teledetection`` package talking to the file server's signing service.
* ``catalog.open("geodes", api_key=...)``: items shaped like GEODES' (one zip asset per product,
  ``identifier``/``grid:code``/``start_datetime`` properties, no ``proj:``), the zips served only
  with the right ``X-API-Key`` and read in place through ``/vsizip//vsicurl/``.
* Expired signatures are renewed by the reader, once per file, not once per chunk.
"""

from __future__ import annotations

import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from _signed_server import SignedFileServer

import terra_lab
from terra_lab.catalog import LocalCatalog
from terra_lab.catalog._geodes import expand_item, mgrs_epsg
from terra_lab.demo import DEMO_COLLECTION
from terra_lab.errors import MissingCredentialsError

AOI = (6.28, 45.17, 6.33, 45.2)
DATES = "2024-01/2024-03"
BANDS = ["red", "nir"]


def _theia_key(key: str) -> str | None:
    """Demo (MUSCATE) asset key -> THEIA STAC API key: FRE_B4 -> B04, CLM_R1 -> CLM_R1."""
    if key.startswith("FRE_"):
        b = key[4:]
        return "B0" + b[1:] if len(b) == 2 else b
    return key if key[:3] in ("CLM", "MG2", "EDG", "SAT") else None


def theia_item(item: dict, files: SignedFileServer) -> dict:
    """A demo item as the THEIA STAC API serves it."""
    epsg = item["properties"]["proj:epsg"]
    assets = {}
    for key, a in item["assets"].items():
        new = _theia_key(key)
        if new is None:
            continue
        a = {k: v for k, v in a.items() if k != "proj:epsg"}
        assets[new] = {**a, "href": files.href(a["href"]), "proj:code": f"EPSG:{epsg}"}
    props = {k: v for k, v in item["properties"].items() if not k.startswith("proj:")}
    return {**item, "collection": "sentinel2-l2a-theia", "properties": props, "assets": assets, "links": []}


def geodes_item(item: dict, zip_path: Path, files: SignedFileServer) -> dict:
    """A demo item as GEODES serves it: one zip, GEODES' properties, no proj: fields."""
    p = item["properties"]
    product = zip_path.stem
    props = {"datetime": p["datetime"], "start_datetime": p["datetime"], "end_datetime": p["datetime"],
             "identifier": product, "dataset": DEMO_COLLECTION, "grid:code": product.split("_")[3],
             "eo:cloud_cover": p.get("eo:cloud_cover"), "platform": p.get("platform"), "instrument": "MSI",
             "processing:level": "L2A", "product:type": "REFLECTANCE",
             "endpoint_url": f"https://s3.datalake.cnes.fr/sentinel2-l2a/{zip_path.name}"}
    assets = {
        zip_path.name: {"href": files.href(zip_path), "title": zip_path.name, "roles": ["data"], "type": "application/zip",
                        "description": f"File size: {zip_path.stat().st_size} bytes\nChecksum MD5: unused"},
    }
    return {"type": "Feature", "stac_version": "1.0.0", "stac_extensions": [], "id": f"URN:FEATURE:DATA:gdh:{product}:V1",
            "collection": DEMO_COLLECTION, "geometry": item["geometry"], "bbox": item["bbox"], "properties": props,
            "links": [], "assets": assets}


def _zip_product(folder: Path, dest: Path) -> Path:
    """The product as one zip (the demo's own zip when it ships one)."""
    z = dest / f"{folder.name}.zip"
    if folder.with_suffix(".zip").exists():
        shutil.copyfile(folder.with_suffix(".zip"), z)
        return z
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        for f in sorted(folder.rglob("*")):
            zf.write(f, f.relative_to(folder.parent))
    return z


@pytest.fixture(scope="module")
def local_res(demo_catalog):
    """Demo products delivered as plain GeoTIFFs (THEIA's STAC API serves COGs, not zips)."""
    res = demo_catalog.search(AOI, DATES, DEMO_COLLECTION, max_cloud=30)
    plain = [it["id"] for it in res.items if not it["assets"]["FRE_B4"]["href"].startswith("/vsizip/")]
    res = demo_catalog.search(collections=DEMO_COLLECTION, ids=plain)
    assert 2 <= len(res) <= 20
    return res


@pytest.fixture(scope="module")
def reference(local_res):
    return terra_lab.load(local_res, bands=BANDS, resolution=20, masks=False).compute()


@pytest.fixture
def teledetection_against(monkeypatch):
    """Point the real ``teledetection`` package at a local signing service (its settings, its storage domain)."""
    import teledetection.sdk.http as tld_http
    import teledetection.sdk.signing as tld_signing
    from teledetection.sdk.settings import ENV

    def configure(files: SignedFileServer):
        monkeypatch.setattr(ENV, "tld_signing_endpoint", files.url + "/")
        monkeypatch.setattr(ENV, "tld_disable_auth", True)
        monkeypatch.setattr(ENV, "tld_ttl_margin", 0)
        monkeypatch.setattr(tld_signing, "S3_STORAGE_DOMAIN", f"127.0.0.1:{files.port}")
        monkeypatch.setattr(tld_http.session, "_method", None)
        monkeypatch.setattr(tld_signing, "CACHE", {})

    return configure


# ------------------------------------------------------------------ expiring signatures
def test_expired_signatures_are_renewed_once_per_file(demo_root, local_res, reference):
    with SignedFileServer(demo_root, duration=3600) as files:
        items = [theia_item(it, files) for it in local_res.items]
        cat = terra_lab.catalog.ApiCatalog("http://127.0.0.1:9/", name="signed", signer=files.sign)
        assets = [a for it in items for a in it["assets"].values()]
        signed = files.sign([a["href"] for a in assets], duration=2)  # found by a search, signed for 2 s
        for a in assets:
            a["href"] = signed[a["href"]]
        access = cat.access(items[0]["assets"]["B04"]["href"])  # renewals: the service's own 1 h
        # the client's clock may not see the expiry (skew, a signature revoked early): only the
        # server's 403 says so; with this margin the reader renews only when refused
        access.margin = -60
        cube = terra_lab.load(items, bands=BANDS, resolution=20, masks=False, chunks={"x": 64, "y": 64})
        time.sleep(2.5)  # every signature has now expired
        got = cube.compute()  # threads: the chunks of a file share its reader and its renewal
        stats = files.stats()
    for b in BANDS:
        np.testing.assert_array_equal(got[b].values, reference[b].values)
    read = [p for p in stats["served"] if "_FRE_B4" in p or "_FRE_B8." in p]
    assert len(read) == 2 * len(items)
    assert {stats["signed"][p] for p in read} == {2}  # signed at search, renewed once: not once per chunk
    assert all(stats["denied"][p] >= 1 for p in read)  # the expired signature was refused, then renewed


def test_signature_known_expired_is_renewed_before_opening(demo_root, local_res):
    with SignedFileServer(demo_root, duration=2) as files:
        items = [theia_item(it, files) for it in local_res.items[:1]]
        cat = terra_lab.catalog.ApiCatalog("http://127.0.0.1:9/", name="signed", signer=files.sign)
        cat.sign_page({"type": "FeatureCollection", "features": items})  # the catalogue's own signing
        assert all("X-Amz-Signature=" in a["href"] for it in items for a in it["assets"].values())
        time.sleep(2.5)
        got = terra_lab.load(items, bands=["red"], resolution=20, masks=False).compute()
        stats = files.stats()
    ref = terra_lab.load(local_res.items[:1], bands=["red"], resolution=20, masks=False).compute()
    np.testing.assert_array_equal(got.red.values, ref.red.values)
    (path,) = [p for p in stats["served"] if "_FRE_B4" in p]
    assert stats["signed"][path] == 2 and stats["denied"][path] == 0  # the default margin saw it expired


def test_a_refusal_that_renewing_does_not_cure_fails_naming_the_file(demo_root, local_res):
    with SignedFileServer(demo_root, duration=3600) as files:
        items = [theia_item(it, files) for it in local_res.items[:1]]
        # a signer whose signatures the server refuses (a revoked account, say)
        cat = terra_lab.catalog.ApiCatalog("http://127.0.0.1:9/", name="revoked", signer=lambda urls: {u: u for u in urls})
        cat.sign_page({"type": "FeatureCollection", "features": items})
        with pytest.raises(terra_lab.errors.AssetReadError, match=r"FRE_B4\.tif.*403"):
            terra_lab.load(items, bands=["red"], resolution=20, masks=False).compute()
        stats = files.stats()
    (path,) = [p for p in stats["denied"] if "_FRE_B4" in p]
    assert stats["denied"][path] <= 4  # renewed once per reader at most, no loop


def test_signature_parsing():
    from terra_lab.catalog._access import base_url, expiry

    url = ("https://s3-data.meso.umontpellier.fr/b/x.tif?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20250515T182342Z"
           "&X-Amz-Expires=28800&X-Amz-SignedHeaders=host&X-Amz-Signature=abc")
    assert base_url(url) == "https://s3-data.meso.umontpellier.fr/b/x.tif"
    assert expiry(url).isoformat() == "2025-05-16T02:23:42+00:00"  # 8 h, THEIA's signer
    assert expiry("https://h/x.tif?a=1") is None and base_url("https://h/x.tif?a=1") == "https://h/x.tif?a=1"


# ------------------------------------------------------------------ pgstac servers
@pytest.fixture(scope="module")
def theia_api(stac_server, demo_root, local_res, tmp_path_factory):
    files = SignedFileServer(demo_root, duration=3600).start()
    cat = LocalCatalog(tmp_path_factory.mktemp("theia-catalog"), name="theia-shaped")
    cat.add_items([theia_item(it, files) for it in local_res.items], collection="sentinel2-l2a-theia",
                  description="Sentinel-2 L2A (MAJA) as the THEIA STAC API serves it", license="etalab-2.0")
    yield stac_server.add_catalog(cat), files
    files.stop()


@pytest.fixture(scope="module")
def geodes_api(stac_server, demo_root, local_res, tmp_path_factory):
    zips = tmp_path_factory.mktemp("geodes-zips")
    archive = demo_root / "archive"
    files = SignedFileServer(zips, mode="apikey", api_key="k-123").start()
    items = [geodes_item(it, _zip_product(archive / it["id"], zips), files) for it in local_res.items]
    cat = LocalCatalog(tmp_path_factory.mktemp("geodes-catalog"), name="geodes-shaped")
    cat.add_items(items, collection=DEMO_COLLECTION, description="THEIA Sentinel-2 L2A as CNES GEODES serves it",
                  license="etalab-2.0")
    yield stac_server.add_catalog(cat), files
    files.stop()


@pytest.mark.server
def test_theia_by_name_signs_with_teledetection_and_loads(theia_api, teledetection_against, local_res, reference):
    url, files = theia_api
    teledetection_against(files)
    cat = terra_lab.catalog.open("theia", url=url, retries=1, backoff=0.05)
    assert cat.collection_ids() == ["sentinel2-l2a-theia"]
    res = cat.search(AOI, DATES, "sentinel2-l2a-theia", max_cloud=30)
    assert res.ids == local_res.ids
    it = res.items[0]
    assert "proj:epsg" not in it["properties"] and it["assets"]["B04"]["proj:code"].startswith("EPSG:")
    assert all("X-Amz-Signature=" in a["href"] for a in it["assets"].values())
    cube = terra_lab.load(res, bands=BANDS, resolution=20, masks=False).compute()
    for b in BANDS:
        np.testing.assert_array_equal(cube[b].values, reference[b].values)
    assert sum(files.stats()["denied"].values()) == 0


@pytest.mark.server
def test_geodes_by_name_reads_zips_in_place_with_the_api_key(geodes_api, local_res, reference, monkeypatch):
    url, files = geodes_api
    monkeypatch.delenv("GEODES_API_KEY", raising=False)
    with pytest.raises(MissingCredentialsError, match="GEODES_API_KEY"):
        terra_lab.catalog.open("geodes", url=url)
    monkeypatch.setenv("GEODES_API_KEY", "k-123")
    cat = terra_lab.catalog.open("geodes", url=url, retries=1, backoff=0.05)
    assert cat.collection_ids() == [DEMO_COLLECTION]
    res = cat.search(AOI, DATES, DEMO_COLLECTION, max_cloud=30)
    assert sorted(res.ids) == sorted(f"URN:FEATURE:DATA:gdh:{i}:V1" for i in local_res.ids)
    it = res.items[0]
    assert it["properties"]["proj:code"] == "EPSG:32631"
    assert it["assets"]["FRE_B4"]["href"].startswith("/vsizip//vsicurl/http://127.0.0.1:")
    same = next(x for x in local_res.items if x["id"] == it["properties"]["identifier"])
    for k in ("FRE_B4", "FRE_B11", "CLM_R1", "CLM_R2"):  # the exact grids, read from the zip's headers
        assert it["assets"][k]["proj:transform"] == same["assets"][k]["proj:transform"], k
    cube = terra_lab.load(res, bands=BANDS, resolution=20, masks=False).compute()
    for b in BANDS:
        np.testing.assert_array_equal(cube[b].values, reference[b].values)
    stats = files.stats()
    assert sum(stats["denied"].values()) == 0 and sum(stats["served"].values()) > 0


THEMATIC = ["MULTISAT_20230901-000000-000_L3B-SNOW_T31TGK_C_V1-0", "OSO_20230101_RASTER_V1-0",
            "LIS_S2-SNOW-FSC_T31TGK_20240309T103701_1-10_01", "SENTINEL2A_20231031-103732-584_L2B-SNOW_T31TGK_C_V2-0",
            "SENTINEL2X_20240415-000000-000_L3A_T31TGK_C_V1-1"]


def _product_folder(thematic: Path, name: str, tmp: Path) -> Path:
    """The demo's product folder (unpacked into ``tmp`` when the demo ships it zipped)."""
    if (thematic / name).is_dir():
        return thematic / name
    with zipfile.ZipFile(thematic / f"{name}.zip") as zf:
        zf.extractall(tmp)
    return next(p for p in tmp.rglob(name) if p.is_dir())


@pytest.fixture(scope="module")
def geodes_thematic_api(stac_server, demo_root, tmp_path_factory):
    """GEODES-shaped items of the demo's snow L2B (LIS 1.6 and 1.7), snow L3B, OSO and L3A products, each one zip."""
    from terra_lab.catalog._thematic_items import find_fsc_products, fsc_item, thematic_item

    zips = tmp_path_factory.mktemp("geodes-thematic-zips")
    unpacked = tmp_path_factory.mktemp("geodes-thematic-unpacked")
    files = SignedFileServer(zips, mode="apikey", api_key="k-123").start()
    local, items = {}, []
    for name in THEMATIC:
        folder = _product_folder(demo_root / "thematic", name, unpacked)
        ref = (fsc_item(name, find_fsc_products(folder)[name]) if name.startswith("LIS_") else thematic_item(folder))
        local[f"URN:FEATURE:DATA:gdh:{folder.name}:V1"] = ref
        shaped = geodes_item({**ref, "properties": {**ref["properties"], "eo:cloud_cover": None}},
                             _zip_product(folder, zips), files)
        shaped["collection"] = shaped["properties"]["dataset"] = ref["collection"]
        shaped["properties"]["grid:code"] = ref["properties"].get("theia:tile")
        items.append(shaped)
    cat = LocalCatalog(tmp_path_factory.mktemp("geodes-thematic-catalog"), name="geodes-thematic")
    for it in items:
        cat.add_items([it], collection=it["collection"], description="as CNES GEODES serves it", license="etalab-2.0")
    yield stac_server.add_catalog(cat), files, local
    files.stop()


@pytest.mark.server
def test_geodes_thematic_zips_are_listed_and_read_in_place(geodes_thematic_api, monkeypatch):
    url, files, local = geodes_thematic_api
    cat = terra_lab.catalog.open("geodes", url=url, api_key="k-123", retries=1, backoff=0.05)
    assert {ref["collection"] for ref in local.values()} <= set(cat.collection_ids())
    for urn, ref in local.items():
        (it,) = cat.search(collections=ref["collection"], ids=[urn]).items
        assert set(ref["assets"]) <= set(it["assets"]), urn  # the asset keys of a product folder
        for k, a in ref["assets"].items():
            assert it["assets"][k]["href"].startswith("/vsizip//vsicurl/http://127.0.0.1:")
            assert it["assets"][k]["proj:code"] == f"EPSG:{a['proj:epsg']}"
            assert it["assets"][k]["proj:transform"] == a["proj:transform"]
        got = terra_lab.load([it]).compute()
        exp = terra_lab.load([ref]).compute()
        assert list(got.data_vars) == list(exp.data_vars) and len(got.data_vars) >= 1
        for v in exp.data_vars:
            np.testing.assert_array_equal(got[v].values, exp[v].values)
    assert sum(files.stats()["denied"].values()) == 0


@pytest.mark.server
@pytest.mark.slow
def test_geodes_on_worker_processes(geodes_api, local_res, reference):
    """Workers of a distributed cluster read in their own processes: they learn the key too."""
    from dask.distributed import Client, LocalCluster

    url, _files = geodes_api
    with (LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster,
          Client(cluster) as client):
        cat = terra_lab.catalog.open("geodes", url=url, api_key="k-123", retries=1, backoff=0.05)
        res = cat.search(AOI, DATES, DEMO_COLLECTION, max_cloud=30)
        cube = terra_lab.load(res, bands=["red"], resolution=20, masks=False)
        got = client.compute(cube.red).result()
    np.testing.assert_array_equal(got.values, reference.red.values)


def test_signing_and_keys_are_set_by_name_and_overridable(monkeypatch):
    import teledetection

    theia = terra_lab.catalog.open("theia")  # nothing is sent before a search
    assert theia.url == "https://api.stac.teledetection.fr" and theia.signer is teledetection.sign_urls
    assert theia.modifier == theia.sign_page
    own = lambda page: None
    custom = terra_lab.catalog.open("theia", modifier=own)
    assert custom.modifier is own and custom.signer is None
    monkeypatch.setenv("GEODES_API_KEY", "from-env")
    geodes = terra_lab.catalog.open("geodes")
    assert geodes.url == "https://geodes-portal.cnes.fr/api/stac"
    assert geodes.headers["X-API-Key"] == geodes.asset_headers["X-API-Key"] == "from-env"
    assert terra_lab.catalog.open("geodes", api_key="given").asset_headers == {"X-API-Key": "given"}


def test_geodes_item_expansion_and_tile_projection():
    assert mgrs_epsg("T31TGK") == 32631 and mgrs_epsg("32TLQ") == 32632 and mgrs_epsg("T19HCC") == 32719
    assert mgrs_epsg("not a tile") is None
    item = {"id": "x", "collection": "OTHER", "properties": {"dataset": "OTHER"},
            "assets": {"a.zip": {"href": "https://h/a.zip", "roles": ["data"], "title": "a.zip"}}}
    assert expand_item(item) is item  # datasets of unknown layout stay as they are
