"""The lifecycle decision table, without I/O."""

from __future__ import annotations

from dataclasses import replace

import pytest

from jira_notifier.config import ProviderConfig
from jira_notifier.lifecycle import Action, decide, should_coalesce, supersedes_pending, within_reopen_window
from jira_notifier.models import Alert, AlertState
from jira_notifier.state import IssueState, IssueStatus

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
