"""The reconcile step on in-memory ports: what it does with each kind of answer, its time budget, and the run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from jira_notifier.app.reconcile import Reconcile
from jira_notifier.app.run import OUT_OF_TIME, StepSummary, run_steps
from jira_notifier.core.lifecycle import MIN_WRITE_INTERVAL
from jira_notifier.sources.truth import Answer, SourceRef, Truth, source_ref
from tests.support.fakes import Ports, in_memory
from tests.unit.test_core import PROVIDER, SECRET, deliver

ALARM_KEY = "cloudwatch-alarm:arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx-high"


@dataclass
class FakeAlarms:
    """CloudWatch as a table of answers; ``fails`` makes the next call raise."""

    answers: dict[str, Answer] = field(default_factory=dict)
    calls: list[list[str]] = field(default_factory=list)
    fails: Exception | None = None
    source: str = "cloudwatch-alarm"
    batch_size: int = 100

    def out_of_reach(self, ref: SourceRef) -> str | None:  # noqa: ARG002
        return None

    def ask(self, refs: Sequence[SourceRef]) -> dict[tuple[str, str, str | None], Answer]:
        self.calls.append([ref.name for ref in refs])
        if self.fails:
            raise self.fails
        return {ref.key: self.answers.get(ref.name, Answer(Truth.GONE, "gone")) for ref in refs}


@pytest.fixture
def ports() -> Ports:
    return in_memory(PROVIDER, SECRET)


def step(ports: Ports, alarms: FakeAlarms, **kwargs: Any) -> Reconcile:
    return Reconcile(
        ports.store, ports.notify.flow, ports.notify.providers, [alarms], ports.deps.recorder, source_ref, **kwargs
    )


def an_open_issue(ports: Ports) -> None:
    assert deliver(ports, "ALARM", 0) == ["created"]
    ports.clock.sleep(600)


def test_a_cleared_alarm_resolves_through_the_lifecycle(ports: Ports) -> None:
    an_open_issue(ports)
    alarms = FakeAlarms({"api-5xx-high": Answer(Truth.CLEARED, "Alarm api-5xx-high is OK.", at=1_900_000_000_000)})

    summary = step(ports, alarms).run(lambda: 60.0)

    assert [r.action for r in summary.results] == ["resolved"]
    [issue] = ports.jira.issues.values()
    assert issue.done
    assert ports.counts["ReconcileResolved"] == 1 and ports.counts["ReconcileLinksChecked"] == 1


def test_a_failed_call_leaves_its_batch_unchecked_with_the_reason(ports: Ports) -> None:
    an_open_issue(ports)
    error = RuntimeError("boom")
    error.response = {"Error": {"Code": "ThrottlingException"}}  # type: ignore[attr-defined]

    summary = step(ports, FakeAlarms(fails=error)).run(lambda: 60.0)

    assert [(r.truth, r.detail) for r in summary.results] == [
        ("unchecked", "cloudwatch-alarm call failed: ThrottlingException")
    ]
    assert ports.counts["ReconcileUnchecked"] == 1 and set(ports.jira.calls) == {"createmeta", "create"}  # the firing


def test_a_removed_provider_is_left_unchecked(ports: Ports) -> None:
    an_open_issue(ports)
    ports.notify.providers.group_providers = lambda group: []  # type: ignore[method-assign]

    summary = step(ports, FakeAlarms()).run(lambda: 60.0)

    assert [r.detail for r in summary.results] == ["provider ops/jira no longer exists"]


def test_a_clear_already_applied_is_not_fought(ports: Ports) -> None:
    """A provider with no resolve transition keeps the issue open after its clear: reconcile leaves it."""
    no_resolve = replace(PROVIDER, resolve_transition=None)
    ports = in_memory(no_resolve, SECRET)
    an_open_issue(ports)
    assert deliver(ports, "OK", 5) == ["commented"]
    calls = sum(ports.jira.calls.values())

    summary = step(ports, FakeAlarms()).run(lambda: 60.0)

    assert [(r.action, r.detail) for r in summary.results] == [("skipped", "a clear was already applied to this issue")]
    assert sum(ports.jira.calls.values()) == calls


def test_with_little_time_left_nothing_new_starts_and_the_summary_says_so(ports: Ports) -> None:
    an_open_issue(ports)
    alarms = FakeAlarms()

    summary = step(ports, alarms).run(lambda: 5.0)

    assert alarms.calls == [] and summary.stopped_early
    assert [r.detail for r in summary.results] == [OUT_OF_TIME]
    assert "stopped early: too little time was left; the next run picks up the rest" in summary.notes


def test_a_change_held_back_by_coalescing_is_written_before_the_step_ends(ports: Ports) -> None:
    an_open_issue(ports)
    assert deliver(ports, "ALARM", 1, after=0.5, reason="again") in (["commented"], ["coalesced"])
    ports.clock.sleep(MIN_WRITE_INTERVAL / 4)  # the issue was written a moment ago

    summary = step(ports, FakeAlarms()).run(lambda: 60.0)

    assert [r.action for r in summary.results] == ["resolved"]
    [issue] = ports.jira.issues.values()
    assert issue.done


@dataclass
class OtherStep:
    name: str = "read-back"

    def run(self, remaining: Any, progress: Any) -> StepSummary:  # noqa: ARG002
        return StepSummary(self.name)


def test_a_run_is_its_steps_and_counts_one_completed_run(ports: Ports) -> None:
    an_open_issue(ports)

    summary = run_steps([step(ports, FakeAlarms()), OtherStep()], lambda: 60.0, ports.deps.recorder)

    assert [s.step for s in summary.steps] == ["reconcile", "read-back"]
    assert set(summary.brief()) == {"reconcile", "read-back"}
    assert ports.counts["ReconcileCompleted"] == 1


def test_a_dry_run_counts_no_run_and_writes_nothing(ports: Ports) -> None:
    an_open_issue(ports)
    before, calls = ports.store.stored(), sum(ports.jira.calls.values())

    summary = run_steps([step(ports, FakeAlarms(), dry_run=True)], lambda: 60.0, ports.deps.recorder)

    assert [r.action for r in summary.steps[0].results] == ["would-resolve"]
    assert ports.store.stored() == before and sum(ports.jira.calls.values()) == calls
    assert ports.counts["ReconcileCompleted"] == 0
