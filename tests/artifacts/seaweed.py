"""A real S3-compatible server for the tests: SeaweedFS (``weed mini``) on loopback.

Built from its Go module by the toolchain resolver (optional tool ``weed``,
``make setup`` builds it in its own lane). Each server gets a temporary data
directory, free loopback ports for every component (gRPC ports too: SeaweedFS
would otherwise pick port+10000), an admin identity from the environment, and
a bucket created at start-up. Stopping it kills its process group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ACCESS_KEY = "cfartifacts"
SECRET_KEY = "cfartifacts-secret-key"
BUCKET = "artifacts"


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # host:port
    bucket: str
    access_key: str
    secret_key: str
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def client(self) -> Any:
        """A plain boto3 client of this server, for checks made beside the code under test."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                connect_timeout=2,
                read_timeout=10,
            ),
        )


def weed_binary() -> Path:
    """The pinned ``weed``, or a failure naming the command that builds it."""
    import pytest

    from clusterforge.tools import Toolchain

    located = Toolchain().locate("weed")
    if located is None:
        pytest.fail("SeaweedFS is not built; run `clusterforge tools install weed`")
    return located.path


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


@contextmanager
def seaweed_server(workdir: Path, timeout: float = 120.0) -> Iterator[S3Server]:
    """Start ``weed mini`` under ``workdir``; yield once its S3 API answers."""
    weed = weed_binary()
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    names = [
        "master",
        "master.grpc",
        "volume",
        "volume.grpc",
        "filer",
        "filer.grpc",
        "s3",
        "s3.grpc",
        "admin",
        "admin.grpc",
    ]
    ports = dict(zip(names, _free_ports(len(names)), strict=True))
    argv = [
        str(weed),
        "mini",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={ports['master.grpc']}",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={ports['volume.grpc']}",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={ports['filer.grpc']}",
        f"-s3.port={ports['s3']}",
        f"-s3.port.grpc={ports['s3.grpc']}",
        f"-admin.port={ports['admin']}",
        f"-admin.port.grpc={ports['admin.grpc']}",
        "-admin.port.legacy=0",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        f"-filer.localSocket={workdir}/filer.sock",
        f"-s3.localSocket={workdir}/s3.sock",
        f"-bucket={BUCKET}",
    ]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    log = workdir / "weed.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
            start_new_session=True,
        )
    server = S3Server(f"127.0.0.1:{ports['s3']}", BUCKET, ACCESS_KEY, SECRET_KEY, log)
    try:
        _wait_ready(server, proc, timeout)
        yield server
    finally:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_ready(server: S3Server, proc: subprocess.Popen[bytes], timeout: float) -> None:
    client = server.client()
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"weed exited ({proc.returncode}); see {server.log}:\n"
                + server.log.read_text(errors="replace")[-3000:]
            )
        try:
            httpx.get(server.url, timeout=2)
            client.head_bucket(Bucket=server.bucket)
            return
        except Exception as err:  # not up yet: keep polling until the deadline
            last = f"{type(err).__name__}: {err}"
        time.sleep(0.5)
    raise RuntimeError(f"weed's S3 API did not answer in {timeout:.0f}s ({last}); see {server.log}")
