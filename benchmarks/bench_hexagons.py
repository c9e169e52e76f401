"""Hexagon aggregation (:func:`aggregate_hexagons`) against two independent ways of doing the same sums.

* rasterize: ``rasterio.features.rasterize`` of the hexagon polygons + ``np.bincount`` of the pixel
  values per hexagon (the reference of ``tests/test_products_hexagons.py``);
* pandas: ``DataFrame.groupby(["q", "r"]).agg(count, sum, mean)`` on the hexagon ids of every pixel.

The hexagon polygons and ids are made once before timing, so the comparisons time the aggregation
only; ours does it all (ids, per-block sums, polygons, GeoDataFrame).  Dask: 2 threads, 512-px chunks.
Run: ``python benchmarks/bench_hexagons.py [--size 1024] [--hex 500] [--update-baseline]``.
"""

from __future__ import annotations

import argparse
import os
import sys

import dask
import numpy as np
import pandas as pd
import rioxarray  # noqa: F401 - registers .rio
import xarray as xr
from rasterio import features

sys.path.insert(0, os.path.dirname(__file__))
from _util import check_baseline, measure, row

from terra_lab.products.hexagons import aggregate_hexagons, hexagon_index

STATS = ["count", "sum", "mean"]


def raster(size: int, res: float = 20.0, seed: int = 0) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    da = xr.DataArray(rng.random((size, size)).astype(np.float32), dims=("y", "x"), name="v",
                      coords={"y": 5012400.0 - res * (np.arange(size) + 0.5), "x": 757200.0 + res * (np.arange(size) + 0.5)})
    return da.rio.write_crs(32631)


def by_rasterize(hexes, da: xr.DataArray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids = features.rasterize(zip(hexes.geometry, np.arange(len(hexes)) + 1), out_shape=da.shape,
                             transform=da.rio.transform(), all_touched=False)
    n = len(hexes) + 1
    return np.bincount(ids.ravel(), minlength=n)[1:], np.bincount(ids.ravel(), weights=values, minlength=n)[1:]


def by_pandas(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.groupby(["q", "r"])["v"].agg(["count", "sum", "mean"])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--hex", type=float, default=500.0, help="hexagon size (m)")
    p.add_argument("--update-baseline", action="store_true")
    args = p.parse_args()
    da = raster(args.size)
    lazy = da.chunk(y=512, x=512)
    values = da.values.ravel().astype(np.float64)
    with dask.config.set(scheduler="threads", num_workers=2):
        hexes = aggregate_hexagons(lazy, args.hex, stats=STATS)
        idx = hexagon_index(lazy, args.hex).compute()
    frame = pd.DataFrame({"q": idx["q"].values.ravel(), "r": idx["r"].values.ravel(), "v": values})
    counts, sums = by_rasterize(hexes, da, values)
    np.testing.assert_array_equal(counts, hexes["count"])
    np.testing.assert_allclose(sums, hexes["sum"], rtol=1e-9)
    ref = by_pandas(frame)
    got = hexes.set_index(["q", "r"]).loc[ref.index]
    np.testing.assert_allclose(got["sum"], ref["sum"], rtol=1e-9)
    print(f"{args.size} x {args.size} px into {len(hexes)} hexagons of {args.hex:g} m; "
          "counts and sums equal rasterize + bincount and pandas groupby")
    with dask.config.set(scheduler="threads", num_workers=2):
        ours = measure(lambda: aggregate_hexagons(lazy, args.hex, stats=STATS))
    rows = [row("hexagons: aggregate_hexagons vs rasterize + bincount", ours,
                measure(lambda: by_rasterize(hexes, da, values))),
            row("hexagons: aggregate_hexagons vs pandas groupby of the ids", ours, measure(lambda: by_pandas(frame)))]
    check_baseline("bench_hexagons", rows, config=f"{args.size} px, {args.hex:g} m", update=args.update_baseline)


if __name__ == "__main__":
    main()
