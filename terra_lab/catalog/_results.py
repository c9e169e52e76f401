"""Search results: STAC items plus a GeoDataFrame view."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

__all__ = ["SearchResults"]

_COLUMNS = ("datetime", "platform", "eo:cloud_cover", "grid:code", "proj:epsg", "collection")


@dataclass
class SearchResults:
    """Items found by a search, in date order.

    ``items`` are STAC item dicts (cheap to pickle and to hand to :func:`terra_lab.load`);
    :attr:`gdf` is a GeoDataFrame (EPSG:4326) with one row per item for tables and maps;
    :meth:`item_collection` gives pystac objects.
    """

    items: list[dict]
    query: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    matched: int | None = None

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.items)

    def __getitem__(self, i):
        return self.items[i]

    @property
    def ids(self) -> list[str]:
        return [it["id"] for it in self.items]

    @cached_property
    def gdf(self):
        """One row per item: id, datetime, cloud cover, platform, tile, footprint."""
        import geopandas as gpd
        import pandas as pd
        import shapely.geometry

        rows = []
        for it in self.items:
            p = it.get("properties", {})
            row = {"id": it["id"], "collection": it.get("collection")}
            row.update({c: p.get(c) for c in _COLUMNS if c != "collection"})
            row["thumbnail"] = next(
                (a["href"] for a in it.get("assets", {}).values() if "thumbnail" in (a.get("roles") or [])), None
            )
            rows.append(row)
        geoms = [shapely.geometry.shape(it["geometry"]) for it in self.items]
        gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
        if len(gdf):
            gdf["datetime"] = pd.to_datetime(gdf["datetime"], utc=True, format="ISO8601")
        return gdf

    def to_geodataframe(self):
        return self.gdf

    def item_collection(self):
        import pystac

        return pystac.ItemCollection([pystac.Item.from_dict(it, preserve_dict=False) for it in self.items])

    def __repr__(self) -> str:
        dates = ""
        if self.items:
            d = [it["properties"].get("datetime", "")[:10] for it in self.items]
            dates = f", {min(d)} .. {max(d)}"
        return f"<SearchResults: {len(self)} items from {self.source!r}{dates}>"
