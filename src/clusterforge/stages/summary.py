"""The lines a user reads when a build ends: result, validation, next step."""

from __future__ import annotations

import json
from pathlib import Path

from clusterforge.stages.pipeline import Pipeline

#: The validation report's files, as a build's artifacts keep them.
REPORT_FILES = {"summary.json": "application/json", "junit.xml": "application/xml",
                "results.tap": "text/plain; charset=utf-8"}  # fmt: skip


def validation_report(pipeline: Pipeline, build_id: str, name: str) -> Path | None:
    """A file of the build's validation report (one of REPORT_FILES), None if not written."""
    if name not in REPORT_FILES:
        return None
    record = pipeline.get_build(build_id)
    if not record.artifacts_dir:
        return None
    path = Path(record.artifacts_dir) / "validation" / name
    return path if path.is_file() else None


def build_summary(pipeline: Pipeline, build_id: str) -> list[str]:
    """Result, failed nodes, validation summary, and how to reach the cluster."""
    record = pipeline.get_build(build_id)
    view = pipeline.engine.get(build_id)
    lines = [
        f"build {record.id}: {view.phase}"
        + (f" — {view.record.message}" if view.record.message else "")
    ]
    for node in view.nodes.values():
        if node.type == "Pod" and node.phase in ("Failed", "Error"):
            lines.append(
                f"  ✖ {node.display_name}: {node.message}"
                f"  (clusterforge logs {record.id} {node.id})"
            )
    summary = Path(record.artifacts_dir) / "validation" / "summary.json"
    if summary.is_file():
        data = json.loads(summary.read_text())
        lines.append(f"validation: {data['passed']} passed, {data['failed']} failed")
        for check in data.get("checks", []):
            if not check["ok"]:
                lines.append(f"  ✖ {check['name']}: {check['message']}")
        lines.append(f"reports: {summary.parent}")
    if record.stage != "destroy" and view.phase == "Succeeded":
        from clusterforge.stages.clusters import kubeconfig_path

        provider = (record.spec.get("spec", {}).get("provider") or {}).get("type", "kwok")
        kubeconfig = kubeconfig_path(record.cluster, provider)
        lines.append(f"kubeconfig: {kubeconfig}")
        lines.append(f"try: kubectl --kubeconfig {kubeconfig} get nodes")
    return lines
