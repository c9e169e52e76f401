"""Panel dashboards for THEIA thematic workshops (the ``ui`` extra).

``terra-lab workshop serve [THEME...]`` serves them with ``panel serve`` on 127.0.0.1.
"""

from __future__ import annotations

__all__ = ["THEMES", "serve"]

#: theme name -> "module:class" (imported on demand: importing terra_lab loads no Panel)
THEMES = {
    "snow": "terra_lab.dashboards.snow:SnowDashboard",
    "water": "terra_lab.dashboards.water:WaterDashboard",
    "forest": "terra_lab.dashboards.forest:ForestDashboard",
    "biodiversity": "terra_lab.dashboards.biodiversity:BiodiversityDashboard",
}


def _app(theme: str):
    import importlib

    module, cls = THEMES[theme].split(":")
    return lambda: getattr(importlib.import_module(module), cls)().template()


def serve(themes: list[str] | None = None, *, port: int = 5006, address: str = "127.0.0.1", show: bool = False,
          prefix: str = "", allow_any_origin: bool = False):
    """Serve the dashboards (blocking) at ``http://address:port/<prefix>/<theme>``.

    ``prefix`` and ``allow_any_origin`` serve them behind jupyter-server-proxy (the browser
    then reaches them through the Jupyter server, under its authentication).
    """
    import panel as pn

    themes = themes or list(THEMES)
    unknown = [t for t in themes if t not in THEMES]
    if unknown:
        raise ValueError(f"unknown workshop theme(s) {unknown}; available: {sorted(THEMES)}")
    pn.extension(sizing_mode="stretch_width")
    origins = ["*"] if allow_any_origin else [f"{address}:{port}", f"localhost:{port}"]
    return pn.serve({t: _app(t) for t in themes}, port=port, address=address, show=show, prefix=prefix,
                    websocket_origin=origins, title="terra_lab workshops")
