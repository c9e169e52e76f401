"""STAC items from S1Tiling output folders (Sentinel-1 on the Sentinel-2 grid), in THEIA's GEODES collection.

S1Tiling writes one float32 GeoTIFF per date, tile, orbit and polarisation, named
``{flying_unit_code}_{tile_name}_{polarisation}_{orbit_direction}_{orbit}_{acquisition_stamp}.tif``
(:data:`terra_lab.profiles._sentinel1.S1TILING_RE`), e.g. ``s1a_31TGK_vv_DES_008_20230901txxxxxx.tif``, and,
for the NORMLIM correction, one local incidence angle map per tile and orbit: ``LIA_{tile}_{orbit}.tif``
(S1Tiling 1.1+) or ``LIA_{unit}_{tile}_{direction}_{orbit}.tif`` (1.0), degrees x 100.

One item per acquisition (unit, tile, orbit, date): assets ``vv`` / ``vh`` (lower-case polarisations)
and ``lia`` when the orbit's LIA map is found under the same root; properties ``sat:orbit_state``
(``ascending`` / ``descending``), ``sat:relative_orbit``, ``sar:*`` and ``platform``.  A concatenated
product's time is unknown (``txxxxxx``): its ``datetime`` is the date at the orbit's nominal local time
over metropolitan France (06:00 UTC descending, 18:00 UTC ascending), which keeps the two orbits of one
day apart.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import AssetReadError
from ..profiles._collections import S1TILING_COLLECTION
from ..profiles._sentinel1 import S1TILING_RE
from ._thematic_items import _assemble

__all__ = ["find_s1tiling_files", "s1tiling_items"]

_FILE = re.compile(S1TILING_RE)
_LIA = re.compile(r"^LIA_(?:(?P<unit>s1[a-d])_)?(?P<tile>\d{2}[A-Z]{3})_(?:(?P<direction>ASC|DES)_)?(?P<orbit>\d{3})\.tif$")
_NOMINAL_HOUR = {"DES": 6, "ASC": 18}
_STATE = {"DES": "descending", "ASC": "ascending"}


def find_s1tiling_files(root: str | os.PathLike) -> dict[tuple[str, str, str, str, str], dict[str, Path]]:
    """S1Tiling files under ``root``: (unit, tile, direction, orbit, stamp) -> {polarisation: path}."""
    root = Path(root)
    if not root.exists():
        raise AssetReadError(f"the folder {str(root)!r} does not exist; give the folder S1Tiling wrote its tiles to")
    out: dict[tuple[str, str, str, str, str], dict[str, Path]] = {}
    for p in sorted(root.rglob("s1*.tif")):
        m = _FILE.match(p.name)
        if m:
            key = (m["flying_unit_code"], m["tile_name"], m["orbit_direction"], m["orbit"], m["acquisition_stamp"])
            out.setdefault(key, {})[m["polarisation"]] = p
    return out


def _lia_files(root: Path) -> dict[tuple[str, str], Path]:
    out = {}
    for p in sorted(root.rglob("LIA_*.tif")):
        m = _LIA.match(p.name)
        if m:
            out[(m["tile"], m["orbit"])] = p
    return out


def _when(stamp: str, direction: str) -> dt.datetime:
    day = dt.datetime.strptime(stamp[:8], "%Y%m%d").replace(tzinfo=dt.timezone.utc)
    clock = stamp[9:]
    if "x" in clock:
        return day + dt.timedelta(hours=_NOMINAL_HOUR[direction])
    return day + dt.timedelta(hours=int(clock[:2]), minutes=int(clock[2:4]), seconds=int(clock[4:6]))


def s1tiling_items(root: str | os.PathLike, *, href_root: str | os.PathLike | None = None,
                   collection: str = S1TILING_COLLECTION) -> Iterator[dict]:
    """One STAC item per S1Tiling acquisition under ``root`` (see the module docstring)."""
    root = Path(root)
    lias = _lia_files(root)
    for (unit, tile, direction, orbit, stamp), files in find_s1tiling_files(root).items():
        keys = {path: pol for pol, path in sorted(files.items())}
        lia = lias.get((tile, orbit))
        if lia is not None:
            keys[lia] = "lia"
        name = f"{unit}_{tile}_{direction}_{orbit}_{stamp}"
        props = {
            "platform": f"sentinel-1{unit[-1]}", "constellation": "sentinel-1", "instruments": ["c-sar"],
            "sat:orbit_state": _STATE[direction], "sat:relative_orbit": int(orbit),
            "sar:instrument_mode": "IW", "sar:frequency_band": "C", "sar:product_type": "GRD",
            "sar:polarizations": [p.upper() for p in sorted(files)], "theia:tile": f"T{tile}",
            "s1tiling:calibration": "sigma",
        }
        # sat:/sar: properties are written without declaring their extensions: their schemas are not vendored
        # for the offline validation (tests/data/stac-schemas), and an undeclared prefix is valid core STAC
        yield _assemble(name, keys, props, _when(stamp, direction), collection, href_root)
