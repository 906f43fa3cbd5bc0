"""The buffered path: a batch of SQS records, with the new alerts of each provider created in bulk.

Every alert is first claimed under its lease exactly as on the direct path; those whose decision is "create"
keep their lease and are created together (``POST /rest/api/3/issue/bulk``, up to 50 a request), the rest go
through the ordinary lifecycle one by one. A record fails (and SQS redelivers it) only on a retryable error;
permanent failures are parked with the record itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from jira_notifier.config import ProviderConfig
from jira_notifier.errors import JiraNotifierError, JiraUnavailableError
from jira_notifier.events import normalize_sqs_record
from jira_notifier.jira.payloads import create_body
from jira_notifier.lifecycle import Action, decide
from jira_notifier.models import Alert
from jira_notifier.service import Notifier, Outcome, remember_created

if TYPE_CHECKING:
    from jira_notifier.jira.client import JiraClient
    from jira_notifier.state import Lease

BULK_LIMIT = 50


@dataclass
class _Claim:
    record_id: str
    record: Mapping[str, Any]
    alert: Alert
    provider: ProviderConfig
    lease: Lease
    client: JiraClient


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    failed: dict[str, JiraNotifierError]  # SQS messageId -> the retryable error that failed it


def process_batch(
    notifier: Notifier, records: Sequence[Mapping[str, Any]], remaining: Callable[[], float] | None
) -> BatchResult:
    """Process every record; new alerts are created in bulk per provider."""
    result = BatchResult([], {})
    later: list[tuple[str, Mapping[str, Any], Alert]] = []  # handled one by one after the bulk creates
    claims: dict[str, list[_Claim]] = {}  # provider id -> claims to create in bulk
    claimed_keys: set[str] = set()
    for record in records:
        record_id = str(record.get("messageId", ""))
        try:
            alert = normalize_sqs_record(record)
        except JiraNotifierError as error:
            result.outcomes.append(notifier.park(record, error, None, None))
            continue
        try:
            _claim_or_defer(notifier, record_id, record, alert, remaining, claims, claimed_keys, later, result)
        except JiraNotifierError as error:
            _fail_or_park(notifier, result, record_id, record, alert, None, error)
    for batch in claims.values():
        for start in range(0, len(batch), BULK_LIMIT):
            _bulk_create(notifier, batch[start : start + BULK_LIMIT], result)
    for record_id, record, alert in later:
        if record_id in result.failed:
            continue
        try:
            result.outcomes.extend(notifier.process(alert, event=record, remaining=remaining))
        except JiraNotifierError as error:
            _fail_or_park(notifier, result, record_id, record, alert, None, error)
    return result


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
    if decide(lease.state, alert, provider, notifier.clock()).action is not Action.CREATE:
        lease.release()
        later.append((record_id, record, alert))
        return
    claims.setdefault(provider.provider_id, []).append(_Claim(record_id, record, alert, provider, lease, client))


def _bulk_create(notifier: Notifier, claims: list[_Claim], result: BatchResult) -> None:
    now = notifier.clock()
    ready: list[_Claim] = []
    bodies: list[dict[str, Any]] = []
    for claim in claims:
        try:
            issue_type_id = notifier.catalog.issue_type_id(claim.client, claim.provider)
        except JiraNotifierError as error:
            claim.lease.release()
            _fail_or_park(notifier, result, claim.record_id, claim.record, claim.alert, claim.provider, error)
            continue
        bodies.append(create_body(notifier.accounts.named(claim.alert), claim.provider, issue_type_id))
        ready.append(claim)
    if not ready:
        return
    try:
        created = ready[0].client.bulk_create(bodies)
    except JiraNotifierError as error:
        ambiguous = isinstance(error, JiraUnavailableError) and error.ambiguous
        for claim in ready:
            if ambiguous:  # some may exist: their retries search before creating
                claim.lease.holds_unconfirmed_create = True
                with contextlib.suppress(JiraNotifierError):  # if this fails too, the lease left behind says it
                    claim.lease.save(replace(claim.lease.state, pending_create_at=now))
            claim.lease.release()
            _fail_or_park(notifier, result, claim.record_id, claim.record, claim.alert, claim.provider, error)
        return
    for claim, outcome in zip(ready, created, strict=True):
        if outcome.issue is None:
            claim.lease.release()
            assert outcome.error is not None
            _fail_or_park(notifier, result, claim.record_id, claim.record, claim.alert, claim.provider, outcome.error)
            continue
        claim.lease.holds_unconfirmed_create = True
        try:
            claim.lease.save(remember_created(claim.lease.state, claim.alert, outcome.issue, now), release=True)
        except JiraNotifierError as error:  # the lease stays: the redelivery finds the issue by its label
            _fail_or_park(notifier, result, claim.record_id, claim.record, claim.alert, claim.provider, error)
            continue
        notifier.recorder.count("IssuesCreated")
        result.outcomes.append(Outcome(claim.provider.provider_id, "created", "new-alert", outcome.issue.key))


def _fail_or_park(
    notifier: Notifier,
    result: BatchResult,
    record_id: str,
    record: Mapping[str, Any],
    alert: Alert | None,
    provider: ProviderConfig | None,
    error: JiraNotifierError,
) -> None:
    if error.retryable:
        result.failed[record_id] = error
        result.outcomes.append(Outcome(provider.provider_id if provider else None, "retry", error.reason))
    else:
        result.outcomes.append(notifier.park(record, error, alert, provider.provider_id if provider else None))
