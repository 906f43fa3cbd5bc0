"""Which group an alert goes to, first match wins: its own group, its account's route, its topic or source route,
the default group."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.errors import RoutingError
from jira_notifier.core.routing import choose_group

ACCOUNT = "444455556666"
TOPIC = "arn:aws:sns:eu-west-1:111122223333:alerts"
ALERT = Alert(
    source="cloudwatch-alarm",
    dedupe_key="cloudwatch-alarm:arn",
    delivery_key="m-1",
    state=AlertState.FIRING,
    title="CloudWatch alarm api-5xx-high",
    account=ACCOUNT,
    route_key=TOPIC,
)


@dataclass
class Routes:
    stored: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def route(self, route: str) -> str | None:
        self.asked.append(route)
        return self.stored.get(route)


@pytest.mark.parametrize(
    ("own_group", "stored", "default", "group"),
    [
        ("from-message", {f"account:{ACCOUNT}": "by-account", TOPIC: "by-topic"}, "default", "from-message"),
        (None, {f"account:{ACCOUNT}": "by-account", TOPIC: "by-topic"}, "default", "by-account"),
        (None, {f"account:{ACCOUNT}": "by-account"}, "default", "by-account"),
        (None, {TOPIC: "by-topic", "account:999999999999": "other-account"}, "default", "by-topic"),
        (None, {}, "default", "default"),
    ],
    ids=["own-group-first", "account-before-topic", "account-only", "topic-when-no-account-route", "default-last"],
)
def test_first_match_wins(own_group: str | None, stored: dict[str, str], default: str, group: str) -> None:
    alert = replace(ALERT, notification_group=own_group)

    assert choose_group(alert, Routes(stored), default) == group


def test_an_alert_that_names_its_group_reads_no_route() -> None:
    routes = Routes({f"account:{ACCOUNT}": "by-account"})

    choose_group(replace(ALERT, notification_group="own"), routes, None)

    assert routes.asked == []


@pytest.mark.parametrize("account", [None, "", "not-an-account", "12345", "arn:aws:iam::444455556666:root"])
def test_without_an_account_id_only_the_topic_or_source_route_is_read(account: str | None) -> None:
    routes = Routes({TOPIC: "by-topic"})

    assert choose_group(replace(ALERT, account=account), routes, None) == "by-topic"
    assert routes.asked == [TOPIC]


def test_nothing_matching_is_a_routing_error_naming_the_account_and_route() -> None:
    with pytest.raises(RoutingError, match=f"account '{ACCOUNT}', route key '{TOPIC}'"):
        choose_group(ALERT, Routes(), None)
