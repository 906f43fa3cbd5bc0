"""The API token never appears in anything a command prints, whichever way it ends."""

from __future__ import annotations

import json

import pytest

from tests.cli import test_dlq as dlq
from tests.cli.conftest import SECRET_NAME, SITE, TOKEN, days_from_today
from tests.cli.test_preflight import READY, Site
from tests.support import fake_jira

PUT = ("secret", "put", SECRET_NAME, "--email", "bot@example.com", "--server-url")
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"


def with_provider(cloud, jira_api):
    cloud.put_secret(expires_at=days_from_today(100))
    cloud.put_provider(READY)
    return Site(jira_api)


def with_rejected_token(cloud, jira_api):
    site = with_provider(cloud, jira_api)
    site.answer("/rest/api/3/myself", {"message": "Client must be authenticated to access this resource."}, 401)


def with_unknown_project(cloud, jira_api):
    site = with_provider(cloud, jira_api)
    site.answer("/rest/api/3/project/OPS", {"errorMessages": ["No project could be found with key 'OPS'."]}, 404)


def with_dead_letters(cloud, jira_api):
    with_provider(cloud, jira_api)
    cloud.send(dlq.parked(dlq.sns_event("m-1")))
    cloud.send(dlq.lambda_failure(dlq.sns_event("m-2", dedup="other")))


def with_fake_jira(cloud, jira_api):
    cloud.secretsmanager.create_secret(
        Name=SECRET_NAME,
        SecretString=json.dumps({"email": fake_jira.EMAIL, "apiToken": TOKEN, "serverUrl": fake_jira.SITE}),
    )
    cloud.put_provider(READY)
    fake_jira.FakeJira(jira_api)  # it expects its own token: every call answers 401, and replay must not echo it
    cloud.send(dlq.parked(dlq.sns_event("m-1")))


SCENARIOS = {
    "secret-put": (None, (*PUT, SITE), TOKEN + "\n"),
    "secret-put-refused-url": (None, (*PUT, "https://169.254.169.254"), TOKEN),
    "secret-put-whitespace": (None, (*PUT, SITE), f"bot@example.com {TOKEN}"),
    "provider-add": (with_provider, ("provider", "add", "ops", "b", "--project", "OPS", "--issue-type", "Task",
                                     "--secret", SECRET_NAME), ""),
    "provider-list": (with_provider, ("provider", "list", "--json"), ""),
    "provider-test": (with_provider, ("provider", "test", "ops", "jira"), ""),
    "provider-test-json": (with_provider, ("provider", "test", "ops", "jira", "--json"), ""),
    "provider-test-401": (with_rejected_token, ("provider", "test", "ops", "jira"), ""),
    "provider-test-404": (with_unknown_project, ("provider", "test", "ops", "jira"), ""),
    "route-add": (with_provider, ("route", "add", "--topic-arn", TOPIC, "ops"), ""),
    "route-list": (with_provider, ("route", "list", "--json"), ""),
    "dlq-list": (with_dead_letters, ("dlq", "list", "--json"), ""),
    "dlq-replay": (with_dead_letters, ("dlq", "replay"), ""),
    "dlq-replay-401": (with_fake_jira, ("dlq", "replay"), ""),
}  # fmt: skip


@pytest.mark.parametrize(("setup", "argv", "stdin"), SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_token_never_appears_in_the_output(cli, cloud, jira_api, setup, argv, stdin):
    if setup is not None:
        setup(cloud, jira_api)

    result = cli(*argv, stdin=stdin)

    assert result.out + result.err, "the command printed nothing: the scenario is not exercising it"
    assert TOKEN not in result.out + result.err
