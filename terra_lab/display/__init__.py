"""Display of lazy results: XYZ tiles rendered in the kernel, map widgets (the ``ui`` extra).

``TerraMap`` (an ``ipyleaflet.Map``) and ``KernelTileLayer`` (a kernel-rendered layer for any
ipyleaflet or leafmap map) are imported on first use, so that this package imports without
the ``ui`` extra.
"""

from __future__ import annotations

from ._tiles import Style, TileError, render_tile, tile_bounds

__all__ = ["KernelTileLayer", "Style", "TerraMap", "TileError", "render_tile", "tile_bounds"]


def __getattr__(name: str):
    if name in ("KernelTileLayer", "TerraMap"):
        from . import map as _map

        return getattr(_map, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
