"""Shared fixtures: an embedded AWS (moto) with the template's tables, and a stand-in Jira (responses)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import responses
from hypothesis import settings

from tests.support.fake_jira import EMAIL, SITE, TOKEN, FakeJira

# The same examples on every run, so a test suite that passed keeps passing; explore with a random profile by hand.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.load_profile("repeatable")

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
SECRET_NAME = "jira-notifier/ops"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "PROVIDERS_TABLE": "jira-notifier-providers",
        "STATE_TABLE": "jira-notifier-state",
        "DEFAULT_NOTIFICATION_GROUP": "ops",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "jira-notifier",
        "POWERTOOLS_METRICS_NAMESPACE": "JiraNotifier",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }.items():
        monkeypatch.setenv(name, value)
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "JIRA_ALLOWED_HOSTS",
        "DEAD_LETTER_QUEUE_URL",
        "JIRA_SERVER_URL",
        "JIRA_EMAIL",
        "JIRA_API_TOKEN",
        "JIRA_PROJECT",
    ):
        monkeypatch.delenv(name, raising=False)
    from aws_lambda_powertools.utilities import parameters

    from jira_notifier.entry import wiring

    wiring.reset()
    parameters.clear_caches()
    yield
    wiring.reset()
    parameters.clear_caches()


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


@dataclass
class LambdaContext:
    function_name: str = "jira-notifier-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:jira-notifier-test"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@dataclass
class Aws:
    session: Any
    dead_letter_queue_url: str

    def dead_letters(self) -> list[dict[str, Any]]:
        sqs = self.session.client("sqs")
        messages = sqs.receive_message(
            QueueUrl=self.dead_letter_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    def state_items(self) -> list[dict[str, Any]]:
        return self.session.client("dynamodb").scan(TableName="jira-notifier-state")["Items"]

    def put_provider(self, **settings: Any) -> None:
        from jira_notifier.adapters.dynamodb.providers import provider_item
        from jira_notifier.core.config import ProviderConfig

        item = provider_item(ProviderConfig(**settings).validate())
        self.session.client("dynamodb").put_item(
            TableName="jira-notifier-providers", Item={k: {"S": v} for k, v in item.items()}
        )

    def put_secret(self, name: str = SECRET_NAME, **overrides: Any) -> None:
        data = {"type": "jira-token", "email": EMAIL, "apiToken": TOKEN, "serverUrl": SITE, **overrides}
        client = self.session.client("secretsmanager")
        try:
            client.create_secret(Name=name, SecretString=json.dumps(data))
        except client.exceptions.ResourceExistsException:
            client.put_secret_value(SecretId=name, SecretString=json.dumps(data))


DEFAULT_PROVIDER = {
    "group": "ops",
    "name": "jira",
    "project": "OPS",
    "issue_type": "Task",
    "secret": SECRET_NAME,
    "resolve_transition": "Done",
    "reopen_transition": "Reopen",
    "reopen_window": 7 * 86400,
    "wont_fix_resolution": "Won't Do",
    "labels": ("aws-alerts",),
    "priority_map": {"critical": "Highest", "high": "High"},
}


@contextmanager
def _atomic_dynamodb_writes() -> Iterator[None]:
    """DynamoDB applies a conditional write atomically, and returns the item as it was just before it; moto does
    neither when threads race (its ALL_OLD is read before the write, apart from it), so its operations are
    serialized here, whole requests included, to keep that guarantee in concurrency tests."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    originals = {
        (cls, name): method
        for cls in (DynamoDBBackend, DynamoHandler)
        for name, method in vars(cls).items()
        if callable(method) and not name.startswith("_")
    }

    def serialized(method: Any) -> Any:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(self, *args, **kwargs)

        return call

    for (cls, name), method in originals.items():
        setattr(cls, name, serialized(method))
    try:
        yield
    finally:
        for (cls, name), method in originals.items():
            setattr(cls, name, method)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """moto with the template's tables and dead-letter queue, the "ops" secret, and providers for
    the "ops" (default) and "finops" groups."""
    import boto3
    from moto import mock_aws

    from jira_notifier.cli.embedded import create_tables

    with mock_aws(), _atomic_dynamodb_writes():
        session = boto3.session.Session()
        create_tables(session.client("dynamodb"), "jira-notifier-providers", "jira-notifier-state")
        queue_url = session.client("sqs").create_queue(QueueName="jira-notifier-dead-letters")["QueueUrl"]
        monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", queue_url)
        env = Aws(session, queue_url)
        env.put_secret()
        env.put_provider(**DEFAULT_PROVIDER)
        env.put_provider(**{**DEFAULT_PROVIDER, "group": "finops"})
        yield env


@pytest.fixture
def jira(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeJira]:
    """The stand-in Jira; every request it received is validated against Atlassian's spec at the end.

    Backoff between retries is shortened so retry paths run in milliseconds."""
    monkeypatch.setattr("jira_notifier.adapters.jira.transport.BASE_DELAY", 0.001)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeJira(mock)
        yield fake
        from tests.support.jira_spec import validate_calls

        validate_calls(mock.calls)
