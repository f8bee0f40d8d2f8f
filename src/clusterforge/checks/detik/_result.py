"""The outcome of one sentence, in a shape reports can use.

The validation suite turns a list of these into JUnit XML and TAP, the CLI
prints one and exits with its code, and pytest raises with its description.
So the result carries everything a report line needs — the sentence, whether
it held, DETIK's exit code, a message saying what was expected and what the
cluster had, how many attempts it took and how long — and nothing tied to a
particular output format.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from clusterforge.checks.detik._sentences import Keyword

__all__ = ["Attempt", "DetikResult", "ExitCode"]


class ExitCode(IntEnum):
    """bats-detik's return codes (README, "Error Codes")."""

    OK = 0
    EMPTY = 1  # the sentence was empty
    SYNTAX = 2  # the sentence is not in the grammar
    FAILED = 3  # the assertion did not hold (or the client failed)


@dataclass(frozen=True)
class Attempt:
    """One evaluation inside a ``try`` loop (a ``verify`` has exactly one)."""

    number: int
    ok: bool
    message: str


@dataclass(frozen=True)
class DetikResult:
    """What happened to one sentence."""

    sentence: str
    ok: bool
    exit_code: ExitCode
    message: str
    attempts: int = 0
    keyword: Keyword | None = None  # None when the sentence did not parse
    details: tuple[str, ...] = ()  # one line per matching item of the last attempt
    command: tuple[str, ...] = ()  # argv of the last client call
    elapsed: float = 0.0  # seconds, retries and sleeps included

    def describe(self) -> str:
        """A readable report: the sentence, then what was expected and found."""
        if self.exit_code is ExitCode.SYNTAX:
            return self.message
        head = "ok" if self.ok else "failed"
        text = f'{head}: "{self.sentence}"\n  {self.message}'
        if not self.ok and self.attempts > 1:
            text += f"\n  (gave up after {self.attempts} attempts)"
        return text

    def to_dict(self) -> dict[str, object]:
        """Plain data (JSON-ready) for reports and artifacts."""
        return {
            "sentence": self.sentence,
            "ok": self.ok,
            "exit_code": int(self.exit_code),
            "message": self.message,
            "attempts": self.attempts,
            "keyword": self.keyword,
            "details": list(self.details),
            "command": list(self.command),
            "elapsed": self.elapsed,
        }
