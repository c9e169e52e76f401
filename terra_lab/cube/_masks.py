"""Decoding of mask rasters (MAJA bit masks, class maps) into named boolean layers.

One decoder, :func:`decode_rule_array`, on plain arrays: the direct graph of local files
(``cube/_graph.py``) calls it inside its read tasks, and :func:`decode_rule`/:func:`decode_layer`
apply it to xarray/Dask rasters (stackstac's path, thematic products) as one blockwise layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from ..profiles import MaskRule

__all__ = ["decode_layer", "decode_layer_arrays", "decode_rule", "decode_rule_array"]


def _check(rule: MaskRule) -> None:
    if not (rule.bits or rule.values or rule.nonzero):
        raise ValueError(f"mask rule {rule} selects nothing: give bits, values or nonzero=True")


def decode_rule_array(raw: np.ndarray, rule: MaskRule) -> np.ndarray:
    """Boolean array from one raw mask array (float, NaN where there is no mask value).

    NaN (outside the footprint or no data) decodes to False; other values are read as uint16
    codes: true where any of ``rule.bits`` is set, or the code is one of ``rule.values``, or
    (``rule.nonzero``) it is not 0.
    """
    _check(rule)
    valid = ~np.isnan(raw)
    ints = np.where(valid, raw, 0).astype(np.uint16)
    hit = np.zeros(raw.shape, bool)
    if rule.bits:
        hit |= (ints & np.uint16(rule.bitmask())) != 0
    if rule.values:
        hit |= np.isin(ints, np.asarray(rule.values, dtype=np.uint16))
    if rule.nonzero:
        hit |= ints != 0
    return hit & valid


def decode_layer_arrays(raws: Sequence[np.ndarray], rules: Sequence[MaskRule]) -> np.ndarray:
    """OR of :func:`decode_rule_array` of each rule on its raw array (``raws[i]`` for ``rules[i]``)."""
    if not rules:
        raise ValueError("decode_layer needs at least one mask rule")
    out = decode_rule_array(raws[0], rules[0])
    for raw, rule in zip(raws[1:], rules[1:]):
        out |= decode_rule_array(raw, rule)
    return out


def _decode_blocks(*raws: np.ndarray, rules: tuple[MaskRule, ...]) -> np.ndarray:
    return decode_layer_arrays(raws, rules)


def decode_layer(raws: dict[str, xr.DataArray], rules: tuple[MaskRule, ...]) -> xr.DataArray:
    """OR of the rules of one layer; ``raws`` maps asset keys to their raw rasters (one task per chunk)."""
    if not rules:
        raise ValueError("decode_layer needs at least one mask rule")
    for rule in rules:
        _check(rule)
    args = [raws[r.asset] for r in rules]
    return xr.apply_ufunc(_decode_blocks, *args, kwargs={"rules": tuple(rules)}, dask="parallelized",
                          output_dtypes=[bool], keep_attrs=True)


def decode_rule(raw: xr.DataArray, rule: MaskRule) -> xr.DataArray:
    """Boolean layer from one mask asset (float with NaN where there is no mask value).

    NaN (no mask value: outside the footprint or no data) decodes to False.
    """
    return decode_layer({rule.asset: raw}, (rule,))
