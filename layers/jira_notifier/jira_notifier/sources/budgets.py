"""AWS Budgets notifications: plain text with no id, so the issue key is built from the text itself."""

from __future__ import annotations

import calendar
import re
from datetime import datetime

from jira_notifier.core.alert import Alert, AlertState, Severity
from jira_notifier.sources.common import (
    Delivery,
    epoch_ms,
    facts,
    https_links,
    one_line,
    to_decimal,
)

CONSOLE_URL = "https://us-east-1.console.aws.amazon.com/billing/home#/budgets"
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_WORDY_DATE = re.compile(r"\b([A-Za-z]+)\s+(\d{1,2}),?\s+(\d{4})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-\d{2}\b")
_ACCOUNT_LINE = re.compile(r"^AWS Account:?\s*(\d{12})\s*$", re.MULTILINE)
_COMPARATOR = re.compile(r"^[<>=\s]+")
_SEVERITY = {"ACTUAL": Severity.HIGH, "FORECASTED": Severity.MEDIUM}


def looks_like_budget(message: str) -> bool:
    """Recognised by its labelled lines, never by the SNS Subject."""
    lines = _labelled_lines(message)
    return bool(lines.get("budget name")) and "alert type" in lines


def from_text(message: str, delivery: Delivery) -> list[Alert]:
    lines = _labelled_lines(message)
    name = lines.get("budget name", "")
    if not name:
        return []
    alert_type = lines.get("alert type", "").upper()  # older messages say "Actual"
    threshold_text = _COMPARATOR.sub("", lines.get("alert threshold", ""))
    period = _notification_month(message, delivery.received_at)
    account_match = _ACCOUNT_LINE.search(message)
    account = account_match.group(1) if account_match else None
    amount_label = f"{alert_type or 'Alert'} Amount"
    amount = lines.get(amount_label.lower(), "")
    return [
        Alert(
            source="budget",
            # No threshold in the key: a higher threshold of the same budget and period is news on the same issue
            # (its priority may rise: impact.py), not an issue of its own.
            dedupe_key=f"budget:{account or 'unknown'}:{name}:{alert_type or 'UNKNOWN'}:{period}",
            delivery_key=delivery.delivery_key,
            state=AlertState.FIRING,
            title=one_line(
                f"Budget {name}: {alert_type or 'alert'} above {threshold_text or 'its threshold'}"
                + (f" ({period})" if period != "unknown" else "")
            ),
            severity=_SEVERITY.get(alert_type, Severity.MEDIUM),
            account=account,
            occurred_at=delivery.received_at,
            what=f"Budget {name} passed its {alert_type or 'alert'} threshold of {threshold_text or 'unknown'}"
            + (f" for {period}." if period != "unknown" else "."),
            why=_why(alert_type, amount, threshold_text, lines.get("budgeted amount", "")),
            facts=facts(
                ("Account", account),
                ("Budget", name),
                ("Budget type", lines.get("budget type")),
                ("Budgeted amount", lines.get("budgeted amount")),
                ("Alert type", alert_type),
                ("Alert threshold", lines.get("alert threshold")),
                (amount_label, amount),
                ("Period", period if period != "unknown" else ""),
            ),
            links=https_links(("AWS Budgets", CONSOLE_URL)),
            raw=message,
            notification_group=delivery.group(),
            route_key=delivery.route_key,
            transition_at=epoch_ms(delivery.received_at),
            impact=_threshold_percent(threshold_text, lines.get("budgeted amount", "")),
        )
    ]


def _threshold_percent(threshold: str, budgeted: str) -> float | None:
    """The alert threshold as a percentage of the budget: written so ("80%"), or an amount over the budgeted one."""
    if threshold.rstrip().endswith("%"):
        percent = to_decimal(threshold.rstrip().rstrip("%"))
        return None if percent is None else float(percent)
    amount, whole = to_decimal(threshold), to_decimal(budgeted)
    if amount is None or whole is None or whole <= 0:
        return None
    return round(float(amount / whole * 100), 1)


def _labelled_lines(message: str) -> dict[str, str]:
    """``Label: value`` lines, split on the first ": ", keyed by the lower-cased label; the first one wins."""
    labelled: dict[str, str] = {}
    for line in message.splitlines():
        label, separator, value = line.strip().partition(": ")
        if separator:
            labelled.setdefault(label.strip().lower(), value.strip())
    return labelled


def _notification_month(message: str, received_at: datetime | None) -> str:
    """YYYY-MM of the date on the first line ("AWS Budget Notification November 18, 2026"), else of delivery."""
    first_line = next((line for line in message.splitlines() if line.strip()), "")
    for match in _WORDY_DATE.finditer(first_line):
        month = _MONTHS.get(match.group(1).lower())
        if month:
            return f"{int(match.group(3)):04d}-{month:02d}"
    iso = _ISO_DATE.search(first_line)
    if iso and 1 <= int(iso.group(2)) <= 12:
        return f"{iso.group(1)}-{iso.group(2)}"
    return received_at.strftime("%Y-%m") if received_at else "unknown"


def _why(alert_type: str, amount: str, threshold: str, budgeted: str) -> str:
    if not amount:
        return ""
    sentence = f"{alert_type or 'Reported'} amount {amount} against an alert threshold of {threshold or 'unknown'}"
    return sentence + (f" and a budgeted amount of {budgeted}." if budgeted else ".")
