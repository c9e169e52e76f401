"""Bad inputs to the public API fail early and clearly (issue #12, points 5 and 9).

* An absurd request (``resolution=1e-3``, ``chunks=1``) is refused from its grid alone, before
  any graph is built: quickly, and with bounded memory.
* Property-based (Hypothesis): AOIs, dates, search arguments, ``load`` arguments and a few
  products' parameters, each varied alone around valid values.  Every failure is a
  ``terra_lab.errors`` type, or a built-in exception raised by terra_lab's own code, and its
  message names the argument; inputs that are certainly invalid are never silently accepted.
"""

from __future__ import annotations

import math
import os
import traceback
import tracemalloc

import numpy as np
import psutil
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import terra_lab
from terra_lab.catalog import parse_aoi, parse_dates
from terra_lab.errors import RequestTooLargeError, TerraLabError
from terra_lab.products import water

PKG = os.path.dirname(terra_lab.__file__)
S2 = "THEIA_REFLECTANCE_SENTINEL2_L2A"
FUZZ = settings(max_examples=150, deadline=None, database=None, derandomize=True,  # reproducible in CI
                suppress_health_check=list(HealthCheck))
FUZZ_LOAD = settings(FUZZ, max_examples=100)
FUZZ_MASKS = settings(FUZZ, max_examples=40)  # each valid example builds a graph with mask layers (~0.5 s)


# ------------------------------------------------------------------ the contract
def _clear(call, *names: str, invalid: bool = False):
    """Run ``call``; a failure must be ours and name one of ``names``; ``invalid`` inputs must fail."""
    try:
        out = call()
    except Exception as e:  # noqa: BLE001 - every exception is judged below
        if not isinstance(e, TerraLabError):
            frames = traceback.extract_tb(e.__traceback__)
            assert type(e).__module__ == "builtins", f"{type(e).__module__}.{type(e).__name__} escaped: {e}"
            assert frames[-1].filename.startswith(PKG), f"{type(e).__name__} raised in {frames[-1].filename}: {e}"
        assert any(n.lower() in str(e).lower() for n in names), f"{type(e).__name__} does not name {names}: {e}"
        return None
    assert not invalid, f"accepted silently (expected an error naming {names})"
    return out


ANY = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
NUMBERISH = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**9, 10**9), st.booleans(),
                      st.text(max_size=6), st.none())
COORD = st.one_of(st.floats(-200, 200), st.floats(allow_nan=True, allow_infinity=True), st.integers(-400, 400),
                  st.text(max_size=4))
AOIS = st.one_of(
    st.lists(COORD, max_size=6), st.tuples(COORD, COORD, COORD, COORD), ANY,
    st.text(max_size=40), st.sampled_from(["POLYGON((0 0, 1 1, 1 0))", "POINT(1 2)", "POLYGON EMPTY", '{"type": "Point"}',
                                          "LINESTRING(0 0, 0 0)", "/no/such/file.gpkg", "{", "POLYGON((0 0,1 1,0 1,1 0,0 0))"]),
    st.fixed_dictionaries({"type": st.sampled_from(["Polygon", "Feature", "FeatureCollection", "Point", "x"]),
                           "coordinates": st.lists(st.lists(st.lists(COORD, max_size=3), max_size=5), max_size=2)}),
)
CRSS = st.one_of(st.sampled_from(["EPSG:4326", "EPSG:2154", "EPSG:32631", "EPSG:999999", "foo", "", "OGC:CRS84", "+proj=x"]),
                 st.integers(-5, 10**6), st.text(max_size=8))


def _valid_bbox(aoi) -> bool:
    try:
        w, s, e, n = (float(v) for v in aoi)
    except (TypeError, ValueError):
        return False
    return all(map(math.isfinite, (w, s, e, n))) and -180 <= w < e <= 180 and -90 <= s < n <= 90


@FUZZ
@given(AOIS)
def test_aoi(aoi):
    invalid = isinstance(aoi, (bool, int, float)) or aoi is None or (isinstance(aoi, (list, tuple)) and len(aoi) != 4)
    geom = _clear(lambda: parse_aoi(aoi), "area of interest", "bbox", "GeoJSON", "WKT", invalid=invalid)
    if geom is not None:
        assert geom.is_valid and not geom.is_empty
        w, s, e, n = geom.bounds
        assert -180 <= w <= e <= 180 and -90 <= s <= n <= 90


@pytest.mark.slow
@settings(FUZZ, max_examples=80)  # each CRS is built by pyproj (slow)
@given(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e7, 1e7), st.floats(1, 1e5), st.floats(1, 1e5)), CRSS)
def test_aoi_crs(box, crs):
    w, s, dw, dh = box
    _clear(lambda: parse_aoi((w, s, w + dw, s + dh), crs=crs), "crs", "area of interest", "bbox")


DATES = st.one_of(
    st.text(max_size=25), ANY, st.datetimes(), st.dates(),
    st.sampled_from(["2024-13", "2024-02-30", "2024/2023", "../..", "2024-01-01/", "a/b/c", "2024-05-12T25:00", "99999-01-01"]),
    st.tuples(st.one_of(st.text(max_size=12), ANY, st.dates()), st.one_of(st.text(max_size=12), ANY, st.dates())),
)


@FUZZ
@given(DATES)
def test_dates(dates):
    invalid = isinstance(dates, (bool, int, float)) and not (isinstance(dates, float) and math.isnan(dates))
    out = _clear(lambda: parse_dates(dates), "date", invalid=invalid)
    if out is not None:
        t0, t1 = out
        assert t0 is None or t1 is None or t0 <= t1


@pytest.fixture(scope="module")
def few_items(demo_catalog):
    return demo_catalog.search(collections=S2, limit=3)


@FUZZ
@given(NUMBERISH)
def test_search_max_cloud(demo_catalog, max_cloud):
    try:
        invalid = (max_cloud is not None and not (0 <= float(max_cloud) <= 100)) or isinstance(max_cloud, bool)
    except (TypeError, ValueError):
        invalid = True
    _clear(lambda: demo_catalog.search(collections=S2, max_cloud=max_cloud, limit=1), "max_cloud", invalid=invalid)


@FUZZ
@given(NUMBERISH)
def test_search_limit(demo_catalog, limit):
    try:
        invalid = limit is not None and (isinstance(limit, bool) or float(limit) < 1 or float(limit) != int(float(limit)))
    except (TypeError, ValueError, OverflowError):
        invalid = True
    _clear(lambda: demo_catalog.search(dates="2022-09", collections=S2, limit=limit), "limit", invalid=invalid)


@FUZZ
@given(st.one_of(ANY, st.lists(st.one_of(st.text(max_size=6), st.integers()), max_size=3), st.sampled_from([S2, [S2], "s2"])))
def test_search_collections(demo_catalog, collections):
    _clear(lambda: demo_catalog.search(collections=collections, limit=1), "collection")


@FUZZ
@given(AOIS, DATES)
def test_search_area_and_dates(demo_catalog, aoi, dates):
    _clear(lambda: demo_catalog.search(aoi, dates, S2, limit=2), "area of interest", "bbox", "GeoJSON", "WKT", "date")


# ------------------------------------------------------------------ load: one argument at a time
def _load(items, **kw):
    """``load`` of small graphs (no mask layers unless asked: they are most of a graph's construction time)."""
    kw = {"bands": ["red", "nir"], "masks": False, "group_by": None, **kw}
    return terra_lab.load(items, max_bytes=64 * 2**20, **kw)


@pytest.fixture
def few_chunks(monkeypatch):
    """Refuse graphs over 20,000 chunks (instead of a million) so that fuzzing builds only small ones."""
    from terra_lab.cube import _size

    monkeypatch.setattr(_size, "MAX_CHUNKS", 20_000)


@FUZZ_LOAD
@given(st.one_of(NUMBERISH, st.floats(1e-4, 1e5), st.sampled_from([1e-3, 10, 20.0, "20", 0, -10, 1e308])))
def test_load_resolution(no_compute, few_items, resolution):
    try:
        invalid = resolution is not None and (
            isinstance(resolution, bool) or not (math.isfinite(float(resolution)) and float(resolution) > 0))
    except (TypeError, ValueError):
        invalid = True
    _clear(lambda: _load(few_items, resolution=resolution), "resolution", invalid=invalid)


@FUZZ_LOAD
@given(st.one_of(ANY, st.integers(-3, 5000), st.sampled_from(["auto", -1, 1, 2, 64, True]),
                 st.dictionaries(st.sampled_from(["time", "y", "x", "band", 3]),
                                 st.one_of(st.integers(-2, 3000), st.floats(), st.text(max_size=2)), max_size=3)))
def test_load_chunks(no_compute, few_chunks, few_items, chunks):
    invalid = isinstance(chunks, bool) or (isinstance(chunks, int) and chunks < 1) or isinstance(chunks, (float, list))
    _clear(lambda: _load(few_items, chunks=chunks), "chunks", invalid=invalid)  # (too many chunks: "chunks=")


@FUZZ_LOAD
@given(st.one_of(ANY, st.lists(st.sampled_from(["red", "nir", "B4", "b8a", "B13", "", "swir16", "foo"]), max_size=3)))
def test_load_bands(no_compute, few_items, bands):
    _clear(lambda: _load(few_items, bands=bands), "band", invalid=bands == [])


@FUZZ_LOAD
@given(st.one_of(CRSS, ANY))
def test_load_crs(no_compute, few_items, crs):
    _clear(lambda: _load(few_items, crs=crs, resolution=0.001 if str(crs).endswith("4326") else 20), "crs", "cube would hold")


@FUZZ_LOAD
@given(st.one_of(AOIS, st.tuples(st.floats(6, 8), st.floats(44, 46), st.floats(6, 8), st.floats(44, 46))))
def test_load_bbox(no_compute, few_items, bbox):
    _clear(lambda: _load(few_items, bbox=bbox), "area of interest", "bbox", "GeoJSON", "WKT", "no items", "cube would hold")


@FUZZ_MASKS
@given(st.sampled_from(["resampling", "group_by", "level", "masks", "apply_masks", "on_error"]),
       st.one_of(ANY, st.sampled_from(["bilinear", "solar_day", "FRE", "SRE", "cloud", "skip", "snow", ["cloud"], ["x"]])))
def test_load_options(no_compute, few_items, name, value):
    _clear(lambda: _load(few_items, **{"masks": True, "group_by": "solar_day", name: value}), name, "mask", "level", "band")


# ------------------------------------------------------------------ products' parameters
@pytest.fixture(scope="module")
def tiny_cube():
    rng = np.random.default_rng(0)
    dims, shape = ("time", "y", "x"), (2, 6, 5)
    coords = {"time": np.array(["2023-01-01", "2023-02-01"], dtype="datetime64[ns]"), "y": np.arange(6.0), "x": np.arange(5.0)}
    data = {b: (dims, rng.uniform(0, 0.5, shape).astype(np.float32)) for b in ("green", "red", "nir", "swir16")}
    return xr.Dataset(data, coords=coords)


@FUZZ
@given(st.one_of(st.sampled_from(["MNDWI", "NDWI", "NDVI", "mndwi", "", "XYZ"]), ANY), st.one_of(NUMBERISH, st.just("otsu")))
def test_water_mask_parameters(tiny_cube, index, threshold):
    try:
        bad_thr = threshold != "otsu" and (isinstance(threshold, bool) or not math.isfinite(float(threshold)))
    except (TypeError, ValueError):
        bad_thr = True
    _clear(lambda: water.water_mask(tiny_cube, index=index, threshold=threshold), "index", "threshold",
           invalid=bad_thr or index not in ("MNDWI", "NDWI"))


@FUZZ
@given(NUMBERISH)
def test_pure_water_erode(tiny_cube, erode):
    mask = water.water_mask(tiny_cube)
    invalid = isinstance(erode, bool) or not isinstance(erode, int) or erode < 0
    _clear(lambda: water.pure_water(mask, erode=erode), "erode", invalid=invalid)


# ------------------------------------------------------------------ point 5: absurd requests
def _refused_cheaply(call) -> RequestTooLargeError:
    rss0 = psutil.Process().memory_info().rss
    tracemalloc.start()
    try:
        with pytest.raises(RequestTooLargeError) as err:
            call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20, f"{peak / 2**20:.0f} MB traced before the refusal"
    assert psutil.Process().memory_info().rss - rss0 < 200 * 2**20
    return err.value


def test_absurd_resolution_is_refused_before_any_graph(no_compute, demo_catalog, monkeypatch):
    import stackstac

    def _no_stack(*a, **k):
        raise AssertionError("stackstac.stack called: the graph was built before the size check")

    items = demo_catalog.search(collections=S2)
    monkeypatch.setattr(stackstac, "stack", _no_stack)
    err = _refused_cheaply(lambda: terra_lab.load(items, resolution=1e-3))
    assert "resolution=0.001" in str(err) and "GiB" in str(err)
    err = _refused_cheaply(lambda: terra_lab.load(items, chunks=1))
    assert "chunks=1" in str(err) and "larger chunks" in str(err)
    err = _refused_cheaply(lambda: terra_lab.load(items, chunks={"time": 1, "y": 4, "x": 4}))
    assert "chunks=" in str(err)


def test_absurd_thematic_request_is_refused(no_compute, demo_catalog):
    oso = demo_catalog.search(collections="THEIA_OSO_RASTER_L3B")
    err = _refused_cheaply(lambda: terra_lab.load(oso, resolution=1e-3))
    assert "resolution=0.001" in str(err)


def test_a_reasonable_request_still_loads(no_compute, demo_catalog):
    ds = terra_lab.load(demo_catalog.search(collections=S2, limit=2), bands=["red"], chunks=256)
    assert ds["red"].data.chunksize[-1] == 256
