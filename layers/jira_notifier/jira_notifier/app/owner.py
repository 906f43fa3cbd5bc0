"""Who an alert's resources belong to, as Jira fields: the resources' tags fitted to the provider's create screen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from jira_notifier.adapters.aws.tags import ResourceTags
from jira_notifier.app.catalog import JiraCatalog
from jira_notifier.core.alert import Alert
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import JiraNotifierError, JiraRequestError
from jira_notifier.render.fields import tag_fields

if TYPE_CHECKING:
    from jira_notifier.adapters.jira.client import JiraPort

WARNING_FACT = "Not set from tags"


def owner_fields(
    alert: Alert,
    provider: ProviderConfig,
    client: JiraPort,
    catalog: JiraCatalog,
    tags: ResourceTags,
    refused: frozenset[str] = frozenset(),
) -> tuple[Alert, dict[str, Any]]:
    """The field values the alert's resource tags give in this provider, and the alert with a warning fact for each
    value left out (shown in the description). No tag read without tag fields; no createmeta call without tags.
    ``refused``: fields Jira refused the tags' values for on a first try (e.g. an account id that is no user).

    Raises:
        ConfigError, JiraRequestError, JiraUnavailableError: the create screen could not be read.
    """
    if not provider.tag_fields or not alert.resources:
        return alert, {}
    found = tags.tags(alert.resources)
    if not any(found.get(tag) for tag in provider.tag_fields):
        return alert, {}
    result = tag_fields(found, provider.tag_fields, catalog.create_screen(client, provider))
    fields = {field_id: value for field_id, value in result.fields.items() if field_id not in refused}
    warnings = [
        *result.warnings,
        *(f"Jira refused the tags' value for {f}." for f in sorted(refused & set(result.fields))),
    ]
    if warnings:
        alert = replace(alert, facts=(*alert.facts, *((WARNING_FACT, warning) for warning in warnings)))
    return alert, fields


def refused_tag_fields(error: JiraNotifierError, provider: ProviderConfig, body: Mapping[str, Any]) -> frozenset[str]:
    """The fields filled from tags that Jira named when refusing a create (400): leave them out and create again."""
    if not isinstance(error, JiraRequestError) or error.status != 400:
        return frozenset()
    sent = set(body.get("fields") or {})
    return frozenset(set(error.fields) & set(provider.tag_fields.values()) & sent)
