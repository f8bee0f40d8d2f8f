"""An ``http`` template: one HTTP request, its response body as ``outputs.result``.

Argo runs these in its agent (workflow/executor/agent.go); the local engine
sends the request from the engine itself, with the same rules:

- ``method`` (GET when empty), ``url``, ``headers`` (a ``Host`` header sets the
  request's host), ``body``, ``timeoutSeconds`` (no timeout when unset, as the
  agent), ``insecureSkipVerify``;
- without ``successCondition`` a 2xx status succeeds, any other fails with
  ``received non-2xx response code: N``; with one, the expr condition sees
  ``request.{method,url,body,headers}`` and
  ``response.{statusCode,body,headers}`` (headers as a map of lists) and a
  false result fails with ``successCondition '…' evaluated false``;
- a request that cannot be made (refused, timed out) fails the node with the
  error's text — Argo marks those Failed, not Error.

A header's ``valueFrom.secretKeyRef`` needs a cluster's Secret, which the
local engine does not read: such a node ends in Error saying so.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import httpx

from clusterforge.engine.local._operator.context import Call, Context
from clusterforge.engine.local._operator.runtime import Runtime
from clusterforge.engine.local.values import parameter_text, substitute_tree
from clusterforge.store import NodeRecord
from clusterforge.workflow.expressions import ExpressionError, evaluate_condition

JSON = dict[str, Any]


class HttpRefused(Exception):
    """The template asks for what the local engine cannot do (a Secret's value)."""


def _headers(spec: JSON) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for index, header in enumerate(spec.get("headers") or []):
        if header.get("valueFrom") is not None:
            raise HttpRefused(
                f"http.headers[{index}] ({header.get('name', '')}): valueFrom.secretKeyRef "
                "reads a Kubernetes Secret, which the local engine does not have; "
                "give the header a value (e.g. from a workflow parameter)"
            )
        pairs.append((str(header.get("name", "")), parameter_text(header.get("value", ""))))
    return pairs


def _body(spec: JSON) -> bytes:
    source = spec.get("bodyFrom") or {}
    if source.get("bytes") is not None:
        try:  # a Go []byte in JSON/YAML is base64
            return base64.b64decode(str(source["bytes"]), validate=True)
        except (binascii.Error, ValueError) as err:
            raise HttpRefused(f"http.bodyFrom.bytes: not base64 ({err})") from None
    return parameter_text(spec.get("body", "")).encode()


def _timeout(spec: JSON) -> float | None:
    raw = spec.get("timeoutSeconds")
    if raw in (None, ""):
        return None
    try:
        return float(parameter_text(raw))
    except ValueError:
        raise HttpRefused(f"http.timeoutSeconds: {raw!r} is not a number of seconds") from None


async def send(spec: JSON) -> tuple[str, str, str]:
    """Send the request of a substituted ``http`` body: (phase, message, response body).

    Raises :class:`HttpRefused` for a template the local engine cannot send.
    """
    method = str(spec.get("method") or "GET").upper()
    url = parameter_text(spec.get("url", ""))
    headers = _headers(spec)
    content = _body(spec)
    timeout = _timeout(spec)
    request_headers = [(k, v) for k, v in headers if k.lower() != "host"]
    host = next((v for k, v in headers if k.lower() == "host"), None)
    if host is not None:
        request_headers.append(("Host", host))
    try:
        async with httpx.AsyncClient(
            verify=not spec.get("insecureSkipVerify"), timeout=timeout, follow_redirects=True
        ) as client:
            response = await client.request(method, url, headers=request_headers, content=content)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as err:
        return "Failed", f"{method} {url}: {str(err) or type(err).__name__}", ""
    body = response.text
    condition = spec.get("successCondition")
    if not condition:
        if 200 <= response.status_code < 300:
            return "Succeeded", "", body
        return "Failed", f"received non-2xx response code: {response.status_code}", body
    scope: dict[str, object] = {
        "request": {
            "method": method,
            "url": url,
            "body": content.decode(errors="replace"),
            "headers": _header_map(headers),
        },
        "response": {
            "statusCode": response.status_code,
            "body": body,
            "headers": _header_map(list(response.headers.multi_items())),
        },
    }
    if evaluate_condition(condition, scope, language="http successCondition"):
        return "Succeeded", "", body
    return "Failed", f"successCondition '{condition}' evaluated false", body


def _header_map(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Headers as Go's ``http.Header``: canonical names (``Content-Type``) to lists."""
    result: dict[str, list[str]] = {}
    for key, value in pairs:
        canonical = "-".join(part[:1].upper() + part[1:].lower() for part in key.split("-"))
        result.setdefault(canonical, []).append(value)
    return result


async def run_http(
    rt: Runtime, name: str, display: str, call: Call, inputs: dict[str, str], ctx: Context
) -> NodeRecord:
    """An HTTP node (type ``HTTP``, as Argo): substitute, send once, record the result."""
    journal, template = rt.journal, call.template
    node, values = rt.leaf_node(name, display, "HTTP", call, inputs, ctx)
    try:
        spec = substitute_tree(template["http"], values)
        await journal.durable()
        phase, message, body = await send(spec)
    except (ExpressionError, HttpRefused) as err:
        return journal.finish(node, "Error", str(err))
    node.outputs = {"result": body}
    return journal.finish(node, phase, message)
