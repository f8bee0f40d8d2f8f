"""What a fake node of a given instance type looks like to the scheduler.

kwok nodes run nothing, so the only thing an instance type changes is what
the node advertises: capacity (vCPU, memory, max pods) and allocatable, which
is what the scheduler packs pods against. The numbers follow the EC2 instance
types they are named after; max pods is the EKS VPC-CNI limit for the type,
and allocatable subtracts the reservation the EKS-optimised AMI's bootstrap
script computes (kube-reserved CPU by core count, memory of 255 MiB plus
11 MiB per pod, and the 100 MiB hard-eviction threshold). That way a spec
that would not fit on real nodes of that type does not fit here either.
"""

from __future__ import annotations

from dataclasses import dataclass

from clusterforge.errors import InvalidInput
from clusterforge.spec.instance_types import INSTANCE_TYPES as SPEC_INSTANCE_TYPES


@dataclass(frozen=True)
class InstanceType:
    """The resources one instance type offers."""

    name: str
    cpu: int
    memory_mib: int
    max_pods: int

    def capacity(self) -> dict[str, str]:
        return {
            "cpu": str(self.cpu),
            "memory": _mebibytes(self.memory_mib),
            "pods": str(self.max_pods),
            "ephemeral-storage": "20Gi",
        }

    def allocatable(self) -> dict[str, str]:
        memory = self.memory_mib - (255 + 11 * self.max_pods) - 100
        return {
            "cpu": f"{self.cpu * 1000 - _reserved_millicores(self.cpu)}m",
            "memory": _mebibytes(memory),
            "pods": str(self.max_pods),
            "ephemeral-storage": "18Gi",
        }


def _mebibytes(value: int) -> str:
    """A memory quantity in the canonical form the API server stores it in."""
    return f"{value // 1024}Gi" if value % 1024 == 0 else f"{value}Mi"


def _reserved_millicores(cores: int) -> int:
    """kube-reserved CPU: 6% of the first core, 1% of the second, 0.5% of the
    next two, 0.25% of every core above four."""
    reserved = 0.0
    for core in range(1, cores + 1):
        if core == 1:
            reserved += 60
        elif core == 2:
            reserved += 10
        elif core <= 4:
            reserved += 5
        else:
            reserved += 2.5
    return round(reserved)


# The instance-type table is the spec's (one table for the whole project);
# this module adds what a fake node advertises for each type.
INSTANCE_TYPES: dict[str, InstanceType] = {
    name: InstanceType(name, spec_type.cpu, spec_type.memory_mib, spec_type.pods)
    for name, spec_type in SPEC_INSTANCE_TYPES.items()
}


def instance_type(name: str) -> InstanceType:
    """The named type, or a clear error listing the known ones."""
    try:
        return INSTANCE_TYPES[name]
    except KeyError:
        known = ", ".join(INSTANCE_TYPES)
        raise InvalidInput(f"unknown instance type {name!r}; choose one of: {known}") from None
