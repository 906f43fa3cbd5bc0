"""Storms, people and the scheduled run together, while Jira and AWS misbehave: a seeded random run of a few hours.

24 alarms in eight groups and a Security Hub finding change state at random; each change is notified on some of
its channels (SNS, EventBridge, the alarm action, the SQS buffer), some notifications never arrive, some arrive
twice, none in order. People resolve (as done or won't-fix), reopen, delete and re-prioritise the issues; Jira sends
its webhooks late, twice or never. The scheduled run (read-back, reconcile, sync-back retry) comes every 15 minutes.
Jira answers 429s, 5xx and timeouts (after acting or not) and its search trails writes; Security Hub throttles
sync-backs. A failed invocation is retried as Lambda retries it, then parked and replayed once the faults are over.

It runs on the in-memory world of the lifecycle model (``tests/model/world.py``), on its simulated clock, and ends
with the model's invariants at rest (``tests/model/invariants.py``): it prints the duplicates, lost episodes and
wrong final states it finds, by kind, with the storm provider and without.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest

from tests.model.invariants import Known, KnownDefect, at_rest, tally
from tests.model.world import CHANNELS, FINDING, Delivery, World, quiet

SEED = 20
ALARMS = tuple(
    f"{team}-{n}" for team in ("api", "db", "queue", "cache", "auth", "mail", "search", "batch") for n in range(3)
)
HOURS = 12.0
MEAN_FLIP_SECONDS = 30 * 60.0  # how long an alert stays in a state, on average
LOST = 0.1  # a state change notified on no channel at all
TWICE = 0.2  # a notification delivered a second time, later
RUN_EVERY = 15 * 60.0  # ReconcileIntervalMinutes
PERSON_EVERY = 12 * 60.0  # how often, on average, someone acts in Jira
RETRY_DELAYS = (60.0, 120.0)  # Lambda's asynchronous retries; then the dead-letter queue
BUFFER_WINDOW = 2.0  # seconds SQS gathers a batch
FAILURES = ("duplicate", "lost", "wrong-state")


@dataclass
class Report:
    grouped: bool
    invocations: Counter[str]
    injected: Counter[str]
    issues: int
    found: Counter[str]  # every failure, by kind
    beyond_known: Counter[str]  # those the known defects do not explain
    set_aside: Counter[KnownDefect]
    examples: list[str] = field(default_factory=list)

    def line(self) -> str:
        counts = ", ".join(f"{self.found[kind]} {kind}" for kind in FAILURES)
        other = {kind: n for kind, n in self.found.items() if kind not in FAILURES}
        beyond = dict(self.beyond_known) or "none"
        return (
            f"{'storms' if self.grouped else 'issues of their own'}: {sum(self.invocations.values())} invocations, "
            f"{self.issues} issues, faults {dict(self.injected)}; {counts}; other {other or 'none'}; "
            f"beyond the known defects: {beyond}"
        )


class Run:
    """The seeded schedule of one run, played on the world's clock."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world, self.rng = world, rng
        self.queue: list[tuple[float, int, str, Any]] = []
        self.order = itertools.count()
        self.parked: list[Delivery] = []
        self.injected: Counter[str] = Counter()

    def at(self, when: float, kind: str, what: Any = None) -> None:
        heapq.heappush(self.queue, (when, next(self.order), kind, what))

    def plan(self) -> None:
        start, rng = self.world.clock.now, self.rng
        end = start + HOURS * 3600
        for name in self.world.sources:
            when = start + rng.uniform(0, 600)
            while when < end:
                self.at(when, "change", name)
                when += rng.expovariate(1 / MEAN_FLIP_SECONDS) + 1.0
        for n in range(int(HOURS * 3600 / RUN_EVERY)):
            self.at(start + (n + 1) * RUN_EVERY, "scheduled-run")
        when = start
        while when < end:
            when += rng.expovariate(1 / PERSON_EVERY)
            self.at(when, "person")

    def play(self) -> list[Delivery]:
        """Every planned step in time order; what is still in flight (or parked) when the plan runs out."""
        world, rng = self.world, self.rng
        while self.queue:
            when, _, kind, what = heapq.heappop(self.queue)
            world.clock.now = max(world.clock.now, when)
            self.weather()
            if kind == "change":
                self.change(what)
            elif kind == "deliver":
                self.deliver(*what)
            elif kind == "scheduled-run":
                world.scheduled_run()
            elif kind == "person":
                self.person()
            elif kind == "webhook" and world.webhook(*what) >= 500 and rng.random() < 0.9:
                self.at(world.clock.now + 60, "webhook", what)
        return self.parked

    def change(self, name: str) -> None:
        rng = self.rng
        channels = [] if rng.random() < LOST else rng.sample(CHANNELS, rng.randint(1, 3))
        if name == FINDING:
            channels = ["eventbridge"] if channels else []
        for delivery in self.world.transition(name, channels):
            self.at(self.world.clock.now + rng.uniform(0.1, 30), "deliver", (delivery, 0))
            if rng.random() < TWICE:
                self.at(self.world.clock.now + rng.uniform(1, 300), "deliver", (delivery, 0))

    def deliver(self, delivery: Delivery, attempt: int) -> None:
        batch = [(delivery, attempt)]
        if delivery.channel == "sqs":  # the buffer's batch: every record that arrives within its window
            while self.queue and self.queue[0][2] == "deliver" and self.queue[0][3][0].channel == "sqs":
                if self.queue[0][0] > self.world.clock.now + BUFFER_WINDOW:
                    break
                batch.append(heapq.heappop(self.queue)[3])
            results = self.world.deliver_batch([d for d, _ in batch])
        else:
            results = [self.world.deliver(delivery)]
        for (failed, tries), result in zip(batch, results, strict=True):
            if result == "done":
                continue
            if result == "retry" and tries < len(RETRY_DELAYS):
                self.at(self.world.clock.now + RETRY_DELAYS[tries], "deliver", (failed, tries + 1))
            else:  # parked (or retries ran out): the operator replays the dead letters once the faults are over
                self.parked.append(failed)

    def person(self) -> None:
        world, rng = self.world, self.rng
        issues = world.issues()
        if rng.random() < 0.1:
            world.suppress_in_security_hub(FINDING)
        if not issues:
            return
        issue = rng.choice(issues)
        done = issue.status == "Done"
        action = rng.choice(("reopen",) if done else ("resolve", "wont-fix", "delete", "priority", "priority"))
        world.person(action, issue, rng.choice(("Highest", "High", "Low")) if action == "priority" else "")
        for identifier, payload in world.outbox:
            roll = rng.random()
            if roll < 0.8:  # sent within a minute; else never (the read-back finds it)
                self.at(world.clock.now + rng.uniform(1, 60), "webhook", (identifier, payload))
            if roll < 0.1:  # and replayed later
                self.at(world.clock.now + rng.uniform(60, 600), "webhook", (identifier, payload))
        world.outbox.clear()

    def weather(self) -> None:
        """Before each step: Jira and AWS misbehave now and then."""
        world, rng, roll = self.world, self.rng, self.rng.random()
        if roll < 0.03:
            call = rng.choice(("create", "bulk", "comment", "transition", "search", "edit"))
            kind = rng.choice(("429", "5xx", "5xx-after", "timeout", "timeout-after"))
            world.jira_fault(kind, call, rng.randint(1, 2))
            self.injected[kind] += 1
        elif roll < 0.04:
            world.jira.search_lag = rng.choice((0.0, 20.0, 45.0))
            self.injected["search-lag"] += 1
        elif roll < 0.05:
            world.security_hub.throttled = not world.security_hub.throttled
            self.injected["sync-back-throttled"] += world.security_hub.throttled


@cache
def run(*, grouped: bool, seed: int = SEED) -> Report:
    """One run (each runs once per session: both tests read its report). The Jira client's backoff jitter draws
    from ``random``: seeded too, and put back as it was."""
    jitter = random.getstate()
    random.seed(seed)
    try:
        return _run(grouped, seed)
    finally:
        random.setstate(jitter)


def _run(grouped: bool, seed: int) -> Report:
    with quiet():
        world = World(grouped=grouped, alarms=ALARMS)
        schedule = Run(world, random.Random(seed))
        schedule.plan()
        left = world.settle(schedule.play())
        found = at_rest(world, left)
        aside = Known(frozenset(KnownDefect))
        beyond = at_rest(world, left, aside)
    return Report(
        grouped,
        world.invocations,
        schedule.injected,
        len(world.issues()),
        tally(found),
        tally(beyond),
        aside.set_aside,
        found[:5],
    )


@pytest.mark.slow
@pytest.mark.parametrize("grouped", [False, True], ids=["issues-of-their-own", "storms"])
def test_storms_people_and_the_scheduled_run_leave_every_alert_right(
    grouped: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run(grouped=grouped)
    with capsys.disabled():
        print(f"\nlifecycle fault run, {report.line()}")

    assert sum(report.invocations.values()) > 1000 and report.injected  # the run did run, and misbehaved
    assert {kind: report.found[kind] for kind in FAILURES} == dict.fromkeys(FAILURES, 0), report.line()
    # Anything else only as a defect not fixed yet explains it (KnownDefect: each has its expected-failure tests)
    assert report.beyond_known == Counter(), (report.line(), report.examples)
