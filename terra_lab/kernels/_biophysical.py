"""numba kernel of the Sentinel-2 biophysical processor: the published neural networks and their flags.

Arrays in, arrays out; no xarray.  One call runs every requested network (LAI, FAPAR, FCOVER,
CCC, CWC) over a block of pixels: normalisation of the 11 inputs to [-1, 1], one hidden layer
of 5 tansig neurons, a linear output neuron, denormalisation, then the validity flags of the
ATBD [1]_ (input outside the definition domain, output beyond its range with or without the
tolerance).  The weights are data (:mod:`terra_lab.products._snap_weights`), passed in as arrays.

References
----------
.. [1] Weiss, M., Baret, F. (2016). S2ToolBox Level 2 products: LAI, FAPAR, FCOVER, version 1.1.
   INRA EMMAH, ESA contract (ATBD of the SNAP biophysical processor), sections 2.1 (network),
   3.3 (definition domain: min/max and the grid of the training set's convex hull) and 3.4
   (output range and tolerance).
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = [
    "INPUT_OUT_OF_DOMAIN",
    "NO_DATA",
    "N_HIDDEN",
    "N_INPUTS",
    "N_REFLECTANCES",
    "OUTPUT_CLIPPED_TO_MAX",
    "OUTPUT_CLIPPED_TO_MIN",
    "OUTPUT_TOO_HIGH",
    "OUTPUT_TOO_LOW",
    "biophysical_block",
    "grid_code",
]

#: Flag bits, as the SNAP biophysical processor writes them (``<var>_flags``: bit 0 input out of
#: the definition domain, 1 output set to its minimum, 2 set to its maximum, 3 too low, 4 too high).
INPUT_OUT_OF_DOMAIN, OUTPUT_CLIPPED_TO_MIN, OUTPUT_CLIPPED_TO_MAX, OUTPUT_TOO_LOW, OUTPUT_TOO_HIGH = 1, 2, 4, 8, 16
#: Flag value of a pixel with a missing input (no value computed).
NO_DATA = 255
#: 8 reflectances (B3, B4, B5, B6, B7, B8A, B11, B12) then cos(view zenith), cos(sun zenith), cos(relative azimuth).
N_REFLECTANCES, N_INPUTS, N_HIDDEN = 8, 11, 5


@jit(inline="always")
def _cell_code(x, dmin, dmax):  # pragma: no cover - numba
    """The definition-domain grid cell of reflectances ``x``: cell ``floor(10 (x - min) / (max - min) + 1)``
    per band (1 to 11), packed 4 bits per band into one integer."""
    code = 0
    for i in range(x.shape[0]):
        cell = int(np.floor(10.0 * (x[i] - dmin[i]) / (dmax[i] - dmin[i]) + 1.0))
        code |= cell << (4 * i)
    return code


@jit()
def grid_code(cells):  # pragma: no cover - numba
    """The packed codes of the published grid's rows ``cells`` (n, 8), cell numbers 1-11, as :func:`_cell_code`."""
    out = np.empty(cells.shape[0], dtype=np.int64)
    for r in range(cells.shape[0]):
        code = 0
        for i in range(cells.shape[1]):
            code |= int(cells[r, i]) << (4 * i)
        out[r] = code
    return out


@jit("void(float32[:, ::1], float32[:, ::1], float64[:, ::1], float64[:, :, ::1], float64[:, ::1], float64[:, ::1],"
     " float64[::1], float64[:, ::1], float64[:, ::1], float64[::1], float64[::1], int64[::1],"
     " float32[:, ::1], uint8[:, ::1])")
def biophysical_block(refl, cosines, norm, w1, b1, w2, b2, denorm, extremes, dmin, dmax, grid,
                      values, flags):  # pragma: no cover - numba
    """The networks on ``n`` pixels: ``values`` and ``flags`` (n, V), one column per network.

    Parameters
    ----------
    refl
        (n, 8) surface reflectances B3, B4, B5, B6, B7, B8A, B11, B12 (0-1); NaN for no data.
    cosines
        (n, 3) cos(view zenith), cos(sun zenith), cos(sun azimuth - view azimuth).
    norm
        (11, 2) input minimum and maximum of the normalisation ``2 (x - min) / (max - min) - 1``.
    w1, b1, w2, b2
        (V, 5, 11), (V, 5), (V, 5), (V,): hidden-layer weights and biases, output weights and bias.
    denorm
        (V, 2) output minimum and maximum: ``y = (y' + 1) (max - min) / 2 + min``.
    extremes
        (V, 3) tolerance, minimum and maximum of the valid output.
    dmin, dmax, grid
        The definition domain: per-band reflectance bounds (8,) and the sorted packed codes of
        the grid cells the training set occupies (:func:`grid_code`).

    Outputs
    -------
    values
        The variable, set to the minimum (maximum) when it lies below (above) it by less than
        the tolerance; left as computed beyond the tolerance (flagged too low / too high);
        NaN where an input is NaN.
    flags
        Sum of the flag bits of the module constants; :data:`NO_DATA` where an input is NaN.
    """
    n, nv = values.shape
    xn = np.empty(N_INPUTS)
    hidden = np.empty(N_HIDDEN)
    for p in range(n):
        missing = False
        for i in range(N_REFLECTANCES):
            if np.isnan(refl[p, i]):
                missing = True
        for i in range(3):
            if np.isnan(cosines[p, i]):
                missing = True
        if missing:
            for v in range(nv):
                values[p, v] = np.nan
                flags[p, v] = NO_DATA
            continue
        outside = False
        for i in range(N_REFLECTANCES):
            if refl[p, i] < dmin[i] or refl[p, i] > dmax[i]:
                outside = True
        if not outside:
            code = _cell_code(refl[p], dmin, dmax)
            k = np.searchsorted(grid, code)
            outside = k >= grid.shape[0] or grid[k] != code
        for i in range(N_INPUTS):
            x = refl[p, i] if i < N_REFLECTANCES else cosines[p, i - N_REFLECTANCES]
            xn[i] = 2.0 * (x - norm[i, 0]) / (norm[i, 1] - norm[i, 0]) - 1.0
        for v in range(nv):
            y = b2[v]
            for h in range(N_HIDDEN):
                s = b1[v, h]
                for i in range(N_INPUTS):
                    s += w1[v, h, i] * xn[i]
                hidden[h] = np.tanh(s)
                y += w2[v, h] * hidden[h]
            out = 0.5 * (y + 1.0) * (denorm[v, 1] - denorm[v, 0]) + denorm[v, 0]
            tol, lo, hi = extremes[v, 0], extremes[v, 1], extremes[v, 2]
            f = INPUT_OUT_OF_DOMAIN if outside else 0
            if out < lo - tol:
                f |= OUTPUT_TOO_LOW
            elif out < lo:
                out = lo
                f |= OUTPUT_CLIPPED_TO_MIN
            elif out > hi + tol:
                f |= OUTPUT_TOO_HIGH
            elif out > hi:
                out = hi
                f |= OUTPUT_CLIPPED_TO_MAX
            values[p, v] = out
            flags[p, v] = f
