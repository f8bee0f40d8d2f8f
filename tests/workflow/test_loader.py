"""Loading Argo documents (files, multi-document files, directories, text) and the library.

Real files in a temporary directory, read the way ``clusterforge run`` and
``lint`` read them. Errors must name file, line and field path; nothing may
be dropped silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hera.workflows import models as m
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterforge.workflow import (
    Document,
    TemplateLibrary,
    WorkflowInvalid,
    default_template_dirs,
    effective_spec,
    load_documents,
    load_text,
)

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: hello-}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: [echo, hello]}
"""

TEMPLATE = """\
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: NAME}
spec:
  templates:
  - name: hello
    container: {image: alpine, command: [echo, hello]}
  - name: bye
    container: {image: alpine, command: [echo, bye]}
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _template(name: str, kind: str = "WorkflowTemplate") -> str:
    return TEMPLATE.replace("NAME", name).replace("kind: WorkflowTemplate", f"kind: {kind}")


# -- reading -------------------------------------------------------------------------


def test_a_single_file_becomes_a_hera_model(tmp_path: Path) -> None:
    path = _write(tmp_path / "wf.yaml", WORKFLOW)
    (doc,) = load_documents([path])
    assert isinstance(doc, Document)
    assert (doc.kind, doc.name, doc.source, doc.index, doc.line) == (
        "Workflow",
        "hello-",
        path,
        0,
        1,
    )
    assert isinstance(doc.model, m.Workflow)
    assert doc.spec.templates[0].container.command == ["echo", "hello"]  # type: ignore[index,union-attr]
    assert doc.problems == ()


def test_a_multi_document_file_keeps_order_index_and_start_line(tmp_path: Path) -> None:
    text = f"{_template('one')}---\n# a comment\n{_template('two', 'ClusterWorkflowTemplate')}---\n"
    path = _write(tmp_path / "lib.yaml", text + WORKFLOW)
    docs = load_documents([path])
    assert [(d.kind, d.name, d.index) for d in docs] == [
        ("WorkflowTemplate", "one", 0),
        ("ClusterWorkflowTemplate", "two", 1),
        ("Workflow", "hello-", 2),
    ]
    assert isinstance(docs[1].model, m.ClusterWorkflowTemplate)
    assert docs[1].line == TEMPLATE.count("\n") + 3
    assert (text + WORKFLOW).splitlines()[docs[1].line - 1] == "apiVersion: argoproj.io/v1alpha1"


def test_an_error_in_a_multi_document_file_names_the_document() -> None:
    text = f"{_template('one')}---\n{_template('two').replace('[echo, bye]', 'echo')}"
    with pytest.raises(WorkflowInvalid) as caught:
        load_text(text, source="lib.yaml")
    (problem,) = caught.value.problems
    assert problem.location == "document 2"
    assert str(problem).startswith(
        "lib.yaml:19: document 2: spec.templates[1].container.command: expected a list"
    )


def test_directories_are_read_recursively_sorted_and_keep_only_argo_documents(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "b.yaml", _template("b"))
    _write(tmp_path / "a" / "z.yml", _template("az"))
    _write(tmp_path / "a" / "notes.txt", _template("ignored"))
    _write(tmp_path / "c.expect.yaml", "phase: Succeeded\nnodes: {a: Succeeded}\n")
    _write(tmp_path / "values.yaml", "- just\n- a list\n")
    _write(tmp_path / "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    docs = load_documents([tmp_path])
    assert [d.name for d in docs] == ["az", "b"]


def test_paths_keep_the_order_they_were_given(tmp_path: Path) -> None:
    first = _write(tmp_path / "z.yaml", _template("z"))
    second = _write(tmp_path / "a.yaml", _template("a"))
    assert [d.name for d in load_documents([first, second])] == ["z", "a"]


def test_load_text_names_its_source() -> None:
    (doc,) = load_text(WORKFLOW, source="request body")
    assert str(doc.source) == "request body"
    with pytest.raises(WorkflowInvalid) as caught:
        load_text(WORKFLOW.replace("  templates:\n", "  templates: 3\n  x:\n"), source="payload")
    assert str(caught.value).startswith(
        "payload:6: spec.templates: expected a list, got the integer 3"
    )


@pytest.mark.parametrize("kind", ["WorkflowTemplate", "ClusterWorkflowTemplate"])
def test_a_template_with_only_generate_name_is_named_as_the_api_server_would(kind: str) -> None:
    # generateName and five characters of k8s.io/apimachinery's rand alphabet
    text = _template("x", kind).replace("{name: x}", "{generateName: x-}")
    (doc,) = load_text(text)
    assert re.fullmatch(r"x-[bcdfghjklmnpqrstvwxz2456789]{5}", doc.name), doc.name
    assert doc.model.metadata is not None
    assert doc.model.metadata.name == doc.name
    assert TemplateLibrary([doc]).get(doc.name, cluster_scope=kind != "WorkflowTemplate") is doc


def test_yaml_scalars_are_read_as_kubernetes_reads_them() -> None:
    text = WORKFLOW.replace(
        "  entrypoint: main\n",
        "  entrypoint: main\n  arguments:\n    parameters:\n"
        "    - {name: day, value: 2024-01-31}\n    - {name: n, value: 3}\n"
        "    - {name: flag, value: yes}\n    - {name: ratio, default: 0.5, enum: [0.5, 1]}\n",
    )
    (doc,) = load_text(text)
    params = doc.spec.arguments.parameters  # type: ignore[union-attr]
    assert params is not None
    assert [(p.name, p.value, p.default, p.enum) for p in params] == [
        ("day", "2024-01-31", None, None),
        ("n", "3", None, None),
        ("flag", "true", None, None),
        ("ratio", None, "0.5", ["0.5", "1"]),
    ]


# -- errors ---------------------------------------------------------------------------


def test_yaml_1_1_booleans_are_booleans_as_in_argo() -> None:
    text = WORKFLOW.replace("  - name: main\n", "  - name: on\n")
    with pytest.raises(
        WorkflowInvalid, match=r"spec.templates\[0\].name: expected a string, got true"
    ):
        load_text(text)


def test_malformed_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad.yaml", WORKFLOW.replace("{generateName: hello-}", "{generateName: hello-")
    )
    with pytest.raises(WorkflowInvalid) as caught:
        load_documents([path])
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (4, 5)
    assert str(caught.value).startswith(f"{path}:4:5: invalid YAML:")
    assert caught.value.exit_code == 2


def test_wrong_types_are_translated_to_field_paths_with_lines(tmp_path: Path) -> None:
    text = WORKFLOW.replace(
        "    container:",
        "    retryStrategy: {limit: [1], retryPolicy: 3}\n    parallelism: '2'\n    container:",
    )
    path = _write(tmp_path / "types.yaml", text)
    with pytest.raises(WorkflowInvalid) as caught:
        load_documents([path])
    lines = str(caught.value).splitlines()
    prefix = f"{path}:8: spec.templates[0]"
    assert sorted(lines) == sorted(
        [
            f"{path}:9: spec.templates[0].parallelism: expected an integer, got the string '2'"
            " — write it without quotes",
            f"{prefix}.retryStrategy.limit: expected an integer or string, got a list"
            " — give an integer or string here",
            f"{prefix}.retryStrategy.retryPolicy: expected a string, got the integer 3"
            " — put it in quotes",
        ]
    )


def test_a_missing_required_field_is_named() -> None:
    text = WORKFLOW.replace(
        "    container:", "    inputs: {parameters: [{value: x}]}\n    container:"
    )
    with pytest.raises(WorkflowInvalid) as caught:
        load_text(text)
    assert str(caught.value) == (
        "<string>:8: spec.templates[0].inputs.parameters[0].name: required field is missing"
        " — add it"
    )


def test_an_empty_container_image_loads_and_is_left_to_the_checks() -> None:
    (doc,) = load_text(WORKFLOW.replace("{image: alpine, command: [echo, hello]}", "{}"))
    assert doc.spec.templates[0].container is not None  # type: ignore[index]


def test_every_bad_file_is_reported_not_only_the_first(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n: :\n")
    _write(tmp_path / "b.yaml", WORKFLOW.replace("[echo, hello]", "echo"))
    _write(tmp_path / "c.yaml", WORKFLOW)
    with pytest.raises(WorkflowInvalid) as caught:
        load_documents([tmp_path])
    sources = sorted({Path(p.source).name for p in caught.value.problems})
    assert sources == ["a.yaml", "b.yaml"]


def test_an_explicit_file_without_argo_documents_is_an_error(tmp_path: Path) -> None:
    cm = _write(tmp_path / "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    empty = _write(tmp_path / "empty.yaml", "# nothing\n")
    with pytest.raises(WorkflowInvalid) as caught:
        load_documents([cm, empty])
    none = "no Workflow, WorkflowTemplate or ClusterWorkflowTemplate in this file"
    text = str(caught.value)
    assert f"cm.yaml: {none} (found: kind ConfigMap)" in text
    assert f"empty.yaml: {none} (it is empty)" in text


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(WorkflowInvalid, match=r"nope\.yaml: no such file or directory"):
        load_documents([tmp_path / "nope.yaml"])


def test_header_mistakes_are_errors() -> None:
    with pytest.raises(
        WorkflowInvalid, match=r"apiVersion: expected argoproj\.io/v1alpha1, got 'argoproj\.io/v1'"
    ):
        load_text(WORKFLOW.replace("argoproj.io/v1alpha1", "argoproj.io/v1"))
    with pytest.raises(WorkflowInvalid, match="kind: required field is missing"):
        load_text(WORKFLOW.replace("kind: Workflow\n", ""))
    with pytest.raises(
        WorkflowInvalid, match=r"a WorkflowTemplate needs metadata\.name or metadata\.generateName"
    ):
        load_text(_template("x").replace("{name: x}", "{labels: {a: b}}"))
    with pytest.raises(WorkflowInvalid, match=r"document 1 is a list, not a mapping"):
        load_text("- a\n- b\n")


def test_unknown_fields_and_duplicate_keys_are_kept_as_problems_for_the_checks() -> None:
    text = WORKFLOW.replace("    container:", "    retry_strategy: {limit: 1}\n    container:")
    text = text.replace("  entrypoint: main\n", "  entrypoint: main\n  entrypoint: main\n")
    (doc,) = load_text(text, source="wf.yaml")
    shown = [str(p) for p in doc.problems]
    assert shown[0].startswith(
        "wf.yaml:9: spec.templates[0].retry_strategy: unknown field 'retry_strategy'"
    )
    assert shown[0].endswith(" — did you mean 'retryStrategy'?")
    assert shown[1] == (
        "wf.yaml:6: spec.entrypoint: duplicate key (only the last value would be used)"
        " — remove one of them"
    )
    assert all(p.is_error for p in doc.problems)


# -- the library -----------------------------------------------------------------------


def test_library_from_paths_holds_both_scopes_and_skips_workflows(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", _template("shared"))
    _write(tmp_path / "b.yaml", _template("shared", "ClusterWorkflowTemplate"))
    _write(tmp_path / "wf.yaml", WORKFLOW)
    library = TemplateLibrary.from_paths([tmp_path])
    assert len(library) == 2
    assert library.get("shared").kind == "WorkflowTemplate"
    assert library.get("shared", cluster_scope=True).kind == "ClusterWorkflowTemplate"
    template, doc = library.resolve(m.TemplateRef(name="shared", template="bye"))
    assert template.name == "bye"
    assert doc.source == tmp_path / "a.yaml"


def test_library_names_both_files_of_a_duplicate(tmp_path: Path) -> None:
    _write(tmp_path / "one" / "x.yaml", _template("x"))
    _write(tmp_path / "two" / "x.yaml", _template("x").replace("[echo, bye]", "[echo, ciao]"))
    with pytest.raises(WorkflowInvalid) as caught:
        TemplateLibrary.from_paths([tmp_path / "one", tmp_path / "two"])
    message = str(caught.value)
    assert f"{tmp_path / 'one' / 'x.yaml'}:1" in message
    assert f"{tmp_path / 'two' / 'x.yaml'}:1" in message
    assert "defined twice" in message


def test_adding_the_same_document_twice_is_harmless(tmp_path: Path) -> None:
    _write(tmp_path / "x.yaml", _template("x"))
    library = TemplateLibrary.from_paths([tmp_path, tmp_path / "x.yaml"])
    library.add(load_documents([tmp_path / "x.yaml"])[0])
    assert len(library) == 1


def test_lookups_that_fail_say_what_exists() -> None:
    library = TemplateLibrary(load_text(_template("greetings", "ClusterWorkflowTemplate")))
    with pytest.raises(WorkflowInvalid) as caught:
        library.get("greetings")
    assert (
        "WorkflowTemplate 'greetings' not found in the template library (the library is empty)"
        in str(caught.value)
    )
    assert "there is a ClusterWorkflowTemplate 'greetings': set clusterScope: true" in str(
        caught.value
    )
    with pytest.raises(
        WorkflowInvalid, match=r"template 'helo' not found .* \(its templates: hello, bye\)"
    ):
        library.resolve(m.TemplateRef(name="greetings", template="helo", cluster_scope=True))
    with pytest.raises(WorkflowInvalid, match="a Workflow cannot be used as a template"):
        library.add(load_text(WORKFLOW)[0])


def test_default_template_dirs_is_empty_until_the_pipeline_adds_its_own() -> None:
    assert default_template_dirs() == []


def test_effective_spec_of_a_plain_document_is_its_own() -> None:
    (doc,) = load_text(WORKFLOW)
    assert effective_spec(doc, TemplateLibrary()) is doc.spec


def test_effective_spec_needs_the_referenced_template() -> None:
    (doc,) = load_text(
        WORKFLOW.replace("  templates:", "  workflowTemplateRef: {name: gone}\n  templates:")
    )
    with pytest.raises(WorkflowInvalid, match="WorkflowTemplate 'gone' not found"):
        effective_spec(doc, TemplateLibrary())


# -- properties ------------------------------------------------------------------------

scalars = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.booleans(),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20),
)


@settings(max_examples=150, deadline=None)
@given(scalars)
def test_any_scalar_parameter_value_loads_as_argo_text(value: object) -> None:
    data = yaml.safe_load(WORKFLOW)
    data["spec"]["arguments"] = {"parameters": [{"name": "p", "value": value}]}
    (doc,) = load_text(yaml.safe_dump(data))
    (param,) = doc.spec.arguments.parameters  # type: ignore[union-attr,misc]
    expected = ("true" if value else "false") if isinstance(value, bool) else str(value)
    assert param.value == expected


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )
)
def test_a_container_value_in_a_string_field_is_a_type_error_never_a_crash(value: object) -> None:
    data = yaml.safe_load(WORKFLOW)
    data["spec"]["templates"][0]["container"]["image"] = value
    with pytest.raises(WorkflowInvalid) as caught:
        load_text(yaml.safe_dump(data), source="wf.yaml")
    (problem,) = caught.value.problems
    assert problem.field == "spec.templates[0].container.image"
    assert problem.message.startswith("expected a string, got a")
