"""An embedded AWS (moto) holding the template's tables, a demo secret and a demo provider, and a dry-run Jira.

``jira-notifier invoke EVENT --local`` runs the real handler against it: no AWS account needed. With
``JIRA_SERVER_URL``, ``JIRA_EMAIL``, ``JIRA_API_TOKEN`` and ``JIRA_PROJECT`` set, the demo provider points at that
Jira and a real issue is created; otherwise every Jira request is printed instead of sent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import BaseAdapter

from jira_notifier.config import ProviderConfig, secret_string
from jira_notifier.providers import provider_item

DEMO_GROUP = "demo"
DEMO_SECRET = "jira-notifier/demo"  # noqa: S105 - the name of the demo secret, not a value
DEMO_SERVER = "https://your-domain.atlassian.net"
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
REAL_JIRA_VARS = ("JIRA_SERVER_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PROJECT")


def create_tables(dynamodb: Any, providers_table: str, state_table: str) -> None:
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
    """Start moto, create what the template would, and yield the environment the functions would see."""
    import boto3
    from moto import mock_aws

    real = None if dry_run else real_jira_settings(environ)
    env = dict(LOCAL_ENV)
    env["AWS_ACCESS_KEY_ID"] = env["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105 - moto's stand-in credentials
    with _patched_environ(env), mock_aws():
        session = boto3.session.Session()
        create_tables(session.client("dynamodb"), env["PROVIDERS_TABLE"], env["STATE_TABLE"])
        queue_url = session.client("sqs").create_queue(QueueName="jira-notifier-dead-letters")["QueueUrl"]
        os.environ["DEAD_LETTER_QUEUE_URL"] = env["DEAD_LETTER_QUEUE_URL"] = queue_url
        server = real["JIRA_SERVER_URL"] if real else DEMO_SERVER
        session.client("secretsmanager").create_secret(
            Name=DEMO_SECRET,
            SecretString=secret_string(
                email=real["JIRA_EMAIL"] if real else "demo@example.com",
                api_token=real["JIRA_API_TOKEN"] if real else "dry-run-token",
                server_url=server,
            ),
        )
        provider = ProviderConfig(
            group=DEMO_GROUP,
            name="jira",
            project=real["JIRA_PROJECT"] if real else "DEMO",
            issue_type=environ.get("JIRA_ISSUE_TYPE", "Task"),
            secret=DEMO_SECRET,
            resolve_transition="Done",
            reopen_transition="Reopen",
            reopen_window=7 * 86400,
        )
        session.client("dynamodb").put_item(
            TableName=env["PROVIDERS_TABLE"], Item={k: {"S": v} for k, v in provider_item(provider).items()}
        )
        if _loopback(server):
            os.environ["JIRA_ALLOWED_HOSTS"] = env["JIRA_ALLOWED_HOSTS"] = f"*.atlassian.net,{_host(server)}"
        yield env


def _loopback(url: str) -> bool:
    return _host(url) in ("127.0.0.1", "localhost", "::1")


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "").lower()


@contextmanager
def _patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
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
    """Answers every Jira request with what Jira would plausibly return, and records it instead of sending it."""

    def __init__(self, on_request: Callable[[RecordedRequest], None], issue_type: str = "Task") -> None:
        super().__init__()
        self._on_request = on_request
        self._issue_type = issue_type
        self._next_issue = 1

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # noqa: ARG002
        body = json.loads(request.body) if request.body else None
        method = request.method or "GET"
        self._on_request(RecordedRequest(method, request.url or "", body))
        status, payload = self._answer(method, request.path_url, body)
        response = requests.Response()
        response.status_code = status
        response.headers["Content-Type"] = "application/json"
        response._content = json.dumps(payload).encode() if payload is not None else b""
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        return None

    def _answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if "/issue/createmeta/" in path and path.split("?")[0].endswith("/issuetypes"):
            return 200, {
                "issueTypes": [{"id": "10001", "name": self._issue_type, "subtask": False}],
                "startAt": 0,
                "maxResults": 200,
                "total": 1,
            }
        if method == "POST" and path.startswith("/rest/api/3/issue/bulk"):
            created = [self._issue() for _ in body.get("issueUpdates", [])]
            return 201, {"issues": created, "errors": []}
        if method == "POST" and path.rstrip("/") == "/rest/api/3/issue":
            return 201, self._issue()
        if path.endswith("/transitions") and method == "GET":
            return 200, {
                "transitions": [
                    {"id": "31", "name": "Done", "to": {"name": "Done", "statusCategory": {"key": "done"}}},
                    {"id": "11", "name": "Reopen", "to": {"name": "To Do", "statusCategory": {"key": "new"}}},
                ]
            }
        if path.endswith("/transitions"):
            return 204, None
        if path.endswith("/comment"):
            return 201, {"id": "10100"}
        if path.startswith("/rest/api/3/search/jql"):
            return 200, {"issues": [], "isLast": True}
        return 200, {}

    def _issue(self) -> dict[str, str]:
        number, self._next_issue = self._next_issue, self._next_issue + 1
        return {"id": str(10000 + number), "key": f"DEMO-{number}", "self": f"{DEMO_SERVER}/rest/api/3/issue/{number}"}
