"""Graph construction for 1,000 items, and catalogue search latency on 100,000 indexed items.

Targets (issue 2): load() graph for 1,000 items under 1 s; search median under 100 ms.

Run: ``python benchmarks/bench_catalog.py`` (after ``make demo``).  The 100,000-item
catalogue is generated once (from demo items moved across France and 2016-2024) under
``$TERRA_LAB_HOME/bench/``.
"""

from __future__ import annotations

import copy
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _util import measure, table

import terra_lab
from terra_lab._paths import data_home
from terra_lab.catalog import LocalCatalog


def _shifted(item: dict, k: int, dx: float = 0.0, dy: float = 0.0, years: int = 0, cloud: float | None = None) -> dict:
    it = copy.deepcopy(item)
    it["id"] = f"{item['id']}-{k}"
    d = it["properties"]["datetime"]
    it["properties"]["datetime"] = f"{int(d[:4]) + years}{d[4:]}"
    if cloud is not None:
        it["properties"]["eo:cloud_cover"] = cloud
    if dx or dy:
        ring = [[x + dx, y + dy] for x, y in it["geometry"]["coordinates"][0]]
        it["geometry"] = {"type": "Polygon", "coordinates": [ring]}
        w, s, e, n = it["bbox"]
        it["bbox"] = [w + dx, s + dy, e + dx, n + dy]
    return it


def graph_construction(items: list[dict]) -> list[dict]:
    many = [_shifted(items[i % len(items)], i, years=3 * (i // len(items))) for i in range(1000)]
    rows = []
    for label, kw in (
        ("4 bands, no masks", dict(bands=["blue", "green", "red", "nir"], masks=False)),
        ("10 bands + 6 mask layers", {}),
    ):
        r = measure(lambda: terra_lab.load(many, **kw), repeat=5)
        rows.append({"benchmark": f"load() graph, 1000 items, {label}", "median": f"{r['median'] * 1000:.0f} ms",
                     "best": f"{r['best'] * 1000:.0f} ms", "target": "< 1000 ms", "peak MiB": f"{r['peak_mib']:.0f}"})
    return rows


def big_catalog(items: list[dict], n: int = 100_000) -> LocalCatalog:
    root = data_home() / "bench" / f"search{n // 1000}k"
    cat = LocalCatalog(root)
    if (root / "items" / "BIG.parquet").exists():
        return cat
    rng = np.random.default_rng(1)
    base = [it for it in items if "_T31TGK_" in it["id"]]
    out = []
    for k in range(n):
        src = base[k % len(base)]
        # a grid of 0.06 deg tiles over metropolitan France, 2016-2024
        dx, dy = rng.uniform(-11.3, 2.7), rng.uniform(-3.2, 5.8)
        out.append(_shifted(src, k, dx=dx, dy=dy, years=int(rng.integers(-6, 2)), cloud=float(rng.uniform(0, 100))))
    t0 = time.perf_counter()
    cat.add_items(out, collection="BIG")
    print(f"(indexed {n} items in {time.perf_counter() - t0:.0f} s)")
    return cat


def search_latency(cat: LocalCatalog, n_queries: int = 50) -> list[dict]:
    rng = np.random.default_rng(2)
    lat = []
    found = []
    for _q in range(n_queries):
        lon, la = rng.uniform(-4, 8), rng.uniform(43, 50)
        year = int(rng.integers(2016, 2025))
        t0 = time.perf_counter()
        res = cat.search((lon, la, lon + 0.2, la + 0.2), f"{year}-03-01/{year}-09-30", "BIG", max_cloud=60, limit=100)
        lat.append(time.perf_counter() - t0)
        found.append(len(res))
    lat_ms = np.array(lat) * 1000
    return [{"benchmark": f"search 100k items (bbox 0.2 deg, 7 months, cloud <= 60, {n_queries} queries, "
             f"median {int(np.median(found))} hits)", "median": f"{np.median(lat_ms):.0f} ms",
             "best": f"{lat_ms.min():.0f} ms", "target": "< 100 ms", "peak MiB": "",
             "p95": f"{np.percentile(lat_ms, 95):.0f} ms"}]


def main() -> None:
    items = terra_lab.catalog.open("demo").search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A").items
    rows = graph_construction(items)
    cat = big_catalog(items)
    rows += search_latency(cat)
    print(table(rows, ["benchmark", "median", "best", "p95", "target", "peak MiB"]))


if __name__ == "__main__":
    main()
