"""The public surface of clusterforge.spec: what is exported, and nothing private leaks."""

from __future__ import annotations

import clusterforge.spec as spec
from clusterforge.errors import InvalidInput
from clusterforge.spec.instance_types import INSTANCE_TYPES, InstanceType


def test_all_names_exist_and_are_sorted_groups() -> None:
    for name in spec.__all__:
        assert hasattr(spec, name), name
    assert len(spec.__all__) == len(set(spec.__all__))


def test_the_api_the_pipeline_relies_on() -> None:
    for name in (
        "ClusterSpec",
        "SpecError",
        "load_spec",
        "parse_spec",
        "json_schema",
        "to_parameters",
        "enabled_addons",
        "spec_document",
        "INSTANCE_TYPES",
    ):
        assert name in spec.__all__
    assert issubclass(spec.SpecError, InvalidInput)


def test_instance_type_table() -> None:
    expected = {
        f"{family}.{size}"
        for family in ("m5", "c5", "r5")
        for size in ("large", "xlarge", "2xlarge", "4xlarge")
    } | {"t3.medium", "t3.large"}
    assert set(INSTANCE_TYPES) == expected
    assert INSTANCE_TYPES["m5.large"] == InstanceType(cpu=2, memory_mib=8192, pods=29)
    for item in INSTANCE_TYPES.values():
        assert item.cpu > 0
        assert item.memory_mib >= 1024 * item.cpu
        assert item.pods > 0
    assert spec.INSTANCE_TYPES is INSTANCE_TYPES
