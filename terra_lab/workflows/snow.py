"""Snow workflow: LIS L2B snow maps and the L3B synthesis (SCD, SOD, SMOD, NOBS) of a hydrological year.

Reflectance and DEM come from one catalogue (:mod:`terra_lab.workflows._aux`); the work is done
by :mod:`terra_lab.products.snow`.  No user interface here: the snow dashboard displays the result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..products.params import LisParams
from ._aux import find_collection, load_dem
from ._progress import Progress, report
from ._search import search_reflectance

__all__ = ["PRESETS", "LisParams", "SnowResult", "SnowSettings", "elevation_band_table", "snow_workflow"]


#: The snow workflow's settings are LIS' parameters (defaults: the published Sentinel-2 values).
SnowSettings = LisParams

#: thresholds by landscape type (THEIA on-demand services offer such presets); "alpine" is LIS' defaults
PRESETS: dict[str, LisParams] = {
    "alpine": LisParams(),
    "forested mountains": LisParams(red_pass1=0.15),
    "low mountains": LisParams(ndsi_pass1=0.45, ndsi_pass2=0.20, red_pass2=0.06),
}


@dataclass(frozen=True)
class SnowResult:
    """What :func:`snow_workflow` computed (arrays in memory, on the cube's 20 m grid)."""

    year: int
    annual: xr.Dataset            #: L3B: SCD (days), SOD, SMOD (day index from 1 September), NOBS
    l2b: xr.DataArray             #: L2B codes per date (0 no snow, 100 snow, 205 cloud, 254 no data)
    snowlines: xr.Dataset         #: the snowline zs (m) of each date
    elevation: xr.DataArray       #: the DEM (m) on the same grid
    elevation_bands: pd.DataFrame  #: SCD mean / median / count per 200 m elevation band
    provenance: dict = field(default_factory=dict)


def elevation_band_table(scd: xr.DataArray, elevation: xr.DataArray, band: float = 200.0) -> pd.DataFrame:
    """Mean, median and pixel count of ``scd`` per ``band``-metre elevation band (pixels without elevation left out)."""
    bands = (np.floor(elevation.values / band) * band).astype("float")
    df = pd.DataFrame({"elevation band (m)": bands.ravel(), "SCD (days)": np.asarray(scd.values, float).ravel()})
    df = df[np.isfinite(df["elevation band (m)"])]
    return df.groupby("elevation band (m)")["SCD (days)"].agg(["mean", "median", "count"]).round(1)


def snow_workflow(catalog: Any, aoi: Any, year: int, settings: SnowSettings | None = None, *,
                  collection: str | None = None, dem_collection: str | None = None,
                  max_cloud: float | None = None, progress: Progress | None = None) -> SnowResult:
    """LIS snow products of the hydrological year ``year`` (1 September ``year`` - 31 August) over ``aoi``.

    Parameters
    ----------
    catalog
        A catalogue or its name (``"demo"``, ``"theia"``, a local catalogue's folder...).
    aoi
        Area of interest (see :func:`terra_lab.catalog.parse_aoi`).
    year
        First calendar year of the hydrological year.
    settings
        LIS parameters (default :class:`~terra_lab.products.params.LisParams`, the published
        values; see :data:`PRESETS`).
    collection, dem_collection
        Reflectance and DEM collection ids (default: found in the catalogue by kind).
    max_cloud
        Maximum cloud cover of the items (percent).
    progress
        Called with each step's name as it starts (see :mod:`terra_lab.workflows._progress`).

    Returns
    -------
    SnowResult

    Examples
    --------
    >>> r = snow_workflow("demo", (6.28, 45.17, 6.34, 45.21), 2023)      # doctest: +SKIP
    >>> r.annual["SCD"].median()                                          # doctest: +SKIP
    """
    import terra_lab

    from ..catalog import parse_aoi
    from ..products.snow import snow_l2b, snow_l3b, snowline

    settings = settings or SnowSettings()
    # L3B interpolates from the clear dates just outside the year too
    start, end = f"{year}-08-15", f"{year + 1}-09-15"
    report(progress, "search")
    cat, cid, res = search_reflectance(catalog, aoi, start, end, collection=collection, max_cloud=max_cloud)
    dem_id = find_collection(cat, "dem", dem_collection)
    report(progress, "read")
    cube = terra_lab.load(res, bands=["green", "red", "swir16"], resolution=20, raw_masks=True, bbox=parse_aoi(aoi),
                          chunks={"time": -1, "y": 1008, "x": 1008})
    elevation = load_dem(cat, cube, collection=dem_id)
    th = asdict(settings)
    report(progress, "compute")
    lines = snowline(cube, elevation, settings).compute()
    # the L2B codes are kept in memory (1 byte per pixel-date) for per-pixel series
    l2b = snow_l2b(cube, elevation, settings, snowlines=lines).persist()
    annual = snow_l3b(l2b, year).compute()
    elevation = elevation.compute()
    return SnowResult(
        year=year, annual=annual, l2b=l2b, snowlines=lines, elevation=elevation,
        elevation_bands=elevation_band_table(annual["SCD"], elevation),
        provenance={"catalog": cat.name, "collection": cid, "dem_collection": dem_id, "aoi": str(aoi),
                    "period": [start, end], "items": len(res), "settings": th},
    )
