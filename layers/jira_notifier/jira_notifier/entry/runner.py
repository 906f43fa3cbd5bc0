"""What every handler does once Powertools has wrapped it: read its event, process each alert, summarize."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jira_notifier.adapters.observability import logger
from jira_notifier.app.notify import Notifier
from jira_notifier.core.alert import Alert
from jira_notifier.core.errors import EventParseError, JiraNotifierError
from jira_notifier.core.outcome import Outcome, summarize
from jira_notifier.sources.common import items, mapping

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse


def handle_event(
    event: Any,
    read: Callable[[object], list[Alert]],
    notifier: Notifier,
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
        notifier.recorder.count("AlertsParked")
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
        log = logger.warning if outcome.action in ("parked", "retry") else logger.info
        log(
            "alert handled",
            action=outcome.action,
            reason=outcome.reason,
            provider=outcome.provider,
            issue_key=outcome.issue_key,
        )


def remaining_from(context: Any) -> Callable[[], float] | None:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    return (lambda: getter() / 1000.0) if callable(getter) else None


def handle_sqs_event(
    event: Any, notifier: Notifier, remaining: Callable[[], float] | None
) -> PartialItemFailureResponse:
    """A batch of SQS records; the response lists the records SQS should deliver again (partial batch failure)."""
    from jira_notifier.app.batch import process_batch

    result = process_batch(notifier, items(mapping(event).get("Records")), remaining)
    log_outcomes(result.outcomes)
    return {"batchItemFailures": [{"itemIdentifier": record_id} for record_id in result.failed]}
