"""Stage 4 steps: prove the cluster works before hand-over, and report it.

Each check writes one JSON result under ``<artifacts>/validation/checks/`` (the
last attempt wins: the template retries failing checks); ``report`` turns them
into a summary, JUnit XML and TAP, attaches popeye/polaris reports when those
tools are installed (and says so when they are not), and fails the stage if
any check failed — naming the exact sentence.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from clusterforge.errors import InvalidInput, OperationFailed
from clusterforge.spec import NODE_GROUP_LABEL, addon
from clusterforge.stages.steps.addons import catalog_values
from clusterforge.stages.steps.context import StepContext


@dataclass
class CheckResult:
    name: str
    kind: str
    target: str
    ok: bool
    message: str
    sentences: list[dict[str, Any]] = field(default_factory=list)
    finished_at: float = 0.0


def _kubectl(ctx: StepContext, *args: str) -> subprocess.CompletedProcess[str]:
    from clusterforge.tools import resolve

    return subprocess.run(
        [str(resolve("kubectl")), "--kubeconfig", str(ctx.kubeconfig()), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _json(ctx: StepContext, *args: str) -> dict[str, Any]:
    done = _kubectl(ctx, *args, "-o", "json")
    if done.returncode != 0:
        raise OperationFailed(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def _api(ctx: StepContext) -> tuple[bool, str]:
    done = _kubectl(ctx, "get", "--raw", "/readyz")
    if done.returncode == 0 and done.stdout.strip() == "ok":
        return True, "the API server answers /readyz: ok"
    return (
        False,
        f"the API server did not answer /readyz: {done.stderr.strip() or done.stdout.strip()}",
    )


def _nodes(ctx: StepContext) -> tuple[bool, str]:
    nodes = _json(ctx, "get", "nodes")["items"]
    problems, counts = [], []
    for group in ctx.spec.spec.node_groups:
        members = [
            n for n in nodes if n["metadata"].get("labels", {}).get(NODE_GROUP_LABEL) == group.name
        ]
        ready = [
            n
            for n in members
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in n.get("status", {}).get("conditions", [])
            )
        ]
        counts.append(f"{group.name} {len(ready)}/{group.desired}")
        if len(ready) != group.desired:
            problems.append(
                f"node group {group.name}: {len(ready)} Ready of {group.desired} wanted"
            )
        for node in members:
            labels = node["metadata"].get("labels", {})
            for key, value in group.labels.items():
                if labels.get(key) != value:
                    problems.append(f"node {node['metadata']['name']}: label {key}={value} missing")
    if problems:
        return False, "; ".join(problems)
    return True, "every node Ready with its labels: " + ", ".join(counts)


def _kube_system(ctx: StepContext) -> tuple[bool, str]:
    pods = _json(ctx, "get", "pods", "-n", "kube-system")["items"]
    bad = [
        f"{p['metadata']['name']} ({p.get('status', {}).get('phase', '?')})"
        for p in pods
        if p.get("status", {}).get("phase") not in ("Running", "Succeeded")
    ]
    if bad:
        return False, "kube-system pods not Running: " + ", ".join(bad)
    return True, f"{len(pods)} kube-system pod(s) Running"


def _sentences(
    ctx: StepContext, sentences: list[str], namespace: str | None
) -> tuple[bool, str, list[dict[str, Any]]]:
    from clusterforge.checks.detik import verify

    results = [
        verify(
            s,
            kubeconfig=ctx.kubeconfig(),
            namespace=namespace,
            all_namespaces=namespace is None,
        )
        for s in sentences
    ]
    failed = [r for r in results if not r.ok]
    for r in results:
        print(r.describe())
    data = [r.to_dict() for r in results]
    if failed:
        first = failed[0]
        return False, f'"{first.sentence}": {first.message}', data
    return True, f"{len(results)} sentence(s) hold", data


def _addon(ctx: StepContext, name: str) -> tuple[bool, str, list[dict[str, Any]]]:
    from clusterforge.addons import CATALOG, checks

    entry = CATALOG[name]
    settings = addon(ctx.spec, name).settings
    values = catalog_values(ctx, name, dict(settings.values or {}))
    sentences = [*checks(name, values), *settings.checks]
    return _sentences(ctx, sentences, entry.namespace)


def _user_addons(ctx: StepContext) -> tuple[bool, str, list[dict[str, Any]]]:
    from clusterforge.spec import user_addons

    oks, messages, data = True, [], []
    for item in user_addons(ctx.spec):
        if not item.settings.checks:
            continue
        ok, message, found = _sentences(ctx, list(item.settings.checks), item.namespace)
        oks &= ok
        messages.append(f"{item.name}: {message}")
        data.extend(found)
    return oks, "; ".join(messages) or "no user add-on checks", data


def _bats(ctx: StepContext, path: str) -> tuple[bool, str]:
    from clusterforge.checks.detik import library_path
    from clusterforge.tools import bin_dir

    bats = shutil.which("bats")
    if bats is None:
        return False, "bats is not installed (make setup installs the Debian package)"
    env = {
        **os.environ,
        "KUBECONFIG": str(ctx.kubeconfig()),
        "DETIK_LIBRARY": str(library_path()),
        "PATH": f"{bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    done = subprocess.run(
        [bats, "--tap", path], env=env, capture_output=True, text=True, check=False
    )
    print(done.stdout)
    if done.returncode != 0:
        failing = [line for line in done.stdout.splitlines() if line.startswith("not ok")]
        return False, f"{path}: " + ("; ".join(failing) or done.stderr.strip())
    return True, f"{path}: all tests pass"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:80] or "check"


def run_validation(ctx: StepContext, kind: str, target: str) -> CheckResult:
    """Run one validation check, record its result, and return it."""
    sentences: list[dict[str, Any]] = []
    if kind == "core":
        table = {"api": _api, "nodes": _nodes, "kube-system": _kube_system}
        if target not in table:
            raise InvalidInput(f"unknown core check {target!r}; known: {', '.join(table)}")
        ok, message = table[target](ctx)
        name = target
    elif kind == "addon":
        ok, message, sentences = _addon(ctx, target)
        name = f"addon {target}"
    elif kind == "user-addons":
        ok, message, sentences = _user_addons(ctx)
        name = "user add-ons"
    elif kind == "sentence":
        ok, message, sentences = _sentences(ctx, [target], None)
        name = target
    elif kind == "bats":
        ok, message = _bats(ctx, target)
        name = f"bats {target}"
    else:
        raise InvalidInput(f"unknown validation kind {kind!r}")
    result = CheckResult(name, kind, target, ok, message, sentences, time.time())
    if ctx.artifacts is not None:
        out = ctx.artifacts / "validation" / "checks"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{kind}-{_slug(target)}.json").write_text(json.dumps(asdict(result), indent=2))
    return result


def _junit(results: list[CheckResult]) -> str:
    failures = sum(1 for r in results if not r.ok)
    cases = []
    for r in results:
        head = f"  <testcase classname={quoteattr('validation.' + r.kind)} name={quoteattr(r.name)}"
        if r.ok:
            cases.append(head + "/>")
        else:
            cases.append(
                f"{head}>\n    <failure message={quoteattr(r.message)}>"
                f"{escape(r.message)}</failure>\n"
                "  </testcase>"
            )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="validation" tests="{len(results)}" failures="{failures}">\n'
        + "\n".join(cases)
        + "\n</testsuite>\n"
    )


def _tap(results: list[CheckResult]) -> str:
    lines = ["TAP version 13", f"1..{len(results)}"]
    for index, r in enumerate(results, 1):
        lines.append(f"{'ok' if r.ok else 'not ok'} {index} - {r.name}")
        if not r.ok:
            lines.append(f"  ---\n  message: {json.dumps(r.message)}\n  ...")
    return "\n".join(lines) + "\n"


def _linters(ctx: StepContext, out: Path) -> list[str]:
    notes = []
    for tool, argv in (
        ("popeye", ["popeye", "--kubeconfig", str(ctx.kubeconfig()), "-o", "json"]),
        (
            "polaris",
            ["polaris", "audit", "--kubeconfig", str(ctx.kubeconfig()), "--format", "json"],
        ),
    ):
        if shutil.which(tool) is None:
            notes.append(f"{tool}: skipped (not on PATH)")
            continue
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        (out / f"{tool}.json").write_text(done.stdout)
        notes.append(f"{tool}: report attached ({tool}.json, exit {done.returncode})")
    return notes


def report(ctx: StepContext) -> bool:
    """Write summary.json, junit.xml and results.tap; True when every check passed."""
    if ctx.artifacts is None:
        raise InvalidInput("CLUSTERFORGE_ARTIFACTS is not set; the report needs the artifacts dir")
    out = ctx.artifacts / "validation"
    checks_dir = out / "checks"
    checks_dir.mkdir(parents=True, exist_ok=True)
    results = [CheckResult(**json.loads(p.read_text())) for p in sorted(checks_dir.glob("*.json"))]
    notes = _linters(ctx, out)
    (out / "junit.xml").write_text(_junit(results))
    (out / "results.tap").write_text(_tap(results))
    failed = [r for r in results if not r.ok]
    summary = {
        "cluster": ctx.cluster,
        "passed": len(results) - len(failed),
        "failed": len(failed),
        "checks": [
            {"name": r.name, "ok": r.ok, "message": r.message, "sentences": r.sentences}
            for r in results
        ],
        "tools": notes,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"validation of {ctx.cluster}: {summary['passed']} passed, {summary['failed']} failed")
    for r in results:
        print(f"  {'✔' if r.ok else '✖'} {r.name}: {r.message}")
    for note in notes:
        print(f"  {note}")
    print(f"reports: {out / 'junit.xml'}, {out / 'results.tap'}")
    return not failed
