"""The priority raise on in-memory ports: its failures never cost the alert's own update, and a retry after a lost
answer never mistakes the product's edit for a person's."""

from __future__ import annotations

from typing import Any

import pytest

from jira_notifier.core.config import JiraSecret, ProviderConfig
from jira_notifier.core.errors import JiraRequestError, JiraUnavailableError
from tests.support.builders import alarm_message, alerts_in, sns_event
from tests.support.fakes import Ports, in_memory

PROVIDER = ProviderConfig(
    group="ops",
    name="jira",
    project="OPS",
    issue_type="Task",
    secret="s",
    priority_map={"high": "High"},
    escalate_after=((3600.0, "Highest"),),
)
SECRET = JiraSecret(name="s", email="bot@example.com", api_token="t", server_url="https://example.atlassian.net")


@pytest.fixture
def ports() -> Ports:
    ports = in_memory(PROVIDER, SECRET)
    ports.clock.now = alerts_in(sns_event(alarm_message("ALARM", 0)))[0].transition_at / 1000
    return ports


def deliver(ports: Ports, *, after: float, minute: float = 0, **kwargs: Any) -> list[str]:
    ports.clock.sleep(after)
    event = sns_event(alarm_message("ALARM", minute, **kwargs))
    return [outcome.action for outcome in ports.notify.process(alerts_in(event)[0], event=event)]


def test_a_refused_edit_leaves_the_priority_and_the_update_goes_on(ports: Ports) -> None:
    assert deliver(ports, after=1) == ["created"]
    ports.jira.fail("edit", JiraRequestError("no permission to edit", status=403))

    assert deliver(ports, after=2 * 3600, minute=1, reason="Threshold Crossed: 9 datapoints") == ["commented"]

    [state] = ports.store.stored()
    assert ports.jira.issues["OPS-1"].priority == "High" and state.priority_set == "High"
    assert ports.counts["PrioritiesRaised"] == 0 and ports.parked == []


def test_an_edit_whose_answer_was_lost_is_recognised_on_the_retry(ports: Ports) -> None:
    assert deliver(ports, after=1) == ["created"]
    ports.jira.fail("edit", JiraUnavailableError("timed out", ambiguous=True), acted=True)

    # The edit landed but its answer was lost: the delivery is handed back for a retry
    with pytest.raises(JiraUnavailableError):
        deliver(ports, after=2 * 3600, minute=1, reason="Threshold Crossed: 9 datapoints")

    # The retry finds the priority it wanted, and records it as its own (not a person's)
    assert deliver(ports, after=60, minute=1, reason="Threshold Crossed: 9 datapoints") == ["commented"]
    [state] = ports.store.stored()
    assert ports.jira.issues["OPS-1"].priority == "Highest" and state.priority_set == "Highest"
    assert ports.jira.calls["edit"] == 1
