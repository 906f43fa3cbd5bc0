"""Back to AWS: tell the source of an alert what became of its Jira issue (product.md, "Closing the loop").

Opt-in per provider (``ProviderConfig.sync_back``, ``archive_wont_fix``) and per stack capability (a stack
parameter each, passed to the functions as ``SYNC_BACK``):

- Security Hub (``SyncBackSecurityHub``): ``BatchUpdateFindings`` with workflow NOTIFIED when the issue is created,
  RESOLVED when it is resolved as done, SUPPRESSED when resolved as the provider's won't-fix resolution; each with
  a note naming the issue.
- Cost Anomaly Detection (``SyncBackCostAnomaly``): ``ProvideAnomalyFeedback``, done = YES, won't-fix = NO.
- GuardDuty (``ArchiveGuardDutyFindings``): ``ArchiveFindings`` when the issue is resolved as won't-fix.

The mapping from (alert key, decision) to the AWS request is pure (``request_for``); ``AwsSyncBack`` sends it.
A sync-back never costs the issue or its state: a failure is counted (``SyncBackFailed``) and logged, and one that
may pass later (throttling, 5xx, network) is remembered on the alert's state item (``syncBackDue``) for
``SyncBackPort.retry_due``, which the scheduled reconcile run calls.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from jira_notifier.sources.common import items, mapping, text

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from jira_notifier.app.notify import ProviderSource
    from jira_notifier.core.alert import Alert
    from jira_notifier.core.config import ProviderConfig
    from jira_notifier.core.outcome import Recorder
    from jira_notifier.core.state import IssueState

UPDATED_BY = "jira-notifier"
WONT_FIX_WORDS = "won't fix"
NOTE_LIMIT = 512  # Security Hub's Note.Text maximum
COST_EXPLORER_REGION = "us-east-1"  # Cost Explorer has one endpoint
MAX_DUE_ATTEMPTS = 10  # reconcile runs that retry a remembered sync-back before it is given up (and logged)
# After a call failed in a way that may pass, the same service and region are not called again for this long: a
# throttled or unavailable API must not stall a batch of issues (their sync-backs are remembered instead).
REST_SECONDS = 30.0
_PERMANENT_HINT = "not retried: the same request would be refused again"
_GUARDDUTY_FINDING_ARN = re.compile(r"^arn:[\w-]+:guardduty:([\w-]+):\d{12}:detector/([^/]+)/finding/([^/]+)$")


class Capability(StrEnum):
    """What a stack may do back in AWS; each is a stack parameter that adds its IAM statement."""

    SECURITY_HUB = "securityhub"
    COST_ANOMALY = "cost-anomaly"
    GUARDDUTY_ARCHIVE = "guardduty-archive"


STACK_PARAMETERS = {
    Capability.SECURITY_HUB: "SyncBackSecurityHub",
    Capability.COST_ANOMALY: "SyncBackCostAnomaly",
    Capability.GUARDDUTY_ARCHIVE: "ArchiveGuardDutyFindings",
}


class Decision(StrEnum):
    NOTIFIED = "notified"  # the issue was created
    DONE = "done"  # resolved as anything but the won't-fix resolution
    WONT_FIX = "wont-fix"


@dataclass(frozen=True, slots=True)
class SyncRequest:
    """One AWS call: the boto3 service, region and operation (botocore's name) with its parameters."""

    capability: Capability
    service: str
    region: str
    operation: str
    params: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "capability": self.capability.value,
            "service": self.service,
            "region": self.region,
            "operation": self.operation,
            "params": dict(self.params),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SyncRequest:
        return cls(Capability(data["capability"]), data["service"], data["region"], data["operation"], data["params"])


@dataclass(frozen=True, slots=True)
class IssueRef:
    key: str
    url: str


@dataclass(frozen=True, slots=True)
class Detector:
    """The GuardDuty detector (and its region) a finding belongs to: kept on the state item at create time, since
    the won't-fix usually comes later from Jira, with no event at hand."""

    detector_id: str
    region: str


# ---- pure: what to send ----------------------------------------------------------------------------------------


def decision_for(resolution: str | None, provider: ProviderConfig) -> Decision:
    """A resolution as the provider sees it: its won't-fix resolution (any case), or done."""
    wont_fix = provider.wont_fix_resolution
    if wont_fix and resolution and resolution.casefold() == wont_fix.casefold():
        return Decision.WONT_FIX
    return Decision.DONE


def request_for(
    dedupe_key: str,
    decision: Decision,
    provider: ProviderConfig,
    issue: IssueRef,
    detector: Detector | None = None,
) -> SyncRequest | None:
    """The AWS call that tells the alert's source about ``decision``, or None when there is none to make (the
    provider did not opt in, the source has no such call, or the key cannot name the finding)."""
    source, _, native = dedupe_key.partition(":")
    if source == "securityhub" and provider.sync_back:
        return _security_hub(native, decision, issue, provider.wont_fix_resolution)
    if source == "cost-anomaly" and provider.sync_back and decision is not Decision.NOTIFIED and native:
        return SyncRequest(
            Capability.COST_ANOMALY,
            "ce",
            COST_EXPLORER_REGION,
            "ProvideAnomalyFeedback",
            {"AnomalyId": native, "Feedback": "YES" if decision is Decision.DONE else "NO"},
        )
    if source == "guardduty" and provider.archive_wont_fix and decision is Decision.WONT_FIX and detector and native:
        return SyncRequest(
            Capability.GUARDDUTY_ARCHIVE,
            "guardduty",
            detector.region,
            "ArchiveFindings",
            {"DetectorId": detector.detector_id, "FindingIds": [native]},
        )
    return None


_WORKFLOW = {Decision.NOTIFIED: "NOTIFIED", Decision.DONE: "RESOLVED", Decision.WONT_FIX: "SUPPRESSED"}


def _security_hub(native: str, decision: Decision, issue: IssueRef, wont_fix: str | None) -> SyncRequest | None:
    # The key is "<ProductArn>:<Id>" (events/findings.py); a product ARN has exactly six ":"-separated parts and
    # names the finding's region, where the call must go.
    parts = native.split(":", 6)
    if len(parts) < 7 or parts[0] != "arn" or not parts[3] or not parts[6]:
        return None
    product_arn, finding_id, region = ":".join(parts[:6]), parts[6], parts[3]
    return SyncRequest(
        Capability.SECURITY_HUB,
        "securityhub",
        region,
        "BatchUpdateFindings",
        {
            "FindingIdentifiers": [{"Id": finding_id, "ProductArn": product_arn}],
            "Workflow": {"Status": _WORKFLOW[decision]},
            "Note": {"Text": note(decision, issue, wont_fix), "UpdatedBy": UPDATED_BY},
        },
    )


def note(decision: Decision, issue: IssueRef, wont_fix: str | None = None) -> str:
    """The finding's note: what became of it, and the issue's key and link."""
    what = {
        Decision.NOTIFIED: "Tracked in",
        Decision.DONE: "Resolved in",
        Decision.WONT_FIX: f"Resolved as {wont_fix or WONT_FIX_WORDS} in",
    }[decision]
    return f"{what} Jira issue {issue.key}: {issue.url}"[:NOTE_LIMIT]


def detector_of(alert: Alert) -> Detector | None:
    """The detector of a GuardDuty finding event, from the finding's ARN."""
    found = _GUARDDUTY_FINDING_ARN.match(text(mapping(mapping(alert.raw).get("detail")).get("arn")))
    return Detector(found.group(2), found.group(1)) if found else None


def suppressed_in_security_hub(alert: Alert, dedupe_key: str) -> bool:
    """Whether the event that cleared a Security Hub finding says it is SUPPRESSED (a person's or an automation
    rule's choice): that stands, and no RESOLVED is sent over it. RESOLVED is sent again, for the note."""
    raw = mapping(alert.raw)
    findings = items(mapping(raw.get("detail")).get("findings")) or [raw]
    for finding in map(mapping, findings):
        if dedupe_key == f"securityhub:{text(finding.get('ProductArn'))}:{text(finding.get('Id'))}":
            return text(mapping(finding.get("Workflow")).get("Status")).upper() == "SUPPRESSED"
    return False


def capabilities_needed(provider: ProviderConfig) -> set[Capability]:
    """What a provider's sync-back settings may ask of the stack."""
    needed = {Capability.SECURITY_HUB, Capability.COST_ANOMALY} if provider.sync_back else set()
    return needed | ({Capability.GUARDDUTY_ARCHIVE} if provider.archive_wont_fix else set())


def parse_capabilities(value: str) -> frozenset[Capability]:
    """``SYNC_BACK`` as the template sets it: a comma-separated list of capabilities (unknown names ignored)."""
    known = {c.value: c for c in Capability}
    return frozenset(known[name.strip()] for name in value.split(",") if name.strip() in known)


# ---- the adapter ---------------------------------------------------------------------------------------------


class Log(Protocol):
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None: ...
    def error(self, msg: str, *args: Any, **kwargs: Any) -> None: ...


class SyncBackPort(Protocol):
    """What the Jira effects call (one line each): after an issue is created, and after it is resolved."""

    def issue_created(self, provider: ProviderConfig, alert: Alert, state: IssueState) -> None: ...
    def issue_resolved(self, provider: ProviderConfig, alert: Alert, state: IssueState) -> None: ...
    def sync_resolution(self, provider: ProviderConfig, state: IssueState, resolution: str | None) -> None: ...
    def retry_due(self, providers: ProviderSource) -> RetryReport:
        """Send again the sync-backs that failed in a way that may pass (throttling, 5xx, network), as remembered on
        their state items; one whose provider no longer asks for it is dropped, one that failed ``MAX_DUE_ATTEMPTS``
        times is given up (logged). The scheduled reconcile run's last step."""
        ...


class NoSyncBack:
    """No stack capability at all (and the fast tests): nothing goes back to AWS."""

    def issue_created(self, provider: ProviderConfig, alert: Alert, state: IssueState) -> None:
        return None

    def issue_resolved(self, provider: ProviderConfig, alert: Alert, state: IssueState) -> None:
        return None

    def sync_resolution(self, provider: ProviderConfig, state: IssueState, resolution: str | None) -> None:
        return None

    def retry_due(self, providers: ProviderSource) -> RetryReport:
        return RetryReport()


@dataclass(frozen=True, slots=True)
class DueSyncBack:
    """A sync-back that failed in a way that may pass, as remembered on its state item."""

    pk: str
    provider: str
    request: SyncRequest
    attempts: int
    raw: str  # as stored: a retry clears it only if no newer one replaced it


class Ledger(Protocol):
    """Where sync-back facts live: attributes of the alert's state item that the lease never writes."""

    def keep_detector(self, pk: str, detector: Detector) -> None: ...
    def detector(self, pk: str) -> Detector | None: ...
    def remember(self, pk: str, provider: str, request: SyncRequest, reason: str, attempts: int = 1) -> None: ...
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
        """The product resolved the issue because the alert cleared: done (unless the finding was suppressed)."""
        if not capabilities_needed(provider) or suppressed_in_security_hub(alert, state.dedupe_key):
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
            if provider is None or due.request.capability not in capabilities_needed(provider):
                self.ledger.settled(due.pk, due.raw)
                report.dropped += 1
                continue
            try:
                self.send(due.request)
            except SyncBackError as error:
                self.recorder.count("SyncBackFailed")
                if error.retryable and due.attempts < MAX_DUE_ATTEMPTS:
                    self.ledger.remember(due.pk, due.provider, due.request, error.reason, due.attempts + 1)
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
                self.ledger.remember(state.pk, provider.provider_id, request, error.reason)
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


@dataclass
class RetryReport:
    sent: int = 0
    failed: int = 0  # still due: tried again by the next run
    given_up: int = 0
    dropped: int = 0  # the provider no longer asks for it


# ---- the ledger on the state table -----------------------------------------------------------------------------


class StateItemLedger:
    """Sync-back facts as attributes of the alert's state item, outside what the lease writes (``state._ATTRS``):
    ``syncBackDetector`` (JSON) and ``syncBackDue`` (JSON: the request, its provider, attempts, last reason)."""

    def __init__(self, client: DynamoDBClient, table: str, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table
        self.clock = clock

    def keep_detector(self, pk: str, detector: Detector) -> None:
        value = json.dumps({"detectorId": detector.detector_id, "region": detector.region})
        self._update(pk, "SET syncBackDetector = :v", {":v": {"S": value}})

    def detector(self, pk: str) -> Detector | None:
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": pk}}, ProjectionExpression="syncBackDetector"
        ).get("Item", {})
        stored = item.get("syncBackDetector", {}).get("S")
        if not stored:
            return None
        data = json.loads(stored)
        return Detector(data["detectorId"], data["region"])

    def remember(self, pk: str, provider: str, request: SyncRequest, reason: str, attempts: int = 1) -> None:
        due = {"provider": provider, "request": request.to_json(), "attempts": attempts, "reason": reason}
        due["at"] = round(self.clock(), 3)
        self._update(pk, "SET syncBackDue = :v", {":v": {"S": json.dumps(due, sort_keys=True)}})

    def settled(self, pk: str, raw: str | None = None) -> None:
        """Forget the remembered sync-back (only ``raw`` when given: a newer one stays)."""
        condition = "syncBackDue = :raw" if raw is not None else "attribute_exists(syncBackDue)"
        values = {":raw": {"S": raw}} if raw is not None else None
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._update(pk, "REMOVE syncBackDue", values, condition=condition)  # else none, or a newer one: it stays

    def due(self) -> Iterator[DueSyncBack]:
        """Every remembered sync-back (a scan filtered on the attribute: the reconcile run's pace, not the hot path)."""
        pages = self._client.get_paginator("scan").paginate(
            TableName=self._table,
            FilterExpression="attribute_exists(syncBackDue)",
            ProjectionExpression="pk, syncBackDue",
        )
        for page in pages:
            for item in page.get("Items", []):
                raw = item["syncBackDue"]["S"]
                data = json.loads(raw)
                yield DueSyncBack(
                    item["pk"]["S"], data["provider"], SyncRequest.from_json(data["request"]), data["attempts"], raw
                )

    def _update(
        self, pk: str, expression: str, values: dict[str, Any] | None, condition: str = "attribute_exists(pk)"
    ) -> None:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"pk": {"S": pk}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        self._client.update_item(**request)
