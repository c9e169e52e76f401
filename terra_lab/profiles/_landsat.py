"""Landsat 8/9 Collection 2 Level-2 (surface reflectance and surface temperature) as the large providers serve it.

USGS Collection 2 Level-2 science products [1]_, as Microsoft Planetary Computer, Element 84 Earth
Search (collection ``landsat-c2-l2``) and the USGS STAC server (``landsat-c2l2-sr`` /
``landsat-c2l2-st``) publish them: one COG per band, asset keys by common name (``coastal``...
``swir22``, ``lwir11`` for band 10, ``qa_pixel``).

Decoding (Landsat 8-9 C2 L2 Science Product Guide [1]_, table 6-1):

* surface reflectance ``SR_B1``..``SR_B7`` (uint16): ``value * 2.75e-05 - 0.2``, nodata 0;
* surface temperature ``ST_B10`` (uint16): ``value * 0.00341802 + 149.0`` kelvin, nodata 0;
* ``QA_PIXEL`` (uint16) bits: 0 fill, 1 dilated cloud, 2 cirrus, 3 cloud, 4 cloud shadow,
  5 snow, 6 clear, 7 water (8-15: confidence pairs, not used here).

Items usually declare the scale and offset of each asset in ``raster:bands`` (Planetary Computer,
Earth Search); those declared values are used when present (:attr:`CollectionProfile.item_scale`),
else the band's defaults above.

THEIA's Landsat 8/9 L2A (``THEIA_REFLECTANCE_LANDSAT8_L2A``, :data:`~terra_lab.profiles.LANDSAT_L2A`)
is a MUSCATE/MAJA surface *reflectance* product: it carries **no thermal band**, so surface
temperature (and the energy-balance evapotranspiration of :mod:`terra_lab.products.evapotranspiration`)
needs these Collection 2 Level-2 items.

References
----------
.. [1] USGS, *Landsat 8-9 Collection 2 (C2) Level 2 Science Product (L2SP) Guide*, LSDS-1619
   version 6.0 (2023), https://www.usgs.gov/media/files/landsat-8-9-collection-2-level-2-science-product-guide
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from . import _collections as C
from ._model import BandSpec, CollectionProfile, MaskRule

__all__ = ["LANDSAT_C2_L2", "QA_PIXEL_BITS", "SR_OFFSET", "SR_SCALE", "ST_OFFSET", "ST_SCALE"]

#: Surface reflectance scale and offset of Collection 2 Level-2 [1]_.
SR_SCALE, SR_OFFSET = 2.75e-05, -0.2
#: Surface temperature (K) scale and offset of Collection 2 Level-2 [1]_.
ST_SCALE, ST_OFFSET = 0.00341802, 149.0

#: QA_PIXEL bit -> meaning (bit 0 least significant) [1]_.
QA_PIXEL_BITS: Mapping[int, str] = MappingProxyType({
    0: "fill", 1: "dilated_cloud", 2: "cirrus", 3: "cloud", 4: "cloud_shadow", 5: "snow", 6: "clear", 7: "water",
})

# common name -> (asset key, OLI/TIRS band, centre wavelength um); B5 (865 nm) is named nir (as for
# THEIA's Landsat) so that indices written for nir work, and nir08 too.
_SR = {
    "coastal": ("coastal", "B1", 0.443),
    "blue": ("blue", "B2", 0.482),
    "green": ("green", "B3", 0.561),
    "red": ("red", "B4", 0.655),
    "nir": ("nir08", "B5", 0.865),
    "swir16": ("swir16", "B6", 1.609),
    "swir22": ("swir22", "B7", 2.201),
}

_BANDS = {
    **{common: BandSpec(asset, 30.0, wl, units="1", long_name=f"surface reflectance SR_{band}")
       for common, (asset, band, wl) in _SR.items()},
    "lwir11": BandSpec("lwir11", 30.0, 10.9, kind="continuous", scale=ST_SCALE, offset=ST_OFFSET, units="K",
                       long_name="surface temperature ST_B10"),
}

#: Landsat 8/9 Collection 2 Level-2 (SR + ST) of Planetary Computer, Earth Search and USGS [1]_.
LANDSAT_C2_L2 = CollectionProfile(
    name="Landsat 8/9 Collection 2 Level-2 (USGS)",
    bands=MappingProxyType(_BANDS),
    masks=MappingProxyType({
        "cloud": (MaskRule("qa_pixel", bits=(1, 2, 3)),),
        "shadow": (MaskRule("qa_pixel", bits=(4,)),),
        "snow": (MaskRule("qa_pixel", bits=(5,)),),
        "water": (MaskRule("qa_pixel", bits=(7,)),),
        "edge": (MaskRule("qa_pixel", bits=(0,)),),
    }),
    scale=SR_SCALE,
    offset=SR_OFFSET,
    nodata=0,
    marker_assets=("qa_pixel", "lwir11"),
    collections=(C.LANDSAT_C2_L2_COLLECTION, C.USGS_LANDSAT_C2L2_SR_COLLECTION, C.USGS_LANDSAT_C2L2_ST_COLLECTION),
    platforms=("landsat",),
    item_scale=True,
    description="SR_B1..B7 x 2.75e-05 - 0.2, ST_B10 x 0.00341802 + 149 K, QA_PIXEL bits; no raster:bands: these defaults",
)
