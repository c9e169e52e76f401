"""What the page shows of a run: a progress bar with the current step in the page's language and
an estimate of the time left, a Cancel button, and the previous results greyed until the new
ones replace them (or come back as they were after an error or a cancel)."""

from __future__ import annotations

import panel as pn

from ._i18n import tr
from ._runner import StepEvent

__all__ = ["BUSY_STYLE", "IDLE_STYLE", "ProgressView"]

#: the previous results while a run computes: greyed and not clickable
BUSY_STYLE = {"opacity": "0.35", "pointer-events": "none", "filter": "grayscale(60%)", "transition": "opacity 0.2s"}
IDLE_STYLE = {"opacity": "1", "pointer-events": "auto", "filter": "none", "transition": "opacity 0.2s"}


class ProgressView:
    """The progress bar, its step text and the Cancel button of one page; ``greyed``: what is greyed
    while a run computes (the previous results, or the hint before a first result)."""

    def __init__(self, greyed: list, language: str):
        self.greyed = greyed
        self.language = language
        # not animated (active=False): ten pages with striped animated bars took 0.74 of a core in
        # Chromium (14.8 CPU s in 20 s, against 1.2 s still), on an attendee's laptop as on a shared server
        self.bar = pn.indicators.Progress(value=-1, max=100, active=False, bar_color="primary", visible=False,
                                          width=290, height=14, margin=(6, 10, 0, 10), label="progress")
        self.text = pn.pane.HTML("", visible=False, margin=(0, 10), name="step",
                                 styles={"font-size": "0.85em", "color": "#444"})
        self.cancel = pn.widgets.Button(label=tr("cancel", language), color="light", visible=False, width=110)

    def relabel(self, language: str) -> None:
        self.language = language
        self.cancel.label = tr("cancel", language)

    def started(self) -> None:
        """A run starts: the bar shows, the previous results grey."""
        for view in self.greyed:
            view.styles = BUSY_STYLE
        self.bar.value, self.bar.visible = -1, True
        self.cancel.disabled, self.cancel.visible = False, True

    def show(self, event: StepEvent) -> None:
        """Show the step ``event`` reports: its name in the page's language, how far, the time left."""
        lang = self.language
        name = tr(f"step_{event.step}", lang)
        if event.index < 0:
            text, self.bar.value = name, -1
        else:
            text = tr("step_of", lang).format(index=event.index + 1, total=event.total, step=name)
            self.bar.value = max(event.percent, 3)  # a sliver of bar from the first step on
        if event.remaining_s is not None and event.index >= 0:
            text += f" · {tr('remaining', lang).format(seconds=max(1, round(event.remaining_s)))}"
        self.text.object, self.text.visible = _escape(text), True

    def cancelling(self) -> None:
        self.cancel.disabled = True
        self.text.object, self.text.visible = _escape(tr("cancelling", self.language)), True

    def finished(self) -> None:
        """The run is over (done, failed or cancelled): the bar hides, the results come back."""
        for view in self.greyed:
            view.styles = IDLE_STYLE
        self.bar.visible = self.text.visible = self.cancel.visible = False


def _escape(text: str) -> str:
    import html

    return html.escape(text)
