"""Reading a request body as JSON (or, where a person pastes a spec, YAML), with the
errors a caller can fix.

The whole body is read first (under the size limit of :mod:`limits`), then
decoded: not UTF-8, not JSON, a key given twice in one object (the second
would silently win), or nesting deeper than :data:`MAX_DEPTH` are each a 400
naming the line and column or the problem — before anything looks at the
content, so a rejected body never reaches the pipeline or a sensor.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from fastapi import Request

from clusterforge.api.errors import ApiError
from clusterforge.safety import LimitExceeded, load_yaml_documents

__all__ = ["MAX_DEPTH", "YAML_TYPES", "read_json"]

#: Media types read as YAML where a body may be YAML (a spec pasted in the web UI).
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml"})

#: Deepest nesting accepted (a spec is about 6 levels deep; webhooks rarely pass 20).
MAX_DEPTH = 64


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ApiError(400, "invalid_json", f"key {key!r} appears twice in one object")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ApiError(400, "invalid_json", f"{name} is not a JSON value; JSON numbers are finite")


def _depth_ok(value: Any) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def decode_json(raw: bytes, *, empty: Any = ...) -> Any:
    """Decode a JSON body; ``empty`` is returned for an empty body when given."""
    if not raw.strip():
        if empty is not ...:
            return empty
        raise ApiError(400, "invalid_json", "the request body is empty; send a JSON document")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "the request body is not UTF-8 text") from None
    try:
        value = json.loads(text, object_pairs_hook=_unique, parse_constant=_no_constants)
    except json.JSONDecodeError as err:
        raise ApiError(
            400,
            "invalid_json",
            f"the request body is not valid JSON: line {err.lineno} column {err.colno}: {err.msg}",
        ) from None
    except RecursionError:
        value = None
        raise ApiError(
            400, "invalid_json", f"the JSON is nested deeper than {MAX_DEPTH} levels"
        ) from None
    except ValueError as err:  # numbers too long to convert, and the like
        raise ApiError(400, "invalid_json", f"the request body is not usable JSON: {err}") from None
    if not _depth_ok(value):
        raise ApiError(400, "invalid_json", f"the JSON is nested deeper than {MAX_DEPTH} levels")
    if b"\\ud" in raw.lower() and _has_lone_surrogate(value):
        raise ApiError(
            400,
            "invalid_json",
            "the JSON holds a lone UTF-16 surrogate escape (\\ud800-\\udfff without its pair), "
            "which is no character; send valid Unicode",
        )
    return value


def _has_lone_surrogate(value: Any) -> bool:
    """Whether a decoded string (key or value) holds half of a surrogate pair."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def decode_yaml(raw: bytes) -> Any:
    """Decode a YAML body of one document, within the bounded loader's limits."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_yaml", "the request body is not UTF-8 text") from None
    try:
        documents = load_yaml_documents(text, "the request body")
    except LimitExceeded as err:
        raise ApiError(400, "invalid_yaml", str(err)) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise ApiError(
            400, "invalid_yaml", f"the request body is not valid YAML: {where}{problem}"
        ) from None
    if len(documents) != 1 or documents[0] is None:
        raise ApiError(400, "invalid_yaml", f"send one YAML document, not {len(documents)}")
    return documents[0]


async def read_json(
    request: Request, *, empty: Any = ..., yaml_ok: bool = False
) -> tuple[Any, bytes]:
    """The decoded body and its raw bytes (for idempotency fingerprints); with
    ``yaml_ok``, a body sent as YAML (``Content-Type: application/yaml``) is read as YAML."""
    raw = await request.body()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if yaml_ok and media in YAML_TYPES and raw.strip():
        return decode_yaml(raw), raw
    return decode_json(raw, empty=empty), raw
