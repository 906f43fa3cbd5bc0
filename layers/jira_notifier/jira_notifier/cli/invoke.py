"""``jira-notifier invoke EVENT_FILE [--local] [--dry-run]``: run a real handler in-process on an event file."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jira_notifier.core.errors import ConfigError
from jira_notifier.sources import FUNCTIONS as EVENT_FUNCTIONS

# The functions' names on the command line and in dead-letter records (the keys of ``entry.handlers.HANDLERS``).
FUNCTIONS = tuple(EVENT_FUNCTIONS)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "invoke",
        help="run a handler in-process on an event file",
        description="Run the real Lambda handler in-process on an event file (e.g. one from events/). "
        "With --local it needs no AWS account: an embedded AWS holds the tables, a demo secret and a demo "
        "provider. Without JIRA_SERVER_URL, JIRA_EMAIL, JIRA_API_TOKEN and JIRA_PROJECT set (or with "
        "--dry-run) it prints the Jira requests it would send instead of sending them.",
    )
    parser.add_argument("event_file", metavar="EVENT_FILE", type=Path)
    parser.add_argument("--local", action="store_true", help="use an embedded AWS (moto): no account needed")
    parser.add_argument("--dry-run", action="store_true", help="print the Jira requests instead of sending them")
    parser.add_argument("--function", choices=sorted(FUNCTIONS), help="handler to run (default: from the event)")
    parser.add_argument("--verbose", action="store_true", help="show the handler's structured logs")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    event = load_event(args.event_file)
    function = args.function or function_for(event)
    from jira_notifier.cli.embedded import embedded_aws, real_jira_settings

    dry_run = args.dry_run or (args.local and real_jira_settings(os.environ) is None)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "DEBUG" if args.verbose else "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    local = embedded_aws(os.environ, dry_run=dry_run) if args.local else nullcontext()
    with local, jira_mode(dry_run) as sent:
        result = load_handler(function)(event, LocalContext(function))
        _print_requests(sent, dry_run)
        print(json.dumps({"function": function, "result": result}, indent=2))
        if args.local:
            _print_issues()
    return 0


def function_for(event: Any) -> str:
    """Which function Lambda would call with this event, from its envelope, as the functions read it.

    Raises:
        ConfigError: the event has no function's envelope; pass --function.
    """
    from jira_notifier.sources import function_for as envelope_function

    function = envelope_function(event)
    if function is None:
        raise ConfigError("cannot tell which function this event is for; pass --function sns|eventbridge|...")
    return function


@dataclass
class LocalContext:
    """The parts of the Lambda context the handlers use."""

    function: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = "local-invoke"

    @property
    def function_name(self) -> str:
        return f"jira-notifier-{self.function}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def load_event(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"{path} is not JSON: {exc}") from None


def load_handler(function: str) -> Callable[[Any, Any], Any]:
    """The Lambda handler of ``function``, from the installed package: the one its ``functions/*/handler.py`` names."""
    from jira_notifier.entry.handlers import HANDLERS

    return HANDLERS[function]


@contextmanager
def jira_mode(dry_run: bool) -> Iterator[list[Any]]:
    """In a dry run, route Jira calls to the recording adapter; always start from fresh adapters."""
    import requests

    from jira_notifier.cli.embedded import DryRunAdapter
    from jira_notifier.entry import wiring

    sent: list[Any] = []

    def dry_session() -> requests.Session:
        session = requests.Session()
        adapter = DryRunAdapter(sent.append, os.environ.get("JIRA_ISSUE_TYPE", "Task"))
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    wiring.reset()
    wiring.use_jira_session(dry_session if dry_run else None)
    try:
        yield sent
    finally:
        wiring.use_jira_session(None)
        wiring.reset()


def _print_requests(sent: list[Any], dry_run: bool) -> None:
    if not dry_run:
        return
    print(f"Dry run: {len(sent)} Jira request(s) that would be sent (Authorization: Basic <email:token>, not shown)")
    for number, request in enumerate(sent, 1):
        print(f"\n[{number}] {request.method} {request.url}")
        if request.body is not None:
            print(json.dumps(request.body, indent=2, ensure_ascii=False))
    print()


def _print_issues() -> None:
    import boto3

    table = os.environ["STATE_TABLE"]
    items = boto3.client("dynamodb").scan(TableName=table).get("Items", [])
    for item in items:
        key = item.get("issueKey", {}).get("S")
        if key:
            status = item.get("issueStatus", {}).get("S")
            print(f"issue {key} ({status}) for {item.get('dedupeKey', {}).get('S')}", file=sys.stdout)
