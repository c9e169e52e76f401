"""Lazy, THEIA-aware cubes from STAC items."""

from __future__ import annotations

from ._features import load_features
from ._load import estimate_bytes, load
from ._masks import decode_layer, decode_rule
from ._station import load_station

__all__ = ["decode_layer", "decode_rule", "estimate_bytes", "load", "load_features", "load_station"]
