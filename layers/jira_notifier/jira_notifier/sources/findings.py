"""Security findings from EventBridge: Security Hub (ASFF, PascalCase) and GuardDuty (camelCase).

Both are keyed on the finding, not the event: the EventBridge id changes with every update of the same finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from jira_notifier.core.alert import Alert, AlertState, Link, Severity
from jira_notifier.sources.common import (
    Delivery,
    epoch_ms,
    facts,
    first_text,
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
    )


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
