"""What the product knows of one alert's issue in one provider, and every way that knowledge changes. Pure.

One ``IssueState`` per (provider, dedupe key). It changes only through its named transitions (``created``,
``resolved``, ``decided_by_person``, ...), which the unit of work (``app.lease``) writes under the alert's lease.

Exactly once rests on one write-ahead rule, kept by the lease: the state says "a create for this alert started at T"
(``pending_create_at``) durably *before* any create request leaves, and only a confirmed answer (the issue is
recorded) or a search that proves the outcome clears it. Whoever finds the mark later looks for the issue before
creating anything (``app.create.recover``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.storm import Group

RECENT_DELIVERIES = 25  # delivery keys remembered per alert: duplicates arrive within minutes
# A create goes out at most this long after its mark was written; later than that the mark is written anew
# first, so "mark time + this + Jira's timeout" bounds when a create that was sent can have left.
CREATE_SEND_WINDOW = 10.0


class IssueStatus(StrEnum):
    NONE = "none"
    OPEN = "open"
    RESOLVED = "resolved"


class PersonDecision(StrEnum):
    """What a person did to the issue in Jira, as read back (``app.readback``, the webhook); ``core.lifecycle``
    honours it."""

    RESOLVED = "resolved"  # resolved while the product had it open
    WONT_FIX = "wont-fix"  # resolved with the provider's won't-fix resolution: never reopened
    REOPENED = "reopened"  # reopened after it was resolved
    DELETED = "deleted"  # gone from Jira while the product had it


class WorkflowPhase(StrEnum):
    """Where the issue is in its workflow: keys the transition cache."""

    CREATED = "created"
    RESOLVED = "resolved"
    REOPENED = "reopened"


@dataclass(frozen=True, slots=True)
class IssueState:
    """What jira-notifier knows of one alert's issue in one provider, and how that knowledge changes (pure: the
    unit of work, ``app.lease``, writes it)."""

    pk: str
    provider: str
    dedupe_key: str
    issue_id: str | None = None
    issue_key: str | None = None
    issue_status: IssueStatus = IssueStatus.NONE
    alert_state: AlertState | None = None  # the last state applied
    transition_at: int | None = None  # epoch ms of the last state change applied
    last_fingerprint: str | None = None
    last_comment_at: float | None = None
    resolved_at: float | None = None
    created_at: float | None = None
    pending_create_at: float | None = None  # the write-ahead mark: a create started then and is not confirmed
    last_write_at: float | None = None  # last Jira write on the issue (for flap coalescing)
    coalesced: Mapping[str, int] = field(default_factory=dict)  # state -> changes held back
    coalesced_since: float | None = None
    pending_state: AlertState | None = None  # the newest state held back by coalescing, applied by the next write
    pending_transition_at: int | None = None
    deliveries: tuple[str, ...] = ()  # digests of the last delivery keys applied
    workflow_phase: WorkflowPhase = WorkflowPhase.CREATED
    status_unsure_since: float | None = None  # a transition's answer was lost: read the issue before deciding
    person_decision: PersonDecision | None = None  # what a person last did to the issue in Jira
    person_resolution: str | None = None  # the resolution a person chose
    person_decided_at: float | None = None  # when it was read back
    person_notice_at: float | None = None  # when the product last commented that it holds back for that decision
    issue_project: str | None = None  # the project key the issue is in, once it was seen to move
    parent: str | None = None  # a storm member: the dedupe key of the parent issue it is listed in (storm.py)
    group: Group | None = None  # a storm parent: its members (storm.py)
    priority_set: str | None = None  # the priority the product last gave the issue; None: not the product's to raise
    priority_intent: str | None = None  # the priority the product is about to set (recorded before the edit)

    def seen(self, delivery_key: str) -> bool:
        return delivery_digest(delivery_key) in self.deliveries

    def with_delivery(self, delivery_key: str) -> IssueState:
        digest = delivery_digest(delivery_key)
        kept = tuple(d for d in self.deliveries if d != digest)[-(RECENT_DELIVERIES - 1) :]
        return replace(self, deliveries=(*kept, digest))

    def remembered(self, alert: Alert, *, applied: bool = True) -> IssueState:
        """The delivery recorded, and the alert's state when it was applied (or is simply newer than ours).

        A held-back change counts as ours: a copy of it (a retry, a second channel) is not applied by being skipped,
        and recording it so would make the write of the held-back change look like a duplicate."""
        state = self.with_delivery(alert.delivery_key)
        known = [t for t in (state.transition_at, state.pending_transition_at) if t is not None]
        newer = alert.transition_at is not None and (not known or alert.transition_at > max(known))
        if applied or newer:
            state = replace(state, alert_state=alert.state, transition_at=alert.transition_at or state.transition_at)
        return state

    def written(self, alert: Alert, now: float, *, commented: bool, status: IssueStatus | None = None) -> IssueState:
        """``alert`` applied by a Jira write at ``now`` (which found the issue ``status``, when it says): whatever
        was held back went with it."""
        state = replace(self.remembered(alert), last_write_at=now, coalesced={}, coalesced_since=None).without_pending()
        if status is not None:
            state = replace(state, issue_status=status)
        if commented:
            state = replace(state, last_fingerprint=alert.content_fingerprint, last_comment_at=now)
        return state

    def marked(self, at: float | None) -> IssueState:
        """The write-ahead mark as it will stand: a create started at ``at`` (None: none in flight)."""
        return replace(self, pending_create_at=at)

    def status_unsure(self, now: float) -> IssueState:
        """A transition's answer was lost: the issue is read before the next decision."""
        return replace(self, status_unsure_since=now)

    def parent_written(self, group: Group, now: float, *, wrote_table: bool, moved: IssueStatus | None) -> IssueState:
        """A storm parent after one batch: its membership (written to the table when ``wrote_table``), and the status
        a resolve or reopen moved it to."""
        aggregate = AlertState.FIRING if group.any_firing else AlertState.RESOLVED if group.all_cleared else None
        state = replace(
            self,
            group=group.written(),
            alert_state=aggregate or self.alert_state,
            last_write_at=now if wrote_table or moved else self.last_write_at,
        )
        if moved is IssueStatus.RESOLVED:
            state = state.resolved(now)
        elif moved is IssueStatus.OPEN:
            state = state.reopened()
        return state

    def joined(self, alert: Alert, parent: str) -> IssueState:
        """A storm member applied to its parent: the delivery and state recorded, and which parent it is in."""
        return replace(self.remembered(alert), parent=parent)

    def with_group(self, group: Group) -> IssueState:
        """A storm parent's membership as it now stands."""
        return replace(self, group=group)

    def held_back(self, alert: Alert, now: float) -> IssueState:
        """``alert`` kept as the state to write next; it supersedes whatever was held back before it."""
        counts = dict(self.coalesced)
        counts[alert.state.value] = counts.get(alert.state.value, 0) + 1
        state = replace(
            self.with_delivery(alert.delivery_key), coalesced=counts, coalesced_since=self.coalesced_since or now
        )
        return state.with_pending(alert.state, alert.transition_at)

    def with_pending(self, alert_state: AlertState | None, transition_at: int | None) -> IssueState:
        return replace(self, pending_state=alert_state, pending_transition_at=transition_at)

    def without_pending(self) -> IssueState:
        return self.with_pending(None, None)

    def created(
        self, alert: Alert, issue_id: str, issue_key: str, now: float, *, priority: str | None = None
    ) -> IssueState:
        """Jira confirmed the create for ``alert`` (sent with ``priority``): the issue is open, this delivery done."""
        fresh = replace(
            self,
            issue_id=issue_id,
            issue_key=issue_key,
            issue_status=IssueStatus.OPEN,
            created_at=now,
            pending_create_at=None,
            last_fingerprint=alert.content_fingerprint,
            last_comment_at=None,
            resolved_at=None,
            workflow_phase=WorkflowPhase.CREATED,
            last_write_at=now,
            coalesced={},
            coalesced_since=None,
            status_unsure_since=None,
            priority_set=priority,
        )
        return fresh.without_pending().without_person_decision().remembered(alert).keeping_clear_of(self, alert)

    def keeping_clear_of(self, before: IssueState, alert: Alert) -> IssueState:
        """This state (an issue just recorded for ``alert``, a firing), with the clear ``before`` recorded when it is
        newer than the firing: the clear arrived before its firing, so it is held back, to be written next."""
        if before.alert_state is AlertState.RESOLVED and _older(alert, before.transition_at):
            return self.with_pending(before.alert_state, before.transition_at)
        return self

    def adopted(
        self, alert: Alert, issue_id: str, issue_key: str, *, done: bool, created_at: float | None
    ) -> IssueState:
        """The issue an unconfirmed create made, found in Jira, is the alert's (its delivery not yet recorded)."""
        return replace(
            self,
            issue_id=issue_id,
            issue_key=issue_key,
            issue_status=IssueStatus.RESOLVED if done else IssueStatus.OPEN,
            created_at=created_at,
            pending_create_at=None,
            last_fingerprint=alert.content_fingerprint,
            last_comment_at=None,
            resolved_at=None,
            workflow_phase=WorkflowPhase.RESOLVED if done else WorkflowPhase.CREATED,
            status_unsure_since=None,
            priority_set=None,  # what the create sent is not known here: impact leaves this issue's priority alone
        ).without_person_decision()

    def priority_intended(self, priority: str) -> IssueState:
        """The product is about to set the issue's priority to ``priority``."""
        return replace(self, priority_intent=priority)

    def priority_raised(self, priority: str) -> IssueState:
        """The product set the issue's priority to ``priority``. Not counted as the issue's last write: an edit of
        one field beside a comment stays far within Jira's per-issue limits, and must not hold the comment back."""
        return replace(self, priority_set=priority, priority_intent=None)

    def priority_left_to_people(self) -> IssueState:
        """A person changed the priority the product set: from now on it is theirs, never raised again."""
        return replace(self, priority_set=None, priority_intent=None)

    def resolved(self, now: float) -> IssueState:
        return replace(self, issue_status=IssueStatus.RESOLVED, resolved_at=now, workflow_phase=WorkflowPhase.RESOLVED)

    def reopened(self) -> IssueState:
        return replace(
            self, issue_status=IssueStatus.OPEN, resolved_at=None, workflow_phase=WorkflowPhase.REOPENED
        ).without_person_decision()

    def decided_by_person(
        self, decision: PersonDecision, at: float, *, resolution: str | None = None, resolved_at: float | None = None
    ) -> IssueState:
        """A person's change read back from Jira at ``at``: the issue is where they left it (resolved by them at
        ``resolved_at``, Jira's resolution date, when it says), and the decision is kept so the lifecycle honours it
        (``core.lifecycle``)."""
        status = {
            PersonDecision.RESOLVED: IssueStatus.RESOLVED,
            PersonDecision.WONT_FIX: IssueStatus.RESOLVED,
            PersonDecision.REOPENED: IssueStatus.OPEN,
            PersonDecision.DELETED: IssueStatus.NONE,
        }[decision]
        phase = {IssueStatus.RESOLVED: WorkflowPhase.RESOLVED, IssueStatus.OPEN: WorkflowPhase.REOPENED}
        return replace(
            self,
            issue_status=status,
            workflow_phase=phase.get(status, self.workflow_phase),
            resolved_at=resolved_at if status is IssueStatus.RESOLVED else None,  # Jira's, for the reopen window
            status_unsure_since=None,
            person_decision=decision,
            person_resolution=resolution if status is IssueStatus.RESOLVED else None,
            person_decided_at=at,
            person_notice_at=None,
        )

    def moved_to(self, issue_key: str, project: str | None) -> IssueState:
        """The issue moved (to another project): same id, new key; later writes go to the new key."""
        return replace(self, issue_key=issue_key, issue_project=project or self.issue_project)

    def person_noticed(self, at: float) -> IssueState:
        """The product commented once that it holds back because of the person's decision."""
        return replace(self, person_notice_at=at)

    def without_person_decision(self) -> IssueState:
        return replace(
            self, person_decision=None, person_resolution=None, person_decided_at=None, person_notice_at=None
        )

    def as_jira_has_it(self, done: bool | None) -> IssueState:
        """Where Jira says the issue is (``None``: deleted), after a transition whose answer was lost."""
        if done is None:
            return replace(self, issue_status=IssueStatus.NONE, status_unsure_since=None)
        if done:
            return replace(
                self, issue_status=IssueStatus.RESOLVED, workflow_phase=WorkflowPhase.RESOLVED, status_unsure_since=None
            )
        phase = self.workflow_phase if self.issue_status is IssueStatus.OPEN else WorkflowPhase.REOPENED
        return replace(self, issue_status=IssueStatus.OPEN, workflow_phase=phase, status_unsure_since=None)


def _older(alert: Alert, transition_at: int | None) -> bool:
    return alert.transition_at is not None and transition_at is not None and alert.transition_at < transition_at


def delivery_digest(delivery_key: str) -> str:
    """Delivery keys are kept hashed: any length of message id fits the item, and 25 of them stay small."""
    return hashlib.sha256(delivery_key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def state_pk(provider_id: str, dedupe_hash: str) -> str:
    return f"{provider_id}#{dedupe_hash}"
