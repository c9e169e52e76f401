"""A stackstac reader with a fast path for local files, the declared nodata of files without a
nodata tag, and read errors that name the asset and the fix."""

from __future__ import annotations

import functools
import os
import threading
import warnings

import numpy as np
import rasterio
from rasterio.vrt import WarpedVRT
from stackstac.rio_reader import (
    MULTITHREADED_DRIVER_ALLOWLIST,
    AutoParallelRioReader,
    NodataReader,
    SelfCleaningDatasetReader,
    SingleThreadedRioDataset,
    ThreadLocalRioDataset,
    exception_matches,
    nodata_for_window,
)

from ..catalog import _access
from ..errors import AssetReadError

__all__ = ["TerraLabReader", "effective_nodata", "overview_level"]

_FIX = (
    "the file is missing, truncated or corrupt: re-download the product, drop the item from "
    "the search results, or pass on_error='skip' to terra_lab.load to read it as nodata"
)


def effective_nodata(tag: float | None, declared: float | None, dtype: str) -> float | None:
    """The nodata value of a file: its own tag, else ``declared`` when the file's data type holds it.

    Real MUSCATE GeoTIFFs carry no nodata tag (the product metadata documents -10000), so the
    collection's declared nodata applies to them; a mask raster (uint8) cannot hold -10000 and
    keeps none, like a file whose declared nodata is unknown.
    """
    if tag is not None:
        return tag
    if declared is None or np.isnan(declared):
        return None
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if float(declared) != int(declared) or not info.min <= declared <= info.max:
            return None
    return declared


def overview_level(ds: rasterio.DatasetReader, grid: dict) -> int | None:
    """The overview of ``ds`` to read for the output ``grid`` (``vrt_params``), or None for full resolution.

    As gdalwarp's ``-ovr AUTO`` and odc-stac: the coarsest overview whose pixel is not coarser
    than the output pixel (a cube at 8x the native pixel size reads the x8 overview, at 6x the
    x4 one).  Only for an output in the file's own CRS (the pixel sizes are then comparable),
    and not for 8-bit files: masks and class codes, whose overviews may have been averaged
    (a bit field or a class averaged is another code), are read at full resolution.
    """
    factors = ds.overviews(1) if ds.count >= 1 else []
    if not factors or ds.dtypes[0] in ("uint8", "int8") or not ds.crs or ds.crs.to_epsg() != grid.get("crs"):
        return None
    native = abs(ds.transform.a)
    shrink = min(abs(grid["transform"].a), abs(grid["transform"].e)) / native if native else 1.0
    level = None
    for i, f in enumerate(factors):
        if f <= shrink * (1 + 1e-6):
            level = i
    return level


def _grid(ds) -> dict:
    return {"crs": ds.crs.to_epsg() if ds.crs else None, "transform": ds.transform,
            "height": ds.height, "width": ds.width}


@functools.lru_cache(maxsize=4096)
def _plan(url: str, signature: tuple, crs, transform: tuple, height: int, width: int) -> tuple[int | None, bool]:
    """(overview level, whether that level is exactly on the grid) of a local file for an output grid.

    Memoised per file version (``signature``: its mtime and size): the chunks of a cube would
    otherwise each open the file twice to learn what the first chunk learnt."""
    grid = {"crs": crs, "transform": rasterio.Affine(*transform), "height": height, "width": width}
    with rasterio.open(url, sharing=False) as ds:
        if _grid(ds) == grid:
            return None, ds.count == 1
        level = overview_level(ds, grid)
    if level is None:
        return None, False
    with rasterio.open(url, sharing=False, overview_level=level) as ov:
        return level, ov.count == 1 and _grid(ov) == grid


def _planned(url: str, grid: dict) -> tuple[int | None, bool] | None:
    """:func:`_plan` for a local file, else None (remote files, paths inside archives: not memoised)."""
    if "://" in url or url.startswith("/vsi"):
        return None
    try:
        st = os.stat(url)
    except OSError:
        return None
    t = grid["transform"]
    return _plan(url, (st.st_mtime_ns, st.st_size), grid["crs"], tuple(t)[:6], grid["height"], grid["width"])


class TerraLabReader(AutoParallelRioReader):
    """:class:`stackstac.rio_reader.AutoParallelRioReader` with four changes.

    * A local GeoTIFF already on the output grid (the common case of THEIA tiles loaded in
      their own projection, also inside a zip through ``/vsizip/``) is read directly by one
      dataset per thread: no VRT, no masked array, no layered GDAL environment per read.  This
      is what brings ``load`` close to the speed of a plain rasterio read (see
      ``benchmarks/bench_load.py``).  Everything else (reprojection, resampling, remote files)
      goes through stackstac's own path.
    * ``nodata``: the collection's declared nodata (STAC ``raster:bands`` or the profile), used
      for files that carry no nodata tag (see :func:`effective_nodata`), on both paths: masked
      on direct reads, and given to the warped VRT as source nodata so that resampling never
      mixes it into valid pixels.  stackstac 0.5.1 itself only masks the file's own tag.
      Build a reader class that declares it with :meth:`declaring`.
    * Read errors raise :class:`~terra_lab.errors.AssetReadError` naming the file and the fix.
    * A cube coarser than a file reads the file's overview (:func:`overview_level`), on both
      paths: stackstac's warped VRT alone always reads full resolution.
    """

    def __init__(self, *, nodata: float | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.nodata = nodata
        # Python floats holding float32 values: float32 arithmetic on float32 chunks, bit for bit
        # what ``chunk * np.float32(scale)`` gives (stackstac's asset table holds float64)
        self.scale_offset: tuple[float, ...] = tuple(float(np.float32(v)) for v in self.scale_offset)

    @classmethod
    def declaring(cls, nodata: float | None):
        """A reader factory for ``stackstac.stack(reader=...)`` whose files without tag use ``nodata``."""
        return functools.partial(cls, nodata=nodata)

    def __getstate__(self):
        return {**super().__getstate__(), "nodata": self.nodata}

    # ------------------------------------------------------------ stackstac's path
    def _open(self):
        """stackstac's ``_open``, with the declared nodata given to the VRT of an untagged file.

        An untagged file with a declared nodata always gets a VRT (on its own grid if need be):
        that is how GDAL learns its nodata, for masked reads and nodata-aware resampling.
        """
        with self.gdal_env.open:
            try:
                planned = _planned(self.url, self.spec.vrt_params)
                if planned is not None and planned[0] is not None:  # a coarse cube: warp the overview
                    ds = SelfCleaningDatasetReader(self.url, sharing=False, overview_level=planned[0])
                else:
                    ds = SelfCleaningDatasetReader(self.url, sharing=False)
            except Exception as e:
                msg = f"Error opening {self.url!r}: {e!r}"
                if exception_matches(e, self.errors_as_nodata):
                    warnings.warn(msg, stacklevel=2)
                    return NodataReader(dtype=self.dtype, fill_value=self.fill_value)
                raise RuntimeError(msg) from e
            level = overview_level(ds, self.spec.vrt_params) if planned is None else None
            if level is not None:  # a coarse cube: warp the overview (its options follow it to every thread)
                ds.close()
                ds = SelfCleaningDatasetReader(self.url, sharing=False, overview_level=level)
            if ds.count != 1:
                count = ds.count
                ds.close()
                raise RuntimeError(
                    f"Assets must have exactly 1 band, but file {self.url!r} has {count}; "
                    "exclude this asset from the load"
                )
            nodata = effective_nodata(ds.nodata, self.nodata, ds.dtypes[0])
            declared = ds.nodata is None and nodata is not None
            grid = _grid(ds)
            vrt = None
            if declared or self.spec.vrt_params != grid:
                extra = dict(src_nodata=nodata, nodata=nodata) if declared else dict(add_alpha=ds.nodata is None)
                with self.gdal_env.open_vrt:
                    vrt = WarpedVRT(ds, sharing=False, resampling=self.resampling, **extra, **self.spec.vrt_params)
        if ds.driver in MULTITHREADED_DRIVER_ALLOWLIST:
            return ThreadLocalRioDataset(self.gdal_env, ds, vrt=vrt)
        return SingleThreadedRioDataset(self.gdal_env, ds, vrt=vrt)

    # ------------------------------------------------------------ the fast path
    def _direct(self) -> tuple[rasterio.DatasetReader, float | None] | None:
        """This thread's dataset and its nodata when the fast path applies, else None."""
        tl = self.__dict__.get("_tl")
        if tl is None:
            tl = self.__dict__.setdefault("_tl", threading.local())
        if self.__dict__.get("_no_fast") or "://" in self.url:
            return None
        ds = getattr(tl, "ds", None)
        if ds is None:
            planned = _planned(self.url, self.spec.vrt_params)
            if planned is not None and not planned[1]:
                self.__dict__["_no_fast"] = True
                return None
            level = None if planned is None else planned[0]  # an overview exactly on the grid is read directly too
            ds = rasterio.open(self.url, sharing=False, **({} if level is None else {"overview_level": level}))
            if planned is None and _grid(ds) != self.spec.vrt_params:
                level = overview_level(ds, self.spec.vrt_params)
                if level is not None:
                    ds.close()
                    ds = rasterio.open(self.url, sharing=False, overview_level=level)
            if ds.count != 1 or _grid(ds) != self.spec.vrt_params:
                ds.close()
                self.__dict__["_no_fast"] = True
                return None
            tl.ds, tl.nodata = ds, effective_nodata(ds.nodata, self.nodata, ds.dtypes[0])
        return ds, tl.nodata

    def read(self, window, **kwargs):
        _access.prepare(self)  # protected hrefs: API-key headers, a signature renewed (catalog._access)
        try:
            direct = self._direct()
        except rasterio.errors.RasterioIOError as e:
            return self._failed(window, e)
        if direct is None:
            try:
                return super().read(window, **kwargs)
            except RuntimeError as e:
                if _access.renew(self):  # an expired signature: sign the href again, retry once
                    return self.read(window, **kwargs)
                raise AssetReadError(f"could not read asset {self.url!r}: {e.__cause__ or e}; {_FIX}") from e
        ds, nodata = direct
        try:
            raw = ds.read(1, window=window)
        except rasterio.errors.RasterioIOError as e:
            return self._failed(window, e)
        out = raw.astype(self.dtype, copy=True)
        scale, offset = self.scale_offset
        if scale != 1:
            out *= scale
        if offset != 0:
            out += offset
        if nodata is not None:
            out[raw == nodata] = self.fill_value
        return out

    def _failed(self, window, e: Exception) -> np.ndarray:
        if exception_matches(e, self.errors_as_nodata):
            warnings.warn(f"Error reading {window} from {self.url!r}: {e!r}", stacklevel=2)
            return nodata_for_window(window, self.fill_value, self.dtype)
        raise AssetReadError(f"could not read asset {self.url!r}: {e}; {_FIX}") from e

    def close(self) -> None:
        tl = self.__dict__.get("_tl")
        if tl is not None and getattr(tl, "ds", None) is not None:
            tl.ds.close()
            tl.ds = None
        super().close()
