"""Latency of one 256 x 256 tile from a lazy cube on the demo archive, cold and warm, and throughput
under 16 concurrent requests (what a browser does when a map opens).

* cold: a new layer each time (nothing cached: the tile's window is read from the COGs);
* warm: the same tile again with the source window already in memory (cube persisted), i.e.
  the cost of sampling, colouring and PNG encoding.

Run: ``python benchmarks/bench_tiles.py`` (after ``make demo``).
"""

from __future__ import annotations

import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _util import table

import terra_lab
from terra_lab.display._tiles import Style, render_tile


def _tiles_around(lat: float, lon: float, z: int, n: int = 4) -> list[tuple[int, int, int]]:
    k = 2**z
    cx = int((lon + 180) / 360 * k)
    cy = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * k)
    return [(z, cx + dx, cy + dy) for dx in range(-n // 2, n // 2) for dy in range(-n // 2, n // 2)]


def main() -> None:
    found = terra_lab.catalog.open("demo").search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A")
    items = [it for it in found if "_T31TGK_" in it["id"]]
    style = Style("RdYlGn", 0, 0.9)

    def ndvi_layer():
        cube = terra_lab.load(items, bands=["red", "nir"], resolution=10, masks=False)
        return ((cube.nir - cube.red) / (cube.nir + cube.red)).isel(time=80)

    tiles = _tiles_around(45.195, 6.30, 15)
    cold = []
    for tile in tiles:
        layer = ndvi_layer()
        t0 = time.perf_counter()
        render_tile(layer, *tile, style)
        cold.append(time.perf_counter() - t0)
    layer = ndvi_layer().persist()
    for tile in tiles:
        render_tile(layer, *tile, style)
    warm = []
    for _ in range(5):
        for tile in tiles:
            t0 = time.perf_counter()
            render_tile(layer, *tile, style)
            warm.append(time.perf_counter() - t0)
    lazy = ndvi_layer()
    many = _tiles_around(45.195, 6.30, 16, 8)  # 64 tiles of a 1440 x 1440 px view
    t0 = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        done = [p for p in pool.map(lambda t: render_tile(lazy, *t, style), many) if p is not None]
    wall = time.perf_counter() - t0

    def row(name, xs, target):
        ms = np.array(xs) * 1000
        return {"case": name, "n": len(xs), "median ms": f"{np.median(ms):.1f}", "p95 ms": f"{np.percentile(ms, 95):.1f}",
                "target": target}

    print("Tiles of NDVI (lazy, 10 m, demo archive) at zoom 15-16")
    print(table([row("cold (COG window read + render)", cold, "< 500 ms"), row("warm (render only)", warm, "< 100 ms")],
                ["case", "n", "median ms", "p95 ms", "target"]))
    print(f"\n16 concurrent requests, cold: {len(many)} tiles ({len(done)} non-empty) in {wall:.2f} s = "
          f"{len(many) / wall:.1f} tiles/s")


if __name__ == "__main__":
    main()
