"""Retries that respect Jira: backoff, Retry-After, RateLimit-Reason pacing, and the invocation's remaining time.

The client is built directly with a fake clock, sleep and remaining time, so every wait is measured, not slept.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import requests
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

from jira_notifier.adapters.jira.client import JiraClient
from jira_notifier.adapters.jira.transport import BASE_DELAY, MAX_TRIES, SAFETY_MARGIN, CallRecord
from jira_notifier.core.config import JiraSecret
from jira_notifier.core.errors import JiraAuthError, JiraRequestError, JiraUnavailableError
from tests.support.fake_jira import EMAIL, SITE, TOKEN, FakeJira

API = SITE + "/rest/api/3"
ISSUE = API + "/issue/OPS-1"
CREATE = API + "/issue"
CREATED = {"id": "10001", "key": "OPS-1"}
TIMEOUT = 10.0
SECRET = JiraSecret(name="jira-notifier/ops", email=EMAIL, api_token=TOKEN, server_url=SITE)
CREATE_BODY = {"fields": {"summary": "disk full"}}
COMMENT_BODY = {"type": "doc", "version": 1, "content": []}


@dataclass
class FakeTime:
    """A monotonic clock that moves only when the client sleeps (or a test says so), and the invocation's deadline."""

    now: float = 1_000.0
    deadline: float | None = None
    slept: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def remaining(self) -> float:
        assert self.deadline is not None
        return self.deadline - self.now

    def invocation(self, seconds: float) -> Callable[[], float]:
        """Start an invocation with ``seconds`` left; returns its remaining-time function."""
        self.deadline = self.now + seconds
        return self.remaining


@pytest.fixture
def jira_http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def client_for(
    fake_time: FakeTime,
    *,
    remaining: Callable[[], float] | None = None,
    observer: Callable[[CallRecord], None] | None = None,
) -> JiraClient:
    return JiraClient.connect(
        SECRET,
        session=requests.Session(),
        timeout=TIMEOUT,
        observer=observer,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        remaining=remaining,
    )


def answers(mock: responses.RequestsMock, method: str, url: str, *replies: Any) -> None:
    """Register replies served in order: an int status, (status, headers), or an exception to raise."""
    for reply in replies:
        if isinstance(reply, BaseException):
            mock.add(method, url, body=reply)
            continue
        status, headers = reply if isinstance(reply, tuple) else (reply, {})
        body = CREATED if status == 201 else ({"issues": [], "isLast": True} if status == 200 else {})
        mock.add(method, url, json=body, status=status, headers=headers)


def backoff_range(attempt: int) -> tuple[float, float]:
    base = BASE_DELAY * 2 ** (attempt - 1)
    return base * 0.7, base * 1.3


def in_backoff_range(slept: list[float]) -> bool:
    return all(low <= s <= high for s, (low, high) in zip(slept, map(backoff_range, range(1, 9)), strict=False))


# Backoff ---------------------------------------------------------------------------------------------------


def test_reads_back_off_exponentially_from_two_seconds_and_then_succeed(jira_http, fake_time) -> None:
    answers(jira_http, "GET", ISSUE, 503, 502, 500, 200)

    client_for(fake_time).get_issue("OPS-1", ["status"])

    assert len(jira_http.calls) == 4
    assert len(fake_time.slept) == 3 and in_backoff_range(fake_time.slept), fake_time.slept
    assert fake_time.slept == sorted(fake_time.slept)  # 2, 4, 8 s: jitter never reorders them


def test_a_read_gives_up_after_about_four_tries(jira_http, fake_time) -> None:
    answers(jira_http, "GET", ISSUE, *[503] * 10)

    with pytest.raises(JiraUnavailableError) as raised:
        client_for(fake_time).get_issue("OPS-1", ["status"])

    assert len(jira_http.calls) == MAX_TRIES == 4
    assert len(fake_time.slept) == MAX_TRIES - 1  # no pointless wait after the last try
    assert raised.value.status == 503 and raised.value.retryable


@pytest.mark.parametrize("factor", [0.7, 1.0, 1.3], ids=["least-jitter", "no-jitter", "most-jitter"])
def test_jitter_multiplies_the_doubling_delay(jira_http, fake_time, monkeypatch, factor: float) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: factor if (low, high) == (0.7, 1.3) else low)
    answers(jira_http, "GET", ISSUE, 503, 503, 503, 200)

    client_for(fake_time).get_issue("OPS-1", ["status"])

    assert fake_time.slept == pytest.approx([2 * factor, 4 * factor, 8 * factor])


def test_jitter_spreads_the_retries_of_many_clients(jira_http) -> None:
    first_waits = []
    for seed in range(20):
        random.seed(seed)
        fake_time = FakeTime()
        answers(jira_http, "GET", ISSUE, 503, 200)
        client_for(fake_time).get_issue("OPS-1", ["status"])
        first_waits.append(fake_time.slept[0])

    assert all(1.4 <= wait <= 2.6 for wait in first_waits)
    assert len({round(wait, 3) for wait in first_waits}) >= 15  # not one synchronized wave


@pytest.mark.parametrize(
    "failure",
    [requests.ReadTimeout("read timed out"), requests.ConnectionError("connection reset")],
    ids=["timeout", "connection-reset"],
)
def test_reads_are_retried_after_a_lost_answer(jira_http, fake_time, failure: Exception) -> None:
    answers(jira_http, "GET", ISSUE, failure, 200)

    client_for(fake_time).get_issue("OPS-1", ["status"])

    assert len(jira_http.calls) == 2 and len(fake_time.slept) == 1


def test_search_is_a_post_but_safe_to_resend(jira_http, fake_time) -> None:
    answers(jira_http, "POST", API + "/search/jql", 503, 200)

    assert client_for(fake_time).search_jql('labels = "jn-1"', ["status"]) == []
    assert len(jira_http.calls) == 2


# Retry-After -----------------------------------------------------------------------------------------------


def _http_date(seconds_ahead: int) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds_ahead), usegmt=True)


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [
        ("7", 7.0, 7.0),
        ("1", 1.4, 2.6),
        ("0", 1.4, 2.6),
        (None, 1.4, 2.6),
        ("soon", 1.4, 2.6),
        ("http-date-20s", 18.0, 20.0),
    ],
    ids=["longer-than-backoff", "shorter-than-backoff", "zero", "missing", "unreadable", "http-date"],
)
def test_a_429_waits_at_least_retry_after(
    jira_http, fake_time, retry_after: str | None, low: float, high: float
) -> None:
    value = _http_date(20) if retry_after == "http-date-20s" else retry_after
    answers(jira_http, "GET", ISSUE, (429, {"Retry-After": value} if value is not None else {}), 200)

    client_for(fake_time).get_issue("OPS-1", ["status"])

    assert len(fake_time.slept) == 1 and low <= fake_time.slept[0] <= high, fake_time.slept


def test_retry_after_on_a_503_is_honoured_too(jira_http, fake_time) -> None:
    answers(jira_http, "GET", ISSUE, (503, {"Retry-After": "12"}), 200)

    client_for(fake_time).get_issue("OPS-1", ["status"])

    assert fake_time.slept == [12.0]


# Creates and other writes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason", ["jira-burst-based", "jira-per-issue-on-write", None], ids=["burst", "per-issue", "no-reason"]
)
def test_a_create_refused_with_429_is_sent_again(jira_http, fake_time, reason: str | None) -> None:
    headers = {"Retry-After": "3", **({"RateLimit-Reason": reason} if reason else {})}
    answers(jira_http, "POST", CREATE, (429, headers), (429, headers), 201)

    created = client_for(fake_time).create_issue(CREATE_BODY)

    assert created.key == "OPS-1"
    assert len(jira_http.calls) == 3 and all(wait >= 3 for wait in fake_time.slept)


def test_a_bulk_create_refused_with_429_is_sent_again(jira_http, fake_time) -> None:
    jira_http.add("POST", API + "/issue/bulk", status=429, headers={"Retry-After": "2"}, json={})
    jira_http.add("POST", API + "/issue/bulk", status=201, json={"issues": [CREATED], "errors": []})

    results = client_for(fake_time).bulk_create([CREATE_BODY])

    assert [r.issue.key for r in results if r.issue] == ["OPS-1"] and len(jira_http.calls) == 2


AMBIGUOUS = [
    (500, None),
    (502, None),
    (503, None),
    (504, None),
    (None, requests.ReadTimeout("read timed out")),
    (None, requests.ConnectionError("connection reset by peer")),
]
AMBIGUOUS_IDS = ["500", "502", "503", "504", "timeout", "connection-reset"]

WRITES: dict[str, tuple[str, str, Callable[[JiraClient], Any]]] = {
    "create": ("POST", CREATE, lambda c: c.create_issue(CREATE_BODY)),
    "bulk-create": ("POST", API + "/issue/bulk", lambda c: c.bulk_create([CREATE_BODY])),
    "comment": ("POST", ISSUE + "/comment", lambda c: c.add_comment("OPS-1", COMMENT_BODY)),
    "transition": ("POST", ISSUE + "/transitions", lambda c: c.transition("OPS-1", "31")),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
@pytest.mark.parametrize(("status", "failure"), AMBIGUOUS, ids=AMBIGUOUS_IDS)
def test_a_write_that_may_have_reached_jira_is_never_sent_twice(jira_http, fake_time, write, status, failure) -> None:
    method, url, call = write
    answers(jira_http, method, url, failure if failure is not None else status, 201)

    with pytest.raises(JiraUnavailableError) as raised:
        call(client_for(fake_time))

    # One request only: the caller checks Jira (search by dedupe label) before any new create
    assert len(jira_http.calls) == 1 and fake_time.slept == []
    assert raised.value.ambiguous and raised.value.retryable


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, JiraRequestError),
        (401, JiraAuthError),
        (403, JiraAuthError),
        (404, JiraRequestError),
        (413, JiraRequestError),
    ],
    ids=["400", "401", "403", "404", "413"],
)
def test_refusals_are_not_retried(jira_http, fake_time, status: int, error_type: type[Exception]) -> None:
    answers(jira_http, "GET", ISSUE, status, 200)

    with pytest.raises(error_type) as raised:
        client_for(fake_time).get_issue("OPS-1", ["status"])

    assert len(jira_http.calls) == 1 and fake_time.slept == []
    assert not raised.value.retryable


# RateLimit-Reason: what waits ------------------------------------------------------------------------------

PROBES: dict[str, Callable[[JiraClient], Any]] = {
    "comment-same-issue": lambda c: c.add_comment("OPS-1", COMMENT_BODY),
    "transition-same-issue": lambda c: c.transition("OPS-1", "31"),
    "comment-other-issue": lambda c: c.add_comment("OPS-2", COMMENT_BODY),
    "read-same-issue": lambda c: c.get_issue("OPS-1", ["status"]),
    "create": lambda c: c.create_issue(CREATE_BODY),
}


def _serve_every_probe(mock: responses.RequestsMock) -> None:
    for issue in ("OPS-1", "OPS-2"):
        mock.add("POST", f"{API}/issue/{issue}/comment", json={"id": "1"}, status=201)
    mock.add("POST", ISSUE + "/transitions", status=204)
    mock.add("GET", ISSUE, json={"id": "10001", "key": "OPS-1", "fields": {}})
    mock.add("POST", CREATE, json=CREATED, status=201)


@pytest.mark.parametrize(
    ("reason", "held"),
    [
        ("jira-per-issue-on-write", {"comment-same-issue", "transition-same-issue"}),
        ("jira-burst-based", {"comment-same-issue", "comment-other-issue"}),
        (None, {"comment-same-issue", "comment-other-issue"}),
        ("jira-quota-global-based", set(PROBES)),
        ("jira-quota-tenant-based", set(PROBES)),
    ],
    ids=[
        "per-issue-slows-that-issue",
        "burst-slows-that-endpoint",
        "no-reason-slows-that-endpoint",
        "global-quota-slows-everything",
        "tenant-quota-slows-everything",
    ],
)
def test_rate_limit_reason_decides_what_waits(jira_http, fake_time, reason: str | None, held: set[str]) -> None:
    # Given a comment on OPS-1 refused with 429 for 30 s, in an invocation with only 20 s left
    headers = {"Retry-After": "30", **({"RateLimit-Reason": reason} if reason else {})}
    jira_http.add("POST", ISSUE + "/comment", status=429, headers=headers, json={})
    client = client_for(fake_time, remaining=fake_time.invocation(20))
    with pytest.raises(JiraUnavailableError):
        client.add_comment("OPS-1", COMMENT_BODY)
    _serve_every_probe(jira_http)

    # When the invocation tries other calls at once
    sent_before = len(jira_http.calls)
    waited = set()
    for name, probe in PROBES.items():
        calls = len(jira_http.calls)
        try:
            probe(client)
        except JiraUnavailableError:
            assert len(jira_http.calls) == calls, f"{name} was sent while it had to wait"
            waited.add(name)

    # Then exactly the calls the reason names were held back (and handed back without a request), the rest went
    assert waited == held
    assert len(jira_http.calls) - sent_before == len(PROBES) - len(held)
    assert fake_time.slept == []


def test_a_held_issue_waits_out_the_rest_of_retry_after_in_the_next_invocation(jira_http, fake_time) -> None:
    headers = {"Retry-After": "30", "RateLimit-Reason": "jira-per-issue-on-write"}
    jira_http.add("POST", ISSUE + "/comment", status=429, headers=headers, json={})
    client = client_for(fake_time, remaining=fake_time.invocation(20))
    with pytest.raises(JiraUnavailableError) as first:
        client.add_comment("OPS-1", COMMENT_BODY)
    assert first.value.retry_after == 30 and len(jira_http.calls) == 1

    # A warm container: the same transport, 10 s later, in an invocation with a minute left
    fake_time.now += 10
    client = JiraClient(client.transport, fake_time.invocation(60))
    _serve_every_probe(jira_http)
    client.add_comment("OPS-2", COMMENT_BODY)
    assert fake_time.slept == []
    client.add_comment("OPS-1", COMMENT_BODY)
    assert fake_time.slept == pytest.approx([20.0])


def test_the_stand_ins_per_issue_write_limit_is_waited_out_for_that_issue_only(jira_http, fake_time) -> None:
    # Given the stand-in Jira allowing two writes per issue in 10 s, on the client's clock
    jira = FakeJira(jira_http)
    jira.now = lambda: datetime.fromtimestamp(fake_time.now, UTC)
    jira.write_limit = (2, 10.0)
    records: list[CallRecord] = []
    client = client_for(fake_time, remaining=fake_time.invocation(60), observer=records.append)
    first, second = (client.create_issue(task(summary)).key for summary in ("disk full", "cpu high"))

    # When OPS-1 is written three times within a second, then OPS-2 once
    client.add_comment(first, COMMENT_BODY)
    fake_time.now += 1
    client.add_comment(first, COMMENT_BODY)
    client.add_comment(first, COMMENT_BODY)
    client.add_comment(second, COMMENT_BODY)

    # Then the third write got 429 jira-per-issue-on-write, waited out the 9 s left and went through; OPS-2 never waited
    assert [(r.status, r.rate_limit_reason) for r in records[2:]] == [
        (201, None), (201, None), (429, "jira-per-issue-on-write"), (201, None), (201, None)
    ]  # fmt: skip
    assert fake_time.slept == [9.0]
    assert [len(issue.comments) for issue in jira.issues.values()] == [3, 1]


def test_a_priority_edit_is_a_write_on_the_issue_within_its_limit(jira_http, fake_time) -> None:
    # Given the stand-in allowing two writes per issue in 10 s, and an issue just created with a comment
    jira = FakeJira(jira_http)
    jira.now = lambda: datetime.fromtimestamp(fake_time.now, UTC)
    jira.write_limit = (2, 10.0)
    client = client_for(fake_time, remaining=fake_time.invocation(60))
    key = client.create_issue(task("disk full")).key
    client.add_comment(key, COMMENT_BODY)

    # When its priority is edited twice at once: the second waits out the limit, then lands
    client.edit_issue(key, {"priority": {"name": "High"}})
    client.edit_issue(key, {"priority": {"name": "Highest"}})

    assert fake_time.slept == [10.0]
    assert jira.by_key(key).fields["priority"] == {"name": "Highest"}
    assert client.get_issue(key, ["priority"]).priority == "Highest"


def task(summary: str) -> dict[str, Any]:
    return {"fields": {"project": {"key": "OPS"}, "issuetype": {"id": "10001"}, "summary": summary}}


def test_every_attempt_is_reported_with_its_rate_limit_reason(jira_http, fake_time) -> None:
    records: list[CallRecord] = []
    answers(jira_http, "GET", ISSUE, (429, {"Retry-After": "1", "RateLimit-Reason": "jira-burst-based"}), 200)

    client_for(fake_time, observer=records.append).get_issue("OPS-1", ["status"])

    assert [(r.endpoint, r.status, r.rate_limit_reason) for r in records] == [
        ("GET /issue/{id}", 429, "jira-burst-based"),
        ("GET /issue/{id}", 200, None),
    ]


# Remaining time --------------------------------------------------------------------------------------------


def test_a_wait_longer_than_the_time_left_hands_the_event_back_at_once(jira_http, fake_time) -> None:
    answers(jira_http, "GET", ISSUE, (429, {"Retry-After": "45"}), 200)
    client = client_for(fake_time, remaining=fake_time.invocation(50))

    with pytest.raises(JiraUnavailableError) as raised:
        client.get_issue("OPS-1", ["status"])

    assert fake_time.slept == [] and len(jira_http.calls) == 1
    assert raised.value.status == 429 and raised.value.retryable  # Lambda's retry takes over


def test_backoff_stops_before_the_deadline(jira_http, fake_time, monkeypatch) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: 1.0)
    answers(jira_http, "GET", ISSUE, *[503] * 10)
    client = client_for(fake_time, remaining=fake_time.invocation(12 + SAFETY_MARGIN))

    with pytest.raises(JiraUnavailableError) as raised:
        client.get_issue("OPS-1", ["status"])

    # 12 s + the margin left: a 2 s wait still leaves room for a 10 s request and the margin; then 10 s, and 4 s
    # does not
    assert fake_time.slept == [2.0] and len(jira_http.calls) == 2
    assert raised.value.status == 503


def test_the_request_timeout_shrinks_to_the_time_left(jira_http, fake_time) -> None:
    answers(jira_http, "GET", ISSUE, 200)

    client_for(fake_time, remaining=fake_time.invocation(SAFETY_MARGIN + 4)).get_issue("OPS-1", ["status"])

    assert jira_http.calls[0].request.req_kwargs["timeout"] == pytest.approx(4)


def test_no_request_is_started_without_time_to_finish_it(jira_http, fake_time) -> None:
    answers(jira_http, "POST", CREATE, 201)

    with pytest.raises(JiraUnavailableError) as raised:
        client_for(fake_time, remaining=fake_time.invocation(SAFETY_MARGIN + 0.4)).create_issue(CREATE_BODY)

    assert len(jira_http.calls) == 0 and not raised.value.ambiguous  # nothing sent: a plain retry is safe


FAILURES = st.sampled_from(["429", "503", "timeout"])


@settings(max_examples=60, deadline=None)
@given(
    time_left=st.floats(min_value=0.0, max_value=120.0),
    timeout=st.floats(min_value=1.0, max_value=15.0),
    retry_after=st.one_of(st.none(), st.integers(min_value=0, max_value=90)),
    failures=st.lists(FAILURES, min_size=1, max_size=6),
)
def test_no_wait_or_request_ever_runs_past_the_deadline(time_left, timeout, retry_after, failures) -> None:
    # Each request takes its whole timeout (the slowest answer Jira may give), then fails as drawn
    fake_time = FakeTime()
    remaining = fake_time.invocation(time_left)
    client = JiraClient.connect(
        SECRET,
        session=requests.Session(),
        timeout=timeout,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        remaining=remaining,
    )
    replies = iter(failures)

    def slow_failure(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        fake_time.now += request.req_kwargs["timeout"]  # type: ignore[attr-defined]
        kind = next(replies, "ok")
        if kind == "timeout":
            raise requests.ReadTimeout("read timed out")
        if kind == "ok":
            return 200, {}, '{"id": "10001"}'
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return int(kind), headers, "{}"

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("GET", ISSUE, callback=slow_failure)
        try:
            client.get_issue("OPS-1", ["status"])
        except JiraUnavailableError as error:
            assert error.retryable  # handed back to Lambda's retry
        else:
            assert len(mock.calls) == len(failures) + 1

    if mock.calls or fake_time.slept:
        assert fake_time.now <= fake_time.deadline - SAFETY_MARGIN + 1e-9
