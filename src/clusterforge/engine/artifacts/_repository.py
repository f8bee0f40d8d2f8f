"""What an artifact repository can do, whatever stores the bytes.

Every operation streams: :meth:`ArtifactRepository.writer` yields a file the
caller writes into and commits the object only when the block ends without
an error (an aborted write leaves no object, never a truncated one);
:meth:`ArtifactRepository.reader` yields a file to read from. Keys are
relative POSIX paths already checked by :mod:`._keys`.

Failures the user can fix (an unreachable endpoint, refused credentials, a
missing bucket) are one :class:`RepositoryError` whose message names the
repository and says what to check — never a traceback, never the secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import IO, Any, Protocol

from clusterforge.errors import NotFound, UpstreamFailed


class RepositoryError(UpstreamFailed):
    """The repository could not be used; the message names it and the fix."""


class ArtifactMissing(NotFound):
    """No object under a key."""


@dataclass(frozen=True)
class StoredObject:
    """One object of a listing."""

    key: str
    size: int


class ArtifactRepository(Protocol):
    """A place artifacts are written to and read from, by key."""

    name: str

    def describe(self) -> str:
        """Where the repository is, for messages (``s3 http://host:port/bucket``)."""
        ...

    def writer(self, key: str) -> AbstractContextManager[IO[bytes]]:
        """A file to write one object into; committed when the block ends cleanly."""
        ...

    def reader(self, key: str) -> AbstractContextManager[IO[bytes]]:
        """The object under ``key``, streamed; :class:`ArtifactMissing` if absent."""
        ...

    def list(self, prefix: str) -> Iterator[StoredObject]:
        """Every object whose key starts with ``prefix`` (a ``/``-ended folder or a key)."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove one object; an absent one is not an error."""
        ...

    def location(self, key: str) -> dict[str, Any]:
        """How an artifact stored under ``key`` appears in a node's status (Argo's shape)."""
        ...
