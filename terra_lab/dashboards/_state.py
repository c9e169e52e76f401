"""A dashboard's state: what the user chose (area, period, catalogue, parameter mode, language,
the theme's parameters), its checks, and the one way its choices become the workflow's settings.

No widgets here: :mod:`._controls` draws this state, :mod:`._runner` runs the workflow.

A theme declares its settings (``settings_class``: the workflow's frozen dataclass, whose
defaults are the published values), its presets (``presets``: name -> settings instance) and
which parameters each mode shows (``_preset_params``, ``_standard_params``, ``_expert_params``);
a parameter named like a settings field is that field.  Then :meth:`DashboardState._settings`
is, in every theme:

* preset mode: the chosen preset, with the fields this mode shows taken from the page;
* standard and expert modes: the settings built from the page's values.

The parameters named like settings fields take their defaults from the settings class
(``param.Number(default=SnowSettings.ndsi_pass1)``): the published values live in the
workflow's dataclass only (a unit test checks every theme).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

import param

from ._i18n import PageError, tr

__all__ = ["COMMON_PARAMS", "DashboardState"]

#: the parameters every mode shows, in the page's order
COMMON_PARAMS = ("language", "mode", "west", "south", "east", "north")


class DashboardState(param.Parameterized):
    """Area, period, catalogue, mode and language of a dashboard, and its theme's parameters."""

    catalog = param.String(default="demo")
    collection = param.String(default="", doc="reflectance collection id (empty: found in the catalogue)")
    west = param.Number(default=6.28)
    south = param.Number(default=45.17)
    east = param.Number(default=6.34)
    north = param.Number(default=45.21)
    max_cloud = param.Number(default=100.0, bounds=(0, 100))
    mode: param.Selector[str] = param.Selector(default="preset", objects=["preset", "standard", "expert"])
    language: param.Selector[str] = param.Selector(default="fr", objects=["fr", "en"])
    preset: Any  # a theme's param.Selector over its presets' names

    #: the theme (a key of :data:`terra_lab.dashboards.THEMES`)
    theme: ClassVar[str] = "base"
    #: the workflow's settings dataclass (None: the theme has no settings)
    settings_class: ClassVar[type | None] = None
    #: preset name -> settings instance (the ``preset`` parameter chooses one)
    presets: ClassVar[dict[str, Any]] = {}
    #: settings field -> converter of the page's value (e.g. a text box holding "otsu" or a number)
    setting_parsers: ClassVar[dict[str, Callable[[Any], Any]]] = {}

    # ---------------------------------------------------------------- checks
    def aoi(self):
        """The area of interest (west, south, east, north in degrees), checked by :func:`terra_lab.catalog.parse_aoi`;
        an empty or reversed box raises its message in the page's language."""
        from ..catalog import parse_aoi

        if not (self.west < self.east and self.south < self.north):
            raise PageError(tr("bad_area", self.language).format(west=self.west, south=self.south, east=self.east,
                                                                  north=self.north))
        return parse_aoi((self.west, self.south, self.east, self.north))

    def _check_period(self, start, end) -> None:
        """An empty or reversed period raises its message, in the page's language."""
        if start is None or end is None or str(start) > str(end):
            raise PageError(tr("bad_period", self.language).format(start=start, end=end))

    def _sources(self) -> dict:
        """Catalogue and search options every workflow takes (an empty collection: found by kind),
        and the ``progress`` callable of the current run (see :mod:`._runner`)."""
        return {"catalog": self.catalog, "collection": self.collection.strip() or None, "max_cloud": self.max_cloud,
                "progress": getattr(self, "_workflow_progress", None)}

    # ----------------------------------------------------------------- modes
    def _visible_params(self) -> list[str]:
        """The parameters the current mode shows, in the page's order."""
        common = list(COMMON_PARAMS)
        if self.mode == "preset":
            return common + self._preset_params()
        if self.mode == "standard":
            return common + self._standard_params() + ["max_cloud"]
        return common + self._standard_params() + self._advanced_params()

    def _advanced_params(self) -> list[str]:
        """What only the expert mode shows: the search options, the catalogue and the theme's expert parameters."""
        return ["max_cloud", "catalog", "collection", *self._expert_params()]

    def _preset_params(self) -> list[str]:
        return ["preset"] if "preset" in self.param else []

    def _standard_params(self) -> list[str]:
        return []

    def _expert_params(self) -> list[str]:
        return []

    # -------------------------------------------------------------- settings
    def _setting(self, name: str):
        value = getattr(self, name)
        parse = self.setting_parsers.get(name)
        return parse(value) if parse else value

    def _settings(self):
        """The workflow's settings from this state (see the module's docstring)."""
        cls = self.settings_class
        if cls is None:
            return None
        fields = [f.name for f in dataclasses.fields(cls) if f.name in self.param]
        if self.mode == "preset" and self.presets:
            shown = set(self._visible_params())
            return dataclasses.replace(self.presets[self.preset], **{n: self._setting(n) for n in fields if n in shown})
        return cls(**{n: self._setting(n) for n in fields})
