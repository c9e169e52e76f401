"""The workshop dashboard: its pieces put together.

* state (:mod:`._state`): the user's choices, their checks, presets -> settings;
* run (:mod:`._runner`): the theme's workflow in a worker thread, steps, cancel;
* views: parameter widgets (:mod:`._controls`), progress (:mod:`._progress_view`), the map and
  pixel series (:mod:`._map_view`), downloads (:mod:`._downloads`), words (:mod:`._i18n`).

A theme subclass declares its parameters and settings (see :mod:`._state`) and defines
``_compute`` (a call of its workflow in :mod:`terra_lab.workflows` with ``**self._sources()``,
which returns a typed result), ``_layer`` (the map of the result) and ``_statistics``; it
displays results and never computes products.
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any, ClassVar

import panel as pn

from ..errors import NoItemsFoundError
from ._controls import controls
from ._downloads import cog_bytes, netcdf_bytes, provenance
from ._i18n import LABELS, PARAM_LABELS, error_text, note_text, page_text, param_label, tr
from ._map_view import MapView
from ._progress_view import ProgressView
from ._runner import Runner, StepEvent
from ._session import dispatcher
from ._shared_render import in_memory
from ._shared_runs import shared_run
from ._state import DashboardState

__all__ = ["LABELS", "PARAM_LABELS", "DashboardBase", "page_text", "param_label", "tr"]

log = logging.getLogger("terra_lab.dashboards")

#: an alert as high as its text (Bootstrap's paragraph margins would double it)
_COMPACT_ALERT = ".alert { padding: 0.5em 0.9em; margin-bottom: 0; } p { margin: 0; }"

#: the page's header (language-neutral: the theme's title is in the main area, in the page's language)
HEADER = "terra_lab · THEIA"


class DashboardBase(MapView, DashboardState, pn.viewable.Viewer):
    """Base of the theme dashboards (see the module's docstring)."""

    #: a theme with several analyses (an ``analysis`` parameter): analysis -> the products it offers, the
    #: first shown by default; switching the analysis offers them and the heading ``<theme>_<analysis>``
    analysis_products: ClassVar[dict[str, list[str]]] = {}

    def __init__(self, **params):
        super().__init__(**params)
        lang = self.language
        self.result: Any = None
        self._button = pn.widgets.Button(label=tr("compute", lang), color="primary", width=170)
        self._button.on_click(self._on_run)
        self._message = pn.pane.Alert("", alert_type="light", visible=False, name="message", margin=(5, 10),
                                      stylesheets=[_COMPACT_ALERT])
        # the original (English) message of an error on a page in another language, folded
        self._details_text = pn.pane.Markdown("", margin=(0, 5))
        self._details = pn.Card(self._details_text, title=tr("error_details", lang), collapsed=True, visible=False,
                                margin=(0, 10), name="details")
        self._heading = pn.pane.Markdown(f"## {page_text(tr(self.theme, lang))}", margin=(0, 10), name="heading")
        self._hint = pn.pane.Alert(page_text(tr("empty_hint", lang)), alert_type="info", name="hint")
        # fixed size: a stretched pane would stretch the frame, break the 1:1 aspect and push the colour bar out
        self._map = pn.pane.HoloViews(None, name="map")
        self._series = pn.pane.HoloViews(None, sizing_mode="stretch_width", height=260, name="series", visible=False)
        self._point = pn.pane.Markdown("", name="point")
        self._stats = pn.Column()
        self._cog_button = pn.widgets.FileDownload(callback=self._cog_bytes, filename=f"terra_lab_{self.theme}.tif",
                                                   label=tr("download_cog", lang), color="success", disabled=True)
        self._nc_button = pn.widgets.FileDownload(callback=self._nc_bytes, filename=f"terra_lab_{self.theme}.nc",
                                                  label=tr("download_nc", lang), disabled=True)
        self._downloads = pn.Row(self._cog_button, self._nc_button)
        self._results = pn.Column(self._map, self._point, self._series, self._downloads, self._stats,
                                  sizing_mode="stretch_width", visible=False, name="results")
        self._progress = ProgressView([self._hint, self._results], lang)
        self._progress.cancel.on_click(self._on_cancel)
        self._runner = Runner(self.theme, on_step=self._on_step, on_done=self._on_done, on_error=self._on_error,
                              on_cancelled=self._on_cancelled)
        self._workflow_progress = None
        self.param.watch(self._relabel, "language")
        if "analysis" in self.param:  # a theme with several analyses: their products and heading
            self._on_analysis()
            self.param.watch(self._on_analysis, "analysis")
        self.param.watch(self._show_result, ["product"] if "product" in self.param else [])

    # ------------------------------------------------------- what a theme defines
    def _compute(self):
        """The theme's workflow called with this state (``**self._sources()`` included): its typed result."""
        raise NotImplementedError

    def _layer(self, result):
        """The map (a 2-D DataArray) of ``result`` for the chosen product."""
        raise NotImplementedError

    def _statistics(self, result):
        """The table (a Panel pane) of ``result``."""
        raise NotImplementedError

    # ------------------------------------------------------------ the analysis
    def _on_analysis(self, *_):
        """The products the analysis offers (:attr:`analysis_products`; the current one kept if it is one
        of them), and the heading."""
        products = self.analysis_products.get(str(getattr(self, "analysis", "")))
        if products:
            self.param["product"].objects = products
            if getattr(self, "product", None) not in products:
                self.param.update(product=products[0])
        self._relabel_heading()

    def _analysis_of(self, result) -> str:
        """The analysis that computed ``result`` (pages with :attr:`analysis_products` say which)."""
        raise NotImplementedError

    def _shown(self, result) -> str:
        """The product drawn for ``result``: the chosen one if the result has it, else its analysis' first."""
        products, chosen = self.analysis_products[self._analysis_of(result)], getattr(self, "product", None)
        return chosen if chosen in products else products[0]

    def _heading_key(self) -> str:
        """The heading's label: the theme's, or ``<theme>_<analysis>`` (when labelled) for an analysis
        other than the default one."""
        analysis = getattr(self, "analysis", None)
        if analysis is None or analysis == self.param["analysis"].default:
            return self.theme
        key = f"{self.theme}_{analysis}"
        return key if key in LABELS else self.theme

    def _relabel_heading(self, *_):
        self._heading.object = f"## {page_text(tr(self._heading_key(), self.language))}"

    # -------------------------------------------------------------- the run
    def _work(self, progress):
        """The worker thread's part: the theme's workflow, reporting its steps to ``progress``; run
        once for every session asking the same computation at the same time (:mod:`._shared_runs`)."""
        def compute(relay):
            self._workflow_progress = relay
            try:
                result = in_memory(self._compute())  # read once for every session drawing it
                self.prepare_map(result)  # its map's shared rasters and relief, here and not on the event loop
                return result
            finally:
                self._workflow_progress = None

        return shared_run(self._run_key(), compute, progress, cancelled=lambda: self._runner.cancelled)

    def _run_key(self) -> tuple:
        """What the computation depends on: the theme's compute function and every parameter but
        the page's language and the widget's own name."""
        values = {k: v for k, v in self.param.values().items() if k not in ("name", "language")}
        return (type(self).__qualname__, getattr(self._compute, "__func__", self._compute),
                json.dumps(values, default=str, sort_keys=True))

    def _on_run(self, _event=None):
        """The run button: the workflow in a worker thread; this session's page shows its steps."""
        if self._runner.running:  # a double click: one run at a time
            return
        self._runner.dispatch = dispatcher()
        self._busy()
        self._runner.start(self._work, self._render)

    def _on_compute(self, _event=None):
        """The same run in the calling thread, returning when it is over (notebooks, tests)."""
        self._busy()
        self._runner.run(self._work, self._render)

    def _on_cancel(self, _event=None):
        self._runner.cancel()
        self._progress.cancelling()

    def _busy(self):
        self._button.disabled = True
        self._message.visible = self._details.visible = False
        self._progress.started()

    def _idle(self):
        self._button.disabled = False
        self._progress.finished()

    def _on_step(self, event: StepEvent):
        self._progress.show(event)

    def _render(self, result):
        """The render step, on the page's event loop: the new result replaces the previous one
        (which stays, as it was, if the new one cannot be drawn)."""
        previous, self.result = self.result, result
        try:
            self._show_result()
        except Exception:
            self.result = previous
            self._show_result()
            raise
        self._cog_button.disabled = self._nc_button.disabled = False
        self._hint.visible, self._results.visible = False, True

    def _on_done(self, result):
        self._idle()
        notes = getattr(result, "notes", ())
        done = tr("done", self.language)
        said = "; ".join(note_text(n, self.language) for n in notes)
        self._say(f"{done} ({said})" if notes else done, "warning" if notes else "success")

    def _on_error(self, e: BaseException):
        self._idle()
        if isinstance(e, NoItemsFoundError):
            self._say(tr("no_data", self.language), "warning", details=str(e))
            return
        log.error("dashboard %s failed: %s\n%s", self.theme, e, "".join(traceback.format_exception(e)))
        said, details = error_text(e, self.language)
        self._say(said, "danger", details=details)

    def _on_cancelled(self):
        self._idle()
        self._say(tr("cancelled", self.language), "secondary")

    # ----------------------------------------------------------------- views
    def _show_result(self, *_):
        """Map and table of the current result and product."""
        if self.result is None:
            return
        self._redraw()
        self._stats[:] = [self._statistics(self.result)]

    def _say(self, text: str, kind: str = "info", details: str = ""):
        """Show ``text`` (plain text: escaped, never read as Markdown or HTML) in the page's alert, and
        ``details`` (e.g. a library's English message) folded under it."""
        self._message.object = page_text(text)
        self._message.param.update(alert_type=kind)
        self._message.visible = bool(text)
        self._details_text.object = page_text(details)
        self._details.collapsed, self._details.visible = True, bool(text and details)

    def _relabel(self, *_):
        lang = self.language
        self._button.label = tr("compute", lang)
        self._cog_button.label = tr("download_cog", lang)
        self._nc_button.label = tr("download_nc", lang)
        self._relabel_heading()
        self._hint.object = page_text(tr("empty_hint", lang))
        self._progress.relabel(lang)
        if self._message.visible:  # a message of the other language would stay: hide it
            self._message.visible = self._details.visible = False
        self._details.title = tr("error_details", lang)
        self._show_result()

    # ------------------------------------------------------------- downloads
    def _result_attrs(self) -> dict:
        """Provenance attributes of the computed product (algorithm, parameters, source items)."""
        return dict(self._layer(self.result).attrs)

    def _provenance(self) -> dict:
        return provenance(self._result_attrs(), self.theme, {k: getattr(self, k) for k in self._visible_params()})

    def _cog_bytes(self):
        return cog_bytes(self._layer(self.result), self._provenance())

    def _nc_bytes(self):
        return netcdf_bytes(self._layer(self.result), self._provenance())

    # ---------------------------------------------------------------- layout
    def controls(self):
        """The parameter widgets of the current mode, labelled in the chosen language (redrawn when the
        mode, the language or, in a theme with several analyses, the ``analysis`` changes)."""
        watched = [self.param.mode, self.param.language, *([self.param.analysis] if "analysis" in self.param else [])]
        return pn.bind(lambda *_: controls(self, self._advanced_params() if self.mode == "expert" else []), *watched)

    def _sidebar(self) -> list:
        """Run and Cancel first (above the fold on any screen), the progress and the message, then the parameters."""
        return [pn.Row(self._button, self._progress.cancel, margin=(0, 0, 5, 0)), self._progress.bar,
                self._progress.text, self._message, pn.Column(self._details, margin=0),  # a template's root Card
                self.controls()]  # ignores visible=False (Panel 1.9): nested in a Column, it hides

    def _main(self) -> list:
        return [self._heading, self._hint, self._results]

    def __panel__(self):
        return pn.Row(pn.Column(*self._sidebar(), width=330),
                      pn.Column(*self._main(), sizing_mode="stretch_width"), sizing_mode="stretch_width")

    def template(self):
        """The dashboard in a page template, as ``terra-lab workshop serve`` shows it."""
        return pn.template.BootstrapTemplate(title=HEADER, sidebar=self._sidebar(), main=self._main(),
                                             header_background="#0b5394")
