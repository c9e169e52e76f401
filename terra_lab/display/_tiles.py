"""Web-Mercator (XYZ) tiles rendered from any 2-D xarray DataArray, lazy or not.

Only the pixels a tile shows are computed: the tile's footprint is mapped to a window of
the array (decimated when zoomed out), that window alone is computed, then resampled to
256 x 256 by nearest neighbour, coloured and encoded as PNG (NaN -> transparent).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xarray as xr
from pyproj import Transformer

__all__ = ["MASKED_RGBA", "TILE", "Style", "TileError", "colorize", "image_overlay", "lonlat_to_index", "render_bounds",
           "render_tile", "tile_bounds", "tile_failure"]

TILE = 256
_HALF = 20037508.342789244  # half the Web-Mercator world width (m)
MAX_ZOOM = 24


class TileError(ValueError):
    """A malformed tile request (answered with HTTP 400 / a comm error, never a traceback)."""


def tile_failure(layer: object, error: BaseException) -> str:
    """The one-line message a tile request gets when computing the tile failed (logged with its traceback).

    A layer's file may have been moved or deleted since it was added, or its computation may
    raise: the browser is told so (and stops waiting) instead of getting no reply.
    """
    import logging

    logging.getLogger("terra_lab.display").warning("tile of layer %r failed", layer, exc_info=error)
    text = " ".join(str(error).split())[:300] or type(error).__name__
    return (f"could not compute this tile of layer {str(layer)[:64]!r}: {type(error).__name__}: {text} "
            "(a file of the layer moved or deleted? re-run the cell that made the layer)")


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of XYZ tile z/x/y in EPSG:3857 metres."""
    for name, v in (("z", z), ("x", x), ("y", y)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TileError(f"tile {name}={v!r} must be an integer")
    if not 0 <= z <= MAX_ZOOM:
        raise TileError(f"zoom {z} is outside 0..{MAX_ZOOM}")
    n = 2**z
    if not (0 <= x < n and 0 <= y < n):
        raise TileError(f"tile {z}/{x}/{y} does not exist (x and y must be in 0..{n - 1} at zoom {z})")
    size = 2 * _HALF / n
    west = -_HALF + x * size
    north = _HALF - y * size
    return west, north - size, west + size, north


@dataclass(frozen=True)
class Style:
    """How values become colours: a matplotlib colormap between ``vmin`` and ``vmax``."""

    cmap: str = "viridis"
    vmin: float = 0.0
    vmax: float = 1.0
    opacity: float = 1.0


@lru_cache(maxsize=32)
def _lut(cmap: str) -> np.ndarray:
    import matplotlib

    cm = matplotlib.colormaps[cmap]
    return (cm(np.linspace(0, 1, 256)) * 255).round().astype(np.uint8)


def colorize(values: np.ndarray, style: Style) -> np.ndarray:
    """RGBA uint8 image of ``values``; NaN (and masked) pixels are fully transparent."""
    v = np.asarray(values, dtype=np.float64)
    valid = np.isfinite(v)
    span = style.vmax - style.vmin or 1.0
    idx = np.clip(((v - style.vmin) / span * 255), 0, 255)
    idx = np.where(valid, idx, 0).astype(np.uint8)
    rgba = _lut(style.cmap)[idx]
    rgba[..., 3] = np.where(valid, int(round(255 * style.opacity)), 0)
    return rgba


def _png(rgba: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


@lru_cache(maxsize=16)
def _to_crs(epsg: int) -> Transformer:
    return Transformer.from_crs(3857, epsg, always_xy=True)


def _grid(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray, float, float, int]:
    x, y = da["x"].values, da["y"].values
    if x.size < 2 or y.size < 2:
        raise ValueError("a layer needs at least 2 x 2 pixels")
    dx, dy = float(x[1] - x[0]), float(y[1] - y[0])
    crs = da.rio.crs if hasattr(da, "rio") else None
    if crs is None:
        raise ValueError("the layer has no CRS: give a DataArray from terra_lab (or call .rio.write_crs)")
    return x, y, dx, dy, crs.to_epsg()


def render_tile(da: xr.DataArray, z: int, x: int, y: int, style: Style = Style(),
                masked: xr.DataArray | None = None) -> bytes | None:
    """PNG bytes of tile z/x/y of the 2-D (y, x) DataArray ``da``, or None if the tile is empty.

    ``masked``: an optional 2-D boolean DataArray (any grid): its true pixels are drawn hatched
    grey (:data:`MASKED_RGBA`) over the values, so masked areas differ from no data (transparent).
    """
    rgba = render_bounds(da, tile_bounds(z, x, y), TILE, TILE, style, masked=masked)
    return None if rgba is None else _png(rgba)


#: the two colours of the hatching of masked pixels: grey stripes, half transparent, 4 px wide
MASKED_RGBA = ((128, 128, 128, 170), (96, 96, 96, 110))


def _sample(da: xr.DataArray, bounds: tuple[float, float, float, float], width: int, height: int) -> np.ndarray | None:
    """(height, width) float values of ``da`` at the centres of the output pixels (NaN outside), or None.

    Only the window of ``da`` under ``bounds`` is computed, decimated to about twice the
    output resolution when zoomed out.
    """
    west, south, east, north = bounds
    xs, ys, dx, dy, epsg = _grid(da)
    # output pixel centres -> layer CRS -> fractional array indices
    cx = west + (east - west) / width * (np.arange(width) + 0.5)
    cy = north - (north - south) / height * (np.arange(height) + 0.5)
    gx, gy = np.meshgrid(cx, cy)
    lx, ly = _to_crs(epsg).transform(gx, gy)
    col = np.floor((lx - (xs[0] - dx / 2)) / dx).astype(np.int64)
    row = np.floor((ly - (ys[0] - dy / 2)) / dy).astype(np.int64)
    inside = (col >= 0) & (col < xs.size) & (row >= 0) & (row < ys.size)
    if not inside.any():
        return None
    r0, r1 = int(row[inside].min()), int(row[inside].max()) + 1
    c0, c1 = int(col[inside].min()), int(col[inside].max()) + 1
    # decimate when an output pixel covers several array pixels: compute at most ~2x the output size
    stride = max(1, int(max((r1 - r0) / (2 * height), (c1 - c0) / (2 * width))))
    window = da.isel(y=slice(r0, r1, stride), x=slice(c0, c1, stride))
    values = np.asarray(window.values, dtype=np.float64)
    out = np.full((height, width), np.nan)
    rr = np.clip((row - r0) // stride, 0, values.shape[0] - 1)
    cc = np.clip((col - c0) // stride, 0, values.shape[1] - 1)
    out[inside] = values[rr[inside], cc[inside]]
    return out


def render_bounds(da: xr.DataArray, bounds: tuple[float, float, float, float], width: int, height: int,
                  style: Style = Style(), masked: xr.DataArray | None = None) -> np.ndarray | None:
    """RGBA image (height, width, 4) of ``da`` over Web-Mercator ``bounds``, or None if empty.

    Only the window of ``da`` (and of ``masked``) under ``bounds`` is computed.  Masked pixels
    are hatched with stripes aligned on the Web-Mercator pixel grid, so they join across tiles.
    """
    out = _sample(da, bounds, width, height)
    hatch = None
    if masked is not None:
        m = _sample(masked, bounds, width, height)
        hatch = None if m is None else np.nan_to_num(m) > 0.5
    has_values = out is not None and np.isfinite(out).any()
    if not has_values and (hatch is None or not hatch.any()):
        return None
    rgba = colorize(out if out is not None else np.full((height, width), np.nan), style)
    if hatch is not None and hatch.any():
        west, _, east, north = bounds
        px = (east - west) / width  # pixel size (m): stripes continue from one tile to the next
        i0 = int(round((north - _HALF) / -px)) if px else 0
        j0 = int(round((west + _HALF) / px)) if px else 0
        ii, jj = np.meshgrid(np.arange(height) + i0, np.arange(width) + j0, indexing="ij")
        stripe = ((ii + jj) // 4) % 2 == 0
        colours = np.array(MASKED_RGBA, dtype=np.uint8)
        rgba[hatch] = colours[np.where(stripe, 0, 1)[hatch]]
    return rgba


def image_overlay(da: xr.DataArray, style: Style = Style(), max_size: int = 1024):
    """A pure-Python fallback: the whole layer as one PNG in an ipyleaflet ``ImageOverlay``.

    For front ends without terra_lab's widget (e.g. an ipyleaflet-only setup): the image is
    computed once, decimated to at most ``max_size`` pixels a side, in Web-Mercator bounds.
    """
    import base64

    import ipyleaflet

    xs, ys, dx, dy, epsg = _grid(da)
    to_merc = Transformer.from_crs(epsg, 3857, always_xy=True)
    ex = [xs[0] - dx / 2, xs[-1] + dx / 2]
    ey = [ys[0] - dy / 2, ys[-1] + dy / 2]
    mx, my = to_merc.transform([ex[0], ex[1], ex[0], ex[1]], [ey[0], ey[0], ey[1], ey[1]])
    bounds = (min(mx), min(my), max(mx), max(my))
    aspect = (bounds[2] - bounds[0]) / (bounds[3] - bounds[1])
    width = max(1, int(max_size if aspect >= 1 else max_size * aspect))
    height = max(1, int(max_size if aspect < 1 else max_size / aspect))
    rgba = render_bounds(da, bounds, width, height, style)
    if rgba is None:
        raise ValueError("the layer holds no valid pixel to show")
    url = "data:image/png;base64," + base64.b64encode(_png(rgba)).decode()
    to_ll = Transformer.from_crs(3857, 4326, always_xy=True)
    (w, e), (s, n) = to_ll.transform([bounds[0], bounds[2]], [bounds[1], bounds[3]])
    return ipyleaflet.ImageOverlay(url=url, bounds=((s, w), (n, e)), name=str(da.name or "layer"))


def lonlat_to_index(da: xr.DataArray, lon: float, lat: float) -> tuple[int, int] | None:
    """(row, col) of the pixel holding lon/lat, or None outside the layer."""
    xs, ys, dx, dy, epsg = _grid(da)
    tx, ty = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    col = math.floor((tx - (xs[0] - dx / 2)) / dx)
    row = math.floor((ty - (ys[0] - dy / 2)) / dy)
    if 0 <= row < ys.size and 0 <= col < xs.size:
        return row, col
    return None
