"""The buffered path: SNS messages through SQS, new alerts created in bulk, partial batch failure."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from functions.sqs_to_jira.handler import lambda_handler
from tests.support.builders import TOPIC_ARN, alarm_message

QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:jira-notifier-buffer"
BULK = ("POST", "/rest/api/3/issue/bulk")


def sqs_record(message: dict[str, Any], *, message_id: str | None = None) -> dict[str, Any]:
    """An SNS notification delivered to SQS with raw delivery off (the SNS JSON in the body)."""
    body = {
        "Type": "Notification",
        "MessageId": message_id or str(uuid.uuid4()),
        "TopicArn": TOPIC_ARN,
        "Message": json.dumps(message),
        "Timestamp": "2026-11-02T09:00:01.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/x.pem",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
    }
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1793610001000"},
        "messageAttributes": {},
        "md5OfBody": "x",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "eu-west-1",
    }


def alarm(n: int, state: str = "ALARM", minutes: float = 0) -> dict[str, Any]:
    name = f"storm-alarm-{n:04d}"
    return alarm_message(state, minutes, name=name, arn=f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}")


def batch(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"Records": [sqs_record(m) for m in messages]}


def test_new_alerts_are_created_in_bulk(aws: Any, jira: Any, lambda_context: Any) -> None:
    # Given a batch of 60 new alarms
    event = batch(*(alarm(n) for n in range(60)))

    # When the batch handler runs
    response = lambda_handler(event, lambda_context)

    # Then every alarm has one issue, made in two bulk requests (50 + 10) after one metadata read
    assert response == {"batchItemFailures": []}
    assert len(jira.issues) == 60
    assert jira.requests == [("GET", "/rest/api/3/issue/createmeta/OPS/issuetypes"), BULK, BULK]
    assert len({i.fields["summary"] for i in jira.issues.values()}) == 60


def test_refused_elements_are_parked_and_the_rest_created(aws: Any, jira: Any, lambda_context: Any) -> None:
    jira.refused_summaries = {"storm-alarm-0003"}
    response = lambda_handler(batch(*(alarm(n) for n in range(5))), lambda_context)
    assert response == {"batchItemFailures": []}
    assert len(jira.issues) == 4
    [message] = aws.dead_letters()
    assert message["reason"] == "jira-rejected" and "refused by a validator" in message["error"]
    assert "storm-alarm-0003" in message["event"]["body"]


def test_lost_bulk_answer_fails_the_records_and_redelivery_adopts_the_issues(
    aws: Any, jira: Any, lambda_context: Any
) -> None:
    # Given Jira creates the issues but the bulk answer is lost
    jira.fail("POST", r"/issue/bulk$", None, after=True)
    event = batch(*(alarm(n) for n in range(3)))
    response = lambda_handler(event, lambda_context)
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(
        r["messageId"] for r in event["Records"]
    )
    # When SQS delivers the failed records again
    response = lambda_handler(event, lambda_context)
    # Then each finds its issue by label instead of creating another
    assert response == {"batchItemFailures": []}
    assert len(jira.issues) == 3
    assert jira.requests.count(BULK) == 1


def test_repeats_in_one_batch_follow_the_lifecycle(aws: Any, jira: Any, lambda_context: Any) -> None:
    # Given a batch holding a new alarm, its clear, and a second new alarm
    response = lambda_handler(batch(alarm(1), alarm(1, "OK", 1), alarm(2)), lambda_context)
    assert response == {"batchItemFailures": []}
    # Then the two new alarms were created in one bulk request, and the clear resolved the first issue
    assert jira.requests.count(BULK) == 1 and len(jira.issues) == 2
    assert jira.by_key("OPS-1").status == "Done"


@pytest.mark.parametrize("raw", [True, False], ids=["raw-delivery", "sns-envelope"])
def test_redelivered_record_has_one_effect(aws: Any, jira: Any, lambda_context: Any, raw: bool) -> None:
    record = sqs_record(alarm(7), message_id="sns-1")
    if raw:
        record["body"] = json.loads(record["body"])["Message"]
    lambda_handler({"Records": [record]}, lambda_context)
    again = {**record, "messageId": str(uuid.uuid4())}  # SQS gives a redelivery a new message id
    assert lambda_handler({"Records": [again]}, lambda_context) == {"batchItemFailures": []}
    assert len(jira.issues) == 1 and jira.by_key("OPS-1").comments == []


def test_unreadable_record_does_not_fail_the_batch(aws: Any, jira: Any, lambda_context: Any) -> None:
    event = batch(alarm(1))
    event["Records"].append({**event["Records"][0], "messageId": "broken", "body": "\x00{not json"})
    assert lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    assert len(jira.issues) == 2  # the broken body is still a readable generic issue
