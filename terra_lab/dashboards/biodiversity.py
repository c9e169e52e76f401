"""Biodiversity and landscape workshop dashboard: spectral diversity, fragmentation, ecological continuity.

* spectral diversity (biodivMapR method) of the clearest acquisition of the chosen period:
  Shannon and Simpson alpha diversity per window, and the first beta-diversity (PCoA) axis;
* landscape fragmentation of a habitat (FragScape's effective mesh size per square reporting
  cell, cutting-out and cross-boundary-connection methods);
* ecological continuity (BioDispersal): accumulated cost from habitat reservoirs over a
  friction raster, within a group's dispersal capacity.

Fragmentation and continuity need a land-cover map.  On the demo catalogue it is the scene's
reference map; for real areas load a THEIA OSO map (or classify one with
:mod:`terra_lab.products.landcover`) - the dashboard then shows spectral diversity only.
It calls the product modules; it never re-implements them.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import panel as pn
import param

from ._common import DashboardBase

__all__ = ["BiodiversityDashboard"]

#: demo land-cover codes: 1 urban, 2 summer crop, 3 winter crop, 4 grassland, 5 broadleaf, 6 conifer, 7 alpine, 8 water
HABITATS = {"forest": [5, 6], "grassland": [4], "alpine meadows": [7]}

#: friction per land-cover class for each habitat's species group (None: impassable), BioDispersal-style
FRICTIONS = {
    "forest": {1: None, 2: 30, 3: 30, 4: 10, 5: 1, 6: 1, 7: 20, 8: None},
    "grassland": {1: None, 2: 20, 3: 20, 4: 1, 5: 10, 6: 15, 7: 5, 8: None},
    "alpine meadows": {1: None, 2: 50, 3: 50, 4: 10, 5: 20, 6: 20, 7: 1, 8: None},
}

#: presets by landscape type: habitat studied, dispersal capacity (cost in cells), window, spectral species
PRESETS = {
    "mountain forest": {"habitat": "forest", "dispersal": 60.0, "window": 10, "clusters": 10},
    "valley grasslands": {"habitat": "grassland", "dispersal": 40.0, "window": 10, "clusters": 10},
    "alpine pastures": {"habitat": "alpine meadows", "dispersal": 80.0, "window": 10, "clusters": 10},
}

PRODUCTS = {"shannon": "viridis", "simpson": "viridis", "beta_pcoa1": "PuOr", "mesh_cutting": "YlGn",
            "mesh_cbc": "YlGn", "dispersal_cost": "magma_r"}


class BiodiversityDashboard(DashboardBase):
    """Spectral diversity, fragmentation and continuity of a habitat over the chosen area."""

    start = param.Date(default=dt.date(2023, 6, 1), doc="period searched for the clearest acquisition")
    end = param.Date(default=dt.date(2023, 8, 31))
    product = param.Selector(default="shannon", objects=list(PRODUCTS))
    preset = param.Selector(default="mountain forest", objects=list(PRESETS))
    habitat = param.Selector(default="forest", objects=list(HABITATS))
    dispersal = param.Number(default=60.0, bounds=(1.0, 10_000.0), doc="dispersal capacity (accumulated cost, cells)")
    window = param.Integer(default=10, bounds=(3, 100), doc="diversity window (pixels)")
    clusters = param.Integer(default=10, bounds=(2, 100), doc="spectral species (k-means clusters)")
    cell_km = param.Number(default=1.0, bounds=(0.1, 50.0), doc="reporting cell of the mesh size (km)")
    theme = "biodiversity"

    def _preset_params(self) -> list[str]:
        return ["preset", "start", "end", "product"]

    def _standard_params(self) -> list[str]:
        return ["start", "end", "product", "habitat", "dispersal", "cell_km"]

    def _expert_params(self) -> list[str]:
        return ["window", "clusters"]

    def _settings(self) -> dict:
        if self.mode == "preset":
            return dict(PRESETS[self.preset])
        return {"habitat": self.habitat, "dispersal": self.dispersal, "window": self.window, "clusters": self.clusters}

    def _clearest_date(self, res):
        """Items of the acquisition date whose most cloudy item is the least cloudy."""
        gdf = res.gdf.assign(day=lambda d: d["datetime"].dt.date)
        worst = gdf.groupby("day")["eo:cloud_cover"].max()
        day = worst.idxmin()
        ids = set(gdf.loc[gdf["day"] == day, "id"])
        return [it for it in res.items if (it["id"] if isinstance(it, dict) else it.id) in ids], day

    def _landcover(self, grid):
        """The demo scene's reference land cover on ``grid``; None for other catalogues."""
        if self.catalog != "demo":
            return None
        import rioxarray

        from .._paths import demo_dir

        lc = rioxarray.open_rasterio(demo_dir() / "truth" / "landcover_R1.tif").squeeze("band", drop=True)
        return lc.rio.reproject_match(grid)

    def _compute(self):
        import terra_lab
        from terra_lab.products.continuity import continuity, friction_from_classes, habitat_sources
        from terra_lab.products.diversity import DIVERSITY_BANDS, fit_spectral_species, spectral_diversity
        from terra_lab.products.fragmentation import effective_mesh_size

        _, res = self._search(self.start, self.end)
        items, day = self._clearest_date(res)
        s = self._settings()
        cube = terra_lab.load(items, bands=list(DIVERSITY_BANDS), resolution=10, bbox=self.aoi(),
                              chunks={"y": 20 * s["window"], "x": 20 * s["window"]})
        # all land covers (no NDVI filter): the workshop compares habitats, not only dense canopies
        model = fit_spectral_species(cube, n_clusters=s["clusters"], n_partitions=4, n_init=3, n_samples_kmeans=40_000,
                                     ndvi_threshold=None, nir_threshold=None, blue_threshold=None, seed=0)
        div = spectral_diversity(cube, model=model, window_size=s["window"]).compute()
        out = {"shannon": div["shannon"], "simpson": div["simpson"],
               "beta_pcoa1": div["beta"].isel(pcoa=0, drop=True).assign_attrs(div.attrs, long_name="beta diversity, PCoA axis 1")}
        out["shannon"].attrs.update(div.attrs)
        out["simpson"].attrs.update(div.attrs)
        lc = self._landcover(cube["blue"].isel(time=0, drop=True) if "time" in cube.dims else cube["blue"])
        if lc is not None:
            classes = HABITATS[s["habitat"]]
            for method in ("cutting", "cbc"):
                mesh = effective_mesh_size(lc, classes=classes, grid_size=self.cell_km * 1000.0, method=method)
                out[f"mesh_{method}"] = mesh["effective_mesh_size"].assign_attrs(
                    mesh.attrs, long_name=f"effective mesh size, {method} (ha)")
            sources = habitat_sources(lc, classes=classes, min_area=10_000.0)  # reservoirs of at least 1 ha
            cont = continuity(friction_from_classes(lc, FRICTIONS[s["habitat"]]), sources, max_cost=s["dispersal"])
            out["dispersal_cost"] = cont["cost"].assign_attrs(cont.attrs, long_name="accumulated cost (cells)")
            out["_dispersal_area"] = cont["dispersal_area"]
            out["_whole_mesh"] = effective_mesh_size(lc, classes=classes)
        out["_date"] = day
        return out

    def _layer(self, result):
        if self.product not in result:
            raise ValueError(f"{self.product} needs a land-cover map, which only the demo catalogue provides here; "
                             "choose shannon, simpson or beta_pcoa1")
        return result[self.product].rename(self.product)

    def _result_attrs(self) -> dict:
        return dict(self._layer(self.result).attrs)

    def _cmap(self) -> str:
        return PRODUCTS[self.product]

    def _statistics(self, result):
        fr = self.language == "fr"
        rows = [("date" if not fr else "date de l'image", str(result["_date"])),
                ("Shannon (median)" if not fr else "Shannon (médiane)", f"{float(result['shannon'].median()):.2f}")]
        if "_whole_mesh" in result:
            whole = result["_whole_mesh"]
            area = result["_dispersal_area"]
            px_ha = abs(float(np.prod(area.rio.resolution()))) / 1e4
            rows += [("effective mesh size (ha)" if not fr else "maille effective (ha)",
                      f"{float(whole['effective_mesh_size']):.1f}"),
                     ("habitat patches" if not fr else "taches d'habitat", f"{int(whole['n_patches'])}"),
                     ("potential dispersal area (ha)" if not fr else "aire de dispersion potentielle (ha)",
                      f"{float(area.sum()) * px_ha:.1f} ({100 * float(area.mean()):.0f} %)")]
        table = "\n".join(["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])
        return pn.pane.Markdown(table, name="stats")
