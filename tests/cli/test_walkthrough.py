"""The README's "Set up Jira" steps, tried as a new user would by following docs/try-locally.md: ``jira-notifier
local aws`` and ``local jira`` run in the background, and every command is its own process with a clean environment
plus the exports ``local aws`` printed. The commands of the steps are read from the pages themselves. Nothing leaves
the loopback interface."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from jira_standin.server import DEFAULT_EMAIL, DEFAULT_TOKEN, LocalJira

from tests.support.markdown import jira_notifier_commands, section

pytestmark = pytest.mark.slow  # real processes and servers: about 30 s
ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ROOT = ROOT / "layers" / "jira_notifier"
README = ROOT / "README.md"
TRY_LOCALLY = ROOT / "docs" / "try-locally.md"
TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:cloudwatch-alarms"
SAFETY_NET_SECONDS = "900"  # the stand-ins stop by themselves even if this test is killed (a bound, for a busy machine)
START_TIMEOUT = 90.0  # seconds: a bound for a busy machine; each wait ends as soon as its line is printed
EXPIRES = (date.today() + timedelta(days=180)).isoformat()
CHECK_LINE = re.compile(r"^(PASS|WARN|FAIL|SKIP)\s+(\S+(?: \S+)?)\s{2,}")


def jira_notifier(*args: str) -> list[str]:
    return [sys.executable, "-m", "jira_notifier.cli.main", *args]


def documented(page: Path, *words: str, under: str | None = None) -> list[str]:
    """The arguments of the one ``jira-notifier`` command of ``page`` (of its section ``under``) starting with
    ``words``."""
    found = jira_notifier_commands(page, section(page, under) if under else None)
    [command] = [argv for argv in found if argv[: len(words)] == list(words)]
    return command


def with_values(argv: list[str], **values: str) -> list[str]:
    """``argv`` with the value after each ``--option`` named in ``values`` (``server_url`` for ``--server-url``)."""
    options = {f"--{name.replace('_', '-')}": value for name, value in values.items()}
    assert set(options) <= set(argv), (options, argv)
    return [options[argv[i - 1]] if i and argv[i - 1] in options else arg for i, arg in enumerate(argv)]


def clean_environment(home: Path) -> dict[str, str]:
    """What a fresh shell has: no AWS profile or credentials of the developer, the package importable."""
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "PYTHONPATH": str(PACKAGE_ROOT), "NO_COLOR": "1"}


class Background:
    """A long-running command whose output lines are collected as they arrive."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(  # noqa: S603 - our own CLI
            argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 90.0) -> re.Match[str]:
        """The first output line matching ``pattern``, waiting for it to be printed (it returns as soon as it is:
        the bound is for a machine busy with other work, where starting the local AWS alone can take 25 s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((m for m in (re.search(pattern, line) for line in list(self.lines)) if m), None)
            if found:
                return found
            if self.process.poll() is not None:
                time.sleep(0.1)  # let the reader catch up with the last lines
                break
            time.sleep(0.05)
        output = "\n".join(self.lines)
        raise AssertionError(f"no line matching {pattern!r} (exit {self.process.poll()}); output:\n{output}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass(frozen=True)
class StandIns:
    env: dict[str, str]  # a clean environment with the exports of 'local aws'
    jira: Background
    jira_url: str

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own CLI
            jira_notifier(*args), env=self.env, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=180
        )

    def add_provider(self, group: str, *, token: str, issue_type: str) -> None:
        """A secret ``jira-notifier/GROUP`` holding ``token`` and a provider GROUP/jira using it (both stored)."""
        secret = f"jira-notifier/{group}"
        put = self.run(
            "secret", "put", secret, "--email", DEFAULT_EMAIL, "--server-url", self.jira_url, "--expires", EXPIRES,
            stdin=token + "\n",
        )  # fmt: skip
        assert put.returncode == 0, put.stderr
        add = self.run(
            "provider", "add", group, "jira", "--project", "OPS", "--issue-type", issue_type, "--secret", secret
        )  # fmt: skip
        assert add.returncode == 0, add.stderr

    def issue(self, key: str) -> dict[str, object]:
        answer = requests.get(f"{self.jira_url}/rest/api/3/issue/{key}", auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=5)
        assert answer.status_code == 200, answer.text
        return answer.json()["fields"]


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIns]:
    """The second terminal of the README: 'local aws' and 'local jira' on free ports."""
    env = clean_environment(tmp_path_factory.mktemp("home"))
    aws = Background(jira_notifier("local", "aws", "--port", "0", "--for-seconds", SAFETY_NET_SECONDS), env)
    jira = Background(jira_notifier("local", "jira", "--port", "0", "--for-seconds", SAFETY_NET_SECONDS), env)
    try:
        aws.wait_for(r"^Ready\.", timeout=START_TIMEOUT)
        jira_url = jira.wait_for(r"^Stand-in Jira Cloud at (http://127\.0\.0\.1:\d+):", timeout=START_TIMEOUT)[1]
        exports = dict(shlex.split(line)[1].split("=", 1) for line in aws.lines if line.startswith("export "))
        yield StandIns({**env, **exports}, jira, jira_url)
    finally:
        aws.stop()
        jira.stop()


def checks(output: str) -> dict[str, list[str]]:
    """The statuses of each check ``provider test`` printed, by check name."""
    found: dict[str, list[str]] = {}
    for line in output.splitlines():
        match = CHECK_LINE.match(line)
        if match:
            found.setdefault(match[2], []).append(match[1])
    return found


def test_local_aws_prints_every_variable_the_cli_and_the_functions_need(stand_ins: StandIns) -> None:
    names = {"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
             "PROVIDERS_TABLE", "STATE_TABLE", "DEAD_LETTER_QUEUE_URL", "JIRA_ALLOWED_HOSTS"}  # fmt: skip
    assert names <= set(stand_ins.env)
    assert stand_ins.env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert "127.0.0.1" in stand_ins.env["JIRA_ALLOWED_HOSTS"].split(",")


def test_the_readme_sequence_creates_an_issue_then_resolves_it(stand_ins: StandIns) -> None:
    # The secret as docs/try-locally.md stores it (at this stand-in's port, expiring well after today)
    assert f"echo {DEFAULT_TOKEN} | jira-notifier secret put" in TRY_LOCALLY.read_text(encoding="utf-8")
    secret = documented(TRY_LOCALLY, "secret", "put")
    put = stand_ins.run(
        *with_values(secret, server_url=stand_ins.jira_url, expires=EXPIRES), stdin=DEFAULT_TOKEN + "\n"
    )
    assert put.returncode == 0, put.stderr
    assert f"created secret jira-notifier/ops: {DEFAULT_EMAIL} at {stand_ins.jira_url}" in put.stdout

    # Then the README's steps 3 to 5 as they are written
    add = stand_ins.run(*documented(README, "provider", "add", under="### The steps"))
    assert add.returncode == 0, add.stderr

    test = stand_ins.run(*documented(README, "provider", "test", under="### The steps"))
    assert test.returncode == 0, test.stdout + test.stderr
    found = checks(test.stdout)
    assert {"credentials", "project", "issue type", "fields", "permissions", "transitions", "expiry"} <= set(found)
    assert {status for statuses in found.values() for status in statuses} == {"PASS"}, test.stdout

    route_topic = documented(README, "route", "add", "--topic-arn", under="### The steps")
    assert route_topic == ["route", "add", "--topic-arn", TOPIC_ARN, "ops"]  # the topic of the sample alarm
    route = stand_ins.run(*route_topic)
    assert route.returncode == 0, route.stderr

    fired = stand_ins.run("invoke", "events/sns_cloudwatch_alarm.json")
    assert fired.returncode == 0, fired.stderr
    assert "sns: created 1" in fired.stdout
    key = stand_ins.jira.wait_for(r'created (OPS-\d+): "CloudWatch alarm api-5xx-high"')[1]
    issue = stand_ins.issue(key)
    assert "aws-alerts" in issue["labels"]  # type: ignore[operator]

    cleared = stand_ins.run("invoke", "events/sns_cloudwatch_alarm_ok.json")
    assert cleared.returncode == 0, cleared.stderr
    assert "sns: resolved 1" in cleared.stdout
    stand_ins.jira.wait_for(rf"{key}: To Do -> Done")
    assert stand_ins.issue(key)["status"] == {
        "id": "10001",
        "name": "Done",
        "statusCategory": {"id": 3, "key": "done", "name": "Done"},
    }


def test_an_issue_type_the_project_lacks_fails_with_the_names_it_has(stand_ins: StandIns) -> None:
    stand_ins.add_provider("incidents", token=DEFAULT_TOKEN, issue_type="Incident")

    test = stand_ins.run("provider", "test", "incidents", "jira")

    assert test.returncode == 1
    assert checks(test.stdout)["issue type"] == ["FAIL"]
    assert "project OPS has no issue type 'Incident' this account may create (available: Bug, Task)" in test.stdout
    assert "fix: set --issue-type to one of the available names" in test.stdout
    assert "not ready: 1 failed" in test.stdout


def test_a_wrong_token_fails_the_credentials_check_with_the_fix(stand_ins: StandIns) -> None:
    stand_ins.add_provider("wrong", token="not-the-token", issue_type="Task")

    test = stand_ins.run("provider", "test", "wrong", "jira")

    assert test.returncode == 1
    found = checks(test.stdout)
    assert found["credentials"] == ["FAIL"]
    assert found["project"] == ["SKIP"]  # nothing else is tried with credentials Jira refused
    assert f"Jira rejected the credentials (401) at the site URL {stand_ins.jira_url}" in test.stdout
    assert f"create a new API token for {DEFAULT_EMAIL}" in test.stdout
    stand_ins.jira.wait_for(r"GET /rest/api/3/myself  401  wrong e-mail or API token")


def test_an_alert_without_a_route_is_parked_and_dlq_list_says_how_to_route_it(stand_ins: StandIns) -> None:
    parked = stand_ins.run("invoke", "events/eventbridge_cost_anomaly.json")
    assert parked.returncode == 1, parked.stderr  # parked: not done
    assert "parked (unroutable)" in parked.stdout and "eventbridge: parked 1" in parked.stdout

    listing = stand_ins.run("dlq", "list")

    assert listing.returncode == 0, listing.stderr
    assert "unroutable" in listing.stdout
    assert "add one with 'jira-notifier route add'" in listing.stdout


def test_a_second_stand_in_on_a_busy_port_says_how_to_move_it(stand_ins: StandIns) -> None:
    port = stand_ins.jira_url.rsplit(":", 1)[1]

    busy = stand_ins.run("local", "jira", "--port", port, "--for-seconds", "1")

    assert busy.returncode == 1
    assert f"cannot run the stand-in Jira on 127.0.0.1:{port} (Address already in use)" in busy.stderr
    assert "Stop it or use --port" in busy.stderr


# ---- the stand-in as a library (the benchmark's use) -----------------------------------------------------


def test_the_stand_in_counts_requests_by_endpoint_and_answers_after_its_delay() -> None:
    with LocalJira(delay=0.2, example_issue=False) as jira:
        started = time.monotonic()
        me = requests.get(f"{jira.url}/rest/api/3/myself", auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=5)
        elapsed = time.monotonic() - started
        created = requests.post(
            f"{jira.url}/rest/api/3/issue",
            json={"fields": {"project": {"key": "OPS"}, "issuetype": {"id": "10001"}, "summary": "Disk full"}},
            auth=(DEFAULT_EMAIL, DEFAULT_TOKEN),
            timeout=5,
        )
        counts = jira.counts()
        issues = list(jira.issues.values())

    assert me.status_code == 200 and elapsed >= 0.2
    assert created.status_code == 201 and created.json()["key"] == "OPS-1"
    assert counts == {("GET", "/myself"): 1, ("POST", "/issue"): 1}
    assert [(issue.key, issue.summary, issue.status) for issue in issues] == [("OPS-1", "Disk full", "To Do")]


def test_over_http_the_stand_in_loses_cuts_or_refuses_an_answer_as_told() -> None:
    def create(summary: str) -> requests.Response:
        fields = {"project": {"key": "OPS"}, "issuetype": {"id": "10001"}, "summary": summary}
        return requests.post(
            f"{jira.url}/rest/api/3/issue", json={"fields": fields}, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=5
        )

    with LocalJira(example_issue=False) as jira:
        jira.fail("POST", r"/issue$", None, after=True)
        jira.fail("POST", r"/issue$", 201, cut=True)
        jira.fail("POST", r"/issue$", 429, headers={"Retry-After": "5", "RateLimit-Reason": "jira-burst-based"})
        with pytest.raises(requests.ConnectionError):
            create("lost after acting")
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            create("cut off after acting")
        throttled = create("refused")
        issues = list(jira.issues.values())

    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "5" and throttled.headers["RateLimit-Reason"] == "jira-burst-based"
    assert [issue.summary for issue in issues] == ["lost after acting", "cut off after acting"]


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ({"project": {"key": "NOPE"}, "issuetype": {"id": "10001"}, "summary": "s"}, "project"),
        ({"project": {"key": "OPS"}, "issuetype": {"id": "99"}, "summary": "s"}, "issuetype"),
        ({"project": {"key": "OPS"}, "issuetype": {"id": "10001"}, "summary": " "}, "summary"),
        ({"project": {"id": "10000"}, "issuetype": {"id": "10001"}, "summary": "s", "priority": {"name": "P1"}},
         "priority"),
        ({"project": {"key": "OPS"}, "issuetype": {"id": "10001"}, "summary": "s", "customfield_1": "x"},
         "customfield_1"),
    ],
    ids=["unknown-project", "unknown-issue-type", "blank-summary", "unknown-priority", "field-not-on-screen"],
)  # fmt: skip
def test_the_stand_in_refuses_a_create_jira_would_refuse(fields: dict[str, object], refused: str) -> None:
    with LocalJira() as jira:
        answer = requests.post(
            f"{jira.url}/rest/api/3/issue", json={"fields": fields}, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=5
        )

    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == [refused]


@pytest.mark.parametrize(
    ("auth", "login_reason"),
    [(None, None), ((DEFAULT_EMAIL, "wrong"), "AUTHENTICATED_FAILED"), (("someone@example.com", DEFAULT_TOKEN),
     "AUTHENTICATED_FAILED")],
    ids=["no-login", "wrong-token", "wrong-email"],
)  # fmt: skip
def test_the_stand_in_accepts_only_the_login_it_was_started_with(
    auth: tuple[str, str] | None, login_reason: str | None
) -> None:
    with LocalJira() as jira:
        answer = requests.get(f"{jira.url}/rest/api/3/project/OPS", auth=auth, timeout=5)
        tenant = requests.get(f"{jira.url}/_edge/tenant_info", timeout=5)  # public, as on a real site

    assert answer.status_code == 401
    assert answer.headers.get("X-Seraph-LoginReason") == login_reason
    assert tenant.status_code == 200 and tenant.json()["cloudId"]
