"""The Dask graph of a cube of local files in the output's CRS, built directly (no stackstac graph).

stackstac builds a graph for any STAC items (remote, reprojected): it tokenizes its asset table
and computes each asset's bounds by projecting its corners, which for 1,000 items is most of
:func:`terra_lab.load`'s time, and its reads go through two graph layers.  For the usual THEIA
case (files on disk, in a zip through ``/vsizip/`` or ``file://``, mostly in the output CRS),
:class:`DirectStack` builds the graph itself:

* one task per (date chunk, variable, spatial chunk), reading its windows with rasterio;
* a token hashed from the hrefs, scales, grid, dates and chunks (not ``dask.tokenize`` of arrays);
* each asset's bounds from its ``proj:bbox`` or ``proj:transform``/``proj:shape`` (the same rules
  as stackstac's ``prepare_items``), projected once per distinct grid, not once per asset;
* solar-day mosaics (first valid pixel wins) done inside the read tasks, and raw masks set to
  NaN where the acquisition has no reflectance inside the mask tasks: no extra graph layers.

A file whose pixels lie on the output grid (its own, or one of its overviews for a coarse cube,
as :func:`~terra_lab.cube._reader.overview_level` picks it) is read by window; any other (another
pixel size, a shifted origin) is read by :class:`~terra_lab.cube._reader.TerraLabReader` on
stackstac's warped VRT, so that every pixel is the one stackstac's path gives (tested pixel for
pixel in ``tests/test_cube_graph.py``).  Remote assets, and items whose CRS or extent is not declared,
keep stackstac's path.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import dask.array as da
import numpy as np
import pandas as pd
import rasterio
import xarray as xr
from affine import Affine
from dask.highlevelgraph import HighLevelGraph
from rasterio import windows
from rasterio.enums import Resampling
from stackstac import geom_utils
from stackstac.prepare import to_attrs, to_coords
from stackstac.raster_spec import RasterSpec
from stackstac.rio_reader import exception_matches

from ..errors import AssetReadError
from ..profiles import MaskRule
from ._datasets import opened
from ._gc import gc_paused
from ._masks import decode_layer_arrays
from ._reader import _FIX, TerraLabReader, effective_nodata, overview_level

__all__ = ["DirectStack", "MaskOutput", "direct_stack"]

_F32 = np.dtype("float32")


class _Source(NamedTuple):
    """One asset to read: its GDAL path, its window in the output grid, its scale and offset."""

    url: str
    window: windows.Window
    scale: float
    offset: float


@dataclass(frozen=True)
class _Config:
    """What every read task of one variable kind shares (small: pickled once per task on a cluster)."""

    spec: RasterSpec
    nodata: float | None  # declared nodata, for files without a tag
    resampling: Resampling  # for files off the grid (stackstac's VRT)
    errors_as_nodata: tuple


@dataclass(frozen=True)
class MaskOutput:
    """A mask variable decoded inside its read tasks (no graph layer of its own).

    ``raw=True``: the bits of ``assets[0]`` as uint8, 0 where there is no value (the
    ``raw_masks=True`` variables).  Otherwise a boolean layer: the OR of ``rules`` (one asset
    each, as :func:`~terra_lab.cube._masks.decode_layer`), and with ``edge`` also where the
    first band has no data; no rules: where no band has data (an edge layer without its asset).
    """

    assets: tuple[str, ...]
    rules: tuple[MaskRule, ...] = ()
    edge: bool = False
    raw: bool = False

    @classmethod
    def layer(cls, name: str, rules: tuple[MaskRule, ...]) -> MaskOutput:
        """The mask layer ``name`` (``edge`` also where the first band has no data) decoded by ``rules``."""
        return cls(assets=tuple(r.asset for r in rules), rules=tuple(rules), edge=name == "edge")


@lru_cache(maxsize=1024)
def _affine_bounds(t: tuple, h: int, w: int, epsg: int, out_epsg: int) -> tuple[float, float, float, float]:
    return geom_utils.bounds_from_affine(Affine(*t), h, w, epsg, out_epsg)


@lru_cache(maxsize=1024)
def _bbox_bounds(bbox: tuple, epsg: int, out_epsg: int) -> tuple[float, float, float, float]:
    return geom_utils.reproject_bounds(bbox, epsg, out_epsg)


@lru_cache(maxsize=1024)
def _window(bounds: tuple, transform: Affine) -> windows.Window:
    return windows.from_bounds(*bounds, transform)


def _asset_bounds(item_meta: tuple, asset: dict, out_epsg: int) -> tuple | None:
    """The asset's bounds in the output CRS by stackstac's rules (``proj:bbox`` when the asset does not
    override the item's transform and shape, else from ``proj:transform``/``proj:shape``; corners
    projected when the asset is in another CRS, memoised: a few tiles' grids among many items), or
    None.  ``item_meta``: the item's ``proj:bbox``, ``proj:shape``, ``proj:transform``, ``proj:epsg``."""
    i_bbox, i_shape, i_t, i_epsg = item_meta
    bbox, shape, t = asset.get("proj:bbox", i_bbox), asset.get("proj:shape", i_shape), asset.get("proj:transform", i_t)
    epsg = asset.get("proj:epsg", i_epsg)
    if epsg is None:
        return None
    if bbox is not None and t == i_t and shape == i_shape:
        return _bbox_bounds(tuple(bbox), epsg, out_epsg)
    if t is not None and shape is not None:
        return _affine_bounds(tuple(t[:6]), int(shape[0]), int(shape[1]), epsg, out_epsg)
    return None


def direct_stack(items: list[dict], band_assets: list[str], mask_assets: list[str], grid: Any, *,
                 nodata: float | None, resampling: str, on_error: str, properties: list[str],
                 scales: dict[str, tuple] | None = None, declared: Sequence[str] = ()) -> DirectStack | None:
    """A :class:`DirectStack` when every asset is a local file with its CRS and extent declared and
    the grid has fixed bounds; None otherwise (stackstac's path).  Files in another CRS (items of
    a neighbouring UTM zone) are read through stackstac's warped VRT inside the direct graph.

    ``scales``: (scale, offset) per asset key, except for the keys in ``declared`` whose assets'
    own ``raster:bands`` scale and offset win; None: every asset's ``raster:bands`` (default 1, 0)."""
    if grid.bounds is None or grid.snap_bounds:
        return None
    try:
        return DirectStack(items, band_assets, mask_assets, grid, nodata=nodata, resampling=resampling,
                           on_error=on_error, properties=properties, scales=scales, declared=declared)
    except _NotDirect:
        return None


class _NotDirect(Exception):
    """An asset that the direct graph does not read (remote, or without declared CRS or extent)."""


class DirectStack:
    """The sources of a cube (items sorted by date, assets) and the graph of any grouping of its dates."""

    def __init__(self, items: list[dict], band_assets: list[str], mask_assets: list[str], grid: Any, *,
                 nodata: float | None, resampling: str, on_error: str, properties: list[str],
                 scales: dict[str, tuple] | None = None, declared: Sequence[str] = ()) -> None:
        with gc_paused():
            self._init(items, band_assets, mask_assets, grid, nodata=nodata, resampling=resampling, on_error=on_error,
                       properties=properties, scales=scales or {}, declared=set(declared) if scales else None)

    def _init(self, items: list[dict], band_assets: list[str], mask_assets: list[str], grid: Any, *,
              nodata: float | None, resampling: str, on_error: str, properties: list[str],
              scales: dict[str, tuple], declared: set[str] | None) -> None:
        spec = RasterSpec(epsg=grid.epsg, bounds=tuple(grid.bounds), resolutions_xy=(grid.resolution, grid.resolution))
        self.spec = spec
        self.band_assets, self.mask_assets = list(band_assets), list(mask_assets)
        keys = self.band_assets + self.mask_assets
        ordered = sorted(items, key=lambda it: it["properties"].get("datetime", "") or "")  # as stackstac: stable
        placed: dict[tuple, windows.Window | None] = {}  # bounds -> window in the grid (None: off the bounds)
        self.items: list[dict] = []
        self.sources: list[list[_Source | None]] = []
        kinds: dict[tuple, int] = {}  # (bounds, scale, offset) -> its number, for the token
        f32: dict[tuple, tuple[float, float]] = {}  # Python floats holding float32 values, as TerraLabReader's
        for raw in scales.values():
            f32[raw] = (float(np.float32(raw[0])), float(np.float32(raw[1])))
        fixed = [None if declared is None or k in declared or k not in scales else f32[scales[k]] for k in keys]
        names, tags = [], []
        epsg, transform, out_bounds = spec.epsg, spec.transform, spec.bounds
        for it in ordered:
            props, assets = it["properties"], it["assets"]
            meta = (props.get("proj:bbox"), props.get("proj:shape"), props.get("proj:transform"), props.get("proj:epsg"))
            row: list[_Source | None] = []
            for k, known in zip(keys, fixed):
                a = assets.get(k)
                if a is None:
                    row.append(None)
                    continue
                href, b = a["href"], _asset_bounds(meta, a, epsg)
                url = href[7:] if href.startswith("file://") else href
                if b is None or "://" in url:
                    raise _NotDirect(href)
                window = placed.get(b, False)
                if window is False:  # stackstac drops assets off the bounds
                    window = placed[b] = _window(b, transform) if geom_utils.bounds_overlap(b, out_bounds) else None
                if window is None:
                    row.append(None)
                    continue
                if known is None:
                    band = (a.get("raster:bands") or [{}])[0]
                    raw = (band.get("scale", scales.get(k, (1, 0))[0]), band.get("offset", scales.get(k, (1, 0))[1]))
                    if raw not in f32:
                        f32[raw] = (float(np.float32(raw[0])), float(np.float32(raw[1])))
                    known = f32[raw]
                row.append(_Source(url, window, *known))
                names.append(url)
                tags.append(kinds.setdefault((b, *known), len(kinds)))
            if any(s is not None for s in row):  # and items with no asset left
                self.items.append(it)
                self.sources.append(row)
        if not self.items:
            raise _NotDirect("no asset overlaps the output bounds")  # stackstac's error, on its path
        h = hashlib.blake2b(digest_size=16)
        h.update(repr((spec.epsg, spec.bounds, spec.resolutions_xy, keys, nodata, resampling, on_error)).encode())
        h.update("\n".join(names).encode())
        h.update(repr((list(kinds), tags)).encode())
        self._key = h.hexdigest()
        errors = (Exception(".*"),) if on_error == "skip" else ()
        self._band_cfg = _Config(spec, nodata, Resampling[resampling], errors)
        self._mask_cfg = _Config(spec, nodata, Resampling.nearest, errors)
        self.coords, _ = to_coords(self.items, keys, spec, xy_coords="center", properties=properties, band_coords=False)
        self.coords.pop("band", None)
        self.attrs = to_attrs(spec)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(dates, y, x) before any grouping."""
        return (len(self.items), *self.spec.shape)

    def coords_dataset(self) -> xr.Dataset:
        """The cube's coordinates (one date per item), no variable yet."""
        return xr.Dataset(coords=self.coords)

    def variables(self, members: list[list[int]] | None, time_chunk: int, yx_chunks: tuple[int, int],
                  names: list[str], masks: dict[str, MaskOutput] | None = None) -> dict[str, tuple]:
        """Data variables (band names, then ``_raw_<mask asset>`` as float) of the dates grouped as
        ``members`` (lists of item positions, first valid pixel wins; None: one date per item), and
        the ``masks`` decoded in their read tasks, as ``(dims, dask array, attrs)``: one task per
        (date chunk, variable, spatial chunk)."""
        with gc_paused():
            return self._variables(members, time_chunk, yx_chunks, names, masks or {})

    def _variables(self, members: list[list[int]] | None, time_chunk: int, yx_chunks: tuple[int, int],
                   names: list[str], masks: dict[str, MaskOutput]) -> dict[str, tuple]:
        if members is None:
            members = [[i] for i in range(len(self.items))]
        ny, nx = self.spec.shape
        tchunks, ychunks, xchunks = da.core.normalize_chunks((time_chunk, *yx_chunks), (len(members), ny, nx))
        token = hashlib.blake2b(repr((self._key, members, tchunks, ychunks, xchunks)).encode(), digest_size=16).hexdigest()
        t_groups, start = [], 0
        for n in tchunks:
            t_groups.append(members[start:start + n])
            start += n
        spans = [(int(y0), int(y0 + h), int(x0), int(x0 + w)) for y0, h in zip(np.cumsum((0, *ychunks[:-1])), ychunks)
                 for x0, w in zip(np.cumsum((0, *xchunks[:-1])), xchunks)]
        nxb = len(xchunks)
        chunks = (tchunks, ychunks, xchunks)
        meta = np.empty((0, 0, 0), _F32)
        out: dict[str, tuple] = {}
        band_arrays = []
        nb = len(self.band_assets)
        for b, name in enumerate(names[:nb]):
            key = f"terra-lab-read-{name}-{token}"
            dsk: dict[Any, Any] = {}
            for ti, groups in enumerate(t_groups):
                srcs = tuple(tuple(self.sources[m][b] for m in g) for g in groups)
                for s, span in enumerate(spans):
                    dsk[(key, ti, s // nxb, s % nxb)] = (_band_block, self._band_cfg, srcs, span)
            arr = da.Array(HighLevelGraph.from_collections(key, dsk, dependencies=()), key, chunks, meta=meta)
            band_arrays.append(arr)
            out[name] = (("time", "y", "x"), arr, dict(self.attrs))
        raws: dict[str, da.Array] = {}

        def raw(asset: str) -> da.Array:  # a mask asset's float raster, NaN where the date has no reflectance
            if asset not in raws:
                col = nb + self.mask_assets.index(asset)
                key = f"terra-lab-read-_raw_{asset}-{token}"
                dsk = {}
                for ti, groups in enumerate(t_groups):
                    srcs = tuple(tuple(self.sources[m][col] for m in g) for g in groups)
                    bands = tuple(None if len(g) == 1 else tuple(tuple(self.sources[m][:nb]) for m in g) for g in groups)
                    for s, span in enumerate(spans):
                        j, i = s // nxb, s % nxb
                        deps = [(a.name, ti, j, i) for a in band_arrays]
                        dsk[(key, ti, j, i)] = (_mask_block, self._mask_cfg, self._band_cfg, srcs, bands, span, deps)
                graph = HighLevelGraph.from_collections(key, dsk, dependencies=band_arrays)  # type: ignore[arg-type]
                raws[asset] = da.Array(graph, key, chunks, meta=meta)
            return raws[asset]

        for name in names[nb:]:
            out[name] = (("time", "y", "x"), raw(name.removeprefix("_raw_")), dict(self.attrs))
        for name, spec in masks.items():  # one task per chunk: decodes its raw masks' chunks
            inputs = [raw(a) for a in spec.assets]
            uses = inputs + (band_arrays[:1] if spec.edge else [] if spec.assets else band_arrays)
            key = f"terra-lab-mask-{name}-{token}"
            dsk = {(key, ti, j, i): (_decoded_block, spec, [(a.name, ti, j, i) for a in uses])
                   for ti in range(len(t_groups)) for j in range(len(ychunks)) for i in range(nxb)}
            graph = HighLevelGraph.from_collections(key, dsk, dependencies=uses)  # type: ignore[arg-type]
            kind = np.uint8 if spec.raw else bool
            attrs = dict(self.attrs) if spec.assets else {}  # as xarray's all() over the bands leaves them: none
            out[name] = (("time", "y", "x"), da.Array(graph, key, chunks, meta=np.empty((0, 0, 0), kind)), attrs)
        return out

    def stacked(self, time_chunk: int, yx_chunks: tuple[int, int]) -> tuple[xr.DataArray, xr.DataArray | None]:
        """(reflectance, raw masks) as stackstac gives them, (time, band, y, x), one date per item."""
        names = self.band_assets + [f"_raw_{k}" for k in self.mask_assets]
        ds = self.coords_dataset().assign(self.variables(None, time_chunk, yx_chunks, names))

        def joined(keys: list[str], labels: list[str]) -> xr.DataArray:
            return xr.concat([ds[k] for k in keys], dim=pd.Index(labels, name="band")).transpose("time", "band", "y", "x")

        masks = joined([f"_raw_{k}" for k in self.mask_assets], self.mask_assets) if self.mask_assets else None
        return joined(self.band_assets, self.band_assets), masks


# ------------------------------------------------------------------------------ read tasks
def _band_block(cfg: _Config, groups: tuple, span: tuple[int, int, int, int]) -> np.ndarray:
    """One chunk of a band: per date, the first valid pixel of its acquisitions."""
    y0, y1, x0, x1 = span
    window = windows.Window(x0, y0, x1 - x0, y1 - y0)
    if len(groups) == 1 and len(groups[0]) == 1:  # the default chunks: one acquisition, no copy
        data = _read(cfg, groups[0][0], window)
        if data is not None:
            return data[np.newaxis]
    out = np.full((len(groups), y1 - y0, x1 - x0), np.nan, _F32)
    for t, members in enumerate(groups):
        first = True
        for src in members:
            data = _read(cfg, src, window)
            if data is None:
                continue
            if first:
                out[t] = data
                first = False
            else:
                _fill_gaps(out[t], data)
    return out


def _mask_block(cfg: _Config, band_cfg: _Config, groups: tuple, bands: tuple, span: tuple[int, int, int, int],
                band_blocks: list[np.ndarray]) -> np.ndarray:
    """One chunk of a raw mask: NaN where the acquisition has no reflectance in any band; per date,
    the first acquisition that has.  ``bands``: per date, None for a single acquisition (its
    reflectance is ``band_blocks``) or the band sources of each acquisition (read again here)."""
    y0, y1, x0, x1 = span
    window = windows.Window(x0, y0, x1 - x0, y1 - y0)
    out = np.full((len(groups), y1 - y0, x1 - x0), np.nan, _F32)
    for t, members in enumerate(groups):
        if bands[t] is None:
            valid = np.zeros(out.shape[1:], bool)
            for block in band_blocks:
                valid |= ~np.isnan(block[t])
            data = _read(cfg, members[0], window)
            if data is not None:
                out[t] = np.where(valid, data, np.float32(np.nan))
            continue
        for src, band_srcs in zip(members, bands[t]):
            valid = np.zeros(out.shape[1:], bool)
            for bsrc in band_srcs:
                got = _read(band_cfg, bsrc, window)
                if got is not None:
                    valid |= ~np.isnan(got)
            data = _read(cfg, src, window)
            if data is not None:
                _fill_gaps(out[t], np.where(valid, data, np.float32(np.nan)))
    return out


def _decoded_block(spec: MaskOutput, blocks: list[np.ndarray]) -> np.ndarray:
    """One chunk of a decoded mask (:class:`MaskOutput`) from the chunks of its raw masks (one per
    asset), then of the first band (``edge``) or of every band (no rules)."""
    raws = blocks[:len(spec.assets)]
    if spec.raw:
        return np.where(np.isnan(raws[0]), np.float32(0), raws[0]).astype(np.uint8)
    if not spec.rules:  # no edge asset: where no band has data
        out = np.ones(blocks[0].shape, bool)
        for block in blocks:
            out &= np.isnan(block)
        return out
    out = decode_layer_arrays(raws, spec.rules)
    if spec.edge:
        out |= np.isnan(blocks[-1])
    return out


def _fill_gaps(out: np.ndarray, data: np.ndarray) -> None:
    gap = np.isnan(out)
    out[gap] = data[gap]


def _read(cfg: _Config, src: _Source | None, window: windows.Window) -> np.ndarray | None:
    """``src``'s float32 pixels (scaled, NaN for nodata) over ``window`` of the output grid, or None
    when it does not overlap (or could not be read, with ``on_error='skip'``)."""
    if src is None or not windows.intersect(window, src.window):
        return None
    try:
        got = _read_on_grid(cfg, src, window)
    except rasterio.errors.RasterioIOError as e:
        if exception_matches(e, cfg.errors_as_nodata):
            warnings.warn(f"Error reading {window} from {src.url!r}: {e!r}", stacklevel=2)
            return None
        raise AssetReadError(f"could not read asset {src.url!r}: {e}; {_FIX}") from e
    if got is not None:
        return got
    reader = TerraLabReader(nodata=cfg.nodata, url=src.url, spec=cfg.spec, resampling=cfg.resampling, dtype=_F32,
                            fill_value=np.float32(np.nan), scale_offset=(src.scale, src.offset), gdal_env=None,
                            errors_as_nodata=cfg.errors_as_nodata)
    try:
        return np.asarray(reader.read(window), dtype=_F32)
    finally:
        reader.close()


def _offsets(ds: rasterio.DatasetReader, spec: RasterSpec) -> tuple[int, int] | None:
    """(row, col) of ``ds``'s first pixel in the output grid when its pixels are output pixels, else None."""
    t, g = ds.transform, spec.transform
    if ds.count != 1 or t.b != 0 or t.d != 0 or t.a != g.a or t.e != g.e:
        return None
    if ds.crs is None or ds.crs.to_epsg() != spec.epsg:
        return None
    col, row = (t.c - g.c) / g.a, (t.f - g.f) / g.e
    rc, rr = round(col), round(row)
    if abs(col - rc) > 1e-6 or abs(row - rr) > 1e-6:
        return None
    return int(rr), int(rc)


def _read_on_grid(cfg: _Config, src: _Source, window: windows.Window) -> np.ndarray | None:
    """The window read directly from a file (or its overview) on the output grid, None when off it.

    The file stays open in this thread (:func:`~terra_lab.cube._datasets.opened`), with where it
    lies in the grid and its nodata worked out once."""
    spec = cfg.spec  # the facts depend on the grid and the declared nodata (NaN: none, as effective_nodata)
    key = (spec.epsg, spec.bounds, spec.resolutions_xy, cfg.nodata if cfg.nodata == cfg.nodata else None)
    with opened(src.url) as f:
        plan = f.memo.get(key)
        if plan is None:
            at = _offsets(f.ds, cfg.spec)
            level = None if at is not None else overview_level(f.ds, cfg.spec.vrt_params)
            plan = f.memo[key] = (at, level, effective_nodata(f.ds.nodata, cfg.nodata, f.ds.dtypes[0]))
        at, level, nodata = plan
        if at is not None:
            return _read_at(f.ds, at, nodata, src, window)
    if level is None:
        return None
    with opened(src.url, level) as ov:
        plan = ov.memo.get(key)
        if plan is None:
            plan = ov.memo[key] = (_offsets(ov.ds, cfg.spec), None, effective_nodata(ov.ds.nodata, cfg.nodata, ov.ds.dtypes[0]))
        at, _, nodata = plan
        return None if at is None else _read_at(ov.ds, at, nodata, src, window)


def _read_at(ds: rasterio.DatasetReader, at: tuple[int, int], nodata: float | None, src: _Source,
             window: windows.Window) -> np.ndarray:
    r0, c0 = int(window.row_off) - at[0], int(window.col_off) - at[1]
    h, w = int(window.height), int(window.width)
    fr0, fc0, fr1, fc1 = max(r0, 0), max(c0, 0), min(r0 + h, ds.height), min(c0 + w, ds.width)
    if fr0 >= fr1 or fc0 >= fc1:
        return np.full((h, w), np.nan, _F32)
    raw = ds.read(1, window=windows.Window(fc0, fr0, fc1 - fc0, fr1 - fr0))
    if (fr0, fc0, fr1, fc1) == (r0, c0, r0 + h, c0 + w):
        out = block = np.empty((h, w), _F32)
    else:  # the file covers part of the window: decoded in place into the NaN-filled chunk
        out = np.full((h, w), np.nan, _F32)
        block = out[fr0 - r0:fr1 - r0, fc0 - c0:fc1 - c0]
    if src.scale != 1:  # float32 arithmetic, as TerraLabReader's: raw cast to float32, times the float32 scale
        np.multiply(raw, np.float32(src.scale), out=block, dtype=_F32, casting="unsafe")
    else:
        block[...] = raw
    if src.offset != 0:
        block += np.float32(src.offset)
    if nodata is not None:
        block[raw == nodata] = np.nan
    return out
