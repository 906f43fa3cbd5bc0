"""The Lambda handlers, with their Powertools decorators.

Each function's ``functions/<name>/handler.py`` is one import of its handler from here, so ``jira-notifier invoke``
and ``dlq replay`` run exactly what Lambda runs, from an installed package, with no checkout at hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jira_notifier.adapters.observability import logger, metrics, tracer
from jira_notifier.entry.runner import handle_event, handle_sqs_event, remaining_from
from jira_notifier.entry.wiring import get_notifier, get_webhook_receiver
from jira_notifier.sources import read_alarm_action, read_eventbridge, read_sns

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse


@logger.inject_lambda_context(correlation_id_path="Records[0].Sns.MessageId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def sns(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Alerts arriving from an SNS topic."""
    return handle_event(event, read_sns, get_notifier("sns"), remaining_from(context))


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def eventbridge(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Alerts arriving from an EventBridge rule."""
    return handle_event(event, read_eventbridge, get_notifier("eventbridge"), remaining_from(context))


@logger.inject_lambda_context(correlation_id_path="alarmArn")
@tracer.capture_lambda_handler
@metrics.log_metrics
def alarm_action(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Alerts arriving from a CloudWatch alarm action."""
    return handle_event(event, read_alarm_action, get_notifier("alarm-action"), remaining_from(context))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def sqs(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Alerts buffered in SQS (SNS raw or enveloped, or EventBridge), with partial batch failure."""
    return handle_sqs_event(event, get_notifier("sqs"), remaining_from(context))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def reconcile(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001 - a schedule's event says nothing
    """The scheduled run (EventBridge Scheduler): open issues reconciled with their alerts' sources."""
    from jira_notifier.app.reconcile import run_scheduled  # imported here: the alert functions never load it

    return run_scheduled(context)


def jira_webhook(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Jira admin webhooks through the function URL: what people did to the issues the product owns."""
    answer = get_webhook_receiver().handle(event, remaining_from(context))
    logger.info("webhook request answered", status=answer.status, result=answer.result)
    return answer.response()


# The alert handlers by the CLI's function names (``--function``, the dead-letter records' ``function``).
HANDLERS = {"sns": sns, "eventbridge": eventbridge, "alarm-action": alarm_action, "sqs": sqs}
