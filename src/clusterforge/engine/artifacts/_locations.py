"""An artifact's own S3 location, as Argo tells it from a key-only artifact.

Argo stores an artifact in the workflow's repository unless the artifact
names a location of its own: ``S3Artifact.HasLocation`` (pkg/apis/workflow/
v1alpha1/workflow_types.go) needs an ``endpoint`` and a ``bucket``; then the
executor writes there, with the artifact's own credentials, under its ``key``
(or, for an output without one, the key the repository's ``keyFormat`` gives).
An artifact with only ``key`` is key-only: the workflow's repository.

Argo relocates an artifact that names *part* of a location (a ``bucket``
without an ``endpoint``, credentials without a bucket) into the workflow's
repository without a word; here that is one clear error instead, so an
artifact never lands somewhere its author did not mean. Credentials come as
Argo gives them — ``accessKeySecret``/``secretKeySecret`` selectors, read the
way repositories read them (``_credentials.py``: files, never the YAML in
clear), or ``useSDKCreds`` (the AWS default chain).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from clusterforge.engine.artifacts._config import CLEAR_CREDENTIALS, S3Config
from clusterforge.errors import InvalidInput

_ARGO_ONLY = frozenset({"roleARN", "createBucketIfNotPresent", "encryptionOptions", "caSecret"})
"""Argo's S3 fields that no local repository honours: refused, not ignored."""


def own_location(art: Mapping[str, Any], field: str) -> S3Config | None:
    """The artifact's own S3 location (``endpoint`` + ``bucket``), None when it is
    key-only (or not S3). ``field`` names it in errors (``outputs.artifacts.x``)."""
    s3 = art.get("s3")
    if not isinstance(s3, Mapping):
        return None
    named = {k: v for k, v in s3.items() if k != "key" and v not in (None, "")}
    if not named:
        return None
    clear = sorted(CLEAR_CREDENTIALS & set(named))
    if clear:
        raise InvalidInput(
            f"{field}.s3.{clear[0]}: credentials are never read in clear; name a secret "
            "with accessKeySecret/secretKeySecret (files), or set useSDKCreds"
        )
    unsupported = sorted(_ARGO_ONLY & set(named))
    if unsupported:
        raise InvalidInput(
            f"{field}.s3.{unsupported[0]} is not supported locally; remove it, or keep "
            "the artifact in the workflow's repository (only s3.key)"
        )
    if not named.get("endpoint") or not named.get("bucket"):
        given = ", ".join(sorted(named))
        raise InvalidInput(
            f"{field}.s3 names {given} but not both endpoint and bucket, which an "
            "artifact's own location needs (Argo would put it in the workflow's "
            "repository instead); give both, or only s3.key for the workflow's repository"
        )
    try:
        return S3Config.model_validate(named)
    except ValidationError as err:
        item = err.errors()[0]
        where = ".".join(str(p) for p in item["loc"])
        raise InvalidInput(f"{field}.s3.{where}: {item['msg']}") from None


def location_entry(art: Mapping[str, Any], key: str, repository: str) -> dict[str, Any]:
    """``node.outputs.artifacts[]``'s location for an artifact stored in its own
    bucket: its ``s3`` section (selectors name secrets, never hold them) with the key."""
    s3 = {k: v for k, v in (art.get("s3") or {}).items() if v not in (None, "")}
    return {"s3": {**s3, "key": key}, "repository": repository}
