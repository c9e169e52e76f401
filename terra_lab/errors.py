"""Exceptions and warnings raised by terra_lab.

Every error says what was wrong, with which input, and how to fix it.  Each
class also derives from the matching built-in exception so that callers that
catch ``ValueError`` or ``KeyError`` keep working.
"""

from __future__ import annotations

__all__ = [
    "AOIError",
    "AssetReadError",
    "CatalogBusyError",
    "CatalogUnreachableError",
    "DateRangeError",
    "GridMismatchError",
    "MissingBandError",
    "MissingCredentialsError",
    "NoItemsFoundError",
    "NoSourceError",
    "RasterInputError",
    "RequestTooLargeError",
    "SamplingError",
    "SpectralDiversityError",
    "TerraLabError",
    "TerraLabWarning",
    "UnknownCollectionError",
]


class TerraLabError(Exception):
    """Base class of every terra_lab error."""


class AOIError(TerraLabError, ValueError):
    """The area of interest is invalid, empty or not understood."""


class DateRangeError(TerraLabError, ValueError):
    """Dates are malformed or reversed."""


class UnknownCollectionError(TerraLabError, KeyError):
    """A collection id is not known to the catalogue."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class MissingBandError(TerraLabError, KeyError):
    """A requested band or asset is not available."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class NoItemsFoundError(TerraLabError, LookupError):
    """A search or a load had nothing to work on."""


class AssetReadError(TerraLabError, OSError):
    """An asset could not be opened or read (missing, corrupt, unreachable)."""


class RequestTooLargeError(TerraLabError, MemoryError):
    """The request would not fit the memory or the limits set for it."""


class CatalogBusyError(TerraLabError, TimeoutError):
    """A local catalogue (or an archive being unpacked) stayed locked by another process too long."""


class CatalogUnreachableError(TerraLabError, ConnectionError):
    """A STAC API could not be reached after retries."""


class MissingCredentialsError(TerraLabError, PermissionError):
    """A catalogue needs credentials (an API key, a signing account) that were not given."""


class RasterInputError(TerraLabError, ValueError):
    """A raster input is unusable as given (dimensions, CRS, dtype, pixel size, window)."""


class GridMismatchError(RasterInputError):
    """Rasters that must share one grid (CRS, shape, pixel coordinates) do not."""


class SamplingError(TerraLabError, ValueError):
    """Training or validation samples are missing or unusable (a class without pixels, no polygon)."""


class NoSourceError(TerraLabError, ValueError):
    """A cost-distance has no source cell on passable ground."""


class SpectralDiversityError(RasterInputError):
    """Spectral diversity cannot run on this input (too few valid pixels, bad window, bad components)."""


class TerraLabWarning(UserWarning):
    """Warnings emitted by terra_lab (e.g. a skipped corrupt asset)."""
