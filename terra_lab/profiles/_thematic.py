"""Thematic (non-reflectance) profiles: THEIA snow L2B/L3B, OSO land cover, digital elevation models.

Each variable says how its stored numbers decode (kind, scale, nodata codes, units, legend);
the collection ids are those of CNES GEODES (``https://geodes-portal.cnes.fr/api/stac``).

Sources of the formats
----------------------
* Snow L2B (let-it-snow, LIS): product folders ``SENTINEL2A_YYYYMMDD-HHMMSS-mmm_L2B-SNOW_TXXXXX_C_V2-0``
  holding ``*_SNW_R2.tif`` (uint8, 20 m): 0 no snow, 100 snow, 205 cloud including cloud
  shadow, 254 no data (THEIA snow product page, https://www.theia-land.fr/en/product/snow/;
  let-it-snow README "Products format").  LIS 1.7 and later products write 255 for no data
  (THEIA catalogue, collection LIS_FSC_PREOP: "255: No data"), so both codes read as no data.
* Snow L2B since LIS 1.7 (fractional snow cover, THEIA catalogue collection ``LIS_FSC_PREOP``,
  https://catalogue.theia.data-terra.org/meta/LIS_FSC_PREOP): ``LIS_S2-SNOW-FSC_<tile>_<YYYYMMDDTHHMMSS>_<version>_<n>.tif``
  (uint8: 0 no snow, 1-100 snow cover fraction in percent, 205 cloud including cloud shadow,
  255 no data; permanent water is no data) and ``LIS_S2-SNOW-FSC-QCFLAGS_....tif`` (bits: 0 sun
  too low for the slope correction, 1 sun tangent, 2 water mask, 3 tree cover density > 90%,
  4 snow under thin clouds, 5 tree cover density unknown, 6 FSC in shaded slopes set to 100).
* Snow L3B (LIS annual synthesis, 1 September - 31 August): ``*_SCD_R2.tif`` (snow cover
  duration, days), ``*_SOD_R2.tif`` / ``*_SMD_R2.tif`` (snow onset / melt-out date of the longest
  snow period, day index from 1 September), ``*_NOBS_R2.tif`` (clear observations), uint16
  (file names as in the snowtools documentation of Météo-France, "Theia Snow observations";
  variables as let-it-snow's ``compute_SOD_SMOD.py``).
* OSO land cover (CES OSO, iota2): a 10 m raster of class codes (uint8, 0 = outside France),
  with the classifier's confidence (0-100) and the number of cloud-free dates ("validity");
  the Sentinel Hub description of the product names these three layers ``OCS``,
  ``OCS_Confidence``, ``OCS_Validity``.  Legends in :mod:`terra_lab.profiles._legends`.
* Copernicus DEM GLO-30 as Earth Search and Microsoft Planetary Computer publish it
  (collection ``cop-dem-glo-30``, one COG asset ``data``, float32 metres, EPSG:4326,
  1 arc-second grid).
"""

from __future__ import annotations

from types import MappingProxyType

from ._collections import COP_DEM_COLLECTION, OSO_COLLECTION, SNOW_L2B_COLLECTION, SNOW_L3B_COLLECTION
from ._legends import OSO_2016_TO_2018, OSO_LEGEND, SNOW_L2B_LEGEND
from ._model import BandSpec, CollectionProfile, MaskRule

__all__ = ["COP_DEM", "DEM", "OSO", "SNOW_FSC", "SNOW_L2B", "SNOW_L3B"]

_NO = MappingProxyType({})

SNOW_L2B = CollectionProfile(
    name="THEIA Snow L2B (let-it-snow)",
    bands=MappingProxyType({
        "snow": BandSpec("SNW_R2", 20.0, kind="categorical", nodata=(254, 255), legend=SNOW_L2B_LEGEND,
                         long_name="LIS snow cover (0 no snow, 100 snow, 205 cloud)"),
    }),
    masks=_NO, scale=1.0, offset=0.0, nodata=None, kind="categorical",
    marker_assets=("SNW_R2",), collections=(SNOW_L2B_COLLECTION,),
    description="snow / no snow / cloud at 20 m; 254 (and 255 from LIS 1.7) no data",
)

SNOW_FSC = CollectionProfile(
    name="THEIA Snow L2B FSC (let-it-snow 1.7 and later)",
    bands=MappingProxyType({
        "fsc": BandSpec("FSC", 20.0, nodata=(205, 255), units="%", long_name="fractional snow cover (top of canopy)"),
        "qcflags": BandSpec("QCFLAGS", 20.0, units="1",
                            long_name="LIS quality flags (bits: 0 sun too low, 1 sun tangent, 2 water, 3 tree cover "
                                      "> 90%, 4 snow under thin clouds, 5 tree cover unknown, 6 FSC of shaded slope set to 100)"),
    }),
    masks=MappingProxyType({
        "cloud": (MaskRule("FSC", values=(205,)),),
        "edge": (MaskRule("FSC", values=(255,)),),
        "water": (MaskRule("QCFLAGS", bits=(2,)),),
    }),
    scale=1.0, offset=0.0, nodata=None, kind="continuous",
    marker_assets=("FSC",), collections=(SNOW_L2B_COLLECTION,),
    description="snow cover fraction (%) at 20 m; cloud (205) and no data (255) as mask layers",
)

SNOW_L3B = CollectionProfile(
    name="THEIA Snow L3B (let-it-snow annual synthesis)",
    bands=MappingProxyType({
        "SCD": BandSpec("SCD_R2", 20.0, units="d", long_name="snow cover duration"),
        "SOD": BandSpec("SOD_R2", 20.0, units="d", long_name="snow onset date (day index from 1 September)"),
        "SMOD": BandSpec("SMD_R2", 20.0, units="d", long_name="snow melt-out date (day index from 1 September)"),
        "NOBS": BandSpec("NOBS_R2", 20.0, units="1", long_name="number of clear observations"),
    }),
    masks=_NO, scale=1.0, offset=0.0, nodata=None, kind="continuous",
    marker_assets=("SCD_R2",), collections=(SNOW_L3B_COLLECTION,),
    description="annual snow syntheses of a hydrological year (1 September - 31 August)",
)

OSO = CollectionProfile(
    name="THEIA OSO land cover (CES OSO, iota2)",
    bands=MappingProxyType({
        "landcover": BandSpec("OCS", 10.0, kind="categorical", nodata=(0,), legend=OSO_LEGEND,
                              long_name="OSO land cover (23-class nomenclature)",
                              recode_before=("2018-01-01", OSO_2016_TO_2018)),
        "confidence": BandSpec("OCS_Confidence", 10.0, kind="continuous", units="%", nodata=(0,),
                               long_name="classifier confidence"),
        "validity": BandSpec("OCS_Validity", 10.0, kind="continuous", units="1", long_name="number of cloud-free dates"),
    }),
    masks=_NO, scale=1.0, offset=0.0, nodata=None, kind="categorical",
    marker_assets=("OCS",), collections=(OSO_COLLECTION,),
    description="annual land-cover map of France at 10 m; 2016-2017 maps recoded to the 23 classes",
)

#: Digital elevation models (one ``elevation`` asset, metres), such as the demo's DEM items.
DEM = CollectionProfile(
    name="Digital elevation model",
    bands=MappingProxyType({"elevation": BandSpec("elevation", 20.0, units="m", long_name="elevation")}),
    masks=_NO, scale=1.0, offset=0.0, nodata=-32768, kind="continuous",
    marker_assets=("elevation",),
)

COP_DEM = CollectionProfile(
    name="Copernicus DEM GLO-30",
    bands=MappingProxyType({"elevation": BandSpec("data", 30.0, units="m", long_name="elevation (EGM2008)")}),
    masks=_NO, scale=1.0, offset=0.0, nodata=None, kind="continuous",
    marker_assets=(), collections=(COP_DEM_COLLECTION,),
    description="float32 metres in EPSG:4326 (1 arc-second); load with crs= and resolution= in metres",
)
