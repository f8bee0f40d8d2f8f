"""The operator's hooks: Argo's input sources, outputs, archived logs and artifactGC."""

from __future__ import annotations

import functools
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterforge.engine.artifacts import (
    ArtifactFailure,
    LocalRepository,
    archive_logs,
    archives_logs,
    collect_garbage,
    collect_outputs,
    garbage_keys,
    global_entries,
    merge_arguments,
    pack,
    path_values,
    stage_inputs,
)

PREFIX = "wf-1/wf-1-gen-1"
WF_VALUES = {"workflow.name": "wf-1"}


@pytest.fixture
def repo(tmp_path: Path) -> LocalRepository:
    return LocalRepository("local", tmp_path / "repo")


def _host(root: Path) -> functools.partial[Path]:
    def mapped(base: Path, path: str) -> Path:
        return base / path.lstrip("/")

    return functools.partial(mapped, root)


def test_output_then_input_passes_a_file_between_steps(
    repo: LocalRepository, tmp_path: Path
) -> None:
    gen, use = tmp_path / "gen", tmp_path / "use"
    (gen / "tmp").mkdir(parents=True)
    (gen / "tmp" / "hello_world.txt").write_text("hello world\n")
    entries = collect_outputs(
        repo,
        [{"name": "hello-art", "path": "/tmp/hello_world.txt", "globalName": "g"}],
        prefix=PREFIX,
        host_path=_host(gen),
        values=WF_VALUES,
    )
    assert entries == [
        {
            "name": "hello-art",
            "path": "/tmp/hello_world.txt",
            "key": f"{PREFIX}/hello-art.tgz",
            "repository": "local",
            "globalName": "g",
        }
    ]
    produced = {f"tasks.gen.outputs.artifacts.{e['name']}": e for e in entries}
    produced |= global_entries(entries)
    inputs = merge_arguments(
        [{"name": "message", "path": "/tmp/message"}, {"name": "again", "path": "/tmp/g"}],
        [
            {"name": "message", "from": "{{tasks.gen.outputs.artifacts.hello-art}}"},
            {"name": "again", "from": "{{workflow.outputs.artifacts.g}}"},
        ],
    )
    stage_inputs(repo, inputs, host_path=_host(use), produced=produced, values=WF_VALUES)
    assert (use / "tmp" / "message").read_text() == "hello world\n"
    assert (use / "tmp" / "g").read_text() == "hello world\n"


def test_raw_key_only_mode_and_sub_path(repo: LocalRepository, tmp_path: Path) -> None:
    gen, use = tmp_path / "gen", tmp_path / "use"
    (gen / "out" / "dir").mkdir(parents=True)
    (gen / "out" / "dir" / "f.txt").write_text("deep")
    entries = collect_outputs(
        repo,
        [
            {"name": "file", "path": "/out", "s3": {"key": "my-{{workflow.name}}"}},
            {"name": "plain", "path": "/out/dir/f.txt", "archive": {"none": {}}},
        ],
        prefix=PREFIX,
        host_path=_host(gen),
        values=WF_VALUES,
    )
    assert [e["key"] for e in entries] == ["my-wf-1", f"{PREFIX}/f.txt"]
    stage_inputs(
        repo,
        [
            {"name": "raw", "path": "/in/raw.sh", "raw": {"data": "echo hi\n"}, "mode": 0o700},
            {
                "name": "key-only",
                "path": "/in/f",
                "s3": {"key": "my-{{workflow.name}}"},
                "subPath": "dir/f.txt",
            },
            {"name": "plain", "path": "/in/plain", "from": "{{steps.gen.outputs.artifacts.plain}}"},
        ],
        host_path=_host(use),
        produced={"steps.gen.outputs.artifacts.plain": entries[1]},
        values=WF_VALUES,
    )
    assert (use / "in" / "raw.sh").read_text() == "echo hi\n"
    assert (use / "in" / "raw.sh").stat().st_mode & 0o777 == 0o700
    assert (use / "in" / "f").read_text() == "deep"
    assert (use / "in" / "plain").read_text() == "deep"
    assert path_values([{"name": "raw", "path": "/in/raw.sh"}], []) == {
        "inputs.artifacts.raw.path": "/in/raw.sh"
    }


def test_missing_inputs_fail_unless_optional(repo: LocalRepository, tmp_path: Path) -> None:
    with pytest.raises(ArtifactFailure, match=r"Unable to resolve: \{\{tasks.x.outputs"):
        stage_inputs(
            repo,
            [{"name": "a", "path": "/a", "from": "{{tasks.x.outputs.artifacts.y}}"}],
            host_path=_host(tmp_path),
            produced={},
            values={},
        )
    with pytest.raises(ArtifactFailure, match=r"inputs\.artifacts\.b was not supplied"):
        stage_inputs(
            repo, [{"name": "b", "path": "/b"}], host_path=_host(tmp_path), produced={}, values={}
        )
    stage_inputs(
        repo,
        [{"name": "c", "path": "/c", "s3": {"key": "absent"}, "optional": True}],
        host_path=_host(tmp_path),
        produced={},
        values={},
    )
    assert not (tmp_path / "c").exists()


def test_missing_outputs_fail_unless_optional(repo: LocalRepository, tmp_path: Path) -> None:
    with pytest.raises(ArtifactFailure, match="path /tmp/none does not exist"):
        collect_outputs(
            repo,
            [{"name": "n", "path": "/tmp/none"}],
            prefix=PREFIX,
            host_path=_host(tmp_path),
            values={},
        )
    assert (
        collect_outputs(
            repo,
            [{"name": "n", "path": "/tmp/none", "optional": True}],
            prefix=PREFIX,
            host_path=_host(tmp_path),
            values={},
        )
        == []
    )


def test_compression_level_zero_still_writes_gzip(repo: LocalRepository, tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"a" * 100_000)
    collect_outputs(
        repo,
        [{"name": "z", "path": "/big", "archive": {"tar": {"compressionLevel": 0}}}],
        prefix=PREFIX,
        host_path=_host(tmp_path),
        values={},
    )
    collect_outputs(
        repo, [{"name": "d", "path": "/big"}], prefix=PREFIX, host_path=_host(tmp_path), values={}
    )
    sizes = {o.key.rsplit("/", 1)[-1]: o.size for o in repo.list(PREFIX + "/")}
    assert sizes["z.tgz"] > 100_000 > 10_000 > sizes["d.tgz"]
    with repo.reader(f"{PREFIX}/z.tgz") as stream:
        assert stream.read(2) == b"\x1f\x8b"


def test_logs_are_archived_under_the_pod_prefix(repo: LocalRepository, tmp_path: Path) -> None:
    (tmp_path / "stdout.log").write_text("out\n")
    (tmp_path / "stderr.log").write_text("err\n")
    entry = archive_logs(repo, PREFIX, [tmp_path / "stdout.log", tmp_path / "stderr.log"])
    assert entry == {"name": "main-logs", "key": f"{PREFIX}/main.log", "repository": "local"}
    with repo.reader(f"{PREFIX}/main.log") as stream:
        assert stream.read() == b"out\nerr\n"


@pytest.mark.parametrize(
    ("controller", "workflow", "template", "expected"),
    [
        (True, False, False, True),
        (False, True, None, True),
        (False, True, False, False),
        (False, False, True, True),
        (False, None, None, False),
    ],
)
def test_archive_logs_priority_is_argos(
    controller: bool, workflow: bool | None, template: bool | None, expected: bool
) -> None:
    assert archives_logs(controller, workflow, template) is expected


def test_artifact_gc_deletes_what_its_strategy_says(repo: LocalRepository, tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a")
    entries = collect_outputs(
        repo,
        [
            {"name": "keep", "path": "/a", "artifactGC": {"strategy": "Never"}},
            {"name": "drop", "path": "/a"},
            {"name": "later", "path": "/a", "artifactGC": {"strategy": "OnWorkflowDeletion"}},
        ],
        prefix=PREFIX,
        host_path=_host(tmp_path),
        values={},
    )
    keys = garbage_keys(entries, {"strategy": "OnWorkflowCompletion"}, "OnWorkflowCompletion")
    assert keys == [f"{PREFIX}/drop.tgz"]
    assert collect_garbage(repo, keys) == 1
    assert sorted(o.key for o in repo.list(PREFIX + "/")) == [
        f"{PREFIX}/keep.tgz",
        f"{PREFIX}/later.tgz",
    ]


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_Files, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_http_inputs_plain_and_tarball(
    repo: LocalRepository, tmp_path: Path, http_root: tuple[str, Path]
) -> None:
    url, root = http_root
    (root / "plain.txt").write_text("plain")
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "inner.txt").write_text("inner")
    buffer = io.BytesIO()
    pack(tmp_path / "tree", buffer)
    (root / "tree.tgz").write_bytes(buffer.getvalue())
    dest = tmp_path / "dest"
    stage_inputs(
        repo,
        [
            {"name": "p", "path": "/p", "http": {"url": f"{url}/plain.txt"}},
            {"name": "t", "path": "/t", "http": {"url": f"{url}/tree.tgz"}},
            {"name": "gone", "path": "/g", "http": {"url": f"{url}/nope"}, "optional": True},
        ],
        host_path=_host(dest),
        produced={},
        values={},
    )
    assert (dest / "p").read_text() == "plain"
    assert (dest / "t" / "inner.txt").read_text() == "inner"
    assert not (dest / "g").exists()
