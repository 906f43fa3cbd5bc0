"""Parks alerts that cannot succeed by retrying, with the original event and a machine-readable reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from jira_notifier.core.alert import Alert
from jira_notifier.core.errors import JiraNotifierError, StoreError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

PARKED_FORMAT = "jira-notifier/parked@1"
MAX_EVENT_CHARS = 200_000  # SQS takes 256 KiB a message; an event larger than this is kept in part
MAX_FIELD_CHARS = 2_000  # the error, key and title stay readable and leave the room to the event


def parked_message(
    *, event: Any, error: JiraNotifierError, alert: Alert | None, provider: str | None, function: str | None
) -> dict[str, Any]:
    """The dead-letter record: what failed, why, and the event to replay once the cause is fixed."""
    # ASCII escapes: SQS refuses some code points (U+FFFE, lone surrogates) that events may carry.
    event_text = json.dumps(event, default=str, ensure_ascii=True)
    message: dict[str, Any] = {
        "format": PARKED_FORMAT,
        "reason": error.reason,
        "error": _cut(str(error)),
        "provider": provider,
        "function": function,
        "parkedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "dedupeKey": _cut(alert.dedupe_key) if alert else None,
        "source": alert.source if alert else None,
        "title": _cut(alert.title) if alert else None,
    }
    if len(event_text) <= MAX_EVENT_CHARS:
        message["event"] = event
    else:
        message["eventTruncated"] = _prefix_within(event_text, MAX_EVENT_CHARS)
    return message


def _prefix_within(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose JSON string form stays within ``limit`` characters."""
    size = limit
    while len(json.dumps(text[:size])) > limit:
        size = size * limit // len(json.dumps(text[:size])) - 1
    return text[:size]


def _cut(text: str) -> str:
    return text if len(text) <= MAX_FIELD_CHARS else text[:MAX_FIELD_CHARS] + " …"


class DeadLetterQueue:
    def __init__(self, client: SQSClient, queue_url: str, function: str | None) -> None:
        self._client = client
        self._queue_url = queue_url
        self._function = function

    def park(self, *, event: Any, error: JiraNotifierError, alert: Alert | None, provider: str | None) -> None:
        """Send the parked record.

        Raises:
            StoreError: the queue could not take it (retryable, so the event is not lost).
        """
        body = parked_message(event=event, error=error, alert=alert, provider=provider, function=self._function)
        try:
            self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=json.dumps(body, default=str, ensure_ascii=True),
                MessageAttributes={"reason": {"DataType": "String", "StringValue": error.reason}},
            )
        except Exception as exc:
            raise StoreError("the dead-letter queue did not accept the parked alert; will retry") from exc


class RaiseInsteadOfParking:
    """Used when no dead-letter queue is configured (local runs): the error surfaces to the caller."""

    def park(self, *, event: Any, error: JiraNotifierError, alert: Alert | None, provider: str | None) -> None:
        raise error


class _Parker(Protocol):
    def park(self, *, event: Any, error: JiraNotifierError, alert: Alert | None, provider: str | None) -> None: ...


@dataclass(frozen=True, slots=True)
class Parked:
    """What was parked, as the one who ran the handler is told (``jira-notifier invoke`` reports it)."""

    reason: str
    error: str
    provider: str | None
    title: str | None


class ReportingParker:
    """Parks through ``parker``, then tells ``report`` what it parked: only once the queue took it."""

    def __init__(self, parker: _Parker, report: Callable[[Parked], None]) -> None:
        self._parker = parker
        self._report = report

    def park(self, *, event: Any, error: JiraNotifierError, alert: Alert | None, provider: str | None) -> None:
        """Raises: what ``parker`` raises (then nothing is reported)."""
        self._parker.park(event=event, error=error, alert=alert, provider=provider)
        self._report(Parked(error.reason, _cut(str(error)), provider, _cut(alert.title) if alert else None))
