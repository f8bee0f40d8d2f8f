"""How a server is configured: flags, environment, and their defaults.

Every setting has a flag on ``clusterforge serve`` and an environment variable,
so the same server runs from a terminal, a systemd unit or a container:

=====================  ==============================  ==================
setting                environment                     default
=====================  ==============================  ==================
host / port            CLUSTERFORGE_HOST / _PORT       127.0.0.1 / 8080
tokens                 CLUSTERFORGE_TOKEN_FILE,        ``<data>/api-tokens``
                       CLUSTERFORGE_TOKENS             (created, 0600)
data directory         CLUSTERFORGE_HOME               ``paths.data_home()``
public reads           CLUSTERFORGE_PUBLIC_READS       off
rate limit             CLUSTERFORGE_RATE_LIMIT         ``50/s`` per token
body limit             CLUSTERFORGE_MAX_BODY           ``1MiB``
sensor directories     CLUSTERFORGE_SENSOR_DIRS        none
concurrent workflows   CLUSTERFORGE_WORKERS            4 (0: accept only)
accepting processes    CLUSTERFORGE_PROCESSES          1
engine                 CLUSTERFORGE_ENGINE             ``local`` (or ``argo``)
Argo's cluster         CLUSTERFORGE_KUBECONFIG,        ``KUBECONFIG``,
                       CLUSTERFORGE_NAMESPACE          ``default``
=====================  ==============================  ==================

Tokens are secrets: a token file holds one per line (``#`` comments allowed)
and must not be readable by others; when neither a file nor the environment
gives any, the server creates ``<data>/api-tokens`` with one random token, so
a fresh server is never open for writes.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clusterforge import paths
from clusterforge.api.roles import ROLES
from clusterforge.errors import InvalidInput

__all__ = ["Settings", "parse_rate", "parse_size", "read_token_file"]

_SIZE = re.compile(r"(?i)^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$")
_UNITS = {None: 1, "b": 1, "k": 1024, "kb": 1000, "kib": 1024, "m": 1024**2, "mb": 1000**2,
          "mib": 1024**2, "g": 1024**3, "gb": 1000**3, "gib": 1024**3}  # fmt: skip
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|second|m|min|minute))?\s*$")


def parse_size(text: str) -> int:
    """``1MiB`` → 1048576; plain numbers are bytes."""
    match = _SIZE.match(text)
    if not match:
        raise InvalidInput(f"--max-body {text!r}: write a size such as 1MiB, 512KiB or 65536")
    unit = match.group(2).lower() if match.group(2) else None
    return int(float(match.group(1)) * _UNITS[unit])


def parse_rate(text: str) -> float:
    """``20/s`` → 20.0 requests per second; ``600/min`` → 10.0; ``0`` turns limiting off."""
    match = _RATE.match(text)
    if not match:
        raise InvalidInput(f"--rate-limit {text!r}: write a rate such as 20/s or 600/min (0: off)")
    value = float(match.group(1))
    per_minute = (match.group(2) or "s")[0] == "m"
    return value / 60.0 if per_minute else value


def read_token_file(path: Path) -> list[str]:
    """The tokens in ``path``: one per line, blank lines and ``#`` comments skipped."""
    return [token for token, _role in read_token_entries(path)]


def read_token_entries(path: Path) -> list[tuple[str, str]]:
    """``(token, role)`` for each line of ``path``: ``TOKEN`` (role admin) or ``TOKEN ROLE``."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"--token-file {path}: no such file") from None
    except OSError as err:
        raise InvalidInput(f"--token-file {path}: cannot be read: {err.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidInput(f"--token-file {path}: readable by other users; run `chmod 600 {path}`")
    lines = [ln.split() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    entries: list[tuple[str, str]] = []
    for number, words in enumerate(lines, 1):
        if len(words[0]) < 16 or len(words) > 2:
            raise InvalidInput(
                f"--token-file {path}: every token needs at least 16 characters and no spaces, "
                "optionally followed by a role (read, build or admin)"
            )
        role = words[1] if len(words) == 2 else "admin"
        if role not in ROLES:
            raise InvalidInput(
                f"--token-file {path}: token {number} has role {role!r}; "
                f"use one of {', '.join(ROLES)}"
            )
        entries.append((words[0], role))
    return entries


def _bool(text: str | None, default: bool) -> bool:
    if text is None or text == "":
        return default
    return text.strip().lower() in ("1", "true", "yes", "on")


def _count(env: dict[str, str], name: str, *, minimum: int) -> int:
    try:
        value = int(env[name])
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise InvalidInput(f"{name} must be a whole number, at least {minimum}")
    return value


@dataclass
class Settings:
    """Everything ``create_app`` and ``serve`` need to know."""

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = field(default_factory=paths.data_home)
    tokens: tuple[str, ...] = ()
    token_file: Path | None = None
    public_reads: bool = False
    rate_limit: float = 50.0
    rate_burst: float | None = None
    max_body: int = 1024 * 1024
    sensor_dirs: tuple[Path, ...] = ()
    workers: int = 4
    poll_interval: float = 0.1
    processes: int = 1
    """Acceptor processes; more than one adds a controller process (see supervisor.py)."""
    engine: str = "local"
    """The backend: ``local`` (this server runs the workflows) or ``argo``."""
    kubeconfig: str | None = None
    """``argo``: the management cluster (else CLUSTERFORGE_KUBECONFIG, KUBECONFIG);
    ``local``: the cluster every workflow runs against (resource templates), a path
    the server's operator chose — API clients never name one."""
    namespace: str | None = None
    """``argo``: the namespace of the workflows (else CLUSTERFORGE_NAMESPACE, ``default``)."""
    hand_to: str | None = None
    """Set by the supervisor for its acceptors: the owner to store workflows with."""
    shared_dir: Path | None = None
    """Set by the supervisor: where its processes share rate limits and metrics."""
    mounts: tuple[Callable[[Any], None], ...] = ()
    """Front ends served by the same app, each called with the app (e.g. the web UI's
    ``clusterforge.ui.mount``, set by ``serve``). Module-level functions, so the
    supervisor can hand them to its acceptors; the API never imports a front end."""

    @property
    def metrics_dir(self) -> Path | None:
        """Where a multi-process server's processes keep their metric values."""
        return self.shared_dir / "metrics" if self.shared_dir else None

    @property
    def rate_limit_file(self) -> Path | None:
        """The rate-limit table a multi-process server's acceptors share."""
        return self.shared_dir / "rate-limit" if self.shared_dir else None

    @property
    def burst(self) -> float:
        """How many requests a token may make at once (default: two seconds' worth)."""
        if self.rate_burst is not None:
            return self.rate_burst
        return max(2.0 * self.rate_limit, 1.0)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        settings = cls()
        settings.host = env.get("CLUSTERFORGE_HOST", settings.host)
        if env.get("CLUSTERFORGE_PORT"):
            try:
                settings.port = int(env["CLUSTERFORGE_PORT"])
            except ValueError:
                raise InvalidInput("CLUSTERFORGE_PORT must be a port number") from None
        if env.get("CLUSTERFORGE_HOME"):
            settings.data_dir = Path(env["CLUSTERFORGE_HOME"]).expanduser()
        if env.get("CLUSTERFORGE_TOKEN_FILE"):
            settings.token_file = Path(env["CLUSTERFORGE_TOKEN_FILE"]).expanduser()
        if env.get("CLUSTERFORGE_TOKENS"):
            settings.tokens = tuple(t for t in re.split(r"[\s,]+", env["CLUSTERFORGE_TOKENS"]) if t)
        settings.public_reads = _bool(env.get("CLUSTERFORGE_PUBLIC_READS"), settings.public_reads)
        if env.get("CLUSTERFORGE_RATE_LIMIT"):
            settings.rate_limit = parse_rate(env["CLUSTERFORGE_RATE_LIMIT"])
        if env.get("CLUSTERFORGE_MAX_BODY"):
            settings.max_body = parse_size(env["CLUSTERFORGE_MAX_BODY"])
        if env.get("CLUSTERFORGE_SENSOR_DIRS"):
            settings.sensor_dirs = tuple(
                Path(p) for p in env["CLUSTERFORGE_SENSOR_DIRS"].split(os.pathsep) if p
            )
        if env.get("CLUSTERFORGE_WORKERS"):
            settings.workers = _count(env, "CLUSTERFORGE_WORKERS", minimum=0)
        if env.get("CLUSTERFORGE_PROCESSES"):
            settings.processes = _count(env, "CLUSTERFORGE_PROCESSES", minimum=1)
        settings.engine = env.get("CLUSTERFORGE_ENGINE") or settings.engine
        return settings

    def token_roles(self) -> dict[str, str]:
        """Each token's role (see api/roles.py); tokens not in the file are admin."""
        tokens = self.all_tokens()
        roles = dict(read_token_entries(self.token_file)) if self.token_file else {}
        return {token: roles.get(token, "admin") for token in tokens}

    def all_tokens(self) -> tuple[str, ...]:
        """Tokens from the environment and the token file; create a default file if none."""
        tokens = list(self.tokens)
        if self.token_file is not None:
            tokens.extend(read_token_file(self.token_file))
        elif not tokens:
            default = self.data_dir / "api-tokens"
            if not default.exists():
                default.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(default, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as out:
                    out.write("# clusterforge API tokens, one per line\n")
                    out.write(secrets.token_urlsafe(32) + "\n")
            tokens.extend(read_token_file(default))
            self.token_file = default
        return tuple(dict.fromkeys(tokens))
