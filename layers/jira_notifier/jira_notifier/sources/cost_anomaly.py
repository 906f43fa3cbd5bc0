"""AWS Cost Anomaly Detection alerts: SNS says ``dimensionalValue``, EventBridge says ``dimensionValue``."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from jira_notifier.core.alert import Alert, AlertState, Link, Severity
from jira_notifier.sources.common import (
    Delivery,
    epoch_ms,
    facts,
    first_text,
    https_links,
    items,
    mapping,
    money,
    one_line,
    region_code,
    show_date,
    text,
    to_decimal,
)

CONSOLE_URL = "https://us-east-1.console.aws.amazon.com/cost-management/home#/anomaly-detection/overview"


def from_sns_message(message: Mapping[str, Any], delivery: Delivery) -> list[Alert]:
    return _anomaly_alerts(message, message, delivery, account=text(message.get("accountId")) or None, region=None)


def from_eventbridge(event: Mapping[str, Any], delivery: Delivery) -> list[Alert]:
    detail = mapping(event.get("detail"))
    account = first_text(detail.get("accountId"), event.get("account")) or None
    return _anomaly_alerts(detail, event, delivery, account=account, region=region_code(event.get("region")))


def _anomaly_alerts(
    anomaly: Mapping[str, Any], raw: Any, delivery: Delivery, *, account: str | None, region: str | None
) -> list[Alert]:
    anomaly_id = text(anomaly.get("anomalyId"))
    if not anomaly_id:
        return []
    impact = mapping(anomaly.get("impact"))
    total = to_decimal(impact.get("totalImpact"))
    causes = [cause for cause in items(anomaly.get("rootCauses")) if isinstance(cause, Mapping)]
    dimension = first_text(
        anomaly.get("dimensionalValue"), anomaly.get("dimensionValue"), *(c.get("service") for c in causes)
    )
    monitor = text(anomaly.get("monitorName"))  # EventBridge only; SNS names the subscription instead
    start, end = show_date(anomaly.get("anomalyStartDate")), show_date(anomaly.get("anomalyEndDate"))
    cause_lines = [line for line in map(_describe_cause, causes) if line]
    score = mapping(anomaly.get("anomalyScore"))
    return [
        Alert(
            source="cost-anomaly",
            dedupe_key=f"cost-anomaly:{anomaly_id}",
            delivery_key=delivery.delivery_key,
            state=AlertState.FIRING,
            title=one_line(f"Cost anomaly: {dimension or 'AWS spend'}" + (f" ({monitor})" if monitor else "")),
            severity=_severity(total),
            account=account,
            region=region,
            occurred_at=delivery.received_at,
            what=f"Cost Anomaly Detection found unexpected spend in {dimension or 'AWS'}{_period(start, end)}.",
            why=" ".join(filter(None, (_impact_sentence(impact), _causes_sentence(cause_lines)))),
            facts=facts(
                ("Account", account),
                ("Monitor", monitor),
                ("Subscription", anomaly.get("subscriptionName")),
                ("Dimension", dimension),
                ("Anomaly start", start),
                ("Anomaly end", end),
                ("Total impact", money(total)),
                ("Impact percentage", _percent(impact.get("totalImpactPercentage"))),
                ("Actual spend", money(to_decimal(impact.get("totalActualSpend")))),
                ("Expected spend", money(to_decimal(impact.get("totalExpectedSpend")))),
                ("Max daily impact", money(to_decimal(impact.get("maxImpact")))),
                ("Anomaly score", _score(score)),
                *((f"Root cause {n}", line) for n, line in enumerate(cause_lines, start=1)),
                ("Feedback", anomaly.get("feedback")),
                ("Anomaly ID", anomaly_id),
            ),
            links=_links(anomaly.get("anomalyDetailsLink")),
            raw=raw,
            notification_group=delivery.group(),
            route_key=delivery.route_key,
            transition_at=epoch_ms(delivery.received_at),
            impact=float(total) if total is not None else None,
        )
    ]


def _severity(total: Decimal | None) -> Severity:
    if total is None:
        return Severity.MEDIUM
    if total >= 1000:
        return Severity.CRITICAL
    return Severity.HIGH if total >= 100 else Severity.MEDIUM


def _period(start: str, end: str) -> str:
    if start and end and start != end:
        return f" from {start} to {end}"
    return f" on {start or end}" if start or end else ""


def _impact_sentence(impact: Mapping[str, Any]) -> str:
    total = to_decimal(impact.get("totalImpact"))
    if total is None:
        return ""
    percent = _percent(impact.get("totalImpactPercentage"))
    actual = to_decimal(impact.get("totalActualSpend"))
    expected = to_decimal(impact.get("totalExpectedSpend"))
    sentence = f"Total impact {money(total)}" + (f" ({percent} above expected)" if percent else "")
    if actual is not None and expected is not None:
        sentence += f": actual spend {money(actual)} against {money(expected)} expected"
    return sentence + "."


def _causes_sentence(lines: list[str]) -> str:
    if not lines:
        return "No root cause was identified."
    return "Root causes: " + "; ".join(lines) + "."


def _describe_cause(cause: Mapping[str, Any]) -> str:
    account = text(cause.get("linkedAccount"))
    account_name = text(cause.get("linkedAccountName"))
    if account and account_name:
        account = f"{account} ({account_name})"
    where = " / ".join(
        filter(
            None,
            (
                text(cause.get("service")),
                text(cause.get("region")),
                text(cause.get("usageType")),
                f"account {account}" if account else "",
            ),
        )
    )
    contribution = money(to_decimal(mapping(cause.get("impact")).get("contribution")))
    if not where:
        return ""
    return where + (f", contribution {contribution}" if contribution else "")


def _percent(value: object) -> str:
    number = to_decimal(value)
    return "" if number is None else f"{number:.2f}%"


def _score(score: Mapping[str, Any]) -> str:
    current, highest = text(score.get("currentScore")), text(score.get("maxScore"))
    if current and highest:
        return f"{current} (max {highest})"
    return current or highest


def _links(details_link: object) -> tuple[Link, ...]:
    return https_links(("Cost anomaly details", details_link)) or https_links(("Cost Anomaly Detection", CONSOLE_URL))
