"""The direct graph of local files (cube/_graph.py) against stackstac's path, pixel for pixel."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import xarray as xr

import terra_lab
from terra_lab.cube import _graph

BBOX = (6.29, 45.18, 6.30, 45.19)


def _both(items, monkeypatch, **kw) -> tuple[xr.Dataset, xr.Dataset]:
    """(direct graph, stackstac's path) cubes of the same request, computed."""
    direct = terra_lab.load(items, **kw)
    assert _is_direct(direct)
    with monkeypatch.context() as m:
        m.setattr(_graph, "direct_stack", lambda *a, **k: None)
        ref = terra_lab.load(items, **kw)
    assert not _is_direct(ref)
    xr.testing.assert_identical(direct, ref)  # coordinates, attributes, chunks' shapes before any read
    assert direct[next(iter(direct.data_vars))].chunks == ref[next(iter(ref.data_vars))].chunks
    return direct.compute(), ref.compute()


def _is_direct(cube: xr.Dataset) -> bool:
    return any(str(k).startswith("terra-lab-read-") for k in cube.__dask_graph__().layers)


@pytest.fixture(scope="module")
def items(demo_items):
    """Both demo tiles (two UTM zones: the other zone's files are warped inside the direct graph)
    and several acquisitions on the same solar day (mosaics)."""
    return list(demo_items)[:40]


@pytest.mark.parametrize("kw", [
    dict(bands=["red", "nir"], raw_masks=True),  # default chunks, solar-day mosaics, every mask layer
    dict(bands=["red", "swir16"], resolution=20, bbox=BBOX, raw_masks=True, apply_masks=True),  # a bbox, 20 m
    dict(bands=["red"], resolution=40, chunks=128),  # coarse: overviews; several spatial chunks
    dict(bands=["red", "nir"], group_by=None, chunks="auto"),  # dates grouped in chunks, no mosaic
    dict(bands=["red", "swir16"], resampling="bilinear", chunks={"time": -1, "y": 256, "x": 300}),
    dict(bands=["blue"], masks=["cloud"], crs=32632),  # the other tile's CRS as output
], ids=["default", "bbox-20m", "coarse", "auto", "bilinear-time-1", "crs-32632"])
def test_direct_graph_gives_stackstac_pixels_on_the_demo(items, monkeypatch, kw):
    direct, ref = _both(items, monkeypatch, **kw)
    xr.testing.assert_identical(direct, ref)
    assert float(direct[kw["bands"][0]].notnull().mean()) > 0.1  # something was read


def test_direct_graph_on_zipped_and_untagged_products(demo_items, monkeypatch):
    """Edge products (-10000 without a nodata tag), two in zips (/vsizip/), one in a file:// href,
    and a product of another day moved onto the first one's solar day (a mosaic)."""
    edge = [copy.deepcopy(it) for it in demo_items if "_T31TGK_" in it["id"] and it["properties"]["terra:valid_percent"] < 100]
    assert any(it["assets"]["FRE_B4"]["href"].startswith("/vsizip/") for it in edge)
    plain = next(it for it in edge if not it["assets"]["FRE_B4"]["href"].startswith("/vsizip/"))
    plain["assets"]["FRE_B4"]["href"] = "file://" + plain["assets"]["FRE_B4"]["href"]
    edge[1]["properties"]["datetime"] = edge[0]["properties"]["datetime"].replace("Z", "").split(".")[0][:-2] + "59Z"
    direct, ref = _both(edge, monkeypatch, bands=["red", "swir16"], raw_masks=True)
    assert direct.sizes["time"] == len(edge) - 1
    xr.testing.assert_identical(direct, ref)


def test_direct_graph_on_the_real_sample(zonetest_catalog, monkeypatch):
    """The real THEIA products of ZoneTest (zips, R1/R2 masks, untagged nodata)."""
    items = list(zonetest_catalog.search())[:12]
    direct, ref = _both(items, monkeypatch, bands=["red", "nir08", "swir16"], resolution=20, raw_masks=True)
    xr.testing.assert_identical(direct, ref)
    direct, ref = _both(items, monkeypatch, bands=["green"], resolution=60, masks=["cloud", "edge"])
    xr.testing.assert_identical(direct, ref)


def test_direct_graph_is_lazy_and_cheap(items, no_compute):
    with no_compute():
        cube = terra_lab.load(items, bands=["red", "nir"], raw_masks=True)
    assert _is_direct(cube)
    layers = cube.__dask_graph__().layers
    reads = [k for k in layers if str(k).startswith("terra-lab-read-")]
    assert len(reads) == 2 + 4  # one layer per band and per raw mask, mosaics included: no stacking layers
    decoded = [k for k in layers if str(k).startswith("terra-lab-mask-")]
    assert len(decoded) == 6 + 4  # the mask layers and raw_masks' uint8 variables: one task per chunk each
    assert len(layers) == len(reads) + len(decoded)  # no layer of xarray operations (decoding, fillna, astype)
    assert cube["cloud"].dtype == bool and cube["CLM"].dtype == "uint8"
    again = terra_lab.load(items, bands=["red", "nir"], raw_masks=True)
    assert again["red"].data.name == cube["red"].data.name  # deterministic token
    other = terra_lab.load(items, bands=["red", "nir"], raw_masks=True, chunks=128)
    assert other["red"].data.name != cube["red"].data.name


def test_remote_or_undeclared_assets_keep_stackstac_path(items):
    from terra_lab.cube._load import _as_dicts, _prepared

    one = _prepared(_as_dicts(items[:2]))
    grid = terra_lab.cube._load.Grid(epsg=32631, resolution=10.0, bounds=(757200.0, 5008400.0, 761680.0, 5012400.0),
                                     bounds_latlon=None, snap_bounds=False)
    kw = dict(nodata=-10000.0, resampling="nearest", on_error="raise", properties=[])
    assert _graph.direct_stack(one, ["FRE_B4"], [], grid, **kw) is not None
    remote = copy.deepcopy(one)
    remote[1]["assets"]["FRE_B4"]["href"] = "https://example.org/B4.tif"
    assert _graph.direct_stack(remote, ["FRE_B4"], [], grid, **kw) is None
    bare = copy.deepcopy(one)
    for k in ("proj:transform", "proj:shape", "proj:bbox"):
        bare[0]["assets"]["FRE_B4"].pop(k, None)
        bare[0]["properties"].pop(k, None)
    assert _graph.direct_stack(bare, ["FRE_B4"], [], grid, **kw) is None
    snapped = terra_lab.cube._load.Grid(epsg=32631, resolution=10.0, bounds=None, bounds_latlon=BBOX, snap_bounds=True)
    assert _graph.direct_stack(one, ["FRE_B4"], [], snapped, **kw) is None


def test_mask_layers_decoded_in_their_tasks_match_the_raw_bits(items, zonetest_catalog):
    """The layers decoded inside the direct graph's tasks against MAJA's bits applied here by hand to
    the raw CLM/MG2/EDG/SAT rasters of the same cube (demo, and the real THEIA products at 20 m, which
    carry CLM only: their edge is where no band has data)."""
    from terra_lab.profiles._maja import CLM_CLOUD, CLM_SHADOW, MG2_SNOW, MG2_WATER

    def has(raw, bits):
        return (raw.values.astype(np.uint16) & sum(1 << b for b in set(bits))) != 0

    demo = terra_lab.load(items[:16], bands=["red", "nir"], raw_masks=True)
    real = terra_lab.load(list(zonetest_catalog.search())[:8], bands=["red", "nir08"], resolution=20, raw_masks=True)
    assert {"CLM", "MG2", "EDG", "SAT"} <= set(demo.data_vars) and "CLM" in real.data_vars
    for lazy in (demo, real):
        assert _is_direct(lazy)
        cube = lazy.compute()
        checks = {"cloud": ("CLM", CLM_CLOUD), "shadow": ("CLM", CLM_SHADOW), "snow": ("MG2", MG2_SNOW),
                  "water": ("MG2", MG2_WATER)}
        for layer, (raw, bits) in checks.items():
            if raw in cube:
                np.testing.assert_array_equal(cube[layer].values, has(cube[raw], bits))
        if "SAT" in cube:
            np.testing.assert_array_equal(cube["saturated"].values, cube["SAT"].values != 0)
        bands = [v for v in ("red", "nir", "nir08") if v in cube]
        no_data = np.isnan(cube[bands[0]].values)
        edge = (cube["EDG"].values != 0) | no_data if "EDG" in cube else np.all([np.isnan(cube[b].values) for b in bands], 0)
        np.testing.assert_array_equal(cube["edge"].values, edge)
        assert cube["cloud"].any() and not cube["cloud"].all()
