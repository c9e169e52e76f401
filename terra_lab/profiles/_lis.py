"""The codes of let-it-snow's (LIS) L2B snow maps: the one definition kernels, products, profiles
and legends read (``tests/test_facts.py`` checks it).  A leaf module: it imports nothing.

THEIA snow product page (https://www.theia-land.fr/en/product/snow/) and let-it-snow's README
("Products format"): 0 no snow, 100 snow, 205 cloud including cloud shadow, 254 no data;
LIS 1.7 and later write 255 for no data and 1-100 (snow cover fraction, %) in FSC products.
"""

from __future__ import annotations

__all__ = ["L2B_CLOUD", "L2B_NODATA", "L2B_NODATA_LIS17", "L2B_NO_SNOW", "L2B_SNOW"]

L2B_NO_SNOW = 0
L2B_SNOW = 100
L2B_CLOUD = 205
L2B_NODATA = 254
L2B_NODATA_LIS17 = 255
