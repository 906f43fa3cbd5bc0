"""Every sample in events/ through the handler Lambda would call with it, against moto and the stand-in Jira."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jira_notifier.cli.invoke import FUNCTIONS, function_for, load_handler
from jira_notifier.entry.handlers import HANDLERS
from tests.conftest import DEFAULT_PROVIDER, EVENTS, load_event

CONTRIBUTOR_SUMMARY = ("dynamodb-throttles-by-table", "TableName=orders")  # the alarm, and its series

# sample -> (handler result, issues created, words the issue summary must contain)
EXPECTED: dict[str, tuple[dict[str, Any], int, tuple[str, ...]]] = {
    "sns_cloudwatch_alarm.json": ({"created": 1}, 1, ("api-5xx-high",)),
    "sns_cloudwatch_alarm_ok.json": ({"skipped": 1}, 0, ()),
    "sns_cloudwatch_alarm_insufficient_data.json": ({"skipped": 1}, 0, ()),
    "sns_cloudwatch_alarm_metric_math.json": ({"created": 1}, 1, ("orders-api-error-rate",)),
    "sns_cloudwatch_composite_alarm.json": ({"created": 1}, 1, ("checkout-degraded",)),
    "sns_cost_anomaly.json": ({"created": 1}, 1, ("Cost anomaly", "Elastic Compute Cloud")),
    "sns_budget.json": ({"created": 1}, 1, ("monthly-platform", "ACTUAL")),
    "sns_notification.json": ({"created": 1}, 1, ("EC2 spend anomaly in prod",)),
    "sns_unknown_json.json": ({"created": 1}, 1, ("ops-events",)),
    "sns_plain_text.json": ({"created": 1}, 1, ("build-agent-07",)),
    "eventbridge_cloudwatch_alarm.json": ({"created": 1}, 1, ("api-5xx-high",)),
    "eventbridge_cloudwatch_alarm_ok.json": ({"skipped": 1}, 0, ()),
    "eventbridge_cloudwatch_composite_suppressed.json": ({"ignored": 1}, 0, ()),
    "eventbridge_cloudwatch_alarm_config_change.json": ({"ignored": 1}, 0, ()),
    "eventbridge_cost_anomaly.json": ({"created": 1}, 1, ("Cost anomaly",)),
    "eventbridge_notification.json": ({"skipped": 1}, 0, ()),  # status "resolved" with nothing open
    "eventbridge_health.json": ({"created": 2}, 2, ("AWS Health", "EC2")),  # one issue per affected entity
    "eventbridge_securityhub_finding.json": ({"created": 1}, 1, ("Security Hub",)),
    "eventbridge_securityhub_finding_passed.json": ({"skipped": 1}, 0, ()),  # passed with nothing open
    "eventbridge_guardduty_finding.json": ({"created": 1}, 1, ("GuardDuty",)),
    "eventbridge_custom.json": ({"created": 1}, 1, ("Order Pipeline Stalled",)),
    "alarm_action_cloudwatch_alarm.json": ({"created": 1}, 1, ("api-5xx-high",)),
    "sqs_sns_envelope.json": ({"batchItemFailures": []}, 2, ()),  # an alarm and a budget
    "sqs_raw_delivery.json": ({"batchItemFailures": []}, 1, ("api-5xx-high",)),
    "eventbridge_cloudwatch_contributor.json": ({"created": 1}, 1, CONTRIBUTOR_SUMMARY),
    "sns_cloudwatch_contributor.json": ({"created": 1}, 1, CONTRIBUTOR_SUMMARY),
    "alarm_action_cloudwatch_contributor.json": ({"created": 1}, 1, CONTRIBUTOR_SUMMARY),
    "eventbridge_cloudwatch_multi_series_alarm.json": ({"ignored": 1}, 0, ()),  # its contributors have the issues
    "eventbridge_cloudwatch_alarm_tagged.json": ({"created": 1}, 1, ("checkout-latency-p99",)),
    "eventbridge_securityhub_v2_finding.json": ({"created": 1}, 1, ("Security Hub", "cryptocurrency")),
    "eventbridge_securityhub_v2_control_passed.json": ({"skipped": 1}, 0, ()),  # passed with nothing open
}


def test_every_sample_has_an_expectation() -> None:
    samples = {p.name for p in Path(EVENTS).glob("*.json")} - {"env.json"}
    assert samples == set(EXPECTED)


@pytest.mark.parametrize("sample", sorted(EXPECTED), ids=lambda s: s.removesuffix(".json"))
def test_sample_through_its_handler(sample: str, aws: Any, jira: Any, lambda_context: Any) -> None:
    # Given the group a sample names, served by the same provider as the default group
    aws.put_provider(**{**DEFAULT_PROVIDER, "group": "platform-oncall"})
    event = load_event(sample)
    handler = load_handler(function_for(event))

    # When Lambda calls the handler with it
    result = handler(event, lambda_context)

    # Then the issues product.md describes were created, and nothing was parked
    expected_result, issue_count, summary_words = EXPECTED[sample]
    assert result == expected_result
    assert len(jira.issues) == issue_count
    assert aws.dead_letters() == []
    for issue in jira.issues.values():
        fields = issue.fields
        assert all(word in fields["summary"] for word in summary_words), fields["summary"]
        assert "\n" not in fields["summary"] and len(fields["summary"]) <= 255
        assert fields["project"] == {"key": "OPS"} and fields["issuetype"] == {"id": "10001"}
        assert "jira-notifier" in fields["labels"] and any(label.startswith("jn-") for label in fields["labels"])
        text = str(fields["description"])
        assert "Raw event" in text and "codeBlock" in text


def test_every_function_runs_the_handler_its_cli_name_names() -> None:
    import importlib

    assert set(FUNCTIONS) == set(HANDLERS)
    for directory, function in (
        ("sns_to_jira", "sns"),
        ("eventbridge_to_jira", "eventbridge"),
        ("alarm_action_to_jira", "alarm-action"),
        ("sqs_to_jira", "sqs"),
    ):
        assert importlib.import_module(f"functions.{directory}.handler").lambda_handler is HANDLERS[function]


def test_cross_channel_duplicates_make_one_issue(aws: Any, jira: Any, lambda_context: Any) -> None:
    # The same alarm transition arrives over SNS, EventBridge and the alarm action
    for sample in (
        "sns_cloudwatch_alarm.json",
        "eventbridge_cloudwatch_alarm.json",
        "alarm_action_cloudwatch_alarm.json",
    ):
        event = load_event(sample)
        load_handler(function_for(event))(event, lambda_context)
    assert len(jira.issues) == 1
    assert jira.requests.count(("POST", "/rest/api/3/issue")) == 1


def test_suppressed_finding_closes_its_open_issue(aws: Any, jira: Any, lambda_context: Any) -> None:
    event = load_event("eventbridge_securityhub_finding.json")
    handler = load_handler("eventbridge")
    assert handler(event, lambda_context) == {"created": 1}
    # A person suppresses the finding in Security Hub: a new event for the same finding, later
    suppressed = json.loads(json.dumps(event))
    suppressed["id"] = "b1d2c3e4-0000-4000-8000-000000000001"
    finding = suppressed["detail"]["findings"][0]
    finding["Workflow"]["Status"] = "SUPPRESSED"
    finding["UpdatedAt"] = "2030-01-01T00:00:00.000Z"
    assert handler(suppressed, lambda_context) == {"resolved": 1}
    assert len(jira.issues) == 1 and jira.by_key("OPS-1").status == "Done"
