"""Validate STAC items and collections offline against the vendored JSON schemas.

Every schema lives under ``tests/data/stac-schemas/`` (its README says where each file
came from) and is registered under its ``$id``; a ``$ref`` to anything else raises instead
of reaching the network.  An object is checked against the core schema of its ``type`` and
``stac_version`` and against every schema in its ``stac_extensions``; a declared extension
with no vendored schema is an error too (vendor it: the test must never skip it).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema
import referencing
import referencing.exceptions
import referencing.jsonschema

__all__ = ["SCHEMAS", "assert_valid", "registry", "schema_errors", "schema_uris"]

SCHEMAS = Path(__file__).parent / "data" / "stac-schemas"

_CORE = {
    "Feature": "https://schemas.stacspec.org/v{version}/item-spec/json-schema/item.json",
    "Collection": "https://schemas.stacspec.org/v{version}/collection-spec/json-schema/collection.json",
    "Catalog": "https://schemas.stacspec.org/v{version}/catalog-spec/json-schema/catalog.json",
}


# date-time is checked (RFC 3339); iri/iri-reference are not: their grammar-based checker
# (rfc3987-syntax) takes 0.25 s a link, and the hrefs are file paths or URLs the tests read anyway
_FORMATS = jsonschema.FormatChecker(formats=("date-time",))


def _offline(uri: str):
    raise referencing.exceptions.NoSuchResource(
        ref=f"{uri} (not vendored: add it under {SCHEMAS} and say where it came from in its README)"
    )


@cache
def registry() -> referencing.Registry:
    """Every vendored schema, by its ``$id``; unknown URIs raise instead of being downloaded."""
    resources = []
    for path in sorted(SCHEMAS.rglob("*.json")):
        contents = json.loads(path.read_text())
        uri = contents["$id"].rstrip("#")
        resources.append((uri, referencing.jsonschema.DRAFT7.create_resource(contents)))
    return referencing.Registry(retrieve=_offline).with_resources(resources)


@cache
def _validator(uri: str) -> jsonschema.protocols.Validator:
    schema = registry().contents(uri)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=registry(), format_checker=_FORMATS)


def _path(error: jsonschema.ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _leaves(error: jsonschema.ValidationError):
    if not error.context:
        yield error
    for sub in error.context:
        yield from _leaves(sub)


def _explain(error: jsonschema.ValidationError) -> list[str]:
    """The deepest failures under ``error`` (a oneOf over item/collection branches nests them)."""
    leaves = list(_leaves(error))
    depth = max(len(e.absolute_path) for e in leaves)
    seen: dict[str, None] = {}
    for e in leaves:
        if len(e.absolute_path) == depth:
            seen.setdefault(f"{_path(e)}: {e.message}", None)
    return list(seen)


def schema_uris(obj: dict) -> list[str]:
    """The core schema of ``obj`` then every schema it declares in ``stac_extensions``."""
    kind, version = obj.get("type"), obj.get("stac_version")
    core = _CORE.get(kind, "").format(version=version)
    return [core, *obj.get("stac_extensions", [])]


def schema_errors(obj: dict) -> list[str]:
    """Every failure of ``obj`` against its core schema and declared extensions, each naming the field."""
    errors = []
    if obj.get("type") not in _CORE:
        return [f"type: {obj.get('type')!r} is not a STAC type ({sorted(_CORE)})"]
    for uri in schema_uris(obj):
        try:
            validator = _validator(uri.rstrip("#"))
        except referencing.exceptions.NoSuchResource:
            errors.append(f"{uri}: no schema vendored for it (add it under tests/data/stac-schemas/)")
            continue
        for err in validator.iter_errors(obj):
            errors.extend(f"{uri}: {msg}" for msg in _explain(err))
    return errors


def assert_valid(obj: dict) -> None:
    """Raise AssertionError listing every schema failure of the STAC object ``obj``."""
    errors = schema_errors(obj)
    if errors:
        raise AssertionError(f"{obj.get('type')} {obj.get('id')!r} fails its schemas:\n  " + "\n  ".join(errors))
