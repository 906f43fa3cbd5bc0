"""The Jira webhook receiver through its handler as a Lambda function URL calls it: signed deliveries record what
people did; forged, replayed, truncated, oversized, non-JSON and wrong-content-type requests change nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.jira_webhook.handler import lambda_handler
from jira_notifier.core.state import IssueState, IssueStatus, PersonDecision, state_from_item
from jira_notifier.entry import wiring
from jira_notifier.entry.webhook import MAX_BODY_BYTES, sign
from tests.integration.test_lifecycle import NONE, Run, run  # noqa: F401 - run is a fixture
from tests.support.builders import alarm_event, function_url_event

SECRET_NAME = "jira-notifier-stack-JiraWebhookSecret"  # a name  # pragma: allowlist secret
SHARED = b"kJ3v9Qm2Xw7Lr5Tz8Np4Hs6Dc1Fg0Yb2Ue7Ai9Ko3"  # a test double  # pragma: allowlist secret


@dataclass
class Webhook:
    run: Run
    aws: Any
    context: Any
    deliveries: int = 0

    def send(
        self,
        body: bytes,
        *,
        signature: str | None = None,
        delivery: str | None = None,
        content_type: str = "application/json; charset=utf-8",
        as_base64: bool = False,
        method: str = "POST",
        headers: dict[str, str] | None = None,
        after: float = 60.0,
    ) -> tuple[int, str, list[tuple[str, str]]]:
        """Deliver a request ``after`` seconds after the previous step; the status, result and Jira requests."""
        self.run.clock.now += after
        self.deliveries += 1
        receiver = wiring.get_webhook_receiver()
        clock = self.run.clock
        receiver.clock = receiver.owned.clock = clock.time
        receiver.leases.clock = clock.time  # type: ignore[attr-defined]
        sent = {
            "content-type": content_type,
            "x-hub-signature": signature if signature is not None else sign(SHARED, body),
            "x-atlassian-webhook-identifier": delivery or f"delivery-{self.deliveries}",
            "user-agent": "Atlassian Webhook HTTP Client",
            **(headers or {}),
        }
        event = function_url_event(body, sent, as_base64=as_base64, method=method)
        answer = lambda_handler(event, self.context)
        requests = self.run.jira.requests[self.run.seen :]
        self.run.seen = len(self.run.jira.requests)
        return answer["statusCode"], json.loads(answer["body"])["result"], requests

    def send_payload(self, payload: Any, **options: Any) -> tuple[int, str, list[tuple[str, str]]]:
        return self.send(json.dumps(payload).encode(), **options)

    def state(self) -> IssueState:
        [state] = [state_from_item(i["pk"]["S"], i) for i in self.aws.state_items() if i.get("issueKey")]
        return state


@pytest.fixture
def webhook(run: Run, aws: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch) -> Webhook:  # noqa: F811
    aws.session.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=SHARED.decode())
    monkeypatch.setenv("WEBHOOK_SECRET_NAME", SECRET_NAME)
    return Webhook(run, aws, lambda_context)


@pytest.fixture
def firing(run: Run, webhook: Webhook, jira: Any) -> Any:  # noqa: F811
    """An open issue whose alarm fires; half a minute later, people may act on it."""
    run(alarm_event("ALARM", 0, message_id="m-1"))
    run.clock.now += 30
    return jira.by_key("OPS-1")


def test_a_signed_delivery_records_what_a_person_did_and_the_lifecycle_honours_it(
    run: Run,  # noqa: F811
    webhook: Webhook,
    jira: Any,
    firing: Any,
) -> None:
    jira.resolve_by_hand("OPS-1", "Done")

    status, result, cost = webhook.send_payload(jira.webhook_payload(firing))

    assert (status, result, cost) == (200, "recorded", [])
    assert webhook.state().person_decision is PersonDecision.RESOLVED
    result_of_firing, cost = run(alarm_event("ALARM", 5, message_id="m-2", reason="still"))
    assert result_of_firing == {"commented": 1} and cost == [("POST", "/rest/api/3/issue/OPS-1/comment")]


def test_a_base64_encoded_body_is_verified_on_its_decoded_bytes(webhook: Webhook, jira: Any, firing: Any) -> None:
    jira.resolve_by_hand("OPS-1", "Won't Do")

    assert webhook.send_payload(jira.webhook_payload(firing), as_base64=True)[:2] == (200, "recorded")
    assert webhook.state().person_decision is PersonDecision.WONT_FIX


def test_a_deletion_is_recorded(webhook: Webhook, jira: Any, firing: Any) -> None:
    payload = jira.webhook_payload(firing, "jira:issue_deleted")
    jira.delete_by_hand("OPS-1")

    assert webhook.send_payload(payload)[:2] == (200, "recorded")
    state = webhook.state()
    assert state.issue_status is IssueStatus.NONE and state.person_decision is PersonDecision.DELETED


def test_a_replayed_delivery_changes_nothing(webhook: Webhook, jira: Any, firing: Any) -> None:
    jira.resolve_by_hand("OPS-1", "Done")
    resolved = jira.webhook_payload(firing)
    assert webhook.send_payload(resolved, delivery="d-1")[:2] == (200, "recorded")
    jira.reopen_by_hand("OPS-1")
    assert webhook.send_payload(jira.webhook_payload(firing), delivery="d-2")[:2] == (200, "recorded")

    # The first delivery again (Jira retrying, or someone replaying it): no effect
    assert webhook.send_payload(resolved, delivery="d-1") == (200, "duplicate", NONE)
    assert webhook.state().issue_status is IssueStatus.OPEN


def test_a_late_delivery_older_than_the_products_own_write_is_checked_by_id(
    run: Run,  # noqa: F811
    webhook: Webhook,
    jira: Any,
    firing: Any,
) -> None:
    run(alarm_event("OK", 1, message_id="m-2"))
    resolved = jira.webhook_payload(firing)
    run(alarm_event("ALARM", 2, message_id="m-3"))  # reopened by the product after that delivery was raised

    status, result, cost = webhook.send_payload(resolved)

    assert (status, result) == (200, "unchanged") and cost == [("GET", "/rest/api/3/issue/10001")]
    assert webhook.state().issue_status is IssueStatus.OPEN and webhook.state().person_decision is None


@pytest.mark.parametrize(
    "payload",
    [
        {"webhookEvent": "jira:issue_updated", "timestamp": 1, "issue": {"id": "99999", "key": "OPS-99", "fields": {}}},
        {"webhookEvent": "comment_created", "comment": {"id": "1"}},
        {"webhookEvent": "jira:issue_updated", "issue": {"key": "OPS-1"}},
        [],
    ],
    ids=["not-owned", "other-event", "no-issue-id", "not-an-object"],
)
def test_what_the_product_does_not_own_is_ignored(webhook: Webhook, firing: Any, aws: Any, payload: Any) -> None:
    before = aws.state_items()

    assert webhook.send_payload(payload) == (200, "ignored", NONE)
    assert aws.state_items() == before


def test_an_older_issue_of_the_same_alert_is_not_the_one_the_state_follows(
    webhook: Webhook, jira: Any, firing: Any, aws: Any
) -> None:
    older = jira._new_issue({"summary": "an earlier episode", "labels": firing.labels})
    jira.resolve_by_hand(older.key, "Done")
    before = aws.state_items()

    assert webhook.send_payload(jira.webhook_payload(older)) == (200, "ignored", NONE)
    assert aws.state_items() == before


def _signed_elsewhere(body: bytes) -> dict[str, Any]:
    return {"signature": sign(b"another secret", body)}


REFUSALS = {
    "no-signature": (lambda body: {"signature": ""}, 401, "bad-signature"),
    "wrong-secret": (_signed_elsewhere, 401, "bad-signature"),
    "sha1-format": (lambda body: {"signature": "sha1=" + sign(SHARED, body)[7:]}, 401, "bad-signature"),
    "wrong-content-type": (lambda body: {"content_type": "text/plain"}, 400, "not-json-content-type"),
    "form-content-type": (
        lambda body: {"content_type": "application/x-www-form-urlencoded"},
        400,
        "not-json-content-type",
    ),
    "get": (lambda body: {"method": "GET"}, 405, "method-not-allowed"),
    "no-delivery-identifier": (lambda body: {"delivery": " "}, 400, "no-delivery-identifier"),
}


@pytest.mark.parametrize(("change", "status", "result"), REFUSALS.values(), ids=list(REFUSALS))
def test_a_request_that_fails_a_check_changes_nothing(
    webhook: Webhook, jira: Any, firing: Any, aws: Any, change: Any, status: int, result: str
) -> None:
    jira.resolve_by_hand("OPS-1", "Done")
    body = json.dumps(jira.webhook_payload(firing)).encode()
    before = aws.state_items()

    assert webhook.send(body, **change(body)) == (status, result, NONE)
    assert aws.state_items() == before


def test_truncated_oversized_and_non_json_bodies_change_nothing(
    webhook: Webhook, jira: Any, firing: Any, aws: Any
) -> None:
    jira.resolve_by_hand("OPS-1", "Done")
    body = json.dumps(jira.webhook_payload(firing)).encode()
    before = aws.state_items()

    # Cut off in transit, with the whole body's signature
    assert webhook.send(body[: len(body) // 2], signature=sign(SHARED, body))[:2] == (401, "bad-signature")
    # Over the limit, even when signed
    huge = body + b" " * MAX_BODY_BYTES
    assert webhook.send(huge)[:2] == (413, "too-large")
    assert webhook.send(huge, as_base64=True)[:2] == (413, "too-large")
    # Signed, but not JSON
    assert webhook.send(b"issue=10001&status=done")[:2] == (400, "not-json")
    assert webhook.send(b"\xff\xfe{}", as_base64=True)[:2] == (400, "not-json")
    # Said to be base64, and is not
    event = function_url_event(b"", {"content-type": "application/json"}, as_base64=True, method="POST")
    event["body"] = "not base64!"
    answer = lambda_handler(event, webhook.context)
    assert (answer["statusCode"], json.loads(answer["body"])) == (400, {"result": "body-not-base64"})
    assert aws.state_items() == before and webhook.state().person_decision is None


def test_the_shared_secret_never_reaches_the_logs(
    webhook: Webhook, jira: Any, firing: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    jira.resolve_by_hand("OPS-1", "Done")
    body = json.dumps(jira.webhook_payload(firing)).encode()
    webhook.send(body)
    webhook.send(body, signature=sign(b"forged", body))

    logged = capsys.readouterr()
    assert SHARED.decode() not in logged.out + logged.err
    assert sign(SHARED, body) not in logged.out + logged.err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=2048),
        st.text(max_size=512).map(str.encode),
        st.builds(
            lambda event, issue_id, status: json.dumps(
                {"webhookEvent": event, "issue": {"id": issue_id, "key": "OPS-1", "fields": {"status": status}}}
            ).encode(),
            st.sampled_from(["jira:issue_updated", "jira:issue_deleted", "x"]),
            st.sampled_from(["10001", "1", "", "10001 "]),
            st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
        ),
    ),
    signature=st.one_of(
        st.none(),
        st.text(max_size=80),
        st.binary(min_size=32, max_size=32).map(lambda raw: "sha256=" + raw.hex()),
    ),
    content_type=st.sampled_from(["application/json", "text/plain", "", "application/jsonp", "multipart/form-data"]),
    as_base64=st.booleans(),
)
def test_hostile_requests_never_change_the_state_or_reach_jira(
    webhook: Webhook,
    firing: Any,
    aws: Any,
    body: bytes,
    signature: str | None,
    content_type: str,
    as_base64: bool,
) -> None:
    """Forged (no key, a guessed or random signature), of any body, content type and encoding."""
    before = aws.state_items()
    forged = "" if signature is None else signature

    status, _, cost = webhook.send(
        body,
        signature=forged,
        content_type=content_type,
        as_base64=as_base64 or not _is_text(body),
        after=0,
    )

    assert status in (400, 401, 413) and cost == NONE
    assert aws.state_items() == before


def _is_text(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
