"""Class legends of THEIA's categorical products: code -> producer's colour, French and English names.

Each table names its source.  A :class:`Legend` also writes and reads the CF attributes a loaded
variable carries (``flag_values``, ``flag_meanings``) plus its colours and names, so a map can
show any loaded categorical product with the producer's colours without being told which it is.

Sources
-------
* OSO 23 classes (maps since 2018): codes, names and colours of the CES OSO nomenclature as
  THEIA distributes it (https://www.theia-land.fr/en/product/land-cover-map/); colours checked
  against the Sentinel Hub description of the same product (``sentinel-hub/collections``,
  ``collections/cnes-land-cover-map/README.md``), which gives soy as ``#ffab44``.
* OSO 17 classes (maps of 2016 and 2017): the second-level classes listed by CESBIO
  (http://www.cesbio.ups-tlse.fr/multitemp/?p=11835) with the codes of the 2016 raster
  (``OCS_2016_CESBIO.tif``: 11, 12, 31, 32, 34, 36, 41-46, 51, 53, 211, 221, 222).
* Snow (LIS L2B ``SNW``): 0 no snow, 100 snow, 205 cloud including cloud shadow, 254 no data
  (https://www.theia-land.fr/en/product/snow/ and the let-it-snow README); colours of
  let-it-snow's OTB colour table ``hpc/LIS_SEB_style_OTB.txt`` (grey, cyan, white).
* WASP L3A flags (``FLG``): 0 no data, 1 cloud, 2 snow, 3 water, 4 land (Hagolle et al. 2018,
  WASP processing model, doi:10.5281/zenodo.1401360).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ._lis import L2B_CLOUD, L2B_NO_SNOW, L2B_SNOW

__all__ = [
    "OSO_2016_TO_2018",
    "OSO_LEGEND",
    "OSO_LEGEND_2016",
    "OSO_NOMENCLATURE",
    "OSO_NOMENCLATURE_2016",
    "SNOW_L2B_LEGEND",
    "WASP_FLAG_LEGEND",
    "Legend",
    "LegendClass",
    "legend_of",
]


@dataclass(frozen=True)
class LegendClass:
    """One class: its colour (``#rrggbb``), French and English names."""

    colour: str
    name_fr: str
    name_en: str


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass(frozen=True)
class Legend:
    """The classes of a categorical variable, with the producer's colours and names."""

    name: str
    classes: Mapping[int, LegendClass]
    source: str = ""

    @property
    def codes(self) -> tuple[int, ...]:
        return tuple(sorted(self.classes))

    def colours(self) -> dict[int, str]:
        return {c: self.classes[c].colour for c in self.codes}

    def names(self, lang: str = "en") -> dict[int, str]:
        if lang not in ("en", "fr"):
            raise ValueError(f"lang={lang!r}: use 'en' or 'fr'")
        return {c: getattr(self.classes[c], f"name_{lang}") for c in self.codes}

    def cf_attrs(self) -> dict:
        """CF flag attributes plus the colours and both languages' names (``|``-separated)."""
        return {
            "flag_values": list(self.codes),
            "flag_meanings": " ".join(_slug(self.classes[c].name_en) for c in self.codes),
            "flag_colors": " ".join(self.classes[c].colour for c in self.codes),
            "flag_names_en": "|".join(self.classes[c].name_en for c in self.codes),
            "flag_names_fr": "|".join(self.classes[c].name_fr for c in self.codes),
            "legend": self.name,
        }

    @classmethod
    def from_attrs(cls, attrs: Mapping) -> Legend | None:
        """The legend a variable's attributes describe (see :meth:`cf_attrs`), or None."""
        values, colours = attrs.get("flag_values"), attrs.get("flag_colors")
        if values is None or not colours:
            return None
        values = [int(v) for v in (values if hasattr(values, "__len__") else [values])]
        colours = str(colours).split()
        en = str(attrs.get("flag_names_en", "")).split("|")
        fr = str(attrs.get("flag_names_fr", "")).split("|")
        if len(colours) != len(values):
            return None
        meanings = str(attrs.get("flag_meanings", "")).split()
        classes = {}
        for i, v in enumerate(values):
            name_en = en[i] if len(en) == len(values) else (meanings[i] if len(meanings) == len(values) else str(v))
            classes[v] = LegendClass(colours[i], fr[i] if len(fr) == len(values) else name_en, name_en)
        return cls(str(attrs.get("legend", "")), MappingProxyType(classes))


def _legend(name: str, table: Mapping[int, tuple[str, str, str]], source: str) -> Legend:
    return Legend(name, MappingProxyType({c: LegendClass(col, fr, en) for c, (fr, en, col) in table.items()}), source)


#: OSO nomenclature since 2018 (23 classes): code -> (French name, English name, colour).
OSO_NOMENCLATURE: Mapping[int, tuple[str, str, str]] = MappingProxyType({
    1: ("Bâti dense", "Dense built-up area", "#ff00ff"),
    2: ("Bâti diffus", "Diffuse built-up area", "#ff55ff"),
    3: ("Zones industrielles et commerciales", "Industrial and commercial zones", "#ffaaff"),
    4: ("Surfaces routes", "Roads", "#00ffff"),
    5: ("Colza", "Rapeseed", "#ffff00"),
    6: ("Céréales à paille", "Straw cereals (wheat, barley...)", "#d0ff00"),
    7: ("Protéagineux", "Protein crops (peas, beans...)", "#a1d600"),
    8: ("Soja", "Soy", "#ffab44"),
    9: ("Tournesol", "Sunflower", "#d6d600"),
    10: ("Maïs", "Maize", "#ff5500"),
    11: ("Riz", "Rice", "#c5ffff"),
    12: ("Tubercules / racines", "Tubers / roots", "#aaaa61"),
    13: ("Prairies", "Grasslands (meadows)", "#aaaa00"),
    14: ("Vergers", "Orchards", "#aaaaff"),
    15: ("Vignes", "Vineyards", "#550000"),
    16: ("Forêts de feuillus", "Broad-leaved forest", "#009c00"),
    17: ("Forêts de conifères", "Coniferous forest", "#003200"),
    18: ("Pelouses", "Natural grasslands (lawns)", "#aaff00"),
    19: ("Landes ligneuses", "Woody moorlands", "#55aa7f"),
    20: ("Surfaces minérales", "Bare rock / mineral surfaces", "#ff0000"),
    21: ("Plages et dunes", "Beaches and dunes", "#ffb802"),
    22: ("Glaciers et neiges éternelles", "Glaciers and perpetual snow", "#bebebe"),
    23: ("Eau", "Water", "#0000ff"),
})

#: The 2016-2017 (17-class) codes onto the 23-class ones.  Exact where the class exists in both;
#: the two crop classes, split into several since 2018, go to their dominant successor: winter
#: crops -> straw cereals (6), summer crops -> maize (10).
OSO_2016_TO_2018: Mapping[int, int] = MappingProxyType({
    11: 10, 12: 6, 31: 16, 32: 17, 34: 18, 36: 19, 41: 1, 42: 2, 43: 3, 44: 4, 45: 20, 46: 21,
    51: 23, 53: 22, 211: 13, 221: 14, 222: 15,
})

_OSO_2016_NAMES = {
    11: ("Culture été", "Summer crops"),
    12: ("Culture hiver", "Winter crops"),
    31: ("Forêt feuillus", "Broad-leaved forest"),
    32: ("Forêt conifères", "Coniferous forest"),
    34: ("Pelouses", "Natural grasslands"),
    36: ("Landes ligneuses", "Woody moorlands"),
    41: ("Bâti continu", "Continuous urban fabric"),
    42: ("Bâti discontinu", "Discontinuous urban fabric"),
    43: ("Zones industrielles et commerciales", "Industrial and commercial units"),
    44: ("Surfaces routes", "Road surfaces"),
    45: ("Surfaces minérales", "Bare rock"),
    46: ("Plages et dunes", "Beaches, dunes and sand"),
    51: ("Eau", "Water bodies"),
    53: ("Glaciers ou neiges éternelles", "Glaciers and perpetual snow"),
    211: ("Prairies", "Intensive grasslands"),
    221: ("Vergers", "Orchards"),
    222: ("Vignes", "Vineyards"),
}

#: OSO nomenclature of the 2016 and 2017 maps (17 classes): code -> (French name, English name).
OSO_NOMENCLATURE_2016: Mapping[int, tuple[str, str]] = MappingProxyType(_OSO_2016_NAMES)

OSO_LEGEND = _legend("OSO (23 classes, since 2018)", OSO_NOMENCLATURE, "THEIA CES OSO nomenclature")

#: The 17-class legend, drawn with the colour of each class's 23-class successor.
OSO_LEGEND_2016 = Legend(
    "OSO (17 classes, 2016-2017)",
    MappingProxyType({c: LegendClass(OSO_NOMENCLATURE[OSO_2016_TO_2018[c]][2], fr, en)
                      for c, (fr, en) in _OSO_2016_NAMES.items()}),
    "CESBIO OSO 2016 nomenclature; colours of the 23-class successors",
)

SNOW_L2B_LEGEND = _legend("THEIA snow (LIS L2B)", {
    L2B_NO_SNOW: ("Pas de neige", "No snow", "#777777"),
    L2B_SNOW: ("Neige", "Snow", "#00ffff"),
    L2B_CLOUD: ("Nuage (et ombre de nuage)", "Cloud including cloud shadow", "#ffffff"),
}, "let-it-snow: THEIA snow product page and OTB colour table")

WASP_FLAG_LEGEND = _legend("WASP L3A flags", {
    0: ("Pas de donnée", "No data", "#000000"),
    1: ("Nuage", "Cloud", "#ffffff"),
    2: ("Neige", "Snow", "#00ffff"),
    3: ("Eau", "Water", "#0000ff"),
    4: ("Sol", "Land", "#8c6d31"),
}, "Hagolle et al. 2018, WASP processing model")


def legend_of(attrs: Mapping) -> Legend | None:
    """The legend described by a DataArray's attributes (alias of :meth:`Legend.from_attrs`)."""
    return Legend.from_attrs(attrs)
