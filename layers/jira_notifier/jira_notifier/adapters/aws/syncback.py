"""Back to AWS: tell the source of an alert what became of its Jira issue (product.md, "Closing the loop").

Opt-in per provider (``ProviderConfig.sync_back``, ``archive_wont_fix``) and per stack capability (a stack
parameter each, passed to the functions as ``SYNC_BACK``); what each decision sends is ``sync_requests.py``'s.
A sync-back never costs the issue or its state: a failure is counted (``SyncBackFailed``) and logged, and one that
may pass later (throttling, 5xx, network) is remembered on the alert's state item (``syncBackDue``, the ledger:
``adapters/dynamodb/ledger.py``) for ``retry_due``, which the scheduled run calls. A remembered update is sent only
while it still says what is true of the issue (``core.findingnotes.still_fits``): a reopen, a new episode's issue or
a person's decision since makes it stale, and it is dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from jira_notifier.adapters.aws.sync_requests import (
    STACK_PARAMETERS,
    Capability,
    Detector,
    SyncRequest,
    capabilities_needed,
    decision_for,
    detector_of,
    request_for,
)
from jira_notifier.core.findingnotes import Decision, IssueRef, still_fits
from jira_notifier.ports import ProviderSource, Recorder, RetryReport
from jira_notifier.sources.common import items, mapping, text

if TYPE_CHECKING:
    from jira_notifier.core.alert import Alert
    from jira_notifier.core.config import ProviderConfig
    from jira_notifier.core.state import IssueState

MAX_DUE_ATTEMPTS = 10  # reconcile runs that retry a remembered sync-back before it is given up (and logged)
# After a call failed in a way that may pass, the same service and region are not called again for this long: a
# throttled or unavailable API must not stall a batch of issues (their sync-backs are remembered instead).
REST_SECONDS = 30.0
_PERMANENT_HINT = "not retried: the same request would be refused again"


class Log(Protocol):
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None: ...
    def error(self, msg: str, *args: Any, **kwargs: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class DueSyncBack:
    """A sync-back that failed in a way that may pass, as remembered on its state item, with what that item says of
    the issue now (to send it only while it still fits: ``core.findingnotes.still_fits``)."""

    pk: str
    provider: str
    request: SyncRequest
    attempts: int
    raw: str  # as stored: a retry clears it only if no newer one replaced it
    decision: Decision | None = None  # what it tells (None: remembered before decisions were kept; sent as it is)
    for_issue: str | None = None  # the issue it names
    issue_key: str | None = None  # the issue the state follows now
    resolved: bool = False  # that issue is resolved now
    wont_fix: bool = False  # as won't-fix (a person's or the source's decision)

    def fits(self) -> bool:
        return self.decision is None or still_fits(
            self.decision, self.for_issue, self.issue_key, self.resolved, self.wont_fix
        )


class Ledger(Protocol):
    """Where sync-back facts live: attributes of the alert's state item that the lease never writes."""

    def keep_detector(self, pk: str, detector: Detector) -> None: ...
    def detector(self, pk: str) -> Detector | None: ...
    def remember(
        self,
        pk: str,
        provider: str,
        request: SyncRequest,
        reason: str,
        attempts: int = 1,
        *,
        decision: Decision | None = None,
        issue_key: str | None = None,
    ) -> None: ...
    def settled(self, pk: str, raw: str | None = None) -> None: ...
    def due(self) -> Iterator[DueSyncBack]: ...


class SyncBackError(Exception):
    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class AwsSyncBack:
    """Sends sync-back requests with boto3 clients created on first use per (service, region).

    Each call is bounded by the functions' botocore configuration (``aws.py``: short timeouts, one retry of
    throttling, 5xx and timeouts): that is the retry within the call's budget. What still fails is counted,
    logged, and (when it may pass later) remembered for the next reconcile run.
    """

    def __init__(
        self,
        client_for: Callable[[str, str], Any],
        ledger: Ledger,
        recorder: Recorder,
        log: Log,
        allowed: frozenset[Capability],
        site_of: Callable[[str], str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client_for = client_for
        self._clients: dict[tuple[str, str], Any] = {}
        self._resting_until: dict[tuple[str, str], float] = {}
        self.ledger = ledger
        self.recorder = recorder
        self.log = log
        self.allowed = allowed
        self.site_of = site_of  # a provider's secret name -> its Jira site, for the issue's link
        self.clock = clock

    # ---- the hooks --------------------------------------------------------------------------------------------

    def issue_created(self, provider: ProviderConfig, alert: Alert, state: IssueState) -> None:
        """Security Hub learns the finding is NOTIFIED; a GuardDuty finding's detector is kept for a later archive."""
        if not capabilities_needed(provider):
            return
        self._guarded(provider, state, lambda: self._created(provider, alert, state))

    def issue_resolved(self, provider: ProviderConfig, alert: Alert, state: IssueState) -> None:
        """The product resolved the issue because the alert cleared: done (unless the finding was suppressed, which
        stands as it is in Security Hub)."""
        if not capabilities_needed(provider) or alert.wont_fix:
            return
        self.sync_resolution(provider, state, provider.resolve_resolution)

    def sync_resolution(self, provider: ProviderConfig, state: IssueState, resolution: str | None) -> None:
        """An issue was resolved with ``resolution`` (by the product, or by a person as read back from Jira)."""
        if not capabilities_needed(provider):
            return
        decision = decision_for(resolution, provider)
        self._guarded(provider, state, lambda: self._send_for(provider, state, decision))

    # ---- retry ------------------------------------------------------------------------------------------------

    def retry_due(self, providers: ProviderSource) -> RetryReport:
        """Send again every remembered sync-back whose provider still asks for it (see ``SyncBackPort.retry_due``)."""
        report = RetryReport()
        for due in self.ledger.due():
            provider = _provider(providers, due.provider)
            stale = not due.fits()  # the issue moved on since (reopened, a new episode, a person's decision)
            if stale or provider is None or due.request.capability not in capabilities_needed(provider):
                self.ledger.settled(due.pk, due.raw)
                report.dropped += 1
                continue
            try:
                self.send(due.request)
            except SyncBackError as error:
                self.recorder.count("SyncBackFailed")
                if error.retryable and due.attempts < MAX_DUE_ATTEMPTS:
                    self.ledger.remember(
                        due.pk,
                        due.provider,
                        due.request,
                        error.reason,
                        due.attempts + 1,
                        decision=due.decision,
                        issue_key=due.for_issue,
                    )
                    report.failed += 1
                    continue
                self.ledger.settled(due.pk, due.raw)
                self.log.error(
                    "sync-back given up", provider=due.provider, operation=due.request.operation, reason=error.reason
                )
                report.given_up += 1
                continue
            self.ledger.settled(due.pk, due.raw)
            self.recorder.count("SyncBacksSent")
            report.sent += 1
        return report

    # ---- sending ----------------------------------------------------------------------------------------------

    def _created(self, provider: ProviderConfig, alert: Alert, state: IssueState) -> None:
        detector = detector_of(alert) if provider.archive_wont_fix and alert.source == "guardduty" else None
        if detector is not None:
            self.ledger.keep_detector(state.pk, detector)
        self._send_for(provider, state, Decision.NOTIFIED)

    def _send_for(self, provider: ProviderConfig, state: IssueState, decision: Decision) -> None:
        if not state.issue_key:
            return
        issue = IssueRef(state.issue_key, f"{self.site_of(provider.secret)}/browse/{state.issue_key}")
        archiving = provider.archive_wont_fix and decision is Decision.WONT_FIX
        detector = self.ledger.detector(state.pk) if archiving and state.dedupe_key.startswith("guardduty:") else None
        request = request_for(state.dedupe_key, decision, provider, issue, detector)
        if request is None:
            return
        if request.capability not in self.allowed:
            parameter = STACK_PARAMETERS[request.capability]
            raise SyncBackError(
                f"provider {provider.provider_id} asks for {request.operation} but the stack was deployed with "
                f"{parameter}=false; redeploy with {parameter}=true, or turn it off on the provider "
                f"(jira-notifier provider add ... --no-sync-back / --no-archive-wont-fix)",
                retryable=False,
            )
        try:
            self.send(request)
        except SyncBackError as error:
            if error.retryable:
                self.ledger.remember(
                    state.pk, provider.provider_id, request, error.reason, decision=decision, issue_key=state.issue_key
                )
            raise
        self.ledger.settled(state.pk)  # a newer decision went through: an older one remembered must not follow it
        self.recorder.count("SyncBacksSent")

    def send(self, request: SyncRequest) -> None:
        """Make the call, unless its service and region failed moments ago (``REST_SECONDS``).

        Raises:
            SyncBackError: refused or not tried (retryable when the same request may pass later).
        """
        endpoint = (request.service, request.region)
        if self.clock() < self._resting_until.get(endpoint, 0.0):
            raise SyncBackError(
                f"{request.operation} not tried: {request.service} in {request.region} failed moments ago",
                retryable=True,
            )
        try:
            self._call(request)
        except SyncBackError as error:
            if error.retryable:
                self._resting_until[endpoint] = self.clock() + REST_SECONDS
            raise

    def _call(self, request: SyncRequest) -> None:
        from botocore import xform_name
        from botocore.exceptions import BotoCoreError, ClientError

        method = getattr(self._client(request.service, request.region), xform_name(request.operation))
        try:
            answer = method(**request.params)
        except ClientError as error:
            raise _classified(error) from error
        except BotoCoreError as error:  # timeouts, connection errors: after botocore's own retry
            raise SyncBackError(f"{request.operation} failed: {type(error).__name__}", retryable=True) from error
        unprocessed = items(mapping(answer).get("UnprocessedFindings"))
        if unprocessed:
            first = mapping(unprocessed[0])
            raise SyncBackError(
                f"{request.operation} did not update the finding: {text(first.get('ErrorCode'))} "
                f"{text(first.get('ErrorMessage'))}".strip(),
                retryable=True,
            )

    def _client(self, service: str, region: str) -> Any:
        client = self._clients.get((service, region))
        if client is None:
            client = self._clients[(service, region)] = self._client_for(service, region)
        return client

    def _guarded(self, provider: ProviderConfig, state: IssueState, action: Callable[[], None]) -> None:
        """Run a sync-back; whatever happens, the issue and its state are already safe, so nothing is raised."""
        try:
            action()
        except SyncBackError as error:
            self.recorder.count("SyncBackFailed")
            self.log.warning(
                "sync-back failed",
                provider=provider.provider_id,
                issue_key=state.issue_key,
                reason=error.reason,
                remembered=error.retryable,
                **({} if error.retryable else {"note": _PERMANENT_HINT}),
            )
        except Exception as error:  # noqa: BLE001 - the ledger's own failure, or a bug: never the issue's loss
            self.recorder.count("SyncBackFailed")
            self.log.error(
                "sync-back failed", provider=provider.provider_id, issue_key=state.issue_key, error=type(error).__name__
            )


def _provider(providers: ProviderSource, provider_id: str) -> ProviderConfig | None:
    group, _, name = provider_id.partition("/")
    return next((p for p in providers.group_providers(group) if p.name == name), None)


def _classified(error: Any) -> SyncBackError:
    """A refusal that the same request could get past later (throttling, 5xx) or not (access, validation)."""
    details = mapping(getattr(error, "response", {}))
    code = text(mapping(details.get("Error")).get("Code"))
    status = mapping(details.get("ResponseMetadata")).get("HTTPStatusCode")
    throttled = "Throttl" in code or "TooManyRequests" in code or status == 429
    retryable = throttled or not isinstance(status, int) or status >= 500
    message = text(mapping(details.get("Error")).get("Message"))
    return SyncBackError(f"{error.operation_name} refused: {code} {message}".strip()[:300], retryable=retryable)
