"""Defences against hostile input, one place for each kind.

Everything a user (or an HTTP client, or a webhook payload) hands in goes
through one of these before it can cost the machine anything:

* names that become paths — :func:`check_workflow_name`, then :func:`inside`;
* integers a client sent — :func:`bounded_int` (64-bit, ASCII digits);
* files, YAML and JSON — :func:`read_text`, :func:`check_yaml`, :func:`loads_json`
  (size, depth, alias and expanded-size limits);
* regular expressions — :func:`compile_re2` (linear time, never ``re``);

Each refusal is an :class:`~clusterforge.errors.InvalidInput` naming the field
and the limit, so the CLI exits 2 and the API answers 4xx.
"""

from __future__ import annotations

from clusterforge.safety.loading import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_EXPANDED_NODES,
    LimitExceeded,
    check_depth,
    check_yaml,
    load_yaml_documents,
    loads_json,
    read_text,
)
from clusterforge.safety.names import (
    WORKFLOW_NAME_MAX,
    check_workflow_name,
    workflow_name_problem,
)
from clusterforge.safety.numbers import INT64_MAX, bounded_int
from clusterforge.safety.paths import inside
from clusterforge.safety.regex import Match, Pattern, RegexError, compile_re2

__all__ = [
    "INT64_MAX",
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_EXPANDED_NODES",
    "WORKFLOW_NAME_MAX",
    "LimitExceeded",
    "Match",
    "Pattern",
    "RegexError",
    "bounded_int",
    "check_depth",
    "check_workflow_name",
    "check_yaml",
    "compile_re2",
    "inside",
    "load_yaml_documents",
    "loads_json",
    "read_text",
    "workflow_name_problem",
]
