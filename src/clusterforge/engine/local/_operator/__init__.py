"""The operator: Argo's semantics for one workflow run, as asyncio coroutines.

Private to the local engine. The map (each module one concept; a module imports
only those below it — the ``.importlinter`` contract "operator layers"):

- ``run``       a workflow run: resume, entrypoint, deadline, stop, onExit, the end
- ``execute``   dispatch a node by template kind; retries and deadlines around it
- ``dag``, ``steps``  a DAG / steps node, state as fields of one small class each
- ``calls``     a task or step called: loop items, ``when``, the template call
- ``retry``     the retry verdict (pure) and the attempts loop
- ``runtime``   what the parts of one run share
- ``pods``, ``memory_pods``  one attempt of a container/script: the ``Pods``
  protocol, host processes, and an in-memory fake
- ``journal``   the node tree and its changes: with ``batch``, the only code touching the store
- ``batch``     what the runs of one loop share: one commit per turn, one stop/heartbeat query
- ``scope``     variables, inputs and outputs
- ``context``   a call, what a node inherits, stop flags, the ``Executes`` callback
- ``templates``, ``loops``  resolving templateRef/inline; loop items (shared with the planner)
- ``errors``    why a node ends in Error
"""

from clusterforge.engine.local._operator.artifacts import delete_garbage
from clusterforge.engine.local._operator.errors import NodeFailure
from clusterforge.engine.local._operator.journal import Journal
from clusterforge.engine.local._operator.memory_pods import MemoryPods
from clusterforge.engine.local._operator.pods import PodOutcome, Pods, PodSpec
from clusterforge.engine.local._operator.run import PodsFactory, WorkflowRun

__all__ = [
    "Journal",
    "MemoryPods",
    "NodeFailure",
    "PodOutcome",
    "PodSpec",
    "Pods",
    "PodsFactory",
    "WorkflowRun",
    "delete_garbage",
]
