"""Artifacts and archived logs, with Argo's semantics, in a repository of choice.

Argo workflows pass files between steps as artifacts kept in an artifact
repository, and archive each pod's log there. This package is that part of
the engine, as functions the operator calls and repositories it calls them
with; it knows no clusters and no nodes.

Repositories (:func:`open_repository` over a :class:`RepositoryConfig`,
chosen by :meth:`Repositories.resolve` from an ``artifact-repositories``
document and a workflow's ``artifactRepositoryRef``): ``local`` (a
directory, the zero-configuration default) and ``s3`` (boto3; AWS or any
S3-compatible server). Both stream; neither ever holds an object in memory
or leaves half of one behind.

Hooks for the local operator (``engine/local/operator.py``), per attempt of
a container/script template — signatures::

    # once per workflow
    repo = open_repository(Repositories.load().resolve(spec.get("artifactRepositoryRef")))

    # before the attempt's process starts (after its scratch dirs exist)
    stage_inputs(repo, merge_arguments(tmpl_inputs_artifacts, call_arguments_artifacts),
                 host_path=lambda p: host_path(p, tmp, cwd),
                 produced=refs,            # {"tasks.X.outputs.artifacts.Y": entry, ...}
                 values=template_values,   # for templated s3.key
                 repository_for=None) -> None            # raises ArtifactFailure

    # after the process ends (any exit code; before the node's phase is final)
    prefix = key_prefix(repo_config.key_format, key_values(workflow_vars, pod_name))
    entries = collect_outputs(repo, tmpl_outputs_artifacts, prefix=prefix,
                              host_path=..., values=template_values)   # -> list[dict]
    node.outputs["artifacts"] = entries (+ archive_logs(...) entry)
    refs.update({f"tasks.{task}.outputs.artifacts.{e['name']}": e for e in entries})
    refs.update(global_entries(entries))
    if archives_logs(False, spec.get("archiveLogs"), tmpl.get("archiveLocation", {})
                     .get("archiveLogs"), repo_config.archive_logs):
        entries.append(archive_logs(repo, prefix, [stdout_log, stderr_log]))

    # when the workflow ends (OnWorkflowCompletion) or is deleted (OnWorkflowDeletion)
    collect_garbage(repo, garbage_keys(all_entries, spec.get("artifactGC"), event)) -> int

``path_values(inputs, outputs)`` gives the ``{{inputs.artifacts.X.path}}``
placeholders to add to the template's values before substitution.
"""

from __future__ import annotations

from pathlib import Path

from clusterforge.engine.artifacts._archive import UnsafeArchive, pack, unpack
from clusterforge.engine.artifacts._config import (
    CONFIG_ENV,
    LocalConfig,
    Repositories,
    RepositoryConfig,
    S3Config,
    default_local_dir,
    embedded_default,
    parse_entry,
)
from clusterforge.engine.artifacts._credentials import SECRETS_ENV
from clusterforge.engine.artifacts._hooks import (
    LOG_ARTIFACT,
    ArtifactFailure,
    archive_logs,
    archive_strategy,
    archives_logs,
    collect_garbage,
    collect_outputs,
    garbage_keys,
    global_entries,
    merge_arguments,
    own_bucket,
    path_values,
    reference_name,
    stage_inputs,
)
from clusterforge.engine.artifacts._keys import (
    DEFAULT_KEY_FORMAT,
    LOG_NAME,
    UnsafeKey,
    checked_key,
    key_prefix,
    key_values,
    log_key,
    output_key,
    render_key,
)
from clusterforge.engine.artifacts._local import LocalRepository
from clusterforge.engine.artifacts._locations import location_entry, own_location
from clusterforge.engine.artifacts._repository import (
    ArtifactMissing,
    ArtifactRepository,
    RepositoryError,
    StoredObject,
)
from clusterforge.engine.artifacts._s3 import S3Repository
from clusterforge.engine.artifacts._transfer import get_path, put_bytes, put_file, put_path


def open_repository(config: RepositoryConfig) -> ArtifactRepository:
    """The repository a configuration describes."""
    if config.s3 is not None:
        return S3Repository(config.name, config.s3)
    assert config.local is not None
    root = config.local.path
    return LocalRepository(config.name, default_local_dir() if not root else _path(root))


def _path(text: str) -> Path:
    return Path(text).expanduser()


__all__ = [
    "CONFIG_ENV",
    "DEFAULT_KEY_FORMAT",
    "LOG_ARTIFACT",
    "LOG_NAME",
    "SECRETS_ENV",
    "ArtifactFailure",
    "ArtifactMissing",
    "ArtifactRepository",
    "LocalConfig",
    "LocalRepository",
    "Repositories",
    "RepositoryConfig",
    "RepositoryError",
    "S3Config",
    "S3Repository",
    "StoredObject",
    "UnsafeArchive",
    "UnsafeKey",
    "archive_logs",
    "archive_strategy",
    "archives_logs",
    "checked_key",
    "collect_garbage",
    "collect_outputs",
    "default_local_dir",
    "embedded_default",
    "garbage_keys",
    "get_path",
    "global_entries",
    "key_prefix",
    "key_values",
    "location_entry",
    "log_key",
    "merge_arguments",
    "open_repository",
    "output_key",
    "own_bucket",
    "own_location",
    "pack",
    "parse_entry",
    "path_values",
    "put_bytes",
    "put_file",
    "put_path",
    "reference_name",
    "render_key",
    "stage_inputs",
    "unpack",
]
