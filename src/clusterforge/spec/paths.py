"""Local file paths in a spec: charts, kustomize directories, manifests, .bats files.

Steps run in private working directories (and, on Argo, in another container),
so a relative path only means something next to the file it was written in.
:func:`~clusterforge.spec.load_spec` therefore resolves relative paths against
the spec file's directory, and the model — and everything stored with a build —
holds absolute paths. A spec parsed from a payload (:func:`parse_spec`) keeps
relative paths as written unless the caller names a base directory.

Paths are data handed to tools as single argv elements; still, a path with a
control character or NUL cannot be a sensible file name and is refused, as are
``~`` (never expanded) and URLs (a chart repository goes in ``chart.repo``).
Existence is not checked here: the spec may be validated on a machine other
than the one that builds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, ValidationInfo

from clusterforge.spec._base import JsonSchemaHint, problem, show

#: Key of the validation context entry holding the directory relative paths resolve against.
BASE_DIR = "base_dir"
MAX_PATH = 4096


def _check_path(value: str, info: ValidationInfo) -> str:
    if not value:
        raise problem("a path must not be empty")
    if len(value) > MAX_PATH:
        raise problem(f"{show(value)} is longer than {MAX_PATH} characters")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise problem(f"{show(value)} contains a control character; paths must be one line")
    if value.startswith("~"):
        raise problem(
            f"{show(value)}: '~' is not expanded; write an absolute path or one relative to "
            "the spec file"
        )
    if "://" in value:
        raise problem(f"{show(value)} is a URL, not a local path")
    base = (info.context or {}).get(BASE_DIR)
    if base is not None and not os.path.isabs(value):
        return os.path.normpath(Path(base) / value)
    return value


LocalPath = Annotated[
    str,
    AfterValidator(_check_path),
    JsonSchemaHint({"minLength": 1, "maxLength": MAX_PATH}),
]
