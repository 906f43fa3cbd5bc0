"""``provider add --sync-back / --archive-wont-fix``: stored on the provider, and checked against the stack."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import PROVIDERS_TABLE, SECRET_NAME, stack_description

ADD = ("provider", "add", "ops", "jira", "--project", "OPS", "--issue-type", "Task", "--secret", SECRET_NAME)
OUTPUTS = {"ProvidersTableName": PROVIDERS_TABLE, "StateTableName": "cli-state"}


def stored(cloud) -> dict:
    [item] = cloud.items()
    return json.loads(item["value"])


def deployed_with(stack, **parameters: str) -> None:
    stack.add_response("describe_stacks", stack_description("alerts", OUTPUTS, parameters), {"StackName": "alerts"})


def test_sync_back_and_archive_are_stored_and_turned_off_again(cli, cloud):
    cloud.put_secret()

    on = cli(*ADD, "--sync-back", "--archive-wont-fix")
    on_value = stored(cloud)
    off = cli(*ADD, "--no-sync-back", "--no-archive-wont-fix")

    assert on.code == 0 and off.code == 0, (on.err, off.err)
    assert (on_value["syncBack"], on_value["archiveWontFix"]) == (True, True)
    assert "syncBack" not in stored(cloud) and "archiveWontFix" not in stored(cloud)


def test_without_a_stack_the_flags_are_stored_with_a_warning_that_they_were_not_checked(cli, cloud):
    cloud.put_secret()

    result = cli(*ADD, "--sync-back")

    assert result.code == 0, result.err
    assert "could not check that the stack allows sync-back (pass --stack NAME)" in result.err
    assert "SyncBackCostAnomaly=true / SyncBackSecurityHub=true" in result.err


@pytest.mark.parametrize(
    ("flags", "parameters", "complaint"),
    [
        (
            ["--sync-back"],
            {"SyncBackSecurityHub": "false", "SyncBackCostAnomaly": "false"},
            "redeploy with SyncBackCostAnomaly=true, SyncBackSecurityHub=true, or leave out --sync-back",
        ),
        (
            ["--archive-wont-fix"],
            {"ArchiveGuardDutyFindings": "false"},
            "redeploy with ArchiveGuardDutyFindings=true, or leave out --archive-wont-fix",
        ),
        (
            ["--sync-back", "--archive-wont-fix"],
            {"ArchiveGuardDutyFindings": "true"},
            "or leave out --sync-back",
        ),
    ],
    ids=["sync-back", "archive", "sync-back-with-only-archive-allowed"],
)
def test_a_flag_the_stack_allows_none_of_is_refused_before_writing(
    cli, cloud, stack, monkeypatch, flags, parameters, complaint
):
    monkeypatch.delenv("PROVIDERS_TABLE")
    cloud.put_secret()
    deployed_with(stack, **parameters)

    result = cli(*ADD, *flags, "--stack", "alerts")

    assert result.code == 1
    assert "stack 'alerts' was deployed with" in result.err and complaint in result.err
    assert cloud.items() == []


def test_a_stack_that_allows_part_of_it_stores_the_provider_and_names_the_rest(cli, cloud, stack, monkeypatch):
    monkeypatch.delenv("PROVIDERS_TABLE")
    cloud.put_secret()
    deployed_with(stack, SyncBackSecurityHub="true", SyncBackCostAnomaly="false")

    result = cli(*ADD, "--sync-back", "--stack", "alerts")

    assert result.code == 0, result.err
    assert "deployed with SyncBackCostAnomaly=false; redeploy with SyncBackCostAnomaly=true" in result.err
    assert stored(cloud)["syncBack"] is True


def test_a_stack_that_allows_everything_asked_says_nothing(cli, cloud, stack, monkeypatch):
    monkeypatch.delenv("PROVIDERS_TABLE")
    cloud.put_secret()
    deployed_with(stack, SyncBackSecurityHub="true", SyncBackCostAnomaly="true", ArchiveGuardDutyFindings="true")

    result = cli(*ADD, "--sync-back", "--archive-wont-fix", "--stack", "alerts")

    assert result.code == 0, result.err
    assert "SyncBack" not in result.err and "ArchiveGuardDuty" not in result.err
