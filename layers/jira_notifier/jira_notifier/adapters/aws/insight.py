"""CloudWatch and CloudWatch Logs reads for the insights (``ports.AlarmReader``, ``ports.LogReader``), with clients made
on first use.

Every call is bounded (``INSIGHT_CALL_SECONDS``, one attempt): an insight is a courtesy, and the caller checks the
invocation's time before each call. Errors are the SDK's; ``enrich`` turns them into a counted miss.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from jira_notifier.core.alert import ChildAlarm
from jira_notifier.core.budgets import INSIGHT_CONNECT_TIMEOUT, INSIGHT_READ_TIMEOUT
from jira_notifier.ports import LogEvent, MetricFilter

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_logs import CloudWatchLogsClient

DESCRIBE_ALARMS_NAMES = 100  # DescribeAlarms takes at most 100 AlarmNames
EVENT_PAGES = 3  # FilterLogEvents may answer a page with fewer events than asked (it searched part of the range)


def insight_client_config() -> Config:
    from botocore.config import Config

    return Config(
        connect_timeout=INSIGHT_CONNECT_TIMEOUT,
        read_timeout=INSIGHT_READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": 1},
    )


class CloudWatchReader:
    """``GetMetricWidgetImage`` and ``DescribeAlarms``; the client is made on the first call."""

    def __init__(self, client_factory: Callable[[], CloudWatchClient]) -> None:
        self._client_factory = client_factory
        self._client: CloudWatchClient | None = None

    def render(self, widget_json: str) -> bytes:
        """The PNG of a metric widget."""
        answer = self._cloudwatch().get_metric_widget_image(MetricWidget=widget_json, OutputFormat="png")
        return bytes(answer["MetricWidgetImage"])

    def alarms(self, names: Sequence[str]) -> list[ChildAlarm]:
        """The current state of the named alarms (metric and composite), up to ``DESCRIBE_ALARMS_NAMES``."""
        answer = self._cloudwatch().describe_alarms(
            AlarmNames=list(names[:DESCRIBE_ALARMS_NAMES]),
            AlarmTypes=["CompositeAlarm", "MetricAlarm"],
            MaxRecords=DESCRIBE_ALARMS_NAMES,
        )
        found: list[Any] = [*answer.get("MetricAlarms", []), *answer.get("CompositeAlarms", [])]
        return [
            ChildAlarm(
                name=str(alarm.get("AlarmName", "")),
                state=str(alarm.get("StateValue", "")),
                since=_moment(alarm.get("StateUpdatedTimestamp")),
                reason=str(alarm.get("StateReason", "")),
            )
            for alarm in found
        ]

    def _cloudwatch(self) -> CloudWatchClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client


class LogsReader:
    """``DescribeMetricFilters`` and ``FilterLogEvents``; the client is made on the first call."""

    def __init__(self, client_factory: Callable[[], CloudWatchLogsClient]) -> None:
        self._client_factory = client_factory
        self._client: CloudWatchLogsClient | None = None

    def metric_filter(self, namespace: str, metric: str) -> MetricFilter | None:
        """The metric filter that publishes ``namespace``/``metric``, if a log group has one."""
        answer = self._logs().describe_metric_filters(metricName=metric, metricNamespace=namespace, limit=1)
        for found in answer.get("metricFilters", []):
            if found.get("logGroupName"):
                return MetricFilter(str(found["logGroupName"]), str(found.get("filterPattern", "")))
        return None

    def events(
        self, found: MetricFilter, start_ms: int, end_ms: int, limit: int, has_time: Callable[[], bool]
    ) -> tuple[list[LogEvent], bool]:
        """Up to ``limit`` matching events, oldest first, and whether more matched; pages are followed while
        ``has_time`` says so."""
        events: list[LogEvent] = []
        request: dict[str, Any] = {
            "logGroupName": found.log_group,
            "startTime": start_ms,
            "endTime": end_ms,
            "limit": limit,
        }
        if found.pattern:
            request["filterPattern"] = found.pattern
        for page in range(EVENT_PAGES):
            if page and not has_time():
                break
            answer = self._logs().filter_log_events(**request)
            events += [
                LogEvent(
                    int(event.get("timestamp", 0)), str(event.get("message", "")), str(event.get("logStreamName", ""))
                )
                for event in answer.get("events", [])
            ]
            token = answer.get("nextToken")
            if not token or len(events) >= limit:
                return events[:limit], bool(token) or len(events) > limit
            request["nextToken"] = token
            request["limit"] = limit - len(events)
        return events, True

    def _logs(self) -> CloudWatchLogsClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client


def _moment(value: object) -> datetime | None:
    return value if isinstance(value, datetime) else None
