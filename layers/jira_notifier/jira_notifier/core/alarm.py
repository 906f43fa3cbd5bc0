"""A CloudWatch alarm's definition as its state-change event carries it. Pure data, read by the event parser."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

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
