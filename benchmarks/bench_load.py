"""Loading throughput: terra_lab.load(...).compute() vs a plain rasterio read vs odc-stac.

All three read the same demo items and bands and deliver float32 reflectance with NaN for
nodata, using 2 threads (this machine's cores).  The rasterio read is the practical limit:
it does nothing but open, decode and scale each file.

Run: ``python benchmarks/bench_load.py`` (after ``make demo``).
"""

from __future__ import annotations

import os
import sys

import dask
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _util import measure, read_muscate, table  # noqa: E402

import terra_lab  # noqa: E402

BANDS = ["blue", "green", "red", "nir"]
KEYS = ["FRE_B2", "FRE_B3", "FRE_B4", "FRE_B8"]


def main() -> None:
    items = [it for it in terra_lab.catalog.open("demo").search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A") if "_T31TGK_" in it["id"]]
    n = len(items)

    def ours(chunks=None):
        cube = terra_lab.load(items, bands=BANDS, resolution=10, masks=False, group_by=None, chunks=chunks)
        with dask.config.set(scheduler="threads", num_workers=2):
            return cube.compute()

    def raw():
        return read_muscate([it["assets"][k]["href"] for it in items for k in KEYS])

    def odc():
        import odc.stac
        import pystac

        pitems = [pystac.Item.from_dict(it) for it in items]
        # the files carry no nodata tag (as MUSCATE's): odc-stac takes -10000 from raster:bands and fills
        # with it; raw DNs in float32, then nodata -> NaN and scaled like the others
        ds = odc.stac.load(pitems, bands=KEYS, crs="EPSG:32631", resolution=10, chunks={"x": 1024, "y": 1024},
                           groupby="id", dtype="float32")
        with dask.config.set(scheduler="threads", num_workers=2):
            return (ds.where(ds != -10000) * np.float32(1e-4)).compute()

    check = ours()
    mb = sum(check[b].nbytes for b in BANDS) / 2**20
    ref = odc()
    np.testing.assert_allclose(check["red"].values, ref["FRE_B4"].values, rtol=1e-6)  # same pixels
    rows = []
    runs = (
        ("terra_lab.load chunks='auto'", lambda: ours("auto")),
        ("terra_lab.load default (1 date/chunk)", ours),
        ("rasterio read (practical limit)", raw),
        ("odc-stac", odc),
    )
    results = {name: measure(fn, repeat=5) for name, fn in runs}
    limit = results["rasterio read (practical limit)"]["best"]
    for name, r in results.items():
        rows.append({
            "method": name, "items": n, "MB out": f"{mb:.0f}", "best s": f"{r['best']:.2f}",
            "median s": f"{r['median']:.2f}", "MB/s": f"{mb / r['best']:.0f}",
            "vs raw read": f"{limit / r['best']:.2f}x", "peak MiB": f"{r['peak_mib']:.0f}",
        })
    print(f"Loading {n} demo items x {len(BANDS)} bands at 10 m (400 x 400 px), 2 threads")
    print(table(rows, ["method", "items", "MB out", "best s", "median s", "MB/s", "vs raw read", "peak MiB"]))
    print("vs raw read = throughput relative to the plain rasterio read (target for terra_lab: >= 0.8x)")


if __name__ == "__main__":
    main()
