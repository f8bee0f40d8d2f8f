"""Resolution order, records and failure reporting, against stand-in tools.

The "tools" here are tiny scripts that answer ``--version``; the download is
a real HTTP server on loopback; the build is a real ``go build`` against a
loopback module proxy that carries one module shaped like k8s.io/kubernetes
and refuses another.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from clusterforge.tools import Manifest, Toolchain, ToolMissing, parse_manifest
from clusterforge.tools._manifest import current_platform

PATTERN = r"version (v\S+)"
MakeBinary = Callable[[Path, str, str], Path]
CLI = str(Path(sys.executable).parent / "clusterforge")


def manifest(
    tools: dict[str, dict[str, object]], sources: dict[str, object] | None = None
) -> Manifest:
    body = {
        "sources": sources or {},
        "tools": {
            name: {"version_args": ["--version"], "version_pattern": PATTERN, **spec}
            for name, spec in tools.items()
        },
    }
    return parse_manifest(yaml.safe_dump(body), "test manifest")


HELLO_SOURCES = {
    "hello": {
        "modules": ["example.com/hello"],
        "version": "v1.2.3",
        "staging": {"prefix": "example.com/greeting", "version": "v0.2.3"},
        "env": {"CGO_ENABLED": "0"},
    },
    "refused": {"modules": ["example.com/refused"], "version": "v9.9.9"},
}
HELLO_BUILD = {
    "source": "hello",
    "package": "example.com/hello/cmd/hello",
    "ldflags": ["-X main.version={version}"],
}
BROKEN_BUILD = {"source": "refused", "package": "example.com/refused/cmd/broken"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_pinned_binary_on_path_is_used_and_recorded(
    tmp_path: Path, make_binary: MakeBinary
) -> None:
    binary = make_binary(tmp_path / "path", "alpha", "v1.2.3")
    toolchain = Toolchain(
        manifest({"alpha": {"version": "v1.2.3"}}),
        tmp_path / "cache",
        env={"PATH": str(binary.parent)},
    )

    outcome = toolchain.install(["alpha"])[0]

    assert (outcome.path, outcome.source, outcome.reused) == (binary, "path", True)
    record = toolchain.cache.record("alpha", "v1.2.3")
    assert record is not None
    assert (record.source, record.path) == ("path", str(binary))
    assert toolchain.resolve("alpha") == binary
    assert (toolchain.cache.bin_dir / "alpha").resolve() == binary


def test_binary_at_another_version_is_not_used(tmp_path: Path, make_binary: MakeBinary) -> None:
    binary = make_binary(tmp_path / "path", "alpha", "v1.0.0")
    toolchain = Toolchain(
        manifest({"alpha": {"version": "v1.2.3"}}),
        tmp_path / "cache",
        env={"PATH": str(binary.parent)},
    )

    with pytest.raises(ToolMissing) as raised:
        toolchain.resolve("alpha")

    assert "run `clusterforge tools install alpha`" in str(raised.value)
    row = toolchain.status()[0]
    assert (row.found, row.path, row.ok) == ("v1.0.0", binary, False)
    assert "is v1.0.0, not v1.2.3" in (row.problem or "")


def test_path_comes_before_the_cache_and_a_changed_cache_file_is_distrusted(
    tmp_path: Path, make_binary: MakeBinary
) -> None:
    spec = manifest({"alpha": {"version": "v1.2.3"}})
    cache_root = tmp_path / "cache"
    cached = make_binary(cache_root / "tools" / "alpha" / "v1.2.3", "alpha", "v1.2.3")
    on_path = make_binary(tmp_path / "path", "alpha", "v1.2.3")
    Toolchain(spec, cache_root).cache.write_record("alpha", "v1.2.3", "build", cached)

    with_path = Toolchain(spec, cache_root, env={"PATH": str(on_path.parent)})
    without_path = Toolchain(spec, cache_root, env={"PATH": ""})

    located = with_path.locate("alpha")
    assert located is not None
    assert (located.path, located.source) == (on_path, "path")
    located = without_path.locate("alpha")
    assert located is not None
    assert (located.path, located.source) == (cached, "build")

    cached.write_text(cached.read_text() + "# changed\n")
    assert without_path.locate("alpha") is None


def test_download_is_verified_against_the_pinned_sha256(
    tmp_path: Path, file_server: Any, make_binary: MakeBinary
) -> None:
    server = file_server
    payload = make_binary(tmp_path / "release", "alpha", "v1.2.3").read_bytes()
    server.routes["/alpha"] = (200, payload)
    digest = hashlib.sha256(payload).hexdigest()
    url = f"{server.url}/alpha"
    good = manifest(
        {
            "alpha": {
                "version": "v1.2.3",
                "download": {"url": url, "sha256": {current_platform(): digest}},
            }
        }
    )
    bad = manifest(
        {
            "alpha": {
                "version": "v1.2.3",
                "download": {"url": url, "sha256": {current_platform(): "0" * 64}},
            }
        }
    )

    rejected = Toolchain(bad, tmp_path / "bad", env={"PATH": ""}).install(["alpha"])[0]
    accepted = Toolchain(good, tmp_path / "good", env={"PATH": ""}).install(["alpha"])[0]

    assert not rejected.ok
    assert any("does not match pinned" in note for note in rejected.notes)
    assert not (tmp_path / "bad" / "tools" / "alpha" / "v1.2.3" / "alpha").exists()
    assert accepted.ok
    assert accepted.source == "download"
    record = Toolchain(good, tmp_path / "good").cache.record("alpha", "v1.2.3")
    assert record is not None
    assert record.details["url"] == url
    assert subprocess.run([str(accepted.path)], capture_output=True, text=True).stdout.strip() == (
        "alpha version v1.2.3"
    )


def test_unreachable_download_falls_through_to_a_stamped_go_build(
    tmp_path: Path, go_env: dict[str, str]
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hello"
    spec = manifest(
        {
            "hello": {
                "version": "v1.2.3",
                "version_args": [],
                "download": {"url": url, "sha256": {current_platform(): "1" * 64}},
                "build": HELLO_BUILD,
            }
        },
        HELLO_SOURCES,
    )
    events: list[str] = []
    toolchain = Toolchain(spec, tmp_path / "cache", env=go_env, connect_timeout=1.0)

    outcome = toolchain.install(["hello"], report=lambda name, message: events.append(message))[0]

    assert outcome.ok, outcome.error
    assert outcome.source == "build"
    assert any(note.startswith(f"download: {url}: ConnectError") for note in outcome.notes)
    assert "downloading" in events
    assert any(e.startswith("building") for e in events)
    output = subprocess.run([str(outcome.path)], capture_output=True, text=True).stdout
    assert output.strip() == "hello version v1.2.3"
    wrapper = (tmp_path / "cache" / "build" / "hello-v1.2.3" / "go.mod").read_text()
    assert "example.com/greeting => example.com/greeting v0.2.3" in wrapper
    assert "FORBIDDEN" not in wrapper
    record = toolchain.cache.record("hello", "v1.2.3")
    assert record is not None
    assert record.source == "build"
    assert record.details["module"] == "example.com/hello@v1.2.3"
    assert "-X main.version=v1.2.3" in record.details["ldflags"]


def test_refused_module_is_reported_exactly_and_other_tools_continue(
    tmp_path: Path, go_env: dict[str, str], make_binary: MakeBinary
) -> None:
    alpha = make_binary(tmp_path / "path", "alpha", "v1.2.3")
    env = {**go_env, "PATH": f"{alpha.parent}{os.pathsep}{go_env['PATH']}"}
    spec = manifest(
        {"alpha": {"version": "v1.2.3"}, "broken": {"version": "v9.9.9", "build": BROKEN_BUILD}},
        HELLO_SOURCES,
    )
    toolchain = Toolchain(spec, tmp_path / "cache", env=env)

    alpha_outcome, broken = toolchain.install()

    assert alpha_outcome.ok
    assert not broken.ok
    assert broken.refused is not None
    assert (broken.refused.module, broken.refused.version) == ("example.com/refused", "v9.9.9")
    assert "403 Forbidden" in broken.refused.error
    assert "This module version is not available." in broken.refused.error
    failure = toolchain.cache.failure("broken", "v9.9.9")
    assert failure is not None
    assert (failure.module, failure.module_version) == ("example.com/refused", "v9.9.9")
    with pytest.raises(ToolMissing, match=r"clusterforge tools install broken.*403 Forbidden"):
        toolchain.resolve("broken")


def test_full_cache_runs_no_go_and_failed_optional_tools_wait_to_be_named(
    tmp_path: Path, make_binary: MakeBinary
) -> None:
    spy_log = tmp_path / "go-calls"
    spy_dir = tmp_path / "spy"
    spy_dir.mkdir()
    (spy_dir / "go").write_text(f'#!/bin/sh\necho "$@" >> {spy_log}\nexit 1\n')
    (spy_dir / "go").chmod(0o755)
    spec = manifest(
        {
            "alpha": {"version": "v1.2.3", "build": HELLO_BUILD},
            "beta": {"version": "v9.9.9", "required": False, "build": BROKEN_BUILD},
        },
        HELLO_SOURCES,
    )
    cache_root = tmp_path / "cache"
    toolchain = Toolchain(spec, cache_root, env={"PATH": str(spy_dir)})
    cached = make_binary(cache_root / "tools" / "alpha" / "v1.2.3", "alpha", "v1.2.3")
    toolchain.cache.write_record("alpha", "v1.2.3", "build", cached)

    first = toolchain.install()
    assert spy_log.read_text().count("\n") > 0  # beta had to try once
    spy_log.unlink()

    warm = toolchain.install()
    assert not spy_log.exists()
    assert warm[0].ok
    assert warm[0].reused
    assert not warm[1].ok
    assert "not retried" in warm[1].notes[0]
    assert warm[1].error == first[1].error

    named = toolchain.install(["beta"])
    assert spy_log.exists()
    assert not named[0].ok


def test_bin_dir_holds_exactly_the_resolved_tools(tmp_path: Path, make_binary: MakeBinary) -> None:
    alpha = make_binary(tmp_path / "path", "alpha", "v1.2.3")
    spec = manifest({"alpha": {"version": "v1.2.3"}, "beta": {"version": "v2.0.0"}})
    toolchain = Toolchain(spec, tmp_path / "cache", env={"PATH": str(alpha.parent)})
    (toolchain.cache.bin_dir).mkdir(parents=True)
    (toolchain.cache.bin_dir / "beta").symlink_to(alpha)  # stale

    bin_dir = toolchain.link_bin()

    assert sorted(p.name for p in bin_dir.iterdir()) == ["alpha"]
    assert (bin_dir / "alpha").resolve() == alpha


def test_cli_install_and_status_report_a_refused_module(
    tmp_path: Path, go_env: dict[str, str], make_binary: MakeBinary
) -> None:
    alpha = make_binary(tmp_path / "path", "alpha", "v1.2.3")
    body = {
        "sources": HELLO_SOURCES,
        "tools": {
            "alpha": {
                "version": "v1.2.3",
                "version_args": ["--version"],
                "version_pattern": PATTERN,
            },
            "broken": {
                "version": "v9.9.9",
                "version_args": ["--version"],
                "version_pattern": PATTERN,
                "build": BROKEN_BUILD,
            },
        },
    }
    manifest_file = tmp_path / "manifest.yaml"
    manifest_file.write_text(yaml.safe_dump(body))
    env = {
        **go_env,
        "PATH": f"{alpha.parent}{os.pathsep}{go_env['PATH']}",
        "CLUSTERFORGE_TOOLS_MANIFEST": str(manifest_file),
        "CLUSTERFORGE_CACHE": str(tmp_path / "cache"),
        "COLUMNS": "200",
    }
    cli = [CLI]

    install = subprocess.run([*cli, "tools", "install"], capture_output=True, text=True, env=env)
    status = subprocess.run([*cli, "tools", "status"], capture_output=True, text=True, env=env)
    path = subprocess.run([*cli, "tools", "path"], capture_output=True, text=True, env=env)

    assert install.returncode == 1, install.stderr
    assert "refused module: example.com/refused v9.9.9" in install.stderr
    assert "403 Forbidden" in install.stderr
    assert "✓ alpha v1.2.3 (path" in install.stderr
    assert status.returncode == 1
    assert "alpha" in status.stdout
    assert str(alpha) in status.stdout
    assert "broken: Go module example.com/refused v9.9.9 is unavailable" in status.stdout
    assert path.returncode == 0
    bin_dir = Path(path.stdout.strip())
    assert bin_dir == tmp_path / "cache" / "bin"
    assert sorted(p.name for p in bin_dir.iterdir()) == ["alpha"]
    record = json.loads((tmp_path / "cache/tools/alpha/v1.2.3/record.json").read_text())
    assert record["source"] == "path"


def test_unknown_tool_name_is_a_usage_error(tmp_path: Path) -> None:
    env = {**os.environ, "CLUSTERFORGE_CACHE": str(tmp_path / "cache")}
    done = subprocess.run(
        [CLI, "tools", "install", "kubectll"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 2
    assert "unknown tool 'kubectll'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_local_program_builds_in_the_wrapper_module_with_compile_progress(
    tmp_path: Path, go_env: dict[str, str]
) -> None:
    """A program written here (build.local) compiles against the pinned module."""
    local = tmp_path / "shipped" / "go" / "shout"
    local.mkdir(parents=True)
    (local / "main.go").write_text(
        'package main\n\nimport (\n\t"fmt"\n\t"strings"\n\n\t"example.com/greeting"\n)\n\n'
        'var version = "unset"\n\n'
        'func main() { fmt.Println(strings.ToUpper(greeting.Word()), "version", version) }\n',
        encoding="utf-8",
    )
    build = {
        "source": "hello",
        "package": "./shout",
        "local": "go/shout",
        "ldflags": ["-X main.version={version}"],
    }
    spec = manifest(
        {
            "hello": {"version": "v1.2.3", "build": HELLO_BUILD},
            "shout": {"version": "v1.2.3", "build": build},
        },
        HELLO_SOURCES,
    )
    toolchain = Toolchain(spec, tmp_path / "cache", env=go_env)
    toolchain.builder.local_root = tmp_path / "shipped"
    events: list[tuple[str, str]] = []

    outcomes = toolchain.install(report=lambda name, message: events.append((name, message)))

    assert [o.ok for o in outcomes] == [True, True], [o.error for o in outcomes]
    shout = subprocess.run([str(outcomes[1].path)], capture_output=True, text=True).stdout
    assert shout.strip() == "HELLO version v1.2.3"
    counts = [m for name, m in events if name == "shout" and m.startswith("compiling ")]
    assert counts[0].startswith("compiling 0/")
    compiled, total = counts[-1].split()[1].split("/")
    assert int(compiled) >= 1
    assert int(compiled) <= int(total)
    # The program changes with clusterforge, not with its pinned version: an
    # edited source is not "found" in the cache, and install rebuilds it.
    assert toolchain.locate("shout") is not None
    (local / "main.go").write_text(
        (local / "main.go").read_text().replace("strings.ToUpper(", "strings.ToLower("),
        encoding="utf-8",
    )
    assert toolchain.locate("shout") is None
    (rebuilt,) = toolchain.install(["shout"])
    assert not rebuilt.reused
    shout = subprocess.run([str(rebuilt.path)], capture_output=True, text=True).stdout
    assert shout.strip() == "hello version v1.2.3"
    tools_go = (tmp_path / "cache" / "build" / "hello-v1.2.3" / "tools.go").read_text()
    assert "shout" not in tools_go
    assert "example.com/hello/cmd/hello" in tools_go


def test_local_program_package_must_name_its_directory() -> None:
    build = {"source": "hello", "package": "./other", "local": "go/shout"}
    with pytest.raises(Exception, match=r"tools\.shout\.build\.package must be './shout'"):
        manifest({"shout": {"version": "v1.2.3", "build": build}}, HELLO_SOURCES)
