"""Every input shape normalized into an Alert: the samples in events/, the documented traps, and hostile input."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jira_notifier.core.alert import Alert, AlertState, Severity
from jira_notifier.core.errors import EventParseError
from jira_notifier.sources import (
    function_for,
    normalize_sqs_record,
    read_alarm_action,
    read_eventbridge,
    read_sns,
)
from jira_notifier.sources.common import digest
from tests.support.builders import alerts_in

EVENTS = Path(__file__).resolve().parents[2] / "events"
ALARM_ARN = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx-high"
ALARM_KEY = f"cloudwatch-alarm:{ALARM_ARN}"
ALARM_AT_MS = 1794993267512  # 2026-11-18T09:14:27.512+0000, the ALARM transition in every channel's sample
THROTTLES = "dynamodb-throttles-by-table"  # an alarm over many time series: GROUP BY TableName
THROTTLES_ARN = f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{THROTTLES}"
ORDERS_ID = "5f2c8e1a9b3d7046"  # its contributor TableName=orders  # pragma: allowlist secret
CONTRIBUTOR_KEY = f"cloudwatch-contributor:{THROTTLES_ARN}:{ORDERS_ID}"
OK_AT_MS = 1794994887730  # 2026-11-18T09:41:27.730+0000
TOPIC_ALARMS = "arn:aws:sns:eu-west-1:123456789012:cloudwatch-alarms"
QUEUE = "arn:aws:sqs:eu-west-1:123456789012:jira-notifier-buffer"


# helpers -------------------------------------------------------------------------------------------------------------


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def alerts_of(name: str) -> list[Alert]:
    event = load(name)
    if name.startswith("sqs_"):
        return [normalize_sqs_record(record) for record in event["Records"]]
    return alerts_in(event)


def only(alerts: list[Alert]) -> Alert:
    assert len(alerts) == 1, alerts
    return alerts[0]


def fact(alert: Alert, name: str) -> str | None:
    return dict(alert.facts).get(name)


def sns_message(name: str) -> dict[str, Any]:
    """The decoded Sns.Message of a single-record SNS sample."""
    return json.loads(load(name)["Records"][0]["Sns"]["Message"])


def sns_event(message: Any, *, subject: Any = None, attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Lambda SNS event carrying ``message`` (dumped to JSON unless it is already text)."""
    event = copy.deepcopy(load("sns_plain_text.json"))
    sns = event["Records"][0]["Sns"]
    sns["Message"] = message if isinstance(message, str) else json.dumps(message)
    sns["Subject"] = subject
    sns["MessageAttributes"] = attributes or {}
    return event


def sqs_record(body: str, *, message_id: str = "059f36b4-87a3-44ab-83d2-661975830a7d", **extra: Any) -> dict:
    record = copy.deepcopy(load("sqs_raw_delivery.json")["Records"][0])
    record.update(body=body, messageId=message_id, messageAttributes={}, **extra)
    return record


def eventbridge_detail(name: str, **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(load(name))
    event["detail"].update(changes)
    return event


# every sample --------------------------------------------------------------------------------------------------------

SAMPLES = [
    # file, source, dedupe key, state, severity, title, facts that must be there
    (
        "sns_cloudwatch_alarm.json",
        "cloudwatch-alarm",
        ALARM_KEY,
        AlertState.FIRING,
        Severity.HIGH,
        "CloudWatch alarm api-5xx-high",
        {
            "Region": "eu-west-1",
            "Metric": "HTTPCode_Target_5XX_Count",
            "Dimensions": "LoadBalancer=app/api-prod/50dc6c495c0c9188",
        },
    ),
    (
        "sns_cloudwatch_alarm_ok.json",
        "cloudwatch-alarm",
        ALARM_KEY,
        AlertState.RESOLVED,
        Severity.HIGH,
        "CloudWatch alarm api-5xx-high",
        {"State": "OK", "Previous state": "ALARM"},
    ),
    (
        "sns_cloudwatch_alarm_insufficient_data.json",
        "cloudwatch-alarm",
        "cloudwatch-alarm:arn:aws:cloudwatch:eu-west-1:123456789012:alarm:orders-queue-backlog",
        AlertState.UNKNOWN,
        Severity.HIGH,
        "CloudWatch alarm orders-queue-backlog",
        {"State": "INSUFFICIENT_DATA", "Statistic": "MAXIMUM", "Dimensions": "QueueName=orders"},
    ),
    (
        "sns_cloudwatch_alarm_metric_math.json",
        "cloudwatch-alarm",
        "cloudwatch-alarm:arn:aws:cloudwatch:us-west-2:123456789012:alarm:orders-api-error-rate",
        AlertState.FIRING,
        Severity.HIGH,
        "CloudWatch alarm orders-api-error-rate",
        {"Region": "us-west-2", "Expression": "100*(m1/m2) (Error rate (%))", "Threshold": "5.0"},
    ),
    (
        "sns_cloudwatch_composite_alarm.json",
        "cloudwatch-alarm",
        "cloudwatch-alarm:arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-degraded",
        AlertState.FIRING,
        Severity.HIGH,
        "CloudWatch alarm checkout-degraded",
        {
            "Alarm rule": "ALARM(api-5xx-high) AND ALARM(api-latency-p99-high)",
            "Triggering alarms": "api-latency-p99-high (ALARM)",
        },
    ),
    (
        "sns_cost_anomaly.json",
        "cost-anomaly",
        "cost-anomaly:3f9c2b71-8e4d-4a6b-9c1e-5d7f2a8b6e40",
        AlertState.FIRING,
        Severity.CRITICAL,
        "Cost anomaly: Amazon Elastic Compute Cloud - Compute",
        {"Total impact": "$1,240.50", "Subscription": "finops-immediate", "Anomaly score": "0.86 (max 0.86)"},
    ),
    (
        "sns_budget.json",
        "budget",
        "budget:123456789012:monthly-platform:ACTUAL:2026-11",
        AlertState.FIRING,
        Severity.HIGH,
        "Budget monthly-platform: ACTUAL above $987.20 (2026-11)",
        {"Budgeted amount": "$1,234.00", "ACTUAL Amount": "$1,001.50", "Account": "123456789012"},
    ),
    (
        "sns_notification.json",
        "notification",
        "notification:anomaly-7f3c",
        AlertState.FIRING,
        Severity.CRITICAL,
        "EC2 spend anomaly in prod",
        {"Account": "123456789012", "Service": "Amazon EC2", "Impact": "$1,240.50"},
    ),
    (
        "sns_unknown_json.json",
        "generic",
        "generic:4b6d8f0a-2c3e-5a5b-9d7c-e8f9a0b1c2d3",
        AlertState.FIRING,
        Severity.MEDIUM,
        "JSON message from SNS topic ops-events",
        {"Subject": "billing-exporter error"},
    ),
    (
        "sns_plain_text.json",
        "generic",
        "generic:7c9e1a3b-5d4f-5b6c-a0e8-f9a0b1c2d3e4",
        AlertState.FIRING,
        Severity.MEDIUM,
        "Disk usage on build-agent-07 reached 92% of /var/lib/docker.",
        {"Received": "2026-11-18 13:40:10 UTC"},
    ),
    (
        "eventbridge_cloudwatch_alarm.json",
        "cloudwatch-alarm",
        ALARM_KEY,
        AlertState.FIRING,
        Severity.HIGH,
        "CloudWatch alarm api-5xx-high",
        {"Dimensions": "LoadBalancer=app/api-prod/50dc6c495c0c9188", "Threshold": "10.0", "Statistic": "Sum"},
    ),
    (
        "eventbridge_cloudwatch_alarm_ok.json",
        "cloudwatch-alarm",
        ALARM_KEY,
        AlertState.RESOLVED,
        Severity.HIGH,
        "CloudWatch alarm api-5xx-high",
        {"State": "OK", "Recent datapoints": "0.0, 1.0, 0.0"},
    ),
    (
        "eventbridge_cloudwatch_composite_suppressed.json",
        "cloudwatch-alarm",
        "cloudwatch-alarm:arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-degraded",
        AlertState.FIRING,
        Severity.HIGH,
        "CloudWatch alarm checkout-degraded",
        {"Triggering alarms": "api-5xx-high (ALARM)", "Actions suppressor": "maintenance-window"},
    ),
    (
        "eventbridge_cloudwatch_alarm_config_change.json",
        "cloudwatch-alarm",
        ALARM_KEY,
        AlertState.UNKNOWN,
        Severity.LOW,
        "CloudWatch alarm api-5xx-high",
        {"Operation": "update"},
    ),
    (
        "eventbridge_cost_anomaly.json",
        "cost-anomaly",
        "cost-anomaly:3f9c2b71-8e4d-4a6b-9c1e-5d7f2a8b6e40",
        AlertState.FIRING,
        Severity.CRITICAL,
        "Cost anomaly: Amazon Elastic Compute Cloud - Compute (services-monitor)",
        {"Monitor": "services-monitor", "Dimension": "Amazon Elastic Compute Cloud - Compute"},
    ),
    (
        "eventbridge_notification.json",
        "notification",
        "notification:anomaly-7f3c",
        AlertState.RESOLVED,
        Severity.CRITICAL,
        "EC2 spend anomaly in prod",
        {"Service": "Amazon EC2"},
    ),
    (
        "eventbridge_securityhub_finding.json",
        "securityhub",
        "securityhub:arn:aws:securityhub:eu-west-1::product/aws/securityhub:"
        "arn:aws:securityhub:eu-west-1:123456789012:security-control/S3.8/finding/4a6c8e0b-2d1f-4b3a-9c5e-7f0a2b4c6d8e",
        AlertState.FIRING,
        Severity.HIGH,
        "Security Hub: S3 general purpose buckets should block public access (arn:aws:s3:::finops-exports)",
        {"Control": "S3.8", "Compliance": "FAILED", "Workflow": "NEW"},
    ),
    (
        "eventbridge_securityhub_finding_passed.json",
        "securityhub",
        "securityhub:arn:aws:securityhub:eu-west-1::product/aws/securityhub:"
        "arn:aws:securityhub:eu-west-1:123456789012:security-control/S3.8/finding/4a6c8e0b-2d1f-4b3a-9c5e-7f0a2b4c6d8e",
        AlertState.RESOLVED,
        Severity.INFO,
        "Security Hub: S3 general purpose buckets should block public access (arn:aws:s3:::finops-exports)",
        {"Compliance": "PASSED", "Workflow": "RESOLVED"},
    ),
    (
        "eventbridge_guardduty_finding.json",
        "guardduty",
        "guardduty:0ec6b8f1a2d3e4c5b6a7980f1e2d3c4b",  # pragma: allowlist secret
        AlertState.FIRING,
        Severity.CRITICAL,
        "GuardDuty: Bitcoin-related domain name queried by EC2 instance i-0abc1234def567890.",
        {"Finding type": "CryptoCurrency:EC2/BitcoinTool.B!DNS", "Count": "14", "Instance": "i-0abc1234def567890"},
    ),
    (
        "eventbridge_custom.json",
        "generic",
        "generic:3d5f7a9c-1e2b-6c4d-0a8f-5e7a9c1d3f6b",
        AlertState.FIRING,
        Severity.MEDIUM,
        "Order Pipeline Stalled from com.example.orders",
        {"Source": "com.example.orders", "Detail type": "Order Pipeline Stalled"},
    ),
    (
        "alarm_action_cloudwatch_alarm.json",
        "cloudwatch-alarm",
        ALARM_KEY,
        AlertState.FIRING,
        Severity.HIGH,
        "CloudWatch alarm api-5xx-high",
        {"Region": "eu-west-1", "Namespace": "AWS/ApplicationELB", "Period": "60 seconds"},
    ),
    (
        "sqs_raw_delivery.json",
        "cloudwatch-alarm",
        ALARM_KEY,
        AlertState.FIRING,
        Severity.HIGH,
        "CloudWatch alarm api-5xx-high",
        {"Region": "eu-west-1", "Comparison": "GreaterThanThreshold"},
    ),
    *(
        (
            name,
            "cloudwatch-alarm",
            CONTRIBUTOR_KEY,
            AlertState.FIRING,
            Severity.HIGH,
            "CloudWatch alarm dynamodb-throttles-by-table (TableName=orders)",
            {"Contributor": "TableName=orders", "Contributor ID": ORDERS_ID, "Alarm": THROTTLES},
        )
        for name in (
            "eventbridge_cloudwatch_contributor.json",
            "sns_cloudwatch_contributor.json",
            "alarm_action_cloudwatch_contributor.json",
        )
    ),
    (
        "eventbridge_cloudwatch_multi_series_alarm.json",
        "cloudwatch-alarm",
        f"cloudwatch-alarm:{THROTTLES_ARN}",
        AlertState.FIRING,
        Severity.HIGH,
        "CloudWatch alarm dynamodb-throttles-by-table",
        {"State": "ALARM", "Previous state": "OK"},
    ),
    (
        "eventbridge_cloudwatch_alarm_tagged.json",
        "cloudwatch-alarm",
        "cloudwatch-alarm:arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-latency-p99",
        AlertState.FIRING,
        Severity.HIGH,
        "CloudWatch alarm checkout-latency-p99",
        {"Alarm tags": "env=prod, service=checkout, team=payments"},
    ),
    (
        "eventbridge_securityhub_v2_finding.json",
        "securityhub-v2",
        "securityhub-v2:123456789012:arn:aws:securityhub:eu-west-1::productv2/aws/guardduty:"
        "arn:aws:guardduty:eu-west-1:123456789012:detector/3ec8b1f07a2d4c96e5b0a1d2c3e4f5a6/finding/"
        "8ac6f0e2b4d1c3a5e7f9b0d2c4e6a8f1",  # pragma: allowlist secret
        AlertState.FIRING,
        Severity.HIGH,
        "Security Hub: EC2 instance i-0a1b2c3d4e5f60718 is querying a domain associated with cryptocurrency mining. "
        "(arn:aws:ec2:eu-west-1:123456789012:instance/i-0a1b2c3d4e5f60718)",
        {"Product": "GuardDuty", "Class": "Detection Finding", "Status": "New", "Activity": "Create"},
    ),
    (
        "eventbridge_securityhub_v2_control_passed.json",
        "securityhub-v2",
        "securityhub-v2:123456789012:arn:aws:securityhub:eu-west-1::productv2/aws/securityhub:"
        "arn:aws:securityhub:eu-west-1:123456789012:security-control/S3.8/finding/2b4d6f8a-0c2e-4b6d-8f0a-2c4e6b8d0f1a",
        AlertState.RESOLVED,
        Severity.INFO,
        "Security Hub: S3 general purpose buckets should block public access (arn:aws:s3:::example-reports-bucket)",
        {"Control": "S3.8", "Compliance": "Pass", "Status": "Resolved"},
    ),
]


@pytest.mark.parametrize(
    ("name", "source", "dedupe_key", "state", "severity", "title", "expected_facts"),
    SAMPLES,
    ids=[sample[0].removesuffix(".json") for sample in SAMPLES],
)
def test_sample_normalizes_to_its_alert(name, source, dedupe_key, state, severity, title, expected_facts):
    # Given / When
    alert = alerts_of(name)[0]

    # Then
    assert (alert.source, alert.dedupe_key, alert.state, alert.severity, alert.title) == (
        source,
        dedupe_key,
        state,
        severity,
        title,
    )
    assert {name: fact(alert, name) for name in expected_facts} == expected_facts
    assert all(isinstance(value, str) and value for _, value in alert.facts)
    assert all(link.url.startswith("https://") for link in alert.links)
    assert alert.delivery_key


def test_every_sample_file_is_covered():
    covered = {sample[0] for sample in SAMPLES} | {"eventbridge_health.json", "sqs_sns_envelope.json", "env.json"}
    assert {path.name for path in EVENTS.glob("*.json")} == covered


# channels and keys ---------------------------------------------------------------------------------------------------


def test_one_alarm_transition_gives_one_key_and_time_on_every_channel():
    # Given the same ALARM transition over SNS, EventBridge, the alarm action, and SQS (raw and not)
    names = ["sns_cloudwatch_alarm.json", "eventbridge_cloudwatch_alarm.json", "alarm_action_cloudwatch_alarm.json"]
    alerts = [alerts_of(name)[0] for name in names]
    alerts += [alerts_of("sqs_sns_envelope.json")[0], alerts_of("sqs_raw_delivery.json")[0]]

    # Then the issue key and the transition time agree, so the lifecycle makes one issue of them
    assert {(a.dedupe_key, a.transition_at, a.state) for a in alerts} == {(ALARM_KEY, ALARM_AT_MS, AlertState.FIRING)}
    assert len({a.delivery_key for a in alerts}) == 4  # SNS and SNS-in-SQS share the SNS MessageId


def test_the_ok_transition_is_later_than_the_alarm_and_agrees_across_channels():
    sns_ok = only(alerts_of("sns_cloudwatch_alarm_ok.json"))
    eventbridge_ok = only(alerts_of("eventbridge_cloudwatch_alarm_ok.json"))

    assert sns_ok.transition_at == eventbridge_ok.transition_at == OK_AT_MS > ALARM_AT_MS


def test_cost_anomaly_has_the_same_key_over_sns_and_eventbridge():
    assert alerts_of("sns_cost_anomaly.json")[0].dedupe_key == alerts_of("eventbridge_cost_anomaly.json")[0].dedupe_key


@pytest.mark.parametrize(
    ("name", "delivery_key", "route_key", "group"),
    [
        ("sns_cloudwatch_alarm.json", "6f0d9e1c-2b7a-5c43-9e8f-1a2b3c4d5e6f", TOPIC_ALARMS, None),
        ("eventbridge_cloudwatch_alarm.json", "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92", "aws.cloudwatch", None),
        (
            "alarm_action_cloudwatch_alarm.json",
            f"alarm-action:{ALARM_ARN}:2026-11-18T09:14:27.512+0000",
            "aws.cloudwatch",
            None,
        ),
        (
            "sns_notification.json",
            "9e3d5f7a-1c2b-5e4d-8f6a-b7c8d9e0f1a2",
            "arn:aws:sns:eu-west-1:123456789012:platform-notifications",
            "finops",
        ),
        ("eventbridge_notification.json", "6b8d0f2a-4c3e-9a7b-1d5f-3e7a9c1b5d0f", "com.example.finops", "finops"),
    ],
    ids=["sns", "eventbridge", "alarm-action", "sns-notification", "eventbridge-notification"],
)
def test_delivery_route_and_group_come_from_the_envelope(name, delivery_key, route_key, group):
    alert = alerts_of(name)[0]

    assert (alert.delivery_key, alert.route_key, alert.notification_group) == (delivery_key, route_key, group)


def test_sns_in_sqs_records_are_each_read_with_their_sns_message_id_and_topic():
    # Given two SNS messages buffered in SQS with raw delivery off
    alarm, budget = alerts_of("sqs_sns_envelope.json")

    # Then each keeps the SNS identity, not the queue's
    assert (alarm.delivery_key, alarm.route_key) == (
        alerts_of("sns_cloudwatch_alarm.json")[0].delivery_key,
        TOPIC_ALARMS,
    )
    assert (budget.source, budget.dedupe_key) == ("budget", alerts_of("sns_budget.json")[0].dedupe_key)
    assert budget.route_key == "arn:aws:sns:us-east-1:123456789012:budget-alerts"


def test_raw_sqs_delivery_is_keyed_on_the_body_not_the_sqs_message_id():
    # Given the same raw-delivery body received twice, with a new SQS messageId each time
    record = load("sqs_raw_delivery.json")["Records"][0]
    redelivered = {**record, "messageId": "ffffffff-0000-4000-8000-000000000000"}

    # When
    first, second = normalize_sqs_record(record), normalize_sqs_record(redelivered)

    # Then
    assert (
        first.delivery_key == second.delivery_key == "sqs-body:" + hashlib.sha256(record["body"].encode()).hexdigest()
    )
    assert (first.route_key, first.notification_group) == (QUEUE, "platform-oncall")


def test_an_sqs_batch_is_read_record_by_record():
    alerts = alerts_in(load("sqs_sns_envelope.json"))

    assert [a.source for a in alerts] == ["cloudwatch-alarm", "budget"]


def test_every_sns_record_is_processed():
    event = load("sns_cloudwatch_alarm.json")
    event["Records"] += load("sns_budget.json")["Records"]

    assert [a.source for a in alerts_in(event)] == ["cloudwatch-alarm", "budget"]


def test_an_eventbridge_event_inside_sns_keeps_its_event_id_and_routes_on_the_topic():
    # Given an EventBridge rule with an SNS target: the whole event is the SNS Message
    event = sns_event(load("eventbridge_cloudwatch_alarm.json"))

    alert = only(alerts_in(event))

    assert (alert.dedupe_key, alert.transition_at) == (ALARM_KEY, ALARM_AT_MS)
    assert alert.delivery_key == "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92"
    assert alert.route_key == "arn:aws:sns:eu-west-1:123456789012:ops-events"


def test_an_eventbridge_event_in_an_sqs_body_is_read_as_eventbridge():
    alert = normalize_sqs_record(sqs_record(json.dumps(load("eventbridge_guardduty_finding.json"))))

    assert (alert.source, alert.delivery_key, alert.route_key) == (
        "guardduty",
        "2c4e6a8b-0d1f-5a3c-9e7b-4d6f8a0c2e5b",
        QUEUE,
    )


def test_a_message_attribute_group_wins_over_the_notification_body():
    body = {"notificationGroup": "finops", "title": "t", "dedupKey": "k-1"}
    event = sns_event(body, attributes={"notificationGroup": {"Type": "String", "Value": "security"}})

    assert only(alerts_in(event)).notification_group == "security"


# alarm traps ---------------------------------------------------------------------------------------------------------


def sns_alarm_without_arn(name: str = "sns_cloudwatch_alarm.json", **changes: Any) -> dict[str, Any]:
    message = sns_message(name)
    del message["AlarmArn"]
    message.update(changes)
    return sns_event(message)


@pytest.mark.parametrize("sample", ["sns_cloudwatch_alarm.json", "sns_cloudwatch_alarm_ok.json"])
def test_an_alarm_message_without_its_arn_is_keyed_as_the_arn_would_key_it(sample: str) -> None:
    with_arn = only(alerts_of(sample))

    without = only(alerts_in(sns_alarm_without_arn(sample)))

    assert (without.source, without.dedupe_key, without.state) == (with_arn.source, ALARM_KEY, with_arn.state)
    assert (without.account, without.region, without.transition_at) == (
        "123456789012",
        "eu-west-1",
        with_arn.transition_at,
    )
    assert without.title == with_arn.title and without.facts == with_arn.facts


@pytest.mark.parametrize(
    "region", ["EU (Ireland)", "Europe (Ireland)", "eu (ireland)", "EU - Ireland"], ids=lambda r: r.replace(" ", "_")
)
def test_the_region_display_name_is_read_however_it_is_worded(region: str) -> None:
    assert only(alerts_in(sns_alarm_without_arn(Region=region))).dedupe_key == ALARM_KEY


@pytest.mark.parametrize(
    ("region", "actions", "arn"),
    [
        ("US East (N. Virginia)", [], "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-5xx-high"),
        ("AWS GovCloud (US)", [], "arn:aws-us-gov:cloudwatch:us-gov-west-1:123456789012:alarm:api-5xx-high"),
        ("China (Ningxia)", [], "arn:aws-cn:cloudwatch:cn-northwest-1:123456789012:alarm:api-5xx-high"),
        ("Somewhere (New)", ["arn:aws:sns:xx-new-1:123456789012:alerts"],
         "arn:aws:cloudwatch:xx-new-1:123456789012:alarm:api-5xx-high"),
    ],
    ids=["us-east-1", "govcloud-older-name", "china", "unknown-name-region-from-actions"],
)  # fmt: skip
def test_the_arn_is_built_in_the_region_and_partition_of_the_alarm(region: str, actions: list[str], arn: str) -> None:
    alert = only(alerts_in(sns_alarm_without_arn(Region=region, AlarmActions=actions, OKActions=actions)))

    assert alert.dedupe_key == f"cloudwatch-alarm:{arn}"


def test_without_a_known_region_the_key_is_account_region_and_name_and_alarm_and_ok_agree() -> None:
    unknown = {"Region": "Atlantis (Central)", "AlarmActions": [], "OKActions": []}
    firing = only(alerts_in(sns_alarm_without_arn(**unknown)))
    cleared = only(alerts_in(sns_alarm_without_arn("sns_cloudwatch_alarm_ok.json", **unknown)))

    assert firing.dedupe_key == cleared.dedupe_key == "cloudwatch-alarm:123456789012:Atlantis (Central):api-5xx-high"
    assert (firing.state, cleared.state) == (AlertState.FIRING, AlertState.RESOLVED)
    assert firing.region is None and firing.links == ()


def test_a_composite_alarm_without_its_arn_is_recognised_by_its_rule() -> None:
    message = sns_message("sns_cloudwatch_composite_alarm.json")
    arn = message.pop("AlarmArn")

    alert = only(alerts_in(sns_event(message)))

    assert (alert.source, alert.dedupe_key) == ("cloudwatch-alarm", f"cloudwatch-alarm:{arn}")


@pytest.mark.parametrize("missing", ["AlarmName", "NewStateValue", "Trigger"])
def test_json_without_the_content_of_an_alarm_is_a_generic_alert(missing: str) -> None:
    message = sns_message("sns_cloudwatch_alarm.json")
    del message["AlarmArn"], message[missing]

    assert only(alerts_in(sns_event(message))).source == "generic"


def test_region_is_the_code_from_the_arn_never_the_display_name():
    alert = only(alerts_of("sns_cloudwatch_alarm.json"))

    assert alert.region == "eu-west-1"
    assert "EU (Ireland)" not in {value for _, value in alert.facts}
    assert alert.links[0].url == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/api-5xx-high"
    )


def test_an_arn_without_a_region_code_gives_no_region_and_no_console_link():
    message = {**sns_message("sns_cloudwatch_alarm.json"), "AlarmArn": "arn:aws:cloudwatch:EXAMPLE:alarm:x"}

    alert = only(alerts_in(sns_event(message)))

    assert (alert.source, alert.region, alert.links) == ("cloudwatch-alarm", None, ())


def test_alarm_names_are_url_quoted_in_the_console_link():
    arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:API 5xx / prod #1"
    message = {**sns_message("sns_cloudwatch_alarm.json"), "AlarmArn": arn, "AlarmName": "API 5xx / prod #1"}

    alert = only(alerts_in(sns_event(message)))

    assert alert.links[0].url.endswith("#alarmsV2:alarm/API%205xx%20%2F%20prod%20%231")


def test_dimensions_read_the_same_as_a_list_and_as_an_object():
    sns = only(alerts_of("sns_cloudwatch_alarm.json"))  # [{"name": ..., "value": ...}]
    eventbridge = only(alerts_of("eventbridge_cloudwatch_alarm.json"))  # {"LoadBalancer": ...}

    assert fact(sns, "Dimensions") == fact(eventbridge, "Dimensions") == "LoadBalancer=app/api-prod/50dc6c495c0c9188"


def test_a_null_alarm_description_adds_no_description():
    alert = only(alerts_of("sns_cloudwatch_alarm_insufficient_data.json"))

    assert sns_message("sns_cloudwatch_alarm_insufficient_data.json")["AlarmDescription"] is None
    assert fact(alert, "Description") is None


def test_a_composite_alarm_has_no_trigger_but_its_rule_and_children():
    message = sns_message("sns_cloudwatch_composite_alarm.json")
    alert = only(alerts_of("sns_cloudwatch_composite_alarm.json"))

    assert "Trigger" not in message
    assert alert.what == "Composite alarm checkout-degraded changed from OK to ALARM at 2026-11-18 09:16:02 UTC."
    assert alert.why.startswith("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-latency-p99-high transitioned")
    assert fact(alert, "Metric") is None


def test_composite_children_may_be_plain_arns():
    message = {
        **sns_message("sns_cloudwatch_composite_alarm.json"),
        "TriggeringChildren": ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a", None, 7],
    }

    assert fact(only(alerts_in(sns_event(message))), "Triggering alarms") == "a, 7"


def test_a_metric_math_alarm_shows_its_expression_and_inputs():
    alert = only(alerts_of("sns_cloudwatch_alarm_metric_math.json"))

    assert fact(alert, "Metric") is None
    assert fact(alert, "Metric inputs") == (
        "m1 = AWS/Lambda Errors (Sum, FunctionName=orders-api); "
        "m2 = AWS/Lambda Invocations (Sum, FunctionName=orders-api)"
    )


def test_an_eventbridge_metric_math_alarm_shows_its_expression():
    event = load("eventbridge_cloudwatch_alarm.json")
    event["detail"]["configuration"]["metrics"] = [
        {"expression": "SUM(METRICS())", "id": "e1", "label": "Total", "returnData": True},
        {
            "id": "m1",
            "metricStat": {
                "metric": {"dimensions": {"InstanceId": "i-1"}, "name": "NetworkIn", "namespace": "AWS/EC2"},
                "period": 300,
                "stat": "Maximum",
            },
            "returnData": False,
        },
    ]

    alert = only(alerts_in(event))

    assert (fact(alert, "Expression"), fact(alert, "Metric inputs")) == (
        "SUM(METRICS()) (Total)",
        "m1 = AWS/EC2 NetworkIn (Maximum, InstanceId=i-1)",
    )


def test_a_percentile_statistic_is_shown():
    message = sns_message("sns_cloudwatch_alarm.json")
    message["Trigger"].update(StatisticType="ExtendedStatistic", ExtendedStatistic="p95", Statistic=None)

    assert fact(only(alerts_in(sns_event(message))), "Statistic") == "p95"


def test_a_suppressed_composite_is_normalized_but_ignored():
    alert = only(alerts_of("eventbridge_cloudwatch_composite_suppressed.json"))

    assert (
        alert.ignore_reason
        == "composite alarm actions suppressed by Alarm: Alarm action suppressed by maintenance-window"
    )


def test_suppression_left_in_the_previous_state_does_not_ignore_the_transition():
    # Given a later, unsuppressed transition whose previousState still carries the suppression
    event = load("eventbridge_cloudwatch_composite_suppressed.json")
    detail = event["detail"]
    detail["previousState"] = detail["state"]
    detail["state"] = {key: value for key, value in detail["state"].items() if not key.startswith("actionsSuppressed")}

    assert only(alerts_in(event)).ignore_reason is None


def test_a_configuration_change_is_ignored_and_orders_nothing():
    alert = only(alerts_of("eventbridge_cloudwatch_alarm_config_change.json"))

    assert alert.ignore_reason == "alarm configuration change (update), not a state change"
    assert alert.transition_at is None


def test_a_contributor_state_change_is_the_contributor_of_its_alarm():
    alert = only(alerts_of("eventbridge_cloudwatch_contributor.json"))

    assert (alert.source, alert.dedupe_key, alert.ignore_reason) == ("cloudwatch-alarm", CONTRIBUTOR_KEY, None)


@pytest.mark.parametrize(
    ("stamp", "expected_ms"),
    [
        ("2026-11-18T09:14:27.512+0000", ALARM_AT_MS),
        ("2026-11-18T09:14:27.512Z", ALARM_AT_MS),
        ("2026-11-18T10:14:27.512+01:00", ALARM_AT_MS),
        ("Wed, 18 Nov 2026 09:14:27 GMT", ALARM_AT_MS - 512),
        ("yesterday", None),
        (None, None),
        (1794993267512, None),
    ],
    ids=["plus-0000", "zulu", "offset", "rfc-1123", "words", "null", "number"],
)
def test_state_change_times_in_every_format(stamp, expected_ms):
    message = {**sns_message("sns_cloudwatch_alarm.json"), "StateChangeTime": stamp}

    alert = only(alerts_in(sns_event(message)))

    assert alert.transition_at == expected_ms
    assert alert.occurred_at is None or alert.occurred_at.utcoffset().total_seconds() == 0


# cost anomaly traps --------------------------------------------------------------------------------------------------


def test_dimensional_value_over_sns_and_dimension_value_over_eventbridge_read_alike():
    sns = alerts_of("sns_cost_anomaly.json")[0]
    eventbridge = alerts_of("eventbridge_cost_anomaly.json")[0]

    assert "dimensionalValue" in sns_message("sns_cost_anomaly.json")
    assert "dimensionValue" in load("eventbridge_cost_anomaly.json")["detail"]
    assert fact(sns, "Dimension") == fact(eventbridge, "Dimension") == "Amazon Elastic Compute Cloud - Compute"


def test_empty_root_causes_say_so_and_index_nothing():
    message = {**sns_message("sns_cost_anomaly.json"), "rootCauses": [], "dimensionalValue": None}

    alert = only(alerts_in(sns_event(message)))

    assert alert.why.endswith("No root cause was identified.")
    assert fact(alert, "Root cause 1") is None
    assert alert.title == "Cost anomaly: AWS spend"


def test_anomaly_title_does_not_carry_the_changing_impact():
    message = sns_message("sns_cost_anomaly.json")
    bigger = {**message, "impact": {**message["impact"], "totalImpact": 5120.0}, "anomalyEndDate": "2026-11-18"}

    first, later = only(alerts_in(sns_event(message))), only(alerts_in(sns_event(bigger)))

    assert first.title == later.title
    assert first.dedupe_key == later.dedupe_key
    assert first.content_fingerprint != later.content_fingerprint


@pytest.mark.parametrize(
    ("total", "severity"),
    [
        (1000, Severity.CRITICAL),
        ("1,240.50", Severity.CRITICAL),
        (999.99, Severity.HIGH),
        (100, Severity.HIGH),
        (99.5, Severity.MEDIUM),
        (None, Severity.MEDIUM),
        ("n/a", Severity.MEDIUM),
    ],
    ids=["1000", "text-with-comma", "999.99", "100", "99.5", "null", "junk"],
)
def test_anomaly_severity_follows_total_impact(total, severity):
    message = sns_message("sns_cost_anomaly.json")
    message["impact"]["totalImpact"] = total

    assert only(alerts_in(sns_event(message))).severity is severity


def test_anomaly_without_a_https_details_link_links_the_console():
    message = {**sns_message("sns_cost_anomaly.json"), "anomalyDetailsLink": "javascript:alert(1)"}

    (link,) = only(alerts_in(sns_event(message))).links

    assert link.url == "https://us-east-1.console.aws.amazon.com/cost-management/home#/anomaly-detection/overview"


# budgets -------------------------------------------------------------------------------------------------------------

BUDGET = """AWS Budget Notification {date}
AWS Account 123456789012

Budget Name: {name}
Budget Type: Cost
Budgeted Amount: $2,000.00
Alert Type: {alert_type}
Alert Threshold: > {threshold}
{alert_type} Amount: $1,900.00
"""


@pytest.mark.parametrize(
    ("date", "alert_type", "threshold", "key", "severity", "percent"),
    [
        ("November 18, 2026", "ACTUAL", "$1,000.00", "budget:123456789012:team: ops:ACTUAL:2026-11", Severity.HIGH, 50),
        ("March 3, 2024", "Actual", "$987.20", "budget:123456789012:team: ops:ACTUAL:2024-03", Severity.HIGH, 49.4),
        (
            "2026-01-31",
            "FORECASTED",
            "$1,800.5",
            "budget:123456789012:team: ops:FORECASTED:2026-01",
            Severity.MEDIUM,
            90,
        ),
        ("", "FORECASTED", "80%", "budget:123456789012:team: ops:FORECASTED:2026-11", Severity.MEDIUM, 80),
    ],
    ids=["actual", "older-capitalization", "forecast-iso-date", "no-date-uses-delivery-month"],
)
def test_budget_key_is_built_from_the_text(date, alert_type, threshold, key, severity, percent):
    # Given a budget whose name itself holds ": "
    text = BUDGET.format(date=date, name="team: ops", alert_type=alert_type, threshold=threshold)

    alert = only(alerts_in(sns_event(text)))

    # Then its key names budget, type and period (not the threshold: a higher one is news on the same issue), and
    # its impact is the threshold as a percentage of the budgeted $2,000
    assert (alert.dedupe_key, alert.severity, alert.impact) == (key, severity, percent)
    assert fact(alert, f"{alert_type.upper()} Amount") == "$1,900.00"


def test_a_higher_threshold_of_the_same_budget_and_period_has_the_same_key():
    texts = [
        BUDGET.format(date="November 18, 2026", name="ops", alert_type="ACTUAL", threshold=t)
        for t in ("$1,600", "$2,000")
    ]

    first, second = (only(alerts_in(sns_event(text))) for text in texts)

    assert first.dedupe_key == second.dedupe_key
    assert (first.impact, second.impact) == (80, 100)


def test_a_budget_is_recognised_by_its_lines_never_by_the_subject():
    text = "Budget exceeded!\nPlease check."

    alert = only(alerts_in(sns_event(text, subject="AWS Budgets: team-ops has exceeded your alert threshold")))

    assert alert.source == "generic"
    assert fact(alert, "Subject") == "AWS Budgets: team-ops has exceeded your alert threshold"


# notification --------------------------------------------------------------------------------------------------------


def test_notification_defaults_and_unsafe_links():
    body = {
        "dedupKey": "k-9",
        "message": "Backup job failed\nsee logs",
        "severity": "urgent",
        "link": "http://internal/backup",
        "fields": {"Job": "nightly", "Empty": None, "Tries": 3},
    }

    alert = only(alerts_in(sns_event(body)))

    assert (alert.state, alert.severity, alert.title, alert.links) == (
        AlertState.FIRING,
        Severity.MEDIUM,
        "Backup job failed",
        (),
    )
    assert alert.facts == (("Job", "nightly"), ("Tries", "3"))


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("resolved", AlertState.RESOLVED),
        ("RESOLVED", AlertState.RESOLVED),
        ("firing", AlertState.FIRING),
        (None, AlertState.FIRING),
    ],
    ids=["resolved", "upper-case", "firing", "missing"],
)
def test_notification_status(status, state):
    body = {"dedupKey": "k-1", "title": "t", "status": status}

    assert only(alerts_in(sns_event(body))).state is state


def test_a_multi_line_title_becomes_one_bounded_line():
    body = {"dedupKey": "k-2", "title": "first\nsecond\t third " + "x" * 400}

    title = only(alerts_in(sns_event(body))).title

    assert "\n" not in title and len(title) == 255 and title.startswith("first second third")


# health --------------------------------------------------------------------------------------------------------------


def test_health_gives_one_alert_per_affected_entity():
    first, second = alerts_of("eventbridge_health.json")

    prefix = (
        "health:arn:aws:health:eu-west-1::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/"
        "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED_7d3f1b9c5e:123456789012"
    )
    assert (first.dedupe_key, second.dedupe_key) == (f"{prefix}:i-0abc1234def567890", f"{prefix}:i-0fed9876cba543210")
    assert first.delivery_key != second.delivery_key
    assert first.title == "AWS Health: EC2 AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED (i-0abc1234def567890)"
    assert (fact(first, "Start time"), fact(first, "Status")) == ("2026-12-02 10:00:00 UTC", "upcoming")
    assert first.why.startswith("EC2 has detected degradation")


def test_health_page_strings_do_not_change_the_keys():
    # Given page 2 of 2 of the same event, naming the second entity
    event = load("eventbridge_health.json")
    entities = event["detail"]["affectedEntities"]
    page_two = eventbridge_detail("eventbridge_health.json", page="2", totalPages="2", affectedEntities=entities[1:])

    assert only(alerts_in(page_two)).dedupe_key == alerts_in(event)[1].dedupe_key


@pytest.mark.parametrize(
    ("backup", "shown"),
    [("false", None), ("true", "yes"), (True, "yes"), (None, None)],
    ids=["string-false", "string-true", "boolean", "null"],
)
def test_backup_event_is_read_as_text_not_truthiness(backup, shown):
    event = eventbridge_detail("eventbridge_health.json", backupEvent=backup)

    assert fact(alerts_in(event)[0], "Backup delivery") == shown


def test_a_public_health_issue_without_entities_is_keyed_without_an_entity():
    event = eventbridge_detail(
        "eventbridge_health.json",
        eventScopeCode="PUBLIC",
        affectedEntities=[],
        eventTypeCategory="issue",
        statusCode="closed",
        affectedAccount=None,
    )

    alert = only(alerts_in(event))

    assert alert.dedupe_key.endswith("_7d3f1b9c5e:123456789012")
    assert (alert.state, alert.severity) == (AlertState.RESOLVED, Severity.HIGH)


def test_an_sqs_record_with_several_health_entities_is_one_alert_listing_them():
    alert = normalize_sqs_record(sqs_record(json.dumps(load("eventbridge_health.json"))))

    assert alert.dedupe_key.endswith("_7d3f1b9c5e:123456789012")
    assert fact(alert, "Affected entities") == "i-0abc1234def567890, i-0fed9876cba543210"


# findings ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("workflow", "record_state", "compliance", "state", "ignored"),
    [
        ("NEW", "ACTIVE", "FAILED", AlertState.FIRING, False),
        ("NOTIFIED", "ACTIVE", "WARNING", AlertState.FIRING, False),
        ("NEW", "ARCHIVED", "FAILED", AlertState.RESOLVED, False),
        ("RESOLVED", "ACTIVE", "FAILED", AlertState.RESOLVED, False),
        ("NEW", "ACTIVE", "PASSED", AlertState.RESOLVED, False),
        ("SUPPRESSED", "ACTIVE", "FAILED", AlertState.RESOLVED, True),
    ],
    ids=["new", "notified", "archived", "resolved", "passed", "suppressed"],
)
def test_security_hub_state(workflow, record_state, compliance, state, ignored):
    event = load("eventbridge_securityhub_finding.json")
    finding = event["detail"]["findings"][0]
    finding.update(Workflow={"Status": workflow}, RecordState=record_state)
    finding["Compliance"]["Status"] = compliance

    alert = only(alerts_in(event))

    assert (alert.state, alert.ignore_reason is not None) == (state, ignored)


def test_security_hub_is_keyed_on_the_finding_not_the_event():
    event = load("eventbridge_securityhub_finding.json")
    update = {**copy.deepcopy(event), "id": "another-event-id"}

    assert only(alerts_in(event)).dedupe_key == only(alerts_in(update)).dedupe_key


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (8, Severity.CRITICAL),
        ("8.0", Severity.CRITICAL),
        (7.5, Severity.HIGH),
        (4, Severity.MEDIUM),
        (2, Severity.LOW),
        (None, Severity.MEDIUM),
    ],
    ids=["8", "text", "7.5", "4", "2", "null"],
)
def test_guardduty_severity_is_numeric(score, severity):
    event = eventbridge_detail("eventbridge_guardduty_finding.json", severity=score)

    assert only(alerts_in(event)).severity is severity


# generic and hostile input -------------------------------------------------------------------------------------------


def test_truncated_json_becomes_a_readable_generic_alert():
    message = json.dumps(sns_message("sns_cloudwatch_alarm.json"))[:180]

    alert = only(alerts_in(sns_event(message)))

    assert (alert.source, alert.title, alert.raw) == (
        "generic",
        "Unreadable JSON message from SNS topic ops-events",
        message,
    )
    assert "not valid JSON" in alert.why


@pytest.mark.parametrize(
    ("message", "title"),
    [
        ("[INFO] disk full on build-agent-07", "[INFO] disk full on build-agent-07"),
        ('[{"id": 1}, {"id"', "Unreadable JSON message from SNS topic ops-events"),
        ("\n\n  second line is the first with text\nthird", "second line is the first with text"),
        ("   ", "Empty message from SNS topic ops-events"),
    ],
    ids=["bracketed-log-line", "truncated-json-list", "leading-blank-lines", "blank"],
)
def test_generic_text_titles(message, title):
    assert only(alerts_in(sns_event(message))).title == title


def test_plain_text_is_generic_and_keeps_the_text():
    event = load("sns_plain_text.json")

    alert = only(alerts_in(event))

    assert alert.raw == event["Records"][0]["Sns"]["Message"]
    assert alert.dedupe_key == f"generic:{alert.delivery_key}"


def test_subject_null_in_sns_and_absent_in_sqs_both_read_as_no_subject():
    # Given the Lambda SNS event (Subject null) and SNS JSON in SQS (no Subject key)
    lambda_sns = only(alerts_in(sns_event("hello", subject=None)))
    body = json.loads(load("sqs_sns_envelope.json")["Records"][0]["body"])
    body.pop("Subject")
    body["Message"] = "hello"
    in_sqs = normalize_sqs_record(sqs_record(json.dumps(body)))

    assert fact(lambda_sns, "Subject") is fact(in_sqs, "Subject") is None
    assert in_sqs.delivery_key == body["MessageId"]


def test_the_subject_never_changes_how_a_message_is_read():
    message = sns_message("sns_cloudwatch_alarm.json")

    alert = only(alerts_in(sns_event(message, subject="AWS Budgets: x has exceeded your alert threshold")))

    assert alert.source == "cloudwatch-alarm"


HOSTILE_EVENTS = {
    "none": None,
    "number": 42,
    "text": "plain words",
    "empty-text": "",
    "list": [1, 2],
    "empty-object": {},
    "no-records": {"Records": []},
    "null-record": {"Records": [None]},
    "sns-record-without-sns": {"Records": [{"EventSource": "aws:sns"}]},
    "sns-null-message": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": None, "MessageId": None}}]},
    "sqs-null-record": {"Records": [{"eventSource": "aws:sqs"}, None]},
    "eventbridge-null-detail": {
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "detail": None,
    },
    "eventbridge-no-resources": {
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "resources": [],
        "id": "e-1",
        "detail": {"state": "ALARM"},
    },
    "health-null-everything": {
        "detail-type": "AWS Health Event",
        "source": "aws.health",
        "id": "e-2",
        "detail": {"eventArn": "arn:aws:health:x", "affectedEntities": "i-1", "eventDescription": None, "page": None},
    },
    "securityhub-no-findings": {
        "detail-type": "Security Hub Findings - Imported",
        "source": "aws.securityhub",
        "detail": {"findings": []},
    },
    "alarm-action-null": {"alarmData": None, "alarmArn": None},
    "alarm-action-strings": {"alarmData": {"state": "ALARM", "configuration": "x"}, "alarmArn": ALARM_ARN},
    "nested-too-deep": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "[" * 100_000}}]},
    "huge-text": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "x" * 2_000_000, "MessageId": "m"}}]},
}

HOSTILE_MESSAGES = {
    "trigger-is-text": {"AlarmArn": ALARM_ARN, "Trigger": "MetricName=CPU", "NewStateValue": "ALARM"},
    "dimensions-not-a-list": {"AlarmArn": ALARM_ARN, "Trigger": {"MetricName": "CPU", "Dimensions": "InstanceId"}},
    "metrics-of-junk": {"AlarmArn": ALARM_ARN, "Trigger": {"Metrics": [None, "m1", {"MetricStat": "x"}]}},
    "numbers-as-text": {
        "AlarmArn": ALARM_ARN,
        "Trigger": {"Threshold": "10", "Period": "60"},
        "StateChangeTime": "2026-11-18T09:14:27.512+0000",
        "NewStateValue": "alarm",
    },
    "alarm-arn-null": {"AlarmArn": None, "NewStateValue": "ALARM"},
    "alarm-arn-object": {"AlarmArn": {"x": 1}},
    "null-everywhere": dict.fromkeys(("AlarmName", "AlarmArn", "NewStateValue", "Trigger", "Region")),
    "anomaly-of-wrong-types": {
        "anomalyId": "a-1",
        "impact": "big",
        "rootCauses": {"service": "EC2"},
        "anomalyScore": [1],
        "dimensionalValue": {"x": 1},
    },
    "anomaly-id-empty": {"anomalyId": ""},
    "notification-odd-fields": {"dedupKey": 12, "title": None, "fields": ["a", "b"], "link": 5, "status": []},
    "budget-without-values": "Budget Name: \nAlert Type:\n",
    "budget-half": "Budget Name: b\nAlert Type: ACTUAL\nAlert Threshold: > lots\n",
    "json-null": "null",
    "json-string": '"just a string"',
    "whitespace": "   \n\t ",
}


@pytest.mark.parametrize("event", HOSTILE_EVENTS.values(), ids=HOSTILE_EVENTS.keys())
def test_hostile_events_become_alerts_not_errors(event):
    alerts = alerts_in(event)

    assert alerts and all(isinstance(a, Alert) and a.dedupe_key and a.delivery_key for a in alerts)


@pytest.mark.parametrize("message", HOSTILE_MESSAGES.values(), ids=HOSTILE_MESSAGES.keys())
def test_hostile_messages_become_alerts_on_every_channel(message):
    text = message if isinstance(message, str) else json.dumps(message)

    via_sns = only(alerts_in(sns_event(text)))
    via_sqs = normalize_sqs_record(sqs_record(text))

    assert via_sns.dedupe_key and via_sqs.dedupe_key
    assert via_sns.source == via_sqs.source


def test_an_unreadable_alarm_falls_back_to_generic_with_the_reason():
    message = {"AlarmArn": None, "NewStateValue": "ALARM"}

    alert = only(alerts_in(sns_event(message)))

    assert (alert.source, alert.title) == ("generic", "JSON message from SNS topic ops-events")


def test_sqs_records_of_the_wrong_type_become_generic_alerts():
    for record in (None, "text", {"body": None}, {"body": 42}, {"body": {"AlarmArn": ALARM_ARN}}):
        assert isinstance(normalize_sqs_record(record), Alert)


def test_only_event_parse_errors_escape(monkeypatch):
    # Given a generic fallback that itself breaks (it never should)
    from jira_notifier.sources import envelopes

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(envelopes, "unknown_message", broken)

    with pytest.raises(EventParseError):
        alerts_in("plain text")
    with pytest.raises(EventParseError):
        normalize_sqs_record({"body": "plain text"})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
KNOWN_KEYS = st.sampled_from(
    [
        "AlarmArn",
        "Trigger",
        "Metrics",
        "Dimensions",
        "NewStateValue",
        "StateChangeTime",
        "AlarmRule",
        "TriggeringChildren",
        "anomalyId",
        "impact",
        "rootCauses",
        "dedupKey",
        "title",
        "fields",
        "status",
        "detail-type",
        "source",
        "detail",
        "resources",
        "id",
        "state",
        "configuration",
        "findings",
        "eventArn",
        "affectedEntities",
    ]
)
SHAPED = st.dictionaries(KNOWN_KEYS, JSON, max_size=8).map(
    lambda d: {**d, "AlarmArn": d.get("AlarmArn", ALARM_ARN)} if "Trigger" in d else d
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=SHAPED | JSON)
def test_any_json_in_any_channel_is_normalized(payload):
    text = json.dumps(payload)

    direct = alerts_in(payload)
    via_sns = alerts_in(sns_event(text))
    via_sqs = normalize_sqs_record(sqs_record(text))

    assert direct and via_sns and isinstance(via_sqs, Alert)
    assert all(isinstance(value, str) for alert in [*direct, *via_sns, via_sqs] for _, value in alert.facts)


@pytest.mark.parametrize("name", sorted(path.name for path in EVENTS.glob("*.json") if path.name != "env.json"))
def test_every_sample_is_for_the_function_its_channel_names(name):
    channel = name.split("_", 1)[0]
    assert function_for(load(name)) == {"alarm": "alarm-action"}.get(channel, channel)


def test_each_function_reads_only_its_own_envelope():
    sns, eventbridge = load("sns_cloudwatch_alarm.json"), load("eventbridge_cloudwatch_alarm.json")
    assert only(read_sns(sns)).dedupe_key == only(read_eventbridge(eventbridge)).dedupe_key == ALARM_KEY

    # Given to another function, an envelope is a message that function was given directly: of no known shape
    for read, event in [(read_eventbridge, sns), (read_alarm_action, sns), (read_sns, load("sqs_sns_envelope.json"))]:
        alert = only(read(event))
        assert (alert.source, alert.delivery_key) == ("generic", f"direct:{digest(event)}")


def test_a_bare_payload_is_for_no_function_and_any_function_reads_it_directly():
    payload = {"dedupKey": "k-9", "title": "Disk full", "status": "firing"}

    assert function_for(payload) is None
    assert {only(read(payload)).dedupe_key for read in (read_sns, read_eventbridge, read_alarm_action)} == {
        only(read_sns(sns_event(json.dumps(payload)))).dedupe_key
    }
