"""Relief change against its comparisons: Nuth & Kääb vs ``xdem.coreg.NuthKaab``, coloured relief vs ``gdaldem``.

Two generated float32 DEMs (smooth hills plus noise, the second shifted by (7, -4) m and raised by
3 m, 20 m pixels) are written as GeoTIFFs; both sides read them:

* fit: ours (:func:`terra_lab.products.relief.nuth_kaab`, up to 500 000 stable pixels) vs
  ``xdem.coreg.NuthKaab().fit`` (its default 500 000-pixel subsample); the shifts found are printed
  next to the truth;
* apply: the co-registered elevation change of the whole raster, ours (lazy, Dask 2 threads,
  512-pixel chunks) vs ``NuthKaab.apply`` then ``dem - ref`` in xdem;
* colour relief: ours (multidirectional shade x colour ramp, lazy) vs ``gdaldem hillshade
  -multidirectional`` plus ``gdaldem color-relief`` (two subprocesses writing GeoTIFFs; ours does
  the blend on top, which GDAL alone cannot).

Run: ``python benchmarks/bench_relief.py [--size 2000] [--update-baseline]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import dask
import numpy as np
import rasterio
import rioxarray
from rasterio.transform import from_origin

sys.path.insert(0, os.path.dirname(__file__))
from _util import check_baseline, measure, row

from terra_lab.products import relief as R

SHIFT, BIAS, RES = (7.0, -4.0), 3.0, 20.0
RAMP = ((500.0, 46, 125, 50), (1500.0, 200, 180, 110), (2500.0, 255, 255, 255))


def write_pair(folder: Path, size: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    x0, y0 = 700_000.0, 5_000_000.0
    xs = x0 + (np.arange(size) + 0.5) * RES
    ys = y0 - (np.arange(size) + 0.5) * RES
    gx, gy = np.meshgrid(xs, ys)

    def terrain(x, y):
        return (1500 + 400 * np.sin(x / 2300.0) * np.cos(y / 3100.0) + 150 * np.sin((x + y) / 900.0)
                + 60 * np.cos(x / 410.0) * np.sin(y / 370.0))

    out = []
    for name, z in (("ref", terrain(gx, gy)), ("dem", terrain(gx - SHIFT[0], gy - SHIFT[1]) + BIAS)):
        z = (z + rng.normal(0, 0.5, z.shape)).astype(np.float32)
        path = folder / f"{name}.tif"
        with rasterio.open(path, "w", driver="GTiff", width=size, height=size, count=1, dtype="float32",
                           crs="EPSG:32631", transform=from_origin(x0, y0, RES, RES), nodata=-9999.0,
                           tiled=True) as ds:
            ds.write(z, 1)
        out.append(path)
    return out[0], out[1]


def _open(path: Path, chunks=None):
    return rioxarray.open_rasterio(path, chunks=chunks, masked=True).squeeze("band", drop=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=2000)
    p.add_argument("--update-baseline", action="store_true")
    args = p.parse_args()
    import xdem

    warnings.filterwarnings("ignore")
    rows = []
    with tempfile.TemporaryDirectory() as tmp, dask.config.set(scheduler="threads", num_workers=2):
        ref_p, dem_p = write_pair(Path(tmp), args.size)
        ref, dem = _open(ref_p), _open(dem_p)
        x_ref, x_dem = xdem.DEM(str(ref_p)), xdem.DEM(str(dem_p))

        def ours_fit():
            return R.nuth_kaab(ref, dem)

        def xdem_fit():
            nk = xdem.coreg.NuthKaab()
            nk.fit(x_ref, x_dem, random_state=0)
            return nk

        mine, theirs = ours_fit(), xdem_fit()
        out = theirs.meta["outputs"]["affine"]
        gap = np.hypot(mine.shift_x + out["shift_x"], mine.shift_y + out["shift_y"]) / RES
        print(f"shift (x, y, z) m: truth ({SHIFT[0]}, {SHIFT[1]}, {BIAS}); ours ({mine.shift_x:.3f}, "
              f"{mine.shift_y:.3f}, {mine.shift_z:.3f}); xdem ({-out['shift_x']:.3f}, {-out['shift_y']:.3f}, "
              f"{-out['shift_z']:.3f}); |ours - xdem| = {gap:.4f} px")
        rows.append(row("relief: Nuth & Kaab fit vs xdem NuthKaab.fit", measure(ours_fit), measure(xdem_fit)))

        lref, ldem = _open(ref_p, {"x": 512, "y": 512}), _open(dem_p, {"x": 512, "y": 512})

        def ours_apply():
            return R.dem_difference(lref, R.coregister(lref, ldem, mine)).values

        def xdem_apply():
            return (theirs.apply(x_dem).reproject(x_ref) - x_ref).data

        n_ours, n_xdem = R.nmad(ours_apply()), float(xdem.spatialstats.nmad(xdem_apply().compressed()))
        print(f"NMAD of the co-registered dh: ours {n_ours:.3f} m, xdem {n_xdem:.3f} m (before {mine.nmad_before:.3f})")
        rows.append(row("relief: co-registered dh vs xdem apply - ref", measure(ours_apply), measure(xdem_apply)))

        gdaldem = shutil.which("gdaldem")
        if gdaldem is None:
            print("gdaldem is missing (bash scripts/setup-system.sh): colour relief row skipped")
        else:
            ramp_file = Path(tmp) / "ramp.txt"
            ramp_file.write_text("\n".join(" ".join(str(v) for v in r) for r in RAMP))

            def ours_relief():
                return R.colour_relief(lref, ramp=RAMP).values

            def gdal_relief():
                for cmd in (["hillshade", "-multidirectional", str(ref_p), str(Path(tmp) / "h.tif")],
                            ["color-relief", str(ref_p), str(ramp_file), str(Path(tmp) / "c.tif")]):
                    subprocess.run([gdaldem, *cmd, "-q"], check=True, capture_output=True)

            rows.append(row("relief: colour multidirectional relief vs gdaldem hillshade + color-relief",
                            measure(ours_relief), measure(gdal_relief)))
    print(f"DEMs {args.size} x {args.size} px float32")
    check_baseline("bench_relief", rows, config=f"{args.size} px", update=args.update_baseline)


if __name__ == "__main__":
    main()
