"""One alert, one issue per episode, in the state the alert is in: each way this was seen to break, as a scenario.

Every scenario runs the real handlers in a simulated warm container (``tests.support.lambda_sim``): Jira answers
late, acts after the client gave up, answers 5xx after acting, cuts a body off, and its search trails writes;
state writes fail; the dead-letter queue refuses. Each ends with exactly one issue per episode, in the alert's
state, nothing lost, and every invocation inside the function's timeout. The held-back (coalescing) cases live
with the other lifecycle scenarios in ``tests/integration/test_lifecycle.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.sns_to_jira.handler import lambda_handler as sns_handler
from functions.sqs_to_jira.handler import lambda_handler as sqs_handler
from jira_notifier.adapters.dynamodb.state import SAVE_TRIES
from jira_notifier.core.errors import JiraNotifierError
from tests.conftest import DEFAULT_PROVIDER, SECRET_NAME
from tests.integration.test_sqs_batch import alarm, sqs_record
from tests.support.builders import alarm_event, alerts_in, notification_event, sns_event
from tests.support.lambda_sim import (
    FUNCTION_TIMEOUT,
    RETRY_DELAYS,
    Container,
    first,
    lambda_attempts,
    sets,
    simulated,
    slow,
)

CREATE = r"/rest/api/3/issue$"
BULK = r"/rest/api/3/issue/bulk$"
SEARCH_LAG = 20.0  # seconds Jira's search trails its writes in these scenarios
VISIBILITY_TIMEOUT = 360.0  # the buffer queue's: a failed record comes back this much later


@pytest.fixture
def sns(aws: Any, jira: Any) -> Iterator[Container]:
    with simulated(Container(sns_handler, jira), "sns") as container:
        yield container
        assert container.clock.overruns == [], "an invocation ran past the function's timeout"


@pytest.fixture
def sqs(aws: Any, jira: Any) -> Iterator[Container]:
    with simulated(Container(sqs_handler, jira), "sqs") as container:
        yield container
        assert container.clock.overruns == [], "an invocation ran past the function's timeout"


def issues_for(jira: Any, event: dict[str, Any]) -> list[Any]:
    label = alerts_in(event)[0].dedupe_label
    return [issue for issue in jira.issues.values() if label in issue.fields["labels"]]


def without_reopen(aws: Any) -> None:
    """Every firing after a clear is a new episode with a new issue (no reopen transition)."""
    aws.put_provider(**{**DEFAULT_PROVIDER, "reopen_transition": None})


def redeliver_until_done(container: Container, event: dict[str, Any], rounds: int = 5) -> list[str]:
    """SQS delivering the failed records again after the visibility timeout, until none fails."""
    failed: list[str] = []
    for _ in range(rounds):
        response, error = container.invoke(event)
        assert error is None, error
        failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
        if not failed:
            return failed
        event = {"Records": [r for r in event["Records"] if r["messageId"] in failed]}
        container.clock.sleep(VISIBILITY_TIMEOUT)
    return failed


# 1. A slow or failing create answer -------------------------------------------------------------------------


def test_1_a_create_answered_after_the_client_gave_up_while_a_second_channel_delivers(
    sns: Container, jira: Any
) -> None:
    # Given Jira takes 25 s to carry out the create (the client gives up at 10 s) and its search trails writes,
    # and the same alarm transition arrives on a second channel meanwhile
    jira.search_lag = SEARCH_LAG
    sns.response_time = slow(r"POST .*/issue$", 25.0)
    first_channel = alarm_event("ALARM", 0, message_id="topic-a")
    second_channel = alarm_event("ALARM", 0, message_id="topic-b")

    assert sns.invoke(first_channel)[1] is not None  # the answer never came: a retry will look for the issue
    sns.clock.sleep(2)
    assert sns.invoke(second_channel)[1] is not None  # too early to tell: it creates nothing

    # When Lambda retries both
    sns.clock.sleep(RETRY_DELAYS[0])
    assert sns.invoke(first_channel)[1] is None
    assert sns.invoke(second_channel)[1] is None

    # Then the one issue Jira made is the alert's, and open
    [issue] = issues_for(jira, first_channel)
    assert issue.status == "To Do"
    assert jira.requests.count(("POST", "/rest/api/3/issue")) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_1_a_5xx_after_jira_acted_with_a_lagging_search(sns: Container, jira: Any, status: int) -> None:
    jira.search_lag = SEARCH_LAG
    jira.fail("POST", CREATE, status, after=True)
    event = alarm_event("ALARM", 0)

    errors = lambda_attempts(sns, event)

    assert errors[-1] is None, errors
    assert len(issues_for(jira, event)) == 1


def test_1_a_create_answer_cut_off_mid_body(sns: Container, jira: Any) -> None:
    jira.search_lag = SEARCH_LAG
    jira.fail("POST", CREATE, 201, cut=True)
    event = notification_event("firing", dedup_key="cut-off")

    errors = lambda_attempts(sns, event)

    assert errors[0] is not None and errors[-1] is None, errors  # a clear retryable error, then found
    assert "cut off" in str(errors[0])
    assert len(issues_for(jira, event)) == 1


# 2. The buffered path after a failure that follows a bulk create ---------------------------------------------


def test_2_confirming_writes_fail_after_a_bulk_create(sqs: Container, jira: Any) -> None:
    jira.search_lag = SEARCH_LAG
    sqs.throttle = sets("issueKey")  # every write that would record an issue
    event = {"Records": [sqs_record(alarm(n)) for n in range(3)]}
    response, _ = sqs.invoke(event)
    assert len(response["batchItemFailures"]) == 3

    sqs.throttle = lambda write: False
    sqs.clock.sleep(VISIBILITY_TIMEOUT)
    assert redeliver_until_done(sqs, event) == []

    assert len(jira.issues) == 3
    assert jira.requests.count(("POST", "/rest/api/3/issue/bulk")) == 1
    assert jira.requests.count(("POST", "/rest/api/3/issue")) == 0


@pytest.mark.parametrize("fault", ["cut-off", "answered-after-timeout"])
def test_2_a_lost_bulk_answer_with_a_repeat_in_the_same_batch(sqs: Container, jira: Any, fault: str) -> None:
    # Given Jira creates the issues but the answer is lost, and the batch also holds the same alarm transition
    # from a second topic (a repeat, handled after the bulk create)
    jira.search_lag = SEARCH_LAG
    if fault == "cut-off":
        jira.fail("POST", BULK, 201, cut=True)
    else:
        sqs.response_time = slow(r"POST .*/issue/bulk$", 12.0)
    records = [sqs_record(alarm(n)) for n in range(3)]
    event = {"Records": [*records, sqs_record(alarm(0))]}

    response, error = sqs.invoke(event)

    assert error is None
    assert len(response["batchItemFailures"]) == 4  # nothing is known yet: nothing is created again
    assert redeliver_until_done(sqs, (sqs.clock.sleep(VISIBILITY_TIMEOUT), event)[1]) == []
    sqs.settle()
    assert len(jira.issues) == 3
    assert sorted(i.fields["summary"] for i in jira.issues.values()) == sorted(
        {i.fields["summary"] for i in jira.issues.values()}
    )


def test_2_a_refused_park_after_a_bulk_create_fails_that_record_alone(sqs: Container, aws: Any, jira: Any) -> None:
    # Given a batch where Jira refuses one element (it must be parked) and the dead-letter queue refuses it
    jira.refused_summaries.add("storm-alarm-0001")
    sqs.refuse_park = lambda: True
    event = {"Records": [sqs_record(alarm(n)) for n in range(3)]}

    response, error = sqs.invoke(event)

    # Then only that record fails; the others' issues are recorded
    assert error is None
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [event["Records"][1]["messageId"]]
    assert len(jira.issues) == 2
    # And once the queue takes it again, the redelivery parks it and creates nothing more
    sqs.refuse_park = lambda: False
    sqs.clock.sleep(VISIBILITY_TIMEOUT)
    assert redeliver_until_done(sqs, event) == []
    assert len(jira.issues) == 2
    assert [letter["reason"] for letter in aws.dead_letters()] == ["jira-rejected"]


# 3. The unconfirmed-create mark is honoured for every alert state and issue status ---------------------------


def test_3_a_clear_after_an_unrecorded_create_resolves_that_issue(sns: Container, jira: Any) -> None:
    # Given the issue was created but the write recording it failed (its tries took 27 s), and Jira's search
    # trails writes by longer than that
    jira.search_lag = 40.0
    sns.throttle = first(sets("issueKey"), times=SAVE_TRIES)
    alarm_fired, cleared = alarm_event("ALARM", 0), alarm_event("OK", 1)
    assert sns.invoke(alarm_fired)[1] is not None

    # When the clear arrives 5 s later, and Lambda retries both
    sns.clock.sleep(5)
    assert sns.invoke(cleared)[1] is not None  # the issue cannot be seen yet: not "nothing open"
    sns.clock.sleep(RETRY_DELAYS[0])
    assert sns.invoke(alarm_fired)[1] is None
    assert sns.invoke(cleared)[1] is None

    # Then the one issue is resolved, as the alarm is
    [issue] = issues_for(jira, alarm_fired)
    assert issue.status == "Done"


def test_3_a_refire_whose_create_is_unrecorded_makes_no_third_issue(sns: Container, aws: Any, jira: Any) -> None:
    without_reopen(aws)
    jira.search_lag = SEARCH_LAG
    for state, minute in (("ALARM", 0), ("OK", 1)):
        assert sns.invoke(alarm_event(state, minute))[1] is None
        sns.clock.sleep(60)
    # Given the re-fire's issue was created but the write recording it failed
    sns.throttle = first(sets("issueKey"), times=SAVE_TRIES)
    refire = alarm_event("ALARM", 2)

    errors = lambda_attempts(sns, refire)

    # Then one issue per episode: the first resolved, the second open
    assert errors[-1] is None, errors
    first_episode, second_episode = sorted(issues_for(jira, refire), key=lambda issue: int(issue.id))
    assert (first_episode.status, second_episode.status) == ("Done", "To Do")


# 4. An ambiguous create during a re-fire never adopts the previous episode's issue ----------------------------


@pytest.mark.parametrize("jira_acted", [False, True], ids=["not-created", "created-late"])
def test_4_an_ambiguous_refire_create_is_not_the_previous_episode(
    sns: Container, aws: Any, jira: Any, jira_acted: bool
) -> None:
    without_reopen(aws)
    jira.search_lag = SEARCH_LAG
    for state, minute in (("ALARM", 0), ("OK", 1)):
        assert sns.invoke(alarm_event(state, minute))[1] is None
        sns.clock.sleep(60)
    # Given the re-fire's create times out (Jira carried it out, or not), while the label search finds the
    # previous episode's resolved issue at once
    sns.response_time = slow(r"POST .*/issue$", 15.0)
    sns.acted_before_timeout = lambda: jira_acted
    refire = alarm_event("ALARM", 2)

    errors = lambda_attempts(sns, refire)

    # Then the new firing has an open issue of its own
    assert errors[0] is not None and errors[-1] is None, errors
    sns.settle()
    episodes = sorted(issues_for(jira, refire), key=lambda issue: int(issue.id))
    assert [issue.status for issue in episodes] == ["Done", "To Do"]


# 6. Every invocation fits in the function's timeout -----------------------------------------------------------


def test_6_a_throttled_state_table_hands_the_alert_back_in_time(sns: Container, jira: Any) -> None:
    sns.throttle = lambda write: True
    event = alarm_event("ALARM", 0)
    assert sns.invoke(event)[1] is not None
    sns.throttle = lambda write: False
    sns.clock.sleep(RETRY_DELAYS[0])
    assert sns.invoke(event)[1] is None
    assert len(issues_for(jira, event)) == 1


def test_6_a_state_table_that_never_answers_ends_before_the_timeout(sns: Container, jira: Any) -> None:
    # Given DynamoDB stops answering once the lease is taken (the create's confirming write and the release hang)
    jira.search_lag = SEARCH_LAG
    sns.hang = lambda write: "lockOwner = :owner" in (write.get("condition_expression") or "")
    event = alarm_event("ALARM", 0)

    _, error = sns.invoke(event)

    # Then the invocation hands the alert back (retryable) before Lambda's timeout; the lease it could not release
    # expires, and the retry finds the issue instead of creating another
    assert isinstance(error, JiraNotifierError) and error.retryable
    assert sns.clock.longest < FUNCTION_TIMEOUT
    sns.hang = lambda write: False
    sns.clock.sleep(RETRY_DELAYS[0])
    assert sns.invoke(event)[1] is None
    assert len(issues_for(jira, event)) == 1


def test_6_a_flapping_alarm_in_one_batch_of_50_fits_in_the_timeout(sqs: Container, jira: Any) -> None:
    # Given 50 state changes of one alarm in one SQS batch, Jira answering each request in 0.6 s
    sqs.response_time = lambda method, url: 0.6
    states = ["ALARM", "OK"] * 25
    event = {"Records": [sqs_record(alarm(1, state, minute)) for minute, state in enumerate(states)]}

    assert redeliver_until_done(sqs, event) == []

    # Then no invocation overran (checked by the fixture), and the issue ends as the last change left it
    assert sqs.clock.longest < FUNCTION_TIMEOUT
    [issue] = jira.issues.values()
    assert issue.status == "Done"


# 7. A dead-letter queue that refuses blocks nobody else -------------------------------------------------------


def test_7_a_refused_park_does_not_cost_the_healthy_provider(sns: Container, aws: Any, jira: Any) -> None:
    # Given the "ops" group has a second provider whose secret is broken, and the dead-letter queue refuses
    broken = "jira-notifier/broken"
    aws.put_secret(broken, apiToken="")
    aws.put_provider(**{**DEFAULT_PROVIDER, "name": "broken", "secret": broken})
    sns.refuse_park = lambda: True
    event = alarm_event("ALARM", 0)

    _, error = sns.invoke(event)

    # Then the healthy provider's issue is created at once, and the event comes back for the park
    assert isinstance(error, JiraNotifierError) and error.retryable
    assert len(jira.issues) == 1
    sns.refuse_park = lambda: False
    sns.clock.sleep(RETRY_DELAYS[0])
    assert sns.invoke(event)[1] is None
    assert len(jira.issues) == 1
    assert [(letter["provider"], letter["reason"]) for letter in aws.dead_letters()] == [("ops/broken", "bad-secret")]


# 8. No raw exceptions --------------------------------------------------------------------------------------


def test_8_a_token_basic_auth_cannot_carry_is_parked_as_a_bad_secret(sqs: Container, aws: Any, jira: Any) -> None:
    aws.put_secret(SECRET_NAME, apiToken="token-with-a-\u201cquote\u201d")
    event = {"Records": [sqs_record(alarm(n)) for n in range(2)]}

    response, error = sqs.invoke(event)

    assert error is None and response == {"batchItemFailures": []}
    assert jira.requests == []
    letters = aws.dead_letters()
    assert [letter["reason"] for letter in letters] == ["bad-secret", "bad-secret"]
    assert "token-with-a" not in json.dumps(letters)  # the secret's content is never repeated


def test_8_an_unexpected_exception_fails_its_record_alone(
    sqs: Container, jira: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jira_notifier.render import issue as render

    original = render.description

    def explode_on_one(alert: Any, *args: Any, **kwargs: Any) -> Any:
        if "storm-alarm-0001" in alert.title:
            raise KeyError("a rendering bug")
        return original(alert, *args, **kwargs)

    monkeypatch.setattr(render, "description", explode_on_one)
    event = {"Records": [sqs_record(alarm(n)) for n in range(3)]}

    response, error = sqs.invoke(event)

    assert error is None
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [event["Records"][1]["messageId"]]
    assert len(jira.issues) == 2


# A firing delivered after its clear ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["sns", "sqs"])
def test_a_firing_delivered_after_its_clear_gets_its_issue_resolved(
    path: str, request: pytest.FixtureRequest, aws: Any, jira: Any
) -> None:
    # Given the clear found nothing open (its firing failed and was retried, or was replayed from the dead letters)
    container: Container = request.getfixturevalue(path)

    def deliver(message: dict[str, Any]) -> None:
        event = {"Records": [sqs_record(message)]} if path == "sqs" else sns_event(message)
        result, error = container.invoke(event)
        assert error is None and (path == "sns" or result == {"batchItemFailures": []}), (result, error)

    deliver(alarm(1, "OK", 1))
    assert jira.issues == {}

    # When the firing arrives
    deliver(alarm(1, "ALARM", 0))

    # Then the episode has its issue, resolved at once: nothing is lost, and the issue is in the alarm's state
    [issue] = jira.issues.values()
    assert issue.status == "Done"
