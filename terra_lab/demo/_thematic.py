"""THEIA's thematic products and non-Sentinel-2 series of the demo scene, written from its truth.

Each product is written as THEIA delivers it (folder and file names, data types, codes; see
:mod:`terra_lab.catalog._thematic_items` and :mod:`terra_lab.profiles` for the sources) and goes
into its GEODES collection of the demo catalogue:

* snow L2B (``*_SNW_R2.tif``) on a few dates of the main tile, from the truth snow, cloud and
  swath-edge layers: 0 no snow, 100 snow, 205 cloud or shadow, no data 254 (products before
  2024) or 255 (from March 2024, as LIS 1.7 and later write it);
* snow L3B of the hydrological year 2023-2024 from the daily truth (SCD, SOD, SMOD) and the
  clear observations of the archive (NOBS);
* OSO land cover of 2023 (23 classes, zipped as THEIA delivers it) and of 2016 (17 classes),
  10 m, in Lambert-93 (EPSG:2154) as OSO is, with a confidence and a validity layer;
* Sentinel-2 L3A monthly syntheses: cloud-free truth reflectance (``FRC_*``), WASP flags from the
  truth (cloud where every acquisition within WASP's 23-day half period is cloudy);
* water quality L2B on a few summer dates over the lake (``TUR_R2``, ``SPM_R2``, ``CHL_R2`` uint16
  x 100, ``QUALITY_R2`` flags): turbidity is the truth turbidity (FNU); SPM and chlorophyll-a are
  what :mod:`terra_lab.products.water` (Nechad, NDCI) gives on the scene's noise-free water
  reflectance for that turbidity; 65535 (no data) off the lake and under clouds, whose pixels the
  flags mark 2 (land 1, usable water 0, outside the swath 255);
* biophysical L2B on a few dates of the growing season (``LAI_R2``, ``FAPAR_R2``, ``FCOVER_R2``
  int16 x 1000, ``FLAGS_R2``), a *simulated truth* from the scene's cloud-free NDVI with the
  relation of :func:`simulated_biophysical`, -10000 under clouds and outside the swath;
* a short Landsat 8 (30 m) and Venus VM5 (4 m, a 2 km site) L2A series in the MUSCATE layout,
  rendered by the scene like the Sentinel-2 products, with masks at one resolution (``XS``).

Deterministic: every random draw comes from generators seeded by the scene's seed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
from pyproj import Transformer

from ..catalog._local import LocalCatalog
from ..catalog._thematic_items import thematic_items_from_folder, thematic_items_from_zip
from ..profiles import OSO_2016_TO_2018
from ..profiles import _collections as C
from ._muscate import Tile, _Grid, _masks, _mtd_xml, write_cog, zip_product
from ._scene import (
    BANDS,
    DOGLIOTTI_A,
    DOGLIOTTI_C,
    DOGLIOTTI_NIR_A,
    DOGLIOTTI_NIR_C,
    LANDCOVER_CLASSES,
    SPECTRA,
    Acquisition,
    Scene,
)

__all__ = ["add_thematic", "simulated_biophysical", "write_thematic"]

#: Snow L2B dates: every sixth acquisition of October - June, and those cut by the swath edge.
_SNOW_MONTHS = (10, 11, 12, 1, 2, 3, 4, 5, 6)
#: LIS 1.7 products (FSC, 255 for no data) from this date on.
_LIS17 = dt.date(2024, 3, 1)
_L3A_MONTHS = ((2024, 4), (2024, 7))
#: Water-quality and biophysical L2B: the clearest acquisition of the main tile within a week of these days.
_WATERQUAL_DAYS = (dt.date(2024, 5, 20), dt.date(2024, 6, 15), dt.date(2024, 7, 20))
_BIOPHY_DAYS = (dt.date(2024, 4, 20), dt.date(2024, 6, 10), dt.date(2024, 8, 1))
_LANDSAT_DAYS = (dt.date(2023, 12, 3), dt.date(2024, 3, 8), dt.date(2024, 6, 12))
_VENUS_DAYS = (dt.date(2024, 4, 20), dt.date(2024, 6, 29))
#: Landsat 8 OLI bands as rendered from the scene's Sentinel-2 bands (nearest in wavelength).
_LANDSAT_FROM_S2 = {"B1": "B2", "B2": "B2", "B3": "B3", "B4": "B4", "B5": "B8A", "B6": "B11", "B7": "B12"}
_VENUS_FROM_S2 = {"B1": "B2", "B2": "B2", "B3": "B2", "B4": "B3", "B5": "B4", "B6": "B4", "B7": "B4",
                  "B8": "B5", "B9": "B6", "B10": "B7", "B11": "B8A", "B12": "B8A"}

_TITLES = {
    C.SNOW_L2B_COLLECTION: "terra_lab demo: THEIA snow L2B (let-it-snow), 20 m",
    C.SNOW_L3B_COLLECTION: "terra_lab demo: THEIA snow L3B annual synthesis (SCD, SOD, SMOD, NOBS)",
    C.OSO_COLLECTION: "terra_lab demo: OSO land cover (CES OSO), 10 m, Lambert-93",
    C.S2_L3A_COLLECTION: "terra_lab demo: Sentinel-2 L3A monthly syntheses (WASP)",
    C.WATERQUAL_L2B_COLLECTION: "terra_lab demo: THEIA water quality L2B (turbidity, SPM, chlorophyll-a), 20 m",
    C.BIOPHY_L2B_COLLECTION: "terra_lab demo: THEIA biophysical variables L2B (LAI, FAPAR, FCOVER), 20 m",
    C.LANDSAT8_L2A_COLLECTION: "terra_lab demo: Landsat 8 L2A (MUSCATE), 30 m",
    C.VENUS_VM5_L2A_COLLECTION: "terra_lab demo: Venus VM5 L2A (MUSCATE), 4 m",
}


def _name(platform: str, t: dt.datetime, level: str, tile: str, version: str) -> str:
    return f"{platform}_{t:%Y%m%d-%H%M%S}-{t.microsecond // 1000:03d}_{level}_{tile}_C_V{version}"


# ------------------------------------------------------------------------------- snow
def _snow_l2b(out: Path, scene: Scene, tile: Tile, truths: dict[int, dict]) -> None:
    for acq in scene.acquisitions:
        if (acq.index % 6 and acq.edge_cut is None) or acq.day.month not in _SNOW_MONTHS or acq.index not in truths:
            continue
        t = truths[acq.index]
        code = np.where(t["snow"], 100, 0).astype(np.uint8)  # FSC: snow seen from above covers the pixel
        code[t["cloud"] | t["shadow"]] = 205
        if acq.day < _LIS17:  # MUSCATE folder, SNW_R2 with 254 for no data
            code[t["edge"]] = 254
            name = _name(acq.platform, acq.time, "L2B-SNOW", tile.name, "2-0")
            (out / name).mkdir(parents=True)
            write_cog(out / name / f"{name}_SNW_R2.tif", code, tile, 20.0)
            continue
        # LIS 1.7 and later: FSC in percent, 255 for no data and permanent water, QCFLAGS bit 2 water
        water = _lake(scene, tile)
        code[t["edge"] | water] = 255
        qc = np.where(water, 4, 0).astype(np.uint8)  # (no no-data value is documented for QCFLAGS)
        pid = f"LIS_S2-SNOW-FSC_{tile.name}_{acq.time:%Y%m%dT%H%M%S}_1-10_01"
        (out / pid).mkdir(parents=True)
        write_cog(out / pid / f"{pid}.tif", code, tile, 20.0)
        write_cog(out / pid / f"LIS_S2-SNOW-FSC-QCFLAGS{pid[len('LIS_S2-SNOW-FSC'):]}.tif", qc, tile, 20.0)
        if not any(out.glob("LIS_*.zip")):  # the first LIS 1.7 product ships zipped
            zip_product(out / pid)


def _lake(scene: Scene, tile: Tile) -> np.ndarray:
    return _Grid(scene, tile, 20.0).static["landcover"] == 8


def _snow_l3b(out: Path, scene: Scene, tile: Tile, truths: dict[int, dict], annual: np.ndarray, year: int) -> None:
    start, end = dt.date(year, 9, 1), dt.date(year + 1, 9, 1)
    clear = [~(t["cloud"] | t["thin_cloud"] | t["shadow"] | t["edge"]) for i, t in sorted(truths.items())
             if start <= scene.acquisitions[i].day < end]
    nobs = np.sum(clear, axis=0).astype(np.uint16)
    name = _name("MULTISAT", dt.datetime(year, 9, 1), "L3B-SNOW", tile.name, "1-0")
    (out / name).mkdir(parents=True)
    for key, arr in (("SCD", annual[0]), ("SOD", annual[1]), ("SMD", annual[2]), ("NOBS", nobs)):
        write_cog(out / name / f"{name}_{key}_R2.tif", arr.astype(np.uint16), tile, 20.0)


# -------------------------------------------------------------------------------- OSO
def _lambert93_tile(tile: Tile, res: float) -> Tile:
    """The Lambert-93 (EPSG:2154) square on OSO's 10 m lattice covering the inner 90% of ``tile``."""
    tr = Transformer.from_crs(tile.epsg, 2154, always_xy=True)
    cx, cy = tr.transform(tile.x0 + tile.extent / 2, tile.y0 - tile.extent / 2)
    half = 0.45 * tile.extent
    return Tile("L93", 2154, round((cx - half) / res) * res, round((cy + half) / res) * res, round(2 * half / res) * res)


def _oso(out: Path, scene: Scene, tile: Tile) -> None:
    res = 10.0
    l93 = _lambert93_tile(tile, res)
    demo = _Grid(scene, l93, res).static["landcover"]
    old = np.zeros(256, np.uint8)
    for k, (_, code2016) in LANDCOVER_CLASSES.items():
        old[k] = code2016
    codes2016 = old[demo]
    codes = np.zeros(256, np.uint8)
    codes[list(OSO_2016_TO_2018)] = list(OSO_2016_TO_2018.values())
    rng = np.random.default_rng([scene.seed, 2154])
    for year, cls in ((2016, codes2016), (2023, codes[codes2016])):
        folder = out / f"OSO_{year}0101_RASTER_V1-0" / "DATA"
        folder.mkdir(parents=True)
        stem = f"OCS_{year}_CESBIO" if year < 2018 else f"OCS_{year}"
        write_cog(folder / f"{stem}.tif", cls, l93, res, nodata=0)
        conf = np.clip(rng.normal(80, 12, cls.shape), 1, 100).astype(np.uint8)
        valid = np.clip(rng.normal(30, 4, cls.shape), 1, 60).astype(np.uint8)
        write_cog(folder / f"{stem}_Confidence.tif", conf, l93, res, nodata=0)
        write_cog(folder / f"{stem}_Validity.tif", valid, l93, res)
    zip_product(out / "OSO_20230101_RASTER_V1-0")  # as THEIA delivers it: one zip, read in place


# -------------------------------------------------------------------------------- L3A
def _clear(scene: Scene, index: int, when: dt.datetime, platform: str) -> Acquisition:
    return Acquisition(index=index, time=when, platform=platform, cloud_fraction=0.0, cloud_seed=0, thin=False,
                       edge_cut=None)


def _l3a(out: Path, scene: Scene, tile: Tile, truths: dict[int, dict]) -> None:
    from ._muscate import R1_BANDS, R2_BANDS

    for k, (year, month) in enumerate(_L3A_MONTHS):
        when = dt.datetime(year, month, 15)
        name = _name("SENTINEL2X", when, "L3A", tile.name, "1-1")
        (out / name / "MASKS").mkdir(parents=True)
        near = [t for i, t in truths.items() if abs((scene.acquisitions[i].day - when.date()).days) <= 23]
        # every month has acquisitions within 23 days (the demo's revisit is 5 days)
        cloudy20 = np.logical_and.reduce([t["cloud"] | t["edge"] for t in near])
        for res, bands, suffix in ((10.0, R1_BANDS, "R1"), (20.0, R2_BANDS, "R2")):
            grid = _Grid(scene, tile, res)
            r = scene.reflectance(grid.x, grid.y, _clear(scene, 90_000 + k, when, "SENTINEL2X"),
                                  np.random.default_rng([scene.seed, 3, k, int(res)]), static=grid.static)
            cloudy = cloudy20 if res == 20.0 else np.repeat(np.repeat(cloudy20, 2, 0), 2, 1)
            flg = np.full(grid.x.shape, 4, np.uint8)
            flg[r["water"]] = 3
            flg[r["snow"]] = 2
            flg[cloudy] = 1
            refl = r["reflectance"][..., [BANDS.index(b) for b in bands]]
            dn = np.round(refl * 10000).astype(np.int16)
            dn[cloudy] = -10000
            for i, b in enumerate(bands):
                write_cog(out / name / f"{name}_FRC_{b}.tif", dn[..., i], tile, res, nodata=-10000)
            write_cog(out / name / "MASKS" / f"{name}_FLG_{suffix}.tif", flg, tile, res)


# ------------------------------------------------------- water quality and biophysical L2B
def _pick(scene: Scene, truths: dict[int, dict], days: tuple[dt.date, ...]) -> list[Acquisition]:
    """For each day, the least cloudy acquisition of the main tile within 7 days (deterministic)."""
    out = []
    for day in days:
        near = [a for a in scene.acquisitions if a.index in truths and abs((a.day - day).days) <= 7]
        out.append(min(near, key=lambda a: (a.cloud_fraction, abs((a.day - day).days), a.index)))
    return out


def _waterqual(out: Path, scene: Scene, tile: Tile, truths: dict[int, dict]) -> None:
    import xarray as xr

    from ..products.water import chlorophyll_a, suspended_matter

    lake = _lake(scene, tile)
    for acq in _pick(scene, truths, _WATERQUAL_DAYS):
        t = truths[acq.index]
        turb = np.where(lake, t["turbidity"], np.nan)
        # the scene's water-leaving reflectance for this turbidity (Dogliotti's relations, _scene.reflectance)
        rho_red = turb / (DOGLIOTTI_A + turb / DOGLIOTTI_C)
        rho_nir = turb / (DOGLIOTTI_NIR_A + turb / DOGLIOTTI_NIR_C)
        cube = xr.Dataset({"red": (("y", "x"), rho_red), "rededge1": (("y", "x"), SPECTRA["water"][3] + 0.5 * rho_red),
                           "nir08": (("y", "x"), rho_nir)})
        water = xr.DataArray(lake, dims=("y", "x"))
        spm = suspended_matter(cube, water).values
        chl = chlorophyll_a(cube, water).values
        cloudy = t["cloud"] | t["thin_cloud"] | t["shadow"]
        flags = np.where(lake, 0, 1).astype(np.uint8)
        flags[cloudy] = 2
        flags[t["edge"]] = 255
        name = _name(acq.platform, acq.time, "L2B-WATERQUAL", tile.name, "1-0")
        (out / name).mkdir(parents=True)
        for key, val in (("TUR", turb), ("SPM", spm), ("CHL", chl)):
            dn = np.round(np.nan_to_num(val, nan=0.0) * 100).clip(0, 65534).astype(np.uint16)
            dn[(flags != 0) | ~np.isfinite(val)] = 65535
            write_cog(out / name / f"{name}_{key}_R2.tif", dn, tile, 20.0)
        write_cog(out / name / f"{name}_QUALITY_R2.tif", flags, tile, 20.0)


#: Simulated-truth relation of the demo's biophysical products (not THEIA's neural network):
#: NDVI = NDVI_inf - (NDVI_inf - NDVI_soil) exp(-K LAI) (Baret & Guyot 1991 form), inverted for LAI
#: in [0, 8]; FCOVER = 1 - exp(-0.5 LAI); FAPAR = 0.95 (1 - exp(-0.6 LAI)).
_NDVI_INF, _NDVI_SOIL, _K, _LAI_MAX = 0.92, 0.12, 0.6, 8.0


def simulated_biophysical(ndvi: np.ndarray) -> dict[str, np.ndarray]:
    """LAI, FAPAR, FCOVER (float) and the flags (bit 1 LAI set to 0, bit 2 set to its maximum) of ``ndvi``."""
    gap = np.clip((_NDVI_INF - ndvi) / (_NDVI_INF - _NDVI_SOIL), 1e-6, None)
    raw = -np.log(gap) / _K
    lai = np.clip(raw, 0.0, _LAI_MAX)
    flags = np.where(raw < 0, 2, 0) | np.where(raw > _LAI_MAX, 4, 0)
    return {"LAI": lai, "FAPAR": 0.95 * (1 - np.exp(-0.6 * lai)), "FCOVER": 1 - np.exp(-0.5 * lai),
            "FLAGS": flags.astype(np.uint8)}


def _biophy(out: Path, scene: Scene, tile: Tile, truths: dict[int, dict]) -> None:
    grid = _Grid(scene, tile, 20.0)
    red, nir = BANDS.index("B4"), BANDS.index("B8")
    for k, acq in enumerate(_pick(scene, truths, _BIOPHY_DAYS)):
        r = scene.reflectance(grid.x, grid.y, _clear(scene, 95_000 + k, acq.time, acq.platform),
                              np.random.default_rng([scene.seed, 11, k]), static=grid.static)["reflectance"]
        ndvi = (r[..., nir] - r[..., red]) / (r[..., nir] + r[..., red])
        t = truths[acq.index]
        invalid = t["cloud"] | t["thin_cloud"] | t["shadow"] | t["edge"]
        name = _name(acq.platform, acq.time, "L2B-BIOPHY", tile.name, "1-0")
        (out / name).mkdir(parents=True)
        for key, val in simulated_biophysical(ndvi).items():
            if key == "FLAGS":
                write_cog(out / name / f"{name}_FLAGS_R2.tif", np.where(invalid, 255, val).astype(np.uint8), tile, 20.0)
                continue
            dn = np.round(val * 1000).astype(np.int16)
            dn[invalid] = -10000
            write_cog(out / name / f"{name}_{key}_R2.tif", dn, tile, 20.0)


# ------------------------------------------------------------------ Landsat and Venus L2A
def _muscate_xs(out: Path, scene: Scene, tile: Tile, acq: Acquisition, platform: str, version: str, res: float,
                from_s2: dict[str, str], seed: int) -> None:
    name = _name(platform, acq.time, "L2A", tile.name, version)
    (out / name / "MASKS").mkdir(parents=True)
    grid = _Grid(scene, tile, res)
    r = scene.reflectance(grid.x, grid.y, acq, np.random.default_rng([scene.seed, seed, acq.index]), static=grid.static)
    refl = r["reflectance"][..., [BANDS.index(from_s2[b]) for b in from_s2]]
    dn = np.round(refl * 10000).astype(np.int16)
    dn[r["edge"]] = -10000
    for i, b in enumerate(from_s2):
        write_cog(out / name / f"{name}_FRE_{b}.tif", dn[..., i], tile, res, nodata=-10000)
    bands = tuple(from_s2)[:8]  # SAT is uint8: one bit for each of the first eight bands
    for key, arr in _masks(r, grid, bands, refl[..., : len(bands)]).items():
        write_cog(out / name / "MASKS" / f"{name}_{key}_XS.tif", arr, tile, res)
    valid = ~r["edge"]
    pct = 100.0 * ((r["cloud"] | r["thin_cloud"] | r["shadow"]) & valid).sum() / max(valid.sum(), 1)
    (out / name / f"{name}_MTD_ALL.xml").write_text(_mtd_xml(name, acq, tile, pct))


def _series(out: Path, scene: Scene, tile: Tile) -> None:
    by_day = {a.day: a for a in scene.acquisitions}
    for k, day in enumerate(_LANDSAT_DAYS):
        src = min(scene.acquisitions, key=lambda a: abs((a.day - day).days))  # the clouds of the nearest S2 date
        acq = dataclasses.replace(src, index=80_000 + k, platform="LANDSAT8",
                                  time=dt.datetime.combine(day, dt.time(10, 31, 12, 345000)))
        _muscate_xs(out, scene, tile, acq, "LANDSAT8-OLITIRS-XS", "2-2", 30.0, _LANDSAT_FROM_S2, 8)
    site = Tile("ALPES-DEMO", tile.epsg, tile.x0 + 0.25 * tile.extent, tile.y0 - 0.25 * tile.extent, 0.5 * tile.extent)
    for k, day in enumerate(_VENUS_DAYS):
        src = by_day.get(day) or min(scene.acquisitions, key=lambda a: abs((a.day - day).days))
        acq = dataclasses.replace(src, index=85_000 + k, platform="VENUS", edge_cut=None,
                                  time=dt.datetime.combine(day, dt.time(10, 52, 3)))
        _muscate_xs(out, scene, site, acq, "VENUS-XS", "3-1", 4.0, _VENUS_FROM_S2, 5)


# ------------------------------------------------------------------------------ entry
def write_thematic(out: Path, scene: Scene, tile: Tile, truths: dict[int, dict], snow_annual: np.ndarray,
                   snow_year: int) -> Path:
    """Write every thematic product and series under ``out`` (created); return ``out``."""
    out.mkdir(parents=True)
    _snow_l2b(out, scene, tile, truths)
    _snow_l3b(out, scene, tile, truths, snow_annual, snow_year)
    _oso(out, scene, tile)
    _l3a(out, scene, tile, truths)
    _waterqual(out, scene, tile, truths)
    _biophy(out, scene, tile, truths)
    _series(out, scene, tile)
    return out


def add_thematic(cat: LocalCatalog, root: Path, scene: Scene, tile: Tile, truths: dict[int, dict],
                 snow_annual: np.ndarray, snow_year: int) -> None:
    """Write the products under ``root/thematic`` and add one collection per product type to ``cat``."""
    folder = write_thematic(root / "thematic", scene, tile, truths, snow_annual, snow_year)
    groups: dict[str, list[dict]] = {}
    zipped = [it for z in sorted(folder.glob("*.zip")) for it in thematic_items_from_zip(z, href_root=root / "catalog")]
    for item in [*thematic_items_from_folder(folder, href_root=root / "catalog"), *zipped]:
        groups.setdefault(item["collection"], []).append(item)
    for coll, items in sorted(groups.items()):
        cat.add_items(items, collection=coll, title=_TITLES.get(coll, coll), license="CC0-1.0",
                      description=f"{_TITLES.get(coll, coll)}. Generated by `terra-lab demo build` from the scene's truth.")
