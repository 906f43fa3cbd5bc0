"""Raise an open issue's priority when its alert's impact calls for more (``impact.py`` decides, this carries it out).

One read of the priority (``GET /issue/{key}?fields=priority``) and one edit of that field alone
(``PUT /issue/{key}``), only when a raise is due. A priority other than the one the product last set is a person's:
it is left alone, and from then on the product never raises that issue's priority again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jira_notifier.adapters.observability import logger
from jira_notifier.core.alert import Alert
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import JiraRequestError
from jira_notifier.core.impact import priority_to_raise
from jira_notifier.core.outcome import Recorder
from jira_notifier.core.state import Lease

if TYPE_CHECKING:
    from jira_notifier.adapters.jira.client import JiraPort


def raise_priority(
    lease: Lease,
    alert: Alert,
    provider: ProviderConfig,
    client: JiraPort,
    now: float,
    *,
    fresh: bool,
    recorder: Recorder,
) -> str | None:
    """Raise the lease's issue's priority if its alert calls for a higher one (counted as ``PrioritiesRaised``);
    what happened: "raised", "left-to-people", "refused", or None when nothing was due. What was done is written to
    the state at once, so a retry never mistakes the product's own edit for a person's.

    A refusal (no permission to edit, a priority the project does not have) is logged and leaves the issue as it
    is: the alert's own update goes on.

    Raises:
        JiraUnavailableError: retryable (nothing was recorded; the retry reads the issue again).
        BusyError, StoreError: the state write failed.
    """
    state = lease.state
    wanted = priority_to_raise(state, alert, provider, now, fresh=fresh)
    if wanted is None or state.issue_key is None:
        return None
    try:
        current = client.get_issue(state.issue_key, ["priority"]).priority
        if current is not None and current.casefold() == wanted.casefold():  # an edit whose answer was lost
            lease.save(state.priority_raised(current))
            recorder.count("PrioritiesRaised")
            return "raised"
        if current is None or state.priority_set is None or current.casefold() != state.priority_set.casefold():
            lease.save(state.priority_left_to_people())
            return "left-to-people"
        client.edit_issue(state.issue_key, {"priority": {"name": wanted}})
    except JiraRequestError as error:
        logger.warning("priority not raised", issue_key=state.issue_key, status=error.status, error=str(error))
        return "refused"
    lease.save(state.priority_raised(wanted))
    recorder.count("PrioritiesRaised")
    return "raised"
