"""Optical (reflectance) profiles: Sentinel-2 L2A (THEIA/MUSCATE, THEIA STAC API, Earth Search), L3A, Landsat, Venus.

References
----------
.. [1] CNES, *Format of the Sentinel-2 L2A products of MUSCATE (MAJA)*,
   https://labo.obs-mip.fr/multitemp/sentinel-2/majas-native-sentinel-2-format/
.. [2] ESA, *Sentinel-2 L2A Scene Classification (SCL)*, product specification.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from . import _collections as C
from ._maja import CLM_CLOUD, CLM_SHADOW, MG2_SNOW, MG2_WATER
from ._model import BandSpec, CollectionProfile, MaskRule

__all__ = [
    "EARTH_SEARCH_S2",
    "LANDSAT_L2A",
    "MUSCATE_MASKS",
    "MUSCATE_S2",
    "S2_BANDS",
    "S2_L3A",
    "THEIA_STAC_S2",
    "VENUS_VM1_L2A",
    "VENUS_VM5_L2A",
    "muscate_bands",
]


def muscate_bands(template: str, table: Mapping[str, tuple[str, float, float]]) -> Mapping[str, BandSpec]:
    return MappingProxyType(
        {
            common: BandSpec(template.format(s2=s2), res, wl, s2)
            for common, (s2, res, wl) in table.items()
        }
    )


# Sentinel-2 MSI bands: common name -> (S2 name, native resolution m, centre wavelength um)
S2_BANDS = {
    "blue": ("B2", 10.0, 0.490),
    "green": ("B3", 10.0, 0.560),
    "red": ("B4", 10.0, 0.665),
    "rededge1": ("B5", 20.0, 0.705),
    "rededge2": ("B6", 20.0, 0.740),
    "rededge3": ("B7", 20.0, 0.783),
    "nir": ("B8", 10.0, 0.842),
    "nir08": ("B8A", 20.0, 0.865),
    "swir16": ("B11", 20.0, 1.610),
    "swir22": ("B12", 20.0, 2.190),
}

#: MAJA masks of every MUSCATE L2A product (Sentinel-2, Landsat, Venus) [1]_.
#: CLM bits: 0 summary (clouds or shadows), 1 all clouds except the thinnest,
#: 2 clouds by mono-temporal (blue) threshold, 3 clouds by multi-temporal test,
#: 4 thinnest clouds, 5 cloud shadows, 6 shadows of clouds outside the image,
#: 7 high clouds (cirrus band).  MG2 bits: 0 water, 1 all clouds (except
#: thinnest), 2 snow, 3 cloud shadows, 4 topographic shadows, 5 hidden faces,
#: 6 sun too low, 7 sun tangent.  EDG: 1 where no data; SAT: one bit per band.
#: ``{res}``: R1/R2 for Sentinel-2, XS for Landsat and Venus (one mask resolution).
#: The bit numbers come from the one table, :mod:`terra_lab.profiles._maja`.
MUSCATE_MASKS: Mapping[str, tuple[MaskRule, ...]] = MappingProxyType(
    {
        "cloud": (MaskRule("CLM_{res}", bits=CLM_CLOUD),),
        "shadow": (MaskRule("CLM_{res}", bits=CLM_SHADOW),),
        "snow": (MaskRule("MG2_{res}", bits=MG2_SNOW),),
        "water": (MaskRule("MG2_{res}", bits=MG2_WATER),),
        "edge": (MaskRule("EDG_{res}", nonzero=True),),
        "saturated": (MaskRule("SAT_{res}", nonzero=True),),
    }
)

#: THEIA / MUSCATE Sentinel-2 L2A (MAJA) products [1]_: int16 x 10000, nodata -10000.
MUSCATE_S2 = CollectionProfile(
    name="THEIA MUSCATE Sentinel-2 L2A (MAJA)",
    bands=muscate_bands("{{level}}_{s2}", S2_BANDS),
    masks=MUSCATE_MASKS,
    scale=1e-4,
    offset=0.0,
    nodata=-10000,
    marker_assets=("FRE_B2", "SRE_B2"),
    levels=("FRE", "SRE"),
    mask_resolutions=MappingProxyType({10.0: "R1", 20.0: "R2"}),
    description="FRE (flat reflectance, slope corrected) or SRE (surface reflectance)",
)

#: Element 84 Earth Search v1 ``sentinel-2-l2a`` (COGs of ESA L2A, SCL masks) [2]_.
#: Items carry ``raster:bands`` scale 0.0001 / offset -0.1 after baseline 04.00;
#: the profile default matches those recent items.
EARTH_SEARCH_S2 = CollectionProfile(
    name="Earth Search Sentinel-2 L2A",
    bands=MappingProxyType(
        {common: BandSpec(common, res, wl, s2) for common, (s2, res, wl) in S2_BANDS.items()}
    ),
    masks=MappingProxyType(
        {
            "cloud": (MaskRule("scl", values=(8, 9, 10)),),
            "shadow": (MaskRule("scl", values=(3,)),),
            "snow": (MaskRule("scl", values=(11,)),),
            "water": (MaskRule("scl", values=(6,)),),
            "edge": (MaskRule("scl", values=(0,)),),
            "saturated": (MaskRule("scl", values=(1,)),),
        }
    ),
    scale=1e-4,
    offset=-0.1,
    nodata=0,
    marker_assets=("scl", "nir08"),
)

#: The THEIA STAC API (``https://api.stac.teledetection.fr``, collection
#: ``sentinel2-l2a-theia``): the same MAJA products, FRE bands under ``B02``...``B12``
#: keys, masks under ``CLM_R1``... (hrefs signed with the ``teledetection`` package by
#: ``terra_lab.catalog.open("theia")``, and signed again when they expire).
THEIA_STAC_S2 = CollectionProfile(
    name="THEIA STAC API Sentinel-2 L2A (MAJA)",
    bands=MappingProxyType(
        {common: BandSpec(s2.replace("B", "B0") if len(s2) == 2 else s2, res, wl, s2)
         for common, (s2, res, wl) in S2_BANDS.items()}
    ),
    masks=MUSCATE_S2.masks,
    scale=1e-4,
    offset=0.0,
    nodata=-10000,
    marker_assets=("B02",),
    levels=("FRE",),  # the API serves the flat reflectance only: level="SRE" must fail, not relabel FRE
    mask_resolutions=MUSCATE_S2.mask_resolutions,
)

#: THEIA L3A monthly syntheses of Sentinel-2 (WASP, Hagolle et al. 2018,
#: doi:10.5281/zenodo.1401360): ``SENTINEL2X_YYYYMMDD-000000-000_L3A_TXXXXX_C_V1-1`` folders with
#: ``*_FRC_B2.tif``... (weighted-average reflectance, int16 x 10000, nodata -10000) and
#: ``MASKS/*_FLG_R1.tif`` / ``*_FLG_R2.tif`` flags: 0 no data, 1 cloud (cloudy on every date),
#: 2 snow, 3 water, 4 land (legend: :data:`~terra_lab.profiles.WASP_FLAG_LEGEND`).  ``raw_masks=True``
#: keeps the flag codes as the ``FLG`` variable.
S2_L3A = CollectionProfile(
    name="THEIA Sentinel-2 L3A (WASP monthly synthesis)",
    bands=muscate_bands("FRC_{s2}", S2_BANDS),
    masks=MappingProxyType(
        {
            "cloud": (MaskRule("FLG_{res}", values=(1,)),),
            "snow": (MaskRule("FLG_{res}", values=(2,)),),
            "water": (MaskRule("FLG_{res}", values=(3,)),),
            "edge": (MaskRule("FLG_{res}", values=(0,)),),
        }
    ),
    scale=1e-4,
    offset=0.0,
    nodata=-10000,
    marker_assets=("FRC_B2",),
    mask_resolutions=MUSCATE_S2.mask_resolutions,
    collections=(C.S2_L3A_COLLECTION,),
    description="monthly weighted-average synthesis; FLG flags 0 no data, 1 cloud, 2 snow, 3 water, 4 land",
)

# Landsat 8/9 OLI bands in MUSCATE L2A products: common name -> (band, resolution m, centre um).
# B5 (865 nm) is the only NIR band: named ``nir`` so that indices written for nir work.
LANDSAT_BANDS = {
    "coastal": ("B1", 30.0, 0.443),
    "blue": ("B2", 30.0, 0.482),
    "green": ("B3", 30.0, 0.561),
    "red": ("B4", 30.0, 0.655),
    "nir": ("B5", 30.0, 0.865),
    "swir16": ("B6", 30.0, 1.609),
    "swir22": ("B7", 30.0, 2.201),
}

#: THEIA / MUSCATE Landsat 8 and 9 L2A (MAJA): ``LANDSAT8-OLITIRS-XS_YYYYMMDD-HHMMSS-mmm_L2A_TXXXXX_C_V2-2``
#: folders, ``*_FRE_B1.tif``...``*_FRE_B7.tif`` (30 m, int16 x 10000, nodata -10000) and masks at
#: one resolution ``MASKS/*_{CLM,MG2,EDG,SAT}_XS.tif`` (same bits as Sentinel-2) [1]_.
LANDSAT_L2A = CollectionProfile(
    name="THEIA MUSCATE Landsat 8/9 L2A (MAJA)",
    bands=muscate_bands("{{level}}_{s2}", LANDSAT_BANDS),
    masks=MUSCATE_MASKS,
    scale=1e-4,
    offset=0.0,
    nodata=-10000,
    marker_assets=("FRE_B1", "SRE_B1"),
    levels=("FRE", "SRE"),
    mask_resolutions=MappingProxyType({30.0: "XS"}),
    collections=(C.LANDSAT8_L2A_COLLECTION,),
    platforms=("landsat",),
)

# Venus VSSC bands: common name -> (band, resolution m (VM1), centre um).  B5 and B6 are the same
# 620 nm band seen by two detectors (stereo); B1 (424 nm) is named ``violet``.
VENUS_BANDS = {
    "violet": ("B1", 5.0, 0.424),
    "coastal": ("B2", 5.0, 0.447),
    "blue": ("B3", 5.0, 0.492),
    "green": ("B4", 5.0, 0.555),
    "yellow": ("B5", 5.0, 0.620),
    "yellow2": ("B6", 5.0, 0.620),
    "red": ("B7", 5.0, 0.666),
    "rededge1": ("B8", 5.0, 0.702),
    "rededge2": ("B9", 5.0, 0.741),
    "rededge3": ("B10", 5.0, 0.782),
    "nir": ("B11", 5.0, 0.861),
    "nir09": ("B12", 5.0, 0.909),
}


def _venus(phase: str, res: float, collection: str) -> CollectionProfile:
    return CollectionProfile(
        name=f"THEIA MUSCATE Venus {phase} L2A (MAJA)",
        bands=muscate_bands("{{level}}_{s2}", {k: (b, res, wl) for k, (b, _, wl) in VENUS_BANDS.items()}),
        masks=MUSCATE_MASKS,
        scale=1e-4,
        offset=0.0,
        nodata=-10000,
        marker_assets=("FRE_B12", "SRE_B12"),
        levels=("FRE", "SRE"),
        mask_resolutions=MappingProxyType({res: "XS"}),
        collections=(collection,),
        platforms=("venus",),
        description=f"12 bands at {res:g} m, masks at one resolution (XS)",
    )


#: THEIA / MUSCATE Venus L2A: ``VENUS-XS_YYYYMMDD-HHMMSS-000_L2A_SITE_C_V3-1`` folders,
#: ``*_FRE_B1.tif``...``*_FRE_B12.tif`` (int16 x 10000, nodata -10000), ``MASKS/*_{CLM,MG2,EDG,SAT}_XS.tif``;
#: 5 m in the VM1 phase (2017-2020), 4 m in the VM5 phase (from 2022).  Items of the VM1 and VM5
#: collections are told apart by their collection id (the files are alike).
VENUS_VM1_L2A = _venus("VM1", 5.0, C.VENUS_L2A_COLLECTION)
VENUS_VM5_L2A = _venus("VM5", 4.0, C.VENUS_VM5_L2A_COLLECTION)
