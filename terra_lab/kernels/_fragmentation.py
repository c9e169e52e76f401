"""numba kernels of the effective mesh size (Jaeger 2000; Moser et al. 2007), as FragScape reports it.

Arrays in, arrays out; no xarray.  A patch is a connected set of habitat pixels (4- or
8-connectivity).  With reporting units, the labelling can be *constrained* so that two
neighbouring pixels join only when they lie in the same unit: the patches are then clipped at
the unit boundaries (the cutting-out, CUT, procedure).  Without the constraint, each patch keeps
its complete area, which is what the cross-boundary connection (CBC) procedure needs.

The method and its references are documented in :mod:`terra_lab.products.fragmentation`.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = ["count_units", "label_patches", "piece_sums"]


@jit()
def _root(parent, i):  # pragma: no cover - numba
    """Root of ``i`` with path halving."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@jit()
def _join(parent, a, b):  # pragma: no cover - numba
    """Union of the sets of provisional labels ``a`` (non-zero) and ``b``; returns the new root.

    The smaller root becomes the parent, so every root is the smallest label of its set and
    the flattening pass can resolve labels in increasing order.
    """
    ra = _root(parent, a)
    rb = _root(parent, b)
    if ra < rb:
        parent[rb] = ra
        return ra
    parent[ra] = rb
    return rb


@jit()
def label_patches(habitat, unit, use_units, conn8, relabel=True):  # pragma: no cover - numba
    """Two-pass union-find labelling of the habitat pixels, optionally clipped at unit boundaries.

    Parameters
    ----------
    habitat : uint8 (y, x)
        Non-zero for habitat (patch) pixels.
    unit : int32 (y, x), or any int32 array when ``use_units`` is False
        Reporting unit of each pixel (>= 0); habitat pixels with a negative unit are ignored.
    use_units : bool
        Join neighbours only when they share a unit (CUT clipping); otherwise ``unit`` is
        not read.
    conn8 : bool
        8-connectivity (queen's case) instead of 4-connectivity (rook's case).
    relabel : bool
        Write the final patch ids into ``labels`` (a second pass over the pixels).  Without it
        the sizes and first pixels are still exact (accumulated per provisional label in the
        first pass) and ``labels`` holds provisional labels: patch id = ``final[labels]``.

    Returns
    -------
    labels : int32 (y, x)
        0 off habitat, 1..n for the patches, numbered in raster order of their first pixel
        (provisional labels when ``relabel`` is False).
    sizes : int64 (n + 1,)
        Pixels of each patch (``sizes[0]`` = 0).
    first : int64 (n + 1,)
        Flat index of each patch's first pixel in raster order (``first[0]`` = -1).
    final : int32 (n_provisional + 1,)
        Patch id of each provisional label (``final[0]`` = 0).
    """
    ny, nx = habitat.shape
    labels = np.zeros((ny, nx), np.int32)
    # bound on provisional labels: each new label (off column 0) has a non-joining left
    # neighbour; with unit clipping a neighbour may be habitat in another unit, so any pixel
    cap = ny * nx + 1 if use_units else (ny * nx) // 2 + ny + 2
    parent = np.empty(cap, np.int32)
    psize = np.empty(cap, np.int64)  # pixels per provisional label
    pfirst = np.empty(cap, np.int64)  # creation pixel of each provisional label
    parent[0] = 0
    nxt = 1
    for i in range(ny):
        for j in range(nx):
            if habitat[i, j] == 0:
                continue
            u = 0
            if use_units:
                u = unit[i, j]
                if u < 0:
                    continue
            # previously scanned neighbours: W, N and, with 8-connectivity, NW and NE
            w = labels[i, j - 1] if j > 0 else 0
            n_ = labels[i - 1, j] if i > 0 else 0
            nw = 0
            ne = 0
            if conn8 and i > 0:
                if j > 0:
                    nw = labels[i - 1, j - 1]
                if j + 1 < nx:
                    ne = labels[i - 1, j + 1]
            if use_units:
                if w != 0 and unit[i, j - 1] != u:
                    w = 0
                if n_ != 0 and unit[i - 1, j] != u:
                    n_ = 0
                if nw != 0 and unit[i - 1, j - 1] != u:
                    nw = 0
                if ne != 0 and unit[i - 1, j + 1] != u:
                    ne = 0
            cur = 0
            if n_ != 0:
                # with 8-connectivity N already shares a set with W, NW and NE (same unit)
                cur = n_
                if w != 0 and w != n_ and not conn8:
                    cur = _join(parent, n_, w)
            else:
                if w != 0:
                    cur = w
                if nw != 0:
                    cur = nw if cur == 0 else (cur if cur == nw else _join(parent, cur, nw))
                if ne != 0:
                    cur = ne if cur == 0 else (cur if cur == ne else _join(parent, cur, ne))
            if cur == 0:
                cur = nxt
                parent[nxt] = nxt
                psize[nxt] = 0
                pfirst[nxt] = i * nx + j
                nxt += 1
            psize[cur] += 1
            labels[i, j] = cur
    # flatten: roots (smallest label of their set, created at the set's first pixel in raster
    # order) get consecutive ids in increasing order
    final = np.zeros(nxt, np.int32)
    n = 0
    for k in range(1, nxt):
        r = parent[k]
        if r == k:
            n += 1
            final[k] = n
        else:
            final[k] = final[_root(parent, r)]
    sizes = np.zeros(n + 1, np.int64)
    first = np.full(n + 1, -1, np.int64)
    for k in range(1, nxt):
        f = final[k]
        sizes[f] += psize[k]
        if parent[k] == k:
            first[f] = pfirst[k]
    if relabel:
        for i in range(ny):
            for j in range(nx):
                lab = labels[i, j]
                if lab != 0:
                    labels[i, j] = final[lab]
    return labels, sizes, first, final


@jit()
def count_units(unit, valid, n_units):  # pragma: no cover - numba
    """Valid pixels per unit: ``unit`` int32 (y, x) (negative: outside), ``valid`` uint8 (y, x)."""
    out = np.zeros(n_units, np.int64)
    ny, nx = unit.shape
    for i in range(ny):
        for j in range(nx):
            u = unit[i, j]
            if u >= 0 and valid[i, j] != 0:
                out[u] += 1
    return out


@jit()
def piece_sums(piece_sizes, piece_unit, piece_full, n_units):  # pragma: no cover - numba
    """Per-unit sums over the clipped patches ("pieces") of each unit.

    ``piece_sizes[k]`` is the size (pixels) of piece k in its unit ``piece_unit[k]`` and
    ``piece_full[k]`` the complete size of the patch it belongs to (equal to the piece size
    for CUT).  Returns per unit: number of pieces, sum of sizes, sum of squared sizes (CUT
    net product) and sum of size x complete size (CBC net product), all in pixels.
    """
    n_pieces = np.zeros(n_units, np.int64)
    s1 = np.zeros(n_units, np.float64)
    s2 = np.zeros(n_units, np.float64)
    scbc = np.zeros(n_units, np.float64)
    for k in range(1, piece_sizes.shape[0]):
        u = piece_unit[k]
        a = float(piece_sizes[k])
        n_pieces[u] += 1
        s1[u] += a
        s2[u] += a * a
        scbc[u] += a * float(piece_full[k])
    return n_pieces, s1, s2, scbc
