"""Open alert-to-issue links as the event path leaves them, and the alarms behind them: for reconcile's tests,
built-stack run and benchmark."""

from __future__ import annotations

from typing import Any

from jira_notifier.adapters.dynamodb.state import StateStore
from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.state import IssueState, IssueStatus, state_pk
from jira_notifier.render.issue import TOOL_LABEL

LONG_AGO_MS = 1_700_000_000_000  # the firing's transition time: older than anything a source answers


def put_alarm(cloudwatch: Any, name: str, state: str | None = "ALARM") -> None:
    """A metric alarm in CloudWatch, set to ``state`` (None: left as created)."""
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    if state:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=f"set to {state}")


def open_link(dynamodb: Any, table: str, jira: Any, dedupe_key: str, provider_id: str = "ops/jira") -> str:
    """An open issue in the stand-in Jira and the state item that follows it; returns the issue's key."""
    alert = Alert("cloudwatch-alarm", dedupe_key, "seeded", AlertState.FIRING, dedupe_key)
    labels = [TOOL_LABEL, alert.dedupe_label]  # as the product labels the issues it creates
    issue = jira._new_issue({"issuetype": jira.issue_types[0], "summary": dedupe_key, "labels": labels})
    state = IssueState(
        pk=state_pk(provider_id, alert.dedupe_hash),
        provider=provider_id,
        dedupe_key=dedupe_key,
        issue_id=issue.id,
        issue_key=issue.key,
        issue_status=IssueStatus.OPEN,
        alert_state=AlertState.FIRING,
        transition_at=LONG_AGO_MS,
    )
    assert StateStore(dynamodb, table).put_recovered(state)
    return str(issue.key)
