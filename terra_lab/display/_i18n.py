"""The views' words in French and English: one language per view, every string of a view in one
table (``{key: {"fr": ..., "en": ...}}``) looked up by :func:`label`.

This is the shared mechanism: the dashboards' table (:mod:`terra_lab.dashboards._i18n`) and the
widgets of :mod:`terra_lab.display` (:data:`SEARCH_LABELS`, SearchMap's) both use it; display
never imports the dashboards.  Library error messages stay English (they name the input and the
fix); a French view puts them after its own French words.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "SEARCH_LABELS", "check_language", "label"]

#: the languages of every view; French first: the workshops' language, and the dashboards' default
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"


def check_language(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGUAGES`, else a ValueError naming the choices."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r}: choose one of {', '.join(map(repr, LANGUAGES))}")
    return lang


def label(table: Mapping[str, Mapping[str, str]], key: str, lang: str) -> str:
    """The text of ``key`` in ``lang`` from ``table`` (the key itself when unlisted)."""
    return table.get(key, {}).get(lang, key)


#: SearchMap's words (terra_lab.display.search); ``{name}`` fields are filled by the view
SEARCH_LABELS: dict[str, dict[str, str]] = {
    "catalogue": {"fr": "catalogue", "en": "catalogue"},
    "catalogue_hint": {"fr": "demo, theia, geodes, earth-search ou l'URL d'une API STAC",
                       "en": "demo, theia, geodes, earth-search or a STAC API URL"},
    "collection": {"fr": "collection", "en": "collection"},
    "from": {"fr": "du", "en": "from"},
    "to": {"fr": "au", "en": "to"},
    "max_cloud": {"fr": "nuages max. %", "en": "max cloud %"},
    "upload": {"fr": "Zone GeoJSON", "en": "GeoJSON area"},
    "search": {"fr": "Rechercher", "en": "Search"},
    "bands": {"fr": "bandes", "en": "bands"},
    "resolution": {"fr": "résolution (m)", "en": "resolution (m)"},
    "load": {"fr": "Charger en cube", "en": "Load as cube"},
    "show": {"fr": "Afficher sur la carte", "en": "Show on map"},
    "show_product": {"fr": "Afficher {product} sur la carte", "en": "Show {product} on map"},
    "footprints": {"fr": "emprises", "en": "footprints"},
    "item": {"fr": "image", "en": "item"},
    "items": {"fr": "images", "en": "items"},
    "uploaded_area": {"fr": "zone importée", "en": "uploaded area"},
    "col_date": {"fr": "date", "en": "date"},
    "col_tile": {"fr": "tuile", "en": "tile"},
    "col_cloud": {"fr": "nuages %", "en": "cloud %"},
    "col_platform": {"fr": "plateforme", "en": "platform"},
    "col_id": {"fr": "identifiant", "en": "id"},
    "no_aoi": {"fr": "Dessinez d'abord une zone sur la carte (outil rectangle ou polygone, en haut à gauche de la "
                     "carte), ou importez un fichier GeoJSON de votre zone",
               "en": "Draw an area on the map first (rectangle or polygon tool, top left of the map), "
                     "or upload a GeoJSON file of your area"},
    "then_search": {"fr": ", puis Rechercher.", "en": ", then Search."},
    "press_search": {"fr": "Cliquez sur Rechercher.", "en": "Press Search."},
    "choose_catalogue": {"fr": "choisissez un catalogue : demo, local, theia, geodes, earth-search, ou collez "
                               "l'URL d'une API STAC",
                         "en": "choose a catalogue: demo, local, theia, geodes, earth-search, or paste a STAC API URL"},
    "catalogue_error": {"fr": "catalogue {name} : {error}", "en": "catalogue {name}: {error}"},
    "catalogue_open": {"fr": "Catalogue {name} : {n} collections. ", "en": "Catalogue {name}: {n} collections. "},
    "area_drawn": {"fr": "zone dessinée : cliquez sur Rechercher", "en": "area drawn: press Search"},
    "not_geojson": {"fr": "{name} n'est pas un fichier GeoJSON ({error}) ; importez un .geojson (un Polygon, une "
                          "Feature ou une FeatureCollection en longitude/latitude)",
                    "en": "{name} is not a GeoJSON file ({error}); upload a .geojson (a Polygon, a Feature or a "
                          "FeatureCollection in longitude/latitude)"},
    "file_error": {"fr": "{name} : {error}", "en": "{name}: {error}"},
    "area_from": {"fr": "zone de {name} : cliquez sur Rechercher", "en": "area from {name}: press Search"},
    "no_catalogue": {"fr": "aucun catalogue ouvert : choisissez-en un dans « catalogue » (demo fonctionne hors "
                           "ligne)",
                     "en": "no catalogue is open: choose one in 'catalogue' (demo works offline)"},
    "both_dates": {"fr": "choisissez les deux dates (« du » et « au »)", "en": "pick both dates ('from' and 'to')"},
    "dates_reversed": {"fr": "les dates sont inversées : « du » {start} est après « au » {end} ; échangez-les",
                       "en": "the dates are reversed: 'from' {start} is after 'to' {end}; swap them"},
    "search_error": {"fr": "la recherche a échoué : {error}", "en": "the search failed: {error}"},
    "no_items": {"fr": "aucune image de {collection} sur cette zone du {start} au {end} sous {cloud} % de nuages : "
                       "élargissez la zone, les dates ou la limite de nuages",
                 "en": "no items in {collection} for this area from {start} to {end} under {cloud} % cloud: widen "
                       "the area, the dates or the cloud limit"},
    "first_of": {"fr": " (les {n} premières sur {matched} : réduisez la période)",
                 "en": " (first {n} of {matched} matched: narrow the dates)"},
    "found": {"fr": "{n} images{more} sur {groups} emprises date/tuile",
              "en": "{n} items{more} on {groups} date/tile footprints"},
    "not_loadable": {"fr": "{found} ; elles ne peuvent pas être chargées en cube : {error}",
                     "en": "{found}; they cannot be loaded as a cube: {error}"},
    "found_next": {"fr": "{found}. Cliquez une ligne ou une emprise ; « Charger en cube » charge les lignes choisies "
                         "(toutes si aucune).",
                   "en": "{found}. Click a row or a footprint; 'Load as cube' loads the selected rows (all when none "
                         "is selected)."},
    "footprint": {"fr": "emprise : {group}{cloud} (cliquez pour la choisir)",
                  "en": "footprint: {group}{cloud} (click to select)"},
    "footprint_cloud": {"fr": ", nuages {cloud:.0f} %", "en": ", cloud {cloud:.0f} %"},
    "pick_row": {"fr": "choisissez une ligne pour voir son aperçu", "en": "select a row to see its quicklook"},
    "open_quicklook": {"fr": "ouvrir l'aperçu", "en": "open the quicklook"},
    "search_first": {"fr": "recherchez d'abord : aucun résultat à charger", "en": "search first: no results to load"},
    "load_error": {"fr": "le cube n'a pas pu être chargé : {error}", "en": "could not load the cube: {error}"},
    "cube_ready": {"fr": "cube paresseux prêt dans .cube ({n} images ; {sizes} ; {variables}) ; rien n'est encore lu. "
                         "« {button} » le dessine.",
                   "en": "lazy cube ready in .cube ({n} items; {sizes}; {variables}); nothing read yet. "
                         "'{button}' draws it."},
    "load_first": {"fr": "chargez d'abord un cube (« Charger en cube »)", "en": "load a cube first ('Load as cube')"},
    "show_error": {"fr": "la couche n'a pas pu être affichée : {error}", "en": "could not show the layer: {error}"},
    "on_the_map": {"fr": "{product} sur la carte (tuiles calculées dans ce noyau au fil des déplacements et zooms)",
                   "en": "{product} on the map (tiles computed in this kernel as you pan and zoom)"},
}
