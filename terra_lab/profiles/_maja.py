"""The bits of MAJA's mask rasters (CLM, MG2, SAT): the one table every layer reads.

Bit meanings follow the THEIA/MUSCATE L2A product format [1]_ (bit 0 is the least significant,
value ``2**bit``; the product's ``MTD_ALL.xml`` numbers them from 1).  The collection profiles
(:data:`~terra_lab.profiles.MUSCATE_S2` mask rules), :mod:`terra_lab.products.masks`, the snow
and synthesis products and the numba kernels all take their bits from here
(``tests/test_facts.py`` checks it).  A leaf module: it imports nothing, so kernels may read it.

References
----------
.. [1] CNES/CESBIO, THEIA Sentinel-2 L2A product format (MUSCATE),
   https://labo.obs-mip.fr/multitemp/sentinel-2/theias-sentinel-2-l2a-product-format/
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "CLM_BITS", "CLM_CLOUD", "CLM_CLOUD_OR_SHADOW", "CLM_HIGH_CLOUD", "CLM_LIS_REFINED_CLOUD", "CLM_SHADOW",
    "MG2_BITS", "MG2_SNOW", "MG2_WATER", "SAT_BITS", "bitmask", "bits_of",
]

#: CLM (cloud mask), R1 and R2.
CLM_BITS: Mapping[int, str] = MappingProxyType({
    0: "clouds_or_shadows",  # summary: all clouds except the thinnest, and all shadows
    1: "clouds",  # all clouds except the thinnest
    2: "clouds_mono_temporal",  # clouds detected by mono-temporal thresholds
    3: "clouds_multi_temporal",  # clouds detected by multi-temporal thresholds
    4: "thin_clouds",  # thinnest clouds ("extension")
    5: "cloud_shadows",  # shadows of clouds detected in the image
    6: "outside_cloud_shadows",  # shadows of clouds outside the image
    7: "high_clouds",  # high clouds detected with the 1.38 um band
})

#: MG2 (geophysical mask), R1 and R2.  Bits 4 and 5 may be swapped in MAJA 4.x writers.
MG2_BITS: Mapping[int, str] = MappingProxyType({
    0: "water",
    1: "clouds",
    2: "snow",
    3: "cloud_shadows",
    4: "topographic_shadows",
    5: "hidden_faces",
    6: "sun_too_low",
    7: "sun_tangent",
})

#: SAT (saturation): one bit per band of the resolution group.
SAT_BITS: Mapping[str, Mapping[int, str]] = MappingProxyType({
    "R1": MappingProxyType({0: "B2", 1: "B3", 2: "B4", 3: "B8"}),
    "R2": MappingProxyType({0: "B5", 1: "B6", 2: "B7", 3: "B8A", 4: "B11", 5: "B12"}),
})


def bits_of(table: Mapping[int, str], *names: str) -> tuple[int, ...]:
    """The bit numbers of ``names`` in ``table`` (``KeyError`` naming the known ones)."""
    by_name = {name: bit for bit, name in table.items()}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise KeyError(f"unknown mask bit names {missing}; known: {sorted(by_name)}")
    return tuple(by_name[n] for n in names)


def bitmask(bits: tuple[int, ...]) -> int:
    """The integer with ``bits`` set: ``bitmask((5, 6)) == 96``."""
    return sum(1 << b for b in set(bits))


#: The terra_lab ``cloud`` layer: clouds, thin clouds, high clouds.
CLM_CLOUD = bits_of(CLM_BITS, "clouds", "thin_clouds", "high_clouds")
#: The terra_lab ``shadow`` layer: shadows of clouds inside and outside the image.
CLM_SHADOW = bits_of(CLM_BITS, "cloud_shadows", "outside_cloud_shadows")
#: High clouds (cirrus band).
CLM_HIGH_CLOUD = bits_of(CLM_BITS, "high_clouds")
#: The summary bit (WASP's cloud test).
CLM_CLOUD_OR_SHADOW = bits_of(CLM_BITS, "clouds_or_shadows")
#: Cloud pixels that let-it-snow never turns back into clear ground: shadows and high clouds
#: (LIS ``cloud_extraction``: ``shadow_in_mask``, ``shadow_out_mask``, ``high_cloud_mask``).
CLM_LIS_REFINED_CLOUD = CLM_SHADOW + CLM_HIGH_CLOUD
#: MG2 snow and water.
MG2_SNOW = bits_of(MG2_BITS, "snow")
MG2_WATER = bits_of(MG2_BITS, "water")
