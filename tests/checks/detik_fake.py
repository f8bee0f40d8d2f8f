"""Helpers for the DETIK tests: the stand-in kubectl's state and the CLI's path.

See fake_kubectl.py for why the semantics tests use a stand-in client; the
``cluster``-marked tests use a real kwok cluster instead. (A uniquely named
module rather than conftest, so importing it never picks up another
directory's conftest.)
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
FAKE_KUBECTL = HERE / "fake_kubectl.py"
CLUSTER = json.loads((HERE / "fixtures" / "cluster.json").read_text())


def clusterforge_bin() -> Path:
    """The console script of the installed package (same venv as the tests)."""
    found = Path(sys.executable).parent / "clusterforge"
    if found.exists():
        return found
    which = shutil.which("clusterforge")
    assert which, "the clusterforge console script is not installed"
    return Path(which)


@dataclass
class FakeCluster:
    """A state file for fake_kubectl.py plus the environment that selects it."""

    state: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def client(self) -> str:
        return shlex.join([sys.executable, str(FAKE_KUBECTL)])

    def load(self, *snapshots: dict[str, Any]) -> None:
        """Answer call N with snapshot N (the last one repeats)."""
        self.state.write_text(json.dumps({"snapshots": list(snapshots)}))
        self.calls_file.unlink(missing_ok=True)

    @property
    def calls_file(self) -> Path:
        return self.state.with_name(self.state.name + ".calls")

    def calls(self) -> list[list[str]]:
        """The argv (after the client) of every call so far."""
        if not self.calls_file.exists():
            return []
        return [json.loads(line) for line in self.calls_file.read_text().splitlines()]
