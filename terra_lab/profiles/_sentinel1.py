"""Sentinel-1 backscatter profiles: S1Tiling products on the Sentinel-2 grid, and Planetary Computer's RTC COGs.

Sources of the formats
----------------------
* **S1Tiling** (CNES, https://gitlab.orfeo-toolbox.org/s1-tiling/s1tiling; THEIA distributes its products
  on GEODES): Sentinel-1 IW GRD calibrated (sigma0 by default), orthorectified onto the Sentinel-2 MGRS
  tiles and concatenated per date, one float32 GeoTIFF per polarisation named
  ``{flying_unit_code}_{tile_name}_{polarisation}_{orbit_direction}_{orbit}_{acquisition_stamp}.tif``
  (S1Tiling's ``DEFAULT_FNAME_FMTS['concatenation']``), e.g. ``s1a_31TGK_vv_DES_008_20230101txxxxxx.tif``:
  the time of a concatenated product is written ``txxxxxx``.  Values are linear sigma0 (not dB); S1Tiling's
  SAR no-data value is 0 (``nodata_SAR`` default).  The local incidence angle maps (one per tile and
  orbit, for the NORMLIM correction) are ``LIA_{tile}_{orbit}.tif`` (degrees x 100, integers) and
  ``sin_LIA_{tile}_{orbit}.tif`` (float32) in S1Tiling 1.1 and later (``'{LIA_kind}_{tile_name}_{orbit}.tif'``);
  S1Tiling 1.0 named them ``LIA_{flying_unit_code}_{tile}_{orbit_direction}_{orbit}.tif``.  The item builder
  (:mod:`terra_lab.catalog._s1_items`) reads both.  The GEODES collection id
  (:data:`~terra_lab.profiles._collections.S1TILING_COLLECTION`) follows THEIA's naming; it was not checked
  against the live catalogue.
* **Microsoft Planetary Computer** ``sentinel-1-rtc``: radiometrically terrain-corrected gamma0 (linear
  power, float32 COGs) under the asset keys ``vv`` and ``vh`` (``hh``/``hv`` elsewhere), items carrying
  ``sat:orbit_state``, ``sat:relative_orbit``, ``sar:polarizations``, ``sar:instrument_mode`` and
  ``s1:*`` properties; no-data is -32768 in the COGs' tag (and NaN).  No incidence-angle asset: the RTC
  terrain flattening already normalises by the illuminated area.

Every backscatter variable decodes to linear power (``units: 1``); decibels are
:func:`terra_lab.products.backscatter.to_db` (10 log10, NaN where the linear value is 0 or no data).
The orbit direction and relative orbit become coordinates along ``time`` (``sat:orbit_state``,
``sat:relative_orbit``), and :func:`terra_lab.products.backscatter.orbit_key` groups dates per orbit.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ._collections import S1_RTC_COLLECTION, S1TILING_COLLECTION
from ._model import BandSpec, CollectionProfile, MaskRule

__all__ = ["S1TILING", "S1TILING_RE", "S1_RTC"]

#: S1Tiling's per-date file names (group names as S1Tiling's name-format fields).
S1TILING_RE = (r"^(?P<flying_unit_code>s1[a-d])_(?P<tile_name>\d{2}[A-Z]{3})_(?P<polarisation>vv|vh|hh|hv)"
               r"_(?P<orbit_direction>ASC|DES)_(?P<orbit>\d{3})_(?P<acquisition_stamp>\d{8}t[0-9x]{6})"
               r"(?:_(?P<calibration>sigma|beta|gamma|NormLim|GammaNaughtRTC))?\.tif$")

_NO: Mapping[str, tuple[MaskRule, ...]] = MappingProxyType({})

S1TILING = CollectionProfile(
    name="S1Tiling Sentinel-1 on the Sentinel-2 grid (THEIA)",
    bands=MappingProxyType({
        "vv": BandSpec("vv", 10.0, nodata=(0.0,), units="1", long_name="sigma0 VV (linear)"),
        "vh": BandSpec("vh", 10.0, nodata=(0.0,), units="1", long_name="sigma0 VH (linear)"),
        "incidence": BandSpec("lia", 10.0, scale=0.01, nodata=(0.0,), units="degree",
                              long_name="local incidence angle (S1Tiling LIA, degrees x 100)"),
    }),
    masks=_NO, scale=1.0, offset=0.0, nodata=None, kind="continuous",
    marker_assets=("lia",), collections=(S1TILING_COLLECTION,),
    description="sigma0 VV/VH linear float32 (0 no data), local incidence angle per orbit; 10 m or 20 m",
)

S1_RTC = CollectionProfile(
    name="Microsoft Planetary Computer Sentinel-1 RTC",
    bands=MappingProxyType({
        "vv": BandSpec("vv", 10.0, nodata=(-32768.0, 0.0), units="1", long_name="gamma0 VV (RTC, linear)"),
        "vh": BandSpec("vh", 10.0, nodata=(-32768.0, 0.0), units="1", long_name="gamma0 VH (RTC, linear)"),
        "hh": BandSpec("hh", 10.0, nodata=(-32768.0, 0.0), units="1", long_name="gamma0 HH (RTC, linear)"),
        "hv": BandSpec("hv", 10.0, nodata=(-32768.0, 0.0), units="1", long_name="gamma0 HV (RTC, linear)"),
    }),
    masks=_NO, scale=1.0, offset=0.0, nodata=None, kind="continuous",
    marker_assets=(), collections=(S1_RTC_COLLECTION,),
    description="gamma0 RTC linear float32 COGs at 10 m (-32768 / NaN no data)",
)
