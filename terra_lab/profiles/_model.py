"""The profile model: bands or variables, their decoding, mask rules, and what a profile matches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import MissingBandError
from ._legends import Legend
from ._maja import bitmask

__all__ = ["COMMON_BANDS", "KINDS", "MASK_LAYERS", "BandSpec", "CollectionProfile", "Decoding", "MaskRule"]

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

#: What the stored numbers of a variable mean: ``reflectance`` (scaled integers, read as float
#: reflectance with the profile's scale), ``categorical`` (codes kept as they are, with a
#: :class:`Legend`), ``continuous`` (a physical quantity: ``value * scale + offset`` in ``units``).
KINDS = ("reflectance", "categorical", "continuous")


@dataclass(frozen=True)
class BandSpec:
    """One band or variable: asset key template, native resolution (m), and its decoding.

    ``asset`` may contain ``{level}``, replaced by the reflectance level
    (``FRE`` flat/slope-corrected, ``SRE`` surface reflectance) for THEIA products.
    ``wavelength`` (um) and ``s2_name`` describe reflectance bands; the other fields describe
    thematic variables and default to the profile's (``kind=""``: the profile's kind;
    ``scale=None``: the profile's scale; ``nodata=()``: the profile's nodata).
    ``recode_before=(date, table)``: items dated before ``date`` hold older codes, mapped onto
    the legend's by ``table`` when loaded (OSO's 17-class maps of 2016-2017).
    """

    asset: str
    resolution: float
    wavelength: float = 0.0
    s2_name: str = ""
    kind: str = ""
    scale: float | None = None
    offset: float | None = None
    nodata: tuple[float, ...] = ()
    units: str = ""
    long_name: str = ""
    legend: Legend | None = None
    recode_before: tuple[str, Mapping[int, int]] | None = None

    def __post_init__(self) -> None:
        if self.kind and self.kind not in KINDS:
            raise ValueError(f"BandSpec kind {self.kind!r}: use one of {KINDS}")
        if self.kind == "categorical" and self.legend is None:
            raise ValueError(f"categorical variable {self.asset!r} needs a legend")


@dataclass(frozen=True)
class Decoding:
    """How the stored numbers of one variable become values (resolved from band and profile)."""

    kind: str
    scale: float
    offset: float
    nodata: tuple[float, ...]
    units: str
    long_name: str
    legend: Legend | None
    recode_before: tuple[str, Mapping[int, int]] | None = None


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
        return bitmask(self.bits)


@dataclass(frozen=True)
class CollectionProfile:
    """Everything terra_lab needs to know about one family of items.

    ``marker_assets``: asset keys that only this family's items carry (how
    :func:`~terra_lab.profiles.profile_for_item` recognises an item); ``collections``: the
    collection ids of the catalogues that serve it (recognised first, so two profiles may
    share an asset key when their collections differ); ``platforms``: when set, a marker
    asset only counts for items of these platforms (Landsat and Venus L2A share MUSCATE's keys).
    """

    name: str
    bands: Mapping[str, BandSpec]
    masks: Mapping[str, tuple[MaskRule, ...]]
    scale: float
    offset: float
    nodata: float | None
    marker_assets: tuple[str, ...]
    levels: tuple[str, ...] = ("",)
    mask_resolutions: Mapping[float, str] = field(default_factory=dict)
    description: str = ""
    kind: str = "reflectance"
    collections: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    #: True: an asset's own ``raster:bands`` scale/offset, when declared, win over the band's
    #: (USGS Landsat Collection 2 items declare theirs); False: the profile's always apply.
    item_scale: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"profile {self.name!r} kind {self.kind!r}: use one of {KINDS}")

    def band_asset(self, band: str, level: str | None = None, *, item_id: str = "?") -> str:
        """Asset key of common band ``band`` (``level``: FRE or SRE for THEIA)."""
        spec = self.bands.get(band) or self._by_s2_name(band)
        if spec is None:
            raise MissingBandError(
                f"band {band!r} is not defined for {self.name} items (item {item_id!r}); "
                f"available: {sorted(self.bands)}"
                + (f" (Sentinel-2 names {sorted(s.s2_name for s in self.bands.values())} work too)"
                   if any(s.s2_name for s in self.bands.values()) else "")
            )
        lvl = level or self.levels[0]
        if lvl not in self.levels and ("{level}" in spec.asset or level is not None):  # never relabel data
            raise MissingBandError(
                f"reflectance level {lvl!r} is not available for {self.name} items (item {item_id!r}); "
                + (f"they serve {list(self.levels)}" if any(self.levels) else "they have one level: drop level=")
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
        return next((s for s in self.bands.values() if s.s2_name and s.s2_name == key), None)

    def decoding(self, band: str) -> Decoding:
        """The decoding of variable ``band``: its own fields, else the profile's."""
        spec = self.bands[self.common_name(band)]
        nodata = spec.nodata or (() if self.nodata is None else (self.nodata,))
        return Decoding(
            kind=spec.kind or self.kind,
            scale=self.scale if spec.scale is None else spec.scale,
            offset=self.offset if spec.offset is None else spec.offset,
            nodata=tuple(nodata),
            units=spec.units,
            long_name=spec.long_name,
            legend=spec.legend,
            recode_before=spec.recode_before,
        )

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
