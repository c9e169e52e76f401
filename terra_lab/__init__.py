"""terra_lab: THEIA / DATA TERRA land-surface data in Jupyter.

Layers, imported one way: :mod:`terra_lab.catalog` (search) -> :mod:`terra_lab.cube`
(lazy THEIA-aware cubes) -> algorithms -> display.  Importing terra_lab changes no
global state.
"""

from __future__ import annotations

from . import catalog, errors, profiles
from ._cluster import cluster
from ._version import __version__
from .cube import load, load_features
from .display._pyramid import Recipe, recipe

__all__ = ["Recipe", "__version__", "catalog", "cluster", "errors", "load", "load_features", "profiles", "recipe"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where JupyterLab finds terra_lab's prebuilt extension (launcher entries)."""
    return [{"src": "labextension", "dest": "terra-lab-widgets"}]
