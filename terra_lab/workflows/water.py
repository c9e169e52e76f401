"""Water workflow: water surfaces (MNDWI/NDWI, fixed or Otsu threshold) and water quality
(turbidity, SPM, chlorophyll-a) of a water body over a period.

The work is done by :mod:`terra_lab.products.water`; the water dashboard displays the result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import xarray as xr

from ._progress import Progress, report
from ._search import search_reflectance

__all__ = ["PRESETS", "PRODUCTS", "WaterResult", "WaterSettings", "parse_threshold", "water_workflow"]

#: the products of the result, with their units
PRODUCTS = ("water", "turbidity", "spm", "chla")


@dataclass(frozen=True)
class WaterSettings:
    """Water index (``"MNDWI"`` or ``"NDWI"``), its threshold (a number or ``"otsu"``) and the
    shore pixels left out of the quality retrievals (``erode``, pixels)."""

    index: str = "MNDWI"
    threshold: float | str = "otsu"
    erode: int = 1


PRESETS: dict[str, WaterSettings] = {
    "lake": WaterSettings("MNDWI", "otsu", 1),
    "river": WaterSettings("MNDWI", 0.0, 0),
    "turbid estuary": WaterSettings("NDWI", 0.0, 1),
}


def parse_threshold(text: str) -> float | str:
    """``"otsu"`` or a number from a text field; anything else raises ValueError with the fix."""
    thr = str(text).strip()
    try:
        return float(thr)
    except ValueError:
        if thr != "otsu":
            raise ValueError(f"threshold {thr!r}: give 'otsu' or a number such as 0") from None
        return "otsu"


@dataclass(frozen=True)
class WaterResult:
    """What :func:`water_workflow` computed (in memory)."""

    products: xr.Dataset      #: (time, y, x): water (0/1 on eroded water), turbidity (FNU), spm (g m-3), chla (mg m-3)
    monthly: pd.DataFrame     #: median over the area of each product, per month
    provenance: dict = field(default_factory=dict)

    def summary(self, product: str) -> xr.DataArray:
        """The period's map of ``product``: water frequency, or the median of a quality product."""
        da = self.products[product]
        out = da.mean("time") if product == "water" else da.median("time")
        out.attrs.update(da.attrs)
        return out.rename(product)


def _monthly(products: xr.Dataset) -> pd.DataFrame:
    frame = products[list(PRODUCTS)].median(("x", "y")).to_dataframe()[list(PRODUCTS)]
    frame.index = pd.DatetimeIndex(frame.index)
    table = frame.groupby(frame.index.to_period("M")).median().round(3)
    table.index = table.index.astype(str)
    return table


def water_workflow(catalog: Any, aoi: Any, start: Any, end: Any, settings: WaterSettings | None = None, *,
                   collection: str | None = None, max_cloud: float | None = None,
                   progress: Progress | None = None) -> WaterResult:
    """Water surfaces and quality over ``aoi`` (a water body and its shores) from ``start`` to ``end``.

    Examples
    --------
    >>> r = water_workflow("demo", (6.272, 45.183, 6.294, 45.195), "2024-04-01", "2024-08-31")  # doctest: +SKIP
    >>> r.monthly["turbidity"]                                                                  # doctest: +SKIP
    """
    import terra_lab

    from ..catalog import parse_aoi
    from ..products.water import pure_water, water_mask, water_quality

    settings = settings or WaterSettings()
    report(progress, "search")
    cat, cid, res = search_reflectance(catalog, aoi, start, end, collection=collection, max_cloud=max_cloud)
    report(progress, "read")
    cube = terra_lab.load(res, bands=["green", "red", "rededge1", "nir", "nir08", "swir16"], resolution=20,
                          bbox=parse_aoi(aoi))
    water = water_mask(cube, index=settings.index, threshold=settings.threshold)
    report(progress, "compute")
    quality = water_quality(cube, water, erode=settings.erode).compute()
    quality["water"] = pure_water(water, 0).astype("float32").compute()
    return WaterResult(products=quality, monthly=_monthly(quality),
                       provenance={"catalog": cat.name, "collection": cid, "aoi": str(aoi),
                                   "period": [str(start), str(end)], "items": len(res), "settings": asdict(settings)})
