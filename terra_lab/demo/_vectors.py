"""Demo vector collections: GEDI L2A-like footprints, soil samples and a glacier outline, as catalogues publish them.

The algorithms trained on points or run per outline read their inputs from a catalogue with
:func:`terra_lab.load_features`, as a user of NASA's GEDI L2A, a soil survey or RGI would; the
``truth/`` files stay for validation.  Three collections:

* :data:`GEDI_COLLECTION`: footprints as GeoParquet in longitude/latitude, one item per month
  of 2023, with GEDI L2A field names (``shot_number``, ``beam``, ``delta_time``, ``rh95``,
  ``rh98``, ``quality_flag``, ``degrade_flag``, ``sensitivity``, ``elev_lowestmode``,
  ``lat_lowestmode``, ``lon_lowestmode``, ``solar_elevation``).  As unkind as the real
  product:

  - the :data:`~terra_lab.demo._structure_soil.GEDI_POINTS` good shots are the truth footprints
    (``truth/gedi_points.geojson``: same positions, same ``rh98``), ``quality_flag`` 1,
    ``degrade_flag`` 0, ``sensitivity`` >= 0.95 (>= 0.9 off forest), by day and by night;
  - :data:`N_CLOUD` shots through clouds: ``quality_flag`` 0, the waveform's lowest mode on a
    cloud (``elev_lowestmode`` 500-4000 m above the ground) and ``rh98`` far from the canopy;
  - :data:`N_DEGRADED` shots with degraded pointing or positioning (``degrade_flag`` 3, 4, 13 or
    80): the footprint was really 60-250 m away, its heights are those of that place;
  - :data:`N_LOW_SENSITIVITY` forest shots of ``sensitivity`` 0.70-0.90 whose lowest mode is in
    the canopy (the ground was not seen): ``rh98`` 30-65 % of the true height.  They carry
    ``quality_flag`` 1 here so that each criterion of :func:`terra_lab.products.structure.gedi_quality`
    removes shots on its own (in the real L2A, ``quality_flag`` already asks ``sensitivity`` >
    0.9 of the selected algorithm; users add the stricter 0.95 over forest).

  :data:`N_DAY` of the good shots are daytime shots (``solar_elevation`` > 0), the others night.
* :data:`SOIL_COLLECTION`: the truth soil samples (``truth/soil_points.geojson``) as a soil
  survey publishes them: one GeoJSON in longitude/latitude (RFC 7946) with ``sample_id``,
  ``sampling_date``, ``upper_depth_cm``, ``lower_depth_cm``, ``clay``, ``silt``, ``sand`` (% of
  the fine earth), ``soc`` (%), ``ph_h2o``, ``awc`` (mm/m), and :data:`SOIL_MISSING` samples with
  a missing laboratory value (null).
* :data:`GLACIER_COLLECTION`: the glacier outline of :mod:`._relief` with RGI 7.0 attributes
  (``rgi_id``, ``glac_name``, ``area_km2``, ``src_date``, ``cenlon``, ``cenlat``, ``zmin_m``,
  ``zmax_m``...), one GeoJSON inside a zip as RGI distributes its regions, one item dated at the
  outline's source date (the reference DEM's, from which it was drawn).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pyproj import Transformer

from ._relief import GLACIER_NAME, REFERENCE_EPOCH, glacier_outline
from ._structure_soil import _SEED_OFFSET, GEDI_POINTS, canopy_height

if TYPE_CHECKING:
    from ..catalog._local import LocalCatalog
    from ._muscate import Tile
    from ._scene import Scene

__all__ = ["GEDI_COLLECTION", "GLACIER_COLLECTION", "N_CLOUD", "N_DAY", "N_DEGRADED", "N_LOW_SENSITIVITY",
           "SOIL_COLLECTION", "SOIL_MISSING", "add_vectors"]

GEDI_COLLECTION = "terra-lab-demo-gedi-l2a"
SOIL_COLLECTION = "terra-lab-demo-soil-samples"
GLACIER_COLLECTION = "terra-lab-demo-glacier-outlines"
GEDI_YEAR = 2023
N_CLOUD = 60
N_DEGRADED = 40
N_LOW_SENSITIVITY = 40
#: daytime shots among the good ones (the rest are night shots)
N_DAY = 165
#: soil samples with a missing laboratory value: {property: count}
SOIL_MISSING = {"soc": 6, "ph_h2o": 5, "awc": 4, "clay": 3}
_BEAMS = ("BEAM0000", "BEAM0001", "BEAM0010", "BEAM0011", "BEAM0101", "BEAM0110", "BEAM1000", "BEAM1011")
_GEDI_EPOCH = dt.datetime(2018, 1, 1)  # delta_time: seconds since 2018-01-01 (GEDI L2A user guide)
_PARQUET = "application/vnd.apache.parquet"
_GEOJSON = "application/geo+json"
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)  # fixed member time: the same bytes on every build


def _rel(path: Path, root: Path) -> str:
    return os.path.relpath(path, root / "catalog")


def _item(item_id: str, geom, props: dict, assets: dict) -> dict:
    import shapely.geometry

    return {"type": "Feature", "stac_version": "1.0.0", "stac_extensions": [], "id": item_id,
            "geometry": shapely.geometry.mapping(geom), "bbox": [round(v, 7) for v in geom.bounds],
            "properties": props, "links": [], "assets": assets}


def _read_points(path: Path):
    doc = json.loads(path.read_text())
    xy = np.array([f["geometry"]["coordinates"] for f in doc["features"]], np.float64)
    cols = {k: np.array([f["properties"][k] for f in doc["features"]], np.float64) for k in doc["features"][0]["properties"]}
    return xy[:, 0], xy[:, 1], cols


# ------------------------------------------------------------------ GEDI L2A
def _bad_positions(rng: np.random.Generator, scene: Scene, tile: Tile, n: int, forest_share: float):
    from ._muscate import _Grid

    grid = _Grid(scene, tile, 20.0)
    lc = grid.static["landcover"]
    forest = np.flatnonzero(np.isin(lc, (5, 6)).ravel())
    other = np.flatnonzero(((lc != 8) & ~np.isin(lc, (5, 6))).ravel())
    n_forest = int(round(forest_share * n))
    pick = np.concatenate([rng.choice(forest, n_forest, replace=False), rng.choice(other, n - n_forest, replace=False)])
    rows, cols = np.unravel_index(pick, lc.shape)
    x = tile.x0 + 20.0 * (cols + rng.uniform(0.1, 0.9, n))
    y = tile.y0 - 20.0 * (rows + rng.uniform(0.1, 0.9, n))
    return x, y


def gedi_shots(root: Path, scene: Scene, tile: Tile):
    """The demo's GEDI L2A-like shots (a GeoDataFrame in EPSG:4326, one row per shot) and their ``month``."""
    import geopandas as gpd
    import pandas as pd

    rng = np.random.default_rng(scene.seed + _SEED_OFFSET + 7)
    gx, gy, good = _read_points(root / "truth" / "gedi_points.geojson")
    n_good = gx.size
    assert n_good == GEDI_POINTS, n_good
    n_bad = N_CLOUD + N_DEGRADED + N_LOW_SENSITIVITY
    # clouds and degraded shots anywhere (80 % forest, like the good ones); low sensitivity under canopy only
    bx, by = _bad_positions(rng, scene, tile, N_CLOUD + N_DEGRADED, 0.8)
    lx, ly = _bad_positions(rng, scene, tile, N_LOW_SENSITIVITY, 1.0)
    x, y = np.concatenate([gx, bx, lx]), np.concatenate([gy, by, ly])
    n = x.size
    kind = np.array(["good"] * n_good + ["cloud"] * N_CLOUD + ["degraded"] * N_DEGRADED
                    + ["low_sensitivity"] * N_LOW_SENSITIVITY)
    truth_h = np.concatenate([good["truth"], canopy_height(scene, x[n_good:], y[n_good:]).astype(np.float64)])
    ground = scene.elevation(x, y).astype(np.float64)
    rh98 = np.concatenate([good["rh98"], np.zeros(n_bad)])
    elev = ground + rng.normal(0.0, 0.5, n)
    quality = np.ones(n, np.uint8)
    degrade = np.zeros(n, np.uint8)
    forest = truth_h > 0
    sensitivity = np.where(forest, rng.uniform(0.95, 0.995, n), rng.uniform(0.90, 0.99, n))
    c = kind == "cloud"  # the lowest mode on a cloud top: heights unrelated to the canopy
    quality[c] = 0
    elev[c] = ground[c] + rng.uniform(500.0, 4000.0, c.sum())
    sensitivity[c] = rng.uniform(0.3, 0.99, c.sum())
    far = truth_h[c] + np.where(rng.random(c.sum()) < 0.5, -1, 1) * rng.uniform(15.0, 60.0, c.sum())
    rh98[c] = np.where(far < 0, truth_h[c] + rng.uniform(15.0, 60.0, c.sum()), far)
    d = kind == "degraded"  # the footprint was elsewhere: heights and ground of that place
    degrade[d] = rng.choice(np.array([3, 4, 13, 80], np.uint8), d.sum())
    angle = rng.uniform(0.0, 2 * np.pi, d.sum())
    dist = rng.uniform(60.0, 250.0, d.sum())
    ex, ey = x[d] + dist * np.cos(angle), y[d] + dist * np.sin(angle)
    rh98[d] = np.clip(canopy_height(scene, ex, ey) + rng.normal(0.0, 1.5, d.sum()), 0.0, None)
    elev[d] = scene.elevation(ex, ey) + rng.normal(0.0, 0.5, d.sum())
    s = kind == "low_sensitivity"  # the ground was not seen: the lowest mode is in the canopy
    sensitivity[s] = rng.uniform(0.70, 0.90, s.sum())
    frac = rng.uniform(0.30, 0.65, s.sum())
    rh98[s] = truth_h[s] * frac
    elev[s] = ground[s] + truth_h[s] * (1 - frac)
    rh98 = np.round(rh98, 2)
    rh95 = np.round(np.clip(rh98 * rng.uniform(0.90, 0.96, n) - rng.uniform(0.0, 0.4, n), 0.0, None), 2)
    day = np.zeros(n, bool)
    day[rng.choice(n_good, N_DAY, replace=False)] = True
    day[n_good:] = rng.random(n_bad) < 0.5
    solar = np.round(np.where(day, rng.uniform(3.0, 65.0, n), rng.uniform(-60.0, -3.0, n)), 2)
    month = rng.integers(1, 13, n)
    starts = np.array([(dt.datetime(GEDI_YEAR, m, 1) - _GEDI_EPOCH).total_seconds() for m in range(1, 13)])
    days = np.array([(dt.date(GEDI_YEAR + m // 12, m % 12 + 1, 1) - dt.date(GEDI_YEAR, m, 1)).days for m in range(1, 13)])
    delta_time = starts[month - 1] + rng.uniform(0, 1, n) * days[month - 1] * 86400.0
    order = np.lexsort((delta_time,))
    lon, lat = Transformer.from_crs(tile.epsg, 4326, always_xy=True).transform(x, y)
    beam = rng.integers(0, len(_BEAMS), n)
    orbit = 23000 + (delta_time - starts[0]) // 5580  # an ISS orbit lasts about 93 min
    shot_number = (orbit.astype(np.int64) * 10**13 + beam.astype(np.int64) * 10**11
                   + np.arange(n, dtype=np.int64) * 97 + 1000)
    df = pd.DataFrame({
        "shot_number": shot_number, "beam": np.array(_BEAMS)[beam], "delta_time": np.round(delta_time, 3),
        "lat_lowestmode": np.round(lat, 7), "lon_lowestmode": np.round(lon, 7),
        "elev_lowestmode": np.round(elev, 2).astype(np.float32), "rh95": rh95.astype(np.float32),
        "rh98": rh98.astype(np.float32), "quality_flag": quality, "degrade_flag": degrade,
        "sensitivity": np.round(sensitivity, 4).astype(np.float32), "solar_elevation": solar.astype(np.float32),
    })
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon_lowestmode"], df["lat_lowestmode"]), crs=4326)
    return gdf.iloc[order].reset_index(drop=True), month[order]


def _gedi_items(root: Path, scene: Scene, tile: Tile) -> list[dict]:
    import shapely

    shots, month = gedi_shots(root, scene, tile)
    folder = root / "vectors" / "gedi"
    folder.mkdir(parents=True)
    items = []
    for m in range(1, 13):
        part = shots[month == m].reset_index(drop=True)
        start = dt.datetime(GEDI_YEAR, m, 1)
        end = dt.datetime(GEDI_YEAR + m // 12, m % 12 + 1, 1) - dt.timedelta(seconds=1)
        name = f"GEDI02_A_{GEDI_YEAR}{m:02d}_{tile.name}_demo"
        path = folder / f"{name}.parquet"
        part.to_parquet(path, index=False, compression="zstd", write_covering_bbox=False)
        geom = shapely.MultiPoint(part.geometry.to_numpy()).envelope.buffer(1e-4).envelope
        props = {"datetime": (start + (end - start) / 2).replace(microsecond=0).isoformat() + "Z",
                 "start_datetime": start.isoformat() + "Z", "end_datetime": end.isoformat() + "Z",
                 "platform": "ISS", "instruments": ["GEDI"]}
        assets = {"data": {"href": _rel(path, root), "type": _PARQUET, "roles": ["data"],
                           "title": f"GEDI L2A footprints, {start:%B %Y} ({len(part)} shots, GeoParquet, EPSG:4326)"}}
        items.append(_item(name, geom, props, assets))
    return items


# ------------------------------------------------------------------ soil samples
def _feature_collection(lon, lat, columns: dict[str, list]) -> str:
    feats = []
    for i, (a, b) in enumerate(zip(lon, lat)):
        props = {k: v[i] for k, v in columns.items()}
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(float(a), 7), round(float(b), 7)]},
                      "properties": props})
    return json.dumps({"type": "FeatureCollection", "features": feats})


def _soil_item(root: Path, scene: Scene, tile: Tile) -> dict:
    import shapely

    x, y, cols = _read_points(root / "truth" / "soil_points.geojson")
    rng = np.random.default_rng(scene.seed + _SEED_OFFSET + 8)
    n = x.size
    lon, lat = Transformer.from_crs(tile.epsg, 4326, always_xy=True).transform(x, y)
    days = rng.integers(0, 183, n)  # spring to autumn 2023
    out: dict[str, list] = {
        "sample_id": [f"TL23-{i + 1:04d}" for i in range(n)],
        "sampling_date": [(dt.date(2023, 4, 1) + dt.timedelta(days=int(d))).isoformat() for d in days],
        "upper_depth_cm": [0] * n, "lower_depth_cm": [30] * n,
    }
    names = {"clay": "clay", "silt": "silt", "sand": "sand", "soc": "soc", "ph": "ph_h2o", "awc": "awc"}
    for k, name in names.items():
        out[name] = [round(float(v), 2) for v in cols[k]]
    missing = rng.permutation(n)
    start = 0
    for prop, count in SOIL_MISSING.items():
        for i in missing[start:start + count]:
            for p in (("clay", "silt", "sand") if prop == "clay" else (prop,)):  # texture is measured together
                out[p][i] = None
        start += count
    folder = root / "vectors" / "soil"
    folder.mkdir(parents=True)
    path = folder / f"soil_samples_{tile.name}_2023.geojson"
    path.write_text(_feature_collection(lon, lat, out))
    geom = shapely.MultiPoint(np.column_stack([lon, lat])).envelope
    props = {"datetime": "2023-07-01T00:00:00Z", "start_datetime": "2023-04-01T00:00:00Z",
             "end_datetime": "2023-09-30T23:59:59Z"}
    assets = {"data": {"href": _rel(path, root), "type": _GEOJSON, "roles": ["data"],
                       "title": f"Topsoil samples 0-30 cm ({n} sites): clay, silt, sand, soc (%), ph_h2o, awc (mm/m)"}}
    return _item(f"soil-samples-{tile.name}-2023", geom, props, assets)


# ------------------------------------------------------------------ glacier outlines (RGI 7.0)
def _glacier_item(root: Path, scene: Scene, tile: Tile) -> dict:
    import shapely
    import shapely.geometry
    import shapely.ops

    from ._muscate import _Grid

    outline = glacier_outline(scene, tile)
    grid = _Grid(scene, tile, 20.0)
    z = scene.elevation(grid.x, grid.y).astype(np.float64)
    inside = shapely.contains_xy(outline, grid.x, grid.y)
    to_wgs = Transformer.from_crs(tile.epsg, 4326, always_xy=True)
    geo = shapely.ops.transform(to_wgs.transform, outline)
    c = geo.centroid
    zin = z[inside]
    props = {"rgi_id": "RGI2000-v7.0-G-11-99001", "o1region": "11", "o2region": "11-01",
             "glims_id": "G006330E45200N", "src_date": f"{REFERENCE_EPOCH:%Y-%m-%d}T00:00:00",
             "cenlon": round(c.x, 6), "cenlat": round(c.y, 6), "utm_zone": tile.epsg % 100,
             "area_km2": round(outline.area / 1e6, 4), "primeclass": 0, "conn_lvl": 0, "surge_type": 0,
             "term_type": 0, "glac_name": GLACIER_NAME, "zmin_m": round(float(zin.min()), 1),
             "zmax_m": round(float(zin.max()), 1), "zmed_m": round(float(np.median(zin)), 1),
             "dem_source": f"DEM_{tile.name} ({REFERENCE_EPOCH:%Y-%m-%d})"}
    doc = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geo)}]})
    folder = root / "vectors" / "rgi"
    folder.mkdir(parents=True)
    path = folder / "RGI2000-v7.0-G-11_central_europe_demo.zip"
    member = "RGI2000-v7.0-G-11_central_europe_demo/RGI2000-v7.0-G-11_central_europe_demo.geojson"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo(member, date_time=_ZIP_TIME), doc, compress_type=zipfile.ZIP_DEFLATED)
    path.write_bytes(buf.getvalue())
    from ..catalog._zip import vsizip_href

    stac_props = {"datetime": f"{REFERENCE_EPOCH:%Y-%m-%d}T00:00:00Z"}
    assets = {"outlines": {"href": vsizip_href(_rel(path, root), member), "type": _GEOJSON, "roles": ["data"],
                           "title": "RGI 7.0 glacier outlines (GeoJSON in the region's zip, EPSG:4326)"},
              "archive": {"href": _rel(path, root), "type": "application/zip", "roles": ["archive"],
                          "title": "The region's zip as RGI distributes it"}}
    return _item(f"RGI2000-v7.0-G-11-demo-{tile.name}", geo.envelope, stac_props, assets)


def add_vectors(cat: LocalCatalog, root: Path, scene: Scene, tile: Tile) -> None:
    """Write the three vector collections under ``root/vectors`` and add their items to ``cat``.

    Needs ``truth/gedi_points.geojson`` and ``truth/soil_points.geojson`` (written by
    :func:`~terra_lab.demo._structure_soil.write_structure_soil`) and the glacier of :mod:`._relief`.
    """
    producer = [{"name": "terra_lab", "roles": ["producer"]}]
    cat.add_items(_gedi_items(root, scene, tile), collection=GEDI_COLLECTION, license="CC0-1.0", providers=producer,
                  title="terra_lab demo: GEDI L2A-like footprints (2023)",
                  description=("Synthetic GEDI L2A elevation and height metrics (GeoParquet, EPSG:4326, one item per "
                               "month) with the product's field names and its bad shots (clouds, degraded "
                               "geolocation, low sensitivity): filter them with "
                               "terra_lab.products.structure.gedi_quality"))
    cat.add_items([_soil_item(root, scene, tile)], collection=SOIL_COLLECTION, license="CC0-1.0", providers=producer,
                  title="terra_lab demo: topsoil samples (2023)",
                  description="Synthetic soil survey: laboratory texture, organic carbon, pH and AWC at 0-30 cm")
    cat.add_items([_glacier_item(root, scene, tile)], collection=GLACIER_COLLECTION, license="CC0-1.0",
                  providers=producer, title="terra_lab demo: glacier outlines (RGI 7.0-like)",
                  description="Glacier outline of the demo scene with RGI 7.0 attributes (GeoJSON in a zip)")
