"""The lifecycle decision table, without I/O."""

from __future__ import annotations

from dataclasses import replace

import pytest

from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.lifecycle import (
    Action,
    Reason,
    decide,
    person_note,
    records_alert_state,
    should_coalesce,
    supersedes_pending,
    within_reopen_window,
)
from jira_notifier.core.state import IssueState, IssueStatus, PersonDecision

NOW = 1_800_000_000.0
PROVIDER = ProviderConfig(
    group="ops",
    name="jira",
    project="OPS",
    issue_type="Task",
    secret="s",
    resolve_transition="Done",
    reopen_transition="Reopen",
    reopen_window=86400,
    cooldown=600,
)
ALERT = Alert(
    source="cloudwatch-alarm",
    dedupe_key="k",
    delivery_key="d-2",
    state=AlertState.FIRING,
    title="t",
    transition_at=2_000,
)
EMPTY = IssueState(pk="p", provider="ops/jira", dedupe_key="k")
OPEN = replace(
    EMPTY,
    issue_key="OPS-1",
    issue_status=IssueStatus.OPEN,
    alert_state=AlertState.FIRING,
    transition_at=1_000,
    created_at=NOW - 60,
    deliveries=EMPTY.with_delivery("d-1").deliveries,
)
RESOLVED = replace(OPEN, issue_status=IssueStatus.RESOLVED, alert_state=AlertState.RESOLVED, resolved_at=NOW - 60)


@pytest.mark.parametrize(
    ("state", "alert", "provider", "expected"),
    [
        (EMPTY, ALERT, PROVIDER, (Action.CREATE, "new-alert")),
        (EMPTY, replace(ALERT, state=AlertState.RESOLVED), PROVIDER, (Action.SKIP, "nothing-open")),
        (EMPTY, replace(ALERT, state=AlertState.UNKNOWN), PROVIDER, (Action.SKIP, "nothing-open")),
        (replace(EMPTY, pending_create_at=NOW - 90), ALERT, PROVIDER, (Action.RECOVER, "unconfirmed-create")),
        (
            replace(OPEN, pending_create_at=NOW - 5),
            replace(ALERT, state=AlertState.RESOLVED),
            PROVIDER,
            (Action.RECOVER, "unconfirmed-create"),
        ),
        (replace(RESOLVED, pending_create_at=NOW - 5), ALERT, PROVIDER, (Action.RECOVER, "unconfirmed-create")),
        (
            replace(OPEN, pending_create_at=NOW - 5),
            replace(ALERT, delivery_key="d-1"),
            PROVIDER,
            (Action.RECOVER, "unconfirmed-create"),
        ),
        (OPEN, replace(ALERT, delivery_key="d-1"), PROVIDER, (Action.SKIP, "duplicate-delivery")),
        (OPEN, replace(ALERT, transition_at=500), PROVIDER, (Action.SKIP, "out-of-order")),
        (OPEN, replace(ALERT, transition_at=1_000), PROVIDER, (Action.SKIP, "duplicate-transition")),
        (OPEN, ALERT, PROVIDER, (Action.COMMENT, "repeat")),
        (replace(OPEN, last_fingerprint=ALERT.content_fingerprint), ALERT, PROVIDER, (Action.SKIP, "cooldown")),
        (
            replace(OPEN, last_fingerprint=ALERT.content_fingerprint, created_at=NOW - 601),
            ALERT,
            PROVIDER,
            (Action.COMMENT, "repeat"),
        ),
        (OPEN, replace(ALERT, state=AlertState.UNKNOWN), PROVIDER, (Action.COMMENT, "state-unknown")),
        (OPEN, replace(ALERT, state=AlertState.RESOLVED), PROVIDER, (Action.RESOLVE, "cleared")),
        (
            OPEN,
            replace(ALERT, state=AlertState.RESOLVED),
            replace(PROVIDER, resolve_transition=None),
            (Action.COMMENT, "cleared-no-resolve-transition"),
        ),
        (RESOLVED, ALERT, PROVIDER, (Action.REFIRE, "fired-after-resolve")),
        (RESOLVED, replace(ALERT, state=AlertState.RESOLVED), PROVIDER, (Action.SKIP, "already-resolved")),
        (
            replace(OPEN, pending_state=AlertState.RESOLVED, pending_transition_at=3_000),
            ALERT,
            PROVIDER,
            (Action.SKIP, "out-of-order"),
        ),
        (
            replace(
                OPEN,
                last_fingerprint=ALERT.content_fingerprint,
                pending_state=AlertState.RESOLVED,
                pending_transition_at=1_500,
            ),
            ALERT,
            PROVIDER,
            (Action.COMMENT, "flapped"),
        ),
        (
            replace(
                OPEN,
                last_fingerprint=ALERT.content_fingerprint,
                pending_state=AlertState.FIRING,
                pending_transition_at=1_500,
            ),
            ALERT,
            PROVIDER,
            (Action.SKIP, "cooldown"),
        ),
    ],
    ids=[
        "firing-creates",
        "ok-without-issue",
        "insufficient-data-without-issue",
        "unconfirmed-create-recovers",
        "unconfirmed-create-first-for-a-clear",
        "unconfirmed-create-first-for-a-refire",
        "unconfirmed-create-first-for-a-duplicate",
        "duplicate-delivery",
        "older-transition",
        "same-transition-other-channel",
        "repeat-comments",
        "identical-within-cooldown",
        "identical-after-cooldown",
        "insufficient-data-comments",
        "clear-resolves",
        "clear-without-transition-comments",
        "refire-after-resolve",
        "clear-when-resolved",
        "older-than-held-back-change",
        "newer-than-a-different-held-back-state",
        "newer-than-the-same-held-back-state",
    ],
)
def test_decide(state: IssueState, alert: Alert, provider: ProviderConfig, expected: tuple[Action, str]) -> None:
    decision = decide(state, alert, provider, NOW)
    assert (decision.action, decision.reason) == expected


@pytest.mark.parametrize(
    ("alert", "supersedes"),
    [
        (ALERT, True),  # newer: what was held back must never be written after it
        (replace(ALERT, transition_at=None, delivery_key="d-9"), True),  # no time given: arrival order
        (replace(ALERT, delivery_key="d-1"), False),
        (replace(ALERT, transition_at=500), False),
    ],
    ids=["newer", "untimed", "duplicate-delivery", "older"],
)
def test_a_newer_alert_supersedes_the_held_back_state(alert: Alert, supersedes: bool) -> None:
    held = replace(OPEN, pending_state=AlertState.RESOLVED, pending_transition_at=1_500)
    assert supersedes_pending(decide(held, alert, PROVIDER, NOW)) is supersedes
    assert not supersedes_pending(decide(replace(held, pending_create_at=NOW), alert, PROVIDER, NOW))


def test_coalescing_window() -> None:
    assert not should_coalesce(OPEN, NOW)
    assert should_coalesce(replace(OPEN, last_write_at=NOW - 0.5), NOW)
    assert not should_coalesce(replace(OPEN, last_write_at=NOW - 2.5), NOW)


def test_reopen_window() -> None:
    assert within_reopen_window(PROVIDER, NOW - 3600, NOW)
    assert not within_reopen_window(PROVIDER, NOW - 90000, NOW)
    assert within_reopen_window(replace(PROVIDER, reopen_window=None), NOW - 10**8, NOW)


# ---- a person's decision, read back from Jira, wins over a firing ----------------------------------------------

BY_PERSON = OPEN.decided_by_person(PersonDecision.RESOLVED, NOW - 30, resolution="Done")  # while firing
WONT_FIX = OPEN.decided_by_person(PersonDecision.WONT_FIX, NOW - 30, resolution="Won't Do")
DELETED = OPEN.decided_by_person(PersonDecision.DELETED, NOW - 30)
CLEAR = replace(ALERT, state=AlertState.RESOLVED, delivery_key="d-3")
CLEARED = {"alert_state": AlertState.RESOLVED, "transition_at": 2_500}  # what a clear after the decision records
REFIRE = replace(ALERT, delivery_key="d-4", transition_at=3_000)


@pytest.mark.parametrize(
    ("state", "alert", "expected"),
    [
        (BY_PERSON, ALERT, (Action.COMMENT, Reason.RESOLVED_BY_PERSON)),
        (BY_PERSON.person_noticed(NOW - 10), ALERT, (Action.SKIP, Reason.RESOLVED_BY_PERSON)),
        (BY_PERSON, CLEAR, (Action.SKIP, "already-resolved")),
        (replace(BY_PERSON.person_noticed(NOW - 10), **CLEARED), REFIRE, (Action.REFIRE, "fired-after-resolve")),
        (replace(BY_PERSON, alert_state=AlertState.RESOLVED), ALERT, (Action.REFIRE, "fired-after-resolve")),
        (WONT_FIX, ALERT, (Action.COMMENT, Reason.WONT_FIX)),
        (WONT_FIX.person_noticed(NOW - 10), ALERT, (Action.SKIP, Reason.WONT_FIX)),
        (replace(WONT_FIX.person_noticed(NOW - 10), **CLEARED), REFIRE, (Action.SKIP, Reason.WONT_FIX)),
        (replace(WONT_FIX.person_noticed(NOW - 601), **CLEARED), REFIRE, (Action.COMMENT, Reason.WONT_FIX)),
        (WONT_FIX, CLEAR, (Action.SKIP, "already-resolved")),
        (DELETED, ALERT, (Action.SKIP, Reason.DELETED_BY_PERSON)),
        (DELETED, CLEAR, (Action.SKIP, "nothing-open")),
        (replace(DELETED, **CLEARED), REFIRE, (Action.CREATE, "new-alert")),
        (OPEN.decided_by_person(PersonDecision.REOPENED, NOW - 30), ALERT, (Action.COMMENT, "repeat")),
        (replace(BY_PERSON, pending_create_at=NOW - 5), ALERT, (Action.RECOVER, "unconfirmed-create")),
        (BY_PERSON, replace(ALERT, delivery_key="d-1"), (Action.SKIP, "duplicate-delivery")),
    ],
    ids=[
        "resolved-while-firing-comments-once",
        "resolved-while-firing-then-nothing",
        "resolved-then-clear-is-recorded",
        "resolved-cleared-and-fired-again-reopens",
        "resolved-after-the-clear-reopens-on-the-next-firing",
        "wont-fix-comments-on-the-first-firing",
        "wont-fix-same-firing-nothing",
        "wont-fix-new-firing-within-cooldown-nothing",
        "wont-fix-new-firing-after-cooldown-comments-never-reopens",
        "wont-fix-clear",
        "deleted-same-firing-not-recreated",
        "deleted-clear-is-recorded",
        "deleted-next-firing-creates",
        "reopened-by-person-is-an-open-issue",
        "unconfirmed-create-still-first",
        "duplicate-still-first",
    ],
)
def test_a_persons_decision_wins(state: IssueState, alert: Alert, expected: tuple[Action, str]) -> None:
    decision = decide(state, alert, PROVIDER, NOW)
    assert (decision.action, decision.reason) == expected


def test_a_clear_on_a_held_issue_is_recorded_so_the_next_firing_is_a_new_one() -> None:
    assert records_alert_state(decide(BY_PERSON, CLEAR, PROVIDER, NOW), CLEAR)
    assert records_alert_state(decide(DELETED, CLEAR, PROVIDER, NOW), CLEAR)
    assert not records_alert_state(decide(BY_PERSON, ALERT, PROVIDER, NOW), ALERT)
    unknown = replace(CLEAR, state=AlertState.UNKNOWN)
    assert not records_alert_state(decide(BY_PERSON, unknown, PROVIDER, NOW), unknown)


def test_the_notes_say_why_the_product_holds_back() -> None:
    held = person_note(decide(BY_PERSON, ALERT, PROVIDER, NOW), BY_PERSON)
    assert held is not None and "until the alert clears and fires again" in held
    wont = person_note(decide(WONT_FIX, ALERT, PROVIDER, NOW), WONT_FIX)
    assert wont is not None and "Won't Do" in wont
    assert person_note(decide(OPEN, ALERT, PROVIDER, NOW), OPEN) is None


def test_the_products_own_next_steps_clear_a_persons_decision() -> None:
    assert BY_PERSON.reopened().person_decision is None
    assert DELETED.created(REFIRE, "10002", "OPS-2", NOW).person_decision is None
    assert BY_PERSON.issue_status is IssueStatus.RESOLVED and BY_PERSON.resolved_at is None
    assert DELETED.issue_status is IssueStatus.NONE and DELETED.issue_key == "OPS-1"
