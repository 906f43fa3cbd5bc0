"""Priority follows impact, through the handlers as Lambda calls them, against moto and the stand-in Jira.

Each step names the Jira requests it cost; every request is checked against Atlassian's spec.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.eventbridge_to_jira.handler import lambda_handler as eventbridge_handler
from functions.sns_to_jira.handler import lambda_handler as sns_handler
from jira_notifier.entry import wiring
from tests.conftest import DEFAULT_PROVIDER, load_event
from tests.support.builders import START, alarm_event, sns_event
from tests.support.clocks import on_clock
from tests.support.fakes import Clock

READ = ("GET", "/rest/api/3/issue/OPS-1")
EDIT = ("PUT", "/rest/api/3/issue/OPS-1")
COMMENT = ("POST", "/rest/api/3/issue/OPS-1/comment")
IMPACT = {
    "priority_map": {"critical": "Highest", "high": "High", "medium": "Medium"},
    "impact_steps": ((500.0, "Highest"),),
    "budget_steps": ((100.0, "Highest"),),
    "escalate_after": ((4 * 3600.0, "Highest"),),
}

BUDGET = """AWS Budget Notification November 18, 2026
AWS Account 123456789012

Budget Name: monthly-platform
Budget Type: Cost
Budgeted Amount: $2,000.00
Alert Type: ACTUAL
Alert Threshold: > {threshold}
ACTUAL Amount: {amount}
"""


class Run:
    """Deliver events to a handler on a simulated clock shared with the stand-in Jira; return what each cost."""

    def __init__(self, jira: Any, context: Any) -> None:
        self.jira, self.context, self.clock, self.seen = (
            jira,
            context,
            Clock(START.timestamp()),
            0,
        )
        jira.now = lambda: datetime.fromtimestamp(self.clock.now, UTC)

    def __call__(
        self, event: dict[str, Any], *, after: float = 60.0, function: str = "sns"
    ) -> tuple[dict[str, int], list[tuple[str, str]]]:
        self.clock.now += after
        notifier = wiring.get_notifier(function)
        on_clock(notifier, self.clock.time, self.clock.sleep)
        handler: Callable[[dict[str, Any], Any], dict[str, int]] = (
            sns_handler if function == "sns" else eventbridge_handler
        )
        result = handler(event, self.context)
        requests = self.jira.requests[self.seen :]
        self.seen = len(self.jira.requests)
        return result, requests

    def edits(self) -> list[Any]:
        return [json.loads(c.request.body) for c in self.jira.mock.calls if c.request.method == "PUT"]


@pytest.fixture
def run(aws: Any, jira: Any, lambda_context: Any) -> Run:
    for group in ("ops", "finops"):
        aws.put_provider(**{**DEFAULT_PROVIDER, "group": group, **IMPACT})
    return Run(jira, lambda_context)


def priority(jira: Any) -> str:
    return str(jira.by_key("OPS-1").fields["priority"]["name"])


def budget(threshold: str, amount: str) -> dict[str, Any]:
    return sns_event(BUDGET.format(threshold=threshold, amount=amount))


def anomaly(total: float) -> dict[str, Any]:
    event = load_event("sns_cost_anomaly.json")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["impact"]["totalImpact"] = total
    return sns_event(message)


def finding(label: str, updated: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("eventbridge_securityhub_finding.json"))
    event["id"] = f"evt-{label}-{updated}"
    event["detail"]["findings"][0].update({"Severity": {"Label": label}, "UpdatedAt": updated})
    return event


def test_a_budget_crossing_a_higher_threshold_raises_its_issue_once(run: Run, jira: Any) -> None:
    # Given a budget alert at 80% of the budget: an issue at the severity's priority
    result, cost = run(budget("$1,600.00", "$1,650.00"))
    assert result == {"created": 1} and ("POST", "/rest/api/3/issue") in cost
    assert priority(jira) == "High"

    # When the same budget crosses 100%: one read of the priority, one edit of that field alone, and the news
    result, cost = run(budget("$2,000.00", "$2,050.00"))
    assert result == {"commented": 1}
    assert cost == [READ, EDIT, COMMENT]
    assert run.edits() == [{"fields": {"priority": {"name": "Highest"}}}]
    assert priority(jira) == "Highest" and len(jira.issues) == 1


def test_a_growing_anomaly_is_raised_and_a_shrinking_one_is_not_lowered(run: Run, jira: Any) -> None:
    assert run(anomaly(150.0))[0] == {"created": 1}
    assert priority(jira) == "High"

    # Its total impact grows past the provider's step: raised
    result, cost = run(anomaly(640.0))
    assert result == {"commented": 1} and cost == [READ, EDIT, COMMENT]
    assert priority(jira) == "Highest"

    # It shrinks again: commented, never lowered, not even read
    result, cost = run(anomaly(200.0))
    assert result == {"commented": 1} and cost == [COMMENT]
    assert priority(jira) == "Highest" and len(run.edits()) == 1


def test_a_priority_a_person_changed_is_never_touched(run: Run, jira: Any) -> None:
    assert run(anomaly(150.0))[0] == {"created": 1}
    jira.set_priority_by_hand("OPS-1", "Low")  # a person decided

    # The impact grows past the step: the product reads the priority, sees the person's, and leaves it
    result, cost = run(anomaly(640.0))
    assert result == {"commented": 1} and cost == [READ, COMMENT]
    assert priority(jira) == "Low"

    # From then on it is the person's: not even read again
    result, cost = run(anomaly(5000.0))
    assert cost == [COMMENT] and priority(jira) == "Low" and run.edits() == []


def test_a_finding_whose_severity_rises_is_raised(run: Run, jira: Any) -> None:
    result, _ = run(finding("HIGH", "2026-11-18T05:49:58.730Z"), function="eventbridge")
    assert result == {"created": 1} and priority(jira) == "High"

    # Security Hub updates the same finding to CRITICAL
    result, cost = run(finding("CRITICAL", "2026-11-18T07:00:00.000Z"), function="eventbridge")
    assert result == {"commented": 1} and cost == [READ, EDIT, COMMENT]
    assert priority(jira) == "Highest"


def test_an_alarm_in_alarm_longer_than_the_provider_allows_is_raised_on_a_delivery(run: Run, jira: Any) -> None:
    assert run(alarm_event("ALARM", 0, message_id="m-1"))[0] == {"created": 1}
    assert priority(jira) == "High"

    # Within 4 hours, a repeated delivery changes nothing
    assert run(alarm_event("ALARM", 0, message_id="m-1"), after=3600) == ({"skipped": 1}, [])

    # Past 4 hours in ALARM (by its state change time), the next delivery raises it, once
    result, cost = run(alarm_event("ALARM", 0, message_id="m-1"), after=4 * 3600)
    assert result == {"skipped": 1} and cost == [READ, EDIT]
    assert priority(jira) == "Highest"
    assert run(alarm_event("ALARM", 0, message_id="m-1"), after=3600) == ({"skipped": 1}, [])
