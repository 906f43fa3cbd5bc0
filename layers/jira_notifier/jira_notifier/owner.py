"""Who an alert's resources belong to, as Jira fields: the resources' tags fitted to the provider's create screen."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from jira_notifier.config import ProviderConfig
from jira_notifier.fieldvalues import tag_fields
from jira_notifier.jira.catalog import JiraCatalog
from jira_notifier.models import Alert
from jira_notifier.tags import ResourceTags

if TYPE_CHECKING:
    from jira_notifier.jira.client import JiraPort

WARNING_FACT = "Not set from tags"


def owner_fields(
    alert: Alert, provider: ProviderConfig, client: JiraPort, catalog: JiraCatalog, tags: ResourceTags
) -> tuple[Alert, dict[str, Any]]:
    """The field values the alert's resource tags give in this provider, and the alert with a warning fact for each
    value left out (shown in the description). No tag read without tag fields; no createmeta call without tags.

    Raises:
        ConfigError, JiraRequestError, JiraUnavailableError: the create screen could not be read.
    """
    if not provider.tag_fields or not alert.resources:
        return alert, {}
    found = tags.tags(alert.resources)
    if not any(found.get(tag) for tag in provider.tag_fields):
        return alert, {}
    result = tag_fields(found, provider.tag_fields, catalog.create_screen(client, provider))
    if result.warnings:
        alert = replace(alert, facts=(*alert.facts, *((WARNING_FACT, warning) for warning in result.warnings)))
    return alert, result.fields
