"""Which notification group an alert goes to: first match wins (product.md, "Routing")."""

from __future__ import annotations

from typing import Protocol

from jira_notifier.errors import RoutingError
from jira_notifier.models import Alert


class RouteLookup(Protocol):
    def route(self, route: str) -> str | None: ...


def choose_group(alert: Alert, routes: RouteLookup, default_group: str | None) -> str:
    """The alert's own group (message attribute / Notification body), its route, or the default.

    Raises:
        RoutingError: nothing matches.
        StoreError: routes could not be read (retryable).
    """
    if alert.notification_group:
        return alert.notification_group
    if alert.route_key:
        routed = routes.route(alert.route_key)
        if routed:
            return routed
    if default_group:
        return default_group
    raise RoutingError(
        f"no notification group for this alert (route key {alert.route_key!r}): add one with "
        "'jira-notifier route add', set DEFAULT_NOTIFICATION_GROUP, or send a notificationGroup attribute"
    )
