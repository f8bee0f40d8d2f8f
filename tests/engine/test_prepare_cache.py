"""``LocalEngine.prepare`` of workflow documents: one check per shape, every value checked.

A webhook sensor renders the same workflow with new parameter values for each
event; the engine checks the shape once and only re-runs the checks a value
takes part in. These tests pin that a cached preparation is indistinguishable
from a fresh one, and that a value the cache never saw is still refused with
the full check's message.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from clusterforge.engine import LocalEngine, Submission
from clusterforge.errors import UserError


def _workflow(value: Any, *, entry_enum: list[str] | None = None) -> dict[str, Any]:
    inputs: dict[str, Any] = {"parameters": [{"name": "colour"}]}
    if entry_enum is not None:
        inputs["parameters"][0]["enum"] = entry_enum
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "paint-", "labels": {"team": "a"}},
        "spec": {
            "entrypoint": "main",
            "arguments": {
                "parameters": [
                    {"name": "n", "value": value},
                    {"name": "colour", "value": "red", "enum": ["red", "blue"]},
                ]
            },
            "templates": [
                {
                    "name": "main",
                    "inputs": inputs,
                    "container": {
                        "image": "alpine",
                        "command": [
                            "echo",
                            "{{workflow.parameters.n}}",
                            "{{inputs.parameters.colour}}",
                        ],
                    },
                }
            ],
        },
    }


def _with(doc: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for param in out["spec"]["arguments"]["parameters"]:
        if param["name"] == name:
            param["value"] = value
    return out


def _same(a: Any, b: Any) -> None:
    assert a.manifest == b.manifest
    assert a.templates == b.templates
    assert a.labels == b.labels
    assert a.arguments == b.arguments


def test_documents_differing_in_values_share_one_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = LocalEngine(tmp_path / "home")
    compiles: list[Submission] = []
    real = engine._compile_uncached

    def counting(submission: Submission) -> Any:
        compiles.append(submission)
        return real(submission)

    monkeypatch.setattr(engine, "_compile_uncached", counting)
    records = [engine.prepare(Submission(document=_workflow(str(n)))) for n in range(5)]
    assert len(compiles) == 1
    for n, record in enumerate(records):
        params = record.manifest["spec"]["arguments"]["parameters"]
        assert params[0] == {"name": "n", "value": str(n)}
        # exactly what an engine that never saw another value makes of the document
        _same(record, LocalEngine(tmp_path / f"fresh-{n}").prepare(
            Submission(document=_workflow(str(n)))
        ))  # fmt: skip
    assert len({r.id for r in records}) == 5


def test_the_document_text_and_the_document_prepare_alike(tmp_path: Path) -> None:
    import json

    doc = _workflow("7")
    a = LocalEngine(tmp_path / "a").prepare(Submission(document=doc))
    b = LocalEngine(tmp_path / "b").prepare(Submission(text=json.dumps(doc)))
    _same(a, b)


@pytest.mark.parametrize(
    ("name", "value", "entry_enum"),
    [
        ("colour", "green", None),  # the workflow parameter's enum
        ("colour", "blue", ["red"]),  # the entrypoint input's enum
    ],
)
def test_a_value_the_cache_never_saw_gets_the_full_check(
    tmp_path: Path, name: str, value: str, entry_enum: list[str] | None
) -> None:
    engine = LocalEngine(tmp_path / "home")
    good = _workflow("1", entry_enum=entry_enum)
    engine.prepare(Submission(document=good))  # cached with a valid value
    bad = _with(good, name, value)
    with pytest.raises(UserError) as cached:
        engine.prepare(Submission(document=bad))
    with pytest.raises(UserError) as fresh:
        LocalEngine(tmp_path / "fresh").prepare(Submission(document=bad))
    assert str(cached.value) == str(fresh.value)
    assert repr(value) in str(cached.value)


def test_a_templated_value_passes_an_enum_as_in_the_full_check(tmp_path: Path) -> None:
    engine = LocalEngine(tmp_path / "home")
    engine.prepare(Submission(document=_workflow("1")))
    record = engine.prepare(Submission(document=_with(_workflow("1"), "colour", "{{x}}")))
    assert record.manifest["spec"]["arguments"]["parameters"][1]["value"] == "{{x}}"


def test_what_is_not_a_plain_value_stays_in_the_check(tmp_path: Path) -> None:
    engine = LocalEngine(tmp_path / "home")
    engine.prepare(Submission(document=_workflow("1")))
    twice = _workflow("1")
    twice["spec"]["arguments"]["parameters"].append({"name": "n", "value": "2"})
    with pytest.raises(UserError):
        engine.prepare(Submission(document=twice))
    missing = _workflow("1")
    del missing["spec"]["arguments"]["parameters"][0]["value"]
    with pytest.raises(UserError, match="'n' has no value"):
        engine.prepare(Submission(document=missing))
