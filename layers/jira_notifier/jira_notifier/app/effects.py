"""The lifecycle's effects on an issue that exists: comment, resolve, reopen (or a new issue when the lifecycle says).

Each effect runs under the alert's lease, records what it did through the lease's named transitions (``app.lease``)
and returns the ``Outcome``, or None when the lease's state changed under it (an unconfirmed create's issue was
adopted) and the alert is to be decided again.
"""

from __future__ import annotations

import contextlib
from typing import Any

from jira_notifier.app.create import Creates
from jira_notifier.app.deps import Deps
from jira_notifier.app.lease import Lease
from jira_notifier.core.alert import Alert
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import JiraNotifierError, JiraRequestError, refused_outright
from jira_notifier.core.findingnotes import WONT_FIX_WORDS
from jira_notifier.core.lifecycle import (
    RECLEAR_NOTE,
    Action,
    IssueView,
    Reason,
    decide_gone,
    decide_reclear,
    decide_refire,
    wont_fix_note,
)
from jira_notifier.core.outcome import Outcome, OutcomeAction
from jira_notifier.core.state import IssueStatus, WorkflowPhase
from jira_notifier.ports import JiraIssue, JiraPort
from jira_notifier.render import issue as render

REOPEN_NOTE = "Reopened by jira-notifier: the alert fired again."


class Effects:
    def __init__(self, deps: Deps, creates: Creates) -> None:
        self.deps = deps
        self.creates = creates

    def comment(
        self,
        lease: Lease,
        alert: Alert,
        provider: ProviderConfig,
        client: JiraPort,
        reason: Reason,
        note: str | None,
        *,
        status: IssueStatus | None = None,
        wont_fix: str | None = None,
    ) -> Outcome | None:
        """Comment on the lease's issue; ``status``: where the issue now stands (e.g. resolved by hand already);
        ``wont_fix``: the resolution a won't-fix from the source (``Alert.wont_fix``) is recorded as."""
        state = lease.state
        assert state.issue_key is not None
        try:
            client.add_comment(state.issue_key, render.comment(alert, note=note))
        except JiraRequestError as error:
            if error.status != 404:
                raise
            return self.deleted_by_person(lease, alert, provider, client)
        lease.record_commented(alert, self.deps.clock(), status=status, wont_fix=wont_fix)
        self.deps.recorder.count("IssuesCommented")
        return Outcome(provider.provider_id, OutcomeAction.COMMENTED, reason, state.issue_key)

    def resolve(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, note: str | None
    ) -> Outcome | None:
        state = lease.state
        assert state.issue_key is not None
        # The source's own won't-fix (a suppressed finding) resolves as the provider's won't-fix resolution.
        wont_fix = (provider.wont_fix_resolution or WONT_FIX_WORDS) if alert.wont_fix else None
        try:
            moved = self._move(
                lease,
                client,
                provider,
                state.workflow_phase,
                purpose="resolve",
                name=provider.resolve_transition,
                comment=render.comment(alert, note=note),
                resolution=provider.wont_fix_resolution if alert.wont_fix else provider.resolve_resolution,
            )
        except JiraRequestError as error:
            if error.status != 404:
                raise
            return self.deleted_by_person(lease, alert, provider, client)  # the clear is recorded with it
        if not moved:  # already done by hand, or no way to done from here: keep the timeline anyway
            return self.comment(
                lease,
                alert,
                provider,
                client,
                Reason.CLEARED_NO_TRANSITION,
                note,
                status=IssueStatus.RESOLVED,
                wont_fix=wont_fix,
            )
        lease.record_resolved(alert, self.deps.clock(), wont_fix=wont_fix)
        if provider.syncs_back:
            self.deps.sync_back.issue_resolved(provider, alert, lease.state)
        self.deps.recorder.count("IssuesResolved")
        return Outcome(provider.provider_id, OutcomeAction.RESOLVED, Reason.CLEARED, state.issue_key)

    def refire(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, note: str | None
    ) -> Outcome | None:
        """The alert fired again after its issue was resolved: read where the issue is, then do what the lifecycle
        says (``core.lifecycle.decide_refire``)."""
        state = lease.state
        assert state.issue_key is not None
        issue = issue_now(client, state.issue_key)
        decision = decide_refire(state, view_of(issue), provider, self.deps.clock())
        if decision.action is Action.CREATE:
            return self.creates.one(lease, alert, provider, client, decision.reason)
        if decision.reason is Reason.WONT_FIX:
            resolution = issue.resolution if issue is not None else None
            return self.comment(
                lease, alert, provider, client, decision.reason, _joined(note, wont_fix_note(resolution))
            )
        if decision.action is Action.COMMENT:  # reopened by a person meanwhile
            return self.comment(lease, alert, provider, client, decision.reason, note, status=IssueStatus.OPEN)
        moved = self._move(
            lease,
            client,
            provider,
            WorkflowPhase.RESOLVED,
            purpose="reopen",
            name=provider.reopen_transition,
            comment=render.comment(alert, note=_joined(note, REOPEN_NOTE)),
        )
        if not moved:
            return self.creates.one(lease, alert, provider, client, Reason.NO_REOPEN_TRANSITION_AVAILABLE)
        lease.record_reopened(alert, self.deps.clock())
        self.deps.recorder.count("IssuesReopened")
        return Outcome(provider.provider_id, OutcomeAction.REOPENED, Reason.FIRED_AFTER_RESOLVE, state.issue_key)

    def deleted_by_person(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort
    ) -> Outcome | None:
        """A write found the lease's issue gone (404): a person deleted it (or moved it out of reach). A firing that
        starts a new episode opens a new issue; anything else is recorded with the deletion, so a clear ends its
        episode and the next firing opens a new issue, while a firing of the same episode does not
        (``core.lifecycle.decide_gone``)."""
        issue_key = lease.state.issue_key
        decision = decide_gone(lease.state, alert)
        if decision.action is Action.CREATE:
            return self.creates.one(lease, alert, provider, client, decision.reason)
        lease.record_deleted_by_person(alert, self.deps.clock())
        self.deps.recorder.count("HumanDecisionsRecorded")
        return Outcome(provider.provider_id, OutcomeAction.SKIPPED, Reason.DELETED_BY_PERSON, issue_key)

    def reclear(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, note: str | None
    ) -> Outcome | None:
        """The alert cleared again after its issue was resolved, the firing between unheard: read where the issue
        is, then do what the lifecycle says (``core.lifecycle.decide_reclear``)."""
        state = lease.state
        assert state.issue_key is not None
        issue = issue_now(client, state.issue_key)
        decision = decide_reclear(view_of(issue))
        if issue is None:
            return self.deleted_by_person(lease, alert, provider, client)
        if decision.action is Action.RESOLVE:  # reopened by a person meanwhile: their episode ended with this clear
            lease.learned_status(done=False)
            return self.resolve(lease, alert, provider, client, note)
        return self.comment(
            lease, alert, provider, client, decision.reason, _joined(note, RECLEAR_NOTE), status=IssueStatus.RESOLVED
        )

    def read_status(self, lease: Lease, client: JiraPort) -> None:
        """After a transition whose answer was lost: learn from Jira where the issue is.

        Raises:
            JiraNotifierError: the issue could not be read.
        """
        assert lease.state.issue_key is not None
        try:
            done: bool | None = client.get_issue(lease.state.issue_key, ["status"]).done
        except JiraRequestError as error:
            if error.status != 404:
                raise
            done = None  # deleted meanwhile
        lease.learned_status(done)

    def _move(self, lease: Lease, client: JiraPort, provider: ProviderConfig, phase: str, **move: Any) -> bool:
        """Transition the lease's issue; when the answer leaves in doubt whether Jira moved it, the state says so
        (best effort), and the next holder reads the issue before deciding anything.

        Raises:
            JiraNotifierError: the transition failed.
        """
        assert lease.state.issue_key is not None
        try:
            return self.deps.catalog.move(client, provider, lease.state.issue_key, phase, **move)
        except JiraNotifierError as error:
            if not refused_outright(error):
                with contextlib.suppress(JiraNotifierError):  # only a second failure leaves the doubt unrecorded
                    lease.record_status_unsure(self.deps.clock())
            raise


def view_of(issue: JiraIssue | None) -> IssueView | None:
    """What the lifecycle reads of an issue Jira answered with."""
    if issue is None:
        return None
    return IssueView(issue.id, issue.key, issue.done, issue.resolution, issue.resolved_at, issue.project_key)


def _joined(*parts: str | None) -> str | None:
    """The notes that are given, as one (None when there are none)."""
    text = " ".join(p for p in parts if p)
    return text or None


join_notes = _joined


def issue_now(client: JiraPort, issue_key: str) -> JiraIssue | None:
    """Where the issue is now in Jira (status, resolution and its date), or None when it was deleted (404).

    Raises:
        JiraRequestError: any other refusal or failure of the read.
    """
    try:
        return client.get_issue(issue_key, ["status", "resolution", "resolutiondate"])
    except JiraRequestError as error:
        if error.status != 404:
            raise
        return None
