"""Settling a create whose answer was lost: find the issue it made by the alert's label and adopt it, or prove
that none landed.

A create that was sent may still land after the client gave up (Jira goes on with a request it received), so the
write-ahead mark (``state.Lease.begin_create``) stays until a holder either finds the issue or waits out every way
it could still appear.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import CreateUnconfirmedError
from jira_notifier.core.lifecycle import FIRED_BEFORE_ITS_CLEAR
from jira_notifier.core.outcome import Outcome, Recorder
from jira_notifier.core.state import CREATE_SEND_WINDOW, IssueState, Lease

if TYPE_CHECKING:
    from jira_notifier.adapters.jira.client import JiraIssue, JiraPort

# Jira's search trails writes ("recent updates might not be immediately visible"; no bound is documented). A label
# search that finds nothing proves no create landed only this long after the request's timeout.
SEARCH_SETTLE_SECONDS = 30.0
CLOCK_SKEW_TOLERANCE = 5.0  # Jira's clock against the functions' when comparing an issue's created time with a mark


def recover(
    lease: Lease,
    alert: Alert,
    provider: ProviderConfig,
    client: JiraPort,
    *,
    clock: Callable[[], float],
    recorder: Recorder,
) -> Outcome | None:
    """An earlier holder's create may have reached Jira: settle that before anything else.

    The issue it made is adopted: found by the alert's label, created at or after the mark, and not the issue the
    state already follows (an earlier episode's). Finding none proves nothing until the request can no longer land
    and Jira's search has caught up (mark + ``CREATE_SEND_WINDOW`` + Jira's timeout + ``SEARCH_SETTLE_SECONDS``):
    before then this raises a retryable error and creates nothing; after it the mark is dropped.

    Returns:
        The outcome, or None when the alert is to be decided again on the settled state.

    Raises:
        CreateUnconfirmedError: too early to tell (retryable).
        JiraNotifierError: the search failed.
    """
    mark = lease.earlier_mark
    assert mark is not None
    found = find_created(lease, alert, provider, client, clock())
    if found is not None:
        return adopt(lease, alert, provider, found, recorder)
    if clock() < mark + CREATE_SEND_WINDOW + client.timeout + SEARCH_SETTLE_SECONDS:
        raise CreateUnconfirmedError(
            "a create for this alert may still appear in Jira's search; will look again before creating"
        )
    lease.no_create_landed()
    return None


def find_created(
    lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort, now: float
) -> JiraIssue | None:
    """The issue the create under the lease's mark made, if Jira's search shows it.

    Raises:
        JiraNotifierError: the search failed.
    """
    known = lease.state.issue_id
    since = (lease.mark_at or now) - CLOCK_SKEW_TOLERANCE
    found = client.search_jql(
        f'project = "{provider.project}" AND labels = "{alert.dedupe_label}" ORDER BY created DESC',
        ["status", "created"],
        reconcile_ids=[int(known)] if known and known.isdigit() else [],
    )
    for issue in found:  # newest first
        if issue.id != known and issue.created_at is not None and issue.created_at >= since:
            return issue
    return None


def adopt(lease: Lease, alert: Alert, provider: ProviderConfig, issue: JiraIssue, recorder: Recorder) -> Outcome | None:
    """Make the found issue the alert's.

    Returns:
        "recovered" when the alert is the firing that create was for; None when the alert moved on since (or the
        issue is already done): the adoption is recorded and the alert is to be applied to it (an OK resolves it).
    """
    adopted = lease.state.adopted(alert, issue.id, issue.key, done=issue.done, created_at=lease.mark_at)
    recorder.count("IssuesRecovered")
    if issue.done or alert.state is not AlertState.FIRING:
        lease.confirm_create(adopted, release=False)  # recorded before anything else can fail
        return None
    return confirm_created(lease, adopted.remembered(alert), alert, provider, "recovered", "unconfirmed-create-found")


def confirm_created(
    lease: Lease, state: IssueState, alert: Alert, provider: ProviderConfig, action: str, reason: str
) -> Outcome:
    """Record the issue a create made for ``alert``. When a clear newer than that firing was recorded while the
    alert had no issue (it arrived first), the clear is kept as a held-back change, written next."""
    before = lease.state
    if before.alert_state is AlertState.RESOLVED and _older(alert, before.transition_at):
        state = state.with_pending(before.alert_state, before.transition_at)
        action, reason = "coalesced", FIRED_BEFORE_ITS_CLEAR
    lease.confirm_create(state)
    return Outcome(provider.provider_id, action, reason, state.issue_key)


def _older(alert: Alert, transition_at: int | None) -> bool:
    return alert.transition_at is not None and transition_at is not None and alert.transition_at < transition_at
