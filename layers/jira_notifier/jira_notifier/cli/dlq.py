"""``jira-notifier dlq list|replay``: what the dead-letter queue holds, and replaying it once the cause is fixed.

The queue holds two kinds of record: alerts the functions parked (``deadletters.PARKED_FORMAT``: a permanent
failure, with the reason) and Lambda's on-failure destination records (retries exhausted; the original event is
the ``requestPayload``). Replay runs each event through its handler in this process and deletes the message only
when it succeeds. The state table records every delivery, so a replay never creates an issue twice.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jira_notifier.adapters.aws.deadletters import PARKED_FORMAT
from jira_notifier.cli import aws
from jira_notifier.cli.environment import functions_environment
from jira_notifier.cli.invoke import FUNCTIONS, LocalContext, load_handler
from jira_notifier.cli.options import add_json_option
from jira_notifier.cli.output import print_json, table
from jira_notifier.core.errors import ConfigError, EventParseError
from jira_notifier.sources import function_for, read

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef, MessageTypeDef

PARKED, LAMBDA_FAILURE, UNKNOWN = "parked", "lambda-failure", "unknown"
HOLD_SECONDS = 300  # a received message stays hidden this long while the command works on it
DEFAULT_LIMIT = 100
# What a replay runs with besides the tables: no tracing or metrics, and only the handler's errors logged.
REPLAY_ENV = {
    "POWERTOOLS_SERVICE_NAME": "jira-notifier",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One message of the dead-letter queue, read."""

    message_id: str
    receipt_handle: str
    kind: str  # parked | lambda-failure | unknown
    reason: str
    when: str | None
    title: str | None
    error: str | None
    function: str | None  # the handler to replay it through, when known
    event: Any = None  # None when it cannot be replayed

    @property
    def unreplayable_reason(self) -> str | None:
        """None when it can be replayed, else why not."""
        if self.kind == UNKNOWN:
            return "not a jira-notifier record"
        if self.event is None:
            return "the event was too large to keep whole"
        if self.function is None:
            return "no handler takes this event"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "messageId": self.message_id,
            "kind": self.kind,
            "reason": self.reason,
            "when": self.when,
            "title": self.title,
            "error": self.error,
            "function": self.function,
            "event": self.event,
        }


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = "Inspect and replay the dead-letter queue."
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list", help="list parked and failed alerts", description="List the queue's messages without removing them."
    )
    add_json_option(listing, "print JSON (with each event)")
    _add_queue_options(listing)
    listing.set_defaults(run=run_list)

    replay = actions.add_parser(
        "replay",
        help="run parked and failed alerts again",
        description="Run each message's event through its handler in this process (with the stack's tables); "
        "delete it when that succeeds, keep it when it fails again. An issue already created is never created "
        "twice.",
    )
    replay.add_argument("--dry-run", action="store_true", help="show what would be replayed; change nothing")
    add_json_option(replay, "print each message's outcome and the counts as JSON")
    _add_queue_options(replay)
    replay.set_defaults(run=run_replay)


def _add_queue_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=_positive, default=DEFAULT_LIMIT, metavar="N", help="at most N messages")
    parser.add_argument("--queue-url", metavar="URL", help="default: the stack's DeadLetterQueueUrl")
    aws.add_stack_option(parser)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


# ---- reading messages --------------------------------------------------------------------------------------


def read_dead_letter(message: Mapping[str, Any]) -> DeadLetter:
    """Read one SQS message of the dead-letter queue (never fails: an unknown body is reported as such)."""
    ids = {"message_id": str(message.get("MessageId")), "receipt_handle": str(message.get("ReceiptHandle"))}
    try:
        body = json.loads(message.get("Body") or "")
    except ValueError:
        body = None
    if isinstance(body, Mapping) and body.get("format") == PARKED_FORMAT:
        event = body.get("event")
        return DeadLetter(
            **ids,
            kind=PARKED,
            reason=str(body.get("reason") or "?"),
            when=body.get("parkedAt"),
            title=body.get("title") or body.get("dedupeKey"),
            error=body.get("error"),
            function=body.get("function") if body.get("function") in FUNCTIONS else function_for(event),
            event=event,
        )
    if isinstance(body, Mapping) and isinstance(body.get("requestContext"), Mapping) and "requestPayload" in body:
        event = body.get("requestPayload")
        function = function_for(event)
        payload = body.get("responsePayload")
        failure: Mapping[str, Any] = payload if isinstance(payload, Mapping) else {}
        return DeadLetter(
            **ids,
            kind=LAMBDA_FAILURE,
            reason=str(body["requestContext"].get("condition") or "?"),
            when=body.get("timestamp"),
            title=_title(function, event),
            error=f"{failure.get('errorType', 'error')}: {failure.get('errorMessage', 'no message')}",
            function=function,
            event=event,
        )
    return DeadLetter(**ids, kind=UNKNOWN, reason="?", when=_sent(message), title=None, error=None, function=None)


def _title(function: str | None, event: Any) -> str | None:
    try:
        alerts = read(function, event)
    except EventParseError:
        return None
    return alerts[0].title if alerts else None


def _sent(message: Mapping[str, Any]) -> str | None:
    sent = str((message.get("Attributes") or {}).get("SentTimestamp") or "")
    if not sent.isdigit():
        return None
    return datetime.fromtimestamp(int(sent) / 1000, UTC).isoformat(timespec="seconds")


def queue_url(args: argparse.Namespace, found: aws.Resources) -> str:
    """Raises: ConfigError when no queue is named anywhere."""
    url = args.queue_url or found.dead_letter_queue_url
    if not url:
        raise ConfigError("no dead-letter queue: pass --queue-url URL or --stack NAME, or set DEAD_LETTER_QUEUE_URL")
    return str(url)


@contextmanager
def held_messages(sqs: SQSClient, url: str, limit: int) -> Iterator[list[MessageTypeDef]]:
    """Up to ``limit`` messages, hidden from other readers while in use; those not deleted are visible again after.

    The caller removes from the yielded list each message it deleted.
    """
    messages: dict[str, MessageTypeDef] = {}
    with aws.aws_errors(f"read the dead-letter queue {url}"):
        expected = int(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"].get(
                "ApproximateNumberOfMessages", 0
            )
        )
        long_polled = False
        while len(messages) < limit:
            batch = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, limit - len(messages)),
                VisibilityTimeout=HOLD_SECONDS,
                WaitTimeSeconds=1 if long_polled else 0,
                AttributeNames=["SentTimestamp"],
            ).get("Messages", [])
            if batch:
                messages.update((m["MessageId"], m) for m in batch)
            elif long_polled or len(messages) >= expected:
                break
            else:  # a short poll samples some servers only: ask once more, waiting, before calling it empty
                long_polled = True
    held = list(messages.values())
    try:
        yield held
    finally:
        _release(sqs, url, held)


def _release(sqs: SQSClient, url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    with aws.aws_errors(f"release messages of {url}"):
        for start in range(0, len(messages), 10):
            entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
                {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for index, m in enumerate(messages[start : start + 10])
            ]
            sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)


# ---- list --------------------------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    session = aws.session()
    url = queue_url(args, aws.resources(args.stack, os.environ, session))
    with held_messages(session.client("sqs"), url, args.limit) as messages:
        letters = [read_dead_letter(message) for message in messages]
    if args.json:
        print_json([letter.to_dict() for letter in letters])
        return 0
    if not letters:
        print("the dead-letter queue is empty")
        return 0
    rows = [
        (
            str(number),
            letter.when or "?",
            letter.kind,
            letter.reason,
            letter.function or "?",
            _cut(letter.title or "-", 60),
        )
        for number, letter in enumerate(letters, 1)
    ]
    print(table(("#", "WHEN", "KIND", "REASON", "FUNCTION", "TITLE"), rows))
    errors = [f"{number}: {letter.error}" for number, letter in enumerate(letters, 1) if letter.error]
    if errors:
        print("\nerrors:\n" + "\n".join(errors))
    print(f"\n{len(letters)} message(s); run them again with 'jira-notifier dlq replay' once the cause is fixed")
    return 0


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# ---- replay ------------------------------------------------------------------------------------------------


@dataclass
class ReplayTally:
    replayed: int = 0
    created: int = 0
    other: int = 0  # commented, resolved, reopened, skipped as already done, ...
    failing: int = 0
    not_replayable: int = 0

    def add(self, result: Any) -> None:
        counts = result if isinstance(result, Mapping) else {}
        self.replayed += 1
        self.created += int(counts.get("created", 0))
        self.other += sum(int(n) for action, n in counts.items() if action != "created" and isinstance(n, int))

    def summary(self) -> str:
        return (
            f"replayed {self.replayed} (created {self.created}, commented/other {self.other}); "
            f"still failing {self.failing}; not replayable {self.not_replayable}"
        )


def run_replay(args: argparse.Namespace) -> int:
    session = aws.session()
    found = aws.resources(args.stack, os.environ, session)
    url = queue_url(args, found)
    env = functions_env(found, session.region_name)
    sqs = session.client("sqs")
    tally = ReplayTally()
    done: list[dict[str, Any]] = []  # one entry per message, for --json
    say: Callable[[str], None] = (lambda line: None) if args.json else print
    with held_messages(sqs, url, args.limit) as messages:
        letters = [read_dead_letter(message) for message in messages]
        with functions_environment(env):
            for number, letter in enumerate(letters, 1):
                prefix = f"[{number}/{len(letters)}] {letter.title or letter.message_id}"
                entry = {"messageId": letter.message_id, "title": letter.title, "function": letter.function}
                if letter.unreplayable_reason:
                    tally.not_replayable += 1
                    done.append({**entry, "outcome": "not-replayable", "why": letter.unreplayable_reason})
                    say(f"{prefix}: kept, cannot replay: {letter.unreplayable_reason}")
                elif args.dry_run:
                    done.append({**entry, "outcome": "would-replay", "kind": letter.kind, "reason": letter.reason})
                    say(f"{prefix}: would replay through {letter.function} ({letter.kind}: {letter.reason})")
                elif _replay(letter, prefix, tally, done, say):
                    with aws.aws_errors(f"delete a replayed message from {url}"):
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=letter.receipt_handle)
                    messages.remove(next(m for m in messages if m["MessageId"] == letter.message_id))
    failed = not args.dry_run and bool(tally.failing or tally.not_replayable)
    if args.json:
        print_json({"dryRun": args.dry_run, "ok": not failed, **asdict(tally), "messages": done})
    elif not letters:
        print("the dead-letter queue is empty")
    elif args.dry_run:
        print(f"dry run: {len(letters) - tally.not_replayable} would be replayed; nothing was changed")
    else:
        print(tally.summary())
    return 1 if failed else 0


def _replay(
    letter: DeadLetter, prefix: str, tally: ReplayTally, done: list[dict[str, Any]], say: Callable[[str], None]
) -> bool:
    """Run one event through its handler; True when it succeeded (the message may go)."""
    assert letter.function is not None
    entry = {"messageId": letter.message_id, "title": letter.title, "function": letter.function}
    try:
        result = load_handler(letter.function)(letter.event, LocalContext(letter.function))
    except Exception as error:  # any failure keeps the message: it is reported and the next one is tried
        tally.failing += 1
        done.append({**entry, "outcome": "still-failing", "error": f"{type(error).__name__}: {error}"})
        say(f"{prefix}: still failing, kept: {type(error).__name__}: {error}")
        return False
    tally.add(result)
    done.append({**entry, "outcome": "replayed", "result": result})
    outcome = ", ".join(f"{action} {count}" for action, count in sorted(dict(result or {}).items())) or "nothing to do"
    say(f"{prefix}: replayed through {letter.function}: {outcome}")
    return True


def functions_env(found: aws.Resources, region: str | None) -> dict[str, str | None]:
    """The functions' environment for an in-process run; no dead-letter queue, so a failure is reported, not
    parked a second time."""
    env: dict[str, str | None] = {
        **REPLAY_ENV,
        "PROVIDERS_TABLE": found.require_providers_table(),
        "STATE_TABLE": found.require_state_table(),
        "DEFAULT_NOTIFICATION_GROUP": found.default_notification_group,
        "JIRA_ALLOWED_HOSTS": ",".join(found.allowed_hosts),
        "DEAD_LETTER_QUEUE_URL": None,
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "ERROR"),
    }
    if region and not os.environ.get("AWS_DEFAULT_REGION"):
        env["AWS_DEFAULT_REGION"] = region
    return env
