"""Ingest under concurrency, kills and damaged inputs (issue #12, points 4 and 6).

Real processes (``terra-lab ingest`` and a small writer script) race on one catalogue and are
killed with SIGKILL at random points; real damaged products (a band with a garbage header, a
symlink to a text file, truncated and corrupted archives, a truncated zip) are ingested next to
good ones, copied (hard-linked) from the demo archive.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from terra_lab.catalog import LocalCatalog
from terra_lab.catalog._collection import collection_from_items
from terra_lab.catalog._ingest import ingest
from terra_lab.errors import AssetReadError, CatalogBusyError, TerraLabWarning

PY = sys.executable
ENV_KEYS = ("PATH", "HOME", "LANG", "GDAL_DATA", "PROJ_DATA", "PROJ_LIB")


@pytest.fixture(scope="module")
def products(demo_root, tmp_path_factory) -> list[Path]:
    """Six small demo product folders (the T32TLQ ones and T31TGK ones), hard-linked copies."""
    src = sorted(p for p in (demo_root / "archive").iterdir() if p.is_dir())[:6]
    dest = tmp_path_factory.mktemp("products")
    out = []
    for p in src:
        shutil.copytree(p, dest / p.name, copy_function=os.link)
        out.append(dest / p.name)
    return out


def _folder_of(tmp: Path, name: str, prods: list[Path]) -> Path:
    """A folder holding hard-linked copies of ``prods`` (files may then be replaced, never edited)."""
    folder = tmp / name
    folder.mkdir()
    for p in prods:
        shutil.copytree(p, folder / p.name, copy_function=os.link)
    return folder


def _env(home: Path) -> dict:
    env = {k: os.environ[k] for k in ENV_KEYS if k in os.environ}
    return env | {"TERRA_LAB_HOME": str(home), "PYTHONPATH": str(Path(__file__).parents[1])}


def _consistent(cat: LocalCatalog, collection: str) -> list[str]:
    """Item ids of ``collection`` after checking its collection document matches its items, file and API."""
    items = cat.search(collections=collection).items
    coll = cat.collection(collection)
    expected = collection_from_items(items, collection)
    assert coll["extent"]["spatial"] == expected["extent"]["spatial"]
    assert _times(coll) == _times(expected)  # (items written now and read back spell their dates differently)
    assert set(coll["item_assets"]) == set(expected["item_assets"])
    assert json.loads((cat.root / "collections" / f"{collection}.json").read_text()) == coll  # repaired on read
    return [it["id"] for it in items]


def _times(coll: dict) -> list:
    return [pd.Timestamp(t) for t in coll["extent"]["temporal"]["interval"][0]]


def _temp_files(*folders: Path) -> list[str]:
    return sorted(str(p) for f in folders if f.exists() for p in f.rglob("*") if ".tmp-" in p.name)


# ------------------------------------------------------------------ concurrency (point 4)
@pytest.mark.slow
def test_two_cli_ingests_at_once_lose_nothing(products, tmp_path):
    a, b = _folder_of(tmp_path, "a", products[:3]), _folder_of(tmp_path, "b", products[3:])
    for trial in range(2):
        cat = tmp_path / f"cat{trial}"
        cmds = [[PY, "-m", "terra_lab.cli", "ingest", str(f), "--catalog", str(cat), "--collection", "S2"] for f in (a, b)]
        procs = [subprocess.Popen(c, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in cmds]
        for p in procs:
            _out, err = p.communicate(timeout=180)
            assert p.returncode == 0, err.decode()
        ids = _consistent(LocalCatalog(cat), "S2")
        assert sorted(ids) == sorted(p.name for p in products)  # the union of both ingests


WRITER = textwrap.dedent("""
    import json, sys
    from terra_lab.catalog import LocalCatalog
    root, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    template = json.load(open(sys.argv[4]))
    cat = LocalCatalog(root)
    print("ready", flush=True)
    for i in range(n):
        item = json.loads(json.dumps(template))
        item["id"] = f"{prefix}-{i:04d}"
        # each write also moves the collection's extent, so a stale collection document shows
        item["properties"]["datetime"] = f"{2000 + (i % 20)}-01-01T00:00:00Z"
        cat.add_items([item], collection="C")
""")


@pytest.fixture
def writer(tmp_path, demo_items):
    script, template = tmp_path / "writer.py", tmp_path / "item.json"
    script.write_text(WRITER)
    template.write_text(json.dumps(demo_items.items[0]))
    return lambda root, prefix, n: subprocess.Popen(
        [PY, str(script), str(root), prefix, str(n), str(template)], env=_env(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_concurrent_writers_race_on_every_write(writer, tmp_path):
    """Three processes each add 12 items one write at a time (36 racing read-merge-writes)."""
    cat = tmp_path / "cat"
    procs = [writer(cat, f"w{k}", 12) for k in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()
    ids = _consistent(LocalCatalog(cat), "C")
    assert sorted(ids) == sorted(f"w{k}-{i:04d}" for k in range(3) for i in range(12))


@pytest.mark.slow
def test_kills_at_random_points_leave_a_consistent_catalogue(writer, tmp_path):
    cat, rng = tmp_path / "cat", random.Random(12)
    before: set[str] = set()
    for trial in range(15):
        p = writer(cat, f"t{trial}", 40)
        assert p.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.6))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        if (cat / "items" / "C.parquet").exists():
            ids = set(_consistent(LocalCatalog(cat), "C"))
            assert before <= ids  # nothing written before is lost
            before = ids
    p = writer(cat, "rerun", 2)  # a re-run completes and sweeps the killed writers' temporary files
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode()
    assert before | {"rerun-0000", "rerun-0001"} == set(_consistent(LocalCatalog(cat), "C"))
    assert _temp_files(cat) == []


def test_a_kill_between_the_two_writes_leaves_no_stale_collection(tmp_path, demo_items):
    """Deterministic versions of the two kill points: after the items' rename, and inside a write."""
    cat = LocalCatalog(tmp_path)
    items = [json.loads(json.dumps(it)) for it in demo_items.items[:3]]
    cat.add_items(items[:1], collection="C")
    stale = (tmp_path / "collections" / "C.json").read_text()
    cat.add_items(items[1:], collection="C")
    (tmp_path / "collections" / "C.json").write_text(stale)  # as if killed before the JSON's rename
    (tmp_path / "items" / ".tmp-C.parquet.x1y2").write_bytes(b"PAR1 half")  # as if killed inside a write
    assert _consistent(cat, "C") == [it["id"] for it in items]  # the API never serves the stale document
    assert json.loads((tmp_path / "collections" / "C.json").read_text()) != json.loads(stale)  # and repaired it
    cat.add_items(items[:1], collection="C")
    assert _temp_files(tmp_path) == []


def test_a_held_lock_times_out_with_a_clear_error(tmp_path, demo_items):
    cat = LocalCatalog(tmp_path, lock_timeout=0.2)
    with cat.lock(), pytest.raises(CatalogBusyError, match=r"catalog.lock.*lock_timeout="):
        LocalCatalog(tmp_path, lock_timeout=0.2).add_items([dict(demo_items.items[0])], collection="C")


@pytest.fixture(scope="module")
def tgz(products, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tgz") / "two.tgz"
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for p in products[:2]:
            tar.add(p, arcname=p.name)
    return path


@pytest.mark.slow
def test_same_archive_ingested_twice_at_once(tgz, products, tmp_path):
    cat = tmp_path / "cat"
    cmd = [PY, "-m", "terra_lab.cli", "ingest", str(tgz), "--catalog", str(cat), "--collection", "S2"]
    procs = [subprocess.Popen(cmd, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()
    assert sorted(_consistent(LocalCatalog(cat), "S2")) == sorted(p.name for p in products[:2])
    assert [p.name for p in (tmp_path / "archives").iterdir() if not p.name.endswith(".lock")] == ["two"]
    assert _temp_files(tmp_path) == []


@pytest.mark.slow
def test_killed_archive_ingest_reruns_clean(tgz, products, tmp_path):
    cat, rng = tmp_path / "cat", random.Random(4)
    cmd = [PY, "-m", "terra_lab.cli", "ingest", str(tgz), "--catalog", str(cat), "--collection", "S2"]
    for _ in range(3):
        p = subprocess.Popen(cmd, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 4.0))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        shutil.rmtree(tmp_path / "archives" / "two", ignore_errors=True)  # next run unpacks again
    done = subprocess.run(cmd, env=_env(tmp_path), capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()
    assert sorted(_consistent(LocalCatalog(cat), "S2")) == sorted(p.name for p in products[:2])
    assert _temp_files(tmp_path) == []


# ------------------------------------------------------------------ damaged inputs (point 6)
def _band(product: Path, band: str = "FRE_B4") -> Path:
    return product / f"{product.name}_{band}.tif"


def _replace(path: Path, data: bytes) -> None:
    path.unlink()  # a hard link: never write into the shared file
    path.write_bytes(data)


def test_a_band_with_a_garbage_header_skips_only_its_product(products, tmp_path):
    folder = _folder_of(tmp_path, "in", products[:3])
    bad = folder / products[1].name
    _replace(_band(bad), b"II*\x00" + b"\x13" * 500)  # a TIFF signature, then garbage
    cat = LocalCatalog(tmp_path / "cat")
    with pytest.warns(TerraLabWarning, match=f"unreadable product.*{bad.name}") as rec:
        assert ingest(folder, collection="S2", catalog=cat) == 2
    assert "FRE_B4" in str(next(w.message for w in rec if "unreadable" in str(w.message)))  # names the file
    assert sorted(cat.search(collections="S2").ids) == sorted(p.name for p in products[:3] if p.name != bad.name)


def test_a_symlink_to_a_non_raster_is_a_clear_error(products, tmp_path):
    folder = _folder_of(tmp_path, "in", products[:1])
    notes = tmp_path / "notes.txt"
    notes.write_text("not a raster\n")
    band = _band(folder / products[0].name)
    band.unlink()
    band.symlink_to(notes)
    with pytest.raises(AssetReadError, match=f"{products[0].name}.*FRE_B4.tif"):
        ingest(folder, collection="S2", catalog=LocalCatalog(tmp_path / "cat"))


def test_truncated_and_corrupted_archives(tgz, tmp_path, monkeypatch):
    monkeypatch.setenv("TERRA_LAB_HOME", str(tmp_path))
    data = tgz.read_bytes()
    truncated, flipped, bad_crc = tmp_path / "truncated.tgz", tmp_path / "flipped.tgz", tmp_path / "badcrc.tgz"
    truncated.write_bytes(data[: len(data) // 2])
    mid = bytearray(data)
    mid[len(mid) // 2] ^= 0xFF
    flipped.write_bytes(bytes(mid))
    crc = bytearray(data)
    crc[-8] ^= 0xFF  # the gzip trailer's CRC32: the tar members themselves read fine
    bad_crc.write_bytes(bytes(crc))
    for path in (truncated, flipped, bad_crc):
        with pytest.raises(AssetReadError, match=f"{path.name}.*download it again"):
            ingest(path, collection="S2", catalog=LocalCatalog(tmp_path / "cat"))
        assert _temp_files(tmp_path) == [], path
        assert not (tmp_path / "archives" / path.name.removesuffix(".tgz")).exists()
    with gzip.open(bad_crc) as f, pytest.raises(OSError, match="CRC"):  # the independent check: Python's gzip
        while f.read(1 << 20):
            pass


def test_a_truncated_zip_among_good_products_is_skipped(products, demo_root, tmp_path):
    folder = _folder_of(tmp_path, "in", products[:2])
    z = next(p for p in sorted((demo_root / "archive").iterdir()) if p.suffix == ".zip")
    (folder / z.name).write_bytes(z.read_bytes()[: z.stat().st_size // 2])
    cat = LocalCatalog(tmp_path / "cat")
    with pytest.warns(TerraLabWarning, match=f"unreadable product.*{z.name}"):
        assert ingest(folder, collection="S2", catalog=cat) == 2
