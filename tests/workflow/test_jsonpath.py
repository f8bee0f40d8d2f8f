"""``jsonpath(json, path)``: Argo's JSONPath library's results, shape for shape.

The expected values below are what github.com/evilmonkeyinc/jsonpath v0.8.1 —
the library Argo v3.7 calls (util/expr/env/env.go) — returns for the same
document and path, marshalled with Go's encoding/json. The refusals are what
clusterforge does not take over from it, each named.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterforge.workflow.expressions._gofmt import go_json
from clusterforge.workflow.expressions._jsonpath import MAX_STEPS, JsonPathError, query

EMPLOYEES = (
    '{"employees": [{"name": "Baris", "age": 43}, {"name": "Mo", "age": 42}, '
    '{"name": "Jai", "age": 44}], "o": {"b": 2, "a": 1}, "s": "str", "n": null}'
)
MIXED = (
    '{"a": [{"n": null, "s": "Bob", "v": 2}, {"n": 1, "s": "al", "v": "2"}, '
    '{"s": "Bee", "t": [1, 2]}], "m": {"x": {"k": 1}, "y": {"k": 2}}}'
)


def run(document: str, path: str) -> str:
    # Go decodes every JSON number into a float64, as the jsonpath function does.
    return go_json(query(json.loads(document, parse_int=float), path))


@pytest.mark.parametrize(
    ("document", "path", "expected"),
    [
        (EMPLOYEES, '$.employees[?(@.name=="Baris")].age', "[43]"),
        (EMPLOYEES, "$.employees[?(@.age>42 && @.age<44)].age", "[43]"),
        (EMPLOYEES, "$.employees[0:1]", '[{"age":43,"name":"Baris"}]'),
        (EMPLOYEES, "$.employees[*].name", '["Baris","Mo","Jai"]'),
        (
            EMPLOYEES,
            "$.employees[*]",
            '[{"age":43,"name":"Baris"},{"age":42,"name":"Mo"},{"age":44,"name":"Jai"}]',
        ),
        (EMPLOYEES, "$.o[*]", "[1,2]"),
        (EMPLOYEES, "$.o.*", "[1,2]"),
        (EMPLOYEES, "$.employees[-1:]", '[{"age":44,"name":"Jai"}]'),
        (EMPLOYEES, "$.employees[:-1].name", '["Baris","Mo"]'),
        (EMPLOYEES, "$.employees[::2].name", '["Baris","Jai"]'),
        (EMPLOYEES, "$.employees[::-1].name", '["Jai","Mo","Baris"]'),
        (EMPLOYEES, "$.employees[0,2].name", '["Baris","Jai"]'),
        (EMPLOYEES, "$.employees[*].nope", "[]"),
        (EMPLOYEES, "$.employees[?(@.nope)].name", "[]"),
        (EMPLOYEES, "$.employees[?(@.age)].name", '["Baris","Mo","Jai"]'),
        (EMPLOYEES, "$.employees[?(@.name=='Mo' || @.age==44)].name", '["Mo","Jai"]'),
        (EMPLOYEES, "$.employees[?(!(@.age==42))].name", '["Baris","Jai"]'),
        (EMPLOYEES, "$..name", '["Baris","Mo","Jai"]'),
        (EMPLOYEES, "$.employees.length", "3"),
        (EMPLOYEES, "$.employees[(@.length-1)].name", '"Jai"'),
        (EMPLOYEES, "$.o['a','b']", "[1,2]"),
        (EMPLOYEES, "$.s", '"str"'),
        (EMPLOYEES, "$.n", "null"),
        (EMPLOYEES, "$.employees[?(@.age>=43)].age", "[43,44]"),
        (EMPLOYEES, "$.employees[?(@.age==43.0)].name", '["Baris"]'),
        (EMPLOYEES, '$.employees[?(@.age=="43")].name', "[]"),
        (EMPLOYEES, "$.employees[?(@.age+1==44)].name", '["Baris"]'),
        (EMPLOYEES, "$.employees[0:1].name", '["Baris"]'),
        (EMPLOYEES, '$.employees[?(@.name=="Baris")]', '[{"age":43,"name":"Baris"}]'),
        (
            EMPLOYEES,
            "$.employees[0:10]",
            '[{"age":43,"name":"Baris"},{"age":42,"name":"Mo"},{"age":44,"name":"Jai"}]',
        ),
        (EMPLOYEES, "$.employees[2:1]", "[]"),
        (EMPLOYEES, "$.employees[1:1]", "[]"),
        (
            EMPLOYEES,
            "$",
            '{"employees":[{"age":43,"name":"Baris"},{"age":42,"name":"Mo"},{"age":44,"name":"Jai"}],"n":null,"o":{"a":1,"b":2},"s":"str"}',
        ),
        (EMPLOYEES, "$.o", '{"a":1,"b":2}'),
        (EMPLOYEES, "$['o']['a']", "1"),
        (EMPLOYEES, "$.employees[1:2][0]", '{"age":42,"name":"Mo"}'),
        (EMPLOYEES, "$.employees[?(@.age>42)][0].name", '"Baris"'),
        (EMPLOYEES, "$.employees[?(@.age>50)].name", "[]"),
        (EMPLOYEES, "$.o[?(@>1)]", "[2]"),
        (EMPLOYEES, "$.*.a", "[1]"),
        (EMPLOYEES, "$.employees[*][*]", '[[43,"Baris"],[42,"Mo"],[44,"Jai"]]'),
        (EMPLOYEES, "$.employees[?(@.name==$.employees[1].name)].age", "[42]"),
        (
            EMPLOYEES,
            "$.employees[?(@.age<=42 || @.age >= 44 && @.name == 'Jai')].name",
            '["Mo","Jai"]',
        ),
        (EMPLOYEES, "$.employees[?(@.age!=42)].name", '["Baris","Jai"]'),
        (EMPLOYEES, "$.employees[?(@.age > 42.5)].name", '["Baris","Jai"]'),
        (EMPLOYEES, "$.employees[?(true)].name", '["Baris","Mo","Jai"]'),
        (EMPLOYEES, "$.employees[?(@.name)].name", '["Baris","Mo","Jai"]'),
        (EMPLOYEES, '$.employees[?(@.name=="")].name', "[]"),
        (EMPLOYEES, "$.employees[?(@.age*2==84)].name", '["Mo"]'),
        (EMPLOYEES, "$.employees[?(@.age/2==21)].name", '["Mo"]'),
        (EMPLOYEES, "$.employees[?(@.age%2==0)].name", '["Mo","Jai"]'),
        (EMPLOYEES, "$.employees[?(@.age-1==41)].name", '["Mo"]'),
        (MIXED, "$.a[?(@.s=~'^B')].s", '["Bob","Bee"]'),
        (MIXED, '$.a[?(@.s=~"l$")].s', '["al"]'),
        (MIXED, "$.a[*].n", "[1]"),
        (MIXED, "$.a[?(@.v==2)].s", '["Bob"]'),
        (MIXED, '$.a[?(@.v=="2")].s', '["al"]'),
        (MIXED, "$.a[?(@.v=='2')].s", '["al"]'),
        (MIXED, "$.a[?(@.n==null)].s", '["Bob"]'),
        (MIXED, "$.m[?(@.k>1)]", '[{"k":2}]'),
        (MIXED, "$.m[*].k", "[1,2]"),
        (MIXED, "$.m..k", "[1,2]"),
        (MIXED, "$..k", "[1,2]"),
        (MIXED, "$..[0]", '[{"n":null,"s":"Bob","v":2},1]'),
        (MIXED, "$.a[0:2].s", '["Bob","al"]'),
        (MIXED, "$.a[*].t[0]", "[1]"),
        (MIXED, "$.a[?(@.t)].t[1]", "[2]"),
        (MIXED, "$.a.length", "3"),
        (MIXED, "$.m.length", "2"),
        (MIXED, "$.a[?(@.s<'C')].s", "[]"),
        (MIXED, "$.a[?(@.v>1)].s", '["Bob"]'),
        (MIXED, "$.a[?(!@.n)].s", '["Bob"]'),
        (MIXED, "$.a[?(@.s=='Bob' && @.v==2 || @.s=='Bee')].s", '["Bob"]'),
        (MIXED, "$.a[?((@.v==2))].s", '["Bob"]'),
        (MIXED, "$.a[?(@.v==(1+1))].s", '["Bob"]'),
        (MIXED, "$.a[?(@.v==1+1)].s", '["Bob"]'),
        (MIXED, "$.a[?(@.v==true)].s", "[]"),
        (MIXED, "$.a[?(@.s=='a b')].s", "[]"),
        (MIXED, "$.a[?(@.s==$.a[0].s)].s", '["Bob"]'),
        (MIXED, "$.m['x','y'].k", "[1,2]"),
        (MIXED, "$.a[0,1].s", '["Bob","al"]'),
        (MIXED, "$.a[-1:].s", '["Bee"]'),
        (MIXED, "$.a[?(@.v)].v", '[2,"2"]'),
        (MIXED, "$.a[*].v[0]", "[]"),
        (MIXED, "$.a[*]..k", "[[],[],[]]"),
        (MIXED, "$.a[ 0 ]", '{"n":null,"s":"Bob","v":2}'),
        (MIXED, "$.a[0 : 1]", '[{"n":null,"s":"Bob","v":2}]'),
        (MIXED, '$["a"][0]["s"]', '"Bob"'),
        (MIXED, '$.a[?(@.s == "B\\"o")].s', "[]"),
        (MIXED, "$.a[(@.length-1)].s", '"Bee"'),
        (MIXED, "$.a[0:-1:2]", '[{"n":null,"s":"Bob","v":2}]'),
        (MIXED, "$.a[::-2].s", '["Bee","Bob"]'),
        (MIXED, "$.a[?(@.v>=2)]", '[{"n":null,"s":"Bob","v":2}]'),
    ],
)
def test_results_match_argos_library(document: str, path: str, expected: str) -> None:
    assert run(document, path) == expected


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("$.employees[5]", "index 5 is out of range (length 3)"),
        ("$.employees[0].nope", "key 'nope' not found"),
        ("$.s[0:2]", "a slice needs an array, got a string"),
        ("$[0]", "cannot read index 0: expected an array, got an object"),
        ("$.employees[0:1:0]", "a slice's step cannot be 0"),
        ("$.employees[", "'[' is never closed at position 11"),
        ("$ .a", "cannot read the path from ' .a' at position 1"),
        ("employees", "a path must start with '$'"),
        ("$.employees[?(@.age in [42, 44])]", "'in' / 'not in' are not supported"),
        ("$.employees[?(@.age ** 2 > 1)]", "'**' is not supported"),
        ("$.employees[?(@.name =~ '(?=B)')]", "does not support '(?='"),
        ("$.employees[?(@.name == 'Mo' && )]", "ends too early"),
        ("$.employees[?(@.name == 'Mo') ]x", "cannot read the path from 'x'"),
    ],
)
def test_refusals_name_the_reason(path: str, reason: str) -> None:
    with pytest.raises(JsonPathError) as caught:
        run(EMPLOYEES, path)
    assert reason in str(caught.value)


def test_chained_recursive_descent_is_cut_off_by_the_budget() -> None:
    # 51 * 51 * 51 values: each '..*' walks everything below every value the
    # previous one found, so five of them would take hours without the budget.
    wide = json.dumps({"a": [{"b": [list(range(50)) for _ in range(50)]} for _ in range(50)]})
    with pytest.raises(JsonPathError) as caught:
        run(wide, "$..*..*..*..*..*")
    assert f"more than {MAX_STEPS:,} values" in str(caught.value)


def test_nesting_and_length_of_a_path_are_bounded() -> None:
    with pytest.raises(JsonPathError, match="more than 128 segments"):
        run(EMPLOYEES, "$" + ".employees[0]" * 70)
    with pytest.raises(JsonPathError, match="nest more than 16 levels"):
        run(EMPLOYEES, "$.employees" + "[?(@" * 20 + ")]" * 20)
    with pytest.raises(JsonPathError, match="longer than 4096"):
        run(EMPLOYEES, "$" + ".o" * 3000)


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False), st.text()
)
_KEYS = st.text(alphabet="abcxyz-_", min_size=1, max_size=5)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=20,
)


@st.composite
def _walks(draw: st.DrawFn) -> tuple[object, str, object]:
    """A document, a key/index path that exists in it, and the value it leads to."""
    document = draw(_DOCUMENTS)
    value, path = document, "$"
    while isinstance(value, (list, dict)) and value and draw(st.booleans()):
        if isinstance(value, list):
            index = draw(st.integers(-len(value), len(value) - 1))
            value, path = value[index], f"{path}[{index}]"
        else:
            key = draw(st.sampled_from(sorted(value)))
            value, path = value[key], path + (f".{key}" if draw(st.booleans()) else f"['{key}']")
    return document, path, value


@given(_walks())
@settings(max_examples=200, deadline=None)
def test_a_path_of_keys_and_indexes_reads_the_value_it_names(
    walk: tuple[object, str, object],
) -> None:
    document, path, value = walk
    assert query(document, path) == value


@given(_DOCUMENTS)
@settings(max_examples=200, deadline=None)
def test_a_wildcard_lists_the_children_in_sorted_key_order(document: object) -> None:
    if isinstance(document, list):
        assert query(document, "$[*]") == document
    elif isinstance(document, dict):
        assert query(document, "$.*") == [document[k] for k in sorted(document)]
    else:
        with pytest.raises(JsonPathError, match="expected an array or object"):
            query(document, "$[*]")
