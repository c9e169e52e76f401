"""Display of lazy results: XYZ tiles rendered in the kernel, map widgets (the ``ui`` extra)."""

from __future__ import annotations

from ._tiles import Style, TileError, render_tile, tile_bounds

__all__ = ["Style", "TileError", "render_tile", "tile_bounds"]
