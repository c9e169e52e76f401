"""Every tile request gets a reply: a layer whose file vanished, or whose computation raises, answers an error."""

import dask
import dask.array as da
import numpy as np
import rasterio
import rioxarray
import xarray as xr
from rasterio.transform import from_origin

import terra_lab  # noqa: F401 - registers the .rio accessor
from terra_lab.display._kernel_layer import KernelTileLayer
from terra_lab.display._tiles import tile_bounds

# zoom 13 tile over lon 6.30, lat 45.19 (the demo scene), in EPSG:32631 below
Z, X, Y = 13, 4239, 2928


def _requests(layer):
    sent = []
    layer.send = lambda content, buffers=None: sent.append((content, buffers))
    return sent


def _origin():
    """Top-left corner (UTM 31N) of a 200 x 200 20 m grid centred on tile Z/X/Y."""
    from pyproj import Transformer

    w, s, e, n = tile_bounds(Z, X, Y)
    x0, y0 = Transformer.from_crs(3857, 32631, always_xy=True).transform((w + e) / 2, (s + n) / 2)
    return x0 - 2000, y0 + 2000


def _geotiff(path):
    """A 200 x 200 20 m GeoTIFF covering tile Z/X/Y."""
    x0, y0 = _origin()
    data = np.linspace(0, 1, 200 * 200, dtype="float32").reshape(200, 200)
    with rasterio.open(path, "w", driver="GTiff", width=200, height=200, count=1, dtype="float32", crs="EPSG:32631",
                       transform=from_origin(x0, y0, 20, 20)) as dst:
        dst.write(data, 1)
    return path


def test_a_layer_whose_file_vanished_answers_an_error(tmp_path):
    path = _geotiff(tmp_path / "ndvi.tif")
    layer_da = rioxarray.open_rasterio(path, chunks=100, cache=False).squeeze("band", drop=True)
    layer = KernelTileLayer(layer_da, name="ndvi", vmin=0, vmax=1)
    sent = _requests(layer)
    layer._on_tile_message(layer, {"type": "tile", "req": 1, "z": Z, "x": X, "y": Y}, [])
    assert sent[-1][0] == {"type": "tile", "req": 1, "ok": True}  # the file is there: a tile
    path.unlink()
    xr.backends.file_manager.FILE_CACHE.clear()  # closes the open handle: the next read opens the path again
    layer.cache.clear()  # the tile is cached (panning back computes nothing): ask for it afresh
    with dask.config.set(scheduler="synchronous"):
        layer._on_tile_message(layer, {"type": "tile", "req": 2, "z": Z, "x": X, "y": Y}, [])
    content, buffers = sent[-1]
    assert content["req"] == 2 and content["ok"] is False and buffers is None
    assert "could not compute this tile of layer" in content["error"] and "ndvi.tif" in content["error"]


def test_a_layer_whose_compute_raises_answers_an_error():
    def boom(block):
        raise RuntimeError("the worker ran out of disk")

    x0, y0 = _origin()
    base = xr.DataArray(np.zeros((200, 200)), dims=("y", "x"),
                        coords={"y": y0 - 20 * (np.arange(200) + 0.5), "x": x0 + 20 * (np.arange(200) + 0.5)})
    lazy = base.copy(data=da.map_blocks(boom, da.zeros((200, 200), chunks=100), dtype=float)).rio.write_crs(32631)
    layer = KernelTileLayer(lazy, name="broken", vmin=0, vmax=1)
    sent = _requests(layer)
    layer._on_tile_message(layer, {"type": "tile", "req": 5, "z": Z, "x": X, "y": Y}, [])
    content, buffers = sent[-1]
    assert content["req"] == 5 and content["ok"] is False and buffers is None
    assert "RuntimeError: the worker ran out of disk" in content["error"] and "'broken'" in content["error"]
    assert layer.error == content["error"]  # also on the layer (the front end shows it on the tiles)
