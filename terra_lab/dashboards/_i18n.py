"""The dashboards' words in French and English: one table for every string a page shows, and
the escaping of any text (user input, catalogue data) before it reaches a page pane."""

from __future__ import annotations

import re

from ..display._i18n import label
from ..workflows._notes import NOTES, Note

__all__ = ["LABELS", "LANGUAGE_NAMES", "OPTION_LABELS", "PARAM_LABELS", "PageError", "error_text", "foreign_strings", "note_text",
           "option_label", "page_shows", "page_text", "param_label", "tr"]

LABELS = {
    # what a library error means, per type (terra_lab.errors), on a page whose language is not the
    # message's: the page says this, and the original message waits folded under "details"
    "error_details": {"fr": "Détails techniques (message d'origine, en anglais)", "en": "Technical details"},
    "err_AOIError": {"fr": "La zone d'intérêt est invalide : vérifiez ouest < est, sud < nord, en degrés.",
                     "en": "The area of interest is invalid."},
    "err_DateRangeError": {"fr": "La période est vide ou inversée : vérifiez les dates de début et de fin.",
                           "en": "The period is empty or reversed."},
    "err_UnknownCollectionError": {"fr": "Collection inconnue dans ce catalogue : vérifiez son identifiant "
                                         "(mode expert) ou laissez-le vide.",
                                   "en": "Unknown collection in this catalogue."},
    "err_MissingBandError": {"fr": "Une bande ou un masque nécessaire manque dans les images de cette collection.",
                             "en": "A band or mask this product needs is missing."},
    "err_AssetReadError": {"fr": "Une image du catalogue est illisible (fichier déplacé ou endommagé).",
                           "en": "A file of the catalogue could not be read."},
    "err_RequestTooLargeError": {"fr": "La demande est trop grande pour la mémoire : réduisez la zone ou la période.",
                                 "en": "The request is too large for memory."},
    "err_CatalogBusyError": {"fr": "Le catalogue est occupé : réessayez dans quelques secondes.",
                             "en": "The catalogue is busy."},
    "err_CatalogUnreachableError": {"fr": "Le catalogue ne répond pas : vérifiez la connexion ou choisissez le "
                                          "catalogue « demo ».",
                                    "en": "The catalogue cannot be reached."},
    "err_MissingCredentialsError": {"fr": "Ce catalogue demande une clé d'accès : voir la documentation.",
                                    "en": "This catalogue needs credentials."},
    "err_RasterInputError": {"fr": "Les données d'entrée ne conviennent pas à ce produit.",
                             "en": "The input rasters do not suit this product."},
    "err_SpectralDiversityError": {"fr": "Trop peu de pixels clairs pour la diversité spectrale : élargissez la zone "
                                         "ou changez de date.",
                                   "en": "Too few clear pixels for spectral diversity."},
    "err_other": {"fr": "Le calcul a échoué.", "en": "The computation failed."},
    # notes the workflows leave on their results (terra_lab.workflows._notes: English there)
    "note_no_landcover_forest": {
        "fr": "pas de collection d'occupation du sol OSO dans « {catalog} » : pas de masque forêt, "
              "tous les pixels ont été examinés",
        "en": NOTES["no_landcover_forest"]},
    "note_no_landcover_diversity": {
        "fr": "pas de collection d'occupation du sol OSO dans « {catalog} » : diversité spectrale seule "
              "(ni fragmentation ni continuité)",
        "en": NOTES["no_landcover_diversity"]},
    "note_no_landcover_water": {
        "fr": "pas de collection d'occupation du sol OSO dans « {catalog} » : les lacs n'ont pas été retirés du "
              "terrain stable",
        "en": NOTES["no_landcover_water"]},
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
    "water_soil_moisture": {"fr": "Eau : humidité du sol", "en": "Water: soil moisture"},
    "water_evapotranspiration": {"fr": "Eau : évapotranspiration", "en": "Water: evapotranspiration"},
    "forest": {"fr": "Santé des forêts : dépérissement", "en": "Forest health: dieback"},
    "biodiversity": {"fr": "Biodiversité et paysage", "en": "Biodiversity and landscape"},
    "click_hint": {"fr": "Cliquez sur la carte pour la série temporelle d'un pixel.",
                   "en": "Click the map for a pixel's time series."},
    # ---- framework: run, progress, page (dashboards/_common, _controls, _progress_view)
    "cancel": {"fr": "Annuler", "en": "Cancel"},
    "cancelling": {"fr": "Annulation à la fin de l'étape en cours…", "en": "Cancelling at the end of the current step…"},
    "cancelled": {"fr": "Calcul annulé : les résultats précédents restent affichés.",
                  "en": "Computation cancelled: the previous results stay on the page."},
    "empty_hint": {"fr": "Choisissez une zone et une période, puis cliquez sur Calculer. "
                         "La carte, le tableau et les téléchargements s'afficheront ici.",
                   "en": "Choose an area and a period, then click Compute. "
                         "The map, the table and the downloads will show here."},
    "step_of": {"fr": "Étape {index} sur {total} : {step}", "en": "Step {index} of {total}: {step}"},
    "remaining": {"fr": "environ {seconds} s restantes", "en": "about {seconds} s left"},
    "step_queued": {"fr": "En attente d'un calcul libre…", "en": "Waiting for a free worker…"},
    "step_search": {"fr": "recherche des images", "en": "searching the images"},
    "step_read": {"fr": "lecture des images", "en": "reading the images"},
    "step_compute": {"fr": "calcul des produits", "en": "computing the products"},
    "step_render": {"fr": "affichage", "en": "drawing"},
    "expert_params": {"fr": "Paramètres experts", "en": "Expert parameters"},
    "bad_area": {"fr": "la zone (ouest {west}, sud {south}, est {east}, nord {north}) est vide ou inversée : "
                       "il faut ouest < est et sud < nord",
                 "en": "the area (west {west}, south {south}, east {east}, north {north}) is empty or reversed: "
                       "west must be below east and south below north"},
    # ---- maps and tables (helper C2: dashboards/_map_view, _basemap, _tables and the theme modules)
    "lon": {"fr": "Longitude", "en": "Longitude"},
    "lat": {"fr": "Latitude", "en": "Latitude"},
    "masked": {"fr": "masqué (nuages, aucune observation claire)", "en": "masked (clouds, no clear observation)"},
    "value": {"fr": "Valeur", "en": "Value"},
    "class": {"fr": "Classe", "en": "Class"},
    "unit_days": {"fr": "jours", "en": "days"},
    "unit_day_of_year": {"fr": "jours depuis le 1er septembre", "en": "days since 1 September"},
    "unit_days_after": {"fr": "jours après le {date}", "en": "days after {date}"},
    "unit_dates": {"fr": "dates", "en": "dates"},
    "unit_share": {"fr": "part des dates", "en": "share of dates"},
    "unit_cells": {"fr": "cellules", "en": "cells"},
    "state_healthy": {"fr": "sain", "en": "healthy"},
    "state_dieback": {"fr": "dépérissant", "en": "dieback"},
    "state_bare_soil": {"fr": "sol nu", "en": "bare soil"},
    "state_too_few_dates": {"fr": "trop peu de dates claires", "en": "too few clear dates"},
    "state_masked": {"fr": "hors forêt", "en": "outside the forest"},
    "state_too_many_stress_periods": {"fr": "trop de périodes de stress", "en": "too many stress periods"},
    "col_elevation_band": {"fr": "Tranche d'altitude", "en": "Elevation band"},
    "col_mean": {"fr": "Moyenne", "en": "Mean"},
    "col_median": {"fr": "Médiane", "en": "Median"},
    "col_pixels": {"fr": "Pixels", "en": "Pixels"},
    "col_month": {"fr": "Mois", "en": "Month"},
    "col_rank": {"fr": "Rang", "en": "Rank"},
    "col_centre": {"fr": "Centre (lon., lat.)", "en": "Centre (lon, lat)"},
    "col_dieback_ha": {"fr": "Dépérissement (ha)", "en": "Dieback (ha)"},
    "col_forest_share": {"fr": "Part de la forêt", "en": "Share of the forest"},
    "col_forest_pixels": {"fr": "Pixels de forêt", "en": "Forest pixels"},
    "col_quantity": {"fr": "Grandeur", "en": "Quantity"},
    "row_date": {"fr": "Date de l'image", "en": "Image date"},
    "row_shannon": {"fr": "Shannon (médiane)", "en": "Shannon (median)"},
    "row_mesh": {"fr": "Maille effective", "en": "Effective mesh size"},
    "row_patches": {"fr": "Taches d'habitat", "en": "Habitat patches"},
    "row_dispersal": {"fr": "Aire de dispersion potentielle", "en": "Potential dispersal area"},
    "dieback_total": {"fr": "Dépérissement détecté : {ha} ha", "en": "Dieback detected: {ha} ha"},
    "pixel_at": {"fr": "**Pixel** {lon}, {lat}", "en": "**Pixel** {lon}, {lat}"},
    "snow_pixel": {"fr": "altitude {z} m : durée d'enneigement **{scd} jours**, {nobs} observations claires",
                   "en": "elevation {z} m: snow cover duration **{scd} days**, {nobs} clear observations"},
    "snow_series": {"fr": "Neige (1) ou non (0), {z} m", "en": "Snow (1) or not (0), {z} m"},
    "snow_axis": {"fr": "neige", "en": "snow"},
    "forest_pixel": {"fr": "état **{state}**{when}, {n} dates valides", "en": "state **{state}**{when}, {n} valid dates"},
    "model": {"fr": "modèle", "en": "model"},
    "threshold": {"fr": "seuil", "en": "threshold"},
    "observed": {"fr": "observé", "en": "observed"},
    "water_days": {"fr": "en eau {n} dates sur {total}", "en": "water on {n} of {total} dates"},
    "water_median": {"fr": "{n} dates valides, médiane {median}", "en": "{n} valid dates, median {median}"},
    "date": {"fr": "date", "en": "date"},
    "needs_landcover": {"fr": "{product} demande une carte d'occupation du sol OSO, absente du catalogue {catalog} ; "
                              "choisissez shannon, simpson ou beta_pcoa1, ou un catalogue avec une collection OSO",
                        "en": "{product} needs an OSO land-cover map, which the catalogue {catalog} lacks; "
                              "choose shannon, simpson or beta_pcoa1, or a catalogue with an OSO collection"},
    # ---- end of helper C2's block
    # ---- fire severity in the forest dashboard (issue 16)
    "forest_fire": {"fr": "Santé des forêts : sévérité des feux", "en": "Forest health: fire severity"},
    "sev_unburnt": {"fr": "non brûlé", "en": "unburnt"},
    "sev_unburned": {"fr": "non brûlé", "en": "unburned"},
    "sev_low": {"fr": "faible", "en": "low"},
    "sev_moderate": {"fr": "modérée", "en": "moderate"},
    "sev_moderate-low": {"fr": "modérée-faible", "en": "moderate-low"},
    "sev_moderate-high": {"fr": "modérée-forte", "en": "moderate-high"},
    "sev_high": {"fr": "forte", "en": "high"},
    "sev_enhanced regrowth high": {"fr": "forte repousse", "en": "enhanced regrowth high"},
    "sev_enhanced regrowth low": {"fr": "légère repousse", "en": "enhanced regrowth low"},
    "burnt_total": {"fr": "Surface brûlée : {ha} ha", "en": "Burnt area: {ha} ha"},
    "col_severity": {"fr": "Classe de sévérité", "en": "Severity class"},
    "col_burnt_ha": {"fr": "Surface brûlée (ha)", "en": "Burnt area (ha)"},
    "col_burnt_share": {"fr": "Part de la surface brûlée", "en": "Share of the burnt area"},
    "col_burnt_pixels": {"fr": "Pixels brûlés", "en": "Burnt pixels"},
    "nbr_pre": {"fr": "NBR avant le feu", "en": "pre-fire NBR"},
    "nbr_post": {"fr": "NBR après le feu", "en": "post-fire NBR"},
    "fire_pixel": {"fr": "dNBR {dnbr}, classe **{cls}**", "en": "dNBR {dnbr}, class **{cls}**"},
    "fire_click_hint": {"fr": "Cliquez sur la carte pour le NBR d'un pixel avant et après le feu.",
                        "en": "Click the map for a pixel's NBR before and after the fire."},
    # ---- end of the fire block
    # ---- soil moisture in the water dashboard (issue 17)
    "masked_soil_moisture": {"fr": "masqué (végétation dense, neige, eau, bâti)",
                             "en": "masked (dense vegetation, snow, water, built-up)"},
    "col_radar_date": {"fr": "Date radar (Sentinel-1)", "en": "Radar date (Sentinel-1)"},
    "col_soil_moisture_mean": {"fr": "Humidité du sol moyenne (vol.%)", "en": "Mean soil moisture (vol.%)"},
    "col_valid_share": {"fr": "Pixels estimés", "en": "Pixels estimated"},
    "col_masked_share": {"fr": "Pixels masqués (végétation dense, neige, eau, bâti)",
                         "en": "Pixels masked (dense vegetation, snow, water, built-up)"},
    "soil_moisture_pixel": {"fr": "{n} dates estimées, moyenne {mean}", "en": "{n} dates estimated, mean {mean}"},
    # ---- end of the soil-moisture block
    # ---- glaciers in the snow dashboard (issues 16 and 17)
    "snow_glacier": {"fr": "Neige : glaciers (variation d'altitude, ligne d'équilibre)",
                     "en": "Snow: glaciers (elevation change, equilibrium line)"},
    "glacier_outline": {"fr": "contour du glacier", "en": "glacier outline"},
    "ela_line": {"fr": "ligne d'équilibre {year} ({z} m)", "en": "equilibrium line {year} ({z} m)"},
    "col_glacier": {"fr": "Glacier", "en": "Glacier"},
    "col_area_km2": {"fr": "Surface (km²)", "en": "Area (km²)"},
    "col_mean_dh": {"fr": "Variation d'altitude moyenne (m)", "en": "Mean elevation change (m)"},
    "col_dh_rate": {"fr": "Vitesse (m/an)", "en": "Rate (m/yr)"},
    "col_volume_change": {"fr": "Variation de volume (millions de m³)", "en": "Volume change (million m³)"},
    "col_mass_balance": {"fr": "Bilan de masse (m éq. eau/an)", "en": "Mass balance (m w.e./yr)"},
    "col_ela_year": {"fr": "Ligne d'équilibre {year} (m)", "en": "Equilibrium line {year} (m)"},
    "col_summer": {"fr": "Été", "en": "Summer"},
    "col_ela": {"fr": "Altitude de la ligne d'équilibre (m)", "en": "Equilibrium-line altitude (m)"},
    "col_ela_date": {"fr": "Date de l'image", "en": "Image date"},
    "col_clear_dates": {"fr": "Dates claires de fin d'été", "en": "Clear late-summer dates"},
    "ela_table": {"fr": "Ligne d'équilibre par été (ligne de neige de fin d'été)",
                  "en": "Equilibrium line per summer (end-of-summer snowline)"},
    "dem_period": {"fr": "MNT du {first} et du {last} ({years} ans) ; erreur sur le terrain stable (NMAD) {nmad} m",
                   "en": "DEMs of {first} and {last} ({years} years); error on stable terrain (NMAD) {nmad} m"},
    "ela_series": {"fr": "Ligne d'équilibre par été ; pixel à {z} m (tirets)",
                   "en": "Equilibrium line per summer; pixel at {z} m (dashed)"},
    "glacier_pixel": {"fr": "altitude {z} m, variation d'altitude **{dh}**",
                      "en": "elevation {z} m, elevation change **{dh}**"},
    "glacier_click_hint": {"fr": "Cliquez sur la carte pour la ligne d'équilibre de chaque été face à l'altitude "
                                 "d'un pixel.",
                           "en": "Click the map for the equilibrium line of each summer against a pixel's elevation."},
    # ---- end of the glacier block
    # ---- evapotranspiration in the water dashboard (issue 17)
    "col_landsat_date": {"fr": "Date Landsat", "en": "Landsat date"},
    "col_et_mean": {"fr": "ET réelle moyenne (mm/j)", "en": "Mean actual ET (mm/day)"},
    "col_et0": {"fr": "ET0 de référence (mm/j)", "en": "Reference ET0 (mm/day)"},
    "col_stress_mean": {"fr": "Indice de stress hydrique moyen", "en": "Mean water-stress index"},
    "col_clear_share": {"fr": "Part de la zone sans nuage", "en": "Cloud-free share of the area"},
    "unit_mm_day": {"fr": "mm/j", "en": "mm/day"},
    "et_pixel": {"fr": "{n} décades, total {total}", "en": "{n} dekads, total {total}"},
    "et_station": {"fr": "Station météo : {name}, à {km} km", "en": "Weather station: {name}, {km} km away"},
    "note_et_station_gaps": {"fr": "station « {station} » : {n} jour(s) manquant(s) interpolé(s), dès le {first}",
                             "en": NOTES["et_station_gaps"]},
    "note_et_cloudy_dates": {"fr": "{n} date(s) Landsat nuageuse(s) écartée(s) : {dates}",
                             "en": NOTES["et_cloudy_dates"]},
    "note_et_no_overpass": {"fr": "la station « {station} » n'a pas de valeurs au passage de la date la plus claire : "
                                  "pas de flux TSEB",
                            "en": NOTES["et_no_overpass"]},
    "note_et_period_clipped": {"fr": "la station « {station} » ne couvre que du {first} au {last} : ET calculée "
                                     "sur ces jours",
                               "en": NOTES["et_period_clipped"]},
    # ---- end of the evapotranspiration block
    # ---- forest structure in the forest dashboard (issue 16)
    "forest_structure": {"fr": "Forêts : structure (hauteur, volume, biomasse)",
                         "en": "Forests: structure (height, volume, biomass)"},
    "note_no_landcover_structure": {
        "fr": "pas de collection d'occupation du sol OSO dans « {catalog} » : hauteur sur tous les pixels, ni volume "
              "ni biomasse (leurs allométries demandent le type de forêt)",
        "en": NOTES["no_landcover_structure"]},
    "note_no_dem_structure": {"fr": "pas de collection MNT dans « {catalog} » : hauteur estimée par Sentinel-2 seul "
                                    "(sans l'altitude)",
                              "en": NOTES["no_dem_structure"]},
    "col_forest_type": {"fr": "Type de forêt", "en": "Forest type"},
    "ftype_broadleaf": {"fr": "feuillus", "en": "broadleaf"},
    "ftype_conifer": {"fr": "résineux", "en": "conifers"},
    "ftype_all": {"fr": "tous les pixels", "en": "all pixels"},
    "col_area_ha": {"fr": "Surface (ha)", "en": "Area (ha)"},
    "col_mean_height": {"fr": "Hauteur moyenne (m)", "en": "Mean height (m)"},
    "col_mean_interval": {"fr": "Largeur moyenne de l'intervalle 5-95 % (m)", "en": "Mean 5-95 % interval width (m)"},
    "col_mean_volume": {"fr": "Volume de bois moyen (m³/ha)", "en": "Mean wood volume (m³/ha)"},
    "col_mean_agb": {"fr": "Biomasse aérienne moyenne (Mg/ha)", "en": "Mean above-ground biomass (Mg/ha)"},
    "col_total_agb": {"fr": "Biomasse aérienne totale (Mg)", "en": "Total above-ground biomass (Mg)"},
    "structure_training": {
        "fr": "Apprentissage : {shots} tirs lidar, {kept} gardés, {dropped} écartés par le filtre qualité GEDI. "
              "Sur {n} tirs mis de côté : erreur quadratique moyenne {rmse} m, biais {bias} m, "
              "intervalle 5-95 % contenant {picp} des hauteurs mesurées.",
        "en": "Training: {shots} lidar shots, {kept} kept, {dropped} dropped by the GEDI quality filter. "
              "On {n} held-out shots: RMSE {rmse} m, bias {bias} m, "
              "5-95 % interval holding {picp} of the measured heights."},
    "structure_pixel": {"fr": "hauteur **{h} m** (intervalle 5-95 % : {lo} à {hi} m), volume {v} m³/ha, "
                              "biomasse {agb} Mg/ha",
                        "en": "height **{h} m** (5-95 % interval: {lo} to {hi} m), volume {v} m³/ha, "
                              "biomass {agb} Mg/ha"},
    "structure_click_hint": {"fr": "Cliquez sur la carte pour la hauteur d'un pixel et son intervalle.",
                             "en": "Click the map for a pixel's height and its interval."},
    "q05": {"fr": "quantile 5 %", "en": "5 % quantile"},
    "q50": {"fr": "médiane", "en": "median"},
    "q95": {"fr": "quantile 95 %", "en": "95 % quantile"},
    "height_axis": {"fr": "hauteur (m)", "en": "height (m)"},
    # ---- end of the forest-structure block
}

#: display labels of the options of selector parameters (parameter -> value -> language -> label); the
#: value stays what the workflow takes, unlisted values are shown as they are (index names, codes)
OPTION_LABELS = {
    "mode": {"preset": {"fr": "Préréglage", "en": "Preset"},
             "standard": {"fr": "Standard", "en": "Standard"},
             "expert": {"fr": "Expert", "en": "Expert"}},
    "preset": {
        "alpine": {"fr": "Alpin", "en": "Alpine"},
        "forested mountains": {"fr": "Montagne boisée", "en": "Forested mountains"},
        "low mountains": {"fr": "Moyenne montagne", "en": "Low mountains"},
        "lake": {"fr": "Lac", "en": "Lake"},
        "river": {"fr": "Rivière", "en": "River"},
        "turbid estuary": {"fr": "Estuaire turbide", "en": "Turbid estuary"},
        "spruce plantations": {"fr": "Plantations d'épicéa", "en": "Spruce plantations"},
        "mixed mountain forest": {"fr": "Forêt mixte de montagne", "en": "Mixed mountain forest"},
        "early warning (sensitive)": {"fr": "Alerte précoce (sensible)", "en": "Early warning (sensitive)"},
        "mountain forest": {"fr": "Forêt de montagne", "en": "Mountain forest"},
        "valley grasslands": {"fr": "Prairies de vallée", "en": "Valley grasslands"},
        "alpine pastures": {"fr": "Alpages", "en": "Alpine pastures"},
    },
    "product": {
        "SCD": {"fr": "Durée d'enneigement (SCD)", "en": "Snow cover duration (SCD)"},
        "SOD": {"fr": "Date d'apparition de la neige (SOD)", "en": "Snow onset date (SOD)"},
        "SMOD": {"fr": "Date de fonte (SMOD)", "en": "Snow melt-out date (SMOD)"},
        "NOBS": {"fr": "Observations claires (NOBS)", "en": "Clear observations (NOBS)"},
        "water": {"fr": "Fréquence en eau", "en": "Water frequency"},
        "turbidity": {"fr": "Turbidité", "en": "Turbidity"},
        "spm": {"fr": "Matières en suspension", "en": "Suspended matter"},
        "chla": {"fr": "Chlorophylle a", "en": "Chlorophyll-a"},
        "soil_moisture": {"fr": "Humidité du sol", "en": "Soil moisture"},
        "state": {"fr": "État de dépérissement", "en": "Dieback state"},
        "dieback_date": {"fr": "Date de détection", "en": "Detection date"},
        "confidence_index": {"fr": "Indice de confiance", "en": "Confidence index"},
        "shannon": {"fr": "Diversité de Shannon", "en": "Shannon diversity"},
        "simpson": {"fr": "Diversité de Simpson", "en": "Simpson diversity"},
        "beta_pcoa1": {"fr": "Diversité bêta (axe 1)", "en": "Beta diversity (axis 1)"},
        "mesh_cutting": {"fr": "Maille effective (découpage)", "en": "Effective mesh size (cutting-out)"},
        "mesh_cbc": {"fr": "Maille effective (connexions transfrontalières)",
                     "en": "Effective mesh size (cross-boundary connections)"},
        "dispersal_cost": {"fr": "Coût de dispersion", "en": "Dispersal cost"},
        "landcover": {"fr": "Occupation du sol (OSO)", "en": "Land cover (OSO)"},
        "severity": {"fr": "Sévérité du feu (classes)", "en": "Fire severity (classes)"},
        "dNBR": {"fr": "dNBR (différence de NBR ×1000)", "en": "dNBR (NBR difference ×1000)"},
        "RdNBR": {"fr": "RdNBR (dNBR relatif)", "en": "RdNBR (relative dNBR)"},
        "RBR": {"fr": "RBR (rapport de brûlage relativisé)", "en": "RBR (relativized burn ratio)"},
        "dh": {"fr": "Variation d'altitude", "en": "Elevation change"},
        "relief": {"fr": "Relief ombré coloré (altitude)", "en": "Coloured shaded relief (elevation)"},
        "height": {"fr": "Hauteur du couvert (médiane)", "en": "Canopy height (median)"},
        "height_interval": {"fr": "Largeur de l'intervalle 5-95 % de la hauteur",
                            "en": "Width of the height's 5-95 % interval"},
        "volume": {"fr": "Volume de bois", "en": "Wood volume"},
        "agb": {"fr": "Biomasse aérienne", "en": "Above-ground biomass"},
    },
    "analysis": {"dieback": {"fr": "Dépérissement (scolytes)", "en": "Dieback (bark beetle)"},
                 "fire": {"fr": "Sévérité des feux", "en": "Fire severity"},
                 "structure": {"fr": "Structure forestière", "en": "Forest structure"},
                 "quality": {"fr": "Surfaces et qualité de l'eau", "en": "Water surfaces and quality"},
                 "soil_moisture": {"fr": "Humidité du sol (Sentinel-1 + Sentinel-2)",
                                   "en": "Soil moisture (Sentinel-1 + Sentinel-2)"},
                 "snow": {"fr": "Enneigement", "en": "Snow cover"},
                 "glacier": {"fr": "Glaciers (variation d'altitude, ligne d'équilibre)",
                             "en": "Glaciers (elevation change, equilibrium line)"},
                 "evapotranspiration": {"fr": "Évapotranspiration (Landsat + station météo)",
                                        "en": "Evapotranspiration (Landsat + weather station)"}},
    "scheme": {"key_benson": {"fr": "Key & Benson 2006 (4 classes)", "en": "Key & Benson 2006 (4 levels)"},
               "key_benson_usgs": {"fr": "Key & Benson 2006 (7 classes USGS)", "en": "Key & Benson 2006 (7 USGS levels)"},
               "miller_thode_dnbr": {"fr": "Miller & Thode 2007 (dNBR)", "en": "Miller & Thode 2007 (dNBR, CBI)"},
               "miller_thode": {"fr": "Miller & Thode 2007 (RdNBR)", "en": "Miller & Thode 2007 (RdNBR, CBI)"},
               "parks": {"fr": "Parks et al. 2014 (RBR)", "en": "Parks et al. 2014 (RBR, CBI)"}},
    "structure_method": {"qrf": {"fr": "Forêt de régression quantile", "en": "Quantile regression forest"},
                         "hgb": {"fr": "Gradient boosting quantile", "en": "Quantile gradient boosting"}},
    "habitat": {"forest": {"fr": "Forêt", "en": "Forest"}, "grassland": {"fr": "Prairie", "en": "Grassland"},
                "alpine meadows": {"fr": "Pelouses alpines", "en": "Alpine meadows"}},
    "et_product": {"et_daily": {"fr": "ET réelle journalière (jour le plus clair)",
                                "en": "Daily actual ET (clearest day)"},
                   "et_dekad": {"fr": "ET réelle décadaire", "en": "Ten-day actual ET"},
                   "stress": {"fr": "Indice de stress hydrique (décade)", "en": "Water-stress index (ten days)"}},
}

#: the language selector's options: each language named in itself (as multilingual sites do), so a
#: reader finds their own; the only words of one language a page of the other shows
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}

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
    "soil_detection": {"fr": "Détection du sol nu", "en": "Bare-soil detection"},
    "window": {"fr": "Fenêtre (pixels)", "en": "Window (pixels)"},
    "clusters": {"fr": "Espèces spectrales", "en": "Spectral species"},
    "habitat": {"fr": "Habitat", "en": "Habitat"},
    "dispersal": {"fr": "Capacité de dispersion", "en": "Dispersal capacity"},
    "cell_km": {"fr": "Maille de rapportage (km)", "en": "Reporting cell (km)"},
    "analysis": {"fr": "Analyse", "en": "Analysis"},
    "et_product": {"fr": "Carte affichée", "en": "Map shown"},
    "fire_date": {"fr": "Date du feu", "en": "Fire date"},
    "window_days": {"fr": "Fenêtre avant/après (jours)", "en": "Window before/after (days)"},
    "scheme": {"fr": "Classes de sévérité", "en": "Severity classes"},
    "summer": {"fr": "Été (ligne d'équilibre)", "en": "Summer (equilibrium line)"},
    "max_slope": {"fr": "Pente maximale du terrain stable (°)", "en": "Steepest stable slope (°)"},
    "ela_years": {"fr": "Étés dans le tableau", "en": "Summers in the table"},
    "outline_collection": {"fr": "Collection des contours de glaciers", "en": "Glacier-outline collection"},
    "map_year": {"fr": "Année de la carte", "en": "Map year"},
    "structure_method": {"fr": "Méthode de régression", "en": "Regression method"},
    "footprint_collection": {"fr": "Collection des tirs lidar (GEDI)", "en": "Lidar footprint collection (GEDI)"},
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
    return label(LABELS, key, lang)  # the views' shared lookup (terra_lab.display._i18n)


class PageError(ValueError):
    """A dashboard's own check failed; its message is already in the page's language (shown as is)."""


def error_text(error: BaseException, lang: str) -> tuple[str, str]:
    """``(what the page says, the original message)`` for an error shown on a page in ``lang``.

    terra_lab's messages are English: an English page shows the message itself (it names the
    input and the fix) and no details; another language gets the error type's sentence from the
    table (the nearest listed base type, else a generic one) and the message as folded details."""
    if lang == "en" or isinstance(error, PageError):
        return f"{tr('error', lang)}{' :' if lang == 'fr' else ':'} {error}", ""
    key = next((f"err_{c.__name__}" for c in type(error).__mro__ if f"err_{c.__name__}" in LABELS), "err_other")
    return f"{tr('error', lang)} : {tr(key, lang)}", str(error)


def note_text(note: str, lang: str) -> str:
    """A workflow's note in ``lang`` (a :class:`~terra_lab.workflows._notes.Note` from the table, other text as is)."""
    if isinstance(note, Note) and f"note_{note.key}" in LABELS:
        return tr(f"note_{note.key}", lang).format(**note.values)
    return str(note)


def option_label(name: str, value: object, lang: str) -> str:
    """The label of option ``value`` of selector parameter ``name`` in ``lang`` (the value itself if unlisted)."""
    if name == "language":
        return LANGUAGE_NAMES.get(str(value), str(value))
    return OPTION_LABELS.get(name, {}).get(str(value), {}).get(lang, str(value))


def _contains(text: str, words: str) -> bool:
    """Whether ``words`` occur in ``text`` as whole words (not inside a longer word)."""
    return re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text) is not None


def foreign_strings(lang: str) -> set[str]:
    """The texts only the other language shows: its labels (every table) that differ from ``lang``'s,
    cut at placeholders and Markdown marks, of at least 4 characters, and found in no ``lang``
    label.  A page in ``lang`` must show none of them (the tests look for them as whole words)."""
    other = "en" if lang == "fr" else "fr"
    entries = [*LABELS.values(), *PARAM_LABELS.values(), *(e for t in OPTION_LABELS.values() for e in t.values())]
    own = "\n".join(e[lang] for e in entries)
    out = set()
    for entry in entries:
        if entry[other] == entry[lang]:
            continue
        for part in re.split(r"\{\w+\}|\*+", entry[other]):
            part = part.strip(" ,.:;()…")
            if len(part) >= 4 and not _contains(own, part):
                out.add(part)
    return out


def page_shows(text: str, lang: str) -> list[str]:
    """The :func:`foreign_strings` of ``lang`` that ``text`` (a page's text) shows: [] for a page in one language."""
    return sorted(s for s in foreign_strings(lang) if _contains(text, s))


def param_label(name: str, lang: str) -> str:
    """The widget label of parameter ``name`` in ``lang`` (its own name, prettified, if unlisted)."""
    return PARAM_LABELS.get(name, {}).get(lang, name.replace("_", " ").capitalize())
