"""Event builders for scenario tests: the same shapes AWS sends, with the parts a scenario varies."""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

ALARM_ARN = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx-high"
TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:jira-notifier-alerts"
START = datetime(2026, 11, 2, 9, 0, 0, tzinfo=UTC)
_PUBLISHED = itertools.count()  # each built message is published one millisecond after the one before


def alarm_time(minutes: float) -> str:
    """StateChangeTime ``minutes`` after the scenario start, in CloudWatch's format."""
    moment = START + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def alarm_message(
    state: str,
    minutes: float,
    *,
    name: str = "api-5xx-high",
    arn: str = ALARM_ARN,
    reason: str | None = None,
    previous: str | None = None,
) -> dict[str, Any]:
    """A CloudWatch alarm notification; ``previous``: the state it changed from (by default the opposite one; a
    notification while the alarm stays in ALARM, e.g. a new reason, says ALARM)."""
    previous = previous or {"ALARM": "OK", "OK": "ALARM", "INSUFFICIENT_DATA": "OK"}[state]
    return {
        "AlarmName": name,
        "AlarmDescription": "5xx responses of the public API",
        "AWSAccountId": "123456789012",
        "AlarmConfigurationUpdatedTimestamp": "2026-10-01T08:00:00.000+0000",
        "NewStateValue": state,
        "NewStateReason": reason or f"Threshold Crossed: 1 datapoint [42.0 ({minutes})] was greater than 10.0.",
        "StateChangeTime": alarm_time(minutes),
        "Region": "EU (Ireland)",
        "AlarmArn": arn,
        "OldStateValue": previous,
        "OKActions": [TOPIC_ARN],
        "AlarmActions": [TOPIC_ARN],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "5XXError",
            "Namespace": "AWS/ApiGateway",
            "StatisticType": "Statistic",
            "Statistic": "SUM",
            "Unit": None,
            "Dimensions": [{"value": "public-api", "name": "ApiName"}],
            "Period": 60,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 10.0,
            "TreatMissingData": "missing",
        },
    }


def sns_event(
    message: dict[str, Any] | str,
    *,
    message_id: str | None = None,
    topic_arn: str = TOPIC_ARN,
    attributes: dict[str, str] | None = None,
    published: datetime | None = None,
) -> dict[str, Any]:
    body = message if isinstance(message, str) else json.dumps(message)
    published = published or START + timedelta(milliseconds=next(_PUBLISHED))
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id or str(uuid.uuid4()),
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": body,
                    "Timestamp": published.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem",
                    "UnsubscribeUrl": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {k: {"Type": "String", "Value": v} for k, v in (attributes or {}).items()},
                },
            }
        ]
    }


def alarm_event(state: str, minutes: float, **kwargs: Any) -> dict[str, Any]:
    message_id = kwargs.pop("message_id", None)
    return sns_event(alarm_message(state, minutes, **kwargs), message_id=message_id)


def notification_event(
    status: str,
    *,
    dedup_key: str = "cost-spike-1",
    title: str = "EC2 spend anomaly in prod",
    message: str = "Spend is up",
    group: str = "ops",
    message_id: str | None = None,
    fields: dict[str, str] | None = None,
) -> dict[str, Any]:
    body = {
        "notificationGroup": group,
        "title": title,
        "message": message,
        "severity": "high",
        "status": status,
        "dedupKey": dedup_key,
        "fields": fields or {"Account": "111122223333"},
    }
    return sns_event(body, message_id=message_id)


def alerts_in(event: Any) -> list[Any]:
    """The alerts of an event as the function it is for reads them (a bare payload: as a function given it directly)."""
    from jira_notifier.sources import function_for, read

    return read(function_for(event), event)


def function_url_event(body: bytes, headers: dict[str, str], *, as_base64: bool, method: str) -> dict[str, Any]:
    """A Lambda function URL event (payload format 2.0)."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghijklmnopqrstuvwxyz012345",
            "domainName": "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws",
            "http": {"method": method, "path": "/", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 1_800_000_000_000,
        },
        "body": base64.b64encode(body).decode() if as_base64 else body.decode("utf-8", "surrogateescape"),
        "isBase64Encoded": as_base64,
    }
