from __future__ import annotations

import json

import pytest

from jira_notifier.cli import aws as cli_aws
from tests.cli.conftest import PROVIDERS_TABLE, SECRET_NAME, provider, stack_description

ADD = ("provider", "add", "ops", "jira", "--project", "OPS", "--issue-type", "Task", "--secret", SECRET_NAME)


def test_add_stores_every_option_in_the_providers_table(cli, cloud):
    # Given the secret exists
    cloud.put_secret()
    # When
    result = cli(
        *ADD,
        "--resolve-transition", "Done", "--resolve-resolution", "Fixed", "--reopen-transition", "Reopen",
        "--reopen-window", "7d", "--wont-fix-resolution", "Won't Do", "--cooldown", "30m",
        "--label", "aws", "--label", "prod", "--component", "Platform",
        "--priority-map", "critical=Highest", "--priority-map", "HIGH=High",
        "--field", 'customfield_10010={"value": "prod"}', "--field", 'customfield_10011="text"',
        "--summary-template", "[{severity}] {title}",
    )  # fmt: skip
    # Then: one item, all attributes strings, the settings under their stored names
    assert result.code == 0, result.err
    assert "added provider ops/jira: project OPS, issue type Task" in result.out
    [item] = cloud.items()
    assert item == {"pk": "GROUP#ops", "sk": "PROVIDER#jira", "type": "jira", "value": item["value"]}
    assert json.loads(item["value"]) == {
        "type": "jira",
        "name": "jira",
        "group": "ops",
        "project": "OPS",
        "issueType": "Task",
        "secret": SECRET_NAME,
        "cooldownSeconds": 1800,
        "resolveTransition": "Done",
        "resolveResolution": "Fixed",
        "reopenTransition": "Reopen",
        "reopenWindowSeconds": 604800,
        "wontFixResolution": "Won't Do",
        "labels": ["aws", "prod"],
        "components": ["Platform"],
        "priorityMap": {"critical": "Highest", "high": "High"},
        "fields": json.dumps({"customfield_10010": {"value": "prod"}, "customfield_10011": "text"}),
        "summaryTemplate": "[{severity}] {title}",
    }


def test_add_stores_tag_fields_and_impact_steps(cli, cloud):
    cloud.put_secret()

    result = cli(
        *ADD, "--tag-field", "team=components", "--tag-field", "owner=customfield_10031",
        "--impact-steps", "1000:Highest,100:High", "--budget-steps", "100:Highest",
        "--escalate-after", "4h:High", "--escalate-after", "1d:Highest",
    )  # fmt: skip

    assert result.code == 0, result.err
    stored = json.loads(cloud.items()[0]["value"])
    assert stored["tagFields"] == {"team": "components", "owner": "customfield_10031"}
    assert stored["impactSteps"] == [[100.0, "High"], [1000.0, "Highest"]]
    assert stored["budgetSteps"] == [[100.0, "Highest"]]
    assert stored["escalateAfter"] == [[14400.0, "High"], [86400.0, "Highest"]]


def test_add_stores_the_products_a_provider_takes_findings_of(cli, cloud):
    cloud.put_secret()

    result = cli(*ADD, "--products", "GuardDuty, inspector,guardduty")

    assert result.code == 0, result.err
    assert json.loads(cloud.items()[0]["value"])["products"] == ["guardduty", "inspector"]


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (("--tag-field", "team"), "--tag-field 'team' must be TAG=FIELD_ID"),
        (("--tag-field", "team=summary"), "tag fields may not fill ['summary']"),
        (("--impact-steps", "lots:High"), "--impact-steps 'lots:High' must be AMOUNT:PRIORITY"),
        (("--escalate-after", "soon:High"), "--escalate-after 'soon:High' must be DURATION:PRIORITY"),
        (("--escalate-after", "3600:High"), "--escalate-after '3600:High' must be DURATION:PRIORITY, e.g. 4h:High"),
    ],
)
def test_add_refuses_malformed_tag_fields_and_steps(cli, cloud, options, complaint):
    cloud.put_secret()

    result = cli(*ADD, *options)

    assert result.code == 2 and complaint in result.err
    assert cloud.items() == []


def test_add_again_updates_the_provider(cli, cloud):
    cloud.put_secret()
    cli(*ADD)

    result = cli(*ADD, "--resolve-transition", "Closed")

    assert result.code == 0
    assert result.out.startswith("updated provider ops/jira")
    [item] = cloud.items()
    assert json.loads(item["value"])["resolveTransition"] == "Closed"
    assert json.loads(item["value"])["cooldownSeconds"] == 3600  # the default when --cooldown is not given


def test_add_refuses_a_secret_that_does_not_exist(cli, cloud):
    result = cli(*ADD)

    assert result.code == 1
    assert f"secret '{SECRET_NAME}' does not exist" in result.err
    assert f"jira-notifier secret put {SECRET_NAME}" in result.err
    assert cloud.items() == []


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (("--project", "ops-1"), "is neither a project key"),
        (("--issue-type", " "), "the issue type must be the name exactly as in Jira"),
        (("--priority-map", "urgent=Highest"), "unknown severities ['urgent']"),
        (("--priority-map", "critical"), "must be SEVERITY=PRIORITY"),
        (("--field", 'summary="x"'), "are set by jira-notifier itself"),
        (("--field", "customfield_1=prod"), "--field customfield_1: the value must be JSON"),
        (("--field", "customfield_1"), "must be FIELD_ID=JSON"),
        (("--reopen-window", "soon"), "argument --reopen-window: 'soon' is not a duration"),
        (("--cooldown", "1 fortnight"), "argument --cooldown: '1 fortnight' is not a duration"),
        (("--cooldown", "5"), "argument --cooldown: '5' has no unit; write 5s, 5m, 5h or 5d"),
        (("--reopen-window", "7"), "argument --reopen-window: '7' has no unit; write 7s, 7m, 7h or 7d"),
    ],
    ids=["project", "issue-type", "severity", "map-pair", "reserved-field", "field-not-json", "field-pair",
         "reopen-window", "cooldown", "cooldown-without-unit", "reopen-window-without-unit"],
)  # fmt: skip
def test_add_refuses_invalid_settings_before_writing(cli, cloud, options, complaint):
    cloud.put_secret()
    argv = list(ADD)
    if options[0] in argv:  # replace a required option's value
        argv[argv.index(options[0]) + 1] = options[1]
    else:
        argv.extend(options)

    result = cli(*argv)

    assert result.code == 2  # usage: refused before anything is read or written
    assert "error: " in result.err and complaint in result.err
    assert cloud.items() == []


def test_add_warns_when_the_secret_is_outside_the_stack_prefix(cli, cloud):
    cloud.put_secret("ops-token")

    result = cli("provider", "add", "ops", "jira", "--project", "OPS", "--issue-type", "Task", "--secret", "ops-token")

    assert result.code == 0
    assert "does not start with the stack's SecretNamePrefix" in result.err


def test_list_shows_a_table_and_json(cli, cloud):
    cloud.put_provider(provider(resolve_transition="Done", reopen_transition="Reopen", reopen_window=86400))
    cloud.put_provider(provider(group="finops", name="board", project="10000", issue_type="Bug"))

    table = cli("provider", "list")
    as_json = cli("provider", "list", "--json")
    one_group = cli("provider", "list", "finops", "--json")

    assert table.code == as_json.code == one_group.code == 0
    assert table.out.splitlines() == [
        "GROUP   NAME   PROJECT  ISSUE TYPE  SECRET             RESOLVE  REOPEN",
        "finops  board  10000    Bug         jira-notifier/ops  -        -",
        "ops     jira   OPS      Task        jira-notifier/ops  Done     Reopen (within 1d)",
    ]
    listed = json.loads(as_json.out)
    assert [(p["group"], p["name"], p["issueType"]) for p in listed] == [
        ("finops", "board", "Bug"),
        ("ops", "jira", "Task"),
    ]
    assert listed[1]["reopenWindowSeconds"] == 86400
    assert [p["name"] for p in json.loads(one_group.out)] == ["board"]


def test_list_when_there_is_none(cli, cloud):
    assert json.loads(cli("provider", "list", "--json").out) == []
    assert "no providers yet" in cli("provider", "list").out
    assert "no providers in group 'ops'" in cli("provider", "list", "ops").out


def test_remove_deletes_the_provider_and_warns_when_the_group_is_left_empty(cli, cloud):
    cloud.put_provider(provider())

    result = cli("provider", "remove", "ops", "jira")

    assert result.code == 0
    assert result.out == "removed provider ops/jira\n"
    assert "group 'ops' has no provider left" in result.err
    assert cloud.items() == []


def test_remove_of_an_absent_provider_fails(cli, cloud):
    result = cli("provider", "remove", "ops", "nope")

    assert result.code == 1
    assert "no provider 'nope' in group 'ops'" in result.err


def test_commands_need_a_table(cli, cloud, monkeypatch):
    monkeypatch.delenv("PROVIDERS_TABLE")

    result = cli("provider", "list")

    assert result.code == 1
    assert "no providers table: pass --stack NAME (the deployed stack) or set PROVIDERS_TABLE" in result.err


def test_a_missing_table_is_explained(cli, cloud, monkeypatch):
    monkeypatch.setenv("PROVIDERS_TABLE", "no-such-table")

    result = cli("provider", "list")

    assert result.code == 1
    assert "cannot read table no-such-table" in result.err and "check --stack" in result.err


def test_stack_outputs_name_the_table_and_parameters_the_secret_prefix(cli, cloud, stack, monkeypatch):
    # Given a deployed stack and no table in the environment
    outputs = {"ProvidersTableName": PROVIDERS_TABLE, "StateTableName": "cli-state"}
    for _ in range(2):
        stack.add_response(
            "describe_stacks",
            stack_description("alerts", outputs, {"SecretNamePrefix": "alerts/"}),
            {"StackName": "alerts"},
        )
    monkeypatch.delenv("PROVIDERS_TABLE")
    cloud.put_secret()
    # When
    added = cli(*ADD, "--stack", "alerts")
    listed = cli("provider", "list", "--json", "--stack", "alerts")
    # Then: the table came from the outputs; the prefix check used the stack's SecretNamePrefix
    assert added.code == 0, added.err
    assert "does not start with the stack's SecretNamePrefix 'alerts/'" in added.err
    assert [p["name"] for p in json.loads(listed.out)] == ["jira"]


def test_a_stack_without_the_outputs_is_explained(cli, cloud, stack):
    stack.add_response("describe_stacks", stack_description("other", {}, {}), {"StackName": "other"})

    result = cli("provider", "list", "--stack", "other")

    assert result.code == 1
    assert "stack 'other' has no output ProvidersTableName; is it a jira-notifier stack?" in result.err


def test_an_unknown_stack_is_explained(cli, cloud, stack):
    stack.add_client_error(
        "describe_stacks", service_error_code="ValidationError", service_message="Stack with id nope does not exist"
    )

    result = cli("provider", "list", "--stack", "nope")

    assert result.code == 1
    assert "cannot read stack 'nope': Stack with id nope does not exist" in result.err


def test_aws_region_is_honoured(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    assert cli_aws.session().region_name == "eu-west-1"
