"""The event path: route an alert to its notification group, then carry it out in each of the group's providers.

``Notify`` routes and parks; ``AlertFlow`` is one alert in one provider: take its lease, ask the lifecycle what to
do, carry it out. Every path that has an alert for a provider comes to ``AlertFlow``: the event path, the buffered
path for all but its bulk creates (``app.batch``), and the scheduled reconcile (``app.reconcile``). A storm member
goes on to its parent (``app.storms``). Changes that arrive within an issue's write interval are held back and
written once it has passed (``write_held_back``).

Each provider's failure stays its own: a permanent one is parked in the dead-letter queue with the original event, a
retryable one (or a park the queue refused) is raised after every provider was tried, so Lambda retries and the
providers already served skip the duplicate delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from jira_notifier.app.create import Creates
from jira_notifier.app.deps import Deps
from jira_notifier.app.effects import Effects, join_notes
from jira_notifier.app.escalation import raise_priority
from jira_notifier.app.lease import Lease
from jira_notifier.app.storms import Storms
from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.budgets import LOCK_WAIT_SECONDS, START_BUDGET_SECONDS
from jira_notifier.core.coalescing import HeldBack, write_held_back
from jira_notifier.core.config import GATEWAY_HOST, ProviderConfig
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
    Reason,
    decide,
    flush_due,
    is_member,
    person_note,
    records_alert_state,
    should_coalesce,
    supersedes_pending,
)
from jira_notifier.core.outcome import Outcome, OutcomeAction
from jira_notifier.core.routing import choose_group
from jira_notifier.core.state import state_pk
from jira_notifier.ports import Countdown, JiraPort, Parker, ProviderSource, Remaining, no_deadline
from jira_notifier.render.issue import coalesced_note


class Notify:
    """Turns one normalized alert into the Jira effects its providers call for."""

    def __init__(self, flow: AlertFlow, providers: ProviderSource, parker: Parker, default_group: str | None) -> None:
        self.flow = flow
        self.deps = flow.deps
        self.providers = providers
        self.parker = parker
        self.default_group = default_group

    def process(
        self, alert: Alert, *, event: Any, remaining: Remaining = None, held: list[HeldBack] | None = None
    ) -> list[Outcome]:
        """Carry the alert to every provider of its group (module docstring). Changes held back by coalescing are
        written before returning, or appended to ``held`` for the caller to write.

        Raises:
            JiraNotifierError: retryable (Lambda should retry), or no dead-letter queue is configured.
        """
        remaining = remaining or no_deadline
        routed = self.providers_for(alert, event)
        if isinstance(routed, Outcome):
            return [routed]
        outcomes: list[Outcome] = []
        failure: JiraNotifierError | None = None
        waiting: dict[int, HeldBack] = {}  # outcome index -> change to write once the interval has passed
        for provider in routed:
            try:
                if remaining() < START_BUDGET_SECONDS:
                    raise DeadlineError("too little of this invocation is left to start this alert; will retry")
                outcome = self.flow.apply(alert, provider, remaining)
            except Exception as raised:  # noqa: BLE001 - one provider's failure never costs the others
                outcome, error = self.fail(event, as_product_error(raised), alert, provider.provider_id)
                failure = failure or error
            else:
                if outcome.action is OutcomeAction.COALESCED:
                    if held is None:
                        waiting[len(outcomes)] = HeldBack(alert, provider, outcome)
                    else:
                        held.append(HeldBack(alert, provider, outcome))
            outcomes.append(outcome)
        written = self.flow.write_held_back(list(waiting.values()), remaining) if waiting else []
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
            self.deps.recorder.count("AlertsIgnored")
            return Outcome(None, OutcomeAction.IGNORED, alert.ignore_reason or "")
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
        taking = [provider for provider in providers if provider.takes(alert.product)]
        if not taking:  # each provider of the group takes other products' findings only (--products)
            self.deps.recorder.count("AlertsIgnored")
            return Outcome(
                None, OutcomeAction.IGNORED, f"no provider of group {group} takes findings of {alert.product}"
            )
        return taking

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
        return Outcome(provider, OutcomeAction.RETRY, error.reason), error

    def park(self, event: Any, error: JiraNotifierError, alert: Alert | None, provider: str | None) -> Outcome:
        """Send to the dead-letter queue with the reason.

        Raises:
            JiraNotifierError: parking failed (retryable), or no queue is configured (``error`` itself).
        """
        self.parker.park(event=event, error=error, alert=alert, provider=provider)
        self.deps.recorder.count("AlertsParked")
        return Outcome(provider, OutcomeAction.PARKED, error.reason)


def ignored(alert: Alert) -> bool:
    """Events that must not open an issue; one that says "resolved" may still close an open one."""
    return alert.ignore_reason is not None and alert.state is not AlertState.RESOLVED


class AlertFlow:
    """The lifecycle of one alert in one provider, carried out (module docstring)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.creates = Creates(deps)
        self.effects = Effects(deps, self.creates)
        self.storms = Storms(deps, self.creates)

    def apply(
        self, alert: Alert, provider: ProviderConfig, remaining: Remaining, held: list[HeldBack] | None = None
    ) -> Outcome:
        """Carry ``alert`` out in ``provider``. A change held back by coalescing is appended to ``held`` (when
        given) for ``write_held_back``.

        Raises:
            JiraNotifierError: the alert could not be applied (retryable, or permanent to be parked by the caller).
        """
        try:
            outcome = self._apply_one(alert, provider, remaining or no_deadline)
        except Exception as raised:  # noqa: BLE001 - named as the product's error for the caller
            raise as_product_error(raised) from raised
        if outcome.action is OutcomeAction.COALESCED and held is not None:
            held.append(HeldBack(alert, provider, outcome))
        return outcome

    def _apply_one(
        self, alert: Alert, provider: ProviderConfig, remaining: Countdown, *, retried: bool = False
    ) -> Outcome:
        secret = self.deps.secrets.get(provider.secret)
        client = self.deps.connect(secret, remaining)
        try:
            with self.hold(alert, provider, remaining, mark=not provider.group_by) as lease:
                if is_member(provider, lease.state):
                    return self.storms.join(lease, alert, provider, client, remaining)
                return self._decide_and_carry_out(lease, alert, provider, client)
        except JiraRequestError as error:
            if error.status != 401:
                raise
            # The cached token may have been rotated: read the secret again and, if it changed, retry now.
            self.deps.secrets.forget()
            if not retried and self.deps.secrets.get(provider.secret) != secret:
                return self._apply_one(alert, provider, remaining, retried=True)
            if self.deps.gateway_allowed and client.gateway_accepts():
                raise ScopedTokenOnSiteError(
                    f"Jira rejected the token at the site URL (401), but it works through {GATEWAY_HOST}: it is a "
                    f"scoped or service-account token. Add the site's cloudId to secret {secret.name!r} "
                    f"('jira-notifier secret put {secret.name} ... --lookup-cloud-id').",
                    status=401,
                ) from error
            raise

    def hold(
        self, alert: Alert, provider: ProviderConfig, remaining: Countdown, *, mark: bool = True
    ) -> AbstractContextManager[Lease]:
        """The alert's lease in this provider, held until this invocation would time out (a context manager)."""
        left = remaining()
        return self.deps.leases.hold(
            state_pk(provider.provider_id, alert.dedupe_hash),
            provider.provider_id,
            alert.dedupe_key,
            deadline=self.deps.clock() + left,
            wait_seconds=max(0.0, min(LOCK_WAIT_SECONDS, left - START_BUDGET_SECONDS)),
            mark=mark,
        )

    def _decide_and_carry_out(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, *, flushing: bool = False
    ) -> Outcome:
        """Decide and carry out the decision; decide again whenever that changed what the decision rests on (an
        unconfirmed create settled, held-back changes taken up). ``flushing``: ``alert`` is held-back changes."""
        while True:
            if lease.state.status_unsure_since is not None and lease.earlier_mark is None:
                self.effects.read_status(lease, client)
            state, now = lease.state, self.deps.clock()
            decision = decide(state, alert, provider, now)
            outcome: Outcome | None
            if decision.action is Action.RECOVER:
                outcome = self.creates.recover(lease, alert, provider, client)
            else:
                if supersedes_pending(decision):  # newest state wins: what was held back is never written after this
                    lease.supersede_pending()
                elif flush_due(state, now) and not flushing:
                    # Held-back changes whose holder never wrote them (it failed): this delivery writes them.
                    alert, flushing = _take_pending(lease, alert), True
                    continue
                outcome = self._carry_out(lease, alert, provider, client, decision, now, flushing=flushing)
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
        *,
        flushing: bool,
    ) -> Outcome | None:
        """Dispatch the decision to its effect, or hold the change back when the issue was written too recently."""
        if decision.action in (Action.COMMENT, Action.SKIP) and not should_coalesce(lease.state, now):
            # Impact over time: an open issue's priority may be due a raise (its own edit, before the update).
            raise_priority(self.deps, lease, alert, provider, client, now, fresh=supersedes_pending(decision))
        state = lease.state
        note = coalesced_note(state)
        if decision.action is Action.SKIP and not (flushing and note):
            lease.record_skip(alert, applied=records_alert_state(decision, alert))
            self.deps.recorder.count(
                "AlertsDeduplicated" if decision.reason is not Reason.NOTHING_OPEN else "AlertsSkipped"
            )
            if state.pending_state is not None and not flushing:
                # A copy of a change still held back (its interval not passed): it may be the retry its holder asked
                # for with no time left, so this invocation writes it too (whichever comes second finds it written).
                return Outcome(provider.provider_id, OutcomeAction.COALESCED, decision.reason, state.issue_key)
            return Outcome(provider.provider_id, OutcomeAction.SKIPPED, decision.reason, state.issue_key)
        if decision.action is Action.SKIP:  # flushing held-back changes that end where the issue already is
            return self.effects.comment(lease, alert, provider, client, Reason.COALESCED, note)
        held_back = decision.action in (Action.COMMENT, Action.RESOLVE, Action.REFIRE)
        if held_back and not flushing and should_coalesce(state, now):
            lease.record_held_back(alert, now)
            self.deps.recorder.count("AlertsCoalesced")
            return Outcome(provider.provider_id, OutcomeAction.COALESCED, decision.reason, state.issue_key)
        if decision.action is Action.CREATE:
            return self.creates.one(lease, alert, provider, client, decision.reason)
        if decision.action is Action.COMMENT:
            if decision.reason in PERSON_NOTICES:  # said once: later firings of this episode are skipped
                lease.note_person_notice(now)
            return self.effects.comment(
                lease, alert, provider, client, decision.reason, join_notes(note, person_note(decision, state))
            )
        if decision.action is Action.RESOLVE:
            return self.effects.resolve(lease, alert, provider, client, note)
        return self.effects.refire(lease, alert, provider, client, note)

    def write_held_back(self, held: Sequence[HeldBack], remaining: Remaining) -> list[Outcome | JiraNotifierError]:
        countdown = remaining or no_deadline
        """Write each issue's newest held-back state once the write interval has passed, unless another invocation
        did meanwhile; one result per item, in order (``core.coalescing.write_held_back``)."""
        return write_held_back(
            held,
            seconds_left=countdown(),
            start_budget=START_BUDGET_SECONDS,
            sleep=self.deps.sleep,
            write=lambda item: self._write_held_back(item, countdown),
        )

    def _write_held_back(self, held: HeldBack, remaining: Countdown) -> Outcome:
        client = self.deps.jira(held.provider, remaining)
        with self.hold(held.alert, held.provider, remaining) as lease:
            if lease.earlier_mark is not None:  # an unconfirmed create comes first
                return self._decide_and_carry_out(lease, held.alert, held.provider, client)
            if lease.state.pending_state is None:  # another invocation wrote it meanwhile
                return held.outcome
            return self._decide_and_carry_out(
                lease, _take_pending(lease, held.alert), held.provider, client, flushing=True
            )


def _take_pending(lease: Lease, alert: Alert) -> Alert:
    """The newest held-back state as an alert to apply, taken out of the lease's state."""
    pending_state, pending_at = lease.take_pending()
    return replace(alert, state=pending_state, transition_at=pending_at, delivery_key=f"{alert.delivery_key}#flush")
