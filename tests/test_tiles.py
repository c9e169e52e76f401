"""Kernel-side tile rendering: georeferencing, colours, transparency, and computing only what a tile shows."""

import io
import math

import dask.array as da
import numpy as np
import pytest
import xarray as xr
from PIL import Image
from pyproj import Transformer

import terra_lab  # noqa: F401 - registers the .rio accessor
from terra_lab.display._tiles import Style, TileError, colorize, render_tile, tile_bounds


def _layer(data, x0=757200.0, y0=5012400.0, res=20.0, epsg=32631):
    ny, nx = data.shape
    da_ = xr.DataArray(data, dims=("y", "x"),
                       coords={"y": y0 - res * (np.arange(ny) + 0.5), "x": x0 + res * (np.arange(nx) + 0.5)})
    return da_.rio.write_crs(epsg)


def _tile_of(lon, lat, z):
    """XYZ tile and the pixel within it holding lon/lat (slippy-map formulas)."""
    n = 2**z
    fx = (lon + 180) / 360 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int(fx), int(fy), int((fx % 1) * 256), int((fy % 1) * 256)


def test_tile_bounds():
    assert tile_bounds(0, 0, 0) == pytest.approx((-20037508.34, -20037508.34, 20037508.34, 20037508.34))
    w, s, e, _ = tile_bounds(1, 1, 0)
    assert (w, s) == pytest.approx((0, 0)) and e == pytest.approx(20037508.34)
    for bad, msg in (((25, 0, 0), "zoom 25"), ((3, 8, 0), "does not exist"), ((3, -1, 0), "does not exist"),
                     ((3, 1.5, 0), "must be an integer")):
        with pytest.raises(TileError, match=msg):
            tile_bounds(*bad)


def test_a_known_pixel_lands_where_it_should():
    data = np.zeros((200, 200), np.float32)
    data[100, 60] = 1.0  # one hot pixel, 20 m
    layer = _layer(data)
    x, y = float(layer.x[60]), float(layer.y[100])
    lon, lat = Transformer.from_crs(32631, 4326, always_xy=True).transform(x, y)
    z = 17  # ~1.2 m tile pixels at 45 N: the 20 m pixel covers ~16 x 16 tile pixels
    tx, ty, px, py = _tile_of(lon, lat, z)
    png = render_tile(layer, z, tx, ty, Style("gray", 0, 1))
    img = np.asarray(Image.open(io.BytesIO(png)))
    assert img.shape == (256, 256, 4)
    assert img[py, px, 0] == 255 and img[py, px, 3] == 255  # the hot pixel is white
    # 40 m away (two pixels) it is black
    far = img[min(255, py + 32), px] if py < 200 else img[py - 32, px]
    assert far[0] == 0


def test_colormap_and_nodata_transparency():
    rgba = colorize(np.array([[0.0, 1.0, np.nan, 2.0]]), Style("viridis", 0.0, 1.0))
    import matplotlib

    assert tuple(rgba[0, 0, :3]) == tuple((np.array(matplotlib.colormaps["viridis"](0.0)[:3]) * 255).round().astype(int))
    assert tuple(rgba[0, 1, :3]) == tuple((np.array(matplotlib.colormaps["viridis"](1.0)[:3]) * 255).round().astype(int))
    assert rgba[0, 2, 3] == 0 and rgba[0, 0, 3] == 255
    assert tuple(rgba[0, 3]) == tuple(rgba[0, 1])  # clipped to vmax


def test_tiles_outside_or_empty_are_none():
    layer = _layer(np.full((10, 10), np.nan, np.float32))
    assert render_tile(layer, 2, 0, 0) is None  # far away
    lon, lat = Transformer.from_crs(32631, 4326, always_xy=True).transform(757300.0, 5012300.0)
    tx, ty, _, _ = _tile_of(lon, lat, 14)
    assert render_tile(layer, 14, tx, ty) is None  # covers the layer, but it is all NaN


def test_only_the_window_of_the_tile_is_computed():
    computed = []

    def block(block_info=None):
        computed.append(block_info[None]["chunk-location"])
        return np.ones(block_info[None]["chunk-shape"], np.float32)

    big = da.map_blocks(block, dtype=np.float32, chunks=((512,) * 40, (512,) * 40))  # 20480^2 px, 1.6 GB
    layer = _layer(big, res=10.0)
    lon, lat = Transformer.from_crs(32631, 4326, always_xy=True).transform(757200.0 + 1000, 5012400.0 - 1000)
    tx, ty, _, _ = _tile_of(lon, lat, 15)
    assert render_tile(layer, 15, tx, ty) is not None
    assert 1 <= len(computed) <= 4  # one chunk (maybe its neighbours), not 1600
    computed.clear()
    tx, ty, _, _ = _tile_of(lon, lat, 8)  # zoomed out: the whole layer, decimated
    assert render_tile(layer, 8, tx, ty) is not None


def test_image_overlay_fallback_covers_the_layer():
    from terra_lab.display._tiles import image_overlay

    data = np.zeros((200, 300), np.float32)
    data[:, 150:] = np.nan
    layer = _layer(data)
    overlay = image_overlay(layer, Style("gray", 0, 1), max_size=256)
    (s, w), (n, e) = overlay.bounds
    lons, lats = Transformer.from_crs(32631, 4326, always_xy=True).transform(
        [757200.0, 763200.0, 757200.0, 763200.0], [5012400.0, 5012400.0, 5008400.0, 5008400.0])
    assert (w, e) == pytest.approx((min(lons), max(lons)), abs=1e-6) and (s, n) == pytest.approx((min(lats), max(lats)), abs=1e-6)
    import base64

    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(overlay.url.split(",", 1)[1]))))
    assert max(img.shape[:2]) == 256
    h, w_ = img.shape[:2]
    middle = img[h // 4: 3 * h // 4]  # away from the corners the UTM square leaves empty in Web-Mercator
    assert middle[:, w_ // 10: w_ // 3, 3].min() == 255 and middle[:, -w_ // 4:, 3].max() == 0  # the NaN half is clear
