"""What the insights add to a new alarm issue: the graph to attach, the log evidence, the child alarms. Pure data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class GraphImage:
    """A rendered PNG of the alarm's metrics, to attach to the new issue under ``file_name``."""

    file_name: str
    png: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class LogEvidence:
    """Log events matching the metric filter behind the alarm's metric, from its evaluation window."""

    log_group: str
    filter_pattern: str
    region: str
    start: datetime
    end: datetime
    lines: tuple[str, ...]  # already redacted and capped, oldest first
    more: bool = False  # more events matched than are shown
    withheld: int = 0  # events read but not shown: they may hold part of a secret (``redact.log_lines``)


@dataclass(frozen=True, slots=True)
class ChildAlarm:
    """A composite alarm's child as DescribeAlarms tells it now."""

    name: str
    state: str
    since: datetime | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Insight:
    """What a new issue's description shows beyond the event."""

    graph_file: str | None = None  # the attachment's name, given before the create, attached right after
    evidence: LogEvidence | None = None
    children: tuple[ChildAlarm, ...] = ()
    missing_children: tuple[str, ...] = ()  # named in the rule, not found by DescribeAlarms
