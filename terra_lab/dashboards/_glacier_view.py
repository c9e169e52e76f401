"""What the snow page's glacier analysis draws over its map, and its tables, from a
:class:`~terra_lab.workflows.glacier.GlacierResult` (the page computes nothing).

* the coloured shaded relief (:func:`relief_rgb`: the workflow's RGBA in Web Mercator; the colour
  bar beneath is the elevation ramp, :func:`ramp_cmap`);
* the glacier outlines and the equilibrium line of the year (the later DEM's contour at each
  glacier's ELA, inside its outline: :func:`glacier_lines`);
* the per-glacier table and the ELA per summer (:func:`glacier_tables`), in the page's locale.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._i18n import page_text, tr
from ._webmercator import MERCATOR

__all__ = ["ELA_COLOUR", "OUTLINE_COLOUR", "glacier_lines", "glacier_tables", "ramp_cmap", "relief_rgb"]

#: the glacier outlines (dark blue-grey: visible on the diverging map and on the relief)
OUTLINE_COLOUR = "#1b2a3a"
#: the equilibrium line (magenta: unlike every colour of the two maps)
ELA_COLOUR = "#d01c8b"


def ramp_cmap(low: float, high: float, n: int = 256) -> list[str]:
    """The colour-relief ramp (:data:`terra_lab.products.relief.DEFAULT_RAMP`) between ``low`` and ``high`` m."""
    from ..products.relief import DEFAULT_RAMP

    stops = np.asarray(DEFAULT_RAMP, np.float64)
    z = np.linspace(low, high if high > low else low + 1.0, n)
    rgb = [np.interp(z, stops[:, 0], stops[:, c]) for c in (1, 2, 3)]
    return ["#{:02x}{:02x}{:02x}".format(*(int(round(v[i])) for v in rgb)) for i in range(n)]


def relief_rgb(relief: Any, bounds: tuple[float, float, float, float]):
    """The RGBA relief (band, y, x) as a HoloViews RGB in Web Mercator, cut to ``bounds`` (its CRS)."""
    import holoviews as hv
    from rasterio.enums import Resampling

    left, bottom, right, top = bounds
    cut = relief.sel(x=slice(left, right), y=slice(top, bottom))
    merc = cut.rio.write_nodata(0).rio.reproject(MERCATOR, resampling=Resampling.nearest, nodata=0)
    bands = [np.asarray(merc.sel(band=b).values, np.float64) / 255.0 for b in ("red", "green", "blue", "alpha")]
    x, y = merc["x"].values, merc["y"].values
    return hv.RGB((x, y, *bands), kdims=["x", "y"], vdims=["R", "G", "B", "A"]).opts(tools=[])


def _mercator_lines(lines: list[np.ndarray], crs: Any) -> list[np.ndarray]:
    from pyproj import Transformer

    tr_ = Transformer.from_crs(crs, MERCATOR, always_xy=True)
    return [np.column_stack(tr_.transform(line[:, 0], line[:, 1])) for line in lines if len(line) > 1]


def glacier_lines(result: Any, lang: str) -> list:
    """The outlines (one legend entry) and each glacier's equilibrium line of the year (contour of the
    later DEM at its ELA inside its outline; none when the year has no ELA)."""
    import contourpy
    import holoviews as hv

    from ..products.relief import outline_masks

    crs = result.elevation.rio.crs
    outlines = []
    for geom in result.outlines.geometry:
        for poly in getattr(geom, "geoms", [geom]):
            outlines.append(np.asarray(poly.exterior.coords))
    out = [hv.Path(_mercator_lines(outlines, crs), label=tr("glacier_outline", lang)).opts(
        color=OUTLINE_COLOUR, line_width=2)]
    z = np.asarray(result.elevation.values, np.float64)
    masks = outline_masks(result.outlines, result.elevation)
    x, y = result.elevation["x"].values, result.elevation["y"].values
    lines, levels = [], []
    for i, name in enumerate(masks["outline"].values):
        ela = result.glaciers.set_index("glacier")["ela_m"].get(str(name), np.nan)
        if not np.isfinite(ela):
            continue
        inside = np.where(masks.values[i], z, np.nan)
        lines += contourpy.contour_generator(x, y, inside).lines(float(ela))
        levels.append(float(ela))
    if lines:
        level = f"{np.mean(levels):.0f}" if len(levels) == 1 else f"{min(levels):.0f}–{max(levels):.0f}"
        label = tr("ela_line", lang).format(year=result.year, z=level)
        out.append(hv.Path(_mercator_lines(lines, crs), label=label).opts(color=ELA_COLOUR, line_width=3,
                                                                           line_dash="dashed"))
    return out


def _pm(value: float, sigma: float, decimals: int, lang: str) -> str:
    from ._tables import format_number

    if not np.isfinite(value):
        return "–"
    return f"{format_number(value, decimals, lang)} ± {format_number(sigma, decimals, lang)}"


def glacier_tables(result: Any, lang: str):
    """The DEM dates, the per-glacier change table and the ELA per summer, as a Panel column."""
    import panel as pn

    from ._tables import format_date, format_number, table_pane

    g = result.glaciers
    per_glacier = pd.DataFrame({
        tr("col_glacier", lang): list(g["glacier"]),
        tr("col_area_km2", lang): [format_number(v / 1e6, 2, lang) for v in g["area_m2"]],
        tr("col_mean_dh", lang): [_pm(v, s, 1, lang) for v, s in zip(g["mean_dh_m"], g["mean_dh_sigma_m"])],
        tr("col_dh_rate", lang): [format_number(v, 2, lang) for v in g["dh_rate_m_per_yr"]],
        tr("col_volume_change", lang): [_pm(v / 1e6, s / 1e6, 1, lang) for v, s in
                                        zip(g["volume_change_m3"], g["volume_change_sigma_m3"])],
        tr("col_mass_balance", lang): [_pm(v, s, 2, lang) for v, s in
                                       zip(g["mass_balance_mwe_per_yr"], g["mass_balance_sigma_mwe_per_yr"])],
        tr("col_ela_year", lang).format(year=result.year): [format_number(v, 0, lang) for v in g["ela_m"]],
    })
    e = result.ela
    per_year = pd.DataFrame({
        tr("col_glacier", lang): list(e["glacier"]),
        tr("col_summer", lang): [str(y) for y in e["year"]],
        tr("col_ela", lang): [format_number(v, 0, lang) for v in e["ela_m"]],
        tr("col_ela_date", lang): [format_date(d) for d in e["date"]],
        tr("col_clear_dates", lang): [format_number(v, 0, lang) for v in e["n_dates"]],
    })
    dates = result.provenance.get("dem_dates", ["?", "?"])
    said = tr("dem_period", lang).format(first=dates[0], last=dates[1],
                                         years=format_number(float(g["years"].iloc[0]) if len(g) else np.nan, 1, lang),
                                         nmad=format_number(result.error.nmad, 1, lang))
    return pn.Column(pn.pane.Markdown(f"**{page_text(said)}**"), table_pane(per_glacier, name="glaciers"),
                     pn.pane.Markdown(f"**{page_text(tr('ela_table', lang))}**"), table_pane(per_year, name="ela"),
                     name="stats")
