"""numba kernel of the accumulated cost-distance from source cells over a friction raster.

Arrays in, arrays out; no xarray.  Dijkstra's algorithm on the 8-connected grid with a binary
heap (lazy deletion).  Moving between two neighbouring cells costs the mean of their two
frictions times the step length: ``(f_a + f_b) / 2 * L`` with ``L = dx`` (east-west),
``dy`` (north-south) or ``hypot(dx, dy)`` (diagonal).  This is the convention of GRASS
``r.cost`` without the knight's move (used by BioDispersal), of ArcGIS Cost Distance and of
scikit-image's ``MCP_Geometric``; the step lengths set the unit (cells or metres).  NaN friction
is impassable.

References
----------
.. [1] Dijkstra, E. W. (1959). A note on two problems in connexion with graphs. Numerische
   Mathematik 1, 269-271.
.. [2] GRASS GIS ``r.cost`` manual: cumulative cost of moving between cells, cost of a move is
   the average of the two cells' costs times the (relative) distance.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = ["cost_distance"]


@jit()
def _sift_up(hk, hv, pos):  # pragma: no cover - numba
    key = hk[pos]
    val = hv[pos]
    while pos > 0:
        parent = (pos - 1) >> 1
        if hk[parent] <= key:
            break
        hk[pos] = hk[parent]
        hv[pos] = hv[parent]
        pos = parent
    hk[pos] = key
    hv[pos] = val


@jit()
def _sift_down(hk, hv, n):  # pragma: no cover - numba
    key = hk[0]
    val = hv[0]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= n:
            break
        if child + 1 < n and hk[child + 1] < hk[child]:
            child += 1
        if hk[child] >= key:
            break
        hk[pos] = hk[child]
        hv[pos] = hv[child]
        pos = child
    hk[pos] = key
    hv[pos] = val


@jit()
def _grown(hk, hv, size):  # pragma: no cover - numba
    """The heap's key and value arrays, twice as large, holding their first ``size`` entries."""
    hk2 = np.empty(2 * hk.shape[0], np.float64)
    hv2 = np.empty(2 * hv.shape[0], np.int64)
    hk2[:size] = hk[:size]
    hv2[:size] = hv[:size]
    return hk2, hv2


@jit("float64[:, ::1](float64[:, ::1], uint8[:, ::1], float64, float64, float64)")  # as products.continuity calls it
def cost_distance(friction, sources, dx, dy, max_cost):  # pragma: no cover - numba
    """Least accumulated cost from any source cell, Dijkstra on 8 neighbours.

    Parameters
    ----------
    friction : float (y, x), C-contiguous
        Cost per unit length of crossing each cell (> 0 expected; NaN = impassable).
    sources : uint8 (y, x), C-contiguous
        Non-zero for source cells (accumulated cost 0); sources on NaN friction are ignored.
    dx, dy : float
        Step lengths along x (columns) and y (rows); diagonal steps are ``hypot(dx, dy)``.
    max_cost : float
        Stop expanding beyond this accumulated cost (``inf`` for none).

    Returns
    -------
    float64 (y, x)
        Accumulated cost; ``inf`` where unreachable or beyond ``max_cost`` (moves beyond it are
        pruned), NaN on NaN friction.
    """
    ny, nx = friction.shape
    n = ny * nx
    out = np.full((ny, nx), np.inf)
    f = friction.reshape(n)  # views: the inputs are C-contiguous
    src = sources.reshape(n)
    cap = 1024
    hk = np.empty(cap, np.float64)
    hv = np.empty(cap, np.int64)
    size = 0
    dist = out.reshape(n)
    for p in range(n):
        if np.isnan(f[p]):
            dist[p] = np.nan
        elif src[p] != 0:
            dist[p] = 0.0
            if size == cap:
                hk, hv = _grown(hk, hv, size)
                cap = hk.shape[0]
            hk[size] = 0.0
            hv[size] = p
            size += 1
    # a heap of equal keys needs no sifting
    diag = np.hypot(dx, dy)
    di = np.array([-1, -1, -1, 0, 0, 1, 1, 1])
    dj = np.array([-1, 0, 1, -1, 1, -1, 0, 1])
    dl = np.array([diag, dy, diag, dx, dx, diag, dy, diag])
    while size > 0:
        c = hk[0]
        p = hv[0]
        size -= 1
        if size > 0:
            hk[0] = hk[size]
            hv[0] = hv[size]
            _sift_down(hk, hv, size)
        if c > dist[p]:  # stale entry; settled cells can not improve (frictions > 0)
            continue
        i = p // nx
        j = p - i * nx
        fp = f[p]
        for m in range(8):
            a = i + di[m]
            b = j + dj[m]
            if a < 0 or a >= ny or b < 0 or b >= nx:
                continue
            q = a * nx + b
            nc = c + 0.5 * (fp + f[q]) * dl[m]
            if nc < dist[q] and nc <= max_cost:  # NaN friction: nc is NaN, never below
                dist[q] = nc
                if size == cap:
                    hk, hv = _grown(hk, hv, size)
                    cap = hk.shape[0]
                hk[size] = nc
                hv[size] = q
                _sift_up(hk, hv, size)
                size += 1
    return out
