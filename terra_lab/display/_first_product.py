"""The first map layer worth showing for a freshly loaded cube, and the bands to load for it.

Reflectance collections: NDVI of the clear pixels (the cube's cloud/shadow/edge layers masked
out), red-yellow-green from 0 to 0.9.  Thematic collections (snow maps, land cover, water
quality, biophysical variables, DEMs): the product's first variable itself, which the map draws
with the producer's legend when it is categorical.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import xarray as xr

from ..profiles import CollectionProfile

__all__ = ["ProductLayer", "available_bands", "default_bands", "first_product", "resolutions"]

_BAD = ("cloud", "shadow", "edge", "saturated")


@dataclass
class ProductLayer:
    """A DataArray to show and the :meth:`TerraMap.add_layer` keywords that style it (``masked``: clouds...)."""

    data: xr.DataArray
    name: str
    style: dict = field(default_factory=dict)


def available_bands(profile: CollectionProfile, items) -> list[str]:
    """The profile's bands whose asset some item carries (real products may lack some: the
    ZoneTest sample has its 20 m bands only; a thematic collection may mix product versions,
    each item read with its own profile), in the profile's order."""
    present = set().union(*(it.get("assets", {}) for it in items))
    return [b for b in profile.bands if profile.band_asset(b) in present]


def default_bands(profile: CollectionProfile, available: list[str] | None = None) -> list[str]:
    """Reflectance: red and nir (for NDVI; nir08 where a product has no 10 m nir); thematic: the
    first variable; among ``available`` (default: all the profile's bands)."""
    have = list(profile.bands) if available is None else available
    if profile.kind == "reflectance":
        for pair in (["red", "nir"], ["red", "nir08"]):
            if set(pair) <= set(have):
                return pair
    return have[:1]


def resolutions(profile: CollectionProfile, bands: list[str] | None = None) -> list[float]:
    """Pixel sizes to offer: the bands' native ones and 2x, 4x coarser (faster to read), ascending."""
    native = {profile.bands[b].resolution for b in (bands or list(profile.bands)) if b in profile.bands}
    return sorted({float(r * k) for r in native for k in (1, 2, 4)})


def first_product(cube: xr.Dataset, profile: CollectionProfile) -> ProductLayer:
    """NDVI of the clear pixels for reflectance cubes with red and nir (or nir08, B8A, for products
    without the 10 m nir), else the first variable."""
    nir = next((b for b in ("nir", "nir08") if b in cube.data_vars), None)
    if profile.kind == "reflectance" and "red" in cube.data_vars and nir is not None:
        from ..products.indices import spectral_index

        ndvi = spectral_index(cube, "NDVI", bands={"N": nir})
        style = {"cmap": "RdYlGn", "vmin": 0.0, "vmax": 0.9}
        bad = None
        for m in (cube[m].astype(bool) for m in _BAD if m in cube.data_vars):
            bad = m if bad is None else bad | m
        if bad is not None:  # masked pixels drawn hatched, apart from no data (transparent)
            ndvi = ndvi.where(~bad)
            style["masked"] = bad
        return ProductLayer(ndvi.rename("NDVI"), "NDVI", style)
    names = [str(v) for v in cube.data_vars if v in profile.bands] or [str(v) for v in cube.data_vars if v not in _BAD]
    if not names:
        raise ValueError(f"the cube has no variable to show (its variables: {list(cube.data_vars)})")
    da = cube[names[0]]
    from ._legend import legend_of_array

    # categorical: no cmap, so the map draws the producer's class colours and names
    style = {} if legend_of_array(da) is not None else {"cmap": "gray" if profile.kind == "reflectance" else "viridis"}
    return ProductLayer(da, names[0], style)
