"""The garbage collector of a server process, quieted once the app is built.

Its own module so both ways of serving (one process: :mod:`.server`; several:
:mod:`.supervisor`) use it without importing each other.
"""

from __future__ import annotations

import gc

__all__ = ["quiet_collector"]


def quiet_collector() -> None:
    """Move what exists once the app is built (modules, compiled sensors and
    checks, models) out of the garbage collector's sight: a full collection
    then walks only what requests made, so it stops pausing the event loop for
    tens of milliseconds."""
    gc.collect()
    gc.freeze()
