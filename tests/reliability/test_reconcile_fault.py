"""Lost OK notifications, found by reconcile: 120 alarms (300 with ``MODEL_PROFILE=soak``) fire and clear (some
fire again, a few are deleted) through the SNS function on a simulated clock, and 10% of the OK notifications never
arrive. After one scheduled reconcile, every alarm's issue is in the state of its alarm, with none duplicated and
none lost; the dropped OKs that then turn up late change nothing. With people acting in Jira meanwhile (resolving
issues whose alarm fires, as done or as won't-fix, reopening issues the product resolved), the run's read-back
records each decision first and every one stands: each issue ends where the rules of "Jira talks back" put it.
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from functions.reconcile.handler import lambda_handler as reconcile_handler
from functions.sns_to_jira.handler import lambda_handler as sns_handler
from jira_notifier.adapters.dynamodb.state import state_from_item
from jira_notifier.core.alert import DEDUPE_LABEL_PREFIX
from jira_notifier.core.state import PersonDecision
from tests.conftest import DEFAULT_PROVIDER
from tests.support.builders import alarm_event, alerts_in
from tests.support.lambda_sim import Container, LambdaTime, simulated
from tests.support.links import put_alarm
from tests.support.scale import sized

ALARMS, SEED = sized(quick=(120, 11), soak=(300, 12))
DROPPED_OK = 0.10
REFIRED = 0.2  # fire again after their clear: their alarm is in ALARM at the end
DELETED = 0.05  # deleted after their clear (and its notification)
WONT_FIX_RESOLUTION = DEFAULT_PROVIDER["wont_fix_resolution"]


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


def fire_and_clear(
    aws: Any, jira: Any, made: list[Alarm], clock: LambdaTime, rng: random.Random, people: dict[str, Person]
) -> None:
    """Every transition through the SNS function, minutes apart, interleaved; the dropped OKs never arrive. A
    person acts on an alarm's issue in Jira a few seconds after its last notification that arrived. CloudWatch
    then holds each alarm's final state."""
    dropped = {id(event) for alarm in made for event in alarm.dropped}
    steps: list[tuple[float, Callable[[], None]]] = []
    with simulated(Container(sns_handler, jira, clock=clock), "sns") as sns:
        for n, alarm in enumerate(made):
            arrive = [(n * 0.7 + step * 40.0 + rng.uniform(0, 30), event)
                      for step, (_, event) in enumerate(alarm.events) if id(event) not in dropped]  # fmt: skip
            steps += [(when, functools.partial(deliver, sns, event)) for when, event in arrive]
            if alarm.name in people:
                steps.append((arrive[-1][0] + 5.0, functools.partial(people[alarm.name].act, jira, alarm)))
        start = clock.now
        for when, step in sorted(steps, key=lambda pair: pair[0]):
            clock.now = max(clock.now, start + when)
            step()
    for alarm in made:
        in_cloudwatch(aws.session, alarm)


def deliver(sns: Container, event: dict[str, Any]) -> None:
    assert sns.invoke(event)[1] is None


def scheduled_run(jira: Any, clock: LambdaTime) -> dict[str, Any]:
    """One scheduled run (read-back, reconcile, sync-back) 15 minutes after the last delivery; its result."""
    clock.now += 900
    with simulated(Container(reconcile_handler, jira, clock=clock), "reconcile") as scheduled:
        result, error = scheduled.invoke({})
    assert error is None and clock.overruns == []
    return dict(result)


@pytest.mark.slow
def test_one_reconcile_brings_every_issue_to_its_alarms_state(aws: Any, jira: Any) -> None:
    rng = random.Random(SEED)
    made = alarms(rng)
    clock = LambdaTime()
    assert 0 < sum(len(alarm.dropped) for alarm in made) < ALARMS  # the seed drops some OKs

    fire_and_clear(aws, jira, made, clock, rng, people={})
    out_of_step = [a.name for a in made if a.dropped and a.final != "ALARM"]
    assert out_of_step  # issues left open although their alarm cleared or was deleted

    counts = scheduled_run(jira, clock)["reconcile"]
    assert counts["resolved"] == len(out_of_step) and counts["failed"] == 0 and counts["unchecked"] == 0

    # The dropped OKs turn up late: nothing changes
    writes = len(jira.writes())
    with simulated(Container(sns_handler, jira, clock=clock), "sns") as sns:
        for event in (event for alarm in made for event in alarm.dropped):
            clock.now += 1
            assert sns.invoke(event)[1] is None
    assert jira.writes()[writes:] == []

    verdicts = Counter(verdict(jira, alarm, expected_status(alarm, None)) for alarm in made)
    assert verdicts == Counter({"right": ALARMS})


# ---- people act in Jira meanwhile ------------------------------------------------------------------------------

RESOLVED, WONT_FIX, REOPENED = PersonDecision.RESOLVED, PersonDecision.WONT_FIX, PersonDecision.REOPENED
PERSON_SHARE = 0.3  # of the alarms each kind of decision can apply to


@dataclass(frozen=True)
class Person:
    decision: PersonDecision

    def act(self, jira: Any, alarm: Alarm) -> None:
        key = issues_of(jira, alarm)[0].key
        if self.decision is REOPENED:
            jira.reopen_by_hand(key)
        else:
            jira.resolve_by_hand(key, WONT_FIX_RESOLUTION if self.decision is WONT_FIX else "Done")


def people_for(made: list[Alarm], rng: random.Random) -> dict[str, Person]:
    """Who acts on which issue, while the notifications still arrive:

    - resolved as done, or as the provider's won't-fix resolution, right after the alarm fired again (it is in
      ALARM at the end): the issue the product reopened or kept open is resolved while its alarm fires;
    - reopened right after the product resolved the issue on the alarm's clear (delivered, the alarm stays OK).
    """
    people: dict[str, Person] = {}
    for alarm in made:
        roll = rng.random()
        if alarm.final == "ALARM" and roll < 2 * PERSON_SHARE:
            people[alarm.name] = Person(RESOLVED if roll < PERSON_SHARE else WONT_FIX)
        elif alarm.final == "OK" and not alarm.dropped and roll < PERSON_SHARE:
            people[alarm.name] = Person(REOPENED)
    return people


def expected_status(alarm: Alarm, person: Person | None) -> str:
    """The issue's status after the scheduled run (README "Jira talks back", ``lifecycle.decide``):

    - nobody acted: the alarm's state, the product resolves on a clear and reconcile resolves what a lost OK left
      open, so open ("To Do") in ALARM, "Done" when OK or deleted;
    - resolved by a person (as done or as won't-fix) while the alarm fires: "Done", the person's decision wins over
      the firing until the alarm clears (done) or for good (won't-fix);
    - reopened by a person after the product's resolve on a clear: "To Do"; the clear was already applied, so
      the issue stays open until the alarm clears again (reconcile does not fight a person's reopen).
    """
    if person is None:
        return "To Do" if alarm.final == "ALARM" else "Done"
    return "To Do" if person.decision is REOPENED else "Done"


@pytest.mark.slow
def test_people_acting_meanwhile_keep_their_decisions_through_the_run(aws: Any, jira: Any) -> None:
    rng = random.Random(SEED)
    made = alarms(rng)
    people = people_for(made, random.Random(SEED + 1))
    clock = LambdaTime()
    kinds = Counter(person.decision for person in people.values())
    assert all(kinds[decision] >= 5 for decision in (RESOLVED, WONT_FIX, REOPENED)), kinds  # the seed picks each

    fire_and_clear(aws, jira, made, clock, rng, people)
    result = scheduled_run(jira, clock)
    out_of_step = [a.name for a in made if a.dropped and a.final != "ALARM"]
    assert result["readback"]["links"] == len(people)  # one decision read back per issue a person acted on
    assert result["reconcile"]["resolved"] == len(out_of_step) and result["reconcile"]["failed"] == 0

    verdicts = Counter(verdict(jira, alarm, expected_status(alarm, people.get(alarm.name))) for alarm in made)
    assert verdicts == Counter({"right": ALARMS})
    recorded = person_decisions(aws)
    assert {alarm.name: recorded.get(alarm.label) for alarm in made} == {
        alarm.name: people[alarm.name].decision if alarm.name in people else None for alarm in made
    }

    # What comes next for each decision, through the SNS function: a person's resolve while firing gets one
    # comment however often the alarm repeats; won't-fix is never reopened, even when the alarm clears and fires
    # again; a reopened issue takes comments again and is resolved by the next clear.
    follow_up = {RESOLVED: ("ALARM", "ALARM"), WONT_FIX: ("OK", "ALARM"), REOPENED: ("ALARM", "OK")}
    # (status, comments added): one note for each held-back decision; the repeat's comment and the resolve's own
    after = {RESOLVED: ("Done", 1), WONT_FIX: ("Done", 1), REOPENED: ("Done", 2)}
    comments = {alarm.name: len(issues_of(jira, alarm)[0].comments) for alarm in made}
    with simulated(Container(sns_handler, jira, clock=clock), "sns") as sns:
        for n, alarm in enumerate(made):
            for step, state in enumerate(follow_up[people[alarm.name].decision] if alarm.name in people else ()):
                clock.now += 60
                later = n + 10 * (len(alarm.events) + step)  # after the alarm's own transitions
                # A repeat in the same episode says it comes from ALARM; a firing after a clear, from OK
                previous = "ALARM" if (state, step) == ("ALARM", 1) or people[alarm.name].decision is RESOLVED else None
                event = alarm_event(
                    state, later, name=alarm.name, arn=alarm.arn, message_id=f"{alarm.name}+{step}", previous=previous
                )
                deliver(sns, event)
    outcomes = Counter(
        (people[alarm.name].decision, issue.status, len(issue.comments) - comments[alarm.name])
        for alarm in made
        if alarm.name in people
        for issue in issues_of(jira, alarm)
    )
    assert outcomes == Counter({(d, *after[d]): n for d, n in kinds.items()})


def issues_of(jira: Any, alarm: Alarm) -> list[Any]:
    return [issue for issue in jira.issues.values() if alarm.label in issue.fields["labels"]]


def person_decisions(aws: Any) -> dict[str, PersonDecision | None]:
    """The person's decision each alert's state holds, by the alert's ``jn-<hash>`` label."""
    pages = aws.session.client("dynamodb").get_paginator("scan").paginate(TableName="jira-notifier-state")
    states = [state_from_item(item["pk"]["S"], item) for page in pages for item in page["Items"]]
    return {
        DEDUPE_LABEL_PREFIX + state.pk.split("#", 1)[1]: state.person_decision
        for state in states
        if state.issue_key and state.provider == "ops/jira"
    }


def verdict(jira: Any, alarm: Alarm, expected: str) -> str:
    issues = issues_of(jira, alarm)
    if len(issues) != 1:
        return "duplicated" if issues else "lost"
    return "right" if issues[0].status == expected else f"wrong-state ({alarm.final}: {issues[0].status})"
