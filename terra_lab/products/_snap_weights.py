"""The published coefficients of the Sentinel-2 biophysical processor's neural networks, as arrays.

The numbers are data, in ``data/snap_biophysical_2_1.json``: the coefficient files of the SNAP
``s2tbx-biophysical`` auxdata version 2_1 (``Algo_S2_V2.1_SL2T``; the networks of the ATBD of
Weiss & Baret 2016), copied from
https://github.com/senbox-org/s2tbx/tree/33f36f168cf640ca8bcef0a2f7c7aeee906af687/s2tbx-biophysical/src/main/resources/auxdata/2_1
(``<VAR>/<VAR>_Normalisation``, ``_Weights_Layer1_Neurons``, ``_Weights_Layer1_Bias``,
``_Weights_Layer2_Neurons``, ``_Weights_Layer2_Bias``, ``_Denormalisation``, ``_ExtremeCases``,
``LAI/LAI_DefinitionDomain_MinMax`` and ``LAI/LAI_DefinitionDomain_Grid``, which the other
variables share).  The JSON records the source; the tolerances are stored as absolute values
(the files give them negative; SNAP uses their absolute value).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import NamedTuple

import numpy as np

from ..kernels._biophysical import grid_code

__all__ = ["SNAP_VARIABLES", "Networks", "networks", "weights_document"]

#: terra_lab names of the networks and the SNAP names of their files.
SNAP_VARIABLES = {"lai": "LAI", "fapar": "FAPAR", "fcover": "FCOVER", "ccc": "LAI_Cab", "cwc": "LAI_Cw"}

_FILE = "snap_biophysical_2_1.json"


class Networks(NamedTuple):
    """The arrays :func:`terra_lab.kernels._biophysical.biophysical_block` takes, for some variables."""

    variables: tuple[str, ...]
    norm: np.ndarray  # (11, 2)
    w1: np.ndarray  # (V, 5, 11)
    b1: np.ndarray  # (V, 5)
    w2: np.ndarray  # (V, 5)
    b2: np.ndarray  # (V,)
    denorm: np.ndarray  # (V, 2)
    extremes: np.ndarray  # (V, 3) tolerance, min, max
    dmin: np.ndarray  # (8,)
    dmax: np.ndarray  # (8,)
    grid: np.ndarray  # sorted packed cell codes (int64)


@lru_cache(maxsize=1)
def weights_document() -> dict:
    """The JSON document of the coefficients (read once)."""
    return json.loads(files("terra_lab.products").joinpath("data").joinpath(_FILE).read_text(encoding="utf-8"))


@lru_cache(maxsize=16)
def networks(variables: tuple[str, ...]) -> Networks:
    """The stacked coefficients of ``variables`` (names of :data:`SNAP_VARIABLES`), C-contiguous float64."""
    unknown = [v for v in variables if v not in SNAP_VARIABLES]
    if unknown or not variables:
        raise ValueError(f"unknown biophysical variable(s) {unknown}; choose among {list(SNAP_VARIABLES)}")
    doc = weights_document()
    nets = [doc["networks"][v] for v in variables]

    def stack(key):
        return np.ascontiguousarray([n[key] for n in nets], dtype=np.float64)

    cells = np.asarray(doc["definition_domain_grid"], dtype=np.int64)
    return Networks(
        variables=tuple(variables),
        norm=np.ascontiguousarray(doc["normalisation"], dtype=np.float64),
        w1=stack("weights_layer1"), b1=stack("bias_layer1"), w2=stack("weights_layer2"),
        b2=stack("bias_layer2"), denorm=stack("denormalisation"),
        extremes=np.ascontiguousarray([[n["tolerance"], n["output_min"], n["output_max"]] for n in nets],
                                      dtype=np.float64),
        dmin=np.ascontiguousarray(doc["definition_domain_min"], dtype=np.float64),
        dmax=np.ascontiguousarray(doc["definition_domain_max"], dtype=np.float64),
        grid=np.unique(grid_code(cells)),
    )
