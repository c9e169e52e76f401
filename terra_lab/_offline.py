"""Whether this machine draws maps without a network (``TERRA_LAB_OFFLINE``), for every map and dashboard.

Offline, TerraMap and the dashboards draw a shaded relief of the catalogue's DEM rendered by
terra_lab itself instead of asking a tile server (OpenStreetMap, IGN) for a basemap: workshop
rooms without internet, CI, the tests.
"""

from __future__ import annotations

import os

__all__ = ["OFFLINE_ENV", "is_offline"]

#: environment variable: "1" (or "true", "yes") draws the offline basemap
OFFLINE_ENV = "TERRA_LAB_OFFLINE"


def is_offline() -> bool:
    """True when ``TERRA_LAB_OFFLINE`` is set to 1, true or yes (any case, spaces ignored)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes")
