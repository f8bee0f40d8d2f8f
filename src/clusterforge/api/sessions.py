"""Browser sessions: a token exchanged once for an HttpOnly cookie, plus CSRF.

A browser must never keep an API token where a script can read it (not in
the URL, not in ``localStorage``), so the web UI's login form posts the token
once to ``POST /api/v1/session`` and gets back a ``SameSite=Strict``,
``HttpOnly`` cookie. The cookie is *stateless*: it names which token it came
from (the same 12-character key the rate limiter uses), when it expires and a
random nonce, signed with HMAC-SHA256 keyed by that token. So:

* every process of a multi-process server, and the same server after a
  restart, accepts it without any shared session table;
* removing a token from the token file ends every session made with it;
* the token itself never leaves the server again.

A cookie travels with every request the browser makes, so a mutating request
authenticated by the cookie alone must also carry ``X-CSRF-Token``: an HMAC of
the session's nonce that only pages of this origin can read (from the login
answer or ``GET /api/v1/session``). SameSite=Strict already keeps other sites'
requests cookie-less; the header is the second, independent wall. Requests
with a bearer token carry no ambient credential and need no CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

__all__ = ["COOKIE", "CSRF_HEADER", "SESSION_SECONDS", "Session", "SessionSigner"]

COOKIE = "cf_session"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Session:
    """A verified session: which token's key it stands for, and its CSRF token."""

    key: str
    csrf: str
    expires: int


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class SessionSigner:
    """Issues and verifies session cookies for a fixed set of tokens."""

    def __init__(self, tokens: list[bytes], keys: list[str]) -> None:
        self._by_key = dict(zip(keys, tokens, strict=True))

    @staticmethod
    def _mac(token: bytes, purpose: str, body: str) -> str:
        return _b64(hmac.new(token, f"{purpose}|{body}".encode(), hashlib.sha256).digest())

    def issue(self, key: str, *, now: float | None = None) -> tuple[str, Session]:
        """A new cookie value for the token with ``key`` (which must be configured)."""
        token = self._by_key[key]
        expires = int(now if now is not None else time.time()) + SESSION_SECONDS
        body = f"v1.{key}.{expires}.{secrets.token_urlsafe(18)}"
        value = f"{body}.{self._mac(token, 'session', body)}"
        session = self.verify(value, now=now)
        assert session is not None  # just signed it
        return value, session

    def verify(self, value: str, *, now: float | None = None) -> Session | None:
        """The session a cookie value stands for, or None (forged, expired, token gone)."""
        parts = value.split(".")
        if len(parts) != 5 or parts[0] != "v1" or not parts[2].isdigit():
            return None
        key, expires = parts[1], int(parts[2])
        token = self._by_key.get(key)
        if token is None:
            return None
        body = ".".join(parts[:4])
        if not hmac.compare_digest(self._mac(token, "session", body), parts[4]):
            return None
        if expires < (now if now is not None else time.time()):
            return None
        return Session(key, self._mac(token, "csrf", parts[3]), expires)

    @staticmethod
    def csrf_ok(session: Session, presented: str | None) -> bool:
        """Whether a request's ``X-CSRF-Token`` header matches its session."""
        return presented is not None and hmac.compare_digest(session.csrf, presented)
