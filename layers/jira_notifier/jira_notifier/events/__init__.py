"""Every input the functions receive, normalized into :class:`jira_notifier.models.Alert`.

Pure parsing: no AWS or HTTP calls, and nothing but :class:`jira_notifier.errors.EventParseError` is ever raised.
"""

from __future__ import annotations

from jira_notifier.events.envelopes import normalize, normalize_sqs_record

__all__ = ["normalize", "normalize_sqs_record"]
