"""Demo relief change: a second-epoch DEM with a known shift, bias and glacier thinning.

The demo's DEM item (``DEM_T31TGK``, dated 2000-02-11 like SRTM) is the first epoch.  This
module writes a second one, dated :data:`EPOCH`, in its own collection
(:data:`DEM_EPOCH_COLLECTION`: the callers of the demo's DEM collection expect one item):

``z_2023(x) = z_2000(x - SHIFT) + BIAS + thinning(x - SHIFT) + noise``

where ``thinning`` is non-zero inside :func:`glacier_outline` (the ice above 2550 m on the
north-eastern ridge): -40 m at its lowest point to -5 m at its top, linear in elevation.  The
noise is 1 m of spatially correlated waves (300-1200 m) plus 0.5 m of white noise, seeded.
The outline (GeoJSON, WGS 84) and the truth (``relief.json``: shift, bias, mean thinning over
the outline's pixels) are written under ``truth/``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
from pyproj import Transformer

from ..catalog._local import LocalCatalog
from ._muscate import Tile, _Grid, write_cog
from ._scene import Scene, _Noise

__all__ = ["BIAS", "DEM_EPOCH_COLLECTION", "EPOCH", "GLACIER_NAME", "SHIFT", "add_relief", "glacier_outline",
           "thinning"]

DEM_EPOCH_COLLECTION = "terra-lab-demo-dem-2023"
EPOCH = dt.datetime(2023, 9, 15)
REFERENCE_EPOCH = dt.datetime(2000, 2, 11)
#: horizontal offset (m, east and north) and vertical bias (m) of the 2023 DEM to the 2000 one
SHIFT = (7.0, -4.0)
BIAS = 3.0
GLACIER_NAME = "demo glacier"
_ICE_FLOOR = 2550.0
_THIN_TOP, _THIN_TONGUE = -5.0, -40.0


def glacier_outline(scene: Scene, tile: Tile):
    """The glacier polygon (EPSG of ``tile``): the largest patch above 2550 m in the north-east."""
    import shapely.geometry
    from rasterio.features import shapes

    grid = _Grid(scene, tile, 20.0)
    z = scene.elevation(grid.x, grid.y)
    n = z.shape[0]
    region = np.zeros(z.shape, bool)
    region[: int(0.45 * n), int(0.6 * n):] = True
    mask = (z >= _ICE_FLOOR) & region
    polys = [shapely.geometry.shape(g) for g, v in shapes(mask.astype(np.uint8), mask=mask,
                                                           transform=tile.transform(20.0)) if v == 1]
    biggest = max(polys, key=lambda p: p.area)
    return shapely.geometry.Polygon(biggest.exterior).simplify(20.0).buffer(0)


def thinning(z: np.ndarray, zmin: float, zmax: float) -> np.ndarray:
    """Elevation change 2000 -> 2023 (m) of ice at elevation ``z``: linear from the tongue to the top."""
    f = np.clip((zmax - z) / max(zmax - zmin, 1.0), 0.0, 1.0)
    return _THIN_TOP + (_THIN_TONGUE - _THIN_TOP) * f


def _second_epoch(scene: Scene, tile: Tile, res: float, outline, zmin: float, zmax: float) -> np.ndarray:
    import shapely

    grid = _Grid(scene, tile, res)
    x0, y0 = grid.x - SHIFT[0], grid.y - SHIFT[1]
    z = scene.elevation(x0, y0).astype(np.float64)
    ice = shapely.contains_xy(outline, x0, y0)
    rng = np.random.default_rng(scene.seed + 2023)
    waves = _Noise(rng, 16, (300.0, 1200.0))
    noise = waves(grid.x, grid.y) + rng.normal(0.0, 0.5, z.shape)
    out = z + BIAS + np.where(ice, thinning(z, zmin, zmax), 0.0) + noise
    return out.astype(np.float32)


def _item(root: Path, tile: Tile, paths: dict[float, Path]) -> dict:
    import rasterio
    import shapely.geometry

    from ..catalog._theia_items import used_extensions

    assets = {}
    for res, path in paths.items():
        with rasterio.open(path) as ds:
            t = ds.transform
            assets["elevation" if res == 20.0 else "elevation_10m"] = {
                "href": os.path.relpath(path, root / "catalog"),
                "type": "image/tiff; application=geotiff; profile=cloud-optimized", "roles": ["data"],
                "title": f"Elevation (m), {res:.0f} m", "proj:shape": [ds.height, ds.width],
                "proj:transform": [t.a, t.b, t.c, t.d, t.e, t.f], "proj:epsg": tile.epsg, "gsd": res,
                "raster:bands": [{"data_type": "float32", "nodata": "nan", "unit": "m"}],
            }
    tr = Transformer.from_crs(tile.epsg, 4326, always_xy=True)
    x1, y1 = tile.x0 + tile.extent, tile.y0 - tile.extent
    lon, lat = tr.transform([tile.x0, x1, x1, tile.x0], [tile.y0, tile.y0, y1, y1])
    geom = shapely.geometry.Polygon(zip(lon, lat))
    props = {"datetime": EPOCH.isoformat() + "Z", "proj:epsg": tile.epsg, "gsd": 20.0}
    return {
        "type": "Feature", "stac_version": "1.0.0", "stac_extensions": used_extensions(props, assets),
        "id": f"DEM_{tile.name}_{EPOCH.year}", "collection": DEM_EPOCH_COLLECTION,
        "geometry": shapely.geometry.mapping(geom), "bbox": list(geom.bounds), "properties": props, "links": [],
        "assets": assets,
    }


def add_relief(cat: LocalCatalog, root: Path, scene: Scene, tile: Tile) -> None:
    """Write the 2023 DEM (10 m, 20 m), the glacier outline and the truth; add the DEM item to ``cat``."""
    import shapely
    import shapely.geometry
    import shapely.ops

    outline = glacier_outline(scene, tile)
    g20 = _Grid(scene, tile, 20.0)
    z20 = scene.elevation(g20.x, g20.y).astype(np.float64)
    inside = shapely.contains_xy(outline, g20.x, g20.y)
    zmin, zmax = float(z20[inside].min()), float(z20[inside].max())
    paths = {}
    for res in (20.0, 10.0):
        path = root / "DEM" / f"{tile.name}_DEM_{EPOCH.year}_R{1 if res == 10 else 2}.tif"
        write_cog(path, _second_epoch(scene, tile, res, outline, zmin, zmax), tile, res, nodata=np.nan)
        paths[res] = path
    cat.add_items([_item(root, tile, paths)], collection=DEM_EPOCH_COLLECTION, license="CC0-1.0",
                  title="terra_lab demo: second-epoch DEM (2023) for relief change",
                  description=(f"Demo DEM of {EPOCH.date()}: the {REFERENCE_EPOCH.date()} DEM shifted by {SHIFT} m, "
                               f"raised by {BIAS} m, with a thinning glacier (truth/relief.json)"),
                  providers=[{"name": "terra_lab", "roles": ["producer"]}])
    to_wgs = Transformer.from_crs(tile.epsg, 4326, always_xy=True)
    geo = shapely.ops.transform(to_wgs.transform, outline)
    truth = root / "truth"
    (truth / "glacier_outline.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": GLACIER_NAME}, "geometry": shapely.geometry.mapping(geo)}]}))
    years = (EPOCH - REFERENCE_EPOCH).days / 365.25
    dh = thinning(z20[inside], zmin, zmax)
    (truth / "relief.json").write_text(json.dumps({
        "reference_item": f"DEM_{tile.name}", "dem_item": f"DEM_{tile.name}_{EPOCH.year}",
        "collection": DEM_EPOCH_COLLECTION, "shift_x_m": SHIFT[0], "shift_y_m": SHIFT[1], "shift_z_m": BIAS,
        "model": "z_2023(x) = z_2000(x - shift) + shift_z + thinning(x - shift) + noise",
        "years": years, "glacier": GLACIER_NAME, "glacier_area_m2": float(outline.area),
        "glacier_zmin_m": zmin, "glacier_zmax_m": zmax,
        "mean_dh_m_20m_pixels": float(dh.mean()), "thinning_m": [_THIN_TONGUE, _THIN_TOP],
        "noise": "1 m correlated waves (300-1200 m) + 0.5 m white",
    }, indent=1))
