"""The S3 repository against a real S3-compatible server (SeaweedFS, built from Go)."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import pytest

from clusterforge.engine.artifacts import (
    ArtifactMissing,
    RepositoryError,
    S3Config,
    S3Repository,
    collect_outputs,
    get_path,
    open_repository,
    parse_entry,
    put_path,
    stage_inputs,
)
from tests.artifacts.seaweed import S3Server


def _config(server: S3Server, **extra: object) -> S3Config:
    return S3Config.model_validate(
        {"bucket": server.bucket, "endpoint": server.endpoint, "insecure": True, **extra}
    )


@pytest.fixture
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_server: S3Server) -> Path:
    root = tmp_path / "secrets"
    (root / "s3-cred").mkdir(parents=True)
    (root / "s3-cred" / "accesskey").write_text(s3_server.access_key + "\n")
    (root / "s3-cred" / "secretkey").write_text(s3_server.secret_key)
    monkeypatch.setenv("CLUSTERFORGE_SECRETS_DIR", str(root))
    return root


@pytest.fixture
def repo(s3_server: S3Server, secrets: Path) -> S3Repository:
    return S3Repository(
        "team-s3",
        _config(
            s3_server,
            accessKeySecret={"name": "s3-cred", "key": "accesskey"},
            secretKeySecret={"name": "s3-cred", "key": "secretkey"},
        ),
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_multipart_file_round_trips(repo: S3Repository, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024 + 17))  # three 8 MiB parts
    put_path(repo, "wf/pod/big.bin", big, archived=False)
    assert [(o.key, o.size) for o in repo.list("wf/pod/")] == [
        ("wf/pod/big.bin", big.stat().st_size)
    ]
    get_path(repo, "wf/pod/big.bin", tmp_path / "back.bin")
    assert _digest(tmp_path / "back.bin") == _digest(big)


def test_an_unarchived_directory_of_many_files_round_trips(
    repo: S3Repository, tmp_path: Path
) -> None:
    """Small objects are uploaded and downloaded several at a time."""
    source = tmp_path / "out"
    for index in range(40):
        path = source / f"d{index % 3}" / f"f{index}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"file {index}\n" * index)
    put_path(repo, "wf/pod/many", source, archived=False)
    assert len(list(repo.list("wf/pod/many/"))) == 40
    get_path(repo, "wf/pod/many", tmp_path / "back")
    for path in source.rglob("*.txt"):
        assert (tmp_path / "back" / path.relative_to(source)).read_text() == path.read_text()


def test_outputs_and_inputs_through_s3(repo: S3Repository, tmp_path: Path) -> None:
    gen, use = tmp_path / "gen", tmp_path / "use"
    (gen / "tmp" / "out").mkdir(parents=True)
    (gen / "tmp" / "out" / "a.txt").write_text("a")
    entries = collect_outputs(
        repo,
        [{"name": "dir", "path": "/tmp/out"}],
        prefix="wf-s3/wf-s3-gen",
        host_path=lambda p: gen / p.lstrip("/"),
        values={},
    )
    assert entries[0]["s3"] == {
        "bucket": repo.config.bucket,
        "key": "wf-s3/wf-s3-gen/dir.tgz",
        "endpoint": repo.config.endpoint,
    }
    stage_inputs(
        repo,
        [{"name": "d", "path": "/in", "from": "{{tasks.gen.outputs.artifacts.dir}}"}],
        host_path=lambda p: use / p.lstrip("/"),
        produced={"tasks.gen.outputs.artifacts.dir": entries[0]},
        values={},
    )
    assert (use / "in" / "a.txt").read_text() == "a"


def test_an_aborted_write_leaves_no_object(repo: S3Repository, s3_server: S3Server) -> None:
    class Boom(Exception):
        pass

    def write_then_fail() -> None:
        with repo.writer("wf/aborted.bin") as out:
            out.write(os.urandom(9 * 1024 * 1024))  # past the multipart threshold
            raise Boom

    with pytest.raises(Boom):
        write_then_fail()
    assert not repo.exists("wf/aborted.bin")
    uploads = s3_server.client().list_multipart_uploads(Bucket=s3_server.bucket, Prefix="wf/")
    assert [u["Key"] for u in uploads.get("Uploads", [])] == []  # the multipart was aborted
    with pytest.raises(ArtifactMissing):
        get_path(repo, "wf/aborted.bin", Path("/nonexistent/never-written"))


def test_wrong_credentials_are_one_clear_error(
    s3_server: S3Server, secrets: Path, tmp_path: Path
) -> None:
    (secrets / "s3-cred" / "secretkey").write_text("wrong-secret")
    bad = S3Repository(
        "team-s3",
        _config(
            s3_server,
            accessKeySecret={"name": "s3-cred", "key": "accesskey"},
            secretKeySecret={"name": "s3-cred", "key": "secretkey"},
        ),
    )
    (tmp_path / "f").write_text("x")
    with pytest.raises(RepositoryError) as caught:
        put_path(bad, "wf/denied.txt", tmp_path / "f", archived=False)
    message = str(caught.value)
    assert "artifact repository 'team-s3'" in message
    assert "refused the credentials" in message
    assert "wrong-secret" not in message


def test_an_unreachable_server_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    repo = S3Repository(
        "gone",
        S3Config.model_validate(
            {"bucket": "b-1", "endpoint": f"127.0.0.1:{port}", "insecure": True}
        ),
    )
    (tmp_path / "f").write_text("x")
    with pytest.raises(RepositoryError, match=r"artifact repository 'gone' .*cannot connect"):
        put_path(repo, "wf/f", tmp_path / "f", archived=False)
    with pytest.raises(RepositoryError, match="cannot connect"):
        repo.check()


def test_credentials_from_a_file_and_from_the_environment(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = tmp_path / "credentials"
    creds.write_text(
        f"[ci]\naws_access_key_id = {s3_server.access_key}\n"
        f"aws_secret_access_key = {s3_server.secret_key}\n"
    )
    from_file = S3Repository("f", _config(s3_server, credentialsFile=str(creds), profile="ci"))
    from_file.check()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    entry = parse_entry(
        {"s3": {"bucket": s3_server.bucket, "endpoint": s3_server.endpoint, "insecure": True}},
        "env",
        "test",
    )
    from_env = open_repository(entry)
    assert isinstance(from_env, S3Repository)
    from_env.check()


def test_a_missing_bucket_says_so(repo: S3Repository, s3_server: S3Server) -> None:
    other = S3Repository(
        "team-s3", repo.config.model_copy(update={"bucket": "no-such-bucket-here"})
    )
    with pytest.raises(RepositoryError, match="team-s3"):
        other.check()


def test_an_input_naming_its_own_bucket_is_read_from_it(
    repo: S3Repository, s3_server: S3Server, secrets: Path, tmp_path: Path
) -> None:
    (tmp_path / "f.txt").write_text("from its own bucket")
    put_path(repo, "elsewhere/f.txt", tmp_path / "f.txt", archived=False)
    stage_inputs(
        open_repository(parse_entry({"local": {"path": str(tmp_path / "unused")}}, "l", "t")),
        [
            {
                "name": "own",
                "path": "/own.txt",
                "s3": {
                    "endpoint": s3_server.endpoint,
                    "bucket": s3_server.bucket,
                    "insecure": True,
                    "key": "elsewhere/f.txt",
                    "accessKeySecret": {"name": "s3-cred", "key": "accesskey"},
                    "secretKeySecret": {"name": "s3-cred", "key": "secretkey"},
                },
            }
        ],
        host_path=lambda p: tmp_path / "step" / p.lstrip("/"),
        produced={},
        values={},
    )
    assert (tmp_path / "step" / "own.txt").read_text() == "from its own bucket"
