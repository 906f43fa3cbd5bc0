"""Back to AWS: each capability is a stack parameter that grants exactly its action and tells the functions;
Heartbeat: the alarms on a silent reconciler and on a Jira that refuses every call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jira_notifier.adapters.aws.sync_requests import STACK_PARAMETERS, Capability, parse_capabilities
from tests.support.cfn import Stack
from tests.template.test_template import (
    FUNCTION_DIRS,
    expected_grants,
    grants,
    plain,
    role_statements,
    sam_translated,
)

ROOT = Path(__file__).resolve().parents[2]
GRANTS = {
    Capability.SECURITY_HUB: (
        "securityhub:BatchUpdateFindings",
        "arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:hub/default",
    ),
    Capability.COST_ANOMALY: ("ce:ProvideAnomalyFeedback", "*"),  # the action supports no resource type
    Capability.GUARDDUTY_ARCHIVE: (
        "guardduty:ArchiveFindings",
        "arn:${AWS::Partition}:guardduty:*:${AWS::AccountId}:detector/*",
    ),
}
OPERATOR_TOPIC = "arn:aws:sns:us-east-1:123456789012:operators"


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    return sam_translated(plain(cfn_yaml.load(str(ROOT / "template.yaml"))))


def resolved(translated: dict[str, Any], parameters: dict[str, str], resource_id: str) -> dict[str, Any]:
    stack = Stack(translated, parameters)
    properties: dict[str, Any] = stack.resolve(stack.template["Resources"][resource_id])["Properties"]
    return properties


# ---------------------------------------------------------------- back to AWS


@pytest.mark.parametrize(
    "enabled",
    [set(), {Capability.SECURITY_HUB}, {Capability.COST_ANOMALY}, {Capability.GUARDDUTY_ARCHIVE}, set(Capability)],
    ids=["none", "security-hub", "cost-anomaly", "guardduty-archive", "all"],
)
@pytest.mark.parametrize("function_id", FUNCTION_DIRS, ids=list(FUNCTION_DIRS))
def test_each_capability_grants_its_action_and_tells_the_functions_only_when_its_parameter_is_on(
    translated: dict[str, Any], function_id: str, enabled: set[Capability]
) -> None:
    parameters = {STACK_PARAMETERS[c]: "true" if c in enabled else "false" for c in Capability}
    stack = Stack(translated, parameters)
    environment = resolved(translated, parameters, function_id)["Environment"]["Variables"]

    assert grants(role_statements(stack, function_id)) == expected_grants(function_id) | {GRANTS[c] for c in enabled}
    assert parse_capabilities(environment["SYNC_BACK"]) == enabled


def test_nothing_goes_back_to_aws_by_default(translated: dict[str, Any]) -> None:
    stack = Stack(translated)

    assert all(stack.parameters[name] == "false" for name in STACK_PARAMETERS.values())
    assert resolved(translated, {}, "SnsToJiraFunction")["Environment"]["Variables"]["SYNC_BACK"] == ",,"
    assert parse_capabilities(",,") == frozenset()


# ---------------------------------------------------------------- heartbeat


@pytest.mark.parametrize(("minutes", "seconds"), [("15", 1800), ("5", 600), ("60", 7200)])
def test_reconciler_alarm_fires_when_no_run_completed_in_two_intervals(
    translated: dict[str, Any], minutes: str, seconds: int
) -> None:
    alarm = resolved(
        translated, {"ReconcileIntervalMinutes": minutes, "OperatorTopicArn": OPERATOR_TOPIC}, "ReconcilerSilentAlarm"
    )

    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "JiraNotifier",
        "ReconcileCompleted",
        "Sum",
    )
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "jira-notifier"}]
    assert (alarm["Period"] * alarm["EvaluationPeriods"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        seconds,
        "LessThanThreshold",
        1,
    )
    assert alarm["TreatMissingData"] == "breaching"  # silence is what it watches for
    assert alarm["AlarmActions"] == alarm["OKActions"] == [OPERATOR_TOPIC]


@pytest.mark.parametrize(("minutes", "seconds"), [("30", 1800), ("5", 300), ("360", 21600)])
def test_jira_refusing_alarm_fires_when_every_answer_in_the_window_was_a_refusal(
    translated: dict[str, Any], minutes: str, seconds: int
) -> None:
    alarm = resolved(
        translated, {"JiraRefusedMinutes": minutes, "OperatorTopicArn": OPERATOR_TOPIC}, "JiraRefusingAlarm"
    )
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    [expression] = [query for query in alarm["Metrics"] if query.get("ReturnData", True)]

    assert {
        name: (q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"], q["MetricStat"]["Period"])
        for name, q in queries.items()
        if "MetricStat" in q
    } == {"refused": ("JiraRefused", "Sum", seconds), "answered": ("JiraAnswered", "Sum", seconds)}
    assert all(
        q["MetricStat"]["Metric"]["Namespace"] == "JiraNotifier"
        and q["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "service", "Value": "jira-notifier"}]
        for q in queries.values()
        if "MetricStat" in q
    )
    assert expression["Expression"] == "IF(refused > 0 AND FILL(answered, 0) == 0, 1, 0)"
    assert (alarm["EvaluationPeriods"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
        1,
    )
    assert alarm["TreatMissingData"] == "notBreaching"  # no Jira call at all is not a refusal
    assert alarm["AlarmActions"] == alarm["OKActions"] == [OPERATOR_TOPIC]


@pytest.mark.parametrize("parameter", ["ReconcileIntervalMinutes", "JiraRefusedMinutes"])
def test_every_allowed_minutes_value_has_its_alarm_period(translated: dict[str, Any], parameter: str) -> None:
    allowed = translated["Parameters"][parameter]["AllowedValues"]

    assert translated["Parameters"][parameter]["Default"] in allowed
    assert set(allowed) <= set(translated["Mappings"]["Minutes"])
    assert all(translated["Mappings"]["Minutes"][m] == {"Seconds": int(m) * 60, "Twice": int(m) * 120} for m in allowed)
