"""AWS Health events: one alert per affected entity, keyed on event ARN + affected account (+ entity).

A large event arrives split into pages; each page is read on its own and its entities get the same keys they would
have had in one message, so nothing needs merging here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from jira_notifier.core.alert import Alert, AlertState, Severity
from jira_notifier.sources.common import (
    Delivery,
    epoch_ms,
    facts,
    first_text,
    flag,
    https_links,
    items,
    mapping,
    one_line,
    parse_time,
    region_code,
    show_time,
    text,
)

_STATES = {"open": AlertState.FIRING, "upcoming": AlertState.FIRING, "closed": AlertState.RESOLVED}
_SEVERITIES = {"issue": Severity.HIGH, "scheduledChange": Severity.MEDIUM}
_EVENT_LOG = "https://health.aws.amazon.com/health/home#/account/event-log?eventID="


def from_eventbridge(event: Mapping[str, Any], delivery: Delivery) -> list[Alert]:
    detail = mapping(event.get("detail"))
    event_arn = text(detail.get("eventArn"))
    if not event_arn:
        return []
    account = first_text(detail.get("affectedAccount"), event.get("account"))
    entities = [
        entity for entity in map(mapping, items(detail.get("affectedEntities"))) if text(entity.get("entityValue"))
    ]
    base_key = f"health:{event_arn}:{account}"
    if not entities:
        return [_health_alert(event, detail, base_key, delivery, entity=None)]
    if delivery.one_alert and len(entities) > 1:
        listed = ", ".join(text(entity.get("entityValue")) for entity in entities)
        return [_health_alert(event, detail, base_key, delivery, entity=None, entity_list=listed)]
    return [
        _health_alert(
            event,
            detail,
            f"{base_key}:{text(entity.get('entityValue'))}",
            replace(delivery, delivery_key=f"{delivery.delivery_key}:{text(entity.get('entityValue'))}"),
            entity=entity,
        )
        for entity in entities
    ]


def _health_alert(
    event: Mapping[str, Any],
    detail: Mapping[str, Any],
    dedupe_key: str,
    delivery: Delivery,
    *,
    entity: Mapping[str, Any] | None,
    entity_list: str = "",
) -> Alert:
    service = text(detail.get("service"))
    type_code = text(detail.get("eventTypeCode"))
    category = text(detail.get("eventTypeCategory"))
    status = text(detail.get("statusCode")).lower()
    region = region_code(detail.get("eventRegion")) or region_code(event.get("region"))
    account = first_text(detail.get("affectedAccount"), event.get("account")) or None
    entity_value = text(mapping(entity).get("entityValue"))
    started = parse_time(detail.get("startTime"))
    updated = parse_time(detail.get("lastUpdatedTime")) or parse_time(event.get("time"))
    headline = " ".join(filter(None, ("AWS Health:", service, type_code or "event")))
    return Alert(
        source="health",
        dedupe_key=dedupe_key,
        delivery_key=delivery.delivery_key,
        state=_STATES.get(status, AlertState.FIRING),
        title=one_line(headline + (f" ({entity_value})" if entity_value else "")),
        severity=_SEVERITIES.get(category, Severity.LOW),
        account=account,
        region=region,
        occurred_at=updated,
        what=_what(service, type_code, category, status, region, started),
        why=_latest_description(detail.get("eventDescription")),
        facts=facts(
            ("Account", account),
            ("Region", region),
            ("Service", service),
            ("Event type", type_code),
            ("Category", category),
            ("Status", status),
            ("Scope", detail.get("eventScopeCode")),
            ("Start time", show_time(started)),
            ("End time", show_time(parse_time(detail.get("endTime")))),
            ("Last updated", show_time(updated)),
            ("Affected entity", entity_value),
            ("Entity status", mapping(entity).get("status")),
            ("Affected entities", entity_list),
            ("Backup delivery", "yes" if flag(detail.get("backupEvent")) else ""),
        ),
        links=https_links(("AWS Health event", _EVENT_LOG + quote(text(detail.get("eventArn")), safe=":/"))),
        raw=event,
        notification_group=delivery.group(),
        route_key=delivery.route_key,
        transition_at=epoch_ms(updated),
    )


def _what(
    service: str, type_code: str, category: str, status: str, region: str | None, started: datetime | None
) -> str:
    subject = " ".join(filter(None, ("AWS Health", category or "event", type_code)))
    where = " ".join(filter(None, ("for", service or "AWS", f"in {region}" if region else "")))
    sentence = f"{subject} {where} is {status or 'reported'}"
    return sentence + (f", starting {show_time(started)}." if started else ".")


def _latest_description(descriptions: object) -> str:
    """The English description when there is one, else the first given."""
    found = [mapping(d) for d in items(descriptions) if text(mapping(d).get("latestDescription"))]
    english = [d for d in found if text(d.get("language")).lower().startswith("en")]
    return next((text(d.get("latestDescription")) for d in english + found), "")
