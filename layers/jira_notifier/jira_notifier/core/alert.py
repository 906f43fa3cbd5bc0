"""The one alert model every input is normalized into, and the delivery that carried it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jira_notifier.core.alarm import AlarmDefinition
    from jira_notifier.core.insight import Insight

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
    ignore_reason: str | None = None  # set for events that must never open an issue (see docs)
    extra_labels: tuple[str, ...] = field(default=())
    alarm: AlarmDefinition | None = None  # a CloudWatch alarm's definition, as its event carries it
    insight: Insight | None = None  # the graph's file name, log evidence, a composite's children (new issues)
    resources: tuple[str, ...] = ()  # ARNs of what the alert is about: their tags may fill Jira fields (tags.py)
    impact: float | None = None  # how bad, in the source's measure: an anomaly's total USD, a budget's threshold %

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
