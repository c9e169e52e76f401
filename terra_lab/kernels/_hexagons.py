"""numba kernel: the hexagon (axial coordinates) holding each pixel centre of a regular grid.

Hexagon arithmetic follows Red Blob Games' "Hexagonal Grids" (axial coordinates, cube
rounding).  Points are plane coordinates relative to the grid origin, in units of the
hexagon size (centre-to-vertex distance).

References
----------
.. [1] Patel, A. (2013, updated 2021). Hexagonal Grids. Red Blob Games.
   https://www.redblobgames.com/grids/hexagons/
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = ["hex_axial", "hex_grid_ids"]

_SQRT3 = np.sqrt(3.0)


@jit()
def _round_axial(qf: float, rf: float):  # pragma: no cover - numba
    """Cube rounding of fractional axial coordinates (q, r) to the nearest hexagon."""
    sf = -qf - rf
    q = np.round(qf)
    r = np.round(rf)
    s = np.round(sf)
    dq, dr, ds = abs(q - qf), abs(r - rf), abs(s - sf)
    if dq > dr and dq > ds:
        q = -r - s
    elif dr > ds:
        r = -q - s
    return np.int64(q), np.int64(r)


@jit()
def hex_axial(x: float, y: float, size: float, pointy: bool):  # pragma: no cover - numba
    """Axial (q, r) of the hexagon of ``size`` containing point (x, y) (origin at a hex centre)."""
    if pointy:
        qf = (_SQRT3 / 3.0 * x - y / 3.0) / size
        rf = (2.0 / 3.0 * y) / size
    else:
        qf = (2.0 / 3.0 * x) / size
        rf = (-x / 3.0 + _SQRT3 / 3.0 * y) / size
    return _round_axial(qf, rf)


@jit()
def hex_grid_ids(xs: np.ndarray, ys: np.ndarray, size: float, pointy: bool, q_out: np.ndarray,
                 r_out: np.ndarray) -> None:  # pragma: no cover - numba
    """Fill ``q_out``/``r_out`` (len(ys), len(xs)) with the hexagon of every (ys[i], xs[j])."""
    for i in range(ys.shape[0]):
        for j in range(xs.shape[0]):
            q, r = hex_axial(xs[j], ys[i], size, pointy)
            q_out[i, j] = q
            r_out[i, j] = r
