"""Jira talks back: what people did to the issues the product owns, recorded in the state (product.md, "Jira talks
back"). ``lifecycle.decide`` then honours it.

Two ways in, one way to apply: the scheduled read-back (``read_back``: a JQL search for owned issues updated since
the last run, paged by ``nextPageToken``) and the webhook receiver (``webhook.py``) both end in ``apply_jira_view``:
"Jira says issue X is now Y". It matches the issue to its alert's state by the alert's ``jn-<hash>`` label and
then the numeric issue id (a moved issue keeps its id, not its key; an older episode's issue with the same label is
not the one the state follows), and changes the state under the alert's lease, so it never races the event path.

What Jira says is a person's decision when it differs from what the state says: the product records its own
resolves and reopens before it releases the lease, so "Jira resolved, state open" was done by someone else.
A view no newer than the product's last write on the issue (a search index trailing, a webhook delivered late) is
checked with a read of the issue by id before anything is recorded.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jira_notifier.app.effects import view_of
from jira_notifier.app.lease import Leases
from jira_notifier.core.alert import DEDUPE_LABEL_PREFIX
from jira_notifier.core.errors import JiraRequestError
from jira_notifier.core.lifecycle import JiraView, jira_says
from jira_notifier.core.state import IssueState, PersonDecision, state_pk
from jira_notifier.ports import Cursor, JiraIssue, JiraPort, OwnedIssues, Recorder, SyncBackPort
from jira_notifier.render.issue import TOOL_LABEL

if TYPE_CHECKING:
    from jira_notifier.core.config import ProviderConfig

READ_FIELDS = ("status", "resolution", "resolutiondate", "labels", "updated", "project")
OVERLAP_SECONDS = 300  # each search reaches this far before the last one: clock skew and the search index's lag
FIRST_LOOKBACK_SECONDS = 86400  # a provider's first read-back looks this far back
SWEEP_INTERVAL_SECONDS = 3600  # deletions show in no search: the open issues are checked this often
SEARCH_PAGE = 100
ID_PAGE = 5000  # ids-only searches may return this many per page
LEASE_WAIT_SECONDS = 5.0
UNBOUNDED_RUN_LEASE_SECONDS = 60.0  # a run without a deadline (the CLI) holds each alert's lease this long at most


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a person did to one issue, as recorded (or, in a dry run, as it would be)."""

    provider: str
    issue_key: str  # as the state now has it (the new key after a move)
    changes: tuple[str, ...]  # PersonDecision values and/or "moved"


@dataclass
class ReadBackReport:
    provider: str
    issues_read: int = 0  # owned issues the search returned (of this and other providers on the site)
    swept: bool = False
    recorded: list[Recorded] = field(default_factory=list)


def needs_reading(state: IssueState, issue: JiraIssue | None, seen_at: float | None) -> bool:
    """Whether a view that differs from the state may predate the product's own last write on the issue (a lagging
    search, a late webhook): then the issue is read by id before anything is recorded."""
    last = state.last_write_at
    return issue is not None and last is not None and (seen_at is None or seen_at <= last)


def owned_pks(provider: ProviderConfig, issue: JiraIssue) -> list[str]:
    """The state keys an issue's ``jn-<hash>`` labels point to in this provider."""
    return [
        state_pk(provider.provider_id, label[len(DEDUPE_LABEL_PREFIX) :])
        for label in issue.labels
        if label.startswith(DEDUPE_LABEL_PREFIX)
    ]


def apply_jira_view(
    leases: Leases,
    provider: ProviderConfig,
    found: IssueState,
    issue_id: str,
    issue: JiraIssue | None,
    *,
    seen_at: float | None,
    read: Callable[[str], JiraIssue | None],
    clock: Callable[[], float],
    deadline: float,
    sync_back: SyncBackPort,
    confirm: bool = False,
    dry_run: bool = False,
) -> Recorded | None:
    """Record what Jira says of the issue ``found`` (a state as read without its lease) follows: "issue
    ``issue_id`` is now ``issue``" (``None``: deleted). ``read`` reads the issue by id (``None``: 404); it is
    called when the view may be stale, or always with ``confirm`` (a view from a sender that may be replaying an
    old one), and only for a view that would change the state. What the read says is recorded, not the view.
    The read happens under the alert's lease, so a later view applied meanwhile cannot be overwritten by an older
    read. A resolution a person chose goes back to AWS (``sync_back``) once it is recorded. Returns what was
    recorded, or None when nothing changed.

    Raises:
        BusyError, StoreError: the lease or the write failed (retryable).
        JiraNotifierError: the confirming read failed.
    """
    view = _view(issue_id, issue, provider)
    if found.issue_id != issue_id or not jira_says(found, view, clock())[1]:
        return None  # not the state's issue, or nothing new: no lease, no read, no write
    if dry_run:
        if confirm or needs_reading(found, issue, seen_at):
            view = _view(issue_id, read(issue_id), provider)
        state, changes = jira_says(found, view, clock())
        return Recorded(provider.provider_id, state.issue_key or "", changes) if changes else None
    with leases.hold(
        found.pk, found.provider, found.dedupe_key, deadline=deadline, wait_seconds=LEASE_WAIT_SECONDS, mark=False
    ) as lease:
        if confirm or needs_reading(lease.state, issue, seen_at):  # read under the lease: no older view wins
            view = _view(issue_id, read(issue_id), provider)
        changes = lease.record_jira_view(view, clock())
        state = lease.state
    if not changes:
        return None
    if any(change in (PersonDecision.RESOLVED, PersonDecision.WONT_FIX) for change in changes):
        sync_back.sync_resolution(provider, state, state.person_resolution)
    return Recorded(provider.provider_id, state.issue_key or "", changes)


def _view(issue_id: str, issue: JiraIssue | None, provider: ProviderConfig) -> JiraView:
    return JiraView(issue_id, view_of(issue), provider.wont_fix_resolution)


def read_back(
    provider: ProviderConfig,
    client: JiraPort,
    leases: Leases,
    owned: OwnedIssues,
    recorder: Recorder,
    *,
    sync_back: SyncBackPort,
    clock: Callable[[], float] = time.time,
    remaining: Callable[[], float] | None = None,
    dry_run: bool = False,
) -> ReadBackReport:
    """Read back the provider's owned issues changed since its last run and record what people did.

    One search per run (``labels = "jira-notifier"`` and ``updated`` since the last run minus an overlap, only the
    fields it needs, every page); once an hour also a sweep for deletions: one ids-only search for the owned issues
    open in Jira, and a read by id of each issue the state holds open that neither search returned (404: deleted;
    else, e.g. moved out of reach of the label, applied as read). The cursor advances only after a complete run.

    Raises:
        JiraNotifierError: a search, a read or a state write failed (retryable); the cursor stays, so the next
        run covers the same span again.
    """
    started = clock()
    report = ReadBackReport(provider.provider_id)
    cursor = owned.cursor(provider.provider_id)
    since = cursor.read_at - OVERLAP_SECONDS if cursor else started - FIRST_LOOKBACK_SECONDS
    minutes = max(1, math.ceil(round(started - since) / 60))  # whole seconds: the stored cursor is rounded
    # Relative dates: JQL reads absolute ones in the API user's time zone, "-Nm" means the same everywhere.
    changed = client.search_jql(
        f'labels = "{TOOL_LABEL}" AND updated >= "-{minutes}m" ORDER BY updated ASC',
        list(READ_FIELDS),
        max_results=SEARCH_PAGE,
    )
    report.issues_read = len(changed)
    states = owned.states(pk for issue in changed for pk in owned_pks(provider, issue))

    def apply(following: dict[str, IssueState], issue_id: str, issue: JiraIssue | None, seen_at: float | None) -> None:
        found = following.get(issue_id)
        if found is None:
            return  # another provider's issue, or an older episode's with the same label
        done = apply_jira_view(
            leases,
            provider,
            found,
            issue_id,
            issue,
            seen_at=seen_at,
            read=lambda ref: read_issue(client, ref),
            clock=clock,
            deadline=clock() + (remaining() if remaining else UNBOUNDED_RUN_LEASE_SECONDS),
            sync_back=sync_back,
            dry_run=dry_run,
        )
        if done is not None:
            report.recorded.append(done)

    following = _by_issue_id(states.values())
    for issue in changed:
        apply(following, issue.id, issue, issue.updated_at)
    swept_at = cursor.swept_at if cursor else None
    if swept_at is None or round(started - swept_at) >= SWEEP_INTERVAL_SECONDS:
        following = _by_issue_id(owned.open_states(provider.provider_id))
        live = client.search_jql(f'labels = "{TOOL_LABEL}" AND statusCategory != Done', ["id"], max_results=ID_PAGE)
        for issue_id in sorted(set(following) - {issue.id for issue in (*changed, *live)}):
            apply(following, issue_id, read_issue(client, issue_id), clock())  # read just now: no need to read again
        report.swept, swept_at = True, started
    if not dry_run:
        owned.save_cursor(provider.provider_id, Cursor(read_at=started, swept_at=swept_at))
        decisions = sum(len(done.changes) for done in report.recorded)
        if decisions:
            recorder.count("HumanDecisionsRecorded", decisions)
    return report


def find_state(owned: OwnedIssues, provider: ProviderConfig, issue: JiraIssue) -> IssueState | None:
    """The state of the provider that follows this issue: named by one of its labels, holding its id."""
    return _by_issue_id(owned.states(owned_pks(provider, issue)).values()).get(issue.id)


def _by_issue_id(states: Iterable[IssueState]) -> dict[str, IssueState]:
    return {state.issue_id: state for state in states if state.issue_id}


def read_issue(client: JiraPort, issue_id: str) -> JiraIssue | None:
    """The issue by its id (a moved issue answers under its new key); None when Jira says it does not exist.

    Raises:
        JiraNotifierError: any other failure.
    """
    try:
        return client.get_issue(issue_id, READ_FIELDS)
    except JiraRequestError as error:
        if error.status == 404:
            return None
        raise


def summary_rows(reports: Sequence[ReadBackReport]) -> list[tuple[str, str, str]]:
    """(provider, issue, what people did) for a table."""
    return [(done.provider, done.issue_key, ", ".join(done.changes)) for r in reports for done in r.recorded]
