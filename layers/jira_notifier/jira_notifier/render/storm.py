"""The parent issue of a storm, drawn: its summary and the member table of its description. Pure.

The table lists firing members first, then those whose state is unknown, then the cleared ones, each group newest
first, within the description budget (``render.ADF_BUDGET``); whatever does not fit is summarised with counts, so a
storm of any size gives a valid description Jira accepts.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from jira_notifier.core.alert import AlertState
from jira_notifier.core.storm import Group, Member
from jira_notifier.render import adf
from jira_notifier.render.issue import ADF_BUDGET

STATE_NAMES = {AlertState.FIRING: "Firing", AlertState.UNKNOWN: "Unknown", AlertState.RESOLVED: "Cleared"}
_ORDER = {AlertState.FIRING: 0, AlertState.UNKNOWN: 1, AlertState.RESOLVED: 2}
_ROOM_FOR_THE_REST = 600  # serialized characters kept for the summary line of members left out


def group_label(key: str) -> str:
    """``account=1234|namespace=AWS/EC2|prefix:-=orders`` as ``account 1234, namespace AWS/EC2, prefix orders``."""
    parts = (part.partition("=") for part in key.split("|"))
    return ", ".join(f"{'prefix' if name.startswith('prefix:') else name} {value}" for name, _, value in parts)


def summary_title(key: str) -> str:
    from jira_notifier.render.redact import redact  # a name prefix in the key is text from the world

    return f"Alert storm: {redact(group_label(key))}"


def description(group: Group, window_seconds: int) -> dict[str, Any]:
    """The parent's description: what the group is, the member table, and counts of any members left out.

    One row per member while they all fit; beyond that, members that share a state and the minute they entered it
    share a row (their names in one cell), which lists about a thousand; whoever still does not fit is counted.
    """
    from jira_notifier.render.redact import redact  # members' names are alarm names or titles: text from the world

    counts = group.counts()
    opening = adf.paragraph(
        *adf.text(f"{len(group.members)} alert(s) of {redact(group_label(group.key))}", adf.strong()),
        *adf.text(
            f" in the window from {_when(group.window_start)} ({window_seconds // 60 or 1} min): "
            f"{counts[AlertState.FIRING]} firing, {counts[AlertState.UNKNOWN]} unknown, "
            f"{counts[AlertState.RESOLVED]} cleared. The issue resolves when every member has cleared."
        ),
    )
    footer = adf.paragraph(
        *adf.text("Kept up to date by jira-notifier: one row per alert, rewritten at most once per batch.", adf.em())
    )
    members = sorted(
        (replace(m, name=redact(m.name)) for m in group.members), key=lambda m: (_ORDER[m.state], -m.since)
    )
    room = ADF_BUDGET - _ROOM_FOR_THE_REST - _size(adf.doc(opening, adf.table(HEADER, []), footer))
    rows = [_row([m.name], m.state, _when(m.since)) for m in members]
    if sum(_row_size(row) for row in rows) > room:
        rows, listed = _shared_rows(members, room)
    else:
        listed = len(members)
    blocks = [opening, adf.table(HEADER, rows)]
    if listed < len(members):
        rest = Group(group.key, group.window_start, tuple(members[listed:])).counts()
        blocks.append(
            adf.paragraph(
                *adf.text(
                    f"… and {len(members) - listed} more not listed (no room in the description): "
                    f"{rest[AlertState.FIRING]} firing, {rest[AlertState.UNKNOWN]} unknown, "
                    f"{rest[AlertState.RESOLVED]} cleared."
                )
            )
        )
    return adf.doc(*blocks, footer)


HEADER = ("Alert", "State", "Since")


def _shared_rows(members: list[Member], room: int) -> tuple[list[list[adf.Cell]], int]:
    """Rows of members sharing a state and a minute, while they fit in ``room``; and how many members are listed
    (a prefix of ``members``, which are ordered by state, then newest first)."""
    rows: list[list[adf.Cell]] = []
    listed = 0
    for (state, minute), bucket in itertools.groupby(members, key=lambda m: (m.state, _minute(m.since))):
        names = [m.name for m in bucket]
        left = room - _row_size(_row([], state, minute))
        fitting = 0
        for name in names:
            left -= len(json.dumps(name)) + len(_NAME_SEPARATOR)
            if left < 0:
                break
            fitting += 1
        if fitting:
            row = _row(names[:fitting], state, minute)
            rows.append(row)
            room -= _row_size(row)
            listed += fitting
        if fitting < len(names):
            break
    return rows, listed


_NAME_SEPARATOR = ", "


def note(line: str) -> dict[str, Any]:
    """A one-line comment, as sent with the parent's resolve and reopen transitions."""
    return adf.doc(adf.paragraph(*adf.text(line)))


def _row(names: list[str], state: AlertState, since: str) -> list[adf.Cell]:
    shown = _NAME_SEPARATOR.join(names)
    if state is AlertState.RESOLVED:  # a member that cleared is marked, and its name set apart
        return [adf.text(shown, adf.em()), f"✓ {STATE_NAMES[state]}", since]
    return [shown, adf.text(STATE_NAMES[state], adf.strong()), since]


def _row_size(row: list[adf.Cell]) -> int:
    return _size(adf.table(HEADER, [row])) - _size(adf.table(HEADER, []))


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _minute(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _size(document: dict[str, Any]) -> int:
    return len(json.dumps(document))  # as render.ADF_BUDGET is measured
