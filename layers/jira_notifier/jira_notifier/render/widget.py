"""The ``MetricWidget`` JSON of ``GetMetricWidgetImage`` for an alarm, and the time windows around its transition.

Pure. The graph shows the alarm's own metrics (a metric, a metric-math expression with its inputs hidden, or a
metric with its anomaly-detection band) from well before the transition to a little after it, the threshold as a
horizontal annotation (a band needs none) and the transition as a vertical one.

A contributor of an alarm over many time series is drawn alone when its query allows it: the Metrics Insights
``GROUP BY`` query gets a ``WHERE`` on the contributor's attributes (``for_contributor``). When it does not (a
grouping key the attributes do not name, a value that cannot be quoted safely, the ``Other`` series of a missing
dimension, a ``WHERE`` with ``OR``), the alarm's whole query is drawn, every series, and the description says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from jira_notifier.core.alert import AlarmDefinition, MetricQuery

GRAPH_WIDTH = 800
GRAPH_HEIGHT = 400
CONTEXT_PERIODS = 60  # datapoints shown before the transition
MIN_SPAN = timedelta(hours=3)  # a 1-minute alarm still shows the hours before it
MAX_SPAN = timedelta(days=14)
MAX_METRICS = 100  # GetMetricWidgetImage draws at most 100 metrics and expressions
FILE_NAME_MAX = 80
_COMPARISONS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}
# SNS spells statistics in capitals ("SUM"); the widget takes CloudWatch's names. Percentiles pass as they are.
_STATISTICS = {s.upper(): s for s in ("Sum", "Average", "Minimum", "Maximum", "SampleCount")}
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_SELECT = re.compile(r"^\s*SELECT\b", re.IGNORECASE)
_GROUP_BY = re.compile(r"\bGROUP\s+BY\s+(.+?)(?=\s+ORDER\s+BY\b|\s+LIMIT\b|\s*$)", re.IGNORECASE | re.DOTALL)
_WHERE = re.compile(r"\bWHERE\b", re.IGNORECASE)
_OR = re.compile(r"\bOR\b", re.IGNORECASE)
_KEY = re.compile(r'^(?:[A-Za-z0-9_.:/@+=-]+|"[^"\\]+")$')  # a bare or double-quoted grouping key
_UNQUOTABLE = re.compile(r"['\\\x00-\x1f]")  # a value holding these is not put in a query
MISSING_VALUE = "Other"  # the series of the values that lack a grouping dimension


def can_draw(alarm: AlarmDefinition) -> bool:
    """A metric alarm with at least one metric and a transition time: a composite has no graph of its own."""
    return not alarm.composite and alarm.changed_at is not None and any(q.expression or q.name for q in alarm.queries)


def graph_window(alarm: AlarmDefinition) -> tuple[datetime, datetime]:
    """From ``CONTEXT_PERIODS`` periods (at least three hours) before the transition to a tenth of that after."""
    at = _at(alarm)
    span = min(MAX_SPAN, max(MIN_SPAN, timedelta(seconds=alarm.metric_period * CONTEXT_PERIODS)))
    return at - span, at + span / 10


def evaluation_window(alarm: AlarmDefinition) -> tuple[datetime, datetime]:
    """The datapoints the evaluation read: from reasonData's startDate when the event gives it, else from the
    period boundary ``evaluation_periods`` periods before the transition's own; up to the transition."""
    at = _at(alarm)
    if alarm.evaluated_from is not None and alarm.evaluated_from < at:
        return alarm.evaluated_from, at
    period = alarm.metric_period
    boundary = datetime.fromtimestamp(int(at.timestamp()) // period * period, UTC)
    return boundary - timedelta(seconds=period * (alarm.evaluation_periods or 1)), at


def for_contributor(alarm: AlarmDefinition) -> AlarmDefinition | None:
    """The alarm with its grouped query narrowed to its contributor's own series; None when the alarm is no
    contributor or its query does not allow it (module docstring)."""
    if not alarm.contributor:
        return None
    narrowed = []
    for query in alarm.queries:
        if query.returned and query.expression:
            expression = _narrowed(query.expression, dict(alarm.contributor))
            if expression is None:
                return None
            query = replace(query, expression=expression)
        narrowed.append(query)
    return replace(alarm, queries=tuple(narrowed)) if narrowed else None


def _narrowed(expression: str, attributes: dict[str, str]) -> str | None:
    grouped = _GROUP_BY.search(expression)
    if not _SELECT.match(expression) or grouped is None:
        return None
    keys = [key.strip() for key in grouped.group(1).split(",")]
    if not all(_KEY.match(key) for key in keys) or {key.strip('"') for key in keys} != set(attributes):
        return None
    values = [attributes[key.strip('"')] for key in keys]
    if any(_UNQUOTABLE.search(value) or value == MISSING_VALUE for value in values):
        return None
    head = expression[: grouped.start()].rstrip()
    where = _WHERE.search(head)
    if where is not None and _OR.search(head[where.end() :]):
        return None  # adding AND to an OR would change what the condition means
    condition = " AND ".join(f"{key} = '{value}'" for key, value in zip(keys, values, strict=True))
    return f"{head} {'AND' if where else 'WHERE'} {condition} {expression[grouped.start() :]}"


def graph_note(alarm: AlarmDefinition) -> str:
    """What the graph of a contributor shows, for the description ("" for any other alarm)."""
    series = ", ".join(f"{key}={value}" for key, value in alarm.contributor)
    if not series:
        return ""
    if for_contributor(alarm) is not None:
        return f"the contributor's own series ({series})"
    return f"every series of the alarm's query: it could not be narrowed to the contributor ({series})"


def metric_widget(alarm: AlarmDefinition, state: str) -> dict[str, Any]:
    """The widget for ``GetMetricWidgetImage``; ``state`` labels the transition's line (e.g. "ALARM")."""
    start, end = graph_window(alarm)
    at = _at(alarm)
    series = ", ".join(f"{key}={value}" for key, value in alarm.contributor)
    title = f"{alarm.name} ({series})" if series else alarm.name
    alarm = for_contributor(alarm) or alarm
    widget: dict[str, Any] = {
        "title": title[:200],
        "view": "timeSeries",
        "stacked": False,
        "metrics": [_metric(query, alarm.period) for query in alarm.queries[:MAX_METRICS]],
        "period": alarm.metric_period,
        "start": iso(start),
        "end": iso(end),
        "width": GRAPH_WIDTH,
        "height": GRAPH_HEIGHT,
        "legend": {"position": "bottom"},
        "annotations": {"vertical": [{"label": f"{state} {iso(at)}", "value": iso(at)}]},
    }
    if alarm.region:
        widget["region"] = alarm.region
    banded = any(query.is_band and query.returned for query in alarm.queries)
    if alarm.threshold is not None and not banded:
        symbol = _COMPARISONS.get(alarm.comparison, "")
        label = f"Threshold {symbol} {alarm.threshold:g}".replace("  ", " ")
        widget["annotations"]["horizontal"] = [{"label": label, "value": alarm.threshold}]
    return widget


def widget_json(alarm: AlarmDefinition, state: str) -> str:
    return json.dumps(metric_widget(alarm, state), separators=(",", ":"))


def file_name(alarm: AlarmDefinition) -> str:
    """``<alarm name>[-<contributor's values>]-<transition time>.png`` in characters safe everywhere a file name
    travels."""
    named = "-".join((alarm.name, *(value for _, value in alarm.contributor)))
    safe = _UNSAFE_IN_FILE_NAME.sub("-", named).strip("-.")[:FILE_NAME_MAX] or "alarm"
    return f"{safe}-{_at(alarm).strftime('%Y%m%dT%H%M%SZ')}.png"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _metric(query: MetricQuery, alarm_period: int | None) -> list[Any]:
    options: dict[str, Any] = {}
    if query.id:
        options["id"] = query.id
    if query.label:
        options["label"] = query.label
    if not query.returned:
        options["visible"] = False  # an input of the expression: computed, not drawn
    if query.expression:
        return [{"expression": query.expression, **options}]
    options["stat"] = _STATISTICS.get(query.stat.upper(), query.stat) or "Average"
    period = query.period or alarm_period
    if period:
        options["period"] = period
    dimensions = [part for pair in query.dimensions for part in pair]
    return [query.namespace, query.name, *dimensions, options]


def _at(alarm: AlarmDefinition) -> datetime:
    if alarm.changed_at is None:
        raise ValueError("the alarm's transition time is needed to place its graph")
    return alarm.changed_at.astimezone(UTC)
