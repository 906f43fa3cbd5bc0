"""What happened to one alert in one provider (the answer of every effect), and the port effects count on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class Recorder(Protocol):
    def count(self, name: str, value: float = 1) -> None: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    provider: str | None
    action: str  # created, commented, resolved, reopened, recovered, skipped, coalesced, ignored, parked, retry
    reason: str
    issue_key: str | None = None


def summarize(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Counts per action, for the handler's return value."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.action] = counts.get(outcome.action, 0) + 1
    return counts
