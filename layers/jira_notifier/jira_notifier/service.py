"""Orchestration: route an alert, then for each provider carry out the lifecycle decision against Jira.

Depends on narrow ports only (no boto3 or requests here): see ``wiring.py`` for the real adapters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from jira_notifier import render
from jira_notifier.accounts import AccountNamer, NoAccountNames
from jira_notifier.config import GATEWAY_HOST, JiraSecret, ProviderConfig
from jira_notifier.errors import (
    JiraNotifierError,
    JiraRequestError,
    JiraUnavailableError,
    RoutingError,
    ScopedTokenOnSiteError,
)
from jira_notifier.jira.catalog import JiraCatalog
from jira_notifier.jira.payloads import create_body
from jira_notifier.lifecycle import MIN_WRITE_INTERVAL, Action, decide, should_coalesce, within_reopen_window
from jira_notifier.models import Alert, AlertState
from jira_notifier.routing import choose_group
from jira_notifier.state import IssueState, Lease, StateStore, state_pk

if TYPE_CHECKING:  # the HTTP client (and requests) load on the first call, not at import
    from jira_notifier.jira.client import CreatedIssue, JiraClient

LOCK_WAIT_SECONDS = 20.0
DEFAULT_REMAINING_SECONDS = 60.0


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
    action: str  # created, commented, resolved, reopened, skipped, coalesced, ignored, parked
    reason: str
    issue_key: str | None = None


@dataclass
class Notifier:
    """Turns one normalized alert into the Jira effects its providers call for."""

    default_group: str | None
    providers: ProviderSource
    secrets: SecretSource
    store: StateStore
    jira_for: Callable[[JiraSecret, Callable[[], float] | None], JiraClient]
    parker: Parker
    recorder: Recorder
    gateway_allowed: bool = False  # JIRA_ALLOWED_HOSTS lets a 401 be checked against api.atlassian.com
    catalog: JiraCatalog = field(default_factory=JiraCatalog)
    accounts: AccountNamer = field(default_factory=NoAccountNames)  # names accounts in new issues
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    def process(self, alert: Alert, *, event: Any, remaining: Callable[[], float] | None = None) -> list[Outcome]:
        """Carry the alert to every provider of its group.

        Permanent failures are parked in the dead-letter queue (with the original ``event``) and reported as
        outcomes; the first retryable failure is raised after every provider was tried, so Lambda retries
        and providers already served skip the duplicate delivery.

        Raises:
            JiraNotifierError: a retryable error (Lambda should retry), or parking itself failed.
        """
        routed = self.providers_for(alert, event)
        if isinstance(routed, Outcome):
            return [routed]
        providers = routed
        outcomes: list[Outcome] = []
        retry: JiraNotifierError | None = None
        for provider in providers:
            try:
                outcomes.append(self._process_one(alert, provider, remaining))
            except JiraNotifierError as error:
                if error.retryable:
                    retry = retry or error
                    outcomes.append(Outcome(provider.provider_id, "retry", error.reason))
                else:
                    outcomes.append(self.park(event, error, alert, provider.provider_id))
        if retry is not None:
            raise retry
        return outcomes

    def providers_for(self, alert: Alert, event: Any) -> list[ProviderConfig] | Outcome:
        """The providers of the alert's group, or the outcome that ends it here: ignored, or parked unroutable.

        Raises:
            JiraNotifierError: the providers could not be read (retryable), or parking failed.
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

    # ---- one provider ------------------------------------------------------------------------------------

    def _process_one(
        self, alert: Alert, provider: ProviderConfig, remaining: Callable[[], float] | None, *, retried: bool = False
    ) -> Outcome:
        secret = self.secrets.get(provider.secret)
        client = self.jira_for(secret, remaining)
        lease = self.acquire_lease(alert, provider, remaining)
        try:
            outcome = self._apply(lease, alert, provider, client, remaining)
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
        if outcome.action == "coalesced":
            return self._flush_later(alert, provider, client, remaining, outcome)
        return outcome

    def acquire_lease(self, alert: Alert, provider: ProviderConfig, remaining: Callable[[], float] | None) -> Lease:
        """The alert's lease in this provider, held until this invocation would time out."""
        left = remaining() if remaining else DEFAULT_REMAINING_SECONDS
        return self.store.acquire(
            state_pk(provider.provider_id, alert.dedupe_hash),
            provider.provider_id,
            alert.dedupe_key,
            lease_seconds=left + 10,
            wait_seconds=max(0.0, min(LOCK_WAIT_SECONDS, left - 15)),
        )

    def _apply(
        self,
        lease: Lease,
        alert: Alert,
        provider: ProviderConfig,
        client: JiraClient,
        remaining: Callable[[], float] | None,
        *,
        flushing: bool = False,
    ) -> Outcome:
        state, now = lease.state, self.clock()
        decision = decide(state, alert, provider, now)
        if decision.action is Action.SKIP and _flush_due(state, now) and not flushing:
            # Held-back changes whose holder never wrote them (it failed): this delivery writes them.
            return self._flush_pending(lease, alert, provider, client, remaining)
        note = _coalesced_note(state)
        if decision.action is Action.SKIP and not (flushing and note):
            lease.save(_remember(state, alert, applied=False), release=True)
            self.recorder.count("AlertsDeduplicated" if decision.reason != "nothing-open" else "AlertsSkipped")
            return Outcome(provider.provider_id, "skipped", decision.reason, state.issue_key)
        if decision.action is Action.SKIP:  # flushing held-back changes that end where the issue already is
            return self._comment(lease, alert, provider, client, "coalesced", note)
        held_back = decision.action in (Action.COMMENT, Action.RESOLVE, Action.REFIRE)
        if held_back and not flushing and should_coalesce(state, now):
            lease.save(_hold_back(state, alert, now), release=True)
            self.recorder.count("AlertsCoalesced")
            return Outcome(provider.provider_id, "coalesced", decision.reason, state.issue_key)
        if decision.action is Action.CREATE:
            return self._create(lease, alert, provider, client, decision.reason)
        if decision.action is Action.RECOVER:
            return self._recover(lease, alert, provider, client)
        if decision.action is Action.COMMENT:
            return self._comment(lease, alert, provider, client, decision.reason, note)
        if decision.action is Action.RESOLVE:
            return self._resolve(lease, alert, provider, client, note)
        return self._refire(lease, alert, provider, client, note)

    def _flush_later(
        self,
        alert: Alert,
        provider: ProviderConfig,
        client: JiraClient,
        remaining: Callable[[], float] | None,
        held: Outcome,
    ) -> Outcome:
        """Wait out the write interval, then apply the newest held-back state unless another invocation did."""
        self.sleep(MIN_WRITE_INTERVAL)
        lease = self.acquire_lease(alert, provider, remaining)
        if lease.state.pending_state is None:  # another invocation wrote them meanwhile
            lease.release()
            return held
        try:
            return self._flush_pending(lease, alert, provider, client, remaining)
        except BaseException:
            lease.release()
            raise

    def _flush_pending(
        self,
        lease: Lease,
        alert: Alert,
        provider: ProviderConfig,
        client: JiraClient,
        remaining: Callable[[], float] | None,
    ) -> Outcome:
        """Apply the newest held-back state, with a note of everything that was coalesced."""
        state = lease.state
        assert state.pending_state is not None
        newest = replace(
            alert,
            state=AlertState(state.pending_state),
            transition_at=state.pending_transition_at,
            delivery_key=f"{alert.delivery_key}#flush",
        )
        # The held-back change is newer than what was applied: let it pass the staleness check.
        lease.state = replace(
            state, pending_state=None, pending_transition_at=None, transition_at=_before(newest.transition_at)
        )
        return self._apply(lease, newest, provider, client, remaining, flushing=True)

    def _create(self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraClient, reason: str) -> Outcome:
        issue_type_id = self.catalog.issue_type_id(client, provider)
        body = create_body(self.accounts.named(alert), provider, issue_type_id)
        now = self.clock()
        # From here until the state records the issue, the lease is never released on failure: whoever takes it
        # next finds it abandoned and looks for the issue before creating one.
        lease.holds_unconfirmed_create = True
        try:
            created = client.create_issue(body)
        except JiraUnavailableError as error:
            if not error.ambiguous:  # refused outright (429): nothing was created
                lease.holds_unconfirmed_create = False
                raise
            lease.save(replace(lease.state, pending_create_at=now))  # it may exist: a retry searches first
            found = self._find_created(lease, alert, provider, client, quiet=True)
            if found is None:
                raise
            return self._adopt(lease, alert, provider, found)
        except JiraRequestError:
            lease.holds_unconfirmed_create = False
            raise
        state = remember_created(lease.state, alert, created, now)
        lease.save(state, release=True)
        self.recorder.count("IssuesCreated")
        return Outcome(provider.provider_id, "created", reason, created.key)

    def _recover(self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraClient) -> Outcome:
        """A create was started but never confirmed: adopt the issue if Jira has it, else create it."""
        if lease.state.pending_create_at is None:  # keep the mark while searching, whatever happens
            lease.holds_unconfirmed_create = True
            lease.save(replace(lease.state, pending_create_at=self.clock()))
        found = self._find_created(lease, alert, provider, client, quiet=False)
        if found is None:
            return self._create(lease, alert, provider, client, "unconfirmed-create-not-found")
        return self._adopt(lease, alert, provider, found)

    def _find_created(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraClient, *, quiet: bool
    ) -> dict[str, Any] | None:
        """The newest issue carrying the alert's dedupe label; with ``quiet``, None when the search fails too."""
        try:
            found = client.search_jql(
                f'project = "{provider.project}" AND labels = "{alert.dedupe_label}" ORDER BY created DESC',
                ["status", "created"],
                reconcile_ids=[int(lease.state.issue_id)] if (lease.state.issue_id or "").isdigit() else [],
            )
        except JiraNotifierError:
            if quiet:
                return None
            raise
        return found[0] if found else None

    def _adopt(self, lease: Lease, alert: Alert, provider: ProviderConfig, issue: dict[str, Any]) -> Outcome:
        done = _status_category(issue) == "done"
        state = _remember(
            replace(
                lease.state,
                issue_id=str(issue.get("id")),
                issue_key=str(issue.get("key")),
                issue_status="resolved" if done else "open",
                created_at=lease.state.pending_create_at,
                pending_create_at=None,
                last_fingerprint=alert.content_fingerprint,
                workflow_phase="resolved" if done else "created",
            ),
            alert,
        )
        lease.save(state, release=True)
        self.recorder.count("IssuesRecovered")
        return Outcome(provider.provider_id, "recovered", "unconfirmed-create-found", state.issue_key)

    def _comment(
        self,
        lease: Lease,
        alert: Alert,
        provider: ProviderConfig,
        client: JiraClient,
        reason: str,
        note: str | None,
        *,
        status: str | None = None,
    ) -> Outcome:
        state = lease.state
        assert state.issue_key is not None
        try:
            client.add_comment(state.issue_key, render.comment(alert, note=note))
        except JiraRequestError as error:
            if error.status != 404:
                raise
            # The issue was deleted or moved out of reach: start over with a new one.
            lease.state = replace(state, issue_status="none", issue_id=None, issue_key=None)
            return self._create(lease, alert, provider, client, "issue-gone")
        now = self.clock()
        lease.save(
            _written(replace(state, issue_status=status or state.issue_status), alert, now, commented=True),
            release=True,
        )
        self.recorder.count("IssuesCommented")
        return Outcome(provider.provider_id, "commented", reason, state.issue_key)

    def _resolve(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraClient, note: str | None
    ) -> Outcome:
        state = lease.state
        assert state.issue_key is not None
        moved = self.catalog.move(
            client,
            provider,
            state.issue_key,
            state.workflow_phase,
            purpose="resolve",
            name=provider.resolve_transition,
            comment=render.comment(alert, note=note),
            resolution=provider.resolve_resolution,
        )
        if not moved:  # already done by hand, or no way to done from here: keep the timeline anyway
            return self._comment(lease, alert, provider, client, "cleared-no-transition", note, status="resolved")
        now = self.clock()
        resolved = replace(state, issue_status="resolved", resolved_at=now, workflow_phase="resolved")
        lease.save(_written(resolved, alert, now, commented=True), release=True)
        self.recorder.count("IssuesResolved")
        return Outcome(provider.provider_id, "resolved", "cleared", state.issue_key)

    def _refire(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraClient, note: str | None
    ) -> Outcome:
        state = lease.state
        assert state.issue_key is not None
        fresh = replace(state, issue_status="none", issue_id=None, issue_key=None, pending_create_at=None)
        if not provider.reopen_transition:
            lease.state = fresh
            return self._create(lease, alert, provider, client, "refired-no-reopen-transition")
        try:
            issue = client.get_issue(state.issue_key, ["status", "resolution", "resolutiondate"])
        except JiraRequestError as error:
            if error.status != 404:
                raise
            lease.state = fresh
            return self._create(lease, alert, provider, client, "issue-gone")
        fields = issue.get("fields") or {}
        resolution = (fields.get("resolution") or {}).get("name")
        if provider.wont_fix_resolution and resolution and resolution.lower() == provider.wont_fix_resolution.lower():
            won_t_fix = f"Fired again; not reopened because the issue was resolved as {resolution}."
            return self._comment(lease, alert, provider, client, "wont-fix", _join(note, won_t_fix))
        if _status_category(issue) != "done":  # reopened by a person meanwhile
            return self._comment(lease, alert, provider, client, "reopened-by-hand", note, status="open")
        resolved_at = _parse_jira_time(fields.get("resolutiondate")) or state.resolved_at
        if not within_reopen_window(provider, resolved_at, self.clock()):
            lease.state = fresh
            return self._create(lease, alert, provider, client, "refired-after-reopen-window")
        moved = self.catalog.move(
            client,
            provider,
            state.issue_key,
            "resolved",
            purpose="reopen",
            name=provider.reopen_transition,
            comment=render.comment(alert, note=_join(note, "Reopened by jira-notifier: the alert fired again.")),
        )
        if not moved:
            lease.state = fresh
            return self._create(lease, alert, provider, client, "no-reopen-transition-available")
        now = self.clock()
        reopened = replace(state, issue_status="open", resolved_at=None, workflow_phase="reopened")
        lease.save(_written(reopened, alert, now, commented=True), release=True)
        self.recorder.count("IssuesReopened")
        return Outcome(provider.provider_id, "reopened", "fired-after-resolve", state.issue_key)

    def park(self, event: Any, error: JiraNotifierError, alert: Alert | None, provider: str | None) -> Outcome:
        """Send to the dead-letter queue with the reason.

        Raises:
            JiraNotifierError: parking failed (retryable), or no queue is configured.
        """
        self.parker.park(event=event, error=error, alert=alert, provider=provider)
        self.recorder.count("AlertsParked")
        return Outcome(provider, "parked", error.reason)


def ignored(alert: Alert) -> bool:
    """Events that must not open an issue; one that says "resolved" may still close an open one."""
    return alert.ignore_reason is not None and alert.state is not AlertState.RESOLVED


def remember_created(state: IssueState, alert: Alert, created: CreatedIssue, now: float) -> IssueState:
    """The state once Jira confirmed the create: the issue is open and this delivery is done."""
    return _remember(
        replace(
            state,
            issue_id=created.id,
            issue_key=created.key,
            issue_status="open",
            created_at=now,
            pending_create_at=None,
            last_fingerprint=alert.content_fingerprint,
            last_comment_at=None,
            resolved_at=None,
            workflow_phase="created",
            last_write_at=now,
            coalesced={},
            coalesced_since=None,
            pending_state=None,
            pending_transition_at=None,
        ),
        alert,
    )


def _remember(state: IssueState, alert: Alert, *, applied: bool = True) -> IssueState:
    """Record the delivery, and the state change when it was applied (or is simply newer than what we hold)."""
    state = state.with_delivery(alert.delivery_key)
    newer = alert.transition_at is not None and (
        state.transition_at is None or alert.transition_at > state.transition_at
    )
    if applied or newer:
        state = replace(state, alert_state=alert.state.value, transition_at=alert.transition_at or state.transition_at)
    return state


def _written(state: IssueState, alert: Alert, now: float, *, commented: bool) -> IssueState:
    state = _remember(state, alert)
    state = replace(
        state, last_write_at=now, coalesced={}, coalesced_since=None, pending_state=None, pending_transition_at=None
    )
    if commented:
        state = replace(state, last_fingerprint=alert.content_fingerprint, last_comment_at=now)
    return state


def _hold_back(state: IssueState, alert: Alert, now: float) -> IssueState:
    counts = dict(state.coalesced)
    counts[alert.state.value] = counts.get(alert.state.value, 0) + 1
    newest = (
        alert.transition_at is None
        or state.pending_transition_at is None
        or (alert.transition_at >= state.pending_transition_at)
    )
    return replace(
        state.with_delivery(alert.delivery_key),
        coalesced=counts,
        coalesced_since=state.coalesced_since or now,
        pending_state=alert.state.value if newest else state.pending_state,
        pending_transition_at=alert.transition_at if newest else state.pending_transition_at,
    )


def _coalesced_note(state: IssueState) -> str | None:
    if not state.coalesced:
        return None
    total = sum(state.coalesced.values())
    parts = ", ".join(f"{name} ×{count}" for name, count in sorted(state.coalesced.items()))
    return (
        f"{total} state change(s) arrived too fast to post one by one and were coalesced into this update "
        f"({parts}); Jira limits writes per issue."
    )


def _before(transition_at: int | None) -> int | None:
    return None if transition_at is None else transition_at - 1


def _flush_due(state: IssueState, now: float) -> bool:
    return state.pending_state is not None and not should_coalesce(state, now)


def _join(*parts: str | None) -> str | None:
    text = " ".join(p for p in parts if p)
    return text or None


def _status_category(issue: dict[str, Any]) -> str | None:
    status = (issue.get("fields") or {}).get("status") or {}
    return (status.get("statusCategory") or {}).get("key")


def _parse_jira_time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None


def summarize(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Counts per action, for the handler's return value."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.action] = counts.get(outcome.action, 0) + 1
    return counts
