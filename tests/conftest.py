"""Fixtures shared by every test area."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Every workflow step gets a private /tmp, so directories a test hands to its
# steps must live outside /tmp. pytest's temp root moves under the checkout;
# each run still gets its own numbered directory (concurrent runs don't clash).
os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", str(Path(__file__).parent.parent / ".pytest-tmp"))
(Path(os.environ["PYTEST_DEBUG_TEMPROOT"])).mkdir(exist_ok=True)


@pytest.fixture(scope="session")
def tool_path() -> Path:
    """The directory of symlinks to the pinned toolchain (put it first on PATH).

    ``make test`` runs ``clusterforge tools install`` first; a missing required
    tool fails the test with the command that installs it.
    """
    from clusterforge.tools import Toolchain

    toolchain = Toolchain()
    missing = [s.name for s in toolchain.status() if s.required and not s.ok]
    if missing:
        pytest.fail(f"tools missing: {', '.join(missing)}; run `clusterforge tools install`")
    return toolchain.link_bin()
