"""Argo Server's error answers: grpc-gateway's ``{code, message, details}``.

Argo Server is a gRPC service behind grpc-gateway, so its REST clients (Hera's
``WorkflowsService``, ``argo --argo-server``, the Argo UI) read failures as
``{"code": <gRPC status code>, "message": "…", "details": []}`` with the HTTP
status grpc-gateway maps that code to. The routes of this package answer
that way — including for a missing token or a bad query parameter, which
the rest of our API answers in its own shape — so an Argo client shows our
message instead of failing to parse it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from clusterforge.api.errors import ApiError
from clusterforge.errors import InvalidInput, NotFound, UserError

__all__ = [
    "ALREADY_EXISTS",
    "FAILED_PRECONDITION",
    "INVALID_ARGUMENT",
    "NOT_FOUND",
    "ArgoError",
    "ArgoRoute",
]

log = logging.getLogger("clusterforge.api")

# gRPC status codes (google.golang.org/grpc/codes) and the HTTP status
# grpc-gateway's runtime.HTTPStatusFromCode gives each.
INVALID_ARGUMENT = 3
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
INTERNAL = 13
UNAUTHENTICATED = 16
_HTTP_OF_CODE = {
    INVALID_ARGUMENT: 400,
    NOT_FOUND: 404,
    ALREADY_EXISTS: 409,
    PERMISSION_DENIED: 403,
    RESOURCE_EXHAUSTED: 429,
    FAILED_PRECONDITION: 400,
    INTERNAL: 500,
    UNAUTHENTICATED: 401,
}
_CODE_OF_HTTP = {
    400: INVALID_ARGUMENT,
    401: UNAUTHENTICATED,
    403: PERMISSION_DENIED,
    404: NOT_FOUND,
    409: ALREADY_EXISTS,
    413: INVALID_ARGUMENT,
    415: INVALID_ARGUMENT,
    422: INVALID_ARGUMENT,
    429: RESOURCE_EXHAUSTED,
}


class ArgoError(Exception):
    """A failure with its gRPC status code, answered in Argo Server's shape."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _answer(code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message, "details": []},
        status_code=_HTTP_OF_CODE.get(code, 500),
        headers=headers,
    )


def _translate(err: Exception) -> JSONResponse:
    if isinstance(err, ArgoError):
        return _answer(err.code, err.message)
    if isinstance(err, ApiError):
        code = _CODE_OF_HTTP.get(err.status, INTERNAL)
        return _answer(code, err.message, err.headers)
    if isinstance(err, RequestValidationError):
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        return _answer(INVALID_ARGUMENT, f"{where}: {first.get('msg', 'invalid')}")
    if isinstance(err, NotFound):
        return _answer(NOT_FOUND, str(err))
    if isinstance(err, InvalidInput):
        return _answer(INVALID_ARGUMENT, str(err))
    if isinstance(err, UserError):
        return _answer(FAILED_PRECONDITION, str(err))
    raise err


class ArgoRoute(APIRoute):
    """A route whose every failure — auth, validation, engine — is answered in
    Argo Server's error shape (a bug still goes to the app's handler: logged,
    answered 500 without details)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer_like_argo(request: Request) -> Response:
            try:
                return await handler(request)
            except (ArgoError, ApiError, RequestValidationError, UserError) as err:
                return _translate(err)

        return answer_like_argo
