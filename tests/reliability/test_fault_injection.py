"""Fault injection: 150 alerts (300 with ``MODEL_PROFILE=soak``), with lifecycles, through the SNS handler while
everything misbehaves.

Jira answers 429s, 5xx (some after acting), timeouts (some after which it acts, later), slow answers and bodies cut
off mid-answer, and its search trails writes. DynamoDB throttles state writes beyond the SDK's retries, or stops
answering. The dead-letter queue now and then refuses a message. Alarms fire, clear and fire again, and each
transition may also arrive on a second channel. Lambda's own behaviour is simulated (``tests.support.lambda_sim``):
60 s per invocation, a failed event invoked again a minute and then two minutes later, then the on-failure
destination. Once the faults are over, the dead letters are replayed as an operator would. Then every alert must
have exactly one issue, in the state of its last transition, and no invocation may have overrun its timeout.

The schedules that once went wrong are replayed one by one at the end of the file.
"""

from __future__ import annotations

import heapq
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from functions.sns_to_jira.handler import lambda_handler
from functions.sqs_to_jira.handler import lambda_handler as sqs_handler
from jira_notifier.adapters.dynamodb.state import SAVE_TRIES
from jira_notifier.core.errors import JiraNotifierError
from tests.integration.test_sqs_batch import sqs_record
from tests.support.builders import alarm_event, alarm_message, alerts_in, notification_event, sns_event
from tests.support.lambda_sim import (
    FUNCTION_TIMEOUT,
    RETRY_DELAYS,
    Container,
    first,
    lambda_attempts,
    sets,
    simulated,
)
from tests.support.scale import sized

ALERTS, SEED = sized(quick=(150, 4), soak=(300, 3))
CREATE = r"/rest/api/3/issue$"
SEARCH = r"/rest/api/3/search/jql"
SEARCH_LAG = 15.0  # seconds Jira's search trails its writes during the run
SECOND_CHANNEL = 0.3  # the share of transitions that also arrive on a second channel


@pytest.fixture
def container(aws: Any, jira: Any) -> Iterator[Container]:
    with simulated(Container(lambda_handler, jira), "sns") as found:
        yield found


# The random run --------------------------------------------------------------------------------------------


@dataclass
class Chaos:
    """What goes wrong and when, all drawn from one seeded random source."""

    container: Container
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    create: str = CREATE  # the create endpoint the faults hit: single, or bulk on the buffered path

    def start(self) -> None:
        container = self.container
        container.jira.search_lag = SEARCH_LAG
        container.throttle = lambda write: self.rng.random() < 0.015
        container.hang = lambda write: self.rng.random() < 0.003
        container.refuse_park = lambda: self.rng.random() < 0.2
        container.response_time = self.response_time
        container.acted_before_timeout = lambda: self.rng.random() < 0.5

    def calm(self) -> None:
        """The faults are over."""
        container = self.container
        container.throttle = container.hang = lambda write: False
        container.refuse_park = lambda: False
        container.response_time = lambda method, url: 0.1
        container.jira.faults.clear()
        container.settle()

    def before_invocation(self) -> None:
        """Queue Jira faults for the next matching requests, as a flaky Jira would answer them."""
        jira, injected, roll = self.container.jira, self.container.injected, self.rng.random()
        if roll < 0.07:
            reason = self.rng.choice(["jira-burst-based", "jira-per-issue-on-write", "jira-quota-tenant-based", None])
            headers = {"Retry-After": "0", **({"RateLimit-Reason": reason} if reason else {})}
            times = self.rng.randint(1, 5)
            jira.fail("POST", self.create, 429, times=times, headers=headers)
            injected["429"] += times
        elif roll < 0.13:
            jira.fail("POST", self.create, self.rng.choice([500, 502, 503, 504]), after=self.rng.random() < 0.5)
            injected["5xx"] += 1
        elif roll < 0.18:
            jira.fail("POST", self.create, None, after=self.rng.random() < 0.5)
            injected["timeout"] += 1
        elif roll < 0.21:
            jira.fail("POST", self.create, 201, cut=True)
            injected["cut-off"] += 1
        elif roll < 0.24:
            times = self.rng.randint(1, 4)
            jira.fail("POST", SEARCH, self.rng.choice([500, 503]), times=times)
            injected["5xx"] += times
        elif roll < 0.26:
            jira.fail("POST", r"/transitions$", 503, after=self.rng.random() < 0.5)
            injected["5xx"] += 1
        elif roll < 0.28:  # a create refused for good (a validator): parked, replayed once fixed
            jira.fail(
                "POST", self.create, 400, body={"errorMessages": [], "errors": {"summary": "refused by a validator"}}
            )
            injected["400"] += 1
        elif roll < 0.29:  # an outage: every create fails for a while
            jira.fail("POST", self.create, 503, times=10)
            injected["5xx"] += 10

    def response_time(self, method: str, url: str) -> float:
        """Mostly quick; sometimes slow; now and then slower than any timeout (Jira may act after it)."""
        if self.rng.random() < 0.95:
            return self.rng.uniform(0.05, 0.6)
        self.container.injected["slow"] += 1
        return self.rng.uniform(3.0, 25.0)


@dataclass(frozen=True)
class Alert:
    """One alert and the transitions it goes through; the last one is the state its issue must end in."""

    number: int
    events: tuple[dict[str, Any], ...]
    final_state: str  # "open" or "resolved"


def alerts(rng: random.Random, count: int) -> list[Alert]:
    """Alarms that fire, and often clear and fire again; platform Notifications; plain text keyed on its id."""
    made = []
    for n in range(count):
        kind = n % 3
        if kind == 0:
            arn = f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:service-{n}-errors"
            states = rng.choice([["ALARM"], ["ALARM", "OK"], ["ALARM", "OK", "ALARM"], ["ALARM", "OK", "ALARM", "OK"]])
            events = tuple(
                alarm_event(state, n + 10 * step, name=f"service-{n}-errors", arn=arn, message_id=f"alarm-{n}-{step}")
                for step, state in enumerate(states)
            )
            made.append(Alert(n, events, "open" if states[-1] == "ALARM" else "resolved"))
        elif kind == 1:
            event = notification_event(
                "firing", dedup_key=f"incident-{n}", title=f"Incident {n}", message_id=f"notification-{n}"
            )
            made.append(Alert(n, (event,), "open"))
        else:
            made.append(
                Alert(n, (sns_event(f"build-agent-{n}: disk full\nfree: 0 bytes", message_id=f"text-{n}"),), "open")
            )
    return made


def second_channel(event: dict[str, Any]) -> dict[str, Any]:
    """The same transition as delivered by another topic or channel: another message id."""
    copy = json.loads(json.dumps(event))
    copy["Records"][0]["Sns"]["MessageId"] += "-second-channel"
    return copy


@dataclass
class Tally:
    invocations: int = 0
    retries: int = 0
    destination: list[dict[str, Any]] = field(default_factory=list)  # events handed to the on-failure destination
    foreign_errors: list[str] = field(default_factory=list)  # errors that are not the product's own


def deliver_with_lambda_retries(chaos: Chaos, alerts: list[Alert]) -> Tally:
    """Every transition (and its second-channel copy) at its time, minutes apart per alert and interleaved across
    alerts; a failed invocation again after Lambda's retry delays; then the on-failure destination."""
    rng, container, tally = chaos.rng, chaos.container, Tally()
    start = container.clock.now
    schedule: list[tuple[float, int, int, dict[str, Any]]] = []  # (when, order, attempt, event)
    for alert in alerts:
        for step, event in enumerate(alert.events):
            when = start + alert.number * 0.7 + step * 40.0 + rng.uniform(0, 30)
            # A plain-text message is keyed on its message id: on another channel it would be another alert
            twice = alert.number % 3 != 2 and rng.random() < SECOND_CHANNEL
            copies = [event, second_channel(event)] if twice else [event]
            for copy in copies:
                schedule.append((when + rng.uniform(0, 5), len(schedule), 0, copy))
    heapq.heapify(schedule)
    while schedule:
        when, order, attempt, event = heapq.heappop(schedule)
        container.clock.now = max(container.clock.now, when)
        chaos.before_invocation()
        tally.invocations += 1
        _, error = container.invoke(event)
        if error is None:
            continue
        if not isinstance(error, JiraNotifierError):
            tally.foreign_errors.append(f"{type(error).__name__}: {error}")
        if attempt < len(RETRY_DELAYS):
            tally.retries += 1
            heapq.heappush(schedule, (container.clock.now + RETRY_DELAYS[attempt], order, attempt + 1, event))
        else:
            tally.destination.append(event)
    return tally


def dead_letters(aws: Any) -> list[dict[str, Any]]:
    """The parked events, removed from the queue."""
    sqs, events = aws.session.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=aws.dead_letter_queue_url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            events.append(json.loads(message["Body"])["event"])
            sqs.delete_message(QueueUrl=aws.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])
    return events


def verdicts(jira: Any, alerts: list[Alert]) -> dict[int, str]:
    """Per alert: "right", or what is wrong: "duplicated", "lost" or "wrong-state"."""
    found = {}
    for alert in alerts:
        label = alerts_in(alert.events[0])[0].dedupe_label
        issues = [issue for issue in jira.issues.values() if label in issue.fields["labels"]]
        if len(issues) > 1:
            found[alert.number] = "duplicated"
        elif not issues:
            found[alert.number] = "lost"
        else:
            state = "resolved" if issues[0].status == "Done" else "open"
            found[alert.number] = "right" if state == alert.final_state else "wrong-state"
    return found


@pytest.mark.slow
def test_every_alert_ends_as_exactly_one_issue_in_its_last_state(aws: Any, jira: Any, container: Container) -> None:
    chaos = Chaos(container)
    made = alerts(chaos.rng, ALERTS)
    chaos.start()

    tally = deliver_with_lambda_retries(chaos, made)
    duplicated_during_faults = Counter(verdicts(jira, made).values())["duplicated"]

    # Once the faults are over, some minutes later, the operator replays every dead letter (both kinds)
    chaos.calm()
    container.clock.sleep(300)
    parked = dead_letters(aws)
    replay_failures = []
    for event in tally.destination + parked:
        error = lambda_attempts(container, event)[-1]
        if error is not None:
            replay_failures.append(f"{type(error).__name__}: {error}")
    container.settle()
    final = verdicts(jira, made)
    outcome = Counter(final.values())
    transitions = sum(len(alert.events) for alert in made)
    report = (
        f"alerts {len(made)} ({transitions} transitions), invocations {tally.invocations}, Lambda retries "
        f"{tally.retries}, on-failure destination {len(tally.destination)}, parked {len(parked)} | faults injected "
        f"{dict(sorted(container.injected.items()))} | issues {len(jira.issues)}, duplicated {outcome['duplicated']}"
        f" (during the faults {duplicated_during_faults}), lost {outcome['lost']}, wrong final state "
        f"{outcome['wrong-state']} | longest invocation {container.clock.longest:.1f} s of {FUNCTION_TIMEOUT:.0f} s,"
        f" overruns {len(container.clock.overruns)}"
    )
    print(f"\nfault injection (seed {SEED}): {report}")

    assert tally.foreign_errors == [], tally.foreign_errors
    assert container.clock.overruns == [], report
    expected_faults = {"400", "429", "5xx", "timeout", "cut-off", "slow", "throttled", "store-timeout", "queue-refused"}
    assert expected_faults <= set(container.injected), report  # every fault hit
    assert tally.retries > 0 and tally.destination and parked, report  # and every path was taken
    assert duplicated_during_faults == 0, report
    assert replay_failures == [], replay_failures
    assert outcome["right"] == ALERTS, f"{report}; {sorted((v, n) for n, v in final.items() if v != 'right')}"


# The buffered path: the same faults, SQS batches, bulk creates -------------------------------------------------

BATCH_SIZE = 10  # the template's BufferBatchSize default
MAX_RECEIVES = 5  # the buffer queue's redrive policy: then its dead-letter queue
VISIBILITY_TIMEOUT = 360.0
BUFFERED_ALERTS = 120
BUFFERED_SEED = 1  # a schedule that parks records and meets a refusing queue too


@pytest.fixture
def buffered(aws: Any, jira: Any) -> Iterator[Container]:
    with simulated(Container(sqs_handler, jira), "sqs") as found:
        yield found


def buffered_alerts(rng: random.Random, count: int) -> list[tuple[Alert, list[dict[str, Any]]]]:
    """Alarms with lifecycles as SQS records (SNS envelopes), each transition maybe on a second topic too."""
    made = []
    for n in range(count):
        name, states = f"queued-{n}-errors", rng.choice([["ALARM"], ["ALARM", "OK"], ["ALARM", "OK", "ALARM"]])
        arn = f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}"
        records = []
        for step, state in enumerate(states):
            message = alarm_message(state, n + 10 * step, name=name, arn=arn)
            copies = 2 if rng.random() < SECOND_CHANNEL else 1
            records += [sqs_record(message, message_id=f"{name}-{step}-{copy}") for copy in range(copies)]
        alert = Alert(
            n, (alarm_event(states[0], n, name=name, arn=arn),), "open" if states[-1] == "ALARM" else "resolved"
        )
        made.append((alert, records))
    return made


def deliver_through_the_buffer(chaos: Chaos, sent: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """SQS as Lambda's event source: batches of up to ten visible records, a failed record visible again after the
    visibility timeout, and moved to the buffer's dead-letter queue after five receives (returned)."""
    rng, container = chaos.rng, chaos.container
    start = container.clock.now
    queue: list[tuple[float, int, int, dict[str, Any]]] = []  # (visible at, order, receives, record)
    for slot, records in enumerate(sent):  # one alert's records, a few seconds after the previous alert's
        for step, record in enumerate(records):
            heapq.heappush(queue, (start + slot * 2.0 + step * 40.0 + rng.uniform(0, 20), len(queue), 0, record))
    redriven = []
    while queue:
        container.clock.now = max(container.clock.now, queue[0][0])
        batch = []
        while queue and queue[0][0] <= container.clock.now and len(batch) < BATCH_SIZE:
            batch.append(heapq.heappop(queue))
        chaos.before_invocation()
        response, error = container.invoke({"Records": [record for _, _, _, record in batch]})
        assert error is None, f"the batch failed as a whole: {error!r}"
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        for _, order, receives, record in batch:
            if record["messageId"] not in failed:
                continue
            if receives + 1 >= MAX_RECEIVES:
                redriven.append(record)
            else:
                heapq.heappush(queue, (container.clock.now + VISIBILITY_TIMEOUT, order, receives + 1, record))
    return redriven


@pytest.mark.slow
def test_every_buffered_alert_ends_as_exactly_one_issue_in_its_last_state(
    aws: Any, jira: Any, buffered: Container
) -> None:
    chaos = Chaos(buffered, random.Random(BUFFERED_SEED), create=r"/rest/api/3/issue/bulk$")
    made = buffered_alerts(chaos.rng, BUFFERED_ALERTS)
    chaos.start()

    redriven = deliver_through_the_buffer(chaos, [records for _, records in made])
    alerts_made = [alert for alert, _ in made]
    duplicated_during_faults = Counter(verdicts(jira, alerts_made).values())["duplicated"]

    # Once the faults are over, the operator redrives the buffer's dead letters and replays the parked records
    chaos.calm()
    buffered.clock.sleep(300)
    parked = dead_letters(aws)
    leftover = deliver_through_the_buffer(chaos, [redriven + parked]) if redriven or parked else []
    buffered.settle()
    final = verdicts(jira, alerts_made)
    outcome = Counter(final.values())
    report = (
        f"alerts {len(made)} ({sum(len(records) for _, records in made)} records), redriven {len(redriven)}, "
        f"parked {len(parked)} | faults injected {dict(sorted(buffered.injected.items()))} | issues {len(jira.issues)}"
        f", duplicated {outcome['duplicated']} (during the faults {duplicated_during_faults}), lost "
        f"{outcome['lost']}, wrong final state {outcome['wrong-state']} | longest invocation "
        f"{buffered.clock.longest:.1f} s of {FUNCTION_TIMEOUT:.0f} s, overruns {len(buffered.clock.overruns)}"
    )
    print(f"\nfault injection, buffered (seed {BUFFERED_SEED}): {report}")

    assert buffered.clock.overruns == [], report
    assert {"400", "429", "5xx", "timeout", "cut-off", "throttled", "queue-refused"} <= set(buffered.injected), report
    assert parked, report
    assert duplicated_during_faults == 0, report
    assert leftover == [], report
    assert outcome["right"] == BUFFERED_ALERTS, f"{report}; {sorted((v, n) for n, v in final.items() if v != 'right')}"


# Troublesome schedules, one by one -------------------------------------------------------------------------


def only_issue(jira: Any, event: dict[str, Any]) -> list[Any]:
    label = alerts_in(event)[0].dedupe_label
    return [issue for issue in jira.issues.values() if label in issue.fields["labels"]]


def test_an_ambiguous_create_whose_recovery_search_fails_is_not_created_again(container: Container, jira: Any) -> None:
    # Given Jira creates the issue but its answer is lost, and the search that looks for it fails
    event = notification_event("firing", dedup_key="ambiguous-search-fails")
    jira.fail("POST", CREATE, None, after=True)
    jira.fail("POST", SEARCH, 503, times=4)

    errors = lambda_attempts(container, event)

    # Then the issue is found instead of created a second time
    assert errors[-1] is None, errors
    assert len(only_issue(jira, event)) == 1, f"{len(only_issue(jira, event))} issues for one alert"


def test_a_recovery_that_fails_keeps_the_mark_of_the_unconfirmed_create(container: Container, jira: Any) -> None:
    # Given the issue was created but the state write recording it was throttled (the mark stays), and the next
    # invocation's search for it fails
    event = notification_event("firing", dedup_key="recovery-fails")
    container.throttle = first(sets("issueKey"), times=SAVE_TRIES)
    assert container.invoke(event)[1] is not None
    container.clock.sleep(RETRY_DELAYS[0])
    jira.fail("POST", SEARCH, 503, times=4)
    assert container.invoke(event)[1] is not None
    container.clock.sleep(RETRY_DELAYS[1])

    # When Lambda retries a last time
    assert container.invoke(event)[1] is None

    # Then the issue is found, not created again
    assert len(only_issue(jira, event)) == 1, f"{len(only_issue(jira, event))} issues for one alert"


def test_a_last_attempt_that_created_the_issue_does_not_also_go_to_the_dead_letters(
    container: Container, jira: Any
) -> None:
    # Given two attempts refused with 429s, and a last one whose create succeeds but cannot be recorded at first
    event = notification_event("firing", dedup_key="last-attempt")
    jira.fail("POST", CREATE, 429, times=8, headers={"Retry-After": "0"})
    container.throttle = first(sets("issueKey"))

    errors = lambda_attempts(container, event)

    # Then the throttled write is tried again: one issue, recorded, and nothing for the on-failure destination
    assert len(only_issue(jira, event)) == 1
    assert errors[-1] is None, f"the issue exists, yet the event goes to the on-failure destination: {errors[-1]}"


def test_a_last_attempt_whose_answer_is_lost_checks_jira_before_giving_up(container: Container, jira: Any) -> None:
    # Given two attempts refused with 429s, and a last one whose create Jira carries out but whose answer is lost
    event = notification_event("firing", dedup_key="last-answer-lost")
    jira.fail("POST", CREATE, 429, times=8, headers={"Retry-After": "0"})
    jira.fail("POST", CREATE, None, after=True)

    errors = lambda_attempts(container, event)

    # Then the dedupe check finds the issue at once: one issue, and nothing for the on-failure destination
    assert len(only_issue(jira, event)) == 1
    assert errors[-1] is None, f"the issue exists, yet the event goes to the on-failure destination: {errors[-1]}"
