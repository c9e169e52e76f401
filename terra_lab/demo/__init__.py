"""The embedded demo archive: a seeded synthetic scene in the THEIA/MUSCATE L2A layout, with truth."""

from __future__ import annotations

from ._build import DEM_COLLECTION, DEMO_COLLECTION, MAIN_TILE, build, is_built
from ._scene import DEMO_TO_OSO, LANDCOVER_CLASSES, Scene
from ._vectors import GEDI_COLLECTION, GLACIER_COLLECTION, SOIL_COLLECTION

__all__ = ["DEMO_COLLECTION", "DEMO_TO_OSO", "DEM_COLLECTION", "GEDI_COLLECTION", "GLACIER_COLLECTION", "LANDCOVER_CLASSES",
           "MAIN_TILE", "SOIL_COLLECTION", "Scene", "build", "is_built"]
