"""CNES GEODES (``https://geodes-portal.cnes.fr/api/stac``): API key and zipped products read in place.

A GEODES item describes one product delivered as one ``.zip`` (asset keyed by the file name,
role ``data``, ``title`` the file name, size and MD5 in its ``description``); its properties
name the product (``identifier``), the tile (``grid:code``, e.g. ``T31TGK``), the dataset and
the dates (``start_datetime``/``end_datetime``), and carry no ``proj:`` fields.  Downloads need
the account's API key in an ``X-API-Key`` header.

:func:`expand_item` adds to such an item one asset per raster of the MUSCATE layout inside the
zip (``FRE_B2``... ``CLM_R1``...), each a GDAL ``/vsizip//vsicurl/`` path into the remote zip,
and the projection from the tile code, so that :func:`terra_lab.load` reads the bands in place
(HTTP range requests into the zip, no download of the whole product).
"""

from __future__ import annotations

import os
import re
from typing import Mapping

from ..errors import MissingCredentialsError
from ._zip import vsizip_href

__all__ = ["API_KEY_ENV", "GEODES_URL", "MUSCATE_MEMBERS", "api_key", "expand_item", "mgrs_epsg"]

GEODES_URL = "https://geodes-portal.cnes.fr/api/stac"
#: Environment variable read when ``catalog.open("geodes")`` is given no ``api_key``.
API_KEY_ENV = "GEODES_API_KEY"

_S2_BANDS = ("B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B11", "B12")
_R1 = {"B2", "B3", "B4", "B8"}
#: Rasters of a MUSCATE Sentinel-2 L2A product: asset key -> member path (``{id}`` the product id).
MUSCATE_MEMBERS: Mapping[str, str] = {
    **{f"{lvl}_{b}": f"{{id}}/{{id}}_{lvl}_{b}.tif" for lvl in ("FRE", "SRE") for b in _S2_BANDS},
    **{f"{m}_{r}": f"{{id}}/MASKS/{{id}}_{m}_{r}.tif" for m in ("CLM", "MG2", "EDG", "SAT") for r in ("R1", "R2")},
}
#: GEODES datasets whose zips hold the MUSCATE Sentinel-2 L2A layout above.
_MUSCATE_S2_DATASETS = ("THEIA_REFLECTANCE_SENTINEL2_L2A",)


def api_key(key: str | None = None) -> str:
    """``key``, else ``$GEODES_API_KEY``; a clear error saying how to get one when neither is set."""
    key = key or os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise MissingCredentialsError(
            "CNES GEODES needs an API key to download products: pass "
            f"terra_lab.catalog.open('geodes', api_key=...) or set {API_KEY_ENV}; create one on "
            "https://geodes-portal.cnes.fr (log in, your profile, 'Generate API key')"
        )
    return key


def mgrs_epsg(tile: str) -> int | None:
    """UTM EPSG code of a Sentinel-2 (MGRS) tile such as ``T31TGK`` (``None`` if not one)."""
    m = re.fullmatch(r"T?(\d{1,2})([C-HJ-NP-X])[A-Z]{2}", tile or "")
    if not m:
        return None
    return (32600 if m[2] >= "N" else 32700) + int(m[1])


def _zip_asset(item: Mapping) -> tuple[str, dict] | None:
    for key, a in item.get("assets", {}).items():
        name = str(a.get("title") or key)
        if "data" in (a.get("roles") or []) and (name.lower().endswith(".zip") or str(a.get("href", "")).split("?")[0].lower().endswith(".zip")):
            return key, a
    return None


def expand_item(item: dict) -> dict:
    """``item`` with its zip's rasters as assets (MUSCATE Sentinel-2 L2A datasets), else unchanged."""
    found = _zip_asset(item)
    props = item.get("properties", {})
    if found is None or not (props.get("dataset") in _MUSCATE_S2_DATASETS or item.get("collection") in _MUSCATE_S2_DATASETS):
        return item
    key, zasset = found
    product = props.get("identifier") or str(zasset.get("title") or key)[: -len(".zip")]
    zip_path = "/vsicurl/" + zasset["href"]
    assets = dict(item["assets"])
    for k, member in MUSCATE_MEMBERS.items():
        res = 10.0 if (k.split("_")[1] in _R1 or k.endswith("_R1")) else 20.0
        assets.setdefault(k, {
            "href": vsizip_href(zip_path, member.format(id=product)),
            "type": "image/tiff; application=geotiff", "roles": ["data"], "gsd": res,
        })
    out = {**item, "assets": assets, "properties": dict(props)}
    epsg = mgrs_epsg(str(props.get("grid:code", "")))
    if epsg is not None and not any(k in props for k in ("proj:epsg", "proj:code")):
        out["properties"]["proj:code"] = f"EPSG:{epsg}"
    return out
