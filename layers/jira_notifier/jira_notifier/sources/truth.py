"""What an alert's source says now (``ports.SourceTruth``): a link's dedupe key read back into the source's own name
for the alert, and the source asked in batches within each API's limits.

Parsing is pure; each ``*Truth`` class is a thin adapter over one boto3 client, created on first use. Nothing here
writes anywhere: the reconcile run turns the answers into alerts for the normal lifecycle.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jira_notifier.core.alert import AlertState
from jira_notifier.ports import NO_STATE_SOURCES, Answer, SourceRef, SourceTruth, Truth
from jira_notifier.sources.cloudwatch import CONTRIBUTOR_SOURCE, read_contributor_key
from jira_notifier.sources.common import alarm_name_from_arn, arn_region_account, epoch_ms, parse_time, text
from jira_notifier.sources.findings import (
    SECURITYHUB_V2_SOURCE,
    ocsf_modified_at,
    ocsf_status,
    read_securityhub_v2_key,
    securityhub_state,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_guardduty import GuardDutyClient
    from mypy_boto3_health import HealthClient
    from mypy_boto3_health.type_defs import EventFilterTypeDef
    from mypy_boto3_securityhub import SecurityHubClient
    from mypy_boto3_securityhub.type_defs import CompositeFilterPaginatorTypeDef

# Per call, from the service models and API references.
ALARM_NAMES_PER_CALL = 100  # DescribeAlarms AlarmNames
FINDING_IDS_PER_FILTER = 20  # Security Hub GetFindings: "up to 20 filter values" per attribute (Id)
GUARDDUTY_IDS_PER_CALL = 50  # GuardDuty GetFindings FindingIds
HEALTH_ARNS_PER_CALL = 10  # Health DescribeEvents filter.eventArns
HEALTH_SERVICES_PER_CALL = 10  # Health DescribeEvents filter.services
HEALTH_PAGE = 100  # Health DescribeEvents maxResults
HEALTH_REGION = "us-east-1"  # the AWS Health API's global endpoint
# GetFindingsV2: up to 10 composite filters of up to 20 string filters each (the API reference's limits), OR'ed.
FINDING_UIDS_PER_FILTER = 20
FINDING_FILTERS_PER_CALL = 10
FINDINGS_V2_PER_CALL = FINDING_UIDS_PER_FILTER * FINDING_FILTERS_PER_CALL
FINDINGS_V2_PAGE = 100  # GetFindingsV2 MaxResults
ASK_ONCE = 1_000_000  # a source asked once for all its links (it pages its own answer): the batch has no limit


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
    if source == CONTRIBUTOR_SOURCE:
        contributor = read_contributor_key(dedupe_key)
        if contributor is None:
            return None
        region, account = arn_region_account(contributor[0])
        return SourceRef(source, alarm_name_from_arn(contributor[0]), account, region, part=contributor[1])
    if source == SECURITYHUB_V2_SOURCE:
        finding = read_securityhub_v2_key(dedupe_key)
        if finding is None:
            return None
        account, product, uid = finding
        return SourceRef(source, uid, account, arn_region_account(product)[0], product)
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
        return _alarm_out_of_reach(ref, self._account, self._region)

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


def _alarm_out_of_reach(ref: SourceRef, account: str | None, region: str | None) -> str | None:
    if (ref.account and account and ref.account != account) or (ref.region and region and ref.region != region):
        return f"alarm in {ref.account or '?'}/{ref.region or '?'}, outside this stack's account and region"
    return None


class ContributorTruth:
    """CloudWatch ``DescribeAlarmContributors``, one alarm at a time (paged on ``NextToken``; the API takes one name
    and has no page size): it lists the contributors in ALARM now, so a contributor it does not list has cleared,
    and an alarm it does not know (deleted) takes all of its contributors with it. Each alarm is asked once a run,
    however many of its contributors have issues; same account and region as ``AlarmTruth``.

    A clear found this way has no time of its own: the time the alarm was asked stands for it, so a later firing of
    the contributor (stamped after it) still counts, and an older one delivered late does not."""

    source = CONTRIBUTOR_SOURCE
    # One link a batch: each alarm not yet asked is a call of its own (paged), and the run checks the time it has
    # left before each batch; the links of an alarm already asked cost nothing.
    batch_size = 1

    def __init__(
        self,
        client: Callable[[], CloudWatchClient],
        account: str | None,
        region: str | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._account = account
        self._region = region
        self._clock = clock
        self._asked: dict[str, tuple[int, dict[str, Mapping[str, Any]] | None]] = {}  # alarm -> (when, in ALARM)

    def out_of_reach(self, ref: SourceRef) -> str | None:
        return _alarm_out_of_reach(ref, self._account, self._region)

    def ask(self, refs: Sequence[SourceRef]) -> dict[tuple[str, str, str | None], Answer]:
        answers = {}
        for ref in refs:
            if ref.name not in self._asked:
                self._asked[ref.name] = self._in_alarm(ref.name)
            at, in_alarm = self._asked[ref.name]
            answers[ref.key] = _contributor_answer(ref, at, in_alarm)
        return answers

    def _in_alarm(self, alarm: str) -> tuple[int, dict[str, Mapping[str, Any]] | None]:
        """When the alarm was asked (epoch ms), and its contributors in ALARM by id (None: no such alarm)."""
        from botocore.exceptions import ClientError

        at = int(self._clock() * 1000)
        listed: dict[str, Mapping[str, Any]] = {}
        request: dict[str, Any] = {"AlarmName": alarm}
        while True:
            try:
                page = self._client().describe_alarm_contributors(**request)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
                return at, None
            listed.update({str(c.get("ContributorId")): c for c in page.get("AlarmContributors", [])})
            token = page.get("NextToken")
            if not token:
                return at, listed
            request["NextToken"] = token


def _contributor_answer(ref: SourceRef, at: int, in_alarm: Mapping[str, Mapping[str, Any]] | None) -> Answer:
    if in_alarm is None:
        return Answer(Truth.GONE, f"Alarm {ref.name} no longer exists, nor its contributor {ref.part}.", at)
    found = in_alarm.get(ref.part or "")
    if found is None:
        return Answer(Truth.CLEARED, f"Contributor {ref.part} of alarm {ref.name} is no longer in ALARM.", at)
    since = _ms(found.get("StateTransitionedTimestamp"))
    reason = text(found.get("StateReason"))
    return Answer(
        Truth.ACTIVE, f"Contributor {ref.part} of alarm {ref.name} is in ALARM{_since(since)}.", since, reason
    )


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
        suppressed = workflow == "SUPPRESSED"  # a person's decision: the issue resolves as won't-fix
        return Answer(Truth.CLEARED, f"The finding is {statuses}{_since(at)}.", at, wont_fix=suppressed)
    return Answer(Truth.ACTIVE, f"The finding is {statuses or 'active'}.", at)


class SecurityHubV2Truth:
    """Security Hub ``GetFindingsV2`` filtered by ``finding_info.uid``: up to 200 uids a call (10 composite filters of
    20, OR'ed), paged by 100. A finding is matched on all three of account, product uid and finding uid; one it does
    not return (another region without aggregation, expired) is unchecked."""

    source = SECURITYHUB_V2_SOURCE
    batch_size = FINDINGS_V2_PER_CALL

    def __init__(self, client: Callable[[], SecurityHubClient]) -> None:
        self._client = client

    def out_of_reach(self, ref: SourceRef) -> str | None:  # noqa: ARG002 - visibility is only known by asking
        return None

    def ask(self, refs: Sequence[SourceRef]) -> dict[tuple[str, str, str | None], Answer]:
        uids = sorted({ref.name for ref in refs})
        composites: list[CompositeFilterPaginatorTypeDef] = [
            {
                "StringFilters": [
                    {"FieldName": "finding_info.uid", "Filter": {"Value": uid, "Comparison": "EQUALS"}}
                    for uid in uids[start : start + FINDING_UIDS_PER_FILTER]
                ],
                "Operator": "OR",
            }
            for start in range(0, len(uids), FINDING_UIDS_PER_FILTER)
        ]
        wanted = {ref.key for ref in refs}
        found: dict[tuple[str, str, str | None], Answer] = {}
        pages = (
            self._client()
            .get_paginator("get_findings_v2")
            .paginate(
                Filters={"CompositeFilters": composites, "CompositeOperator": "OR"},
                PaginationConfig={"PageSize": FINDINGS_V2_PAGE},
            )
        )
        for page in pages:
            for finding in page.get("Findings", []):
                key = _v2_key(finding)
                if key in wanted:
                    found[key] = _securityhub_v2_answer(finding)
        missing = Answer(Truth.UNCHECKED, "finding not visible from this account and region")
        return {ref.key: found.get(ref.key, missing) for ref in refs}


def _v2_key(finding: Mapping[str, Any]) -> tuple[str, str, str | None]:
    account = text(_get(finding, "cloud", "account", "uid"))
    product = text(_get(finding, "metadata", "product", "uid"))
    return SECURITYHUB_V2_SOURCE, text(_get(finding, "finding_info", "uid")), f"{account}|{product}"


def _securityhub_v2_answer(finding: Mapping[str, Any]) -> Answer:
    status = ocsf_status(finding)
    at = ocsf_modified_at(finding)
    said = ", ".join(filter(None, (status.compliance, text(finding.get("status")), text(finding.get("activity_name")))))
    if status.closed:
        return Answer(Truth.CLEARED, f"The finding is {said or 'closed'}{_since(at)}.", at, wont_fix=status.suppressed)
    return Answer(Truth.ACTIVE, f"The finding is {said or 'active'}.", at)


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
    """AWS Health ``DescribeEvents``, from its global endpoint; it answers for the calling account only, and needs a
    Business, Enterprise On-Ramp or Enterprise Support plan.

    All open links are asked at once: up to 10 events by ARN in one call (the filter's limit); more than that, one
    paged query for this account's closed events (of the links' services, when they are 10 or fewer), matched
    against the links. An event that query does not list is not closed."""

    source = "health"
    batch_size = ASK_ONCE

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

            arns = sorted({ref.name for ref in refs})
            try:
                answers = self._by_arn(refs, arns) if len(arns) <= HEALTH_ARNS_PER_CALL else self._closed(refs, arns)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "SubscriptionRequiredException":
                    raise
                self._refused = "the AWS Health API needs a Business, Enterprise On-Ramp or Enterprise Support plan"
            else:
                return answers
        return {ref.key: Answer(Truth.UNCHECKED, self._refused) for ref in refs}

    def _by_arn(self, refs: Sequence[SourceRef], arns: list[str]) -> dict[tuple[str, str, str | None], Answer]:
        events = self._client().describe_events(filter={"eventArns": arns}, maxResults=HEALTH_PAGE).get("events", [])
        by_arn = {str(e.get("arn")): e for e in events}
        missing = Answer(Truth.UNCHECKED, "Health event not found for this account")
        return {ref.key: _health_answer(by_arn[ref.name]) if ref.name in by_arn else missing for ref in refs}

    def _closed(self, refs: Sequence[SourceRef], arns: list[str]) -> dict[tuple[str, str, str | None], Answer]:
        services = sorted({_health_service(arn) for arn in arns} - {""})
        wanted: EventFilterTypeDef = {"eventStatusCodes": ["closed"]}
        if 0 < len(services) <= HEALTH_SERVICES_PER_CALL:
            wanted["services"] = services
        closed: dict[str, Mapping[str, Any]] = {}
        pages = (
            self._client()
            .get_paginator("describe_events")
            .paginate(filter=wanted, PaginationConfig={"PageSize": HEALTH_PAGE})
        )
        for page in pages:
            closed.update((str(e.get("arn")), e) for e in page.get("events", []))
        still = Answer(Truth.ACTIVE, "The AWS Health event is not among this account's closed events.")
        return {ref.key: _health_answer(closed[ref.name]) if ref.name in closed else still for ref in refs}


def _health_service(event_arn: str) -> str:
    """The service an event ARN names: ``EC2`` in ``arn:aws:health:us-east-1::event/EC2/AWS_EC2_.../...``."""
    _, _, path = event_arn.partition(":event/")
    return path.split("/", 1)[0]


def _health_answer(event: Mapping[str, Any]) -> Answer:
    status = text(event.get("statusCode")).lower()
    at = _ms(event.get("lastUpdatedTime")) or _ms(event.get("endTime"))
    if status == "closed":
        return Answer(Truth.CLEARED, f"The AWS Health event is closed{_since(at)}.", at)
    return Answer(Truth.ACTIVE, f"The AWS Health event is {status or 'open'}.", at)


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


__all__ = ["NO_STATE_SOURCES", "Answer", "SourceRef", "SourceTruth", "Truth"]
