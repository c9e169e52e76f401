"""Interactive (Bokeh/hvplot) plots inside ipywidgets, with no extra JupyterLab extension.

A HoloViews/hvplot object is rendered to a standalone Bokeh document (BokehJS inlined from
the installed package: no CDN) and shown in an ``<iframe srcdoc>`` of an ipywidgets HTML
widget, so it works inside widget layouts (``VBox``, ``Output``) on any Jupyter front end.
"""

from __future__ import annotations

import html

__all__ = ["bokeh_widget"]


def bokeh_widget(obj, *, width: int = 560, height: int = 260):
    """An ipywidgets ``HTML`` showing ``obj`` (an hvplot/HoloViews object or a Bokeh model)."""
    import holoviews as hv
    import ipywidgets as w
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    model = obj if hasattr(obj, "document") and not isinstance(obj, hv.core.Dimensioned) else hv.render(obj, backend="bokeh")
    page = file_html(model, INLINE, title="terra_lab plot")
    frame = (f'<iframe class="terra-plot" srcdoc="{html.escape(page, quote=True)}" '
             f'style="border:0;width:{width + 60}px;height:{height + 30}px"></iframe>')
    return w.HTML(frame)
