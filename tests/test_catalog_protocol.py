"""Both catalogue classes implement the declared Catalog protocol."""

from __future__ import annotations

import inspect

import terra_lab
from terra_lab.catalog import ApiCatalog, Catalog, LocalCatalog


def test_local_and_api_catalogues_are_catalogs(demo_catalog):
    assert isinstance(demo_catalog, LocalCatalog) and isinstance(demo_catalog, Catalog)
    api = ApiCatalog("http://127.0.0.1:9/stac")  # nothing is sent before a search
    assert isinstance(api, Catalog) and api.kind == "api" and demo_catalog.kind == "local"
    assert not isinstance(object(), Catalog)


def test_search_signatures_accept_the_protocol_arguments():
    proto = inspect.signature(Catalog.search).parameters
    for cls in (LocalCatalog, ApiCatalog):
        params = inspect.signature(cls.search).parameters
        for name, p in proto.items():
            assert name in params and params[name].kind == p.kind and params[name].default == p.default, (cls, name)
    assert inspect.signature(terra_lab.catalog.open).return_annotation in (Catalog, "Catalog")
