"""The main job with no AWS account: ``jira-notifier invoke EVENT --local`` (what ``make run`` runs)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import responses
from jira_standin.server import LocalJira

from jira_notifier.adapters.observability import metrics
from jira_notifier.cli.main import main
from tests.support.fake_jira import EMAIL, SITE, TOKEN
from tests.support.jira_spec import validate_jira_request

ROOT = Path(__file__).resolve().parents[2]
ALARM = str(ROOT / "events" / "sns_cloudwatch_alarm.json")
PRINTED_REQUEST = re.compile(r"^\[\d+\] (GET|POST) (\S+)$", re.M)


@pytest.fixture(autouse=True)
def _quiet_local_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # What invoke would otherwise set for the process; set here so each test gets it back as it was.
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", "")


def printed_requests(out: str) -> list[tuple[str, str, Any]]:
    """The (method, URL, body) of each request a dry run printed."""
    found = []
    decoder = json.JSONDecoder()
    for match in PRINTED_REQUEST.finditer(out):
        rest = out[match.end() :].lstrip("\n")
        body = decoder.raw_decode(rest)[0] if rest.startswith("{") else None
        found.append((match.group(1), match.group(2), body))
    return found


def test_dry_run_prints_the_outcome_first_and_the_requests_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    # When the README's first command runs without Jira credentials
    assert main(["invoke", ALARM, "--local"]) == 0

    # Then the outcome comes first, in three lines, and no request body is printed
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "issue DEMO-1 (open) for cloudwatch-alarm:arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx-high",
        "sns: created 1",
        "dry run: 2 Jira request(s) answered in-process by a stand-in Jira, none sent; --show-requests prints them",
    ]
    assert printed_requests(out) == []


def test_show_requests_prints_the_exact_requests_after_the_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", ALARM, "--local", "--show-requests"]) == 0

    # Then it prints the requests it would send, each valid for Jira's API, after the issue it recorded
    out = capsys.readouterr().out
    assert out.startswith("issue DEMO-1 (open) for ")
    requests = printed_requests(out)
    assert [(method, url.split("?")[0]) for method, url, _ in requests] == [
        ("GET", "https://your-domain.atlassian.net/rest/api/3/issue/createmeta/DEMO/issuetypes"),
        ("POST", "https://your-domain.atlassian.net/rest/api/3/issue"),
    ]
    for method, url, body in requests:
        validate_jira_request(method, url, json.dumps(body).encode() if body is not None else None)
    create = requests[1][2]["fields"]
    assert create["summary"] == "CloudWatch alarm api-5xx-high" and create["project"] == {"key": "DEMO"}
    assert "dry-run-token" not in out


def test_json_carries_the_outcome_and_with_show_requests_the_requests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "--sample", "sns_cloudwatch_alarm", "--local", "--json", "--show-requests"]) == 0

    outcome = json.loads(capsys.readouterr().out)
    assert outcome["ok"] is True and outcome["dryRun"] is True
    assert outcome["function"] == "sns" and outcome["result"] == {"created": 1} and outcome["parked"] == []
    assert [issue["key"] for issue in outcome["issues"]] == ["DEMO-1"]
    assert [(r["method"], r["url"].split("?")[0]) for r in outcome["requests"]] == [
        ("GET", "https://your-domain.atlassian.net/rest/api/3/issue/createmeta/DEMO/issuetypes"),
        ("POST", "https://your-domain.atlassian.net/rest/api/3/issue"),
    ]
    for request in outcome["requests"]:
        body = json.dumps(request["body"]).encode() if request["body"] is not None else None
        validate_jira_request(request["method"], request["url"], body)


@pytest.mark.parametrize("sample", ["sns_notification", "sqs_raw_delivery"])
def test_a_parked_alert_fails_the_command_and_says_why(sample: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a sample routed to a group that has no provider (the SNS path, and the SQS path whose answer lists none)
    code = main(["invoke", "--sample", sample, "--local", "--json"])

    # Then it exits 1 (parked is not done), naming the reason, and no issue was recorded
    outcome = json.loads(capsys.readouterr().out)
    assert code == 1 and outcome["ok"] is False
    assert [p["reason"] for p in outcome["parked"]] == ["unroutable"]
    assert "has no provider" in outcome["parked"][0]["error"] and outcome["issues"] == []


def test_an_unknown_sample_is_a_usage_error_naming_the_samples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "--sample", "no_such_event", "--local"]) == 2
    err = capsys.readouterr().err
    assert "no sample event 'no_such_event'" in err and "sns_cloudwatch_alarm" in err


def test_with_jira_credentials_it_creates_a_real_issue(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a Jira site (the stand-in, over loopback HTTP) and its project in the environment
    with LocalJira(project="OPS", email=EMAIL, api_token=TOKEN, example_issue=False) as jira:
        for name, value in {"JIRA_SERVER_URL": jira.url, "JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN,
                            "JIRA_PROJECT": "OPS"}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        # When the alarm runs through the handler against the embedded AWS
        assert main(["invoke", ALARM, "--local"]) == 0
        issues = list(jira.issues.values())
    # Then the issue exists in that Jira, and nothing was printed as a dry run
    assert [issue.summary for issue in issues] == ["CloudWatch alarm api-5xx-high"]
    out = capsys.readouterr().out
    assert "dry run" not in out and out.startswith("issue OPS-1 (open)") and TOKEN not in out


def test_dry_run_flag_sends_nothing_even_with_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {"JIRA_SERVER_URL": SITE, "JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN,
                        "JIRA_PROJECT": "OPS"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        assert main(["invoke", ALARM, "--local", "--dry-run"]) == 0
        assert len(mock.calls) == 0
    assert "dry run: 2 Jira request(s) answered in-process" in capsys.readouterr().out


# What `jira-notifier local aws` asks users to export, pointing at a local AWS that is not running, and a profile
# that does not exist: none of it may reach the embedded run.
AMBIENT = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
    "AWS_PROFILE": "no-such-profile",
    "AWS_REGION": "eu-west-1",
    "PROVIDERS_TABLE": "someone-elses-providers",
    "STATE_TABLE": "someone-elses-state",
    "DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:9/123456789012/jira-notifier-dead-letters",
    "DEFAULT_NOTIFICATION_GROUP": "no-such-group",
    "JIRA_ALLOWED_HOSTS": "127.0.0.1",
    "READ_ACCOUNT_NAMES": "true",
}


def test_a_local_run_ignores_the_ambient_aws_tables_queue_and_allowed_hosts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a shell set up for a real stack or a local AWS that is not running
    for name, value in AMBIENT.items():
        monkeypatch.setenv(name, value)

    # When the README's first command runs
    code = main(["invoke", ALARM, "--local", "--show-requests"])

    # Then it is the same dry run as in a clean shell: the demo provider's requests, an issue, nothing parked
    captured = capsys.readouterr()
    assert code == 0, captured.err
    requests = printed_requests(captured.out)
    assert [(method, url.split("?")[0]) for method, url, _ in requests] == [
        ("GET", "https://your-domain.atlassian.net/rest/api/3/issue/createmeta/DEMO/issuetypes"),
        ("POST", "https://your-domain.atlassian.net/rest/api/3/issue"),
    ]
    assert "sns: created 1" in captured.out and "issue DEMO-1 (open)" in captured.out
    assert "Traceback" not in captured.err
    # and the shell's variables are as they were
    assert {name: os.environ.get(name) for name in AMBIENT} == AMBIENT


def test_invoke_runs_from_the_installed_package_outside_a_checkout(tmp_path: Path) -> None:
    # Given a folder with no functions/ and an interpreter that sees the package but not the project's root
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT / "layers" / "jira_notifier"),
        "NO_COLOR": "1",
    }
    assert not (tmp_path / "functions").exists()

    # When the main job runs there
    done = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "jira_notifier.cli.main", "invoke", ALARM, "--local"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # Then it runs the handler from the package, as it does in a checkout
    assert done.returncode == 0, done.stderr
    assert "sns: created 1" in done.stdout and done.stdout.startswith("issue DEMO-1 (open)")


def test_the_command_leaves_the_process_environment_as_it_found_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A handler run in the same process after the command (a test, a notebook) must still emit its metrics.
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")
    before = dict(os.environ)

    assert main(["invoke", ALARM, "--local"]) == 0

    assert "POWERTOOLS_METRICS_DISABLED" not in os.environ
    assert dict(os.environ) == before
    assert metrics.metric_set == {}  # nothing held back for the next handler's flush
