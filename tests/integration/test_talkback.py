"""Jira talks back: people act on the product's issues in the stand-in Jira, the read-back records it, and the next
alert deliveries (through the SNS handler as Lambda calls it) honour it.

Each step names the Jira requests it must cost; the stand-in Jira checks every request against the spec.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from jira_notifier.adapters.dynamodb.owned import OwnedIssueStore
from jira_notifier.adapters.dynamodb.state import StateStore, state_from_item
from jira_notifier.app.lease import Leases
from jira_notifier.app.readback import ReadBackReport, read_back
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.state import IssueState, IssueStatus, PersonDecision
from jira_notifier.entry import wiring
from tests.conftest import DEFAULT_PROVIDER, SECRET_NAME
from tests.integration.test_lifecycle import CREATE, NONE, Run, run  # noqa: F401 - run is a fixture
from tests.support.builders import alarm_event

SEARCH = ("POST", "/rest/api/3/search/jql")
PROVIDER = ProviderConfig(**DEFAULT_PROVIDER)
STATE_TABLE = "jira-notifier-state"


@dataclass
class Recorder:
    counts: Counter[str] = field(default_factory=Counter)

    def count(self, name: str, value: float = 1) -> None:
        self.counts[name] += int(value)


@dataclass
class ReadBack:
    """Runs the read-back ``after`` seconds after the previous step, on the clock the functions use."""

    run: Run
    aws: Any
    recorder: Recorder = field(default_factory=Recorder)

    def __call__(
        self, *, after: float = 60.0, dry_run: bool = False, provider: ProviderConfig = PROVIDER
    ) -> tuple[ReadBackReport, list[tuple[str, str]]]:
        clock = self.run.clock
        clock.now += after
        notifier = wiring.get_notifier("sns")
        client = notifier.deps.connect(notifier.deps.secrets.get(SECRET_NAME), None)
        dynamodb = self.aws.session.client("dynamodb")
        report = read_back(
            provider,
            client,
            Leases(StateStore(dynamodb, STATE_TABLE, clock=clock.time, sleep=clock.sleep), clock.time),
            OwnedIssueStore(dynamodb, STATE_TABLE, clock=clock.time, sleep=clock.sleep),
            self.recorder,
            sync_back=notifier.deps.sync_back,
            clock=clock.time,
            dry_run=dry_run,
        )
        requests = self.run.jira.requests[self.run.seen :]
        self.run.seen = len(self.run.jira.requests)
        return report, requests

    def state(self) -> IssueState:
        """The state of the one alert the test follows."""
        [state] = [state_from_item(item["pk"]["S"], item) for item in self.aws.state_items() if item.get("issueKey")]
        return state


@pytest.fixture
def read(run: Run, aws: Any) -> ReadBack:  # noqa: F811 - the fixture imported above
    return ReadBack(run, aws)


def searches(jira: Any) -> list[dict[str, Any]]:
    return [json.loads(c.request.body) for c in jira.mock.calls if c.request.url.endswith("/search/jql")]


def changes(report: ReadBackReport) -> list[tuple[str, tuple[str, ...]]]:
    return [(done.issue_key, done.changes) for done in report.recorded]


def test_a_person_resolves_while_firing_one_comment_then_held_until_the_alarm_clears_and_fires_again(
    run: Run,  # noqa: F811
    read: ReadBack,
    jira: Any,
) -> None:
    # Given an open issue, and a first read-back (it also sweeps for deletions) that finds nothing new
    run(alarm_event("ALARM", 0, message_id="m-1"))
    report, cost = read()
    assert changes(report) == [] and report.swept and cost == [SEARCH, SEARCH]

    # When a person resolves it while the alarm still fires
    jira.resolve_by_hand("OPS-1", "Done")
    report, cost = read()
    assert changes(report) == [("OPS-1", ("resolved",))] and cost == [SEARCH]
    assert read.state().person_decision is PersonDecision.RESOLVED
    assert read.recorder.counts["HumanDecisionsRecorded"] == 1

    # Then the next firing delivery comments once, saying why, and reopens nothing
    result, cost = run(
        alarm_event("ALARM", 5, message_id="m-2", reason="Threshold Crossed: 9 datapoints", previous="ALARM")
    )
    assert result == {"commented": 1} and cost == [("POST", "/rest/api/3/issue/OPS-1/comment")]
    assert "will not reopen it until the alert clears and fires again" in json.dumps(jira.by_key("OPS-1").comments[-1])
    assert run(
        alarm_event("ALARM", 6, message_id="m-3", reason="Threshold Crossed: 12 datapoints", previous="ALARM")
    ) == (
        {"skipped": 1},
        NONE,
    )
    assert jira.by_key("OPS-1").status == "Done"

    # When the alarm clears, then fires again, the issue is reopened
    assert run(alarm_event("OK", 7, message_id="m-4")) == ({"skipped": 1}, NONE)
    result, cost = run(alarm_event("ALARM", 8, message_id="m-5"))
    assert result == {"reopened": 1}
    assert ("POST", "/rest/api/3/issue/OPS-1/transitions") in cost
    assert jira.by_key("OPS-1").status == "To Do" and read.state().person_decision is None


def test_wont_fix_is_never_reopened_and_comments_at_most_once_per_cooldown(
    run: Run,  # noqa: F811
    read: ReadBack,
    jira: Any,
) -> None:
    run(alarm_event("ALARM", 0, message_id="m-1"))
    jira.resolve_by_hand("OPS-1", "Won't Do")
    report, _ = read()
    assert changes(report) == [("OPS-1", ("wont-fix",))]
    assert read.state().person_resolution == "Won't Do"

    # The next firing: one comment, no transition; the same firing again: nothing
    result, cost = run(alarm_event("ALARM", 5, message_id="m-2", reason="still", previous="ALARM"))
    assert result == {"commented": 1} and cost == [("POST", "/rest/api/3/issue/OPS-1/comment")]
    assert "resolved as Won't Do" in json.dumps(jira.by_key("OPS-1").comments[-1])
    assert run(alarm_event("ALARM", 6, message_id="m-3", reason="again", previous="ALARM"))[1] == NONE
    # Cleared and fired again within the cool-down: nothing; after it: one comment, still no reopen
    run(alarm_event("OK", 7, message_id="m-4"))
    assert run(alarm_event("ALARM", 8, message_id="m-5")) == ({"skipped": 1}, NONE)
    run(alarm_event("OK", 9, message_id="m-6"))
    result, cost = run(alarm_event("ALARM", 70, message_id="m-7"), after=PROVIDER.cooldown)
    assert result == {"commented": 1} and cost == [("POST", "/rest/api/3/issue/OPS-1/comment")]
    assert jira.by_key("OPS-1").status == "Done" and jira.by_key("OPS-1").transitions == []


def test_a_deleted_issue_is_not_recreated_by_the_same_firing_only_by_the_next(
    run: Run,  # noqa: F811
    read: ReadBack,
    jira: Any,
) -> None:
    run(alarm_event("ALARM", 0, message_id="m-1"))
    read()  # the first run sweeps; the next sweep is an hour later
    jira.delete_by_hand("OPS-1")

    # A search never shows a deletion: the hourly sweep finds the open issue missing and reads it by id (404)
    report, cost = read(after=3600)
    assert changes(report) == [("OPS-1", ("deleted",))]
    assert cost == [SEARCH, SEARCH, ("GET", "/rest/api/3/issue/10001")]
    state = read.state()
    assert state.issue_status is IssueStatus.NONE and state.person_decision is PersonDecision.DELETED

    # The same firing goes on: nothing is recreated; a clear, then a new firing: a new issue
    assert run(alarm_event("ALARM", 5, message_id="m-2", reason="still", previous="ALARM")) == ({"skipped": 1}, NONE)
    assert run(alarm_event("OK", 6, message_id="m-3")) == ({"skipped": 1}, NONE)
    result, cost = run(alarm_event("ALARM", 7, message_id="m-4"))
    assert result == {"created": 1} and cost == CREATE
    assert read.state().issue_key == "OPS-2" and read.state().person_decision is None


def test_a_moved_issue_keeps_its_id_and_comments_go_to_its_new_key(
    run: Run,  # noqa: F811
    read: ReadBack,
    jira: Any,
) -> None:
    run(alarm_event("ALARM", 0, message_id="m-1"))
    jira.move_by_hand("OPS-1", "SEC")

    report, _ = read()
    assert changes(report) == [("SEC-1", ("moved",))]
    state = read.state()
    assert (state.issue_id, state.issue_key, state.issue_project) == ("10001", "SEC-1", "SEC")

    result, cost = run(alarm_event("ALARM", 5, message_id="m-2", reason="more"))
    assert result == {"commented": 1} and cost == [("POST", "/rest/api/3/issue/SEC-1/comment")]


def test_an_issue_a_person_reopened_is_open_again_and_resolved_by_the_next_clear(
    run: Run,  # noqa: F811
    read: ReadBack,
    jira: Any,
) -> None:
    run(alarm_event("ALARM", 0, message_id="m-1"))
    run(alarm_event("OK", 1, message_id="m-2"))
    read()
    jira.reopen_by_hand("OPS-1")

    report, _ = read()
    assert changes(report) == [("OPS-1", ("reopened",))]
    assert read.state().issue_status is IssueStatus.OPEN
    run(alarm_event("ALARM", 5, message_id="m-3"))
    result, _ = run(alarm_event("OK", 6, message_id="m-4"))
    assert result == {"resolved": 1} and jira.by_key("OPS-1").status == "Done"


def test_the_products_own_resolve_is_not_a_persons_decision(
    run: Run,  # noqa: F811
    read: ReadBack,
    jira: Any,
) -> None:
    run(alarm_event("ALARM", 0, message_id="m-1"))
    run(alarm_event("OK", 1, message_id="m-2"))
    report, _ = read()
    assert changes(report) == [] and read.state().person_decision is None
    result, _ = run(alarm_event("ALARM", 2, message_id="m-3"))
    assert result == {"reopened": 1}


def test_the_search_pages_by_next_page_token_and_asks_only_for_the_fields_it_needs(
    run: Run,  # noqa: F811
    read: ReadBack,
    jira: Any,
) -> None:
    # Given 150 owned issues of other alerts (another provider's, say) updated recently, and ours changed last
    for number in range(150):
        jira._new_issue({"summary": f"other {number}", "labels": ["jira-notifier", f"jn-other{number}"]})
    run(alarm_event("ALARM", 0, message_id="m-1"))
    key = read.state().issue_key
    assert key is not None
    jira.resolve_by_hand(key, "Done")

    report, cost = read()

    assert changes(report) == [(key, ("resolved",))] and report.issues_read == 151
    [first, second, _sweep] = searches(jira)
    assert cost[:2] == [SEARCH, SEARCH] and "nextPageToken" not in first
    assert second["nextPageToken"] and second["jql"] == first["jql"]
    assert first["fields"] == ["status", "resolution", "resolutiondate", "labels", "updated", "project"]
    assert first["jql"] == 'labels = "jira-notifier" AND updated >= "-1440m" ORDER BY updated ASC'


def test_a_run_with_nothing_changed_costs_one_search_and_reaches_back_only_to_the_last_run(
    run: Run,  # noqa: F811
    read: ReadBack,
    jira: Any,
) -> None:
    run(alarm_event("ALARM", 0, message_id="m-1"))
    read()

    report, cost = read(after=900)

    assert cost == [SEARCH] and changes(report) == [] and not report.swept
    # 15 minutes since the last run, plus the 5-minute overlap
    assert searches(jira)[-1]["jql"] == 'labels = "jira-notifier" AND updated >= "-20m" ORDER BY updated ASC'


def test_a_dry_run_shows_what_it_would_record_and_changes_nothing(
    run: Run,  # noqa: F811
    read: ReadBack,
    jira: Any,
) -> None:
    run(alarm_event("ALARM", 0, message_id="m-1"))
    jira.resolve_by_hand("OPS-1", "Done")

    report, _ = read(dry_run=True)

    assert changes(report) == [("OPS-1", ("resolved",))]
    assert read.state().issue_status is IssueStatus.OPEN and read.recorder.counts == Counter()
    assert changes(read()[0]) == [("OPS-1", ("resolved",))]  # the cursor did not move: the real run sees it


def test_a_lagging_search_that_shows_the_issue_before_the_products_reopen_is_checked_by_id(
    run: Run,  # noqa: F811
    read: ReadBack,
    jira: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(alarm_event("ALARM", 0, message_id="m-1"))
    run(alarm_event("OK", 1, message_id="m-2"))
    done_view = jira._issue_json(jira.by_key("OPS-1"))
    run(alarm_event("ALARM", 2, message_id="m-3"))  # reopened by the product
    # The search index still has the issue as it was when resolved
    original = jira._issue_json
    monkeypatch.setattr(jira, "_issue_json", lambda issue: done_view if issue.key == "OPS-1" else original(issue))
    fresh = original(jira.by_key("OPS-1"))
    monkeypatch.setattr(jira, "get_issue", lambda params, query, body: _answer(fresh))

    report, cost = read()

    assert changes(report) == [] and ("GET", "/rest/api/3/issue/10001") in cost
    assert read.state().issue_status is IssueStatus.OPEN and read.state().person_decision is None


def _answer(body: dict[str, Any]) -> Any:
    from jira_standin.model import Answer

    return Answer(200, body)
