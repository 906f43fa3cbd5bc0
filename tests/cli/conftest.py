"""Fixtures for the operator CLI: an embedded AWS (moto) with the stack's tables and queue, a stand-in Jira
(``responses``), and a runner that calls ``jira-notifier`` in-process with a given standard input."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
import responses
from botocore.stub import Stubber
from moto import mock_aws

from jira_notifier.adapters.dynamodb.providers import provider_item
from jira_notifier.cli.embedded import create_tables
from jira_notifier.cli.main import main
from jira_notifier.core.config import ProviderConfig, secret_string
from jira_notifier.entry import wiring

TOKEN = "cli-test-token-5c1e9d-not-real"  # pragma: allowlist secret
SITE = "https://acme.atlassian.net"
CLOUD_ID = "0f6b1c2d-3e4f-4a5b-8c7d-9e0f1a2b3c4d"
GATEWAY = f"https://api.atlassian.com/ex/jira/{CLOUD_ID}"
SECRET_NAME = "jira-notifier/ops"
PROVIDERS_TABLE = "cli-providers"
STATE_TABLE = "cli-state"
REGION = "us-east-1"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Cloud:
    dynamodb: Any
    secretsmanager: Any
    sqs: Any
    queue_url: str

    def put_secret(self, name: str = SECRET_NAME, **overrides: Any) -> None:
        values: dict[str, Any] = {"email": "bot@example.com", "api_token": TOKEN, "server_url": SITE, **overrides}
        self.secretsmanager.create_secret(Name=name, SecretString=secret_string(**values))

    def put_provider(self, provider: ProviderConfig) -> None:
        item = {name: {"S": value} for name, value in provider_item(provider).items()}
        self.dynamodb.put_item(TableName=PROVIDERS_TABLE, Item=item)

    def items(self, table: str = PROVIDERS_TABLE) -> list[dict[str, str]]:
        rows = self.dynamodb.scan(TableName=table)["Items"]
        return [{name: value["S"] for name, value in row.items() if "S" in value} for row in rows]

    def send(self, body: Any) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body))

    def queued(self) -> list[dict[str, Any]]:
        """Every message now visible (then made visible again)."""
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


@pytest.fixture(autouse=True)
def cli_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Stand-in credentials and the functions' variables; nothing from the developer's shell leaks in."""
    for name in (
        "AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "JIRA_ALLOWED_HOSTS", "NO_COLOR",
        "DEFAULT_NOTIFICATION_GROUP", "DEAD_LETTER_QUEUE_URL", "POWERTOOLS_LOG_LEVEL",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("PROVIDERS_TABLE", PROVIDERS_TABLE)
    monkeypatch.setenv("STATE_TABLE", STATE_TABLE)
    wiring.reset()
    yield
    wiring.reset()


@pytest.fixture(scope="session")
def boto_session() -> Any:
    """One boto3 session for the whole run: it loads each service's model once (moto intercepts every call)."""
    return boto3.session.Session(region_name=REGION)


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch, boto_session: Any) -> Iterator[Cloud]:
    """moto with the stack's two tables and its dead-letter queue (empty); the CLI uses the shared session."""
    with mock_aws():
        session = boto_session
        monkeypatch.setattr("jira_notifier.cli.aws.session", lambda: session)
        create_tables(session.client("dynamodb"), PROVIDERS_TABLE, STATE_TABLE)
        queue_url = session.client("sqs").create_queue(QueueName="cli-dead-letters")["QueueUrl"]
        monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", queue_url)
        yield Cloud(session.client("dynamodb"), session.client("secretsmanager"), session.client("sqs"), queue_url)


class _StackSession:
    """The shared session, except that CloudFormation answers from a stub (moto's stacks are slow to create)."""

    def __init__(self, session: Any, cloudformation: Any) -> None:
        self._session = session
        self._cloudformation = cloudformation
        self.region_name = session.region_name

    def client(self, name: str) -> Any:
        return self._cloudformation if name == "cloudformation" else self._session.client(name)


@pytest.fixture
def stack(cloud: Cloud, boto_session: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """A deployed stack as ``describe_stacks`` shows it: add responses to the yielded stubber."""
    cloudformation = boto_session.client("cloudformation")
    with Stubber(cloudformation) as stubber:
        monkeypatch.setattr("jira_notifier.cli.aws.session", lambda: _StackSession(boto_session, cloudformation))
        yield stubber


def stack_description(name: str, outputs: dict[str, str], parameters: dict[str, str]) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": name,
                "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
                "StackStatus": "UPDATE_COMPLETE",
                "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
                "Parameters": [{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
            }
        ]
    }


@pytest.fixture
def jira_api() -> Iterator[responses.RequestsMock]:
    """A stand-in Jira: only the exact URLs a test registers answer; nothing reaches the network."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``jira-notifier ARGS`` with ``stdin`` piped in (not a terminal); return exit code and output."""

    def run(*argv: str, stdin: str = "") -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse refusing the command line
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def provider(**overrides: Any) -> ProviderConfig:
    settings: dict[str, Any] = {
        "group": "ops",
        "name": "jira",
        "project": "OPS",
        "issue_type": "Task",
        "secret": SECRET_NAME,
        **overrides,
    }
    return ProviderConfig(**settings)


def days_from_today(days: int) -> date:
    return date.fromordinal(date.today().toordinal() + days)
