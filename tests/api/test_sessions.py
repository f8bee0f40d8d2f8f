"""Browser sessions: cookies made from a token, checked without any shared state."""

from __future__ import annotations

import hashlib

from clusterforge.api.sessions import SESSION_SECONDS, SessionSigner

TOKENS = [b"first-token-0123456789", b"second-token-0123456789"]
KEYS = [hashlib.sha256(t).hexdigest()[:12] for t in TOKENS]


def signer(tokens: list[bytes] = TOKENS) -> SessionSigner:
    return SessionSigner(tokens, [hashlib.sha256(t).hexdigest()[:12] for t in tokens])


def test_a_cookie_names_its_token_key_and_never_contains_the_token() -> None:
    value, session = signer().issue(KEYS[1], now=1000.0)
    assert session.key == KEYS[1]
    assert session.expires == 1000 + SESSION_SECONDS
    assert TOKENS[1].decode() not in value
    # another signer with the same tokens (another process, or after a restart) accepts it
    again = signer().verify(value, now=1001.0)
    assert again is not None
    assert again.csrf == session.csrf


def test_forged_expired_and_revoked_cookies_are_refused() -> None:
    value, _ = signer().issue(KEYS[0], now=1000.0)
    parts = value.split(".")
    assert signer().verify(value, now=1000.0 + SESSION_SECONDS + 1) is None  # expired
    longer = ".".join([parts[0], parts[1], str(int(parts[2]) + 10_000), *parts[3:]])
    assert signer().verify(longer, now=1000.0) is None  # expiry changed: signature breaks
    other = ".".join([parts[0], KEYS[1], *parts[2:]])
    assert signer().verify(other, now=1000.0) is None  # claims the other token
    assert signer([TOKENS[1]]).verify(value, now=1000.0) is None  # its token was removed
    assert signer().verify("garbage", now=1000.0) is None


def test_the_csrf_token_belongs_to_one_session() -> None:
    first_value, first = signer().issue(KEYS[0], now=1000.0)
    _, second = signer().issue(KEYS[0], now=1000.0)
    assert first.csrf != second.csrf
    assert SessionSigner.csrf_ok(first, first.csrf)
    assert not SessionSigner.csrf_ok(first, second.csrf)
    assert not SessionSigner.csrf_ok(first, None)
    assert first_value.split(".")[3] not in first.csrf
