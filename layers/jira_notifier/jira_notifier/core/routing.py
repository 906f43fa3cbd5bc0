"""Which notification group an alert goes to: first match wins (product.md, "Routing")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Protocol

from jira_notifier.core.alert import Alert
from jira_notifier.core.errors import RoutingError

ACCOUNT_ROUTE_PREFIX = "account:"  # an account's route is stored as the route "account:<account id>"
ACCOUNT_ID = re.compile(r"\d{12}")


class RouteLookup(Protocol):
    def route(self, route: str) -> str | None: ...
    def alarm_tag_routes(self) -> Mapping[tuple[str, str], str]:
        """Every alarm-tag route: (tag key, value) -> group."""
        ...


def account_route(account_id: str) -> str:
    return ACCOUNT_ROUTE_PREFIX + account_id


def choose_group(alert: Alert, routes: RouteLookup, default_group: str | None) -> str:
    """The alert's own group (message attribute / Notification body), a route for one of its alarm's tags, its
    account's route, its topic or source route, or the default.

    Of several alarm tags with a route, the first in the order of their keys wins (then values): the same alarm
    always goes to the same group.

    Raises:
        RoutingError: nothing matches.
        StoreError: routes could not be read (retryable).
    """
    if alert.notification_group:
        return alert.notification_group
    if alert.alarm_tags:
        by_tag = routes.alarm_tag_routes()
        tagged = next((by_tag[tag] for tag in sorted(alert.alarm_tags) if tag in by_tag), None)
        if tagged:
            return tagged
    account = alert.account if alert.account and ACCOUNT_ID.fullmatch(alert.account) else None
    for route in (account_route(account) if account else None, alert.route_key):
        routed = routes.route(route) if route else None
        if routed:
            return routed
    if default_group:
        return default_group
    raise RoutingError(
        f"no notification group for this alert (account {alert.account!r}, route key {alert.route_key!r}): add one "
        "with 'jira-notifier route add', set DEFAULT_NOTIFICATION_GROUP, or send a notificationGroup attribute"
    )
