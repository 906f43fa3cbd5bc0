"""``jira-notifier local aws|jira``: stand-ins to try the CLI without an AWS account or a Jira site.

Each runs in the foreground of a second terminal until Ctrl-C. ``local aws`` is a moto server holding the
template's tables and dead-letter queue, and prints the variables that point the CLI at it; ``local jira`` is a
stand-in Jira Cloud (``jira_standin.server``) that shows each request it receives.
"""

from __future__ import annotations

import argparse
import json
import shlex
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

from jira_notifier.cli.exits import missing_extra
from jira_notifier.cli.options import add_json_option
from jira_notifier.core.errors import ConfigError
from jira_notifier.entry.settings import DEFAULT_ALLOWED_HOSTS

HOST = "127.0.0.1"
REGION = "us-east-1"
DEAD_LETTER_QUEUE = "jira-notifier-dead-letters"
LOCAL_CREDENTIAL = "local"  # moto accepts any key; a dummy keeps real credentials out of local runs
EXAMPLE_SECRET = "jira-notifier/ops"  # noqa: S105 - a secret's name, not a value


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Stand-ins for trying jira-notifier without an AWS account or a Jira site. Run each in a second terminal; "
        "it stays in the foreground until Ctrl-C."
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    aws = actions.add_parser(
        "aws",
        help="a local AWS (moto) with the stack's tables and queue",
        description="Run a local AWS (moto) on 127.0.0.1 holding the stack's two tables and its dead-letter queue, "
        "and print the variables that point jira-notifier at it. Everything is in memory and gone when it stops.",
    )
    aws.add_argument("--port", type=int, default=4566, help="port to listen on (default 4566; 0 picks a free one)")
    _add_for_seconds(aws)
    aws.set_defaults(run=run_aws)

    jira = actions.add_parser(
        "jira",
        help="a stand-in Jira Cloud that shows the requests it receives",
        description="Run a stand-in Jira Cloud over plain HTTP on 127.0.0.1: one project, a To Do / In Progress / "
        "Done workflow (transitions Start Progress, Done, Reopen) and one resolved example issue. It accepts one "
        "login, the e-mail and API token it was started with, and prints every request it receives.",
    )
    jira.add_argument("--port", type=int, default=8081, help="port to listen on (default 8081; 0 picks a free one)")
    jira.add_argument("--project", default="OPS", metavar="KEY", help="the project's key (default OPS)")
    jira.add_argument(
        "--issue-type",
        action="append",
        metavar="NAME",
        help="an issue type of the project (repeatable; default Task and Bug)",
    )
    jira.add_argument("--email", metavar="E", help="the account's e-mail (default svc-jira@example.com)")
    jira.add_argument(
        "--token-file",
        type=Path,
        metavar="PATH",
        help="file holding the API token to accept (default: the demo token, printed at start)",
    )
    _add_for_seconds(jira)
    jira.set_defaults(run=run_jira)


def _add_for_seconds(parser: argparse.ArgumentParser) -> None:
    add_json_option(parser, "print the settings as one JSON line on stdout; the rest goes to stderr")
    parser.add_argument(
        "--for-seconds", type=float, metavar="N", help="stop by itself after N seconds (default: run until Ctrl-C)"
    )


# ---- local aws ---------------------------------------------------------------------------------------------


def run_aws(args: argparse.Namespace) -> int:
    port = _bindable_port(args.port, "local AWS")
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:  # no [local] extra: no moto, or no flask for its server
        raise missing_extra("'local aws'", error) from None

    from jira_notifier.cli.embedded import LOCAL_ENV

    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    _quiet_request_log()
    server.start()
    try:
        url = f"http://{HOST}:{port}"
        providers_table, state_table = LOCAL_ENV["PROVIDERS_TABLE"], LOCAL_ENV["STATE_TABLE"]
        queue_url = create_stack_resources(url, providers_table, state_table)
        environment = aws_environment(url, providers_table, state_table, queue_url)
        say = _talk(args.json)
        if args.json:  # one line a script reads, then the rest on stderr
            print(json.dumps({"url": url, "environment": environment}), flush=True)
        say(
            f"Local AWS (moto) at {url}: tables {providers_table} and {state_table}, queue {DEAD_LETTER_QUEUE}.\n"
            "Everything is in memory and is gone when this stops.\n\n"
            "In the terminal where you run jira-notifier, paste:\n"
        )
        say("\n".join(export_lines(environment)))
        say("\nReady. Ctrl-C to stop.")
        _wait(args.for_seconds)
    finally:
        server.stop()
    _talk(args.json)("stopped the local AWS")
    return 0


def create_stack_resources(endpoint_url: str, providers_table: str, state_table: str) -> str:
    """Create what the template would (the two tables and the dead-letter queue); returns the queue's URL."""
    import boto3

    from jira_notifier.cli.embedded import create_tables

    session = boto3.session.Session(
        aws_access_key_id=LOCAL_CREDENTIAL, aws_secret_access_key=LOCAL_CREDENTIAL, region_name=REGION
    )
    create_tables(session.client("dynamodb", endpoint_url=endpoint_url), providers_table, state_table)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    return str(sqs.create_queue(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"])


def aws_environment(endpoint_url: str, providers_table: str, state_table: str, queue_url: str) -> dict[str, str]:
    """The variables that point the CLI (and ``invoke``) at the local AWS and allow a loopback Jira."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIAL,
        "PROVIDERS_TABLE": providers_table,
        "STATE_TABLE": state_table,
        "DEAD_LETTER_QUEUE_URL": queue_url,
        "JIRA_ALLOWED_HOSTS": ",".join((*DEFAULT_ALLOWED_HOSTS, HOST, "localhost")),
    }


def export_lines(environment: dict[str, str]) -> list[str]:
    return [f"export {name}={shlex.quote(value)}" for name, value in environment.items()]


def _quiet_request_log() -> None:
    """The moto server would log every AWS call to stderr; the stand-in Jira's log is the one worth reading."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)


# ---- local jira --------------------------------------------------------------------------------------------


def run_jira(args: argparse.Namespace) -> int:
    from jira_standin.server import DEFAULT_EMAIL, DEFAULT_TOKEN, LocalJira

    token = _read_token_file(args.token_file) if args.token_file else DEFAULT_TOKEN
    email = (args.email or DEFAULT_EMAIL).strip()
    issue_types = args.issue_type or ["Task", "Bug"]
    say = _talk(args.json)
    try:
        jira = LocalJira(
            host=HOST,
            port=args.port,
            project=args.project,
            issue_types=issue_types,
            email=email,
            api_token=token,
            log=say,
        )
    except OSError as error:
        raise ConfigError(_port_in_use("stand-in Jira", args.port, error)) from None
    with jira:
        if args.json:  # one line a script reads, then the rest (each request it receives) on stderr
            settings = {"url": jira.url, "project": args.project, "issueTypes": issue_types, "email": email}
            print(json.dumps(settings), flush=True)
        say(jira_banner(jira.url, args.project, issue_types, email, args.token_file))
        _wait(args.for_seconds)
    say("stopped the stand-in Jira")
    return 0


def jira_banner(url: str, project: str, issue_types: Sequence[str], email: str, token_file: Path | None) -> str:
    """What the stand-in offers, and the ``secret put`` that stores its login."""
    from jira_standin.server import DEFAULT_TOKEN

    if token_file:
        token, pipe, redirect = f"the API token in {token_file}", "", f" < {shlex.quote(str(token_file))}"
    else:
        token, pipe, redirect = f"the API token {DEFAULT_TOKEN}", f"echo {DEFAULT_TOKEN} | ", ""
    expires = (date.today() + timedelta(days=180)).isoformat()
    return (
        f"Stand-in Jira Cloud at {url}: project {project} (with one resolved example issue, {project}-1), "
        f"issue types {', '.join(issue_types)}.\n"
        f"It accepts one login, {email} with {token}; any other gets 401. Store it with:\n"
        f"  {pipe}jira-notifier secret put {EXAMPLE_SECRET} --email {email} --server-url {url} "
        f"--expires {expires}{redirect}\n"
        "Requests it receives are shown below. Ctrl-C to stop.\n"
    )


def _read_token_file(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError(f"cannot read --token-file {path}: {error.strerror}") from None
    if not token or any(character.isspace() for character in token):
        raise ConfigError(f"--token-file {path} must hold the API token alone, on one line")
    return token


# ---- shared ------------------------------------------------------------------------------------------------


def _bindable_port(port: int, what: str) -> int:
    """The port, checked free now (the moto server would hang on a busy one); 0 picks a free port.

    Raises:
        ConfigError: the port is in use.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise ConfigError(_port_in_use(what, port, error)) from None
        return int(probe.getsockname()[1])


def _port_in_use(what: str, port: int, error: OSError) -> str:
    return f"cannot run the {what} on {HOST}:{port} ({error.strerror}): is one running already? Stop it or use --port"


def _talk(as_json: bool) -> Callable[[str], None]:
    """Where a stand-in's banner and log go: stdout for people; stderr when stdout carries its JSON."""
    stream = sys.stderr if as_json else sys.stdout
    return lambda line: print(line, file=stream, flush=True)


def _wait(seconds: float | None) -> None:
    """Block until Ctrl-C, or for ``seconds`` when given."""
    try:
        threading.Event().wait(seconds)
    except KeyboardInterrupt:
        print()
