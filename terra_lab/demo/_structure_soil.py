"""Forest-structure and soil truth of the demo scene: canopy height, soil properties, point samples.

Every field is an analytic function of the scene's fields plus seeded noise, so that the
products of :mod:`terra_lab.products.structure` and :mod:`terra_lab.products.soil` can be
checked against a known answer:

* **canopy density** (0-1, forest only): smooth stand-to-stand variation (a 150-600 m noise)
  thinning towards the treeline (1600-1900 m).  The scene's reflectance mixes the canopy
  spectrum with an understorey spectrum by ``1 - density`` (:meth:`Scene.reflectance`), so
  Sentinel-2 sees it;
* **canopy height** (m): ``h_max(type) * f(elevation) * (0.3 + 0.7 density) + 1.5 noise``,
  broadleaf ``h_max`` 28 m, conifers 34 m, shrinking with elevation; 0 outside forest;
* **GEDI-like footprints**: :data:`GEDI_POINTS` points at random positions (80 % in forest),
  ``rh98`` the truth height there plus N(0, 1.5 m) (GEDI's footprint-level error, Dubayah et
  al. 2020, is of this order over moderate slopes);
* **soil** (20 m): clay, silt and sand (% summing to 100, from compositional weights driven
  by slope, elevation and topographic position), organic carbon (%, by land cover and
  elevation), pH and available water capacity (mm/m, from texture and carbon), each with
  smooth noise the covariates cannot explain; NaN on the lake;
* **soil samples**: :data:`SOIL_POINTS` pixel centres with the truth plus laboratory noise.

Files (in ``truth/``): ``canopy_height_R2.tif`` (float32, m), ``canopy_density_R2.tif``,
``soil_R2.tif`` (6 bands, in :data:`SOIL_PROPERTIES` order), ``gedi_points.geojson`` and
``soil_points.geojson`` (EPSG:32631).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._muscate import Tile
    from ._scene import Scene

__all__ = ["GEDI_POINTS", "SOIL_POINTS", "SOIL_PROPERTIES", "canopy_density", "canopy_height", "soil_truth",
           "write_structure_soil"]

GEDI_POINTS = 300
SOIL_POINTS = 300
#: Soil layers of ``soil_R2.tif``, in band order, with their units.
SOIL_PROPERTIES = {"clay": "%", "silt": "%", "sand": "%", "soc": "%", "ph": "1", "awc": "mm/m"}
#: Maximum canopy height (m) per demo class: 5 broadleaf, 6 conifer.
_HMAX = {5: 28.0, 6: 34.0}
_SEED_OFFSET = 1616  # noises of their own: the scene's generator (and its other fields) are untouched


@functools.lru_cache(maxsize=4)
def _noises(seed: int) -> tuple:
    from ._scene import _Noise

    rng = np.random.default_rng(seed + _SEED_OFFSET)
    return tuple(_Noise(rng, 16, wl) for wl in [(150.0, 600.0), (100.0, 300.0)] + [(300.0, 1200.0)] * 6)


def canopy_density(scene: Scene, x: np.ndarray, y: np.ndarray, lc: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Canopy density (0.4-1 in forest, 0 elsewhere): stand variation, thinning at the treeline."""
    n = _noises(scene.seed)[0](x, y)
    d = np.clip(0.75 + 0.18 * n - 0.3 * np.clip((z - 1600.0) / 300.0, 0, 1), 0.4, 1.0)
    return np.where(np.isin(lc, (5, 6)), d, 0.0).astype(np.float32)


def canopy_height(scene: Scene, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Canopy height (m) anywhere: 0 outside forest."""
    z = scene.elevation(x, y).astype(np.float64)
    lc = scene.landcover(x, y)
    d = canopy_density(scene, x, y, lc, z)
    hmax = np.select([lc == 5, lc == 6], [_HMAX[5], _HMAX[6]], 0.0)
    fz = np.where(lc == 5, 1 - 0.2 * np.clip((z - 820.0) / 300.0, 0, 1),
                  np.clip(1 - 0.55 * (z - 1100.0) / 800.0, 0.35, 1.0))
    h = hmax * fz * (0.3 + 0.7 * d) + 1.5 * _noises(scene.seed)[1](x, y)
    return np.where(np.isin(lc, (5, 6)), np.clip(h, 2.0, None), 0.0).astype(np.float32)


def soil_truth(scene: Scene, static: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
               res: float) -> dict[str, np.ndarray]:
    """Soil properties on a grid (pixel centres ``x``, ``y`` of spacing ``res``)."""
    from scipy.ndimage import uniform_filter

    z = static["elevation"].astype(np.float64)
    lc = static["landcover"]
    dzdy, dzdx = np.gradient(z, res)
    slope = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    tpi = z - uniform_filter(z, size=int(round(300 / res)), mode="nearest")  # topographic position, 300 m window
    n = [f(x, y) for f in _noises(scene.seed)[2:]]
    dz = (z - 600.0) / 1000.0
    # compositional weights: fine particles settle in hollows and valleys, coarse ones stay on steep high slopes
    s, t = slope / 60.0, tpi / 50.0
    w_clay = np.exp(1.3 - 0.6 * s - 0.3 * dz - 0.25 * t + 0.25 * n[0])
    w_silt = np.exp(1.4 - 0.3 * s - 0.2 * dz + 0.2 * n[1])
    w_sand = np.exp(0.9 + 0.5 * s + 0.2 * dz + 0.2 * n[2])
    total = w_clay + w_silt + w_sand
    clay, silt, sand = (100 * w / total for w in (w_clay, w_silt, w_sand))
    cls_soc = {1: -0.5, 2: -0.4, 3: -0.35, 4: 0.2, 5: 0.3, 6: 0.45, 7: 0.1, 8: 0.0}
    cls_ph = {1: 0.2, 2: 0.3, 3: 0.3, 4: 0.0, 5: -0.15, 6: -0.45, 7: -0.2, 8: 0.0}
    code = np.arange(9)
    soc_eff = np.array([cls_soc.get(int(c), 0.0) for c in code])[lc]
    ph_eff = np.array([cls_ph.get(int(c), 0.0) for c in code])[lc]
    soc = np.exp(np.log(1.5) + 0.5 * dz + soc_eff - 0.3 * s + 0.2 * n[3])
    ph = np.clip(7.6 - 1.1 * dz + ph_eff + 0.2 * n[4], 4.0, 8.5)
    awc = 40.0 + 1.2 * silt + 0.6 * clay + 8.0 * soc + 5.0 * n[5]
    water = lc == 8
    out = {"clay": clay, "silt": silt, "sand": sand, "soc": soc, "ph": ph, "awc": awc}
    return {k: np.where(water, np.nan, v).astype(np.float32) for k, v in out.items()}


def _write_points(path: Path, x: np.ndarray, y: np.ndarray, columns: dict[str, np.ndarray], epsg: int) -> None:
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(float(a), 2), round(float(b), 2)]},
              "properties": {k: round(float(v[i]), 3) for k, v in columns.items()}} for i, (a, b) in enumerate(zip(x, y))]
    doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}},
           "features": feats}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    tmp.replace(path)


def write_structure_soil(truth_dir: Path, scene: Scene, tile: Tile) -> None:
    """Write the canopy-height and soil truth rasters (20 m) and their point samples into ``truth_dir``."""
    from ._muscate import _Grid, write_cog

    res = 20.0
    grid = _Grid(scene, tile, res)
    st = grid.static
    lc = st["landcover"]
    height = canopy_height(scene, grid.x, grid.y)
    write_cog(truth_dir / "canopy_height_R2.tif", height, tile, res, descriptions=["canopy height (m), 0 = not forest"])
    write_cog(truth_dir / "canopy_density_R2.tif", st["canopy_density"], tile, res, descriptions=["canopy density (0-1)"])
    soil = soil_truth(scene, st, grid.x, grid.y, res)
    write_cog(truth_dir / "soil_R2.tif", np.stack([soil[k] for k in SOIL_PROPERTIES]), tile, res, nodata=np.nan,
              descriptions=[f"{k} ({u})" for k, u in SOIL_PROPERTIES.items()])
    rng = np.random.default_rng(scene.seed + _SEED_OFFSET + 1)
    # GEDI-like footprints at random positions, 80 % drawn in forest pixels, the rest anywhere off the lake
    forest = np.flatnonzero(np.isin(lc, (5, 6)).ravel())
    other = np.flatnonzero(((lc != 8) & ~np.isin(lc, (5, 6))).ravel())
    n_forest = int(0.8 * GEDI_POINTS)
    pick = np.concatenate([rng.choice(forest, n_forest, replace=False),
                           rng.choice(other, GEDI_POINTS - n_forest, replace=False)])
    rows, cols = np.unravel_index(pick, lc.shape)
    px = tile.x0 + res * (cols + rng.uniform(0.1, 0.9, pick.size))
    py = tile.y0 - res * (rows + rng.uniform(0.1, 0.9, pick.size))
    h = canopy_height(scene, px, py).astype(np.float64)
    rh98 = np.clip(h + rng.normal(0, 1.5, h.size), 0, None)
    _write_points(truth_dir / "gedi_points.geojson", px, py, {"rh98": rh98, "truth": h}, tile.epsg)
    # soil samples at pixel centres off the lake, with laboratory noise
    land = np.flatnonzero((lc != 8).ravel())
    pick = np.sort(rng.choice(land, SOIL_POINTS, replace=False))
    rows, cols = np.unravel_index(pick, lc.shape)
    tex = np.stack([soil[k].ravel()[pick] for k in ("clay", "silt", "sand")]) * rng.lognormal(0, 0.08, (3, pick.size))
    tex = 100 * tex / tex.sum(axis=0)
    cols_out = {"clay": tex[0], "silt": tex[1], "sand": tex[2],
                "soc": soil["soc"].ravel()[pick] * rng.lognormal(0, 0.08, pick.size),
                "ph": soil["ph"].ravel()[pick] + rng.normal(0, 0.1, pick.size),
                "awc": soil["awc"].ravel()[pick] + rng.normal(0, 4.0, pick.size)}
    _write_points(truth_dir / "soil_points.geojson", tile.x0 + res * (cols + 0.5), tile.y0 - res * (rows + 0.5),
                  cols_out, tile.epsg)
