"""``jira-notifier readback`` and ``jira-notifier webhook setup``, in-process against moto and the stand-in Jira."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from jira_notifier.adapters.dynamodb.state import StateStore, state_from_item
from jira_notifier.core.alert import DEDUPE_LABEL_PREFIX
from jira_notifier.core.state import IssueState, IssueStatus, PersonDecision
from tests.cli.conftest import SITE, STATE_TABLE, provider, stack_description
from tests.support import fake_jira
from tests.support.fake_jira import FakeJira

WEBHOOK_URL = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/"
# pragma: allowlist nextline secret
WEBHOOK_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:JiraWebhookSecret-AbCdEf"  # a name


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeJira(mock, base_url=SITE)
        yield fake
        from tests.support.jira_spec import validate_calls

        validate_calls(mock.calls)


@pytest.fixture
def owned(cloud: Any, jira: FakeJira) -> IssueState:
    """An issue jira-notifier created for an alert whose state says it is open."""
    cloud.put_secret(email=fake_jira.EMAIL, api_token=fake_jira.TOKEN)
    cloud.put_provider(provider(wont_fix_resolution="Won't Do"))
    issue = jira._new_issue({"summary": "CloudWatch alarm api-5xx-high", "labels": ["jira-notifier", "jn-abc123"]})
    state = IssueState(
        pk="ops/jira#abc123",
        provider="ops/jira",
        dedupe_key="cloudwatch-alarm:api-5xx-high",
        issue_id=issue.id,
        issue_key=issue.key,
        issue_status=IssueStatus.OPEN,
    )
    assert DEDUPE_LABEL_PREFIX + "abc123" in issue.labels
    StateStore(cloud.dynamodb, STATE_TABLE).put_recovered(state)
    return state


def stored(cloud: Any, state: IssueState) -> IssueState:
    item = cloud.dynamodb.get_item(TableName=STATE_TABLE, Key={"pk": {"S": state.pk}})["Item"]
    return state_from_item(state.pk, item)


def test_readback_records_what_people_did_and_says_so(cli: Any, cloud: Any, jira: FakeJira, owned: IssueState) -> None:
    jira.resolve_by_hand("OPS-1", "Won't Do")

    result = cli("readback")

    assert result.code == 0, result.err
    assert "OPS-1" in result.out and "wont-fix" in result.out
    assert "ops/jira: 1 changed issue(s) read, recorded 1 decision(s); checked open issues for deletions" in result.out
    assert stored(cloud, owned).person_decision is PersonDecision.WONT_FIX
    # Nothing changed since: one search, nothing recorded
    again = cli("readback", "ops", "jira", "--json")
    assert json.loads(again.out)[0]["recorded"] == [] and jira.counts()[("POST", "/search/jql")] == 3


def test_readback_dry_run_changes_nothing(cli: Any, cloud: Any, jira: FakeJira, owned: IssueState) -> None:
    jira.delete_by_hand("OPS-1")

    result = cli("readback", "ops", "--dry-run", "--json")

    assert result.code == 0, result.err
    [report] = json.loads(result.out)
    assert report["dryRun"] and report["recorded"] == [{"issue": "OPS-1", "changes": ["deleted"]}]
    assert stored(cloud, owned).issue_status is IssueStatus.OPEN
    assert cloud.dynamodb.get_item(TableName=STATE_TABLE, Key={"pk": {"S": "readback#ops/jira"}}).get("Item") is None


def test_readback_without_providers_says_how_to_add_one(cli: Any, cloud: Any) -> None:
    result = cli("readback", "nobody")

    assert result.code == 1 and "jira-notifier provider add" in result.err


def test_webhook_setup_prints_the_url_and_the_steps_never_the_secret(cli: Any, stack: Any) -> None:
    outputs = {"JiraWebhookUrl": WEBHOOK_URL, "JiraWebhookSecretArn": WEBHOOK_SECRET}
    stack.add_response("describe_stacks", stack_description("alerts", outputs, {}), {"StackName": "alerts"})

    result = cli("webhook", "setup", "--stack", "alerts")

    assert result.code == 0, result.err
    assert WEBHOOK_URL in result.out and f"--secret-id {WEBHOOK_SECRET}" in result.out
    assert 'labels = "jira-notifier"' in result.out and "Issue: updated, Issue: deleted" in result.out


def test_webhook_setup_takes_the_url_and_secret_name_without_a_stack(cli: Any) -> None:
    result = cli("webhook", "setup", "--url", WEBHOOK_URL, "--secret", "team/jira-webhook", "--json")

    assert json.loads(result.out) == {
        "url": WEBHOOK_URL,
        "secret": "team/jira-webhook",  # pragma: allowlist secret
        "jql": 'labels = "jira-notifier"',
        "events": ["Issue: updated", "Issue: deleted"],
    }


def test_webhook_setup_without_a_url_says_how_to_get_one(cli: Any, stack: Any) -> None:
    stack.add_response("describe_stacks", stack_description("alerts", {}, {}), {"StackName": "alerts"})

    result = cli("webhook", "setup", "--stack", "alerts")

    assert result.code == 1 and "JiraWebhook=Enabled" in result.err
