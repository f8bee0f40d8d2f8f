"""Paths built from names, proven to stay inside their directory.

Names are validated before they become paths (:mod:`.names`), and the path is
checked again when it is built: :func:`inside` joins the parts, resolves the
result (symlinks included, as the kernel would follow them) and refuses one
that lands outside ``base``. Two independent checks, so a future entry point
that forgets the first still cannot write outside the data directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from clusterforge.errors import InvalidInput


def inside(base: Path, *parts: str) -> Path:
    """``base/parts…`` — refused with :class:`InvalidInput` unless it stays under ``base``."""
    for part in parts:
        if not part or "\x00" in part or os.path.isabs(part):
            raise InvalidInput(f"path part {part!r} cannot be used under {base}")
    joined = base.joinpath(*parts)
    root = base.resolve()
    resolved = joined.resolve()
    if resolved == root or root not in resolved.parents:
        raise InvalidInput(f"{'/'.join(parts)!r} would lead outside {base}")
    return joined
