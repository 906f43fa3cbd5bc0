from __future__ import annotations

import io
import json
from typing import Any

import pytest

from jira_notifier.cli.reconcile import Progress
from tests.cli.conftest import SECRET_NAME, STATE_TABLE, provider
from tests.support.fake_jira import EMAIL, SITE, TOKEN, FakeJira
from tests.support.jira_spec import validate_calls
from tests.support.links import open_link, put_alarm

ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"


@pytest.fixture
def jira(cloud: Any, jira_api: Any) -> FakeJira:
    """Providers ops/jira and finops/jira, their secret, and a stateful stand-in Jira behind them."""
    cloud.secretsmanager.create_secret(
        Name=SECRET_NAME,
        SecretString=json.dumps({"type": "jira-token", "email": EMAIL, "apiToken": TOKEN, "serverUrl": SITE}),
    )
    cloud.put_provider(provider(resolve_transition="Done"))
    cloud.put_provider(provider(group="finops", resolve_transition="Done"))
    return FakeJira(jira_api)


def linked_alarm(boto_session: Any, jira: FakeJira, name: str, state: str) -> str:
    """An alarm now in ``state`` whose issue is open (it fired; its clear, if any, never arrived)."""
    put_alarm(boto_session.client("cloudwatch"), name, state)
    return open_link(
        boto_session.client("dynamodb"), STATE_TABLE, jira, "cloudwatch-alarm:" + ALARM_ARN.format(name=name)
    )


def changes(requests: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Requests other than searches (the run's read-back step searches first)."""
    return [r for r in requests if r != ("POST", "/rest/api/3/search/jql")]


def test_reconcile_resolves_the_cleared_and_prints_a_summary_table(cli: Any, boto_session: Any, jira: FakeJira) -> None:
    cleared = linked_alarm(boto_session, jira, "cleared", "OK")
    firing = linked_alarm(boto_session, jira, "firing", "ALARM")

    result = cli("reconcile")

    assert result.code == 0, result.out + result.err
    assert "SOURCE            LINKS  CHECKED  STILL ACTIVE  CLEARED  GONE  UNCHECKED  RESOLVED  FAILED" in result.out
    assert "cloudwatch-alarm  2      2        1             1        0     0          1         0" in result.out
    assert f"{cleared}  cloudwatch-alarm  resolved  Alarm cleared is OK since" in result.out
    assert result.err == ""  # no progress bar when stderr is not a terminal
    assert changes(jira.writes()) == [("POST", f"/rest/api/3/issue/{cleared}/transitions")]
    assert jira.by_key(cleared).status == "Done" and jira.by_key(firing).status == "To Do"
    validate_calls(jira.mock.calls)


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(cli: Any, boto_session: Any, jira: FakeJira) -> None:
    key = linked_alarm(boto_session, jira, "cleared", "OK")
    before = boto_session.client("dynamodb").scan(TableName=STATE_TABLE)["Items"]

    result = cli("reconcile", "--dry-run")

    assert result.code == 0
    assert "reconcile (dry run: nothing was changed)" in result.out
    assert f"{key}  cloudwatch-alarm  would-resolve  Alarm cleared is OK since" in result.out
    assert changes(jira.writes()) == []  # the read-back step only searches and reads
    assert boto_session.client("dynamodb").scan(TableName=STATE_TABLE)["Items"] == before


def test_json_output_and_a_group_of_its_own(cli: Any, boto_session: Any, jira: FakeJira) -> None:
    linked_alarm(boto_session, jira, "cleared", "OK")

    other_group = json.loads(cli("reconcile", "finops", "--json", "--dry-run").out)
    mine = json.loads(cli("reconcile", "ops", "--json", "--dry-run").out)

    assert [step["step"] for step in mine["steps"]] == ["readback", "reconcile", "sync-back"]
    assert other_group["steps"][1]["counts"]["links"] == 0
    step = mine["steps"][1]
    assert step["dryRun"] is True and step["counts"]["wouldResolve"] == 1
    assert step["links"][0]["action"] == "would-resolve" and step["links"][0]["provider"] == "ops/jira"


def test_an_event_needs_the_local_aws(cli: Any) -> None:
    result = cli("reconcile", "--event", "events/sns_cloudwatch_alarm.json")

    assert result.code == 2 and "--event needs --local" in result.err


def test_local_runs_against_the_embedded_aws(cli: Any) -> None:
    result = cli(
        "reconcile", "--local", "--event", "events/sns_cloudwatch_alarm.json", "--event", "events/sns_budget.json"
    )

    assert result.code == 0, result.err
    assert "reconcile (dry run: nothing was changed)" in result.out
    assert "outside this stack's account and region" in result.out  # the sample alarm is in eu-west-1
    assert "budget: the source keeps no state to ask" in result.out


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_only_on_a_terminal() -> None:
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = Progress(stream)
        progress("reconcile", 5, 10)
        progress.close()

    assert terminal.getvalue() == "\rreconcile [###############---------------] 5/10 open issues\n"
    assert pipe.getvalue() == ""
