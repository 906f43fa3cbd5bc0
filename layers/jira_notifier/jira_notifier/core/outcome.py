"""What happened to one alert in one provider: the answer of every path, summarized for the handler's return value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class OutcomeAction(StrEnum):
    CREATED = "created"
    COMMENTED = "commented"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    RECOVERED = "recovered"  # an unconfirmed create's issue was found and adopted
    SKIPPED = "skipped"
    COALESCED = "coalesced"  # held back: written once the issue's write interval has passed
    GROUPED = "grouped"  # a storm member, listed in its parent
    IGNORED = "ignored"  # an event that must not open an issue
    PARKED = "parked"  # in the dead-letter queue, with the reason
    RETRY = "retry"  # handed back for Lambda's (or SQS's) retry


@dataclass(frozen=True, slots=True)
class Outcome:
    provider: str | None
    action: OutcomeAction
    reason: str  # a ``core.lifecycle.Reason``, or an error's reason for parked and retry
    issue_key: str | None = None


def summarize(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Counts per action, for the handler's return value."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.action.value] = counts.get(outcome.action.value, 0) + 1
    return counts
