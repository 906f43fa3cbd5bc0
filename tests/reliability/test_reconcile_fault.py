"""Lost OK notifications, found by reconcile: 300 alarms fire and clear (some fire again, a few are deleted) through
the SNS function on a simulated clock, and 10% of the OK notifications never arrive. After one scheduled reconcile,
every alarm's issue is in the state of its alarm, with none duplicated and none lost; the dropped OKs that then turn
up late change nothing.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from functions.reconcile.handler import lambda_handler as reconcile_handler
from functions.sns_to_jira.handler import lambda_handler as sns_handler
from tests.support.builders import alarm_event, alerts_in
from tests.support.lambda_sim import Container, LambdaTime, simulated
from tests.support.links import put_alarm

SEED = 12
ALARMS = 300
DROPPED_OK = 0.10
REFIRED = 0.2  # fire again after their clear: their alarm is in ALARM at the end
DELETED = 0.05  # deleted after their clear (and its notification)


@dataclass
class Alarm:
    name: str
    events: list[tuple[str, dict[str, Any]]]  # (state, event) in order
    final: str  # OK, ALARM or deleted
    dropped: list[dict[str, Any]]  # OK notifications that never arrived (until late)

    @property
    def arn(self) -> str:
        return f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{self.name}"

    @property
    def label(self) -> str:
        return alerts_in(self.events[0][1])[0].dedupe_label


def alarms(rng: random.Random) -> list[Alarm]:
    made = []
    for n in range(ALARMS):
        name = f"svc-{n:03d}-errors"
        arn = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
        roll = rng.random()
        states = ["ALARM", "OK", "ALARM"] if roll < REFIRED else ["ALARM", "OK"]
        final = "deleted" if REFIRED <= roll < REFIRED + DELETED else states[-1]
        events = [
            (state, alarm_event(state, n + 10 * step, name=name, arn=arn, message_id=f"{name}-{step}"))
            for step, state in enumerate(states)
        ]
        dropped = [event for state, event in events if state == "OK" and rng.random() < DROPPED_OK]
        made.append(Alarm(name, events, final, dropped))
    return made


def in_cloudwatch(session: Any, alarm: Alarm) -> None:
    """The alarm as CloudWatch has it now."""
    cloudwatch = session.client("cloudwatch")
    put_alarm(cloudwatch, alarm.name, state=None)
    if alarm.final == "deleted":
        cloudwatch.delete_alarms(AlarmNames=[alarm.name])
    else:
        put_alarm(cloudwatch, alarm.name, alarm.final)


@pytest.mark.slow
def test_one_reconcile_brings_every_issue_to_its_alarms_state(aws: Any, jira: Any) -> None:
    rng = random.Random(SEED)
    made = alarms(rng)
    clock = LambdaTime()
    dropped = {id(event) for alarm in made for event in alarm.dropped}
    assert 0 < len(dropped) < ALARMS  # the seed drops some OKs

    # Every transition through the SNS function, minutes apart, interleaved; the dropped OKs never arrive
    with simulated(Container(sns_handler, jira, clock=clock), "sns") as sns:
        deliveries = sorted(
            ((n * 0.7 + step * 40.0 + rng.uniform(0, 30), event) for n, alarm in enumerate(made)
             for step, (_, event) in enumerate(alarm.events) if id(event) not in dropped),
            key=lambda pair: pair[0],
        )  # fmt: skip
        start = clock.now
        for when, event in deliveries:
            clock.now = max(clock.now, start + when)
            assert sns.invoke(event)[1] is None
    for alarm in made:
        in_cloudwatch(aws.session, alarm)
    out_of_step = [a.name for a in made if a.dropped and a.final != "ALARM"]
    assert out_of_step  # issues left open although their alarm cleared or was deleted

    # One scheduled run
    clock.now += 900
    with simulated(Container(reconcile_handler, jira, clock=clock), "reconcile") as scheduled:
        result, error = scheduled.invoke({})
    assert error is None and clock.overruns == []
    counts = result["reconcile"]
    assert counts["resolved"] == len(out_of_step) and counts["failed"] == 0 and counts["unchecked"] == 0

    # The dropped OKs turn up late: nothing changes
    writes = len(jira.writes())
    with simulated(Container(sns_handler, jira, clock=clock), "sns") as sns:
        for event in (event for alarm in made for event in alarm.dropped):
            clock.now += 1
            assert sns.invoke(event)[1] is None
    assert jira.writes()[writes:] == []

    verdicts = Counter(verdict(jira, alarm) for alarm in made)
    assert verdicts == Counter({"right": ALARMS})


def verdict(jira: Any, alarm: Alarm) -> str:
    issues = [issue for issue in jira.issues.values() if alarm.label in issue.fields["labels"]]
    if len(issues) != 1:
        return "duplicated" if issues else "lost"
    expected = "To Do" if alarm.final == "ALARM" else "Done"
    return "right" if issues[0].status == expected else f"wrong-state ({alarm.final}: {issues[0].status})"
