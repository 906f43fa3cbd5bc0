"""The Jira webhook receiver through its handler as a Lambda function URL calls it: signed, fresh deliveries about an
issue the product owns on the site it was sent from record what people did, as a read of the issue from that site
confirms it; forged, replayed, stale, foreign, truncated, oversized, non-JSON and wrong-content-type requests change
nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.jira_webhook.handler import lambda_handler
from jira_notifier.adapters.dynamodb.state import state_from_item
from jira_notifier.core.state import IssueState, IssueStatus, PersonDecision
from jira_notifier.entry import wiring
from jira_notifier.entry.webhook import MAX_AGE_SECONDS, MAX_AHEAD_SECONDS, MAX_BODY_BYTES, sign
from tests.conftest import DEFAULT_PROVIDER
from tests.integration.test_lifecycle import NONE, Run, run  # noqa: F401 - run is a fixture
from tests.support.builders import alarm_event, function_url_event
from tests.support.emf import metrics_emitted
from tests.support.fake_jira import SITE, FakeJira

SECRET_NAME = "jira-notifier-stack-JiraWebhookSecret"  # a name  # pragma: allowlist secret
SHARED = b"kJ3v9Qm2Xw7Lr5Tz8Np4Hs6Dc1Fg0Yb2Ue7Ai9Ko3"  # a test double  # pragma: allowlist secret
READ = [("GET", "/rest/api/3/issue/10001")]  # the confirming read of the issue by id
OTHER_SITE = "https://other.atlassian.net"
CLOUD_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
GATEWAY = f"https://api.atlassian.com/ex/jira/{CLOUD_ID}"


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

    def state(self, provider: str = "ops/jira") -> IssueState:
        [state] = [
            state_from_item(i["pk"]["S"], i)
            for i in self.aws.state_items()
            if i.get("issueKey") and i["provider"]["S"] == provider
        ]
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

    # Confirmed by one read of the issue by id, on the provider's own site
    assert (status, result, cost) == (200, "recorded", READ)
    assert jira.headers_of("GET", "/rest/api/3/issue/10001")[0]["Authorization"].startswith("Basic ")
    assert webhook.state().person_decision is PersonDecision.RESOLVED
    result_of_firing, cost = run(alarm_event("ALARM", 5, message_id="m-2", reason="still", previous="ALARM"))
    assert result_of_firing == {"commented": 1} and cost == [("POST", "/rest/api/3/issue/OPS-1/comment")]


def test_a_base64_encoded_body_is_verified_on_its_decoded_bytes(webhook: Webhook, jira: Any, firing: Any) -> None:
    jira.resolve_by_hand("OPS-1", "Won't Do")

    assert webhook.send_payload(jira.webhook_payload(firing), as_base64=True) == (200, "recorded", READ)
    assert webhook.state().person_decision is PersonDecision.WONT_FIX


def test_a_deletion_is_recorded(webhook: Webhook, jira: Any, firing: Any) -> None:
    payload = jira.webhook_payload(firing, "jira:issue_deleted")
    jira.delete_by_hand("OPS-1")

    assert webhook.send_payload(payload) == (200, "recorded", READ)  # Jira answers 404
    state = webhook.state()
    assert state.issue_status is IssueStatus.NONE and state.person_decision is PersonDecision.DELETED


def test_a_reopen_of_an_issue_the_product_resolved_is_recorded(
    run: Run,  # noqa: F811
    webhook: Webhook,
    jira: Any,
    firing: Any,
) -> None:
    run(alarm_event("OK", 1, message_id="m-2"))
    jira.reopen_by_hand("OPS-1")

    assert webhook.send_payload(jira.webhook_payload(firing), after=5) == (200, "recorded", READ)
    state = webhook.state()
    assert state.issue_status is IssueStatus.OPEN and state.person_decision is PersonDecision.REOPENED


def test_what_jira_says_now_is_recorded_not_what_the_body_says(webhook: Webhook, jira: Any, firing: Any) -> None:
    # A person resolves as Done, then, before that delivery arrives, changes their mind to Won't Do
    jira.resolve_by_hand("OPS-1", "Done")
    done = jira.webhook_payload(firing)
    jira.reopen_by_hand("OPS-1")
    jira.resolve_by_hand("OPS-1", "Won't Do")

    assert webhook.send_payload(done) == (200, "recorded", READ)
    state = webhook.state()
    assert state.person_decision is PersonDecision.WONT_FIX and state.person_resolution == "Won't Do"


def test_a_late_body_jira_no_longer_agrees_with_records_nothing(
    run: Run,  # noqa: F811
    webhook: Webhook,
    jira: Any,
    firing: Any,
) -> None:
    # A won't-fix delivery Jira retries twenty minutes later, after the person reopened the issue
    jira.resolve_by_hand("OPS-1", "Won't Do")
    wont_fix = jira.webhook_payload(firing)
    jira.reopen_by_hand("OPS-1")

    assert webhook.send_payload(wont_fix, after=20 * 60) == (200, "unchanged", READ)
    assert webhook.state().issue_status is IssueStatus.OPEN and webhook.state().person_decision is None
    # so the clear resolves the issue
    result, _ = run(alarm_event("OK", 30, message_id="m-2"), after=1)
    assert result == {"resolved": 1} and jira.by_key("OPS-1").status == "Done"


def test_a_deletion_jira_does_not_confirm_records_nothing(webhook: Webhook, jira: Any, firing: Any) -> None:
    deleted = jira.webhook_payload(firing, "jira:issue_deleted")  # signed, but the issue is still there

    assert webhook.send_payload(deleted) == (200, "unchanged", READ)
    assert webhook.state().issue_status is IssueStatus.OPEN and webhook.state().person_decision is None


def test_a_delivery_that_would_change_nothing_costs_no_request(webhook: Webhook, jira: Any, firing: Any) -> None:
    jira.set_priority_by_hand("OPS-1", "Low")  # an update the product has nothing to record for

    assert webhook.send_payload(jira.webhook_payload(firing)) == (200, "unchanged", NONE)


def test_a_captured_body_sent_again_under_a_new_identifier_changes_nothing(
    run: Run,  # noqa: F811
    webhook: Webhook,
    jira: Any,
    firing: Any,
) -> None:
    jira.resolve_by_hand("OPS-1", "Won't Do")
    wont_fix = json.dumps(jira.webhook_payload(firing)).encode()
    assert webhook.send(wont_fix, delivery="d-1")[:2] == (200, "recorded")
    jira.reopen_by_hand("OPS-1")
    assert webhook.send_payload(jira.webhook_payload(firing), delivery="d-2")[:2] == (200, "recorded")

    # The won't-fix body again, with its valid signature, under an identifier never seen: the same delivery
    assert webhook.send(wont_fix, delivery="d-3") == (200, "duplicate", NONE)
    # and Jira's own retry of it (same identifier) too
    assert webhook.send(wont_fix, delivery="d-1") == (200, "duplicate", NONE)

    state = webhook.state()
    assert state.issue_status is IssueStatus.OPEN and state.person_decision is PersonDecision.REOPENED
    result, _ = run(alarm_event("OK", 10, message_id="m-2"), after=1)
    assert result == {"resolved": 1} and jira.by_key("OPS-1").status == "Done"


def test_a_failed_confirming_read_answers_503_and_jiras_retry_is_applied(
    webhook: Webhook, jira: Any, firing: Any
) -> None:
    jira.resolve_by_hand("OPS-1", "Done")
    body = json.dumps(jira.webhook_payload(firing)).encode()
    jira.fail("GET", r".*/issue/10001$", 503, times=20)

    status, result, cost = webhook.send(body, delivery="d-1")
    assert (status, result) == (503, "retry-later") and set(cost) == set(READ)
    assert webhook.state().person_decision is None

    jira.faults.clear()
    assert webhook.send(body, delivery="d-1") == (200, "recorded", READ)
    assert webhook.state().person_decision is PersonDecision.RESOLVED


STALE = {
    "older-than-the-window": lambda now: now - MAX_AGE_SECONDS - 1,
    "ahead-of-the-clock": lambda now: now + MAX_AHEAD_SECONDS + 1,
    "undated": lambda now: None,
    "not-a-number": lambda now: "1800000000000",
}


@pytest.mark.parametrize("raised", STALE.values(), ids=list(STALE))
def test_a_delivery_outside_its_time_window_is_acknowledged_and_ignored(
    webhook: Webhook, jira: Any, firing: Any, aws: Any, capsys: pytest.CaptureFixture[str], raised: Any
) -> None:
    jira.resolve_by_hand("OPS-1", "Done")
    payload = jira.webhook_payload(firing)
    at = raised(webhook.run.clock.now + 60)  # the receiver's clock when it is sent
    payload["timestamp"] = at * 1000 if isinstance(at, float) else at
    if at is None:
        del payload["timestamp"]
    before = aws.state_items()
    capsys.readouterr()

    assert webhook.send_payload(payload) == (200, "stale", NONE)
    assert aws.state_items() == before
    assert metrics_emitted(capsys.readouterr().out).get("WebhookDeliveriesStale") == 1


@pytest.mark.parametrize("age", [MAX_AGE_SECONDS - 1, -MAX_AHEAD_SECONDS + 1])
def test_a_delivery_within_its_time_window_is_applied(webhook: Webhook, jira: Any, firing: Any, age: int) -> None:
    jira.resolve_by_hand("OPS-1", "Done")
    payload = jira.webhook_payload(firing)
    payload["timestamp"] = int((webhook.run.clock.now + 60 - age) * 1000)

    assert webhook.send_payload(payload) == (200, "recorded", READ)


@pytest.fixture
def other_site(run: Run, aws: Any, jira: Any) -> FakeJira:  # noqa: F811
    """A second Jira site, in the same notification group, whose first issue has the same id as the first site's."""
    other = FakeJira(jira.mock, base_url=OTHER_SITE)
    other.now = jira.now
    aws.put_secret("jira-notifier/other", serverUrl=OTHER_SITE)
    aws.put_provider(**{**DEFAULT_PROVIDER, "name": "other", "secret": "jira-notifier/other"})
    return other


def test_a_delivery_from_one_site_never_writes_another_sites_state(
    run: Run,  # noqa: F811
    webhook: Webhook,
    jira: Any,
    other_site: FakeJira,
) -> None:
    # Given one alarm with an issue on each site, both issue 10001 and both carrying the alert's label
    run(alarm_event("ALARM", 0, message_id="m-1"))
    mine, theirs = jira.by_key("OPS-1"), other_site.by_key("OPS-1")
    assert mine.id == theirs.id == "10001" and mine.labels == theirs.labels

    # When, half a minute later, a person on the other site resolves theirs as won't-fix, and its delivery arrives
    run.clock.now += 30
    other_site.resolve_by_hand("OPS-1", "Won't Do")
    calls = len(jira.mock.calls)
    assert webhook.send_payload(other_site.webhook_payload(theirs))[:2] == (200, "recorded")

    # Then this site's state is untouched, and the other site's provider records it, confirmed on that site alone
    assert webhook.state("ops/jira").person_decision is None
    assert webhook.state("ops/other").person_decision is PersonDecision.WONT_FIX
    assert [(c.request.method, c.request.url.split("?")[0]) for c in jira.mock.calls[calls:]] == [
        ("GET", f"{OTHER_SITE}/rest/api/3/issue/10001")
    ]
    # and the clear resolves this site's issue (the other one stays as its person left it)
    run(alarm_event("OK", 5, message_id="m-2"), after=1)
    assert mine.status == "Done" and theirs.status == "Done" and theirs.resolution == "Won't Do"


def test_a_delivery_from_a_site_no_provider_uses_changes_nothing(
    webhook: Webhook, jira: Any, firing: Any, aws: Any
) -> None:
    jira.resolve_by_hand("OPS-1", "Won't Do")
    before = aws.state_items()
    for site in ("https://stranger.atlassian.net", "https://example.atlassian.net.evil.example", None):
        payload = jira.webhook_payload(firing)  # this site's labels and issue id
        if site is None:
            del payload["issue"]["self"]
        else:
            payload["issue"]["self"] = f"{site}/rest/api/2/issue/10001"

        assert webhook.send_payload(payload) == (200, "ignored", NONE)
    assert aws.state_items() == before


@pytest.fixture
def gateway_site(aws: Any, jira: Any) -> FakeJira:
    """The provider's secret has a cloudId: its calls, and its issues' ``self``, go through api.atlassian.com."""
    gateway = FakeJira(jira.mock, base_url=GATEWAY)
    gateway.now = jira.now
    aws.put_secret(cloudId=CLOUD_ID)
    return gateway


def test_a_secret_with_a_cloud_id_matches_deliveries_by_that_cloud(
    run: Run,  # noqa: F811
    webhook: Webhook,
    gateway_site: FakeJira,
) -> None:
    run(alarm_event("ALARM", 0, message_id="m-1"))
    issue = gateway_site.by_key("OPS-1")
    gateway_site.resolve_by_hand("OPS-1", "Done")
    calls = len(gateway_site.mock.calls)

    # Another cloud's issue of the same id and labels: not this provider's
    elsewhere = gateway_site.webhook_payload(issue)
    elsewhere["issue"]["self"] = elsewhere["issue"]["self"].replace(CLOUD_ID, "99999999-0000-1111-2222-333333333333")
    assert webhook.send_payload(elsewhere)[:2] == (200, "ignored")
    assert webhook.state().person_decision is None

    # Its own cloud's: recorded, confirmed through the gateway
    assert webhook.send_payload(gateway_site.webhook_payload(issue))[:2] == (200, "recorded")
    assert [(c.request.method, urlsplit(c.request.url).netloc) for c in gateway_site.mock.calls[calls:]] == [
        ("GET", "api.atlassian.com")
    ]
    assert webhook.state().person_decision is PersonDecision.RESOLVED


def _fresh(payload: dict[str, Any], webhook: Webhook) -> dict[str, Any]:
    return {**payload, "timestamp": int(webhook.run.clock.now * 1000)}


@pytest.mark.parametrize(
    "payload",
    [
        {"webhookEvent": "jira:issue_updated", "issue": {"id": "99999", "key": "OPS-99", "self": f"{SITE}/x"}},
        {"webhookEvent": "comment_created", "comment": {"id": "1"}},
        {"webhookEvent": "jira:issue_updated", "issue": {"key": "OPS-1"}},
    ],
    ids=["not-owned", "other-event", "no-issue-id"],
)
def test_what_the_product_does_not_own_is_ignored(
    webhook: Webhook, firing: Any, aws: Any, payload: dict[str, Any]
) -> None:
    before = aws.state_items()

    assert webhook.send_payload(_fresh(payload, webhook)) == (200, "ignored", NONE)
    assert aws.state_items() == before


def test_a_body_that_is_no_object_is_ignored(webhook: Webhook, firing: Any, aws: Any) -> None:
    before = aws.state_items()

    assert webhook.send_payload([]) == (200, "ignored", NONE)
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
    webhook: Webhook,
    jira: Any,
    firing: Any,
    aws: Any,
    capsys: pytest.CaptureFixture[str],
    change: Any,
    status: int,
    result: str,
) -> None:
    jira.resolve_by_hand("OPS-1", "Done")
    body = json.dumps(jira.webhook_payload(firing)).encode()
    before = aws.state_items()
    capsys.readouterr()

    assert webhook.send(body, **change(body)) == (status, result, NONE)
    assert aws.state_items() == before
    assert metrics_emitted(capsys.readouterr().out).get("WebhookRequestsRefused") == 1


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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    event=st.sampled_from(["jira:issue_updated", "jira:issue_deleted"]),
    category=st.sampled_from(["new", "indeterminate", "done"]),
    resolution=st.sampled_from([None, "Done", "Won't Do", "Duplicate"]),
    site=st.sampled_from([SITE, OTHER_SITE, GATEWAY, SITE.upper(), None]),
    issue_id=st.sampled_from(["10001", "10002"]),
    age=st.one_of(st.none(), st.floats(-2 * MAX_AGE_SECONDS, 2 * MAX_AGE_SECONDS)),
    truth=st.sampled_from(["open", "Done", "Won't Do"]),
)
def test_a_signed_body_never_records_what_jira_does_not_say_now(
    webhook: Webhook,
    jira: Any,
    firing: Any,
    event: str,
    category: str,
    resolution: str | None,
    site: str | None,
    issue_id: str,
    age: float | None,
    truth: str,
) -> None:
    """Whoever holds the shared secret, whatever a body claims (status, resolution, site, id, date, event), only what
    Jira says of the issue now, read from the provider's own site, is ever recorded."""
    if truth == "open":
        if firing.status == "Done":
            jira.reopen_by_hand("OPS-1")
    else:
        jira.resolve_by_hand("OPS-1", truth)
    issue: dict[str, Any] = {
        "id": issue_id,
        "key": "OPS-1",
        "fields": {
            "labels": firing.labels,
            "status": {"statusCategory": {"key": category}},
            "resolution": {"name": resolution} if resolution else None,
        },
    }
    if site is not None:
        issue["self"] = f"{site}/rest/api/2/issue/{issue_id}"
    payload: dict[str, Any] = {"webhookEvent": event, "issue": issue}
    if age is not None:
        payload["timestamp"] = int((webhook.run.clock.now - age) * 1000)
    before = webhook.state()

    status, _, cost = webhook.send_payload(payload, after=0)

    after = webhook.state()
    assert status == 200 and set(cost) <= set(READ)  # at most the confirming read, on the provider's site
    if after != before:
        assert (after.issue_status, after.person_decision) == {
            "open": (IssueStatus.OPEN, PersonDecision.REOPENED),
            "Done": (IssueStatus.RESOLVED, PersonDecision.RESOLVED),
            "Won't Do": (IssueStatus.RESOLVED, PersonDecision.WONT_FIX),
        }[truth]
