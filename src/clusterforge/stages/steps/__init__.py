"""The step commands the stage templates call (``clusterforge step …``).

Each step is a plain function of a :class:`StepContext` (the spec from the
environment), so the CLI wiring stays thin and the steps are testable alone.
"""

from clusterforge.stages.steps.addons import install_catalog, install_user
from clusterforge.stages.steps.context import StepContext, context_from_env
from clusterforge.stages.steps.core import control_plane, destroy, node_group_step
from clusterforge.stages.steps.preflight import CHECKS, run_check, run_extra
from clusterforge.stages.steps.validation import CheckResult, report, run_validation

__all__ = [
    "CHECKS",
    "CheckResult",
    "StepContext",
    "context_from_env",
    "control_plane",
    "destroy",
    "install_catalog",
    "install_user",
    "node_group_step",
    "report",
    "run_check",
    "run_extra",
    "run_validation",
]
