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
* Water quality L2B (GEODES ``THEIA_WATERQUAL_SENTINEL2_L2B``; THEIA's inland water colour products,
  CES "Couleur des eaux continentales" / OBS2CO): turbidity (FNU, Dogliotti et al. 2015), suspended
  particulate matter (Nechad et al. 2010) and chlorophyll-a, from Sentinel-2 L2A, with a mask whose 0
  marks the usable water pixels (land and clouds are *not* set to no data in the values: "the user
  needs to specify (mask==0)", DestinE AQWAlytics product pages for the same French Sentinel-2
  water products, https://platform.destine.eu/docs/aqwalytics/doc/products/spm.html and
  .../chla.html).  **Not verified against a delivered product** (no published file description
  was found): the folder name ``SENTINEL2A_YYYYMMDD-HHMMSS-mmm_L2B-WATERQUAL_TXXXXX_C_V1-0``, the
  files ``*_TUR_R2.tif``, ``*_SPM_R2.tif``, ``*_CHL_R2.tif`` (uint16, value x 100, 65535 no data,
  20 m) and ``*_QUALITY_R2.tif`` (uint8 codes of :data:`WATERQUAL_FLAG_LEGEND`, 255 no data) are
  this module's choice, stated in :data:`WATERQUAL_L2B` only.
* Biophysical L2B (GEODES ``THEIA_BIOPHY_SENTINEL2_L2B``; THEIA "VarBio" products of INRAE EMMAH,
  M. Weiss and F. Baret, https://www.theia-land.fr/en/ceslist/vegetation-biophysics-variables-sec/;
  algorithm of the SNAP biophysical processor, ATBD "S2ToolBox Level 2 products: LAI, FAPAR,
  FCOVER" v1.1, http://step.esa.int/docs/extra/ATBD_S2ToolBox_L2B_V1.1.pdf, and its Sentinel-2
  ATBD v3.0, https://hal.inrae.fr/hal-04884986v1): LAI (m2 m-2, strictly the green area index),
  FAPAR and FCOVER (fractions 0-1).  LAI stored as integers x 1000 as in the Sen2-Agri L3B
  products built on the same algorithm ("The LAI values are multiplied by 1000",
  https://forum.esa-sen2agri.org/t/scale-of-lai-product/244).  **Not verified against a
  delivered product**: the folder name ``SENTINEL2A_YYYYMMDD-HHMMSS-mmm_L2B-BIOPHY_TXXXXX_C_V1-0``,
  files ``*_LAI_R2.tif``, ``*_FAPAR_R2.tif``, ``*_FCOVER_R2.tif`` (int16, value x 1000 for all
  three, -10000 no data as MUSCATE, 20 m) and ``*_FLAGS_R2.tif`` (uint8 bits as the SNAP
  processor's ``*_flags``: 0 input out of range, 1 output set to its minimum, 2 output set to its
  maximum; 255 no data), stated in :data:`BIOPHY_L2B` only.
* Copernicus DEM GLO-30 as Earth Search and Microsoft Planetary Computer publish it
  (collection ``cop-dem-glo-30``, one COG asset ``data``, float32 metres, EPSG:4326,
  1 arc-second grid).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ._collections import (
    BIOPHY_L2B_COLLECTION,
    COP_DEM_COLLECTION,
    OSO_COLLECTION,
    SNOW_L2B_COLLECTION,
    SNOW_L3B_COLLECTION,
    WATERQUAL_L2B_COLLECTION,
)
from ._legends import OSO_2016_TO_2018, OSO_LEGEND, SNOW_L2B_LEGEND, Legend, LegendClass
from ._lis import L2B_CLOUD, L2B_NODATA, L2B_NODATA_LIS17, L2B_SNOW
from ._model import BandSpec, CollectionProfile, MaskRule

__all__ = ["BIOPHY_L2B", "COP_DEM", "DEM", "FSC_TO_SNOW", "OSO", "SNOW_FSC", "SNOW_L2B", "SNOW_L3B",
           "WATERQUAL_FLAG_LEGEND", "WATERQUAL_L2B"]

_NO: Mapping[str, tuple[MaskRule, ...]] = MappingProxyType({})

SNOW_L2B = CollectionProfile(
    name="THEIA Snow L2B (let-it-snow)",
    bands=MappingProxyType({
        "snow": BandSpec("SNW_R2", 20.0, kind="categorical", nodata=(L2B_NODATA, L2B_NODATA_LIS17), legend=SNOW_L2B_LEGEND,
                         long_name="LIS snow cover (0 no snow, 100 snow, 205 cloud)"),
    }),
    masks=_NO, scale=1.0, offset=0.0, nodata=None, kind="categorical",
    marker_assets=("SNW_R2",), collections=(SNOW_L2B_COLLECTION,),
    description="snow / no snow / cloud at 20 m; 254 (and 255 from LIS 1.7) no data",
)

#: LIS 1.7+ FSC codes onto LIS' L2B legend: a fraction of 1-100 % is snow (100); 0 (no snow) and 205
#: (cloud) keep their codes.  LIS computes the FSC on the pixels its snow test detects, so FSC > 0 is
#: the SNW_R2 snow class of earlier versions (let-it-snow README, "FSC" products).
FSC_TO_SNOW = MappingProxyType(dict.fromkeys(range(1, 101), L2B_SNOW))
#: ``recode_before`` applies its table to items dated before this date: every LIS 1.7+ item.
_EVERY_ITEM = "2200-01-01"

SNOW_FSC = CollectionProfile(
    name="THEIA Snow L2B FSC (let-it-snow 1.7 and later)",
    bands=MappingProxyType({
        "fsc": BandSpec("FSC", 20.0, nodata=(L2B_CLOUD, L2B_NODATA_LIS17), units="%",
                        long_name="fractional snow cover (top of canopy)"),
        "qcflags": BandSpec("QCFLAGS", 20.0, units="1",
                            long_name="LIS quality flags (bits: 0 sun too low, 1 sun tangent, 2 water, 3 tree cover "
                                      "> 90%, 4 snow under thin clouds, 5 tree cover unknown, 6 FSC of shaded slope set to 100)"),
        # the same variable as SNOW_L2B's: a cube spans products of both LIS versions
        "snow": BandSpec("FSC", 20.0, kind="categorical", nodata=(L2B_NODATA, L2B_NODATA_LIS17), legend=SNOW_L2B_LEGEND,
                         long_name="LIS snow cover (0 no snow, 100 snow, 205 cloud)",
                         recode_before=(_EVERY_ITEM, FSC_TO_SNOW)),
    }),
    masks=MappingProxyType({
        "cloud": (MaskRule("FSC", values=(L2B_CLOUD,)),),
        "edge": (MaskRule("FSC", values=(L2B_NODATA_LIS17,)),),
        "water": (MaskRule("QCFLAGS", bits=(2,)),),
    }),
    scale=1.0, offset=0.0, nodata=None, kind="continuous",
    marker_assets=("FSC",), collections=(SNOW_L2B_COLLECTION,),
    description="snow cover fraction (%) at 20 m; cloud (205) and no data (255) as mask layers",
)

#: Water-quality flags (codes of ``*_QUALITY_R2.tif``): 0 marks the usable water pixels (DestinE
#: AQWAlytics: "mask==0").  The other codes and the colours are this module's choice (not verified).
WATERQUAL_FLAG_LEGEND = Legend("THEIA water quality L2B flags", MappingProxyType({
    0: LegendClass("#0000ff", "Eau, valeur valide", "Water, valid value"),
    1: LegendClass("#8c6d31", "Terre", "Land"),
    2: LegendClass("#ffffff", "Nuage ou ombre de nuage", "Cloud or cloud shadow"),
    3: LegendClass("#ff0000", "Hors du domaine de l'algorithme", "Outside the algorithm's range"),
}), "DestinE AQWAlytics product pages (mask==0 usable); other codes not verified against a delivered product")

WATERQUAL_L2B = CollectionProfile(
    name="THEIA water quality L2B (Sentinel-2)",
    bands=MappingProxyType({
        "turbidity": BandSpec("TUR_R2", 20.0, scale=0.01, nodata=(65535,), units="FNU",
                              long_name="turbidity (Dogliotti et al. 2015)"),
        "spm": BandSpec("SPM_R2", 20.0, scale=0.01, nodata=(65535,), units="g m-3",
                        long_name="suspended particulate matter (Nechad et al. 2010)"),
        "chla": BandSpec("CHL_R2", 20.0, scale=0.01, nodata=(65535,), units="mg m-3", long_name="chlorophyll-a"),
        "quality": BandSpec("QUALITY_R2", 20.0, kind="categorical", nodata=(255,), legend=WATERQUAL_FLAG_LEGEND,
                            long_name="water-quality flags (0 usable water)"),
    }),
    masks=MappingProxyType({
        "water": (MaskRule("QUALITY_R2", values=(0, 3)),),
        "cloud": (MaskRule("QUALITY_R2", values=(2,)),),
        "edge": (MaskRule("QUALITY_R2", values=(255,)),),
    }),
    scale=1.0, offset=0.0, nodata=None, kind="continuous",
    marker_assets=("TUR_R2",), collections=(WATERQUAL_L2B_COLLECTION,),
    description="turbidity (FNU), SPM (g m-3), chlorophyll-a (mg m-3) at 20 m; use where quality == 0",
)

BIOPHY_L2B = CollectionProfile(
    name="THEIA biophysical variables L2B (VarBio, Sentinel-2)",
    bands=MappingProxyType({
        "lai": BandSpec("LAI_R2", 20.0, units="m2 m-2", long_name="leaf area index (green area index)"),
        "fapar": BandSpec("FAPAR_R2", 20.0, units="1", long_name="fraction of absorbed photosynthetically active radiation"),
        "fcover": BandSpec("FCOVER_R2", 20.0, units="1", long_name="fraction of green vegetation cover"),
        "flags": BandSpec("FLAGS_R2", 20.0, scale=1.0, nodata=(255,), units="1",
                          long_name="retrieval flags (bits: 0 input out of range, 1 output set to its minimum, "
                                    "2 output set to its maximum)"),
    }),
    masks=_NO, scale=0.001, offset=0.0, nodata=-10000, kind="continuous",
    marker_assets=("LAI_R2",), collections=(BIOPHY_L2B_COLLECTION,),
    description="LAI, FAPAR, FCOVER at 20 m, integers x 1000 with -10000 for no data (clouds, edges)",
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
