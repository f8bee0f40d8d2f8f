"""Official release downloads, verified against a pinned sha256.

A download is attempted only when the manifest pins a checksum for this
platform; the file is hashed as it streams and discarded on any mismatch, so
an unverified byte never becomes an executable. Machines without internet are
normal here: the connection attempt gives up after a few seconds and the
resolver falls through to building from source.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
from pathlib import Path

import httpx

from clusterforge.tools._manifest import Download, ToolSpec, current_platform, render


class DownloadFailed(Exception):
    """The download was skipped or did not produce a verified binary."""


def download_tool(
    spec: ToolSpec,
    download: Download,
    destination: Path,
    scratch: Path,
    *,
    connect_timeout: float = 5.0,
) -> str:
    """Fetch ``spec``'s binary to ``destination``; returns the URL used."""
    platform = current_platform()
    expected = download.sha256.get(platform)
    if expected is None:
        raise DownloadFailed(f"no sha256 pinned for {platform}; downloads disabled")
    url = render(download.url, spec)
    scratch.mkdir(parents=True, exist_ok=True)
    # An archive (etcd ships etcd and etcdctl in one) is kept by its checksum so
    # the second tool it holds does not fetch it again.
    archive = scratch / expected
    if not _has_digest(archive, expected):
        _fetch(url, archive, expected, connect_timeout)
    temp = destination.with_name(f".{destination.name}.{os.getpid()}.download")
    try:
        if download.member is not None:
            _extract_member(archive, render(download.member, spec), temp)
        elif download.compression == "gzip":
            with gzip.open(archive, "rb") as source, temp.open("wb") as sink:
                shutil.copyfileobj(source, sink)
        else:
            shutil.copyfile(archive, temp)
        temp.chmod(0o755)
        temp.replace(destination)
    except (OSError, tarfile.TarError) as err:
        temp.unlink(missing_ok=True)
        raise DownloadFailed(f"{url}: cannot unpack: {err}") from err
    return url


def _fetch(url: str, target: Path, expected: str, connect_timeout: float) -> None:
    temp = target.with_name(f".{target.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    timeout = httpx.Timeout(60.0, connect=connect_timeout)
    try:
        with (
            httpx.stream("GET", url, follow_redirects=True, timeout=timeout) as response,
            temp.open("wb") as sink,
        ):
            if response.status_code != 200:
                raise DownloadFailed(f"{url}: HTTP {response.status_code}")
            for chunk in response.iter_bytes(1 << 20):
                digest.update(chunk)
                sink.write(chunk)
    except httpx.HTTPError as err:
        temp.unlink(missing_ok=True)
        raise DownloadFailed(f"{url}: {type(err).__name__}: {err}") from err
    except DownloadFailed:
        temp.unlink(missing_ok=True)
        raise
    if digest.hexdigest() != expected:
        temp.unlink(missing_ok=True)
        raise DownloadFailed(f"{url}: sha256 {digest.hexdigest()} does not match pinned {expected}")
    temp.replace(target)


def _has_digest(path: Path, expected: str) -> bool:
    if not path.is_file():
        return False
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest() == expected


def _extract_member(archive: Path, member: str, target: Path) -> None:
    with tarfile.open(archive, "r:*") as tar:
        try:
            info = tar.getmember(member)
        except KeyError:
            raise DownloadFailed(f"{archive.name}: no member {member!r}") from None
        source = tar.extractfile(info)
        if source is None or not info.isfile():
            raise DownloadFailed(f"{archive.name}: {member!r} is not a regular file")
        with source, target.open("wb") as sink:
            shutil.copyfileobj(source, sink)
