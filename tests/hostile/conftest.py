"""Fixtures for the hostile-input suite: a sandbox whose every file is watched.

Each test gets a ``Sandbox``: a directory holding the data directory
(``home``) and, beside it, decoy files where an escaping name would land
(``stdout.log`` with content, so a truncation shows). ``changes()`` lists every
file outside ``home`` that appeared, vanished or changed — the tests assert it
is empty after feeding hostile input through the CLI or the API.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.api.conftest import Server, start_server, stop_server

CLI = [sys.executable, "-m", "clusterforge.cli"]


def _snapshot(root: Path, skip: tuple[Path, ...]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for directory, dirs, files in os.walk(root):
        here = Path(directory)
        dirs[:] = [d for d in dirs if here / d not in skip]
        seen[str(here.relative_to(root)) + "/"] = "dir"
        for name in files:
            path = here / name
            try:
                seen[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as err:
                seen[str(path.relative_to(root))] = f"unreadable: {err.errno}"
    return seen


@dataclass
class Sandbox:
    root: Path
    home: Path
    scratch: Path
    before: dict[str, str] = field(default_factory=dict)

    def arm(self) -> None:
        """Lay decoys where escaping names would write, and remember everything."""
        for decoy in ("stdout.log", "x/stdout.log", "abs/stdout.log"):
            path = self.root / decoy
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("precious\n")
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.before = _snapshot(self.root, (self.home, self.scratch))

    def changes(self) -> list[str]:
        after = _snapshot(self.root, (self.home, self.scratch))
        keys = set(self.before) | set(after)
        return sorted(k for k in keys if self.before.get(k) != after.get(k))

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CLUSTERFORGE_HOME": str(self.home),
            "CLUSTERFORGE_SCRATCH": str(self.scratch),
        }

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args],
            env=self.env(),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    # the data directory sits deep enough that '../../x' from a run directory
    # (home/runs/<name>) lands inside the sandbox, where the decoys are
    home = tmp_path / "home"
    home.mkdir()
    # scratch two levels down too: '../../x' from it would land in the sandbox
    box = Sandbox(tmp_path, home, tmp_path / "scratch" / "inner")
    box.arm()
    return box


@pytest.fixture(scope="module")
def api_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Sandbox]]:
    root = tmp_path_factory.mktemp("hostile-api")
    home = root / "home"
    home.mkdir()
    box = Sandbox(root, home, root / "scratch" / "inner")
    previous = {k: os.environ.get(k) for k in ("CLUSTERFORGE_HOME", "CLUSTERFORGE_SCRATCH")}
    os.environ.update(CLUSTERFORGE_HOME=str(home), CLUSTERFORGE_SCRATCH=str(box.scratch))
    box.arm()
    running = start_server(home)
    try:
        yield running, box
    finally:
        stop_server(running)
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
