"""The one place that creates the logger, tracer and metrics (Powertools), and the recorders built on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from jira_notifier.jira.client import CallRecord

SERVICE = "jira-notifier"
NAMESPACE = "JiraNotifier"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# Patching for X-Ray loads botocore; it is done when the first clients are built, not at import (cold start).
tracer = Tracer(service=SERVICE, auto_patch=False)


def trace_sdk_calls() -> None:
    """Record AWS SDK and Jira calls as X-Ray subsegments (a no-op when tracing is disabled)."""
    tracer.patch(["botocore", "requests"])


class MetricsRecorder:
    """Counts lifecycle outcomes as CloudWatch metrics (EMF, flushed by ``@metrics.log_metrics``)."""

    def count(self, name: str, value: float = 1) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def record_jira_call(call: CallRecord) -> None:
    """Latency of every Jira call, 429s by reason, and authentication failures."""
    metrics.add_metric(name="JiraLatency", unit=MetricUnit.Milliseconds, value=round(call.elapsed_ms, 1))
    if call.status == 429:
        metrics.add_metric(name="JiraRateLimited", unit=MetricUnit.Count, value=1)
        logger.warning("jira rate limited", endpoint=call.endpoint, rate_limit_reason=call.rate_limit_reason)
    elif call.status == 401:
        metrics.add_metric(name="JiraAuthFailures", unit=MetricUnit.Count, value=1)
        logger.error("jira rejected the credentials", endpoint=call.endpoint)


def record_token_expiry(days_left: int) -> None:
    metrics.add_metric(name="JiraTokenDaysLeft", unit=MetricUnit.Count, value=days_left)
