"""Fire severity and burnt area from pre- and post-fire composites: NBR, dNBR, RdNBR, RBR.

The Normalized Burn Ratio ``NBR = (NIR - SWIR2) / (NIR + SWIR2)`` (Sentinel-2 B8A and B12 by
default) falls where a fire leaves char and bare soil.  Its pre- minus post-fire difference (dNBR,
Key & Benson 2006 [1]_) measures the absolute change; RdNBR (Miller & Thode 2007 [2]_) divides it by
the square root of the pre-fire NBR so that sparse vegetation that burnt entirely ranks as high
severity; RBR (Parks et al. 2014 [3]_) divides it by ``preNBR + 1.001``, which never vanishes.  As in
the papers, the three are in NBR x 1000 units and the published class thresholds apply to them
directly (:data:`SEVERITY_SCHEMES`).  An optional dNBR offset (the mean dNBR of unburnt pixels,
phenology and calibration differences between the two dates, Miller & Thode 2007; Parks et al.
2014) is subtracted from dNBR before RdNBR and RBR are formed.

Pre- and post-fire NBR come from the cube itself: the per-pixel median of clear observations
(MAJA cloud, shadow, edge, saturation and snow masks) in a window before and after a fire date,
or in date ranges given by the user (:func:`fire_composites`).  Everything is lazy.

References
----------
.. [1] Key, C. H., Benson, N. C. (2006). Landscape Assessment (LA): sampling and analysis methods.
   In Lutes et al., FIREMON: Fire Effects Monitoring and Inventory System, USDA Forest Service
   Gen. Tech. Rep. RMRS-GTR-164-CD, LA-1-55.  dNBR = (NBR_pre - NBR_post) x 1000; USGS severity
   levels: enhanced regrowth high (-500 to -251), low (-250 to -101), unburned (-100 to 99),
   low (100 to 269), moderate-low (270 to 439), moderate-high (440 to 659), high (660 to 1300).
.. [2] Miller, J. D., Thode, A. E. (2007). Quantifying burn severity in a heterogeneous landscape
   with a relative version of the delta Normalized Burn Ratio (dNBR). Remote Sensing of
   Environment 109, 66-80.  RdNBR = dNBR / sqrt(|NBR_pre / 1000|) (NBR x 1000); CBI-calibrated
   thresholds RdNBR 69, 316, 641 and dNBR 41, 176, 367 (unchanged / low / moderate / high).
   Pre-fire NBR of 0 is set to 0.001 (x 1000: 1) to avoid division by zero (Miller et al. 2009,
   Remote Sensing of Environment 113, 645-656).
.. [3] Parks, S. A., Dillon, G. K., Miller, C. (2014). A new metric for quantifying burn severity:
   the Relativized Burn Ratio. Remote Sensing 6, 1827-1844.  RBR = dNBR / (NBR_pre + 1.001)
   (NBR_pre unscaled), thresholds 35, 130, 298 (CBI 0.1, 1.25, 2.25); the dNBR offset is the mean
   dNBR of unburnt pixels around the fire.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DateRangeError, RasterInputError
from ._common import require, with_provenance
from ._grid import check_same_grid
from .synthesis import median_composite

__all__ = ["SEVERITY_SCHEMES", "FireWindows", "SeverityScheme", "burn_severity", "dnbr", "dnbr_offset",
           "fire_composites", "fire_windows", "nbr", "rbr", "rdnbr", "severity_classes"]

_REF = ("Key & Benson 2006 (FIREMON LA, RMRS-GTR-164-CD); Miller & Thode 2007 (RSE 109:66-80); "
        "Parks, Dillon & Miller 2014 (Remote Sensing 6:1827-1844)")

#: code of pixels without a class (no clear pre- or post-fire observation)
NO_CLASS = 255


@dataclass(frozen=True)
class SeverityScheme:
    """Severity classes of one index: class ``i`` holds ``thresholds[i - 1] <= value < thresholds[i]``."""

    index: str  # "dNBR", "RdNBR" or "RBR" (NBR x 1000 units)
    thresholds: tuple[float, ...]
    labels: tuple[str, ...]
    reference: str

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.thresholds) + 1 or list(self.thresholds) != sorted(self.thresholds):
            raise ValueError(f"a severity scheme needs increasing thresholds and one label more than thresholds, "
                             f"got {self.thresholds} and {self.labels}")


_FOUR = ("unburnt", "low", "moderate", "high")

#: The published class thresholds (NBR x 1000 units).  ``key_benson`` groups the USGS levels of
#: Key & Benson (2006) into four (moderate-low and moderate-high as moderate; enhanced regrowth as
#: unburnt); ``key_benson_usgs`` keeps the seven levels.
SEVERITY_SCHEMES: dict[str, SeverityScheme] = {
    "key_benson": SeverityScheme("dNBR", (100.0, 270.0, 660.0), _FOUR, "Key & Benson 2006, USGS levels grouped"),
    "key_benson_usgs": SeverityScheme(
        "dNBR", (-250.0, -100.0, 100.0, 270.0, 440.0, 660.0),
        ("enhanced regrowth high", "enhanced regrowth low", "unburned", "low", "moderate-low", "moderate-high",
         "high"), "Key & Benson 2006, USGS FIREMON levels"),
    "miller_thode_dnbr": SeverityScheme("dNBR", (41.0, 176.0, 367.0), _FOUR, "Miller & Thode 2007, dNBR"),
    "miller_thode": SeverityScheme("RdNBR", (69.0, 316.0, 641.0), _FOUR, "Miller & Thode 2007, RdNBR"),
    "parks": SeverityScheme("RBR", (35.0, 130.0, 298.0), _FOUR, "Parks et al. 2014, RBR"),
}

#: Mask layers of the cube that make an observation unusable for the composites.
_CONTAMINATION = ("cloud", "shadow", "edge", "saturated", "snow")


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (a - b) / (a + b)
    return np.where(np.isfinite(out), out, np.nan).astype(np.float32)


def nbr(cube: xr.Dataset, *, nir: str = "nir08", swir: str = "swir22") -> xr.DataArray:
    """Normalized Burn Ratio ``(nir - swir) / (nir + swir)`` (float32, NaN where undefined), lazy.

    Sentinel-2: B8A (``nir08``) and B12 (``swir22``) by default, both at 20 m (``nir="nir"`` for B8).
    """
    require(cube, [nir, swir], "nbr")
    out = xr.apply_ufunc(_ratio, cube[nir].astype(np.float32), cube[swir].astype(np.float32),
                         dask="parallelized", output_dtypes=[np.float32], keep_attrs=False)
    out = out.rename("NBR")
    out.attrs.update(long_name="Normalized Burn Ratio", units="1", formula=f"({nir} - {swir}) / ({nir} + {swir})")
    return with_provenance(out, algorithm="NBR", params={"nir": nir, "swir": swir}, source=cube, reference=_REF)


def _offset_value(offset: float | xr.DataArray | None) -> float | xr.DataArray:
    return 0.0 if offset is None else offset


def dnbr(pre_nbr: xr.DataArray, post_nbr: xr.DataArray, *, offset: float | xr.DataArray | None = None) -> xr.DataArray:
    """``dNBR = (NBR_pre - NBR_post) x 1000 - offset`` (Key & Benson 2006; the offset of Miller & Thode 2007).

    ``offset`` (NBR x 1000 units): a number, or a 0-d DataArray such as :func:`dnbr_offset`'s.
    """
    out = (pre_nbr - post_nbr) * np.float32(1000) - _offset_value(offset)
    out = out.astype(np.float32).rename("dNBR")
    out.attrs = {"long_name": "differenced Normalized Burn Ratio", "units": "NBR x 1000"}
    return out


def rdnbr(pre_nbr: xr.DataArray, post_nbr: xr.DataArray, *, offset: float | xr.DataArray | None = None,
          floor: float = 0.001) -> xr.DataArray:
    """Relative dNBR, ``dNBR / sqrt(|NBR_pre|)`` with NBR_pre unscaled (Miller & Thode 2007).

    Their formula is ``dNBR / sqrt(|NBR_pre / 1000|)`` with NBR x 1000, the same number.  ``|NBR_pre|``
    below ``floor`` is raised to it (Miller et al. 2009: 0.001), so a zero pre-fire NBR gives no infinity.
    """
    d = dnbr(pre_nbr, post_nbr, offset=offset)
    denom = np.sqrt(np.maximum(abs(pre_nbr), np.float32(floor)))
    out = (d / denom).astype(np.float32).rename("RdNBR")
    out.attrs = {"long_name": "relative differenced Normalized Burn Ratio", "units": "NBR x 1000"}
    return out


def rbr(pre_nbr: xr.DataArray, post_nbr: xr.DataArray, *, offset: float | xr.DataArray | None = None) -> xr.DataArray:
    """Relativized Burn Ratio, ``dNBR / (NBR_pre + 1.001)`` with NBR_pre unscaled (Parks et al. 2014)."""
    d = dnbr(pre_nbr, post_nbr, offset=offset)
    out = (d / (pre_nbr + np.float32(1.001))).astype(np.float32).rename("RBR")
    out.attrs = {"long_name": "Relativized Burn Ratio", "units": "NBR x 1000"}
    return out


def dnbr_offset(pre_nbr: xr.DataArray, post_nbr: xr.DataArray, unburnt: xr.DataArray) -> xr.DataArray:
    """The dNBR offset: the mean uncorrected dNBR over the ``unburnt`` pixels (lazy 0-d DataArray).

    Miller & Thode (2007) and Parks et al. (2014) take unburnt pixels outside the fire perimeter (a
    180 m ring in Parks et al.); pass that mask.  Subtracting it removes differences between the two
    dates that are not the fire (phenology, sun angle).
    """
    if unburnt.dtype != bool:
        raise RasterInputError(f"unburnt must be a boolean (y, x) mask of reference pixels, got dtype {unburnt.dtype}")
    raw = dnbr(pre_nbr, post_nbr)
    return raw.where(unburnt).mean(("y", "x"), skipna=True).rename("dNBR_offset")


def severity_classes(index: xr.DataArray, scheme: str | SeverityScheme = "key_benson") -> xr.DataArray:
    """Severity class codes (uint8, 0 = lowest class; :data:`NO_CLASS` 255 where ``index`` is NaN).

    ``scheme``: a key of :data:`SEVERITY_SCHEMES` or a :class:`SeverityScheme`; ``index`` must be
    the scheme's index (its ``name`` is checked when it has one).
    """
    sch = _scheme(scheme)
    if index.name in ("dNBR", "RdNBR", "RBR") and index.name != sch.index:
        raise RasterInputError(f"severity scheme {scheme!r} classifies {sch.index}, but got {index.name}; pass "
                               f"ds[{sch.index!r}] or choose a {index.name} scheme "
                               f"{sorted(k for k, s in SEVERITY_SCHEMES.items() if s.index == index.name)}")
    edges = np.asarray(sch.thresholds, dtype=np.float32)

    def classify(v: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(v), NO_CLASS, np.digitize(v, edges)).astype(np.uint8)

    out = xr.apply_ufunc(classify, index, dask="parallelized", output_dtypes=[np.uint8]).rename("severity")
    out.attrs = {"long_name": f"burn severity class ({sch.reference})", "flag_values": list(range(len(sch.labels))),
                 "flag_meanings": " ".join(lab.replace(" ", "_") for lab in sch.labels), "_FillValue": NO_CLASS,
                 "thresholds": list(sch.thresholds), "index": sch.index}
    return out


def _scheme(scheme: str | SeverityScheme) -> SeverityScheme:
    if isinstance(scheme, SeverityScheme):
        return scheme
    if scheme not in SEVERITY_SCHEMES:
        raise ValueError(f"unknown severity scheme {scheme!r}; choose one of {sorted(SEVERITY_SCHEMES)} "
                         "or pass a SeverityScheme")
    return SEVERITY_SCHEMES[scheme]


# ---------------------------------------------------------------- composites
@dataclass(frozen=True)
class FireWindows:
    """The pre- and post-fire date ranges (inclusive) of the composites."""

    pre: tuple[pd.Timestamp, pd.Timestamp]
    post: tuple[pd.Timestamp, pd.Timestamp]


def _range(value: Any, what: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        start, end = (pd.Timestamp(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise DateRangeError(f"{what} must be a (start, end) pair of dates, got {value!r}") from exc
    if end < start:
        raise DateRangeError(f"{what} ends before it starts: {start.date()} > {end.date()}; swap them")
    return start, end


def fire_windows(fire_date: Any = None, *, pre: Any = None, post: Any = None, window_days: int = 60) -> FireWindows:
    """Pre- and post-fire date ranges: ``window_days`` before and after ``fire_date`` (the fire's day
    excluded from both), or the ranges ``pre`` and ``post`` given as (start, end) pairs."""
    if fire_date is None and (pre is None or post is None):
        raise DateRangeError("give a fire date (fire_date='2023-07-22') or both date ranges "
                             "(pre=('2023-06-01', '2023-07-15'), post=('2023-08-01', '2023-09-15'))")
    if window_days < 1:
        raise DateRangeError(f"window_days must be at least 1, got {window_days}")
    day = pd.Timestamp(fire_date).normalize() if fire_date is not None else None
    one = pd.Timedelta(days=1)
    pre_r = _range(pre, "pre") if pre is not None else (day - pd.Timedelta(days=window_days), day - one)
    post_r = _range(post, "post") if post is not None else (day + one, day + pd.Timedelta(days=window_days))
    if post_r[0] <= pre_r[1]:
        raise DateRangeError(f"the post-fire window ({post_r[0].date()}..{post_r[1].date()}) must start after the "
                             f"pre-fire window ({pre_r[0].date()}..{pre_r[1].date()})")
    return FireWindows(pre_r, post_r)


def _window(cube: xr.Dataset, rng: tuple[pd.Timestamp, pd.Timestamp], what: str) -> xr.Dataset:
    """The cube's acquisitions whose day falls in ``rng``; errors when there is none, or none clear."""
    days = pd.DatetimeIndex(cube["time"].values).normalize()
    sel = (days >= rng[0]) & (days <= rng[1])
    span = f"{rng[0].date()}..{rng[1].date()}"
    if not sel.any():
        have = f"{days.min().date()}..{days.max().date()}" if len(days) else "no date"
        raise DateRangeError(f"the {what} window {span} holds no acquisition of the cube (it covers {have}); "
                             f"widen window_days or pass {what.split('-')[0]}=(start, end) within the cube's dates")
    sub = cube.isel(time=np.flatnonzero(sel))
    if "eo:cloud_cover" in sub.coords and sub["eo:cloud_cover"].chunks is None:  # item metadata, never read lazily
        cover = np.asarray(sub["eo:cloud_cover"].values, dtype=np.float64)
        if np.all(cover >= 100.0):
            raise DateRangeError(f"no clear {what} observation: the {sel.sum()} acquisition(s) of {span} are all "
                                 "100 % cloudy; widen window_days or choose other dates")
    return sub


def fire_composites(cube: xr.Dataset, fire_date: Any = None, *, pre: Any = None, post: Any = None,
                    window_days: int = 60, bands: tuple[str, ...] = ("nir08", "swir22")) -> xr.Dataset:
    """Pre- and post-fire composites: the per-pixel median of clear observations in each window.

    Observations flagged by the cube's MAJA layers (cloud, shadow, edge, saturated, snow; those
    present) are left out.  Returns ``pre_<band>``, ``post_<band>``, the counts of clear
    observations ``n_pre`` and ``n_post`` (a pixel with none is NaN in its composite) and, when the
    cube has MAJA's ``water`` layer, ``water``: flagged water in a clear pre-fire observation.
    """
    require(cube, list(bands), "fire_composites")
    win = fire_windows(fire_date, pre=pre, post=post, window_days=window_days)
    out = {}
    for what, rng in (("pre", win.pre), ("post", win.post)):
        sub = _window(cube, rng, f"{what}-fire")
        bad = None
        for layer in _CONTAMINATION:
            if layer in sub:
                bad = sub[layer] if bad is None else bad | sub[layer]
        clear = sub[list(bands)].where(~bad) if bad is not None else sub[list(bands)]
        comp = median_composite(clear, bands=list(bands))
        for b in bands:
            out[f"{what}_{b}"] = comp[b].astype(np.float32)
        out[f"n_{what}"] = clear[bands[0]].notnull().sum("time").astype(np.int16)
        if what == "pre" and "water" in sub:
            out["water"] = (sub["water"] & clear[bands[0]].notnull()).any("time")
    ds = xr.Dataset(out)
    ds = ds.drop_vars([c for c in ds.coords if c not in ("x", "y", "spatial_ref")])
    ds.attrs.update({"pre_window": f"{win.pre[0].date()}/{win.pre[1].date()}",
                     "post_window": f"{win.post[0].date()}/{win.post[1].date()}"})
    return with_provenance(ds, algorithm="fire composites (median of clear observations)",
                           params={"fire_date": fire_date, "pre": win.pre, "post": win.post, "bands": bands},
                           source=cube, reference=_REF)


def burn_severity(cube: xr.Dataset, fire_date: Any = None, *, pre: Any = None, post: Any = None,
                  window_days: int = 60, nir: str = "nir08", swir: str = "swir22",
                  offset: float | xr.DataArray | None = None, scheme: str | SeverityScheme = "key_benson",
                  burnt_threshold: float = 100.0, mask: xr.DataArray | None = None) -> xr.Dataset:
    """Burn severity and burnt area of one fire from a cube (lazy).

    Parameters
    ----------
    cube
        From :func:`terra_lab.load` with ``nir`` and ``swir`` (reflectance 0-1, NaN no data) and the
        MAJA mask layers; its time axis spans both windows.
    fire_date, pre, post, window_days
        The composite windows (:func:`fire_windows`): ``window_days`` (60) before and after the fire
        date, or explicit (start, end) ranges, e.g. ``post`` in the next summer for an extended assessment.
    offset
        dNBR offset (NBR x 1000): None (no offset), a number, or a boolean (y, x) mask of unburnt
        reference pixels whose mean dNBR is the offset (:func:`dnbr_offset`).
    scheme
        Severity classes of :data:`SEVERITY_SCHEMES` (default Key & Benson's levels, grouped in four).
    burnt_threshold
        dNBR (x 1000, after the offset) from which a pixel is burnt: 100, Key & Benson's lower bound
        of low severity.
    mask
        Optional boolean (y, x) mask of the burnable land (vegetation: forest, shrubs, grassland):
        pixels outside are never burnt.  Without it, harvests and other changes of the season between
        the windows read as burns (published burnt-area maps use such a fuel or land-cover mask).
        Pixels MAJA flags as water before the fire are never burnt either.

    Returns
    -------
    xarray.Dataset
        ``pre_nbr``, ``post_nbr``, ``dNBR``, ``RdNBR``, ``RBR``, ``severity`` (uint8 classes of the
        scheme's index, 255 without data), ``burnt`` (bool), ``n_pre``, ``n_post``; provenance in attrs.
    """
    sch = _scheme(scheme)
    comp = fire_composites(cube, fire_date, pre=pre, post=post, window_days=window_days, bands=(nir, swir))
    pre_nbr = xr.apply_ufunc(_ratio, comp[f"pre_{nir}"], comp[f"pre_{swir}"], dask="parallelized",
                             output_dtypes=[np.float32])
    post_nbr = xr.apply_ufunc(_ratio, comp[f"post_{nir}"], comp[f"post_{swir}"], dask="parallelized",
                              output_dtypes=[np.float32])
    if isinstance(offset, xr.DataArray) and offset.dtype == bool:
        offset = dnbr_offset(pre_nbr, post_nbr, offset)
    metrics = {"dNBR": dnbr(pre_nbr, post_nbr, offset=offset), "RdNBR": rdnbr(pre_nbr, post_nbr, offset=offset),
               "RBR": rbr(pre_nbr, post_nbr, offset=offset)}
    ds = xr.Dataset({"pre_nbr": pre_nbr.rename("pre_nbr"), "post_nbr": post_nbr.rename("post_nbr"), **metrics})
    ds["pre_nbr"].attrs = {"long_name": "pre-fire NBR (median of clear observations)", "units": "1"}
    ds["post_nbr"].attrs = {"long_name": "post-fire NBR (median of clear observations)", "units": "1"}
    ds["severity"] = severity_classes(metrics[sch.index], sch)
    burnt = metrics["dNBR"] >= burnt_threshold
    if "water" in comp:
        burnt = burnt & ~comp["water"]
    if mask is not None:
        if mask.dtype != bool or set(mask.dims) != {"y", "x"}:
            raise RasterInputError(f"mask must be a boolean (y, x) DataArray of burnable land, got dtype {mask.dtype} "
                                   f"and dims {mask.dims}; e.g. mask=landcover.isin([31, 32, 34, 211])")
        check_same_grid(cube, mask, "cube", "mask")
        burnt = burnt & mask
    ds["burnt"] = burnt.rename("burnt")
    ds["burnt"].attrs = {"long_name": f"burnt (dNBR >= {burnt_threshold:g})"}
    ds["n_pre"], ds["n_post"] = comp["n_pre"], comp["n_post"]
    if isinstance(offset, xr.DataArray):
        ds["dNBR_offset"] = offset
    ds.attrs.update({k: comp.attrs[k] for k in ("pre_window", "post_window")})
    params = {"fire_date": fire_date, "pre_window": comp.attrs["pre_window"], "post_window": comp.attrs["post_window"],
              "nir": nir, "swir": swir, "offset": offset if isinstance(offset, (int, float)) else
              ("mean dNBR of unburnt pixels" if offset is not None else None),
              "scheme": asdict(sch), "burnt_threshold": burnt_threshold,
              "mask": mask is not None}
    return with_provenance(ds, algorithm="burn severity (dNBR, RdNBR, RBR)", params=params, source=cube,
                           reference=_REF)
