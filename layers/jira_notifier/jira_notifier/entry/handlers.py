"""The Lambda handlers, with their Powertools decorators, and what each does once wrapped: read its event, process
each alert, summarize.

Each function's ``functions/<name>/handler.py`` is one import of its handler from here, so ``jira-notifier invoke``
and ``dlq replay`` run exactly what Lambda runs, from an installed package, with no checkout at hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jira_notifier.adapters.observability import logger, metrics, tracer
from jira_notifier.app.notify import Notify
from jira_notifier.core.alert import Alert
from jira_notifier.core.errors import EventParseError, JiraNotifierError
from jira_notifier.core.outcome import Outcome, OutcomeAction, summarize
from jira_notifier.entry.wiring import get_notifier, get_webhook_receiver, remaining_from
from jira_notifier.sources import read_alarm_action, read_eventbridge, read_sns
from jira_notifier.sources.common import items, mapping

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
    from jira_notifier.entry.scheduled import run_scheduled  # imported here: the alert functions never load it

    return run_scheduled(context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def jira_webhook(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Jira admin webhooks through the function URL: what people did to the issues the product owns."""
    answer = get_webhook_receiver().handle(event, remaining_from(context))
    logger.info("webhook request answered", status=answer.status, result=answer.result)
    return answer.response()


# The alert handlers by the CLI's function names (``--function``, the dead-letter records' ``function``).
HANDLERS = {"sns": sns, "eventbridge": eventbridge, "alarm-action": alarm_action, "sqs": sqs}


def handle_event(
    event: Any,
    read: Callable[[object], list[Alert]],
    notifier: Notify,
    remaining: Callable[[], float] | None,
) -> dict[str, int]:
    """Run one Lambda event, read by its function's ``read``, through the notifier.

    Raises:
        JiraNotifierError: retryable; Lambda's retry (then its on-failure destination) takes over.
    """
    try:
        alerts = read(event)
    except EventParseError as error:
        notifier.parker.park(event=event, error=error, alert=None, provider=None)
        notifier.deps.recorder.count("AlertsParked")
        logger.error("event could not be read; parked", reason=error.reason, error=str(error))
        return {"parked": 1}
    outcomes: list[Outcome] = []
    try:
        for alert in alerts:
            logger.append_keys(dedupe_key=alert.dedupe_key, source=alert.source)
            try:
                results = notifier.process(alert, event=event, remaining=remaining)
            except JiraNotifierError as error:
                logger.warning("alert will be retried", reason=error.reason, error=str(error))
                raise
            log_outcomes(results)
            outcomes.extend(results)
    finally:  # a warm container's next invocation must not log under this alert's keys
        logger.remove_keys(["dedupe_key", "source"])
    return summarize(outcomes)


def log_outcomes(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        log = logger.warning if outcome.action in (OutcomeAction.PARKED, OutcomeAction.RETRY) else logger.info
        log(
            "alert handled",
            action=outcome.action,
            reason=outcome.reason,
            provider=outcome.provider,
            issue_key=outcome.issue_key,
        )


def handle_sqs_event(event: Any, notifier: Notify, remaining: Callable[[], float] | None) -> PartialItemFailureResponse:
    """A batch of SQS records; the response lists the records SQS should deliver again (partial batch failure)."""
    from jira_notifier.app.batch import Batch
    from jira_notifier.sources import normalize_sqs_record

    result = Batch(notifier, normalize_sqs_record).process(items(mapping(event).get("Records")), remaining)
    log_outcomes(result.outcomes)
    return {"batchItemFailures": [{"itemIdentifier": record_id} for record_id in result.failed]}
