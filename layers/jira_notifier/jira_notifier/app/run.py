"""The scheduled run that closes the loop: its steps, and what each reports.

A run is a list of steps (``Step``), each returning its own summary (``StepSummary``: one ``LinkResult`` per link
it looked at, and notes). The steps, in order: read back what people did in Jira (``ReadBack``), reconcile open
issues with their sources (``app.reconcile.Reconcile``), and send again the sync-backs to AWS that failed
(``SyncBackRetry``). ``entry.scheduled`` wires them to the real adapters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from jira_notifier.app.deps import Deps
from jira_notifier.core.budgets import START_BUDGET_SECONDS
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import JiraNotifierError
from jira_notifier.ports import OwnedIssues, ProviderSource, Recorder, SyncBackPort, Truth

OUT_OF_TIME = "not reached before the run's time ran out; the next run picks it up"


class LinkTruth(StrEnum):
    """What a link's source said, or why none was asked."""

    ACTIVE = Truth.ACTIVE.value
    CLEARED = Truth.CLEARED.value
    GONE = Truth.GONE.value
    UNCHECKED = Truth.UNCHECKED.value
    NO_SOURCE = "no-source"  # the source keeps no state to ask
    MEMBERS = "members"  # a storm's parent: its members' sources are asked
    PERSON = "person"  # the read-back: what a person did in Jira


class LinkAction(StrEnum):
    """What the run did with a link (or, in a dry run, would do)."""

    NONE = "none"
    UNCHECKED = "unchecked"
    SKIPPED = "skipped"
    DEFERRED = "deferred"  # not reached in this run's time
    FAILED = "failed"
    RESOLVED = "resolved"
    COMMENTED = "commented"
    REOPENED = "reopened"
    RECOVERED = "recovered"
    COALESCED = "coalesced"
    GROUPED = "grouped"
    CREATED = "created"
    IGNORED = "ignored"
    PARKED = "parked"
    RETRY = "retry"
    RECORDED = "recorded"
    WOULD_RESOLVE = "would-resolve"
    WOULD_COMMENT = "would-comment"
    WOULD_SKIP = "would-skip"
    WOULD_RECOVER = "would-recover"
    WOULD_CREATE = "would-create"
    WOULD_REFIRE = "would-refire"
    WOULD_REOPEN = "would-reopen"


@dataclass(frozen=True, slots=True)
class LinkResult:
    """What happened to one open link."""

    issue_key: str | None
    provider: str
    source: str
    truth: LinkTruth
    action: LinkAction
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "issueKey": self.issue_key,
            "provider": self.provider,
            "source": self.source,
            "truth": self.truth,
            "action": self.action,
            "detail": self.detail,
        }


@dataclass
class StepSummary:
    step: str
    dry_run: bool = False
    stopped_early: bool = False  # the time ran out: the rest is left for the next run
    results: list[LinkResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, *, truth: LinkTruth | None = None, action: LinkAction | None = None) -> int:
        return sum(
            1 for r in self.results if (truth is None or r.truth == truth) and (action is None or r.action == action)
        )

    def counts(self) -> dict[str, int]:
        return {
            "links": len(self.results),
            "checked": self.checked,
            "active": self.count(truth=LinkTruth.ACTIVE),
            "cleared": self.count(truth=LinkTruth.CLEARED),
            "gone": self.count(truth=LinkTruth.GONE),
            "unchecked": self.count(truth=LinkTruth.UNCHECKED),
            "noSource": self.count(truth=LinkTruth.NO_SOURCE),
            "resolved": self.count(action=LinkAction.RESOLVED),
            "commented": self.count(action=LinkAction.COMMENTED),
            "wouldResolve": self.count(action=LinkAction.WOULD_RESOLVE),
            "wouldComment": self.count(action=LinkAction.WOULD_COMMENT),
            "failed": self.count(action=LinkAction.FAILED),
        }

    @property
    def checked(self) -> int:
        return sum(1 for r in self.results if r.truth in (LinkTruth.ACTIVE, LinkTruth.CLEARED, LinkTruth.GONE))

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "dryRun": self.dry_run,
            "stoppedEarly": self.stopped_early,
            "counts": self.counts(),
            "notes": self.notes,
            "links": [r.to_dict() for r in self.results],
        }


class Step(Protocol):
    name: str

    def run(self, remaining: Callable[[], float], progress: Progress) -> StepSummary: ...


Progress = Callable[[str, int, int], None]  # (step, done, total)


def no_progress(step: str, done: int, total: int) -> None:  # noqa: ARG001 - the scheduled run shows none
    return None


@dataclass
class RunSummary:
    steps: list[StepSummary]

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [step.to_dict() for step in self.steps]}

    def brief(self) -> dict[str, Any]:
        """The handler's return value: each step's counts, without the per-link list."""
        return {s.step: {**s.counts(), "stoppedEarly": s.stopped_early, "notes": s.notes} for s in self.steps}


def run_steps(
    steps: Sequence[Step], remaining: Callable[[], float], recorder: Recorder, progress: Progress = no_progress
) -> RunSummary:
    """Each step in turn; ``ReconcileCompleted`` once every step returned (a step cut short by time still
    completes: what it left is the next run's)."""
    summaries = [step.run(remaining, progress) for step in steps]
    if not any(summary.dry_run for summary in summaries):
        recorder.count("ReconcileCompleted")
    return RunSummary(summaries)


@dataclass
class ReadBack:
    """The read-back step: what people did in Jira to the issues the product owns, recorded per provider
    (``talkback.read_back``); a provider whose read-back fails is read again, from the same point, by the next run."""

    providers: Callable[[], Sequence[ProviderConfig]]
    deps: Deps
    owned: OwnedIssues
    recorder: Recorder
    group: str | None = None
    dry_run: bool = False
    name: str = "readback"

    def run(self, remaining: Callable[[], float], progress: Progress = no_progress) -> StepSummary:
        from jira_notifier.app.readback import read_back

        summary = StepSummary(self.name, dry_run=self.dry_run)
        providers = [p for p in self.providers() if self.group in (None, p.group)]
        for done, provider in enumerate(providers):
            progress(self.name, done, len(providers))
            if remaining() < START_BUDGET_SECONDS:
                summary.stopped_early = True
                summary.notes.append(f"{provider.provider_id}: {OUT_OF_TIME}")
                continue
            try:
                client = self.deps.jira(provider, remaining)
                report = read_back(
                    provider,
                    client,
                    self.deps.leases,
                    self.owned,
                    self.recorder,
                    sync_back=self.deps.sync_back,
                    clock=self.deps.clock,
                    remaining=remaining,
                    dry_run=self.dry_run,
                )
            except JiraNotifierError as error:
                summary.notes.append(f"{provider.provider_id}: not read back ({error.reason}: {error})")
                continue
            summary.notes.append(f"{provider.provider_id}: {report.issues_read} changed issues read")
            summary.results += [
                LinkResult(
                    done.issue_key, done.provider, "jira", LinkTruth.PERSON, LinkAction.RECORDED, ",".join(done.changes)
                )
                for done in report.recorded
            ]
        progress(self.name, len(providers), len(providers))
        return summary


@dataclass
class SyncBackRetry:
    """The last step: sync-backs to AWS that failed in a way that may pass, sent again (``syncback``)."""

    sync_back: SyncBackPort
    providers: ProviderSource
    dry_run: bool = False
    name: str = "sync-back"

    def run(self, remaining: Callable[[], float], progress: Progress = no_progress) -> StepSummary:  # noqa: ARG002
        summary = StepSummary(self.name, dry_run=self.dry_run)
        if self.dry_run:
            summary.notes.append("dry run: remembered sync-backs are not sent")
            return summary
        report = self.sync_back.retry_due(self.providers)
        summary.notes.append(
            f"sent {report.sent}, still due {report.failed}, given up {report.given_up}, dropped {report.dropped}"
        )
        return summary
