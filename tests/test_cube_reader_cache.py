"""The per-thread cache of open datasets (cube/_datasets.py) that the direct graph reads through:
bounded, closing what it evicts, re-opening rewritten files (plain and in zips), one dataset per
thread, nothing opened while a graph is built, nothing of it in a pickled graph."""

from __future__ import annotations

import copy
import os
import pickle
import shutil
import threading
import zipfile

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

import terra_lab
from terra_lab.cube import _datasets


def _write(path, value: int, size: int = 16) -> str:
    """A small int16 GeoTIFF filled with ``value`` (rewritten in place when it exists)."""
    profile = dict(driver="GTiff", width=size, height=size, count=1, dtype="int16", crs="EPSG:32631",
                   transform=from_origin(700000, 5000000, 10, 10))
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full((1, size, size), value, np.int16))
    return str(path)


def _value(url: str) -> int:
    with _datasets.opened(url) as f:
        return int(f.ds.read(1)[0, 0])


@pytest.fixture
def fresh_cache():
    """An empty cache in this thread, its size restored afterwards."""
    _datasets.invalidate()
    size = _datasets.cache_size()
    yield
    _datasets.set_cache_size(size)
    _datasets.invalidate()


def test_datasets_are_kept_open_bounded_and_closed_when_evicted(tmp_path, fresh_cache):
    urls = [_write(tmp_path / f"f{i}.tif", i) for i in range(3)]
    _datasets.set_cache_size(2)
    with _datasets.opened(urls[0]) as first:
        pass
    with _datasets.opened(urls[0]) as again:
        assert again.ds is first.ds and not first.ds.closed  # kept open, the same dataset
    assert [_value(u) for u in urls] == [0, 1, 2]
    assert _datasets.open_count() == 2  # bounded
    assert first.ds.closed  # the least recently used (f0) was closed when f2 came in
    with _datasets.opened(urls[2]) as last:
        pass
    _datasets.set_cache_size(1)
    _value(urls[2])
    assert _datasets.open_count() == 1 and not last.ds.closed
    _datasets.invalidate()
    assert _datasets.open_count() == 0 and last.ds.closed


def test_a_rewritten_file_is_reopened(tmp_path, fresh_cache):
    url = _write(tmp_path / "b.tif", 1)
    with _datasets.opened(url) as old:
        assert int(old.ds.read(1)[0, 0]) == 1
    _write(url, 2)  # rewritten in place: same path, new time stamp
    os.utime(url, ns=(os.stat(url).st_atime_ns, os.stat(url).st_mtime_ns + 1_000_000_000))
    assert _value(url) == 2
    assert old.ds.closed and _datasets.open_count() == 1
    fresh = _write(tmp_path / "c.tif", 3)
    os.replace(fresh, url)  # replaced atomically: another inode
    assert _value(url) == 3


def test_zipped_files_are_cached_and_reopened_when_the_zip_changes(tmp_path, fresh_cache):
    tif = _write(tmp_path / "m.tif", 5)
    archive = tmp_path / "p.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(tif, "P/m.tif")
    url = f"/vsizip/{archive}/P/m.tif"
    with _datasets.opened(url) as a:
        pass
    with _datasets.opened(url) as b:
        assert b.ds is a.ds and int(b.ds.read(1)[0, 0]) == 5
    _write(tif, 6)
    tmp = tmp_path / "p2.zip"
    with zipfile.ZipFile(tmp, "w") as zf:
        zf.write(tif, "P/m.tif")
    os.replace(tmp, archive)
    assert _value(url) == 6 and a.ds.closed


def test_each_thread_has_its_own_datasets(tmp_path, fresh_cache):
    url = _write(tmp_path / "t.tif", 7)
    with _datasets.opened(url) as mine:
        pass
    seen = {}

    def other():
        with _datasets.opened(url) as f:
            seen["ds"], seen["value"] = f.ds, int(f.ds.read(1)[0, 0])
        seen["count"] = _datasets.open_count()

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen["value"] == 7 and seen["count"] == 1
    assert seen["ds"] is not mine.ds  # rasterio datasets are not thread-safe: never shared
    del t
    assert seen["ds"].closed  # the thread ended: its datasets were closed with its storage
    assert not mine.ds.closed


def test_a_dataset_that_fails_is_closed_and_forgotten(tmp_path, fresh_cache):
    url = _write(tmp_path / "e.tif", 1)
    with pytest.raises(RuntimeError), _datasets.opened(url) as f:
        raise RuntimeError("a read failed")
    assert f.ds.closed and _datasets.open_count() == 0
    assert _value(url) == 1
    with pytest.raises(rasterio.errors.RasterioIOError), _datasets.opened(str(tmp_path / "missing.tif")):
        pass
    assert _datasets.open_count() == 1


def test_size_zero_keeps_nothing_open(tmp_path, fresh_cache):
    url = _write(tmp_path / "z.tif", 4)
    _datasets.set_cache_size(0)
    with _datasets.opened(url) as f:
        pass
    assert f.ds.closed and _datasets.open_count() == 0
    with pytest.raises(ValueError, match="set_cache_size"):
        _datasets.set_cache_size(-1)


@pytest.fixture
def copied_item(demo_items, tmp_path):
    """A demo item whose red band is a copy in tmp_path (rewritten by the test)."""
    item = copy.deepcopy(next(it for it in demo_items if "_T31TGK_" in it["id"]
                              and not it["assets"]["FRE_B4"]["href"].startswith("/vsizip/")))
    red = tmp_path / "red.tif"
    shutil.copy(item["assets"]["FRE_B4"]["href"], red)
    item["assets"]["FRE_B4"]["href"] = str(red)
    return item, red


def test_load_reads_a_rewritten_file_again_and_builds_without_opening(copied_item, no_compute, fresh_cache):
    item, red = copied_item
    with no_compute():
        cube = terra_lab.load([item], bands=["red"], masks=False)
    assert _datasets.open_count() == 0  # building the graph opened nothing
    first = cube["red"].compute(scheduler="sync").values
    assert _datasets.open_count() == 1  # kept open after the compute
    with rasterio.open(red, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as ds:  # rewritten in place (same size)
        ds.write(np.where(ds.read(1) == -10000, -10000, 1234).astype(np.int16), 1)
    os.utime(red, ns=(os.stat(red).st_atime_ns, os.stat(red).st_mtime_ns + 1_000_000_000))
    second = terra_lab.load([item], bands=["red"], masks=False)["red"].compute(scheduler="sync").values
    valid = ~np.isnan(first)
    assert valid.mean() > 0.5 and not np.allclose(first[valid], 0.1234)
    np.testing.assert_array_equal(second[valid], np.float32(1234) * np.float32(1e-4))
    np.testing.assert_array_equal(np.isnan(second), ~valid)


def test_a_computed_graph_pickles_without_datasets(demo_items, fresh_cache):
    """Datasets stay in the threads that opened them: a graph sent to dask.distributed workers
    carries paths only, and its workers open their own (tests/test_distributed.py runs one)."""
    cube = terra_lab.load(list(demo_items)[:4], bands=["red"], masks=["cloud"])
    cube.compute(scheduler="sync")
    assert _datasets.open_count() > 0
    blob = pickle.dumps(dict(cube.__dask_graph__()))
    assert b"DatasetReader" not in blob and len(blob) < 200_000
    again = pickle.loads(blob)
    assert set(again) == set(cube.__dask_graph__())
