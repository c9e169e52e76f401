"""A stackstac reader with a fast path for local files and read errors that name the asset and the fix."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import rasterio
from stackstac.rio_reader import AutoParallelRioReader, exception_matches, nodata_for_window

from ..errors import AssetReadError

__all__ = ["TerraLabReader"]

_FIX = (
    "the file is missing, truncated or corrupt: re-download the product, drop the item from "
    "the search results, or pass on_error='skip' to terra_lab.load to read it as nodata"
)


class TerraLabReader(AutoParallelRioReader):
    """:class:`stackstac.rio_reader.AutoParallelRioReader` with two changes.

    * A local GeoTIFF already on the output grid (the common case of THEIA tiles loaded in
      their own projection) is read directly by one dataset per thread: no VRT, no masked
      array, no layered GDAL environment per read.  This is what brings ``load`` close to
      the speed of a plain rasterio read (see ``benchmarks/bench_load.py``).  Everything
      else (reprojection, resampling, remote files) goes through stackstac's own path.
    * Read errors raise :class:`~terra_lab.errors.AssetReadError` naming the file and the fix.
    """

    def _direct(self) -> rasterio.DatasetReader | None:
        """This thread's dataset when the fast path applies, else None."""
        tl = self.__dict__.get("_tl")
        if tl is None:
            tl = self.__dict__.setdefault("_tl", threading.local())
        if self.__dict__.get("_no_fast") or "://" in self.url:
            return None
        ds = getattr(tl, "ds", None)
        if ds is None:
            ds = rasterio.open(self.url, sharing=False)
            grid = {"crs": ds.crs.to_epsg() if ds.crs else None, "transform": ds.transform,
                    "height": ds.height, "width": ds.width}
            if ds.count != 1 or grid != self.spec.vrt_params:
                ds.close()
                self.__dict__["_no_fast"] = True
                return None
            tl.ds = ds
        return ds

    def read(self, window, **kwargs):
        try:
            ds = self._direct()
        except rasterio.errors.RasterioIOError as e:
            return self._failed(window, e)
        if ds is None:
            try:
                return super().read(window, **kwargs)
            except RuntimeError as e:
                raise AssetReadError(f"could not read asset {self.url!r}: {e.__cause__ or e}; {_FIX}") from e
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
        if ds.nodata is not None:
            out[raw == ds.nodata] = self.fill_value
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
