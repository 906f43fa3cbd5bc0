"""Raise an open issue's priority when its alert's impact calls for more (``core.impact`` decides, this carries it out).

One read of the priority (``GET /issue/{key}?fields=priority``) and one edit of that field alone
(``PUT /issue/{key}``), only when a raise is due. The priority the product intends is recorded before the edit, so an
edit whose answer was lost is known as its own; any other priority than the one the product last set is a person's:
it is left alone, and from then on the product never raises that issue's priority again.
"""

from __future__ import annotations

from jira_notifier.app.deps import Deps
from jira_notifier.app.lease import Lease
from jira_notifier.core.alert import Alert
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import JiraRequestError
from jira_notifier.core.impact import PriorityStep, priority_step, priority_to_raise
from jira_notifier.ports import JiraPort


def raise_priority(
    deps: Deps,
    lease: Lease,
    alert: Alert,
    provider: ProviderConfig,
    client: JiraPort,
    now: float,
    *,
    fresh: bool,
) -> str | None:
    """Raise the lease's issue's priority if its alert calls for a higher one (counted as ``PrioritiesRaised``);
    what happened: "raised", "left-to-people", "refused", or None when nothing was due. What was done is written to
    the state at once, so a retry never mistakes the product's own edit for a person's, nor a person's for its own.

    A refusal (no permission to edit, a priority the project does not have) is logged and leaves the issue as it
    is: the alert's own update goes on.

    Raises:
        JiraUnavailableError: retryable (the retry reads the issue again).
        BusyError, StoreError: the state write failed.
    """
    state = lease.state
    wanted = priority_to_raise(state, alert, provider, now, fresh=fresh)
    if wanted is None or state.issue_key is None:
        return None
    try:
        current = client.get_issue(state.issue_key, ["priority"]).priority
        step = priority_step(state, current, wanted)
        if step is PriorityStep.LEAVE_TO_PEOPLE:
            lease.leave_priority_to_people()
            return step.value
        if step is PriorityStep.RAISE:
            lease.record_priority_intent(wanted)
            client.edit_issue(state.issue_key, {"priority": {"name": wanted}})
    except JiraRequestError as error:
        deps.log.warning("priority not raised", issue_key=state.issue_key, status=error.status, error=str(error))
        return "refused"
    lease.record_priority(wanted)
    deps.recorder.count("PrioritiesRaised")
    return "raised"
