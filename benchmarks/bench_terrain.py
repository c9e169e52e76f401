"""Terrain (slope, aspect, hillshade) against GDAL's own ``gdaldem``, as ``tests/test_products_terrain.py``.

Both sides read the same float32 GeoTIFF DEM (hills, noise, plateaus, no-data holes) and produce
the full result: ours through ``rioxarray.open_rasterio`` + :mod:`terra_lab.products.terrain`
(numba under Dask, 2 threads, 512-pixel chunks), gdaldem as a subprocess writing a GeoTIFF
(its process start, a few ms, is included: it is how the tests and users call it).

Run: ``python benchmarks/bench_terrain.py [--size 2048] [--update-baseline]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import dask
import numpy as np
import rasterio
import rioxarray
from rasterio.transform import Affine

sys.path.insert(0, os.path.dirname(__file__))
from _util import check_baseline, measure, row

from terra_lab.products.terrain import aspect, hillshade, slope

CASES = [("hillshade", ["hillshade"], hillshade, {}),
         ("hillshade multidirectional", ["hillshade", "-multidirectional"], hillshade, {"mode": "multidirectional"}),
         ("slope", ["slope"], slope, {}),
         ("aspect", ["aspect"], aspect, {})]


def write_dem(path: Path, size: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    z = 800 + 300 * np.sin(xx / 57.0) * np.cos(yy / 73.0) + 0.8 * xx + rng.normal(0, 2.0, (size, size))
    z[size // 8: size // 4, size // 8: size // 3] = 950.0
    z[rng.random((size, size)) < 0.002] = -9999.0
    profile = dict(driver="GTiff", width=size, height=size, count=1, dtype="float32", crs="EPSG:32631",
                   transform=Affine(10.0, 0, 700000.0, 0, -10.0, 5000000.0), nodata=-9999.0, tiled=True)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(z.astype(np.float32), 1)
    return path


def gdaldem(src: Path, args: list[str], dst: Path) -> np.ndarray:
    subprocess.run([shutil.which("gdaldem") or "gdaldem", args[0], str(src), str(dst), *args[1:], "-q"],
                   check=True, capture_output=True)
    with rasterio.open(dst) as ds:
        return ds.read(1)


def ours(src: Path, fn, kwargs: dict) -> np.ndarray:
    dem = rioxarray.open_rasterio(src, chunks={"x": 512, "y": 512}).isel(band=0, drop=True)
    return fn(dem, **kwargs).values


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--update-baseline", action="store_true")
    args = p.parse_args()
    if shutil.which("gdaldem") is None:
        sys.exit("gdaldem is missing: run bash scripts/setup-system.sh")
    rows = []
    with tempfile.TemporaryDirectory() as tmp, dask.config.set(scheduler="threads", num_workers=2):
        src = write_dem(Path(tmp) / "dem.tif", args.size)
        dst = Path(tmp) / "out.tif"
        for key, gargs, fn, kwargs in CASES:
            ref = gdaldem(src, gargs, dst).astype(np.float64)
            mine = ours(src, fn, kwargs).astype(np.float64)
            both = np.isfinite(mine) & (ref != -9999)
            diff = float(np.max(np.abs(mine[both] - ref[both])))
            print(f"{key}: max |ours - gdaldem| = {diff:.3g} on {both.sum()} pixels")
            rows.append(row(f"terrain: {key} vs gdaldem", measure(lambda: ours(src, fn, kwargs)),
                            measure(lambda: gdaldem(src, gargs, dst))))
    print(f"DEM {args.size} x {args.size} px float32")
    check_baseline("bench_terrain", rows, config=f"{args.size} px", update=args.update_baseline)


if __name__ == "__main__":
    main()
