"""Panel dashboards for THEIA thematic workshops (the ``ui`` extra).

``terra-lab workshop serve [THEME...]`` serves them with ``panel serve`` on 127.0.0.1; a page opens
in French, or in English with ``?lang=en``.

Pieces (one concept per module): ``_state`` (the user's choices, their checks, presets -> settings),
``_runner`` (the workflow in a worker thread, its steps search/read/compute/render, cancel at the
next step), ``_session`` (a worker's callbacks on its own session's event loop), ``_controls``
(parameter widgets), ``_progress_view`` (progress bar, Cancel, greyed results), ``_downloads``
(COG/NetCDF with provenance), ``_i18n`` (every word, FR and EN), ``_map_view`` and ``_tables``
(the result's map and tables); ``_common.DashboardBase`` puts them together, and a theme module
(snow, water, forest, biodiversity) declares its parameters and calls its workflow.
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
    """The page of ``theme`` for one session: in the language of the URL's ``?lang=fr|en`` (default French)."""
    import importlib

    module, cls = THEMES[theme].split(":")

    def page():
        import panel as pn

        lang = (pn.state.session_args.get("lang") or [b"fr"])[0].decode()
        return getattr(importlib.import_module(module), cls)(language=lang if lang in ("fr", "en") else "fr").template()

    return page


def _preload(themes: list[str]) -> None:
    """Import the themes' code now (Panel, HoloViews, the workflows and their numba kernels: seconds),
    not in the first visitor's session."""
    import importlib

    for theme in themes:
        importlib.import_module(THEMES[theme].split(":")[0])


def serve(themes: list[str] | None = None, *, port: int = 5006, address: str = "127.0.0.1", show: bool = False,
          prefix: str = "", allow_any_origin: bool = False, unix_socket: str | None = None, warm: bool = False):
    """Serve the dashboards (blocking) at ``http://address:port/<prefix>/<theme>``.

    ``unix_socket`` serves them on that socket instead of TCP (behind jupyter-server-proxy, see
    ``_proxy``): only its owner can connect (socket 0600, in the proxy's 0700 folder) and the
    browser reaches them through the Jupyter server, which checks the user's credentials and
    the websocket's origin; any origin is then accepted here.  On TCP only this host's own
    origins are, unless ``allow_any_origin``.  ``warm`` loads every theme's code before the
    first page is served, so that no visitor waits for it.
    """
    import contextlib

    from ._proxy import check_private_folder, listen, removed_on_exit, serve_on

    themes = themes or list(THEMES)
    unknown = [t for t in themes if t not in THEMES]
    if unknown:
        raise ValueError(f"unknown workshop theme(s) {unknown}; available: {sorted(THEMES)}")
    if unix_socket:
        check_private_folder(unix_socket)  # before anything is made or removed there
    with removed_on_exit(unix_socket) if unix_socket else contextlib.nullcontext():
        listening = listen(unix_socket) if unix_socket else None  # at once, before Panel's slow import
        import panel as pn

        pn.extension(sizing_mode="stretch_width")
        apps = {t: _app(t) for t in themes}
        if listening is not None:  # behind jupyter-server-proxy: warmed once it answers (see _proxy.serve_on)
            return serve_on(listening, apps, prefix=prefix, title="terra_lab workshops",
                            warm=(lambda: _preload(themes)) if warm else None)
        if warm:
            _preload(themes)
        origins = ["*"] if allow_any_origin else [f"{address}:{port}", f"localhost:{port}"]
        return pn.serve(apps, port=port, address=address, show=show, prefix=prefix,
                        websocket_origin=origins, title="terra_lab workshops")
