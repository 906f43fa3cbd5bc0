"""Request bodies for Jira, built from an alert and its provider. Pure."""

from __future__ import annotations

from typing import Any

from jira_notifier import render
from jira_notifier.config import ProviderConfig
from jira_notifier.models import Alert


def create_body(alert: Alert, provider: ProviderConfig, issue_type_id: str) -> dict[str, Any]:
    """``IssueUpdateDetails`` for ``POST /rest/api/3/issue`` (and each element of a bulk create)."""
    fields: dict[str, Any] = {
        "project": provider.project_ref,
        "issuetype": {"id": issue_type_id},
        "summary": render.summary(alert, provider.summary_template),
        "description": render.description(alert),
        "labels": render.labels(alert, provider.labels),
    }
    priority = render.priority_name(alert.severity, provider.priority_map)
    if priority:
        fields["priority"] = {"name": priority}
    if provider.components:
        fields["components"] = [{"name": name} for name in provider.components]
    fields.update(provider.fields)  # validated: never project, issuetype, summary or description
    return {"fields": fields}
