"""Priority follows impact: which priority an alert calls for, and whether an open issue's should be raised. Pure.

An alert calls for the highest of: its severity's priority (``--priority-map``; a finding whose severity rises
calls for more), its impact's step (a cost anomaly's total USD, ``--impact-steps``; a budget's threshold as a
percentage of the budget, ``--budget-steps``), and how long its issue's alert has been firing (``--escalate-after``).
A priority is only ever raised, only if the product set the one the issue has, and never past a person's change
(``escalation.py`` reads the issue before editing it).

Priorities are compared by Jira's default scheme (Lowest < Low < Medium < High < Highest), or else by their order in
the provider's priority map (info < ... < critical). A name found in neither is never compared, so never raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from jira_notifier.core.alert import Alert, AlertState, Severity
from jira_notifier.core.config import SEVERITIES, ProviderConfig
from jira_notifier.core.state import IssueState, IssueStatus
from jira_notifier.core.units import Step

JIRA_DEFAULT_ORDER = ("lowest", "low", "medium", "high", "highest")


def priority_name(severity: Severity | str, priority_map: Mapping[str, str]) -> str | None:
    """The Jira priority name mapped to ``severity`` (keys match case-insensitively), or None when unmapped.

    None means "send no priority": many projects have no priority field on the create screen.
    """
    wanted = (severity.value if isinstance(severity, Severity) else str(severity)).strip().lower()
    for key, name in priority_map.items():
        if key.strip().lower() == wanted and name.strip():
            return name.strip()
    return None


def wanted_priority(alert: Alert | None, provider: ProviderConfig, firing_for: float | None) -> str | None:
    """The priority ``alert`` calls for (None: no opinion), and its issue's alert firing for ``firing_for`` seconds.

    With no alert, only the time firing counts (a stale or duplicate delivery says nothing new of the impact).
    """
    severity = priority_name(alert.severity, provider.priority_map) if alert is not None else None
    candidates = [
        _step(alert.impact, _impact_steps(alert, provider)) if alert is not None and alert.impact is not None else None,
        _step(firing_for, provider.escalate_after) if firing_for is not None else None,
    ]
    return highest(severity, [c for c in candidates if c], provider)


def priority_to_raise(
    state: IssueState, alert: Alert, provider: ProviderConfig, now: float, *, fresh: bool
) -> str | None:
    """The priority to raise the open issue of ``state`` to, or None. ``fresh``: the alert is newer than what the
    state holds (not a duplicate or out of order), so its severity and impact count; otherwise only time does.

    Only a priority the product set is raised (``state.priority_set``; None once a person changed it, or when the
    issue was created without one).
    """
    if state.issue_status is not IssueStatus.OPEN or state.issue_key is None or state.priority_set is None:
        return None
    wanted = wanted_priority(alert if fresh else None, provider, firing_for(state, now))
    if wanted is None or not higher(wanted, state.priority_set, provider):
        return None
    return wanted


def firing_for(state: IssueState, now: float) -> float | None:
    """Seconds since the issue's alert last changed into firing, when it is firing and the time is known."""
    if state.alert_state is not AlertState.FIRING or state.transition_at is None:
        return None
    return max(0.0, now - state.transition_at / 1000)


def highest(first: str | None, others: Iterable[str], provider: ProviderConfig) -> str | None:
    """The highest of the priorities, ``first`` kept unless another is comparably higher."""
    best = first
    for name in others:
        if best is None or higher(name, best, provider):
            best = name
    return best


def higher(name: str, than: str, provider: ProviderConfig) -> bool:
    """True when ``name`` is a higher priority than ``than`` in one known order (else they are not compared)."""
    a, b = _rank(name, provider), _rank(than, provider)
    return a is not None and b is not None and a[0] == b[0] and a[1] > b[1]


def _rank(name: str, provider: ProviderConfig) -> tuple[int, int] | None:
    folded = name.strip().casefold()
    if folded in JIRA_DEFAULT_ORDER:
        return 0, JIRA_DEFAULT_ORDER.index(folded)
    mapped = [provider.priority_map[s].strip().casefold() for s in reversed(SEVERITIES) if s in provider.priority_map]
    if folded in mapped:
        return 1, len(mapped) - 1 - mapped[::-1].index(folded)  # a name mapped twice ranks at its highest severity
    return None


def _impact_steps(alert: Alert, provider: ProviderConfig) -> tuple[Step, ...]:
    return {"cost-anomaly": provider.impact_steps, "budget": provider.budget_steps}.get(alert.source, ())


def _step(amount: float, steps: tuple[Step, ...]) -> str | None:
    """The priority of the highest step ``amount`` reached (steps lowest first)."""
    reached = [priority for at, priority in steps if amount >= at]
    return reached[-1] if reached else None


class PriorityStep(StrEnum):
    RAISE = "raise"  # edit the priority to the one wanted
    ADOPT = "adopt"  # the issue already has it: the product's own edit, whose answer was lost
    LEAVE_TO_PEOPLE = "left-to-people"  # a person chose the issue's priority: never raised again


def priority_step(state: IssueState, current: str | None, wanted: str) -> PriorityStep:
    """What to do once the issue's priority was read (``current``) and ``wanted`` is due (``priority_to_raise``).

    The product records the priority it intends before it edits (``IssueState.priority_intent``), so an issue that
    already has the wanted priority is the product's own edit only when that edit was intended; otherwise a person
    set it, and it is theirs.
    """
    if current is not None and current.casefold() == wanted.casefold():
        intended = state.priority_intent is not None and state.priority_intent.casefold() == wanted.casefold()
        return PriorityStep.ADOPT if intended else PriorityStep.LEAVE_TO_PEOPLE
    if current is None or state.priority_set is None or current.casefold() != state.priority_set.casefold():
        return PriorityStep.LEAVE_TO_PEOPLE
    return PriorityStep.RAISE
