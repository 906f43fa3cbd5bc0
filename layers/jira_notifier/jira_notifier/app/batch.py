"""The buffered path: a batch of SQS records, with the new alerts of each provider created in bulk.

Every alert is first claimed under its lease exactly as on the direct path; those whose decision is "create"
keep their lease and are created together (``POST /rest/api/3/issue/bulk``, up to 50 a request) under the same
write-ahead rule as a single create (``state.Lease``), the rest go through the ordinary lifecycle one by one.
Storm members (a provider with ``groupBy``) keep their lease too and join their parents together, each parent
written once for the batch (``storm_service.py``).
A record fails (and SQS redelivers it) only on a retryable error, a refused park, or too little time left to
start it; permanent failures are parked with the record itself. One record's failure never fails another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jira_notifier.app.effects import CreateRequest
from jira_notifier.app.notify import START_BUDGET_SECONDS, Notifier
from jira_notifier.app.owner import refused_tag_fields
from jira_notifier.app.storms import Joiner, is_member, join_all
from jira_notifier.core.alert import Alert
from jira_notifier.core.coalescing import HeldBack
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import CreateUnconfirmedError, DeadlineError, JiraNotifierError, as_product_error
from jira_notifier.core.lifecycle import Action, decide
from jira_notifier.core.outcome import Outcome
from jira_notifier.sources import normalize_sqs_record

if TYPE_CHECKING:
    from jira_notifier.adapters.jira.client import BulkResult, CreatedIssue, JiraPort
    from jira_notifier.app.effects import Effects
    from jira_notifier.core.state import Lease

BULK_LIMIT = 50


@dataclass
class _Claim:
    record_id: str
    record: Mapping[str, Any]
    alert: Alert
    provider: ProviderConfig
    lease: Lease
    client: JiraPort
    reason: str  # why it is created: a new alert, or a firing whose clear came first
    settled: bool = False  # its lease was confirmed or released
    member: bool = False  # a storm member (storm_service.py): joins its parent instead of being created


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    failed: dict[str, JiraNotifierError]  # SQS messageId -> the error that fails it (SQS delivers it again)


def process_batch(
    notifier: Notifier, records: Sequence[Mapping[str, Any]], remaining: Callable[[], float] | None
) -> BatchResult:
    """Process every record; new alerts are created in bulk per provider."""
    result = BatchResult([], {})
    later: list[tuple[str, Mapping[str, Any], Alert]] = []  # handled one by one after the bulk creates
    claims: dict[str, list[_Claim]] = {}  # provider id -> claims to create in bulk
    claimed_keys: set[str] = set()
    held: list[tuple[str, HeldBack]] = []
    try:
        for record in records:
            record_id = str(record.get("messageId", ""))
            if _out_of_time(notifier, result, record_id, remaining):
                continue
            alert: Alert | None = None
            try:
                alert = normalize_sqs_record(record)
                _claim_or_defer(notifier, record_id, record, alert, remaining, claims, claimed_keys, later, result)
            except Exception as raised:  # noqa: BLE001 - the last resort for this record alone
                _fail_or_park(notifier, result, record_id, record, alert, None, as_product_error(raised))
        for batch in claims.values():
            creates = [claim for claim in batch if not claim.member]
            for start in range(0, len(creates), BULK_LIMIT):
                _bulk_create(notifier, creates[start : start + BULK_LIMIT], result, held)
            _join_parents(notifier, [claim for claim in batch if claim.member], result, remaining)
        for record_id, record, alert in later:
            if record_id in result.failed or _out_of_time(notifier, result, record_id, remaining):
                continue
            record_held: list[HeldBack] = []
            try:
                result.outcomes.extend(notifier.process(alert, event=record, remaining=remaining, held=record_held))
            except Exception as raised:  # noqa: BLE001 - the last resort for this record alone
                _fail_or_park(notifier, result, record_id, record, alert, None, as_product_error(raised))
            held += [(record_id, item) for item in record_held]
        if held:
            written = notifier.write_held_back([item for _, item in held], remaining)
            for (record_id, _), outcome in zip(held, written, strict=True):
                if isinstance(outcome, JiraNotifierError):
                    result.failed.setdefault(record_id, outcome)
    finally:  # a claim is never left held by an error this function did not expect
        for claim in (claim for batch in claims.values() for claim in batch if not claim.settled):
            claim.lease.release()
    return result


def _out_of_time(
    notifier: Notifier, result: BatchResult, record_id: str, remaining: Callable[[], float] | None
) -> bool:
    if notifier.seconds_left(remaining) >= START_BUDGET_SECONDS:
        return False
    result.failed[record_id] = DeadlineError("too little of this invocation is left to start this record")
    result.outcomes.append(Outcome(None, "retry", "deadline"))
    return True


def _claim_or_defer(
    notifier: Notifier,
    record_id: str,
    record: Mapping[str, Any],
    alert: Alert,
    remaining: Callable[[], float] | None,
    claims: dict[str, list[_Claim]],
    claimed_keys: set[str],
    later: list[tuple[str, Mapping[str, Any], Alert]],
    result: BatchResult,
) -> None:
    routed = notifier.providers_for(alert, record)
    if isinstance(routed, Outcome):
        result.outcomes.append(routed)
        return
    providers = routed
    if len(providers) > 1 or alert.dedupe_hash in claimed_keys:
        later.append((record_id, record, alert))  # several providers or a repeat in this batch: one by one
        return
    provider = providers[0]
    client = notifier.jira_for(notifier.secrets.get(provider.secret), remaining)
    lease = notifier.acquire_lease(alert, provider, remaining)
    claimed_keys.add(alert.dedupe_hash)
    if is_member(provider, lease.state):  # applied to its storm's parent with the batch's other members
        member = _Claim(record_id, record, alert, provider, lease, client, "storm-member", member=True)
        claims.setdefault(provider.provider_id, []).append(member)
        return
    decision = decide(lease.state, alert, provider, notifier.clock())
    if decision.action is not Action.CREATE:
        lease.release()
        later.append((record_id, record, alert))
        return
    claim = _Claim(record_id, record, alert, provider, lease, client, decision.reason)
    claims.setdefault(provider.provider_id, []).append(claim)


def _bulk_create(
    notifier: Notifier, claims: list[_Claim], result: BatchResult, held: list[tuple[str, HeldBack]]
) -> None:
    """Each claim through the same create protocol as a single create (``Effects.prepare_create`` ...), in one
    request."""
    effects = notifier.effects
    ready: list[_Claim] = []
    requests: list[CreateRequest] = []
    for claim in claims:
        try:
            requests.append(effects.prepare_create(claim.lease, claim.alert, claim.provider, claim.client))
        except Exception as raised:  # noqa: BLE001 - this claim alone
            _give_up(notifier, result, claim, as_product_error(raised))
            continue
        ready.append(claim)
    if not ready:
        return
    try:
        created = ready[0].client.bulk_create([request.body for request in requests])
    except Exception as raised:  # noqa: BLE001 - some may exist: their marks stay and their retries search first
        error = as_product_error(raised)
        for claim in ready:
            effects.create_failed(claim.lease, error)
            _give_up(notifier, result, claim, error)
        return
    recorded: list[tuple[_Claim, CreatedIssue, CreateRequest]] = []  # created by the bulk request
    for claim, request, answer in zip(ready, requests, created, strict=True):
        try:
            outcome = _settle(effects, claim, request.body, answer)
        except Exception as raised:  # noqa: BLE001 - a mark stays: the redelivery finds the issue by its label
            _give_up(notifier, result, claim, as_product_error(raised))
            continue
        claim.settled = True
        result.outcomes.append(outcome)
        if answer.issue is not None:  # one created again alone (a refused tag value) was attached by its create
            recorded.append((claim, answer.issue, request))
        if outcome.action == "coalesced":
            held.append((claim.record_id, HeldBack(claim.alert, claim.provider, outcome)))
    for claim, issue, request in recorded:  # every create is recorded before any graph is sent
        effects.attach_graph(claim.client, issue, request)


def _join_parents(
    notifier: Notifier, claims: list[_Claim], result: BatchResult, remaining: Callable[[], float] | None
) -> None:
    """The batch's storm members of one provider applied to their parents: each parent written once."""
    if not claims:
        return
    joiners = [Joiner(claim.alert, claim.lease) for claim in claims]
    joined = join_all(notifier, claims[0].provider, claims[0].client, joiners, remaining)
    for claim, outcome in zip(claims, joined, strict=True):
        claim.settled = True  # join_all saved or released every lease
        if isinstance(outcome, JiraNotifierError):
            _fail_or_park(notifier, result, claim.record_id, claim.record, claim.alert, claim.provider, outcome)
        else:
            result.outcomes.append(outcome)


def _settle(effects: Effects, claim: _Claim, body: Mapping[str, Any], answer: BulkResult) -> Outcome:
    """The outcome of one element of a bulk create: its issue recorded, or, when Jira refused a value from tags
    and created nothing, this alert alone created again without it.

    Raises:
        JiraNotifierError: the element failed (its error), or was not recorded.
    """
    if answer.issue is not None:
        return effects.record_created(claim.lease, claim.alert, claim.provider, answer.issue, claim.reason)
    assert answer.error is not None
    refused = refused_tag_fields(answer.error, claim.provider, body)
    if effects.create_failed(claim.lease, answer.error) or not refused:
        raise answer.error
    outcome = effects.create(claim.lease, claim.alert, claim.provider, claim.client, claim.reason, refused)
    if outcome is None:  # the create's issue was found after the alert moved on: its redelivery applies it
        raise CreateUnconfirmedError("the alert's issue was found; the alert is applied on its redelivery")
    return outcome


def _give_up(notifier: Notifier, result: BatchResult, claim: _Claim, error: JiraNotifierError) -> None:
    claim.lease.release()
    claim.settled = True
    _fail_or_park(notifier, result, claim.record_id, claim.record, claim.alert, claim.provider, error)


def _fail_or_park(
    notifier: Notifier,
    result: BatchResult,
    record_id: str,
    record: Mapping[str, Any],
    alert: Alert | None,
    provider: ProviderConfig | None,
    error: JiraNotifierError,
) -> None:
    outcome, retry = notifier.fail(record, error, alert, provider.provider_id if provider else None)
    result.outcomes.append(outcome)
    if retry is not None:
        result.failed[record_id] = retry
