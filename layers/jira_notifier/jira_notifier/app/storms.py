"""Storms as one issue, carried out: members join their parent, the parent is created once and its table rewritten
once per batch, and it resolves and reopens with its members.

For each parent the members of one invocation (one SNS delivery, or every member of an SQS batch) are applied
together under the parent's lease: at most one create, or one description edit, plus a resolve or reopen
transition when the membership calls for it. The parent is created under the same write-ahead protocol as any
issue (``Effects.prepare_create``, ``state.Lease``), and an earlier holder's unconfirmed create is settled first by
the same recovery (``unconfirmed.recover``). Each member's own item records its delivery and points at its parent,
written only after the parent's work succeeded, so a retry repeats nothing but an idempotent edit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from jira_notifier.app import recover as unconfirmed
from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.errors import HeldBackError, JiraNotifierError, as_product_error
from jira_notifier.core.lifecycle import MIN_WRITE_INTERVAL, stale_reason, within_reopen_window
from jira_notifier.core.outcome import Outcome
from jira_notifier.core.state import IssueState, IssueStatus, WorkflowPhase
from jira_notifier.core.storm import PARENT_SOURCE, Group, ParentRef, ParentStep, alert_time, member_name, parent_step
from jira_notifier.render import storm as storm_render

if TYPE_CHECKING:
    from jira_notifier.adapters.jira.client import JiraPort
    from jira_notifier.app.notify import Notifier
    from jira_notifier.core.config import ProviderConfig
    from jira_notifier.core.state import Lease


@dataclass(eq=False)  # each is one delivery: compared (and hashed) by identity
class Joiner:
    """One member alert on its way to its parent, holding its own lease."""

    alert: Alert
    lease: Lease
    settled: bool = False  # its lease was saved or released


def is_member(provider: ProviderConfig, state: IssueState) -> bool:
    """Whether the alert goes to a parent: the provider groups, and the alert has no issue of its own (it had one
    before ``groupBy`` was set, or a create of one may be in flight): such an issue is followed to its end."""
    if not provider.group_by:
        return False
    own_issue = state.parent is None and (state.issue_status is IssueStatus.OPEN or state.pending_create_at is not None)
    return not own_issue


def member_skip(state: IssueState, alert: Alert) -> str | None:
    """Why a member alert changes nothing (a duplicate, older than what is recorded, or a clear of an alert that
    never joined a parent), or None. Pure."""
    if state.seen(alert.delivery_key):
        return "duplicate-delivery"
    stale = stale_reason(state, alert)
    if stale:
        return stale
    if state.parent is None and alert.state is not AlertState.FIRING:
        return "nothing-open"
    return None


def join(
    notifier: Notifier,
    lease: Lease,
    alert: Alert,
    provider: ProviderConfig,
    client: JiraPort,
    remaining: Callable[[], float] | None,
) -> Outcome:
    """The direct path: one member alert applied to its parent.

    Raises:
        JiraNotifierError: as for any alert (retryable, or permanent to be parked).
    """
    [result] = join_all(notifier, provider, client, [Joiner(alert, lease)], remaining)
    if isinstance(result, JiraNotifierError):
        raise result
    return result


def join_all(
    notifier: Notifier,
    provider: ProviderConfig,
    client: JiraPort,
    joiners: Sequence[Joiner],
    remaining: Callable[[], float] | None,
) -> list[Outcome | JiraNotifierError]:
    """Apply member alerts of one provider to their parents, each parent once; one result per joiner, in order.
    Every joiner's lease is saved or released before this returns."""
    results: dict[int, Outcome | JiraNotifierError] = {}
    targets: dict[ParentRef, list[int]] = {}
    try:
        for index, joiner in enumerate(joiners):
            state = joiner.lease.state
            skip = member_skip(state, joiner.alert)
            if skip is not None:
                try:
                    _settle(joiner, state.remembered(joiner.alert, applied=False))
                except JiraNotifierError as error:
                    results[index] = error
                    continue
                notifier.recorder.count("AlertsDeduplicated" if skip != "nothing-open" else "AlertsSkipped")
                results[index] = Outcome(provider.provider_id, "skipped", skip)
            else:
                ref = (
                    ParentRef.of(provider.provider_id, state.parent)
                    if state.parent
                    else _window_parent(notifier, provider, joiner.alert)
                )
                targets.setdefault(ref, []).append(index)
        while targets:  # a second round only for members whose parent is over: they go to their window's parent
            again: dict[ParentRef, list[int]] = {}
            for ref, indexes in targets.items():
                try:
                    applied = _apply_to_parent(
                        notifier, provider, client, ref, [joiners[i] for i in indexes], remaining
                    )
                except Exception as raised:  # noqa: BLE001 - one parent's failure is its members' alone
                    results.update(dict.fromkeys(indexes, as_product_error(raised)))
                    continue
                for index, result in zip(indexes, applied, strict=True):
                    if result is None:
                        again.setdefault(_window_parent(notifier, provider, joiners[index].alert), []).append(index)
                    else:
                        results[index] = result
            targets = again
    finally:
        for joiner in joiners:
            if not joiner.settled:
                joiner.lease.release()
    return [results[index] for index in range(len(joiners))]


class ParentFullError(JiraNotifierError):
    """The parent lists as many members as one parent holds (permanent: the alert is parked with the reason)."""

    reason = "storm-parent-full"


def _window_parent(notifier: Notifier, provider: ProviderConfig, alert: Alert) -> ParentRef:
    return ParentRef.for_alert(provider.provider_id, alert, provider.group_by, provider.group_window, notifier.clock())


def _apply_to_parent(
    notifier: Notifier,
    provider: ProviderConfig,
    client: JiraPort,
    ref: ParentRef,
    joiners: Sequence[Joiner],
    remaining: Callable[[], float] | None,
) -> list[Outcome | JiraNotifierError | None]:
    """Apply the joiners to the parent under its lease, and record them; one result per joiner, None for one that
    must go to its window's parent instead (this parent is resolved and may no longer be reopened).

    Raises:
        JiraNotifierError: nothing was recorded; the joiners' leases are still held.
    """
    parent = _parent_alert(ref, joiners[0].alert, provider)
    lease = notifier.acquire_lease(parent, provider, remaining)
    try:
        if lease.earlier_mark is not None:  # an earlier holder's create of the parent may have reached Jira
            recovered = unconfirmed.recover(
                lease, parent, provider, client, clock=notifier.clock, recorder=notifier.recorder
            )
            if recovered is not None:  # the issue was adopted and recorded, the lease released with it
                lease = notifier.acquire_lease(parent, provider, remaining)
        state, now = lease.state, notifier.clock()
        over = state.issue_status is IssueStatus.RESOLVED and not _reopens(provider, state, now)
        moving = {
            j
            for j in joiners
            if over and j.alert.state is AlertState.FIRING and _window_parent(notifier, provider, j.alert) != ref
        }
        starts_over = over and any(j.alert.state is AlertState.FIRING and j not in moving for j in joiners)
        group = Group(ref.group_key, ref.window_start) if starts_over or state.group is None else state.group
        refused: dict[Joiner, JiraNotifierError] = {}
        for joiner in joiners:
            alert = joiner.alert
            if joiner in moving or (over and not starts_over):
                continue  # a clear for a parent that is over changes nothing there
            if group.member(alert.dedupe_hash) is None and group.full:
                refused[joiner] = ParentFullError(
                    f"the storm's parent issue {state.issue_key or ''} already lists {len(group.members)} alerts, the "
                    "most one parent holds; group by more parts or set a shorter --group-window"
                )
                continue
            group = group.with_member(alert.dedupe_hash, member_name(alert), alert.state, alert_time(alert, now))
        if state.issue_status is IssueStatus.NONE or starts_over:
            if group.any_firing:
                _create_parent(notifier, lease, parent, provider, client, group)
            else:  # only clears, for a parent never created: nothing to show
                lease.release()
        elif over:
            lease.release()
        else:
            _update_parent(notifier, lease, provider, client, group, remaining)
    except BaseException:
        lease.release()
        raise
    results: list[Outcome | JiraNotifierError | None] = []
    key = lease.state.issue_key
    for joiner in joiners:
        if joiner in moving:
            results.append(None)
        elif joiner in refused:
            results.append(refused[joiner])
        else:
            try:
                _settle(joiner, joiner.lease.state.joined(joiner.alert, ref.dedupe_key))
            except JiraNotifierError as error:  # the parent lists it: the retry finds nothing more to do
                results.append(error)
                continue
            results.append(Outcome(provider.provider_id, "grouped", f"member-{joiner.alert.state.value}", key))
    return results


def _settle(joiner: Joiner, state: IssueState) -> None:
    joiner.lease.save(state, release=True)
    joiner.settled = True


def _move_parent(
    notifier: Notifier, client: JiraPort, provider: ProviderConfig, state: IssueState, step: ParentStep, now: float
) -> IssueState:
    """Resolve (every member cleared) or reopen (one fired again) the parent, with a comment saying why; without
    a resolve transition the parent stays open, its table showing every member cleared.

    Raises:
        JiraNotifierError: the transition failed.
    """
    assert state.issue_key is not None
    resolving = step is ParentStep.RESOLVE
    name = provider.resolve_transition if resolving else provider.reopen_transition
    if not name:
        return state
    notifier.catalog.move(
        client,
        provider,
        state.issue_key,
        state.workflow_phase if resolving else WorkflowPhase.RESOLVED,
        purpose=step.value,
        name=name,
        comment=storm_render.note(
            "Every alert of this storm has cleared."
            if resolving
            else "Reopened by jira-notifier: an alert of this storm fired again."
        ),
        resolution=provider.resolve_resolution if resolving else None,
    )
    notifier.recorder.count("IssuesResolved" if resolving else "IssuesReopened")
    return replace(state.resolved(now) if resolving else state.reopened(), last_write_at=now)


def _wait_for_write_interval(notifier: Notifier, state: IssueState, remaining: Callable[[], float] | None) -> None:
    from jira_notifier.app.notify import START_BUDGET_SECONDS

    wait = 0.0 if state.last_write_at is None else state.last_write_at + MIN_WRITE_INTERVAL - notifier.clock()
    if wait <= 0:
        return
    if notifier.seconds_left(remaining) - wait < START_BUDGET_SECONDS:
        raise HeldBackError("the storm's parent issue was written moments ago and this invocation has no time to wait")
    notifier.sleep(wait)


def _reopens(provider: ProviderConfig, state: IssueState, now: float) -> bool:
    return provider.reopen_transition is not None and within_reopen_window(provider, state.resolved_at, now)


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


def _create_parent(
    notifier: Notifier, lease: Lease, parent: Alert, provider: ProviderConfig, client: JiraPort, group: Group
) -> None:
    """Create the parent with the member table as its description, exactly once (write-ahead mark first)."""
    effects = notifier.effects
    body = effects.prepare_create(lease, parent, provider, client).body  # a parent has no alarm: no graph
    body["fields"]["description"] = storm_render.description(group, provider.group_window)
    try:
        created = client.create_issue(body)
    except JiraNotifierError as error:
        effects.create_failed(lease, error)  # the mark stays when the issue may exist: the retry searches first
        raise
    now = notifier.clock()
    lease.confirm_create(lease.state.created(parent, created.id, created.key, now).with_group(group.written()))
    notifier.recorder.count("IssuesCreated")


def _update_parent(
    notifier: Notifier,
    lease: Lease,
    provider: ProviderConfig,
    client: JiraPort,
    group: Group,
    remaining: Callable[[], float] | None,
) -> None:
    """One edit of the description when the table changed, then resolve or reopen as the membership says; a
    batch's writes start at least ``MIN_WRITE_INTERVAL`` after the previous batch's (Jira's per-issue limits).

    Raises:
        HeldBackError: too little of the invocation is left to wait for the interval (retryable).
        JiraNotifierError: a write failed; nothing is recorded, so the retry writes the table again.
    """
    state = lease.state
    key = state.issue_key
    assert key is not None
    step = parent_step(state.issue_status is IssueStatus.OPEN, group)
    if not group.unwritten and step is ParentStep.NONE:  # repeats only: the parent stays as it is
        lease.release()
        return
    _wait_for_write_interval(notifier, state, remaining)
    now = notifier.clock()
    if group.unwritten:
        client.edit_issue(key, {"description": storm_render.description(group, provider.group_window)})
        notifier.recorder.count("StormTablesWritten")
        state = replace(state, last_write_at=now)
    state = state.with_group(group.written())
    if step is not ParentStep.NONE:
        state = _move_parent(notifier, client, provider, state, step, now)
    lease.save(state, release=True)
