"""No leaks: over every scenario of the suite, the Jira token and the basic-auth header appear nowhere.

Everything an operator could ever see is captured: log records (the product's at DEBUG, every library's at
INFO, as Lambda would ship them), the metrics flushed to stdout, errors as Lambda reports them (message and
stack trace, with their causes), warnings, handler results, and the dead-letter records with their attributes.
(botocore itself prints response bodies, secret values included, at DEBUG; that is outside the product.)
"""

from __future__ import annotations

import base64
import json
import logging
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from functions.sns_to_jira.handler import lambda_handler as sns_handler
from functions.sqs_to_jira.handler import lambda_handler as sqs_handler
from jira_notifier.adapters.observability import logger as product_logger
from jira_notifier.entry import wiring
from tests.support.builders import alarm_event, notification_event, sns_event
from tests.support.clocks import on_clock
from tests.support.fake_jira import EMAIL, TOKEN

WRONG_TOKEN = "stale-token-fedcba9876543210"  # a rotated-out token: must not leak either


def secrets_of(token: str) -> list[str]:
    credentials = base64.b64encode(f"{EMAIL}:{token}".encode()).decode()
    return [token, credentials, f"Basic {credentials}"]


NEEDLES = secrets_of(TOKEN) + secrets_of(WRONG_TOKEN)


@dataclass
class Capture:
    """What one scenario let an operator see, by channel."""

    seen: list[tuple[str, str, str]] = field(default_factory=list)  # (scenario, channel, text)
    records: list[logging.LogRecord] = field(default_factory=list)

    def add(self, scenario: str, channel: str, text: str) -> None:
        if text:
            self.seen.append((scenario, channel, text))

    def text(self, channel: str) -> str:
        return "\n".join(text for _, where, text in self.seen if where == channel)

    def leaks(self) -> list[tuple[str, str, str]]:
        found = []
        for scenario, channel, text in self.seen:
            for needle in NEEDLES:
                if needle in text:
                    at = text.index(needle)
                    found.append((scenario, channel, text[max(0, at - 80) : at + len(needle) + 20]))
        return found


class _Keep(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def capture() -> Iterator[Capture]:
    found = Capture()
    keep = _Keep(found.records)
    keep.setFormatter(product_logger.registered_formatter)
    root = logging.getLogger()
    levels = (root.level, product_logger.log_level)
    root.addHandler(keep)
    root.setLevel(logging.INFO)
    product_logger.setLevel(logging.DEBUG)
    try:
        yield found
    finally:
        root.removeHandler(keep)
        root.setLevel(levels[0])
        product_logger.setLevel(levels[1])


@dataclass
class Scenarios:
    aws: Any
    jira: Any
    context: Any
    capture: Capture
    capsys: pytest.CaptureFixture[str]
    now: float = 1_800_000_000.0

    def deliver(self, scenario: str, handler: Callable[[Any, Any], Any], function: str, event: Any) -> None:
        """One invocation; whatever it shows an operator is kept under ``scenario``."""
        self.now += 120
        notifier = wiring.get_notifier(function)
        on_clock(notifier, (lambda: self.now), (lambda seconds: None))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self.capture.add(scenario, "result", repr(handler(event, self.context)))
            except Exception as error:  # Lambda reports the message and stack trace of what escapes
                self.capture.add(scenario, "error", "".join(traceback.format_exception(error)))
                self.capture.add(scenario, "error", repr(vars(error)))
        self.capture.add(scenario, "warnings", "\n".join(str(w.message) for w in caught))
        out, err = self.capsys.readouterr()
        self.capture.add(scenario, "stdout (metrics)", out)
        self.capture.add(scenario, "stderr", err)
        self.capture.add(scenario, "logs", "\n".join(map(_formatted, self.capture.records)))
        self.capture.records.clear()
        self.capture.add(scenario, "dead letters", self._drain())

    def use_secret(self, **fields: Any) -> None:
        self.aws.put_secret(**fields)
        for function in ("sns", "sqs"):
            wiring.get_notifier(function).deps.secrets.forget()

    def use_secret_string(self, text: str) -> None:
        self.aws.session.client("secretsmanager").put_secret_value(SecretId="jira-notifier/ops", SecretString=text)
        for function in ("sns", "sqs"):
            wiring.get_notifier(function).deps.secrets.forget()

    def _drain(self) -> str:
        sqs = self.aws.session.client("sqs")
        bodies = []
        while messages := sqs.receive_message(
            QueueUrl=self.aws.dead_letter_queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            for message in messages:
                bodies.append(message["Body"] + json.dumps(message.get("MessageAttributes", {})))
                sqs.delete_message(QueueUrl=self.aws.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])
        return "\n".join(bodies)


def _formatted(record: logging.LogRecord) -> str:
    try:
        return product_logger.registered_formatter.format(record)
    except Exception:  # a record the JSON formatter cannot take: keep its raw parts
        return f"{record.getMessage()} {record.args!r} {record.__dict__!r}"


def _text(body: bytes | str | None) -> str:
    return body.decode() if isinstance(body, bytes) else body or ""


def _sqs_event(bodies: list[str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{n}",
                "receiptHandle": f"h-{n}",
                "body": body,
                "attributes": {"SentTimestamp": "1"},
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jira-notifier-buffer",
                "awsRegion": "us-east-1",
            }
            for n, body in enumerate(bodies)
        ]
    }


def run_all(s: Scenarios) -> None:
    jira = s.jira
    # The whole lifecycle
    for step, event in enumerate(
        [
            alarm_event("ALARM", 0),
            alarm_event("ALARM", 5, reason="worse"),
            alarm_event("OK", 10),
            alarm_event("ALARM", 20),
        ]
    ):
        s.deliver(f"lifecycle-{step}", sns_handler, "sns", event)
    # Jira refuses, limits, fails and times out
    jira.fail("POST", r"/rest/api/3/issue$", 403, body={"errorMessages": ["You do not have permission"], "errors": {}})
    s.deliver("forbidden", sns_handler, "sns", notification_event("firing", dedup_key="forbidden"))
    required = {"errorMessages": [], "errors": {"customfield_1": "is required"}}
    jira.fail("POST", r"/rest/api/3/issue$", 400, body=required)
    s.deliver("field-required", sns_handler, "sns", notification_event("firing", dedup_key="required"))
    jira.fail(
        "POST",
        r"/rest/api/3/issue$",
        429,
        times=4,
        headers={"Retry-After": "0", "RateLimit-Reason": "jira-burst-based"},
    )
    s.deliver("rate-limited", sns_handler, "sns", notification_event("firing", dedup_key="limited"))
    jira.fail("POST", r"/rest/api/3/issue$", 503)
    s.deliver("unavailable", sns_handler, "sns", notification_event("firing", dedup_key="down"))
    s.deliver("recovered-after-503", sns_handler, "sns", notification_event("firing", dedup_key="down"))
    jira.fail("POST", r"/rest/api/3/issue$", None, after=True)
    s.deliver("timeout", sns_handler, "sns", notification_event("firing", dedup_key="slow"))
    s.deliver("recovered-after-timeout", sns_handler, "sns", notification_event("firing", dedup_key="slow"))
    jira.fail("POST", r"/rest/api/3/issue/[^/]+/comment", 302, headers={"Location": "https://evil.example/"})
    s.deliver("redirect", sns_handler, "sns", alarm_event("ALARM", 30, reason="again"))
    # The buffered path: bulk create after a 429, with a record that cannot be routed
    jira.fail("POST", r"/rest/api/3/issue/bulk", 429, headers={"Retry-After": "0"})
    s.deliver(
        "sqs-bulk",
        sqs_handler,
        "sqs",
        _sqs_event(
            [json.dumps({"dedupKey": f"q-{n}", "title": "queued"}) for n in range(3)]
            + [json.dumps({"dedupKey": "q-x", "title": "t", "notificationGroup": "nope"})]
        ),
    )
    # Credentials Jira rejects: a rotated-out token
    s.use_secret(apiToken=WRONG_TOKEN)
    s.deliver("wrong-token", sns_handler, "sns", notification_event("firing", dedup_key="wrong-token"))
    s.deliver("wrong-token-sqs", sqs_handler, "sqs", _sqs_event([json.dumps({"dedupKey": "q-w", "title": "t"})]))
    # Secrets that are not usable, holding the token all the same
    s.use_secret_string(TOKEN)
    s.deliver("secret-is-the-bare-token", sns_handler, "sns", notification_event("firing", dedup_key="bare"))
    s.use_secret(serverUrl="https://example.atlassian.net.evil.example")
    s.deliver("host-not-allowed", sns_handler, "sns", notification_event("firing", dedup_key="host"))
    s.use_secret(serverUrl=f"https://{EMAIL.split('@')[0]}:{TOKEN}@example.atlassian.net")
    s.deliver("credentials-in-server-url", sns_handler, "sns", notification_event("firing", dedup_key="userinfo"))
    s.use_secret(expiresAt=TOKEN)
    s.deliver("token-in-the-wrong-field", sns_handler, "sns", notification_event("firing", dedup_key="field"))
    s.use_secret()
    s.deliver("unreadable-event", sns_handler, "sns", sns_event("{" * 50))


def test_neither_the_token_nor_the_auth_header_is_ever_shown(
    aws: Any, jira: Any, lambda_context: Any, capture: Capture, capsys: Any
) -> None:
    run_all(Scenarios(aws, jira, lambda_context, capture, capsys))

    # The capture did see what an operator sees (so an empty leak list means something)
    assert "alert handled" in capture.text("logs") and "IssuesCreated" in capture.text("stdout (metrics)")
    assert "jira-auth" in capture.text("dead letters") and "bad-secret" in capture.text("dead letters")
    assert "JiraUnavailableError" in capture.text("error")
    # And the token travelled to Jira in the header, and nowhere else
    sent = [call.request for call in jira.mock.calls]
    assert any(request.headers.get("Authorization") == secrets_of(TOKEN)[2] for request in sent)
    assert not any(TOKEN in _text(request.body) or TOKEN in request.url for request in sent)
    leaks = capture.leaks()
    assert leaks == [], "\n".join(f"{scenario} / {channel}: …{excerpt}…" for scenario, channel, excerpt in leaks)
