"""Ground truth of the demo's disturbances: the summer 2023 fire and the autumn 2023 clear-cut.

Written beside the other truth rasters (``truth/``) from the scene's static fields, so the fire
and change products can be scored against them: burn severity class and char fraction, fire date,
clear-cut mask and date, on the 10 m and 20 m grids of the main tile.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ._muscate import Tile, write_cog
from ._scene import Scene, day_number

__all__ = ["write_disturbance_truth"]


def write_disturbance_truth(truth_dir: Path, scene: Scene, tile: Tile, res: float, static: dict) -> None:
    """Write the disturbance truth of one resolution (``static`` is the grid's :meth:`Scene.static`)."""
    r = "R1" if res == 10 else "R2"
    burn = static["burn_fraction"]
    write_cog(truth_dir / f"burn_severity_{r}.tif", scene.burn_severity(burn), tile, res,
              descriptions=["0 unburnt, 1 low, 2 moderate, 3 high"])
    write_cog(truth_dir / f"burn_fraction_{r}.tif", burn.astype(np.float32), tile, res,
              descriptions=["char fraction just after the fire (0..1)"])
    write_cog(truth_dir / f"fire_date_{r}.tif", static["fire_date"], tile, res,
              descriptions=["days since 1970-01-01, 0 = unburnt"])
    cut = static["clearcut_date"]
    write_cog(truth_dir / f"clearcut_{r}.tif", (cut > 0).astype(np.uint8), tile, res,
              descriptions=["1 = forest clear-cut"])
    write_cog(truth_dir / f"clearcut_date_{r}.tif", cut, tile, res, descriptions=["days since 1970-01-01, 0 = none"])
    meta = {
        "fire_date": scene.fire_date.isoformat(), "fire_date_days": day_number(scene.fire_date),
        "burn_classes": {str(k): v for k, v in scene.BURN_CLASSES.items()},
        "burn_class_fractions": list(scene.BURN_CLASS_FRACTIONS),
        "fire_model": "reflectance mixed with the 'char' spectrum by the char fraction; the char signal is "
                      "kept 45 days, then half of it fades with a 250-day time constant (partial recovery)",
        "clearcut_date": scene.clearcut_date.isoformat(), "clearcut_date_days": day_number(scene.clearcut_date),
        "clearcut_model": "forest replaced by bare soil on the date, then green cover 0.5 (1 - exp(-days / 400))",
        "layers": {
            "burn_severity_R*.tif": "0 unburnt, 1 low, 2 moderate, 3 high (classes of the char fraction)",
            "burn_fraction_R*.tif": "char fraction just after the fire", "fire_date_R*.tif": "days since 1970-01-01",
            "clearcut_R*.tif": "1 = clear-cut forest", "clearcut_date_R*.tif": "days since 1970-01-01",
        },
    }
    (truth_dir / "disturbances.json").write_text(json.dumps(meta, indent=1))
