"""The lifecycle of one alert in one provider: what every input does to what is known of its issue. Pure: no I/O.

Every way the product learns something about an alert is an input here, and every path asks these functions what
to do; a path only reads its input and carries out the answer (``app/``). The inputs:

- a source event (``Alert``): firing or clear, with its previous state and transition time (``decide``). What a
  source says now (the scheduled reconcile) arrives as the same kind of input: a clear with the source's time;
- what Jira says of the issue now (``jira_says``): a person resolved it, closed it as won't-fix, reopened, deleted
  or moved it (read back by the scheduled run, or delivered by the webhook);
- what Jira says when an alert fires after its issue was resolved (``decide_refire``): reopen, a new issue, or
  leave a person's decision standing;
- a Jira answer to a create (``create_answer``): created, refused, or in doubt.

``docs/lifecycle.md`` holds the table these functions make (``tests/unit/test_lifecycle_table.py`` checks that the
two agree). The rules are product.md's "Lifecycle of one alert in one provider" and "One lifecycle, every path".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.state import IssueState, IssueStatus, PersonDecision
from jira_notifier.core.storm import PARENT_SOURCE, Group, ParentRef

MIN_WRITE_INTERVAL = 2.0  # seconds between two writes on one issue; faster changes are coalesced into one


class Action(StrEnum):
    CREATE = "create"
    RECOVER = "recover"  # a create was started but not confirmed: look for the issue before creating
    COMMENT = "comment"
    RESOLVE = "resolve"
    REFIRE = "refire"  # firing after its issue was resolved: reopen, or a new issue (``decide_refire``)
    REOPEN = "reopen"
    SKIP = "skip"  # nothing in Jira; the delivery (and maybe the alert's state) is recorded


class Reason(StrEnum):
    """Why: for logs, metrics, tests and the table."""

    UNCONFIRMED_CREATE = "unconfirmed-create"
    DUPLICATE_DELIVERY = "duplicate-delivery"
    OUT_OF_ORDER = "out-of-order"
    DUPLICATE_TRANSITION = "duplicate-transition"  # the same state change seen on a second channel
    FIRED_BEFORE_ITS_CLEAR = "fired-before-its-clear"  # a firing delivered late, after its clear found nothing open
    RESOLVED_BY_PERSON = "resolved-by-person"  # a person resolved the issue while the alert fired: held this episode
    WONT_FIX = "wont-fix"  # a person resolved it as won't-fix: never reopened
    DELETED_BY_PERSON = "deleted-by-person"  # a person deleted it: the next episode opens a new one
    NOTHING_OPEN = "nothing-open"
    NEW_ALERT = "new-alert"
    FIRED_AFTER_RESOLVE = "fired-after-resolve"
    ALREADY_RESOLVED = "already-resolved"
    CLEARED = "cleared"
    CLEARED_NO_RESOLVE_TRANSITION = "cleared-no-resolve-transition"
    FLAPPED = "flapped"
    COOLDOWN = "cooldown"
    REPEAT = "repeat"
    STATE_UNKNOWN = "state-unknown"
    # decided after reading the issue (``decide_refire``)
    REFIRED_NO_REOPEN_TRANSITION = "refired-no-reopen-transition"
    ISSUE_GONE = "issue-gone"
    REOPENED_BY_HAND = "reopened-by-hand"
    REFIRED_AFTER_REOPEN_WINDOW = "refired-after-reopen-window"
    # what an effect found when it was carried out
    NO_REOPEN_TRANSITION_AVAILABLE = "no-reopen-transition-available"
    CLEARED_NO_TRANSITION = "cleared-no-transition"
    UNCONFIRMED_CREATE_FOUND = "unconfirmed-create-found"
    COALESCED = "coalesced"


STALE_REASONS = frozenset({Reason.DUPLICATE_DELIVERY, Reason.OUT_OF_ORDER, Reason.DUPLICATE_TRANSITION})
PERSON_NOTICES = frozenset({Reason.RESOLVED_BY_PERSON, Reason.WONT_FIX})  # comments saying why the product holds back


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: Reason


# ---- a source event ---------------------------------------------------------------------------------------------


def decide(state: IssueState, alert: Alert, provider: ProviderConfig, now: float) -> Decision:
    """The next step for ``alert`` given the stored ``state`` of its issue in ``provider``.

    A create an earlier holder left unconfirmed comes first, whatever the alert says: until it is settled, nothing
    is known of which issue the alert has.
    """
    if state.pending_create_at is not None:
        return Decision(Action.RECOVER, Reason.UNCONFIRMED_CREATE)
    if state.seen(alert.delivery_key):
        return Decision(Action.SKIP, Reason.DUPLICATE_DELIVERY)
    stale = stale_reason(state, alert)
    if stale is Reason.OUT_OF_ORDER and _fired_before_recorded_clear(state, alert):
        return Decision(Action.CREATE, Reason.FIRED_BEFORE_ITS_CLEAR)  # the episode gets its issue, resolved next
    if stale is not None:
        return Decision(Action.SKIP, stale)
    held = _held_by_person(state, alert, provider, now)
    if held is not None:
        return held
    if state.issue_status is IssueStatus.NONE:
        if alert.state is not AlertState.FIRING:
            return Decision(Action.SKIP, Reason.NOTHING_OPEN)
        return Decision(Action.CREATE, Reason.NEW_ALERT)
    if state.issue_status is IssueStatus.RESOLVED:
        if alert.state is not AlertState.FIRING:
            return Decision(Action.SKIP, Reason.ALREADY_RESOLVED)
        if not provider.reopen_transition:
            return Decision(Action.CREATE, Reason.REFIRED_NO_REOPEN_TRANSITION)
        return Decision(Action.REFIRE, Reason.FIRED_AFTER_RESOLVE)
    # The issue is open.
    if alert.state is AlertState.RESOLVED:
        if provider.resolve_transition:
            return Decision(Action.RESOLVE, Reason.CLEARED)
        return Decision(Action.COMMENT, Reason.CLEARED_NO_RESOLVE_TRANSITION)
    if state.pending_state not in (None, alert.state):
        return Decision(Action.COMMENT, Reason.FLAPPED)  # the held-back change it supersedes belongs in the timeline
    if _identical_repeat(state, alert, provider, now):
        return Decision(Action.SKIP, Reason.COOLDOWN)
    return Decision(Action.COMMENT, Reason.REPEAT if alert.state is AlertState.FIRING else Reason.STATE_UNKNOWN)


def records_alert_state(decision: Decision, alert: Alert) -> bool:
    """Whether a skipped alert's state is still recorded: a clear that finds the issue resolved or gone ends the
    episode a person's decision held back, so the next firing is a new one (``_held_by_person``)."""
    return alert.state is AlertState.RESOLVED and decision.reason in (Reason.ALREADY_RESOLVED, Reason.NOTHING_OPEN)


def person_note(decision: Decision, state: IssueState) -> str | None:
    """The comment's note when the product holds back because of a person's decision."""
    if decision.reason is Reason.RESOLVED_BY_PERSON:
        return (
            "Still firing. This issue was resolved in Jira while the alert was firing; jira-notifier will not reopen "
            "it until the alert clears and fires again."
        )
    if decision.reason is Reason.WONT_FIX:
        return wont_fix_note(state.person_resolution)
    return None


def wont_fix_note(resolution: str | None) -> str:
    return (
        f"Fired again; not reopened because the issue was resolved as {resolution}. "
        "jira-notifier never reopens an issue resolved that way."
    )


def supersedes_pending(decision: Decision) -> bool:
    """Whether the alert behind ``decision`` is newer than a held-back state (it was neither a duplicate nor
    out of order), so that state must never be written after it."""
    return decision.reason not in STALE_REASONS and decision.action is not Action.RECOVER


def should_coalesce(state: IssueState, now: float) -> bool:
    """True when the issue was written too recently: hold this change back and fold it into the next write."""
    return state.last_write_at is not None and now - state.last_write_at < MIN_WRITE_INTERVAL


def flush_due(state: IssueState, now: float) -> bool:
    """Held-back changes whose write interval has passed (their holder failed to write them)."""
    return state.pending_state is not None and not should_coalesce(state, now)


def within_reopen_window(provider: ProviderConfig, resolved_at: float | None, now: float) -> bool:
    if provider.reopen_window is None or resolved_at is None:
        return True
    return now - resolved_at <= provider.reopen_window


def new_episode(state: IssueState, alert: Alert) -> bool:
    """Whether a firing starts an episode after the one the state last recorded, by any evidence: a clear recorded
    since (by its event, or by the scheduled reconcile finding the source clear), or the firing's own event saying
    it changed from a calm state at a time after the last recorded change (an OK notification that never came)."""
    if alert.state is not AlertState.FIRING:
        return False
    if state.alert_state is AlertState.RESOLVED:
        return True
    calm_before = alert.previous_state is not None and alert.previous_state is not AlertState.FIRING
    newer = (
        alert.transition_at is not None
        and state.transition_at is not None
        and alert.transition_at > state.transition_at
    )
    return calm_before and newer


def _held_by_person(state: IssueState, alert: Alert, provider: ProviderConfig, now: float) -> Decision | None:
    """A person's decision wins over a firing (product.md, "Jira talks back") for its episode and no longer:

    - resolved while firing: one comment on the next firing of that episode, then nothing; a new episode reopens it
      (or opens a new issue) as any firing after a resolve does;
    - won't-fix: never reopened; one comment on the first firing after the decision, and in a later episode again
      once the cool-down since that comment has passed;
    - deleted: not recreated within its episode; a new episode opens a new issue.
    """
    decision = state.person_decision
    if alert.state is not AlertState.FIRING or decision is None:
        return None
    fires_again = new_episode(state, alert)
    if decision is PersonDecision.DELETED and state.issue_status is IssueStatus.NONE:
        return None if fires_again else Decision(Action.SKIP, Reason.DELETED_BY_PERSON)
    if state.issue_status is not IssueStatus.RESOLVED:
        return None
    noticed = state.person_notice_at
    if decision is PersonDecision.WONT_FIX:
        if noticed is not None and (not fires_again or now - noticed < provider.cooldown):
            return Decision(Action.SKIP, Reason.WONT_FIX)
        return Decision(Action.COMMENT, Reason.WONT_FIX)
    if decision is PersonDecision.RESOLVED and not fires_again:
        return Decision(Action.SKIP if noticed is not None else Action.COMMENT, Reason.RESOLVED_BY_PERSON)
    return None


def stale_reason(state: IssueState, alert: Alert) -> Reason | None:
    """OUT_OF_ORDER or DUPLICATE_TRANSITION when the alert is older than (or the same as) what is recorded."""
    if alert.transition_at is None:
        return None
    newest = max((t for t in (state.transition_at, state.pending_transition_at) if t is not None), default=None)
    if newest is None:
        return None
    if alert.transition_at < newest:
        return Reason.OUT_OF_ORDER
    latest_state = state.pending_state if newest == state.pending_transition_at else state.alert_state
    if alert.transition_at == newest and alert.state == latest_state:
        return Reason.DUPLICATE_TRANSITION
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


# ---- what Jira says ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssueView:
    """What Jira says of an issue now (read back, delivered by the webhook, or read before a reopen)."""

    id: str
    key: str
    done: bool
    resolution: str | None = None
    resolved_at: float | None = None  # Jira's resolution date, epoch seconds
    project_key: str | None = None


@dataclass(frozen=True, slots=True)
class JiraView:
    """ "Issue ``issue_id`` is now ``issue``" (``None``: it was deleted), as seen by one provider."""

    issue_id: str
    issue: IssueView | None
    wont_fix_resolution: str | None  # the provider's won't-fix resolution


MOVED = "moved"


def jira_says(state: IssueState, view: JiraView, now: float) -> tuple[IssueState, tuple[str, ...]]:
    """The state after Jira said where the issue is now, and what changed (``PersonDecision`` values and/or
    "moved"). Only the issue the state follows counts (same numeric id); anything else changes nothing.

    What Jira says is a person's decision when it differs from what the state says: the product records its own
    resolves and reopens before it gives the lease back, so "Jira resolved, state open" was done by someone else.
    """
    if state.issue_id != view.issue_id:
        return state, ()
    issue = view.issue
    if issue is None:
        if state.issue_status is IssueStatus.NONE:
            return state, ()
        return state.decided_by_person(PersonDecision.DELETED, now), (PersonDecision.DELETED.value,)
    changes: list[str] = []
    if issue.key != state.issue_key:
        state = state.moved_to(issue.key, issue.project_key)
        changes.append(MOVED)
    decision = _person_decision(state, issue, view.wont_fix_resolution)
    if decision is not None:
        state = state.decided_by_person(decision, now, resolution=issue.resolution, resolved_at=issue.resolved_at)
        changes.append(decision.value)
    return state, tuple(changes)


def is_wont_fix(resolution: str | None, wont_fix_resolution: str | None) -> bool:
    return bool(wont_fix_resolution and resolution and resolution.casefold() == wont_fix_resolution.casefold())


def _person_decision(state: IssueState, issue: IssueView, wont_fix: str | None) -> PersonDecision | None:
    if issue.done:
        if is_wont_fix(issue.resolution, wont_fix):
            return None if state.person_decision is PersonDecision.WONT_FIX else PersonDecision.WONT_FIX
        return PersonDecision.RESOLVED if state.issue_status is IssueStatus.OPEN else None
    return PersonDecision.REOPENED if state.issue_status is IssueStatus.RESOLVED else None


def decide_refire(state: IssueState, issue: IssueView | None, provider: ProviderConfig, now: float) -> Decision:
    """A firing found its issue resolved (``decide``'s REFIRE): what to do, now that Jira said where the issue is
    (``None``: it is gone). Won't-fix is never reopened; a person's reopen is joined with a comment; within the
    reopen window (measured from Jira's resolution date) the issue is reopened, else a new one is opened."""
    if issue is None:
        return Decision(Action.CREATE, Reason.ISSUE_GONE)
    if is_wont_fix(issue.resolution, provider.wont_fix_resolution):
        return Decision(Action.COMMENT, Reason.WONT_FIX)
    if not issue.done:
        return Decision(Action.COMMENT, Reason.REOPENED_BY_HAND)
    if not within_reopen_window(provider, issue.resolved_at or state.resolved_at, now):
        return Decision(Action.CREATE, Reason.REFIRED_AFTER_REOPEN_WINDOW)
    return Decision(Action.REOPEN, Reason.FIRED_AFTER_RESOLVE)


# ---- storm membership: a storm's parent is an alert of its own, firing while a member fires -----------------------


def is_member(provider: ProviderConfig, state: IssueState) -> bool:
    """Whether the alert goes to a parent: the provider groups, and the alert has no issue of its own (it had one
    before ``groupBy`` was set, or a create of one may be in flight): such an issue is followed to its end."""
    if not provider.group_by:
        return False
    own_issue = state.parent is None and (state.issue_status is IssueStatus.OPEN or state.pending_create_at is not None)
    return not own_issue


def member_skip(state: IssueState, alert: Alert) -> Reason | None:
    """Why a member alert changes nothing (a duplicate, older than what is recorded, or a clear of an alert that
    never joined a parent), or None. Pure."""
    if state.seen(alert.delivery_key):
        return Reason.DUPLICATE_DELIVERY
    stale = stale_reason(state, alert)
    if stale is not None:
        return stale
    if state.parent is None and alert.state is not AlertState.FIRING:
        return Reason.NOTHING_OPEN
    return None


def fired_before_own_clear(state: IssueState, alert: Alert) -> bool:
    """A firing older than the clear its member recorded before it ever joined a parent (the clear came first)."""
    return state.parent is None and alert.state is AlertState.FIRING and state.alert_state is AlertState.RESOLVED


def aggregate(group: Group, ref: ParentRef, fired: bool) -> Alert | None:
    """The parent as one alert: firing while a member fires (or one fired in this batch), clear once every member
    has cleared; None while it is neither (members in an unknown state)."""
    if group.any_firing or fired:
        state = AlertState.FIRING
    elif group.all_cleared:
        state = AlertState.RESOLVED
    else:
        return None
    digest = hashlib.sha256(repr(group.members).encode()).hexdigest()[:16]
    return Alert(
        source=PARENT_SOURCE,
        dedupe_key=ref.dedupe_key,
        delivery_key=f"{ref.dedupe_key}#{digest}",  # each membership a delivery of its own: never a duplicate
        state=state,
        title=f"Alert storm {ref.group_key}",
    )
