"""The web UI: fleet, builds, the live build graph, logs and actions, in a browser.

Served by the API's own app (``clusterforge serve`` passes :func:`mount` in
``Settings.mounts``), so it has the same process, port, tokens and store. The
UI is plain ES modules and CSS shipped as package data — no bundler, no CDN,
nothing fetched at run time — and talks to the server only through the public
HTTP API (``/api/v1/...``): it reads the store through the same query layer
every other client uses. See docs/ui.md.
"""

from clusterforge.ui._assets import SECURITY_HEADERS, mount

__all__ = ["SECURITY_HEADERS", "mount"]
