"""A model-based test of one alert's lifecycle across every path: Hypothesis interleaves what the sources, the
channels, the people in Jira, the scheduled run, the webhook and the faults do, and the invariants of product.md's
"One lifecycle, every path" are checked after every step and, at the end, at rest (``invariants.py``).

Everything runs on in-memory ports through one driver (``world.py``), on a simulated clock: thousands of steps a
minute. The profile comes from ``MODEL_PROFILE``: ``default`` (make test: a fixed, derandomized budget) or ``soak``
(make soak: at least 100,000 steps). The steps each test ran are printed at the end of the session.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.model.invariants import Known, KnownDefect, always, at_rest
from tests.model.world import ALARMS, CHANNELS, FINDING, Delivery, World, quiet

STEPS: Counter[str] = Counter()  # steps run, by test (printed by tests/model/conftest.py)
EXAMPLES: Counter[str] = Counter()  # examples run, by test
SET_ASIDE: Counter[KnownDefect] = Counter()  # examples in which a known defect's case was set aside

PROFILES = {
    # make test: deterministic, well under two minutes on one busy core (about 13,000 steps)
    "default": settings(
        max_examples=300,
        stateful_step_count=50,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    ),
    # make soak: at least 100,000 steps on fresh random examples, each up to twice as long as make test's
    "soak": settings(
        max_examples=int(os.environ.get("MODEL_EXAMPLES", "1500")),
        stateful_step_count=100,
        derandomize=False,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    ),
}
PROFILE_NAME = os.environ.get("MODEL_PROFILE", "default")
PROFILE = PROFILES[PROFILE_NAME]

ALERTS = (*ALARMS, FINDING)
FAULTS = ("429", "5xx", "5xx-after", "timeout", "timeout-after")
CALLS = ("create", "bulk", "comment", "transition", "edit", "search", "get")
WAITS = (1.0, 2.0, 5.0, 30.0, 90.0, 600.0, 3600.0, 5 * 3600.0, 86400.0, 8 * 86400.0)
PRIORITIES = ("Highest", "High", "Medium", "Low")
picks = st.integers(min_value=0, max_value=1_000)


class Lifecycle(RuleBasedStateMachine):
    """The world's alerts, channels, people, runs and faults, interleaved. The cases of the defects not fixed yet
    (``KnownDefect``, each with its expected-failure regression tests) are set aside, and counted."""

    known: ClassVar[frozenset[KnownDefect]] = frozenset(KnownDefect)
    name: ClassVar[str] = "lifecycle"

    def __init__(self) -> None:
        super().__init__()
        self.in_flight: list[Delivery] = []  # notifications sent and not yet taken in (a failed one comes back)
        self.delivered: list[Delivery] = []  # taken in: at-least-once delivery may bring any of them again
        self.aside = Known(self.known)

    @initialize(grouped=st.booleans())
    def start(self, grouped: bool) -> None:
        self.world = World(grouped=grouped)
        EXAMPLES[self.name] += 1

    # ---- the sources and the channels --------------------------------------------------------------------------

    @rule(alert=st.sampled_from(ALERTS), channels=st.lists(st.sampled_from(CHANNELS), unique=True, max_size=3))
    def source_changes(self, alert: str, channels: list[str]) -> None:
        """An alarm flips (or the finding fails, or passes), notified on some channels (none: lost everywhere)."""
        if alert == FINDING:
            channels = ["eventbridge"] if channels else []
        self.in_flight += self.world.transition(alert, channels)

    @rule(alert=st.sampled_from(ALARMS), channel=st.sampled_from(("sns", "eventbridge", "sqs")))
    def source_repeats(self, alert: str, channel: str) -> None:
        """The alarm's current state notified again under a new message id."""
        repeated = self.world.repeat(alert, channel)
        if repeated is not None:
            self.in_flight.append(repeated)

    @precondition(lambda self: self.in_flight)
    @rule(pick=picks)
    def deliver(self, pick: int) -> None:
        """Any notification in flight arrives next (SNS and EventBridge keep no order)."""
        delivery = self.in_flight.pop(pick % len(self.in_flight))
        self._after(delivery, self.world.deliver(delivery))

    @precondition(lambda self: any(d.channel == "sqs" for d in self.in_flight))
    @rule()
    def deliver_buffered(self) -> None:
        """The buffer's records in flight arrive in one SQS batch."""
        batch = [d for d in self.in_flight if d.channel == "sqs"][:10]
        self.in_flight = [d for d in self.in_flight if d not in batch]
        for delivery, result in zip(batch, self.world.deliver_batch(batch), strict=True):
            self._after(delivery, result)

    @precondition(lambda self: self.in_flight)
    @rule(pick=picks)
    def lose(self, pick: int) -> None:
        """A notification in flight never arrives."""
        self.in_flight.pop(pick % len(self.in_flight))

    @precondition(lambda self: self.delivered)
    @rule(pick=picks)
    def deliver_again(self, pick: int) -> None:
        """A notification already taken in arrives again (at-least-once delivery, a Lambda retry)."""
        self.in_flight.append(self.delivered[pick % len(self.delivered)])

    def _after(self, delivery: Delivery, result: str) -> None:
        if result == "done":
            self.delivered.append(delivery)
        else:  # retried by Lambda or SQS, or replayed from the dead-letter queue
            self.in_flight.append(delivery)

    @rule(seconds=st.sampled_from(WAITS))
    def time_passes(self, seconds: float) -> None:
        self.world.wait(seconds)

    # ---- people ------------------------------------------------------------------------------------------------

    @precondition(lambda self: self.world.issues())
    @rule(
        pick=picks,
        action=st.sampled_from(("resolve", "wont-fix", "reopen", "delete", "priority")),
        priority=st.sampled_from(PRIORITIES),
    )
    def person_acts(self, pick: int, action: str, priority: str) -> None:
        """A person resolves (as done or won't-fix), reopens, deletes, or sets the priority of an issue."""
        issues = self.world.issues()
        issue = issues[pick % len(issues)]
        done = issue.status == "Done"
        if (action in ("resolve", "wont-fix") and done) or (action == "reopen" and not done):
            return
        self.world.person(action, issue, priority if action == "priority" else "")

    @rule()
    def person_suppresses_the_finding(self) -> None:
        """A person sets the finding's workflow to SUPPRESSED in Security Hub."""
        self.world.suppress_in_security_hub(FINDING)

    # ---- the scheduled run and the webhook -----------------------------------------------------------------------

    @rule()
    def scheduled_run(self) -> None:
        self.world.scheduled_run()

    @precondition(lambda self: self.world.outbox)
    @rule(pick=picks)
    def webhook(self, pick: int) -> None:
        """Jira delivers one of the webhooks it owes (in any order); one that fails is delivered again later."""
        identifier, payload = self.world.outbox.pop(pick % len(self.world.outbox))
        if self.world.webhook(identifier, payload) >= 500:
            self.world.outbox.append((identifier, payload))

    @precondition(lambda self: self.world.webhooks_sent)
    @rule(pick=picks, same=st.booleans())
    def webhook_again(self, pick: int, same: bool) -> None:
        """A webhook delivered again: a replay of the same delivery, or a late copy under a new identifier."""
        identifier, payload = self.world.webhooks_sent[pick % len(self.world.webhooks_sent)]
        self.world.webhook(identifier if same else f"{identifier}-late-{pick}", payload)

    # ---- faults --------------------------------------------------------------------------------------------------

    @rule(kind=st.sampled_from(FAULTS), call=st.sampled_from(CALLS), times=st.integers(1, 2))
    def jira_fails(self, kind: str, call: str, times: int) -> None:
        self.world.jira_fault(kind, call, times)

    @rule(lag=st.sampled_from((0.0, 15.0, 45.0)))
    def jira_search_lags(self, lag: float) -> None:
        self.world.jira.search_lag = lag

    @rule(throttled=st.booleans())
    def aws_throttles_sync_back(self, throttled: bool) -> None:
        self.world.security_hub.throttled = throttled

    # ---- what holds ----------------------------------------------------------------------------------------------

    @invariant()
    def holds_after_every_step(self) -> None:
        STEPS[self.name] += 1
        if hasattr(self, "world"):
            problems = always(self.world, self.aside)
            assert not problems, problems

    def teardown(self) -> None:
        if not hasattr(self, "world"):
            return
        left = self.world.settle(self.in_flight)
        problems = at_rest(self.world, left, self.aside)
        SET_ASIDE.update(set(self.aside.set_aside))
        assert not problems, problems


@pytest.fixture(autouse=True)
def _quiet() -> object:
    with quiet():
        yield


def test_lifecycle() -> None:
    Lifecycle.TestCase.settings = PROFILE
    Lifecycle.TestCase().runTest()
