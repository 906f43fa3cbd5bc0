"""What Jira says of an owned issue, read against the state: which of it is a person's decision. Pure."""

from __future__ import annotations

from dataclasses import replace

import pytest

from jira_notifier.adapters.jira.issue_events import read_issue_event
from jira_notifier.app.effects import view_of
from jira_notifier.app.readback import needs_reading, owned_pks
from jira_notifier.core.alert import AlertState
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.lifecycle import JiraView
from jira_notifier.core.lifecycle import jira_says as says
from jira_notifier.core.state import IssueState, IssueStatus, PersonDecision, WorkflowPhase
from jira_notifier.entry.webhook import MAX_AGE_SECONDS, MAX_AHEAD_SECONDS, body_key, fresh
from jira_notifier.ports import JiraIssue

NOW = 1_800_000_000.0
PROVIDER = ProviderConfig(
    group="ops", name="jira", project="OPS", issue_type="Task", secret="s", wont_fix_resolution="Won't Do"
)
OPEN = IssueState(
    pk="ops/jira#abc",
    provider="ops/jira",
    dedupe_key="k",
    issue_id="10001",
    issue_key="OPS-1",
    issue_status=IssueStatus.OPEN,
    alert_state=AlertState.FIRING,
    last_write_at=NOW - 600,
)
RESOLVED = replace(
    OPEN, issue_status=IssueStatus.RESOLVED, workflow_phase=WorkflowPhase.RESOLVED, resolved_at=NOW - 600
)
TODO = JiraIssue(id="10001", key="OPS-1", status_category="new", updated_at=NOW - 60, project_key="OPS")
DONE = replace(TODO, status_category="done", resolution="Done", resolved_at=NOW - 60)
WONT = replace(DONE, resolution="won't do")


def jira_says(
    state: IssueState, issue_id: str, issue: JiraIssue | None, provider: ProviderConfig, now: float
) -> tuple[IssueState, tuple[str, ...]]:
    return says(state, JiraView(issue_id, view_of(issue), provider.wont_fix_resolution), now)


@pytest.mark.parametrize(
    ("state", "issue", "changes", "status"),
    [
        (OPEN, TODO, (), IssueStatus.OPEN),
        (OPEN, DONE, ("resolved",), IssueStatus.RESOLVED),
        (OPEN, WONT, ("wont-fix",), IssueStatus.RESOLVED),
        (RESOLVED, DONE, (), IssueStatus.RESOLVED),  # the product's own resolve
        (RESOLVED, WONT, ("wont-fix",), IssueStatus.RESOLVED),  # a person changed its resolution
        (RESOLVED.decided_by_person(PersonDecision.WONT_FIX, NOW - 5), WONT, (), IssueStatus.RESOLVED),
        (RESOLVED, TODO, ("reopened",), IssueStatus.OPEN),
        (OPEN, None, ("deleted",), IssueStatus.NONE),
        (OPEN.decided_by_person(PersonDecision.DELETED, NOW - 5), None, (), IssueStatus.NONE),
        (OPEN, replace(TODO, key="SEC-4", project_key="SEC"), ("moved",), IssueStatus.OPEN),
        (OPEN, replace(DONE, key="SEC-4", project_key="SEC"), ("moved", "resolved"), IssueStatus.RESOLVED),
        (replace(OPEN, issue_id="10002"), DONE, (), IssueStatus.OPEN),  # an older episode's issue
    ],
    ids=[
        "same",
        "resolved-by-person",
        "wont-fix",
        "products-own-resolve",
        "resolution-changed-to-wont-fix",
        "wont-fix-known",
        "reopened-by-person",
        "deleted",
        "deletion-known",
        "moved",
        "moved-and-resolved",
        "not-the-followed-issue",
    ],
)
def test_jira_says(state: IssueState, issue: JiraIssue | None, changes: tuple[str, ...], status: IssueStatus) -> None:
    after, changed = jira_says(state, "10001", issue, PROVIDER, NOW)

    assert changed == changes and after.issue_status is status
    if changes:
        assert after.issue_id == state.issue_id and after.person_notice_at is None
    if "moved" in changes:
        assert (after.issue_key, after.issue_project) == ("SEC-4", "SEC")


def test_a_person_decision_keeps_what_they_chose_and_when_it_was_read() -> None:
    after, _ = jira_says(OPEN, "10001", WONT, PROVIDER, NOW)

    assert (after.person_decision, after.person_resolution, after.person_decided_at) == (
        PersonDecision.WONT_FIX,
        "won't do",
        NOW,
    )
    assert after.resolved_at == WONT.resolved_at  # Jira's resolution date: the reopen window counts from it


@pytest.mark.parametrize(
    ("seen_at", "last_write_at", "read"),
    [(NOW - 60, NOW - 600, False), (NOW - 600, NOW - 60, True), (None, NOW - 60, True), (NOW, None, False)],
    ids=["newer-than-the-products-write", "older", "undated", "never-written"],
)
def test_a_view_not_newer_than_the_products_own_write_is_read_again(
    seen_at: float | None, last_write_at: float | None, read: bool
) -> None:
    assert needs_reading(replace(OPEN, last_write_at=last_write_at), DONE, seen_at) is read
    assert not needs_reading(replace(OPEN, last_write_at=last_write_at), None, seen_at)  # a 404 is the truth


def test_an_issue_points_to_its_alerts_state_by_its_jn_labels_only() -> None:
    issue = replace(TODO, labels=("jira-notifier", "cloudwatch-alarm", "jn-abc", "aws-alerts"))

    assert owned_pks(PROVIDER, issue) == ["ops/jira#abc"]


# A webhook body, and whether it is still one Jira may be sending ------------------------------------------------


ISSUE_JSON = {"id": "10001", "key": "OPS-1", "self": "https://acme.atlassian.net/rest/api/2/issue/10001"}


@pytest.mark.parametrize(
    ("timestamp", "at"),
    [
        (1_800_000_000_123, 1_800_000_000.123),
        (1.8e12, 1.8e9),
        (None, None),
        ("1800000000000", None),
        (True, None),
        (10**400, None),
        (float("inf"), None),
        (float("nan"), None),
    ],
    ids=["millis", "float", "absent", "text", "bool", "beyond-float", "infinite", "nan"],
)
def test_a_webhook_body_is_dated_by_its_timestamp_in_milliseconds(timestamp: object, at: float | None) -> None:
    payload = {"webhookEvent": "jira:issue_updated", "timestamp": timestamp, "issue": ISSUE_JSON}

    event = read_issue_event(payload)

    assert event is not None and event.at == at and event.issue_url == ISSUE_JSON["self"] and not event.deleted


def test_a_webhook_body_without_the_issues_self_has_no_site() -> None:
    event = read_issue_event({"webhookEvent": "jira:issue_deleted", "issue": {"id": "10001", "self": 7}})

    assert event is not None and event.issue_url is None and event.deleted


@pytest.mark.parametrize(
    ("raised_at", "fresh_then"),
    [
        (NOW, True),
        (NOW - MAX_AGE_SECONDS, True),
        (NOW - MAX_AGE_SECONDS - 0.001, False),
        (NOW + MAX_AHEAD_SECONDS, True),
        (NOW + MAX_AHEAD_SECONDS + 0.001, False),
        (None, False),
    ],
    ids=["now", "oldest-taken", "too-old", "furthest-ahead-taken", "too-far-ahead", "undated"],
)
def test_a_delivery_is_taken_within_its_time_window_only(raised_at: float | None, fresh_then: bool) -> None:
    assert fresh(raised_at, NOW) is fresh_then


def test_a_delivery_is_remembered_by_its_body_byte_for_byte() -> None:
    sent, retried = b'{"webhookEvent": "jira:issue_updated"}', b'{"webhookEvent": "jira:issue_updated"}'

    assert body_key(sent) == body_key(retried)
    assert body_key(sent) != body_key(sent.replace(b": ", b":"))  # the same JSON, other bytes: another body
