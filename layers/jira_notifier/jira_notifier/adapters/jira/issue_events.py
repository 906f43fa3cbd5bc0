"""What a Jira admin webhook says about an issue, read from its payload (no Jira JSON leaves ``jira/``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jira_notifier.adapters.jira.client import issue_from_json
from jira_notifier.ports import JiraIssue

ISSUE_UPDATED = "jira:issue_updated"
ISSUE_DELETED = "jira:issue_deleted"


@dataclass(frozen=True, slots=True)
class IssueEvent:
    """An issue as the webhook saw it; ``deleted`` when the event is its deletion."""

    issue: JiraIssue
    deleted: bool
    at: float | None  # when Jira raised the event (epoch seconds); None when the body does not say
    issue_url: str | None  # the issue's ``self``: the site it lives on


def read_issue_event(payload: Any) -> IssueEvent | None:
    """The issue event in a webhook body; None for any other event or a body without an issue id."""
    if not isinstance(payload, Mapping) or payload.get("webhookEvent") not in (ISSUE_UPDATED, ISSUE_DELETED):
        return None
    issue = payload.get("issue")
    if not isinstance(issue, Mapping) or not str(issue.get("id") or "").isdigit():
        return None
    url = issue.get("self")
    return IssueEvent(
        issue_from_json(issue),
        payload.get("webhookEvent") == ISSUE_DELETED,
        _seconds(payload.get("timestamp")),
        url if isinstance(url, str) and url else None,
    )


def _seconds(timestamp: Any) -> float | None:
    """Jira's ``timestamp`` (epoch milliseconds) in seconds; None when absent or not a finite number."""
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
        return None
    try:
        seconds = timestamp / 1000
    except OverflowError:  # an integer beyond any float
        return None
    return seconds if math.isfinite(seconds) else None
