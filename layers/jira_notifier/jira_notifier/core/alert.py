"""The one alert model every input is normalized into: what happened, a CloudWatch alarm's definition as its event
carries it, and what the insights add to a new alarm issue (the graph, the log evidence, the child alarms)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

DEDUPE_LABEL_PREFIX = "jn-"  # the Jira label carrying an alert's dedupe hash: finds its issues again


class AlertState(StrEnum):
    """Where the alert stands: it drives create / comment / resolve / reopen."""

    FIRING = "firing"
    RESOLVED = "resolved"
    UNKNOWN = "unknown"  # e.g. INSUFFICIENT_DATA: comment on an open issue, never create


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Alert:
    """A normalized alert.

    ``dedupe_key`` names the Jira issue (one issue per key and provider). ``delivery_key`` is the same for a
    duplicate delivery of the same message (SNS MessageId, EventBridge id). ``transition_at`` orders the state
    changes of one key so stale and cross-channel duplicates can be dropped.
    """

    source: str  # e.g. "cloudwatch-alarm", "cost-anomaly", "budget", "notification", "health", "generic"
    dedupe_key: str
    delivery_key: str
    state: AlertState
    title: str
    severity: Severity = Severity.MEDIUM
    account: str | None = None
    account_name: str | None = None  # from AWS Organizations, added when an issue is created (accounts.py)
    region: str | None = None
    occurred_at: datetime | None = None
    what: str = ""  # one or two sentences: what happened
    why: str = ""  # the alarm reason, anomaly root causes, budget figures
    facts: tuple[tuple[str, str], ...] = ()
    links: tuple[Link, ...] = ()
    raw: Any = None  # the event as received (decoded JSON or text), shown in a code block
    notification_group: str | None = None  # from the message itself (attribute or Notification body)
    route_key: str | None = None  # SNS topic ARN, EventBridge source, or SQS queue ARN
    transition_at: int | None = None  # epoch ms of the state change, when the source gives one
    previous_state: AlertState | None = None  # the state the source says it changed from, when it says
    ignore_reason: str | None = None  # set for events that must never open an issue (see docs)
    extra_labels: tuple[str, ...] = field(default=())
    alarm: AlarmDefinition | None = None  # a CloudWatch alarm's definition, as its event carries it
    insight: Insight | None = None  # the graph's file name, log evidence, a composite's children (new issues)
    resources: tuple[str, ...] = ()  # ARNs of what the alert is about: their tags may fill Jira fields (tags.py)
    impact: float | None = None  # how bad, in the source's measure: an anomaly's total USD, a budget's threshold %
    # The alarm's own tags, as its event carried them (alarm tag propagation); None when the event carries none or
    # says they could not be read. They route the alert and fill fields; never part of any key.
    alarm_tags: tuple[tuple[str, str], ...] | None = None
    product: str | None = None  # a finding's product as its ARN names it, e.g. "aws/guardduty" (provider --products)
    # The source closed it by a decision not to act (a suppressed finding): its issue resolves as the provider's
    # won't-fix resolution and is never reopened by a repeat.
    wont_fix: bool = False

    @property
    def dedupe_hash(self) -> str:
        """A short stable hash of the dedupe key: safe for Jira labels and DynamoDB keys."""
        return hashlib.sha256(self.dedupe_key.encode("utf-8")).hexdigest()[:24]

    @property
    def dedupe_label(self) -> str:
        return DEDUPE_LABEL_PREFIX + self.dedupe_hash

    @property
    def content_fingerprint(self) -> str:
        """What a comment would say, hashed: identical repeats within a cool-down are not commented again."""
        parts = [self.state.value, self.title, self.what, self.why, repr(self.facts)]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


# ---- a CloudWatch alarm's definition, as its state-change event carries it ----------------------------------

# ALARM(name), OK("name"), INSUFFICIENT_DATA(arn) in a composite alarm's rule: the child is a name or an ARN.
_RULE_CHILD = re.compile(r"\b(?:ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(\"?)([^\")]+?)\1\s*\)")
ANOMALY_BAND = "ANOMALY_DETECTION_BAND"


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """One entry of an alarm's metric list: a metric (namespace, name, dimensions, stat) or an expression."""

    id: str = ""
    expression: str = ""
    label: str = ""
    returned: bool = True  # ReturnData: what the alarm evaluates (inputs of an expression are not returned)
    namespace: str = ""
    name: str = ""
    stat: str = ""
    period: int | None = None
    dimensions: tuple[tuple[str, str], ...] = ()

    @property
    def is_band(self) -> bool:
        return self.expression.upper().startswith(ANOMALY_BAND)


@dataclass(frozen=True, slots=True)
class AlarmDefinition:
    """A CloudWatch alarm as its state-change event describes it (SNS, EventBridge or the alarm action)."""

    arn: str
    name: str
    account: str | None
    region: str | None
    changed_at: datetime | None
    queries: tuple[MetricQuery, ...] = ()
    period: int | None = None  # the alarm's period (SNS Trigger.Period); a query's own period wins
    threshold: float | None = None
    comparison: str = ""
    evaluation_periods: int | None = None
    evaluated_from: datetime | None = None  # reasonData's startDate: the first datapoint the evaluation read
    rule: str = ""  # a composite alarm's AlarmRule
    contributor: tuple[tuple[str, str], ...] = ()  # one series of an alarm over many: its GROUP BY keys and values

    @property
    def composite(self) -> bool:
        return bool(self.rule)

    @property
    def metric_period(self) -> int:
        """The period of the evaluated data: the first query's that has one, else the alarm's, else a minute."""
        periods = [q.period for q in self.queries if q.period] + [self.period]
        return next((p for p in periods if p and p > 0), 60)

    @property
    def metrics(self) -> tuple[MetricQuery, ...]:
        """The plain metrics read (no expressions): the ones a log metric filter may publish."""
        return tuple(q for q in self.queries if q.namespace and q.name and not q.expression)

    def child_names(self) -> tuple[str, ...]:
        """The alarms a composite's rule names, in order, without repeats (ARNs reduced to names)."""
        names = (match.group(2).strip() for match in _RULE_CHILD.finditer(self.rule))
        return tuple(dict.fromkeys(name.split(":alarm:", 1)[-1] for name in names if name))


# ---- what the insights add to a new alarm issue -------------------------------------------------------------


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
    graph_note: str = ""  # what the graph shows, when not simply the alarm's metric (a contributor's series)
