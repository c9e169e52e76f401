"""The terra-lab command line, run as a user would (subprocess)."""

import json
import os
import subprocess
import sys


def _run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "terra_lab.cli", *args], capture_output=True, text=True,
                          env=env or os.environ.copy())


def test_info_and_demo_build_is_idempotent(demo_root):
    out = _run("info")
    assert out.returncode == 0 and json.loads(out.stdout)["demo_built"] is True
    out = _run("demo", "build")
    assert out.returncode == 0 and str(demo_root) in out.stdout


def test_catalog_search_prints_a_table(demo_root):
    out = _run("catalog", "search", "--bbox", "6.28,45.17,6.33,45.2", "--dates", "2024-02", "--max-cloud", "50")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].split() == ["id", "datetime", "eo:cloud_cover"]
    assert all("2024-02" in line for line in lines[1:]) and len(lines) > 2


def test_catalog_collections_lists_ids(demo_root, stac_server):
    from terra_lab.demo import DEM_COLLECTION, DEMO_COLLECTION

    out = _run("catalog", "collections")
    assert out.returncode == 0, out.stderr
    assert DEMO_COLLECTION in out.stdout.split() and DEM_COLLECTION in out.stdout.split()
    out = _run("catalog", "collections", "--catalog", stac_server.url)  # a STAC API
    assert out.returncode == 0 and sorted(out.stdout.split()) == sorted(stac_server.catalog.collection_ids())
    env = {k: v for k, v in os.environ.items() if k != "GEODES_API_KEY"}
    out = _run("catalog", "collections", "--catalog", "geodes", env=env)
    assert out.returncode == 2 and "GEODES_API_KEY" in out.stderr and "Traceback" not in out.stderr


def test_errors_are_one_clear_line(demo_root):
    out = _run("catalog", "search", "--dates", "2024-05/2024-01")
    assert out.returncode == 2 and out.stderr.startswith("terra-lab: error: the date range") and "Traceback" not in out.stderr


def test_ingest_real_theia_sample(zonetest_dir, tmp_path):
    env = dict(os.environ, TERRA_LAB_HOME=str(tmp_path))
    out = _run("ingest", str(zonetest_dir), "--collection", "ZT", env=env)
    assert out.returncode == 0, out.stderr
    assert "collection 'ZT' now holds 97 items" in out.stdout
    out = _run("catalog", "search", "--catalog", "local", "--dates", "2019-06", env=env)
    assert "T31UFQ" in out.stdout


def test_ingest_says_per_collection_what_thematic_products_added(demo_root, tmp_path):
    import shutil

    src = tmp_path / "products"
    for pattern in ("*_L2B-WATERQUAL_*", "*_L2B-BIOPHY_*"):
        folder = sorted((demo_root / "thematic").glob(pattern))[0]
        shutil.copytree(folder, src / folder.name)
    env = dict(os.environ, TERRA_LAB_HOME=str(tmp_path / "home"))
    out = _run("ingest", str(src), env=env)
    assert out.returncode == 0, out.stderr
    assert "collection 'THEIA_WATERQUAL_SENTINEL2_L2B' now holds 1 items (+1)" in out.stdout
    assert "collection 'THEIA_BIOPHY_SENTINEL2_L2B' now holds 1 items (+1)" in out.stdout
    assert "SENTINEL2_L2A_THEIA" not in out.stdout  # no Sentinel-2 L2A product was ingested
