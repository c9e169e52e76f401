"""Optical (reflectance) profiles: Sentinel-2 L2A as THEIA/MUSCATE, the THEIA STAC API and Earth Search serve it.

References
----------
.. [1] CNES, *Format of the Sentinel-2 L2A products of MUSCATE (MAJA)*,
   https://labo.obs-mip.fr/multitemp/sentinel-2/majas-native-sentinel-2-format/
.. [2] ESA, *Sentinel-2 L2A Scene Classification (SCL)*, product specification.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from ._model import BandSpec, CollectionProfile, MaskRule

__all__ = ["EARTH_SEARCH_S2", "MUSCATE_S2", "MUSCATE_MASKS", "THEIA_STAC_S2", "S2_BANDS", "muscate_bands"]


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
MUSCATE_MASKS: Mapping[str, tuple[MaskRule, ...]] = MappingProxyType(
    {
        "cloud": (MaskRule("CLM_{res}", bits=(1, 4, 7)),),
        "shadow": (MaskRule("CLM_{res}", bits=(5, 6)),),
        "snow": (MaskRule("MG2_{res}", bits=(2,)),),
        "water": (MaskRule("MG2_{res}", bits=(0,)),),
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
#: keys, masks under ``CLM_R1``... (hrefs must be signed with the ``teledetection``
#: package: pass its signing function as ``modifier=`` to :func:`terra_lab.catalog.open`).
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
    mask_resolutions=MUSCATE_S2.mask_resolutions,
)
