"""The cluster pipeline: a spec in, a build (a workflow of the stage library) out.

A *build* is one run of the master ``cluster-build`` workflow, of one stage on
its own, or of the teardown. The pipeline keeps, next to the workflow in the
store, what the build was made from — the spec, the parameters it produced,
where its artifacts go — so a build can be inspected and retried later, and so
``clusters`` can show the fleet: every cluster, its last build and its last
validation.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clusterforge import paths
from clusterforge.engine import Engine, PlannedNode, Records, Submission, WorkflowView
from clusterforge.errors import InvalidInput, NotFound
from clusterforge.spec import ClusterSpec, parse_spec, spec_document
from clusterforge.stages.parameters import build_parameters
from clusterforge.templates import TEMPLATE_DIR

STAGES = ("preflight", "core", "addons", "validation")
TEMPLATES = {
    "build": "cluster-build",
    "preflight": "preflight",
    "core": "cluster-core",
    "addons": "addons",
    "validation": "validation",
    "destroy": "cluster-teardown",
}
STAGE_ALIASES = {"validate": "validation", "tests": "validation", "test": "validation"}
LABEL_CLUSTER = "clusterforge.dev/cluster"
LABEL_STAGE = "clusterforge.dev/stage"
_BUILDS = "builds"
_CLUSTERS = "clusters"
_ALNUM = string.ascii_lowercase + string.digits


@dataclass
class BuildRecord:
    """One build: which cluster, which stage, from what, and how it went."""

    id: str
    cluster: str
    stage: str
    phase: str
    created_at: float
    parameters: dict[str, str] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)
    artifacts_dir: str = ""


@dataclass
class ClusterSummary:
    """A cluster of the fleet with its latest build and validation."""

    name: str
    provider: str
    kubernetes_version: str
    node_groups: list[str]
    last_build: str
    last_build_phase: str
    last_validation: str
    last_validation_result: str


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class Pipeline:
    """Starts builds of the stage library on an engine and keeps their records."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store: Records = engine.records

    # -- starting builds ---------------------------------------------------------

    def _submission(self, spec: ClusterSpec, stage: str) -> tuple[Submission, Path, dict[str, str]]:
        doc = spec_document(spec)
        name = doc["metadata"]["name"]
        suffix = "".join(secrets.choice(_ALNUM) for _ in range(5))
        build_id = f"{name}-{stage}-{suffix}"
        artifacts = paths.data_home() / "builds" / build_id / "artifacts"
        rerun = self.store.kv_get(_CLUSTERS, name) is not None
        params = build_parameters(spec, artifacts_dir=artifacts, rerun=rerun)
        submission = Submission(
            workflow_template=TEMPLATES[stage],
            template_dirs=(TEMPLATE_DIR,),
            arguments=params,
            labels={LABEL_CLUSTER: name, LABEL_STAGE: stage},
            name=build_id,
        )
        return submission, artifacts, params

    def start(self, spec: ClusterSpec, stage: str = "build") -> BuildRecord:
        """Store and start a build of ``stage`` for ``spec``."""
        stage = STAGE_ALIASES.get(stage, stage)
        if stage not in TEMPLATES:
            allowed = ", ".join([*STAGES, "build", "destroy"])
            raise InvalidInput(f"stage {stage!r} is not one of: {allowed}")
        submission, artifacts, params = self._submission(spec, stage)
        doc = spec_document(spec)
        view = self.engine.submit(submission)
        record = BuildRecord(
            id=view.id,
            cluster=doc["metadata"]["name"],
            stage=stage,
            phase=view.phase,
            created_at=time.time(),
            parameters=params,
            spec=doc,
            artifacts_dir=str(artifacts),
        )
        self.store.kv_put(_BUILDS, record.id, asdict(record))
        cluster = self.store.kv_get(_CLUSTERS, record.cluster) or {"builds": []}
        cluster["spec"] = doc
        cluster["builds"] = [*cluster.get("builds", []), record.id]
        self.store.kv_put(_CLUSTERS, record.cluster, cluster)
        return record

    def build(self, spec: ClusterSpec) -> BuildRecord:
        """The full build: preflight → core → add-ons → validation."""
        return self.start(spec, "build")

    def cluster_spec(self, cluster: str, overrides: Mapping[str, Any] | None = None) -> ClusterSpec:
        """The cluster's last spec, with a partial spec merged on top."""
        known = self.store.kv_get(_CLUSTERS, cluster)
        if known is None:
            raise NotFound(
                f"cluster {cluster!r} is not known; build it first (see `clusterforge clusters`)"
            )
        doc = known["spec"]
        if overrides:
            doc = _deep_merge(doc, overrides)
        return parse_spec(doc, source=f"cluster {cluster}")

    def stage(
        self, cluster: str, stage: str, overrides: Mapping[str, Any] | None = None
    ) -> BuildRecord:
        """One stage against a known cluster (optionally with spec overrides)."""
        return self.start(self.cluster_spec(cluster, overrides), stage)

    def destroy(self, cluster: str) -> BuildRecord:
        return self.start(self.cluster_spec(cluster), "destroy")

    def plan(self, spec: ClusterSpec, stage: str = "build") -> PlannedNode:
        """What a build would run and skip, and why — without running anything."""
        stage = STAGE_ALIASES.get(stage, stage)
        submission, _artifacts, _params = self._submission(spec, stage)
        return self.engine.plan(submission)

    # -- reading -----------------------------------------------------------------

    def get_build(self, build_id: str) -> BuildRecord:
        data = self.store.kv_get(_BUILDS, build_id)
        if data is None:
            raise NotFound(f"build {build_id!r} not found")
        record = BuildRecord(**data)
        record.phase = self.engine.get(build_id).phase
        return record

    def builds(
        self,
        cluster: str | None = None,
        phase: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[BuildRecord]:
        records = []
        for _key, data in self.store.kv_items(_BUILDS):
            record = BuildRecord(**data)
            if cluster and record.cluster != cluster:
                continue
            record.phase = self.engine.get(record.id).phase
            if phase and record.phase != phase:
                continue
            records.append(record)
        records.sort(key=lambda r: r.created_at, reverse=True)
        return records[offset : offset + limit]

    def clusters(self) -> list[ClusterSummary]:
        out = []
        for name, data in self.store.kv_items(_CLUSTERS):
            builds = [self.get_build(b) for b in data.get("builds", [])]
            if not builds:
                continue
            last = max(builds, key=lambda b: b.created_at)
            if last.stage == "destroy" and last.phase == "Succeeded":
                continue
            validation_build, validation_result = "", ""
            for build in sorted(builds, key=lambda b: b.created_at, reverse=True):
                result = self.validation_result(build)
                if result:
                    validation_build, validation_result = build.id, result
                    break
            spec = data["spec"].get("spec", {})
            out.append(
                ClusterSummary(
                    name=name,
                    provider=(spec.get("provider") or {}).get("type", "kwok"),
                    kubernetes_version=str(spec.get("kubernetesVersion", "")),
                    node_groups=[
                        f"{g['name']}×{g.get('desired', g.get('desiredSize', ''))}"
                        for g in spec.get("nodeGroups", []) or []
                    ],
                    last_build=last.id,
                    last_build_phase=last.phase,
                    last_validation=validation_build,
                    last_validation_result=validation_result,
                )
            )
        return out

    def validation_result(self, build: BuildRecord) -> str:
        """The phase of a build's validation stage ('' if it has none, or none yet)."""
        if build.stage not in ("build", "validation"):
            return ""
        view: WorkflowView = self.engine.get(build.id)
        if build.stage == "validation":
            return view.phase if view.done else ""
        for node in view.nodes.values():
            if node.display_name == "validation" and node.type != "StepGroup":
                return node.phase
        return ""
