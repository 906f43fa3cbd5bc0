"""The orchestration on in-memory ports (``tests.support.fakes``): every decision to its effect, in milliseconds.

The end-to-end tests (handlers + moto + the stand-in Jira) prove the same paths against the real adapters; these pin
down the core's own rules: the write-ahead create mark, recovery, coalescing, the batch path's create protocol.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from jira_notifier.app.batch import Batch
from jira_notifier.app.create import SEARCH_SETTLE_SECONDS
from jira_notifier.core.alert import Alert, GraphImage
from jira_notifier.core.budgets import START_BUDGET_SECONDS
from jira_notifier.core.config import JiraSecret, ProviderConfig
from jira_notifier.core.errors import CreateUnconfirmedError, HeldBackError, JiraUnavailableError
from jira_notifier.core.lifecycle import MIN_WRITE_INTERVAL
from jira_notifier.core.state import CREATE_SEND_WINDOW, IssueStatus
from jira_notifier.sources import normalize_sqs_record
from tests.support.builders import alarm_message, alerts_in, sns_event
from tests.support.fakes import Ports, in_memory

PROVIDER = ProviderConfig(
    group="ops",
    name="jira",
    project="OPS",
    issue_type="Task",
    secret="s",
    resolve_transition="Done",
    reopen_transition="Reopen",
    reopen_window=86400,
)
SECRET = JiraSecret(name="s", email="bot@example.com", api_token="t", server_url="https://example.atlassian.net")
SETTLED = CREATE_SEND_WINDOW + 10.0 + SEARCH_SETTLE_SECONDS  # mark + window + Jira's timeout + margin


@pytest.fixture
def ports() -> Ports:
    return in_memory(PROVIDER, SECRET)


def alarm(state: str, minute: float, **kwargs: Any) -> tuple[Alert, dict[str, Any]]:
    event = sns_event(alarm_message(state, minute, **kwargs))
    return alerts_in(event)[0], event


def deliver(ports: Ports, state: str, minute: float, *, after: float = 60.0, **kwargs: Any) -> list[str]:
    ports.clock.sleep(after)
    alert, event = alarm(state, minute, **kwargs)
    return [outcome.action for outcome in ports.notify.process(alert, event=event)]


def the_state(ports: Ports) -> Any:
    [state] = ports.store.stored()
    return state


def test_a_new_alert_is_one_create_and_leaves_no_mark(ports: Ports) -> None:
    assert deliver(ports, "ALARM", 0) == ["created"]
    assert ports.jira.calls == {"createmeta": 1, "create": 1}
    state = the_state(ports)
    assert (state.issue_status, state.pending_create_at) == (IssueStatus.OPEN, None)


def test_repeat_clear_and_refire_each_cost_one_write(ports: Ports) -> None:
    deliver(ports, "ALARM", 0)
    assert deliver(ports, "ALARM", 1, reason="worse") == ["commented"]
    assert deliver(ports, "OK", 2) == ["resolved"]
    assert deliver(ports, "ALARM", 3) == ["reopened"]
    assert ports.jira.calls["create"] == 1 and ports.jira.calls["comment"] == 1
    assert the_state(ports).pending_create_at is None


def test_an_answer_lost_after_jira_acted_is_settled_without_a_second_issue(ports: Ports) -> None:
    # Given Jira creates the issue, the answer is lost, and its search trails writes
    ports.jira.search_lag = 20.0
    ports.jira.fail("create", JiraUnavailableError("timed out", ambiguous=True), acted=True)
    with pytest.raises(JiraUnavailableError):
        deliver(ports, "ALARM", 0)
    assert the_state(ports).pending_create_at is not None  # the mark stays with the lease released

    # When the same transition arrives again before the search can show the issue: nothing is created
    with pytest.raises(CreateUnconfirmedError):
        deliver(ports, "ALARM", 0, after=5)

    # Then a later delivery adopts it
    assert deliver(ports, "ALARM", 0, after=SETTLED) == ["recovered"]
    assert len(ports.jira.issues) == 1 and ports.jira.calls["create"] == 1
    assert the_state(ports).pending_create_at is None


def test_a_create_refused_outright_clears_its_mark(ports: Ports) -> None:
    ports.jira.fail("create", JiraUnavailableError("rate limited", status=429))
    with pytest.raises(JiraUnavailableError):
        deliver(ports, "ALARM", 0)
    assert the_state(ports).pending_create_at is None
    assert deliver(ports, "ALARM", 0, after=1) == ["created"]
    assert ports.jira.calls["search"] == 0  # nothing to settle: no search before creating


def test_a_mark_nothing_landed_for_is_dropped_once_settled(ports: Ports) -> None:
    ports.jira.fail("create", JiraUnavailableError("timed out", ambiguous=True))  # Jira never got it
    with pytest.raises(JiraUnavailableError):
        deliver(ports, "ALARM", 0)
    assert deliver(ports, "ALARM", 0, after=SETTLED) == ["created"]
    assert len(ports.jira.issues) == 1


def test_a_clear_after_an_unrecorded_create_resolves_the_adopted_issue(ports: Ports) -> None:
    ports.jira.fail("create", JiraUnavailableError("timed out", ambiguous=True), acted=True)
    ports.jira.search_lag = 30.0
    with pytest.raises(JiraUnavailableError):
        deliver(ports, "ALARM", 0)
    assert deliver(ports, "OK", 1, after=SETTLED) == ["resolved"]
    [issue] = ports.jira.issues.values()
    assert issue.done


def test_a_change_within_the_write_interval_is_held_back_and_written_once(ports: Ports) -> None:
    deliver(ports, "ALARM", 0)
    # A clear within the interval waits it out, then is written, with the note of what was coalesced
    assert deliver(ports, "OK", 1, after=MIN_WRITE_INTERVAL / 2) == ["resolved"]
    assert the_state(ports).pending_state is None and ports.counts["AlertsCoalesced"] == 1


def test_a_newer_firing_supersedes_a_held_back_clear(ports: Ports) -> None:
    deliver(ports, "ALARM", 0)
    ports.jira.fail("transition", JiraUnavailableError("Jira answered 503", status=503))
    with pytest.raises(JiraUnavailableError):
        deliver(ports, "OK", 1, after=MIN_WRITE_INTERVAL / 2)  # held back, and its write failed
    assert deliver(ports, "ALARM", 2, after=5) == ["commented"]
    [issue] = ports.jira.issues.values()
    assert not issue.done and the_state(ports).pending_state is None


def test_the_batch_path_creates_in_bulk_through_the_same_protocol(ports: Ports) -> None:
    records = [
        {"messageId": f"m-{n}", "body": json.dumps(alarm_message("ALARM", 0, name=f"a-{n}", arn=f"arn:a:{n}"))}
        for n in range(3)
    ]
    result = Batch(ports.notify, normalize_sqs_record).process(records, None)
    assert result.failed == {}
    assert [outcome.action for outcome in result.outcomes] == ["created"] * 3
    assert ports.jira.calls["bulk"] == 1 and ports.jira.calls["create"] == 0
    assert all(state.pending_create_at is None for state in ports.store.stored())


def test_a_refused_park_is_a_retry_and_costs_no_other_provider() -> None:
    broken = ProviderConfig(group="ops", name="broken", project="NOPE", issue_type="Bug", secret="s")
    ports = in_memory(PROVIDER, SECRET, providers=[broken])

    def refuse(**kwargs: Any) -> None:
        raise JiraUnavailableError("the queue refused")

    alert, event = alarm("ALARM", 0)
    ports.notify.parker.park = refuse  # type: ignore[method-assign]
    with pytest.raises(JiraUnavailableError, match="queue refused"):
        ports.notify.process(alert, event=event)
    assert len(ports.jira.issues) == 1  # the healthy provider's issue


def test_a_lost_create_answer_the_search_already_shows_is_adopted_at_once(ports: Ports) -> None:
    ports.jira.fail("create", JiraUnavailableError("timed out", ambiguous=True), acted=True)
    assert deliver(ports, "ALARM", 0) == ["recovered"]
    assert len(ports.jira.issues) == 1 and ports.jira.calls == {"createmeta": 1, "create": 1, "search": 1}
    assert the_state(ports).pending_create_at is None and ports.counts["IssuesRecovered"] == 1


def test_a_held_back_change_its_holder_failed_to_write_is_written_by_the_next_delivery(ports: Ports) -> None:
    deliver(ports, "ALARM", 0)
    ports.jira.fail("transition", JiraUnavailableError("Jira answered 503", status=503))
    with pytest.raises(JiraUnavailableError):
        deliver(ports, "OK", 1, after=MIN_WRITE_INTERVAL / 2)
    assert the_state(ports).pending_state is not None
    assert deliver(ports, "OK", 1, after=MIN_WRITE_INTERVAL) == ["resolved"]  # the repeat writes what was held
    [issue] = ports.jira.issues.values()
    assert issue.done and the_state(ports).pending_state is None


def test_a_held_back_change_with_no_time_left_to_wait_stays_stored_for_the_retry(ports: Ports) -> None:
    deliver(ports, "ALARM", 0)
    ports.clock.sleep(MIN_WRITE_INTERVAL / 2)
    alert, event = alarm("OK", 1)
    with pytest.raises(HeldBackError):
        ports.notify.process(alert, event=event, remaining=lambda: START_BUDGET_SECONDS + 1)
    assert the_state(ports).pending_state is not None and ports.jira.calls["transition"] == 0
    assert deliver(ports, "OK", 1, after=MIN_WRITE_INTERVAL) == ["resolved"]


class GraphInsights:
    """Insights that always have a graph: where the orchestration asks for it and attaches it."""

    def __init__(self) -> None:
        self.prepared: list[str] = []

    def prepare(self, alert: Alert, provider: ProviderConfig, remaining: Any) -> tuple[Alert, GraphImage | None]:
        self.prepared.append(alert.dedupe_key)
        return alert, GraphImage("graph.png", b"\x89PNG")

    def attach(self, client: Any, issue_key: str, image: GraphImage) -> None:
        client.add_attachment(issue_key, image.file_name, image.png, "image/png")


def test_a_graph_is_asked_for_before_a_create_and_attached_after_it_only(ports: Ports) -> None:
    ports.deps.insights = insights = GraphInsights()

    deliver(ports, "ALARM", 0)
    deliver(ports, "ALARM", 0)  # a repeat
    deliver(ports, "OK", 5)

    assert len(insights.prepared) == 1
    assert ports.jira.calls["attach"] == 1 and ports.jira.issues["OPS-1"].attachments == ["graph.png"]


def test_a_create_that_fails_attaches_nothing(ports: Ports) -> None:
    ports.deps.insights = GraphInsights()
    ports.jira.fail("create", JiraUnavailableError("down", status=503, ambiguous=False))

    with pytest.raises(JiraUnavailableError):
        deliver(ports, "ALARM", 0)

    assert ports.jira.calls["attach"] == 0
