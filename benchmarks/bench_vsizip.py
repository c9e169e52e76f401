"""Reading zipped products in place through GDAL's /vsizip/ vs the same products unzipped.

THEIA and GEODES deliver each product as one .zip; ``terra-lab ingest PRODUCT.zip`` indexes it
without extracting it (hrefs ``/vsizip/PRODUCT.zip/...``).  This measures what that costs, for
terra_lab.load(...).compute() and for a plain rasterio read of the same files, with the zip
members stored (the demo's zips: the GeoTIFFs inside are already deflate-compressed) and
deflated (a zip tool's default).  Target: /vsizip/ within 1.5x of the unzipped read.

Run: ``python benchmarks/bench_vsizip.py`` (after ``make demo``).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import zipfile
from pathlib import Path

import dask
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _util import measure, read_muscate, table

import terra_lab
from terra_lab.catalog._ingest import items_from_zip
from terra_lab.catalog._theia_items import item_from_product

BANDS = ["blue", "green", "red", "nir", "swir16", "swir22"]
KEYS = ["FRE_B2", "FRE_B3", "FRE_B4", "FRE_B8", "FRE_B11", "FRE_B12"]
N_PRODUCTS = 24
ROUNDS = 7


def _zip(pdir: Path, dest: Path, compression: int) -> Path:
    z = dest / f"{pdir.name}.zip"
    with zipfile.ZipFile(z, "w", compression) as zf:
        for f in sorted(pdir.rglob("*")):
            zf.write(f, f.relative_to(pdir.parent).as_posix())
    return z


def main() -> None:
    demo = terra_lab.catalog.open("demo").search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A")
    folders = [Path(it["assets"]["FRE_B2"]["href"]).parent for it in demo
               if "_T31TGK_" in it["id"] and not it["assets"]["FRE_B2"]["href"].startswith("/vsizip/")][:N_PRODUCTS]
    tmp = Path(tempfile.mkdtemp(prefix="bench-vsizip-"))
    try:
        variants = {"unzipped folders": [item_from_product(p, collection="B") for p in folders]}
        for label, comp in (("zip, stored members", zipfile.ZIP_STORED), ("zip, deflated members", zipfile.ZIP_DEFLATED)):
            d = tmp / label.split()[-2]
            d.mkdir()
            variants[f"/vsizip/ ({label})"] = [it for p in folders for it in items_from_zip(_zip(p, d, comp), collection="B")]
        mb = None

        def load(items):
            cube = terra_lab.load(items, bands=BANDS, resolution=10, masks=False, group_by=None)
            with dask.config.set(scheduler="threads", num_workers=2):
                return cube.compute()

        def raw(items):
            return read_muscate([it["assets"][k]["href"] for it in items for k in KEYS])

        ref = load(variants["unzipped folders"])
        mb = sum(ref[b].nbytes for b in BANDS) / 2**20
        for items in variants.values():  # identical pixels whatever the container
            got = load(items)
            for b in BANDS:
                np.testing.assert_array_equal(got[b].values, ref[b].values)
        rows = []
        for what, fn in (("terra_lab.load", load), ("rasterio read", raw)):
            # rounds interleave the variants, so that a load drifting on a shared machine hits them alike
            runs = {name: [measure(lambda: fn(items), repeat=1, warmup=1)] for name, items in variants.items()}
            for _ in range(ROUNDS - 1):
                for name, items in variants.items():
                    runs[name].append(measure(lambda: fn(items), repeat=1, warmup=0))
            base = min(r["best"] for r in runs["unzipped folders"])
            for name, rs in runs.items():
                best, median = min(r["best"] for r in rs), statistics.median(r["best"] for r in rs)
                rows.append({"read": what, "products": name, "MB out": f"{mb:.0f}", "best s": f"{best:.2f}",
                             "median s": f"{median:.2f}", "vs unzipped": f"{best / base:.2f}x",
                             "peak MiB": f"{max(r['peak_mib'] for r in rs):.0f}"})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(folders)} demo products x {len(BANDS)} bands at 10 m (400 x 400 px; 20 m bands upsampled), 2 threads")
    print(table(rows, ["read", "products", "MB out", "best s", "median s", "vs unzipped", "peak MiB"]))
    print("vs unzipped = time relative to the same read of the unzipped folders (target: <= 1.5x)")


if __name__ == "__main__":
    main()
