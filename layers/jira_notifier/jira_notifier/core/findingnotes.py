"""What the notifier writes back on a security finding, and how it knows its own writing again. Pure.

Sync-back (``adapters/aws/syncback.py``) tells Security Hub what became of a finding's issue with a note (ASFF) or
a comment and a status (OCSF). Security Hub then sends an event for that update too; the finding readers
(``sources/findings.py``) recognise it here, so the notifier's own change never comes back as news.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

NOTE_LIMIT = 512  # Security Hub's Note.Text and Comment maximum
WONT_FIX_WORDS = "won't fix"
_OWN_NOTE = re.compile(r"^(Tracked in|Resolved in|Resolved as .+? in) Jira issue [A-Za-z][A-Za-z0-9_]*-\d+: ")


class Decision(StrEnum):
    NOTIFIED = "notified"  # the issue was created
    DONE = "done"  # resolved as anything but the won't-fix resolution
    WONT_FIX = "wont-fix"


# Security Hub (OCSF) has no NOTIFIED: a new issue is told in the comment alone, the status is left to people.
OCSF_STATUS = {Decision.DONE: 4, Decision.WONT_FIX: 3}  # StatusId: 4 Resolved, 3 Suppressed


def still_fits(
    decision: Decision, for_issue: str | None, issue_key: str | None, resolved: bool, wont_fix: bool
) -> bool:
    """Whether a sync-back remembered for ``decision`` on issue ``for_issue`` still says what is true of the alert's
    issue now (``issue_key``, resolved or not, resolved as won't-fix or not). Anything newer (a reopen, a new episode's
    issue, a person's decision) makes it stale: it is dropped, never sent over the newer state."""
    if for_issue is not None and for_issue != issue_key:
        return False
    if decision is Decision.NOTIFIED:
        return not resolved
    return resolved and wont_fix == (decision is Decision.WONT_FIX)


@dataclass(frozen=True, slots=True)
class IssueRef:
    key: str
    url: str


def note(decision: Decision, issue: IssueRef, wont_fix: str | None = None) -> str:
    """The finding's note: what became of it, and the issue's key and link."""
    what = {
        Decision.NOTIFIED: "Tracked in",
        Decision.DONE: "Resolved in",
        Decision.WONT_FIX: f"Resolved as {wont_fix or WONT_FIX_WORDS} in",
    }[decision]
    return f"{what} Jira issue {issue.key}: {issue.url}"[:NOTE_LIMIT]


def note_decision(comment: str) -> Decision | None:
    """The decision a finding's note or comment tells, when ``note`` wrote it; None for anyone else's."""
    found = _OWN_NOTE.match(comment)
    if found is None:
        return None
    if found.group(1) == "Tracked in":
        return Decision.NOTIFIED
    return Decision.DONE if found.group(1) == "Resolved in" else Decision.WONT_FIX


def is_own_update(comment: str, status_id: int | None) -> bool:
    """Whether an OCSF finding reads as the notifier left it: its comment is ours and its status the one that
    comment went with (``OCSF_STATUS``). A comment-only update (the issue was created) leaves the status alone: its
    event is a plain duplicate of the transition already applied, so it is not one of these."""
    decision = note_decision(comment)
    return decision in OCSF_STATUS and status_id == OCSF_STATUS[decision]
