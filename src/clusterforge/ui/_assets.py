"""Serving the UI's files: a fixed set read at start, each with strict headers.

The page is one ``index.html`` (hash routes: ``/#/builds/ID``) and the ES
modules and stylesheet under ``static/``. The set of files is listed once from
the package, so a request path is only ever looked up in that table — never
joined onto the disk. Every answer carries a Content-Security-Policy that
allows scripts, styles, workers and connections from this origin only, with no
``unsafe-inline`` and no ``unsafe-eval``: even if hostile data reached the DOM
as markup, the browser would not run it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response

__all__ = ["SECURITY_HEADERS", "mount"]

STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; worker-src 'self'; font-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


def _files() -> dict[str, tuple[bytes, str]]:
    """Every shipped asset by its URL path under /ui/, with its media type."""
    out = {}
    for path in sorted(STATIC.rglob("*")):
        if path.is_file() and path.suffix in _TYPES:
            out[path.relative_to(STATIC).as_posix()] = (path.read_bytes(), _TYPES[path.suffix])
    return out


def mount(app: FastAPI) -> None:
    """Add the UI's routes (``/`` and ``/ui/...``) to ``app``."""
    files = _files()

    def answer(name: str) -> Response:
        body, media = files[name]
        headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
        return Response(body, media_type=media, headers=headers)

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return answer("index.html")

    @app.get("/ui/{name:path}", include_in_schema=False)
    async def asset(name: str) -> Any:
        if name not in files:
            return Response("not found", status_code=404, headers=SECURITY_HEADERS)
        return answer(name)
