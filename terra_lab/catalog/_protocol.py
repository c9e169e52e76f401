"""The interface every catalogue class offers: :class:`Catalog`.

:class:`~terra_lab.catalog.LocalCatalog` (stac-geoparquet + DuckDB) and
:class:`~terra_lab.catalog.ApiCatalog` (a STAC API) both implement it; workflows, the search
map and the cube loader only use these members, so another source (a mirror, a test double
backed by real files) needs nothing more.  Checked statically (mypy, in
:mod:`terra_lab.catalog`) and at run time (``isinstance(cat, Catalog)``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ._results import SearchResults

__all__ = ["Catalog"]


@runtime_checkable
class Catalog(Protocol):
    """A searchable STAC catalogue.

    ``name`` identifies it in messages and provenance; ``kind`` is ``"local"`` or ``"api"``.
    """

    name: str
    kind: str

    def collection_ids(self) -> list[str]:
        """The ids of the collections it serves, sorted."""
        ...

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
        """Items intersecting ``aoi`` within ``dates`` with cloud cover <= ``max_cloud`` (percent),
        sorted by datetime then id; nothing is read before the call."""
        ...
