"""Building tools from their Go modules through a generated wrapper module.

``go install pkg@version`` refuses modules that carry ``replace`` directives
(golang/go#44840), and ``k8s.io/kubernetes`` and etcd's server both do: they
point their sibling modules at paths inside their own repositories. So for
each source the builder writes a small module of its own that requires the
pinned module(s) and repeats their replacements with every repository path
turned into the published module at the matching version — generated from
the pinned release's own ``go.mod`` (read with ``go mod edit -json``), never
maintained by hand. ``go mod tidy`` completes it; ``go build`` with the
manifest's ``-ldflags`` then stamps the real version into each binary.

A source may also carry small programs written here (``build.local``, e.g.
``go/argo-validate``): their files are copied into the wrapper module, so they
compile against exactly the pinned modules and share the build cache.

A cold build compiles thousands of packages over many minutes, so ``build``
reports as it goes: first the module download (``go mod tidy``), then the
count of packages compiled of those ``go list`` says are stale, read from
``go build -v``.

A module the proxy refuses is reported as exactly that — module, version and
the error ``go`` printed — so the user can tell a missing release from a
broken build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import IO, Any

from clusterforge.errors import OperationFailed
from clusterforge.tools._cache import ToolCache, flock
from clusterforge.tools._manifest import Manifest, Source, ToolSpec, render

# `go: <module>@<version>: <error>` plus the tab-indented lines go adds, e.g.
# "reading …/@v/v1.2.3.info: 403 Forbidden\n\tserver response: …".
_MODULE_ERROR = re.compile(
    r"^(?:go: )?(?:[^\s:]+ imports\n(?:\t.+\n)*\t)?"
    r"(?P<module>[A-Za-z0-9][\w.\-~]*(?:/[\w.\-~]+)*)@(?P<version>v[\w.\-+]+): "
    r"(?P<error>.+(?:\n\t.+)*)",
    re.MULTILINE,
)


class RefusedModule(OperationFailed):
    """The module proxy (or VCS) would not serve a pinned module version."""

    def __init__(self, module: str, version: str, error: str) -> None:
        self.module = module
        self.version = version
        self.error = error.strip().removeprefix(f"{module}@{version}: ")
        super().__init__(f"Go module {module} {version} is unavailable: {self.error}")


Progress = Callable[[str], None]
"""Receives what a build is doing now, e.g. ``compiling 120/1650 packages``."""

# `go build -v` prints each package it compiles as its bare import path.
_PACKAGE_LINE = re.compile(r"^[\w.\-~]+(?:/[\w.\-~]+)*$")


def _ignore(_message: str) -> None:
    return None


class BuildFailed(OperationFailed):
    """``go`` ran and failed for a reason other than a refused module."""


@dataclass(frozen=True)
class ModuleInfo:
    """What the module proxy says about one pinned module version."""

    path: str
    version: str
    go_mod: Path
    time: str
    commit: str


@dataclass(frozen=True)
class Wrapper:
    """A prepared wrapper module and the facts its builds are stamped with."""

    directory: Path
    modules: tuple[ModuleInfo, ...]


class GoBuilder:
    """Prepares wrapper modules and builds tools in them."""

    def __init__(
        self,
        manifest: Manifest,
        cache: ToolCache,
        *,
        go: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._manifest = manifest
        self._cache = cache
        self._go = go
        self._env = dict(os.environ if env is None else env)
        # Where `build.local` directories are read from: the shipped package.
        self.local_root: Traversable = resources.files("clusterforge.tools")
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def go_binary(self) -> str:
        """The ``go`` command, or a clear error when Go is not installed."""
        found = shutil.which(self._go or "go", path=self._env.get("PATH"))
        if found is None:
            raise BuildFailed(
                "Go is not installed (no 'go' on PATH), so tools cannot be built from "
                "source; install Go 1.26 or newer, or make the official downloads reachable"
            )
        return found

    def build(self, spec: ToolSpec, output: Path, progress: Progress = _ignore) -> dict[str, str]:
        """Build ``spec`` to ``output``; returns details for the tool record."""
        assert spec.build is not None
        source = self._manifest.source_of(spec)
        progress("preparing the wrapper module (go mod tidy downloads modules)")
        wrapper = self.prepare(spec.build.source)
        first = wrapper.modules[0]
        ldflags = " ".join(
            render(flag, spec, build_date=first.time, commit=first.commit)
            for flag in spec.build.ldflags
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        argv = [self.go_binary(), "build", "-v", "-o", str(output)]
        if ldflags:
            argv.append(f"-ldflags={ldflags}")
        argv.append(spec.build.package)
        total = self._stale_packages(spec.build.package, wrapper.directory, source)
        progress(f"compiling 0/{total} packages")
        self._run(
            argv,
            wrapper.directory,
            source,
            f"go build {spec.build.package}",
            on_line=_package_counter(total, progress),
        )
        details = {
            "module": " ".join(f"{m.path}@{m.version}" for m in wrapper.modules),
            "package": spec.build.package,
            "ldflags": ldflags,
            "go": self.go_version(),
            "wrapper": str(wrapper.directory),
        }
        if spec.build.local is not None:
            details["local_sha256"] = self.local_digest(spec)
        return details

    def local_digest(self, spec: ToolSpec) -> str:
        """A digest of the shipped source of a ``build.local`` program.

        A local program changes with clusterforge, not with the pinned
        version, so its cache record is trusted only while this matches.
        """
        assert spec.build is not None
        assert spec.build.local is not None
        name = spec.build.local.rsplit("/", 1)[-1]
        files = {
            path: text
            for path, text in self._local_files(spec.build.source).items()
            if path.startswith(f"{name}/")
        }
        return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()

    def go_version(self) -> str:
        done = subprocess.run(
            [self.go_binary(), "version"],
            capture_output=True,
            text=True,
            env=self._env,
            check=False,
        )
        return done.stdout.strip()

    def prepare(self, source_name: str) -> Wrapper:
        """Generate (once) and tidy the wrapper module of one source."""
        source = self._manifest.sources[source_name]
        directory = self._cache.build_dir / f"{source_name}-{source.version}"
        with self._thread_lock(source_name), flock(directory.with_suffix(".lock")):
            fingerprint = self._fingerprint(source_name, source)
            marker = directory / ".prepared.json"
            try:
                saved = json.loads(marker.read_text(encoding="utf-8"))
                if saved.get("fingerprint") == fingerprint:
                    modules = tuple(
                        ModuleInfo(**{**item, "go_mod": Path(item["go_mod"])})
                        for item in saved["modules"]
                    )
                    return Wrapper(directory, modules)
            except (OSError, ValueError, KeyError, TypeError):
                pass
            directory.mkdir(parents=True, exist_ok=True)
            self._copy_local_sources(source_name, directory)
            modules = tuple(self._download(module, source) for module in source.modules)
            (directory / "go.mod").write_text(
                self._wrapper_go_mod(source_name, source, modules), encoding="utf-8"
            )
            (directory / "go.sum").unlink(missing_ok=True)
            (directory / "tools.go").write_text(self._tools_go(source_name), encoding="utf-8")
            self._run([self.go_binary(), "mod", "tidy"], directory, source, "go mod tidy")
            marker.write_text(
                json.dumps(
                    {
                        "fingerprint": fingerprint,
                        "modules": [{**asdict(m), "go_mod": str(m.go_mod)} for m in modules],
                    },
                    indent=2,
                ),
                encoding="utf-8",
            )
            return Wrapper(directory, modules)

    # -- steps -------------------------------------------------------------

    def _download(self, module: str, source: Source) -> ModuleInfo:
        self._cache.build_dir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [self.go_binary(), "mod", "download", "-json", f"{module}@{source.version}"],
            capture_output=True,
            text=True,
            cwd=self._cache.build_dir,
            env=self._go_env(source),
            check=False,
        )
        try:
            info: dict[str, Any] = json.loads(done.stdout)
        except ValueError:
            raise BuildFailed(
                f"`go mod download {module}@{source.version}` failed "
                f"(exit {done.returncode}): {done.stderr.strip() or 'no output'}"
            ) from None
        if info.get("Error") or "GoMod" not in info:
            error = info.get("Error") or "the proxy returned no go.mod"
            raise RefusedModule(module, source.version, str(error))
        time, commit = "", ""
        try:
            meta = json.loads(Path(info["Info"]).read_text(encoding="utf-8"))
            time = str(meta.get("Time", ""))
            commit = str((meta.get("Origin") or {}).get("Hash", ""))
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return ModuleInfo(module, source.version, Path(info["GoMod"]), time, commit)

    def _wrapper_go_mod(self, name: str, source: Source, modules: tuple[ModuleInfo, ...]) -> str:
        go_version = "1.21"
        replaces: dict[str, str] = {}
        required = {m.path for m in modules}
        for module in modules:
            parsed = self._parse_go_mod(module.go_mod)
            go_version = max(go_version, str(parsed.get("Go") or "1.21"), key=_version_key)
            for item in parsed.get("Replace") or []:
                old, new = item["Old"], item["New"]
                if old["Path"] in required:
                    continue
                left = old["Path"] + (f" {old['Version']}" if old.get("Version") else "")
                if new.get("Version"):
                    replaces.setdefault(left, f"{new['Path']} {new['Version']}")
                elif source.staging is not None and old["Path"].startswith(source.staging.prefix):
                    replaces.setdefault(left, f"{old['Path']} {source.staging.version}")
                # Any other repository path (a guard such as ./FORBIDDEN_DEPENDENCY)
                # cannot be resolved outside that repository and is dropped.
        lines = [
            "// Generated by clusterforge from the pinned releases' own go.mod files.",
            "// Regenerated when the manifest changes; do not edit.",
            f"module clusterforge.local/build/{name}",
            "",
            f"go {go_version}",
            "",
            "require (",
            *(f"\t{m.path} {m.version}" for m in modules),
            ")",
        ]
        if replaces:
            lines += ["", "replace (", *(f"\t{k} => {v}" for k, v in sorted(replaces.items())), ")"]
        return "\n".join(lines) + "\n"

    def _local_dirs(self, source_name: str) -> list[str]:
        return sorted(
            spec.build.local
            for spec in self._manifest.tools.values()
            if spec.build is not None
            and spec.build.source == source_name
            and spec.build.local is not None
        )

    def _local_files(self, source_name: str) -> dict[str, str]:
        """``{path in the wrapper: content}`` of the source's local programs."""
        files: dict[str, str] = {}
        for local in self._local_dirs(source_name):
            folder = self.local_root.joinpath(local)
            if not folder.is_dir():
                raise BuildFailed(f"the local Go source {local!r} is not shipped with clusterforge")
            name = local.rsplit("/", 1)[-1]
            for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
                if item.is_file() and item.name.endswith(".go"):
                    files[f"{name}/{item.name}"] = item.read_text(encoding="utf-8")
        return files

    def _copy_local_sources(self, source_name: str, directory: Path) -> None:
        """Replace the wrapper's copies of the local programs with the shipped files."""
        files = self._local_files(source_name)
        for folder in {relative.split("/", 1)[0] for relative in files}:
            shutil.rmtree(directory / folder, ignore_errors=True)
        for relative, text in files.items():
            target = directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

    def _stale_packages(self, package: str, cwd: Path, source: Source) -> int:
        """How many packages ``go build`` will compile (0 when go cannot tell)."""
        done = subprocess.run(
            [self.go_binary(), "list", "-deps", "-f", "{{if .Stale}}stale{{end}}", package],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=self._go_env(source),
            check=False,
            stdin=subprocess.DEVNULL,
        )
        return done.stdout.split().count("stale") if done.returncode == 0 else 0

    def _tools_go(self, source_name: str) -> str:
        packages = sorted(
            spec.build.package
            for spec in self._manifest.tools.values()
            if spec.build is not None
            and spec.build.source == source_name
            and spec.build.local is None
        )
        imports = "\n".join(f'\t_ "{package}"' for package in packages)
        return (
            "//go:build tools\n\n// Keeps the built commands in go.mod.\npackage tools\n\n"
            f"import (\n{imports}\n)\n"
        )

    def _parse_go_mod(self, path: Path) -> dict[str, Any]:
        done = subprocess.run(
            [self.go_binary(), "mod", "edit", "-json", str(path)],
            capture_output=True,
            text=True,
            env=self._env,
            check=False,
        )
        if done.returncode != 0:
            raise BuildFailed(f"cannot read {path}: {done.stderr.strip()}")
        parsed: dict[str, Any] = json.loads(done.stdout)
        return parsed

    def _run(
        self,
        argv: list[str],
        cwd: Path,
        source: Source,
        what: str,
        on_line: Callable[[str], bool] | None = None,
    ) -> None:
        """Run ``go``; ``on_line`` sees each stderr line and returns True to consume it."""
        with subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=self._go_env(source),
            stdin=subprocess.DEVNULL,
        ) as process:
            kept = _read_stderr(process.stderr, on_line)
            returncode = process.wait()
        if returncode == 0:
            return
        stderr = "\n".join(line for line in kept if not line.startswith("go: downloading "))
        match = _MODULE_ERROR.search(stderr)
        if match and _looks_refused(match.group("error")):
            raise RefusedModule(match.group("module"), match.group("version"), match.group("error"))
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise BuildFailed(f"{what} failed in {cwd}:\n{tail}")

    def _go_env(self, source: Source) -> dict[str, str]:
        env = dict(self._env)
        env.update(source.env)
        env.setdefault("GO111MODULE", "on")
        return env

    def _fingerprint(self, name: str, source: Source) -> str:
        payload = json.dumps(
            [name, source.model_dump(mode="json"), self._tools_go(name), self._local_files(name)],
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def _thread_lock(self, name: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(name, threading.Lock())


def _read_stderr(stream: IO[str] | None, on_line: Callable[[str], bool] | None) -> list[str]:
    kept: list[str] = []
    if stream is None:
        return kept
    for raw in stream:
        line = raw.rstrip("\n")
        if on_line is not None and on_line(line):
            continue
        kept.append(line)
    return kept


def _package_counter(total: int, progress: Progress) -> Callable[[str], bool]:
    """Counts ``go build -v`` package lines and reports ``compiling N/T packages``."""
    compiled = 0

    def on_line(line: str) -> bool:
        nonlocal compiled
        if not _PACKAGE_LINE.match(line):
            return False
        compiled += 1
        progress(f"compiling {compiled}/{max(total, compiled)} packages")
        return True

    return on_line


def _looks_refused(error: str) -> bool:
    markers = (
        "403",
        "404",
        "410",
        "not available",
        "unknown revision",
        "invalid version",
        "not found",
        "no matching versions",
        "disabled by GOPROXY",
        "dial tcp",
        "connection refused",
        "no such host",
        "verifying module",
    )
    return any(marker in error for marker in markers)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])
