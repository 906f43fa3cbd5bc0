"""Issues name the account, and its name when the stack reads names from AWS Organizations (READ_ACCOUNT_NAMES).

Through the SNS handler, against moto (which implements Organizations) and the stand-in Jira.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.client
import pytest

from functions.sns_to_jira.handler import lambda_handler
from tests.support.builders import alarm_message, sns_event


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Every AWS API call made, as (service, operation)."""
    calls: list[tuple[str, str]] = []
    original = botocore.client.BaseClient._make_api_call

    def counted(client: Any, operation: str, params: Any) -> Any:
        calls.append((client.meta.service_model.service_name, operation))
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted)
    yield calls


@pytest.fixture
def member_account(aws: Any) -> str:
    """An account of the Organization (moto's), named "Payments Prod"."""
    organizations = aws.session.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    status = organizations.create_account(Email="payments@example.com", AccountName="Payments Prod")
    return status["CreateAccountStatus"]["AccountId"]


def alarm_from(account: str, name: str = "api-5xx-high", state: str = "ALARM", minutes: float = 0) -> dict[str, Any]:
    arn = f"arn:aws:cloudwatch:eu-west-1:{account}:alarm:{name}"
    return sns_event({**alarm_message(state, minutes, name=name, arn=arn), "AWSAccountId": account})


def header(issue: Any) -> str:
    panel = issue.fields["description"]["content"][0]
    return "".join(node.get("text", "") for paragraph in panel["content"] for node in paragraph["content"])


def test_with_names_read_a_new_issue_names_its_account_once_per_container(
    monkeypatch: pytest.MonkeyPatch, member_account: str, jira: Any, lambda_context: Any, aws_calls: list
) -> None:
    # Given a stack that reads account names, and two alarms of one member account
    monkeypatch.setenv("READ_ACCOUNT_NAMES", "true")

    # When both fire
    assert lambda_handler(alarm_from(member_account, "api-5xx-high"), lambda_context) == {"created": 1}
    assert lambda_handler(alarm_from(member_account, "api-latency"), lambda_context) == {"created": 1}

    # Then each issue names the account id and its name, read once for both
    assert [header(issue) for issue in jira.issues.values()] == [
        f"ALARM · severity high · account {member_account} (Payments Prod) · region eu-west-1 · since "
        f"2026-11-02 09:00:00 UTC"
    ] * 2
    assert aws_calls.count(("organizations", "DescribeAccount")) == 1


def test_an_unreadable_name_leaves_it_out_and_the_issue_is_created(
    monkeypatch: pytest.MonkeyPatch, aws: Any, jira: Any, lambda_context: Any, aws_calls: list
) -> None:
    # Given a stack that reads account names where Organizations cannot tell them (not in use)
    monkeypatch.setenv("READ_ACCOUNT_NAMES", "true")

    # When an alarm fires
    result = lambda_handler(alarm_from("444455556666"), lambda_context)

    # Then the issue is created, naming the account id alone, and nothing is parked
    assert result == {"created": 1}
    [issue] = jira.issues.values()
    assert " · account 444455556666 · " in header(issue)
    assert aws.dead_letters() == []
    assert aws_calls.count(("organizations", "DescribeAccount")) >= 1


@pytest.mark.parametrize("setting", [None, "false"], ids=["unset", "false"])
def test_without_names_read_no_organizations_call_is_made(
    monkeypatch: pytest.MonkeyPatch,
    member_account: str,
    jira: Any,
    lambda_context: Any,
    aws_calls: list,
    setting: str | None,
) -> None:
    if setting is None:
        monkeypatch.delenv("READ_ACCOUNT_NAMES", raising=False)
    else:
        monkeypatch.setenv("READ_ACCOUNT_NAMES", setting)
    aws_calls.clear()  # the fixture's own setup calls

    assert lambda_handler(alarm_from(member_account), lambda_context) == {"created": 1}
    assert lambda_handler(alarm_from(member_account, state="OK", minutes=5), lambda_context) == {"resolved": 1}

    # The hot path's AWS calls are the state table's and the routes' and secret's reads, nothing more
    assert {service for service, _ in aws_calls} == {"dynamodb", "secretsmanager"}
    [issue] = jira.issues.values()
    assert f" · account {member_account} · " in header(issue)


@pytest.mark.parametrize("organizations", [False, True], ids=["names-not-read", "organizations-cannot-tell"])
def test_the_operators_name_is_used_when_organizations_cannot_tell(
    monkeypatch: pytest.MonkeyPatch, aws: Any, jira: Any, lambda_context: Any, organizations: bool
) -> None:
    # Given the operator named an account ('jira-notifier account name'), and Organizations not read or not in use
    from jira_notifier.adapters.dynamodb.providers import account_name_item

    monkeypatch.setenv("READ_ACCOUNT_NAMES", "true" if organizations else "false")
    item = account_name_item("444455556666", "Payments Prod")
    aws.session.client("dynamodb").put_item(
        TableName="jira-notifier-providers", Item={k: {"S": v} for k, v in item.items()}
    )

    # When an alarm of that account fires, its issue names the account so
    assert lambda_handler(alarm_from("444455556666"), lambda_context) == {"created": 1}
    [issue] = jira.issues.values()
    assert " · account 444455556666 (Payments Prod) · " in header(issue)
