"""The providers table: notification groups, their Jira providers, and routes (cached, Powertools Parameters).

One table, keys ``pk``/``sk``, the settings as JSON in ``value`` (readable in the console):
- provider: ``pk = GROUP#<group>``, ``sk = PROVIDER#<name>``
- route:    ``pk = ROUTE#<topic ARN or EventBridge source>``, ``sk = ROUTE``, value = the group name (JSON string)
- alarm-tag route: ``pk = ROUTE#alarm-tag``, ``sk = ["<tag key>", "<value>"]`` (JSON), value = the group name (JSON
  string); all in one partition, so one query (cached) reads every one of them whatever tags an alarm has
- account name: ``pk = ACCOUNT#<account id>``, ``sk = NAME``, value = the name the operator gave it (JSON string)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import DynamoDBProvider
    from mypy_boto3_dynamodb import DynamoDBClient

GROUP_PREFIX = "GROUP#"
PROVIDER_PREFIX = "PROVIDER#"
ROUTE_PREFIX = "ROUTE#"
ROUTE_SORT = "ROUTE"
ALARM_TAG_ROUTES = "alarm-tag"  # the partition (after ROUTE#) holding every alarm-tag route
ACCOUNT_PREFIX = "ACCOUNT#"
ACCOUNT_NAME_SORT = "NAME"


def provider_key(group: str, name: str) -> dict[str, str]:
    return {"pk": GROUP_PREFIX + group, "sk": PROVIDER_PREFIX + name}


def route_key(route: str) -> dict[str, str]:
    return {"pk": ROUTE_PREFIX + route, "sk": ROUTE_SORT}


def alarm_tag_route_key(key: str, value: str) -> dict[str, str]:
    return {"pk": ROUTE_PREFIX + ALARM_TAG_ROUTES, "sk": json.dumps([key, value], ensure_ascii=False)}


def read_alarm_tag(sort_key: str) -> tuple[str, str] | None:
    """The (tag key, value) an alarm-tag route's sort key names; None when it is not one."""
    try:
        pair = json.loads(sort_key)
    except ValueError:
        return None
    if isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair) and pair[0]:
        return pair[0], pair[1]
    return None


def account_name_key(account: str) -> dict[str, str]:
    return {"pk": ACCOUNT_PREFIX + account, "sk": ACCOUNT_NAME_SORT}


def account_name_item(account: str, name: str) -> dict[str, Any]:
    return {**account_name_key(account), "type": "account-name", "value": json.dumps(name)}


def provider_item(provider: ProviderConfig) -> dict[str, Any]:
    return {**provider_key(provider.group, provider.name), "type": "jira", "value": json.dumps(provider.to_item())}


def route_item(key: dict[str, str], group: str) -> dict[str, Any]:
    """The item of a route (``route_key`` or ``alarm_tag_route_key``) to ``group``."""
    return {**key, "type": "route", "value": json.dumps(group)}


class ProviderRepo:
    """Read side used by the functions; cached for ``max_age`` seconds per group and route."""

    def __init__(self, provider: DynamoDBProvider, max_age: int) -> None:
        self._provider = provider
        self._max_age = max_age

    def group_providers(self, group: str) -> list[ProviderConfig]:
        """The valid providers of a group, in name order.

        Raises:
            ConfigError: a stored provider is invalid (named, so it can be fixed).
            StoreError: DynamoDB unavailable (retryable).
        """
        items = self._query(GROUP_PREFIX + group)
        return [_provider(value) for sort, value in sorted(items.items()) if str(sort).startswith(PROVIDER_PREFIX)]

    def route(self, route: str) -> str | None:
        """The group a topic ARN or EventBridge source is routed to, if any.

        Raises:
            StoreError: DynamoDB unavailable (retryable).
        """
        value = self._query(ROUTE_PREFIX + route).get(ROUTE_SORT)
        return json.loads(value) if isinstance(value, str) else None

    def alarm_tag_routes(self) -> dict[tuple[str, str], str]:
        """Every alarm-tag route, (tag key, value) -> group: one query, cached like the other routes.

        Raises:
            StoreError: DynamoDB unavailable (retryable).
        """
        routes: dict[tuple[str, str], str] = {}
        for sort_key, value in self._query(ROUTE_PREFIX + ALARM_TAG_ROUTES).items():
            tag = read_alarm_tag(str(sort_key))
            group = json.loads(value) if isinstance(value, str) else None
            if tag and isinstance(group, str) and group:
                routes[tag] = group
        return routes

    def account_name(self, account: str) -> str | None:
        """The name the operator gave the account (``jira-notifier account name``), if any.

        Raises:
            StoreError: DynamoDB unavailable.
        """
        value = self._query(ACCOUNT_PREFIX + account).get(ACCOUNT_NAME_SORT)
        name = json.loads(value) if isinstance(value, str) else None
        return (name.strip() or None) if isinstance(name, str) else None

    def _query(self, pk: str) -> dict[str, Any]:
        try:
            return self._provider.get_multiple(pk, max_age=self._max_age)
        except GetParameterError as exc:
            if "ResourceNotFoundException" in str(exc):
                raise ConfigError("the providers table does not exist; check PROVIDERS_TABLE") from None
            raise StoreError("the providers table could not be read; will retry") from exc


def scan_providers(client: DynamoDBClient, table: str) -> list[ProviderConfig]:
    """Every valid provider of every group (a scan: for the webhook receiver, which is told no group).

    Raises:
        ConfigError: a stored provider is invalid.
        StoreError: DynamoDB unavailable (retryable).
    """
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "begins_with(sk, :provider)",
        "ExpressionAttributeValues": {":provider": {"S": PROVIDER_PREFIX}},
    }
    providers: list[ProviderConfig] = []
    while True:
        try:
            page = client.scan(**request)
        except Exception as exc:  # botocore errors: throttling, network
            raise StoreError("the providers table could not be read; will retry") from exc
        providers.extend(_provider(item["value"]["S"]) for item in page.get("Items", []) if "value" in item)
        if "LastEvaluatedKey" not in page:
            return sorted(providers, key=lambda provider: provider.provider_id)
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _provider(value: Any) -> ProviderConfig:
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        raise ConfigError("a stored provider is not valid JSON; re-add it with 'jira-notifier provider add'") from None
    return ProviderConfig.from_item(data)
