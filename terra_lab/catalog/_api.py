"""Search of remote STAC APIs (THEIA/CNES, Earth Search, any URL) through pystac-client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import shapely.geometry

from ..errors import CatalogUnreachableError, UnknownCollectionError
from . import _access
from ._local import _warn_unknown_cloud
from ._query import SearchQuery
from ._results import SearchResults

__all__ = ["ApiCatalog"]


def _transient_errors() -> tuple[type[BaseException], ...]:
    import requests
    from pystac_client.exceptions import APIError

    return (requests.ConnectionError, requests.Timeout, APIError, OSError)


class ApiCatalog:
    """A STAC API.  Nothing is sent until the first search or collection listing.

    Parameters
    ----------
    url
        Landing page of the API.
    retries, backoff
        Failed requests are retried ``retries`` times, waiting ``backoff * 2**k`` seconds.
    modifier
        Called on every page of results (e.g. to sign hrefs); see pystac-client.  Default: with
        ``signer``, one that signs every asset href through it.
    headers
        Extra HTTP headers of the search requests (e.g. an authorization token).
    signer
        Signs asset hrefs: plain URLs in, ``{url: signed url}`` out (``teledetection.sign_urls``
        for the THEIA STAC API).  Hrefs are signed when found, and signed again by the cube
        reader when their signature has expired (see :mod:`terra_lab.catalog._access`).
    asset_headers
        HTTP headers the reader sends when it reads the assets (GEODES' ``X-API-Key``); only to
        the hosts of this catalogue's assets.
    item_hook
        Applied to every item dict found (GEODES: the zip's rasters as assets).
    """

    kind = "api"

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: float = 30.0,
        modifier: Callable | None = None,
        headers: dict | None = None,
        signer: _access.Signer | None = None,
        asset_headers: Mapping[str, str] | None = None,
        item_hook: Callable[[dict], dict] | None = None,
    ):
        self.url = url
        self.name = name or url
        self.retries, self.backoff, self.timeout = int(retries), float(backoff), float(timeout)
        self.signer, self.asset_headers, self.item_hook = signer, dict(asset_headers or {}), item_hook
        self.modifier: Callable[[Any], None] | None = modifier if modifier is not None or signer is None else self.sign_page
        self.headers = headers
        self._client = None

    def access(self, href: str) -> _access.HostAccess:
        """The registration of the host of ``href`` (made on first use): its headers and signer."""
        parts = urlsplit(_access.plain_url(href))
        prefix = f"{parts.scheme}://{parts.netloc}/"
        found = _access.access_for(prefix)
        if (found is None or found.prefix != prefix or found.signer is not self.signer
                or dict(found.headers) != self.asset_headers):
            found = _access.register(prefix, headers=self.asset_headers, signer=self.signer)
        return found

    def sign_page(self, page: dict) -> None:
        """Sign in place the asset hrefs of a page of results (a FeatureCollection or an item dict)."""
        if not isinstance(page, dict):  # pystac objects (the landing page, collections): nothing to sign
            return
        features = page.get("features", [page] if "assets" in page else [])
        by_host: dict[str, list[dict]] = {}
        for f in features:
            for a in f.get("assets", {}).values():
                if "://" in str(a.get("href", "")):
                    by_host.setdefault(urlsplit(a["href"]).netloc, []).append(a)
        for assets in by_host.values():
            access = self.access(assets[0]["href"])
            signed = access.sign([a["href"] for a in assets])
            for a in assets:
                a["href"] = signed[a["href"]]

    def _register_hosts(self, items: list[dict]) -> None:
        if not (self.asset_headers or self.signer):
            return
        hosts = {urlsplit(_access.plain_url(a["href"])).netloc: a["href"] for it in items
                 for a in it.get("assets", {}).values() if "://" in str(a.get("href", ""))}
        for href in hosts.values():
            _access.share(self.access(href))  # also to Dask workers that joined since

    def _retrying(self, what: str, fn: Callable[[], Any]) -> Any:
        errors = _transient_errors()
        last: BaseException | None = None
        for attempt in range(self.retries + 1):
            try:
                return fn()
            except errors as e:
                last = e
                if attempt < self.retries:
                    time.sleep(self.backoff * 2**attempt)
        raise CatalogUnreachableError(
            f"could not {what} at the STAC API {self.url!r} after {self.retries + 1} attempts "
            f"({type(last).__name__}: {last}); check the URL and the network, or work offline with "
            "terra_lab.catalog.open('demo')"
        ) from last

    @property
    def client(self):
        if self._client is None:
            from pystac_client import Client
            from pystac_client.stac_api_io import StacApiIO
            from urllib3 import Retry

            def _open():
                io = StacApiIO(
                    headers=self.headers,
                    timeout=self.timeout,
                    max_retries=Retry(total=self.retries, backoff_factor=self.backoff,
                                      status_forcelist=(429, 500, 502, 503, 504), allowed_methods=None),
                )
                return Client.open(self.url, modifier=self.modifier, stac_io=io)

            self._client = self._retrying("open the landing page", _open)
        return self._client

    def collection_ids(self) -> list[str]:
        return sorted(c.id for c in self._retrying("list collections", lambda: list(self.client.get_collections())))

    def _check_collections(self, collections: list[str]) -> None:
        known = set(self.collection_ids())
        for c in collections:
            if c not in known:
                raise UnknownCollectionError(
                    f"collection {c!r} is not offered by {self.name!r}; available: {sorted(known)[:40]}"
                )

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
        page_size: int = 100,
    ) -> SearchResults:
        """Same arguments as :meth:`terra_lab.catalog.LocalCatalog.search`."""
        from pystac_client import ConformanceClasses

        q = SearchQuery(aoi, dates, collections, max_cloud, limit, crs=crs)
        geom, t0, t1, collections, max_cloud, limit = q.geom, q.start, q.end, q.collections, q.max_cloud, q.limit
        if collections:
            self._check_collections(collections)
        kwargs: dict[str, Any] = {"collections": collections, "max_items": limit, "limit": page_size}
        if ids is not None:
            kwargs["ids"] = list(ids)
        if geom is not None:
            kwargs["intersects"] = shapely.geometry.mapping(geom)
        if t0 is not None or t1 is not None:
            kwargs["datetime"] = [t0.to_pydatetime() if t0 is not None else None, t1.to_pydatetime() if t1 is not None else None]
        client_side_cloud = False
        if max_cloud is not None:
            if self.client.conforms_to(ConformanceClasses.FILTER):
                # items without a cloud cover are kept (and counted below), as in a local catalogue
                cloud = {"property": "eo:cloud_cover"}
                kwargs["filter"] = {"op": "or", "args": [{"op": "<=", "args": [cloud, float(max_cloud)]},
                                                         {"op": "isNull", "args": [cloud]}]}
                kwargs["filter_lang"] = "cql2-json"
            elif self.client.conforms_to(ConformanceClasses.QUERY):
                kwargs["query"] = {"eo:cloud_cover": {"lte": float(max_cloud)}}
            else:
                client_side_cloud = True
                kwargs["max_items"] = None
        search = self.client.search(**kwargs)
        items = self._retrying("search", lambda: list(search.items_as_dicts()))
        if self.item_hook is not None:  # may read each product's index (GEODES zips): in parallel
            with ThreadPoolExecutor(8) as pool:
                items = list(pool.map(self.item_hook, items))
        self._register_hosts(items)
        if client_side_cloud:
            items = [it for it in items if it["properties"].get("eo:cloud_cover", 0) <= max_cloud][:limit]
        if max_cloud is not None:
            unknown = sum(it["properties"].get("eo:cloud_cover") is None for it in items)
            _warn_unknown_cloud(unknown, len(items), max_cloud)
        items.sort(key=lambda it: (it["properties"].get("datetime") or it["properties"].get("start_datetime", ""), it["id"]))
        query = q.as_dict()
        return SearchResults(items, query=query, source=self.name, matched=len(items))

    def __repr__(self) -> str:
        return f"<ApiCatalog {self.name!r}>"
