"""Broadband surface albedo from Sentinel-2 narrow-band reflectance.

References
----------
.. [1] Bonafoni, S., Sekertekin, A. (2020). Albedo retrieval from Sentinel-2 by new
   narrow-to-broadband conversion coefficients. IEEE Geosci. Remote Sens. Lett. 17(9),
   1618-1622. https://doi.org/10.1109/LGRS.2020.2967085
.. [2] Naegeli, K., Damm, A., Huss, M., Wulf, H., Schaepman, M., Hoelzle, M. (2017).
   Cross-comparison of albedo products for glacier surfaces derived from airborne and
   satellite (Sentinel-2 and Landsat 8) optical data. Remote Sens. 9(2), 110 (Liang 2001
   coefficients applied to Sentinel-2).
"""

from __future__ import annotations

import xarray as xr

from ._common import require, with_provenance

__all__ = ["ALBEDO_COEFFICIENTS", "broadband_albedo"]

#: method -> ({band: coefficient}, intercept)
ALBEDO_COEFFICIENTS = {
    "bonafoni": ({"blue": 0.2266, "green": 0.1236, "red": 0.1573, "nir": 0.3417, "swir16": 0.1170,
                  "swir22": 0.0338}, 0.0),
    "liang": ({"blue": 0.356, "red": 0.130, "nir": 0.373, "swir16": 0.085, "swir22": 0.072}, -0.0018),
}


def broadband_albedo(cube: xr.Dataset, *, method: str = "bonafoni") -> xr.DataArray:
    """Shortwave broadband albedo, a linear combination of reflectances (lazy, NaN where any band is NaN).

    ``method="bonafoni"`` (default, [1]_: coefficients calibrated for Sentinel-2, summing to 1)
    or ``"liang"`` ([2]_: Liang's coefficients as used for Sentinel-2 by Naegeli et al.).
    """
    if method not in ALBEDO_COEFFICIENTS:
        raise ValueError(f"method={method!r}: use one of {sorted(ALBEDO_COEFFICIENTS)}")
    coeffs, intercept = ALBEDO_COEFFICIENTS[method]
    require(cube, list(coeffs), f"broadband_albedo(method={method!r})")
    out = sum(c * cube[b] for b, c in coeffs.items()) + intercept
    out = out.astype("float32").rename("albedo")
    out.attrs.update(units="1", long_name=f"broadband shortwave albedo ({method})")
    ref = "Bonafoni & Sekertekin 2020, IEEE GRSL 17(9)" if method == "bonafoni" else "Liang 2001 via Naegeli et al. 2017"
    return with_provenance(out, algorithm=f"narrow-to-broadband albedo ({method})",
                           params={"coefficients": coeffs, "intercept": intercept}, source=cube, reference=ref)
