"""Where the CLI finds AWS: a boto3 session, the stack's tables and queue, and AWS errors a user can act on."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jira_notifier.adapters.aws.sync_requests import STACK_PARAMETERS, Capability
from jira_notifier.core.errors import ConfigError
from jira_notifier.entry.settings import DEFAULT_ALLOWED_HOSTS

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_SECRET_PREFIX = "jira-notifier/"  # noqa: S105 - a name prefix, not a secret
_STACK_OUTPUTS = {
    "ProvidersTableName": "providers_table",
    "StateTableName": "state_table",
    "DeadLetterQueueUrl": "dead_letter_queue_url",
}
_DENIED = ("AccessDenied", "AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException")


@dataclass(frozen=True, slots=True)
class Resources:
    """What the deployed stack (or the environment) says the CLI should work on."""

    origin: str  # "stack NAME" or "the environment": named in error messages
    providers_table: str | None = None
    state_table: str | None = None
    dead_letter_queue_url: str | None = None
    secret_prefix: str = DEFAULT_SECRET_PREFIX
    default_notification_group: str | None = None
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    sync_back: frozenset[Capability] | None = None  # what the stack allows back in AWS; None = not known

    def require_providers_table(self) -> str:
        return self._require(self.providers_table, "providers table", "ProvidersTableName", "PROVIDERS_TABLE")

    def require_state_table(self) -> str:
        return self._require(self.state_table, "state table", "StateTableName", "STATE_TABLE")

    def _require(self, value: str | None, what: str, output: str, variable: str) -> str:
        """Raises: ConfigError saying where the value should come from."""
        if value:
            return value
        if self.origin.startswith("stack"):
            raise ConfigError(f"{self.origin} has no output {output}; is it a jira-notifier stack?")
        raise ConfigError(f"no {what}: pass --stack NAME (the deployed stack) or set {variable}")


def add_stack_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help="the deployed CloudFormation stack (its outputs name the tables and queue); "
        "default: PROVIDERS_TABLE, STATE_TABLE and DEAD_LETTER_QUEUE_URL from the environment",
    )


def session() -> Session:
    """A boto3 session; AWS_PROFILE, AWS_ENDPOINT_URL and AWS_REGION (or AWS_DEFAULT_REGION) apply."""
    import boto3

    return boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)


def resources(stack: str | None, environ: Mapping[str, str], aws: Session | None = None) -> Resources:
    """The tables, queue and settings the functions use: from the stack when one is named, else the environment.

    JIRA_ALLOWED_HOSTS, when set, wins over the stack's JiraAllowedHosts (e.g. a loopback Jira in a local run).

    Raises:
        ConfigError: the stack cannot be read.
    """
    if not stack:
        return Resources(
            origin="the environment",
            providers_table=environ.get("PROVIDERS_TABLE") or None,
            state_table=environ.get("STATE_TABLE") or None,
            dead_letter_queue_url=environ.get("DEAD_LETTER_QUEUE_URL") or None,
            default_notification_group=environ.get("DEFAULT_NOTIFICATION_GROUP") or None,
            allowed_hosts=split_hosts(environ.get("JIRA_ALLOWED_HOSTS", "")) or DEFAULT_ALLOWED_HOSTS,
        )
    with aws_errors(f"read stack {stack!r}"):
        found = (aws or session()).client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o.get("OutputValue") for o in found.get("Outputs") or []}
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in found.get("Parameters") or []}
    hosts = split_hosts(environ.get("JIRA_ALLOWED_HOSTS", "")) or split_hosts(parameters.get("JiraAllowedHosts") or "")
    return Resources(
        origin=f"stack {stack!r}",
        secret_prefix=parameters.get("SecretNamePrefix") or DEFAULT_SECRET_PREFIX,
        default_notification_group=parameters.get("DefaultNotificationGroup") or None,
        allowed_hosts=hosts or DEFAULT_ALLOWED_HOSTS,
        sync_back=frozenset(c for c, name in STACK_PARAMETERS.items() if parameters.get(name) == "true"),
        **{field: outputs.get(output) for output, field in _STACK_OUTPUTS.items()},
    )


def split_hosts(value: str) -> tuple[str, ...]:
    """A comma-separated host list as the functions read JIRA_ALLOWED_HOSTS."""
    return tuple(host.strip().lower() for host in value.split(",") if host.strip())


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str((response.get("Error") or {}).get("Code", ""))


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Turn boto3's errors into a ConfigError that says what to fix; ``action`` says what was being done."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )

    try:
        yield
    except NoCredentialsError:
        raise ConfigError(
            f"cannot {action}: no AWS credentials; set AWS_PROFILE (e.g. after 'aws sso login') or run 'aws configure'"
        ) from None
    except NoRegionError:
        raise ConfigError(f"cannot {action}: no AWS region; set AWS_REGION or the profile's region") from None
    except EndpointConnectionError as error:
        raise ConfigError(
            f"cannot {action}: AWS did not answer ({error}); check AWS_REGION and AWS_ENDPOINT_URL"
        ) from None
    except ClientError as error:
        code = error_code(error)
        message = (error.response.get("Error") or {}).get("Message") or code
        if code in _DENIED:
            raise ConfigError(
                f"cannot {action}: AWS refused ({code}: {message}); use credentials (AWS_PROFILE) allowed to do it"
            ) from None
        if code in ("ResourceNotFoundException", "ValidationError", "AWS.SimpleQueueService.NonExistentQueue"):
            raise ConfigError(
                f"cannot {action}: {message}; check --stack, the table and queue environment variables and AWS_REGION"
            ) from None
        raise ConfigError(f"cannot {action}: AWS answered {code}: {message}") from None
    except BotoCoreError as error:
        raise ConfigError(f"cannot {action}: {error}") from None


def string_item(item: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """A DynamoDB item of string attributes in the low-level client's shape."""
    return {name: {"S": value} for name, value in item.items()}


def plain_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The string attributes of a low-level DynamoDB item."""
    return {name: str(value["S"]) for name, value in item.items() if "S" in value}


def items_with_prefix(dynamodb: DynamoDBClient, table: str, prefix: str) -> list[dict[str, str]]:
    """Every item whose partition key starts with ``prefix`` (a scan: the providers table is small)."""
    found: list[dict[str, str]] = []
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="begins_with(pk, :prefix)",
        ExpressionAttributeValues={":prefix": {"S": prefix}},
    ):
        found.extend(plain_item(item) for item in page.get("Items", []))
    return found


def items_in_partition(dynamodb: DynamoDBClient, table: str, pk: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for page in dynamodb.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    ):
        found.extend(plain_item(item) for item in page.get("Items", []))
    return found
