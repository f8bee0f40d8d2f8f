"""The tool cache on disk, and the record of how each tool got there.

Layout under ``<cache>/tools``::

    <name>/<version>/<name>         the binary (when downloaded or built)
    <name>/<version>/record.json    how it was obtained (source, path, when, …)
    <name>/<version>/failure.json   the last failure, e.g. a refused module
    <name>/<version>/.lock          serialises installs across processes

A record is trusted while the file it names keeps the size and mtime it had
when it was verified, so a warm lookup reads one small JSON file and never
runs a subprocess. ``<cache>/bin`` holds one symlink per resolved tool, the
directory steps and tests put first on PATH. ``<cache>/build`` keeps the
generated Go wrapper modules between runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Origin = Literal["path", "download", "build"]
_M = TypeVar("_M", bound=BaseModel)


class ToolRecord(BaseModel):
    """How a tool at its pinned version was obtained."""

    model_config = ConfigDict(extra="ignore")

    name: str
    version: str
    source: Origin
    path: str
    size: int
    mtime_ns: int
    obtained_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    duration_seconds: float = 0.0
    details: dict[str, str] = Field(default_factory=dict)

    def still_valid(self) -> bool:
        """Whether the recorded file is still the one that was verified."""
        try:
            stat = Path(self.path).stat()
        except OSError:
            return False
        return stat.st_size == self.size and stat.st_mtime_ns == self.mtime_ns


class ToolFailure(BaseModel):
    """The last failed attempt to obtain a tool, kept for ``tools status``."""

    model_config = ConfigDict(extra="ignore")

    name: str
    version: str
    error: str
    module: str | None = None
    module_version: str | None = None
    failed_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class ToolCache:
    """One cache root (``~/.cache/clusterforge`` unless told otherwise)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def tools_dir(self) -> Path:
        return self.root / "tools"

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def download_dir(self) -> Path:
        return self.root / "downloads"

    def tool_dir(self, name: str, version: str) -> Path:
        return self.tools_dir / name / version

    def binary_path(self, name: str, version: str) -> Path:
        return self.tool_dir(name, version) / name

    def contains(self, path: Path) -> bool:
        """Whether ``path`` (after symlinks) lies inside this cache."""
        try:
            path.resolve().relative_to(self.root.resolve())
        except (ValueError, OSError):
            return False
        return True

    # -- records ---------------------------------------------------------

    def record(self, name: str, version: str) -> ToolRecord | None:
        return _read(self.tool_dir(name, version) / "record.json", ToolRecord)

    def failure(self, name: str, version: str) -> ToolFailure | None:
        return _read(self.tool_dir(name, version) / "failure.json", ToolFailure)

    def write_record(
        self,
        name: str,
        version: str,
        source: Origin,
        path: Path,
        *,
        duration: float = 0.0,
        details: dict[str, str] | None = None,
    ) -> ToolRecord:
        stat = path.stat()
        record = ToolRecord(
            name=name,
            version=version,
            source=source,
            path=str(path),
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            duration_seconds=round(duration, 3),
            details=details or {},
        )
        directory = self.tool_dir(name, version)
        _write(directory / "record.json", record)
        (directory / "failure.json").unlink(missing_ok=True)
        return record

    def write_failure(self, failure: ToolFailure) -> None:
        _write(self.tool_dir(failure.name, failure.version) / "failure.json", failure)

    @contextlib.contextmanager
    def locked(self, name: str, version: str) -> Iterator[None]:
        """Hold the install lock of one tool (across processes)."""
        directory = self.tool_dir(name, version)
        directory.mkdir(parents=True, exist_ok=True)
        with _flock(directory / ".lock"):
            yield

    # -- bin directory ---------------------------------------------------

    def link(self, name: str, target: Path) -> Path:
        """Point ``bin/<name>`` at ``target`` atomically."""
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        link = self.bin_dir / name
        try:
            if link.is_symlink() and Path(os.readlink(link)) == target:
                return link
        except OSError:
            pass
        temp = self.bin_dir / f".{name}.{os.getpid()}.tmp"
        temp.unlink(missing_ok=True)
        temp.symlink_to(target)
        temp.replace(link)
        return link

    def unlink(self, name: str) -> None:
        (self.bin_dir / name).unlink(missing_ok=True)


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def flock(path: Path) -> contextlib.AbstractContextManager[None]:
    """An exclusive cross-process lock on ``path`` (created if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return _flock(path)


def _read(path: Path, model: type[_M]) -> _M | None:
    try:
        return model.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError, ValueError):
        return None


def _write(path: Path, model: BaseModel) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(model.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    temp.replace(path)
