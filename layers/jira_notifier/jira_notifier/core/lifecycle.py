"""What to do with one alert in one provider, given what is known of its issue. Pure: no I/O.

The rules are product.md's "Lifecycle of one alert in one provider"; ``service.py`` dispatches them to ``effects.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.state import IssueState, IssueStatus, PersonDecision

MIN_WRITE_INTERVAL = 2.0  # seconds between two writes on one issue; faster changes are coalesced into one
FIRED_BEFORE_ITS_CLEAR = "fired-before-its-clear"  # a firing delivered late, after its clear found nothing open
STALE_REASONS = frozenset({"duplicate-delivery", "out-of-order", "duplicate-transition"})  # older than what we hold
RESOLVED_BY_PERSON = "resolved-by-person"  # a person resolved the issue while the alert fired: held until it clears
WONT_FIX = "wont-fix"  # a person resolved it as won't-fix: never reopened
DELETED_BY_PERSON = "deleted-by-person"  # a person deleted it: the next firing after a clear opens a new one
PERSON_NOTICES = frozenset({RESOLVED_BY_PERSON, WONT_FIX})  # comments saying why the product holds back


class Action(StrEnum):
    CREATE = "create"
    RECOVER = "recover"  # a create was started but not confirmed: look for the issue before creating
    COMMENT = "comment"
    RESOLVE = "resolve"
    REFIRE = "refire"  # firing after we resolved it: reopen, or a new issue (decided after reading the issue)
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str  # why, for logs, metrics and tests: e.g. "duplicate-delivery", "cooldown", "new-alert"


def decide(state: IssueState, alert: Alert, provider: ProviderConfig, now: float) -> Decision:
    """The next step for ``alert`` given the stored ``state`` of its issue in ``provider``.

    A create an earlier holder left unconfirmed comes first, whatever the alert says: until it is settled, nothing
    is known of which issue the alert has.
    """
    if state.pending_create_at is not None:
        return Decision(Action.RECOVER, "unconfirmed-create")
    if state.seen(alert.delivery_key):
        return Decision(Action.SKIP, "duplicate-delivery")
    stale = stale_reason(state, alert)
    if stale == "out-of-order" and _fired_before_recorded_clear(state, alert):
        return Decision(Action.CREATE, FIRED_BEFORE_ITS_CLEAR)  # nothing lost: the episode gets its issue, resolved
    if stale:
        return Decision(Action.SKIP, stale)
    held = _held_by_person(state, alert, provider, now)
    if held is not None:
        return held
    if state.issue_status is IssueStatus.NONE:
        if alert.state is not AlertState.FIRING:
            return Decision(Action.SKIP, "nothing-open")
        return Decision(Action.CREATE, "new-alert")
    if state.issue_status is IssueStatus.RESOLVED:
        if alert.state is AlertState.FIRING:
            return Decision(Action.REFIRE, "fired-after-resolve")
        return Decision(Action.SKIP, "already-resolved")
    # The issue is open.
    if alert.state is AlertState.RESOLVED:
        if provider.resolve_transition:
            return Decision(Action.RESOLVE, "cleared")
        return Decision(Action.COMMENT, "cleared-no-resolve-transition")
    if state.pending_state not in (None, alert.state):
        return Decision(Action.COMMENT, "flapped")  # the held-back change it supersedes belongs in the timeline
    if _identical_repeat(state, alert, provider, now):
        return Decision(Action.SKIP, "cooldown")
    return Decision(Action.COMMENT, "repeat" if alert.state is AlertState.FIRING else "state-unknown")


def records_alert_state(decision: Decision, alert: Alert) -> bool:
    """Whether a skipped alert's state is still recorded: a clear that finds the issue resolved or gone ends the
    firing a person's decision held back, so the next firing is a new one (``_held_by_person``)."""
    return alert.state is AlertState.RESOLVED and decision.reason in ("already-resolved", "nothing-open")


def person_note(decision: Decision, state: IssueState) -> str | None:
    """The comment's note when the product holds back because of a person's decision."""
    if decision.reason == RESOLVED_BY_PERSON:
        return (
            "Still firing. This issue was resolved in Jira while the alert was firing; jira-notifier will not reopen "
            "it until the alert clears and fires again."
        )
    if decision.reason == WONT_FIX:
        return (
            f"Fired again; not reopened because the issue was resolved as {state.person_resolution}. "
            "jira-notifier never reopens an issue resolved that way."
        )
    return None


def supersedes_pending(decision: Decision) -> bool:
    """Whether the alert behind ``decision`` is newer than a held-back state (it was neither a duplicate nor
    out of order), so that state must never be written after it."""
    return decision.reason not in STALE_REASONS and decision.action is not Action.RECOVER


def should_coalesce(state: IssueState, now: float) -> bool:
    """True when the issue was written too recently: hold this change back and fold it into the next write."""
    return state.last_write_at is not None and now - state.last_write_at < MIN_WRITE_INTERVAL


def within_reopen_window(provider: ProviderConfig, resolved_at: float | None, now: float) -> bool:
    if provider.reopen_window is None or resolved_at is None:
        return True
    return now - resolved_at <= provider.reopen_window


def _held_by_person(state: IssueState, alert: Alert, provider: ProviderConfig, now: float) -> Decision | None:
    """A person's decision wins over a firing (product.md, "Jira talks back"), until the alert clears and fires
    again: a clear recorded after the decision (``records_alert_state``) makes the next firing a new one.

    - resolved while firing: one comment on the next firing, then nothing; reopened by a firing after a clear;
    - won't-fix: never reopened; one comment on the first firing after the decision, and on a later firing only
      after a clear and once the cool-down since that comment has passed;
    - deleted: not recreated until a firing after a clear.
    """
    decision = state.person_decision
    if alert.state is not AlertState.FIRING or decision is None:
        return None
    fires_again = state.alert_state is AlertState.RESOLVED
    if decision is PersonDecision.DELETED and state.issue_status is IssueStatus.NONE:
        return None if fires_again else Decision(Action.SKIP, DELETED_BY_PERSON)
    if state.issue_status is not IssueStatus.RESOLVED:
        return None
    noticed = state.person_notice_at
    if decision is PersonDecision.WONT_FIX:
        if noticed is not None and (not fires_again or now - noticed < provider.cooldown):
            return Decision(Action.SKIP, WONT_FIX)
        return Decision(Action.COMMENT, WONT_FIX)
    if decision is PersonDecision.RESOLVED and not fires_again:
        return Decision(Action.SKIP if noticed is not None else Action.COMMENT, RESOLVED_BY_PERSON)
    return None


def stale_reason(state: IssueState, alert: Alert) -> str | None:
    """ "out-of-order" or "duplicate-transition" when the alert is older than (or the same as) what is recorded."""
    if alert.transition_at is None:
        return None
    newest = max((t for t in (state.transition_at, state.pending_transition_at) if t is not None), default=None)
    if newest is None:
        return None
    if alert.transition_at < newest:
        return "out-of-order"
    latest_state = state.pending_state if newest == state.pending_transition_at else state.alert_state
    if alert.transition_at == newest and alert.state == latest_state:
        return "duplicate-transition"  # the same state change seen on a second channel
    return None


def _fired_before_recorded_clear(state: IssueState, alert: Alert) -> bool:
    return (
        state.issue_status is IssueStatus.NONE
        and alert.state is AlertState.FIRING
        and state.alert_state is AlertState.RESOLVED
    )


def _identical_repeat(state: IssueState, alert: Alert, provider: ProviderConfig, now: float) -> bool:
    if state.last_fingerprint != alert.content_fingerprint:
        return False
    last = state.last_comment_at or state.created_at
    return last is not None and now - last < provider.cooldown
