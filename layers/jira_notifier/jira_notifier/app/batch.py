"""The buffered path: a batch of SQS records, with the new alerts of each provider created in bulk.

Every alert is first claimed under its lease exactly as on the direct path; those whose decision is "create" keep
their lease and are created together (``Creates.bulk``: one request of up to 50) under the same write-ahead rule as a
single create, the rest go through the ordinary lifecycle one by one (``AlertFlow``). Storm members (a provider with
``groupBy``) keep their lease too and join their parents together, each parent written once for the batch.
A record fails (and SQS redelivers it) only on a retryable error, a refused park, or too little time left to start
it; permanent failures are parked with the record itself. One record's failure never fails another.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jira_notifier.app.create import Claim
from jira_notifier.app.lease import Lease
from jira_notifier.app.notify import Notify
from jira_notifier.app.storms import Joiner
from jira_notifier.core.alert import Alert
from jira_notifier.core.budgets import START_BUDGET_SECONDS
from jira_notifier.core.coalescing import HeldBack
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import DeadlineError, JiraNotifierError, as_product_error
from jira_notifier.core.lifecycle import Action, Reason, decide, is_member
from jira_notifier.core.outcome import Outcome, OutcomeAction
from jira_notifier.ports import Countdown, JiraPort, Remaining, no_deadline

BULK_LIMIT = 50
RecordReader = Callable[[Mapping[str, Any]], Alert]  # an SQS record's alert (``sources.normalize_sqs_record``)


@dataclass
class _Claimed:
    record_id: str
    record: Mapping[str, Any]
    lease: Lease
    alert: Alert
    provider: ProviderConfig
    client: JiraPort
    reason: Reason | None = None  # why it is created; None: a storm member, which joins its parent instead


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    failed: dict[str, JiraNotifierError]  # SQS messageId -> the error that fails it (SQS delivers it again)


class Batch:
    """The buffered path (module docstring)."""

    def __init__(self, notify: Notify, read: RecordReader) -> None:
        self.notify = notify
        self.flow = notify.flow
        self.deps = notify.deps
        self.read = read

    def process(self, records: Sequence[Mapping[str, Any]], remaining: Remaining) -> BatchResult:
        """Process every record; new alerts are created in bulk per provider."""
        countdown = remaining or no_deadline
        result = BatchResult([], {})
        later: list[tuple[str, Mapping[str, Any], Alert]] = []  # handled one by one after the bulk creates
        claims: dict[str, list[_Claimed]] = {}  # provider id -> claims to create in bulk (or members to join)
        held: list[tuple[str, HeldBack]] = []
        with contextlib.ExitStack() as leases:  # every claim's lease is given back, whatever happens
            claimed_keys: set[str] = set()
            for record in records:
                record_id = str(record.get("messageId", ""))
                if self._out_of_time(result, record_id, countdown):
                    continue
                alert: Alert | None = None
                try:
                    alert = self.read(record)
                    claimed = self._claim(leases, record_id, record, alert, countdown, claimed_keys, later, result)
                except Exception as raised:  # noqa: BLE001 - the last resort for this record alone
                    self._fail_or_park(result, record_id, record, alert, None, as_product_error(raised))
                    continue
                if claimed is not None:
                    claims.setdefault(claimed.provider.provider_id, []).append(claimed)
            for batch in claims.values():
                creates = [c for c in batch if c.reason is not None]
                for start in range(0, len(creates), BULK_LIMIT):
                    self._bulk_create(creates[start : start + BULK_LIMIT], result, held)
                self._join_parents([c for c in batch if c.reason is None], result, countdown)
        for record_id, record, alert in later:
            if record_id in result.failed or self._out_of_time(result, record_id, countdown):
                continue
            record_held: list[HeldBack] = []
            try:
                result.outcomes.extend(self.notify.process(alert, event=record, remaining=countdown, held=record_held))
            except Exception as raised:  # noqa: BLE001 - the last resort for this record alone
                self._fail_or_park(result, record_id, record, alert, None, as_product_error(raised))
            held += [(record_id, item) for item in record_held]
        if held:
            written = self.flow.write_held_back([item for _, item in held], countdown)
            for (record_id, _), outcome in zip(held, written, strict=True):
                if isinstance(outcome, JiraNotifierError):
                    result.failed.setdefault(record_id, outcome)
        return result

    def _out_of_time(self, result: BatchResult, record_id: str, remaining: Countdown) -> bool:
        if remaining() >= START_BUDGET_SECONDS:
            return False
        result.failed[record_id] = DeadlineError("too little of this invocation is left to start this record")
        result.outcomes.append(Outcome(None, OutcomeAction.RETRY, "deadline"))
        return True

    def _claim(
        self,
        leases: contextlib.ExitStack,
        record_id: str,
        record: Mapping[str, Any],
        alert: Alert,
        remaining: Countdown,
        claimed_keys: set[str],
        later: list[tuple[str, Mapping[str, Any], Alert]],
        result: BatchResult,
    ) -> _Claimed | None:
        """The alert's claim on its lease when it is to be created in bulk (or joins a parent), else None: handled
        later one by one, or already done (ignored, parked)."""
        routed = self.notify.providers_for(alert, record)
        if isinstance(routed, Outcome):
            result.outcomes.append(routed)
            return None
        if len(routed) > 1 or alert.dedupe_hash in claimed_keys:
            later.append((record_id, record, alert))  # several providers or a repeat in this batch: one by one
            return None
        provider = routed[0]
        client = self.deps.jira(provider, remaining)
        with contextlib.ExitStack() as held:
            lease: Lease = held.enter_context(self.flow.hold(alert, provider, remaining, mark=not provider.group_by))
            claimed_keys.add(alert.dedupe_hash)
            if is_member(provider, lease.state):  # joins its parent with the batch's other members
                claimed = _Claimed(record_id, record, lease, alert, provider, client)
            else:
                decision = decide(lease.state, alert, provider, self.deps.clock())
                if decision.action is not Action.CREATE:
                    later.append((record_id, record, alert))
                    return None  # the lease is given back here; the alert goes the ordinary way
                claimed = _Claimed(record_id, record, lease, alert, provider, client, decision.reason)
            leases.push(held.pop_all())  # kept until the batch is done
        return claimed

    def _bulk_create(self, claims: list[_Claimed], result: BatchResult, held: list[tuple[str, HeldBack]]) -> None:
        """Each claim through the create protocol, in one request."""
        if not claims:
            return
        first = claims[0]
        bulk = [Claim(c.lease, c.alert, c.reason) for c in claims if c.reason is not None]
        answers = self.flow.creates.bulk(bulk, first.provider, first.client)
        for claimed, answer in zip(claims, answers, strict=True):
            if isinstance(answer, JiraNotifierError):
                self._fail_or_park(result, claimed.record_id, claimed.record, claimed.alert, claimed.provider, answer)
                continue
            result.outcomes.append(answer)
            if answer.action is OutcomeAction.COALESCED:
                held.append((claimed.record_id, HeldBack(claimed.alert, claimed.provider, answer)))

    def _join_parents(self, claims: list[_Claimed], result: BatchResult, remaining: Countdown) -> None:
        """The batch's storm members of one provider applied to their parents: each parent written once."""
        if not claims:
            return
        joiners = [Joiner(c.alert, c.lease) for c in claims]
        joined = self.flow.storms.join_all(claims[0].provider, claims[0].client, joiners, remaining)
        for claimed, outcome in zip(claims, joined, strict=True):
            if isinstance(outcome, JiraNotifierError):
                self._fail_or_park(result, claimed.record_id, claimed.record, claimed.alert, claimed.provider, outcome)
            else:
                result.outcomes.append(outcome)

    def _fail_or_park(
        self,
        result: BatchResult,
        record_id: str,
        record: Mapping[str, Any],
        alert: Alert | None,
        provider: ProviderConfig | None,
        error: JiraNotifierError,
    ) -> None:
        outcome, retry = self.notify.fail(record, error, alert, provider.provider_id if provider else None)
        result.outcomes.append(outcome)
        if retry is not None:
            result.failed[record_id] = retry
