"""Storms as one issue, carried out: members join their parent, and the parent follows the same lifecycle as any issue.

A parent is an alert of its own (``core.storm.ParentRef``): firing while any member fires, clear once every member
has cleared. Each time members join, the parent's step is asked of the same lifecycle every issue obeys
(``core.lifecycle.decide``), so a person's decision on a parent stands exactly as on a plain issue, a parent resolved
by the product reopens within the reopen window (measured from Jira's resolution date) and a new one opens after
it. On top of that step, the parent's member table is rewritten once per batch (one edit).

For each parent the members of one invocation (one SNS delivery, or every member of an SQS batch) are applied
together under the parent's lease. Each member's own item records its delivery and points at its parent, written
only after the parent's work succeeded, so a retry repeats nothing but an idempotent edit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from jira_notifier.app.create import Creates
from jira_notifier.app.deps import Deps
from jira_notifier.app.effects import view_of
from jira_notifier.app.lease import Lease
from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.budgets import LOCK_WAIT_SECONDS, START_BUDGET_SECONDS
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import (
    CreateUnconfirmedError,
    HeldBackError,
    JiraNotifierError,
    JiraRequestError,
    as_product_error,
)
from jira_notifier.core.lifecycle import (
    MIN_WRITE_INTERVAL,
    Action,
    Decision,
    Reason,
    aggregate,
    decide,
    decide_refire,
    fired_before_own_clear,
    member_skip,
    person_note,
)
from jira_notifier.core.outcome import Outcome, OutcomeAction
from jira_notifier.core.state import IssueState, IssueStatus, WorkflowPhase, state_pk
from jira_notifier.core.storm import PARENT_SOURCE, Group, ParentRef, alert_time, member_name
from jira_notifier.ports import Countdown, JiraIssue, JiraPort
from jira_notifier.render import storm as storm_render

RESOLVED_NOTE = "Every alert of this storm has cleared."
REOPENED_NOTE = "Reopened by jira-notifier: an alert of this storm fired again."


@dataclass(eq=False)  # each is one delivery: compared (and hashed) by identity
class Joiner:
    """One member alert on its way to its parent, holding its own lease."""

    alert: Alert
    lease: Lease
    late_firing: bool = False  # a firing that arrived after its own clear: listed as fired, then cleared


class ParentFullError(JiraNotifierError):
    """The parent lists as many members as one parent holds (permanent: the alert is parked with the reason)."""

    reason = "storm-parent-full"


class Storms:
    def __init__(self, deps: Deps, creates: Creates) -> None:
        self.deps = deps
        self.creates = creates

    def join(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, remaining: Countdown
    ) -> Outcome:
        """The direct path: one member alert applied to its parent.

        Raises:
            JiraNotifierError: as for any alert (retryable, or permanent to be parked).
        """
        [result] = self.join_all(provider, client, [Joiner(alert, lease)], remaining)
        if isinstance(result, JiraNotifierError):
            raise result
        return result

    def join_all(
        self, provider: ProviderConfig, client: JiraPort, joiners: Sequence[Joiner], remaining: Countdown
    ) -> list[Outcome | JiraNotifierError]:
        """Apply member alerts of one provider to their parents, each parent once; one result per joiner, in order.
        The joiners' leases are the caller's to give back (each is written, and so given back, once its parent's
        work succeeded)."""
        results: dict[int, Outcome | JiraNotifierError] = {}
        targets: dict[ParentRef, list[int]] = {}
        for index, joiner in enumerate(joiners):
            state = joiner.lease.state
            skip = member_skip(state, joiner.alert)
            if skip is Reason.OUT_OF_ORDER and fired_before_own_clear(state, joiner.alert):
                joiner.late_firing = True  # its clear came first: the episode is listed in its window's parent
            elif skip is not None:
                try:
                    joiner.lease.record_skip(joiner.alert, applied=False)
                except JiraNotifierError as error:
                    results[index] = error
                    continue
                self.deps.recorder.count("AlertsDeduplicated" if skip is not Reason.NOTHING_OPEN else "AlertsSkipped")
                results[index] = Outcome(provider.provider_id, OutcomeAction.SKIPPED, skip)
                continue
            ref = (
                ParentRef.of(provider.provider_id, state.parent)
                if state.parent and not joiner.late_firing
                else self._window_parent(provider, joiner.alert)
            )
            targets.setdefault(ref, []).append(index)
        while targets:  # a second round only for members whose parent is over: they go to their window's parent
            again: dict[ParentRef, list[int]] = {}
            for ref, indexes in targets.items():
                try:
                    applied = self._apply_to_parent(provider, client, ref, [joiners[i] for i in indexes], remaining)
                except Exception as raised:  # noqa: BLE001 - one parent's failure is its members' alone
                    results.update(dict.fromkeys(indexes, as_product_error(raised)))
                    continue
                for index, result in zip(indexes, applied, strict=True):
                    if result is None:
                        again.setdefault(self._window_parent(provider, joiners[index].alert), []).append(index)
                    else:
                        results[index] = result
            targets = again
        return [results[index] for index in range(len(joiners))]

    def _window_parent(self, provider: ProviderConfig, alert: Alert) -> ParentRef:
        return ParentRef.for_alert(
            provider.provider_id, alert, provider.group_by, provider.group_window, self.deps.clock()
        )

    def _apply_to_parent(
        self,
        provider: ProviderConfig,
        client: JiraPort,
        ref: ParentRef,
        joiners: Sequence[Joiner],
        remaining: Countdown,
    ) -> list[Outcome | JiraNotifierError | None]:
        """Apply the joiners to the parent under its lease, and record them; one result per joiner, None for one that
        must go to its window's parent instead (this parent is over: it may not be reopened and is another window's).

        Raises:
            JiraNotifierError: nothing was recorded; the joiners' leases are still held.
        """
        parent = _parent_alert(ref, joiners[0].alert, provider)
        plan: _Plan | None = None
        while plan is None:
            with self._hold(parent, provider, remaining) as lease:
                # An earlier holder's create of the parent may have reached Jira: settled first. An issue found and
                # adopted is recorded with the lease given back: it is taken again for the members.
                if lease.earlier_mark is not None and self.creates.recover(lease, parent, provider, client) is not None:
                    continue
                plan = _Plan.of(self, lease.state, ref, joiners, provider, lambda key: self.read_parent(client, key))
                self._carry_out(plan, lease, parent, provider, client, remaining)
                key = plan.issue_key or lease.state.issue_key
        results: list[Outcome | JiraNotifierError | None] = []
        for joiner in joiners:
            if joiner in plan.moving:
                results.append(None)
            elif joiner in plan.refused:
                results.append(plan.refused[joiner])
            else:
                try:
                    joiner.lease.record_joined(joiner.alert, ref.dedupe_key)
                except JiraNotifierError as error:  # the parent lists it: the retry finds nothing more to do
                    results.append(error)
                    continue
                reason = f"member-{joiner.alert.state.value}"
                results.append(Outcome(provider.provider_id, OutcomeAction.GROUPED, reason, key))
        return results

    def _hold(self, parent: Alert, provider: ProviderConfig, remaining: Countdown) -> AbstractContextManager[Lease]:
        left = remaining()
        return self.deps.leases.hold(
            state_pk(provider.provider_id, parent.dedupe_hash),
            provider.provider_id,
            parent.dedupe_key,
            deadline=self.deps.clock() + left,
            wait_seconds=max(0.0, min(LOCK_WAIT_SECONDS, left - START_BUDGET_SECONDS)),
        )

    def _carry_out(
        self, plan: _Plan, lease: Lease, parent: Alert, provider: ProviderConfig, client: JiraPort, remaining: Countdown
    ) -> None:
        """The parent's step (``_Plan``), then its table and status, recorded on the parent's state."""
        if plan.create:
            group = plan.group
            description = storm_render.description(group, provider.group_window)
            outcome = self.creates.one(
                lease, parent, provider, client, Reason.NEW_ALERT, group=group, description=description
            )
            if outcome is None:  # a search found the parent after all: its members are applied on the retry
                raise CreateUnconfirmedError("the storm's parent issue was found; its members are applied next")
            plan.issue_key = outcome.issue_key
            if group.all_cleared:  # every member that fired here has cleared already (their clears came first)
                with self._hold(parent, provider, remaining) as again:
                    self._update(again, provider, client, group, Decision(Action.RESOLVE, Reason.CLEARED), remaining)
            return
        if plan.decision is None or lease.state.issue_key is None or lease.state.issue_status is IssueStatus.NONE:
            return  # nothing to show: only clears for a parent never created (or deleted), or members moving on
        self._update(lease, provider, client, plan.group, plan.decision, remaining, person=plan.person)

    def _update(
        self,
        lease: Lease,
        provider: ProviderConfig,
        client: JiraPort,
        group: Group,
        decision: Decision,
        remaining: Countdown,
        *,
        person: str | None = None,
    ) -> None:
        """One edit of the description when the table changed, then the status the step calls for (and a comment a
        person's decision calls for); a batch's writes start at least ``MIN_WRITE_INTERVAL`` after the previous
        batch's (Jira's per-issue limits).

        Raises:
            HeldBackError: too little of the invocation is left to wait for the interval (retryable).
            JiraNotifierError: a write failed; nothing is recorded, so the retry writes the table again.
        """
        state = lease.state
        key = state.issue_key
        assert key is not None
        resolving = decision.action is Action.RESOLVE and bool(provider.resolve_transition)
        reopening = decision.action is Action.REOPEN
        if not group.unwritten and not resolving and not reopening and person is None:
            return  # repeats only: the parent stays as it is (the lease is given back on exit)
        self._wait_for_write_interval(state, remaining)
        now = self.deps.clock()
        if group.unwritten:
            client.edit_issue(key, {"description": storm_render.description(group, provider.group_window)})
            self.deps.recorder.count("StormTablesWritten")
        moved: IssueStatus | None = None
        if resolving or reopening:
            self.deps.catalog.move(
                client,
                provider,
                key,
                state.workflow_phase if resolving else WorkflowPhase.RESOLVED,
                purpose="resolve" if resolving else "reopen",
                name=provider.resolve_transition if resolving else provider.reopen_transition,
                comment=storm_render.note(RESOLVED_NOTE if resolving else REOPENED_NOTE),
                resolution=provider.resolve_resolution if resolving else None,
            )
            self.deps.recorder.count("IssuesResolved" if resolving else "IssuesReopened")
            moved = IssueStatus.RESOLVED if resolving else IssueStatus.OPEN
        elif person is not None:
            client.add_comment(key, storm_render.note(person))
            lease.note_person_notice(now)
        lease.record_parent(group, now, wrote_table=group.unwritten, moved=moved)

    def _wait_for_write_interval(self, state: IssueState, remaining: Countdown) -> None:
        wait = 0.0 if state.last_write_at is None else state.last_write_at + MIN_WRITE_INTERVAL - self.deps.clock()
        if wait <= 0:
            return
        if remaining() - wait < START_BUDGET_SECONDS:
            raise HeldBackError(
                "the storm's parent issue was written moments ago and this invocation has no time to wait"
            )
        self.deps.sleep(wait)

    def read_parent(self, client: JiraPort, key: str) -> JiraIssue | None:
        try:
            return client.get_issue(key, ["status", "resolution", "resolutiondate"])
        except JiraRequestError as error:
            if error.status != 404:
                raise
            return None


@dataclass
class _Plan:
    """What one batch of members does to their parent: the membership, and the parent's step in the lifecycle."""

    group: Group
    decision: Decision | None  # the parent's step; None: nothing to do on its issue
    create: bool = False  # a new parent issue (for a new group, or a window whose parent is over)
    person: str | None = None  # a comment a person's decision calls for
    moving: frozenset[Joiner] = frozenset()  # members that belong to their window's parent instead
    refused: dict[Joiner, JiraNotifierError] = field(default_factory=dict)
    issue_key: str | None = None

    @classmethod
    def of(
        cls,
        storms: Storms,
        state: IssueState,
        ref: ParentRef,
        joiners: Sequence[Joiner],
        provider: ProviderConfig,
        read: Callable[[str], JiraIssue | None],
    ) -> _Plan:
        now = storms.deps.clock()
        group = state.group or Group(ref.group_key, ref.window_start)
        refused: dict[Joiner, JiraNotifierError] = {}
        fired = False
        for joiner in joiners:
            group, error = _with_member(group, joiner, now)
            if error is not None:
                refused[joiner] = error
            fired = fired or joiner.alert.state is AlertState.FIRING
        plan = cls(group, None, refused=refused)
        parent = aggregate(group, ref, fired)
        decision = decide(state, parent, provider, now) if parent is not None else None
        if decision is None:
            return plan
        if decision.action is Action.CREATE:  # a new group (or a parent Jira lost): created with its table
            plan.create, plan.decision = fired, decision
            return plan
        if decision.action is Action.REFIRE and state.issue_key is not None:
            decision = decide_refire(state, view_of(read(state.issue_key)), provider, now)
        if decision.action is Action.CREATE:  # over: a new issue for this window, the rest to their own windows
            plan.moving = frozenset(
                j
                for j in joiners
                if j.alert.state is AlertState.FIRING and storms._window_parent(provider, j.alert) != ref
            )
            staying = [j for j in joiners if j not in plan.moving and j not in refused]
            fresh = Group(ref.group_key, ref.window_start)
            for joiner in staying:
                fresh, _ = _with_member(fresh, joiner, now)
            plan.group, plan.create = fresh, any(j.alert.state is AlertState.FIRING for j in staying)
            plan.decision = decision
            return plan
        plan.decision = decision
        if decision.action is Action.COMMENT and decision.reason in (Reason.RESOLVED_BY_PERSON, Reason.WONT_FIX):
            plan.person = person_note(decision, state)
        return plan


def _with_member(group: Group, joiner: Joiner, now: float) -> tuple[Group, JiraNotifierError | None]:
    alert = joiner.alert
    if group.member(alert.dedupe_hash) is None and group.full:
        return group, ParentFullError(
            f"the storm's parent issue already lists {len(group.members)} alerts, the most one parent holds; group by "
            "more parts or set a shorter --group-window"
        )
    group = group.with_member(alert.dedupe_hash, member_name(alert), alert.state, alert_time(alert, now))
    if joiner.late_firing and joiner.lease.state.transition_at is not None:  # and its clear, which came first
        cleared_at = joiner.lease.state.transition_at / 1000
        group = group.with_member(alert.dedupe_hash, member_name(alert), AlertState.RESOLVED, cleared_at)
    return group, None


def _parent_alert(ref: ParentRef, first: Alert, provider: ProviderConfig) -> Alert:
    """The parent as an alert of its own: its dedupe key names its state item and its Jira label."""
    return Alert(
        source=PARENT_SOURCE,
        dedupe_key=ref.dedupe_key,
        delivery_key=f"{ref.dedupe_key}#parent",
        state=AlertState.FIRING,
        title=storm_render.summary_title(ref.group_key),
        severity=first.severity,
        account=first.account if "account" in provider.group_by else None,
        region=first.region if "region" in provider.group_by else None,
    )
