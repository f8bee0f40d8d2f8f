"""The request body limit, enforced before anything reads a byte too many.

A pure ASGI middleware, so it sees the request before FastAPI does: a
``Content-Length`` over the limit is answered 413 at once, and a body without
one (chunked) is counted as it streams in — the moment it passes the limit the
request fails with 413, whatever the endpoint was doing with it. Either way
nothing behind the limit has stored anything: endpoints read their whole body
before they act.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clusterforge.api.errors import ApiError, error_body

__all__ = ["BodyLimit", "PayloadTooLarge"]


class PayloadTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            "payload_too_large",
            f"the request body is larger than the server's limit of {limit} bytes",
        )


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes with 413."""

    def __init__(
        self, app: ASGIApp, limit: int, on_reject: Callable[[str], None] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.on_reject = on_reject or (lambda _path: None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    await _reject(send, 400, "bad_request", "Content-Length is not a number")
                    return
                if length > self.limit:
                    self.on_reject(scope.get("path", ""))
                    message = PayloadTooLarge(self.limit).message
                    await _reject(send, 413, "payload_too_large", message)
                    return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    self.on_reject(scope.get("path", ""))
                    raise PayloadTooLarge(self.limit)
            return message

        await self.app(scope, counted, send)


async def _reject(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps(error_body(code, message)).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
