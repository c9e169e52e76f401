"""numba kernel of the two-source energy balance, Priestley-Taylor version (TSEB-PT).

One pixel at a time (a block kernel looping over pixels): net longwave radiation shared between
canopy and soil (Campbell & Norman 1998, ch. 15), Priestley-Taylor canopy transpiration with the
Priestley-Taylor coefficient reduced by 0.1 until soil evaporation is not negative, resistances in
series (Norman et al. 1995, Kustas & Norman 1999: R_A with Brutsaert's stability functions, R_x
and R_S with Goudriaan's in-canopy wind), canopy temperature by the linearised Norman et al. 1995
appendix (A7, A11, A12), soil heat flux as a fraction of soil net radiation, and the Monin-Obukhov
length iterated (at most 15 times, converged when it changes by less than 0.1 %, two- and
three-cycle oscillations included) as ``pyTSEB.TSEB.TSEB_PT`` does it [3]_, whose constants it uses.

Arrays in, arrays out: ``inputs`` (N_INPUTS, n) float64 rows in :data:`INPUTS` order, ``params``
(N_PARAMS,) in :data:`PARAMS` order; ``out`` (N_OUTPUTS, n) rows in :data:`OUTPUTS` order.  NaN in
any input gives NaN fluxes.

References
----------
.. [1] Norman, J.M., Kustas, W.P., Humes, K.S. (1995). Source approach for estimating soil and
   vegetation energy fluxes in observations of directional radiometric surface temperature.
   Agric. For. Meteorol. 77, 263-293. doi:10.1016/0168-1923(95)02265-Y
.. [2] Kustas, W.P., Norman, J.M. (1999). Evaluation of soil and vegetation heat flux predictions
   using a simple two-source model with radiometric temperatures for partial canopy cover.
   Agric. For. Meteorol. 94, 13-29. doi:10.1016/S0168-1923(99)00005-2
.. [3] Nieto, H., Guzinski, R. et al., pyTSEB, https://github.com/hectornieto/pyTSEB (TSEB.TSEB_PT,
   resistances, MO_similarity, net_radiation, wind_profile, meteo_utils).
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit

__all__ = [
    "F_ALL_FLUXES", "F_FAILED_TS", "F_INVALID", "F_ZERO_LE", "F_ZERO_LE_S", "INPUTS", "N_INPUTS", "N_OUTPUTS",
    "N_PARAMS", "OUTPUTS", "PARAMS", "tseb_pt_block",
]

#: Per-pixel inputs: radiometric temperature (K), view zenith (deg), air temperature (K), wind (m/s),
#: vapour pressure (mb), pressure (mb), canopy and soil net shortwave (W/m2), downwelling longwave
#: (W/m2), LAI, canopy height (m), roughness length and displacement height (m), fractional cover,
#: green fraction.
INPUTS = ("tr", "vza", "ta", "u", "ea", "p", "sn_c", "sn_s", "l_dn", "lai", "h_c", "z0m", "d0", "f_c", "f_g")
#: Scalars: leaf and soil emissivity, wind and temperature measurement heights (m), leaf width (m),
#: soil roughness (m), Priestley-Taylor alpha, Campbell's chi, canopy width/height, G/Rn_soil.
PARAMS = ("emis_c", "emis_s", "z_u", "z_t", "leaf_width", "z0_soil", "alpha_pt", "x_lad", "w_c", "g_ratio")
#: Outputs: net radiation, sensible, latent and soil heat fluxes (W/m2), canopy and soil parts,
#: canopy and soil temperatures (K), quality flag, Monin-Obukhov length (m), iterations.
OUTPUTS = ("rn", "h", "le", "g", "le_c", "h_c", "le_s", "h_s", "t_c", "t_s", "flag", "l_mo", "n_iter")
N_INPUTS, N_PARAMS, N_OUTPUTS = len(INPUTS), len(PARAMS), len(OUTPUTS)

#: Quality flags (pyTSEB's codes): all fluxes with the full alpha, soil evaporation forced to
#: zero (alpha reduced), no positive latent flux, soil temperature inversion failed, invalid input.
F_ALL_FLUXES, F_ZERO_LE_S, F_ZERO_LE, F_FAILED_TS, F_INVALID = 0, 3, 5, 254, 255

KARMAN, GRAVITY, SB = 0.41, 9.8, 5.670373e-8
C_PD, C_PV, EPSILON, R_D = 1003.5, 1865.0, 0.622, 287.04
KN_B, KN_C, KN_C_DASH = 0.012, 0.0038, 90.0  # Kustas & Norman 1999, Kustas et al. 2016, Norman et al. 1995
U_FRICTION_MIN, U_C_MIN, U_S_MIN, RES_MIN = 0.01, 0.01, 0.01, 0.1
MAX_ITERATIONS, L_THRES = 15, 0.001


@jit(inline="always")
def _psi_m(zol):  # pragma: no cover - numba
    """Brutsaert (1992, 1999) stability correction for momentum."""
    if not math.isfinite(zol):
        return 0.0
    if zol >= 0.0:
        return -6.1 * math.log(zol + (1.0 + zol**2.5) ** (1.0 / 2.5))
    y, a, b = -zol, 0.33, 0.41
    x = (y / a) ** 0.333333
    psi_0 = -math.log(a) + 3**0.5 * b * a**0.333333 * math.pi / 6.0
    y = min(y, b**-3)
    return (math.log(a + y) - 3.0 * b * y**0.333333 + (b * a**0.333333) / 2.0 * math.log((1.0 + x) ** 2 / (1.0 - x + x**2))
            + 3.0**0.5 * b * a**0.333333 * math.atan((2.0 * x - 1.0) / 3**0.5) + psi_0)


@jit(inline="always")
def _psi_h(zol):  # pragma: no cover - numba
    """Brutsaert (1992, 1999) stability correction for heat."""
    if not math.isfinite(zol):
        return 0.0
    if zol >= 0.0:
        return -6.1 * math.log(zol + (1.0 + zol**2.5) ** (1.0 / 2.5))
    y = -zol
    return ((1.0 - 0.057) / 0.78) * math.log((0.33 + y**0.78) / 0.33)


@jit(inline="always")
def _k_be(theta, x_lad):  # pragma: no cover - numba
    """Beam extinction coefficient of an ellipsoidal leaf angle distribution (Campbell & Norman eq. 15.4)."""
    return math.sqrt(x_lad**2 + math.tan(theta) ** 2) / (x_lad + 1.774 * (x_lad + 1.182) ** -0.733)


@jit(inline="always")
def _u_star(u, z_u, l_mo, d0, z0m):  # pragma: no cover - numba
    if l_mo == 0.0:
        l_mo = 1e-36
    us = u * KARMAN / (math.log((z_u - d0) / z0m) - _psi_m((z_u - d0) / l_mo) + _psi_m(z0m / l_mo))
    return max(us, U_FRICTION_MIN)


@jit(inline="always")
def _r_s(u_c, h_c, lai, leaf_width, z0_soil, delta_t):  # pragma: no cover - numba
    """Soil boundary-layer resistance (Kustas & Norman 1999) with Goudriaan's wind near the soil."""
    a = 0.28 * lai ** (2.0 / 3.0) * h_c ** (1.0 / 3.0) * leaf_width ** (-1.0 / 3.0)
    u_s = max(u_c * math.exp(-a * (1.0 - z0_soil / h_c)), U_S_MIN)
    return max(1.0 / (KN_C * max(delta_t, 0.0) ** (1.0 / 3.0) + KN_B * u_s), RES_MIN)


@jit(inline="always")
def _diffuse_longwave(lai, emis_c, emis_s, x_lad):  # pragma: no cover - numba
    """Diffuse transmittance and albedo of the canopy for longwave (Campbell & Norman eqs 15.5-15.11)."""
    taud = 0.0
    step = math.radians(5.0)
    for k in range(18):
        ang = math.radians(5.0 * k)
        taud += math.exp(-_k_be(ang, x_lad) * lai) * math.cos(ang) * math.sin(ang) * step
    taud *= 2.0
    rho_soil = 1.0 - emis_s
    amean_sqrt = math.sqrt(emis_c)
    akd = -math.log(taud) / lai
    rcpy = (1.0 - amean_sqrt) / (1.0 + amean_sqrt)
    rdcpy = 2.0 * akd * rcpy / (akd + 1.0)
    expfac = amean_sqrt * akd * lai
    neg, dneg = math.exp(-expfac), math.exp(-2.0 * expfac)
    tau = (rdcpy * rdcpy - 1.0) * neg / ((rdcpy * rho_soil - 1.0) + rdcpy * (rdcpy - rho_soil) * dneg)
    fact = ((rdcpy - rho_soil) / (rdcpy * rho_soil - 1.0)) * dneg
    alb = (rdcpy + fact) / (1.0 + rdcpy * fact)
    if math.isnan(tau):
        tau = 1.0
    if math.isnan(alb):
        alb = rho_soil
    return tau, alb


@jit(inline="always")
def _t_s(tr, t_c, f_theta):  # pragma: no cover - numba
    """Soil temperature from the composite one; NaN when the inversion fails."""
    tmp = tr**4 - f_theta * t_c**4
    if not tmp >= 0.0:
        return math.nan
    return (tmp / (1.0 - f_theta)) ** 0.25


@jit(inline="always")
def _l_diff(a, b):  # pragma: no cover - numba
    d = abs(a - b) / abs(b)
    return math.inf if math.isnan(d) else d


@jit("void(float64[:, ::1], float64[::1], float64[:, ::1])")
def tseb_pt_block(inputs, params, out):  # pragma: no cover - numba
    """TSEB-PT for every pixel (column) of ``inputs`` (N_INPUTS, n) into ``out`` (N_OUTPUTS, n)."""
    emis_c, emis_s, z_u, z_t, lw, z0_soil, alpha_pt, x_lad, w_c, g_ratio = (
        params[0], params[1], params[2], params[3], params[4], params[5], params[6], params[7], params[8], params[9])
    queue = np.empty(6)
    for j in range(inputs.shape[1]):
        for k in range(N_OUTPUTS):
            out[k, j] = math.nan
        tr, vza, ta, u, ea, p = inputs[0, j], inputs[1, j], inputs[2, j], inputs[3, j], inputs[4, j], inputs[5, j]
        sn_c, sn_s, l_dn, lai, h_c = inputs[6, j], inputs[7, j], inputs[8, j], inputs[9, j], inputs[10, j]
        z0m, d0, f_c, f_g = inputs[11, j], inputs[12, j], inputs[13, j], inputs[14, j]
        bad = False
        for k in range(N_INPUTS):
            if math.isnan(inputs[k, j]):
                bad = True
        if bad or lai <= 0.0:
            out[10, j] = F_INVALID
            continue
        rho = (p * 100.0) / (R_D * ta) * (1.0 - (1.0 - EPSILON) * ea / p)
        q = EPSILON * ea / (p + (EPSILON - 1.0) * ea)
        c_p = (1.0 - q) * C_PD + q * C_PV
        lam = 1e6 * (2.501 - 2.361e-3 * (ta - 273.15))
        tc_c = ta - 273.15
        s = 10.0 * 4098.0 * (0.6108 * math.exp(17.27 * tc_c / (tc_c + 237.3))) / (tc_c + 237.3) ** 2
        s_gamma = s / (s + c_p * p / (EPSILON * lam))
        z0h = z0m  # kB^-1 = 0
        # clumping (Kustas & Norman 1999 eq. 3) and the fraction of canopy seen at vza
        f = lai / f_c
        k0 = _k_be(0.0, x_lad)
        trans = f_c * math.exp(-k0 * f) + (1.0 - f_c)
        if trans <= 0.0:
            trans = 1e-36
        omega0 = -math.log(trans) / (f * k0)
        th = math.radians(vza)
        omega_th = omega0 / (omega0 + (1.0 - omega0) * math.exp(-2.2 * th ** (3.8 - 0.46 / w_c)))
        f_theta = 1.0 - math.exp(-_k_be(th, x_lad) * omega_th * f)
        tau_l, alb_l = _diffuse_longwave(lai, emis_c, emis_s, x_lad)
        log_a = math.log((z_t - d0) / z0h)
        log_c = math.log((h_c - d0) / z0m)
        a_x = 0.28 * f ** (2.0 / 3.0) * h_c ** (1.0 / 3.0) * lw ** (-1.0 / 3.0)

        l_mo = math.inf
        u_fr = _u_star(u, z_u, l_mo, d0, z0m)
        t_c = min(tr, ta)
        t_s = _t_s(tr, t_c, f_theta)
        if math.isnan(t_s):
            out[10, j] = F_INVALID
            continue
        t_ac = ta
        flag = F_ALL_FLUXES
        rn_c = rn_s = h_cv = h_sv = g = le_c = le_s = math.nan
        queue[0] = math.inf
        n_queue = 1
        n_iter = 0
        for it in range(MAX_ITERATIONS):
            n_iter = it
            flag = F_ALL_FLUXES
            le_s = -1.0
            alpha = alpha_pt + 0.1
            while le_s < 0.0:
                alpha -= 0.1
                if alpha <= 0.0:
                    alpha = 0.0
                    flag = F_ZERO_LE
                elif alpha < alpha_pt:
                    flag = F_ZERO_LE_S
                lm = l_mo if l_mo != 0.0 else 1e-36
                r_a = max((log_a - _psi_h((z_t - d0) / lm) + _psi_h(z0h / lm)) / (u_fr * KARMAN), RES_MIN)
                u_c = max(u_fr * (log_c - _psi_m((h_c - d0) / lm) + _psi_m(z0m / lm)) / KARMAN, U_C_MIN)
                u_d = max(u_c * math.exp(-a_x * (1.0 - (d0 + z0m) / h_c)), U_C_MIN)
                r_x = max((KN_C_DASH / lai) * math.sqrt(lw / u_d), RES_MIN)
                r_s = _r_s(u_c, h_c, lai, lw, z0_soil, t_s - t_ac)
                # net longwave of canopy and soil (Campbell & Norman 1998)
                l_c = emis_c * SB * t_c**4
                l_s = emis_s * SB * t_s**4
                ln_s = emis_s * tau_l * l_dn + emis_s * (1.0 - tau_l) * l_c - l_s
                ln_c = (1.0 - alb_l) * (1.0 - tau_l) * (l_dn + l_s) - 2.0 * (1.0 - tau_l) * l_c
                rn_c = sn_c + ln_c
                rn_s = sn_s + ln_s
                h_cv = rn_c * (1.0 - alpha * f_g * s_gamma)  # Priestley-Taylor canopy
                # canopy temperature, Norman et al. 1995 A7, A12, A11
                t_lin = ((ta / r_a + tr / (r_s * (1.0 - f_theta))
                          + h_cv * r_x / (rho * c_p) * (1.0 / r_a + 1.0 / r_s + 1.0 / r_x))
                         / (1.0 / r_a + 1.0 / r_s + f_theta / (r_s * (1.0 - f_theta))))
                t_d = (t_lin * (1.0 + r_s / r_a) - h_cv * r_x / (rho * c_p) * (1.0 + r_s / r_x + r_s / r_a)
                       - ta * r_s / r_a)
                d_tc = ((tr**4 - f_theta * t_lin**4 - (1.0 - f_theta) * t_d**4)
                        / (4.0 * (1.0 - f_theta) * t_d**3 * (1.0 + r_s / r_a) + 4.0 * f_theta * t_lin**3))
                t_c = t_lin + d_tc
                t_s_new = _t_s(tr, t_c, f_theta)
                if math.isnan(t_s_new):
                    t_s = 1e-6
                    flag = F_FAILED_TS
                    le_s = 0.0
                    break
                t_s = t_s_new
                r_s = _r_s(u_c, h_c, lai, lw, z0_soil, t_s - t_ac)
                t_ac = (ta / r_a + t_s / r_s + t_c / r_x) / (1.0 / r_a + 1.0 / r_s + 1.0 / r_x)
                h_sv = rho * c_p * (t_s - t_ac) / r_s
                g = g_ratio * rn_s
                le_s = rn_s - g - h_sv
                le_c = rn_c - h_cv
                if le_c == 0.0:  # no transpiration: no soil evaporation either (Guzinski et al. 2015, A1)
                    h_sv = min(h_sv, rn_s - g)
                    g = max(g, rn_s - h_sv)
                    le_s = 0.0
                    flag = F_ZERO_LE
                h = h_cv + h_sv
                le = le_c + le_s
                e = le / lam
                hv = h + 0.61 * ta * c_p * e
                l_mo = math.inf if hv == 0.0 else -u_fr**3 / (KARMAN * GRAVITY / ta * (hv / (rho * c_p)))
                u_fr = _u_star(u, z_u, l_mo, d0, z0m)
            # convergence of L, against 2 and 3 iterations back (oscillations)
            for k in range(5, 0, -1):
                queue[k] = queue[k - 1]
            queue[0] = l_mo if l_mo != 0.0 else 1e-36
            n_queue = min(n_queue + 1, 6)
            done = False
            if n_queue >= 4:
                done = _l_diff(queue[0], queue[2]) < L_THRES and _l_diff(queue[1], queue[3]) < L_THRES
            if n_queue == 6 and not done:
                done = (_l_diff(queue[0], queue[3]) < L_THRES and _l_diff(queue[1], queue[4]) < L_THRES
                        and _l_diff(queue[2], queue[5]) < L_THRES)
            if done:
                break
        out[0, j] = rn_c + rn_s
        out[1, j] = h_cv + h_sv
        out[2, j] = le_c + le_s
        out[3, j] = g
        out[4, j] = le_c
        out[5, j] = h_cv
        out[6, j] = le_s
        out[7, j] = h_sv
        out[8, j] = t_c
        out[9, j] = t_s
        out[10, j] = flag
        out[11, j] = l_mo
        out[12, j] = n_iter + 1
