"""The lifecycle's effects in Jira: create (exactly once), comment, resolve, reopen.

Each effect runs under the alert's lease, records what it did through the lease (``state.Lease``) and returns the
``Outcome``, or None when the lease's state changed under it (an unconfirmed create's issue was adopted) and the
alert is to be decided again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from jira_notifier.adapters.aws.accounts import AccountNamer
from jira_notifier.adapters.aws.syncback import NoSyncBack, SyncBackPort
from jira_notifier.adapters.aws.tags import ResourceTags
from jira_notifier.app.catalog import JiraCatalog
from jira_notifier.app.owner import owner_fields, refused_tag_fields
from jira_notifier.app.recover import adopt, confirm_created, find_created
from jira_notifier.core.alert import Alert
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import JiraNotifierError, JiraRequestError, refused_outright
from jira_notifier.core.lifecycle import DELETED_BY_PERSON, within_reopen_window
from jira_notifier.core.outcome import Outcome, Recorder
from jira_notifier.core.state import IssueStatus, Lease, PersonDecision, WorkflowPhase
from jira_notifier.render import issue as render
from jira_notifier.render.payloads import create_body, create_priority

if TYPE_CHECKING:
    from jira_notifier.adapters.jira.client import CreatedIssue, JiraPort
    from jira_notifier.core.insight import GraphImage


class Insights(Protocol):
    """What a new alarm issue shows beyond its event (``insight.enrich.AlarmInsights``)."""

    def prepare(
        self, alert: Alert, provider: ProviderConfig, remaining: Callable[[], float] | None
    ) -> tuple[Alert, GraphImage | None]: ...
    def attach(self, client: JiraPort, issue_key: str, image: GraphImage) -> None: ...


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """A create's body, and the graph its description names, attached right after the create."""

    body: dict[str, Any]
    graph: GraphImage | None = None


@dataclass(frozen=True, slots=True)
class Effects:
    clock: Callable[[], float]
    recorder: Recorder
    catalog: JiraCatalog
    accounts: AccountNamer  # names the accounts in a new issue's body
    tags: ResourceTags  # the resources' tags, for the fields a provider fills from them
    sync_back: SyncBackPort = field(default_factory=NoSyncBack)  # tells AWS what became of the issue
    insights: Insights | None = None  # graphs, log evidence and child alarms in new alarm issues

    # ---- creating an issue exactly once ------------------------------------------------------------------
    # One protocol for a single create and for each element of a bulk create (batch.py): ``prepare_create``, send,
    # then ``record_created`` for an issue Jira confirmed (and ``attach_graph``) or ``create_failed`` for an error.

    def prepare_create(
        self,
        lease: Lease,
        alert: Alert,
        provider: ProviderConfig,
        client: JiraPort,
        refused: frozenset[str] = frozenset(),
    ) -> CreateRequest:
        """The create request, with the write-ahead mark standing for it (``Lease.begin_create``): send its body
        right after, then ``attach_graph``. ``refused``: tag-filled fields Jira refused on a first try, left out
        with a warning.

        Raises:
            JiraNotifierError: the metadata or the mark could not be had; nothing may be sent.
        """
        alert = self.accounts.named(alert)
        graph = None
        if self.insights is not None:  # within the lease's time: what it leaves is for the create
            alert, graph = self.insights.prepare(alert, provider, lambda: lease.deadline - self.clock())
        named, fields = owner_fields(alert, provider, client, self.catalog, self.tags, refused)
        body = create_body(named, provider, self.catalog.issue_type_id(client, provider), fields)
        lease.begin_create(self.clock())
        return CreateRequest(body, graph)

    def attach_graph(self, client: JiraPort, created: CreatedIssue, request: CreateRequest) -> None:
        """The one extra request of a new metric-alarm issue; a failure is counted, never raised."""
        if self.insights is not None and request.graph is not None:
            self.insights.attach(client, created.key, request.graph)

    def record_created(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, created: CreatedIssue, reason: str
    ) -> Outcome:
        """Record the issue Jira confirmed; "coalesced" when a newer clear is to be written next.

        Raises:
            BusyError, StoreError: not recorded; the mark stays, so the next holder finds the issue.
        """
        self.recorder.count("IssuesCreated")
        state = lease.state.created(
            alert, created.id, created.key, self.clock(), priority=create_priority(alert, provider)
        )
        outcome = confirm_created(lease, state, alert, provider, "created", reason)
        self.sync_back.issue_created(provider, alert, lease.state)
        return outcome

    @staticmethod
    def create_failed(lease: Lease, error: JiraNotifierError) -> bool:
        """After a create answered with ``error``: the mark goes when Jira certainly did not act, else it stays.
        True when the issue may exist."""
        if refused_outright(error):
            lease.create_refused()
            return False
        return True

    def create(
        self,
        lease: Lease,
        alert: Alert,
        provider: ProviderConfig,
        client: JiraPort,
        reason: str,
        refused: frozenset[str] = frozenset(),
    ) -> Outcome | None:
        """Create the alert's issue. An answer that leaves the outcome in doubt (timeout, 5xx, a body cut off) is
        followed by one label search; when that cannot show the issue yet, the error goes back for a retry with the
        mark in place. A value from tags that Jira refused is left out, once: a tag never costs the issue
        (``refused``: the fields already left out)."""
        request = self.prepare_create(lease, alert, provider, client, refused)
        try:
            created = client.create_issue(request.body)
        except JiraNotifierError as error:
            may_exist = self.create_failed(lease, error)
            tagged = frozenset() if may_exist or refused else refused_tag_fields(error, provider, request.body)
            if tagged:  # Jira created nothing: once more, without the values it refused
                return self.create(lease, alert, provider, client, reason, tagged)
            if may_exist:
                with contextlib.suppress(JiraNotifierError):  # the search failing too changes nothing: retry
                    found = find_created(lease, alert, provider, client, self.clock())
                    if found is not None:
                        return adopt(lease, alert, provider, found, self.recorder)
            raise
        outcome = self.record_created(lease, alert, provider, created, reason)
        self.attach_graph(client, created, request)  # after the record: the issue is safe whatever happens here
        return outcome

    # ---- the issue's timeline ----------------------------------------------------------------------------

    def comment(
        self,
        lease: Lease,
        alert: Alert,
        provider: ProviderConfig,
        client: JiraPort,
        reason: str,
        note: str | None,
        *,
        status: IssueStatus | None = None,
    ) -> Outcome | None:
        state = lease.state
        assert state.issue_key is not None
        try:
            client.add_comment(state.issue_key, render.comment(alert, note=note))
        except JiraRequestError as error:
            if error.status != 404:
                raise
            # Deleted (or moved out of reach) by a person: their decision, recorded; the alert's next firing after
            # a clear opens a new issue, this firing does not (lifecycle.decide).
            lease.save(state.decided_by_person(PersonDecision.DELETED, self.clock()).remembered(alert), release=True)
            self.recorder.count("HumanDecisionsRecorded")
            return Outcome(provider.provider_id, "skipped", DELETED_BY_PERSON, state.issue_key)
        now = self.clock()
        lease.save(
            replace(state, issue_status=status or state.issue_status).written(alert, now, commented=True),
            release=True,
        )
        self.recorder.count("IssuesCommented")
        return Outcome(provider.provider_id, "commented", reason, state.issue_key)

    def resolve(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, note: str | None
    ) -> Outcome | None:
        state = lease.state
        assert state.issue_key is not None
        moved = self._move(
            lease,
            client,
            provider,
            state.workflow_phase,
            purpose="resolve",
            name=provider.resolve_transition,
            comment=render.comment(alert, note=note),
            resolution=provider.resolve_resolution,
        )
        if not moved:  # already done by hand, or no way to done from here: keep the timeline anyway
            return self.comment(
                lease, alert, provider, client, "cleared-no-transition", note, status=IssueStatus.RESOLVED
            )
        now = self.clock()
        lease.save(state.resolved(now).written(alert, now, commented=True), release=True)
        self.sync_back.issue_resolved(provider, alert, lease.state)
        self.recorder.count("IssuesResolved")
        return Outcome(provider.provider_id, "resolved", "cleared", state.issue_key)

    def refire(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, note: str | None
    ) -> Outcome | None:
        """The alert fired again after its issue was resolved: reopen it within the reopen window, else a new one."""
        state = lease.state
        assert state.issue_key is not None
        if not provider.reopen_transition:
            return self.create(lease, alert, provider, client, "refired-no-reopen-transition")
        try:
            issue = client.get_issue(state.issue_key, ["status", "resolution", "resolutiondate"])
        except JiraRequestError as error:
            if error.status != 404:
                raise
            return self.create(lease, alert, provider, client, "issue-gone")
        resolution = issue.resolution
        if provider.wont_fix_resolution and resolution and resolution.lower() == provider.wont_fix_resolution.lower():
            won_t_fix = f"Fired again; not reopened because the issue was resolved as {resolution}."
            return self.comment(lease, alert, provider, client, "wont-fix", join_notes(note, won_t_fix))
        if not issue.done:  # reopened by a person meanwhile
            return self.comment(lease, alert, provider, client, "reopened-by-hand", note, status=IssueStatus.OPEN)
        resolved_at = issue.resolved_at or state.resolved_at
        if not within_reopen_window(provider, resolved_at, self.clock()):
            return self.create(lease, alert, provider, client, "refired-after-reopen-window")
        moved = self._move(
            lease,
            client,
            provider,
            WorkflowPhase.RESOLVED,
            purpose="reopen",
            name=provider.reopen_transition,
            comment=render.comment(alert, note=join_notes(note, "Reopened by jira-notifier: the alert fired again.")),
        )
        if not moved:
            return self.create(lease, alert, provider, client, "no-reopen-transition-available")
        now = self.clock()
        lease.save(state.reopened().written(alert, now, commented=True), release=True)
        self.recorder.count("IssuesReopened")
        return Outcome(provider.provider_id, "reopened", "fired-after-resolve", state.issue_key)

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
            return self.catalog.move(client, provider, lease.state.issue_key, phase, **move)
        except JiraNotifierError as error:
            if not refused_outright(error):
                with contextlib.suppress(JiraNotifierError):  # only a second failure leaves the doubt unrecorded
                    lease.note_status_unsure(self.clock())
            raise


def join_notes(*parts: str | None) -> str | None:
    """The notes that are given, as one (None when there are none)."""
    text = " ".join(p for p in parts if p)
    return text or None
