"""MAJA mask decoding (every bit of CLM, MG2, SAT) and cloud percentages per date.

Bit meanings follow the THEIA/MUSCATE L2A product format [1]_; the tables (:data:`CLM_BITS`,
:data:`MG2_BITS`, :data:`SAT_BITS`) are defined once, in :mod:`terra_lab.profiles._maja`.

References
----------
.. [1] CNES/CESBIO, THEIA Sentinel-2 L2A product format (MUSCATE),
   https://labo.obs-mip.fr/multitemp/sentinel-2/theias-sentinel-2-l2a-product-format/
.. [2] fordead (INRAE), ``get_date_cloudiness_perc``: cloudiness = share of in-swath pixels
   (B11 != nodata) whose CLM_R2 is not 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from ..profiles._maja import CLM_BITS, MG2_BITS, SAT_BITS
from ._common import require, with_provenance

__all__ = ["CLM_BITS", "MG2_BITS", "SAT_BITS", "aoi_mask", "cloud_percentage", "decode_bits", "decode_clm", "decode_mg2",
           "decode_sat"]

def decode_bits(mask: xr.DataArray, table: Mapping[int, str]) -> xr.Dataset:
    """One boolean variable per bit of ``table`` (lazy)."""
    ints = mask.fillna(0).astype(np.uint8) if mask.dtype.kind == "f" else mask.astype(np.uint8)
    out = xr.Dataset({name: (ints & np.uint8(1 << bit)) != 0 for bit, name in table.items()})
    for bit, name in table.items():
        out[name].attrs.update(long_name=name.replace("_", " "), bit=bit)
    return out


def decode_clm(mask: xr.DataArray) -> xr.Dataset:
    """Every bit of a MAJA CLM cloud mask (see :data:`CLM_BITS`)."""
    return decode_bits(mask, CLM_BITS)


def decode_mg2(mask: xr.DataArray) -> xr.Dataset:
    """Every bit of a MAJA MG2 geophysical mask (see :data:`MG2_BITS`)."""
    return decode_bits(mask, MG2_BITS)


def decode_sat(mask: xr.DataArray, resolution: str = "R2") -> xr.Dataset:
    """Saturated pixels per band of a MAJA SAT mask (``resolution``: R1 for 10 m, R2 for 20 m)."""
    return decode_bits(mask, {b: f"saturated_{name}" for b, name in SAT_BITS[resolution].items()})


def aoi_mask(cube: xr.Dataset | xr.DataArray, aoi: Any) -> xr.DataArray:
    """Boolean (y, x) mask of the pixels whose centre falls inside ``aoi`` (no pixel is read)."""
    import geopandas as gpd
    import rasterio.features

    from ..catalog._query import parse_aoi

    geom = gpd.GeoSeries([parse_aoi(aoi)], crs="EPSG:4326").to_crs(cube.rio.crs).iloc[0]
    inside = ~rasterio.features.geometry_mask(
        [geom], out_shape=(cube.sizes["y"], cube.sizes["x"]), transform=cube.rio.transform(recalc=True)
    )
    return xr.DataArray(inside, dims=("y", "x"), coords={"y": cube["y"], "x": cube["x"]})


def cloud_percentage(cube: xr.Dataset, *, aoi: Any = None, definition: str = "clm") -> xr.DataArray:
    """Percentage of cloudy pixels among valid pixels, per date (NaN for a date without valid pixel).

    Parameters
    ----------
    cube
        From :func:`terra_lab.load`; ``definition="clm"`` needs ``raw_masks=True``.
    aoi
        Restrict to this area (any form :func:`terra_lab.catalog.parse_aoi` accepts).
    definition
        ``"clm"``: any CLM bit set, as fordead's cloudiness [2]_ (clouds, thin clouds, shadows);
        ``"layers"``: the cube's ``cloud`` or ``shadow`` layers.
    """
    if definition == "clm":
        require(cube, ["CLM"], "cloud_percentage(definition='clm') (load with raw_masks=True)")
        cloudy = cube["CLM"] != 0
    elif definition == "layers":
        require(cube, ["cloud", "shadow"], "cloud_percentage")
        cloudy = cube["cloud"] | cube["shadow"]
    else:
        raise ValueError(f"definition={definition!r}: use 'clm' or 'layers'")
    if "edge" in cube:
        valid = ~cube["edge"]
    else:
        bands = [str(v) for v in cube.data_vars if cube[v].dtype.kind == "f"]
        require(cube, bands[:1] or ["a reflectance band"], "cloud_percentage")
        valid = cube[bands[0]].notnull()
    if aoi is not None:
        valid = valid & aoi_mask(cube, aoi)
    n_valid = valid.sum(("y", "x"))
    pct = 100.0 * (cloudy & valid).sum(("y", "x")) / n_valid.where(n_valid > 0)
    pct = pct.rename("cloud_percentage")
    pct.attrs.update(units="%", long_name=f"cloudy pixels among valid pixels ({definition})")
    return with_provenance(pct, algorithm="cloud percentage per date", params={"definition": definition, "aoi": str(aoi)},
                           source=cube)
