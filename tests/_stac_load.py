"""A bounded load of mixed STAC requests on a loopback server (used by tests/test_stac_server.py and
benchmarks/bench_stac_load.py): valid searches, paging, item and collection reads, malformed requests."""

from __future__ import annotations

import hashlib
import json
import random
import statistics
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

__all__ = ["MALFORMED", "plan", "run", "snapshot"]

# (method, path, body): each must be answered 4xx, never 5xx
MALFORMED = [
    ("GET", "/search?intersects=notjson", None), ("GET", "/search?query=notjson", None),
    ("GET", "/search?filter=eo:cloud_cover%20%3C%3D", None), ("GET", "/search?bbox=a,b,c,d", None),
    ("GET", "/search?bbox=10,10,0,0", None), ("GET", "/search?datetime=notadate", None), ("GET", "/search?limit=-1", None),
    ("GET", "/search?token=next:garbage", None), ("GET", "/search?ids=%00", None), ("GET", "/collections/NOPE", None),
    ("POST", "/search", b"{not json"), ("POST", "/search", b"[]"), ("POST", "/search", b'{"filter": {"op": "nope"}}'),
    ("POST", "/search", b'{"intersects": "x"}'), ("POST", "/search", b'{"token": "next:xx"}'), ("POST", "/search", b"null"),
]


def _call(url: str, method: str = "GET", body: bytes | None = None, timeout: float = 60) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _next(doc: dict) -> str | None:
    return next((link["href"] for link in doc.get("links", []) if link.get("rel") == "next"), None)


def snapshot(base: str) -> dict[str, str]:
    """``collection/item id -> sha256`` of every item the API serves (pages of 100), and of every collection."""
    out = {}
    collections, url = [], base + "/collections?limit=100"
    while url:  # the API pages collections by 10
        status, raw = _call(url)
        assert status == 200, raw[:300]
        doc = json.loads(raw)
        collections += doc["collections"]
        url = _next(doc)
    for coll in collections:
        out[f"collection:{coll['id']}"] = hashlib.sha256(json.dumps(
            {k: v for k, v in coll.items() if k != "links"}, sort_keys=True).encode()).hexdigest()
        url = f"{base}/search?collections={urllib.parse.quote(coll['id'])}&limit=100"
        while url:
            status, raw = _call(url)
            assert status == 200, raw[:300]
            doc = json.loads(raw)
            for it in doc["features"]:
                body = {k: v for k, v in it.items() if k != "links"}
                out[f"{it['collection']}/{it['id']}"] = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            url = _next(doc)
    return out


def plan(items: list[tuple[str, str, list[float], str]], n: int, seed: int = 0) -> list[tuple[str, str, str, bytes | None]]:
    """``n`` requests ``(kind, method, path, body)``; ``items`` are (collection, id, bbox, datetime) of the catalogue."""
    rng = random.Random(seed)
    collections = sorted({c for c, *_ in items})
    out = []
    for _ in range(n):
        kind = rng.choices(["search", "post-search", "page", "item", "collection", "malformed"], [25, 20, 15, 20, 5, 15])[0]
        coll, iid, bbox, dt = rng.choice(items)
        if kind == "search":
            w, s, e, n_ = bbox
            q = {"collections": coll, "bbox": f"{w},{s},{(w + e) / 2},{(s + n_) / 2}", "limit": rng.choice([1, 5, 20])}
            if rng.random() < 0.5:
                q["datetime"] = f"{dt[:10]}T00:00:00Z/.."
            if rng.random() < 0.3:
                q["filter"] = f"\"eo:cloud_cover\" <= {rng.randint(0, 100)}"
            out.append((kind, "GET", "/search?" + urllib.parse.urlencode(q), None))
        elif kind == "post-search":
            body = {"collections": [coll], "intersects": {"type": "Point", "coordinates": [(bbox[0] + bbox[2]) / 2,
                                                                                          (bbox[1] + bbox[3]) / 2]},
                    "limit": rng.choice([2, 10]), "sortby": [{"field": "datetime", "direction": rng.choice(["asc", "desc"])}]}
            out.append((kind, "POST", "/search", json.dumps(body).encode()))
        elif kind == "page":
            out.append((kind, "GET", f"/collections/{urllib.parse.quote(coll)}/items?limit={rng.choice([3, 7])}", None))
        elif kind == "item":
            out.append((kind, "GET", f"/collections/{urllib.parse.quote(coll)}/items/{urllib.parse.quote(iid)}", None))
        elif kind == "collection":
            paths = ["/collections", f"/collections/{urllib.parse.quote(coll)}", "/", "/conformance"]
            out.append((kind, "GET", rng.choice(paths), None))
        else:
            method, path, body = rng.choice(MALFORMED)
            out.append((kind, method, path, body))
    assert collections
    return out


def _one(base: str, kind: str, method: str, path: str, body: bytes | None) -> list[tuple[str, int, float]]:
    """Status and seconds of one planned request (a ``page`` request follows up to 2 next links)."""
    done = []
    url = base + path
    for _ in range(3 if kind == "page" else 1):
        t0 = time.perf_counter()
        status, raw = _call(url, method, body)
        done.append((kind, status, time.perf_counter() - t0))
        if kind != "page" or status != 200:
            break
        url = _next(json.loads(raw))
        if not url:
            break
    return done


def run(base: str, requests: list[tuple[str, str, str, bytes | None]], workers: int = 16) -> dict:
    """Send ``requests`` from ``workers`` threads; per kind: count, statuses, p50/p95/max latency (ms)."""
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = [r for rs in pool.map(lambda q: _one(base, *q), requests) for r in rs]
    wall = time.perf_counter() - t0
    by_kind: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for kind, status, dt in results:
        by_kind[kind].append((status, dt))
    rows = []
    for kind, rs in sorted(by_kind.items()):
        ms = sorted(dt * 1000 for _, dt in rs)
        codes = Counter(status // 100 for status, _ in rs)
        rows.append({"kind": kind, "requests": len(rs), "2xx": codes[2], "4xx": codes[4], "5xx": codes[5],
                     "other": sum(v for k, v in codes.items() if k not in (2, 4, 5)), "p50_ms": round(statistics.median(ms), 1),
                     "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1), "max_ms": round(ms[-1], 1)})
    return {"rows": rows, "total": len(results), "wall_s": wall, "per_s": len(results) / wall}
