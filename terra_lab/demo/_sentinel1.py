"""An S1Tiling-like Sentinel-1 series of the demo scene, driven by a soil-moisture truth and the scene's NDVI.

* **Soil-moisture truth** (volumetric, %), analytic and seeded: a daily bucket over the demo's snow year
  (2023-09-01 .. 2024-08-31): rain events (more frequent in autumn and spring) wet a soil water index
  ``W`` in [0, 1] that dries exponentially, faster in summer (e-folding 5 days in July, 25 days in
  January) and more slowly under grassland and forest; ``mv = mv_res + (mv_sat - mv_res) * W`` with a
  smooth soil-texture pattern setting ``mv_res`` (4-10 %) and ``mv_sat`` (32-42 %).  Undefined (NaN) on
  urban and water pixels and where the scene has snow.
* **Backscatter**: sigma0 VV from the Water Cloud Model of :mod:`terra_lab.products.soil_moisture` (its
  :data:`~terra_lab.products.soil_moisture.WCM_VV` parameters) with the truth soil moisture, the scene's
  cloud-free NDVI of that day and the local incidence angle; VH as VV x 10^((-8 + 4 NDVI) / 10) (a
  plausible cross-polarisation ratio, not part of the inversion); urban -3 dB, water -23 dB; multiplicative
  Gamma speckle of 10 looks (about 1.3 dB).  Linear float32, 0 outside the swath (a strip along the west
  edge of the descending images), as S1Tiling writes.
* **Geometry**: two orbits every 6 days: descending 008 (06:00 UTC, from 2023-09-01) and ascending 088
  (18:00 UTC, from 2023-09-04), incidence 33-44 deg across the crop, ``LIA_31TGK_{orbit}.tif``
  maps in degrees x 100.
* **Grid**: the south-west 2.4 km of the main tile (the farmed valley) on its 20 m grid (120 x 120 px).

Truth in ``truth/``: ``soil_moisture_R2.tif`` (one band per radar date, NaN where undefined),
``s1_ndvi_R2.tif`` (the NDVI the backscatter was simulated with), ``plots_R2.tif`` (plot labels, for the
method's plot-scale inversion) and ``soil_moisture.json`` (dates, orbits,
grid, model).  Deterministic: every draw comes from generators seeded by the scene's seed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from ..catalog._local import LocalCatalog
from ..catalog._s1_items import s1tiling_items
from ..profiles._collections import S1TILING_COLLECTION
from ._muscate import Tile, _Grid, write_cog
from ._scene import BANDS, Acquisition, Scene

__all__ = ["ORBITS", "S1_RES", "add_sentinel1", "plot_labels", "s1_tile", "soil_moisture_truth", "write_sentinel1"]

S1_RES = 20.0
#: (direction, relative orbit, first date, UTC hour, incidence at the west and east edges of the crop)
ORBITS = (("DES", 8, dt.date(2023, 9, 1), 6, (40.0, 44.0)), ("ASC", 88, dt.date(2023, 9, 4), 18, (33.0, 37.0)))
_END = dt.date(2024, 8, 31)
_LOOKS = 10
_WEST_STRIP = 3  # columns outside the descending swath (0 = no data)


def s1_tile(main: Tile) -> Tile:
    """The crop of the main tile the series covers (its south-west 2.4 km, on the 20 m grid)."""
    extent = 2400.0
    return Tile(main.name, main.epsg, main.x0, main.y0 - (main.extent - extent), extent)


def _dates() -> list[tuple[str, int, dt.datetime]]:
    out = []
    for direction, orbit, first, hour, _ in ORBITS:
        d = first
        while d <= _END:
            out.append((direction, orbit, dt.datetime(d.year, d.month, d.day, hour)))
            d += dt.timedelta(days=6)
    return sorted(out, key=lambda t: t[2])


def _wetness(seed: int, days: int, start: dt.date) -> dict[str, np.ndarray]:
    """Daily soil water index in [0, 1] per drying class (``fast``: crops, ``slow``: grassland and forest)."""
    rng = np.random.default_rng([seed, 17, 1])
    doy = np.array([(start + dt.timedelta(days=i)).timetuple().tm_yday for i in range(days)])
    p_rain = 0.22 + 0.12 * np.cos(2 * np.pi * (doy - 300) / 365) ** 2 * (np.abs(doy - 200) > 60)
    rain = np.where(rng.random(days) < p_rain, rng.exponential(9.0, days), 0.0)  # mm
    tau = 15.0 + 10.0 * np.cos(2 * np.pi * (doy - 15) / 365)  # e-folding days: 25 in January, 5 in July
    out = {}
    for name, factor, storage in (("fast", 1.0, 40.0), ("slow", 1.6, 55.0)):
        w, series = 0.45, np.empty(days)
        for i in range(days):
            w = min(1.0, w * np.exp(-1.0 / (tau[i] * factor)) + rain[i] / storage)
            series[i] = w
        out[name] = series
    return out


def soil_moisture_truth(scene: Scene, grid: _Grid, times: list[dt.datetime]) -> np.ndarray:
    """Truth soil moisture (vol.%), ``(len(times), ny, nx)`` float32; NaN on urban and water pixels."""
    start = dt.date(2023, 9, 1)
    wet = _wetness(scene.seed, (_END - start).days + 1, start)
    lc = grid.static["landcover"]
    u = (grid.x - scene.x0) / scene.extent
    v = (scene.y0 - grid.y) / scene.extent
    texture = 0.5 + 0.25 * np.sin(7.0 * u + 1.3) * np.cos(5.0 * v - 0.4) + 0.25 * np.sin(13.0 * (u + v))
    res, sat = 4.0 + 6.0 * texture, 32.0 + 10.0 * texture
    slow = np.isin(lc, (4, 5, 6, 7))
    out = np.empty((len(times), *lc.shape), np.float32)
    for k, t in enumerate(times):
        i = (t.date() - start).days
        w = np.where(slow, wet["slow"][i], wet["fast"][i])
        out[k] = res + (sat - res) * w
    out[:, np.isin(lc, (1, 8))] = np.nan
    return out


def plot_labels(scene: Scene, grid: _Grid) -> np.ndarray:
    """Plot labels 1..n of the crop: the scene's 250 m parcels split by land cover; 0 on urban and water."""
    lc = grid.static["landcover"]
    pi = np.floor((grid.x - scene.x0) / 250.0).astype(np.int64)
    pj = np.floor((scene.y0 - grid.y) / 250.0).astype(np.int64)
    key = (pj * 1000 + pi) * 10 + lc
    key[np.isin(lc, (1, 8))] = -1
    uniq, inv = np.unique(key, return_inverse=True)
    labels = inv.reshape(key.shape) + (0 if uniq[0] == -1 else 1)
    return labels.astype(np.uint16)


def _ndvi(scene: Scene, grid: _Grid, when: dt.datetime, k: int) -> tuple[np.ndarray, np.ndarray]:
    acq = Acquisition(index=200_000 + k, time=when, platform="SENTINEL2A", cloud_fraction=0.0, cloud_seed=0,
                      thin=False, edge_cut=None)
    r = scene.reflectance(grid.x, grid.y, acq, np.random.default_rng([scene.seed, 17, 2, k]), static=grid.static)
    red, nir = r["reflectance"][..., BANDS.index("B4")], r["reflectance"][..., BANDS.index("B8")]
    return ((nir - red) / (nir + red)).astype(np.float32), r["snow"]


def write_sentinel1(root: Path, truth_dir: Path, scene: Scene, main: Tile) -> Path:
    """Write the S1Tiling-like files under ``root/sentinel1`` and the truth under ``truth_dir``; returns the folder."""
    from ..kernels._soil_moisture import wcm_forward
    from ..products.soil_moisture import WCM_VV

    tile = s1_tile(main)
    grid = _Grid(scene, tile, S1_RES)
    name = main.name.removeprefix("T")
    folder = root / "sentinel1" / name
    folder.mkdir(parents=True)
    lia_dir = root / "sentinel1" / "LIA"
    lia_dir.mkdir()
    n = tile.shape(S1_RES)[1]
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)[None, :].repeat(n, 0)
    lia = {}
    for _, orbit, _, _, (west, east) in ORBITS:
        lia[orbit] = west + (east - west) * ramp
        write_cog(lia_dir / f"LIA_{name}_{orbit:03d}.tif", np.round(lia[orbit] * 100).astype(np.uint16), tile, S1_RES,
                  nodata=0)
    dates = _dates()
    times = [t for _, _, t in dates]
    truth = soil_moisture_truth(scene, grid, times)
    lc = grid.static["landcover"]
    params = WCM_VV.vector()
    rng = np.random.default_rng([scene.seed, 17, 3])
    ndvis = np.empty_like(truth)
    for k, (direction, orbit, t) in enumerate(dates):
        ndvi, snow = _ndvi(scene, grid, t, k)
        ndvis[k] = ndvi
        mv = np.where(np.isnan(truth[k]), 10.0, truth[k])
        vv = wcm_forward(mv.astype(np.float64), ndvi.astype(np.float64), lia[orbit].astype(np.float64), params)
        vv = np.where(lc == 1, 10 ** -0.3, np.where(lc == 8, 10 ** -2.3, vv))
        vh = vv * 10 ** ((-8.0 + 4.0 * np.clip(ndvi, 0, 1)) / 10)
        truth[k][snow] = np.nan
        for pol, value in (("vv", vv), ("vh", vh)):
            speckled = (value * rng.gamma(_LOOKS, 1.0 / _LOOKS, value.shape)).astype(np.float32)
            if direction == "DES":
                speckled[:, :_WEST_STRIP] = 0.0
            write_cog(folder / f"s1a_{name}_{pol}_{direction}_{orbit:03d}_{t:%Y%m%d}txxxxxx.tif", speckled, tile,
                      S1_RES, nodata=0)
    stamps = [f"{t:%Y-%m-%dT%H:%M:%S}Z" for t in times]
    write_cog(truth_dir / "soil_moisture_R2.tif", truth, tile, S1_RES, nodata=np.nan, descriptions=stamps)
    write_cog(truth_dir / "s1_ndvi_R2.tif", ndvis, tile, S1_RES, nodata=np.nan, descriptions=stamps)
    write_cog(truth_dir / "plots_R2.tif", plot_labels(scene, grid), tile, S1_RES, nodata=0)
    (truth_dir / "soil_moisture.json").write_text(json.dumps({
        "tile": main.name, "epsg": tile.epsg, "x0": tile.x0, "y0": tile.y0, "extent": tile.extent, "res": S1_RES,
        "dates": stamps, "orbits": [f"{d}_{o:03d}" for d, o, _ in dates],
        "model": "Water Cloud Model, terra_lab.products.soil_moisture.WCM_VV; VV and VH with 10-look Gamma speckle",
        "layers": {"soil_moisture_R2.tif": "volumetric soil moisture (%) per radar date; NaN on urban, water, snow",
                   "s1_ndvi_R2.tif": "cloud-free NDVI (B8, B4) of the scene the backscatter was simulated with",
                   "plots_R2.tif": "plot labels (250 m parcels split by land cover; 0 on urban and water)"},
    }, indent=1))
    return root / "sentinel1"


def add_sentinel1(cat: LocalCatalog, root: Path, scene: Scene, main: Tile) -> None:
    """Write the series (:func:`write_sentinel1`) and add it to ``cat`` as THEIA's S1Tiling collection."""
    folder = write_sentinel1(root, root / "truth", scene, main)
    items = list(s1tiling_items(folder, href_root=root / "catalog"))
    title = "terra_lab demo: S1Tiling Sentinel-1 sigma0 VV/VH on the Sentinel-2 grid, 20 m"
    cat.add_items(items, collection=S1TILING_COLLECTION, title=title, license="CC0-1.0",
                  description=f"{title}. Backscatter simulated by the Water Cloud Model from the scene's soil-moisture "
                              "truth (truth/soil_moisture_R2.tif) and NDVI, with speckle. Generated by `terra-lab demo build`.")
