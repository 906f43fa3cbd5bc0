"""Security findings from EventBridge: Security Hub (ASFF, PascalCase), Security Hub (OCSF, snake_case, "Findings
Imported V2") and GuardDuty (camelCase).

All are keyed on the finding, not the event: the EventBridge id changes with every update of the same finding. A
suppressed finding is a person's decision not to act: its issue resolves as won't-fix (``Alert.wont_fix``). An OCSF
update that only echoes the notifier's own sync-back (``core/findingnotes.py``) tells nothing new and is acknowledged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from jira_notifier.core.alert import Alert, AlertState, Link, Severity
from jira_notifier.core.findingnotes import is_own_update
from jira_notifier.sources.common import (
    Delivery,
    arn_region_account,
    epoch_ms,
    facts,
    first_text,
    from_epoch_ms,
    https_links,
    items,
    mapping,
    one_line,
    parse_time,
    region_code,
    show_time,
    text,
    to_decimal,
)
from jira_notifier.sources.regions import partition_of

SECURITYHUB_V2_SOURCE = "securityhub-v2"
GUARDDUTY_PRODUCT = "aws/guardduty"
_OCSF_SEVERITIES = {
    1: Severity.INFO,
    2: Severity.LOW,
    3: Severity.MEDIUM,
    4: Severity.HIGH,
    5: Severity.CRITICAL,
    6: Severity.CRITICAL,  # Fatal
}
_OCSF_STATUSES = {"new": 1, "in progress": 2, "suppressed": 3, "resolved": 4, "archived": 5, "deleted": 6}
_OCSF_ACTIVITIES = {"create": 1, "update": 2, "close": 3}
OCSF_CLOSE = 3  # activity_id: the provider closed the finding (its status may still read New)
OCSF_SUPPRESSED = 3  # status_id: a person's (or an automation rule's) decision
_OCSF_CLOSED_STATUSES = frozenset({3, 4, 5, 6})  # Suppressed, Resolved, Archived (resource gone), Deleted
_OCSF_PASS = 1  # compliance.status_id
OWN_UPDATE = "the notifier's own update of the finding, echoed back by Security Hub"

_SECURITY_HUB_SEVERITIES = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "INFORMATIONAL": Severity.INFO,
}


def securityhub_from_eventbridge(event: Mapping[str, Any], delivery: Delivery) -> list[Alert]:
    """ "Security Hub Findings - Imported": one alert per finding (there is usually exactly one)."""
    findings = [f for f in map(mapping, items(mapping(event.get("detail")).get("findings"))) if text(f.get("Id"))]
    if delivery.one_alert:
        findings = findings[:1]
    several = len(findings) > 1
    return [
        _securityhub_alert(
            finding,
            event,
            replace(delivery, delivery_key=f"{delivery.delivery_key}:{text(finding.get('Id'))}")
            if several
            else delivery,
        )
        for finding in findings
    ]


def guardduty_from_eventbridge(event: Mapping[str, Any], delivery: Delivery) -> list[Alert]:
    detail = mapping(event.get("detail"))
    finding_id = text(detail.get("id"))
    if not finding_id:
        return []
    region = region_code(detail.get("region")) or region_code(event.get("region"))
    account = first_text(detail.get("accountId"), event.get("account")) or None
    finding_type = text(detail.get("type"))
    resource = mapping(detail.get("resource"))
    resource_type = text(resource.get("resourceType"))
    service = mapping(detail.get("service"))
    updated = parse_time(detail.get("updatedAt")) or parse_time(event.get("time"))
    count = text(service.get("count"))
    last_seen = show_time(parse_time(service.get("eventLastSeen")))
    seen = ", ".join(
        filter(None, (f"seen {count} times" if count else "", f"last at {last_seen}" if last_seen else ""))
    )
    return [
        Alert(
            source="guardduty",
            dedupe_key=f"guardduty:{finding_id}",
            delivery_key=delivery.delivery_key,
            state=AlertState.FIRING,
            title=one_line("GuardDuty: " + first_text(detail.get("title"), finding_type, finding_id)),
            severity=_guardduty_severity(to_decimal(detail.get("severity"))),
            account=account,
            region=region,
            occurred_at=updated,
            what=f"GuardDuty reported {finding_type or 'a finding'}"
            + (f" on {resource_type}" if resource_type else "")
            + (f" ({seen})." if seen else "."),
            why=text(detail.get("description")),
            facts=facts(
                ("Account", account),
                ("Region", region),
                ("Finding type", finding_type),
                ("Severity", detail.get("severity")),
                ("Resource type", resource_type),
                ("Instance", mapping(resource.get("instanceDetails")).get("instanceId")),
                ("Access key user", mapping(resource.get("accessKeyDetails")).get("userName")),
                ("Count", count),
                ("First seen", show_time(parse_time(service.get("eventFirstSeen")))),
                ("Last seen", last_seen),
                ("Finding ID", finding_id),
            ),
            links=_guardduty_links(finding_id, region),
            raw=event,
            notification_group=delivery.group(),
            route_key=delivery.route_key,
            transition_at=epoch_ms(updated),
            resources=_guardduty_resources(resource, region, account),
            product=GUARDDUTY_PRODUCT,
        )
    ]


def _securityhub_alert(finding: Mapping[str, Any], event: Mapping[str, Any], delivery: Delivery) -> Alert:
    workflow = text(mapping(finding.get("Workflow")).get("Status")).upper()
    record_state = text(finding.get("RecordState")).upper()
    compliance = mapping(finding.get("Compliance"))
    compliance_status = text(compliance.get("Status")).upper()
    resources = [r for r in map(mapping, items(finding.get("Resources"))) if text(r.get("Id"))]
    first_resource = text(next(iter(resources), {}).get("Id"))
    region = region_code(finding.get("Region")) or region_code(event.get("region"))
    account = first_text(finding.get("AwsAccountId"), event.get("account")) or None
    updated = parse_time(finding.get("UpdatedAt")) or parse_time(event.get("time"))
    severity_label = text(mapping(finding.get("Severity")).get("Label")).upper()
    finding_title = first_text(finding.get("Title"), finding.get("GeneratorId"), finding.get("Id"))
    control = first_text(compliance.get("SecurityControlId"), finding.get("GeneratorId"))
    statuses = ", ".join(filter(None, (compliance_status, workflow, record_state)))
    recommendation = mapping(mapping(finding.get("Remediation")).get("Recommendation"))
    return Alert(
        source="securityhub",
        dedupe_key=f"securityhub:{text(finding.get('ProductArn'))}:{text(finding.get('Id'))}",
        delivery_key=delivery.delivery_key,
        state=securityhub_state(workflow, record_state, compliance_status),
        title=one_line(f"Security Hub: {finding_title}" + (f" ({first_resource})" if first_resource else "")),
        severity=_SECURITY_HUB_SEVERITIES.get(severity_label, Severity.MEDIUM),
        account=account,
        region=region,
        occurred_at=updated,
        what=f"Security Hub finding {control or finding_title}"
        + (f" on {first_resource}" if first_resource else "")
        + (f" is {statuses}" if statuses else "")
        + (f", updated {show_time(updated)}." if updated else "."),
        why=" ".join(filter(None, (text(finding.get("Description")), text(recommendation.get("Text"))))),
        facts=facts(
            ("Account", account),
            ("Region", region),
            ("Product", first_text(finding.get("ProductName"), finding.get("ProductArn"))),
            ("Severity", severity_label),
            ("Control", compliance.get("SecurityControlId")),
            ("Compliance", compliance_status),
            ("Workflow", workflow),
            ("Record state", record_state),
            ("Resources", ", ".join(f"{text(r.get('Type'))} {text(r.get('Id'))}".strip() for r in resources)),
            ("Generator", finding.get("GeneratorId")),
            ("First observed", show_time(parse_time(finding.get("FirstObservedAt")))),
            ("Updated", show_time(updated)),
        ),
        links=_securityhub_links(recommendation.get("Url"), region),
        raw=event,
        notification_group=delivery.group(),
        route_key=delivery.route_key,
        transition_at=epoch_ms(updated),
        ignore_reason="Security Hub finding is SUPPRESSED" if workflow == "SUPPRESSED" else None,
        resources=_arns(*(text(r.get("Id")) for r in resources)),
        product=product_of(text(finding.get("ProductArn"))),
        wont_fix=workflow == "SUPPRESSED",
    )


def securityhub_v2_from_eventbridge(event: Mapping[str, Any], delivery: Delivery) -> list[Alert]:
    """ "Findings Imported V2" (OCSF): one alert per finding, keyed on account + product uid + finding uid."""
    findings = [f for f in map(mapping, items(mapping(event.get("detail")).get("findings"))) if _v2_identity(f, event)]
    if delivery.one_alert:
        findings = findings[:1]
    several = len(findings) > 1
    alerts = []
    for finding in findings:
        identity = _v2_identity(finding, event)
        assert identity is not None
        own = replace(delivery, delivery_key=f"{delivery.delivery_key}:{identity[2]}") if several else delivery
        alerts.append(_securityhub_v2_alert(finding, identity, event, own))
    return alerts


def securityhub_v2_key(account: str, product_uid: str, finding_uid: str) -> str:
    return f"{SECURITYHUB_V2_SOURCE}:{account}:{product_uid}:{finding_uid}"


def read_securityhub_v2_key(dedupe_key: str) -> tuple[str, str, str] | None:
    """(account, product uid, finding uid) from an OCSF finding's dedupe key; None for any other key. The product uid
    is an ARN of exactly six ':'-separated parts; the finding uid is the rest (it may hold ':' itself)."""
    source, _, rest = dedupe_key.partition(":")
    parts = rest.split(":", 7)
    if source != SECURITYHUB_V2_SOURCE or len(parts) < 8 or parts[1] != "arn" or not parts[0] or not parts[7]:
        return None
    return parts[0], ":".join(parts[1:7]), parts[7]


@dataclass(frozen=True, slots=True)
class OcsfStatus:
    """Where an OCSF finding stands: the provider's activity, the workflow status people set, the compliance result."""

    activity_id: int | None
    status_id: int | None
    compliance: str  # as written, e.g. "Pass"
    passed: bool

    @property
    def closed(self) -> bool:
        """Closed by its provider, resolved, suppressed or archived (its resource deleted), or a passed control."""
        return self.activity_id == OCSF_CLOSE or self.status_id in _OCSF_CLOSED_STATUSES or self.passed

    @property
    def suppressed(self) -> bool:
        return self.status_id == OCSF_SUPPRESSED

    @property
    def state(self) -> AlertState:
        return AlertState.RESOLVED if self.closed else AlertState.FIRING


def ocsf_status(finding: Mapping[str, Any]) -> OcsfStatus:
    """The status of an OCSF finding (an event's or ``GetFindingsV2``'s: the same JSON), by id or else by name."""
    compliance = mapping(finding.get("compliance"))
    said = text(compliance.get("status"))
    return OcsfStatus(
        activity_id=_whole(finding.get("activity_id"))
        or _OCSF_ACTIVITIES.get(text(finding.get("activity_name")).lower()),
        status_id=_whole(finding.get("status_id")) or _OCSF_STATUSES.get(text(finding.get("status")).lower()),
        compliance=said,
        passed=said.upper() in ("PASS", "PASSED") or _whole(compliance.get("status_id")) == _OCSF_PASS,
    )


def ocsf_modified_at(finding: Mapping[str, Any]) -> int | None:
    """When the provider last changed the finding, epoch ms (the notifier's own updates do not move it)."""
    info = mapping(finding.get("finding_info"))
    moment = (
        from_epoch_ms(info.get("modified_time"))
        or parse_time(info.get("modified_time_dt"))
        or from_epoch_ms(finding.get("time"))
        or parse_time(finding.get("time_dt"))
    )
    return epoch_ms(moment)


def _v2_identity(finding: Mapping[str, Any], event: Mapping[str, Any]) -> tuple[str, str, str] | None:
    account = first_text(mapping(mapping(finding.get("cloud")).get("account")).get("uid"), event.get("account"))
    product = text(mapping(mapping(finding.get("metadata")).get("product")).get("uid"))
    uid = text(mapping(finding.get("finding_info")).get("uid"))
    return (account, product, uid) if account and product and uid else None


def _securityhub_v2_alert(
    finding: Mapping[str, Any], identity: tuple[str, str, str], event: Mapping[str, Any], delivery: Delivery
) -> Alert:
    account, product_uid, uid = identity
    info = mapping(finding.get("finding_info"))
    product = mapping(mapping(finding.get("metadata")).get("product"))
    compliance = mapping(finding.get("compliance"))
    status = ocsf_status(finding)
    own_update = status.activity_id != OCSF_CLOSE and is_own_update(text(finding.get("comment")), status.status_id)
    resources = [r for r in map(mapping, items(finding.get("resources"))) if text(r.get("uid"))]
    first_resource = text(next(iter(resources), {}).get("uid"))
    region = (
        region_code(mapping(finding.get("cloud")).get("region"))
        or arn_region_account(product_uid)[0]
        or region_code(event.get("region"))
    )
    modified_at = ocsf_modified_at(finding)
    updated = from_epoch_ms(modified_at) if modified_at is not None else parse_time(event.get("time"))
    title = first_text(info.get("title"), uid)
    control = text(compliance.get("control"))
    statuses = ", ".join(
        filter(None, (status.compliance, text(finding.get("status")), text(finding.get("activity_name"))))
    )
    remediation = mapping(finding.get("remediation"))
    ignore_reason = None
    if own_update:
        ignore_reason = OWN_UPDATE
    elif status.suppressed:
        ignore_reason = "Security Hub finding is Suppressed"
    return Alert(
        source=SECURITYHUB_V2_SOURCE,
        dedupe_key=securityhub_v2_key(account, product_uid, uid),
        delivery_key=delivery.delivery_key,
        # The notifier's own update is acknowledged and changes nothing, whatever status it set.
        state=AlertState.UNKNOWN if own_update else status.state,
        title=one_line(f"Security Hub: {title}" + (f" ({first_resource})" if first_resource else "")),
        severity=_OCSF_SEVERITIES.get(_whole(finding.get("severity_id")) or 0, Severity.MEDIUM),
        account=account,
        region=region,
        occurred_at=updated,
        what=f"Security Hub finding {control or title}"
        + (f" on {first_resource}" if first_resource else "")
        + (f" is {statuses}" if statuses else "")
        + (f", updated {show_time(updated)}." if updated else ".")
        + (
            " It was suppressed in Security Hub: resolved as won't fix." if status.suppressed and not own_update else ""
        ),
        why=" ".join(filter(None, (text(info.get("desc")), text(remediation.get("desc"))))),
        facts=facts(
            ("Account", account),
            ("Region", region),
            ("Product", first_text(product.get("name"), product_uid)),
            ("Severity", finding.get("severity")),
            ("Class", finding.get("class_name")),
            ("Control", control),
            ("Compliance", status.compliance),
            ("Status", finding.get("status")),
            ("Activity", finding.get("activity_name")),
            ("Resources", ", ".join(f"{text(r.get('type'))} {text(r.get('uid'))}".strip() for r in resources)),
            ("Types", ", ".join(filter(None, map(text, items(info.get("types")))))),
            (
                "First seen",
                show_time(from_epoch_ms(info.get("first_seen_time")) or parse_time(info.get("first_seen_time_dt"))),
            ),
            ("Updated", show_time(updated)),
            ("Finding ID", uid),
        ),
        links=https_links(
            *(("Remediation", url) for url in items(remediation.get("references"))[:3]),
            (
                "Security Hub",
                f"https://{region}.console.aws.amazon.com/securityhub/v2/home?region={region}" if region else "",
            ),
        ),
        raw=event,
        notification_group=delivery.group(),
        route_key=delivery.route_key,
        transition_at=modified_at if modified_at is not None else epoch_ms(updated),
        ignore_reason=ignore_reason,
        resources=_arns(*(text(r.get("uid")) for r in resources)),
        product=product_of(product_uid),
        wont_fix=status.suppressed and not own_update,
    )


def product_of(product_arn: str) -> str | None:
    """The product a finding's product ARN names, ``company/product``: ``aws/guardduty`` from
    ``arn:aws:securityhub:us-east-1::product/aws/guardduty`` (ASFF) or ``...::productv2/aws/guardduty`` (OCSF)."""
    resource = product_arn.split(":", 5)[-1] if product_arn.startswith("arn:") else ""
    kind, _, product = resource.partition("/")
    return product.lower() if kind in ("product", "productv2") and product else None


def _whole(value: object) -> int | None:
    number = to_decimal(value)
    return int(number) if number is not None and number == number.to_integral_value() else None


def _guardduty_resources(resource: Mapping[str, Any], region: str | None, account: str | None) -> tuple[str, ...]:
    """The EC2 instance a GuardDuty finding is about, as an ARN (its tags may fill Jira fields)."""
    instance = text(mapping(resource.get("instanceDetails")).get("instanceId"))
    if not (instance and region and account):
        return ()
    return (f"arn:{partition_of(region)}:ec2:{region}:{account}:instance/{instance}",)


def _arns(*ids: str) -> tuple[str, ...]:
    """The resource ids that are ARNs (a finding may name a resource by another id), each once."""
    return tuple(dict.fromkeys(i for i in ids if i.startswith("arn:")))


def securityhub_state(workflow: str, record_state: str, compliance_status: str) -> AlertState:
    """SUPPRESSED, ARCHIVED, RESOLVED and PASSED all clear the alert; anything else is still firing."""
    if workflow in {"SUPPRESSED", "RESOLVED"} or record_state == "ARCHIVED" or compliance_status == "PASSED":
        return AlertState.RESOLVED
    return AlertState.FIRING


def _guardduty_severity(score: Decimal | None) -> Severity:
    if score is None:
        return Severity.MEDIUM
    if score >= 8:
        return Severity.CRITICAL
    if score >= 7:
        return Severity.HIGH
    return Severity.MEDIUM if score >= 4 else Severity.LOW


def _securityhub_links(recommendation_url: object, region: str | None) -> tuple[Link, ...]:
    console = f"https://{region}.console.aws.amazon.com/securityhub/home?region={region}#/findings" if region else ""
    return https_links(("Remediation", recommendation_url), ("Security Hub findings", console))


def _guardduty_links(finding_id: str, region: str | None) -> tuple[Link, ...]:
    if not region:
        return ()
    url = f"https://{region}.console.aws.amazon.com/guardduty/home?region={region}#/findings?fId={quote(finding_id)}"
    return https_links(("GuardDuty finding", url))
