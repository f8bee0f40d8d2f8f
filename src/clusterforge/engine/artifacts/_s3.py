"""The ``s3`` repository: AWS S3 or any S3-compatible server, through boto3.

Writes stream: the caller writes into one end of a pipe while boto3's
transfer manager reads the other and uploads multipart parts of
:data:`PART_SIZE`. A pipe cannot seek, so boto3 holds each part in memory
until it is sent — at most :data:`PARTS_IN_MEMORY` of them — so memory is
bounded (about 80 MiB of parts) whatever the object's size.

If the caller's block fails, the reading side raises at its next read, so
boto3 aborts the multipart upload and no object appears; if the upload fails
first, the pipe is closed and the caller's next write stops with the upload's
error. Reads stream the object's body.

Connection, credential and bucket problems become one
:class:`RepositoryError` naming the repository and what to check. The bucket
is looked up once before the first write: some S3-compatible servers
(SeaweedFS) create a bucket on the first PUT into it, so a misspelt bucket
would otherwise quietly receive the artifacts.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, Any

from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from clusterforge.engine.artifacts._config import S3Config
from clusterforge.engine.artifacts._credentials import session_for
from clusterforge.engine.artifacts._keys import checked_key
from clusterforge.engine.artifacts._repository import (
    ArtifactMissing,
    RepositoryError,
    StoredObject,
)

PART_SIZE = 8 * 1024 * 1024
PARTS_IN_MEMORY = 10
_CREDENTIAL_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "Forbidden"}
)
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class S3Repository:
    """Objects in one bucket."""

    def __init__(self, name: str, config: S3Config) -> None:
        self.name = name
        self.config = config
        self.endpoint = _endpoint_url(config)
        self._bucket_found = False
        path_style = config.path_style if config.path_style is not None else bool(config.endpoint)
        session = session_for(config, name)
        self._client = session.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=config.region or "us-east-1",
            config=Config(
                s3={"addressing_style": "path" if path_style else "auto"},
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )
        self._transfer = TransferConfig(
            multipart_threshold=PART_SIZE,
            multipart_chunksize=PART_SIZE,
            max_concurrency=4,
            use_threads=True,
        )
        # s3transfer's own setting (not a TransferConfig argument): parts held at once.
        self._transfer.max_in_memory_upload_chunks = PARTS_IN_MEMORY

    def describe(self) -> str:
        where = self.endpoint or "aws"
        return f"s3 {where}/{self.config.bucket}"

    def _fail(self, err: BaseException, action: str) -> RepositoryError:
        return RepositoryError(
            f"artifact repository {self.name!r} ({self.describe()}): {action}: {_reason(err)}"
        )

    def _ensure_bucket(self, key: str) -> None:
        """Before the first write: a missing bucket (or endpoint) is an error, not a new
        bucket. A refusal (403) does not decide: a key allowed to write objects may not
        be allowed to look at the bucket, and the write itself reports bad credentials."""
        if self._bucket_found:
            return
        try:
            self._client.head_bucket(Bucket=self.config.bucket)
        except ClientError as err:
            if _code(err) not in _CREDENTIAL_CODES:
                raise self._fail(err, f"cannot write {key}") from None
        except BotoCoreError as err:
            raise self._fail(err, f"cannot write {key}") from None
        self._bucket_found = True

    @contextmanager
    def writer(self, key: str) -> Iterator[IO[bytes]]:
        key = checked_key(key, "key")
        self._ensure_bucket(key)
        read_fd, write_fd = os.pipe()
        source = _PipeSource(read_fd)
        failure: list[BaseException] = []

        def upload() -> None:
            try:
                self._client.upload_fileobj(source, self.config.bucket, key, Config=self._transfer)
            except BaseException as err:
                failure.append(err)
            finally:
                source.close()  # a writer blocked on a full pipe now gets EPIPE

        thread = threading.Thread(target=upload, name=f"s3-upload-{key}", daemon=True)
        thread.start()
        sink = os.fdopen(write_fd, "wb", buffering=1 << 20)
        try:
            try:
                yield sink
            except BaseException:
                source.abort()
                raise
            finally:
                with suppress(BrokenPipeError):
                    sink.close()
        except BrokenPipeError:
            thread.join()
            if failure:
                raise self._fail(_unwrap(failure[0]), f"cannot write {key}") from None
            raise
        finally:
            thread.join()
        if failure:
            raise self._fail(_unwrap(failure[0]), f"cannot write {key}")

    @contextmanager
    def reader(self, key: str) -> Iterator[IO[bytes]]:
        key = checked_key(key, "key")
        try:
            response = self._client.get_object(Bucket=self.config.bucket, Key=key)
        except ClientError as err:
            if _code(err) in _MISSING_CODES:
                raise ArtifactMissing(f"no artifact {key!r} in repository {self.name!r}") from None
            raise self._fail(err, f"cannot read {key}") from None
        except (BotoCoreError, NoCredentialsError) as err:
            raise self._fail(err, f"cannot read {key}") from None
        body = response["Body"]
        try:
            yield body
        finally:
            body.close()

    def list(self, prefix: str) -> Iterator[StoredObject]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.config.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield StoredObject(item["Key"], int(item["Size"]))
        except (ClientError, BotoCoreError) as err:
            raise self._fail(err, f"cannot list {prefix or '/'}") from None

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.config.bucket, Key=checked_key(key, "key"))
        except ClientError as err:
            if _code(err) in _MISSING_CODES:
                return False
            raise self._fail(err, f"cannot check {key}") from None
        except BotoCoreError as err:
            raise self._fail(err, f"cannot check {key}") from None
        return True

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.config.bucket, Key=checked_key(key, "key"))
        except (ClientError, BotoCoreError) as err:
            raise self._fail(err, f"cannot delete {key}") from None

    def check(self) -> None:
        """Reach the bucket once (used before a build starts writing)."""
        try:
            self._client.head_bucket(Bucket=self.config.bucket)
        except (ClientError, BotoCoreError) as err:
            raise self._fail(err, "cannot reach the bucket") from None

    def location(self, key: str) -> dict[str, Any]:
        s3: dict[str, Any] = {"bucket": self.config.bucket, "key": key}
        if self.config.endpoint:
            s3["endpoint"] = self.config.endpoint
        return {"s3": s3, "repository": self.name}


class _PipeSource(io.RawIOBase):
    """The reading end of the upload pipe; raises instead of a clean EOF after an abort."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._aborted = threading.Event()

    def readable(self) -> bool:
        return True

    def abort(self) -> None:
        self._aborted.set()

    def read(self, size: int = -1, /) -> bytes:
        """Exactly ``size`` bytes unless the writer is done: boto3 takes a short read
        for the end of the object (one whole small object, or a too-small part)."""
        if size is None or size < 0:
            return self.readall()
        chunks, wanted = [], size
        while wanted:
            chunk = super().read(min(wanted, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
        return b"".join(chunks)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = os.read(self._fd, len(view))
        if not data and self._aborted.is_set():
            raise OSError("the artifact's writer failed; upload aborted")
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            with suppress(OSError):
                os.close(self._fd)
        super().close()


def _endpoint_url(config: S3Config) -> str | None:
    if not config.endpoint:
        return None
    if "://" in config.endpoint:
        return config.endpoint
    scheme = "http" if config.insecure else "https"
    return f"{scheme}://{config.endpoint}"


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _unwrap(err: BaseException) -> BaseException:
    cause = err.__cause__ or err.__context__
    return cause if isinstance(err, RuntimeError) and cause is not None else err


def _reason(err: BaseException) -> str:
    if isinstance(err, NoCredentialsError):
        return "no credentials found (set a secret, credentialsFile, or the AWS environment)"
    if isinstance(err, BotoConnectionError):
        return "cannot connect to the endpoint; is the server running and the endpoint right?"
    if isinstance(err, ClientError):
        code = _code(err)
        if code in _CREDENTIAL_CODES:
            return f"the server refused the credentials ({code}); check the access key and secret"
        if code == "NoSuchBucket" or (code == "404" and "Bucket" in str(err)):
            return "the bucket does not exist; create it or fix 'bucket'"
        return f"{code or 'error'}: {err.response.get('Error', {}).get('Message', '')}".strip()
    return type(err).__name__ + (f": {err}" if str(err) else "")
