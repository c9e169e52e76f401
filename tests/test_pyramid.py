"""Layers evaluated at the scale they are viewed: COG overviews read by coarse loads, recipes
re-evaluated per zoom level, and the bounded tile cache (panning back computes nothing)."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
from bench_pyramid import ndvi, scene, scene_items, tiles_around, write_cog

import terra_lab
from terra_lab.cube._reader import TerraLabReader, overview_level
from terra_lab.display._kernel_layer import KernelTileLayer
from terra_lab.display._pyramid import Recipe, recipe
from terra_lab.display._tile_cache import TileCache, size_of


@pytest.fixture(scope="module")
def noise_cog(tmp_path_factory):
    """A 512 x 512 COG of random values with average overviews x2, x4, x8 (each level's values differ)."""
    root = tmp_path_factory.mktemp("ovr")
    data = np.random.default_rng(3).integers(1, 10000, (512, 512)).astype(np.int16)
    path = write_cog(root / "noise.tif", data, overviews=[2, 4, 8])
    levels = {}
    for k in range(3):
        with rasterio.open(path, overview_level=k) as ds:
            levels[k] = ds.read(1)
    return scene_items(path, path, 1), levels


@pytest.fixture(scope="module")
def smooth_items(tmp_path_factory):
    root = tmp_path_factory.mktemp("scene")
    red, nir = scene(512, seed=5)
    return scene_items(write_cog(root / "red.tif", red, overviews=[2, 4, 8]),
                       write_cog(root / "nir.tif", nir, overviews=[2, 4, 8]), 2)


def _raw(cube):
    return np.round(cube.red.isel(time=0).values * 10000).astype(np.int16)


@pytest.mark.parametrize("path", ["direct", "warped"])
def test_coarse_load_reads_the_overview_of_its_resolution(noise_cog, path, monkeypatch):
    items, levels = noise_cog
    if path == "warped":  # stackstac's path (a VRT), as for a reprojected or unaligned cube
        monkeypatch.setattr(TerraLabReader, "_direct", lambda self: None)
    for res, level in ((20, 0), (40, 1), (80, 2)):
        got = _raw(terra_lab.load(items, bands=["red"], resolution=res, masks=False))
        assert got.shape == levels[level].shape
        np.testing.assert_array_equal(got, levels[level])  # the overview's own values
        for other, values in levels.items():
            if other != level and values.shape == got.shape:
                assert not np.array_equal(got, values)


def test_overview_rule_takes_the_coarsest_not_coarser_than_the_output(noise_cog):
    items, _ = noise_cog
    href = items[0]["assets"]["FRE_B4"]["href"]
    with rasterio.open(href) as ds:
        def grid(res, crs=32631):
            return {"crs": crs, "transform": rasterio.Affine(res, 0, 0, 0, -res, 0)}
        assert overview_level(ds, grid(10)) is None  # native
        assert overview_level(ds, grid(15)) is None  # finer than x2
        assert overview_level(ds, grid(60)) == 1  # x6: the x4 overview
        assert overview_level(ds, grid(800)) == 2  # past the coarsest: the coarsest
        assert overview_level(ds, grid(80, crs=4326)) is None  # another CRS: not comparable
    codes = write_cog(Path(href).with_name("codes.tif"), np.arange(512 * 512, dtype=np.uint8).reshape(512, 512),
                      overviews=[2, 4], nodata=None)
    with rasterio.open(codes) as ds:  # a mask or class raster: its averaged overviews would be other codes
        coarse = {"crs": 32631, "transform": ds.transform * rasterio.Affine.scale(4)}
        assert ds.overviews(1) == [2, 4] and overview_level(ds, coarse) is None


def test_recipe_picks_the_level_of_each_zoom(smooth_items):
    layer = KernelTileLayer(recipe(smooth_items, ndvi, bands=["red", "nir"], masks=False), vmin=0, vmax=1,
                            cache=TileCache(2**20))
    west, south, east, north = smooth_items[0]["bbox"]
    lat, lon = (south + north) / 2, (west + east) / 2
    for z in range(6, 17):
        tile = tiles_around(lat, lon, z, 1)[0]
        ground = 2 * math.pi * 6378137 / 256 / 2**z * math.cos(math.radians(lat))  # metres a tile pixel
        expected = max(0, min(8, math.floor(math.log2(ground / 10))))
        assert layer.level_for(*tile) == expected, z


def test_recipe_level_is_the_full_resolution_product_averaged(smooth_items):
    r = Recipe(smooth_items, ndvi, bands=["red", "nir"], masks=False)
    full = r.array(0).isel(time=0).values
    for level in (1, 2, 3):
        f = 2**level
        coarse = r.array(level).isel(time=0).values
        averaged = full.reshape(512 // f, f, 512 // f, f).mean(axis=(1, 3))
        assert coarse.shape == averaged.shape
        assert r.resolution(level) == 10 * f
        np.testing.assert_allclose(coarse, averaged, atol=0.02)  # NDVI of means vs mean of NDVI


def test_a_cached_tile_computes_nothing(smooth_items, no_compute):
    layer = KernelTileLayer(Recipe(smooth_items, ndvi, bands=["red", "nir"], masks=False), vmin=0, vmax=1,
                            cache=TileCache(64 * 2**20))
    west, south, east, north = smooth_items[0]["bbox"]
    tiles = tiles_around((south + north) / 2, (west + east) / 2, 12, 2) + tiles_around((south + north) / 2,
                                                                                      (west + east) / 2, 16, 1)
    first = [layer.tile(*tile) for tile in tiles]
    assert any(p is not None for p in first)
    with no_compute():  # panning back: every tile from the cache, no read, no compute
        assert [layer.tile(*tile) for tile in tiles] == first
        assert layer.tile(*tiles[0], t=0) == first[0]  # the shown date asked explicitly: the same entry
    other = layer.tile(*tiles[0], t=1)  # another date is another tile
    assert other is not None


def test_plain_layers_keep_their_resolution_and_use_the_cache(smooth_items, no_compute):
    da = ndvi(terra_lab.load(smooth_items, bands=["red", "nir"], masks=False))
    layer = KernelTileLayer(da, vmin=0, vmax=1, cache=TileCache(2**20))
    west, south, east, north = smooth_items[0]["bbox"]
    tile = tiles_around((south + north) / 2, (west + east) / 2, 10, 1)[0]
    assert layer.level_for(*tile) is None
    png = layer.tile(*tile)
    with no_compute():
        assert layer.tile(*tile) == png


def test_cache_is_bounded_and_least_recently_used():
    cache = TileCache(1000)
    blob = b"x" * 236  # 300 bytes with its overhead
    assert size_of(blob) == 300
    for k in range(3):
        cache.put(k, blob)
    assert cache.get(0) == blob  # 0 is now the most recently used
    cache.put(3, blob)  # 1200 > 1000: evicts 1 (the least recently used)
    assert 1 not in cache and {0, 2, 3} <= set(cache._data)
    assert cache.nbytes == 900 <= cache.max_bytes
    cache.put("big", b"y" * 5000)  # larger than the whole cache: not kept, nothing evicted for it
    assert "big" not in cache and len(cache) == 3
    cache.resize(400)
    assert cache.nbytes <= 400 and len(cache) == 1
    with pytest.raises(ValueError, match="bytes"):
        TileCache(-1)


def test_layer_cache_stays_within_its_limit(smooth_items):
    cache = TileCache(40_000)
    layer = KernelTileLayer(Recipe(smooth_items, ndvi, bands=["red", "nir"], masks=False), vmin=0, vmax=1,
                            cache=cache)
    west, south, east, north = smooth_items[0]["bbox"]
    for tile in tiles_around((south + north) / 2, (west + east) / 2, 14, 3):
        layer.tile(*tile)
        assert cache.nbytes <= 40_000
    assert len(cache) >= 1


def test_recipe_errors_name_the_fix(smooth_items):
    with pytest.raises(TypeError, match="function of the cube"):
        Recipe(smooth_items, "ndvi")
    with pytest.raises(TypeError, match="resolution="):
        Recipe(smooth_items, ndvi, like=None)
    bad = Recipe(smooth_items, lambda c: c, bands=["red"], masks=False)  # a Dataset, not a DataArray
    with pytest.raises(TypeError, match="recipe"):
        bad.array(0)


def test_coarse_tile_first_then_the_refined_one(smooth_items):
    """A tile of a level not yet computed, under a coarser level in memory: a preview (final: false) at once,
    then the tile itself with the same req; a cached tile gets one reply."""
    layer = KernelTileLayer(Recipe(smooth_items, ndvi, bands=["red", "nir"], masks=False), vmin=0, vmax=1,
                            cache=TileCache(64 * 2**20))
    sent = []
    layer.send = lambda content, buffers=None: sent.append((content, buffers))
    west, south, east, north = smooth_items[0]["bbox"]
    lat, lon = (south + north) / 2, (west + east) / 2
    coarse, fine = tiles_around(lat, lon, 11, 1)[0], tiles_around(lat, lon, 13, 1)[0]
    assert layer.level_for(*coarse) > layer.level_for(*fine)
    layer._on_tile_message(layer, {"type": "tile", "req": 1, "z": coarse[0], "x": coarse[1], "y": coarse[2]}, [])
    assert [c for c, _ in sent] == [{"type": "tile", "req": 1, "ok": True}]  # nothing coarser in memory yet
    layer._on_tile_message(layer, {"type": "tile", "req": 2, "z": fine[0], "x": fine[1], "y": fine[2]}, [])
    (first, preview), (last, refined) = sent[1:]
    assert first == {"type": "tile", "req": 2, "ok": True, "final": False} and preview[0][:4] == b"\x89PNG"
    assert last == {"type": "tile", "req": 2, "ok": True} and refined[0] != preview[0]
    layer._on_tile_message(layer, {"type": "tile", "req": 3, "z": fine[0], "x": fine[1], "y": fine[2]}, [])
    assert [c for c, _ in sent[3:]] == [{"type": "tile", "req": 3, "ok": True}]  # cached: no preview


_BROWSER_CELLS = ["""
import os
os.environ["TERRA_LAB_OFFLINE"] = "1"
import terra_lab
from terra_lab.display.map import TerraMap
res = terra_lab.catalog.open("demo").search((6.28, 45.17, 6.34, 45.21), "2024-04-01/2024-08-31",
                                            "THEIA_REFLECTANCE_SENTINEL2_L2A", max_cloud=40)
ndvi = terra_lab.recipe(res, lambda c: ((c.nir - c.red) / (c.nir + c.red)).median("time"),
                        bands=["red", "nir"], masks=False, name="median NDVI")
m = TerraMap(center=(45.19, 6.30), zoom=12)
layer = m.add_layer(ndvi, cmap="RdYlGn", vmin=0, vmax=0.9, fit=False)
# the kernel's record of the recipe layer, shown in the page: the deepest zoom asked, previews and tiles sent
import ipywidgets
status = ipywidgets.HTML()
zooms, finals = [0], []
_tile, _send = layer.tile, layer.send
def _show():
    status.value = (f'<span class="tl-test-status" data-zmax="{max(zooms)}" data-previews="{finals.count(False)}" '
                    f'data-finals="{finals.count(True)}">{max(zooms)} {finals.count(False)} {finals.count(True)}</span>')
def tile(z, x, y, t=None):
    zooms.append(z if isinstance(z, int) else 0)
    _show()
    return _tile(z, x, y, t)
def send(content, buffers=None):
    finals.append(content.get("final", True))
    _show()
    return _send(content, buffers)
layer.tile, layer.send = tile, send
_show()
ipywidgets.VBox([m, status])
"""]


@pytest.mark.slow
def test_browser_recipe_layer_draws_previews_then_refined_tiles(demo_root, browser, tmp_path):
    """JupyterLab + Chromium: a recipe layer's tiles load; zoomed in, tiles come as a preview then refined.

    Timing-independent (it passes on a loaded machine): each zoom is one click of Leaflet's zoom-in
    button, waited for by the zoom the kernel records it was asked (shown in the page); the kernel's
    count of previews sent, and every preview the front end marked (a MutationObserver keeps each
    record, also of a mark set and cleared before it looks), prove the coarse tiles came first; the
    refined ones are the loaded tiles with no preview mark left."""
    import nbformat
    from conftest import ARTIFACTS, assert_not_blank, jupyterlab, run_all_cells

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in _BROWSER_CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, tmp_path / "recipe.ipynb")
    with jupyterlab(tmp_path) as (url, token):
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        try:
            run_all_cells(page, url, token, "recipe.ipynb")
            tiles = ".terra-kernel-layer img.terra-tile[data-loaded='1']"
            page.wait_for_selector(tiles, timeout=180_000)
            page.evaluate("""() => { window.__previews = 0; new MutationObserver(ms => ms.forEach(m => {
                if (m.oldValue !== null || m.target.dataset.preview) window.__previews++; })).observe(document.body,
                {attributes: true, attributeOldValue: true, subtree: true, attributeFilter: ['data-preview']}); }""")
            kernel = "Number(document.querySelector('.tl-test-status').dataset.{})"
            zmax, finals = kernel.format("zmax"), kernel.format("finals")
            page.wait_for_function(f"() => {finals} > 0", timeout=180_000)  # the recipe's own first tiles (not
            z0 = page.evaluate(zmax)                                           # the offline basemap's) were sent
            assert z0 == 12, z0
            # refined: every tile the kernel sent after the zoom drawn, no preview mark left
            refined = ("() => document.querySelectorAll('.terra-kernel-layer img.terra-tile[data-preview]').length === 0"
                       " && document.querySelectorAll(\"" + tiles.replace("'", "\\'") + "\").length > 0"
                       " && {finals} > {before}")
            zoom_in = page.locator(".terra-map .leaflet-control-zoom-in").first
            # zoom 13: a finer level, not in memory: its tiles come as previews cut from zoom 12's level, then refined
            before = page.evaluate(finals)
            zoom_in.click()
            page.wait_for_function(f"() => {zmax} >= {z0 + 1}", timeout=180_000)
            page.wait_for_function(f"() => {kernel.format('previews')} > 0", timeout=180_000)  # coarse previews sent
            page.wait_for_function(refined.format(finals=finals, before=before), timeout=180_000)  # then refined
            assert page.evaluate("window.__previews") > 0  # the front end drew the previews first
            # zoom 14: its tiles come refined (from the level in memory, or after its preview)
            before = page.evaluate(finals)
            zoom_in.click()
            page.wait_for_function(f"() => {zmax} >= {z0 + 2}", timeout=180_000)
            page.wait_for_function(refined.format(finals=finals, before=before), timeout=180_000)
            assert_not_blank(page.locator(".terra-map").first.screenshot(path=str(ARTIFACTS / "recipe_map.png")),
                             "recipe layer")
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "recipe_failure.png"), full_page=True)
            raise
