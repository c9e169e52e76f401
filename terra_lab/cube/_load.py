"""STAC items to a lazy, THEIA-aware xarray cube (stackstac underneath).

:func:`load` runs three named phases over typed objects, as stackstac and odc-stac do:

1. :func:`plan_load` -> :class:`LoadPlan`: bands, assets, output :class:`Grid`, mask layers,
   checked against the items' metadata and the size limits (no pixel read, no graph built);
2. :func:`stack` -> :class:`Stacked`: the lazy stackstac arrays (reflectance scaled, raw masks);
3. :func:`decode_masks` -> the cube: one variable per band, solar-day mosaics, named boolean
   mask layers decoded by the profile's rules, masks applied, attributes and provenance.
"""

from __future__ import annotations

import math
import os
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import psutil
import rioxarray  # noqa: F401 - registers the .rio accessor
import xarray as xr
from affine import Affine
from rasterio.enums import Resampling

from .._version import __version__
from ..catalog._zip import gdal_path, split_vsizip, zip_member_exists
from ..errors import (
    AOIError,
    AssetReadError,
    MissingBandError,
    NoItemsFoundError,
    RequestTooLargeError,
    TerraLabWarning,
)
from ..profiles import MASK_LAYERS, CollectionProfile, MaskRule, profile_for_item
from ._gc import gc_paused
from ._masks import decode_layer
from ._reader import TerraLabReader
from ._size import check_request

__all__ = ["Grid", "LoadPlan", "Stacked", "decode_masks", "estimate_bytes", "load", "plan_load", "stack"]

#: Item properties kept as coordinates along time (the Sentinel-1 orbit: direction and relative orbit number).
_ITEM_COORDS = ["platform", "eo:cloud_cover", "sat:orbit_state", "sat:relative_orbit"]


def _as_dicts(items: Any) -> list[dict]:
    if hasattr(items, "items") and isinstance(items.items, list):  # SearchResults
        items = items.items
    return [dict(it) if isinstance(it, Mapping) else it.to_dict(transform_hrefs=False) for it in items]


@lru_cache(maxsize=64)
def _wkt_epsg(wkt: str) -> int | None:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_wkt(wkt).to_epsg()
    except CRSError:  # unreadable: as if absent (load then asks for crs=)
        return None


def _epsg_of(meta: Mapping) -> int | None:
    """EPSG code from ``proj:epsg``, ``proj:code`` (``EPSG:32631``) or ``proj:wkt2`` of an item's
    properties or of an asset (projection extension v1.x and v2)."""
    if meta.get("proj:epsg") is not None:
        return int(meta["proj:epsg"])
    code = str(meta.get("proj:code") or "")
    if code.upper().startswith("EPSG:"):
        return int(code.split(":", 1)[1])
    if meta.get("proj:wkt2"):
        return _wkt_epsg(meta["proj:wkt2"])
    return None


def _item_epsg(item: dict) -> int | None:
    """The item's EPSG code, from its properties or else from its first asset that has one."""
    epsg = _epsg_of(item["properties"])
    if epsg is None:
        epsg = next((e for e in map(_epsg_of, item["assets"].values()) if e is not None), None)
    return epsg


def _prepared(items: list[dict]) -> list[dict]:
    """Copies of ``items`` in the form stackstac 0.5.1 reads: ``proj:epsg`` beside every
    ``proj:code``/``proj:wkt2`` (item and assets; stackstac knows only ``proj:epsg``) and zip
    members as GDAL ``/vsizip/`` paths.  The caller's dicts are not modified."""
    out = []
    for it in items:
        props = dict(it["properties"])
        epsg = _epsg_of(props)
        if epsg is not None:
            props["proj:epsg"] = epsg
        assets = {}
        for key, a in it["assets"].items():
            a = dict(a)
            e = _epsg_of(a)
            if e is not None:
                a["proj:epsg"] = e
            if "href" in a:
                a["href"] = gdal_path(a["href"])
            assets[key] = a
        out.append({**it, "properties": props, "assets": assets})
    return out


def _declared_nodata(profile: CollectionProfile, items: list[dict], assets: list[str]) -> float | None:
    """Nodata of the band assets for files without a tag: their ``raster:bands`` nodata, else the profile's."""
    found = set()
    for it in items:
        for key in assets:
            bands = it["assets"].get(key, {}).get("raster:bands") or [{}]
            if bands[0].get("nodata") is not None:
                found.add(float(bands[0]["nodata"]))
    if len(found) > 1:
        warnings.warn(
            f"the band assets declare several nodata values {sorted(found)}; files without a nodata tag "
            f"are read with the {profile.name} profile's nodata {profile.nodata}", TerraLabWarning, stacklevel=3,
        )
    return found.pop() if len(found) == 1 else profile.nodata


def _mask_asset(item: dict, preferred: str) -> str | None:
    """``preferred`` (e.g. CLM_R1) or the same mask at another resolution (CLM_R2)."""
    if preferred in item["assets"]:
        return preferred
    stem = preferred.rsplit("_", 1)[0]
    return next((k for k in sorted(item["assets"]) if k.rsplit("_", 1)[0] == stem and k != preferred), None)


def _mask_key(items: list[dict], preferred: str) -> str | None:
    """``preferred`` when every item carries it or the same mask at another resolution, else None."""
    return preferred if all(_mask_asset(it, preferred) is not None for it in items) else None


def _alias_masks(items: list[dict], keys: list[str]) -> None:
    """Give the (prepared copies of) items that lack mask ``key`` their mask at another resolution
    under that key (a product with R1 masks only, in a 20 m cube: read with nearest resampling)."""
    for it in items:
        for key in keys:
            if key not in it["assets"]:
                it["assets"][key] = it["assets"][_mask_asset(it, key)]


def _native_bounds(items: list[dict], assets: list[str], epsg: int, resolution: float,
                   bounds_latlon: tuple | None) -> tuple[float, float, float, float] | None:
    """Output bounds on the pixel grid of the items (their ``proj:transform`` origin, at ``resolution``).

    stackstac snaps bounds to multiples of the resolution: a product whose origin is not one
    (x0 = 300010 at 20 m) would be resampled and shifted by half a pixel.  When every asset in
    the output CRS has its origin at the same offset from that lattice, the bounds are snapped
    to that offset instead, so each output pixel is a file pixel.  None (stackstac's snapping)
    when they do not share one grid or lack ``proj:transform``/``proj:shape``.
    """
    from stackstac import geom_utils

    grids = set()  # few distinct grids (one per tile and resolution) among many assets
    for it in items:
        props = it["properties"]
        for key in assets:
            a = it["assets"].get(key)
            if a is None:
                continue
            t, shape = a.get("proj:transform") or props.get("proj:transform"), a.get("proj:shape") or props.get("proj:shape")
            a_epsg = _epsg_of(a) or _epsg_of(props)
            if t is None or shape is None or a_epsg is None or t[1] != 0 or t[3] != 0:
                return None
            grids.add((tuple(t[:6]), tuple(shape[:2]), a_epsg))
    offsets, boxes = set(), []
    for t, (h, w), a_epsg in grids:
        if a_epsg == epsg:
            xs, ys = (t[2], t[2] + t[0] * w), (t[5], t[5] + t[4] * h)
            boxes.append((min(xs), min(ys), max(xs), max(ys)))
            offsets.add(tuple(round(_offset(v, resolution), 6) for v in (t[2], t[5])))
        else:
            boxes.append(geom_utils.bounds_from_affine(Affine(*t), h, w, a_epsg, epsg))
    if len(offsets) != 1:
        return None
    ox, oy = offsets.pop()
    if bounds_latlon is not None:
        box = geom_utils.reproject_bounds(bounds_latlon, 4326, epsg)
    else:
        box = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))

    def down(v, o):
        return o + math.floor((v - o) / resolution + 1e-9) * resolution

    def up(v, o):
        return o + math.ceil((v - o) / resolution - 1e-9) * resolution

    return down(box[0], ox), down(box[1], oy), up(box[2], ox), up(box[3], oy)


def _offset(v: float, resolution: float) -> float:
    """``v`` modulo ``resolution``, with values within float noise of the resolution folded to 0."""
    r = v - math.floor(v / resolution) * resolution
    return 0.0 if abs(r - resolution) < 1e-6 * resolution or abs(r) < 1e-6 * resolution else r


def estimate_bytes(n_time: int, n_vars: int, ny: int, nx: int, itemsize: int = 4) -> int:
    return int(n_time) * int(n_vars) * int(ny) * int(nx) * int(itemsize)


def _default_max_bytes() -> int:
    # a cube bigger than 4x the machine's memory is almost surely a mistake in bbox or resolution
    return 4 * psutil.virtual_memory().total


def _solar_day(times: pd.DatetimeIndex, lons: np.ndarray) -> np.ndarray:
    """Local solar date of each acquisition (UTC time + longitude / 15 h)."""
    local = times + pd.to_timedelta(lons / 15.0, unit="h")
    return local.normalize().values


@gc_paused()
def load(
    items: Any,
    *,
    bands: Sequence[str] | None = None,
    resolution: float | None = None,
    bbox: Any = None,
    crs: int | str | None = None,
    chunks: Mapping[str, int] | int | str | None = None,
    masks: bool | Sequence[str] = True,
    apply_masks: bool | Sequence[str] = False,
    level: str | None = None,
    group_by: str | None = "solar_day",
    resampling: str = "nearest",
    on_error: str = "raise",
    max_bytes: int | None = None,
    raw_masks: bool = False,
    like: xr.Dataset | xr.DataArray | None = None,
) -> xr.Dataset:
    """Stack STAC items into a lazy Dask-backed :class:`xarray.Dataset`.

    No pixel is read until the result is computed.

    Parameters
    ----------
    items
        :class:`~terra_lab.catalog.SearchResults`, a list of STAC item dicts or pystac Items.
    bands
        Common names (``red``, ``nir``, ``swir16``...) or Sentinel-2 names (``B4``, ``B8A``);
        default: every band of the profile that the first item carries.
    resolution
        Pixel size in units of ``crs`` (default: the finest native resolution of ``bands``).
    bbox
        Area to load: a lon/lat ``(west, south, east, north)`` or any AOI accepted by
        :func:`terra_lab.catalog.parse_aoi`; default: the union of the items.
    crs
        EPSG code of the output grid; default: the most common EPSG of the items, so items
        from several UTM zones land on one common grid.
    chunks
        Spatial chunk size (int), a dict with ``time``, ``y``, ``x`` (``time=-1``: all dates in
        one chunk, the layout per-pixel time-series algorithms want), or ``"auto"`` (dates
        grouped into chunks of about 32 MiB: fewest tasks, fastest bulk reads).  Default
        1 x 1024 x 1024: one date per chunk, so showing or computing one date reads one date.
    masks
        ``True`` for every mask layer the items carry (cloud, shadow, snow, water, edge,
        saturated), ``False`` for none, or a list of layer names (missing ones raise).
    apply_masks
        Set reflectance to NaN where these layers are true (``True``: cloud, shadow, edge, saturated).
    level
        ``"FRE"`` (flat reflectance, default) or ``"SRE"`` for THEIA products.
    group_by
        ``"solar_day"`` mosaics acquisitions of the same local solar day (first valid pixel);
        ``None`` keeps one time step per item.
    resampling
        Rasterio resampling for reflectance (masks always use nearest).
    on_error
        ``"raise"``: an unreadable asset raises :class:`AssetReadError` when read; ``"skip"``:
        it is read as nodata, with a warning.
    max_bytes
        Refuse cubes larger than this (default: 4x the machine's memory).
    raw_masks
        Also keep the mask rasters themselves as uint8 variables named by their product
        code (``CLM``, ``MG2``, ``EDG``, ``SAT`` for THEIA; 0 where there is no data), for
        algorithms that need every bit (see :mod:`terra_lab.products.masks`).
    like
        Load on exactly the grid (CRS, resolution, bounds) of this cube, e.g. a DEM for a
        reflectance cube; overrides ``crs``, ``resolution`` and ``bbox``.

    Returns
    -------
    xarray.Dataset
        One float32 variable per band (reflectance in [0, 1], NaN for nodata) and one boolean
        variable per mask layer, on dims ``(time, y, x)``, with the CRS in ``spatial_ref``
        and provenance in ``attrs``.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error={on_error!r}: use 'raise' or 'skip'")
    if not isinstance(resampling, str) or resampling not in Resampling.__members__:
        raise ValueError(f"resampling={resampling!r}: use one of rasterio's names, e.g. 'nearest', 'bilinear', 'average'")
    items = _prepared(_as_dicts(items))
    if not items:
        raise NoItemsFoundError(
            "no items to load: the search found nothing; widen the area or the dates, or raise max_cloud"
        )
    profiles = {p.name: p for p in map(profile_for_item, items)}
    if len(profiles) > 1 and all(p.kind != "reflectance" for p in profiles.values()):  # e.g. LIS <1.7 and >=1.7
        from ._thematic import load_thematic_sources

        groups = [(p, [it for it in items if profile_for_item(it) is p]) for p in profiles.values()]
        return load_thematic_sources(groups, bands=bands, resolution=resolution, bbox=bbox, crs=crs, chunks=chunks,
                                     masks=masks, level=level, group_by=group_by, resampling=resampling,
                                     on_error=on_error, max_bytes=max_bytes, like=like)
    if len(profiles) > 1:
        collections = sorted({str(it.get("collection")) for it in items})
        raise MissingBandError(
            f"the items come from several sources ({sorted(profiles)}; collections {collections}); load each "
            "source separately: search one collection, e.g. cat.search(..., collections="
            f"{collections[0]!r}), or filter the items by their 'collection'"
        )
    profile: CollectionProfile = next(iter(profiles.values()))
    if profile.kind != "reflectance":  # snow maps, land cover, DEMs: codes or physical values (cube/_thematic.py)
        from ._thematic import load_thematic

        return load_thematic(items, profile, bands=bands, resolution=resolution, bbox=bbox, crs=crs, chunks=chunks,
                             masks=masks, level=level, group_by=group_by, resampling=resampling, on_error=on_error,
                             max_bytes=max_bytes, like=like)
    plan = plan_load(items, profile, bands=bands, resolution=resolution, bbox=bbox, crs=crs, chunks=chunks,
                     masks=masks, raw_masks=raw_masks, level=level, group_by=group_by, resampling=resampling,
                     on_error=on_error, max_bytes=max_bytes, like=like)
    ds = decode_masks(stack(plan, max_bytes=max_bytes), plan, apply_masks=apply_masks)
    if like is not None:  # identical coordinates, not just equal up to float noise
        ds = ds.assign_coords(x=like["x"].values, y=like["y"].values)
    return ds


# ------------------------------------------------------------------------------ phase 1: plan
@dataclass(frozen=True)
class Grid:
    """The output grid: EPSG code, pixel size, and either projected ``bounds`` or lon/lat
    ``bounds_latlon`` (stackstac snaps the latter to the resolution when ``snap_bounds``)."""

    epsg: int
    resolution: float
    bounds: tuple[float, float, float, float] | None
    bounds_latlon: tuple[float, float, float, float] | None
    snap_bounds: bool


@dataclass(frozen=True)
class LoadPlan:
    """What :func:`load` will read, decided from the items' metadata alone (no pixel read).

    ``items`` are prepared copies (``proj:epsg``, GDAL paths, masks aliased across resolutions);
    ``layers`` maps each mask layer to its resolved rules; ``raw_keep`` maps a raw mask's
    product code (``CLM``) to its asset key; ``mask_assets`` are every mask asset to stack.
    """

    items: list[dict]
    profile: CollectionProfile
    commons: tuple[str, ...]
    band_assets: tuple[str, ...]
    grid: Grid
    layers: Mapping[str, tuple[MaskRule, ...]]
    raw_keep: Mapping[str, str]
    mask_assets: tuple[str, ...]
    chunks: Any
    level: str | None
    group_by: str | None
    resampling: str
    on_error: str

    @property
    def n_vars(self) -> int:
        return len(self.band_assets) + len(self.mask_assets)


def plan_load(items: list[dict], profile: CollectionProfile, *, bands: Sequence[str] | None, resolution: float | None,
              bbox: Any, crs: int | str | None, chunks: Any, masks: bool | Sequence[str], raw_masks: bool,
              level: str | None, group_by: str | None, resampling: str, on_error: str, max_bytes: int | None,
              like: xr.Dataset | xr.DataArray | None) -> LoadPlan:
    """Phase 1: bands, assets, grid and masks of the cube, checked against the items and the size limits."""
    if group_by not in ("solar_day", None):
        raise ValueError(f"group_by={group_by!r}: use 'solar_day' or None")
    commons = _pick_bands(profile, items[0], bands)
    band_assets = [profile.band_asset(b, level, item_id=items[0]["id"]) for b in commons]
    _check_assets(items, band_assets, on_error)
    grid = _plan_grid(items, profile, commons, band_assets, resolution=resolution, bbox=bbox, crs=crs, like=like)
    layers = _pick_layers(profile, items, masks, grid.resolution)
    raw_keep = _raw_mask_assets(profile, items, grid.resolution) if raw_masks else {}
    mask_assets = sorted({r.asset for rules in layers.values() for r in rules} | set(raw_keep.values()))
    _alias_masks(items, mask_assets)
    check_request(items, epsg=grid.epsg, resolution=grid.resolution, bounds=grid.bounds,
                  bounds_latlon=grid.bounds_latlon, n_vars=len(band_assets) + len(mask_assets), chunks=chunks,
                  max_bytes=max_bytes, what="cube")
    return LoadPlan(items=items, profile=profile, commons=tuple(commons), band_assets=tuple(band_assets), grid=grid,
                    layers=layers, raw_keep=raw_keep, mask_assets=tuple(mask_assets), chunks=chunks, level=level,
                    group_by=group_by, resampling=resampling, on_error=on_error)


def _plan_grid(items: list[dict], profile: CollectionProfile, commons: list[str], band_assets: list[str], *,
               resolution: float | None, bbox: Any, crs: int | str | None,
               like: xr.Dataset | xr.DataArray | None) -> Grid:
    """The output grid: ``like``'s, else the items' own pixel grid when they share one, else stackstac's."""
    bounds = None
    if like is not None:
        crs, resolution, bounds = _grid_of(like)
    epsg = _pick_epsg(items, crs)
    if resolution is None:
        resolution = min(profile.bands[b].resolution for b in commons)
        if epsg == 4326:
            raise ValueError("resolution= is required when crs=4326 (degrees), e.g. resolution=0.0001")
    res = _pixel_size(resolution)
    bounds_latlon = _bbox_bounds(bbox, items)
    snap_bounds = bounds is None
    if bounds is None:  # the items' own pixel grid when they share one (no resampling, no half-pixel shift)
        bounds = _native_bounds(items, band_assets, epsg, res, bounds_latlon)
        if bounds is not None:
            bounds_latlon, snap_bounds = None, False
    return Grid(epsg=epsg, resolution=res, bounds=bounds, bounds_latlon=bounds_latlon, snap_bounds=snap_bounds)


# ------------------------------------------------------------------------------ phase 2: stack
class Stacked:
    """Lazy arrays of a plan: scaled reflectance and raw masks, both (time, band, y, x).

    From stackstac, or (``direct``) from the graph :mod:`terra_lab.cube._graph` builds for local
    files in the output CRS, which :func:`decode_masks` asks for the solar-day mosaics directly
    (the (time, band) arrays are then only built when read here)."""

    def __init__(self, reflectance: xr.DataArray | None = None, masks: xr.DataArray | None = None, *,
                 direct: Any = None, chunks: tuple[int, int, int] = (1, 1024, 1024)) -> None:
        self._arrays: tuple[xr.DataArray, xr.DataArray | None] | None = None
        if direct is None:
            assert reflectance is not None, "Stacked needs the reflectance or a direct graph"
            self._arrays = (reflectance, masks)
        self.direct, self.chunks = direct, chunks

    def _stacked(self) -> tuple[xr.DataArray, xr.DataArray | None]:
        if self._arrays is None:
            self._arrays = self.direct.stacked(self.chunks[0], self.chunks[1:])
        return self._arrays

    @property
    def reflectance(self) -> xr.DataArray:
        return self._stacked()[0]

    @property
    def masks(self) -> xr.DataArray | None:
        return self._stacked()[1]


def _stack_kwargs(plan: LoadPlan) -> dict[str, Any]:
    """The arguments of ``stackstac.stack`` shared by the band and mask stacks."""
    g, items = plan.grid, plan.items
    return dict(
        epsg=g.epsg,
        resolution=g.resolution,
        bounds_latlon=g.bounds_latlon,
        bounds=g.bounds,
        dtype=np.dtype("float32"),
        fill_value=np.float32(np.nan),
        rescale=True,  # the profile's scale on band assets, none on masks (see _with_scale): applied by the reader
        sortby_date="asc",
        snap_bounds=g.snap_bounds,
        xy_coords="center",  # rioxarray and every xarray tool expect pixel centres
        reader=TerraLabReader.declaring(_declared_nodata(plan.profile, items, list(plan.band_assets))),
        errors_as_nodata=(Exception(".*"),) if plan.on_error == "skip" else (),
        properties=[p for p in _ITEM_COORDS if p in items[0]["properties"]],
        band_coords=False,
    )


def stack(plan: LoadPlan, *, max_bytes: int | None = None) -> Stacked:
    """Phase 2: the lazy stacks of a plan (one stackstac graph for bands and masks when both
    use nearest resampling), refused when larger than ``max_bytes``; masks count only where
    the item has reflectance (so mosaics stay consistent)."""
    import stackstac

    from ._graph import direct_stack

    band_assets, mask_assets = list(plan.band_assets), list(plan.mask_assets)
    kw = _stack_kwargs(plan)
    direct = direct_stack(plan.items, band_assets, mask_assets, plan.grid, nodata=kw["reader"].keywords["nodata"],
                          resampling=plan.resampling, on_error=plan.on_error, properties=kw["properties"],
                          scales=_asset_scales(band_assets, mask_assets, plan.profile),
                          declared=band_assets if plan.profile.item_scale else ())
    if direct is not None:  # local files in the output CRS: our own graph (cube/_graph.py)
        nt, ny, nx = direct.shape
        _check_size(nt, ny, nx, plan, max_bytes)
        return Stacked(direct=direct, chunks=_chunks(plan.chunks, nt, ny * nx * 4))
    items = _with_scale(plan.items, band_assets, mask_assets, plan.profile)
    if plan.chunks == "auto":  # the grid's size is known once stackstac has seen the items
        probe = stackstac.stack(items, assets=band_assets[:1], **kw)
        kw["chunksize"] = (*_chunks("auto", probe.sizes["time"], probe.sizes["y"] * probe.sizes["x"] * 4)[:1], 1, 1024, 1024)
    else:
        ct, cy, cx = _chunks(plan.chunks, len(items), 0)
        kw["chunksize"] = (ct, 1, cy, cx)
    if plan.resampling == "nearest" and mask_assets:  # one stack (one graph) for bands and masks
        both = stackstac.stack(items, assets=band_assets + mask_assets, resampling=Resampling.nearest, **kw)
        refl, raw = both.isel(band=slice(0, len(band_assets))), both.isel(band=slice(len(band_assets), None))
    else:
        refl = stackstac.stack(items, assets=band_assets, resampling=Resampling[plan.resampling], **kw)
        raw = stackstac.stack(items, assets=mask_assets, resampling=Resampling.nearest, **kw) if mask_assets else None
    _check_size(refl.sizes["time"], refl.sizes["y"], refl.sizes["x"], plan, max_bytes)
    if raw is not None:
        raw = raw.where(refl.notnull().any("band"))
    return Stacked(reflectance=refl, masks=raw)


def _asset_scales(band_assets: list[str], mask_assets: list[str], profile: CollectionProfile) -> dict[str, tuple]:
    """(scale, offset) of each asset: the profile's per band (Landsat ST has its own), none on masks.
    With ``profile.item_scale`` an item's declared ``raster:bands`` scale and offset win over a band's."""
    by_asset = {profile.band_asset(c): profile.decoding(c) for c in profile.bands}  # per-band scale (Landsat ST)
    out: dict[str, tuple] = {}
    for key in band_assets:
        dec = by_asset.get(key)
        out[key] = (dec.scale, dec.offset) if dec else (profile.scale, profile.offset)
    return {**out, **dict.fromkeys(mask_assets, (1, 0))}


def _with_scale(items: list[dict], band_assets: list[str], mask_assets: list[str],
                profile: CollectionProfile) -> list[dict]:
    """Copies of ``items`` whose band assets declare the profile's scale and offset in ``raster:bands``
    and whose mask assets declare none, so that the reader scales each chunk as it decodes it
    (no separate multiply-add task per chunk)."""
    scales = _asset_scales(band_assets, mask_assets, profile)
    out = []
    for it in items:
        assets = dict(it["assets"])
        for key in band_assets:
            bands = dict((assets[key].get("raster:bands") or [{}])[0])
            scale, offset = scales[key]
            if profile.item_scale:  # the item's declared decoding wins (USGS Landsat C2 items)
                scale, offset = bands.get("scale", scale), bands.get("offset", offset)
            bands.update(scale=np.float32(scale), offset=np.float32(offset))
            assets[key] = {**assets[key], "raster:bands": [bands]}
        for key in mask_assets:
            bands = dict((assets[key].get("raster:bands") or [{}])[0])
            assets[key] = {**assets[key], "raster:bands": [{**bands, "scale": np.float32(1), "offset": np.float32(0)}]}
        out.append({**it, "assets": assets})
    return out


def _check_size(n_time: int, ny: int, nx: int, plan: LoadPlan, max_bytes: int | None) -> None:
    """:class:`RequestTooLargeError` when the stacked cube is over ``max_bytes`` (default: 4x the memory)."""
    size = estimate_bytes(n_time, plan.n_vars, ny, nx)
    limit = max_bytes if max_bytes is not None else _default_max_bytes()
    if size > limit:
        raise RequestTooLargeError(
            f"the cube would hold {size / 2**30:.1f} GiB ({n_time} dates x {len(plan.band_assets)} bands "
            f"x {ny} x {nx} px float32 at {plan.grid.resolution:g} m), over the limit of "
            f"{limit / 2**30:.1f} GiB; narrow bbox=, coarsen resolution=, ask fewer bands= or dates, or pass "
            "max_bytes= to raise the limit (the cube stays lazy: compute it piecewise, e.g. with .to_zarr())"
        )


# ------------------------------------------------------------------------------ phase 3: decode masks
def decode_masks(stacked: Stacked, plan: LoadPlan, *, apply_masks: bool | Sequence[str] = False) -> xr.Dataset:
    """Phase 3: one variable per band, solar-day mosaics, the named mask layers decoded from the
    raw masks (and the raw masks kept when asked), masks applied, attributes and provenance."""
    commons = list(plan.commons)
    if stacked.direct is not None:  # mosaics and mask decoding done in the read tasks (cube/_graph.py)
        from ._graph import MaskOutput

        outputs = {name: MaskOutput.layer(name, rules) for name, rules in plan.layers.items()}
        outputs.update({stem: MaskOutput(assets=(key,), raw=True) for stem, key in plan.raw_keep.items()})

        def variables(members):
            return stacked.direct.variables(members, stacked.chunks[0], stacked.chunks[1:], commons, outputs)

        ds = stacked.direct.coords_dataset()
        ds = _group_solar_day(ds, plan.items, mosaic=variables) if plan.group_by == "solar_day" else ds.assign(variables(None))
        for stem, key in plan.raw_keep.items():
            ds[stem].attrs.update(long_name=f"{stem} mask ({key}), raw bits", asset=key)
        return _finish_applied(ds, plan, apply_masks)
    refl = stacked.reflectance  # stackstac's path: the raw masks decoded by xarray (one blockwise layer each)
    masks = stacked.masks
    raw = {a: masks.isel(band=i, drop=True) for i, a in enumerate(plan.mask_assets)} if masks is not None else {}
    ds = xr.Dataset({c: refl.isel(band=i, drop=True) for i, c in enumerate(commons)})
    for name, da in raw.items():
        ds[f"_raw_{name}"] = da
    if plan.group_by == "solar_day":
        ds = _group_solar_day(ds, plan.items)
    first = ds[commons[0]]
    for name, rules in plan.layers.items():
        if name == "edge" and not any(r.asset in raw for r in rules):
            ds[name] = ds[commons].to_array().isnull().all("variable")
        else:
            ds[name] = decode_layer({k: ds[f"_raw_{k}"] for k in raw}, rules)
            if name == "edge":
                ds[name] = ds[name] | first.isnull()
    for stem, key in plan.raw_keep.items():
        ds[stem] = ds[f"_raw_{key}"].fillna(0).astype(np.uint8)
        ds[stem].attrs.update(long_name=f"{stem} mask ({key}), raw bits", asset=key)
    ds = ds.drop_vars([v for v in ds.data_vars if str(v).startswith("_raw_")])
    return _finish_applied(ds, plan, apply_masks)


def _finish_applied(ds: xr.Dataset, plan: LoadPlan, apply_masks: bool | Sequence[str]) -> xr.Dataset:
    """``apply_masks`` applied to the bands (NaN where a layer is true), then :func:`_finish`."""
    commons = list(plan.commons)
    to_apply = _apply_list(apply_masks, plan.layers)
    if to_apply:
        bad = ds[to_apply[0]]
        for name in to_apply[1:]:
            bad = bad | ds[name]
        for c in commons:
            ds[c] = ds[c].where(~bad)
    return _finish(ds, plan, to_apply)


def _bbox_bounds(bbox: Any, items: list[dict]) -> tuple[float, float, float, float] | None:
    """Lon/lat bounds of ``bbox=`` (None: the items' union); it must be an area that meets the items."""
    if bbox is None:
        return None
    import shapely
    import shapely.geometry

    from ..catalog._query import parse_aoi

    w, s, e, n = parse_aoi(bbox).bounds
    if w >= e or s >= n:
        raise AOIError(f"bbox={bbox!r} has no area (bounds {(w, s, e, n)}); give an area, e.g. buffer a point")
    footprints = [shapely.geometry.box(*it["bbox"]) for it in items if len(it.get("bbox") or ()) == 4]
    if footprints and not shapely.union_all(footprints).intersects(shapely.geometry.box(w, s, e, n)):
        raise NoItemsFoundError(f"bbox={bbox!r} does not overlap any of the {len(items)} items; search this area first")
    return w, s, e, n


def _pixel_size(resolution: Any) -> float:
    """``resolution=`` as a positive, finite float (ValueError naming it otherwise)."""
    try:
        res = float(resolution) if not isinstance(resolution, bool) else math.nan
    except (TypeError, ValueError):
        res = math.nan
    if not (math.isfinite(res) and res >= 1e-6):
        raise ValueError(f"resolution={resolution!r} must be a positive pixel size in units of crs=, at least 1e-06 "
                         "(e.g. 10 for 10 m)")
    return res


def _grid_of(like: xr.Dataset | xr.DataArray) -> tuple[int, float, tuple[float, float, float, float]]:
    """(EPSG, resolution, bounds) of a cube, from its coordinates and CRS."""
    crs = like.rio.crs
    if crs is None:
        raise ValueError("like= has no CRS: give a cube made by terra_lab.load (or call .rio.write_crs on it)")
    x, y = like["x"].values, like["y"].values
    res = float(abs(x[1] - x[0])) if len(x) > 1 else float(like.attrs["terra_lab:resolution"])
    half = res / 2
    return crs.to_epsg(), res, (float(x.min() - half), float(y.min() - half), float(x.max() + half), float(y.max() + half))


def _raw_mask_assets(profile: CollectionProfile, items: list[dict], resolution: float) -> dict[str, str]:
    """Mask product code -> asset key, for the masks every item carries (at the nearest resolution)."""
    stems = sorted({r.asset.split("_")[0] for rules in profile.masks.values() for r in rules})
    out = {}
    for stem in stems:
        wanted = f"{stem}_{profile.mask_res_suffix(resolution)}" if profile.mask_resolutions else stem
        key = _mask_key(items, wanted)
        if key is not None:
            out[stem.upper()] = key
    return out


def _pick_bands(profile: CollectionProfile, item: dict, bands: Sequence[str] | None) -> list[str]:
    if bands is None:
        commons = [c for c in profile.bands if profile.band_asset(c) in item["assets"]]
        if not commons:
            raise MissingBandError(f"item {item['id']!r} carries none of the {profile.name} bands")
        return commons
    return [profile.common_name(b) for b in _band_names(bands)]


def _band_names(bands: Sequence[str] | str) -> list[str]:
    """``bands=`` as a non-empty list of names (MissingBandError naming it otherwise)."""
    names: list[Any]
    try:
        names = [bands] if isinstance(bands, str) else list(bands)
    except TypeError:
        names = [None]
    if not names or not all(isinstance(b, str) and b for b in names):
        raise MissingBandError(f"bands={bands!r}: give band names such as ['red', 'nir'] (or None for every band)")
    return names


def _check_assets(items: list[dict], assets: list[str], on_error: str) -> None:
    seen: set[str] = set()  # files shared by several items (copies, symlinked archives) checked once
    for it in items:
        missing = [a for a in assets if a not in it["assets"]]
        if missing:
            raise MissingBandError(
                f"band asset(s) {missing} not found in item {it['id']!r} (available: {sorted(it['assets'])}); "
                "ask for other bands= or drop this item"
            )
        if on_error == "raise":
            for a in assets:
                href = it["assets"][a]["href"]
                if "://" in href or href in seen:
                    continue
                seen.add(href)
                if not (zip_member_exists(href) if split_vsizip(href) else os.path.exists(href)):
                    raise AssetReadError(
                        f"asset {a!r} of item {it['id']!r} points to a missing file {href!r}; restore it, "
                        "rebuild the catalogue (terra-lab ingest / demo build), or pass on_error='skip'"
                    )


def _pick_epsg(items: list[dict], crs: int | str | None) -> int:
    if crs is not None:
        text = str(crs).upper().replace("EPSG:", "")
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            epsg = int(text)
            kind = CRS.from_epsg(epsg)
        except (ValueError, CRSError):
            raise ValueError(f"crs={crs!r}: give an EPSG code such as 32631 or 'EPSG:32631'") from None
        if not (kind.is_projected or kind.is_geographic) or kind.is_geocentric or len(kind.axis_info) != 2:
            raise ValueError(f"crs={crs!r} is not a 2D map projection or lon/lat CRS; give one such as 32631 (UTM 31N)")
        _check_items_project(items, epsg, crs)
        return epsg
    epsgs = Counter(_item_epsg(it) for it in items)
    epsgs.pop(None, None)
    if not epsgs:
        raise ValueError(
            "the items carry no CRS (no proj:epsg, proj:code or proj:wkt2 with an EPSG code, on the items "
            "or their assets); pass crs= (an EPSG code) and resolution="
        )
    found = epsgs.most_common(1)[0][0]
    assert found is not None  # None was popped above
    return found


def _check_items_project(items: list[dict], epsg: int, crs: Any) -> None:
    """The items' extent must project to a finite area in ``epsg`` (ValueError naming ``crs`` otherwise)."""
    from pyproj import Transformer
    from pyproj.exceptions import ProjError

    boxes = [it["bbox"] for it in items if len(it.get("bbox") or ()) == 4]
    if not boxes:
        return
    box = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    try:
        w, s, e, n = Transformer.from_crs(4326, epsg, always_xy=True).transform_bounds(*box)
    except ProjError:
        w = s = e = n = math.nan
    if not (all(map(math.isfinite, (w, s, e, n))) and w < e and s < n):
        raise ValueError(f"crs={crs!r}: the items (lon/lat {tuple(round(v, 3) for v in box)}) do not project to an "
                         "area in this CRS (outside its area of use); give a CRS that covers them, e.g. their UTM zone")


def _chunks(chunks: Mapping[str, int] | int | str | None, n_time: int, n_bytes_per_date: int) -> tuple[int, int, int]:
    """(time, y, x) chunk sizes; ``"auto"`` groups dates so that a chunk holds about 32 MiB."""
    if chunks is None:
        return 1, 1024, 1024
    if isinstance(chunks, str):
        if chunks != "auto":
            raise ValueError(f"chunks={chunks!r}: give an int, a dict of time/y/x sizes, or 'auto'")
        per_date = max(1, min(n_bytes_per_date, 1024 * 1024 * 4))
        return max(1, min(n_time, (32 * 2**20) // per_date)), 1024, 1024
    if isinstance(chunks, int) and not isinstance(chunks, bool) and chunks >= 1:
        return 1, chunks, chunks
    if not isinstance(chunks, Mapping):
        raise ValueError(f"chunks={chunks!r}: give a positive int, a dict of time/y/x sizes, or 'auto'")
    unknown = set(chunks) - {"time", "y", "x"}
    if unknown:
        raise ValueError(f"chunks has unknown dimensions {sorted(unknown, key=str)}; use time, y and x")
    sizes = [chunks.get(k, d) for k, d in (("time", 1), ("y", 1024), ("x", 1024))]
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in sizes):
        raise ValueError(f"chunks={dict(chunks)!r}: sizes must be whole numbers (or -1 for all dates)")
    sizes = [int(v) for v in sizes]
    if sizes[0] == -1:
        sizes[0] = n_time
    if min(sizes) < 1:
        raise ValueError(f"chunks={dict(chunks)!r}: sizes must be positive (or -1 for all dates)")
    return sizes[0], sizes[1], sizes[2]


def _pick_layers(profile: CollectionProfile, items: list[dict], masks: bool | Sequence[str],
                 resolution: float) -> dict[str, tuple[MaskRule, ...]]:
    if masks is False or masks is None:
        return {}
    wanted = list(MASK_LAYERS) if masks is True else _layer_names(masks, "masks")
    out: dict[str, tuple[MaskRule, ...]] = {}
    for name in wanted:
        if masks is True and name not in profile.masks:  # e.g. L3A syntheses: no shadow or saturation layer
            continue
        rules = profile.mask_rules(name, resolution)
        keys = [_mask_key(items, r.asset) for r in rules]
        resolved = [type(r)(k, r.bits, r.values, r.nonzero) for r, k in zip(rules, keys) if k is not None]
        if len(resolved) < len(rules):
            if name == "edge":  # derivable from the reflectance itself
                out[name] = ()
                continue
            if masks is not True:
                raise MissingBandError(
                    f"mask layer {name!r} needs asset(s) {[r.asset for r in rules]} that not every item carries "
                    f"(item {items[0]['id']!r} has {sorted(items[0]['assets'])}); ask for other masks="
                )
            continue
        out[name] = tuple(resolved)
    return out


def _layer_names(value: Any, arg: str) -> list[str]:
    """A ``masks=``/``apply_masks=`` value (a name or a list of names) as a list (MissingBandError naming ``arg``)."""
    names = [value] if isinstance(value, str) else value
    try:
        names = list(names)
    except TypeError:
        names = [None]
    if not all(isinstance(n, str) for n in names):
        raise MissingBandError(f"{arg}={value!r}: give True, False, a mask layer name or a list of names (e.g. ['cloud'])")
    return names


def _apply_list(apply_masks: bool | Sequence[str], layers: Mapping[str, Any]) -> list[str]:
    if not apply_masks:
        return []
    wanted = ["cloud", "shadow", "edge", "saturated"] if apply_masks is True else _layer_names(apply_masks, "apply_masks")
    missing = [w for w in wanted if w not in layers]
    if missing and apply_masks is not True:
        raise MissingBandError(f"cannot apply mask layer(s) {missing}: the cube has {sorted(layers)}; load them with masks=")
    return [w for w in wanted if w in layers]


def _group_solar_day(ds: xr.Dataset, items: list[dict], mosaic: Any = None) -> xr.Dataset:
    """Mosaic acquisitions of the same local solar day: the first valid pixel wins (as stackstac.mosaic).

    ``mosaic``: a function of the time steps of each day giving the data variables (the direct
    graph of ``cube/_graph.py`` mosaics in its read tasks); default: mosaic ``ds``'s variables."""
    by_id = {it["id"]: it for it in items}
    ids = ds["id"].values
    lons = np.array([(by_id[i]["bbox"][0] + by_id[i]["bbox"][2]) / 2 for i in ids])
    days = _solar_day(pd.DatetimeIndex(ds["time"].values), lons)
    if "sat:relative_orbit" in ds.coords:  # radar: one mosaic per day and orbit (geometries are not mixed)
        orbits = np.broadcast_to(ds["sat:relative_orbit"].values, (len(days),))  # one item: a scalar coordinate
        codes, uniq = pd.factorize(pd.MultiIndex.from_arrays([days, orbits]), sort=True)
        uniq = uniq.get_level_values(0)
    else:
        codes, uniq = pd.factorize(days, sort=True)
    if len(uniq) == ds.sizes["time"]:
        out = ds.assign_coords(solar_day=("time", days))
        return out if mosaic is None else out.assign(mosaic([[i] for i in range(len(days))]))
    members = [np.flatnonzero(codes == g).tolist() for g in range(len(uniq))]
    first = [m[0] for m in members]
    data = {}
    if mosaic is not None:
        data = mosaic(members)
    for name, var in ds.data_vars.items():
        arr = _mosaic_time(var.transpose("time", "y", "x").data, members)
        data[name] = (("time", "y", "x"), arr, var.attrs)
    coords = {k: v for k, v in ds.coords.items() if "time" not in v.dims}
    coords.update(
        time=ds["time"].values[first],
        solar_day=("time", np.asarray(uniq)),
        id=("time", [",".join(str(v) for v in ids[m]) for m in members]),
    )
    for c in _ITEM_COORDS:
        if c in ds.coords and "time" in ds[c].dims:
            coords[c] = ("time", ds[c].values[first])
    return xr.Dataset(data, coords=coords, attrs=ds.attrs)


def _nanfirst_blocks(*blocks: np.ndarray) -> np.ndarray:
    out = blocks[0].copy()
    for b in blocks[1:]:
        gap = np.isnan(out)
        out[gap] = b[gap]
    return out


def _mosaic_time(arr, members: list[list[int]]):
    """Dask array with one time step per group of ``members``, built as one task per output block."""
    import dask.array as da
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    restore = arr.chunks[0]
    if max(restore) != 1:
        arr = arr.rechunk({0: 1})
    name = "solar-day-mosaic-" + tokenize(arr.name, members)
    ny, nx = len(arr.chunks[1]), len(arr.chunks[2])
    dsk: dict[Any, Any] = {
        (name, g, j, i): (_nanfirst_blocks, *[(arr.name, t, j, i) for t in m])
        for g, m in enumerate(members)
        for j in range(ny)
        for i in range(nx)
    }
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[arr])
    out = da.Array(graph, name, ((1,) * len(members), arr.chunks[1], arr.chunks[2]), meta=arr._meta)
    return out if max(restore) == 1 else out.rechunk({0: max(restore)})


def _finish(ds: xr.Dataset, plan: LoadPlan, applied: list[str]) -> xr.Dataset:
    """Coordinates kept, CRS, per-variable attributes and the cube's provenance."""
    items, profile, commons, layers = plan.items, plan.profile, plan.commons, plan.layers
    epsg, resolution, level, group_by = plan.grid.epsg, plan.grid.resolution, plan.level, plan.group_by
    keep = {"time", "x", "y", "id", "solar_day", "epsg", *_ITEM_COORDS}
    ds = ds.drop_vars([c for c in ds.coords if c not in keep and c not in ds.dims])
    ds = ds.rio.write_crs(epsg)
    for c in commons:
        ds[c].attrs.update(units="1", long_name=f"{level or profile.levels[0]} reflectance {c}".strip(), nodata=np.nan)
        if (dec := profile.decoding(c)).kind == "continuous":  # a physical band among reflectance (Landsat ST, K)
            ds[c].attrs.update(units=dec.units, long_name=dec.long_name or c)
        ds[c].encoding["_FillValue"] = np.nan
    for name in layers:
        ds[name].attrs.update(long_name=f"{name} mask", flag_values=[0, 1])
    ds.attrs.update(
        {
            "title": "terra_lab cube",
            "source": profile.name,
            "terra_lab:version": __version__,
            "terra_lab:source_items": [it["id"] for it in items],
            "terra_lab:collections": sorted({str(it.get("collection")) for it in items}),
            "terra_lab:bands": list(commons),
            "terra_lab:level": level or profile.levels[0],
            "terra_lab:resolution": resolution,
            "terra_lab:epsg": epsg,
            "terra_lab:group_by": str(group_by),
            "terra_lab:masks_applied": list(applied),
            "terra_lab:mask_layers": list(layers),
        }
    )
    return ds
