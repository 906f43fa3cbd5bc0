"""Bad input, missing configuration and Jira errors through the handler: a clear error, nothing lost."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from jira_standin.model import CLOUD_ID

from functions.sns_to_jira.handler import lambda_handler
from jira_notifier.core.errors import BusyError, ConfigError, EventParseError, JiraUnavailableError
from jira_notifier.entry import handlers
from tests.support.builders import alarm_event, sns_event
from tests.support.fake_jira import TOKEN


def parked(aws: Any) -> dict[str, Any]:
    [message] = aws.dead_letters()
    assert TOKEN not in json.dumps(message)
    return message


def test_required_field_is_named_with_the_fix(aws: Any, jira: Any, lambda_context: Any) -> None:
    # Given a project that requires a custom field the provider does not set
    jira.required_fields = {"customfield_10050": "Team is required."}
    event = alarm_event("ALARM", 0)

    # When the alarm arrives
    result = lambda_handler(event, lambda_context)

    # Then nothing is retried; the alert is parked with an actionable reason and the original event
    assert result == {"parked": 1}
    message = parked(aws)
    assert message["reason"] == "jira-rejected" and message["provider"] == "ops/jira"
    assert "customfield_10050" in message["error"] and "--field customfield_10050=" in message["error"]
    assert message["event"] == event


def test_unknown_issue_type_lists_what_the_project_has(aws: Any, jira: Any, lambda_context: Any) -> None:
    aws.put_provider(group="ops", name="jira", project="OPS", issue_type="Incident", secret="jira-notifier/ops")
    assert lambda_handler(alarm_event("ALARM", 0), lambda_context) == {"parked": 1}
    message = parked(aws)
    assert message["reason"] == "config"
    assert "no issue type 'Incident'" in message["error"] and "Bug, Task" in message["error"]
    assert jira.requests == [("GET", "/rest/api/3/issue/createmeta/OPS/issuetypes")]


def test_expired_token_is_an_auth_failure_and_the_secret_is_read_again(
    aws: Any, jira: Any, lambda_context: Any
) -> None:
    # Given a rotated token not yet in the cache: Jira answers 401
    aws.put_secret(apiToken="revoked-token-value")  # pragma: allowlist secret
    assert lambda_handler(alarm_event("ALARM", 0), lambda_context) == {"parked": 1}
    message = parked(aws)
    assert message["reason"] == "jira-auth" and "expired or revoked" in message["error"]
    assert "revoked-token-value" not in json.dumps(message)

    # When the secret is fixed, the next alert uses it at once (the cache was dropped on 401)
    aws.put_secret()
    assert lambda_handler(alarm_event("ALARM", 1), lambda_context) == {"created": 1}


@pytest.mark.parametrize(
    ("status", "headers"),
    [(429, {"Retry-After": "0", "RateLimit-Reason": "jira-burst-based"}), (503, {})],
    ids=["rate-limited", "unavailable"],
)
def test_transient_jira_errors_are_retried_then_raised_for_lambda(
    aws: Any, jira: Any, lambda_context: Any, status: int, headers: dict[str, str]
) -> None:
    # Given Jira failing every try on the metadata read (idempotent, so retried in the invocation)
    jira.fail("GET", r"/createmeta/", status, times=10, headers=headers)
    with pytest.raises(JiraUnavailableError):
        lambda_handler(alarm_event("ALARM", 0), lambda_context)
    assert jira.requests.count(("GET", "/rest/api/3/issue/createmeta/OPS/issuetypes")) == 4
    assert aws.dead_letters() == []  # Lambda's own retry (then its on-failure destination) takes over


def test_one_rate_limited_try_is_absorbed(aws: Any, jira: Any, lambda_context: Any) -> None:
    jira.fail("POST", r"/rest/api/3/issue$", 429, headers={"Retry-After": "0"})
    assert lambda_handler(alarm_event("ALARM", 0), lambda_context) == {"created": 1}
    assert jira.requests.count(("POST", "/rest/api/3/issue")) == 2 and len(jira.issues) == 1


def test_unroutable_alert_is_parked_not_retried(
    aws: Any, jira: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEFAULT_NOTIFICATION_GROUP")
    assert lambda_handler(alarm_event("ALARM", 0), lambda_context) == {"parked": 1}
    message = parked(aws)
    assert message["reason"] == "unroutable" and "jira-notifier route add" in message["error"]
    assert jira.requests == []


def test_group_without_provider_is_parked(aws: Any, jira: Any, lambda_context: Any) -> None:
    event = sns_event({"title": "x", "dedupKey": "k", "notificationGroup": "nobody"})
    assert lambda_handler(event, lambda_context) == {"parked": 1}
    assert "has no provider" in parked(aws)["error"]


@pytest.mark.parametrize(
    ("secret", "reason_text"),
    [
        ({"serverUrl": "https://169.254.169.254"}, "IP address"),
        ({"serverUrl": "http://acme.atlassian.net"}, "must use https"),
        ({"serverUrl": "https://jira.internal.example"}, "not allowed by JIRA_ALLOWED_HOSTS"),
        ({"apiToken": ""}, "missing apiToken"),
    ],
    ids=["metadata-address", "plain-http", "host-not-allowed", "no-token"],
)
def test_bad_secret_is_parked_before_any_request(
    aws: Any, jira: Any, lambda_context: Any, secret: dict[str, str], reason_text: str
) -> None:
    aws.put_secret(**secret)
    assert lambda_handler(alarm_event("ALARM", 0), lambda_context) == {"parked": 1}
    message = parked(aws)
    assert message["reason"] == "bad-secret" and reason_text in message["error"]
    assert jira.requests == []


def test_missing_secret_names_the_prefix(aws: Any, jira: Any, lambda_context: Any) -> None:
    aws.put_provider(group="ops", name="jira", project="OPS", issue_type="Task", secret="elsewhere/jira")
    assert lambda_handler(alarm_event("ALARM", 0), lambda_context) == {"parked": 1}
    assert "SecretNamePrefix" in parked(aws)["error"]


def test_missing_environment_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> None:
    monkeypatch.delenv("STATE_TABLE")
    with pytest.raises(ConfigError, match="STATE_TABLE must be set"):
        lambda_handler(alarm_event("ALARM", 0), lambda_context)


def test_malformed_message_becomes_a_readable_issue(aws: Any, jira: Any, lambda_context: Any) -> None:
    event = sns_event('{"AlarmName": "cut-short", "NewStateValue": "AL')  # truncated JSON
    assert lambda_handler(event, lambda_context) == {"created": 1}
    [issue] = jira.issues.values()
    assert "cut-short" in json.dumps(issue.fields["description"])


def test_busy_alert_is_handed_back_to_lambda(
    aws: Any, jira: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given another invocation holding the alert's lease for longer than this one may wait
    from jira_notifier.app import notify as apply

    monkeypatch.setattr(apply, "LOCK_WAIT_SECONDS", 0.0)
    lambda_handler(alarm_event("ALARM", 0), lambda_context)
    [item] = aws.state_items()
    aws.session.client("dynamodb").update_item(
        TableName="jira-notifier-state",
        Key={"pk": item["pk"]},
        UpdateExpression="SET lockOwner = :o, lockUntil = :u",
        ExpressionAttributeValues={":o": {"S": "other"}, ":u": {"N": "99999999999"}},
    )
    with pytest.raises(BusyError):
        lambda_handler(alarm_event("ALARM", 1), lambda_context)
    assert aws.dead_letters() == []


def test_rotated_token_is_picked_up_without_losing_the_alert(aws: Any, jira: Any, lambda_context: Any) -> None:
    # Given a warm container that cached the secret
    assert lambda_handler(alarm_event("ALARM", 0), lambda_context) == {"created": 1}
    # When the token is rotated in Jira and in the secret, before the cache expires
    jira.token = "rotated-token-value-456"  # pragma: allowlist secret
    aws.put_secret(apiToken="rotated-token-value-456")  # pragma: allowlist secret
    # Then the next alert's 401 drops the cache, reads the new token and succeeds in the same invocation
    other = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:other"
    assert lambda_handler(alarm_event("ALARM", 1, arn=other, name="other"), lambda_context) == {"created": 1}
    assert aws.dead_letters() == []


def test_scoped_token_sent_to_the_site_url_is_told_apart(aws: Any, jira: Any, lambda_context: Any) -> None:
    # Given a scoped token configured without its cloudId: the site answers 401, the gateway accepts it
    import responses

    aws.put_secret(apiToken="scoped-token-value-789")  # pragma: allowlist secret
    gateway = jira.mock.add(  # the site's cloudId comes from the stand-in's tenant_info
        responses.GET, f"https://api.atlassian.com/ex/jira/{CLOUD_ID}/rest/api/3/myself", json={"accountId": "x"}
    )
    # When an alarm arrives
    assert lambda_handler(alarm_event("ALARM", 0), lambda_context) == {"parked": 1}
    # Then the dead letter says exactly that, with the fix
    message = parked(aws)
    assert message["reason"] == "jira-scoped-token-on-site"
    assert "--lookup-cloud-id" in message["error"] and "scoped-token-value-789" not in json.dumps(message)
    assert gateway.call_count == 1


def test_huge_unroutable_group_is_parked_within_the_queue_limit(aws: Any, jira: Any, lambda_context: Any) -> None:
    # A 250,000-character group name would make the parked record too big for SQS if it were repeated whole
    event = alarm_event("ALARM", 0)
    event["Records"][0]["Sns"]["MessageAttributes"] = {"notificationGroup": {"Type": "String", "Value": "\\" * 250_000}}
    assert lambda_handler(event, lambda_context) == {"parked": 1}
    sqs = aws.session.client("sqs")
    [raw] = sqs.receive_message(QueueUrl=aws.dead_letter_queue_url)["Messages"]
    assert len(raw["Body"].encode()) < 256 * 1024
    message = json.loads(raw["Body"])
    assert message["reason"] == "unroutable" and "eventTruncated" in message


def test_a_failed_alert_leaves_no_keys_on_the_next_invocations_logs(
    aws: Any, jira: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jira_notifier.adapters.observability import logger

    output = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", output)

    def logged() -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in output.getvalue().splitlines()]
        output.seek(0)
        output.truncate()
        return lines

    # Given an alert whose invocation fails (Jira unavailable), in a warm container
    jira.fail("POST", r"/rest/api/3/issue$", 503)
    with pytest.raises(JiraUnavailableError):
        lambda_handler(alarm_event("ALARM", 0), lambda_context)
    assert any("dedupe_key" in line for line in logged())

    # When the next invocation's event cannot be read at all (it is parked before any alert is known)
    def unreadable(event: Any) -> Any:
        raise EventParseError("event could not be read")

    monkeypatch.setattr(handlers, "read_sns", unreadable)
    assert lambda_handler(sns_event("x"), lambda_context) == {"parked": 1}

    # Then its log lines carry none of the previous alert's keys
    lines = logged()
    assert lines and not any("dedupe_key" in line or "source" in line for line in lines)
