"""EventBridge events, delivered directly or as the body of an SNS message or SQS record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from jira_notifier.core.alert import Alert
from jira_notifier.sources import cloudwatch, cost_anomaly, findings, health, notification
from jira_notifier.sources.common import Delivery, Reader, digest, parse_time, read_known, text
from jira_notifier.sources.generic import unknown_eventbridge_event

_READERS: dict[tuple[str, str], tuple[str, Reader]] = {
    ("aws.cloudwatch", "CloudWatch Alarm State Change"): ("a CloudWatch alarm", cloudwatch.from_eventbridge),
    ("aws.cloudwatch", "CloudWatch Alarm Contributor State Change"): (
        "a CloudWatch alarm contributor",
        cloudwatch.from_eventbridge,
    ),
    ("aws.cloudwatch", "CloudWatch Alarm Configuration Change"): (
        "a CloudWatch alarm change",
        cloudwatch.configuration_change,
    ),
    ("aws.ce", "Anomaly Detected"): ("a cost anomaly", cost_anomaly.from_eventbridge),
    ("aws.securityhub", "Security Hub Findings - Imported"): (
        "a Security Hub finding",
        findings.securityhub_from_eventbridge,
    ),
    ("aws.securityhub", "Findings Imported V2"): (
        "a Security Hub (OCSF) finding",
        findings.securityhub_v2_from_eventbridge,
    ),
    ("aws.guardduty", "GuardDuty Finding"): ("a GuardDuty finding", findings.guardduty_from_eventbridge),
}


def read_event(event: Mapping[str, Any], outer: Delivery | None = None) -> list[Alert]:
    """Alerts from one event; ``outer`` is the SNS message or SQS record that carried it, if any."""
    delivery = _delivery(event, outer)
    source, detail_type = text(event.get("source")), text(event.get("detail-type"))
    found = _reader_for(source, detail_type)
    return read_known(found, event, delivery, lambda why: unknown_eventbridge_event(event, delivery, why=why))


def _reader_for(source: str, detail_type: str) -> tuple[str, Reader] | None:
    if detail_type == "Notification":  # the platform format, from any source
        return "a Notification", notification.from_eventbridge
    if source == "aws.health":
        return "an AWS Health event", health.from_eventbridge
    return _READERS.get((source, detail_type))


def _delivery(event: Mapping[str, Any], outer: Delivery | None) -> Delivery:
    """The event id is the delivery key on every channel, so one event reaching two targets has one effect.

    Routing stays with the outermost transport: the SNS topic or SQS queue when there is one, else the source.
    """
    event_id = text(event.get("id"))
    sent = parse_time(event.get("time"))
    if outer is not None:
        return replace(
            outer,
            delivery_key=event_id or outer.delivery_key,
            received_at=sent or outer.received_at,
        )
    source = text(event.get("source"))
    return Delivery(
        delivery_key=event_id or f"eventbridge:{digest(event)}",
        route_key=source or None,
        received_at=sent,
        origin=f"EventBridge source {source}" if source else "EventBridge",
    )
