"""Spectral indices from the Awesome Spectral Indices catalogue, through spyndex.

Formulas are not written here: spyndex holds the community-maintained catalogue (bundled in
the package, no network).  terra_lab only maps its cube bands to spyndex's band symbols and
fills in the band wavelengths some indices need (e.g. CRSWIR).  A method that reads an index
from other bands or wavelengths than these defaults (fordead's NDWI on B8A, its CR_SWIR
wavelengths) passes ``bands=`` and the constants; the formula still comes from spyndex.

References
----------
.. [1] Montero, D., Aybar, C., Mahecha, M. D., et al. (2023). A standardized catalogue of
   spectral indices to advance the use of remote sensing in Earth system research.
   Scientific Data 10, 197. https://doi.org/10.1038/s41597-023-02096-0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from ..errors import MissingBandError
from ._common import with_provenance

__all__ = ["SPYNDEX_BANDS", "spectral_index", "spectral_indices"]

#: spyndex band symbol -> terra_lab common band name (Sentinel-2 MSI).
SPYNDEX_BANDS = {
    "B": "blue",
    "G": "green",
    "R": "red",
    "RE1": "rededge1",
    "RE2": "rededge2",
    "RE3": "rededge3",
    "N": "nir",
    "N2": "nir08",
    "S1": "swir16",
    "S2": "swir22",
}


def _params(cube: xr.Dataset, index: str, constants: Mapping[str, Any], bands: Mapping[str, str]) -> dict[str, Any]:
    import spyndex

    if index not in spyndex.indices:
        raise MissingBandError(f"unknown spectral index {index!r}; see spyndex.indices (e.g. NDVI, NDSI, MNDWI, CRSWIR)")
    params: dict[str, Any] = {}
    table = {**SPYNDEX_BANDS, **bands}
    for symbol in spyndex.indices[index].bands:
        if symbol in constants:
            params[symbol] = constants[symbol]
        elif symbol in table:
            band = table[symbol]
            if band not in cube:
                raise MissingBandError(
                    f"index {index} needs band {band!r} ({symbol}), which the cube lacks; load it with "
                    f"terra_lab.load(items, bands=[..., {band!r}])"
                )
            params[symbol] = cube[band]
        elif symbol.startswith("lambda") and symbol[6:] in spyndex.bands:
            params[symbol] = spyndex.bands[symbol[6:]].sentinel2a.wavelength
        elif symbol in spyndex.constants:
            params[symbol] = spyndex.constants[symbol].default
        else:
            raise MissingBandError(f"index {index} needs {symbol!r}, which terra_lab cannot supply; pass {symbol}=...")
    return params


def spectral_index(cube: xr.Dataset, index: str, *, bands: Mapping[str, str] | None = None,
                   **constants: Any) -> xr.DataArray:
    """One spectral index (lazy), e.g. ``spectral_index(cube, "NDVI")``.

    Undefined values (a zero denominator) are NaN, without a warning.  ``bands`` maps spyndex
    band symbols to other cube bands than :data:`SPYNDEX_BANDS`
    (``bands={"N": "nir08"}``); ``constants`` give spyndex constants or wavelengths
    (``lambdaS1=1610.4``, nm), which take precedence over the Sentinel-2A defaults.
    """
    import spyndex

    bands = dict(bands or {})
    params = _params(cube, index, constants, bands)
    arrays = {k: v for k, v in params.items() if isinstance(v, xr.DataArray)}
    scalars = {k: v for k, v in params.items() if k not in arrays}

    def compute(*values: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            res = np.asarray(spyndex.computeIndex(index=index, params={**dict(zip(arrays, values)), **scalars}))
        return np.where(np.isfinite(res), res, np.nan).astype(res.dtype, copy=False)

    dtype = compute(*(np.ones(1, a.dtype) for a in arrays.values())).dtype
    out = xr.apply_ufunc(compute, *arrays.values(), dask="parallelized", output_dtypes=[dtype])
    out = out.rename(index)
    out.attrs.update(long_name=spyndex.indices[index].long_name, formula=spyndex.indices[index].formula)
    recorded = {**constants, **({"bands": bands} if bands else {})}
    return with_provenance(out, algorithm=f"spyndex {index}", params=recorded, source=cube,
                           reference="Awesome Spectral Indices (Montero et al. 2023) via spyndex")


def spectral_indices(cube: xr.Dataset, indices: Iterable[str], **constants: Any) -> xr.Dataset:
    """Several indices as a Dataset, one variable each."""
    return xr.Dataset({i: spectral_index(cube, i, **constants) for i in indices})
