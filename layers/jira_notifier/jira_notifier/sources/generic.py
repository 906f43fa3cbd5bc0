"""Anything of no known shape still becomes a readable alert, keyed on its delivery so it is never dropped."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jira_notifier.core.alert import Alert, AlertState, Severity
from jira_notifier.sources.common import Delivery, epoch_ms, facts, items, one_line, show_time, text

# Reads one known payload shape into alerts.

_TEXT_TITLE_MAX = 120
# "{..." or "[{", "[1", '["' ...: JSON that failed to parse; "[INFO] disk full" is just text
_JSON_START = re.compile(r'\s*(\{|\[\s*[\[{"\d\-\]])')


def generic_alert(
    raw: Any,
    delivery: Delivery,
    *,
    title: str = "",
    what: str = "",
    why: str = "",
    extra_facts: tuple[tuple[str, str], ...] = (),
    account: str | None = None,
    region: str | None = None,
) -> Alert:
    received = delivery.received_at
    return Alert(
        source="generic",
        dedupe_key=f"generic:{delivery.delivery_key}",
        delivery_key=delivery.delivery_key,
        state=AlertState.FIRING,
        title=one_line(title or _title_for(raw, delivery)),
        severity=Severity.MEDIUM,
        account=account,
        region=region,
        occurred_at=received,
        what=what or _what_for(delivery),
        why=why,
        facts=extra_facts + facts(("Subject", delivery.subject), ("Received", show_time(received))),
        raw=raw,
        notification_group=delivery.group(),
        route_key=delivery.route_key,
        transition_at=epoch_ms(received),
    )


def unknown_message(raw: Any, delivery: Delivery, *, why: str = "") -> Alert:
    """A message (text, JSON or anything else) that is not a known AWS alert format."""
    return generic_alert(raw, delivery, why=why or _why_for(raw))


def unknown_eventbridge_event(event: Mapping[str, Any], delivery: Delivery, *, why: str = "") -> Alert:
    source = text(event.get("source"))
    detail_type = text(event.get("detail-type"))
    resources = ", ".join(filter(None, map(text, items(event.get("resources")))))
    return generic_alert(
        event,
        delivery,
        title=f"{detail_type or 'Event'} from {source or 'an unknown source'}",
        what=f'EventBridge delivered a "{detail_type}" event from {source or "an unknown source"}'
        + (f" at {show_time(delivery.received_at)}." if delivery.received_at else "."),
        why=why,
        extra_facts=facts(
            ("Account", event.get("account")),
            ("Region", event.get("region")),
            ("Source", source),
            ("Detail type", detail_type),
            ("Resources", resources),
        ),
        account=text(event.get("account")) or None,
        region=text(event.get("region")) or None,
    )


def _title_for(raw: Any, delivery: Delivery) -> str:
    if isinstance(raw, str):
        if _JSON_START.match(raw):
            return f"Unreadable JSON message from {delivery.origin}"
        first_line = next((line for line in raw.splitlines() if line.strip()), "")
        return one_line(first_line, _TEXT_TITLE_MAX) if first_line else f"Empty message from {delivery.origin}"
    if isinstance(raw, Mapping | list):
        return f"JSON message from {delivery.origin}"
    return f"Message from {delivery.origin}"


def _what_for(delivery: Delivery) -> str:
    when = f" at {show_time(delivery.received_at)}" if delivery.received_at else ""
    return f"A message from {delivery.origin} arrived{when} in no known alert format; its content is shown as received."


def _why_for(raw: Any) -> str:
    if isinstance(raw, str) and _JSON_START.match(raw):
        return "The message starts like JSON but is not valid JSON (it may have been truncated)."
    return ""
