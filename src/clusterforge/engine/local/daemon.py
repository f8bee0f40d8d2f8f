"""A detached engine process: ``python -m clusterforge.engine.local.daemon ID``.

``clusterforge run`` without ``--wait`` (and ``retry``) hand the workflow to
one of these so the command can return while the workflow keeps running.
"""

from __future__ import annotations

import sys

from clusterforge.engine.local.engine import LocalEngine


def main(argv: list[str]) -> int:
    engine = LocalEngine()
    for workflow_id in argv:
        if engine.store.claim_workflow(
            workflow_id, engine.owner, unless_alive=engine.live_owners(workflow_id)
        ):
            engine.run_blocking(workflow_id)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
