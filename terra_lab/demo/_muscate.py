"""Write one acquisition of the demo scene as a THEIA/MUSCATE Sentinel-2 L2A product.

Layout and encodings follow the MUSCATE product format (MAJA):
``SENTINEL2A_YYYYMMDD-HHMMSS-mmm_L2A_TXXXXX_C_V2-2/`` holding
``*_FRE_B{2,3,4,8}.tif`` (10 m) and ``*_FRE_B{5,6,7,8A,11,12}.tif`` (20 m), int16
reflectance x 10000 with nodata -10000, ``MASKS/*_{CLM,MG2,EDG,SAT}_R{1,2}.tif``
uint8 bit masks, a quicklook ``*_QKL_ALL.jpg`` and a ``*_MTD_ALL.xml``.

As unkind as the real deliveries: the GeoTIFFs carry no nodata tag (MUSCATE documents
-10000 in ``MTD_ALL.xml`` only), the products of every acquisition ``i`` with
``i % ZIP_EVERY == ZIP_PHASE`` ship as one ``.zip`` each (as THEIA and GEODES deliver them),
and acquisition ``R1_ONLY_INDEX`` has R1 masks only and no ``MTD_ALL.xml`` (so no cloud cover).
"""

from __future__ import annotations

import os
import shutil
import warnings
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin

from ._scene import BANDS, Acquisition, Scene

__all__ = ["Tile", "product_name", "write_cog", "write_product", "zip_product"]

R1_BANDS = ("B2", "B3", "B4", "B8")
R2_BANDS = ("B5", "B6", "B7", "B8A", "B11", "B12")
#: Acquisitions whose products ship zipped: index % ZIP_EVERY == ZIP_PHASE (two swath-edge ones among them).
ZIP_EVERY, ZIP_PHASE = 10, 2
#: The acquisition whose product has R1 masks only and no MTD_ALL.xml (a clear day of the main tile).
R1_ONLY_INDEX = 8
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)  # fixed member times: rebuilds are byte-identical


@dataclass(frozen=True)
class Tile:
    """A square crop of an MGRS tile: name, EPSG code, north-west corner and size (m)."""

    name: str
    epsg: int
    x0: float
    y0: float
    extent: float

    def transform(self, res: float):
        return from_origin(self.x0, self.y0, res, res)

    def shape(self, res: float) -> tuple[int, int]:
        n = int(round(self.extent / res))
        return n, n


class _Grid:
    """Pixel centres of a tile at one resolution, in the scene's CRS, with cached static fields."""

    def __init__(self, scene: Scene, tile: Tile, res: float):
        self.scene, self.tile, self.res = scene, tile, res
        n = tile.shape(res)[0]
        cx = tile.x0 + res * (np.arange(n) + 0.5)
        cy = tile.y0 - res * (np.arange(n) + 0.5)
        gx, gy = np.meshgrid(cx, cy)
        if tile.epsg != 32631:
            tr = Transformer.from_crs(tile.epsg, 32631, always_xy=True)
            gx, gy = tr.transform(gx, gy)
        self.x, self.y = gx, gy

    @cached_property
    def static(self) -> dict[str, np.ndarray]:
        return self.scene.static(self.x, self.y)

    @cached_property
    def topo_cos(self) -> np.ndarray:
        """Cosine of the solar incidence angle on the slope (sun at 150 deg azimuth, 30 deg elevation)."""
        z = self.static["elevation"].astype(np.float64)
        dzdy, dzdx = np.gradient(z, self.res)
        slope = np.arctan(np.hypot(dzdx, dzdy))
        aspect = np.arctan2(-dzdx, dzdy)  # downslope direction, clockwise from north
        zen, az = np.radians(60.0), np.radians(150.0)
        return np.cos(zen) * np.cos(slope) + np.sin(zen) * np.sin(slope) * np.cos(az - aspect)


def product_name(acq: Acquisition, tile: Tile) -> str:
    t = acq.time
    return f"{acq.platform}_{t:%Y%m%d-%H%M%S}-{t.microsecond // 1000:03d}_L2A_{tile.name}_C_V2-2"


def write_cog(path: Path, data: np.ndarray, tile: Tile, res: float, *, nodata=None, descriptions=None) -> None:
    """Write a (bands, y, x) or (y, x) array as a deflate-compressed Cloud-Optimized GeoTIFF."""
    arr = data[None] if data.ndim == 2 else data
    profile = dict(
        driver="COG",
        dtype=arr.dtype.name,
        count=arr.shape[0],
        height=arr.shape[1],
        width=arr.shape[2],
        crs=f"EPSG:{tile.epsg}",
        transform=tile.transform(res),
        nodata=nodata,
        compress="DEFLATE",
        predictor=2 if arr.dtype.kind in "iu" else 3,
        blocksize=256,
        overviews="NONE" if max(arr.shape[1:]) <= 512 else "AUTO",
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr)
        for i, d in enumerate(descriptions or (), start=1):
            dst.set_band_description(i, d)


def _bits(**layers: np.ndarray) -> np.ndarray:
    """Pack boolean layers into a uint8: keyword ``b3=mask`` sets bit 3."""
    out = None
    for key, layer in layers.items():
        v = layer.astype(np.uint8) << np.uint8(int(key[1:]))
        out = v if out is None else out | v
    if out is None:
        raise ValueError("pack_bits needs at least one layer")
    return out


def _masks(r: dict, grid: _Grid, refl_bands: tuple[str, ...], refl: np.ndarray) -> dict[str, np.ndarray]:
    thick, thin, shadow, edge = r["cloud"], r["thin_cloud"], r["shadow"], r["edge"]
    valid = ~edge
    # mono-temporal and multi-temporal tests both flag most thick clouds; a
    # deterministic checkerboard of 8 x 8 pixels splits the rest between them
    yy, xx = np.indices(thick.shape)
    checker = ((yy // 8 + xx // 8) % 2).astype(bool)
    clm = _bits(
        b0=thick | shadow,  # MAJA: all clouds except the thinnest, and all shadows
        b1=thick,
        b2=thick & (checker | (refl[..., 0] > 0.45)),
        b3=thick & ~checker,
        b4=thin,
        b5=shadow,
        b7=thin,
    ) * valid
    cosi = grid.topo_cos
    mg2 = _bits(
        b0=r["water"] & ~thick,  # seen through thin clouds
        b1=thick,
        b2=r["snow"] & ~thick & ~shadow,
        b3=shadow,
        b4=cosi < 0.05,
        b5=cosi < -0.4,
        b7=(cosi >= 0.05) & (cosi < 0.12),
    ) * valid
    sat = np.zeros(thick.shape, np.uint8)
    for bit, _ in enumerate(refl_bands):
        sat |= ((refl[..., bit] >= 1.0) & valid).astype(np.uint8) << bit
    return {"CLM": clm, "MG2": mg2, "EDG": edge.astype(np.uint8), "SAT": sat}


def _quicklook(path: Path, refl: np.ndarray) -> None:
    """A small true-colour JPEG (B4, B3, B2), like MUSCATE's QKL_ALL (not georeferenced)."""
    rgb = np.clip(refl[..., [2, 1, 0]] / 0.3 * 255, 0, 255).astype(np.uint8)[::4, ::4]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path, "w", driver="JPEG", width=rgb.shape[1], height=rgb.shape[0], count=3, dtype="uint8") as q:
            q.write(np.moveaxis(rgb, -1, 0))


def _viewing_angles(acq: Acquisition) -> str:
    """Per-band mean viewing angles as MUSCATE lists them (no overall mean: the reader averages the
    bands); the view zenith follows the position in the swath, a few degrees off nadir."""
    zenith = 2.0 + 4.0 * ((acq.time.day * 7) % 10) / 10
    return "".join(f'<Mean_Viewing_Incidence_Angle band_id="{b}"><ZENITH_ANGLE unit="deg">{zenith + 0.05 * i:.4f}'
                   f'</ZENITH_ANGLE><AZIMUTH_ANGLE unit="deg">{104.0 + 0.3 * i:.4f}</AZIMUTH_ANGLE>'
                   f"</Mean_Viewing_Incidence_Angle>" for i, b in enumerate(("B2", "B3", "B4", "B8", "B11", "B12")))


def _mtd_xml(name: str, acq: Acquisition, tile: Tile, cloud_percent: float) -> str:
    doy = acq.time.timetuple().tm_yday
    decl = 23.44 * np.sin(np.radians(360 / 365 * (doy - 81)))
    sun_elev = 90 - 45.2 + decl - 8.0  # about 10:37 UTC, 45.2 N
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Muscate_Metadata_Document>
  <Metadata_Identification><METADATA_FORMAT version="1.16">METADATA_MUSCATE</METADATA_FORMAT></Metadata_Identification>
  <Dataset_Identification>
    <IDENTIFIER>{escape(name)}</IDENTIFIER>
    <PRODUCER_NAME>terra_lab demo (synthetic, THEIA MUSCATE layout)</PRODUCER_NAME>
  </Dataset_Identification>
  <Product_Characteristics>
    <ACQUISITION_DATE>{acq.time.isoformat(timespec="milliseconds")}Z</ACQUISITION_DATE>
    <PLATFORM>{acq.platform}</PLATFORM>
    <PRODUCT_LEVEL>L2A</PRODUCT_LEVEL>
    <PRODUCT_VERSION>2.2</PRODUCT_VERSION>
  </Product_Characteristics>
  <Geoposition_Informations><Coordinate_Reference_System><GEO_TABLES>EPSG</GEO_TABLES>
    <Horizontal_Coordinate_System><HORIZONTAL_CS_CODE>{tile.epsg}</HORIZONTAL_CS_CODE></Horizontal_Coordinate_System>
  </Coordinate_Reference_System></Geoposition_Informations>
  <Geometric_Informations><Mean_Value_List><Sun_Angles>
    <ZENITH_ANGLE unit="deg">{90 - sun_elev:.4f}</ZENITH_ANGLE><AZIMUTH_ANGLE unit="deg">152.0</AZIMUTH_ANGLE>
  </Sun_Angles>
    <Mean_Viewing_Incidence_Angle_List>{_viewing_angles(acq)}</Mean_Viewing_Incidence_Angle_List>
  </Mean_Value_List></Geometric_Informations>
  <Quality_Informations><Current_Product><Product_Quality_List level="N2"><Product_Quality>
    <Global_Index_List><QUALITY_INDEX name="CloudPercent">{cloud_percent:.0f}</QUALITY_INDEX></Global_Index_List>
  </Product_Quality></Product_Quality_List></Current_Product></Quality_Informations>
  <Radiometric_Informations><REFLECTANCE_QUANTIFICATION_VALUE>10000</REFLECTANCE_QUANTIFICATION_VALUE>
    <Special_Values_List><SPECIAL_VALUE name="nodata">-10000</SPECIAL_VALUE></Special_Values_List>
  </Radiometric_Informations>
</Muscate_Metadata_Document>
"""


def write_product(root: Path, scene: Scene, acq: Acquisition, tile: Tile, grids: dict) -> dict:
    """Write the product of ``acq`` over ``tile`` under ``root``; return the 20 m truth layers."""
    name = product_name(acq, tile)
    pdir = root / name
    (pdir / "MASKS").mkdir(parents=True, exist_ok=True)
    truth = {}
    for res, bands, suffix in ((10.0, R1_BANDS, "R1"), (20.0, R2_BANDS, "R2")):
        grid = grids.setdefault((tile.name, res), _Grid(scene, tile, res))
        rng = np.random.default_rng([scene.seed, acq.index, int(res), tile.epsg])
        r = scene.reflectance(grid.x, grid.y, acq, rng, static=grid.static)
        refl = r["reflectance"][..., [BANDS.index(b) for b in bands]]
        dn = np.round(refl * 10000).astype(np.int16)
        dn[r["edge"]] = -10000
        for i, b in enumerate(bands):  # no nodata tag, as in real MUSCATE files
            write_cog(pdir / f"{name}_FRE_{b}.tif", dn[..., i], tile, res, nodata=None)
        for key, arr in _masks(r, grid, bands, refl).items():
            if suffix == "R1" or acq.index != R1_ONLY_INDEX:
                write_cog(pdir / "MASKS" / f"{name}_{key}_{suffix}.tif", arr, tile, res)
        if res == 20.0:
            truth = r
        else:
            _quicklook(pdir / f"{name}_QKL_ALL.jpg", refl)
    valid = ~truth["edge"]
    cloudy = (truth["cloud"] | truth["thin_cloud"] | truth["shadow"]) & valid
    pct = 100.0 * cloudy.sum() / max(valid.sum(), 1)
    if acq.index != R1_ONLY_INDEX:
        (pdir / f"{name}_MTD_ALL.xml").write_text(_mtd_xml(name, acq, tile, pct))
    if acq.index % ZIP_EVERY == ZIP_PHASE:
        zip_product(pdir)
    return truth


def zip_product(pdir: Path) -> Path:
    """Replace the product folder ``pdir`` by ``pdir.zip`` holding it (deterministic bytes).

    Members are stored, not deflated: the GeoTIFFs inside are already deflate-compressed,
    and stored members are read in place through ``/vsizip/`` at the speed of plain files.
    """
    dest = pdir.with_name(pdir.name + ".zip")
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        for f in sorted(p for p in pdir.rglob("*")):
            arc = f.relative_to(pdir.parent).as_posix() + ("/" if f.is_dir() else "")
            info = zipfile.ZipInfo(arc, date_time=_ZIP_TIME)
            info.external_attr = (0o40755 << 16 | 0x10) if f.is_dir() else 0o644 << 16
            zf.writestr(info, b"" if f.is_dir() else f.read_bytes())
    os.replace(tmp, dest)
    shutil.rmtree(pdir)
    return dest
