"""Dashboards without a browser: state checks, presets -> settings, the page's pieces through a
run (progress, greyed results, cancel, messages), and one language per page."""

import dataclasses
import html
import importlib
import itertools
import threading
from typing import ClassVar

import numpy as np
import panel as pn
import param
import pytest
import xarray as xr

from terra_lab.dashboards import THEMES
from terra_lab.dashboards._common import DashboardBase
from terra_lab.dashboards._i18n import LABELS, option_label, tr
from terra_lab.dashboards._progress_view import BUSY_STYLE, IDLE_STYLE
from terra_lab.dashboards._state import COMMON_PARAMS


def theme_class(theme):
    module, cls = THEMES[theme].split(":")
    return getattr(importlib.import_module(module), cls)


# ----------------------------------------------------------------------------- a toy theme
@dataclasses.dataclass(frozen=True)
class ToySettings:
    gain: float = 2.0
    label: str = "a"


@dataclasses.dataclass(frozen=True)
class ToyResult:
    layer: xr.DataArray
    notes: tuple = ()


_RUN_IDS = itertools.count()


class ToyDashboard(DashboardBase):
    """A theme whose workflow is a fake: it reports its steps and can be held at "read"."""

    gain = param.Number(default=ToySettings.gain)
    label = param.String(default=ToySettings.label)
    preset = param.Selector(default="one", objects=["one", "two"])
    product = param.Selector(default="v", objects=["v"])
    theme = "snow"  # borrows the snow title
    settings_class = ToySettings
    presets: ClassVar[dict] = {"one": ToySettings(1.0, "p1"), "two": ToySettings(3.0, "p2")}

    def __init__(self, **params):
        super().__init__(**params)
        self.gate, self.reached, self.calls, self.redraws = threading.Event(), threading.Event(), [], 0
        self.gate.set()

    def _run_key(self):  # each run of this fake is held or released by its test: never shared
        return (id(self), next(_RUN_IDS))

    def _preset_params(self):
        return ["preset", "gain"]

    def _standard_params(self):
        return ["gain", "label"]

    def _compute(self):
        sources = self._sources()
        self.calls.append((sources, self._settings()))
        progress = sources["progress"]
        progress("search")
        progress("read")
        self.reached.set()
        assert self.gate.wait(10)
        progress("compute")
        gain = self._settings().gain
        return ToyResult(xr.DataArray(np.full((2, 2), gain), dims=("y", "x"), name="v"))

    def _layer(self, result):
        return result.layer

    def _statistics(self, result):
        return pn.pane.Markdown(f"gain {float(result.layer[0, 0])}", name="stats")

    def _redraw(self, *_):  # the map is helper C2's MapView: counted here, tested with the themes
        self.redraws += 1


# ------------------------------------------------------------------------------- state
def test_presets_to_settings_in_every_mode():
    board = ToyDashboard()
    assert board._settings() == ToySettings(2.0, "p1")          # preset mode: the preset, with the fields
    board.gain = 5.0                                             # this mode shows taken from the page
    assert board._settings() == ToySettings(5.0, "p1")
    board.mode = "standard"
    assert board._settings() == ToySettings(5.0, "a")           # standard: from the page's values
    board.mode, board.preset = "preset", "two"
    assert board._settings() == ToySettings(5.0, "p2")


@pytest.mark.parametrize("theme", list(THEMES))
def test_every_theme_takes_its_defaults_and_presets_from_its_workflow(theme):
    cls = theme_class(theme)
    board = cls()
    defaults = dataclasses.asdict(cls.settings_class())
    for name, value in defaults.items():
        if name in board.param:   # one published value, in the workflow's dataclass
            assert cls.setting_parsers.get(name, lambda v: v)(getattr(board, name)) == value, name
    for name, preset in cls.presets.items():
        board = cls(mode="preset", preset=name)
        shown = set(board._visible_params())
        assert board._settings() == dataclasses.replace(preset, **{f: board._setting(f) for f in defaults
                                                                   if f in shown and f in board.param})
    standard = cls(mode="standard")._settings()
    assert isinstance(standard, cls.settings_class)


def test_water_threshold_text_becomes_a_number_or_otsu():
    cls = theme_class("water")
    assert cls(mode="expert", threshold=" 0.05 ")._settings().threshold == 0.05
    assert cls(mode="expert", threshold="otsu")._settings().threshold == "otsu"
    with pytest.raises(ValueError, match="otsu"):
        cls(mode="expert", threshold="high")._settings()


@pytest.mark.parametrize("lang, words", [("fr", "est vide ou inversée"), ("en", "is empty or reversed")])
def test_period_and_area_checks(lang, words):
    board = ToyDashboard(language=lang)
    with pytest.raises(ValueError, match=words):
        board._check_period("2024-05-01", "2024-04-01")
    board._check_period("2024-04-01", "2024-04-01")  # one day is a period
    board.east = board.west - 1
    with pytest.raises(ValueError, match=words):
        board.aoi()


def test_modes_show_their_parameters():
    board = ToyDashboard()
    assert board._visible_params() == [*COMMON_PARAMS, "preset", "gain"]
    board.mode = "standard"
    assert board._visible_params() == [*COMMON_PARAMS, "gain", "label", "max_cloud"]
    board.mode = "expert"
    assert board._visible_params()[-3:] == ["max_cloud", "catalog", "collection"]


# ------------------------------------------------------------------------------- a run
def test_a_run_shows_its_steps_greys_the_old_result_and_replaces_it():
    board = ToyDashboard(language="en", mode="standard")
    page = board.template()
    assert board._hint.visible and not board._results.visible and not board._progress.bar.visible
    board._on_compute()
    assert board._message.alert_type == "success" and board._message.object == tr("done", "en")
    assert board._results.visible and not board._hint.visible and board.redraws == 1
    assert board._results.styles == IDLE_STYLE and not board._progress.bar.visible and not board._button.disabled
    assert board.calls[0][0]["catalog"] == "demo" and board.calls[0][1] == ToySettings(2.0, "a")
    # a second run in the worker thread: while it waits at "read" the old result is greyed, the step shown
    board.gate.clear()
    board.reached.clear()
    board.gain = 7.0
    board._on_run()
    assert board.reached.wait(10)
    assert board._results.styles == BUSY_STYLE and board._button.disabled and board._progress.cancel.visible
    assert board._progress.bar.visible and board._progress.bar.value == 25
    assert "Step 2 of 4: reading the images" in board._progress.text.object
    assert "s left" in board._progress.text.object  # estimated from the first run
    board.gate.set()
    _wait(lambda: not board._runner.running)
    assert float(board.result.layer[0, 0]) == 7.0 and board._results.styles == IDLE_STYLE
    assert "gain 7.0" in board._stats[0].object and board._cog_button.disabled is False
    del page


def test_cancel_keeps_the_previous_result():
    board = ToyDashboard(language="fr", mode="standard")
    board._on_compute()
    first = board.result
    board.gate.clear()
    board.reached.clear()
    board._on_run()
    assert board.reached.wait(10)
    board._on_cancel()
    assert board._progress.cancel.disabled and tr("cancelling", "fr") in html.unescape(board._progress.text.object)
    board.gate.set()
    _wait(lambda: not board._runner.running)
    assert board.result is first and board._results.styles == IDLE_STYLE and not board._progress.bar.visible
    assert board._message.object.startswith("Calcul annul") and not board._button.disabled


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_errors_show_in_the_page_language_and_the_page_stays_usable(lang):
    board = ToyDashboard(language=lang)
    board.east = board.west - 1

    def bad(*_):
        board.aoi()

    board._compute = bad
    board._on_compute()
    assert board._message.alert_type == "danger" and board._message.object.startswith(tr("error", lang))
    assert not board._button.disabled and board._results.styles == IDLE_STYLE and board._hint.visible


def _wait(condition, timeout=10.0):
    import time

    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "the run did not finish"
        time.sleep(0.02)


# ------------------------------------------------------------------------ one language per page
def page_strings(board) -> list[str]:
    """Every text the page shows (widget labels and options, panes' texts, cards' titles), as a browser
    would, from the template's pieces and the parameter widgets of the current mode."""
    from terra_lab.dashboards._controls import controls

    pieces = [*board._sidebar()[:-1], controls(board, board._advanced_params() if board.mode == "expert" else []),
              *board._main()]
    texts = []
    for piece in pieces:
        for obj in piece.select():
            if isinstance(obj, pn.widgets.Widget):
                texts.append(str(getattr(obj, "label", None) or obj.name))
                options = getattr(obj, "options", None)
                if isinstance(options, dict):
                    texts += list(options)
            elif isinstance(obj, pn.pane.Markdown | pn.pane.HTML | pn.pane.Alert) and obj.visible:
                import html

                texts.append(html.unescape(str(obj.object)))
            elif isinstance(obj, pn.Card):
                texts.append(obj.title)
    return texts


def other_language_strings(lang: str) -> set[str]:
    from terra_lab.dashboards._i18n import OPTION_LABELS, PARAM_LABELS

    other = "en" if lang == "fr" else "fr"
    tables = [LABELS, PARAM_LABELS, *OPTION_LABELS.values()]
    out = set()
    for table in tables:
        for entry in table.values():
            if entry[other] != entry[lang]:
                out |= {part.strip() for part in _fragments(entry[other]) if len(part.strip()) >= 4}
    return out


def _fragments(text):
    import re

    return re.split(r"\{[a-z_]+\}", text)


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("mode", ["preset", "standard", "expert"])
@pytest.mark.parametrize("theme", list(THEMES))
def test_every_page_shows_one_language(theme, mode, lang):
    import re

    board = theme_class(theme)(language=lang, mode=mode)
    texts = "\n".join(page_strings(board))
    foreign = [s for s in other_language_strings(lang) if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", texts)]
    assert not foreign, f"{theme} ({mode}, {lang}) shows {foreign}"
    from terra_lab.dashboards._i18n import PARAM_LABELS

    missing = [name for name in board._visible_params() if name not in PARAM_LABELS]
    assert not missing, f"no label in _i18n.PARAM_LABELS for {missing}"


@pytest.mark.parametrize("theme", list(THEMES))
def test_selector_options_have_labels_and_keep_their_values(theme):
    from terra_lab.dashboards._controls import parameter_widget

    board = theme_class(theme)(language="fr")
    for name in ("mode", "preset", "product", "habitat"):
        if name not in board.param:
            continue
        widget = parameter_widget(board, name, "fr")
        assert list(widget.options.values()) == list(board.param[name].objects)
        for value in board.param[name].objects:
            assert option_label(name, value, "fr") != option_label(name, value, "en") or name == "mode", (name, value)
        widget.value = board.param[name].objects[-1]
        assert getattr(board, name) == board.param[name].objects[-1]   # the widget sets the value, not the label
    language = parameter_widget(board, "language", "fr")
    assert language.options == {"Français": "fr", "English": "en"}


def test_switching_language_relabels_the_page():
    board = ToyDashboard(language="fr")
    board._say("Calcul terminé", "success")
    board.language = "en"
    assert board._button.label == "Compute" and board._nc_button.label == "Download (NetCDF)"
    assert not board._message.visible   # a French message does not stay on an English page
    assert "Choose an area" in board._hint.object and board._progress.cancel.label == "Cancel"


def test_forest_dashboard_searches_with_fordeads_cloud_filter():
    """The dashboard's default cloud limit is fordead's (40 %), as the workflow's: with 100 % it added
    cloudier training dates and disagreed with fordead on 8 % of ZoneTest forest pixels."""
    from terra_lab.dashboards.forest import ForestDashboard
    from terra_lab.products.params import FORDEAD_MAX_CLOUDINESS

    d = ForestDashboard()
    assert d.max_cloud == FORDEAD_MAX_CLOUDINESS == 40
    assert d._sources()["max_cloud"] == FORDEAD_MAX_CLOUDINESS


@pytest.mark.parametrize("error, sentence", [
    ("DateRangeError", "La période est vide ou inversée"),
    ("GridMismatchError", "Les données d'entrée ne conviennent pas"),  # nearest listed base type: RasterInputError
    ("ZeroDivisionError", "Le calcul a échoué"),
])
def test_library_errors_on_a_french_page_are_french_with_the_message_folded(error, sentence):
    """terra_lab's messages are English: a French page says what the error type means in French and
    keeps the original message (which names the input and the fix) folded under the details."""
    import builtins

    from terra_lab import errors

    cls = getattr(errors, error, None) or getattr(builtins, error)
    message = "the dates <b>2024-09-01</b> .. 2024-01-01 are reversed: swap them"
    fr, en = ToyDashboard(language="fr"), ToyDashboard(language="en")
    for board in (fr, en):
        def bad(*_):
            raise cls(message)

        board._compute = bad
        board._on_compute()
    assert sentence in html.unescape(fr._message.object) and "reversed" not in fr._message.object
    assert fr._details.visible and fr._details.collapsed and "&#60;b&#62;" in fr._details_text.object
    assert "reversed" in html.unescape(en._message.object) and not en._details.visible


def test_a_dashboards_own_check_is_shown_as_written_in_the_page_language():
    board = ToyDashboard(language="fr")
    board.east = board.west - 1
    board._compute = lambda *_: board.aoi()
    board._on_compute()
    said = html.unescape(board._message.object)
    assert said.startswith("Erreur : ") and "Le calcul a échoué" not in said and not board._details.visible
