"""Stage 1 steps: is this environment fit to build the requested cluster?

Each check prints what it measured and exits 0 (fit) or 1 (not fit, with the
reason and the fix); the template runs them in parallel and retries each.
kwok checks look at this machine; aws checks look at the target account
through the aws provider (see :mod:`clusterforge.stages.steps.aws`).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Callable

from clusterforge import paths
from clusterforge.errors import InvalidInput, OperationFailed
from clusterforge.providers import aws as aws_provider
from clusterforge.spec import duration_seconds
from clusterforge.stages.steps.context import StepContext

# A kwok cluster listens on a handful of loopback ports (etcd peer/client,
# apiserver, controller-manager, scheduler, kwok controller, metrics).
PORTS_PER_CLUSTER = 8


def _tools(ctx: StepContext) -> str:
    from clusterforge.tools import Toolchain

    required = {
        "kubectl",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "etcd",
        "kwok",
        "kwokctl",
        "helm",
    }
    problems, lines = [], []
    for status in Toolchain().status():
        if status.name not in required:
            continue
        lines.append(f"{status.name} {status.found or 'missing'} ({status.source or '-'})")
        if not status.ok:
            problems.append(
                f"{status.name}: pinned {status.pinned}, found {status.found or 'nothing'}"
            )
    if problems:
        raise OperationFailed(
            "tools missing or at the wrong version: "
            + "; ".join(problems)
            + " — run `clusterforge tools install`"
        )
    return "tools at pinned versions: " + ", ".join(lines)


def _ports(ctx: StepContext) -> str:
    held = []
    try:
        for _ in range(PORTS_PER_CLUSTER):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            held.append(sock)
    except OSError as err:
        raise OperationFailed(
            f"could not reserve {PORTS_PER_CLUSTER} free loopback ports ({err}); "
            "stop other clusters (`clusterforge cluster list`) or free ports"
        ) from err
    finally:
        ports = [s.getsockname()[1] for s in held]
        for sock in held:
            sock.close()
    return f"{len(ports)} free loopback ports available (e.g. {ports[0]})"


def _meminfo_available_mib() -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    raise OperationFailed("cannot read MemAvailable from /proc/meminfo")


def _memory(ctx: StepContext) -> str:
    need = ctx.spec.spec.preflight.min_free_memory_mib
    have = _meminfo_available_mib()
    if have < need:
        raise OperationFailed(
            f"{have} MiB of memory available, {need} MiB required "
            "(spec.preflight.minFreeMemoryMiB); stop other clusters or lower the threshold"
        )
    return f"{have} MiB memory available (need {need} MiB)"


def _disk(ctx: StepContext) -> str:
    need = ctx.spec.spec.preflight.min_free_disk_mib
    home = paths.data_home()
    home.mkdir(parents=True, exist_ok=True)
    have = shutil.disk_usage(home).free // (1024 * 1024)
    if have < need:
        raise OperationFailed(
            f"{have} MiB free on {home}, {need} MiB required (spec.preflight.minFreeDiskMiB)"
        )
    return f"{have} MiB free on {home} (need {need} MiB)"


def _cluster_name(ctx: StepContext) -> str:
    if ctx.provider != "kwok":
        return f"cluster name {ctx.cluster} is checked by the {ctx.provider} provider"
    from clusterforge.stages.clusters import list_all

    existing = {c.name for c in list_all()}
    if ctx.cluster in existing and not ctx.rerun:
        raise OperationFailed(
            f"a cluster named {ctx.cluster!r} already exists and was not built by this "
            f"clusterforge; pick another metadata.name or delete it "
            f"(`clusterforge cluster delete {ctx.cluster}`)"
        )
    if ctx.cluster in existing:
        return f"cluster {ctx.cluster} exists: this build converges it"
    return f"no cluster named {ctx.cluster} yet"


def _aws(check: str) -> Callable[[StepContext], str]:
    def run(ctx: StepContext) -> str:
        if ctx.provider != "aws":
            raise InvalidInput(
                f"preflight check {check!r} is for provider aws; this cluster uses {ctx.provider}"
            )
        from clusterforge.stages.steps import aws

        return aws.preflight(ctx, check)

    return run


#: The aws provider's checks, as the preflight template names its tasks.
AWS_CHECKS: tuple[str, ...] = tuple(aws_provider.CHECKS)


CHECKS: dict[str, Callable[[StepContext], str]] = {
    "tools": _tools,
    "ports": _ports,
    "memory": _memory,
    "disk": _disk,
    "cluster-name": _cluster_name,
    **{name: _aws(name) for name in AWS_CHECKS},
}


def run_check(ctx: StepContext, name: str) -> str:
    """Run a built-in preflight check; returns what it measured, raises if unfit."""
    check = CHECKS.get(name)
    if check is None:
        raise InvalidInput(f"unknown preflight check {name!r}; known: {', '.join(CHECKS)}")
    return check(ctx)


def run_extra(ctx: StepContext, name: str) -> int:
    """Run one of the spec's own preflight checks (an argv, never a shell string)."""
    for check in ctx.spec.spec.preflight.checks:
        if check.name == name:
            timeout = duration_seconds(check.timeout)
            try:
                done = subprocess.run(list(check.command), timeout=timeout, check=False)
            except FileNotFoundError as err:
                raise OperationFailed(
                    f"spec.preflight.checks[{name}].command: {check.command[0]!r} not found"
                ) from err
            except subprocess.TimeoutExpired as err:
                raise OperationFailed(
                    f"preflight check {name!r} timed out after {timeout:g}s"
                ) from err
            return done.returncode
    names = [c.name for c in ctx.spec.spec.preflight.checks]
    raise InvalidInput(f"spec.preflight.checks has no check {name!r}; it has: {names}")
