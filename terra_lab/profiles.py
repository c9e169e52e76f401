"""Declarative collection profiles: asset keys, scaling and mask semantics.

A profile maps the *common band names* used everywhere in terra_lab (``blue``,
``green``, ``red``, ``rededge1``-``rededge3``, ``nir``, ``nir08``, ``swir16``,
``swir22``) to the asset keys of one family of STAC items, and says how to turn
the stored integers into reflectance and the mask rasters into named boolean
layers (``cloud``, ``shadow``, ``snow``, ``water``, ``edge``, ``saturated``).

Adding a source means adding a profile here, not ``if`` branches elsewhere.

References
----------
.. [1] CNES, *Format of the Sentinel-2 L2A products of MUSCATE (MAJA)*,
   https://labo.obs-mip.fr/multitemp/sentinel-2/majas-native-sentinel-2-format/
.. [2] ESA, *Sentinel-2 L2A Scene Classification (SCL)*, product specification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from .errors import MissingBandError

__all__ = [
    "BandSpec",
    "CollectionProfile",
    "MaskRule",
    "PROFILES",
    "COMMON_BANDS",
    "MASK_LAYERS",
    "profile_for_item",
]

#: Common band names, in wavelength order (Sentinel-2 MSI).
COMMON_BANDS = (
    "coastal",
    "blue",
    "green",
    "red",
    "rededge1",
    "rededge2",
    "rededge3",
    "nir",
    "nir08",
    "nir09",
    "swir16",
    "swir22",
)

#: Named boolean mask layers a cube can carry.
MASK_LAYERS = ("cloud", "shadow", "snow", "water", "edge", "saturated")


@dataclass(frozen=True)
class BandSpec:
    """One reflectance band: asset key template, native resolution (m), centre wavelength (um).

    ``asset`` may contain ``{level}``, replaced by the reflectance level
    (``FRE`` flat/slope-corrected, ``SRE`` surface reflectance) for THEIA products.
    """

    asset: str
    resolution: float
    wavelength: float
    s2_name: str


@dataclass(frozen=True)
class MaskRule:
    """How one mask asset contributes to a named layer.

    The layer is true where any of ``bits`` is set, or the value is one of
    ``values``, or (``nonzero=True``) the value is not zero.  ``asset`` may
    contain ``{res}``: ``R1`` (10 m) or ``R2`` (20 m) for MUSCATE masks.
    """

    asset: str
    bits: tuple[int, ...] = ()
    values: tuple[int, ...] = ()
    nonzero: bool = False

    def bitmask(self) -> int:
        return sum(1 << b for b in self.bits)


@dataclass(frozen=True)
class CollectionProfile:
    """Everything terra_lab needs to know about one family of items."""

    name: str
    bands: Mapping[str, BandSpec]
    masks: Mapping[str, tuple[MaskRule, ...]]
    scale: float
    offset: float
    nodata: float
    marker_assets: tuple[str, ...]
    levels: tuple[str, ...] = ("",)
    mask_resolutions: Mapping[float, str] = field(default_factory=dict)
    description: str = ""

    def band_asset(self, band: str, level: str | None = None, *, item_id: str = "?") -> str:
        """Asset key of common band ``band`` (``level``: FRE or SRE for THEIA)."""
        spec = self.bands.get(band) or self._by_s2_name(band)
        if spec is None:
            raise MissingBandError(
                f"band {band!r} is not defined for {self.name} items (item {item_id!r}); "
                f"available: {sorted(self.bands)} (Sentinel-2 names "
                f"{sorted(s.s2_name for s in self.bands.values())} work too)"
            )
        lvl = level or self.levels[0]
        if "{level}" in spec.asset and lvl not in self.levels:
            raise MissingBandError(
                f"reflectance level {lvl!r} is not available for {self.name} items; "
                f"use one of {list(self.levels)}"
            )
        return spec.asset.format(level=lvl)

    def common_name(self, band: str) -> str:
        if band in self.bands:
            return band
        spec = self._by_s2_name(band)
        if spec is None:
            self.band_asset(band)  # raises with the list of bands
        return next(k for k, v in self.bands.items() if v is spec)

    def _by_s2_name(self, band: str) -> BandSpec | None:
        key = band.upper().replace("B0", "B")
        return next((s for s in self.bands.values() if s.s2_name == key), None)

    def mask_res_suffix(self, resolution: float) -> str:
        """``R1``/``R2`` for MUSCATE masks at ``resolution`` (m); empty for single-resolution masks."""
        return self._mask_res_suffix(resolution)

    def mask_rules(self, layer: str, resolution: float) -> tuple[MaskRule, ...]:
        """Rules of mask layer ``layer``, with ``{res}`` resolved for ``resolution`` (m)."""
        if layer not in self.masks:
            raise MissingBandError(
                f"mask layer {layer!r} is not defined for {self.name} items; "
                f"available: {sorted(self.masks)}"
            )
        res = self._mask_res_suffix(resolution)
        return tuple(
            MaskRule(r.asset.format(res=res), r.bits, r.values, r.nonzero) for r in self.masks[layer]
        )

    def _mask_res_suffix(self, resolution: float) -> str:
        if not self.mask_resolutions:
            return ""
        # the finest native mask not finer than needed: R1 for <= 10 m, else R2
        best = min(self.mask_resolutions, key=lambda r: (abs(r - resolution), r))
        return self.mask_resolutions[best]


def _bands(template: str, table: Mapping[str, tuple[str, float, float]]) -> Mapping[str, BandSpec]:
    return MappingProxyType(
        {
            common: BandSpec(template.format(s2=s2), res, wl, s2)
            for common, (s2, res, wl) in table.items()
        }
    )


# Sentinel-2 MSI bands: common name -> (S2 name, native resolution m, centre wavelength um)
_S2_BANDS = {
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

#: THEIA / MUSCATE Sentinel-2 L2A (MAJA) products [1]_: int16 x 10000, nodata -10000.
#: CLM bits: 0 summary (clouds or shadows), 1 all clouds except the thinnest,
#: 2 clouds by mono-temporal (blue) threshold, 3 clouds by multi-temporal test,
#: 4 thinnest clouds, 5 cloud shadows, 6 shadows of clouds outside the image,
#: 7 high clouds (cirrus band).  MG2 bits: 0 water, 1 all clouds (except
#: thinnest), 2 snow, 3 cloud shadows, 4 topographic shadows, 5 hidden faces,
#: 6 sun too low, 7 sun tangent.  EDG: 1 where no data; SAT: one bit per band.
MUSCATE_S2 = CollectionProfile(
    name="THEIA MUSCATE Sentinel-2 L2A (MAJA)",
    bands=_bands("{{level}}_{s2}", _S2_BANDS),
    masks=MappingProxyType(
        {
            "cloud": (MaskRule("CLM_{res}", bits=(1, 4, 7)),),
            "shadow": (MaskRule("CLM_{res}", bits=(5, 6)),),
            "snow": (MaskRule("MG2_{res}", bits=(2,)),),
            "water": (MaskRule("MG2_{res}", bits=(0,)),),
            "edge": (MaskRule("EDG_{res}", nonzero=True),),
            "saturated": (MaskRule("SAT_{res}", nonzero=True),),
        }
    ),
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
        {common: BandSpec(common, res, wl, s2) for common, (s2, res, wl) in _S2_BANDS.items()}
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
         for common, (s2, res, wl) in _S2_BANDS.items()}
    ),
    masks=MUSCATE_S2.masks,
    scale=1e-4,
    offset=0.0,
    nodata=-10000,
    marker_assets=("B02",),
    mask_resolutions=MUSCATE_S2.mask_resolutions,
)

#: Digital elevation models (one ``elevation`` asset, metres), such as the demo's DEM items.
DEM = CollectionProfile(
    name="Digital elevation model",
    bands=MappingProxyType({"elevation": BandSpec("elevation", 20.0, 0.0, "DEM")}),
    masks=MappingProxyType({}),
    scale=1.0,
    offset=0.0,
    nodata=-32768,
    marker_assets=("elevation",),
)

PROFILES: Mapping[str, CollectionProfile] = MappingProxyType(
    {"muscate": MUSCATE_S2, "theia-stac": THEIA_STAC_S2, "earth-search": EARTH_SEARCH_S2, "dem": DEM}
)


def profile_for_item(item: Mapping) -> CollectionProfile:
    """Pick the profile whose marker assets the item (a STAC dict) carries."""
    assets = item.get("assets", {})
    for profile in PROFILES.values():
        if any(a in assets for a in profile.marker_assets):
            return profile
    raise MissingBandError(
        f"item {item.get('id')!r} of collection {item.get('collection')!r} matches no collection "
        f"profile (its assets: {sorted(assets)[:12]}); terra_lab knows {list(PROFILES)}. "
        "Add a CollectionProfile in terra_lab.profiles for this source."
    )
