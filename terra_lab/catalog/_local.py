"""The embedded, file-based catalogue: stac-geoparquet files searched in-process with DuckDB.

Layout of a catalogue folder::

    collections/<collection id>.json   STAC collections
    items/<collection id>.parquet      its items, as stac-geoparquet

Writers take an exclusive lock (``catalog.lock`` in the folder, see :mod:`._lock`) around
read-merge-write, so concurrent ingests lose nothing.  The items file is the truth: it
embeds its collection document (stac-geoparquet ``collections`` metadata) and is replaced in
one rename, so a kill at any point leaves items and collection consistent; the JSON beside it
is a copy for other tools, rewritten after (and repaired on read if a kill left it stale).

No server and no network are involved.  Asset hrefs may be relative to the
catalogue folder (the demo archive and ingested folders are stored so), which
keeps a catalogue usable after it is moved; they are made absolute on read.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import shapely

from ..errors import CatalogBusyError, NoItemsFoundError, TerraLabWarning, UnknownCollectionError
from ._collection import collection_from_items
from ._ids import validate_collection_id
from ._lock import exclusive_lock
from ._query import SearchQuery
from ._results import SearchResults
from ._zip import VSIZIP

__all__ = ["LocalCatalog"]


_TMP = ".tmp-"  # prefix of the temporary files of _atomic_write (swept under the lock)


def _atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then move the result over ``path`` in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{_TMP}{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600: a shared catalogue must stay readable
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process' umask, read without changing it (Linux), else set and restored."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _embedded_collection(items_path: Path, collection_id: str) -> dict | None:
    """The collection document stored in an items file's metadata (None for older files)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(items_path).metadata or {}
    except FileNotFoundError:
        return None
    raw = meta.get(b"stac-geoparquet")
    return json.loads(raw).get("collections", {}).get(collection_id) if raw else None


_CLOUD = "eo:cloud_cover"


def _warn_unknown_cloud(n_unknown: int, n: int, max_cloud: float) -> None:
    """Say how many found items ``max_cloud`` could not judge (they are kept)."""
    if n_unknown:
        warnings.warn(
            f"{n_unknown} of the {n} items found have no eo:cloud_cover (e.g. products without MTD_ALL.xml "
            f"nor R2 cloud mask): max_cloud={max_cloud:g} cannot judge them, so they are kept; their cloud "
            "masks still apply pixel by pixel. To drop them: [it for it in results if "
            "it['properties'].get('eo:cloud_cover') is not None]",
            TerraLabWarning,
            stacklevel=3,
        )


class LocalCatalog:
    """A STAC catalogue stored as stac-geoparquet files in ``root``."""

    kind = "local"

    def __init__(self, root: str | os.PathLike, *, name: str | None = None, lock_timeout: float = 600.0):
        self.root = Path(root).expanduser().resolve()
        self.name = name or str(self.root)
        self.lock_timeout = float(lock_timeout)
        self._local = threading.local()

    def lock(self, timeout: float | None = None):
        """Context manager holding the catalogue's write lock (waits up to ``timeout`` s, default ``lock_timeout``)."""
        return exclusive_lock(self.root / "catalog.lock", timeout=self.lock_timeout if timeout is None else timeout,
                              what=f"the catalogue {self.name!r}")

    # ------------------------------------------------------------ reading
    @property
    def _con(self) -> duckdb.DuckDBPyConnection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = duckdb.connect(config={"threads": 2})
        return con

    def collection_ids(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "items").glob("*.parquet"))

    def collections(self) -> dict[str, dict]:
        return {c: self.collection(c) for c in self.collection_ids()}

    def collection(self, collection_id: str) -> dict:
        """The collection document, as stored with its items (so never older than them)."""
        path = self.root / "collections" / f"{collection_id}.json"
        embedded = _embedded_collection(self.root / "items" / f"{collection_id}.parquet", collection_id)
        if embedded is None:  # a catalogue written before the document was embedded
            if not path.exists():
                self._unknown(collection_id)
            return json.loads(path.read_text())
        text = json.dumps(embedded, indent=1)
        if not path.exists() or path.read_text() != text:  # a writer was killed between its two renames
            self._repair(path, text)
        return embedded

    def _repair(self, path: Path, text: str) -> None:
        """Rewrite a stale collection JSON if the catalogue is writable and free right now."""
        try:
            with self.lock(timeout=0):
                _atomic_write(path, lambda tmp: tmp.write_text(text))
        except (CatalogBusyError, OSError):  # read-only or being written: the next write repairs it
            pass

    def _unknown(self, collection_id: str):
        raise UnknownCollectionError(
            f"collection {collection_id!r} is not in the catalogue {self.name!r}; "
            f"available: {self.collection_ids()}"
            + ("" if self.collection_ids()
               else " (the catalogue is empty: run `terra-lab demo build` or `terra-lab ingest PATH`)")
        )

    def _files(self, collections: Iterable[str] | None) -> list[str]:
        if collections is None:
            files = sorted((self.root / "items").glob("*.parquet"))
        else:
            files = []
            for c in collections:
                f = self.root / "items" / f"{c}.parquet"
                if not f.exists():
                    self._unknown(c)
                files.append(f)
        return [str(f) for f in files]

    def search(
        self,
        aoi: Any = None,
        dates: Any = None,
        collections: str | Iterable[str] | None = None,
        max_cloud: float | None = None,
        limit: int | None = None,
        *,
        ids: Iterable[str] | None = None,
        crs: Any = "EPSG:4326",
    ) -> SearchResults:
        """Items intersecting ``aoi`` within ``dates`` with cloud cover <= ``max_cloud`` (percent).

        See :func:`terra_lab.catalog.parse_aoi` and :func:`~terra_lab.catalog.parse_dates`
        for the accepted forms.  Results are sorted by datetime, then id.  Items without
        ``eo:cloud_cover`` (unknown cloud cover) pass the ``max_cloud`` filter, with a
        :class:`~terra_lab.errors.TerraLabWarning` saying how many there are.
        """
        q = SearchQuery(aoi, dates, collections, max_cloud, limit, crs=crs)
        geom, t0, t1, max_cloud, limit = q.geom, q.start, q.end, q.max_cloud, q.limit
        files = self._files(q.collections)
        query = q.as_dict()
        if not files:
            return SearchResults([], query=query, source=self.name, matched=0)
        where, params = [], []
        if geom is not None:
            w, s, e, n = geom.bounds
            where.append("bbox.xmin <= ? AND bbox.xmax >= ? AND bbox.ymin <= ? AND bbox.ymax >= ?")
            params += [e, w, n, s]
        if t0 is not None:
            where.append('"datetime" >= ?')
            params.append(t0.to_pydatetime())
        if t1 is not None:
            where.append('"datetime" <= ?')
            params.append(t1.to_pydatetime())
        src = f"read_parquet({files!r}, union_by_name=true)"
        has_cloud = max_cloud is not None and _CLOUD in {r[0] for r in self._con.sql(f"DESCRIBE SELECT * FROM {src}").fetchall()}
        if has_cloud and max_cloud is not None:  # items of unknown cloud cover are kept (and counted below)
            where.append(f'("{_CLOUD}" <= ? OR "{_CLOUD}" IS NULL)')
            params.append(float(max_cloud))
        if ids is not None:
            ids = list(ids)
            where.append(f"id IN ({', '.join('?' * len(ids))})")
            params += ids
        cond = (" WHERE " + " AND ".join(where)) if where else ""
        # one pass: bbox/date/cloud filters pushed down to the parquet reader, then the exact
        # geometry test on the (few) candidates, then the limit
        sql_limit = f" LIMIT {min(int(limit), 2**62)}" if (limit is not None and geom is None) else ""
        table = self._con.sql(f'SELECT * FROM {src}{cond} ORDER BY "datetime", id{sql_limit}', params=params).to_arrow_table()
        if geom is not None and table.num_rows:
            shapes = shapely.from_wkb(np.asarray(table.column("geometry").to_pylist(), dtype=object))
            table = table.filter(pa.array(shapely.intersects(shapes, geom)))
        if sql_limit:
            matched = self._con.sql(f"SELECT count(*) FROM {src}{cond}", params=params).fetchall()[0][0]
        else:
            matched = table.num_rows
        if limit is not None:
            table = table.slice(0, min(int(limit), table.num_rows))
        if table.num_rows == 0:
            return SearchResults([], query=query, source=self.name, matched=matched)
        if max_cloud is not None:
            _warn_unknown_cloud(table.column(_CLOUD).null_count if has_cloud else table.num_rows, table.num_rows, max_cloud)
        from stac_geoparquet.arrow import stac_table_to_items

        items = [self._absolute(it) for it in stac_table_to_items(table)]
        return SearchResults(items, query=query, source=self.name, matched=matched)

    def get_items(self, ids: Iterable[str], collections: str | Iterable[str] | None = None) -> SearchResults:
        """Items by id; raises if any is missing."""
        ids = list(ids)
        res = self.search(ids=ids, collections=collections)
        missing = sorted(set(ids) - set(res.ids))
        if missing:
            raise NoItemsFoundError(f"items not found in {self.name!r}: {missing[:5]}{' ...' if len(missing) > 5 else ''}")
        return res

    def _absolute(self, item: dict) -> dict:
        for asset in item.get("assets", {}).values():
            href = asset.get("href", "")
            if href.startswith(VSIZIP) and not os.path.isabs(href[len(VSIZIP):]):  # a zip relative to the catalogue
                asset["href"] = VSIZIP + os.path.normpath(os.path.join(self.root, href[len(VSIZIP):]))
            elif href and "://" not in href and not os.path.isabs(href):
                asset["href"] = os.path.normpath(os.path.join(self.root, href))
        # GeoParquet has a column per property: an item without one reads it back as null
        props = item.setdefault("properties", {})
        for key in [k for k, v in props.items() if v is None and k != "datetime"]:
            del props[key]
        item.pop("links", None)
        item["links"] = []
        if item.get("collection"):  # STAC: an item naming its collection links to it
            href = str(self.root / "collections" / f"{item['collection']}.json")
            item["links"].append({"rel": "collection", "href": href, "type": "application/json"})
        return item

    # ------------------------------------------------------------ writing
    def add_items(self, items: Iterable[dict], *, collection: str, description: str = "", **collection_fields) -> int:
        """Add (or replace, by id) ``items`` in ``collection`` and rewrite its collection JSON.

        Both files are written atomically: a reader never sees a half-written catalogue.  The
        read-merge-write runs under the catalogue's lock (:meth:`lock`): concurrent writers
        (several ``terra-lab ingest`` at once) wait for each other and lose nothing.
        Returns the number of items now in the collection.
        """
        validate_collection_id(collection)  # it names files: never a path out of the catalogue
        new = list(items)
        for it in new:
            it["collection"] = collection
        with self.lock():
            self._sweep()
            return self._merge_write(new, collection, description, collection_fields)

    def _sweep(self) -> None:
        """Remove temporary files left by writers that were killed (only writers make them, under the lock)."""
        for sub in ("items", "collections"):
            for p in (self.root / sub).glob(f"{_TMP}*"):
                p.unlink(missing_ok=True)

    def _merge_write(self, new: list[dict], collection: str, description: str, collection_fields: dict) -> int:
        import stac_geoparquet.arrow as sga

        path = self.root / "items" / f"{collection}.parquet"
        existing = []
        if path.exists():
            from stac_geoparquet.arrow import stac_table_to_items

            table = self._con.sql(f"SELECT * FROM read_parquet('{path}')").to_arrow_table()
            new_ids = {it["id"] for it in new}
            existing = [it for it in stac_table_to_items(table) if it["id"] not in new_ids]
        every = sorted(existing + new, key=lambda it: (it["properties"]["datetime"], it["id"]))
        if not every:
            raise NoItemsFoundError(f"no items to write into collection {collection!r}")
        reader = sga.parse_stac_items_to_arrow(every)
        table = reader.read_all() if hasattr(reader, "read_all") else reader
        coll = collection_from_items(every, collection, description=description, **collection_fields)
        # the commit point: items and their collection document in one file, one rename
        _atomic_write(path, lambda tmp: sga.to_parquet(table, tmp, collections={collection: coll}))
        _atomic_write(
            self.root / "collections" / f"{collection}.json",
            lambda tmp: tmp.write_text(json.dumps(coll, indent=1)),
        )
        return len(every)

    def __repr__(self) -> str:
        return f"<LocalCatalog {self.name!r}: {self.collection_ids()}>"
