"""The search every workflow starts with: a checked period, the AOI, the reflectance collection."""

from __future__ import annotations

from typing import Any

from ..errors import DateRangeError, NoItemsFoundError
from ._aux import find_collection, open_catalog

__all__ = ["search_reflectance"]


def search_reflectance(catalog: Any, aoi: Any, start: Any, end: Any, *, collection: str | None = None,
                       max_cloud: float | None = None):
    """(catalogue, collection id, results) of the reflectance items over ``aoi`` within ``start .. end``.

    Raises :class:`~terra_lab.errors.DateRangeError` for an empty or reversed period and
    :class:`~terra_lab.errors.NoItemsFoundError` when nothing is found.
    """
    import pandas as pd

    if start is None or end is None or pd.Timestamp(start) > pd.Timestamp(end):
        raise DateRangeError(f"the period {start} .. {end} is empty or reversed; give start <= end")
    cat = open_catalog(catalog)
    cid = find_collection(cat, "reflectance", collection)
    res = cat.search(aoi, (str(start), str(end)), cid, max_cloud=max_cloud)
    if len(res) == 0:
        raise NoItemsFoundError(f"no {cid!r} item of the catalogue {cat.name!r} over {aoi} between {start} and {end}"
                                f"{'' if max_cloud is None else f' with at most {max_cloud} % cloud'}; "
                                "widen the area or the period")
    return cat, cid, res
