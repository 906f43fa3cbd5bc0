"""Every EventBridge sample in events/ against the rules template.yaml deploys, with EventBridge's matching.

A sample that should open an issue must reach EventBridgeToJira through some rule, and every rule must be
exercised by a sample. The rules are read after the SAM transform, for the stack parameters given.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.builders import alerts_in
from tests.support.cfn import Stack
from tests.support.event_patterns import matches
from tests.template.test_template import plain, sam_translated

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in (ROOT / "events").glob("eventbridge_*")}
FUNCTION = "EventBridgeToJiraFunction"

# Samples that reach no rule of the stack, and why that is right.
NEED_NO_RULE = {
    "eventbridge_custom.json": "any other detail-type reaches the stack only through a rule of the user's own",
    "eventbridge_securityhub_finding_passed.json": "a PASSED finding with no open issue opens none (formats doc §11)",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    return plain(cfn_yaml.load(str(ROOT / "template.yaml")))


@pytest.fixture(scope="module")
def translated(template: dict[str, Any]) -> dict[str, Any]:
    return sam_translated(template)


def rules(translated: dict[str, Any], **parameters: str) -> dict[str, dict[str, Any]]:
    """Rule ID -> event pattern, for every rule deployed with these parameters that invokes EventBridgeToJira."""
    stack = Stack(translated, parameters)
    found = {}
    for rule_id, resource in translated["Resources"].items():
        if resource["Type"] != "AWS::Events::Rule" or not stack.deployed(resource):
            continue
        properties = stack.resolve(resource["Properties"])
        if any(target["Arn"] == {"Fn::GetAtt": [FUNCTION, "Arn"]} for target in properties["Targets"]):
            found[rule_id] = properties["EventPattern"]
    return found


def matching(patterns: dict[str, dict[str, Any]], event: dict[str, Any]) -> set[str]:
    return {rule_id for rule_id, pattern in patterns.items() if matches(pattern, event)}


def opens_an_issue(sample: dict[str, Any]) -> bool:
    """What the handler makes of it: events it ignores (e.g. alarm configuration changes) need no rule."""
    return any(alert.ignore_reason is None for alert in alerts_in(sample))


def test_every_sample_that_should_open_an_issue_reaches_the_function(translated: dict[str, Any]) -> None:
    patterns = rules(translated)

    unreached = {
        name
        for name, sample in SAMPLES.items()
        if opens_an_issue(sample) and name not in NEED_NO_RULE and not matching(patterns, sample)
    }

    assert unreached == set()


def test_the_samples_that_need_no_rule_reach_none(translated: dict[str, Any]) -> None:
    patterns = rules(translated)

    assert set(NEED_NO_RULE) <= set(SAMPLES)
    assert {name: matching(patterns, SAMPLES[name]) for name in NEED_NO_RULE} == dict.fromkeys(NEED_NO_RULE, set())


def test_every_rule_has_a_sample(translated: dict[str, Any]) -> None:
    patterns = rules(translated)

    exercised = set().union(*(matching(patterns, sample) for sample in SAMPLES.values()))

    assert set(patterns) - exercised == set()
    assert {"SecurityHubFindingsRule", "GuardDutyFindingsRule"} <= set(patterns)


def securityhub(**changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(SAMPLES["eventbridge_securityhub_finding.json"])
    finding = event["detail"]["findings"][0]
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = finding
        for parent in parents:
            node = node[parent]
        if value is None:
            node.pop(leaf)
        else:
            node[leaf] = value
    return event


@pytest.mark.parametrize(
    ("finding", "reaches"),
    [
        ({}, True),  # the sample: HIGH, FAILED, NEW, ACTIVE
        ({"Severity__Label": "MEDIUM"}, True),
        ({"Severity__Label": "CRITICAL"}, True),
        ({"Severity__Label": "LOW"}, False),
        ({"Severity__Label": "INFORMATIONAL"}, False),
        ({"Workflow__Status": "NOTIFIED"}, False),
        ({"Workflow__Status": "SUPPRESSED"}, False),
        ({"RecordState": "ARCHIVED"}, False),
        ({"Compliance__Status": "PASSED"}, False),
        ({"Compliance__Status": "WARNING"}, True),
        ({"Compliance": None}, True),  # e.g. a GuardDuty finding imported into Security Hub
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else str(value),
)
def test_security_hub_rule_takes_new_active_unpassed_findings_of_medium_and_up(
    translated: dict[str, Any], finding: dict[str, Any], reaches: bool
) -> None:
    assert bool(matching(rules(translated), securityhub(**finding))) is reaches


def test_security_hub_event_with_several_findings_reaches_when_one_finding_qualifies(
    translated: dict[str, Any],
) -> None:
    qualifying = securityhub()["detail"]["findings"][0]
    low_new = {**qualifying, "Severity": {"Label": "LOW"}}
    high_archived = {**qualifying, "RecordState": "ARCHIVED"}
    event = securityhub()

    event["detail"]["findings"] = [low_new, high_archived]
    assert matching(rules(translated), event) == set()
    event["detail"]["findings"] = [low_new, qualifying]
    assert matching(rules(translated), event) == {"SecurityHubFindingsRule"}


@pytest.mark.parametrize(
    ("minimum", "labels"),
    [
        ("LOW", {"LOW", "MEDIUM", "HIGH", "CRITICAL"}),
        ("MEDIUM", {"MEDIUM", "HIGH", "CRITICAL"}),
        ("HIGH", {"HIGH", "CRITICAL"}),
        ("CRITICAL", {"CRITICAL"}),
    ],
)
def test_security_hub_threshold_is_a_parameter(translated: dict[str, Any], minimum: str, labels: set[str]) -> None:
    patterns = rules(translated, SecurityHubMinimumSeverity=minimum)
    every_label = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")

    reaching = {label for label in every_label if matching(patterns, securityhub(Severity__Label=label))}

    assert reaching == labels


def guardduty(severity: float) -> dict[str, Any]:
    event = copy.deepcopy(SAMPLES["eventbridge_guardduty_finding.json"])
    event["detail"]["severity"] = severity
    return event


@pytest.mark.parametrize(
    ("minimum", "lowest_reaching", "highest_left_out"),
    [("LOW", 1.0, 0.9), ("MEDIUM", 4.0, 3.9), ("HIGH", 7.0, 6.9), ("CRITICAL", 9.0, 8.9)],
)
def test_guardduty_threshold_is_a_parameter(
    translated: dict[str, Any], minimum: str, lowest_reaching: float, highest_left_out: float
) -> None:
    patterns = rules(translated, GuardDutyMinimumSeverity=minimum)

    assert matching(patterns, guardduty(lowest_reaching)) == {"GuardDutyFindingsRule"}
    assert matching(patterns, guardduty(10)) == {"GuardDutyFindingsRule"}
    assert matching(patterns, guardduty(highest_left_out)) == set()


def test_guardduty_default_threshold_is_4(template: dict[str, Any], translated: dict[str, Any]) -> None:
    assert template["Parameters"]["GuardDutyMinimumSeverity"]["Default"] == "MEDIUM"
    assert matching(rules(translated), guardduty(4.0)) == {"GuardDutyFindingsRule"}
    assert matching(rules(translated), guardduty(3.9)) == set()


@pytest.mark.parametrize(
    ("switch", "rule", "sample"),
    [
        ("SecurityHubFindings", "SecurityHubFindingsRule", "eventbridge_securityhub_finding.json"),
        ("GuardDutyFindings", "GuardDutyFindingsRule", "eventbridge_guardduty_finding.json"),
    ],
)
def test_each_finding_rule_and_its_invoke_permission_can_be_switched_off(
    translated: dict[str, Any], switch: str, rule: str, sample: str
) -> None:
    stack = Stack(translated, {switch: "Disabled"})
    [permission] = [
        resource
        for resource in translated["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Permission"
        and resource["Properties"].get("SourceArn") == {"Fn::GetAtt": [rule, "Arn"]}
    ]

    assert rule not in rules(translated, **{switch: "Disabled"})
    assert matching(rules(translated, **{switch: "Disabled"}), SAMPLES[sample]) == set()
    assert not stack.deployed(permission) and Stack(translated).deployed(permission)
    assert permission["Properties"]["Principal"] == "events.amazonaws.com"
    assert permission["Properties"]["FunctionName"] == {"Ref": FUNCTION}


# ---- inputs added by AWS in 2025-26 -------------------------------------------------------------------------------

# Every EventBridge shape the README's Inputs table promises, with the sample that shows it: each reaches the
# function through a rule deployed with the default parameters.
PROMISED = {
    "CloudWatch Alarm State Change": "eventbridge_cloudwatch_alarm.json",
    "CloudWatch Alarm State Change, with the alarm's tags": "eventbridge_cloudwatch_alarm_tagged.json",
    "CloudWatch Alarm Contributor State Change": "eventbridge_cloudwatch_contributor.json",
    "Anomaly Detected": "eventbridge_cost_anomaly.json",
    "Notification": "eventbridge_notification.json",
    "AWS Health": "eventbridge_health.json",
    "Security Hub Findings - Imported": "eventbridge_securityhub_finding.json",
    "Findings Imported V2": "eventbridge_securityhub_v2_finding.json",
    "Findings Imported V2, a passed control": "eventbridge_securityhub_v2_control_passed.json",
    "GuardDuty Finding": "eventbridge_guardduty_finding.json",
}


@pytest.mark.parametrize("shape", PROMISED)
def test_every_promised_shape_reaches_the_function_with_default_parameters(
    translated: dict[str, Any], shape: str
) -> None:
    assert matching(rules(translated), SAMPLES[PROMISED[shape]])


def test_tagged_alarm_events_pass_the_alarm_rule_unchanged(translated: dict[str, Any]) -> None:
    tagged = SAMPLES["eventbridge_cloudwatch_alarm_tagged.json"]
    untagged = copy.deepcopy(tagged)
    for key in ("alarmTags", "alarmTagsStatus"):
        untagged["detail"].pop(key)

    assert (
        matching(rules(translated), tagged)
        == matching(rules(translated), untagged)
        == {"EventBridgeToJiraFunctionAlarmStateChange"}
    )


@pytest.mark.parametrize(("state", "reaches"), [("ALARM", True), ("OK", True), ("INSUFFICIENT_DATA", False)])
def test_contributor_transitions_reach_the_function(translated: dict[str, Any], state: str, reaches: bool) -> None:
    event = copy.deepcopy(SAMPLES["eventbridge_cloudwatch_contributor.json"])
    event["detail"]["state"]["value"] = state

    found = matching(rules(translated), event)

    assert found == ({"EventBridgeToJiraFunctionAlarmContributorStateChange"} if reaches else set())


def securityhub_v2(**changes: Any) -> dict[str, Any]:
    """The OCSF sample (High, New, Create) with fields of its finding changed (``a__b`` for a.b; None removes)."""
    event = copy.deepcopy(SAMPLES["eventbridge_securityhub_v2_finding.json"])
    finding = event["detail"]["findings"][0]
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = finding
        for parent in parents:
            node = node.setdefault(parent, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return event


INFORMATIONAL = {"severity_id": 1, "severity": "Informational"}


@pytest.mark.parametrize(
    ("finding", "reaches"),
    [
        ({}, True),  # High, New
        ({"severity_id": 3}, True),
        ({"severity_id": 5}, True),
        ({"severity_id": 6}, True),  # Fatal
        ({"severity_id": 2}, False),
        (INFORMATIONAL, False),
        ({**INFORMATIONAL, "activity_id": 3, "activity_name": "Close"}, True),  # closed, status still New
        ({**INFORMATIONAL, "status_id": 3, "status": "Suppressed"}, True),
        ({**INFORMATIONAL, "status_id": 4, "status": "Resolved"}, True),
        ({**INFORMATIONAL, "status_id": 5, "status": "Archived"}, True),  # the resource was deleted
        ({**INFORMATIONAL, "compliance__status": "Pass"}, True),
        ({**INFORMATIONAL, "compliance__status_id": 1}, True),
        ({**INFORMATIONAL, "compliance__status": "Fail", "compliance__status_id": 3}, False),
        ({**INFORMATIONAL, "status_id": 2, "status": "In Progress"}, False),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else str(value),
)
def test_security_hub_v2_rule_takes_severe_findings_and_every_close(
    translated: dict[str, Any], finding: dict[str, Any], reaches: bool
) -> None:
    found = matching(rules(translated), securityhub_v2(**finding))

    assert found == ({"SecurityHubV2FindingsRule"} if reaches else set())


@pytest.mark.parametrize(
    ("minimum", "lowest"), [("LOW", 2), ("MEDIUM", 3), ("HIGH", 4), ("CRITICAL", 5)], ids=lambda v: str(v)
)
def test_security_hub_v2_threshold_is_a_parameter(translated: dict[str, Any], minimum: str, lowest: int) -> None:
    patterns = rules(translated, SecurityHubV2MinimumSeverity=minimum)

    reaching = {severity for severity in range(7) if matching(patterns, securityhub_v2(severity_id=severity))}
    closing = securityhub_v2(severity_id=1, activity_id=3)

    assert reaching == set(range(lowest, 7))
    assert matching(patterns, closing) == {"SecurityHubV2FindingsRule"}  # closes reach whatever the threshold


def test_the_two_security_hub_generations_have_a_rule_each_and_take_only_their_own(translated: dict[str, Any]) -> None:
    patterns = rules(translated)

    assert matching(patterns, SAMPLES["eventbridge_securityhub_finding.json"]) == {"SecurityHubFindingsRule"}
    assert matching(patterns, SAMPLES["eventbridge_securityhub_v2_finding.json"]) == {"SecurityHubV2FindingsRule"}


def test_the_security_hub_v2_rule_and_its_permission_can_be_switched_off(translated: dict[str, Any]) -> None:
    rule = "SecurityHubV2FindingsRule"
    [permission] = [
        resource
        for resource in translated["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Permission"
        and resource["Properties"].get("SourceArn") == {"Fn::GetAtt": [rule, "Arn"]}
    ]

    assert rule not in rules(translated, SecurityHubV2Findings="Disabled")
    assert rules(translated, SecurityHubV2Findings="Disabled").keys() == rules(translated).keys() - {rule}
    assert not Stack(translated, {"SecurityHubV2Findings": "Disabled"}).deployed(permission)
    assert permission["Properties"]["FunctionName"] == {"Ref": FUNCTION}
