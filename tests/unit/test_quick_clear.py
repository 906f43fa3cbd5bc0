"""A clear that comes less than the write interval after its issue's create, in every interleaving found to matter:
it always ends with the issue resolved, and the state never says the alert cleared while the issue stays open."""

from __future__ import annotations

from dataclasses import replace

import pytest

from jira_notifier.core.alert import AlertState
from jira_notifier.core.budgets import START_BUDGET_SECONDS
from jira_notifier.core.coalescing import HeldBack
from jira_notifier.core.errors import BusyError, CreateUnconfirmedError, HeldBackError, JiraUnavailableError
from jira_notifier.core.state import IssueStatus, PersonDecision
from tests.support.builders import alarm_message, alerts_in, sns_event
from tests.support.fakes import Ports, in_memory
from tests.unit.test_core import PROVIDER, SECRET, alarm, deliver, the_state
from tests.unit.test_reconcile_step import FakeAlarms, step


@pytest.fixture
def ports() -> Ports:
    return in_memory(PROVIDER, SECRET)


def resolved_once(ports: Ports) -> None:
    [issue] = ports.jira.issues.values()
    state = the_state(ports)
    assert issue.done and ports.jira.calls["transition"] == 1
    assert (state.issue_status, state.alert_state, state.pending_state) == (
        IssueStatus.RESOLVED,
        AlertState.RESOLVED,
        None,
    )


@pytest.mark.parametrize("after", [0.5, 1.0, 1.9])
def test_a_clear_within_the_interval_is_written_by_the_invocation_that_held_it_back(ports: Ports, after: float) -> None:
    deliver(ports, "ALARM", 0)
    assert deliver(ports, "OK", 1, after=after) == ["resolved"]
    resolved_once(ports)


def test_a_second_channel_copy_of_a_held_back_clear_does_not_turn_its_write_into_a_comment(ports: Ports) -> None:
    # Given a clear held back by one invocation, which will write it once the interval has passed
    deliver(ports, "ALARM", 0)
    ports.clock.sleep(1.0)
    alert, event = alarm("OK", 1)
    holder: list[HeldBack] = []
    assert [o.action for o in ports.notify.process(alert, event=event, held=holder)] == ["coalesced"]

    # When the same transition arrives on a second channel before then (another invocation, which writes nothing)
    ports.clock.sleep(0.5)
    copy_event = sns_event(alarm_message("OK", 1), message_id="second-channel-copy")
    ports.notify.process(alerts_in(copy_event)[0], event=copy_event, held=[])
    assert the_state(ports).alert_state is AlertState.FIRING  # the clear is held back, not applied

    # Then the holder's write resolves the issue
    [outcome] = ports.notify.flow.write_held_back(holder, None)
    assert not isinstance(outcome, Exception) and outcome.action == "resolved"
    resolved_once(ports)


def test_a_retry_of_a_held_back_clear_within_the_interval_writes_it(ports: Ports) -> None:
    # Given a clear held back by an invocation with no time left to wait: it asks for a retry
    deliver(ports, "ALARM", 0)
    ports.clock.sleep(0.5)
    alert, event = alarm("OK", 1)
    with pytest.raises(HeldBackError):
        ports.notify.process(alert, event=event, remaining=lambda: START_BUDGET_SECONDS + 1)

    # When the retry (the same delivery) comes before the interval has passed, and nothing else ever arrives
    ports.clock.sleep(0.5)
    assert [o.action for o in ports.notify.process(alert, event=event)] == ["resolved"]

    # Then it waited the interval out and wrote the clear
    resolved_once(ports)


def test_a_clear_refused_by_a_held_lease_is_written_by_its_retry(ports: Ports) -> None:
    # Given the issue's lease held by another invocation when the clear comes
    deliver(ports, "ALARM", 0)
    [item] = ports.store.items.values()
    item.owner, item.until = "another-invocation", ports.clock.time() + 30
    ports.clock.sleep(1.0)
    alert, event = alarm("OK", 1)
    with pytest.raises(BusyError):
        ports.notify.process(alert, event=event)

    # When that invocation ends and the clear is redelivered within the interval
    item.owner = None
    ports.clock.sleep(0.5)
    assert [o.action for o in ports.notify.process(alert, event=event)] == ["resolved"]
    resolved_once(ports)


def test_a_clear_while_the_create_answer_is_lost_resolves_the_adopted_issue(ports: Ports) -> None:
    # Given a create Jira carried out whose answer was lost, and a search that trails it
    ports.jira.fail("create", JiraUnavailableError("timed out", ambiguous=True), acted=True)
    ports.jira.search_lag = 5.0
    with pytest.raises(JiraUnavailableError):
        deliver(ports, "ALARM", 0)

    # When the clear comes a moment later: nothing is known yet, so it is retried
    alert, event = alarm("OK", 1)
    ports.clock.sleep(1.0)
    with pytest.raises(CreateUnconfirmedError):
        ports.notify.process(alert, event=event)

    # Then its retry adopts the issue and resolves it
    ports.clock.sleep(10.0)
    assert [o.action for o in ports.notify.process(alert, event=event)] == ["resolved"]
    resolved_once(ports)


def test_reconcile_resolves_an_open_issue_whose_state_recorded_the_clear(ports: Ports) -> None:
    # Given an open issue whose state says its alert cleared (a clear recorded but never written)
    deliver(ports, "ALARM", 0)
    [item] = ports.store.items.values()
    item.state = replace(item.state, alert_state=AlertState.RESOLVED, transition_at=item.state.transition_at + 60_000)
    ports.clock.sleep(600)

    # When reconcile finds the alarm OK
    summary = step(ports, FakeAlarms()).run(lambda: 60.0)

    # Then it resolves the issue
    assert [r.action for r in summary.results] == ["resolved"]
    [issue] = ports.jira.issues.values()
    assert issue.done


def test_reconcile_leaves_a_clear_a_person_reopened(ports: Ports) -> None:
    deliver(ports, "ALARM", 0)
    assert deliver(ports, "OK", 1, after=60) == ["resolved"]
    [item] = ports.store.items.values()
    item.state = item.state.decided_by_person(PersonDecision.REOPENED, ports.clock.time())
    calls = sum(ports.jira.calls.values())

    summary = step(ports, FakeAlarms()).run(lambda: 60.0)

    assert [(r.action, r.detail) for r in summary.results] == [("skipped", "a clear was already applied to this issue")]
    assert sum(ports.jira.calls.values()) == calls
