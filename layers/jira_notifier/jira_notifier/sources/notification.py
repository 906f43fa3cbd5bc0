"""The platform's own Notification format (SNS message body, or EventBridge ``detail``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jira_notifier.core.alert import Alert, AlertState, Severity
from jira_notifier.sources.common import (
    Delivery,
    epoch_ms,
    facts,
    first_text,
    https_links,
    mapping,
    one_line,
    region_code,
    text,
)

_SEVERITIES = {severity.value: severity for severity in Severity}


def looks_like_notification(payload: object) -> bool:
    body = mapping(payload)
    return bool(text(body.get("dedupKey"))) and any(key in body for key in ("title", "message", "status"))


def from_payload(body: Mapping[str, Any], delivery: Delivery) -> list[Alert]:
    return _notification_alerts(body, body, delivery, account=None, region=None)


def from_eventbridge(event: Mapping[str, Any], delivery: Delivery) -> list[Alert]:
    detail = mapping(event.get("detail"))
    if not looks_like_notification(detail):
        return []
    account = text(event.get("account")) or None
    return _notification_alerts(detail, event, delivery, account=account, region=region_code(event.get("region")))


def _notification_alerts(
    body: Mapping[str, Any], raw: Any, delivery: Delivery, *, account: str | None, region: str | None
) -> list[Alert]:
    dedup_key = text(body.get("dedupKey"))
    if not dedup_key:
        return []
    message = text(body.get("message"))
    title = first_text(body.get("title"), message.partition("\n")[0]) or f"Notification {dedup_key}"
    resolved = text(body.get("status")).lower() == "resolved"
    state_word = "resolved" if resolved else "firing"
    return [
        Alert(
            source="notification",
            dedupe_key=f"notification:{dedup_key}",
            delivery_key=delivery.delivery_key,
            state=AlertState.RESOLVED if resolved else AlertState.FIRING,
            title=one_line(title),
            severity=_SEVERITIES.get(text(body.get("severity")).lower(), Severity.MEDIUM),
            account=account,
            region=region,
            occurred_at=delivery.received_at,
            what=message or f"Notification {one_line(title)} is {state_word}.",
            facts=facts(*((text(name), value) for name, value in mapping(body.get("fields")).items())),
            links=https_links(("Details", body.get("link"))),
            raw=raw,
            notification_group=delivery.group(body.get("notificationGroup")),
            route_key=delivery.route_key,
            transition_at=epoch_ms(delivery.received_at),
        )
    ]
