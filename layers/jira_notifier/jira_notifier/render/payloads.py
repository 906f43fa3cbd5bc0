"""Request bodies for Jira, built from an alert and its provider. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jira_notifier.core.alert import Alert
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.impact import wanted_priority
from jira_notifier.render import issue as render
from jira_notifier.render.fields import merged


def create_priority(alert: Alert, provider: ProviderConfig) -> str | None:
    """The priority a new issue gets: its severity's, or its impact's when that is higher (``impact.py``)."""
    return wanted_priority(alert, provider, None)


def create_body(
    alert: Alert, provider: ProviderConfig, issue_type_id: str, tag_fields: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``IssueUpdateDetails`` for ``POST /rest/api/3/issue`` (and each element of a bulk create); ``tag_fields``:
    values from the resources' tags, already fitted to the create screen (``fieldvalues.py``)."""
    fields: dict[str, Any] = {
        "project": provider.project_ref,
        "issuetype": {"id": issue_type_id},
        "summary": render.summary(alert, provider.summary_template),
        "description": render.description(alert),
        "labels": render.labels(alert, provider.labels),
    }
    priority = create_priority(alert, provider)
    if priority:
        fields["priority"] = {"name": priority}
    if provider.components:
        fields["components"] = [{"name": name} for name in provider.components]
    fields.update(provider.fields)  # validated: never project, issuetype, summary or description
    return {"fields": merged(fields, tag_fields or {})}
