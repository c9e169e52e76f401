"""Load on the catalogue server: thousands of mixed STAC requests from concurrent clients, on loopback.

``terra-lab catalog serve``'s stack (stac-fastapi-pgstac under uvicorn, one worker, PostgreSQL on a
private socket, the API as a read-only role) serving the demo catalogue.  The mix (tests/_stac_load.py):
GET and POST searches (bbox, datetime, CQL2 filter, intersects, sortby), paging through items
(following ``next`` links), item and collection reads, and malformed requests.  Checked: no 5xx,
every malformed request a 4xx, every valid one a 2xx, and every item and collection served
identical (sha256 of its JSON) before and after.  Comparison: the same valid searches answered by the
local catalogue in-process (no server), to show what the server's layers cost.

Run: ``python benchmarks/bench_stac_load.py [--requests 3000] [--workers 16]`` (after ``make demo``).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import urllib.parse

import psutil

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from _stac_load import plan, run, snapshot  # noqa: E402
from _util import table  # noqa: E402

import terra_lab  # noqa: E402
from terra_lab.catalog._server import PgStacServer  # noqa: E402


def _catalogue_items(cat) -> list[tuple[str, str, list[float], str]]:
    return [(it["collection"], it["id"], it["bbox"], it["properties"]["datetime"])
            for cid in cat.collection_ids() for it in cat.search(collections=cid).items]


def _tree_rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
            total += sum(p.memory_info().rss for p in procs)
        except psutil.Error:
            pass
    return total


def _local_rate(cat, requests) -> float:
    """The first 300 valid GET searches of ``requests``, per second, answered by the local catalogue in-process."""
    searches = [dict(urllib.parse.parse_qsl(path.split("?", 1)[1])) for kind, _, path, _ in requests if kind == "search"][:300]
    t0 = time.perf_counter()
    for q in searches:
        bbox = [float(v) for v in q["bbox"].split(",")]
        dates = q["datetime"][:10] + "/2100-01-01" if "datetime" in q else None
        cat.search(bbox, dates, q["collections"], limit=int(q["limit"]))
    return len(searches) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=16)
    args = ap.parse_args()
    cat = terra_lab.catalog.open("demo")
    requests = plan(_catalogue_items(cat), args.requests, seed=1)
    with PgStacServer(cat) as srv:
        before = snapshot(srv.url)
        pids = [srv._postmaster.pid, srv._api.pid]
        peak, stop = [0], threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], _tree_rss(pids))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        result = run(srv.url, requests, workers=args.workers)
        stop.set()
        sampler.join()
        after = snapshot(srv.url)
        searches = [q for q in requests if q[0] == "search"][:300]
        server_rate = run(srv.url, searches, workers=args.workers)["per_s"]  # the comparison's workload, on the server
    local = _local_rate(cat, requests)
    print(f"{args.requests} planned requests ({result['total']} sent, pages followed), {args.workers} workers, "
          f"{result['wall_s']:.1f} s, {result['per_s']:.0f} requests/s; server peak RSS {peak[0] / 2**20:.0f} MiB")
    print(table(result["rows"], ["kind", "requests", "2xx", "4xx", "5xx", "other", "p50_ms", "p95_ms", "max_ms"]))
    print(table([{"measure": "GET searches/s", f"ours (server, {args.workers} clients)": f"{server_rate:.0f}",
                  "comparison (local catalogue, in-process)": f"{local:.0f}", "ratio": f"{server_rate / local:.2f}",
                  "peak MiB (server processes)": f"{peak[0] / 2**20:.0f}"}],
                ["measure", f"ours (server, {args.workers} clients)", "comparison (local catalogue, in-process)", "ratio",
                 "peak MiB (server processes)"]))
    same = before == after
    errors = sum(r["5xx"] + r["other"] for r in result["rows"])
    print(f"items and collections before/after: {len(before)} / {len(after)}, identical: {same}; 5xx or no reply: {errors}")
    sys.exit(0 if same and errors == 0 else 1)


if __name__ == "__main__":
    main()
