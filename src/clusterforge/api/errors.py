"""Every failure as one JSON shape a caller can act on — never a traceback.

``{"error": {"code": "invalid_spec", "message": "…", "field": "spec.nodeGroups[0].desired"}}``

* :class:`ApiError` is raised by the API itself (bad JSON, unknown stage,
  rate limit…) with its HTTP status;
* a :class:`~clusterforge.errors.UserError` from a lower layer maps by type:
  :class:`NotFound` → 404, :class:`InvalidInput` → 422 (a
  :class:`~clusterforge.spec.SpecError` carries every problem with its field
  path), :class:`UpstreamFailed` (an artifact repository that cannot be
  reached or refuses) → 502, anything else → 409;
* FastAPI's own request validation (a bad query parameter) → 422 naming it;
* anything else is a bug: logged with its stack on the server, answered with
  a generic 500 that says where to look.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from clusterforge.errors import InvalidInput, NotFound, UpstreamFailed, UserError

__all__ = ["ApiError", "error_body", "error_response", "from_user_error", "install_error_handlers"]

log = logging.getLogger("clusterforge.api")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    502: "bad_gateway",
}


class ApiError(Exception):
    """An HTTP error with a machine-readable code and a message for people."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}
        self.extra = extra or {}


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    error.update(extra)
    return {"error": error}


def error_response(err: ApiError) -> JSONResponse:
    """The one JSON shape of every error answer."""
    return JSONResponse(
        error_body(err.code, err.message, err.field, **err.extra),
        status_code=err.status,
        headers=err.headers,
    )


def from_user_error(err: UserError) -> ApiError:
    """The HTTP form of an error a lower layer raised for a mistake the caller can fix."""
    problems = getattr(err, "problems", None)
    if problems:
        fields = [{"field": path, "message": msg} for path, msg in problems]
        return ApiError(
            422,
            "invalid_spec",
            str(err),
            field=problems[0][0],
            extra={"problems": fields},
        )
    if isinstance(err, NotFound):
        return ApiError(404, "not_found", str(err))
    if isinstance(err, InvalidInput):
        return ApiError(422, "invalid_input", str(err))
    if isinstance(err, UpstreamFailed):
        return ApiError(502, "bad_gateway", str(err))
    return ApiError(409, "conflict", str(err))


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the one JSON shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, err: ApiError) -> JSONResponse:
        return error_response(err)

    @app.exception_handler(UserError)
    async def _user_error(_request: Request, err: UserError) -> JSONResponse:
        return error_response(from_user_error(err))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        where = _field(tuple(first.get("loc", ())))
        message = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg"))
        return error_response(ApiError(422, "invalid_request", message, field=where or None))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, err: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(err.status_code, "error")
        detail = err.detail if isinstance(err.detail, str) else code.replace("_", " ")
        headers = dict(err.headers or {})
        return error_response(ApiError(err.status_code, code, detail, headers=headers))

    @app.exception_handler(Exception)
    async def _bug(request: Request, err: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response(
            ApiError(
                500,
                "internal_error",
                "internal server error; the server log has the details",
            )
        )
