"""The browser login: a token in, an HttpOnly session cookie out (see sessions.py).

``POST /api/v1/session`` takes ``{"token": "…"}`` in the body — never in the
URL, where it would land in logs and history — and answers with the session
cookie and the CSRF token the page sends back on every action.
``GET /api/v1/session`` tells a page whether it is signed in, whether reads
are public, and its CSRF token; ``DELETE`` signs out. Guessing is rate limited
per client address with the same token buckets as the API.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from clusterforge.api.deps import ServicesDep
from clusterforge.api.errors import ApiError
from clusterforge.api.schemas import ERRORS
from clusterforge.api.sessions import COOKIE, SESSION_SECONDS, Session

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["session"])


class Login(BaseModel):
    token: str = Field(min_length=1, max_length=4096, description="An API token")


def _state(session: Session | None, public_reads: bool) -> dict[str, Any]:
    return {
        "authenticated": session is not None,
        "publicReads": public_reads,
        "csrfToken": session.csrf if session else None,
        "expires": session.expires if session else None,
    }


@router.get("/session", responses=ERRORS)
async def get_session(request: Request, services: ServicesDep) -> dict[str, Any]:
    """Whether this browser is signed in (and its CSRF token), and if reads are public."""
    guard = services.guard
    return _state(guard.session(request), guard.public_reads)


@router.post("/session", responses=ERRORS)
async def login(body: Login, request: Request, services: ServicesDep) -> JSONResponse:
    """Exchange an API token for an HttpOnly, SameSite=Strict session cookie."""
    guard = services.guard
    host = request.client.host if request.client else "unknown"
    wait = guard.bucket.take(f"login:{host}")
    if wait > 0:
        retry = max(1, math.ceil(wait))
        raise ApiError(429, "rate_limited", f"too many sign-in attempts; retry in {retry}s",
                       headers={"Retry-After": str(retry)})  # fmt: skip
    key = guard.key_of(body.token)
    if key is None:
        services.metrics.rejected(request, "unauthorized")
        raise ApiError(
            401,
            "unauthorized",
            "that token is not valid (tokens come from the server's --token-file "
            "or CLUSTERFORGE_TOKENS)",
            field="token",
        )
    value, session = guard.sessions.issue(key)
    answer = JSONResponse(_state(session, guard.public_reads))
    answer.set_cookie(
        COOKIE,
        value,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.delete("/session", status_code=204, responses=ERRORS)
async def logout() -> Response:
    """Forget this browser's session cookie."""
    answer = Response(status_code=204)
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return answer
