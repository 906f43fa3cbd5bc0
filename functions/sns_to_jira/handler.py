"""Lambda entry point for alerts arriving from an SNS topic."""

from __future__ import annotations

from typing import Any

from jira_notifier.entry import handle_event, remaining_from
from jira_notifier.observability import logger, metrics, tracer
from jira_notifier.wiring import get_notifier


@logger.inject_lambda_context(correlation_id_path="Records[0].Sns.MessageId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    return handle_event(event, get_notifier("sns"), remaining_from(context))
