"""Lambda entry point for alerts buffered in SQS (SNS raw or enveloped, or EventBridge), with partial batch failure."""

from __future__ import annotations

from typing import Any

from jira_notifier.entry import handle_sqs_event, remaining_from
from jira_notifier.observability import logger, metrics, tracer
from jira_notifier.wiring import get_notifier


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_sqs_event(event, get_notifier("sqs"), remaining_from(context), context)
