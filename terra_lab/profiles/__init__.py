"""Declarative collection profiles: asset keys, decoding (scale, nodata, codes, legends) and masks.

A profile maps the names used everywhere in terra_lab to the asset keys of one family of
STAC items and says how their stored numbers decode:

* reflectance products (Sentinel-2, Landsat, Venus L2A, L3A syntheses): *common band names*
  (``blue``, ``green``, ``red``, ``rededge1``-``rededge3``, ``nir``, ``nir08``, ``swir16``,
  ``swir22``), scaled integers to reflectance, mask rasters to named boolean layers
  (``cloud``, ``shadow``, ``snow``, ``water``, ``edge``, ``saturated``);
* thematic products (snow maps, land cover, DEMs, biophysical and water-quality variables):
  variables that are *categorical* (codes with a :class:`Legend` of the producer's colours and
  French/English names) or *continuous* (``value * scale + offset`` in ``units``), each with
  its no-data codes.

Adding a source means adding a profile here, not ``if`` branches elsewhere.

Modules: :mod:`._model` (the dataclasses), :mod:`._legends` (class legends),
:mod:`._optical` (reflectance profiles), :mod:`._thematic` (thematic profiles).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..errors import MissingBandError
from ._landsat import LANDSAT_C2_L2
from ._legends import (
    OSO_2016_TO_2018,
    OSO_LEGEND,
    OSO_LEGEND_2016,
    OSO_NOMENCLATURE,
    OSO_NOMENCLATURE_2016,
    SNOW_L2B_LEGEND,
    WASP_FLAG_LEGEND,
    Legend,
    LegendClass,
    legend_of,
)
from ._model import COMMON_BANDS, KINDS, MASK_LAYERS, BandSpec, CollectionProfile, Decoding, MaskRule
from ._optical import EARTH_SEARCH_S2, LANDSAT_L2A, MUSCATE_S2, S2_L3A, THEIA_STAC_S2, VENUS_VM1_L2A, VENUS_VM5_L2A
from ._sentinel1 import S1_RTC, S1TILING
from ._thematic import BIOPHY_L2B, COP_DEM, DEM, OSO, SNOW_FSC, SNOW_L2B, SNOW_L3B, WATERQUAL_FLAG_LEGEND, WATERQUAL_L2B

__all__ = [
    "BIOPHY_L2B",
    "COMMON_BANDS",
    "COP_DEM",
    "DEM",
    "EARTH_SEARCH_S2",
    "KINDS",
    "LANDSAT_C2_L2",
    "LANDSAT_L2A",
    "MASK_LAYERS",
    "MUSCATE_S2",
    "OSO",
    "OSO_2016_TO_2018",
    "OSO_LEGEND",
    "OSO_LEGEND_2016",
    "OSO_NOMENCLATURE",
    "OSO_NOMENCLATURE_2016",
    "PROFILES",
    "S1TILING",
    "S1_RTC",
    "S2_L3A",
    "SNOW_FSC",
    "SNOW_L2B",
    "SNOW_L2B_LEGEND",
    "SNOW_L3B",
    "THEIA_STAC_S2",
    "VENUS_VM1_L2A",
    "VENUS_VM5_L2A",
    "WASP_FLAG_LEGEND",
    "WATERQUAL_FLAG_LEGEND",
    "WATERQUAL_L2B",
    "BandSpec",
    "CollectionProfile",
    "Decoding",
    "Legend",
    "LegendClass",
    "MaskRule",
    "legend_of",
    "profile_for_item",
]

#: Every profile, in the order markers are tried (profiles with unique markers first).
PROFILES: Mapping[str, CollectionProfile] = MappingProxyType(
    {
        "snow-l2b": SNOW_L2B,
        "snow-fsc": SNOW_FSC,
        "snow-l3b": SNOW_L3B,
        "oso": OSO,
        "waterqual-l2b": WATERQUAL_L2B,
        "biophy-l2b": BIOPHY_L2B,
        "s2-l3a": S2_L3A,
        "landsat-l2a": LANDSAT_L2A,
        "landsat-c2-l2": LANDSAT_C2_L2,
        "venus-vm1-l2a": VENUS_VM1_L2A,
        "venus-vm5-l2a": VENUS_VM5_L2A,
        "muscate": MUSCATE_S2,
        "theia-stac": THEIA_STAC_S2,
        "earth-search": EARTH_SEARCH_S2,
        "dem": DEM,
        "cop-dem": COP_DEM,
        "s1tiling": S1TILING,
        "s1-rtc": S1_RTC,
    }
)


def profile_for_item(item: Mapping) -> CollectionProfile:
    """The profile of an item (a STAC dict): by its collection id, else by its marker assets.

    A collection may hold several formats (THEIA snow L2B: ``SNW_R2`` products, then LIS 1.7's
    ``FSC``): its profiles are told apart by their markers; a collection with one profile needs none.
    """
    collection = item.get("collection")
    assets = item.get("assets", {})
    by_id = [p for p in PROFILES.values() if collection and collection in p.collections]
    marked = [p for p in by_id if any(a in assets for a in p.marker_assets)]
    if marked or len(by_id) == 1:
        return (marked or by_id)[0]
    platform = str(item.get("properties", {}).get("platform", "")).lower()
    for profile in PROFILES.values():
        if profile.platforms and not any(platform.startswith(p) for p in profile.platforms):
            continue
        if any(a in assets for a in profile.marker_assets):
            return profile
    raise MissingBandError(
        f"item {item.get('id')!r} of collection {collection!r} matches no collection "
        f"profile (its assets: {sorted(assets)[:12]}); terra_lab knows {list(PROFILES)}. "
        "Add a CollectionProfile in terra_lab.profiles for this source."
    )
