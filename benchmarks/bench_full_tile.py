"""A full-tile run: one Sentinel-2 tile and a year of dates through load -> snow L2B/L3B and
dieback -> map tiles, with time and peak memory.

The scene is generated once under ``--workdir`` as MUSCATE-like COGs (int16 reflectance,
-10000 nodata, deflate, internal overviews) on a UTM 31N tile grid at 20 m:

* per band (blue, green, red, nir08, swir16, swir22), four seasonal variants (snow down to a
  snowline that moves with the season) - each date's item points at its season's files;
* per date, its own CLM cloud mask (moving cloud fields), so every date differs;
* one DEM (a ramp from 500 to 3000 m across the tile).

STAC items for the dates are copies of a demo THEIA item pointing at these files, so the run
goes through :func:`terra_lab.load` exactly as real THEIA products do.  Then:

1. snow: ``snowline`` (per-date histograms, computed first), ``snow_l2b``, the annual
   ``snow_l3b`` (SCD, SOD, SMOD, NOBS) computed to memory;
2. dieback: ``forest_dieback`` (CR-SWIR, harmonic model trained on the first half year), its
   state, dieback date and confidence class computed to memory;
3. tiles: ``KernelTileLayer(...).tile(z, x, y)`` PNGs of the L3B snow duration and of the
   dieback state at zooms 8, 10 and 12 over the tile's centre.

Each stage prints its time and the peak resident memory of the process (threaded Dask
scheduler: the workers are this process' threads, so this is the peak of the whole run):
``peak RSS`` sampled every 2 ms during the stage (a sampler thread that numba/GDAL code
holding the GIL can starve) and ``max RSS so far`` (the kernel's exact high-water mark of the
process up to the end of the stage).  The snow stage is printed next to an estimate from one
date (L2B of date 0 x dates).  GDAL's block cache is bounded to 256 MB (``GDAL_CACHEMAX``).

Full tile (10980 x 10980 px at 10 m = 5490 x 5490 at 20 m), 65 dates (~1.3 GB on disk; about
an hour on 2 cores)::

    python benchmarks/bench_full_tile.py

Reduced: ``--fraction 0.5`` (a quarter of the tile's area, ~10 min on 2 cores), ``--fraction 0.2
--dates 24`` (a minute).  Measured 2026-11-30 on the 2-core machine, quarter tile, 65 dates:
snowlines 145 s, snow L2B + L3B 155 s (one-date estimate 279 s), dieback 220 s, map tiles
< 0.1 s; pipeline stages <= 0.95 GB, whole run 1.33 GB (the scene generation, before this
version generated it band by band).
"""

from __future__ import annotations

import argparse
import copy
import os
import resource
import sys
import time
from pathlib import Path

# GDAL's block cache defaults to 5 % of the RAM (1.2 GB here) and counts in the process' memory:
# bounded for the run (each chunk's windows are read once, so a large cache buys nothing).
os.environ.setdefault("GDAL_CACHEMAX", "256")  # MB; before rasterio loads GDAL

import dask
import numpy as np
import pandas as pd
import rasterio
import rioxarray
from rasterio.transform import from_origin

sys.path.insert(0, os.path.dirname(__file__))
from _util import _PeakRSS, table

import terra_lab
from terra_lab.display import KernelTileLayer
from terra_lab.products.dieback import forest_dieback
from terra_lab.products.snow import snow_l2b, snow_l3b, snowline

EPSG, X0, Y0 = 32631, 699960.0, 5000040.0  # tile T31TGK's upper-left corner
RES = 20.0
CHUNK = 264  # a multiple of LIS' 12-pixel (240 m) blocks
BANDS = {"blue": "FRE_B2", "green": "FRE_B3", "red": "FRE_B4", "nir08": "FRE_B8A", "swir16": "FRE_B11",
         "swir22": "FRE_B12"}
DIEBACK_MAPS = ("state", "dieback_date", "confidence_class")  # kept in memory (not the model coefficients)
SEASON_SNOWLINE = (2600.0, 1400.0, 1900.0, 3200.0)  # autumn, winter, spring, summer (m)


def _write_cog(path: Path, arr: np.ndarray, nodata: float | None) -> None:
    if path.exists():
        return
    tmp = path.with_suffix(".tmp.tif")
    n = arr.shape[0]
    profile = dict(driver="COG", width=n, height=n, count=1, dtype=arr.dtype.name, crs=f"EPSG:{EPSG}",
                   transform=from_origin(X0, Y0, RES, RES), compress="deflate", blocksize=512, overviews="auto",
                   resampling="nearest")
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(tmp, "w", **profile) as ds:
        ds.write(arr, 1)
    os.replace(tmp, path)  # atomic: an interrupted run leaves no half-written file


def _dem(n: int) -> np.ndarray:
    yy, xx = np.ogrid[0:n, 0:n]
    return (500 + 2500 * (xx + yy) / (2 * n)).astype(np.float32)


#: Reflectance of snow, and of the forest and of the ground where there is no snow.
_REFLECTANCE = {"blue": (0.85, 0.03, 0.03), "green": (0.8, 0.08, 0.08), "red": (0.75, 0.06, 0.06),
                "nir08": (0.6, 0.35, 0.25), "swir16": (0.05, 0.16, 0.22), "swir22": (0.04, 0.08, 0.15)}


def generate(workdir: Path, n: int, dates: pd.DatetimeIndex) -> None:
    """The COGs of the scene (skipped where already written), one float32 band in memory at a time
    (a full tile's arrays are 120 MB each; the generation stays under ~1 GB)."""
    workdir.mkdir(parents=True, exist_ok=True)
    names = ["dem.tif", *(f"s{s}_{b}.tif" for s in range(len(SEASON_SNOWLINE)) for b in _REFLECTANCE),
             *(f"clm_{k:03d}.tif" for k in range(len(dates)))]
    if all((workdir / name).exists() for name in names):
        return  # written by an earlier run (the arrays below cost ~40 s at a full tile)
    dem = _dem(n)
    _write_cog(workdir / "dem.tif", dem.astype(np.int16), None)
    rng = np.random.default_rng(0)
    texture = rng.normal(0, 0.01, (n, n)).astype(np.float32)
    yy, xx = np.ogrid[0:n, 0:n]
    yy, xx = yy.astype(np.float32), xx.astype(np.float32)  # broadcast (n, 1) and (1, n): no n x n grids
    forest = (np.sin(xx / 53.0) * np.cos(yy / 47.0)) > -0.3
    for s, line in enumerate(SEASON_SNOWLINE):
        snow = dem > line
        for band, (v_snow, v_forest, v_ground) in _REFLECTANCE.items():
            path = workdir / f"s{s}_{band}.tif"
            if path.exists():
                continue
            v = np.where(snow, np.float32(v_snow), np.where(forest, np.float32(v_forest), np.float32(v_ground)))
            dn = np.clip((v + texture) * 10000, 1, 10000).astype(np.int16)
            del v
            _write_cog(path, dn, None)  # no nodata tag, as MUSCATE's
    for k in range(len(dates)):
        path = workdir / f"clm_{k:03d}.tif"
        if not path.exists():
            cloud = (np.sin(xx / 71.0 + k * 1.3) * np.cos(yy / 59.0 - k * 0.7)) > 0.55
            _write_cog(path, np.where(cloud, np.uint8(2), np.uint8(0)), None)


def _season(day: pd.Timestamp) -> int:
    return {9: 0, 10: 0, 11: 0, 12: 1, 1: 1, 2: 1, 3: 2, 4: 2, 5: 2}.get(day.month, 3)


def items_for(template: dict, workdir: Path, n: int, dates: pd.DatetimeIndex) -> list[dict]:
    """STAC items of the dates: copies of a demo THEIA item pointing at the generated files."""
    from pyproj import Transformer

    t = Transformer.from_crs(EPSG, 4326, always_xy=True)
    w, s, e, nn = t.transform_bounds(X0, Y0 - n * RES, X0 + n * RES, Y0)
    asset_grid = {"proj:epsg": EPSG, "proj:shape": [n, n], "proj:transform": [RES, 0.0, X0, 0.0, -RES, Y0, 0, 0, 1]}
    out = []
    for k, day in enumerate(dates):
        it = copy.deepcopy(template)
        stamp = day.strftime("%Y%m%d-103719-356")
        it["id"] = template["id"].replace(template["id"].split("_")[1], stamp)
        it["properties"] = {**it["properties"], "datetime": day.strftime("%Y-%m-%dT10:37:19Z"), "eo:cloud_cover": 20.0}
        for key in ("proj:shape", "proj:transform"):
            it["properties"].pop(key, None)
        it["bbox"] = [w, s, e, nn]
        it["geometry"] = {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, nn], [w, nn], [w, s]]]}
        season = _season(day)
        assets = {key: {**template["assets"][key], **asset_grid, "href": str(workdir / f"s{season}_{band}.tif")}
                  for band, key in BANDS.items()}
        assets["CLM_R2"] = {**template["assets"]["CLM_R2"], **asset_grid, "href": str(workdir / f"clm_{k:03d}.tif")}
        it["assets"] = assets
        out.append(it)
    return out


def _timed(label: str, fn, rows: list[dict], **extra):
    with _PeakRSS() as mem:
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
    so_far = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # exact, even when the sampler starves
    rows.append({"stage": label, "time s": f"{dt:.1f}", "peak RSS MiB": f"{(mem.start + mem.peak) / 2**20:.0f}",
                 "max RSS so far MiB": f"{so_far:.0f}", **extra})
    print(f"  {label}: {dt:.1f} s", flush=True)
    return out, dt


def _snow_stages(items, cube, dem, chunks, win, n_dates: int, mpx: float, rows: list[dict]):
    """Snow L2B of one date (the per-date estimate), the snowlines of every date, then L2B + L3B."""
    snow_l3b(snow_l2b(cube.isel(win), dem.isel(win)), 2023).compute()  # numba compiles here, not in a timed stage
    one = terra_lab.load(items[:1], bands=["green", "red", "swir16"], resolution=RES, raw_masks=True,
                         chunks=chunks)  # its own cube: a slice of `cube` would read every date of a chunk
    _, t_one = _timed("snow L2B of one date (for the estimate)",
                      lambda: snow_l2b(one, dem, snowlines=snowline(one, dem).compute()).compute(), rows)
    lines, t_lines = _timed("snowlines, every date", lambda: snowline(cube, dem).compute(), rows)
    l3b, t_l3b = _timed("snow L2B + L3B (SCD, SOD, SMOD, NOBS)",
                        lambda: snow_l3b(snow_l2b(cube, dem, snowlines=lines), 2023).compute(), rows)
    rows[-1]["Mpx/s"] = f"{mpx / (t_lines + t_l3b):.1f}"
    rows[-1]["estimate s"] = f"{t_one * n_dates:.1f} (one date x {n_dates})"
    return l3b


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=10980, help="tile side in 10 m pixels (10980: a Sentinel-2 tile)")
    p.add_argument("--fraction", type=float, default=None,
                   help="tile side as a fraction of a full tile (0.5: a quarter tile); overrides --size")
    p.add_argument("--dates", type=int, default=65, help="dates over the 2023-24 hydrological year")
    p.add_argument("--workdir", default="/tmp/terra_lab_full_tile")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--stages", default="snow,dieback",
                   help="comma-separated products to run and tile: snow, dieback (both by default)")
    args = p.parse_args()
    stages = set(args.stages.split(","))
    if not stages or stages - {"snow", "dieback"}:
        p.error(f"--stages {args.stages!r}: give snow, dieback or snow,dieback")
    if args.fraction is not None:
        args.size = int(round(10980 * args.fraction / 24)) * 24  # whole 240 m blocks
    n = args.size // 2  # 20 m pixels
    dates = pd.date_range("2023-09-03", "2024-08-28", periods=args.dates).normalize()
    workdir = Path(args.workdir) / f"{n}px_{args.dates}d"
    print(f"Full-tile run: {n} x {n} px at 20 m ({args.size} at 10 m), {args.dates} dates, {args.threads} threads")
    rows: list[dict] = []
    _timed("generate COGs (once; skipped when present)", lambda: generate(workdir, n, dates), rows)
    demo = terra_lab.catalog.open("demo").search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A")
    template = next(it for it in demo if "_T31TGK_" in it["id"])
    items = items_for(template, workdir, n, dates)
    mpx = n * n * args.dates / 1e6

    with dask.config.set(scheduler="threads", num_workers=args.threads):
        chunks = {"time": -1, "y": CHUNK, "x": CHUNK}
        (cube, dem), _ = _timed("load graph (snow: green, red, swir16 + CLM)", lambda: (
            terra_lab.load(items, bands=["green", "red", "swir16"], resolution=RES, raw_masks=True, chunks=chunks),
            rioxarray.open_rasterio(workdir / "dem.tif", chunks=CHUNK).squeeze("band", drop=True)), rows)
        dem = dem.assign_coords(x=cube["x"], y=cube["y"])
        win = {"y": slice(0, 24), "x": slice(0, 24)}  # numba compiles the kernels here, not in a timed stage
    layers: dict[str, KernelTileLayer] = {}
    with dask.config.set(scheduler="threads", num_workers=args.threads):
        if "snow" in stages:
            l3b = _snow_stages(items, cube, dem, chunks, win, args.dates, mpx, rows)
            print(f"  snow: {float((l3b['SCD'] > 0).mean()):.0%} of pixels with snow days")
            layers["SCD"] = KernelTileLayer(l3b["SCD"].rio.write_crs(EPSG), cmap="Blues", vmin=0, vmax=365)
        if "dieback" in stages:
            dcube = terra_lab.load(items, bands=["blue", "nir08", "swir16", "swir22"], resolution=RES, chunks=chunks)
            forest_dieback(dcube.isel(win), training_end="2024-03-01", training_max_end="2024-05-01").compute()
            maps = forest_dieback(dcube, training_end="2024-03-01", training_max_end="2024-05-01")[list(DIEBACK_MAPS)]
            dieback, t_d = _timed("dieback (fordead, CR-SWIR)", maps.compute, rows)
            rows[-1]["Mpx/s"] = f"{mpx / t_d:.1f}"
            print(f"  dieback variables {list(dieback.data_vars)}")
            layers["dieback"] = KernelTileLayer(dieback["state"].rio.write_crs(EPSG))
    lon, lat = (np.mean(items[0]["bbox"][0::2]), np.mean(items[0]["bbox"][1::2]))
    for z in (8, 10, 12):
        nt = 2 ** z
        x = int((lon + 180) / 360 * nt)
        y = int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * nt)
        for name, layer in layers.items():
            png, _ = _timed(f"map tile z{z} {name}", lambda layer=layer, z=z, x=x, y=y: layer.tile(z, x, y), rows)
            rows[-1]["PNG bytes"] = str(len(png or b""))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print()
    print(table(rows, ["stage", "time s", "estimate s", "Mpx/s", "peak RSS MiB", "max RSS so far MiB", "PNG bytes"]))
    print(f"peak resident memory of the whole run (process, threaded workers included): {peak:.0f} MiB "
          f"(target < 4096 MiB); disk: {sum(f.stat().st_size for f in workdir.iterdir()) / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
