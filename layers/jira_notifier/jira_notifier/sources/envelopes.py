"""The functions' envelopes (SNS, EventBridge, the alarm action, SQS) and the message shapes inside them.

Each function reads its own envelope: the SNS function the records of an SNS event, the EventBridge function an
EventBridge event, the alarm-action function CloudWatch's alarm payload, the SQS function each record of its batch.
An event without its function's envelope was invoked directly: it is read as a message, as anything inside an
envelope is. Message shapes are recognised by their keys, never by the SNS Subject. Whatever matches no shape, or
breaks the reader of the shape it seemed to have, becomes a generic alert keyed on its delivery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from jira_notifier.core.alert import Alert, Link
from jira_notifier.core.errors import EventParseError
from jira_notifier.sources import budgets, cloudwatch, cost_anomaly, eventbridge, notification
from jira_notifier.sources.common import (
    Delivery,
    Reader,
    decode_json,
    digest,
    first_text,
    from_epoch_ms,
    is_eventbridge_event,
    items,
    last_arn_segment,
    mapping,
    parse_time,
    read_known,
    read_or_generic,
    text,
)
from jira_notifier.sources.generic import unknown_message

GROUP_ATTRIBUTE = "notificationGroup"


def read_sns(event: object) -> list[Alert]:
    """The SNS function's event: the alerts of every record.

    Raises:
        EventParseError: only if the event cannot be read even as a generic alert.
    """
    return read("sns", event)


def read_eventbridge(event: object) -> list[Alert]:
    """The EventBridge function's event.

    Raises:
        EventParseError: only if the event cannot be read even as a generic alert.
    """
    return read("eventbridge", event)


def read_alarm_action(event: object) -> list[Alert]:
    """The alarm-action function's event: the payload CloudWatch sends to an alarm's Lambda action.

    Raises:
        EventParseError: only if the event cannot be read even as a generic alert.
    """
    return read("alarm-action", event)


def is_sns_event(event: Mapping[str, Any]) -> bool:
    return _first_record(event).get("EventSource") == "aws:sns"


def is_sqs_event(event: Mapping[str, Any]) -> bool:
    return _first_record(event).get("eventSource") == "aws:sqs"


def is_alarm_action(event: Mapping[str, Any]) -> bool:
    return "alarmData" in event


def _first_record(event: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(next(iter(items(event.get("Records"))), None))


# The records are walked as they are: Powertools' SNSEvent and SQSEvent wrappers would add about 50 ms to every cold
# start (their module imports every event class) for no check the readers below do not make.
def _sns_records(event: Mapping[str, Any]) -> list[Alert]:
    return [alert for record in items(event.get("Records")) for alert in _sns_record(record)]


def _alarm_action(event: Mapping[str, Any]) -> list[Alert]:
    delivery = cloudwatch.alarm_action_delivery(event)
    return read_or_generic(
        "a CloudWatch alarm action",
        lambda: cloudwatch.from_alarm_action(event, delivery),
        lambda why: unknown_message(event, delivery, why=why),
    )


def _sqs_records(event: Mapping[str, Any]) -> list[Alert]:
    """The alert of every record of a batch (the SQS function itself reads them one by one)."""
    return [normalize_sqs_record(record) for record in items(event.get("Records"))]


# The functions by their CLI names: how each recognises its envelope, and reads an event that has it. An event is for
# the first function whose envelope it has.
FUNCTIONS: dict[str, tuple[Callable[[Mapping[str, Any]], bool], Callable[[Mapping[str, Any]], list[Alert]]]] = {
    "alarm-action": (is_alarm_action, _alarm_action),
    "eventbridge": (is_eventbridge_event, eventbridge.read_event),
    "sns": (is_sns_event, _sns_records),
    "sqs": (is_sqs_event, _sqs_records),
}


def function_for(event: object) -> str | None:
    """The function Lambda would call with this event, from its envelope; None when it has none."""
    body = mapping(event)
    return next((function for function, (has_envelope, _) in FUNCTIONS.items() if has_envelope(body)), None)


def read(function: str | None, event: object) -> list[Alert]:
    """The alerts in an event as ``function`` reads it: its own envelope, or else a message given to it directly
    (as is any event with None).

    Raises:
        EventParseError: only if the event cannot be read even as a generic alert.
    """
    try:
        body = mapping(event)
        has_envelope, read_envelope = FUNCTIONS[function] if function else (lambda _: False, _direct)
        alerts = read_envelope(body) if has_envelope(body) else _direct(event)
        return [valid_unicode(alert) for alert in alerts]
    except Exception as exc:
        raise EventParseError(f"event could not be read, not even as a generic alert ({type(exc).__name__})") from exc


def normalize_sqs_record(record: Mapping[str, Any]) -> Alert:
    """The alert carried by one SQS record: SNS JSON (raw delivery off), a bare payload, or an EventBridge event.

    A payload that names several entities (AWS Health) becomes one alert listing them, so that one record stays one
    alert for partial batch failure.

    Raises:
        EventParseError: only if the record cannot be read even as a generic alert.
    """
    try:
        return valid_unicode(_sqs_record(record))
    except Exception as exc:
        raise EventParseError(
            f"SQS record could not be read, not even as a generic alert ({type(exc).__name__})"
        ) from exc


def valid_unicode(alert: Alert) -> Alert:
    """The alert with lone surrogates (from JSON escapes such as \\ud800) replaced by U+FFFD: keys, labels,
    DynamoDB and SQS only ever see text that can be encoded."""
    changes = {
        name: _scrub(getattr(alert, name))
        for name in (
            "dedupe_key",
            "delivery_key",
            "title",
            "what",
            "why",
            "facts",
            "links",
            "raw",
            "notification_group",
            "route_key",
            "ignore_reason",
            "extra_labels",
            "alarm_tags",
            "product",
        )
    }
    return replace(alert, **changes)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, Link):
        return Link(_scrub(value.label), _scrub(value.url))
    if isinstance(value, tuple):
        return tuple(_scrub(item) for item in value)
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    return value


def _direct(event: object) -> list[Alert]:
    """An event without its function's envelope: a message given to the function directly."""
    return read_message(event, Delivery(delivery_key=f"direct:{digest(event)}"))


def _sns_record(record: object) -> list[Alert]:
    sns = mapping(mapping(record).get("Sns"))
    topic = text(sns.get("TopicArn"))
    delivery = Delivery(
        delivery_key=text(sns.get("MessageId")) or f"sns:{digest(record)}",
        route_key=topic or None,
        notification_group=_attribute(sns.get("MessageAttributes"), GROUP_ATTRIBUTE) or None,
        subject=text(sns.get("Subject")) or None,
        received_at=parse_time(sns.get("Timestamp")),
        origin=f"SNS topic {last_arn_segment(topic)}" if topic else "SNS",
    )
    if not sns:
        return [unknown_message(record, delivery)]
    message = sns.get("Message")
    return read_message("" if message is None else message, delivery)


def _sqs_record(record: Mapping[str, Any]) -> Alert:
    fields = mapping(record)
    body = fields.get("body")
    queue = text(fields.get("eventSourceARN"))
    delivery = Delivery(
        delivery_key=f"sqs-body:{digest('' if body is None else body)}",  # the SQS messageId changes per redelivery
        route_key=queue or None,
        notification_group=_attribute(fields.get("messageAttributes"), GROUP_ATTRIBUTE) or None,
        received_at=from_epoch_ms(mapping(fields.get("attributes")).get("SentTimestamp")),
        origin=f"SQS queue {last_arn_segment(queue)}" if queue else "SQS",
        one_alert=True,
    )
    decoded_ok, decoded = decode_json(body) if isinstance(body, str) else (body is not None, body)
    sns = mapping(decoded) if decoded_ok else {}
    if sns.get("Type") == "Notification" and "TopicArn" in sns:
        delivery = _sns_in_sqs_delivery(sns, delivery)
        message = sns.get("Message")
        alerts = read_message("" if message is None else message, delivery)
    elif decoded_ok:
        alerts = _read_decoded(decoded, delivery)
    else:
        alerts = _read_text(body if isinstance(body, str) else "", delivery)
    return next(iter(alerts), None) or unknown_message(body, delivery)


def _sns_in_sqs_delivery(sns: Mapping[str, Any], outer: Delivery) -> Delivery:
    """SNS JSON inside an SQS body (raw delivery off): its MessageId and topic, not the queue's."""
    topic = text(sns.get("TopicArn"))
    return replace(
        outer,
        delivery_key=text(sns.get("MessageId")) or outer.delivery_key,
        route_key=topic or outer.route_key,
        notification_group=_attribute(sns.get("MessageAttributes"), GROUP_ATTRIBUTE) or outer.notification_group,
        subject=text(sns.get("Subject")) or None,  # absent here when there is none (null in the Lambda SNS event)
        received_at=parse_time(sns.get("Timestamp")) or outer.received_at,
        origin=f"SNS topic {last_arn_segment(topic)}" if topic else outer.origin,
    )


def read_message(message: object, delivery: Delivery) -> list[Alert]:
    """Alerts from a message body: JSON text, plain text, or a value that was already decoded."""
    if isinstance(message, str):
        decoded_ok, decoded = decode_json(message)
        return _read_decoded(decoded, delivery) if decoded_ok else _read_text(message, delivery)
    return _read_decoded(message, delivery)


def _read_text(message: str, delivery: Delivery) -> list[Alert]:
    """Plain text: a Budgets notification, or anything else (including truncated JSON) as a generic alert."""
    if budgets.looks_like_budget(message):
        return read_or_generic(
            "an AWS Budgets notification",
            lambda: budgets.from_text(message, delivery),
            lambda why: unknown_message(message, delivery, why=why),
        )
    return [unknown_message(message, delivery)]


def _read_decoded(payload: Any, delivery: Delivery) -> list[Alert]:
    body = mapping(payload)
    if is_eventbridge_event(body):
        return eventbridge.read_event(body, outer=delivery)
    return read_known(_payload_reader(body), body, delivery, lambda why: unknown_message(payload, delivery, why=why))


def _payload_reader(body: Mapping[str, Any]) -> tuple[str, Reader] | None:
    if cloudwatch.looks_like_sns_alarm(body):
        return "a CloudWatch alarm notification", cloudwatch.from_sns_message
    if "anomalyId" in body:
        return "a cost anomaly", cost_anomaly.from_sns_message
    if notification.looks_like_notification(body):
        return "a Notification", notification.from_payload
    return None


def _attribute(attributes: object, name: str) -> str:
    """A message attribute value: ``Value`` in SNS, ``stringValue`` in SQS."""
    entry = mapping(mapping(attributes).get(name))
    return first_text(entry.get("Value"), entry.get("stringValue"))
