"""The scheduled run that closes the loop: read back what people did in Jira, reconcile open issues with their
sources, and send again the sync-backs to AWS that failed.

A run is a list of steps (``Step``), each returning its own summary; a step is added to ``scheduled_steps``.

Reconcile reads every open alert-to-issue link from the state table, asks each link's source for the truth in
API-sized batches (``source_truth``), and turns a source that says "over" into an ordinary resolved ``Alert``: a
delivery key unique to the run, the source's transition time, and a ``why`` saying reconcile found it. That alert
goes through ``Notifier.process_for``, the event path's own lease and lifecycle, so ordering, stale and duplicate
rules hold against concurrent deliveries and concurrent runs, and a resolved alert never creates an issue. Only
issues in the state table are touched: the product's own.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from jira_notifier.adapters.aws.config import AWS_CALL_WORST_SECONDS
from jira_notifier.app.notify import START_BUDGET_SECONDS, Notifier
from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.coalescing import HeldBack
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import JiraNotifierError
from jira_notifier.core.lifecycle import Action, decide
from jira_notifier.core.outcome import Outcome, Recorder
from jira_notifier.core.state import PersonDecision
from jira_notifier.sources.truth import NO_STATE_SOURCES, Answer, SourceRef, SourceTruth, Truth, batches, source_ref

if TYPE_CHECKING:
    from jira_notifier.adapters.dynamodb.owned import OwnedIssueStore
    from jira_notifier.core.state import IssueState

# A source batch is started only with this much of the invocation left (one AWS call at its slowest, and room to
# finish the step's summary); a Jira change only with the event path's own start budget.
ASK_BUDGET_SECONDS = AWS_CALL_WORST_SECONDS + 5.0
CLEARED_BY_RECONCILE = "Found by jira-notifier's reconcile: no notification of this change arrived."
ALARM_CLEARED_BY_RECONCILE = "Found by jira-notifier's reconcile: the alarm's OK notification never arrived."
ALARM_GONE_BY_RECONCILE = (
    "Found by jira-notifier's reconcile: the alarm was deleted, so no OK notification will come; its issue is resolved."
)
OUT_OF_TIME = "not reached before the run's time ran out; the next run picks it up"


class OpenLinks(Protocol):
    def open_issues(self, pk_prefix: str = "") -> Iterable[IssueState]: ...


@dataclass(frozen=True, slots=True)
class LinkResult:
    """What happened to one open link."""

    issue_key: str | None
    provider: str
    source: str
    truth: str  # a ``Truth`` value, or "no-source"
    action: str  # resolved, commented, skipped, would-resolve, would-comment, unchecked, failed, none, ...
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

    def count(self, *, truth: str | None = None, action: str | None = None) -> int:
        return sum(
            1 for r in self.results if (truth is None or r.truth == truth) and (action is None or r.action == action)
        )

    def counts(self) -> dict[str, int]:
        return {
            "links": len(self.results),
            "checked": self.checked,
            "active": self.count(truth=Truth.ACTIVE),
            "cleared": self.count(truth=Truth.CLEARED),
            "gone": self.count(truth=Truth.GONE),
            "unchecked": self.count(truth=Truth.UNCHECKED),
            "noSource": self.count(truth="no-source"),
            "resolved": self.count(action="resolved"),
            "commented": self.count(action="commented"),
            "wouldResolve": self.count(action="would-resolve"),
            "wouldComment": self.count(action="would-comment"),
            "failed": self.count(action="failed"),
        }

    @property
    def checked(self) -> int:
        return sum(1 for r in self.results if r.truth in (Truth.ACTIVE, Truth.CLEARED, Truth.GONE))

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
class Reconcile:
    """The reconcile step (module docstring)."""

    links: OpenLinks
    notifier: Notifier
    truths: Sequence[SourceTruth]
    recorder: Recorder
    group: str | None = None  # only the providers of this notification group
    dry_run: bool = False
    name: str = "reconcile"
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def run(self, remaining: Callable[[], float], progress: Progress = no_progress) -> StepSummary:
        summary = StepSummary(self.name, dry_run=self.dry_run)
        states = list(self.links.open_issues(f"{self.group}/" if self.group else ""))
        by_source: dict[str, list[tuple[IssueState, SourceRef]]] = {}
        for state in states:
            ref = source_ref(state.dedupe_key)
            if ref is not None:
                by_source.setdefault(ref.source, []).append((state, ref))
            else:
                summary.results.append(_unaskable(state))
        progress(self.name, len(summary.results), len(states))
        held: list[HeldBack] = []
        held_at: list[int] = []  # the result index of each held-back change, in ``held``'s order
        for truth in self.truths:
            reachable: dict[tuple[str, str, str | None], list[tuple[IssueState, SourceRef]]] = {}
            for state, ref in by_source.pop(truth.source, []):
                why = truth.out_of_reach(ref)
                if why:
                    summary.results.append(_result(state, ref.source, Truth.UNCHECKED, "unchecked", why))
                else:
                    reachable.setdefault(ref.key, []).append((state, ref))  # Health: an event's entities share it
            for batch in batches([links[0][1] for links in reachable.values()], truth.batch_size):
                members = [member for ref in batch for member in reachable[ref.key]]
                if remaining() < ASK_BUDGET_SECONDS:
                    summary.stopped_early = True
                    summary.results += [
                        _result(s, r.source, Truth.UNCHECKED, "unchecked", OUT_OF_TIME) for s, r in members
                    ]
                    continue
                answers = self._ask(truth, batch)
                for state, ref in members:
                    result = self._act(state, ref, answers[ref.key], remaining, held, summary)
                    if result.action == "coalesced":
                        held_at.append(len(summary.results))
                    summary.results.append(result)
                progress(self.name, len(summary.results), len(states))
        for leftovers in by_source.values():  # a source whose adapter was not given
            summary.results += [
                _result(s, r.source, Truth.UNCHECKED, "unchecked", "source not asked") for s, r in leftovers
            ]
        if held:
            self._write_held_back(held, held_at, remaining, summary)
        self._report(summary)
        progress(self.name, len(states), len(states))
        return summary

    def _ask(self, truth: SourceTruth, batch: Sequence[SourceRef]) -> dict[tuple[str, str, str | None], Answer]:
        """The batch's answers; a failed call leaves each unchecked with the reason (the next run asks again)."""
        try:
            return truth.ask(batch)
        except Exception as error:  # noqa: BLE001 - botocore's errors: one failed batch costs only its links
            code = _error_code(error)
            return {ref.key: Answer(Truth.UNCHECKED, f"{truth.source} call failed: {code}") for ref in batch}

    def _act(
        self,
        state: IssueState,
        ref: SourceRef,
        answer: Answer,
        remaining: Callable[[], float],
        held: list[HeldBack],
        summary: StepSummary,
    ) -> LinkResult:
        if answer.truth in (Truth.ACTIVE, Truth.UNCHECKED):
            return _result(
                state, ref.source, answer.truth, "none" if answer.truth is Truth.ACTIVE else "unchecked", answer.detail
            )
        provider = self._provider(state.provider)
        if isinstance(provider, str):
            return _result(state, ref.source, Truth.UNCHECKED, "unchecked", provider)
        alert = self._alert(state, ref, answer)
        if _clear_recorded(state):
            if not provider.resolve_transition or state.person_decision is PersonDecision.REOPENED:
                # The lifecycle applied the clear and left the issue open on purpose (no resolve transition, or a
                # person reopened it): not reconcile's to fight.
                return _result(state, ref.source, answer.truth, "skipped", "a clear was already applied to this issue")
            # A clear recorded but never written to the issue: not a duplicate of itself, so it is resolved now.
            alert = replace(alert, transition_at=None)
        decision = decide(state, alert, provider, self.notifier.clock())
        if decision.action is Action.SKIP:
            return _result(state, ref.source, answer.truth, "skipped", decision.reason)
        if self.dry_run:
            verb = "would-resolve" if decision.action is Action.RESOLVE else f"would-{decision.action.value}"
            return _result(state, ref.source, answer.truth, verb, answer.detail)
        if remaining() < START_BUDGET_SECONDS:
            summary.stopped_early = True
            return _result(state, ref.source, answer.truth, "deferred", OUT_OF_TIME)
        try:
            outcome = self.notifier.process_for(alert, provider, remaining, held)
        except JiraNotifierError as error:
            return _result(state, ref.source, answer.truth, "failed", f"{error.reason}: {error}")
        return _result(state, ref.source, answer.truth, outcome.action, f"{answer.detail} ({outcome.reason})")

    def _alert(self, state: IssueState, ref: SourceRef, answer: Answer) -> Alert:
        gone = answer.truth is Truth.GONE
        if ref.source == "cloudwatch-alarm":
            title = f"CloudWatch alarm {ref.name}"
            why = ALARM_GONE_BY_RECONCILE if gone else ALARM_CLEARED_BY_RECONCILE
        else:
            title = f"{ref.source} {ref.name}"
            why = CLEARED_BY_RECONCILE
        return Alert(
            source=ref.source,
            dedupe_key=state.dedupe_key,
            delivery_key=f"reconcile:{self.run_id}:{state.pk}",
            state=AlertState.RESOLVED,
            title=title,
            account=ref.account,
            region=ref.region,
            what=answer.detail,
            why=" ".join(filter(None, (why, answer.reason))),
            # A deleted alarm has no transition time: the run's own clock orders it after everything seen so far.
            transition_at=answer.at if answer.at is not None else (int(self.notifier.clock() * 1000) if gone else None),
        )

    def _provider(self, provider_id: str) -> ProviderConfig | str:
        """The link's provider, or why it cannot be had (left for the next run)."""
        try:
            providers = self.notifier.providers.group_providers(provider_id.split("/", 1)[0])
        except JiraNotifierError as error:
            return f"providers could not be read: {error}"
        found = next((p for p in providers if p.provider_id == provider_id), None)
        return found or f"provider {provider_id} no longer exists"

    def _write_held_back(
        self, held: list[HeldBack], held_at: list[int], remaining: Callable[[], float], summary: StepSummary
    ) -> None:
        """Changes coalesced because their issue was just written: written now, or left stored for the next
        delivery or run (the lifecycle flushes them)."""
        for index, written in zip(held_at, self.notifier.write_held_back(held, remaining), strict=True):
            before = summary.results[index]
            if isinstance(written, Outcome):
                action, detail = written.action, f"{before.detail} ({written.reason})"
            else:
                action, detail = "failed", f"{written.reason}: {written}"
            summary.results[index] = replace(before, action=action, detail=detail)

    def _report(self, summary: StepSummary) -> None:
        reasons = Counter(
            r.detail
            for r in summary.results
            if r.action in ("unchecked", "failed", "deferred") or r.truth == "no-source"
        )
        summary.notes += [f"{count} × {reason}" for reason, count in reasons.most_common()]
        if summary.stopped_early:
            summary.notes.append("stopped early: too little time was left; the next run picks up the rest")
        if self.dry_run:
            return
        self.recorder.count("ReconcileLinksChecked", summary.checked)
        self.recorder.count("ReconcileResolved", summary.count(action="resolved"))
        self.recorder.count("ReconcileUnchecked", summary.count(truth=Truth.UNCHECKED))


def _clear_recorded(state: IssueState) -> bool:
    """The state says the alert cleared, with nothing held back: the issue is open only if that clear left it so."""
    return state.alert_state is AlertState.RESOLVED and state.pending_state is None


def _result(state: IssueState, source: str, truth: str, action: str, detail: str) -> LinkResult:
    return LinkResult(state.issue_key, state.provider, source, str(truth), action, detail)


def _unaskable(state: IssueState) -> LinkResult:
    """A link whose source keeps no state to ask (left alone by design), or whose key cannot be read."""
    source = state.dedupe_key.partition(":")[0]
    if source in NO_STATE_SOURCES:
        return _result(state, source, "no-source", "none", f"{source}: the source keeps no state to ask")
    return _result(state, source or "?", Truth.UNCHECKED, "unchecked", "the alert's key names no source to ask")


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str((response.get("Error") or {}).get("Code") or type(error).__name__)


@dataclass
class ReadBack:
    """The read-back step: what people did in Jira to the issues the product owns, recorded per provider
    (``talkback.read_back``); a provider whose read-back fails is read again, from the same point, by the next run."""

    providers: Callable[[], Sequence[ProviderConfig]]
    notifier: Notifier
    owned: OwnedIssueStore
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
                client = self.notifier.jira_for(self.notifier.secrets.get(provider.secret), remaining)
                report = read_back(
                    provider,
                    client,
                    self.notifier.store,
                    self.owned,
                    self.recorder,
                    sync_back=self.notifier.sync_back,
                    clock=self.notifier.clock,
                    remaining=remaining,
                    dry_run=self.dry_run,
                )
            except JiraNotifierError as error:
                summary.notes.append(f"{provider.provider_id}: not read back ({error.reason}: {error})")
                continue
            summary.notes.append(f"{provider.provider_id}: {report.issues_read} changed issues read")
            summary.results += [
                LinkResult(done.issue_key, done.provider, "jira", "person", ",".join(done.changes), "read back")
                for done in report.recorded
            ]
        progress(self.name, len(providers), len(providers))
        return summary


@dataclass
class SyncBackRetry:
    """The last step: sync-backs to AWS that failed in a way that may pass, sent again (``syncback``)."""

    notifier: Notifier
    dry_run: bool = False
    name: str = "sync-back"

    def run(self, remaining: Callable[[], float], progress: Progress = no_progress) -> StepSummary:  # noqa: ARG002
        summary = StepSummary(self.name, dry_run=self.dry_run)
        if self.dry_run:
            summary.notes.append("dry run: remembered sync-backs are not sent")
            return summary
        report = self.notifier.sync_back.retry_due(self.notifier.providers)
        summary.notes.append(
            f"sent {report.sent}, still due {report.failed}, given up {report.given_up}, dropped {report.dropped}"
        )
        return summary


# ---- the scheduled run, with the real adapters ---------------------------------------------------------------


def scheduled_steps(
    account: str | None,
    region: str | None,
    *,
    group: str | None = None,
    dry_run: bool = False,
    session: Any = None,
) -> list[Step]:
    """The steps of a run, in order, with the real adapters (AWS clients created on first use).

    ``account`` and ``region`` are the stack's: alarms elsewhere cannot be described from here. The read-back comes
    first, so a person's decision made since the last run is recorded before the sources are asked.
    """
    import functools

    import boto3

    from jira_notifier.adapters.aws.config import client_config
    from jira_notifier.adapters.dynamodb.owned import OwnedIssueStore
    from jira_notifier.adapters.dynamodb.providers import scan_providers
    from jira_notifier.adapters.observability import MetricsRecorder
    from jira_notifier.core.state import StateStore
    from jira_notifier.entry import wiring
    from jira_notifier.sources.truth import HEALTH_REGION, AlarmTruth, GuardDutyTruth, HealthTruth, SecurityHubTruth

    aws = session or boto3.session.Session()
    config = client_config()

    def lazy(service: Any, region_name: str | None = None) -> Callable[[], Any]:
        return functools.cache(lambda: aws.client(service, config=config, region_name=region_name))

    truths: list[SourceTruth] = [
        AlarmTruth(lazy("cloudwatch"), account, region),
        SecurityHubTruth(lazy("securityhub")),
        GuardDutyTruth(lazy("guardduty")),
        HealthTruth(lazy("health", HEALTH_REGION), account),
    ]
    dynamodb = aws.client("dynamodb", config=config)
    settings = wiring.get_settings()
    notifier = wiring.get_notifier("reconcile")
    recorder = MetricsRecorder()
    return [
        ReadBack(
            lambda: scan_providers(dynamodb, settings.providers_table),
            notifier,
            OwnedIssueStore(dynamodb, settings.state_table),
            recorder,
            group=group,
            dry_run=dry_run,
        ),
        Reconcile(StateStore(dynamodb, settings.state_table), notifier, truths, recorder, group=group, dry_run=dry_run),
        SyncBackRetry(notifier, dry_run=dry_run),
    ]


def run_scheduled(context: Any) -> dict[str, Any]:
    """One scheduled run as Lambda calls it: the stack's account and region from the function's own ARN."""
    from jira_notifier.adapters.observability import MetricsRecorder, logger
    from jira_notifier.entry.runner import remaining_from
    from jira_notifier.sources.common import arn_region_account

    region, account = arn_region_account(str(getattr(context, "invoked_function_arn", "")))
    remaining = remaining_from(context) or (lambda: 60.0)
    summary = run_steps(scheduled_steps(account, region), remaining, MetricsRecorder())
    for step in summary.steps:
        for failed in (r for r in step.results if r.action == "failed"):
            logger.warning("link not reconciled; the next run tries again", **failed.to_dict())
        log = logger.warning if step.stopped_early or step.count(action="failed") else logger.info
        log("run step finished", step=step.step, counts=step.counts(), notes=step.notes)
    return summary.brief()
