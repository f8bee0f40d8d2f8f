"""Resolving a pinned tool: PATH, cache, official download, then ``go build``.

The order is the cheapest trustworthy answer first. A binary on PATH counts
only if its own version output says it is the pinned version. The cache holds
what an earlier install downloaded or built, with a record of how; a record
is trusted while its file is unchanged, so a warm lookup runs no subprocess at
all. A download needs a pinned sha256 and a network (it fails within seconds
without one); building needs ``go`` and the module proxy.

:class:`Toolchain` bundles a manifest and a cache root so tests can point the
same code at a fake manifest and a temporary cache.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from clusterforge import paths
from clusterforge.errors import NotFound
from clusterforge.tools._cache import ToolCache, ToolFailure, ToolRecord
from clusterforge.tools._download import DownloadFailed, download_tool
from clusterforge.tools._gobuild import BuildFailed, GoBuilder, RefusedModule
from clusterforge.tools._manifest import Manifest, ToolSpec, current_platform, load_manifest
from clusterforge.tools._probe import probe_version

Reporter = Callable[[str, str], None]
"""Progress callback: ``(tool name, what is happening now)``."""


def _quiet(_name: str, _message: str) -> None:
    return None


class ToolMissing(NotFound):
    """A pinned tool is not installed; the message gives the command to fix it."""

    def __init__(self, name: str, version: str, reason: str | None = None) -> None:
        self.name = name
        message = f"{name} {version} is not installed; run `clusterforge tools install {name}`"
        if reason:
            message += f" (last attempt failed: {reason.splitlines()[0]})"
        super().__init__(message)


@dataclass(frozen=True)
class Located:
    """Where a pinned tool is, and how it got there."""

    name: str
    path: Path
    version: str
    source: str


@dataclass(frozen=True)
class ToolStatus:
    """One row of ``clusterforge tools status``."""

    name: str
    pinned: str
    required: bool
    found: str | None
    path: Path | None
    source: str | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.path is not None


@dataclass
class Outcome:
    """What ``install`` did for one tool."""

    name: str
    version: str
    required: bool
    path: Path | None = None
    source: str | None = None
    reused: bool = False
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    refused: RefusedModule | None = None
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.path is not None


class Toolchain:
    """The pinned tools of one manifest, cached under one root."""

    def __init__(
        self,
        manifest: Manifest | None = None,
        cache_root: Path | None = None,
        *,
        env: dict[str, str] | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self.manifest = manifest or load_manifest()
        self.cache = ToolCache(cache_root or paths.cache_home())
        self._env = dict(os.environ if env is None else env)
        self._connect_timeout = connect_timeout
        self.builder = GoBuilder(self.manifest, self.cache, env=self._env)

    # -- looking -----------------------------------------------------------

    def locate(self, name: str) -> Located | None:
        """The pinned ``name`` on PATH or in the cache, without obtaining it."""
        spec = self.manifest.tool(name)
        for candidate in self._path_candidates(name):
            found = probe_version(candidate, spec)
            if spec.matches(found):
                assert found is not None
                return Located(name, candidate, found, "path")
        record = self.cache.record(name, spec.version)
        if record is not None and record.still_valid() and self._source_current(spec, record):
            return Located(name, Path(record.path), record.version, record.source)
        return None

    def _source_current(self, spec: ToolSpec, record: ToolRecord) -> bool:
        """A program written here is current only while its shipped source is unchanged."""
        if spec.build is None or spec.build.local is None:
            return True
        return record.details.get("local_sha256") == self.builder.local_digest(spec)

    def resolve(self, name: str) -> Path:
        """The pinned tool's path, or :class:`ToolMissing` naming the fix."""
        located = self.locate(name)
        if located is None:
            spec = self.manifest.tool(name)
            failure = self.cache.failure(name, spec.version)
            raise ToolMissing(name, spec.version, failure.error if failure else None)
        return located.path

    def status(self) -> list[ToolStatus]:
        """Every tool: pinned version, what is found, where, and how it came."""
        rows = []
        for spec in self.manifest.tools.values():
            located = self.locate(spec.name)
            if located is not None:
                rows.append(
                    ToolStatus(
                        spec.name,
                        spec.version,
                        spec.required,
                        located.version,
                        located.path,
                        located.source,
                    )
                )
                continue
            failure = self.cache.failure(spec.name, spec.version)
            other = next(iter(self._path_candidates(spec.name)), None)
            found = probe_version(other, spec) if other is not None else None
            problem = failure.error if failure else "not installed"
            if other is not None:
                problem = f"{other} is {found or 'of unknown version'}, not {spec.version}; " + (
                    problem
                )
            rows.append(
                ToolStatus(
                    spec.name,
                    spec.version,
                    spec.required,
                    found,
                    other,
                    "path" if other is not None else None,
                    problem,
                )
            )
        return rows

    def link_bin(self) -> Path:
        """Refresh ``<cache>/bin`` (one symlink per resolved tool) and return it."""
        for spec in self.manifest.tools.values():
            located = self.locate(spec.name)
            if located is None:
                self.cache.unlink(spec.name)
            else:
                self.cache.link(spec.name, located.path)
        self.cache.bin_dir.mkdir(parents=True, exist_ok=True)
        return self.cache.bin_dir

    # -- obtaining ---------------------------------------------------------

    def install(
        self,
        names: Iterable[str] = (),
        *,
        jobs: int = 2,
        report: Reporter = _quiet,
    ) -> list[Outcome]:
        """Obtain every named tool (all when none are named), ``jobs`` lanes at a time.

        An optional tool whose last attempt failed is not retried unless named:
        its failure is deterministic (e.g. a module that cannot be built) and a
        warm ``make setup`` must not re-run ``go`` for it.
        """
        wanted = list(names)
        specs = [self.manifest.tool(name) for name in wanted] or list(self.manifest.tools.values())

        def work(spec: ToolSpec) -> Outcome:
            if not wanted and not spec.required:
                failure = self.cache.failure(spec.name, spec.version)
                if failure is not None and self.locate(spec.name) is None:
                    report(spec.name, "unavailable (recorded failure)")
                    return Outcome(
                        spec.name,
                        spec.version,
                        spec.required,
                        error=failure.error,
                        refused=_refused_from(failure),
                        notes=[
                            "not retried: optional and failed before; retry with "
                            f"`clusterforge tools install {spec.name}`"
                        ],
                    )
            return self.obtain(spec.name, report)

        # Tools built from the same source run one after another in one lane:
        # two concurrent `go build`s of kube-apiserver and kubectl would both
        # compile the same shared packages (the build cache only helps once one
        # of them has finished a package). Different sources share little, so
        # lanes run in parallel.
        lanes: dict[str, list[ToolSpec]] = {}
        for spec in specs:
            lanes.setdefault(spec.build.source if spec.build else spec.name, []).append(spec)

        def run_lane(lane: list[ToolSpec]) -> list[Outcome]:
            return [work(spec) for spec in lane]

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            done = [outcome for lane in pool.map(run_lane, lanes.values()) for outcome in lane]
        self.link_bin()
        by_name = {outcome.name: outcome for outcome in done}
        return [by_name[spec.name] for spec in specs]

    def obtain(self, name: str, report: Reporter = _quiet) -> Outcome:
        """Find or fetch or build one tool, recording how."""
        spec = self.manifest.tool(name)
        started = time.monotonic()
        outcome = Outcome(name, spec.version, spec.required)
        report(name, "looking on PATH and in the cache")
        with self.cache.locked(name, spec.version):
            located = self.locate(name)
            if located is not None:
                record = self.cache.record(name, spec.version)
                if located.source == "path" and (
                    record is None or record.path != str(located.path)
                ):
                    self.cache.write_record(name, spec.version, "path", located.path)
                outcome.path, outcome.source, outcome.reused = located.path, located.source, True
                report(name, f"found ({located.source})")
                return outcome
            self._try_download(spec, outcome, report)
            if outcome.path is None:
                self._try_build(spec, outcome, report)
        outcome.duration = time.monotonic() - started
        if outcome.path is not None:
            report(name, f"ready ({outcome.source}, {outcome.duration:.0f}s)")
        else:
            report(name, "failed")
        return outcome

    def _try_download(self, spec: ToolSpec, outcome: Outcome, report: Reporter) -> None:
        if spec.download is None:
            outcome.notes.append("download: no official download pinned")
            return
        report(spec.name, "downloading")
        target = self.cache.binary_path(spec.name, spec.version)
        target.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            url = download_tool(
                spec,
                spec.download,
                target,
                self.cache.download_dir,
                connect_timeout=self._connect_timeout,
            )
        except DownloadFailed as err:
            outcome.notes.append(f"download: {err}")
            return
        found = probe_version(target, spec)
        if not spec.matches(found):
            target.unlink(missing_ok=True)
            outcome.notes.append(f"download: {url} reports version {found!r}, not {spec.version}")
            return
        self.cache.write_record(
            spec.name,
            spec.version,
            "download",
            target,
            duration=time.monotonic() - started,
            details={"url": url, "sha256": spec.download.sha256.get(current_platform(), "")},
        )
        outcome.path, outcome.source = target, "download"

    def _try_build(self, spec: ToolSpec, outcome: Outcome, report: Reporter) -> None:
        if spec.build is None:
            outcome.error = "no download succeeded and the manifest names no Go build"
            self.cache.write_failure(
                ToolFailure(name=spec.name, version=spec.version, error=outcome.error)
            )
            return
        source = self.manifest.source_of(spec)
        report(spec.name, f"building {spec.build.package} ({source.modules[0]} {source.version})")
        target = self.cache.binary_path(spec.name, spec.version)
        partial = target.with_name(f".{spec.name}.{os.getpid()}.build")
        started = time.monotonic()

        def progress(message: str) -> None:
            elapsed = int(time.monotonic() - started)
            report(spec.name, f"{message}, {elapsed // 60}m{elapsed % 60:02d}s")

        try:
            details = self.builder.build(spec, partial, progress)
            found = probe_version(partial, spec)
            if not spec.matches(found):
                raise BuildFailed(
                    f"the built {spec.name} reports version {found!r}, not {spec.version}; "
                    "check the manifest's ldflags"
                )
            partial.replace(target)
        except RefusedModule as err:
            partial.unlink(missing_ok=True)
            outcome.error, outcome.refused = str(err), err
            self.cache.write_failure(
                ToolFailure(
                    name=spec.name,
                    version=spec.version,
                    error=str(err),
                    module=err.module,
                    module_version=err.version,
                )
            )
            return
        except BuildFailed as err:
            partial.unlink(missing_ok=True)
            outcome.error = str(err)
            self.cache.write_failure(
                ToolFailure(name=spec.name, version=spec.version, error=str(err))
            )
            return
        self.cache.write_record(
            spec.name,
            spec.version,
            "build",
            target,
            duration=time.monotonic() - started,
            details=details,
        )
        outcome.path, outcome.source = target, "build"

    def _path_candidates(self, name: str) -> list[Path]:
        """Executables called ``name`` on PATH, outside this cache."""
        found: list[Path] = []
        bin_dir = self.cache.bin_dir.resolve()
        for entry in self._env.get("PATH", "").split(os.pathsep):
            if not entry:
                continue
            directory = Path(entry)
            try:
                if directory.resolve() == bin_dir:
                    continue
            except OSError:
                continue
            candidate = directory / name
            if (
                candidate.is_file()
                and os.access(candidate, os.X_OK)
                and not self.cache.contains(candidate)
                and candidate not in found
            ):
                found.append(candidate)
        return found


def _refused_from(failure: ToolFailure) -> RefusedModule | None:
    if failure.module is None or failure.module_version is None:
        return None
    prefix = f"Go module {failure.module} {failure.module_version} is unavailable: "
    return RefusedModule(failure.module, failure.module_version, failure.error.removeprefix(prefix))
