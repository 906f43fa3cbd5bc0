"""Orchestration: route an alert, then for each provider carry out the lifecycle decision against Jira.

Depends on narrow ports only (no boto3 or requests here): see ``wiring.py`` for the real adapters.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from jira_notifier import render
from jira_notifier.accounts import AccountNamer, NoAccountNames
from jira_notifier.config import GATEWAY_HOST, JiraSecret, ProviderConfig
from jira_notifier.errors import (
    CreateUnconfirmedError,
    DeadlineError,
    HeldBackError,
    JiraNotifierError,
    JiraRequestError,
    RoutingError,
    ScopedTokenOnSiteError,
    as_product_error,
    refused_outright,
)
from jira_notifier.jira.catalog import JiraCatalog
from jira_notifier.jira.payloads import create_body
from jira_notifier.lifecycle import (
    DELETED_BY_PERSON,
    FIRED_BEFORE_ITS_CLEAR,
    MIN_WRITE_INTERVAL,
    PERSON_NOTICES,
    Action,
    decide,
    person_note,
    records_alert_state,
    should_coalesce,
    supersedes_pending,
    within_reopen_window,
)
from jira_notifier.models import Alert, AlertState
from jira_notifier.routing import choose_group
from jira_notifier.state import (
    CREATE_SEND_WINDOW,
    IssueState,
    IssueStatus,
    Lease,
    LeaseStore,
    PersonDecision,
    WorkflowPhase,
    state_pk,
)

if TYPE_CHECKING:  # the HTTP client (and requests) load on the first call, not at import
    from jira_notifier.jira.client import CreatedIssue, JiraIssue, JiraPort

LOCK_WAIT_SECONDS = 20.0
DEFAULT_REMAINING_SECONDS = 60.0
# An alert (one provider) is started only with this much of the invocation left: the lease write, a Jira call of
# a few seconds and the confirming write. With less, it is handed back for a retry before Lambda cuts it off.
START_BUDGET_SECONDS = 15.0
# A create that was sent may still land after the client gave up (Jira goes on with a request it received), and
# Jira's search trails writes ("recent updates might not be immediately visible"; no bound is documented). A label
# search that finds nothing proves no create landed only this long after the request's timeout.
SEARCH_SETTLE_SECONDS = 30.0
CLOCK_SKEW_TOLERANCE = 5.0  # Jira's clock against the functions' when comparing an issue's created time with a mark


class ProviderSource(Protocol):
    def group_providers(self, group: str) -> list[ProviderConfig]: ...
    def route(self, route: str) -> str | None: ...


class SecretSource(Protocol):
    def get(self, name: str) -> JiraSecret: ...
    def forget(self) -> None: ...


class Parker(Protocol):
    def park(self, *, event: Any, error: JiraNotifierError, alert: Alert | None, provider: str | None) -> None: ...


class Recorder(Protocol):
    def count(self, name: str, value: float = 1) -> None: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    provider: str | None
    action: str  # created, commented, resolved, reopened, recovered, skipped, coalesced, ignored, parked, retry
    reason: str
    issue_key: str | None = None


@dataclass(frozen=True, slots=True)
class HeldBack:
    """A change held back by coalescing: written once the issue's write interval has passed."""

    alert: Alert
    provider: ProviderConfig
    outcome: Outcome


@dataclass
class Notifier:
    """Turns one normalized alert into the Jira effects its providers call for."""

    default_group: str | None
    providers: ProviderSource
    secrets: SecretSource
    store: LeaseStore
    jira_for: Callable[[JiraSecret, Callable[[], float] | None], JiraPort]
    parker: Parker
    recorder: Recorder
    gateway_allowed: bool = False  # JIRA_ALLOWED_HOSTS lets a 401 be checked against api.atlassian.com
    catalog: JiraCatalog = field(default_factory=JiraCatalog)
    accounts: AccountNamer = field(default_factory=NoAccountNames)  # names accounts in new issues
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    def process(
        self,
        alert: Alert,
        *,
        event: Any,
        remaining: Callable[[], float] | None = None,
        held: list[HeldBack] | None = None,
    ) -> list[Outcome]:
        """Carry the alert to every provider of its group.

        Each provider's failure stays its own: a permanent one is parked in the dead-letter queue (with the
        original ``event``), a retryable one (or a park the queue refused) is raised after every provider was
        tried, so Lambda retries and the providers already served skip the duplicate delivery. Changes held back
        by coalescing are written before returning, or appended to ``held`` for the caller to write.

        Raises:
            JiraNotifierError: retryable (Lambda should retry), or no dead-letter queue is configured.
        """
        routed = self.providers_for(alert, event)
        if isinstance(routed, Outcome):
            return [routed]
        outcomes: list[Outcome] = []
        failure: JiraNotifierError | None = None
        waiting: dict[int, HeldBack] = {}  # outcome index -> change to write once the interval has passed
        for provider in routed:
            try:
                if self.seconds_left(remaining) < START_BUDGET_SECONDS:
                    raise DeadlineError("too little of this invocation is left to start this alert; will retry")
                outcome = self._process_one(alert, provider, remaining)
            except Exception as raised:  # noqa: BLE001 - one provider's failure never costs the others
                outcome, error = self.fail(event, as_product_error(raised), alert, provider.provider_id)
                failure = failure or error
            else:
                if outcome.action == "coalesced":
                    if held is None:
                        waiting[len(outcomes)] = HeldBack(alert, provider, outcome)
                    else:
                        held.append(HeldBack(alert, provider, outcome))
            outcomes.append(outcome)
        written = self.write_held_back(list(waiting.values()), remaining) if waiting else []
        for (index, item), result in zip(waiting.items(), written, strict=True):
            if isinstance(result, JiraNotifierError):
                result, error = self.fail(event, result, alert, item.provider.provider_id)
                failure = failure or error
            outcomes[index] = result
        if failure is not None:
            raise failure
        return outcomes

    def providers_for(self, alert: Alert, event: Any) -> list[ProviderConfig] | Outcome:
        """The providers of the alert's group, or the outcome that ends it here: ignored, or parked unroutable.

        Raises:
            JiraNotifierError: the providers could not be read, or the park failed (both retryable).
        """
        if ignored(alert):
            self.recorder.count("AlertsIgnored")
            return Outcome(None, "ignored", alert.ignore_reason or "")
        try:
            group = choose_group(alert, self.providers, self.default_group)
            providers = self.providers.group_providers(group)
            if not providers:
                raise RoutingError(
                    f"notification group {group!r} has no provider; add one with 'jira-notifier provider add'"
                )
        except JiraNotifierError as error:
            if error.retryable:
                raise
            return self.park(event, error, alert, None)
        return providers

    def fail(
        self, event: Any, error: JiraNotifierError, alert: Alert | None, provider: str | None
    ) -> tuple[Outcome, JiraNotifierError | None]:
        """What a failure becomes: parked when permanent, else (or when the queue refused the park) the error to
        hand back for a retry."""
        if not error.retryable:
            try:
                return self.park(event, error, alert, provider), None
            except JiraNotifierError as refused:
                error = refused
        return Outcome(provider, "retry", error.reason), error

    # ---- one provider ------------------------------------------------------------------------------------

    def _process_one(
        self, alert: Alert, provider: ProviderConfig, remaining: Callable[[], float] | None, *, retried: bool = False
    ) -> Outcome:
        secret = self.secrets.get(provider.secret)
        client = self.jira_for(secret, remaining)
        lease = self.acquire_lease(alert, provider, remaining)
        try:
            return self._apply(lease, alert, provider, client)
        except JiraRequestError as error:
            lease.release()
            if error.status == 401:
                # The cached token may have been rotated: read the secret again and, if it changed, retry now.
                self.secrets.forget()
                if not retried and self.secrets.get(provider.secret) != secret:
                    return self._process_one(alert, provider, remaining, retried=True)
                if self.gateway_allowed and client.gateway_accepts():
                    raise ScopedTokenOnSiteError(
                        f"Jira rejected the token at the site URL (401), but it works through {GATEWAY_HOST}: it is a "
                        f"scoped or service-account token. Add the site's cloudId to secret {secret.name!r} "
                        f"('jira-notifier secret put {secret.name} ... --lookup-cloud-id').",
                        status=401,
                    ) from error
            raise
        except BaseException:
            lease.release()
            raise

    def acquire_lease(self, alert: Alert, provider: ProviderConfig, remaining: Callable[[], float] | None) -> Lease:
        """The alert's lease in this provider, held until this invocation would time out."""
        left = self.seconds_left(remaining)
        return self.store.acquire(
            state_pk(provider.provider_id, alert.dedupe_hash),
            provider.provider_id,
            alert.dedupe_key,
            deadline=self.clock() + left,
            wait_seconds=max(0.0, min(LOCK_WAIT_SECONDS, left - START_BUDGET_SECONDS)),
        )

    def _apply(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, *, flushing: bool = False
    ) -> Outcome:
        if lease.state.status_unsure_since is not None and lease.earlier_mark is None:
            self._read_status(lease, client)
        state, now = lease.state, self.clock()
        decision = decide(state, alert, provider, now)
        if decision.action is Action.RECOVER:
            return self._recover(lease, alert, provider, client)
        if supersedes_pending(decision):  # newest state wins: what was held back is never written after this
            lease.supersede_pending()
            state = lease.state
        elif _flush_due(state, now) and not flushing:
            # Held-back changes whose holder never wrote them (it failed): this delivery writes them.
            return self._flush_pending(lease, alert, provider, client)
        note = _coalesced_note(state)
        if decision.action is Action.SKIP and not (flushing and note):
            lease.save(state.remembered(alert, applied=records_alert_state(decision, alert)), release=True)
            self.recorder.count("AlertsDeduplicated" if decision.reason != "nothing-open" else "AlertsSkipped")
            return Outcome(provider.provider_id, "skipped", decision.reason, state.issue_key)
        if decision.action is Action.SKIP:  # flushing held-back changes that end where the issue already is
            return self._comment(lease, alert, provider, client, "coalesced", note)
        held_back = decision.action in (Action.COMMENT, Action.RESOLVE, Action.REFIRE)
        if held_back and not flushing and should_coalesce(state, now):
            lease.save(state.held_back(alert, now), release=True)
            self.recorder.count("AlertsCoalesced")
            return Outcome(provider.provider_id, "coalesced", decision.reason, state.issue_key)
        if decision.action is Action.CREATE:
            return self._create(lease, alert, provider, client, decision.reason)
        if decision.action is Action.COMMENT:
            if decision.reason in PERSON_NOTICES:  # said once: later firings of this episode are skipped
                lease.note_person_notice(now)
            return self._comment(
                lease, alert, provider, client, decision.reason, _join(note, person_note(decision, state))
            )
        if decision.action is Action.RESOLVE:
            return self._resolve(lease, alert, provider, client, note)
        return self._refire(lease, alert, provider, client, note)

    def write_held_back(
        self, held: Sequence[HeldBack], remaining: Callable[[], float] | None
    ) -> list[Outcome | JiraNotifierError]:
        """Wait out the write interval once, then write each issue's newest held-back state unless another
        invocation did meanwhile; one result per item, in order.

        With too little of the invocation left to wait, each result is a retryable ``HeldBackError``: the changes
        stay stored, and the retry (or the issue's next alert) writes them.
        """
        if self.seconds_left(remaining) - MIN_WRITE_INTERVAL < START_BUDGET_SECONDS:
            return [HeldBackError("a change is held back and this invocation has no time left to write it")] * len(held)
        self.sleep(MIN_WRITE_INTERVAL)
        results: list[Outcome | JiraNotifierError] = []
        for item in held:
            try:
                results.append(self._write_held_back(item, remaining))
            except Exception as raised:  # noqa: BLE001 - each item's failure is its own
                results.append(as_product_error(raised))
        return results

    def _write_held_back(self, held: HeldBack, remaining: Callable[[], float] | None) -> Outcome:
        client = self.jira_for(self.secrets.get(held.provider.secret), remaining)
        lease = self.acquire_lease(held.alert, held.provider, remaining)
        try:
            if lease.earlier_mark is not None:  # an unconfirmed create comes first
                return self._apply(lease, held.alert, held.provider, client)
            if lease.state.pending_state is None:  # another invocation wrote it meanwhile
                lease.release()
                return held.outcome
            return self._flush_pending(lease, held.alert, held.provider, client)
        except BaseException:
            lease.release()
            raise

    def _flush_pending(self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort) -> Outcome:
        """Apply the newest held-back state, with a note of everything that was coalesced."""
        pending_state, pending_at = lease.take_pending()
        newest = replace(
            alert, state=pending_state, transition_at=pending_at, delivery_key=f"{alert.delivery_key}#flush"
        )
        return self._apply(lease, newest, provider, client, flushing=True)

    # ---- creating an issue exactly once ------------------------------------------------------------------
    # One protocol for a single create and for each element of a bulk create (batch.py): ``prepare_create``, send,
    # then ``record_created`` for an issue Jira confirmed or ``create_failed`` for an error.

    def prepare_create(self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort) -> dict[str, Any]:
        """The create request's body, with the write-ahead mark standing for it (``Lease.begin_create``): send it
        right after.

        Raises:
            JiraNotifierError: the metadata or the mark could not be had; nothing may be sent.
        """
        body = create_body(self.accounts.named(alert), provider, self.catalog.issue_type_id(client, provider))
        lease.begin_create(self.clock())
        return body

    def record_created(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, created: CreatedIssue, reason: str
    ) -> Outcome:
        """Record the issue Jira confirmed; "coalesced" when a newer clear is to be written next.

        Raises:
            BusyError, StoreError: not recorded; the mark stays, so the next holder finds the issue.
        """
        self.recorder.count("IssuesCreated")
        state = lease.state.created(alert, created.id, created.key, self.clock())
        return self._confirm(lease, state, alert, provider, "created", reason)

    @staticmethod
    def create_failed(lease: Lease, error: JiraNotifierError) -> bool:
        """After a create answered with ``error``: the mark goes when Jira certainly did not act, else it stays.
        True when the issue may exist."""
        if refused_outright(error):
            lease.create_refused()
            return False
        return True

    def _create(self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, reason: str) -> Outcome:
        """Create the alert's issue. An answer that leaves the outcome in doubt (timeout, 5xx, a body cut off) is
        followed by one label search; when that cannot show the issue yet, the error goes back for a retry with the
        mark in place."""
        body = self.prepare_create(lease, alert, provider, client)
        try:
            created = client.create_issue(body)
        except JiraNotifierError as error:
            if self.create_failed(lease, error):
                with contextlib.suppress(JiraNotifierError):  # the search failing too changes nothing: retry
                    found = self._find_created(lease, alert, provider, client)
                    if found is not None:
                        return self._adopt(lease, alert, provider, client, found)
            raise
        return self.record_created(lease, alert, provider, created, reason)

    def _recover(self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort) -> Outcome:
        """An earlier holder's create may have reached Jira: settle that before anything else.

        The issue it made is adopted: found by the alert's label, created at or after the mark, and not the issue
        the state already follows (an earlier episode's). Finding none proves nothing until the request can no
        longer land and Jira's search has caught up (mark + ``CREATE_SEND_WINDOW`` + Jira's timeout +
        ``SEARCH_SETTLE_SECONDS``): before then this raises a retryable error and creates nothing; after it the
        mark is dropped and the alert is handled as if no create had been tried.

        Raises:
            CreateUnconfirmedError: too early to tell (retryable).
            JiraNotifierError: the search failed.
        """
        mark = lease.earlier_mark
        assert mark is not None
        found = self._find_created(lease, alert, provider, client)
        if found is not None:
            return self._adopt(lease, alert, provider, client, found)
        if self.clock() < mark + CREATE_SEND_WINDOW + client.timeout + SEARCH_SETTLE_SECONDS:
            raise CreateUnconfirmedError(
                "a create for this alert may still appear in Jira's search; will look again before creating"
            )
        lease.no_create_landed()
        return self._apply(lease, alert, provider, client)

    def _find_created(self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort) -> JiraIssue | None:
        """The issue the create under the lease's mark made, if Jira's search shows it.

        Raises:
            JiraNotifierError: the search failed.
        """
        known = lease.state.issue_id
        since = (lease.mark_at or self.clock()) - CLOCK_SKEW_TOLERANCE
        found = client.search_jql(
            f'project = "{provider.project}" AND labels = "{alert.dedupe_label}" ORDER BY created DESC',
            ["status", "created"],
            reconcile_ids=[int(known)] if known and known.isdigit() else [],
        )
        for issue in found:  # newest first
            if issue.id != known and issue.created_at is not None and issue.created_at >= since:
                return issue
        return None

    def _adopt(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, issue: JiraIssue
    ) -> Outcome:
        """Make the found issue the alert's, then apply this alert to it (an OK resolves what was adopted)."""
        adopted = lease.state.adopted(alert, issue.id, issue.key, done=issue.done, created_at=lease.mark_at)
        self.recorder.count("IssuesRecovered")
        if issue.done or alert.state is not AlertState.FIRING:  # the alert moved on since that create: apply it
            lease.confirm_create(adopted, release=False)  # recorded before anything else can fail
            return self._apply(lease, alert, provider, client)
        return self._confirm(lease, adopted.remembered(alert), alert, provider, "recovered", "unconfirmed-create-found")

    def _confirm(
        self, lease: Lease, state: IssueState, alert: Alert, provider: ProviderConfig, action: str, reason: str
    ) -> Outcome:
        """Record the issue a create made for ``alert``. When a clear newer than that firing was recorded while the
        alert had no issue (it arrived first), the clear is kept as a held-back change, written next."""
        before = lease.state
        if before.alert_state is AlertState.RESOLVED and _older(alert, before.transition_at):
            state = state.with_pending(before.alert_state, before.transition_at)
            action, reason = "coalesced", FIRED_BEFORE_ITS_CLEAR
        lease.confirm_create(state)
        return Outcome(provider.provider_id, action, reason, state.issue_key)

    def _comment(
        self,
        lease: Lease,
        alert: Alert,
        provider: ProviderConfig,
        client: JiraPort,
        reason: str,
        note: str | None,
        *,
        status: IssueStatus | None = None,
    ) -> Outcome:
        state = lease.state
        assert state.issue_key is not None
        try:
            client.add_comment(state.issue_key, render.comment(alert, note=note))
        except JiraRequestError as error:
            if error.status != 404:
                raise
            # Deleted (or moved out of reach) by a person: their decision, recorded; the alert's next firing after
            # a clear opens a new issue, this firing does not (lifecycle.decide).
            gone = state.decided_by_person(PersonDecision.DELETED, self.clock()).remembered(alert)
            lease.save(gone, release=True)
            self.recorder.count("HumanDecisionsRecorded")
            return Outcome(provider.provider_id, "skipped", DELETED_BY_PERSON, state.issue_key)
        now = self.clock()
        lease.save(
            replace(state, issue_status=status or state.issue_status).written(alert, now, commented=True),
            release=True,
        )
        self.recorder.count("IssuesCommented")
        return Outcome(provider.provider_id, "commented", reason, state.issue_key)

    def _resolve(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, note: str | None
    ) -> Outcome:
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
            return self._comment(
                lease, alert, provider, client, "cleared-no-transition", note, status=IssueStatus.RESOLVED
            )
        now = self.clock()
        lease.save(state.resolved(now).written(alert, now, commented=True), release=True)
        self.recorder.count("IssuesResolved")
        return Outcome(provider.provider_id, "resolved", "cleared", state.issue_key)

    def _refire(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, note: str | None
    ) -> Outcome:
        state = lease.state
        assert state.issue_key is not None
        if not provider.reopen_transition:
            return self._create(lease, alert, provider, client, "refired-no-reopen-transition")
        try:
            issue = client.get_issue(state.issue_key, ["status", "resolution", "resolutiondate"])
        except JiraRequestError as error:
            if error.status != 404:
                raise
            return self._create(lease, alert, provider, client, "issue-gone")
        resolution = issue.resolution
        if provider.wont_fix_resolution and resolution and resolution.lower() == provider.wont_fix_resolution.lower():
            won_t_fix = f"Fired again; not reopened because the issue was resolved as {resolution}."
            return self._comment(lease, alert, provider, client, "wont-fix", _join(note, won_t_fix))
        if not issue.done:  # reopened by a person meanwhile
            return self._comment(lease, alert, provider, client, "reopened-by-hand", note, status=IssueStatus.OPEN)
        resolved_at = issue.resolved_at or state.resolved_at
        if not within_reopen_window(provider, resolved_at, self.clock()):
            return self._create(lease, alert, provider, client, "refired-after-reopen-window")
        moved = self._move(
            lease,
            client,
            provider,
            WorkflowPhase.RESOLVED,
            purpose="reopen",
            name=provider.reopen_transition,
            comment=render.comment(alert, note=_join(note, "Reopened by jira-notifier: the alert fired again.")),
        )
        if not moved:
            return self._create(lease, alert, provider, client, "no-reopen-transition-available")
        now = self.clock()
        lease.save(state.reopened().written(alert, now, commented=True), release=True)
        self.recorder.count("IssuesReopened")
        return Outcome(provider.provider_id, "reopened", "fired-after-resolve", state.issue_key)

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

    def _read_status(self, lease: Lease, client: JiraPort) -> None:
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

    def seconds_left(self, remaining: Callable[[], float] | None) -> float:
        return remaining() if remaining else DEFAULT_REMAINING_SECONDS

    def park(self, event: Any, error: JiraNotifierError, alert: Alert | None, provider: str | None) -> Outcome:
        """Send to the dead-letter queue with the reason.

        Raises:
            JiraNotifierError: parking failed (retryable), or no queue is configured (``error`` itself).
        """
        self.parker.park(event=event, error=error, alert=alert, provider=provider)
        self.recorder.count("AlertsParked")
        return Outcome(provider, "parked", error.reason)


def ignored(alert: Alert) -> bool:
    """Events that must not open an issue; one that says "resolved" may still close an open one."""
    return alert.ignore_reason is not None and alert.state is not AlertState.RESOLVED


def _coalesced_note(state: IssueState) -> str | None:
    if not state.coalesced:
        return None
    total = sum(state.coalesced.values())
    parts = ", ".join(f"{name} ×{count}" for name, count in sorted(state.coalesced.items()))
    return (
        f"{total} state change(s) arrived too fast to post one by one and were coalesced into this update "
        f"({parts}); Jira limits writes per issue."
    )


def _older(alert: Alert, transition_at: int | None) -> bool:
    return alert.transition_at is not None and transition_at is not None and alert.transition_at < transition_at


def _flush_due(state: IssueState, now: float) -> bool:
    return state.pending_state is not None and not should_coalesce(state, now)


def _join(*parts: str | None) -> str | None:
    text = " ".join(p for p in parts if p)
    return text or None


def summarize(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Counts per action, for the handler's return value."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.action] = counts.get(outcome.action, 0) + 1
    return counts
