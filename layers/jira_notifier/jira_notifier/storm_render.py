"""The parent issue of a storm, drawn: its summary and the member table of its description. Pure.

The table lists firing members first, then those whose state is unknown, then the cleared ones, each group newest
first; rows are added while the document stays within the description budget, and whatever does not fit is
summarised with counts, so a storm of any size gives a valid description Jira accepts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jira_notifier.jira import adf
from jira_notifier.models import AlertState
from jira_notifier.render import ADF_BUDGET
from jira_notifier.storm import Group, Member

STATE_NAMES = {AlertState.FIRING: "Firing", AlertState.UNKNOWN: "Unknown", AlertState.RESOLVED: "Cleared"}
_ORDER = {AlertState.FIRING: 0, AlertState.UNKNOWN: 1, AlertState.RESOLVED: 2}
_ROOM_FOR_THE_REST = 600  # serialized characters kept for the summary line of members left out


def group_label(key: str) -> str:
    """``account=1234|namespace=AWS/EC2|prefix:-=orders`` as ``account 1234, namespace AWS/EC2, prefix orders``."""
    parts = (part.partition("=") for part in key.split("|"))
    return ", ".join(f"{'prefix' if name.startswith('prefix:') else name} {value}" for name, _, value in parts)


def summary_title(key: str) -> str:
    return f"Alert storm: {group_label(key)}"


def description(group: Group, window_seconds: int) -> dict[str, Any]:
    """The parent's description: what the group is, the member table, and counts of any members left out."""
    counts = group.counts()
    opening = adf.paragraph(
        *adf.text(f"{len(group.members)} alert(s) of {group_label(group.key)}", adf.strong()),
        *adf.text(
            f" in the window from {_when(group.window_start)} ({window_seconds // 60 or 1} min): "
            f"{counts[AlertState.FIRING]} firing, {counts[AlertState.UNKNOWN]} unknown, "
            f"{counts[AlertState.RESOLVED]} cleared. The issue resolves when every member has cleared."
        ),
    )
    footer = adf.paragraph(
        *adf.text("Kept up to date by jira-notifier: one row per alert, rewritten at most once per batch.", adf.em())
    )
    members = sorted(group.members, key=lambda m: (_ORDER[m.state], -m.since))
    rows: list[list[adf.Cell]] = []
    used = _size(adf.doc(opening, adf.table(("Alert", "State", "Since"), []), footer)) + _ROOM_FOR_THE_REST
    for member in members:
        row = _row(member)
        size = _size(adf.table(("",), [row])) - _size(adf.table(("",), []))
        if used + size > ADF_BUDGET:
            break
        rows.append(row)
        used += size
    blocks = [opening, adf.table(("Alert", "State", "Since"), rows)]
    left_out = members[len(rows) :]
    if left_out:
        rest = Group(group.key, group.window_start, tuple(left_out)).counts()
        blocks.append(
            adf.paragraph(
                *adf.text(
                    f"… and {len(left_out)} more not listed (the description has room for {len(rows)}): "
                    f"{rest[AlertState.FIRING]} firing, {rest[AlertState.UNKNOWN]} unknown, "
                    f"{rest[AlertState.RESOLVED]} cleared."
                )
            )
        )
    return adf.doc(*blocks, footer)


def note(line: str) -> dict[str, Any]:
    """A one-line comment, as sent with the parent's resolve and reopen transitions."""
    return adf.doc(adf.paragraph(*adf.text(line)))


def _row(member: Member) -> list[adf.Cell]:
    state = STATE_NAMES[member.state]
    if member.state is AlertState.RESOLVED:  # a member that cleared is marked, and its name set apart
        return [adf.text(member.name, adf.em()), adf.text(f"✓ {state}"), _when(member.since)]
    return [member.name, adf.text(state, adf.strong()), _when(member.since)]


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _size(document: dict[str, Any]) -> int:
    return len(json.dumps(document))  # as render.ADF_BUDGET is measured
