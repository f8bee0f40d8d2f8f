"""S3 credentials, from anywhere but the workflow or repository document in clear.

Three sources, in Argo's spirit:

* ``accessKeySecret``/``secretKeySecret`` (and ``sessionTokenSecret``) name a
  Kubernetes secret key; locally that secret is a directory of files, as
  Kubernetes mounts one: ``<secrets>/<name>/<key>`` where ``<secrets>`` is
  ``CLUSTERFORGE_SECRETS_DIR`` or ``secrets`` in the data directory;
* ``credentialsFile`` (+ ``profile``) names an AWS shared-credentials file;
* otherwise boto3's default chain: environment, ``~/.aws``, instance roles
  (``useSDKCreds: true`` says the same explicitly).

Whatever the source, the values go straight into a boto3 session and never
into a message: errors say which file or source failed, not what it held.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

import boto3

from clusterforge import paths
from clusterforge.engine.artifacts._config import S3Config, SecretSelector
from clusterforge.engine.artifacts._repository import RepositoryError

SECRETS_ENV = "CLUSTERFORGE_SECRETS_DIR"
_MAX_SECRET_BYTES = 64 * 1024


def secrets_dir() -> Path:
    explicit = os.environ.get(SECRETS_ENV)
    return Path(explicit).expanduser() if explicit else paths.data_home() / "secrets"


def session_for(config: S3Config, repository: str) -> boto3.session.Session:
    """A boto3 session holding the repository's credentials."""
    if config.access_key_secret is not None or config.secret_key_secret is not None:
        if config.access_key_secret is None or config.secret_key_secret is None:
            raise RepositoryError(
                f"artifact repository {repository!r}: give both accessKeySecret and "
                "secretKeySecret, or neither"
            )
        token = config.session_token_secret
        return boto3.session.Session(
            aws_access_key_id=_secret(config.access_key_secret, repository),
            aws_secret_access_key=_secret(config.secret_key_secret, repository),
            aws_session_token=_secret(token, repository) if token is not None else None,
            region_name=config.region,
        )
    if config.credentials_file:
        return _from_file(Path(config.credentials_file).expanduser(), config, repository)
    return boto3.session.Session(profile_name=config.profile, region_name=config.region)


def _secret(selector: SecretSelector, repository: str) -> str:
    path = secrets_dir() / selector.name / selector.key
    try:
        if path.stat().st_size > _MAX_SECRET_BYTES:
            raise RepositoryError(f"artifact repository {repository!r}: {path} is too large")
        return path.read_text(encoding="utf-8").strip()
    except OSError as err:
        raise RepositoryError(
            f"artifact repository {repository!r}: secret {selector.name}/{selector.key} is not "
            f"readable at {path} ({err.strerror}); write it there or set {SECRETS_ENV}"
        ) from None


def _from_file(path: Path, config: S3Config, repository: str) -> boto3.session.Session:
    parser = configparser.ConfigParser(interpolation=None)
    profile = config.profile or "default"
    try:
        if path.stat().st_size > _MAX_SECRET_BYTES:
            raise RepositoryError(f"artifact repository {repository!r}: {path} is too large")
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, configparser.Error) as err:
        reason = err.strerror if isinstance(err, OSError) else "not an AWS credentials file"
        raise RepositoryError(
            f"artifact repository {repository!r}: credentialsFile {path}: {reason}"
        ) from None
    if not parser.has_option(profile, "aws_access_key_id") or not parser.has_option(
        profile, "aws_secret_access_key"
    ):
        raise RepositoryError(
            f"artifact repository {repository!r}: credentialsFile {path} has no "
            f"aws_access_key_id/aws_secret_access_key in profile [{profile}]"
        )
    return boto3.session.Session(
        aws_access_key_id=parser.get(profile, "aws_access_key_id"),
        aws_secret_access_key=parser.get(profile, "aws_secret_access_key"),
        aws_session_token=parser.get(profile, "aws_session_token", fallback=None),
        region_name=config.region,
    )
