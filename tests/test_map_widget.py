"""The map's kernel side: KernelTileLayer tiles over the comm, TerraMap on ipyleaflet, bad requests, escaping."""

import io
import math

import ipyleaflet
import numpy as np
import pytest
import xarray as xr
from PIL import Image

import terra_lab
from terra_lab.display._kernel_layer import KernelTileLayer
from terra_lab.display._tiles import MASKED_RGBA, render_tile
from terra_lab.display.map import TerraMap, fit_view


@pytest.fixture(scope="module")
def ndvi(demo_items):
    items = [it for it in demo_items if "_T31TGK_" in it["id"]][60:70]
    cube = terra_lab.load(items, bands=["red", "nir"], resolution=20)
    return ((cube.nir - cube.red) / (cube.nir + cube.red)).rename("ndvi")


def _tile(lat, lon, z):
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


X13, Y13 = _tile(45.19, 6.30, 13)


def _requests(layer):
    sent = []
    layer.send = lambda content, buffers=None: sent.append((content, buffers))
    return sent


def test_tiles_are_answered_over_the_layer_comm(ndvi):
    m = TerraMap(center=(45.19, 6.30), zoom=13, basemap=None)
    layer = m.add_layer(ndvi, name="NDVI", cmap="RdYlGn", vmin=0, vmax=0.9)
    assert isinstance(layer, ipyleaflet.Layer) and layer in m.layers
    assert layer.n_times == 10 and layer.legend["vmax"] == 0.9 and len(layer.legend["colors"]) == 8
    assert layer._view_module == "terra-lab-widgets" and layer._view_name == "KernelTileLayerView"
    sent = _requests(layer)
    layer._on_tile_message(layer, {"type": "tile", "req": 7, "z": 13, "x": X13, "y": Y13, "t": 3}, [])
    content, buffers = sent[-1]
    assert content == {"type": "tile", "req": 7, "ok": True}
    img = np.asarray(Image.open(io.BytesIO(bytes(buffers[0]))))
    assert img.shape == (256, 256, 4) and img[..., 3].max() == 255 and img[..., 3].min() == 0
    # the tile is exactly the renderer's tile of that date
    assert bytes(buffers[0]) == render_tile(ndvi.isel(time=3), 13, X13, Y13, layer.style)


def test_a_terra_lab_layer_goes_on_a_plain_ipyleaflet_map(ndvi):
    from terra_lab.display import KernelTileLayer as exported

    assert exported is KernelTileLayer  # terra_lab.display exports it (imported on first use)
    m = ipyleaflet.Map(center=(45.19, 6.30), zoom=13)
    layer = KernelTileLayer(ndvi.isel(time=0), cmap="RdYlGn", vmin=0, vmax=0.9)
    m.add(layer)
    assert layer in m.layers and layer.name == "ndvi" and layer.n_times == 1
    assert layer.tile(13, X13, Y13) is not None


@pytest.mark.parametrize(
    "request_, message",
    [
        ({"z": 40, "x": 1, "y": 1}, "zoom 40 is outside"),
        ({"z": 3, "x": 99, "y": 1}, "does not exist"),
        ({"z": "13; rm -rf /", "x": 1, "y": 1}, "must be an integer"),
        ({"z": 13, "x": X13, "y": Y13, "t": 99}, "time index 99 outside"),
        ({"z": 13, "x": X13, "y": Y13, "t": "1"}, "time index '1' outside"),
        ({"x": 1, "y": 1}, "must be an integer"),
    ],
)
def test_bad_tile_requests_get_an_error_not_a_traceback(ndvi, request_, message):
    layer = KernelTileLayer(ndvi, vmin=0, vmax=1)
    sent = _requests(layer)
    layer._on_tile_message(layer, {"type": "tile", "req": 1, **request_}, [])
    content, buffers = sent[-1]
    assert content["ok"] is False and message in content["error"] and buffers is None
    assert "Traceback" not in content["error"]


def test_layer_names_are_escaped_and_data_is_checked(ndvi):
    m = TerraMap(basemap=None)
    layer = m.add_layer(ndvi.isel(time=0), name="<script>alert(1)</script>", vmin=0, vmax=1)
    # Leaflet's layer control writes names as HTML: the name is escaped, the title kept for Python
    assert layer.name == "&lt;script&gt;alert(1)&lt;/script&gt;" and layer.title == "<script>alert(1)</script>"
    assert "<script>" not in m._legend.value and "&lt;script&gt;" in m._legend.value
    with pytest.raises(ValueError, match="dims"):
        m.add_layer(ndvi.isel(x=0))
    with pytest.raises(TypeError):
        m.add_layer(np.zeros((3, 3)))


def test_api_of_the_notebooks(ndvi):
    m = TerraMap(center=(45.19, 6.30), zoom=13, basemap=None)
    layer = m.add_layer(ndvi, name="NDVI", cmap="RdYlGn", vmin=0, vmax=0.9)
    slider = m.time_slider(layer)
    assert slider.value == layer.time_index and len(slider.options) == 10
    slider.value = 2
    assert layer.time_index == 2
    m.set_time(layer.layer_id, 4)  # the id string of older code works too
    assert layer.time_index == 4
    with pytest.raises(IndexError):
        m.set_time(layer, 10)
    second = m.add_layer(ndvi.isel(time=0), name="first date", vmin=0, vmax=1)
    ctrl = m.split()
    assert ctrl in m.controls and ctrl.left_layer is layer and ctrl.right_layer is second
    m.split = False  # the older flag
    assert ctrl not in m.controls
    m.split = True
    assert m._split in m.controls and m._split.right_layer is second
    m.remove_layer(second)
    assert second not in m.layers and m._split is None
    m.remove_layer(layer.layer_id)
    assert m.data_layers == [] and m._legend_control not in m.controls
    tile = ipyleaflet.TileLayer(url="http://127.0.0.1:1/{z}/{x}/{y}.png", name="other")
    assert m.add_layer(tile) is tile and tile in m.layers  # ipyleaflet layers pass through


def test_the_map_fits_the_first_layer_and_opens_on_the_clearest_date(ndvi):
    m = TerraMap(center=(0, 0), zoom=3, basemap=None)
    layer = m.add_layer(ndvi, vmin=0, vmax=1)
    (s, w), (n, e) = layer.bounds_latlon()
    assert s < m.center[0] < n and w < m.center[1] < e and m.zoom >= 12
    valid = np.isfinite(ndvi.values).sum(axis=(1, 2))
    assert valid[layer.time_index] == valid.max()  # the decimated sample picks the clearest date
    # fit_view: the bounds fit in 700 x 420 px at that zoom, not at the next one
    (lat, lon), z = fit_view(((45.0, 6.0), (45.1, 6.2)))
    assert 45.0 < lat < 45.1 and lon == pytest.approx(6.1)
    assert 0.2 * 2**z * 256 / 360 <= 700 < 0.2 * 2 ** (z + 1) * 256 / 360


def test_draw_click_and_pixel_series(ndvi):
    m = TerraMap(basemap=None)
    layer = m.add_layer(ndvi, vmin=0, vmax=1)
    rect = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
        [[6.29, 45.18], [6.31, 45.18], [6.31, 45.2], [6.29, 45.2], [6.29, 45.18]]]}}
    m._on_draw(m._draw, "created", rect)
    assert m.aoi == rect["geometry"] and m._draw.data == [rect]
    m._on_interaction(type="click", coordinates=[45.19, 6.30])
    lat, lon = m.clicked
    assert abs(lat - 45.19) < 2e-4 and abs(lon - 6.30) < 3e-4  # the centre of the 20 m pixel under the click
    assert m._marker in m.layers and tuple(m._marker.location) == (lat, lon)
    ts = m.pixel_series(layer)
    assert ts.dims == ("time",) and ts.sizes["time"] == 10
    assert m.pixel_series(layer, latlon=(0.0, 0.0)) is None  # outside the layer


def test_masked_pixels_are_hatched_and_no_data_stays_transparent():
    x = 757000 + 20 * (np.arange(400) + 0.5)
    y = 5013000 - 20 * (np.arange(400) + 0.5)
    values = np.full((400, 400), 0.5)
    values[:, :200] = np.nan  # west half: no data (or masked)
    masked = np.zeros((400, 400), bool)
    masked[:200, :200] = True  # north-west quarter: masked (e.g. clouds)
    da = xr.DataArray(values, dims=("y", "x"), coords={"y": y, "x": x}).rio.write_crs(32631)
    mk = da.copy(data=masked)
    layer = KernelTileLayer(da, vmin=0, vmax=1, masked=mk)
    img = np.asarray(Image.open(io.BytesIO(layer.tile(13, X13, Y13))))
    colours = {tuple(c) for c in img.reshape(-1, 4)}
    assert set(MASKED_RGBA) <= colours  # both stripes of the hatching
    assert (img[..., 3] == 0).any()  # no data (south-west quarter): transparent
    assert img[..., 3].max() == 255  # the values themselves (east half)


def test_basemaps_online_and_offline(monkeypatch, demo_root):
    m = TerraMap(basemap="ign-plan")
    bases = [(ly.name, ly.active) for ly in m.layers if ly.base]
    assert bases == [("OpenStreetMap", False), ("IGN plan", True), ("IGN orthophotos", False)]
    assert "LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2" in m.layers[1].url
    assert any(isinstance(c, ipyleaflet.LayersControl) for c in m.controls)
    with pytest.raises(ValueError, match="unknown basemap"):
        TerraMap(basemap="google")
    monkeypatch.setenv("TERRA_LAB_OFFLINE", "1")
    off = TerraMap(center=(45.2, 6.30), zoom=13)  # the demo DEM's hillshade, rendered here
    (base,) = [ly for ly in off.layers if ly.base]
    assert isinstance(base, KernelTileLayer) and base.name == "Relief (offline)"
    png = base.tile(13, X13, Y13)
    img = np.asarray(Image.open(io.BytesIO(png)))
    assert img[..., 3].max() == 255 and img[..., :3].std() > 5  # shaded relief, not a flat grey


def test_a_failed_tile_is_said_on_the_map_as_text():
    import dask.array as dsa

    def boom(block):
        raise RuntimeError("<b>disk</b> gone")

    x = 757000 + 20 * (np.arange(200) + 0.5)
    y = 5013000 - 20 * (np.arange(200) + 0.5)
    lazy = xr.DataArray(dsa.map_blocks(boom, dsa.zeros((200, 200), chunks=100), dtype=float), dims=("y", "x"),
                        coords={"y": y, "x": x}).rio.write_crs(32631)
    m = TerraMap(basemap=None)
    layer = m.add_layer(lazy, name="broken", vmin=0, vmax=1)
    _requests(layer)
    layer._on_tile_message(layer, {"type": "tile", "req": 1, "z": 13, "x": X13, "y": Y13}, [])
    assert "could not compute this tile" in m._status.value and "&lt;b&gt;disk" in m._status.value
