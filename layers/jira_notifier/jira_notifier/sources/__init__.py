"""Every input the functions receive, normalized into :class:`jira_notifier.core.alert.Alert`.

Pure parsing: no AWS or HTTP calls, and nothing but :class:`jira_notifier.core.errors.EventParseError` is ever raised.
"""

from __future__ import annotations

from jira_notifier.sources.envelopes import (
    FUNCTIONS,
    function_for,
    normalize_sqs_record,
    read,
    read_alarm_action,
    read_eventbridge,
    read_sns,
)

__all__ = [
    "FUNCTIONS",
    "function_for",
    "normalize_sqs_record",
    "read",
    "read_alarm_action",
    "read_eventbridge",
    "read_sns",
]
