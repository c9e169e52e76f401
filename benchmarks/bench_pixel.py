"""Per-pixel product families against their independent comparisons (the ones their tests use).

* masks: :func:`decode_clm` + :func:`cloud_percentage` vs plain numpy bit tests (``(clm >> bit) & 1``).
* indices: :func:`spectral_index` (NDVI, NDSI) vs ``spyndex.computeIndex`` on the same numpy arrays.
* albedo: :func:`broadband_albedo` (Bonafoni) vs the published weighted sum written in numpy.
* water: :func:`water_mask` (MNDWI, per-date Otsu) vs numpy MNDWI + ``skimage.filters.threshold_otsu``.

Ours runs lazily under Dask (2 threads) on a (time=1, y=256, x=256)-chunked cube; the
comparisons on in-memory numpy arrays.  Ratio = ours / comparison (see ``_util.check_baseline``);
the comparisons take tens of ms, so each side is the best of 5 runs to keep the ratios steady.

Run: ``python benchmarks/bench_pixel.py [--size 768] [--dates 12] [--update-baseline]``.
"""

from __future__ import annotations

import argparse
import os
import sys

import dask
import numpy as np
import spyndex
import xarray as xr
from skimage.filters import threshold_otsu

sys.path.insert(0, os.path.dirname(__file__))
from _util import check_baseline, measure, row

from terra_lab.products.albedo import broadband_albedo
from terra_lab.products.indices import spectral_index
from terra_lab.products.masks import CLM_BITS, cloud_percentage, decode_clm
from terra_lab.products.water import water_mask

BANDS = ("blue", "green", "red", "nir", "swir16", "swir22")
COEF = {"blue": 0.2266, "green": 0.1236, "red": 0.1573, "nir": 0.3417, "swir16": 0.1170, "swir22": 0.0338}


def make_cube(size: int, dates: int, seed: int = 0) -> xr.Dataset:
    """Reflectances with a lake (bimodal MNDWI), random CLM bits and a no-data edge."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    lake = (yy - size / 2) ** 2 + (xx - size / 3) ** 2 < (size / 4) ** 2
    shape = (dates, size, size)
    data = {}
    for i, b in enumerate(BANDS):
        land = 0.05 + 0.05 * i + rng.normal(0, 0.02, shape)
        water = 0.06 - 0.01 * i + rng.normal(0, 0.005, shape)
        data[b] = np.where(lake, water, land).clip(0.001, 1).astype(np.float32)
    clm = rng.integers(0, 256, shape, dtype=np.uint8) * (rng.random(shape) < 0.3)
    data["CLM"] = clm.astype(np.uint8)
    cloud = (clm & 0b00000110) != 0
    edge = np.zeros(shape, bool)
    edge[:, :, : size // 20] = True
    cube = xr.Dataset({k: (("time", "y", "x"), v) for k, v in data.items()},
                      coords={"time": np.arange(dates), "y": np.arange(size), "x": np.arange(size)})
    cube["cloud"] = (("time", "y", "x"), cloud)
    cube["shadow"] = (("time", "y", "x"), (clm & 0b00001000) != 0)
    cube["edge"] = (("time", "y", "x"), edge)
    return cube


def numpy_masks(v: dict) -> np.ndarray:
    clm, valid = v["CLM"], ~v["edge"]
    flags = [(clm >> bit) & 1 == 1 for bit in CLM_BITS]  # every layer decoded, as decode_clm does
    cloudy = np.logical_or.reduce(flags)
    return 100.0 * (cloudy & valid).sum((1, 2)) / valid.sum((1, 2))


def ours_masks(cube: xr.Dataset):
    return dask.compute(decode_clm(cube["CLM"]), cloud_percentage(cube))


def numpy_water(v: dict) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        mndwi = (v["green"] - v["swir16"]) / (v["green"] + v["swir16"])
    clear = ~(v["cloud"] | v["shadow"] | v["edge"]) & np.isfinite(mndwi)
    out = np.zeros(mndwi.shape, bool)
    for t in range(mndwi.shape[0]):
        thr = threshold_otsu(mndwi[t][clear[t]])
        out[t] = (mndwi[t] > thr) & clear[t]
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=768)
    p.add_argument("--dates", type=int, default=12)
    p.add_argument("--update-baseline", action="store_true")
    args = p.parse_args()
    cube = make_cube(args.size, args.dates)
    lazy = cube.chunk(time=1, y=256, x=256)
    v = {k: cube[k].values for k in cube.data_vars}
    cases = {
        "masks: decode_clm + cloud_percentage vs numpy bit tests": (
            lambda: ours_masks(lazy), lambda: numpy_masks(v)),
        "indices: NDVI + NDSI vs spyndex.computeIndex": (
            lambda: dask.compute(spectral_index(lazy, "NDVI"), spectral_index(lazy, "NDSI")),
            lambda: spyndex.computeIndex(["NDVI", "NDSI"], params={"N": v["nir"], "R": v["red"], "G": v["green"],
                                                                   "S1": v["swir16"]})),
        "albedo: Bonafoni vs numpy weighted sum": (
            lambda: broadband_albedo(lazy).compute(), lambda: sum(c * v[b] for b, c in COEF.items())),
        "water: MNDWI + Otsu vs numpy + skimage threshold_otsu": (
            lambda: water_mask(lazy, threshold="otsu").compute(), lambda: numpy_water(v)),
    }
    # agreement first: a benchmark of two different answers is meaningless
    np.testing.assert_allclose(cloud_percentage(lazy).compute().values, numpy_masks(v), rtol=1e-6)
    np.testing.assert_allclose(broadband_albedo(lazy).compute().values, sum(c * v[b] for b, c in COEF.items()),
                               rtol=1e-5)
    agree = float(np.mean(water_mask(lazy, threshold="otsu").compute().values == numpy_water(v)))
    print(f"{args.dates} dates x {args.size} x {args.size} px; water mask agreement with skimage Otsu: "
          f"{100 * agree:.2f} % of pixel-dates")
    rows = []
    with dask.config.set(scheduler="threads", num_workers=2):
        for key, (ours, theirs) in cases.items():
            rows.append(row(key, measure(ours, repeat=5), measure(theirs, repeat=5)))
    check_baseline("bench_pixel", rows, config=f"{args.size} px x {args.dates} dates", update=args.update_baseline)


if __name__ == "__main__":
    main()
