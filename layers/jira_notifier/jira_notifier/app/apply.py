"""One alert in one provider: take its lease, ask the lifecycle what to do, carry it out.

Every path that has an alert for a provider comes here: the event path (``app.notify``), the buffered path for all
but its bulk creates (``app.batch``), and the scheduled reconcile (``app.reconcile``). A storm member goes on to its
parent (``app.storms``). Changes that arrive within an issue's write interval are held back and written once it has
passed (``write_held_back``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from jira_notifier.app.create import Creates
from jira_notifier.app.deps import Deps
from jira_notifier.app.effects import Effects, join_notes
from jira_notifier.app.escalation import raise_priority
from jira_notifier.app.lease import Lease
from jira_notifier.app.storms import Storms
from jira_notifier.core.alert import Alert
from jira_notifier.core.budgets import LOCK_WAIT_SECONDS, START_BUDGET_SECONDS
from jira_notifier.core.coalescing import HeldBack, coalesced_note, write_held_back
from jira_notifier.core.config import GATEWAY_HOST, ProviderConfig
from jira_notifier.core.errors import JiraNotifierError, JiraRequestError, ScopedTokenOnSiteError, as_product_error
from jira_notifier.core.lifecycle import (
    PERSON_NOTICES,
    Action,
    Decision,
    Reason,
    decide,
    flush_due,
    person_note,
    records_alert_state,
    should_coalesce,
    supersedes_pending,
)
from jira_notifier.core.outcome import Outcome, OutcomeAction
from jira_notifier.core.state import state_pk
from jira_notifier.ports import JiraPort, Remaining


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
            outcome = self._apply_one(alert, provider, remaining)
        except Exception as raised:  # noqa: BLE001 - named as the product's error for the caller
            raise as_product_error(raised) from raised
        if outcome.action is OutcomeAction.COALESCED and held is not None:
            held.append(HeldBack(alert, provider, outcome))
        return outcome

    def _apply_one(
        self, alert: Alert, provider: ProviderConfig, remaining: Remaining, *, retried: bool = False
    ) -> Outcome:
        secret = self.deps.secret(provider)
        client = self.deps.connect(secret, remaining)
        try:
            with self.hold(alert, provider, remaining, mark=not provider.group_by) as lease:
                if self.storms.is_member(provider, lease.state):
                    return self.storms.join(lease, alert, provider, client, remaining)
                return self._decide_and_carry_out(lease, alert, provider, client)
        except JiraRequestError as error:
            if error.status != 401:
                raise
            # The cached token may have been rotated: read the secret again and, if it changed, retry now.
            self.deps.secrets.forget()
            if not retried and self.deps.secret(provider) != secret:
                return self._apply_one(alert, provider, remaining, retried=True)
            if self.deps.gateway_allowed and client.gateway_accepts():
                raise ScopedTokenOnSiteError(
                    f"Jira rejected the token at the site URL (401), but it works through {GATEWAY_HOST}: it is a "
                    f"scoped or service-account token. Add the site's cloudId to secret {secret.name!r} "
                    f"('jira-notifier secret put {secret.name} ... --lookup-cloud-id').",
                    status=401,
                ) from error
            raise

    def hold(self, alert: Alert, provider: ProviderConfig, remaining: Remaining, *, mark: bool = True):  # type: ignore[no-untyped-def]
        """The alert's lease in this provider, held until this invocation would time out (a context manager)."""
        left = self.deps.seconds_left(remaining)
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
        """Write each issue's newest held-back state once the write interval has passed, unless another invocation
        did meanwhile; one result per item, in order (``core.coalescing.write_held_back``)."""
        return write_held_back(
            held,
            seconds_left=self.deps.seconds_left(remaining),
            start_budget=START_BUDGET_SECONDS,
            sleep=self.deps.sleep,
            write=lambda item: self._write_held_back(item, remaining),
        )

    def _write_held_back(self, held: HeldBack, remaining: Remaining) -> Outcome:
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


__all__ = ["AlertFlow", "JiraNotifierError"]
