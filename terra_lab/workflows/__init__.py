"""Theme workflows without a user interface: catalogue -> cube -> products -> a typed result.

Each theme has one function taking a catalogue (or its name), an area, a period and its
settings, and returning a frozen dataclass (maps as DataArrays, tables as DataFrames, a
provenance dict).  The dashboards (:mod:`terra_lab.dashboards`) only display these results;
notebooks call the same functions.  Auxiliary layers (DEM, OSO land cover and its forest mask)
come from the same catalogue (:func:`find_collection`, :func:`load_dem`, :func:`load_landcover`).

>>> from terra_lab.workflows import snow_workflow
>>> r = snow_workflow("demo", (6.28, 45.17, 6.34, 45.21), 2023)          # doctest: +SKIP
>>> r.elevation_bands                                                     # doctest: +SKIP

Importing this package loads no user-interface library (no Panel, param or widgets).
"""

from __future__ import annotations

from ._aux import FOREST_CLASSES, KNOWN_COLLECTIONS, find_collection, forest_mask, load_dem, load_landcover
from ._progress import STEPS, Cancelled
from .biodiversity import BiodiversityResult, BiodiversitySettings, biodiversity_workflow
from .evapotranspiration import ETResult, ETSettings, et_workflow
from .fire import FireResult, FireSettings, fire_workflow
from .forest import ForestResult, ForestSettings, forest_workflow
from .glacier import GlacierResult, GlacierSettings, glacier_workflow
from .snow import SnowResult, SnowSettings, snow_workflow
from .soil_moisture import SoilMoistureResult, SoilMoistureSettings, soil_moisture_workflow
from .structure import StructureResult, StructureSettings, structure_workflow
from .water import WaterResult, WaterSettings, water_workflow

__all__ = [
    "FOREST_CLASSES",
    "KNOWN_COLLECTIONS",
    "STEPS",
    "BiodiversityResult",
    "BiodiversitySettings",
    "Cancelled",
    "ETResult",
    "ETSettings",
    "FireResult",
    "FireSettings",
    "ForestResult",
    "ForestSettings",
    "GlacierResult",
    "GlacierSettings",
    "SnowResult",
    "SnowSettings",
    "SoilMoistureResult",
    "SoilMoistureSettings",
    "StructureResult",
    "StructureSettings",
    "WaterResult",
    "WaterSettings",
    "biodiversity_workflow",
    "et_workflow",
    "find_collection",
    "fire_workflow",
    "forest_mask",
    "forest_workflow",
    "glacier_workflow",
    "load_dem",
    "load_landcover",
    "snow_workflow",
    "soil_moisture_workflow",
    "structure_workflow",
    "water_workflow",
]
