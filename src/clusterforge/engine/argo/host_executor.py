"""The host executor: Argo's step pods on a kwok cluster, run as host processes.

kwok nodes run no containers: kwok marks a pod Running and nothing more, so
the real workflow-controller waits forever for a step with outputs. This
process stands in for the kubelet *and* Argo's ``argoexec`` on those nodes.
It watches the namespace's pods that carry Argo's workflow label; once kwok
has made one Running (it has a pod IP, so kwok's own stage will not touch it
again), it

1. reads the main container's command/args/env/workingDir and the template
   (``ARGO_TEMPLATE``; a script's ``source`` goes to a file that replaces
   ``/argo/staging/script`` in the args — see :mod:`._pod`);
2. runs it with the local engine's step launcher (a private /tmp in its own
   mount namespace, its own process group — the isolation local steps get);
3. writes the ``WorkflowTaskResult`` Argo's wait container would (outputs,
   labelled complete, owned by the Workflow, named after the node);
4. sets the pod's containers terminated with the exit code, and its phase
   Succeeded or Failed, through the status subresource.

A pod deleted while its step runs, or whose node the controller has already
ended (Argo's stop/terminate, a deadline), has the step's process group
killed. Each attempt's stdout/stderr stay under
``--work-dir/<namespace>/<pod>/`` for ``logs``.

Run: ``python -m clusterforge.engine.argo.host_executor --kubeconfig K
--namespace N --work-dir D`` (``clusterforge argo up`` does).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch  # type: ignore[import-untyped]
from kubernetes.client.rest import ApiException  # type: ignore[import-untyped]

from clusterforge.engine.argo._outputs import Collected, collect, now, pod_status, task_result
from clusterforge.engine.argo._pod import (
    SCRIPT_PATH,
    WORKFLOW_LABEL,
    PodNotRunnable,
    PodStep,
    read_pod,
)
from clusterforge.engine.local.process import StepProcess, kill_group, launch_sync
from clusterforge.engine.local.step_env import step_base_env

LOG = logging.getLogger("clusterforge.host_executor")
LOG_DIR_ANNOTATION = "clusterforge.io/log-dir"
"""Where the step's stdout and stderr files are on this host (for ``logs``)."""
_ENDED = {"Succeeded", "Failed", "Error"}
_EMISSARY_ERROR = 64
"""Argo's emissary exits 64 when it, not the step, failed (here: could not start it)."""


class HostExecutor:
    """Runs the pods of one namespace; one thread per running step."""

    def __init__(
        self, api: client.ApiClient, namespace: str, work_dir: Path, workers: int = 16
    ) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.namespace = namespace
        self.work_dir = work_dir
        self.stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="host-step")
        self._seen: set[str] = set()
        self._running: dict[str, int] = {}
        self._nodes: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        # What a node gives every process it runs: this host's environment with the
        # step PATH (clusterforge and the pinned tools first), as local steps get it.
        self._base_env = step_base_env(os.environ)

    # -- watching ----------------------------------------------------------------

    def serve(self) -> None:
        threading.Thread(target=self._reap_ended, name="host-reaper", daemon=True).start()
        while not self.stopping.is_set():
            try:
                self._watch_once()
            except ApiException as err:
                if err.status != 410:
                    LOG.warning("watching pods: %s", err.reason)
                    self.stopping.wait(1.0)
            except Exception as err:  # the API server restarting, a dropped connection
                LOG.warning("watching pods: %s", err)
                self.stopping.wait(1.0)
        self._shutdown()

    def _watch_once(self) -> None:
        listing = self.core.list_namespaced_pod(self.namespace, label_selector=WORKFLOW_LABEL)
        for pod in listing.items:
            self.consider(self.api.sanitize_for_serialization(pod))
        stream = watch.Watch()
        for event in stream.stream(
            self.core.list_namespaced_pod,
            self.namespace,
            label_selector=WORKFLOW_LABEL,
            resource_version=listing.metadata.resource_version,
            timeout_seconds=5,
        ):
            self.consider(self.api.sanitize_for_serialization(event["object"]))
            if self.stopping.is_set():
                stream.stop()

    def consider(self, pod: dict[str, Any]) -> None:
        """Start the pod's step once kwok made it Running; kill it when it is deleted."""
        meta = pod.get("metadata") or {}
        uid = str(meta.get("uid", ""))
        with self._lock:
            if meta.get("deletionTimestamp"):
                pid = self._running.get(uid)
                if pid is not None:
                    kill_group(pid, signal.SIGKILL)
                return
            status = pod.get("status") or {}
            if uid in self._seen or status.get("phase") != "Running" or not status.get("podIP"):
                return
            self._seen.add(uid)
        self._pool.submit(self._run_logged, pod)

    def _reap_ended(self, every: float = 1.0) -> None:
        """Kill steps whose node the controller has already ended (``stop``/``terminate``,
        a deadline): it would signal them through ``pods/exec``, which no kubelet serves here."""
        while not self.stopping.wait(every):
            with self._lock:
                running = dict(self._nodes)
            by_workflow: dict[str, list[tuple[str, str]]] = {}
            for uid, (workflow, node_id) in running.items():
                by_workflow.setdefault(workflow, []).append((uid, node_id))
            for workflow, steps in by_workflow.items():
                try:
                    got = self.custom.get_namespaced_custom_object(
                        "argoproj.io", "v1alpha1", self.namespace, "workflows", workflow
                    )
                except Exception as err:  # gone, or the API server busy: next round
                    LOG.debug("reading workflow %s: %s", workflow, err)
                    continue
                nodes = (got.get("status") or {}).get("nodes") or {}
                for uid, node_id in steps:
                    if (nodes.get(node_id) or {}).get("phase") in _ENDED:
                        with self._lock:
                            pid = self._running.get(uid)
                        if pid is not None:
                            LOG.info("node %s ended by the controller; killing its step", node_id)
                            kill_group(pid, signal.SIGKILL)

    def _shutdown(self) -> None:
        with self._lock:
            for pid in self._running.values():
                kill_group(pid, signal.SIGKILL)
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- running one pod ---------------------------------------------------------

    def _run_logged(self, pod: dict[str, Any]) -> None:
        try:
            self.run(pod)
        except Exception:
            LOG.exception("pod %s", (pod.get("metadata") or {}).get("name"))

    def run(self, pod: dict[str, Any]) -> None:
        started = now()
        try:
            step = read_pod(pod)
        except PodNotRunnable as err:
            self._finish(pod, _EMISSARY_ERROR, started, str(err), None)
            return
        attempt = self.work_dir / step.namespace / step.pod
        log_dir = {LOG_DIR_ANNOTATION: str(attempt.resolve())}
        self.core.patch_namespaced_pod(
            step.pod, step.namespace, {"metadata": {"annotations": log_dir}}
        )
        try:
            code, message = self._execute(step, attempt)
        except OSError as err:
            self._finish(pod, _EMISSARY_ERROR, started, f"cannot start the step: {err}", None)
            return
        collected = collect(step, attempt / "tmp", attempt / "stdout")
        self._report(step, collected)
        self._finish(pod, code, started, message, collected.error)

    def _execute(self, step: PodStep, attempt: Path) -> tuple[int, str | None]:
        argv = list(step.argv)
        if step.script is not None:
            script = attempt / "script"
            argv = [str(script) if arg == SCRIPT_PATH else arg for arg in argv]
            attempt.mkdir(parents=True, exist_ok=True)
            script.write_text(step.script, encoding="utf-8")
        work = attempt / "work"
        cwd = (
            step.working_dir if step.working_dir and os.path.isdir(step.working_dir) else str(work)
        )
        env = {**self._base_env, **step.env}
        handle = launch_sync(
            StepProcess(
                argv=argv,
                env=env,
                cwd=cwd,
                tmp_dir=str(attempt / "tmp"),
                stdout=str(attempt / "stdout"),
                stderr=str(attempt / "stderr"),
                make_dirs=(str(attempt), str(attempt / "tmp"), str(work)),
            )
        )
        with self._lock:
            self._running[step.uid] = handle.pid
            self._nodes[step.uid] = (step.workflow, step.node_id)
        try:
            code = asyncio.run(handle.wait())
        finally:
            handle.close()
            with self._lock:
                self._running.pop(step.uid, None)
                self._nodes.pop(step.uid, None)
        if code is None:  # never for a step we launched: its status is ours to reap
            return 137, "its process ended without a status"
        if code < 0:
            return 128 - code, f"killed by signal {-code}"
        return code, None

    def _report(self, step: PodStep, collected: Collected) -> None:
        body = task_result(step, collected)
        group, version, plural = "argoproj.io", "v1alpha1", "workflowtaskresults"
        try:
            self.custom.create_namespaced_custom_object(
                group, version, step.namespace, plural, body
            )
        except ApiException as err:
            if err.status != 409:
                raise
            self.custom.patch_namespaced_custom_object(
                group, version, step.namespace, plural, step.node_id, body
            )

    def _finish(
        self,
        pod: dict[str, Any],
        code: int,
        started: str,
        message: str | None,
        wait_error: str | None,
    ) -> None:
        meta = pod.get("metadata") or {}
        name, namespace = meta.get("name"), meta.get("namespace")
        body = {"status": pod_status(pod, code, started, message, wait_error)}
        try:
            self.core.patch_namespaced_pod_status(name, namespace, body)
        except ApiException as err:
            if err.status != 404:  # deleted meanwhile: nothing to report to
                raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clusterforge-host-executor", description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--work-dir", required=True, type=Path)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    api = config.new_client_from_config(config_file=args.kubeconfig)
    executor = HostExecutor(api, args.namespace, args.work_dir, args.workers)
    signal.signal(signal.SIGTERM, lambda *_: executor.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: executor.stopping.set())
    LOG.info("running Argo's pods in namespace %s (work dir %s)", args.namespace, args.work_dir)
    executor.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
