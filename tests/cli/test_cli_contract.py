"""What every command keeps to: a description, ``--json`` for its result, one table of exit codes (0 done, 1 failed
or parked, 2 usage), results alone on stdout, a reader that stops reading, a missing extra, and a light ``--help``."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from jira_notifier.cli.main import COMMANDS, build_parser
from tests.cli.conftest import SECRET_NAME, TOKEN

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "jira_notifier"


def parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command and sub-command, with its path of names (the top level is ``()``)."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from parsers(child, (*path, name))


def leaves() -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """The commands that run (``provider add``, ``invoke``, ...), not the groups of them."""
    return {
        path: parser
        for path, parser in parsers(build_parser())
        if path and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
    }


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


# One way to make each command fail (exit 1): a missing table, provider, route, queue or stack, a busy port, a
# parked alert. A new command must say how it fails, here.
NO_TABLE = {"PROVIDERS_TABLE": "no-such-table"}
FAILURES: dict[tuple[str, ...], tuple[list[str], dict[str, str]]] = {
    ("secret", "put"): ([SECRET_NAME, "--email", "bot@example.com", "--server-url", "https://jira.example.com"], {}),
    ("provider", "add"): (["ops", "jira", "--project", "OPS", "--issue-type", "Task", "--secret", SECRET_NAME], {}),
    ("provider", "list"): ([], NO_TABLE),
    ("provider", "remove"): (["ops", "nobody"], {}),
    ("provider", "test"): (["ops", "nobody"], {}),
    ("route", "add"): (["--source", "my.app", "ops"], NO_TABLE),
    ("route", "list"): ([], NO_TABLE),
    ("route", "remove"): (["--source", "my.app"], {}),
    ("account", "name"): (["111122223333", "Payments"], NO_TABLE),
    ("account", "list"): ([], NO_TABLE),
    ("account", "forget"): (["111122223333"], {}),
    ("invoke",): (["--sample", "sns_notification", "--local"], {}),  # parked: its group has no provider
    ("events", "list"): ([], {}),  # with no samples installed (below)
    ("events", "show"): (["sns_budget"], {}),
    ("dlq", "list"): ([], {"DEAD_LETTER_QUEUE_URL": ""}),
    ("dlq", "replay"): ([], {"DEAD_LETTER_QUEUE_URL": ""}),
    ("reconcile",): (["--stack", "gone"], {}),
    ("state", "rebuild"): (["ops", "nobody"], {}),
    ("readback",): (["nobody"], {}),
    ("webhook", "setup"): ([], {}),
    ("local", "aws"): (["--for-seconds", "0"], {}),  # on a busy port
    ("local", "jira"): (["--for-seconds", "0"], {}),
}
NO_JSON = {("events", "show")}  # prints a sample event, which is JSON already


def test_every_command_has_a_description_and_the_top_level_lists_them_all() -> None:
    for path, parser in parsers(build_parser()):
        assert parser.description, f"'jira-notifier {' '.join(path)}' has no description"
    assert sorted({path[0] for path in leaves()}) == sorted(command.name for command in COMMANDS)


def test_every_command_that_prints_a_result_takes_json() -> None:
    missing = [
        " ".join(path)
        for path, parser in leaves().items()
        if path not in NO_JSON and "--json" not in parser._option_string_actions
    ]
    assert missing == []


def test_every_command_says_how_it_fails() -> None:
    assert set(FAILURES) == set(leaves())


@pytest.mark.parametrize("path", sorted(FAILURES), ids=" ".join)
def test_every_command_keeps_to_the_exit_codes(
    path: tuple[str, ...], cli: Any, stack: Any, busy_port: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    argv, env = FAILURES[path]
    if path[0] == "local":
        argv = [*argv, "--port", str(busy_port)]
    # 0: its help
    assert cli(*path, "--help").code == 0
    # 2: a command line it cannot run, whatever else is wrong
    refused = cli(*path, *argv, "--no-such-option")
    assert refused.code == 2 and "unrecognized arguments: --no-such-option" in refused.err
    # 1: it ran and failed (no traceback: one line saying what to fix)
    stack.add_client_error("describe_stacks", "ValidationError", "Stack with id gone does not exist")
    monkeypatch.setattr("jira_notifier.cli.samples.CHECKOUT", tmp_path / "no-samples")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    failed = cli(*path, *argv, stdin=TOKEN)
    assert failed.code == 1, failed.err
    assert "Traceback" not in failed.err and TOKEN not in failed.out + failed.err


def test_a_usage_error_found_after_parsing_exits_2_too(cli: Any, cloud: Any) -> None:
    result = cli("route", "add", "--account", "1234", "ops")

    assert result.code == 2 and result.err == (
        "error: --account '1234' is not an AWS account id; expected 12 digits, e.g. 111122223333\n"
    )


def test_version_names_the_installed_distribution(cli: Any) -> None:
    result = cli("--version")

    assert result.code == 0 and result.out == f"jira-notifier {version('jira-notifier')}\n"


def test_logs_go_to_stderr_so_that_stdout_is_the_result_alone(cli: Any) -> None:
    # An alert that is parked logs a warning (structured, Powertools) while the command prints its JSON
    result = cli("invoke", "--sample", "sns_notification", "--local", "--json")

    assert result.code == 1
    assert json.loads(result.out)["parked"][0]["reason"] == "unroutable"  # stdout is one JSON document
    logged = [json.loads(line) for line in result.err.splitlines() if line.startswith("{")]
    assert any({"message": "alert handled", "action": "parked"}.items() <= line.items() for line in logged)


def test_the_functions_still_log_to_stdout(tmp_path: Path) -> None:
    # Lambda sends a function's stdout to CloudWatch Logs: only the CLI moves the logs
    code = "from jira_notifier.adapters.observability import logger; logger.warning('for cloudwatch')"
    done = _python(code, tmp_path)

    assert json.loads(done.stdout)["message"] == "for cloudwatch" and done.stderr == ""


def test_local_without_the_local_extra_says_what_to_install(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an installation without moto (pip install jira-notifier, no [local])
    monkeypatch.setitem(sys.modules, "moto", None)
    monkeypatch.setitem(sys.modules, "moto.server", None)

    for argv in (["invoke", "--sample", "sns_cloudwatch_alarm", "--local"], ["reconcile", "--local"], ["local", "aws"]):
        result = cli(*argv)
        # Then one line says what to install, and it is a usage error: nothing was read or changed
        assert result.code == 2, argv
        assert result.err.count("\n") == 1 and "Traceback" not in result.err
        assert "needs the embedded AWS, which this installation lacks (no module 'moto" in result.err
        assert "pipx install --force 'jira-notifier[local]'" in result.err


def test_a_reader_that_stops_reading_ends_the_output_quietly(tmp_path: Path) -> None:
    # Given a reader that has gone before the command writes (as `| head` does once it has its lines), and more
    # output than a pipe's buffer holds (the dry run's requests)
    alarm = str(ROOT / "events" / "sns_cloudwatch_alarm.json")
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "jira_notifier.cli.main", "invoke", alarm, "--local", "--show-requests"],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()

    # Then the command ends with its own exit code, and says nothing of the closed pipe
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0
    assert err == ""


@pytest.mark.parametrize(
    ("argv", "loaded"),
    [
        (["--help"], []),
        (["--version"], []),
        (["provider", "--help"], ["jira_notifier.cli.aws", "jira_notifier.cli.provider"]),
    ],
    ids=["help", "version", "one-command-help"],
)
def test_help_loads_only_the_command_it_shows(argv: list[str], loaded: list[str], tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from jira_notifier.cli.main import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('boto3', 'botocore', 'aws_lambda_powertools', 'moto', 'requests')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy), file=sys.stderr)\n"
        "print(sorted(m for m in sys.modules if m.startswith('jira_notifier.cli.')), file=sys.stderr)\n"
    )
    heavy, commands = (json.loads(line.replace("'", '"')) for line in _python(code, tmp_path).stderr.splitlines())

    assert set(commands) - {"jira_notifier.cli.main", "jira_notifier.cli.exits"} <= {
        *loaded,
        "jira_notifier.cli.exits",
        "jira_notifier.cli.jira_admin",
        "jira_notifier.cli.options",
        "jira_notifier.cli.output",
        "jira_notifier.cli.preflight",
        "jira_notifier.cli.secret",
    }
    assert set(loaded) <= set(commands)
    if not loaded:  # the top level alone: no AWS SDK, no Powertools
        assert heavy == [] and set(commands) == {"jira_notifier.cli.main", "jira_notifier.cli.exits"}


def test_the_wheel_carries_the_sample_events_from_their_one_copy() -> None:
    import tomllib

    from jira_notifier.cli import samples

    build = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"]["targets"]
    assert build["wheel"]["force-include"] == {"events": f"jira_notifier/cli/{samples.PACKAGED}"}
    assert samples.CHECKOUT == ROOT / "events"
    assert not (PACKAGE / "jira_notifier" / "cli" / samples.PACKAGED).exists()  # no second copy in the repository


def test_events_list_names_every_sample_and_its_function(cli: Any) -> None:
    listed = json.loads(cli("events", "list", "--json").out)

    files = sorted(p.stem for p in (ROOT / "events").glob("*.json") if p.name != "env.json")
    assert [sample["name"] for sample in listed] == files
    assert {sample["function"] for sample in listed} == {"sns", "eventbridge", "alarm-action", "sqs"}
    shown = cli("events", "show", "sns_budget")
    assert json.loads(shown.out) == json.loads((ROOT / "events" / "sns_budget.json").read_text(encoding="utf-8"))


def _env(home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "PYTHONPATH": str(PACKAGE), "NO_COLOR": "1"}


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", code], cwd=cwd, env=_env(cwd), capture_output=True, text=True, timeout=120, check=True
    )
