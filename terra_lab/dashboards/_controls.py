"""The parameter widgets of a dashboard, compact enough for a 1280x720 screen: language and mode
side by side, the area as two rows of two boxes, dates in pairs, the theme's parameters, and
the expert mode's parameters in a card that folds.  Every label, selector options included,
comes from :mod:`._i18n` in the page's language; the option values stay what the workflow takes."""

from __future__ import annotations

import panel as pn
import param

from ._i18n import option_label, param_label, tr

__all__ = ["controls", "parameter_widget"]

#: the area's boxes: lower-left corner, then upper-right corner
_AOI = ("west", "south", "east", "north")
_HALF = 140  # px: a widget sharing a row of the 330 px sidebar


def parameter_widget(state: param.Parameterized, name: str, lang: str, **options) -> pn.widgets.Widget:
    """The widget of parameter ``name`` of ``state``, linked both ways, labelled in ``lang``
    (a selector shows its options' labels in ``lang``; a date, a date picker)."""
    p = state.param[name]
    spec = {"name": param_label(name, lang), **options}
    if isinstance(p, param.Selector):
        spec["options"] = {option_label(name, v, lang): v for v in p.objects}
    kind: type[pn.widgets.Widget]
    if isinstance(p, param.Date):
        kind = pn.widgets.DatePicker
    elif name in _AOI:
        kind = pn.widgets.FloatInput
        spec.update(step=0.01, format="0.0000")
    else:
        kind = pn.Param.widget_type(p)
    if kind is pn.widgets.DatePicker:  # the same text size as the other boxes
        spec["stylesheets"] = [".bk-input { font-size: 14px; }"]
    if "description" in kind.param:  # no tooltip: the parameters' docs are written for programmers, in English
        spec["description"] = None
    return kind.from_param(p, **spec)


def _pairs(widgets: list) -> list:
    """Widgets of the same compact kind (dates, inputs, selects) two per row; others one per row."""
    rows, i = [], 0
    compact = (pn.widgets.DatePicker, pn.widgets.FloatInput, pn.widgets.IntInput)
    while i < len(widgets):
        w = widgets[i]
        nxt = widgets[i + 1] if i + 1 < len(widgets) else None
        if isinstance(w, compact) and type(nxt) is type(w):
            rows.append(pn.Row(w, nxt, margin=0))
            i += 2
        else:
            rows.append(w)
            i += 1
    return rows


def controls(state, advanced: list[str]) -> pn.Column:
    """The widgets of ``state``'s current mode in its language; ``advanced``: the names shown in the
    folding expert card (the expert mode's own parameters)."""
    lang = state.language
    names = state._visible_params()
    half = {"width": _HALF, "margin": (2, 5)}
    head = pn.Row(*(parameter_widget(state, n, lang, **half) for n in ("language", "mode")), margin=0)
    area = [parameter_widget(state, n, lang, **half) for n in _AOI]
    main = [parameter_widget(state, n, lang, **half) if isinstance(state.param[n], param.Date)
            else parameter_widget(state, n, lang, width=2 * _HALF + 10, margin=(2, 5))
            for n in names if n not in ("language", "mode", *_AOI) and n not in advanced]
    items = [head, pn.Row(area[0], area[1], margin=0), pn.Row(area[2], area[3], margin=0), *_pairs(main)]
    extra = [parameter_widget(state, n, lang, width=2 * _HALF - 10, margin=(2, 5)) for n in names if n in advanced]
    if extra:
        items.append(pn.Card(*extra, title=tr("expert_params", lang), collapsed=False, margin=(5, 10, 5, 5),
                             header_background="#f0f0f0", width=2 * _HALF + 10))
    return pn.Column(*items, margin=0, name="parameters")
