"""Fault injection: a few hundred alerts through the SNS handler while Jira and DynamoDB misbehave at random.

The stand-in Jira answers 429s, 5xx, timeouts (some after it acted) and slow responses; DynamoDB throttles some
writes beyond what the SDK retries. Lambda's own behaviour is simulated: each invocation has 60 s, a retryable
error makes Lambda invoke again with the same event (a minute, then two minutes later), and after two retries the
event goes to the on-failure destination. At the end every alert is exactly one issue or one dead-letter entry.

The schedules the random run found troublesome are replayed one by one at the end of the file.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from functions.sns_to_jira.handler import lambda_handler
from jira_notifier import wiring
from jira_notifier.errors import JiraNotifierError
from jira_notifier.events import normalize
from jira_notifier.state import SAVE_TRIES
from tests.support.builders import alarm_event, notification_event, sns_event

SEED = 3
ALERTS = 300
FUNCTION_TIMEOUT = 60.0  # the template's Timeout
RETRY_DELAYS = (60.0, 120.0)  # Lambda's asynchronous retries: MaximumRetryAttempts 2
THROTTLE = "ProvisionedThroughputExceededException"
CREATE = r"/rest/api/3/issue$"
SEARCH = r"/rest/api/3/search/jql"

Write = dict[str, Any]  # the arguments of one DynamoDB UpdateItem, as moto's backend receives them


@dataclass
class LambdaTime:
    """The simulated clock of one warm container, and the deadline of the invocation in progress."""

    now: float = 1_800_000_000.0
    deadline: float = 0.0
    overruns: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Context:
    clock: LambdaTime
    function_name: str = "jira-notifier-sns"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:jira-notifier-sns"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.clock.deadline - self.clock.now) * 1000))


@dataclass
class Container:
    """The SNS function in one warm container: what its dependencies do is up to the test."""

    aws: Any
    jira: Any
    clock: LambdaTime = field(default_factory=LambdaTime)
    throttle: Callable[[Write], bool] = lambda write: False
    response_time: Callable[[], float] = lambda: 0.1  # seconds Jira takes to answer
    acted_before_timeout: Callable[[], bool] = lambda: True  # an answer too slow to wait for: did Jira act?
    injected: Counter[str] = field(default_factory=Counter)

    def invoke(self, event: dict[str, Any]) -> Exception | None:
        """One invocation with the function's full timeout; the error Lambda would see, if any."""
        self.clock.deadline = self.clock.now + FUNCTION_TIMEOUT
        try:
            lambda_handler(event, Context(self.clock))
            error = None
        except Exception as raised:  # what Lambda sees; the product's own errors are told apart by the caller
            error = raised
        if self.clock.now > self.clock.deadline:
            self.clock.overruns.append(self.clock.now - self.clock.deadline)
        return error

    def throttles(self, write: Write) -> bool:
        if self.throttle(write):
            self.injected["throttled"] += 1
            return True
        return False


class SlowJira(requests.Session):
    """Jira's answers take simulated time; one slower than the client's timeout is a timeout, after which Jira
    may or may not have carried the request out."""

    def __init__(self, container: Container) -> None:
        super().__init__()
        self.container = container

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        took, timeout = self.container.response_time(), kwargs.get("timeout") or 10.0
        if took < timeout:
            self.container.clock.sleep(took)
            return super().request(method, url, *args, **kwargs)
        self.container.clock.sleep(timeout)
        self.container.injected["timeout"] += 1
        if self.container.acted_before_timeout():
            with contextlib.suppress(requests.RequestException):
                super().request(method, url, *args, **kwargs)
        raise requests.ReadTimeout(f"no answer within {timeout:.1f}s")


@pytest.fixture
def container(aws: Any, jira: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Container]:
    """The SNS function wired to a slow, flaky Jira and a throttling state table, on a simulated clock."""
    import botocore.config
    from moto.dynamodb.exceptions import DynamodbException
    from moto.dynamodb.models import DynamoDBBackend

    from jira_notifier.state import StateStore

    found = Container(aws, jira)
    wiring.use_jira_session(lambda: SlowJira(found))
    notifier = wiring.get_notifier("sns")
    notifier.clock, notifier.sleep = found.clock.time, found.clock.sleep
    # Throttling that outlasted the SDK's own retries: the product sees it
    dynamodb = aws.session.client("dynamodb", config=botocore.config.Config(retries={"total_max_attempts": 1}))
    notifier.store = StateStore(dynamodb, "jira-notifier-state", clock=found.clock.time, sleep=found.clock.sleep)
    original = DynamoDBBackend.update_item

    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        if found.throttles(kwargs):
            raise DynamodbException(
                f"com.amazonaws.dynamodb.v20120810#{THROTTLE}",
                "The level of configured provisioned throughput for the table was exceeded.",
            )
        return original(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(DynamoDBBackend, "update_item", update_item)
        yield found
    wiring.use_jira_session(None)


# The random run --------------------------------------------------------------------------------------------


@dataclass
class Chaos:
    """What goes wrong and when, all drawn from one seeded random source."""

    container: Container
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))

    def start(self) -> None:
        self.container.throttle = lambda write: self.rng.random() < 0.015
        self.container.response_time = self.response_time
        self.container.acted_before_timeout = lambda: self.rng.random() < 0.5

    def calm(self) -> None:
        """The faults are over."""
        self.container.throttle = lambda write: False
        self.container.response_time = lambda: 0.1
        self.container.jira.faults.clear()

    def before_invocation(self) -> None:
        """Queue Jira faults for the next matching requests, as a flaky Jira would answer them."""
        jira, injected, roll = self.container.jira, self.container.injected, self.rng.random()
        if roll < 0.07:
            reason = self.rng.choice(["jira-burst-based", "jira-per-issue-on-write", "jira-quota-tenant-based", None])
            headers = {"Retry-After": "0", **({"RateLimit-Reason": reason} if reason else {})}
            times = self.rng.randint(1, 5)
            jira.fail("POST", CREATE, 429, times=times, headers=headers)
            injected["429"] += times
        elif roll < 0.13:
            jira.fail("POST", CREATE, self.rng.choice([500, 502, 503, 504]), after=self.rng.random() < 0.5)
            injected["5xx"] += 1
        elif roll < 0.18:
            jira.fail("POST", CREATE, None, after=self.rng.random() < 0.5)
            injected["timeout"] += 1
        elif roll < 0.21:
            times = self.rng.randint(1, 4)
            jira.fail("POST", SEARCH, self.rng.choice([500, 503]), times=times)
            injected["5xx"] += times
        elif roll < 0.22:  # an outage: every create fails for a while
            jira.fail("POST", CREATE, 503, times=10)
            injected["5xx"] += 10

    def response_time(self) -> float:
        """Mostly quick; sometimes slow; now and then slower than any timeout."""
        if self.rng.random() < 0.95:
            return self.rng.uniform(0.05, 0.6)
        self.container.injected["slow"] += 1
        return self.rng.uniform(3.0, 25.0)


def alert_events(count: int) -> list[dict[str, Any]]:
    """Distinct alerts of three kinds: alarms, platform Notifications and plain text (keyed on its message id)."""
    events = []
    for n in range(count):
        kind = n % 3
        if kind == 0:
            arn = f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:service-{n}-errors"
            events.append(alarm_event("ALARM", n, name=f"service-{n}-errors", arn=arn, message_id=f"alarm-{n}"))
        elif kind == 1:
            events.append(
                notification_event(
                    "firing", dedup_key=f"incident-{n}", title=f"Incident {n}", message_id=f"notification-{n}"
                )
            )
        else:
            events.append(sns_event(f"build-agent-{n}: disk full\nfree: 0 bytes", message_id=f"text-{n}"))
    return events


@dataclass
class Tally:
    invocations: int = 0
    retries: int = 0
    destination: set[int] = field(default_factory=set)  # alerts handed to the on-failure destination
    last_error: dict[int, str] = field(default_factory=dict)  # alert -> why its last invocation failed
    foreign_errors: list[str] = field(default_factory=list)  # errors that are not the product's own


def deliver_with_lambda_retries(chaos: Chaos, events: list[dict[str, Any]]) -> Tally:
    """Each event once; failures again after Lambda's retry delays; then the on-failure destination."""
    tally, pending = Tally(), list(range(len(events)))
    for attempt in range(len(RETRY_DELAYS) + 1):
        failed = []
        for number in pending:
            chaos.before_invocation()
            tally.invocations += 1
            error = chaos.container.invoke(events[number])
            if error is not None:
                failed.append(number)
                tally.last_error[number] = f"{type(error).__name__}: {error}"
                if not isinstance(error, JiraNotifierError):
                    tally.foreign_errors.append(f"alert {number}: {tally.last_error[number]}")
            chaos.container.clock.sleep(chaos.rng.uniform(0.05, 0.5))  # the next event arrives
        if attempt < len(RETRY_DELAYS):
            chaos.container.clock.sleep(RETRY_DELAYS[attempt])
            tally.retries += len(failed)
        pending = failed
    tally.destination = set(pending)
    return tally


def parked_dedupe_keys(aws: Any) -> Counter[str]:
    sqs, keys = aws.session.client("sqs"), Counter()
    while messages := sqs.receive_message(QueueUrl=aws.dead_letter_queue_url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            keys[json.loads(message["Body"])["dedupeKey"]] += 1
            sqs.delete_message(QueueUrl=aws.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])
    return keys


def issues_by_label(jira: Any, labels: set[str]) -> Counter[str]:
    return Counter(label for issue in jira.issues.values() for label in issue.fields["labels"] if label in labels)


def classify(
    events: list[dict[str, Any]], issues: Counter[str], parked: Counter[str], destination: set[int]
) -> dict[int, str]:
    """Per alert: "issue" or "dead-letter", or what went wrong: "duplicated", "both", "lost", "parked-twice"."""
    verdicts = {}
    for number, event in enumerate(events):
        [alert] = normalize(event)
        made = issues[alert.dedupe_label]
        dead_letters = parked[alert.dedupe_key] + (number in destination)
        if made > 1:
            verdicts[number] = "duplicated"
        elif made and dead_letters:
            verdicts[number] = "both"
        elif made or dead_letters == 1:
            verdicts[number] = "issue" if made else "dead-letter"
        else:
            verdicts[number] = "lost" if not dead_letters else "parked-twice"
    return verdicts


def replay(container: Container, events: list[dict[str, Any]], numbers: set[int]) -> list[str]:
    """What an operator does once the faults are over: send the dead-lettered events again."""
    failures = []
    for number in sorted(numbers):
        error = container.invoke(events[number])
        if error is not None:
            failures.append(f"alert {number}: {error}")
    return failures


@pytest.mark.slow
def test_every_alert_is_exactly_one_issue_or_one_dead_letter(aws: Any, jira: Any, container: Container) -> None:
    events = alert_events(ALERTS)
    labels = {normalize(event)[0].dedupe_label for event in events}
    chaos = Chaos(container)
    chaos.start()

    tally = deliver_with_lambda_retries(chaos, events)

    parked = parked_dedupe_keys(aws)
    verdicts = classify(events, issues_by_label(jira, labels), parked, tally.destination)
    outcome = Counter(verdicts.values())
    created = len(jira.issues)
    troubled = {
        f"alert {n} {verdict}": tally.last_error.get(n, "no error")
        for n, verdict in verdicts.items()
        if verdict not in ("issue", "dead-letter")
    }
    # Replaying every dead letter once the faults are over must complete the picture without a duplicate
    chaos.calm()
    replayed = tally.destination | {n for n, event in enumerate(events) if parked[normalize(event)[0].dedupe_key]}
    replay_failures = replay(container, events, replayed)
    after_replay = issues_by_label(jira, labels)
    counts = (
        f"alerts sent {len(events)}, issues created {created}, parked {sum(parked.values())}, "
        f"on-failure destination {len(tally.destination)}, duplicates {outcome['duplicated']}, "
        f"lost {outcome['lost']}, issue and dead letter {outcome['both']}, parked twice {outcome['parked-twice']} | "
        f"invocations {tally.invocations}, Lambda retries {tally.retries}, "
        f"faults injected {dict(sorted(container.injected.items()))} | after replaying the dead letters: "
        f"{len(jira.issues)} issues, {sum(1 for n in after_replay.values() if n > 1)} duplicated, "
        f"{len(labels) - len(after_replay)} without an issue, replay failures {replay_failures}"
    )
    print(f"\nfault injection (seed {SEED}): {counts}")

    assert tally.foreign_errors == [], tally.foreign_errors
    assert container.clock.overruns == [], f"ran past the function timeout: {container.clock.overruns}"
    assert {"429", "5xx", "timeout", "slow", "throttled"} <= set(container.injected), counts  # every fault hit
    assert tally.retries > 0 and tally.destination, counts  # and both of Lambda's paths were taken
    assert outcome["issue"] + outcome["dead-letter"] == ALERTS, f"{counts}; by the error of their last try: {troubled}"
    assert created == outcome["issue"], counts
    assert replay_failures == [] and set(after_replay) == labels and set(after_replay.values()) == {1}, counts


# Troublesome schedules, one by one -------------------------------------------------------------------------


def sets(attribute: str) -> Callable[[Write], bool]:
    """Whether a state write sets ``attribute`` (the store names every attribute through a placeholder)."""

    def matches(write: Write) -> bool:
        placeholders = [p for p, name in (write.get("expression_attribute_names") or {}).items() if name == attribute]
        return any(f"{p} = " in (write.get("update_expression") or "") for p in placeholders)

    return matches


def first(matches: Callable[[Write], bool], times: int = 1) -> Callable[[Write], bool]:
    """Throttle only the first ``times`` writes that ``matches``."""
    done: list[bool] = []

    def throttle(write: Write) -> bool:
        if len(done) >= times or not matches(write):
            return False
        done.append(True)
        return True

    return throttle


def lambda_attempts(container: Container, event: dict[str, Any]) -> list[Exception | None]:
    """The event as Lambda delivers it: again after each retryable failure, at most three times."""
    errors: list[Exception | None] = []
    for delay in (*RETRY_DELAYS, None):
        errors.append(container.invoke(event))
        if errors[-1] is None or delay is None:
            return errors
        container.clock.sleep(delay)
    return errors


def only_issue(jira: Any, event: dict[str, Any]) -> list[Any]:
    label = normalize(event)[0].dedupe_label
    return [issue for issue in jira.issues.values() if label in issue.fields["labels"]]


def test_an_ambiguous_create_whose_mark_cannot_be_written_is_not_created_again(container: Container, jira: Any) -> None:
    # Given Jira creates the issue but its answer is lost, and the state write that marks the create as
    # unconfirmed is throttled
    event = notification_event("firing", dedup_key="ambiguous-unmarked")
    jira.fail("POST", CREATE, None, after=True)
    container.throttle = first(sets("pendingCreateAt"), times=SAVE_TRIES)  # every try of that write

    errors = lambda_attempts(container, event)

    # Then the issue is found instead of created a second time (in the same invocation or a retry)
    assert errors[-1] is None, errors
    assert len(only_issue(jira, event)) == 1, f"{len(only_issue(jira, event))} issues for one alert"


def test_a_recovery_that_fails_keeps_the_mark_of_the_unconfirmed_create(container: Container, jira: Any) -> None:
    # Given the issue was created but the state write recording it was throttled (the lease is left behind),
    # and the next invocation's search for it fails
    event = notification_event("firing", dedup_key="recovery-fails")
    container.throttle = first(sets("issueKey"), times=SAVE_TRIES)
    assert container.invoke(event) is not None
    container.clock.sleep(RETRY_DELAYS[0])
    jira.fail("POST", SEARCH, 503, times=4)
    assert container.invoke(event) is not None
    container.clock.sleep(RETRY_DELAYS[1])

    # When Lambda retries a last time
    assert container.invoke(event) is None

    # Then the issue is found, not created again
    assert len(only_issue(jira, event)) == 1, f"{len(only_issue(jira, event))} issues for one alert"


def test_a_last_attempt_that_created_the_issue_does_not_also_go_to_the_dead_letters(
    container: Container, jira: Any
) -> None:
    # Given two attempts refused with 429s, and a last one whose create succeeds but cannot be recorded
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
