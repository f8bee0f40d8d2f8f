"""A workflow's plan: what would run, what would be skipped, and why.

The plan is what every backend's ``Engine.plan`` answers with, so it lives at
the engine's level rather than in one backend (``engine/local/planner.py``
computes it for the local engine).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PlannedNode:
    """One node of the plan tree."""

    display_name: str
    template: str
    decision: str  # "run", "skip", "runtime"
    reason: str = ""
    children: list[PlannedNode] = field(default_factory=list)

    def walk(self, depth: int = 0) -> list[tuple[int, PlannedNode]]:
        out = [(depth, self)]
        for child in self.children:
            out.extend(child.walk(depth + 1))
        return out

    def explain(self, text: str) -> None:
        self.reason = f"{self.reason}; {text}" if self.reason else text
