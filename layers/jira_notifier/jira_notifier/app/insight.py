"""The insights of a new alarm issue, gathered before its create and attached right after it.

Before the create (``prepare``): the PNG of the alarm's metrics is rendered (``GetMetricWidgetImage``) so the
description can name it; the log events behind a log-based metric are read (``DescribeMetricFilters``,
``FilterLogEvents``); a composite alarm's children are described (``DescribeAlarms``). After the create
(``attach``): the PNG goes to the issue in one request. Nothing here ever costs the issue: a call that fails, an
alarm of another account or region (the stack can draw and read only its own), or too little time left leaves
that part out, counted (``GraphMissed``, ``EvidenceMissed``) and logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from jira_notifier.core.alert import AlarmDefinition, Alert, AlertState, ChildAlarm, GraphImage, Insight, LogEvidence
from jira_notifier.core.budgets import INSIGHT_CALL_SECONDS
from jira_notifier.core.errors import JiraNotifierError
from jira_notifier.ports import AlarmReader, Log, LogReader, SilentLog
from jira_notifier.render import insight as blocks
from jira_notifier.render import widget
from jira_notifier.render.redact import log_lines

if TYPE_CHECKING:
    from jira_notifier.core.config import ProviderConfig
    from jira_notifier.ports import JiraPort

Remaining = Callable[[], float] | None
PNG_TYPE = "image/png"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Counter(Protocol):
    def count(self, name: str, value: float = 1) -> None: ...


@dataclass
class AlarmInsights:
    """The insights for the alarms of the stack's own account and region.

    ``reserve_seconds`` is what the create itself still needs after them (the orchestration's start budget): a
    call is made only when that much would be left after it.
    """

    cloudwatch: AlarmReader
    logs: LogReader
    recorder: Counter
    account: str | None
    region: str | None
    reserve_seconds: float
    log: Log = field(default_factory=SilentLog)

    def prepare(self, alert: Alert, provider: ProviderConfig, remaining: Remaining) -> tuple[Alert, GraphImage | None]:
        """The alert with what its new issue's description shows, and the PNG to attach once it exists."""
        alarm = alert.alarm
        if alarm is None or alert.state is not AlertState.FIRING:
            return alert, None
        wants_graph = provider.graph and widget.can_draw(alarm)
        if not self._own(alarm):
            if wants_graph:
                self._missed("GraphMissed", "alarm of another account or region: the stack cannot draw it", alarm)
            return alert, None
        image: GraphImage | None = None
        evidence: LogEvidence | None = None
        children: tuple[ChildAlarm, ...] = ()
        missing: tuple[str, ...] = ()
        if alarm.composite:
            children, missing = self._children(alarm, remaining)
        else:
            image = self._render(alarm, remaining) if wants_graph else None
            evidence = self._evidence(alarm, remaining) if provider.log_evidence else None
        insight = Insight(
            image.file_name if image else None,
            evidence,
            children,
            missing,
            graph_note=widget.graph_note(alarm) if image else "",
        )
        if insight == Insight():
            return alert, None
        return replace(alert, insight=insight), image

    def attach(self, client: JiraPort, issue_key: str, image: GraphImage) -> None:
        """Attach the PNG to the new issue; a refusal (413 too large, 403, 404) or a failure is a counted miss."""
        try:
            client.add_attachment(issue_key, image.file_name, image.png, PNG_TYPE)
        except JiraNotifierError as error:
            self.recorder.count("GraphMissed")
            self.log.warning("graph not attached", issue_key=issue_key, reason=error.reason, error=str(error))
            return
        self.recorder.count("GraphsAttached")

    # ---- the parts -----------------------------------------------------------------------------------------

    def _render(self, alarm: AlarmDefinition, remaining: Remaining) -> GraphImage | None:
        if not self._has_time(remaining):
            self._missed("GraphMissed", "too little of the invocation left to render the graph", alarm)
            return None
        try:
            png = self.cloudwatch.render(widget.widget_json(alarm, "ALARM"))
        except Exception as error:  # noqa: BLE001 - any failure only leaves the graph out
            self._missed("GraphMissed", f"GetMetricWidgetImage failed: {type(error).__name__}", alarm)
            return None
        if not png.startswith(_PNG_SIGNATURE):
            self._missed("GraphMissed", "GetMetricWidgetImage answered something other than a PNG", alarm)
            return None
        return GraphImage(widget.file_name(alarm), png)

    def _evidence(self, alarm: AlarmDefinition, remaining: Remaining) -> LogEvidence | None:
        """The events matching the metric filter behind the first of the alarm's metrics that has one."""
        assert self.region is not None
        try:
            for metric in alarm.metrics[:2]:  # a metric-math alarm: its first two inputs at most
                if not self._has_time(remaining):
                    self._missed("EvidenceMissed", "too little of the invocation left to read the logs", alarm)
                    return None
                found = self.logs.metric_filter(metric.namespace, metric.name)
                if found is None:
                    continue
                if not self._has_time(remaining):
                    self._missed("EvidenceMissed", "too little of the invocation left to read the logs", alarm)
                    return None
                start, end = widget.evaluation_window(alarm)
                events, more = self.logs.events(
                    found, _ms(start), _ms(end), blocks.EVIDENCE_LINES, lambda: self._has_time(remaining)
                )
                shown = log_lines((e.stream, e.message) for e in events)
                lines = tuple(
                    blocks.evidence_line(e.timestamp_ms, line)
                    for e, line in zip(events, shown, strict=True)
                    if line is not None
                )
                withheld = shown.count(None)
                return LogEvidence(found.log_group, found.pattern, self.region, start, end, lines, more, withheld)
        except Exception as error:  # noqa: BLE001 - any failure only leaves the evidence out
            self._missed("EvidenceMissed", f"log evidence not read: {type(error).__name__}", alarm)
        return None

    def _children(self, alarm: AlarmDefinition, remaining: Remaining) -> tuple[tuple[ChildAlarm, ...], tuple[str, ...]]:
        names = alarm.child_names()
        if not names:
            return (), ()
        if not self._has_time(remaining):
            self._missed("EvidenceMissed", "too little of the invocation left to describe the child alarms", alarm)
            return (), ()
        try:
            found = {child.name: child for child in self.cloudwatch.alarms(names)}
        except Exception as error:  # noqa: BLE001 - any failure only leaves the table out
            self._missed("EvidenceMissed", f"DescribeAlarms failed: {type(error).__name__}", alarm)
            return (), ()
        return tuple(found[n] for n in names if n in found), tuple(n for n in names if n not in found)

    # ---- plumbing ------------------------------------------------------------------------------------------

    def _own(self, alarm: AlarmDefinition) -> bool:
        return bool(self.account and self.region) and (alarm.account, alarm.region) == (self.account, self.region)

    def _has_time(self, remaining: Remaining) -> bool:
        return remaining is None or remaining() - INSIGHT_CALL_SECONDS >= self.reserve_seconds

    def _missed(self, metric: str, why: str, alarm: AlarmDefinition) -> None:
        self.recorder.count(metric)
        self.log.warning("insight left out", metric=metric, why=why, alarm=alarm.name)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
