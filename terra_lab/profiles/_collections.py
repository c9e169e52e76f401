"""Collection ids of the catalogues that serve THEIA's products (CNES GEODES), and of Copernicus DEM GLO-30.

GEODES ids are listed by ``https://geodes-portal.cnes.fr/api/stac/collections``.  The snow L3B
id follows GEODES' naming of the L2B one and the Venus VM1 id that of VM5; neither was checked
against the live catalogue.
"""

from __future__ import annotations

__all__ = [
    "BIOPHY_L2B_COLLECTION",
    "COP_DEM_COLLECTION",
    "LANDSAT8_L2A_COLLECTION",
    "LANDSAT_C2_L2_COLLECTION",
    "METEO_STATIONS_COLLECTION",
    "OSO_COLLECTION",
    "S1TILING_COLLECTION",
    "S1_RTC_COLLECTION",
    "S2_L3A_COLLECTION",
    "SNOW_L2B_COLLECTION",
    "SNOW_L3B_COLLECTION",
    "USGS_LANDSAT_C2L2_SR_COLLECTION",
    "USGS_LANDSAT_C2L2_ST_COLLECTION",
    "VENUS_L2A_COLLECTION",
    "VENUS_VM5_L2A_COLLECTION",
    "WATERQUAL_L2B_COLLECTION",
]

SNOW_L2B_COLLECTION = "THEIA_SNOW_SENTINEL2_L2B"
SNOW_L3B_COLLECTION = "THEIA_SNOW_SENTINEL2_L3B"
OSO_COLLECTION = "THEIA_OSO_RASTER_L3B"
S2_L3A_COLLECTION = "THEIA_REFLECTANCE_SENTINEL2_L3A"
LANDSAT8_L2A_COLLECTION = "THEIA_REFLECTANCE_LANDSAT8_L2A"
VENUS_L2A_COLLECTION = "THEIA_REFLECTANCE_VENUS_L2A"
VENUS_VM5_L2A_COLLECTION = "THEIA_REFLECTANCE_VENUS_VM5_L2A"
WATERQUAL_L2B_COLLECTION = "THEIA_WATERQUAL_SENTINEL2_L2B"
BIOPHY_L2B_COLLECTION = "THEIA_BIOPHY_SENTINEL2_L2B"
#: Planetary Computer and Earth Search id of Landsat Collection 2 Level-2 (SR + ST in one item).
LANDSAT_C2_L2_COLLECTION = "landsat-c2-l2"
#: USGS STAC server ids of Landsat Collection 2 Level-2 (reflectance and temperature items apart).
USGS_LANDSAT_C2L2_SR_COLLECTION = "landsat-c2l2-sr"
USGS_LANDSAT_C2L2_ST_COLLECTION = "landsat-c2l2-st"
#: Earth Search and Microsoft Planetary Computer id of Copernicus DEM GLO-30.
COP_DEM_COLLECTION = "cop-dem-glo-30"
#: GEODES id of THEIA's S1Tiling Sentinel-1 products (THEIA naming; not checked against the live catalogue).
S1TILING_COLLECTION = "THEIA_S1TILING_SENTINEL1_L1"
#: Microsoft Planetary Computer id of its Sentinel-1 radiometrically terrain-corrected COGs.
S1_RTC_COLLECTION = "sentinel-1-rtc"
#: terra_lab's id of a collection of weather stations (one item per station, CSV tables: the demo's).
METEO_STATIONS_COLLECTION = "terra-lab-demo-meteo-stations"
