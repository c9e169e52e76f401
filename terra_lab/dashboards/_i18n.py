"""The dashboards' words in French and English: one table for every string a page shows, and
the escaping of any text (user input, catalogue data) before it reaches a page pane."""

from __future__ import annotations

__all__ = ["LABELS", "PARAM_LABELS", "page_text", "param_label", "tr"]

LABELS = {
    "compute": {"fr": "Calculer", "en": "Compute"},
    "mode": {"fr": "Mode de paramétrage", "en": "Parameter mode"},
    "download_cog": {"fr": "Télécharger (COG)", "en": "Download (COG)"},
    "download_nc": {"fr": "Télécharger (NetCDF)", "en": "Download (NetCDF)"},
    "no_data": {"fr": "Aucune donnée pour cette zone et cette période : élargissez la zone ou la période.",
                "en": "No data for this area and period: widen the area or the period."},
    "bad_period": {"fr": "la période {start} .. {end} est vide ou inversée",
                   "en": "the period {start} .. {end} is empty or reversed"},
    "bad_aoi": {"fr": "Zone d'intérêt invalide", "en": "Invalid area of interest"},
    "done": {"fr": "Calcul terminé", "en": "Done"},
    "error": {"fr": "Erreur", "en": "Error"},
    "snow": {"fr": "Neige : durée d'enneigement", "en": "Snow: snow cover duration"},
    "water": {"fr": "Eau : surfaces et qualité", "en": "Water: surfaces and quality"},
    "forest": {"fr": "Santé des forêts : dépérissement", "en": "Forest health: dieback"},
    "biodiversity": {"fr": "Biodiversité et paysage", "en": "Biodiversity and landscape"},
    "click_hint": {"fr": "Cliquez sur la carte pour la série temporelle d'un pixel.",
                   "en": "Click the map for a pixel's time series."},
}

#: labels of the parameter widgets (parameter name -> language -> label); unlisted names keep their own
PARAM_LABELS = {
    "language": {"fr": "Langue", "en": "Language"},
    "mode": {"fr": "Mode de paramétrage", "en": "Parameter mode"},
    "west": {"fr": "Ouest (°)", "en": "West (°)"},
    "south": {"fr": "Sud (°)", "en": "South (°)"},
    "east": {"fr": "Est (°)", "en": "East (°)"},
    "north": {"fr": "Nord (°)", "en": "North (°)"},
    "max_cloud": {"fr": "Nébulosité maximale (%)", "en": "Maximum cloud cover (%)"},
    "catalog": {"fr": "Catalogue", "en": "Catalogue"},
    "collection": {"fr": "Collection", "en": "Collection"},
    "dem_collection": {"fr": "Collection MNT", "en": "DEM collection"},
    "landcover_collection": {"fr": "Collection d'occupation du sol (OSO)", "en": "Land-cover collection (OSO)"},
    "preset": {"fr": "Préréglage (type de paysage)", "en": "Preset (landscape type)"},
    "product": {"fr": "Produit affiché", "en": "Product shown"},
    "year": {"fr": "Année hydrologique", "en": "Hydrological year"},
    "start": {"fr": "Début", "en": "Start"},
    "end": {"fr": "Fin", "en": "End"},
    "index": {"fr": "Indice", "en": "Index"},
    "threshold": {"fr": "Seuil", "en": "Threshold"},
    "erode": {"fr": "Érosion des berges (pixels)", "en": "Shore erosion (pixels)"},
    "ndsi_pass1": {"fr": "NDSI passe 1", "en": "NDSI pass 1"},
    "red_pass1": {"fr": "Rouge passe 1", "en": "Red pass 1"},
    "ndsi_pass2": {"fr": "NDSI passe 2", "en": "NDSI pass 2"},
    "red_pass2": {"fr": "Rouge passe 2", "en": "Red pass 2"},
    "training_end": {"fr": "Fin de l'apprentissage", "en": "End of training"},
    "threshold_anomaly": {"fr": "Seuil d'anomalie", "en": "Anomaly threshold"},
    "window": {"fr": "Fenêtre (pixels)", "en": "Window (pixels)"},
    "clusters": {"fr": "Espèces spectrales", "en": "Spectral species"},
    "habitat": {"fr": "Habitat", "en": "Habitat"},
    "dispersal": {"fr": "Capacité de dispersion", "en": "Dispersal capacity"},
    "cell_km": {"fr": "Maille de rapportage (km)", "en": "Reporting cell (km)"},
}


#: characters that HTML or Markdown would read as markup (tags, entities, emphasis, links, tables, math, lists)
_MARKUP = frozenset("&<>\"'\\`*_[](){}#!|~$+-=^.:")


def page_text(text: object) -> str:
    """``text`` as Markdown that shows exactly these characters: every markup character becomes a
    numeric character reference, which Markdown and HTML show as literal text, never as a tag,
    an entity, emphasis or a link.

    Every text that reaches a page pane (alerts, Markdown, tables) and may carry user input or
    catalogue data (error messages, collection ids, URLs, workflow notes) goes through here:
    ``pn.pane.Alert`` and ``pn.pane.Markdown`` render Markdown to HTML and pass raw HTML through.
    """
    return "".join(f"&#{ord(c)};" if c in _MARKUP else c for c in str(text))


def tr(key: str, lang: str) -> str:
    return LABELS.get(key, {}).get(lang, key)


def param_label(name: str, lang: str) -> str:
    """The widget label of parameter ``name`` in ``lang`` (its own name, prettified, if unlisted)."""
    return PARAM_LABELS.get(name, {}).get(lang, name.replace("_", " ").capitalize())
