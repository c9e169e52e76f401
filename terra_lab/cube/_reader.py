"""A stackstac reader whose read errors name the asset and the fix."""

from __future__ import annotations

from stackstac.rio_reader import AutoParallelRioReader

from ..errors import AssetReadError

__all__ = ["TerraLabReader"]

_FIX = (
    "the file is missing, truncated or corrupt: re-download the product, drop the item from "
    "the search results, or pass on_error='skip' to terra_lab.load to read it as nodata"
)


class TerraLabReader(AutoParallelRioReader):
    """:class:`stackstac.rio_reader.AutoParallelRioReader` raising :class:`AssetReadError`."""

    def read(self, window, **kwargs):
        try:
            return super().read(window, **kwargs)
        except RuntimeError as e:
            raise AssetReadError(f"could not read asset {self.url!r}: {e.__cause__ or e}; {_FIX}") from e
