"""Coalescing: Jira limits writes per issue, so a change that comes within an issue's write interval is held back
in the state and written once the interval has passed, with a note of everything it stands for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jira_notifier.core.alert import Alert
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import HeldBackError, JiraNotifierError, as_product_error
from jira_notifier.core.lifecycle import MIN_WRITE_INTERVAL
from jira_notifier.core.outcome import Outcome


@dataclass(frozen=True, slots=True)
class HeldBack:
    """A change held back by coalescing: written once the issue's write interval has passed."""

    alert: Alert
    provider: ProviderConfig
    outcome: Outcome


def write_held_back(
    held: Sequence[HeldBack],
    *,
    seconds_left: float,
    start_budget: float,
    sleep: Callable[[float], None],
    write: Callable[[HeldBack], Outcome],
) -> list[Outcome | JiraNotifierError]:
    """Wait out the write interval once, then ``write`` each item; one result per item, in order.

    With too little of the invocation left to wait (``seconds_left`` less the interval under ``start_budget``),
    each result is a retryable ``HeldBackError``: the changes stay stored, and the retry (or the issue's next alert)
    writes them.
    """
    if seconds_left - MIN_WRITE_INTERVAL < start_budget:
        return [HeldBackError("a change is held back and this invocation has no time left to write it")] * len(held)
    sleep(MIN_WRITE_INTERVAL)
    results: list[Outcome | JiraNotifierError] = []
    for item in held:
        try:
            results.append(write(item))
        except Exception as raised:  # noqa: BLE001 - each item's failure is its own
            results.append(as_product_error(raised))
    return results
