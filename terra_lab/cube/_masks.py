"""Decoding of mask rasters (MAJA bit masks, class maps) into named boolean layers."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..profiles import MaskRule

__all__ = ["decode_layer", "decode_rule"]


def decode_rule(raw: xr.DataArray, rule: MaskRule) -> xr.DataArray:
    """Boolean layer from one mask asset (float with NaN where there is no mask value).

    NaN (no mask value: outside the footprint or no data) decodes to False.
    """
    valid = raw.notnull()
    ints = raw.fillna(0).astype(np.uint16)
    hit = None
    if rule.bits:
        hit = (ints & rule.bitmask()) != 0
    if rule.values:
        v = ints.isin(list(rule.values))
        hit = v if hit is None else hit | v
    if rule.nonzero:
        v = ints != 0
        hit = v if hit is None else hit | v
    if hit is None:
        raise ValueError(f"mask rule {rule} selects nothing: give bits, values or nonzero=True")
    return hit & valid


def decode_layer(raws: dict[str, xr.DataArray], rules: tuple[MaskRule, ...]) -> xr.DataArray:
    """OR of the rules of one layer; ``raws`` maps asset keys to their raw rasters."""
    if not rules:
        raise ValueError("decode_layer needs at least one mask rule")
    out = decode_rule(raws[rules[0].asset], rules[0])
    for rule in rules[1:]:
        out = out | decode_rule(raws[rule.asset], rule)
    return out
