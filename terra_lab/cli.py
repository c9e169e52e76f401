"""The ``terra-lab`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time

from .errors import TerraLabError

__all__ = ["main"]


def _demo_build(args) -> int:
    from .demo import build

    dest = build(args.dest, force=args.force)
    print(f"demo archive ready in {dest}")
    return 0


def _ingest(args) -> int:
    from .catalog import LocalCatalog
    from .catalog._ingest import ingest, local_catalog

    cat = LocalCatalog(args.catalog) if args.catalog else local_catalog()

    def count() -> dict[str, int]:
        return {c: len(cat.search(collections=c).items) for c in cat.collection_ids()}

    before = count()
    ingest(args.path, collection=args.collection, catalog=cat)
    for coll, n in sorted(count().items()):  # thematic products go to their own collections
        if n != before.get(coll, 0) or coll == args.collection:
            print(f"collection {coll!r} now holds {n} items ({n - before.get(coll, 0):+d})")
    return 0


def _open_local(name: str):
    from . import catalog
    from .catalog._ingest import local_catalog

    return local_catalog() if name == "local" else catalog.open(name)


def _search(args) -> int:
    cat = _open_local(args.catalog)
    bbox = [float(v) for v in args.bbox.split(",")] if args.bbox else None
    res = cat.search(bbox, args.dates, args.collection, args.max_cloud, args.limit)
    cols = ["id", "datetime", "eo:cloud_cover"]
    print(res.gdf[cols].to_string(index=False) if len(res) else "no items found")
    return 0


def _collections(args) -> int:
    cat = _open_local(args.catalog)
    print("\n".join(cat.collection_ids()))
    return 0


def _interrupt(*_) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one clean-up, even if signalled again
    raise KeyboardInterrupt


def _serve(args) -> int:
    from .catalog._server import PgStacServer

    cat = _open_local(args.catalog)
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM, in start-up too, stops what was started
    try:
        with PgStacServer(cat, port=args.port) as srv:
            print(f"STAC API on {srv.url} (collections {cat.collection_ids()}); Ctrl-C to stop", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    return 0


def _port(text: str, *, zero: bool = True) -> int:
    """argparse type: a TCP port (0: the server chooses a free one and announces it, where ``zero``)."""
    from .catalog._server import validate_port

    try:
        port = validate_port(int(text))
        if port == 0 and not zero:
            raise ValueError
        return port
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port: give 1..65535"
                                         + (", or 0 to let the server choose a free one" if zero else "")) from None


def _collection_id(text: str) -> str:
    """argparse type: a collection id that is safe as a file name."""
    from .catalog._ids import validate_collection_id

    try:
        return validate_collection_id(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _workshop(args) -> int:
    from .dashboards import serve

    where = f"unix socket {args.unix_socket}" if args.unix_socket else f"http://{args.address}:{args.port}/"
    print(f"workshop dashboards on {where} ({', '.join(args.themes) or 'all themes'}); Ctrl-C to stop", flush=True)
    serve(args.themes or None, port=args.port, address=args.address, prefix=args.prefix,
          allow_any_origin=args.allow_any_origin, unix_socket=args.unix_socket, warm=args.warm)
    return 0


def _info(args) -> int:
    from ._paths import data_home, demo_dir
    from .demo import is_built

    print(json.dumps({"data_home": str(data_home()), "demo": str(demo_dir()), "demo_built": is_built()}, indent=1))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="terra-lab", description="THEIA / DATA TERRA data in Jupyter")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the embedded demo archive").add_subparsers(dest="action", required=True)
    b = demo.add_parser("build", help="write the demo archive (deterministic, ~20 s, ~160 MB)")
    b.add_argument("--dest", help="folder (default: $TERRA_LAB_HOME/demo)")
    b.add_argument("--force", action="store_true", help="rebuild even if present")
    b.set_defaults(func=_demo_build)

    i = sub.add_parser("ingest", help="index THEIA L2A products (folder, .zip read in place, or .tgz) into a local catalogue")
    i.add_argument("path")
    i.add_argument("--collection", default="SENTINEL2_L2A_THEIA", type=_collection_id)
    i.add_argument("--catalog", help="catalogue folder (default: $TERRA_LAB_HOME/catalog)")
    i.set_defaults(func=_ingest)

    cat = sub.add_parser("catalog", help="search or serve a catalogue").add_subparsers(dest="action", required=True)
    s = cat.add_parser("search", help="search and print a table")
    s.add_argument("--catalog", default="demo", help="demo, local, theia, geodes, earth-search, a URL or a folder")
    s.add_argument("--bbox", help="west,south,east,north in degrees")
    s.add_argument("--dates", help="e.g. 2023-09-01/2024-08-31")
    s.add_argument("--collection", action="append")
    s.add_argument("--max-cloud", type=float)
    s.add_argument("--limit", type=int)
    s.set_defaults(func=_search)
    c = cat.add_parser("collections", help="list a catalogue's collection ids")
    c.add_argument("--catalog", default="demo",
                   help="demo, local, theia, geodes ($GEODES_API_KEY), earth-search, a URL or a folder")
    c.set_defaults(func=_collections)
    v = cat.add_parser("serve", help="serve a local catalogue as a STAC API on 127.0.0.1 (stac-fastapi-pgstac)")
    v.add_argument("--catalog", default="demo", help="demo, local or a catalogue folder")
    v.add_argument("--port", type=_port, default=8082, help="1..65535, or 0 for a free one (default 8082)")
    v.set_defaults(func=_serve)

    ws = sub.add_parser("workshop", help="Panel dashboards of the THEIA workshops").add_subparsers(dest="action", required=True)
    wserve = ws.add_parser("serve", help="serve the dashboards with panel on 127.0.0.1")
    wserve.add_argument("themes", nargs="*", help="snow (default: all)")
    wserve.add_argument("--port", type=lambda t: _port(t, zero=False), default=5006)
    wserve.add_argument("--address", default="127.0.0.1")
    wserve.add_argument("--prefix", default="", help="URL prefix (behind jupyter-server-proxy)")
    wserve.add_argument("--allow-any-origin", action="store_true", help="accept websocket connections from any origin (proxy)")
    wserve.add_argument("--unix-socket", metavar="PATH", help="serve on this Unix socket (its folder must be private, 0700) "
                        "instead of TCP: what jupyter-server-proxy runs")
    wserve.add_argument("--warm", action="store_true", help="load every theme's code at start (with --unix-socket: "
                        "in the background once serving), so that no first page waits for it")
    wserve.set_defaults(func=_workshop)

    inf = sub.add_parser("info", help="where data lives")
    inf.set_defaults(func=_info)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.func(args)
    except (TerraLabError, OSError, ValueError, LookupError) as e:  # user input, files, network: one line, no traceback
        if args.verbose:
            logging.exception("terra-lab %s failed", args.command)
        print(f"terra-lab: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("terra-lab: interrupted", file=sys.stderr)
        return 130


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if isinstance(e, TerraLabError) else f"{type(e).__name__}: {text}"


if __name__ == "__main__":
    sys.exit(main())
