"""The instance types a node group may ask for, and what each one provides.

One table serves every provider: the spec validates ``instanceType`` against
it, the kwok provider gives each fake Node this capacity (cpu, memory, pods),
and the aws provider passes the name to EKS. The numbers are EC2's published
vCPU and memory, and the pod limit EKS computes for the VPC CNI without prefix
delegation (ENIs * (IPs per ENI - 1) + 2). Add a row here to allow a new type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class InstanceType:
    """Capacity of one instance type: vCPUs, memory in MiB, and the pod limit."""

    cpu: int
    memory_mib: int
    pods: int


_GIB = 1024

INSTANCE_TYPES: Mapping[str, InstanceType] = MappingProxyType(
    {
        "c5.large": InstanceType(cpu=2, memory_mib=4 * _GIB, pods=29),
        "c5.xlarge": InstanceType(cpu=4, memory_mib=8 * _GIB, pods=58),
        "c5.2xlarge": InstanceType(cpu=8, memory_mib=16 * _GIB, pods=58),
        "c5.4xlarge": InstanceType(cpu=16, memory_mib=32 * _GIB, pods=234),
        "m5.large": InstanceType(cpu=2, memory_mib=8 * _GIB, pods=29),
        "m5.xlarge": InstanceType(cpu=4, memory_mib=16 * _GIB, pods=58),
        "m5.2xlarge": InstanceType(cpu=8, memory_mib=32 * _GIB, pods=58),
        "m5.4xlarge": InstanceType(cpu=16, memory_mib=64 * _GIB, pods=234),
        "r5.large": InstanceType(cpu=2, memory_mib=16 * _GIB, pods=29),
        "r5.xlarge": InstanceType(cpu=4, memory_mib=32 * _GIB, pods=58),
        "r5.2xlarge": InstanceType(cpu=8, memory_mib=64 * _GIB, pods=58),
        "r5.4xlarge": InstanceType(cpu=16, memory_mib=128 * _GIB, pods=234),
        "t3.medium": InstanceType(cpu=2, memory_mib=4 * _GIB, pods=17),
        "t3.large": InstanceType(cpu=2, memory_mib=8 * _GIB, pods=35),
    }
)

__all__ = ["INSTANCE_TYPES", "InstanceType"]
