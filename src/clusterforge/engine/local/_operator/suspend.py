"""A ``suspend`` template: a node that waits, Running, until resumed or its time is up.

As Argo (workflow/controller/operator.go, executeSuspend): the node has type
``Suspend`` and phase Running; with ``duration`` (seconds, or a Go duration
such as ``2m``) it becomes Succeeded once that long has passed since it
started — a resumed engine keeps the original start — and, with or without
one, it becomes Succeeded when resumed (``clusterforge resume-node``, see
:mod:`clusterforge.engine.suspension`). Its ``outputs.parameters`` with
``valueFrom.supplied`` take the values given with the resume, else their
``valueFrom.default``; one with neither ends the node in Error saying how to
supply it. Stopping the workflow ends a waiting node like any running one.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from clusterforge.engine.local._operator.context import Call, Context
from clusterforge.engine.local._operator.errors import InputError
from clusterforge.engine.local._operator.runtime import Runtime
from clusterforge.engine.local.durations import parse_duration
from clusterforge.engine.local.values import parameter_text, substitute_tree
from clusterforge.errors import InvalidInput
from clusterforge.store import NodeRecord
from clusterforge.workflow.expressions import ExpressionError

JSON = dict[str, Any]
POLL = 0.25
"""Seconds between reads of a resume request."""


def supplied_outputs(template: JSON, given: dict[str, str]) -> list[dict[str, str]]:
    """The node's ``outputs.parameters``: a supplied value, else the default, else
    the parameter's ``value``; raises :class:`InputError` for one without any."""
    params = []
    for param in (template.get("outputs") or {}).get("parameters", []) or []:
        name, source = param["name"], param.get("valueFrom") or {}
        if name in given:
            value = given[name]
        elif source.get("default") is not None:
            value = parameter_text(source["default"])
        elif param.get("value") is not None:
            value = parameter_text(param["value"])
        else:
            raise InputError(
                f"outputs.parameters.{name}: no value was supplied on resume "
                f"(resume with `clusterforge resume-node WORKFLOW NODE -p {name}=VALUE`, "
                "or give valueFrom.default)"
            )
        params.append({"name": name, "value": value})
    return params


async def run_suspend(
    rt: Runtime, name: str, display: str, call: Call, inputs: dict[str, str], ctx: Context
) -> NodeRecord:
    """Wait until resumed or the duration has passed; the node Succeeded with its outputs."""
    journal, template = rt.journal, call.template
    node, values = rt.leaf_node(name, display, "Suspend", call, inputs, ctx)
    try:
        spec = substitute_tree(template["suspend"] or {}, values)
        raw = spec.get("duration")
        field = f"templates.{template.get('name', '')}.suspend.duration"
        seconds = parse_duration(raw, field=field) if raw not in (None, "") else None
    except (ExpressionError, InvalidInput) as err:
        return journal.finish(node, "Error", str(err))
    await journal.durable()
    started = node.started_at or time.time()
    try:
        request = await _wait(rt, node.id, None if seconds is None else started + seconds)
    except asyncio.CancelledError:
        rt.cancelled(node)
        raise
    given = {str(k): str(v) for k, v in ((request or {}).get("parameters") or {}).items()}
    try:
        params = supplied_outputs(template, given)
    except InputError as err:
        return journal.finish(node, "Error", str(err))
    if params:
        node.outputs = {"parameters": params}
        for param in (template.get("outputs") or {}).get("parameters", []) or []:
            if param.get("globalName"):
                value = next(p["value"] for p in params if p["name"] == param["name"])
                rt.variables.publish_global(param["globalName"], value)
    return journal.finish(node, "Succeeded")


async def _wait(rt: Runtime, node_id: str, until: float | None) -> JSON | None:
    """The resume request, once there is one; None when ``until`` came first."""
    while True:
        request = rt.journal.take_resume(node_id)
        if request is not None:
            return request
        now = time.time()
        if until is not None and now >= until:
            return None
        await asyncio.sleep(POLL if until is None else min(POLL, max(until - now, 0.0)))
