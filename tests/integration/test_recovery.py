"""Losing the state table does not mean duplicate issues: ``jira-notifier state rebuild`` restores it."""

from __future__ import annotations

from typing import Any

import pytest

from functions.sns_to_jira.handler import lambda_handler
from jira_notifier.cli.main import main
from tests.support.builders import alarm_event

OTHER_ARN = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:queue-depth"


def test_rebuilt_state_keeps_each_alert_on_its_issue(
    aws: Any, jira: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two alerts with issues, one of them resolved
    lambda_handler(alarm_event("ALARM", 0), lambda_context)
    lambda_handler(alarm_event("ALARM", 0, arn=OTHER_ARN, name="queue-depth"), lambda_context)
    lambda_handler(alarm_event("OK", 1, arn=OTHER_ARN, name="queue-depth"), lambda_context)
    # And a state table that was lost
    dynamodb = aws.session.client("dynamodb")
    for item in aws.state_items():
        dynamodb.delete_item(TableName="jira-notifier-state", Key={"pk": item["pk"]})

    # When the operator rebuilds it from Jira
    assert main(["state", "rebuild", "ops", "jira"]) == 0
    assert "restored 2 alert(s), 0 already known" in capsys.readouterr().out
    assert main(["state", "rebuild", "ops", "jira", "--json"]) == 0
    assert '"alreadyKnown": 2' in capsys.readouterr().out

    # Then the next alerts follow their issues instead of opening new ones
    assert lambda_handler(alarm_event("ALARM", 5), lambda_context) == {"commented": 1}
    assert lambda_handler(alarm_event("ALARM", 5, arn=OTHER_ARN, name="queue-depth"), lambda_context) == {"reopened": 1}
    assert len(jira.issues) == 2
