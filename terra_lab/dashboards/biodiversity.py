"""Biodiversity and landscape workshop dashboard: spectral diversity, fragmentation, ecological continuity.

* spectral diversity (biodivMapR method) of the clearest acquisition of the chosen period:
  Shannon and Simpson alpha diversity per window, and the first beta-diversity (PCoA) axis;
* landscape fragmentation of a habitat (FragScape's effective mesh size per square reporting
  cell, cutting-out and cross-boundary-connection methods);
* ecological continuity (BioDispersal): accumulated cost from habitat reservoirs over a
  friction raster, within a group's dispersal capacity.

Fragmentation and continuity need a land-cover map: the forest, grassland and alpine classes of
the catalogue's OSO land-cover collection.  Without one the dashboard shows spectral diversity
only, and says so.  It calls :func:`terra_lab.workflows.biodiversity.biodiversity_workflow` and
displays its result.
"""

from __future__ import annotations

import datetime as dt

import param

from ..workflows.biodiversity import (
    HABITATS,
    LANDCOVER_PRODUCTS,
    PRESETS,
    BiodiversitySettings,
    biodiversity_workflow,
)
from ._common import DashboardBase
from ._i18n import PageError, tr

__all__ = ["BiodiversityDashboard"]

PRODUCTS = {"shannon": "viridis", "simpson": "viridis", "beta_pcoa1": "PuOr", "mesh_cutting": "YlGn",
            "mesh_cbc": "YlGn", "dispersal_cost": "magma_r",
            "landcover": None}  # the OSO map itself, in its producer's colours and class names


class BiodiversityDashboard(DashboardBase):
    """Spectral diversity, fragmentation and continuity of a habitat over the chosen area."""

    start = param.Date(default=dt.date(2023, 6, 1), doc="period searched for the clearest acquisition")
    end = param.Date(default=dt.date(2023, 8, 31))
    product = param.Selector(default="shannon", objects=list(PRODUCTS))
    preset = param.Selector(default="mountain forest", objects=list(PRESETS))
    habitat = param.Selector(default=BiodiversitySettings.habitat, objects=list(HABITATS))
    dispersal = param.Number(default=BiodiversitySettings.dispersal, bounds=(1.0, 10_000.0),
                             doc="dispersal capacity (accumulated cost, cells)")
    window = param.Integer(default=BiodiversitySettings.window, bounds=(3, 100), doc="diversity window (pixels)")
    clusters = param.Integer(default=BiodiversitySettings.clusters, bounds=(2, 100),
                             doc="spectral species (k-means clusters)")
    cell_km = param.Number(default=BiodiversitySettings.cell_km, bounds=(0.1, 50.0),
                           doc="reporting cell of the mesh size (km)")
    landcover_collection = param.String(default="", doc="OSO land-cover collection id (empty: found in the catalogue)")
    theme = "biodiversity"
    settings_class, presets = BiodiversitySettings, PRESETS  # preset -> settings: DashboardState._settings

    def _preset_params(self) -> list[str]:
        return ["preset", "start", "end", "product"]

    def _standard_params(self) -> list[str]:
        return ["start", "end", "product", "habitat", "dispersal", "cell_km"]

    def _expert_params(self) -> list[str]:
        return ["window", "clusters", "landcover_collection"]

    def _compute(self):
        self._check_period(self.start, self.end)
        # a catalogue without OSO land cover: spectral diversity only, and the page says so
        return biodiversity_workflow(aoi=self.aoi(), start=self.start, end=self.end, settings=self._settings(),
                                     require_landcover=False,
                                     landcover_collection=self.landcover_collection.strip() or None, **self._sources())

    def _layer(self, result):
        if self.product == "landcover" and result.landcover is not None:
            return result.landcover.rename("landcover")
        if self.product in (*LANDCOVER_PRODUCTS, "landcover") and self.product not in result.layers:
            raise PageError(tr("needs_landcover", self.language).format(product=self.product, catalog=self.catalog))
        return result.layers[self.product].rename(self.product)

    def _result_attrs(self) -> dict:
        return dict(self._layer(self.result).attrs)

    def _cmap(self) -> str:
        return PRODUCTS[self.product] or "viridis"  # landcover: drawn in its legend's colours instead

    def _units(self, layer) -> str:
        if str(layer.name) in ("mesh_cutting", "mesh_cbc"):
            return "ha"
        return tr("unit_cells", self.language) if str(layer.name) == "dispersal_cost" else ""

    def _statistics(self, result):
        """Image date, median Shannon diversity and, with a land-cover map, the landscape's figures."""
        from ._tables import (
            format_date,
            format_number,
            format_share,
            kv_table,
            table_pane,
        )

        lang = self.language
        f = result.figures()  # the workflow's numbers, formatted here in the page's language
        rows = [(tr("row_date", lang), format_date(result.date)),
                (tr("row_shannon", lang), format_number(f["shannon_median"], 2, lang))]
        if "mesh_ha" in f:
            dispersal = format_number(f["dispersal_ha"], 1, lang, "ha")
            rows += [(tr("row_mesh", lang), format_number(f["mesh_ha"], 1, lang, "ha")),
                     (tr("row_patches", lang), format_number(f["patches"], 0, lang)),
                     (tr("row_dispersal", lang), f"{dispersal} ({format_share(f['dispersal_share'], lang)})")]
        return table_pane(kv_table(rows, lang), name="stats")
