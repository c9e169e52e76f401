"""The dashboards' tables as a reader wants them: translated headers with units, numbers with
sensible decimals, elevation bands as "600–800 m", shares as percentages, dates without a time.

Every function takes the workflow's table and returns a new DataFrame of display strings
(the workflow's table is not modified); :func:`table_pane` puts one on the page, escaped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._i18n import tr

__all__ = ["format_date", "format_number", "format_share", "kv_table", "table_pane"]

#: what an empty cell shows
_EMPTY = "–"


def format_number(value, decimals: int, lang: str, unit: str = "") -> str:
    """``value`` with ``decimals`` decimals, French (``1 234,5``) or English (``1,234.5``) separators."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or pd.isna(value):
        return _EMPTY
    text = f"{float(value):,.{decimals}f}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return f"{text} {unit}" if unit else text


def format_share(fraction, lang: str, decimals: int = 0) -> str:
    """A fraction (0..1) as a percentage: ``0.123`` -> ``"12 %"``."""
    if fraction is None or pd.isna(fraction):
        return _EMPTY
    return format_number(100.0 * float(fraction), decimals, lang, "%")


def format_date(value) -> str:
    """A date as ``YYYY-MM-DD`` (no time of day), or ``YYYY-MM`` for a month period."""
    if value is None or pd.isna(value):
        return _EMPTY
    if isinstance(value, pd.Period):
        return str(value)
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def band_label(low: float, width: float) -> str:
    """An elevation band as ``"600–800 m"``."""
    return f"{low:.0f}–{low + width:.0f} m"


def kv_table(rows: list[tuple[str, str]], lang: str) -> pd.DataFrame:
    """(quantity, value) rows as a two-column table with translated headers."""
    return pd.DataFrame(rows, columns=[tr("col_quantity", lang), tr("value", lang)])


def table_pane(frame: pd.DataFrame, **kwargs):
    """``frame`` (display strings) as an escaped Panel table, without the index."""
    import panel as pn

    return pn.pane.DataFrame(frame, index=False, escape=True, sizing_mode="stretch_width", **kwargs)
