"""The description's sections for the insights: the graph's attachment, a composite's children, the log evidence.

Pure ADF builders. The caller (``render.description``) decides how many evidence lines and child rows fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jira_notifier.render import adf

if TYPE_CHECKING:  # the description is rendered at every create; the insight's types are only annotations here
    from jira_notifier.core.alert import ChildAlarm, Insight, LogEvidence

EVIDENCE_LINES = 20  # log events shown at most
CHILD_ROWS = 100  # a composite rule names at most about this many alarms
CHILD_NAME_MAX = 255
CHILD_REASON_MAX = 300
ELLIPSIS = "…"


def sections(insight: Insight, *, evidence_lines: int, child_rows: int) -> list[dict[str, Any]]:
    """Every section the insight has, in the order a reader wants them: picture, children, log lines."""
    blocks: list[dict[str, Any]] = []
    if insight.graph_file:
        blocks += graph_section(insight.graph_file, insight.graph_note)
    if insight.children or insight.missing_children:
        blocks += children_section(insight.children, insight.missing_children, child_rows)
    if insight.evidence is not None:
        blocks += evidence_section(insight.evidence, evidence_lines)
    return blocks


def graph_section(file_name: str, note: str = "") -> list[dict[str, Any]]:
    """``note``: what the graph shows when it is not simply the alarm's metric (a contributor's series)."""
    return [
        adf.heading("Graph", 3),
        adf.paragraph(
            *adf.text("The alarm's metric around the transition is attached: "),
            *adf.text(file_name, adf.code()),
            *adf.text(" (threshold or band annotated, the transition marked)."),
            *(adf.text(f" It shows {note}.") if note else ()),
        ),
    ]


def children_section(children: Sequence[ChildAlarm], missing: Sequence[str], rows: int) -> list[dict[str, Any]]:
    blocks = [adf.heading("Child alarms now", 3)]
    if children:
        shown = [
            (_clip(child.name, CHILD_NAME_MAX), child.state, _when(child.since), _clip(child.reason, CHILD_REASON_MAX))
            for child in children[:rows]
        ]
        if len(children) > rows:
            shown.append((f"{ELLIPSIS} {len(children) - rows:,} more child alarms", "", "", ""))
        blocks.append(adf.table(("Alarm", "State", "Since", "Reason"), shown))
    if missing:
        names = ", ".join(_clip(name, CHILD_NAME_MAX) for name in missing[:rows])
        more = f" and {len(missing) - rows:,} more" if len(missing) > rows else ""
        blocks.append(adf.paragraph(*adf.text(f"Not found by DescribeAlarms: {names}{more}.", adf.em())))
    return blocks


def evidence_section(evidence: LogEvidence, lines: int) -> list[dict[str, Any]]:
    """The matching log events in a code block, with where they come from and a console link to the log group."""
    shown = list(evidence.lines[:lines])
    left_out = len(evidence.lines) - len(shown)
    if left_out:
        shown.append(f"{ELLIPSIS} {left_out} more lines left out to stay within Jira's size limit")
    elif evidence.more:
        shown.append(f"{ELLIPSIS} more events matched in this window")
    count = len(evidence.lines) + evidence.withheld
    intro = (
        f"{count} log event{'s' if count != 1 else ''} matching the metric filter "
        if count
        else "No log event matched the metric filter "
    )
    withheld = (
        f", and {_lines(evidence.withheld)} that may hold part of a private key or other encoded data "
        f"{'is' if evidence.withheld == 1 else 'are'} withheld"
        if evidence.withheld
        else ""
    )
    blocks = [
        adf.heading("Log evidence", 3),
        adf.paragraph(
            *adf.text(intro),
            *adf.text(_clip(evidence.filter_pattern or "(all events)", 200), adf.code()),
            *adf.text(" in "),
            *adf.text(_clip(evidence.log_group, 512), adf.code()),
            *adf.text(
                f", {_when(evidence.start)} to {_when(evidence.end)}; secret-looking strings are redacted{withheld}."
            ),
        ),
    ]
    if shown:
        blocks.append(adf.code_block("\n".join(shown)))
    url = log_group_url(evidence.region, evidence.log_group)
    if adf.is_web_url(url):
        blocks.append(adf.paragraph(*adf.text("Log group in the CloudWatch console", adf.link(url))))
    return blocks


def log_group_url(region: str, log_group: str) -> str:
    """The console page of a log group; the console wants the name encoded twice, with ``$`` for ``%``."""
    encoded = quote(quote(log_group, safe=""), safe="").replace("%", "$")
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{encoded}"
    )


def evidence_line(timestamp_ms: int, message: str) -> str:
    """One code-block line: the event's UTC time, then its (already redacted and capped) message."""
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return f"{moment.strftime('%Y-%m-%d %H:%M:%S')}.{moment.microsecond // 1000:03d}Z {message}"


def _lines(n: int) -> str:
    return f"{n} line{'s' if n != 1 else ''}"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def _clip(s: str, most: int) -> str:
    return s if len(s) <= most else s[: most - 1] + ELLIPSIS
