"""What an alert's source says now: a link's dedupe key read back into the source's own name for the alert, and
the source asked in batches within each API's limits.

Parsing is pure; each ``*Truth`` class is a thin adapter over one boto3 client, created on first use. Nothing here
writes anywhere: the reconcile run turns the answers into alerts for the normal lifecycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from jira_notifier.core.alert import AlertState
from jira_notifier.sources.common import alarm_name_from_arn, arn_region_account, epoch_ms, parse_time, text
from jira_notifier.sources.findings import securityhub_state

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_guardduty import GuardDutyClient
    from mypy_boto3_health import HealthClient
    from mypy_boto3_securityhub import SecurityHubClient

# Per call, from the service models and API references.
ALARM_NAMES_PER_CALL = 100  # DescribeAlarms AlarmNames
FINDING_IDS_PER_FILTER = 20  # Security Hub GetFindings: "up to 20 filter values" per attribute (Id)
GUARDDUTY_IDS_PER_CALL = 50  # GuardDuty GetFindings FindingIds
HEALTH_ARNS_PER_CALL = 10  # Health DescribeEvents filter.eventArns
HEALTH_REGION = "us-east-1"  # the AWS Health API's global endpoint

# Sources that keep no state to ask: their issues are left to their own notifications (and to people).
NO_STATE_SOURCES = ("cost-anomaly", "budget", "notification", "generic")


class Truth(StrEnum):
    ACTIVE = "active"  # the source still has it firing (or cannot say it is over): nothing to do
    CLEARED = "cleared"  # the source says it is over
    GONE = "gone"  # the source no longer has it at all (a deleted alarm)
    UNCHECKED = "unchecked"  # cannot be told from here: another account or region, not visible, the call failed


@dataclass(frozen=True, slots=True)
class Answer:
    truth: Truth
    detail: str  # what the source said, in a sentence: goes into the comment, or says why it was not checked
    at: int | None = None  # epoch ms of the source's last transition, when it gives one
    reason: str = ""  # the source's own reason text (an alarm's StateReason)


@dataclass(frozen=True, slots=True)
class SourceRef:
    """An alert as its source names it."""

    source: str  # cloudwatch-alarm | securityhub | guardduty | health
    name: str  # what the API takes: alarm name, finding id, event ARN
    account: str | None = None
    region: str | None = None
    product_arn: str | None = None  # Security Hub: a finding is (ProductArn, Id)

    @property
    def key(self) -> tuple[str, str, str | None]:
        return self.source, self.name, self.product_arn


def source_ref(dedupe_key: str) -> SourceRef | None:
    """The source's name for the alert behind ``dedupe_key`` (the formats of ``events/*.py``); None for a source
    with no state to ask, or a key that cannot be read."""
    source, _, rest = dedupe_key.partition(":")
    if source == "cloudwatch-alarm":
        region, account = arn_region_account(rest)
        name = alarm_name_from_arn(rest)
        return SourceRef(source, name, account, region) if name else None
    if source == "securityhub":
        # "securityhub:{ProductArn}:{Id}": a ProductArn has exactly six ':'-separated parts; the Id is the rest.
        parts = rest.split(":", 6)
        if len(parts) < 7 or parts[0] != "arn" or not parts[6]:
            return None
        product_arn = ":".join(parts[:6])
        region, account = arn_region_account(product_arn)
        return SourceRef(source, parts[6], None, region, product_arn)
    if source == "guardduty":
        return SourceRef(source, rest) if rest else None
    if source == "health":
        # "health:{event ARN}:{account}[:{entity}]": an event ARN has six parts (its account part is empty).
        parts = rest.split(":", 7)
        if len(parts) < 6 or parts[0] != "arn" or not parts[5]:
            return None
        account = parts[6] if len(parts) > 6 and parts[6].isdigit() else None
        return SourceRef(source, ":".join(parts[:6]), account, arn_region_account(":".join(parts[:6]))[0])
    return None


class SourceTruth(Protocol):
    """One source's adapter: which refs it can see from here, and their answers, one API call per batch."""

    source: str
    batch_size: int

    def out_of_reach(self, ref: SourceRef) -> str | None: ...
    def ask(self, refs: Sequence[SourceRef]) -> dict[tuple[str, str, str | None], Answer]: ...


class AlarmTruth:
    """CloudWatch ``DescribeAlarms`` by name: metric and composite alarms of the stack's account and region only
    (another account's alarms are not visible without a read role there)."""

    source = "cloudwatch-alarm"
    batch_size = ALARM_NAMES_PER_CALL

    def __init__(self, client: Callable[[], CloudWatchClient], account: str | None, region: str | None) -> None:
        self._client = client
        self._account = account
        self._region = region

    def out_of_reach(self, ref: SourceRef) -> str | None:
        if (ref.account and self._account and ref.account != self._account) or (
            ref.region and self._region and ref.region != self._region
        ):
            return f"alarm in {ref.account or '?'}/{ref.region or '?'}, outside this stack's account and region"
        return None

    def ask(self, refs: Sequence[SourceRef]) -> dict[tuple[str, str, str | None], Answer]:
        names = [ref.name for ref in refs]
        alarms: dict[str, Mapping[str, Any]] = {}
        pages = (
            self._client()
            .get_paginator("describe_alarms")
            .paginate(
                AlarmNames=names,
                AlarmTypes=["MetricAlarm", "CompositeAlarm"],
                PaginationConfig={"PageSize": ALARM_NAMES_PER_CALL},
            )
        )
        for page in pages:
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                alarms[str(alarm.get("AlarmName"))] = alarm
        return {ref.key: _alarm_answer(ref.name, alarms.get(ref.name)) for ref in refs}


def _alarm_answer(name: str, alarm: Mapping[str, Any] | None) -> Answer:
    if alarm is None:
        return Answer(Truth.GONE, f"Alarm {name} no longer exists.")
    state = text(alarm.get("StateValue")).upper()
    at = _ms(alarm.get("StateUpdatedTimestamp"))
    reason = text(alarm.get("StateReason"))
    if state == "OK":
        return Answer(Truth.CLEARED, f"Alarm {name} is OK{_since(at)}.", at, reason)
    return Answer(Truth.ACTIVE, f"Alarm {name} is {state or 'in an unknown state'}.", at, reason)


class SecurityHubTruth:
    """Security Hub ``GetFindings`` filtered by Id (20 values per filter). From the aggregation region it sees
    every linked region; a finding it does not return (another region, or expired after 90 days) is unchecked."""

    source = "securityhub"
    batch_size = FINDING_IDS_PER_FILTER

    def __init__(self, client: Callable[[], SecurityHubClient]) -> None:
        self._client = client

    def out_of_reach(self, ref: SourceRef) -> str | None:  # noqa: ARG002 - visibility is only known by asking
        return None

    def ask(self, refs: Sequence[SourceRef]) -> dict[tuple[str, str, str | None], Answer]:
        wanted = {ref.key for ref in refs}
        found: dict[tuple[str, str, str | None], Answer] = {}
        pages = (
            self._client()
            .get_paginator("get_findings")
            .paginate(
                Filters={"Id": [{"Value": ref.name, "Comparison": "EQUALS"} for ref in refs]},
                PaginationConfig={"PageSize": 100},
            )
        )
        for page in pages:
            for finding in page.get("Findings", []):
                key = (self.source, str(finding.get("Id")), str(finding.get("ProductArn")))
                if key in wanted:
                    found[key] = _securityhub_answer(finding)
        missing = Answer(Truth.UNCHECKED, "finding not visible from this account and region")
        return {ref.key: found.get(ref.key, missing) for ref in refs}


def _securityhub_answer(finding: Mapping[str, Any]) -> Answer:
    workflow = text(_get(finding, "Workflow", "Status")).upper()
    record_state = text(finding.get("RecordState")).upper()
    compliance = text(_get(finding, "Compliance", "Status")).upper()
    at = epoch_ms(parse_time(finding.get("UpdatedAt")))
    statuses = ", ".join(filter(None, (compliance, workflow, record_state)))
    if securityhub_state(workflow, record_state, compliance) is AlertState.RESOLVED:
        return Answer(Truth.CLEARED, f"The finding is {statuses}{_since(at)}.", at)
    return Answer(Truth.ACTIVE, f"The finding is {statuses or 'active'}.", at)


class GuardDutyTruth:
    """GuardDuty ``GetFindings`` (50 ids per call) through this account's detector in this region, found once with
    ``ListDetectors``: an administrator's detector also answers for its members' findings, which the detector id in
    a member's event would not. A finding it does not return (another region, expired) is unchecked."""

    source = "guardduty"
    batch_size = GUARDDUTY_IDS_PER_CALL

    def __init__(self, client: Callable[[], GuardDutyClient]) -> None:
        self._client = client
        self._detector: str | None = None

    def out_of_reach(self, ref: SourceRef) -> str | None:  # noqa: ARG002 - visibility is only known by asking
        return None

    def detector(self) -> str | None:
        if self._detector is None:
            detectors = self._client().list_detectors().get("DetectorIds", [])
            self._detector = detectors[0] if detectors else ""
        return self._detector or None

    def ask(self, refs: Sequence[SourceRef]) -> dict[tuple[str, str, str | None], Answer]:
        detector = self.detector()
        if detector is None:
            return {ref.key: Answer(Truth.UNCHECKED, "GuardDuty has no detector in this region") for ref in refs}
        findings = self._client().get_findings(DetectorId=detector, FindingIds=[ref.name for ref in refs])
        by_id = {str(f.get("Id")): f for f in findings.get("Findings", [])}
        missing = Answer(Truth.UNCHECKED, "finding not visible to this account's detector in this region")
        return {ref.key: _guardduty_answer(by_id[ref.name]) if ref.name in by_id else missing for ref in refs}


def _guardduty_answer(finding: Mapping[str, Any]) -> Answer:
    at = epoch_ms(parse_time(finding.get("UpdatedAt")))
    if _get(finding, "Service", "Archived") is True:
        return Answer(Truth.CLEARED, f"The finding is ARCHIVED{_since(at)}.", at)
    return Answer(Truth.ACTIVE, "The finding is active.", at)


class HealthTruth:
    """AWS Health ``DescribeEvents`` by event ARN (10 per call), from its global endpoint; it answers for the calling
    account only, and needs a Business, Enterprise On-Ramp or Enterprise Support plan."""

    source = "health"
    batch_size = HEALTH_ARNS_PER_CALL

    def __init__(self, client: Callable[[], HealthClient], account: str | None) -> None:
        self._client = client
        self._account = account
        self._refused: str | None = None  # the API's refusal, remembered for the rest of the run

    def out_of_reach(self, ref: SourceRef) -> str | None:
        if ref.account and self._account and ref.account != self._account:
            return f"Health event of account {ref.account}; the Health API answers for this account only"
        return None

    def ask(self, refs: Sequence[SourceRef]) -> dict[tuple[str, str, str | None], Answer]:
        if self._refused is None:
            from botocore.exceptions import ClientError

            try:
                events = (
                    self._client()
                    .describe_events(filter={"eventArns": sorted({ref.name for ref in refs})}, maxResults=100)
                    .get("events", [])
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "SubscriptionRequiredException":
                    raise
                self._refused = "the AWS Health API needs a Business, Enterprise On-Ramp or Enterprise Support plan"
            else:
                by_arn = {str(e.get("arn")): e for e in events}
                missing = Answer(Truth.UNCHECKED, "Health event not found for this account")
                return {ref.key: _health_answer(by_arn[ref.name]) if ref.name in by_arn else missing for ref in refs}
        return {ref.key: Answer(Truth.UNCHECKED, self._refused) for ref in refs}


def _health_answer(event: Mapping[str, Any]) -> Answer:
    status = text(event.get("statusCode")).lower()
    at = _ms(event.get("lastUpdatedTime")) or _ms(event.get("endTime"))
    if status == "closed":
        return Answer(Truth.CLEARED, f"The AWS Health event is closed{_since(at)}.", at)
    return Answer(Truth.ACTIVE, f"The AWS Health event is {status or 'open'}.", at)


def batches(refs: Sequence[SourceRef], size: int) -> Iterable[Sequence[SourceRef]]:
    """``refs`` in API-sized batches, each thing asked once (Health entities of one event share a slot)."""
    unique = list({ref.key: ref for ref in refs}.values())
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


def _get(data: Mapping[str, Any], *path: str) -> Any:
    value: Any = data
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _ms(value: object) -> int | None:
    if isinstance(value, datetime):
        return epoch_ms(value)
    return epoch_ms(parse_time(value))


def _since(at: int | None) -> str:
    if at is None:
        return ""
    return " since " + datetime.fromtimestamp(at / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
