"""The walk without processes: the operator driven through its ``Pods`` seam.

Retries, ``when``, ``depends``, loops and outputs are decided by the engine;
each attempt's outcome comes from a script, so these tests need no host
process and say exactly which attempt failed.
"""

from __future__ import annotations

from pathlib import Path

from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.local.testing import (
    BACKOFF_PAST_DEADLINE_MESSAGE,
    PodOutcome,
    PodSpec,
    RetryPolicy,
    memory_pods,
    outcome_of,
    retry_verdict,
)
from clusterforge.store import NodeRecord

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: walk}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: flaky, template: flaky}
      - {name: never, template: step, when: "1 == 2"}
      - name: each
        template: step
        depends: flaky
        withItems: [a, b]
      - {name: on-fail, template: step, depends: flaky.Failed}
  - name: flaky
    retryStrategy: {limit: 3}
    container: {image: alpine, command: [flaky]}
    outputs:
      parameters:
      - {name: tries, valueFrom: {path: /tmp/tries, default: "x"}}
  - name: step
    container: {image: alpine, command: [step]}
"""


def test_retries_when_depends_and_loops_run_through_memory_pods(tmp_path: Path) -> None:
    attempts: list[str] = []

    async def script(node: NodeRecord, spec: PodSpec) -> PodOutcome:
        attempts.append(node.display_name)
        first_try = node.display_name == "flaky(0)"
        return outcome_of(1 if first_try else 0, spec)

    engine = LocalEngine(home=tmp_path / "home", pods=memory_pods(script))
    view = engine.submit(Submission(text=WORKFLOW))
    engine.join(view.id, timeout=60)
    view = engine.get(view.id)
    phases = {n.display_name: n.phase for n in view.nodes.values()}

    assert view.phase == "Succeeded"
    assert phases["flaky"] == "Succeeded"
    assert phases["flaky(0)"] == "Failed"
    assert phases["flaky(1)"] == "Succeeded"
    assert phases["never"] == "Skipped"
    assert phases["on-fail"] == "Omitted"
    assert phases["each(0:a)"] == phases["each(1:b)"] == "Succeeded"
    assert sorted(attempts) == ["each(0:a)", "each(1:b)", "flaky(0)", "flaky(1)"]
    flaky = view.node("flaky")
    assert flaky is not None
    assert flaky.outputs["parameters"] == [{"name": "tries", "value": "x"}]
    assert not any((tmp_path / "home" / "runs" / view.id).iterdir())  # no attempt launched


def _failed(phase: str, message: str = "") -> NodeRecord:
    return NodeRecord(
        workflow_id="w", id="n", name="n", display_name="n", type="Pod",
        template_name="t", phase=phase, message=message, started_at=0.0, finished_at=1.0,
    )  # fmt: skip


def test_retry_verdict_follows_limit_policy_and_expression() -> None:
    on_failure = RetryPolicy(limit=2, policy="OnFailure", backoff={})
    assert retry_verdict(on_failure, _failed("Failed"), 1, 0.0, 1.0) == ""
    assert retry_verdict(on_failure, _failed("Failed"), 2, 0.0, 1.0) == "No more retries left"
    assert "does not retry" in retry_verdict(on_failure, _failed("Error"), 0, 0.0, 1.0)
    transient = RetryPolicy(limit=None, policy="OnTransientError", backoff={})
    restarted = _failed("Error", "engine restarted while this attempt was running")
    assert retry_verdict(transient, restarted, 5, 0.0, 1.0) == ""
    assert retry_verdict(transient, _failed("Error", "boom"), 0, 0.0, 1.0) != ""
    capped = RetryPolicy(limit=None, policy="Always", backoff={"maxDuration": "10s"})
    assert retry_verdict(capped, _failed("Failed"), 0, 0.0, 5.0) == ""
    assert "Max duration" in retry_verdict(capped, _failed("Failed"), 0, 0.0, 11.0)
    # Argo stops before a backoff that would end past maxDuration: the second
    # retry's 2 s wait would end at 3 s (the attempt finished at 1 s), past 2.5 s.
    backing = {"duration": "1s", "factor": "2", "maxDuration": "2.5s"}
    backs_off = RetryPolicy(limit=5, policy="Always", backoff=backing)
    assert retry_verdict(backs_off, _failed("Failed"), 0, 0.0, 1.0) == ""
    assert retry_verdict(backs_off, _failed("Failed"), 1, 0.0, 1.0) == BACKOFF_PAST_DEADLINE_MESSAGE
    expr = RetryPolicy(
        limit=None, policy="Always", backoff={}, expression="lastRetry.status == 'Error'"
    )
    assert retry_verdict(expr, _failed("Error"), 0, 0.0, 1.0) == ""
    assert "evaluated to false" in retry_verdict(expr, _failed("Failed"), 0, 0.0, 1.0)
