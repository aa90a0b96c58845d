"""A small static HTTP server for the lake's HTML outputs (Data Docs, the corpus report), so
that links in the Dagster UI open in the browser: pages served over http, not file:// URLs a
browser refuses to open from an http page.

`pilehouse ui` runs it beside the Dagster webserver (`python -m spark_jobs.analyst.outputs_server`), on
loopback and a port of its own, and stops it with the rest. Each URL prefix maps to one
output directory; nothing outside those directories is served.
"""

from __future__ import annotations

import argparse
import functools
import html
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import ClassVar
from urllib.parse import unquote, urlsplit

# quality/data_docs.py's SITE: where GX builds the site inside its project directory
# (a test keeps the two equal; importing it here would import Great Expectations).
DATA_DOCS_SITE = Path("gx") / "uncommitted" / "data_docs" / "local_site"
READY_LINE = "pilehouse outputs on"


def served_roots(lake_uri: str, home: Path) -> dict[str, Path]:
    """URL prefix -> local directory: the Data Docs site and the lake's reports.

    Data Docs live under a local lake (<lake>/_quality), or under PILEHOUSE_HOME/quality when
    the lake is on S3 (quality.data_docs.project_dir); reports exist for a local lake only.
    """
    roots = {}
    if "://" in lake_uri and not lake_uri.startswith("file://"):
        roots["data-docs"] = Path(home) / "quality" / DATA_DOCS_SITE
    else:
        lake = Path(lake_uri.removeprefix("file://"))
        roots["data-docs"] = lake / "_quality" / DATA_DOCS_SITE
        roots["reports"] = lake / "_reports"
    return roots


def output_url(path: str | Path, roots: dict[str, Path], base_url: str) -> str | None:
    """The http URL of a local output file, or None when no served root holds it."""
    if "://" in str(path) and not str(path).startswith("file://"):
        return None
    target = Path(str(path).removeprefix("file://")).resolve()
    for prefix, root in roots.items():
        if target.is_relative_to(root.resolve()):
            relative = target.relative_to(root.resolve()).as_posix()
            return f"{base_url.rstrip('/')}/{prefix}/{relative}"
    return None


class OutputsHandler(SimpleHTTPRequestHandler):
    """Serves files under the roots by prefix; an index page at / links to each root."""

    roots: ClassVar[dict[str, Path]] = {}

    def translate_path(self, path: str) -> str:
        parts = PurePosixPath(unquote(urlsplit(path).path)).parts[1:]
        if not parts or parts[0] not in self.roots:
            return "/nonexistent/pilehouse-outputs"  # 404
        root = self.roots[parts[0]]
        self.directory = str(root)
        rest = "/" + "/".join(parts[1:]) + ("/" if path.endswith("/") else "")
        return super().translate_path(rest)  # drops '..' and absolute segments

    def do_GET(self) -> None:
        if urlsplit(self.path).path in ("", "/"):
            self._index()
            return
        super().do_GET()

    def _index(self) -> None:
        items = "".join(
            f'<li><a href="/{name}/">{name}</a> ({html.escape(str(root))}'
            f"{'' if root.exists() else ', nothing written yet'})</li>"
            for name, root in self.roots.items()
        )
        body = f"<!doctype html><title>Pilehouse outputs</title><ul>{items}</ul>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # one quiet line per request
        sys.stderr.write(f"outputs: {self.address_string()} {format % args}\n")


def make_server(host: str, port: int, roots: dict[str, Path]) -> ThreadingHTTPServer:
    handler = type("BoundOutputsHandler", (OutputsHandler,), {"roots": dict(roots)})
    return ThreadingHTTPServer((host, port), functools.partial(handler))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lake", required=True, help="the lake URI")
    parser.add_argument(
        "--home", required=True, help="the Pilehouse home directory (settings.home)"
    )
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, served_roots(args.lake, Path(args.home)))
    print(f"{READY_LINE} http://{args.host}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
