"""No secret from a log or an event reaches Jira, through the handlers as Lambda calls them.

The log evidence of a new alarm issue is read from moto (DescribeMetricFilters, FilterLogEvents) and drawn into the
create request the stand-in Jira receives (every request validated against the OpenAPI spec and the ADF schema);
the secrets are generated at run time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.eventbridge_to_jira.handler import lambda_handler as eventbridge_handler
from functions.sns_to_jira.handler import lambda_handler as sns_handler
from tests.conftest import DEFAULT_PROVIDER
from tests.integration.test_alarm_insights import REGION, alarm, stack  # noqa: F401 - the fixture
from tests.support.builders import notification_event, sns_event
from tests.support.log_corpus import ALNUM, B64, SecretMaker, leaked, ordinary_lines, secret_samples

LOG_GROUP = "/aws/lambda/orders-api"
WINDOW_START = int(datetime(2026, 11, 2, 8, 59, tzinfo=UTC).timestamp() * 1000)
Events = list[tuple[str, str]]  # (log stream, message), oldest first


@pytest.fixture
def logs(stack: None, aws: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[Events], None]:  # noqa: F811
    """A stack with the log evidence on (the graph off: this is about text), and a writer of log events into a
    group whose metric filter (every event) publishes OrdersApp/ErrorCount."""
    aws.put_provider(**{**DEFAULT_PROVIDER, "graph": False})
    monkeypatch.setattr("moto.logs.models.utcnow", lambda: datetime(2026, 11, 2, 9, 5))
    client = aws.session.client("logs", region_name=REGION)
    client.create_log_group(logGroupName=LOG_GROUP)
    client.put_metric_filter(
        logGroupName=LOG_GROUP,
        filterName="everything",
        filterPattern="",
        metricTransformations=[{"metricName": "ErrorCount", "metricNamespace": "OrdersApp", "metricValue": "1"}],
    )

    def write(events: Events) -> None:
        for stream in dict.fromkeys(stream for stream, _ in events):
            client.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
        for n, (stream, message) in enumerate(events):
            client.put_log_events(
                logGroupName=LOG_GROUP,
                logStreamName=stream,
                logEvents=[{"timestamp": WINDOW_START + 1_000 * (n + 1), "message": message}],
            )

    return write


def created_description(jira: Any) -> str:
    """The description of the one create request Jira received, as JSON text."""
    [create] = [
        c for c in jira.mock.calls if c.request.method == "POST" and c.request.url.endswith("/rest/api/3/issue")
    ]
    return json.dumps(json.loads(create.request.body)["fields"]["description"], ensure_ascii=False)


def new_log_alarm_issue(jira: Any, lambda_context: Any) -> str:
    message = alarm("orders-errors", MetricName="ErrorCount", Namespace="OrdersApp", Dimensions=[], Threshold=1.0)
    assert sns_handler(sns_event(message), lambda_context) == {"created": 1}
    return created_description(jira)


def pem_block(make: SecretMaker) -> tuple[list[str], tuple[str, ...]]:
    body = tuple(make.mixed(B64, 64) for _ in range(3)) + (make.mixed(B64, 24) + "==",)
    begin, end = "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----"  # pragma: allowlist secret
    return [begin, *body, end], body


def pem_in_one_event(make: SecretMaker) -> tuple[Events, tuple[str, ...], str]:
    lines, body = pem_block(make)
    return (
        [("app", "ERROR could not load the signing key:\n" + "\n".join(lines) + "\nfalling back")],
        body,
        ("ERROR could not load the signing key: [REDACTED] falling back"),
    )


def pem_over_events(make: SecretMaker) -> tuple[Events, tuple[str, ...], str]:
    lines, body = pem_block(make)
    events = [("app", "ERROR loading the signing key")]
    for n, line in enumerate(lines):  # another stream writes between the key's lines
        events += [("app", line), ("web", f"GET /health 200 {n}")]
    return events, body, "6 lines that may hold part of a private key or other encoded data are withheld"


def json_password(make: SecretMaker) -> tuple[Events, tuple[str, ...], str]:
    phrase = make.password(spaced=True)
    line = json.dumps({"level": "ERROR", "msg": "login failed", "password": phrase, "user": "bob"})
    return [("app", line)], (phrase,), '\\"password\\": \\"[REDACTED]\\", \\"user\\": \\"bob\\"'


def authorization_token(make: SecretMaker) -> tuple[Events, tuple[str, ...], str]:
    token = make.hex(40)  # as Django REST framework's tokens are
    return [("app", f"ERROR upstream 401 Authorization: Token {token}")], (token,), "Authorization: [REDACTED]"


def github_pat(make: SecretMaker) -> tuple[Events, tuple[str, ...], str]:
    token = "github_pat_" + make.mixed(ALNUM, 22) + "_" + make.mixed(ALNUM, 59)
    return [("app", f"ERROR clone failed for {token}@github.com/acme/x")], (token,), "failed for [REDACTED]@github"


def db_pass(make: SecretMaker) -> tuple[Events, tuple[str, ...], str]:
    value = make.password(spaced=False)
    line = f"ERROR env: DB_HOST=db.internal DB_PASS={value} DB_PORT=5432"
    return [("app", line)], (value,), "DB_PASS=[REDACTED] DB_PORT=5432"


@pytest.mark.parametrize(
    "leak",
    [pem_in_one_event, pem_over_events, json_password, authorization_token, github_pat, db_pass],
    ids=["pem-in-one-event", "pem-over-events", "json-password-spaced", "authorization-token", "github-pat", "db-pass"],
)
def test_the_log_evidence_jira_receives_holds_no_secret(
    leak: Callable[[SecretMaker], tuple[Events, tuple[str, ...], str]],
    logs: Callable[[Events], None],
    jira: Any,
    lambda_context: Any,
) -> None:
    # Given log events holding a secret, behind the metric of an alarm
    events, secrets, shown_instead = leak(SecretMaker(11))
    logs(events)

    # When the alarm fires
    shown = new_log_alarm_issue(jira, lambda_context)

    # Then the create request's description shows no piece of the secret, and the evidence around it
    for secret in secrets:
        assert leaked(secret, shown) is None, leaked(secret, shown)
    assert "Log evidence" in shown and shown_instead in shown


def test_secret_and_ordinary_lines_together_reach_jira_redacted_and_readable(
    logs: Callable[[Events], None], jira: Any, lambda_context: Any
) -> None:
    samples = [s for s in secret_samples() if len(s.events) == 1][::25][:10]
    ordinary = [line for line in ordinary_lines() if "\n" not in line and len(line) < 200][::9][:10]
    events = [("app", line) for pair in zip(ordinary, (s.events[0] for s in samples), strict=True) for line in pair]
    logs(events)

    shown = new_log_alarm_issue(jira, lambda_context)

    assert "20 log events matching" in shown
    assert [s.kind for s in samples for secret in s.secrets if leaked(secret, shown)] == []
    for line in ordinary:
        assert json.dumps(" ".join(line.split()), ensure_ascii=False)[1:-1] in shown


def test_a_notification_reaches_jira_without_the_secrets_in_its_text(aws: Any, jira: Any, lambda_context: Any) -> None:
    make = SecretMaker(12)
    token = "xoxb-" + make.chars("0123456789", 12) + "-" + make.mixed(ALNUM, 24)
    password = make.password(spaced=True)  # pragma: allowlist secret
    event = notification_event(
        "firing",
        title=f"nightly export failed with {token}",
        message=f"The job printed its settings: {json.dumps({'password': password, 'bucket': 'exports'})}",
        fields={"Account": "111122223333", "SMTP password": password, "Job": "nightly-export"},
    )

    assert sns_handler(event, lambda_context) == {"created": 1}

    [create] = [c for c in jira.mock.calls if c.request.method == "POST"]
    sent = create.request.body.decode() if isinstance(create.request.body, bytes) else create.request.body
    for secret in (token, password):
        assert leaked(secret, sent) is None
    fields = json.loads(sent)["fields"]
    assert fields["summary"] == "nightly export failed with [REDACTED]"
    shown = json.dumps(fields["description"])
    assert "111122223333" in shown and "nightly-export" in shown and "exports" in shown


def test_an_unknown_eventbridge_event_reaches_jira_with_its_payload_redacted(
    aws: Any, jira: Any, lambda_context: Any
) -> None:
    make = SecretMaker(13)
    key_id = "AKIA" + make.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    secret_key = make.mixed(B64, 40)
    event = {
        "version": "0",
        "id": make.uuid(),
        "detail-type": "Deployment Failed",
        "source": "acme.deploy",
        "account": "123456789012",
        "time": "2026-11-02T09:00:00Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:codebuild:eu-west-1:123456789012:build/orders:7"],
        "detail": {
            "runId": make.uuid(),
            "environment": {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret_key},
        },
    }

    assert eventbridge_handler(event, lambda_context) == {"created": 1}

    shown = created_description(jira)
    assert leaked(key_id, shown) is None and leaked(secret_key, shown) is None
    assert event["id"] in shown and event["detail"]["runId"] in shown and event["resources"][0] in shown
