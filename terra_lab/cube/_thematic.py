"""Thematic products (snow maps, land cover, DEMs, biophysical variables) to a lazy xarray Dataset.

:func:`terra_lab.load` hands items whose profile is not a reflectance one to
:func:`load_thematic`.  Each variable is decoded as its profile says
(:meth:`~terra_lab.profiles.CollectionProfile.decoding`):

* *categorical*: the producer's codes are kept as they are (float32 holding exact integers,
  NaN for the no-data codes), read with nearest resampling, and carry CF flag attributes
  (``flag_values``, ``flag_meanings``) with the producer's colours and French/English names
  (``flag_colors``, ``flag_names_en``, ``flag_names_fr``), so maps show them with their legend;
  codes of an older nomenclature are recoded (OSO 2016-2017);
* *continuous*: ``value * scale + offset`` in float32, NaN for no data, with ``units``;
* mask layers a thematic profile defines (LIS FSC's cloud and no-data codes) are boolean
  variables, as for reflectance cubes.

Grid, bbox, ``like=``, chunking and solar-day mosaics are those of :func:`terra_lab.load`.

A collection may hold products of two formats of one producer (THEIA snow L2B: ``SNW_R2`` products of
let-it-snow before 1.7, ``FSC`` products since): :func:`load_thematic_sources` loads each format with
its own profile on one grid and stacks them in time.  Variables of the same name (``snow``: LIS' L2B
codes, which the FSC profile derives from the fraction, FSC > 0 -> 100) span every date; a variable
only some formats have (``fsc``, ``qcflags``) is NaN on the dates of the others.  Mask layers are
those every format defines (``masks=True``); a layer named explicitly must exist in every format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr
from rasterio.enums import Resampling

from .._version import __version__
from ..errors import MissingBandError, RequestTooLargeError
from ..profiles import CollectionProfile, Decoding
from . import _load as L
from ._masks import decode_layer
from ._reader import TerraLabReader
from ._size import check_request

__all__ = ["load_thematic", "load_thematic_sources", "recode"]


def _variables(profile: CollectionProfile, item: dict, bands: Sequence[str] | str | None) -> list[str]:
    if bands is None:
        names = [n for n, s in profile.bands.items() if s.asset in item["assets"]]
        if not names:
            raise MissingBandError(
                f"item {item['id']!r} carries none of the {profile.name} variables "
                f"{[s.asset for s in profile.bands.values()]} (its assets: {sorted(item['assets'])})"
            )
        return names
    return [profile.common_name(b) for b in L._band_names(bands)]


def _recode_block(x: np.ndarray, lut: np.ndarray) -> np.ndarray:
    out = x.copy()
    ok = np.isfinite(x) & (x >= 0) & (x < lut.size)
    out[ok] = lut[x[ok].astype(np.int64)]
    return out


def recode(da: xr.DataArray, table: Mapping[int, int]) -> xr.DataArray:
    """Codes of ``da`` mapped by ``table`` (others unchanged, NaN stays NaN); lazy on Dask arrays."""
    lut = np.arange(max(*table, 255) + 1, dtype=np.float32)
    for old, new in table.items():
        lut[old] = new
    return xr.apply_ufunc(_recode_block, da, kwargs={"lut": lut}, dask="parallelized",
                          output_dtypes=[np.float32], keep_attrs=True)


def _decode(da: xr.DataArray, dec: Decoding) -> xr.DataArray:
    if dec.nodata:
        da = da.where(~da.isin(list(dec.nodata)))
    if dec.recode_before is not None:
        cutoff, table = dec.recode_before
        old = xr.DataArray(pd.DatetimeIndex(da["time"].values) < pd.Timestamp(cutoff), dims="time",
                           coords={"time": da["time"]})
        if bool(old.any()):
            da = recode(da, table).where(old, da)
    if dec.kind == "continuous" and (dec.scale != 1 or dec.offset != 0):
        da = da * np.float32(dec.scale) + np.float32(dec.offset)
    return da


def _attrs(dec: Decoding, name: str) -> dict:
    attrs = {"long_name": dec.long_name or name}
    if dec.kind == "categorical" and dec.legend is not None:  # BandSpec: categorical implies a legend
        attrs.update(dec.legend.cf_attrs())
    elif dec.units:
        attrs["units"] = dec.units
    return attrs


def _encoding(dec: Decoding) -> dict:
    """On-disk encoding: categorical codes back to small integers, NaN to a no-data code."""
    if dec.kind != "categorical" or dec.legend is None:
        return {"_FillValue": np.float32(np.nan)}
    top = max(dec.legend.codes)
    fill = dec.nodata[0] if dec.nodata else (255 if top < 255 else 65535)
    return {"dtype": "uint8" if max(top, fill) <= 255 else "uint16", "_FillValue": fill}


def _layers(profile: CollectionProfile, items: list[dict], masks, resolution: float) -> dict:
    """Mask layers to decode: every layer of the profile whose assets all items carry (``masks=True``),
    or the named ones (which must exist)."""
    if masks is False or masks is None:
        return {}
    wanted = list(profile.masks) if masks is True else L._layer_names(masks, "masks")
    unknown = [w for w in wanted if w not in profile.masks]
    if unknown:
        raise MissingBandError(
            f"mask layer(s) {unknown} are not defined for {profile.name} items"
            + (f"; they have {sorted(profile.masks)}" if profile.masks else
               " (their cloud and no-data information is in their own codes); drop masks=")
        )
    out = {}
    for name in wanted:
        rules = profile.mask_rules(name, resolution)
        if all(r.asset in it["assets"] for r in rules for it in items):
            out[name] = rules
        elif masks is not True:
            raise MissingBandError(f"mask layer {name!r} needs assets {[r.asset for r in rules]} that not every "
                                   f"item carries (item {items[0]['id']!r} has {sorted(items[0]['assets'])})")
    return out


def load_thematic(items: list[dict], profile: CollectionProfile, *, bands=None, resolution=None, bbox=None,
                  crs=None, chunks=None, masks=True, level=None, group_by="solar_day", resampling="nearest",
                  on_error="raise", max_bytes=None, like=None) -> xr.Dataset:
    """Stack the items of a thematic profile (see the module docstring); arguments as :func:`terra_lab.load`."""
    import stackstac

    if level:
        raise MissingBandError(f"level={level!r}: {profile.name} items have no reflectance levels; drop level=")
    names = _variables(profile, items[0], bands)
    assets = [profile.bands[n].asset for n in names]
    L._check_assets(items, assets, on_error)
    bounds = None
    if like is not None:
        crs, resolution, bounds = L._grid_of(like)
    epsg = L._pick_epsg(items, crs)
    if resolution is None:
        if epsg == 4326:
            raise ValueError(f"{profile.name} items are in EPSG:4326: pass crs= (e.g. a UTM EPSG code) and resolution= "
                             "in metres, or resolution= in degrees")
        resolution = min(profile.bands[n].resolution for n in names)
    resolution = L._pixel_size(resolution)
    bounds_latlon = L._bbox_bounds(bbox, items)
    snap = bounds is None
    native = getattr(L, "_native_bounds", None)
    if bounds is None and native is not None:
        bounds = native(items, assets, epsg, resolution, bounds_latlon)
        if bounds is not None:
            bounds_latlon, snap = None, False
    decodings = {n: profile.decoding(n) for n in names}
    layers = _layers(profile, items, masks, resolution)
    mask_assets = sorted({r.asset for rules in layers.values() for r in rules})
    kw = dict(
        epsg=epsg, resolution=resolution, bounds_latlon=bounds_latlon, bounds=bounds,
        dtype=np.dtype("float32"), fill_value=np.float32(np.nan), rescale=False, sortby_date="asc",
        snap_bounds=snap, xy_coords="center", reader=TerraLabReader,
        errors_as_nodata=(Exception(".*"),) if on_error == "skip" else (),
        properties=[p for p in L._ITEM_COORDS if p in items[0]["properties"]], band_coords=False,
    )
    check_request(items, epsg=epsg, resolution=resolution, bounds=bounds, bounds_latlon=bounds_latlon,
                  n_vars=len(names) + len(mask_assets), chunks=chunks, max_bytes=max_bytes, what=f"{profile.name} cube")
    ct, cy, cx = L._chunks(None if chunks == "auto" else chunks, len(items), 0)
    kw["chunksize"] = (ct, 1, cy, cx)
    data = {}
    for n, a in zip(names, assets):
        # codes are never interpolated; physical values follow resampling=
        rs = Resampling.nearest if decodings[n].kind == "categorical" else Resampling[resampling]
        # untagged files: the first no-data code is declared to GDAL, so resampling never blends it in
        reader = TerraLabReader.declaring(decodings[n].nodata[0] if decodings[n].nodata else None)
        data[n] = stackstac.stack(items, assets=[a], resampling=rs, **{**kw, "reader": reader}).isel(band=0, drop=True)
    raw = {a: stackstac.stack(items, assets=[a], resampling=Resampling.nearest, **kw).isel(band=0, drop=True)
           for a in mask_assets}
    first = next(iter(data.values()))
    size = L.estimate_bytes(first.sizes["time"], len(names), first.sizes["y"], first.sizes["x"])
    limit = max_bytes if max_bytes is not None else L._default_max_bytes()
    if size > limit:
        raise RequestTooLargeError(
            f"the {profile.name} cube would hold {size / 2**30:.1f} GiB ({first.sizes['time']} dates x {len(names)} "
            f"variables x {first.sizes['y']} x {first.sizes['x']} px float32 at {resolution:g}), over the limit of "
            f"{limit / 2**30:.1f} GiB; narrow bbox=, coarsen resolution=, or pass max_bytes="
        )
    ds = xr.Dataset({n: _decode(da, decodings[n]) for n, da in data.items()})
    for a, da in raw.items():
        ds[f"_raw_{a}"] = da
    if group_by == "solar_day":
        ds = L._group_solar_day(ds, items)
    elif group_by is not None:
        raise ValueError(f"group_by={group_by!r}: use 'solar_day' or None")
    for layer, rules in layers.items():  # decoded after the mosaic, from the first valid raw value
        ds[layer] = decode_layer({a: ds[f"_raw_{a}"] for a in mask_assets}, rules)
        if layer == "edge":  # a file whose tag marks its no-data code reads NaN there: no data too
            for r in rules:
                ds[layer] = ds[layer] | ds[f"_raw_{r.asset}"].isnull()
        ds[layer].attrs.update(long_name=f"{layer} mask", flag_values=[0, 1])
    ds = ds.drop_vars([f"_raw_{a}" for a in mask_assets])
    keep = {"time", "x", "y", "id", "solar_day", "epsg", *L._ITEM_COORDS}
    ds = ds.drop_vars([c for c in ds.coords if c not in keep and c not in ds.dims])
    ds = ds.rio.write_crs(epsg)
    for n, dec in decodings.items():
        ds[n].attrs = _attrs(dec, n)
        ds[n].encoding.update(_encoding(dec))
    ds.attrs.update({
        "title": "terra_lab cube",
        "source": profile.name,
        "terra_lab:version": __version__,
        "terra_lab:kind": profile.kind,
        "terra_lab:source_items": [it["id"] for it in items],
        "terra_lab:collections": sorted({str(it.get("collection")) for it in items}),
        "terra_lab:bands": list(names),
        "terra_lab:resolution": resolution,
        "terra_lab:epsg": epsg,
        "terra_lab:group_by": str(group_by),
        "terra_lab:mask_layers": list(layers),
    })
    if like is not None:
        ds = ds.assign_coords(x=like["x"].values, y=like["y"].values)
    return ds


def _nan_like(da: xr.DataArray, time: xr.DataArray) -> xr.DataArray:
    """A lazy all-NaN float32 variable shaped as ``da`` on the dates ``time``."""
    import dask.array as dsa

    shape = (time.size, da.sizes["y"], da.sizes["x"])
    chunks = (1, *tuple(da.chunks[1:])) if da.chunks else (1, da.sizes["y"], da.sizes["x"])
    data = dsa.full(shape, np.nan, dtype=np.float32, chunks=chunks)
    return xr.DataArray(data, dims=("time", "y", "x"), coords={"time": time, "y": da["y"], "x": da["x"]},
                        attrs=da.attrs)


def load_thematic_sources(groups: Sequence[tuple[CollectionProfile, list[dict]]], *, bands=None, masks=True,
                          like=None, **kw) -> xr.Dataset:
    """Items of several formats of one thematic product, each ``(profile, items)``, in one cube.

    The first group (the one with the most items) sets the grid unless ``like=`` is given; the
    others are read on it.  ``bands``: variables to load (default: every variable of every
    format); each format reads those it has, the others are NaN on its dates.  Raises
    :class:`MissingBandError` when the formats share no variable or come from several collections.
    """
    groups = sorted(groups, key=lambda g: -len(g[1]))
    have = [[n for n, s in p.bands.items() if any(s.asset in it["assets"] for it in items)] for p, items in groups]
    shared = set(have[0]).intersection(*have[1:])
    collections = {str(it.get("collection")) for _, items in groups for it in items}
    if not shared or len(collections) > 1:  # formats of one collection only (not a DEM with another DEM)
        raise MissingBandError(
            f"the items come from several sources ({sorted(p.name for p, _ in groups)}; collections "
            f"{sorted(collections)}; variables {have}); load each source separately"
        )
    wanted = ([bands] if isinstance(bands, str) else list(bands)) if bands is not None else \
        list(dict.fromkeys(n for names in have for n in names))
    unknown = [b for b in wanted if not any(b in names for names in have)]
    if unknown:
        raise MissingBandError(f"variable(s) {unknown} are defined for none of {[p.name for p, _ in groups]}; "
                               f"they have {have}")
    if masks is True:
        common = set(groups[0][0].masks).intersection(*(p.masks for p, _ in groups[1:]))
        masks = sorted(common) if common else False
    cubes = []
    for (profile, items), names in zip(groups, have):
        mine = [b for b in wanted if b in names]
        if not mine:
            continue
        ds = load_thematic(items, profile, bands=mine, masks=masks, like=like, **kw)
        if like is None:
            like = ds
            kw = {k: v for k, v in kw.items() if k not in ("bbox", "crs", "resolution")}
        cubes.append(ds)
    first = {n: c[n] for c in reversed(cubes) for n in c.data_vars}  # each variable's attrs from the first cube
    filled = []
    for ds in cubes:
        for n, da in first.items():
            if n not in ds:
                ds[n] = _nan_like(da, ds["time"])
        filled.append(ds)
    out = xr.concat(filled, dim="time", data_vars="all", coords="minimal", compat="override",
                    combine_attrs="override").sortby("time")
    for n, da in first.items():
        out[n].attrs = dict(da.attrs)
        out[n].encoding.update(da.encoding)
    out.attrs.update({
        "source": " + ".join(c.attrs["source"] for c in cubes),
        "terra_lab:source_items": [i for c in cubes for i in c.attrs["terra_lab:source_items"]],
        "terra_lab:collections": sorted({x for c in cubes for x in c.attrs["terra_lab:collections"]}),
        "terra_lab:bands": list(first),
    })
    return out
