"""Catalogue search: the embedded demo catalogue, local stac-geoparquet catalogues, STAC APIs.

>>> import terra_lab
>>> cat = terra_lab.catalog.open("demo")                       # doctest: +SKIP
>>> res = cat.search((6.33, 45.18, 6.37, 45.21), "2024-01/2024-03", max_cloud=30)  # doctest: +SKIP
>>> res.gdf.head()                                              # doctest: +SKIP
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .._paths import demo_dir
from ..errors import UnknownCollectionError
from . import _geodes
from ._access import teledetection_signer
from ._api import ApiCatalog
from ._geodes import GEODES_URL
from ._local import LocalCatalog
from ._protocol import Catalog
from ._query import parse_aoi, parse_dates
from ._results import SearchResults

__all__ = [
    "DEFAULT_COLLECTIONS",
    "ENDPOINTS",
    "ApiCatalog",
    "Catalog",
    "LocalCatalog",
    "SearchResults",
    "open",
    "parse_aoi",
    "parse_dates",
]

#: Known STAC APIs, by short name.
ENDPOINTS = {
    "theia": "https://api.stac.teledetection.fr",
    "geodes": GEODES_URL,
    "earth-search": "https://earth-search.aws.element84.com/v1",
}

#: The Sentinel-2 L2A collection of each named catalogue.
DEFAULT_COLLECTIONS = {
    "demo": "THEIA_REFLECTANCE_SENTINEL2_L2A",  # terra_lab.demo.DEMO_COLLECTION
    "theia": "sentinel2-l2a-theia",
    "geodes": "THEIA_REFLECTANCE_SENTINEL2_L2A",
    "earth-search": "sentinel-2-l2a",
}


if TYPE_CHECKING:  # mypy: both catalogue classes implement the Catalog protocol
    def _implements_catalog(local: LocalCatalog, api: ApiCatalog) -> tuple[Catalog, Catalog]:
        return local, api


def open(name_or_url: str | os.PathLike = "demo", **kwargs) -> Catalog:
    """Open a catalogue.

    Parameters
    ----------
    name_or_url
        ``"demo"`` (the embedded demo archive, no network), ``"theia"`` (the THEIA STAC API of
        la Maison de la Télédétection: hrefs signed by the ``teledetection`` package, signed
        again when they expire), ``"geodes"`` (CNES GEODES: downloads need an API key),
        ``"earth-search"`` (Element 84), any STAC API URL, or the folder of a local catalogue.
    **kwargs
        Passed to :class:`ApiCatalog` (``retries``, ``headers``, ``modifier``, ``signer``...).
        ``url=`` serves a named catalogue from another address (a mirror, a test server).
        ``api_key=`` (``"geodes"``): the GEODES API key, else ``$GEODES_API_KEY``.
    """
    key = str(name_or_url)
    if key == "demo":
        root = demo_dir() / "catalog"
        if not (root / "items").exists():
            raise UnknownCollectionError(
                f"the demo catalogue is not built yet (looked in {str(root)!r}); run `terra-lab demo build` "
                "(or `make lab`), or set TERRA_LAB_HOME to where it was built"
            )
        return LocalCatalog(root, name="demo")
    if key == "local":
        from ._ingest import local_catalog

        return local_catalog()
    if key == "theia":
        if "signer" not in kwargs and "modifier" not in kwargs:
            kwargs["signer"] = teledetection_signer()
        return ApiCatalog(kwargs.pop("url", ENDPOINTS[key]), name=key, **kwargs)
    if key == "geodes":
        api_key = _geodes.api_key(kwargs.pop("api_key", None))
        headers = {**(kwargs.pop("headers", None) or {}), "X-API-Key": api_key}
        return ApiCatalog(kwargs.pop("url", ENDPOINTS[key]), name=key, headers=headers, asset_headers={"X-API-Key": api_key},
                          item_hook=functools.partial(_geodes.expand_item, headers={"X-API-Key": api_key}), **kwargs)
    if key in ENDPOINTS:
        return ApiCatalog(kwargs.pop("url", ENDPOINTS[key]), name=key, **kwargs)
    if key.startswith(("http://", "https://")):
        return ApiCatalog(key, **kwargs)
    path = Path(key).expanduser()
    if path.is_dir():
        return LocalCatalog(path)
    raise UnknownCollectionError(
        f"unknown catalogue {key!r}: use 'demo', one of {sorted(ENDPOINTS)}, a STAC API URL (http...) "
        "or the folder of a local catalogue"
    )
