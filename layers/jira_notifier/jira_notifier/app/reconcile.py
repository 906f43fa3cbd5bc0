"""The reconcile step of the scheduled run (``app.run``): open issues checked against what their sources say now.

Reconcile reads every live alert-to-issue link from the state table (open issues; firing alerts whose issue a person
closed or deleted, so the clear that ends their decision is seen; storm members, through which their parent resolves),
asks each link's source for the truth in API-sized batches (``ports.SourceTruth``), and turns a source that says
"over" into an ordinary resolved ``Alert``: a delivery key unique to the run, the source's transition time, and a
``why`` saying reconcile found it. That alert goes through ``AlertFlow.apply``, the event path's own lease and
lifecycle, so ordering, stale and duplicate rules hold against concurrent deliveries and concurrent runs, and a
resolved alert never creates an issue. Only issues in the state table are touched: the product's own.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from jira_notifier.app.notify import AlertFlow
from jira_notifier.app.run import OUT_OF_TIME, LinkAction, LinkResult, LinkTruth, Progress, StepSummary, no_progress
from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.budgets import AWS_CALL_WORST_SECONDS, START_BUDGET_SECONDS
from jira_notifier.core.coalescing import HeldBack
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import JiraNotifierError
from jira_notifier.core.lifecycle import Action, decide, records_alert_state
from jira_notifier.core.outcome import Outcome
from jira_notifier.core.state import PersonDecision
from jira_notifier.core.storm import PARENT_SOURCE
from jira_notifier.ports import (
    NO_STATE_SOURCES,
    Answer,
    KeyReader,
    LinkScan,
    ProviderSource,
    Recorder,
    SourceRef,
    SourceTruth,
    Truth,
)

if TYPE_CHECKING:
    from jira_notifier.core.state import IssueState

# A source batch is started only with this much of the invocation left (one AWS call at its slowest, and room to
# finish the step's summary); a Jira change only with the event path's own start budget.
ASK_BUDGET_SECONDS = AWS_CALL_WORST_SECONDS + 5.0
CLEARED_BY_RECONCILE = "Found by jira-notifier's reconcile: no notification of this change arrived."
ALARM_CLEARED_BY_RECONCILE = "Found by jira-notifier's reconcile: the alarm's OK notification never arrived."
ALARM_GONE_BY_RECONCILE = (
    "Found by jira-notifier's reconcile: the alarm was deleted, so no OK notification will come; its issue is resolved."
)


@dataclass
class Reconcile:
    """The reconcile step (module docstring)."""

    links: LinkScan
    flow: AlertFlow
    providers: ProviderSource
    truths: Sequence[SourceTruth]
    recorder: Recorder
    refer: KeyReader
    group: str | None = None  # only the providers of this notification group
    dry_run: bool = False
    name: str = "reconcile"
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def run(self, remaining: Callable[[], float], progress: Progress = no_progress) -> StepSummary:
        summary = StepSummary(self.name, dry_run=self.dry_run)
        states = list(self.links.links(f"{self.group}/" if self.group else ""))
        by_source: dict[str, list[tuple[IssueState, SourceRef]]] = {}
        for state in states:
            ref = self.refer(state.dedupe_key)
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
                    summary.results.append(_result(state, ref.source, Truth.UNCHECKED, LinkAction.UNCHECKED, why))
                else:
                    reachable.setdefault(ref.key, []).append((state, ref))  # Health: an event's entities share it
            for batch in batches([links[0][1] for links in reachable.values()], truth.batch_size):
                members = [member for ref in batch for member in reachable[ref.key]]
                if remaining() < ASK_BUDGET_SECONDS:
                    summary.stopped_early = True
                    summary.results += [
                        _result(s, r.source, Truth.UNCHECKED, LinkAction.UNCHECKED, OUT_OF_TIME) for s, r in members
                    ]
                    continue
                answers = self._ask(truth, batch)
                for state, ref in members:
                    result = self._act(state, ref, answers[ref.key], remaining, held, summary)
                    if result.action is LinkAction.COALESCED:
                        held_at.append(len(summary.results))
                    summary.results.append(result)
                progress(self.name, len(summary.results), len(states))
        for leftovers in by_source.values():  # a source whose adapter was not given
            summary.results += [
                _result(s, r.source, Truth.UNCHECKED, LinkAction.UNCHECKED, "source not asked") for s, r in leftovers
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
            action = LinkAction.NONE if answer.truth is Truth.ACTIVE else LinkAction.UNCHECKED
            return _result(state, ref.source, answer.truth, action, answer.detail)
        provider = self._provider(state.provider)
        if isinstance(provider, str):
            return _result(state, ref.source, Truth.UNCHECKED, LinkAction.UNCHECKED, provider)
        alert = self._alert(state, ref, answer)
        if _clear_recorded(state):
            if not provider.resolve_transition or state.person_decision is PersonDecision.REOPENED:
                # The lifecycle applied the clear and left the issue open on purpose (no resolve transition, or a
                # person reopened it): not reconcile's to fight.
                return _result(
                    state, ref.source, answer.truth, LinkAction.SKIPPED, "a clear was already applied to this issue"
                )
            # A clear recorded but never written to the issue: not a duplicate of itself, so it is resolved now.
            alert = replace(alert, transition_at=None)
        decision = decide(state, alert, provider, self.flow.deps.clock())
        if decision.action is Action.SKIP and not records_alert_state(decision, alert):
            return _result(state, ref.source, answer.truth, LinkAction.SKIPPED, decision.reason)
        if self.dry_run:
            return _result(state, ref.source, answer.truth, LinkAction(f"would-{decision.action.value}"), answer.detail)
        if remaining() < START_BUDGET_SECONDS:
            summary.stopped_early = True
            return _result(state, ref.source, answer.truth, LinkAction.DEFERRED, OUT_OF_TIME)
        try:
            outcome = self.flow.apply(alert, provider, remaining, held)
        except JiraNotifierError as error:
            return _result(state, ref.source, answer.truth, LinkAction.FAILED, f"{error.reason}: {error}")
        return _result(
            state, ref.source, answer.truth, LinkAction(outcome.action.value), f"{answer.detail} ({outcome.reason})"
        )

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
            transition_at=answer.at
            if answer.at is not None
            else (int(self.flow.deps.clock() * 1000) if gone else None),
            wont_fix=answer.wont_fix,
        )

    def _provider(self, provider_id: str) -> ProviderConfig | str:
        """The link's provider, or why it cannot be had (left for the next run)."""
        try:
            providers = self.providers.group_providers(provider_id.split("/", 1)[0])
        except JiraNotifierError as error:
            return f"providers could not be read: {error}"
        found = next((p for p in providers if p.provider_id == provider_id), None)
        return found or f"provider {provider_id} no longer exists"

    def _write_held_back(
        self, held: list[HeldBack], held_at: list[int], remaining: Callable[[], float], summary: StepSummary
    ) -> None:
        """Changes coalesced because their issue was just written: written now, or left stored for the next
        delivery or run (the lifecycle flushes them)."""
        for index, written in zip(held_at, self.flow.write_held_back(held, remaining), strict=True):
            before = summary.results[index]
            if isinstance(written, Outcome):
                action, detail = LinkAction(written.action.value), f"{before.detail} ({written.reason})"
            else:
                action, detail = LinkAction.FAILED, f"{written.reason}: {written}"
            summary.results[index] = replace(before, action=action, detail=detail)

    def _report(self, summary: StepSummary) -> None:
        reasons = Counter(
            r.detail
            for r in summary.results
            if r.action in (LinkAction.UNCHECKED, LinkAction.FAILED, LinkAction.DEFERRED)
            or r.truth is LinkTruth.NO_SOURCE
        )
        summary.notes += [f"{count} × {reason}" for reason, count in reasons.most_common()]
        if summary.stopped_early:
            summary.notes.append("stopped early: too little time was left; the next run picks up the rest")
        if self.dry_run:
            return
        self.recorder.count("ReconcileLinksChecked", summary.checked)
        self.recorder.count("ReconcileResolved", summary.count(action=LinkAction.RESOLVED))
        self.recorder.count("ReconcileUnchecked", summary.count(truth=LinkTruth.UNCHECKED))


def batches(refs: Sequence[SourceRef], size: int) -> Iterable[Sequence[SourceRef]]:
    """``refs`` in API-sized batches, each thing asked once (Health entities of one event share a slot)."""
    unique = list({ref.key: ref for ref in refs}.values())
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


def _clear_recorded(state: IssueState) -> bool:
    """The state says the alert cleared, with nothing held back: the issue is open only if that clear left it so."""
    return state.alert_state is AlertState.RESOLVED and state.pending_state is None


def _result(state: IssueState, source: str, truth: Truth | LinkTruth, action: LinkAction, detail: str) -> LinkResult:
    return LinkResult(state.issue_key, state.provider, source, LinkTruth(truth.value), action, detail)


def _unaskable(state: IssueState) -> LinkResult:
    """A link whose source keeps no state to ask (left alone by design), or whose key cannot be read."""
    source = state.dedupe_key.partition(":")[0]
    if source in NO_STATE_SOURCES:
        return _result(
            state, source, LinkTruth.NO_SOURCE, LinkAction.NONE, f"{source}: the source keeps no state to ask"
        )
    if source == PARENT_SOURCE:
        return _result(
            state, source, LinkTruth.MEMBERS, LinkAction.NONE, "a storm's parent follows its members' sources"
        )
    return _result(
        state, source or "?", Truth.UNCHECKED, LinkAction.UNCHECKED, "the alert's key names no source to ask"
    )


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str((response.get("Error") or {}).get("Code") or type(error).__name__)
