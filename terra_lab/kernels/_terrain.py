"""numba kernels of terrain analysis: slope, aspect and hillshade from a DEM, as GDAL's ``gdaldem``.

Arrays in, arrays out; no xarray.  Elevations are float32 with NaN for no data.  The kernel
works on a block padded by one pixel on each side (the neighbours of the block's edge pixels,
NaN outside the raster) and is told where the block lies in the whole raster, so that the
results do not depend on how the raster is cut into blocks.

The arithmetic follows ``gdaldem`` (GDAL 3.x ``apps/gdaldem_lib.cpp``) to the bit:

* the 3 x 3 sums of Horn's and Zevenbergen-Thorne's gradients are formed in float32, in
  GDAL's order, then scaled in float64;
* on x86-64, GDAL divides by the square root in hillshades with the SSE ``rsqrtss``
  approximation refined by one Newton-Raphson step; the same instruction is used here
  (elsewhere GDAL and this module divide exactly);
* integer DEMs (GDAL reads Byte, Int16 and UInt16 bands as integers) take GDAL's vectorised
  hillshade path on rows whose three lines hold no no-data pixel, which rounds its last
  addition in float32;
* results are rounded to float32 as GDAL returns them, hillshades to bytes as GDAL writes a
  float to a Byte band (``(GByte)(f + 0.5f)``).

References
----------
.. [1] Horn, B. K. P. (1981). Hill shading and the reflectance map. Proc. IEEE 69(1), 14-47.
.. [2] Zevenbergen, L. W., Thorne, C. R. (1987). Quantitative analysis of land surface
   topography. Earth Surf. Process. Landforms 12, 47-56.
.. [3] Mark, R. K. (1992). Multidirectional, oblique-weighted, shaded-relief image of the
   Island of Hawaii. USGS Open-File Report 92-422.
.. [4] GDAL ``gdaldem`` (apps/gdaldem_lib.cpp): edge handling, no data, the combined and
   Igor hillshades, the multidirectional weights.
"""

from __future__ import annotations

import math
import platform

import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._jit import jit

__all__ = [
    "ASPECT",
    "HILLSHADE",
    "HILLSHADE_COMBINED",
    "HILLSHADE_IGOR",
    "HILLSHADE_MULTI",
    "HORN",
    "SLOPE_DEGREES",
    "SLOPE_PERCENT",
    "ZEVENBERGEN_THORNE",
    "hillshade_params",
    "terrain_block",
]

# gradient methods
HORN, ZEVENBERGEN_THORNE = 0, 1
# products
SLOPE_DEGREES, SLOPE_PERCENT, ASPECT, HILLSHADE, HILLSHADE_COMBINED, HILLSHADE_IGOR, HILLSHADE_MULTI = range(7)

_D2R = math.pi / 180.0
_R2D = 180.0 / math.pi
_INV_SQUARE_OF_HALF_PI = 1.0 / ((math.pi * math.pi) / 4)
_X86 = platform.machine().lower() in ("x86_64", "amd64")

# indices into the parameter vector handed to the kernel
(P_INV_EW, P_INV_NS, P_EW, P_NS, P_SCALE, P_SIN_ALT, P_AZ, P_ZS, P_COS_AZ_Z, P_SIN_AZ_Z, P_SQ_Z, P_SIN_ALT_254,
 P_COS_AZ_Z_254, P_SIN_AZ_Z_254, P_SQ_Z_INV2, P_COS_AZ_Z_254_INV, P_SIN_AZ_Z_254_INV, P_SIN_ALT_127,
 P_COS_ALT_Z_127, P_COS225_Z_127, N_PARAMS) = range(21)


def hillshade_params(ewres: float, nsres: float, *, z: float = 1.0, scale: float = 1.0, altitude: float = 45.0,
                     azimuth: float = 315.0, method: int = HORN) -> np.ndarray:
    """The float64 constants of the kernels, computed in GDAL's order of operations.

    ``ewres`` and ``nsres`` are the geotransform's pixel sizes (``nsres`` < 0 for north-up).
    """
    p = np.zeros(N_PARAMS, np.float64)
    p[P_INV_EW], p[P_INV_NS], p[P_EW], p[P_NS], p[P_SCALE] = 1.0 / ewres, 1.0 / nsres, ewres, nsres, scale
    zs = z / ((2 if method == ZEVENBERGEN_THORNE else 8) * scale)
    sin_alt = math.sin(altitude * _D2R)
    az = azimuth * _D2R
    cos_alt_z = math.cos(altitude * _D2R) * zs
    p[P_SIN_ALT], p[P_AZ], p[P_ZS] = sin_alt, az, zs
    p[P_COS_AZ_Z], p[P_SIN_AZ_Z] = math.cos(az) * cos_alt_z, math.sin(az) * cos_alt_z
    p[P_SQ_Z] = zs * zs
    p[P_SIN_ALT_254] = 254.0 * sin_alt
    p[P_COS_AZ_Z_254], p[P_SIN_AZ_Z_254] = 254.0 * p[P_COS_AZ_Z], 254.0 * p[P_SIN_AZ_Z]
    inv = p[P_INV_EW]
    p[P_SQ_Z_INV2] = p[P_SQ_Z] * inv * inv
    p[P_COS_AZ_Z_254_INV] = p[P_COS_AZ_Z_254] * -inv
    p[P_SIN_AZ_Z_254_INV] = p[P_SIN_AZ_Z_254] * inv
    p[P_SIN_ALT_127] = 127.0 * sin_alt
    p[P_COS_ALT_Z_127] = 127.0 * cos_alt_z
    p[P_COS225_Z_127] = 127.0 * math.cos(225 * _D2R) * cos_alt_z
    return p


@intrinsic
def _rsqrtss(typingctx, x):  # pragma: no cover - compiled by numba
    """The x86 SSE ``rsqrtss`` instruction (12-bit approximation of 1/sqrt, hardware-defined)."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        from llvmlite import ir

        vec = ir.VectorType(ir.FloatType(), 4)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vec, [vec]), "llvm.x86.sse.rsqrt.ss")
        v = builder.insert_element(ir.Constant(vec, None), args[0], ir.Constant(ir.IntType(32), 0))
        return builder.extract_element(builder.call(fn, [v]), ir.Constant(ir.IntType(32), 0))

    return types.float32(types.float32), codegen


if _X86:
    @jit()
    def _inv_sqrt(b):  # pragma: no cover - numba
        """GDAL's ApproxADivByInvSqrtB multiplier: rsqrtss of float32(b), one Newton step in float64."""
        r = np.float64(_rsqrtss(np.float32(b)))  # type: ignore[call-arg] # an intrinsic: numba passes typingctx
        return r * (1.5 - (b * 0.5) * (r * r))
else:
    @jit()
    def _inv_sqrt(b):  # pragma: no cover - numba
        return 1.0 / math.sqrt(b)


@jit()
def _interpol(a, b):  # pragma: no cover - numba
    """GDAL's linear extrapolation beyond the raster edge: 2a - b (no data if either is)."""
    if np.isnan(a) or np.isnan(b):
        return np.float32(np.nan)
    return np.float32(2.0) * a - b


@jit()
def _gradient(w, method, inv_ew, inv_ns):  # pragma: no cover - numba
    """(x, y) as GDAL's Gradient<float, alg>: float32 sums, float64 scaling."""
    if method == HORN:
        sx = ((w[0] + w[3] + w[3] + w[6]) - (w[2] + w[5] + w[5] + w[8]))
        sy = ((w[6] + w[7] + w[7] + w[8]) - (w[0] + w[1] + w[1] + w[2]))
    else:
        sx = w[3] - w[5]
        sy = w[7] - w[1]
    return np.float64(sx) * inv_ew, np.float64(sy) * inv_ns


@jit()
def _angle_diff(a1, a2, norm):  # pragma: no cover - numba
    a1 = np.fmod(a1, norm)
    if a1 < 0:
        a1 = norm + a1
    a2 = np.fmod(a2, norm)
    if a2 < 0:
        a2 = norm + a2
    d = abs(a1 - a2)
    if d > norm / 2:
        d = norm - d
    return d



@jit()
def _aspect_deltas(w, method):  # pragma: no cover - numba
    """GDAL's unscaled west-east and north-south differences of the 3x3 window ``w`` for aspect."""
    if method == HORN:
        return (np.float64((w[2] + w[5] + w[5] + w[8]) - (w[0] + w[3] + w[3] + w[6])),
                np.float64((w[6] + w[7] + w[7] + w[8]) - (w[0] + w[1] + w[1] + w[2])))
    return np.float64(w[5] - w[3]), np.float64(w[7] - w[1])

@jit()
def _pixel(w, product, method, p, same_res, multisample, zero_for_flat):  # pragma: no cover - numba
    """The value of one pixel from its 3 x 3 window ``w`` (float32, no NaN); float32 result."""
    nan = np.float32(np.nan)
    if product in (SLOPE_DEGREES, SLOPE_PERCENT):
        if method == HORN:
            sx = ((w[0] + w[3] + w[3] + w[6]) - (w[2] + w[5] + w[5] + w[8]))
            sy = ((w[6] + w[7] + w[7] + w[8]) - (w[0] + w[1] + w[1] + w[2]))
            k = 8.0
        else:
            sx = w[3] - w[5]
            sy = w[7] - w[1]
            k = 2.0
        dx = np.float64(sx) / p[P_EW]
        dy = np.float64(sy) / p[P_NS]
        key = dx * dx + dy * dy
        if product == SLOPE_DEGREES:
            return np.float32(math.atan(math.sqrt(key) / (k * p[P_SCALE])) * _R2D)
        return np.float32(100 * (math.sqrt(key) / (k * p[P_SCALE])))
    if product == ASPECT:
        dx, dy = _aspect_deltas(w, method)
        if dx == 0 and dy == 0:
            return np.float32(0.0) if zero_for_flat else nan
        a = np.float32(math.atan2(dy, -dx) / _D2R)
        if a > np.float32(90.0):
            a = np.float32(450.0) - a
        else:
            a = np.float32(90.0) - a
        if a == np.float32(360.0):
            a = np.float32(0.0)
        return a
    if product == HILLSHADE:
        if method == HORN and same_res:
            acc_x = w[0] - w[8]
            six_two = w[6] - w[2]
            acc_y = acc_x
            three_five = w[3] - w[5]
            one_seven = w[1] - w[7]
            acc_x += three_five
            acc_y += one_seven
            acc_x += three_five
            acc_y += one_seven
            acc_x += six_two
            acc_y -= six_two
            x, y = np.float64(acc_x), np.float64(acc_y)
            num = p[P_SIN_ALT_254] + (x * p[P_SIN_AZ_Z_254_INV] + y * p[P_COS_AZ_Z_254_INV])
            c = num * _inv_sqrt(1 + p[P_SQ_Z_INV2] * (x * x + y * y))
            if multisample:  # GDAL's SSE path: float32 rounding, then + 1 in float32
                f = np.float32(c) + np.float32(1.0)
                return f if f > np.float32(1.0) else np.float32(1.0)
        else:
            x, y = _gradient(w, method, p[P_INV_EW], p[P_INV_NS])
            c = (p[P_SIN_ALT_254] - (y * p[P_COS_AZ_Z_254] - x * p[P_SIN_AZ_Z_254])) * _inv_sqrt(
                1 + p[P_SQ_Z] * (x * x + y * y))
        return np.float32(1.0 if c <= 0.0 else 1.0 + c)
    if product == HILLSHADE_COMBINED:
        x, y = _gradient(w, method, p[P_INV_EW], p[P_INV_NS])
        slope = (x * x + y * y) * p[P_SQ_Z]
        cang = math.acos((p[P_SIN_ALT] - (y * p[P_COS_AZ_Z] - x * p[P_SIN_AZ_Z])) * _inv_sqrt(1 + slope))
        cang = 1 - cang * math.atan(math.sqrt(slope)) * _INV_SQUARE_OF_HALF_PI
        return np.float32(1.0) if cang <= 0.0 else np.float32(1.0 + (254.0 * cang))
    if product == HILLSHADE_IGOR:
        x, y = _gradient(w, method, p[P_INV_EW], p[P_INV_NS])
        slope_deg = math.atan(math.sqrt(x * x + y * y) * p[P_ZS]) * _R2D
        dx, dy = _aspect_deltas(w, method)
        aspect = math.atan2(dy, -dx)
        diff = _angle_diff(aspect, math.pi * 3 / 2 - p[P_AZ], math.pi * 2)
        shadow = 1.0 - (slope_deg / 90) * (1 - diff / math.pi)
        return np.float32(255.0 * shadow)
    # HILLSHADE_MULTI (Mark 1992 weights, as gdaldem -multidirectional)
    x, y = _gradient(w, method, p[P_INV_EW], p[P_INV_NS])
    xx, yy = x * x, y * y
    s = xx + yy
    if s == 0.0:
        return np.float32(1.0 + p[P_SIN_ALT_254])
    v225 = p[P_SIN_ALT_127] + (x - y) * p[P_COS225_Z_127]
    v225 = 0.0 if v225 <= 0.0 else v225
    v270 = p[P_SIN_ALT_127] - x * p[P_COS_ALT_Z_127]
    v270 = 0.0 if v270 <= 0.0 else v270
    v315 = p[P_SIN_ALT_127] + (x + y) * p[P_COS225_Z_127]
    v315 = 0.0 if v315 <= 0.0 else v315
    v360 = p[P_SIN_ALT_127] - y * p[P_COS_ALT_Z_127]
    v360 = 0.0 if v360 <= 0.0 else v360
    w225 = 0.5 * s - x * y
    w315 = s - w225
    c = ((w225 * v225 + xx * v270 + w315 * v315 + yy * v360) / s) * _inv_sqrt(1 + p[P_SQ_Z] * s)
    return np.float32(1.0 + c)


@jit()
def terrain_block(z, rows, cols, line_nodata, ny, nx, product, method, p, same_res, integer_path,
                  compute_edges, zero_for_flat, out):  # pragma: no cover - numba
    """Fill ``out`` (h, w) from the padded block ``z`` (h + 2, w + 2, float32, NaN = no data).

    ``rows`` (h) and ``cols`` (w) are the block's row and column indices in the whole raster of
    ``ny`` x ``nx`` pixels; ``line_nodata`` (h + 2) tells which raster lines (the block's and
    the two around it) hold a no-data pixel.  ``out`` is float32 (NaN = no data) for slope and
    aspect, uint8 (0 = no data) for hillshades.  ``integer_path``: emulate GDAL's vectorised
    hillshade of integer rasters.
    """
    h, wd = out.shape
    is_byte = product >= HILLSHADE
    win = np.empty(9, np.float32)
    # columns GDAL's 4-wide SIMD loop covers: j0 = 1, 5, ... while j0 < nx - 4
    nblocks = (nx - 6) // 4 + 1 if nx >= 6 else 0
    simd_end = 1 + 4 * nblocks
    for li in range(h):
        i = rows[li]
        r = li + 1
        three_clean = not (line_nodata[r - 1] or line_nodata[r] or line_nodata[r + 1])
        for lj in range(wd):
            j = cols[lj]
            c = lj + 1
            val = np.float32(np.nan)
            centre = z[r, c]
            inside = 0 < i < ny - 1 and 0 < j < nx - 1
            if not np.isnan(centre) and (inside or (compute_edges and nx >= 2 and ny >= 2)):
                if inside:
                    for a in range(3):
                        for b in range(3):
                            win[3 * a + b] = z[r - 1 + a, c - 1 + b]
                elif i == 0 or i == ny - 1:
                    cl = c - 1 if j > 0 else c
                    cr = c + 1 if j < nx - 1 else c
                    if i == 0:  # top row extrapolated from the first two lines
                        near, far = r, r + 1
                    else:  # bottom row extrapolated from the last two lines
                        near, far = r, r - 1
                    for b, cc in enumerate((cl, c, cr)):
                        ext = _interpol(z[near, cc], z[far, cc])
                        if i == 0:
                            win[b], win[3 + b], win[6 + b] = ext, z[near, cc], z[far, cc]
                        else:
                            win[b], win[3 + b], win[6 + b] = z[far, cc], z[near, cc], ext
                else:
                    for a in range(3):
                        for b in range(3):
                            win[3 * a + b] = z[r - 1 + a, c - 1 + b]
                    for a in range(3):
                        if j == 0:
                            win[3 * a] = _interpol(z[r - 1 + a, c], z[r - 1 + a, c + 1])
                        else:
                            win[3 * a + 2] = _interpol(z[r - 1 + a, c], z[r - 1 + a, c - 1])
                ok = True
                for k in range(9):
                    if np.isnan(win[k]):
                        if compute_edges:
                            win[k] = centre
                        else:
                            ok = False
                            break
                if ok:
                    simd = (integer_path and product == HILLSHADE and method == HORN and same_res and inside
                            and three_clean and j < simd_end)
                    val = _pixel(win, product, method, p, same_res, simd, zero_for_flat)
            if is_byte:
                if np.isnan(val):
                    out[li, lj] = 0
                else:
                    f = val + np.float32(0.5)
                    out[li, lj] = 0 if f <= np.float32(0.0) else (255 if f >= np.float32(255.0) else np.uint8(f))
            else:
                out[li, lj] = val
