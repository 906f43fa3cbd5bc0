"""Orchestration: route an alert, then for each provider carry out the lifecycle decision against Jira.

Depends on narrow ports only (no boto3 or requests here): see ``wiring.py`` for the real adapters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from jira_notifier.adapters.aws.accounts import AccountNamer, NoAccountNames
from jira_notifier.adapters.aws.syncback import NoSyncBack, SyncBackPort
from jira_notifier.adapters.aws.tags import NoResourceTags, ResourceTags
from jira_notifier.app import recover as unconfirmed
from jira_notifier.app import storms as storm_service
from jira_notifier.app.catalog import JiraCatalog
from jira_notifier.app.effects import Effects, Insights, join_notes
from jira_notifier.app.escalation import raise_priority
from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.coalescing import HeldBack, coalesced_note, flush_due, take_pending, write_held_back
from jira_notifier.core.config import GATEWAY_HOST, JiraSecret, ProviderConfig
from jira_notifier.core.errors import (
    DeadlineError,
    JiraNotifierError,
    JiraRequestError,
    RoutingError,
    ScopedTokenOnSiteError,
    as_product_error,
)
from jira_notifier.core.lifecycle import (
    PERSON_NOTICES,
    Action,
    Decision,
    decide,
    person_note,
    records_alert_state,
    should_coalesce,
    supersedes_pending,
)
from jira_notifier.core.outcome import Outcome, Recorder
from jira_notifier.core.routing import choose_group
from jira_notifier.core.state import Lease, LeaseStore, state_pk

if TYPE_CHECKING:  # the HTTP client (and requests) load on the first call, not at import
    from jira_notifier.adapters.jira.client import JiraPort

LOCK_WAIT_SECONDS = 20.0
DEFAULT_REMAINING_SECONDS = 60.0
# An alert (one provider) is started only with this much of the invocation left: the lease write, a Jira call of
# a few seconds and the confirming write. With less, it is handed back for a retry before Lambda cuts it off.
START_BUDGET_SECONDS = 15.0


class ProviderSource(Protocol):
    def group_providers(self, group: str) -> list[ProviderConfig]: ...
    def route(self, route: str) -> str | None: ...


class SecretSource(Protocol):
    def get(self, name: str) -> JiraSecret: ...
    def forget(self) -> None: ...


class Parker(Protocol):
    def park(self, *, event: Any, error: JiraNotifierError, alert: Alert | None, provider: str | None) -> None: ...


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
    sync_back: SyncBackPort = field(default_factory=NoSyncBack)  # tells AWS what became of the issue
    insights: Insights | None = None  # graphs, log evidence and child alarms in new alarm issues
    tags: ResourceTags = field(default_factory=NoResourceTags)  # resource tags for providers' tag fields
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

    def process_for(
        self, alert: Alert, provider: ProviderConfig, remaining: Callable[[], float] | None, held: list[HeldBack]
    ) -> Outcome:
        """``alert`` in the one provider it is known to belong to (a reconcile run reads the provider from the state),
        without routing or parking: a failure is raised for the caller to report. A change held back by coalescing
        is appended to ``held``, for ``write_held_back``.

        Raises:
            JiraNotifierError: the alert could not be applied (the caller's next run tries again).
        """
        try:
            outcome = self._process_one(alert, provider, remaining)
        except Exception as raised:  # noqa: BLE001 - named as the product's error for the caller
            raise as_product_error(raised) from raised
        if outcome.action == "coalesced":
            held.append(HeldBack(alert, provider, outcome))
        return outcome

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
            if storm_service.is_member(provider, lease.state):
                return storm_service.join(self, lease, alert, provider, client, remaining)
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
            mark=not provider.group_by,  # a storm member creates nothing; a parent writes its mark before creating
        )

    @property
    def effects(self) -> Effects:
        """The lifecycle effects on this notifier's collaborators (built per use: tests swap the clock)."""
        return Effects(
            clock=self.clock,
            recorder=self.recorder,
            catalog=self.catalog,
            accounts=self.accounts,
            tags=self.tags,
            sync_back=self.sync_back,
            insights=self.insights,
        )

    def _apply(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, *, flushing: bool = False
    ) -> Outcome:
        """Decide and carry out the decision; decide again whenever that changed what the decision rests on (an
        unconfirmed create settled, held-back changes taken up). ``flushing``: ``alert`` is held-back changes."""
        effects = self.effects
        while True:
            if lease.state.status_unsure_since is not None and lease.earlier_mark is None:
                effects.read_status(lease, client)
            state, now = lease.state, self.clock()
            decision = decide(state, alert, provider, now)
            outcome: Outcome | None
            if decision.action is Action.RECOVER:
                outcome = unconfirmed.recover(lease, alert, provider, client, clock=self.clock, recorder=self.recorder)
            else:
                if supersedes_pending(decision):  # newest state wins: what was held back is never written after this
                    lease.supersede_pending()
                elif flush_due(state, now) and not flushing:
                    # Held-back changes whose holder never wrote them (it failed): this delivery writes them.
                    alert, flushing = take_pending(lease, alert), True
                    continue
                outcome = self._carry_out(lease, alert, provider, client, decision, now, effects, flushing=flushing)
            if outcome is not None:
                return outcome
            flushing = False

    def _carry_out(
        self,
        lease: Lease,
        alert: Alert,
        provider: ProviderConfig,
        client: JiraPort,
        decision: Decision,
        now: float,
        effects: Effects,
        *,
        flushing: bool,
    ) -> Outcome | None:
        """Dispatch the decision to its effect, or hold the change back when the issue was written too recently."""
        if decision.action in (Action.COMMENT, Action.SKIP) and not should_coalesce(lease.state, now):
            # Impact over time: an open issue's priority may be due a raise (its own edit, before the update).
            raise_priority(
                lease, alert, provider, client, now, fresh=supersedes_pending(decision), recorder=self.recorder
            )
        state = lease.state
        note = coalesced_note(state)
        if decision.action is Action.SKIP and not (flushing and note):
            lease.save(state.remembered(alert, applied=records_alert_state(decision, alert)), release=True)
            self.recorder.count("AlertsDeduplicated" if decision.reason != "nothing-open" else "AlertsSkipped")
            if state.pending_state is not None and not flushing:
                # A copy of a change still held back (its interval not passed): it may be the retry its holder asked
                # for with no time left, so this invocation writes it too (whichever comes second finds it written).
                return Outcome(provider.provider_id, "coalesced", decision.reason, state.issue_key)
            return Outcome(provider.provider_id, "skipped", decision.reason, state.issue_key)
        if decision.action is Action.SKIP:  # flushing held-back changes that end where the issue already is
            return effects.comment(lease, alert, provider, client, "coalesced", note)
        held_back = decision.action in (Action.COMMENT, Action.RESOLVE, Action.REFIRE)
        if held_back and not flushing and should_coalesce(state, now):
            lease.save(state.held_back(alert, now), release=True)
            self.recorder.count("AlertsCoalesced")
            return Outcome(provider.provider_id, "coalesced", decision.reason, state.issue_key)
        if decision.action is Action.CREATE:
            return effects.create(lease, alert, provider, client, decision.reason)
        if decision.action is Action.COMMENT:
            if decision.reason in PERSON_NOTICES:  # said once: later firings of this episode are skipped
                lease.note_person_notice(now)
            return effects.comment(
                lease, alert, provider, client, decision.reason, join_notes(note, person_note(decision, state))
            )
        if decision.action is Action.RESOLVE:
            return effects.resolve(lease, alert, provider, client, note)
        return effects.refire(lease, alert, provider, client, note)

    def write_held_back(
        self, held: Sequence[HeldBack], remaining: Callable[[], float] | None
    ) -> list[Outcome | JiraNotifierError]:
        """Write each issue's newest held-back state once the write interval has passed, unless another invocation
        did meanwhile; one result per item, in order (``coalescing.write_held_back``)."""
        return write_held_back(
            held,
            seconds_left=self.seconds_left(remaining),
            start_budget=START_BUDGET_SECONDS,
            sleep=self.sleep,
            write=lambda item: self._write_held_back(item, remaining),
        )

    def _write_held_back(self, held: HeldBack, remaining: Callable[[], float] | None) -> Outcome:
        client = self.jira_for(self.secrets.get(held.provider.secret), remaining)
        lease = self.acquire_lease(held.alert, held.provider, remaining)
        try:
            if lease.earlier_mark is not None:  # an unconfirmed create comes first
                return self._apply(lease, held.alert, held.provider, client)
            if lease.state.pending_state is None:  # another invocation wrote it meanwhile
                lease.release()
                return held.outcome
            return self._apply(lease, take_pending(lease, held.alert), held.provider, client, flushing=True)
        except BaseException:
            lease.release()
            raise

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
