"""STAC collection documents computed from their items."""

from __future__ import annotations

from typing import Any

__all__ = ["collection_from_items"]


def collection_from_items(items: list[dict], collection_id: str, *, description: str = "", **fields: Any) -> dict:
    """A STAC 1.0 collection with the spatial/temporal extent and ``item_assets`` of ``items``."""
    xs0, ys0, xs1, ys1 = zip(*(it["bbox"] for it in items))
    dates = sorted(it["properties"]["datetime"] for it in items)
    item_assets: dict[str, dict] = {}
    for it in items:
        for key, asset in it.get("assets", {}).items():
            if key not in item_assets:
                item_assets[key] = {
                    k: v for k, v in asset.items() if k not in ("href", "proj:shape", "proj:transform", "proj:epsg")
                }
    platforms = sorted({it["properties"].get("platform") for it in items} - {None})
    instruments = sorted({i for it in items for i in it["properties"].get("instruments") or []})
    coll = {
        "type": "Collection",
        "stac_version": "1.0.0",
        "stac_extensions": ["https://stac-extensions.github.io/item-assets/v1.0.0/schema.json"],
        "id": collection_id,
        "title": fields.pop("title", collection_id),
        "description": description or f"THEIA/MUSCATE Sentinel-2 L2A products ({len(items)} items)",
        "license": fields.pop("license", "etalab-2.0"),
        "providers": fields.pop(
            "providers",
            [{"name": "THEIA / CNES (MUSCATE, MAJA)", "roles": ["producer", "processor"], "url": "https://www.theia-land.fr"}],
        ),
        "extent": {
            "spatial": {"bbox": [[min(xs0), min(ys0), max(xs1), max(ys1)]]},
            "temporal": {"interval": [[dates[0], dates[-1]]]},
        },
        # a summary is a non-empty list (STAC 1.0): none for a field no item has
        "summaries": {k: v for k, v in (("platform", platforms), ("instruments", instruments)) if v},
        "item_assets": item_assets,
        "links": [],
    }
    coll.update(fields)
    return coll
