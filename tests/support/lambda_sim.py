"""A warm Lambda container on a simulated clock, with the faults real Jira, DynamoDB and SQS produce.

Time only moves when something takes time: Jira answering, a state write the SDK retried, a wait. Each invocation
has the function's timeout; whatever runs past it is recorded as an overrun (Lambda would have killed it).

Jira's faults come from the stand-in (``tests.support.fake_jira``) and from ``SlowJira`` here: an answer slower
than the client's timeout is a timeout, after which Jira may still act, later (the request is carried out when the
simulated clock reaches the time Jira would have finished it).
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from jira_notifier.core.budgets import AWS_CALL_WORST_SECONDS

FUNCTION_TIMEOUT = 60.0  # the template's Timeout
RETRY_DELAYS = (60.0, 120.0)  # Lambda's asynchronous retries: MaximumRetryAttempts 2
THROTTLE = "ProvisionedThroughputExceededException"

Write = dict[str, Any]  # the arguments of one DynamoDB UpdateItem, as moto's backend receives them


@dataclass
class LambdaTime:
    """The simulated clock of one warm container, and the deadline of the invocation in progress."""

    now: float = 1_800_000_000.0
    deadline: float = 0.0
    overruns: list[float] = field(default_factory=list)
    longest: float = 0.0  # the longest invocation so far, in seconds

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def jira_now(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@dataclass
class Context:
    clock: LambdaTime
    function_name: str = "jira-notifier-sim"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:jira-notifier-sim"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.clock.deadline - self.clock.now) * 1000))


@dataclass
class Container:
    """One function in one warm container: what its dependencies do is up to the test."""

    handler: Callable[[dict[str, Any], Any], Any]
    jira: Any
    clock: LambdaTime = field(default_factory=LambdaTime)
    throttle: Callable[[Write], bool] = lambda write: False  # a state write refused after the SDK's retries
    hang: Callable[[Write], bool] = lambda write: False  # a state write DynamoDB never answers
    refuse_park: Callable[[], bool] = lambda: False  # the dead-letter queue refuses a message
    response_time: Callable[[str, str], float] = lambda method, url: 0.1  # seconds Jira takes to answer
    acted_before_timeout: Callable[[], bool] = lambda: True  # an answer too slow to wait for: did Jira act?
    injected: Counter[str] = field(default_factory=Counter)
    deferred: list[tuple[float, Callable[[], Any]]] = field(default_factory=list)  # Jira's late actions

    def invoke(self, event: dict[str, Any]) -> tuple[Any, Exception | None]:
        """One invocation with the function's full timeout: its result, or the error Lambda would see."""
        started = self.clock.now
        self.clock.deadline = started + FUNCTION_TIMEOUT
        result, error = None, None
        try:
            result = self.handler(event, Context(self.clock))
        except Exception as raised:  # what Lambda sees; the product's own errors are told apart by the caller
            error = raised
        self.clock.longest = max(self.clock.longest, self.clock.now - started)
        if self.clock.now > self.clock.deadline:
            self.clock.overruns.append(self.clock.now - self.clock.deadline)
        return result, error

    def catch_up(self) -> None:
        """Carry out the late actions Jira has finished by now."""
        now = self.clock.now
        due = sorted((item for item in self.deferred if item[0] <= now), key=lambda item: item[0])
        self.deferred = [item for item in self.deferred if item[0] > now]
        for when, action in due:
            self.clock.now = when  # Jira acted then: the created time, as its search sees it
            try:
                with contextlib.suppress(requests.RequestException):
                    action()
            finally:
                self.clock.now = now

    def settle(self) -> None:
        """Let every late action land (the faults are over and time has passed)."""
        self.clock.now = max([self.clock.now, *(when for when, _ in self.deferred)])
        self.catch_up()

    def store_write(self, write: Write) -> None:
        """What the state table does to one UpdateItem: raise a throttle or a timeout, after the time the SDK
        would have spent trying (its worst case with the functions' configuration)."""
        import botocore.exceptions
        from moto.dynamodb.exceptions import DynamodbException

        if self.throttle(write):
            self.injected["throttled"] += 1
            self.clock.sleep(AWS_CALL_WORST_SECONDS)
            raise DynamodbException(
                f"com.amazonaws.dynamodb.v20120810#{THROTTLE}",
                "The level of configured provisioned throughput for the table was exceeded.",
            )
        if self.hang(write):
            self.injected["store-timeout"] += 1
            self.clock.sleep(AWS_CALL_WORST_SECONDS)
            raise botocore.exceptions.ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")


class SlowJira(requests.Session):
    """Jira's answers take simulated time; one slower than the client's timeout is a timeout, after which Jira
    may still carry the request out, when it would have finished it."""

    def __init__(self, container: Container) -> None:
        super().__init__()
        self.container = container

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        container = self.container
        container.catch_up()
        took, timeout = container.response_time(method, url), kwargs.get("timeout") or 10.0
        if took < timeout:
            container.clock.sleep(took)
            return super().request(method, url, *args, **kwargs)
        container.injected["timeout"] += 1
        if container.acted_before_timeout():
            container.deferred.append(
                (container.clock.now + took, lambda: super(SlowJira, self).request(method, url, *args, **kwargs))
            )
        container.clock.sleep(timeout)
        raise requests.ReadTimeout(f"no answer within {timeout:.1f}s")


@contextlib.contextmanager
def simulated(container: Container, function: str) -> Iterator[Container]:
    """Wire the function's cached notifier to the container: its clock, Jira session, state table and queue."""
    import boto3
    import botocore.config
    from moto.dynamodb.models import DynamoDBBackend
    from moto.sqs.models import SQSBackend

    from jira_notifier.adapters.aws.config import client_config
    from jira_notifier.adapters.dynamodb.state import StateStore
    from jira_notifier.app.lease import Leases
    from jira_notifier.entry import wiring
    from tests.support.clocks import on_clock

    wiring.use_jira_session(lambda: SlowJira(container))
    container.jira.now = container.clock.jira_now
    notifier = on_clock(wiring.get_notifier(function), container.clock.time, container.clock.sleep)
    # The SDK's own retries are charged as simulated time by ``store_write``, not slept for real
    no_retries = client_config().merge(botocore.config.Config(retries={"total_max_attempts": 1}))
    dynamodb = boto3.session.Session().client("dynamodb", config=no_retries)
    notifier.deps.leases = Leases(
        StateStore(dynamodb, "jira-notifier-state", clock=container.clock.time, sleep=container.clock.sleep),
        container.clock.time,
    )
    update_item, send_message = DynamoDBBackend.update_item, SQSBackend.send_message

    def faulty_update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        container.store_write(kwargs)
        return update_item(self, *args, **kwargs)

    def faulty_send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        if container.refuse_park():
            container.injected["queue-refused"] += 1
            raise RuntimeError("the queue refused the message")
        return send_message(self, *args, **kwargs)

    DynamoDBBackend.update_item, SQSBackend.send_message = faulty_update_item, faulty_send_message  # type: ignore[method-assign]
    try:
        yield container
    finally:
        DynamoDBBackend.update_item, SQSBackend.send_message = update_item, send_message  # type: ignore[method-assign]
        wiring.use_jira_session(None)


def lambda_attempts(container: Container, event: dict[str, Any]) -> list[Exception | None]:
    """The event as Lambda delivers it asynchronously: again after each failure, at most three times."""
    errors: list[Exception | None] = []
    for delay in (*RETRY_DELAYS, None):
        errors.append(container.invoke(event)[1])
        if errors[-1] is None or delay is None:
            return errors
        container.clock.sleep(delay)
    return errors


def sets(attribute: str) -> Callable[[Write], bool]:
    """Whether a state write sets ``attribute`` (the store names every attribute through a placeholder)."""

    def matches(write: Write) -> bool:
        placeholders = [p for p, name in (write.get("expression_attribute_names") or {}).items() if name == attribute]
        return any(f"{p} = " in (write.get("update_expression") or "") for p in placeholders)

    return matches


def first(matches: Callable[[Write], bool], times: int = 1) -> Callable[[Write], bool]:
    """Only the first ``times`` writes that ``matches``."""
    done: list[bool] = []

    def pick(write: Write) -> bool:
        if len(done) >= times or not matches(write):
            return False
        done.append(True)
        return True

    return pick


def slow(pattern: str, seconds: float, *, times: int = 1) -> Callable[[str, str], float]:
    """Jira answers the first ``times`` requests whose ``METHOD url`` matches ``pattern`` after ``seconds``."""
    left = [times]

    def response_time(method: str, url: str) -> float:
        if left[0] > 0 and re.search(pattern, f"{method} {url}"):
            left[0] -= 1
            return seconds
        return 0.1

    return response_time
