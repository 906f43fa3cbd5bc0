"""What a Jira admin webhook says about an issue, read from its payload (no Jira JSON leaves ``jira/``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jira_notifier.adapters.jira.client import JiraIssue, issue_from_json

ISSUE_UPDATED = "jira:issue_updated"
ISSUE_DELETED = "jira:issue_deleted"


@dataclass(frozen=True, slots=True)
class IssueEvent:
    """An issue as the webhook saw it; ``deleted`` when the event is its deletion."""

    issue: JiraIssue
    deleted: bool
    at: float | None  # when Jira raised the event (epoch seconds)


def read_issue_event(payload: Any) -> IssueEvent | None:
    """The issue event in a webhook body; None for any other event or a body without an issue id."""
    if not isinstance(payload, Mapping) or payload.get("webhookEvent") not in (ISSUE_UPDATED, ISSUE_DELETED):
        return None
    issue = payload.get("issue")
    if not isinstance(issue, Mapping) or not str(issue.get("id") or "").isdigit():
        return None
    timestamp = payload.get("timestamp")
    at = timestamp / 1000 if isinstance(timestamp, int | float) and not isinstance(timestamp, bool) else None
    return IssueEvent(issue_from_json(issue), payload.get("webhookEvent") == ISSUE_DELETED, at)
