"""The event path: route an alert to its notification group, then carry it out in each of the group's providers.

Each provider's failure stays its own: a permanent one is parked in the dead-letter queue with the original event, a
retryable one (or a park the queue refused) is raised after every provider was tried, so Lambda retries and the
providers already served skip the duplicate delivery.
"""

from __future__ import annotations

from typing import Any

from jira_notifier.app.apply import AlertFlow
from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.budgets import START_BUDGET_SECONDS
from jira_notifier.core.coalescing import HeldBack
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import DeadlineError, JiraNotifierError, RoutingError, as_product_error
from jira_notifier.core.outcome import Outcome, OutcomeAction
from jira_notifier.core.routing import choose_group
from jira_notifier.ports import Parker, ProviderSource, Remaining


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
        routed = self.providers_for(alert, event)
        if isinstance(routed, Outcome):
            return [routed]
        outcomes: list[Outcome] = []
        failure: JiraNotifierError | None = None
        waiting: dict[int, HeldBack] = {}  # outcome index -> change to write once the interval has passed
        for provider in routed:
            try:
                if self.deps.seconds_left(remaining) < START_BUDGET_SECONDS:
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
