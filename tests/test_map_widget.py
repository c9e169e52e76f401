"""The map widget's kernel side: tile requests over the comm, layer registry, bad requests, escaping."""

import io
import math

import numpy as np
import pytest
from PIL import Image

import terra_lab
from terra_lab.display.map import TerraMap


@pytest.fixture(scope="module")
def ndvi(demo_items):
    items = [it for it in demo_items if "_T31TGK_" in it["id"]][60:70]
    cube = terra_lab.load(items, bands=["red", "nir"], resolution=20)
    return ((cube.nir - cube.red) / (cube.nir + cube.red)).rename("ndvi")


def _tile(lat, lon, z):
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


X13, Y13 = _tile(45.19, 6.30, 13)


def _requests(m):
    sent = []
    m.send = lambda content, buffers=None: sent.append((content, buffers))
    return sent


def test_tiles_are_answered_over_the_comm(ndvi):
    m = TerraMap(center=(45.19, 6.30), zoom=13)
    layer = m.add_layer(ndvi, name="NDVI", cmap="RdYlGn", vmin=0, vmax=0.9)
    spec = m.layers[0]
    assert spec["n_times"] == 10 and spec["legend"]["vmax"] == 0.9 and len(spec["legend"]["colors"]) == 8
    sent = _requests(m)
    # zoom 13 tile over the demo scene (lon 6.30, lat 45.19)
    m._on_msg(m, {"type": "tile", "req": 7, "layer": layer, "z": 13, "x": X13, "y": Y13, "t": 3}, [])
    content, buffers = sent[-1]
    assert content == {"type": "tile", "req": 7, "ok": True}
    img = np.asarray(Image.open(io.BytesIO(bytes(buffers[0]))))
    assert img.shape == (256, 256, 4) and img[..., 3].max() == 255 and img[..., 3].min() == 0


@pytest.mark.parametrize(
    "request_, message",
    [
        ({"layer": "nope", "z": 13, "x": 1, "y": 1}, "unknown layer"),
        ({"z": 40, "x": 1, "y": 1}, "zoom 40 is outside"),
        ({"z": 3, "x": 99, "y": 1}, "does not exist"),
        ({"z": "13; rm -rf /", "x": 1, "y": 1}, "must be an integer"),
        ({"z": 13, "x": X13, "y": Y13, "t": 99}, "time index 99 outside"),
    ],
)
def test_bad_tile_requests_get_an_error_not_a_traceback(ndvi, request_, message):
    m = TerraMap()
    layer = m.add_layer(ndvi, vmin=0, vmax=1)
    sent = _requests(m)
    m._on_msg(m, {"type": "tile", "req": 1, "layer": layer, **request_}, [])
    content, buffers = sent[-1]
    assert content["ok"] is False and message in content["error"] and buffers is None


def test_layers_need_a_grid_and_names_are_escaped(ndvi):
    m = TerraMap()
    m.add_layer(ndvi.isel(time=0), name="<script>alert(1)</script>", vmin=0, vmax=1)
    assert m.layers[0]["name"] == "&lt;script&gt;alert(1)&lt;/script&gt;" and m.layers[0]["n_times"] == 1
    with pytest.raises(ValueError, match="dims"):
        m.add_layer(ndvi.isel(x=0))
    with pytest.raises(TypeError):
        m.add_layer(np.zeros((3, 3)))


def test_footprints_and_pixel_series(ndvi, demo_catalog):
    res = demo_catalog.search((6.28, 45.17, 6.33, 45.2), "2024-02", "THEIA_REFLECTANCE_SENTINEL2_L2A")
    m = TerraMap()
    m.show_items(res)
    assert len(m.footprints["features"]) == len(res)
    layer = m.add_layer(ndvi, vmin=0, vmax=1)
    m.clicked = [45.19, 6.30]
    ts = m.pixel_series(layer)
    assert ts.dims == ("time",) and ts.sizes["time"] == 10
    assert m.pixel_series(layer, latlon=(0.0, 0.0)) is None  # outside the layer
