from __future__ import annotations

import json
from typing import Any

import pytest

from jira_notifier.adapters.aws.deadletters import parked_message
from jira_notifier.core.errors import RoutingError
from tests.cli.conftest import SECRET_NAME, provider
from tests.support.builders import alerts_in
from tests.support.fake_jira import EMAIL, SITE, TOKEN, FakeJira
from tests.support.jira_spec import validate_calls


def sns_event(message_id: str, group: str = "ops", dedup: str = "anomaly-7f3c") -> dict[str, Any]:
    notification = {"notificationGroup": group, "title": f"EC2 spend anomaly ({dedup})", "message": "Spend rose.",
                    "severity": "high", "status": "firing", "dedupKey": dedup}  # fmt: skip
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:alerts:5d1c",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
                    "Subject": None,
                    "Message": json.dumps(notification),
                    "Timestamp": "2026-05-01T10:00:00.000Z",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def parked(event: dict[str, Any]) -> dict[str, Any]:
    """A record as the functions park it (built by the same code)."""
    error = RoutingError("notification group 'ops' has no provider; add one with 'jira-notifier provider add'")
    return parked_message(event=event, error=error, alert=alerts_in(event)[0], provider=None, function="sns")


def lambda_failure(event: dict[str, Any]) -> dict[str, Any]:
    """An on-failure destination record after Lambda gave up retrying an asynchronous invocation."""
    return {
        "version": "1.0",
        "timestamp": "2026-05-01T10:07:12.345Z",
        "requestContext": {
            "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:alerts-SnsToJiraFunction-x1:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {
            "errorMessage": "Jira answered 503 (temporarily unavailable)",
            "errorType": "JiraUnavailableError",
        },  # fmt: skip
    }


def truncated(record: dict[str, Any]) -> dict[str, Any]:
    """A parked record whose event was over the size SQS takes: only its beginning is kept."""
    text = json.dumps(record.pop("event"))
    return {**record, "eventTruncated": text[:40]}


@pytest.fixture
def jira(cloud, jira_api) -> FakeJira:
    """The provider ops/jira, its secret, and a stateful stand-in Jira behind it."""
    cloud.secretsmanager.create_secret(
        Name=SECRET_NAME,
        SecretString=json.dumps({"type": "jira-token", "email": EMAIL, "apiToken": TOKEN, "serverUrl": SITE}),
    )
    cloud.put_provider(provider())
    return FakeJira(jira_api)


def test_list_shows_both_kinds_and_leaves_them_in_the_queue(cli, cloud):
    cloud.send(parked(sns_event("m-1")))
    cloud.send(lambda_failure(sns_event("m-2", dedup="budget-9")))

    result = cli("dlq", "list")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["#", "WHEN", "KIND", "REASON", "FUNCTION", "TITLE"]
    rows = sorted(lines[1:3], key=lambda line: "lambda-failure" in line)
    assert rows[0].split()[2:5] == ["parked", "unroutable", "sns"] and "EC2 spend anomaly (anomaly-7f3c)" in rows[0]
    assert rows[1].split()[1:5] == ["2026-05-01T10:07:12.345Z", "lambda-failure", "RetriesExhausted", "sns"]
    assert "EC2 spend anomaly (budget-9)" in rows[1]
    assert "JiraUnavailableError: Jira answered 503 (temporarily unavailable)" in result.out
    assert "notification group 'ops' has no provider" in result.out
    assert len(cloud.queued()) == 2  # visible again at once


def test_list_json(cli, cloud):
    event = sns_event("m-1")
    cloud.send(lambda_failure(event))

    [listed] = json.loads(cli("dlq", "list", "--json").out)

    assert listed["kind"] == "lambda-failure" and listed["reason"] == "RetriesExhausted"
    assert listed["function"] == "sns" and listed["event"] == event
    assert listed["error"] == "JiraUnavailableError: Jira answered 503 (temporarily unavailable)"


def test_list_of_an_empty_queue(cli, cloud):
    assert cli("dlq", "list").out == "the dead-letter queue is empty\n"
    assert json.loads(cli("dlq", "list", "--json").out) == []


def test_a_queue_must_be_named(cli, cloud, monkeypatch):
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL")

    result = cli("dlq", "list")

    assert result.code == 1
    assert "pass --queue-url URL or --stack NAME, or set DEAD_LETTER_QUEUE_URL" in result.err


def test_replay_creates_the_issue_once_and_empties_the_queue(cli, cloud, jira):
    # Given the same alert twice: parked by the function, and again as Lambda's failure record
    event = sns_event("m-1")
    cloud.send(parked(event))
    cloud.send(lambda_failure(event))
    # When
    result = cli("dlq", "replay")
    # Then: one issue, both messages gone
    assert result.code == 0, result.out
    assert [path for method, path in jira.writes()] == ["/rest/api/3/issue"]
    assert "replayed 2 (created 1, commented/other 1); still failing 0; not replayable 0" in result.out
    assert "[1/2] EC2 spend anomaly (anomaly-7f3c): replayed through sns" in result.out
    assert cloud.queued() == []
    validate_calls(jira.mock.calls)


def test_a_second_replay_does_not_create_a_second_issue(cli, cloud, jira):
    event = sns_event("m-1")
    cloud.send(parked(event))
    cli("dlq", "replay")
    cloud.send(parked(event))  # parked again, e.g. by an earlier failure seen late

    result = cli("dlq", "replay")

    assert result.code == 0
    assert "replayed 1 (created 0, commented/other 1)" in result.out
    assert [path for method, path in jira.writes()] == ["/rest/api/3/issue"]
    assert len(jira.issues) == 1


def test_replay_keeps_what_still_fails_and_does_not_park_it_twice(cli, cloud, jira):
    cloud.send(parked(sns_event("m-1", group="nobody")))

    result = cli("dlq", "replay")

    assert result.code == 1
    assert "still failing, kept: RoutingError: notification group 'nobody' has no provider" in result.out
    assert "replayed 0 (created 0, commented/other 0); still failing 1" in result.out
    [kept] = cloud.queued()
    assert kept["format"] == "jira-notifier/parked@1" and kept["title"] == "EC2 spend anomaly (anomaly-7f3c)"
    assert jira.requests == []


def test_replay_dry_run_changes_nothing(cli, cloud, jira):
    cloud.send(lambda_failure(sns_event("m-1")))

    result = cli("dlq", "replay", "--dry-run")

    assert result.code == 0
    assert "would replay through sns (lambda-failure: RetriesExhausted)" in result.out
    assert "dry run: 1 would be replayed; nothing was changed" in result.out
    assert jira.requests == [] and len(cloud.queued()) == 1


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"hello": "world"}, "not a jira-notifier record"),
        (truncated(parked(sns_event("m-1"))), "the event was too large to keep whole"),
    ],
    ids=["foreign-message", "truncated-event"],
)
def test_replay_keeps_what_cannot_be_replayed(cli, cloud, jira, body, why):
    cloud.send(body)

    result = cli("dlq", "replay")

    assert result.code == 1
    assert f"kept, cannot replay: {why}" in result.out
    assert "not replayable 1" in result.out
    assert len(cloud.queued()) == 1


def test_replay_honours_the_limit(cli, cloud, jira):
    for number in range(3):
        cloud.send(parked(sns_event(f"m-{number}", dedup=f"key-{number}")))

    result = cli("dlq", "replay", "--limit", "2")

    assert result.code == 0
    assert "replayed 2 (created 2" in result.out
    assert len(cloud.queued()) == 1
