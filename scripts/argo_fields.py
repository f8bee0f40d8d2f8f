#!/usr/bin/env python3
"""Generate src/clusterforge/workflow/argo_fields.json from Argo's own JSON schemas.

Why: the workflow loader reads documents with Hera's generated models, and
those lag Argo (Hera 7.1 predates Argo v4's plural-only ``synchronization``
and v3.7's ``CronWorkflow.schedules``). Rather than hand-list the fields the
models miss, this script reads ``api/jsonschema/schema.json`` of each pinned
argo-workflows module in the Go module cache and writes, per schema
definition, the property names Argo accepts. The loader accepts a field
that any of those versions defines; ``tests/workflow/test_argo_fields.py``
regenerates the data and compares (skipping when the modules are absent).

Usage: ``.venv/bin/python scripts/argo_fields.py [--check | --download]``
(``--check``: exit 1 if the committed file is stale; ``--download``: ``go mod
download`` each pinned module not in the cache yet — ``make setup`` does, so the
test compares in CI too; only the module's files are fetched, nothing is built).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from clusterforge.stages.argo._schemas import module_cache

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "src" / "clusterforge" / "workflow" / "argo_fields.json"
#: (module, version), oldest first; the last one is the line followed.
MODULES = (
    ("github.com/argoproj/argo-workflows/v3", "v3.7.18"),
    ("github.com/argoproj/argo-workflows/v4", "v4.0.5"),
)
_MAX_BYTES = 16 << 20


def schema_paths(cache: Path) -> list[Path]:
    """Each pinned module's schema.json (whether or not it is downloaded)."""
    return [cache / f"{mod}@{ver}" / "api" / "jsonschema" / "schema.json" for mod, ver in MODULES]


def _definitions(path: Path) -> dict[str, dict[str, object]]:
    with path.open("rb") as handle:
        raw = handle.read(_MAX_BYTES + 1)
    if len(raw) > _MAX_BYTES:
        raise SystemExit(f"{path} is larger than {_MAX_BYTES} bytes; is it a schema?")
    definitions = json.loads(raw).get("definitions", {})
    return {
        name: body["properties"]
        for name, body in definitions.items()
        if isinstance(body, dict) and body.get("properties")
    }


def _ref(prop: object) -> str:
    """The definition a property refers to (through an array's items), or ''."""
    if not isinstance(prop, dict):
        return ""
    target = prop.get("$ref") or _ref(prop.get("items"))
    return str(target).rsplit("/", 1)[-1]


def render(paths: list[Path]) -> str:
    """The generated JSON text, from the schemas at ``paths`` (in MODULES order).

    ``fields``: definition → every property any pinned version defines;
    ``removed``: definition → those the newest version no longer has (older
    spellings, still accepted); ``retyped``: ``definition.property`` → the
    definition it refers to in each version, where those differ.
    """
    per_version = [_definitions(path) for path in paths]
    newest = per_version[-1]
    fields: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}
    retyped: dict[str, list[str]] = {}
    for name in sorted(set().union(*per_version)):
        known = set().union(*(version.get(name, {}) for version in per_version))
        fields[name] = sorted(known)
        if name in newest and known - set(newest[name]):
            removed[name] = sorted(known - set(newest[name]))
        for prop in sorted(known):
            refs = [_ref(version.get(name, {}).get(prop)) for version in per_version]
            if len(set(refs)) > 1 and all(refs):
                retyped[f"{name}.{prop}"] = refs
    data = {
        "generated_by": "scripts/argo_fields.py (do not edit)",
        "versions": [version for _, version in MODULES],
        "fields": fields,
        "removed": removed,
        "retyped": retyped,
    }
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def download(cache: Path) -> int:
    """``go mod download`` each pinned module whose schema is not in ``cache``."""
    go = shutil.which("go")
    wanted = [
        f"{mod}@{ver}"
        for (mod, ver), path in zip(MODULES, schema_paths(cache), strict=True)
        if not path.is_file()
    ]
    if not wanted:
        print("Argo's schemas: in the Go module cache")
        return 0
    if go is None:
        print("Argo's schemas: no `go` on PATH to download", *wanted)
        return 2
    # Outside any module (a go.mod above the working directory would be edited).
    with tempfile.TemporaryDirectory() as empty:
        done = subprocess.run(
            [go, "mod", "download", *wanted],
            cwd=empty,
            env={**os.environ, "GOFLAGS": "-mod=mod"},
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        print(f"Argo's schemas: go mod download {' '.join(wanted)} failed:\n{done.stderr}")
        return 2
    print("Argo's schemas: downloaded", *wanted)
    return 0


def main(argv: list[str]) -> int:
    if "--download" in argv:
        return download(module_cache())
    paths = schema_paths(module_cache())
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        print("missing schemas (go mod download the modules):", *missing, sep="\n  ")
        return 2
    text = render(paths)
    if "--check" in argv:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT} is stale: run .venv/bin/python scripts/argo_fields.py")
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
