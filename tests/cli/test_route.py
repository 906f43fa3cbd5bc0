from __future__ import annotations

import json

import pytest

from tests.cli.conftest import PROVIDERS_TABLE, provider

TOPIC = "arn:aws:sns:eu-west-1:111122223333:billing-alerts"


def test_add_routes_a_topic_and_a_source_and_lists_them(cli, cloud):
    cloud.put_provider(provider(group="finops"))

    topic = cli("route", "add", "--topic-arn", TOPIC, "finops")
    source = cli("route", "add", "--source", "aws.cloudwatch", "ops")
    table = cli("route", "list")
    as_json = cli("route", "list", "--json")

    assert topic.code == source.code == table.code == as_json.code == 0
    assert topic.out == f"routed topic {TOPIC} to group finops\n" and topic.err == ""
    assert "group 'ops' has no provider yet" in source.err
    stored = {row["pk"]: row for row in cloud.items() if row["sk"] == "ROUTE"}
    assert stored[f"ROUTE#{TOPIC}"] == {"pk": f"ROUTE#{TOPIC}", "sk": "ROUTE", "type": "route", "value": '"finops"'}
    assert table.out.splitlines() == [
        "GROUP   KIND    ROUTE",
        f"finops  topic   {TOPIC}",
        "ops     source  aws.cloudwatch",
    ]
    assert json.loads(as_json.out) == [
        {"route": TOPIC, "kind": "topic", "group": "finops"},
        {"route": "aws.cloudwatch", "kind": "source", "group": "ops"},
    ]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sqs:eu-west-1:111122223333:queue",
        "arn:aws:sns:eu-west-1:1111:billing",
        "arn:aws:sns:eu-west-1:111122223333:",
        "billing-alerts",
        "arn:aws:sns:eu-west-1:111122223333:billing:subscription-id",
    ],
    ids=["sqs-arn", "short-account", "no-name", "bare-name", "subscription-arn"],
)
def test_add_refuses_what_is_not_a_topic_arn(cli, cloud, arn):
    result = cli("route", "add", "--topic-arn", arn, "ops")

    assert result.code == 2  # usage: refused before anything is written
    assert "is not an SNS topic ARN; expected arn:aws:sns:REGION:ACCOUNT_ID:TOPIC_NAME" in result.err
    assert cloud.items() == []


def test_add_accepts_other_partitions_and_fifo_topics(cli, cloud):
    for arn in (
        "arn:aws-us-gov:sns:us-gov-west-1:111122223333:alerts",
        "arn:aws-cn:sns:cn-north-1:111122223333:a.fifo",
    ):
        assert cli("route", "add", "--topic-arn", arn, "ops").code == 0
    assert len(cloud.items()) == 2


def test_add_needs_exactly_one_of_topic_and_source(cli, cloud):
    result = cli("route", "add", "--topic-arn", TOPIC, "--source", "aws.ce", "ops")

    assert result.code == 2
    assert "not allowed with argument" in result.err


def test_remove_deletes_the_route_and_fails_when_absent(cli, cloud):
    cli("route", "add", "--source", "my.app", "ops")

    removed = cli("route", "remove", "--source", "my.app")
    again = cli("route", "remove", "--source", "my.app")

    assert removed.code == 0 and removed.out == "removed the route of source my.app\n"
    assert again.code == 1 and "no route for my.app" in again.err
    assert cli("route", "list").out.startswith("no routes yet")


def test_add_routes_an_account_stored_beside_the_other_routes_and_lists_it(cli, cloud):
    cloud.put_provider(provider(group="payments"))

    added = cli("route", "add", "--account", "444455556666", "payments")
    cli("route", "add", "--source", "aws.cloudwatch", "payments")
    table = cli("route", "list")
    as_json = cli("route", "list", "--json")

    assert added.code == 0 and added.out == "routed account 444455556666 to group payments\n" and added.err == ""
    # Stored as every route is (pk ROUTE#..., sk ROUTE, the group as JSON), under the key "account:<id>"
    stored = {row["pk"]: row for row in cloud.items() if row["sk"] == "ROUTE"}
    assert stored["ROUTE#account:444455556666"] == {
        "pk": "ROUTE#account:444455556666",
        "sk": "ROUTE",
        "type": "route",
        "value": '"payments"',
    }
    assert table.out.splitlines() == [
        "GROUP     KIND     ROUTE",
        "payments  account  444455556666",
        "payments  source   aws.cloudwatch",
    ]
    assert json.loads(as_json.out) == [
        {"route": "444455556666", "kind": "account", "group": "payments"},
        {"route": "aws.cloudwatch", "kind": "source", "group": "payments"},
    ]


@pytest.mark.parametrize("account", ["4444555566", "4444-5555-6666", "arn:aws:iam::444455556666:root", ""])
def test_add_refuses_what_is_not_an_account_id(cli, cloud, account):
    result = cli("route", "add", "--account", account, "ops")

    assert result.code == 2
    assert "is not an AWS account id; expected 12 digits" in result.err
    assert cloud.items() == []


def test_a_source_cannot_pass_for_an_account_route(cli, cloud):
    result = cli("route", "add", "--source", "account:444455556666", "ops")

    assert result.code == 2 and "use --account ID" in result.err
    assert cloud.items() == []


def test_remove_deletes_an_account_route(cli, cloud):
    cli("route", "add", "--account", "444455556666", "ops")

    removed = cli("route", "remove", "--account", "444455556666")
    again = cli("route", "remove", "--account", "444455556666")

    assert removed.code == 0 and removed.out == "removed the route of account 444455556666\n"
    assert again.code == 1 and "no route for 444455556666" in again.err
    assert cloud.items() == []


def test_add_routes_an_alarm_tag_into_the_one_partition_of_tag_routes_and_lists_it(cli, cloud):
    cloud.put_provider(provider(group="payments"))

    added = cli("route", "add", "--alarm-tag", "team=payments", "payments")
    other = cli("route", "add", "--alarm-tag", "cost=centre=4711", "finance")  # a key cannot hold "=": the value can
    listed = cli("route", "list", "--json")

    assert added.code == other.code == listed.code == 0
    assert added.out.startswith("routed alarm-tag team=payments to group payments\n")
    assert "warning: only alarms that propagate their tags" in added.err  # a warning, not output for scripts
    stored = {row["sk"]: row for row in cloud.items() if row["pk"] == "ROUTE#alarm-tag"}
    assert stored['["team", "payments"]']["value"] == '"payments"'
    assert stored['["cost", "centre=4711"]']["value"] == '"finance"'
    assert json.loads(listed.out) == [
        {"route": "cost=centre=4711", "kind": "alarm-tag", "group": "finance"},
        {"route": "team=payments", "kind": "alarm-tag", "group": "payments"},
    ]


def test_the_functions_read_every_alarm_tag_route_the_cli_stored(cli, cloud):
    from aws_lambda_powertools.utilities.parameters import DynamoDBProvider

    from jira_notifier.adapters.dynamodb.providers import ProviderRepo

    cli("route", "add", "--alarm-tag", "team=payments", "payments")
    cli("route", "add", "--alarm-tag", "env=prod", "prod-oncall")
    cli("route", "add", "--source", "aws.cloudwatch", "ops")
    repo = ProviderRepo(DynamoDBProvider(table_name=PROVIDERS_TABLE, key_attr="pk", sort_attr="sk"), max_age=0)

    assert repo.alarm_tag_routes() == {("team", "payments"): "payments", ("env", "prod"): "prod-oncall"}
    assert repo.route("aws.cloudwatch") == "ops"


@pytest.mark.parametrize(
    ("tag", "complaint"),
    [
        ("payments", "--alarm-tag 'payments' must be KEY=VALUE"),
        ("=payments", "--alarm-tag '=payments' must be KEY=VALUE"),
        ("aws:cloudformation:stack-name=x", "tags beginning aws: are AWS's own"),
        ("k" * 129 + "=v", "a tag key has at most 128 characters"),
    ],
    ids=["no-equals", "no-key", "aws-prefix", "too-long"],
)
def test_add_refuses_what_is_no_alarm_tag(cli, cloud, tag, complaint):
    result = cli("route", "add", "--alarm-tag", tag, "ops")

    assert result.code == 2 and complaint in result.err  # a malformed value is a usage error
    assert cloud.items() == []


def test_remove_deletes_an_alarm_tag_route(cli, cloud):
    cli("route", "add", "--alarm-tag", "team=payments", "payments")

    removed = cli("route", "remove", "--alarm-tag", "team=payments")
    again = cli("route", "remove", "--alarm-tag", "team=payments")

    assert removed.code == 0 and removed.out == "removed the route of alarm-tag team=payments\n"
    assert again.code == 1 and "no route for team=payments" in again.err


def test_the_alarm_tag_partition_is_no_source_to_route(cli, cloud):
    result = cli("route", "add", "--source", "alarm-tag", "ops")

    assert result.code == 2 and "use --alarm-tag KEY=VALUE" in result.err
