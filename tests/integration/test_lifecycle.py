"""One alert, one issue, for its whole life: scenarios through the SNS handler as Lambda calls it.

Each step names the Jira requests it must cost; the stand-in Jira checks every request against the spec.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.sns_to_jira.handler import lambda_handler
from jira_notifier.core.errors import JiraUnavailableError, StoreError
from jira_notifier.entry import wiring
from tests.support.builders import alarm_event, alarm_message, notification_event, sns_event
from tests.support.clocks import on_clock

CREATE = [("POST", "/rest/api/3/issue")]
CREATE_COLD = [("GET", "/rest/api/3/issue/createmeta/OPS/issuetypes"), *CREATE]
COMMENT = [("POST", "/rest/api/3/issue/OPS-1/comment")]
NONE: list[tuple[str, str]] = []


@dataclass
class Clock:
    now: float = field(default_factory=time.time)  # starts in step with the stand-in Jira's clock
    slept: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Run:
    jira: Any
    context: Any
    clock: Clock
    seen: int = 0

    def __call__(self, event: dict[str, Any], *, after: float = 60.0) -> tuple[dict[str, int], list[tuple[str, str]]]:
        """Deliver ``event`` ``after`` seconds after the previous step; return the result and the requests it cost."""
        self.clock.now += after
        notifier = wiring.get_notifier("sns")
        on_clock(notifier, self.clock.time, self.clock.sleep)
        try:
            result = lambda_handler(event, self.context)
        finally:
            requests = self.jira.requests[self.seen :]
            self.seen = len(self.jira.requests)
        return result, requests


@pytest.fixture
def run(aws: Any, jira: Any, lambda_context: Any) -> Run:
    clock = Clock()
    jira.now = lambda: datetime.fromtimestamp(clock.now, UTC)  # Jira's clock and the functions' agree
    return Run(jira, lambda_context, clock)


def test_create_repeat_clear_refire_within_and_after_window(run: Run, jira: Any) -> None:
    # Given an alarm that fires
    result, cost = run(alarm_event("ALARM", 0, message_id="m-1"))
    assert result == {"created": 1} and cost == CREATE_COLD
    issue = jira.by_key("OPS-1")
    assert issue.fields["summary"] == "CloudWatch alarm api-5xx-high"
    assert "aws-alerts" in issue.fields["labels"] and issue.fields["priority"] == {"name": "High"}

    # When the same delivery arrives again, nothing happens
    assert run(alarm_event("ALARM", 0, message_id="m-1")) == ({"skipped": 1}, NONE)

    # When it fires again with news, one comment
    assert run(alarm_event("ALARM", 5, message_id="m-2", reason="Threshold Crossed: 3 datapoints")) == (
        {"commented": 1},
        COMMENT,
    )

    # When it clears: transition with the comment in the same request (transitions looked up once)
    result, cost = run(alarm_event("OK", 10, message_id="m-3"))
    assert result == {"resolved": 1}
    assert cost == [("GET", "/rest/api/3/issue/OPS-1/transitions"), ("POST", "/rest/api/3/issue/OPS-1/transitions")]
    assert issue.status == "Done" and issue.transitions == ["Done"] and len(issue.comments) == 2

    # When it fires again within the reopen window: reopen with a comment
    result, cost = run(alarm_event("ALARM", 20, message_id="m-4"))
    assert result == {"reopened": 1}
    assert cost == [
        ("GET", "/rest/api/3/issue/OPS-1"),
        ("GET", "/rest/api/3/issue/OPS-1/transitions"),
        ("POST", "/rest/api/3/issue/OPS-1/transitions"),
    ]
    assert issue.status == "To Do" and issue.transitions == ["Done", "Reopen"]

    # When it clears again, then fires after the reopen window: a new issue
    run(alarm_event("OK", 30, message_id="m-5"))
    issue.resolved_at = jira.now() - timedelta(days=8)
    result, cost = run(alarm_event("ALARM", 40, message_id="m-6"))
    assert result == {"created": 1} and cost == [("GET", "/rest/api/3/issue/OPS-1"), *CREATE]
    assert sorted(i.key for i in jira.issues.values()) == ["OPS-1", "OPS-2"]


def test_warm_paths_cost_one_request_each(run: Run) -> None:
    run(alarm_event("ALARM", 0, arn="arn:aws:cloudwatch:eu-west-1:123456789012:alarm:warm-up", name="warm-up"))
    run(alarm_event("OK", 1, arn="arn:aws:cloudwatch:eu-west-1:123456789012:alarm:warm-up", name="warm-up"))
    # With issue type and transition ids cached, each step of a second alert costs exactly one Jira request.
    assert run(alarm_event("ALARM", 2))[1] == CREATE
    assert run(alarm_event("ALARM", 3))[1] == [("POST", "/rest/api/3/issue/OPS-2/comment")]
    assert run(alarm_event("OK", 4))[1] == [("POST", "/rest/api/3/issue/OPS-2/transitions")]


def test_identical_repeat_within_cooldown_is_not_commented(run: Run) -> None:
    run(notification_event("firing", message_id="n-1"))
    assert run(notification_event("firing", message_id="n-2"), after=60) == ({"skipped": 1}, NONE)
    assert run(notification_event("firing", message_id="n-3"), after=3600)[1] == COMMENT
    assert run(notification_event("firing", message_id="n-4", message="Spend is up more"), after=10)[1] == COMMENT


def test_wont_fix_issue_is_never_reopened(run: Run, jira: Any) -> None:
    run(alarm_event("ALARM", 0))
    run(alarm_event("OK", 1))
    jira.resolve_by_hand("OPS-1", "Won't Do")
    result, cost = run(alarm_event("ALARM", 2))
    assert result == {"commented": 1}
    assert cost == [("GET", "/rest/api/3/issue/OPS-1"), ("POST", "/rest/api/3/issue/OPS-1/comment")]
    assert jira.by_key("OPS-1").status == "Done" and len(jira.issues) == 1
    assert "Won't Do" in str(jira.by_key("OPS-1").comments[-1])


@pytest.mark.parametrize(
    ("first", "then", "expected"),
    [
        ([], "INSUFFICIENT_DATA", ({"skipped": 1}, NONE)),
        ([], "OK", ({"skipped": 1}, NONE)),
        (["ALARM"], "INSUFFICIENT_DATA", ({"commented": 1}, COMMENT)),
    ],
    ids=["insufficient-data-creates-nothing", "ok-without-issue-creates-nothing", "insufficient-data-comments"],
)
def test_states_that_never_create(run: Run, jira: Any, first: list[str], then: str, expected: Any) -> None:
    for minutes, state in enumerate(first):
        run(alarm_event(state, minutes))
    assert run(alarm_event(then, 10)) == expected
    assert len(jira.issues) == len(first)


def test_out_of_order_transition_is_dropped(run: Run, jira: Any) -> None:
    run(alarm_event("ALARM", 0))
    run(alarm_event("OK", 10))
    # An older ALARM delivered late must not reopen the issue
    assert run(alarm_event("ALARM", 5)) == ({"skipped": 1}, NONE)
    assert jira.by_key("OPS-1").status == "Done"


def test_timeout_after_create_is_resolved_by_a_search_for_its_label(run: Run, jira: Any) -> None:
    # Given Jira creates the issue but the answer is lost
    jira.fail("POST", r"/rest/api/3/issue$", None, after=True)
    result, cost = run(alarm_event("ALARM", 0, message_id="m-1"))
    # Then the invocation finds it by its dedupe label instead of failing or creating it twice
    assert result == {"recovered": 1}
    assert cost == [*CREATE_COLD, ("POST", "/rest/api/3/search/jql")]
    assert len(jira.issues) == 1
    # And the lifecycle goes on with that issue
    assert run(alarm_event("OK", 1))[0] == {"resolved": 1}


def test_timeout_after_create_then_retry_finds_the_issue(run: Run, jira: Any) -> None:
    # Given Jira creates the issue, the answer is lost, and the search cannot see it yet (eventual consistency)
    jira.fail("POST", r"/rest/api/3/issue$", None, after=True)
    jira.fail("POST", r"/search/jql$", 200, body={"issues": [], "isLast": True})
    event = alarm_event("ALARM", 0, message_id="m-1")
    with pytest.raises(JiraUnavailableError):
        run(event)
    assert len(jira.issues) == 1
    # When Lambda retries the same delivery
    result, cost = run(event, after=90)
    # Then the issue is found by its dedupe label, not created twice
    assert result == {"recovered": 1}
    assert cost == [("POST", "/rest/api/3/search/jql")]
    assert len(jira.issues) == 1


def test_crash_between_create_and_state_write_then_retry(run: Run, jira: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from jira_notifier.adapters.dynamodb.state import StateStore

    original = StateStore.write

    def lose_confirmation(self: StateStore, owner: str, state: Any, *, release: bool, deadline: float) -> None:
        if state.issue_key:
            raise StoreError("state table update failed: ProvisionedThroughputExceededException")
        original(self, owner, state, release=release, deadline=deadline)

    monkeypatch.setattr(StateStore, "write", lose_confirmation)
    event = alarm_event("ALARM", 0, message_id="m-1")
    with pytest.raises(StoreError):
        run(event)
    monkeypatch.setattr(StateStore, "write", original)
    result, _ = run(event, after=90)
    assert result == {"recovered": 1}
    assert len(jira.issues) == 1


def test_refused_create_is_retried_from_scratch(run: Run, jira: Any) -> None:
    # A 503 on create is ambiguous, but when the search finds nothing the retry creates the issue once.
    jira.fail("POST", r"/rest/api/3/issue$", 503, times=1)
    event = alarm_event("ALARM", 0)
    with pytest.raises(JiraUnavailableError):
        run(event)
    result, cost = run(event, after=90)
    assert result == {"created": 1}
    assert cost == [("POST", "/rest/api/3/search/jql"), *CREATE]  # searched first: the 503 was ambiguous
    assert len(jira.issues) == 1


def test_concurrent_deliveries_of_one_alert_create_one_issue(aws: Any, jira: Any, lambda_context: Any) -> None:
    # Given several invocations receiving the same alarm transition at once (e.g. two channels and a retry)
    events = [alarm_event("ALARM", 0, message_id=f"m-{n}") for n in range(6)]
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(events))

    def deliver(event: dict[str, Any]) -> None:
        barrier.wait()
        try:
            results.append(lambda_handler(event, lambda_context))
        except BaseException as error:  # collected, asserted below
            errors.append(error)

    threads = [threading.Thread(target=deliver, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then exactly one create request reached Jira
    assert errors == []
    assert jira.requests.count(("POST", "/rest/api/3/issue")) == 1
    assert sorted(r.get("created", 0) for r in results) == [0, 0, 0, 0, 0, 1]


def deliver_concurrently(run: Run, events: list[dict[str, Any]], gap: float) -> list[Any]:
    """Each event in an invocation of its own, ``gap`` seconds apart: while one invocation waits out the write
    interval, the next ones arrive and run (as concurrent invocations would), all on the simulated clock."""
    arriving = list(events)
    results: list[Any] = []

    def wait_while_others_arrive(seconds: float) -> None:
        end = run.clock.now + seconds
        while arriving and run.clock.now + gap <= end:
            run.clock.now += gap
            results.append(lambda_handler(arriving.pop(0), run.context))
        run.clock.now = end

    wiring.get_notifier("sns").deps.sleep = wait_while_others_arrive
    while arriving:
        run.clock.now += gap
        results.append(lambda_handler(arriving.pop(0), run.context))
    return results


def test_flapping_alarm_is_coalesced_within_the_per_issue_write_limit(run: Run, jira: Any) -> None:
    run(alarm_event("ALARM", 0))
    # Given an alarm flipping OK/ALARM 21 times within about a second, each change in its own invocation
    states = ["OK", "ALARM"] * 10 + ["OK"]
    results = deliver_concurrently(run, [alarm_event(state, 1 + n / 60) for n, state in enumerate(states)], 0.05)

    # Then far fewer writes than changes reached the issue, the last state won, and the issue says so
    writes = [r for r in jira.writes() if r != ("POST", "/rest/api/3/issue")]
    assert len(results) == len(states)
    assert 1 <= len(writes) <= len(states) // 2, writes
    issue = jira.by_key("OPS-1")
    assert issue.status == "Done"
    assert any("coalesced" in str(comment) for comment in issue.comments)


def test_a_held_back_clear_never_overrides_a_newer_firing(run: Run, jira: Any) -> None:
    # Given a clear held back within the write interval whose write meets a 503, and a new firing within the
    # cool-down after it (the same content as the issue already shows)
    run(alarm_event("ALARM", 0))
    jira.fail("POST", r"/transitions$", 503, times=4)
    with pytest.raises(JiraUnavailableError):
        run(alarm_event("OK", 1), after=0.5)

    result, cost = run(alarm_event("ALARM", 2), after=5)

    # Then the held-back clear is superseded: the issue stays open, with the flap in its timeline (the lost answer
    # to the transition makes this delivery read where the issue is first)
    assert result == {"commented": 1}
    assert cost == [("GET", "/rest/api/3/issue/OPS-1"), *COMMENT]
    assert jira.by_key("OPS-1").status == "To Do"
    assert "coalesced" in str(jira.by_key("OPS-1").comments[-1])
    # And a late retry of the clear's delivery changes nothing
    assert run(alarm_event("OK", 1), after=60)[0] == {"skipped": 1}
    assert jira.by_key("OPS-1").status == "To Do"


@pytest.mark.parametrize("last", ["firing", "resolved"])
def test_notifications_flapping_within_a_second_end_in_the_last_state(run: Run, jira: Any, last: str) -> None:
    # Given a Notification firing, resolved and firing again (then maybe resolved) within about a second, each in an
    # invocation of its own
    statuses = ["firing", "resolved", "firing"] + (["resolved"] if last == "resolved" else [])
    deliver_concurrently(run, [notification_event(status, dedup_key="flap") for status in statuses], 0.3)
    # Then there is one issue, in the state of the last notification
    assert len(jira.issues) == 1
    assert jira.by_key("OPS-1").status == ("To Do" if last == "firing" else "Done")


def test_held_back_change_is_written_by_the_retry_when_its_holder_died(run: Run, jira: Any) -> None:
    run(alarm_event("ALARM", 0))

    # Given a clear arriving within the write interval, whose invocation dies while waiting to write it
    def die(seconds: float) -> None:
        raise TimeoutError("Task timed out")

    event = alarm_event("OK", 1, message_id="m-ok")
    notifier = wiring.get_notifier("sns")
    run.clock.now += 0.5
    on_clock(notifier, run.clock.time, die)
    with pytest.raises(TimeoutError):
        lambda_handler(event, run.context)
    assert jira.by_key("OPS-1").status == "To Do"

    # When Lambda retries the same delivery later
    result, cost = run(event, after=90)

    # Then the held-back clear is applied, with a note of what was coalesced
    assert result == {"resolved": 1}
    assert cost[-1] == ("POST", "/rest/api/3/issue/OPS-1/transitions")
    assert jira.by_key("OPS-1").status == "Done"
    assert "coalesced" in str(jira.by_key("OPS-1").comments[-1])


def test_resolution_not_on_the_transition_screen_is_dropped_once(aws: Any, run: Run, jira: Any) -> None:
    from tests.conftest import DEFAULT_PROVIDER

    aws.put_provider(**{**DEFAULT_PROVIDER, "resolve_resolution": "Fixed"})
    jira.resolution_on_screen = False
    run(alarm_event("ALARM", 0))
    result, cost = run(alarm_event("OK", 1))
    assert result == {"resolved": 1}
    transitions = ("POST", "/rest/api/3/issue/OPS-1/transitions")
    assert cost == [("GET", "/rest/api/3/issue/OPS-1/transitions"), transitions, transitions]
    bodies = [c.request.body for c in jira.mock.calls if c.request.method == "POST" and "transitions" in c.request.url]
    assert b"resolution" in bodies[0] and b"resolution" not in bodies[1]
    # The next alert of the project goes straight to the transition without the refused field
    other = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:other"
    run(alarm_event("ALARM", 2, arn=other, name="other"))
    assert run(alarm_event("OK", 3, arn=other, name="other"))[1] == [("POST", "/rest/api/3/issue/OPS-2/transitions")]


def test_issue_deleted_in_jira_is_not_recreated_by_the_same_firing_only_by_the_next(run: Run, jira: Any) -> None:
    run(alarm_event("ALARM", 0))
    jira.delete_by_hand("OPS-1")
    # The firing's next delivery finds the issue gone: a person's decision, recorded; nothing is recreated
    result, cost = run(alarm_event("ALARM", 1, previous="ALARM"))
    assert result == {"skipped": 1}
    assert cost == [("POST", "/rest/api/3/issue/OPS-1/comment")]
    assert run(alarm_event("ALARM", 2, previous="ALARM")) == ({"skipped": 1}, NONE)
    # The alarm clears, then fires again: a new issue
    assert run(alarm_event("OK", 3)) == ({"skipped": 1}, NONE)
    result, cost = run(alarm_event("ALARM", 4))
    assert result == {"created": 1} and cost == CREATE


def _resent(sample: str, message_id: str, change: Any) -> dict[str, Any]:
    """A sample delivered again as a new SNS message whose body ``change`` rewrites."""
    from tests.conftest import load_event

    event = load_event(sample)
    sns = event["Records"][0]["Sns"]
    sns["MessageId"], sns["Message"] = message_id, change(sns["Message"])
    sns["Timestamp"] = f"2026-11-19T0{len(message_id) % 10}:00:00.000Z"
    return event


def test_growing_cost_anomaly_comments_its_new_impact(run: Run, jira: Any) -> None:
    import json

    def impact(total: float, end: str) -> Any:
        def change(message: str) -> str:
            data = json.loads(message)
            data["impact"]["totalImpact"], data["anomalyEndDate"] = total, end
            return json.dumps(data)

        return change

    run(_resent("sns_cost_anomaly.json", "a-1", impact(1240.5, "2026-11-17T00:00:00Z")))
    # The same anomaly reported again, unchanged: nothing new to say
    assert run(_resent("sns_cost_anomaly.json", "a-2", impact(1240.5, "2026-11-17T00:00:00Z")))[1] == NONE
    # A day later its impact has grown: one comment on the same issue with the new figure
    result, cost = run(_resent("sns_cost_anomaly.json", "a-33", impact(2980.75, "2026-11-18T00:00:00Z")))
    assert result == {"commented": 1} and cost == COMMENT
    assert "2,980.75" in json.dumps(jira.by_key("OPS-1").comments[-1]) and len(jira.issues) == 1


def test_budget_crossing_again_in_the_period_comments_that_period_issue(run: Run, jira: Any) -> None:
    run(_resent("sns_budget.json", "b-1", lambda text: text))
    later = run(_resent("sns_budget.json", "b-22", lambda text: text.replace("$1,001.50", "$1,180.00")))
    assert later == ({"commented": 1}, COMMENT)
    next_month = _resent("sns_budget.json", "b-333", lambda text: text.replace("November 18, 2026", "December 3, 2026"))
    assert run(next_month)[0] == {"created": 1}
    assert [i.key for i in jira.issues.values()] == ["OPS-1", "OPS-2"]


def without_arn(state: str, minutes: float) -> dict[str, Any]:
    """An alarm message as older and re-published messages send it: no AlarmArn, and no actions to read."""
    message = alarm_message(state, minutes)
    del message["AlarmArn"]
    message.update(OKActions=[], AlarmActions=[])
    return sns_event(message)


def test_an_alarm_without_its_arn_is_resolved_by_its_ok(run: Run, jira: Any) -> None:
    # Given an alarm whose messages carry no AlarmArn fires
    assert run(without_arn("ALARM", 0)) == ({"created": 1}, CREATE_COLD)
    issue = jira.by_key("OPS-1")
    assert issue.fields["summary"] == "CloudWatch alarm api-5xx-high"

    # When it clears, its OK resolves that issue instead of opening another
    result, cost = run(without_arn("OK", 5))
    assert result == {"resolved": 1}
    assert cost == [("GET", "/rest/api/3/issue/OPS-1/transitions"), ("POST", "/rest/api/3/issue/OPS-1/transitions")]
    assert len(jira.issues) == 1 and issue.status == "Done"


def test_an_alarm_without_its_arn_and_with_it_is_one_issue(run: Run, jira: Any) -> None:
    # Existing issues were opened under the alarm's ARN: a message without it must find them
    assert run(alarm_event("ALARM", 0))[0] == {"created": 1}

    assert run(without_arn("OK", 5))[0] == {"resolved": 1}
    assert len(jira.issues) == 1 and jira.by_key("OPS-1").status == "Done"
