"""Map tiles of a full Sentinel-2 tile at any zoom: KernelTileLayer on a recipe (COG overviews)
against rio-tiler on the same COGs, and a 20-date median NDVI tile cold and warm.

The scene: one tile-sized pair of int16 COGs (10980 x 10980 px at 10 m, red and nir, DEFLATE,
overviews x2 .. x32) generated once into ``$TERRA_LAB_BENCH_DIR`` (default
``/tmp/terra_lab_bench_pyramid``, about 500 MB), wrapped in THEIA-like STAC items.

* NDVI at zoom 8, 10, 12: median over the (at most 4) tiles nearest the scene's centre of one tile request;
  ours = ``KernelTileLayer(recipe).tile(z, x, y)``, the first tile of a new layer and cache
  (the level's cube graph, overview read, NDVI, PNG; the layer's creation, once per
  ``add_layer``, is timed apart), rio-tiler = ``Reader.tile`` of both bands + NDVI +
  the same colouring and PNG encoding.  Both read the files from the page cache.
* 20-date median NDVI at zoom 8: 20 items pointing at the same two COGs; cold = first tile of a
  fresh layer, warm = the same tile again (the tile cache) and a neighbouring tile (the level
  array in memory).

Run: ``python benchmarks/bench_pyramid.py`` (``--size 2745`` for a quick run on a quarter tile).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _util import _PeakRSS, table

ORIGIN = (699960.0, 5100000.0)  # T31TGL-like UTM 31N upper-left corner
EPSG = 32631
OVERVIEWS = [2, 4, 8, 16, 32]


def write_cog(path: Path, data: np.ndarray, *, res: float = 10.0, origin: tuple[float, float] = ORIGIN,
              overviews: list[int] | None = OVERVIEWS, nodata: float | None = -10000) -> Path:
    """An int16 COG of ``data`` (DEFLATE, 512 px blocks) with ``average`` overviews, written atomically."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.shutil import copy as rio_copy
    from rasterio.transform import from_origin

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.tif")
    prof = dict(driver="GTiff", width=data.shape[1], height=data.shape[0], count=1, dtype=data.dtype.name,
                crs=f"EPSG:{EPSG}", transform=from_origin(*origin, res, res), tiled=True, blockxsize=512,
                blockysize=512, nodata=nodata)
    with rasterio.open(tmp, "w", **prof) as ds:
        ds.write(data, 1)
        if overviews:
            ds.build_overviews(overviews, Resampling.average)
    part = path.with_suffix(".part.tif")
    rio_copy(tmp, part, driver="COG", COMPRESS="DEFLATE", PREDICTOR="2", BLOCKSIZE="512",
             OVERVIEWS="FORCE_USE_EXISTING" if overviews else "NONE")
    tmp.unlink()
    os.replace(part, path)
    return path


def scene(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(red, nir) int16 reflectance x 10000 of a ``size`` x ``size`` scene: smooth fields plus noise."""
    rng = np.random.default_rng(seed)
    n = max(2, size // 64)
    coarse = rng.random((2, n, n)).astype(np.float32)
    rep = -(-size // n)
    smooth = np.repeat(np.repeat(coarse, rep, axis=1), rep, axis=2)[:, :size, :size]
    noise = rng.normal(0, 0.02, (2, size, size)).astype(np.float32)
    red = np.clip(300 + 1500 * smooth[0] + 300 * noise[0], 1, 10000).astype(np.int16)
    nir = np.clip(1500 + 3000 * smooth[1] + 600 * noise[1], 1, 10000).astype(np.int16)
    return red, nir


def scene_items(red: Path, nir: Path, n_dates: int = 1, *, res: float = 10.0, origin=ORIGIN) -> list[dict]:
    """``n_dates`` THEIA-like Sentinel-2 L2A STAC items (one a day) whose red and nir are ``red`` and ``nir``."""
    import rasterio
    from pyproj import Transformer

    with rasterio.open(red) as ds:
        h, w = ds.shape
    x0, y1 = origin
    x1, y0 = x0 + w * res, y1 - h * res
    lon, lat = Transformer.from_crs(EPSG, 4326, always_xy=True).transform([x0, x1, x1, x0], [y0, y0, y1, y1])
    ring = [[float(a), float(b)] for a, b in zip(lon, lat)]
    items = []
    for i in range(n_dates):
        day = f"2022-{1 + i // 28:02d}-{1 + i % 28:02d}"
        pid = f"SENTINEL2A_{day.replace('-', '')}-103719-356_L2A_T31TGL_C_V2-2"
        asset = {"type": "image/tiff; application=geotiff; profile=cloud-optimized", "proj:shape": [h, w],
                 "proj:transform": [res, 0.0, x0, 0.0, -res, y1], "proj:epsg": EPSG, "gsd": res,
                 "roles": ["data", "reflectance"]}
        bands = {"FRE_B4": (red, "B4", "red", 0.665), "FRE_B8": (nir, "B8", "nir", 0.842),
                 "FRE_B2": (red, "B2", "blue", 0.490)}  # the marker of THEIA's profile (never loaded here)
        items.append({
            "type": "Feature", "stac_version": "1.0.0", "id": pid, "collection": "THEIA_REFLECTANCE_SENTINEL2_L2A",
            "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
            "bbox": [min(lon), min(lat), max(lon), max(lat)],
            "properties": {"platform": "sentinel-2a", "constellation": "sentinel-2", "proj:epsg": EPSG,
                           "theia:tile": "T31TGL", "theia:product_id": pid, "datetime": f"{day}T10:37:19Z"},
            "links": [],
            "assets": {key: {**asset, "href": str(path), "title": f"FRE {b}",
                             "eo:bands": [{"name": b, "common_name": cn, "center_wavelength": wl}],
                             "raster:bands": [{"data_type": "int16", "nodata": -10000, "scale": 0.0001,
                                               "offset": 0.0}]}
                       for key, (path, b, cn, wl) in bands.items()},
        })
    return items


def ndvi(cube):
    return (cube.nir - cube.red) / (cube.nir + cube.red)


def median_ndvi(cube):
    return ndvi(cube).median("time")


def tiles_around(lat: float, lon: float, z: int, n: int = 2) -> list[tuple[int, int, int]]:
    k = 2**z
    cx = int((lon + 180) / 360 * k)
    cy = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * k)
    return [(z, cx + dx, cy + dy) for dx in range(n) for dy in range(n)]


def tiles_over(bbox: list[float], z: int, n: int = 4) -> list[tuple[int, int, int]]:
    """The ``n`` tiles of zoom ``z`` intersecting lon/lat ``bbox`` nearest its centre."""
    def xy(lon, lat):
        k = 2**z
        return (lon + 180) / 360 * k, (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * k
    west, south, east, north = bbox
    (x0, y0), (x1, y1) = xy(west, north), xy(east, south)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    found = [(z, x, y) for x in range(int(x0), int(x1) + 1) for y in range(int(y0), int(y1) + 1)]
    return sorted(found, key=lambda t: (t[1] + 0.5 - cx) ** 2 + (t[2] + 0.5 - cy) ** 2)[:n]


def _timed(fn):
    with _PeakRSS() as mem:
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
    return out, dt, mem.peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10980, help="scene side in pixels (default: a full tile)")
    ap.add_argument("--dir", default=os.environ.get("TERRA_LAB_BENCH_DIR", "/tmp/terra_lab_bench_pyramid"))
    args = ap.parse_args()

    import dask
    from rio_tiler.io import Reader

    from terra_lab.display._kernel_layer import KernelTileLayer
    from terra_lab.display._pyramid import Recipe
    from terra_lab.display._tile_cache import TileCache
    from terra_lab.display._tiles import Style, _png, colorize

    dask.config.set(num_workers=2)
    warnings.filterwarnings("ignore", "All-NaN slice")  # the median of the pixels past the scene's edge
    root = Path(args.dir) / str(args.size)
    red_p, nir_p = root / "red.tif", root / "nir.tif"
    if not (red_p.exists() and nir_p.exists()):
        t0 = time.perf_counter()
        red, nir = scene(args.size)
        write_cog(red_p, red)
        write_cog(nir_p, nir)
        del red, nir
        print(f"scene written in {time.perf_counter() - t0:.0f} s: {root} "
              f"({sum(p.stat().st_size for p in (red_p, nir_p)) / 2**20:.0f} MiB)")
    one = scene_items(red_p, nir_p, 1)
    many = scene_items(red_p, nir_p, 20)
    for p in (red_p, nir_p):  # both sides read from the page cache
        p.read_bytes()
    style = Style("RdYlGn", 0.0, 0.9)

    def rio_tile(z, x, y):
        with Reader(str(red_p)) as r, Reader(str(nir_p)) as n:
            a = r.tile(x, y, z).data[0].astype(np.float32)
            b = n.tile(x, y, z).data[0].astype(np.float32)
        with np.errstate(invalid="ignore", divide="ignore"):
            v = (b - a) / (b + a)
        v[(a == -10000) | (b == -10000)] = np.nan
        return _png(colorize(v, style))

    def new_layer(items, fn, name):
        return KernelTileLayer(Recipe(items, fn, bands=["red", "nir"], masks=False, name=name),
                               vmin=0, vmax=0.9, cmap="RdYlGn", cache=TileCache(256 * 2**20))

    rows, inits = [], []
    for z in (8, 10, 12):
        ours, theirs, nexts, peak_o, peak_t, level = [], [], [], 0.0, 0.0, None
        tiles = tiles_over(one[0]["bbox"], z)
        for i, tile in enumerate(tiles):
            layer, dt, _ = _timed(lambda: new_layer(one, ndvi, "NDVI"))
            inits.append(dt)
            _, dt, peak = _timed(lambda tile=tile, layer=layer: layer.tile(*tile))
            level = layer.level_for(*tile)
            ours.append(dt)
            other = tiles[(i + 1) % len(tiles)]  # a new tile of the same zoom on this layer (the level reused)
            nexts.append(_timed(lambda other=other, layer=layer: layer.tile(*other))[1])
            peak_o = max(peak_o, peak)
            _, dt, peak = _timed(lambda tile=tile: rio_tile(*tile))
            theirs.append(dt)
            peak_t = max(peak_t, peak)
        o, t = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
        rows.append({"case": f"NDVI tile z{z} (level x{2**level})", "ours ms": f"{o:.0f}", "rio-tiler ms": f"{t:.0f}",
                     "ratio": f"{o / t:.2f}x", "target": "<= 2x", "peak MiB (ours/rio)": f"{peak_o:.0f}/{peak_t:.0f}"})
        n = statistics.median(nexts) * 1000
        rows.append({"case": f"  next z{z} tile, same layer", "ours ms": f"{n:.0f}", "rio-tiler ms": f"{t:.0f}",
                     "ratio": f"{n / t:.2f}x", "target": "<= 2x", "peak MiB (ours/rio)": ""})

    rows.append({"case": "  (new recipe layer, once per add_layer)", "ours ms": f"{statistics.median(inits) * 1000:.0f}",
                 "rio-tiler ms": "-", "ratio": "-", "target": "", "peak MiB (ours/rio)": ""})
    tiles8 = tiles_over(one[0]["bbox"], 8)
    layer, dt_init, _ = _timed(lambda: new_layer(many, median_ndvi, "median NDVI"))
    _, dt_cold, peak_cold = _timed(lambda: layer.tile(*tiles8[0]))
    warm = []
    for _ in range(5):
        _, dt, peak_warm = _timed(lambda: layer.tile(*tiles8[0]))
        warm.append(dt)
    _, dt_next, _ = _timed(lambda: layer.tile(*tiles8[-1]))
    rows.append({"case": "20-date median NDVI z8, cold", "ours ms": f"{dt_cold * 1000:.0f}", "rio-tiler ms": "-",
                 "ratio": "-", "target": "< 2000 ms", "peak MiB (ours/rio)": f"{peak_cold:.0f}"})
    rows.append({"case": "  cold + new layer", "ours ms": f"{(dt_init + dt_cold) * 1000:.0f}", "rio-tiler ms": "-",
                 "ratio": "-", "target": "< 2000 ms", "peak MiB (ours/rio)": ""})
    rows.append({"case": "  same tile again (warm)", "ours ms": f"{statistics.median(warm) * 1000:.1f}",
                 "rio-tiler ms": "-", "ratio": "-", "target": "< 50 ms", "peak MiB (ours/rio)": f"{peak_warm:.0f}"})
    rows.append({"case": "  next tile, level in memory", "ours ms": f"{dt_next * 1000:.1f}", "rio-tiler ms": "-",
                 "ratio": "-", "target": "< 50 ms", "peak MiB (ours/rio)": ""})
    print(f"Map tiles of a {args.size} x {args.size} px scene (10 m, 2 int16 COG bands with overviews "
          f"x{OVERVIEWS[0]}..x{OVERVIEWS[-1]}), 2 dask threads;\nmedian of 4 tiles, each the first tile of a new layer "
          "(layer creation timed apart); both sides read the COGs from the page cache")
    print(table(rows, ["case", "ours ms", "rio-tiler ms", "ratio", "target", "peak MiB (ours/rio)"]))


if __name__ == "__main__":
    main()
