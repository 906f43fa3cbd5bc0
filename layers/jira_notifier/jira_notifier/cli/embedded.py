"""An embedded AWS (moto) holding the template's tables, a demo secret and a demo provider, and a dry-run Jira.

``jira-notifier invoke EVENT --local`` runs the real handler against it: no AWS account needed. With
``JIRA_SERVER_URL``, ``JIRA_EMAIL``, ``JIRA_API_TOKEN`` and ``JIRA_PROJECT`` set, the demo provider points at that
Jira and a real issue is created; otherwise every Jira request is printed instead of sent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from jira_standin.model import JiraStandIn, answer_request
from requests.adapters import BaseAdapter

from jira_notifier.adapters.dynamodb.providers import provider_item
from jira_notifier.cli.exits import missing_extra
from jira_notifier.core.config import ProviderConfig, secret_string
from jira_notifier.entry.settings import DEFAULT_ALLOWED_HOSTS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEMO_GROUP = "demo"
DEMO_SECRET = "jira-notifier/demo"  # noqa: S105 - the name of the demo secret, not a value
DEMO_SERVER = "https://your-domain.atlassian.net"
DEMO_PROJECT = "DEMO"
DEMO_EMAIL = "demo@example.com"
DEMO_TOKEN = "dry-run-token"  # noqa: S105 - the dry run's stand-in credential, never sent anywhere
LOCAL_ENV = {
    "PROVIDERS_TABLE": "jira-notifier-providers",
    "STATE_TABLE": "jira-notifier-state",
    "DEFAULT_NOTIFICATION_GROUP": DEMO_GROUP,
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "jira-notifier",
    "POWERTOOLS_METRICS_NAMESPACE": "JiraNotifier",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
# What the shell may hold for a real stack or for `jira-notifier local aws` (the README asks users to export
# them): the embedded AWS sets its own and ignores these, so a local run never reaches another AWS or Jira.
AMBIENT_VARS = (
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "PROVIDERS_TABLE",
    "STATE_TABLE",
    "DEAD_LETTER_QUEUE_URL",
    "DEFAULT_NOTIFICATION_GROUP",
    "JIRA_ALLOWED_HOSTS",
    "READ_ACCOUNT_NAMES",
    "READ_RESOURCE_TAGS",
)
REAL_JIRA_VARS = ("JIRA_SERVER_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PROJECT")


def create_tables(dynamodb: DynamoDBClient, providers_table: str, state_table: str) -> None:
    """The two tables with the template's key schema."""
    dynamodb.create_table(
        TableName=providers_table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.create_table(
        TableName=state_table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def real_jira_settings(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The real Jira to use when all four variables are set; None for a dry run."""
    values = {name: environ.get(name, "").strip() for name in REAL_JIRA_VARS}
    return values if all(values.values()) else None


@contextmanager
def embedded_aws(environ: Mapping[str, str], *, dry_run: bool) -> Iterator[dict[str, str]]:
    """Start moto, create what the template would, and yield the environment the functions would see.

    Raises:
        UsageError: this installation lacks the [local] extra (moto).
    """
    import boto3

    try:
        from moto import mock_aws
    except ImportError as error:
        raise missing_extra("--local", error) from None

    real = None if dry_run else real_jira_settings(environ)
    env = dict(LOCAL_ENV)
    env["AWS_ACCESS_KEY_ID"] = env["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105 - moto's stand-in credentials
    server = real["JIRA_SERVER_URL"] if real else DEMO_SERVER
    env["JIRA_ALLOWED_HOSTS"] = ",".join((*DEFAULT_ALLOWED_HOSTS, *([_host(server)] if _loopback(server) else [])))
    ignored = [name for name in environ if name in AMBIENT_VARS or name.startswith("AWS_ENDPOINT_URL_")]
    with _patched_environ(env, unset=ignored), mock_aws():
        session = boto3.session.Session()
        create_tables(session.client("dynamodb"), env["PROVIDERS_TABLE"], env["STATE_TABLE"])
        queue_url = session.client("sqs").create_queue(QueueName="jira-notifier-dead-letters")["QueueUrl"]
        os.environ["DEAD_LETTER_QUEUE_URL"] = env["DEAD_LETTER_QUEUE_URL"] = queue_url
        session.client("secretsmanager").create_secret(
            Name=DEMO_SECRET,
            SecretString=secret_string(
                email=real["JIRA_EMAIL"] if real else DEMO_EMAIL,
                api_token=real["JIRA_API_TOKEN"] if real else DEMO_TOKEN,
                server_url=server,
            ),
        )
        provider = ProviderConfig(
            group=DEMO_GROUP,
            name="jira",
            project=real["JIRA_PROJECT"] if real else DEMO_PROJECT,
            issue_type=environ.get("JIRA_ISSUE_TYPE", "Task"),
            secret=DEMO_SECRET,
            resolve_transition="Done",
            reopen_transition="Reopen",
            reopen_window=7 * 86400,
        )
        session.client("dynamodb").put_item(
            TableName=env["PROVIDERS_TABLE"], Item={k: {"S": v} for k, v in provider_item(provider).items()}
        )
        yield env


def _loopback(url: str) -> bool:
    return _host(url) in ("127.0.0.1", "localhost", "::1")


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "").lower()


@contextmanager
def _patched_environ(values: Mapping[str, str], unset: Iterable[str] = ()) -> Iterator[None]:
    """``values`` set and ``unset`` removed for the duration; everything restored after."""
    removed = [name for name in unset if name not in values]
    saved = {name: os.environ.get(name) for name in (*values, *removed)}
    for name in removed:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    url: str
    body: Any


class DryRunAdapter(BaseAdapter):
    """Records every Jira request instead of sending it, and answers it in-process as the stand-in Jira of
    ``jira-notifier local jira`` would (same workflow and checks)."""

    def __init__(self, on_request: Callable[[RecordedRequest], None], issue_type: str = "Task") -> None:
        super().__init__()
        self._on_request = on_request
        self._jira = JiraStandIn(
            base_url=DEMO_SERVER,
            project=DEMO_PROJECT,
            issue_types=(issue_type,),
            email=DEMO_EMAIL,
            api_token=DEMO_TOKEN,
        )

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # noqa: ARG002
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        self._on_request(
            RecordedRequest(request.method or "GET", request.url or "", json.loads(body) if body else None)
        )
        answer = answer_request(self._jira, request)
        response = requests.Response()
        response.status_code = answer.status
        response.headers.update({"Content-Type": "application/json", **answer.headers})
        response._content = answer.text.encode()
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        return None
