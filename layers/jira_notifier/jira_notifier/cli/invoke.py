"""``jira-notifier invoke (EVENT_FILE | --sample NAME) [--local] [--dry-run]``: run a real handler in-process.

It prints the outcome first (the issues the embedded AWS recorded, what was parked, the handler's counts), then,
with ``--show-requests``, each Jira request a dry run answered in-process. It exits 1 when the handler parked an
alert or handed records back for another delivery, as Lambda would count a failure.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jira_notifier.cli.exits import DONE, FAILED
from jira_notifier.cli.options import add_json_option
from jira_notifier.cli.output import print_json
from jira_notifier.core.errors import ConfigError
from jira_notifier.sources import FUNCTIONS as EVENT_FUNCTIONS

if TYPE_CHECKING:
    from jira_notifier.adapters.aws.deadletters import Parked
    from jira_notifier.cli.embedded import RecordedRequest

# The functions' names on the command line and in dead-letter records (the keys of ``entry.handlers.HANDLERS``).
FUNCTIONS = tuple(EVENT_FUNCTIONS)


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run the real Lambda handler in-process on an event: a file, or a sample by name ('jira-notifier events "
        "list'). With --local it needs no AWS account: an embedded AWS (the [local] extra) holds the tables, a demo "
        "secret and a demo provider. Without JIRA_SERVER_URL, JIRA_EMAIL, JIRA_API_TOKEN and JIRA_PROJECT set (or "
        "with --dry-run) it is a dry run: a stand-in Jira answers in-process and nothing is sent. It prints the "
        "outcome; exit code 1 when an alert was parked or a record is handed back for another delivery."
    )
    event = parser.add_mutually_exclusive_group(required=True)
    event.add_argument("event_file", metavar="EVENT_FILE", type=Path, nargs="?", help="a JSON event, e.g. from events/")
    event.add_argument("--sample", metavar="NAME", help="a sample event by name, e.g. sns_cloudwatch_alarm")
    parser.add_argument("--local", action="store_true", help="use an embedded AWS (moto): no account needed")
    parser.add_argument("--dry-run", action="store_true", help="answer Jira requests in-process; send none")
    parser.add_argument("--show-requests", action="store_true", help="print each Jira request of a dry run too")
    parser.add_argument("--function", choices=sorted(FUNCTIONS), help="handler to run (default: from the event)")
    parser.add_argument("--verbose", action="store_true", help="show the handler's structured logs (on stderr)")
    add_json_option(parser, "print the outcome as JSON (with --show-requests, the dry run's requests too)")
    parser.set_defaults(run=run)


@dataclass(frozen=True, slots=True)
class Invocation:
    """What one run of a handler did."""

    function: str
    result: Any  # the handler's answer: counts per action, or SQS's batchItemFailures
    issues: Sequence[Mapping[str, str | None]]  # with --local: every issue the state table holds
    parked: Sequence[Parked]
    requests: Sequence[RecordedRequest] | None  # a dry run's Jira requests; None when they were sent

    @property
    def failed(self) -> bool:
        """Parked, or handed back for another delivery: what Lambda would not count as done."""
        counts = self.result if isinstance(self.result, Mapping) else {}
        return bool(self.parked or counts.get("parked") or counts.get("retry") or counts.get("batchItemFailures"))

    def to_dict(self, *, with_requests: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "function": self.function,
            "ok": not self.failed,
            "dryRun": self.requests is not None,
            "result": self.result,
            "issues": list(self.issues),
            "parked": [
                {"reason": p.reason, "error": p.error, "provider": p.provider, "title": p.title} for p in self.parked
            ],
        }
        if with_requests and self.requests is not None:
            data["requests"] = [{"method": r.method, "url": r.url, "body": r.body} for r in self.requests]
        return data


def run(args: argparse.Namespace) -> int:
    from jira_notifier.cli.embedded import embedded_aws, real_jira_settings
    from jira_notifier.cli.environment import functions_environment
    from jira_notifier.cli.samples import sample

    event = sample(args.sample).event if args.sample else load_event(args.event_file)
    function = args.function or function_for(event)
    dry_run = args.dry_run or (args.local and real_jira_settings(os.environ) is None)
    if args.verbose:
        from jira_notifier.adapters.observability import logger

        logger.setLevel("DEBUG")  # for this command: the CLI sets the level back after it
    # For this command only: metrics off unless the shell asks for them (the setting must not outlive the command).
    quiet = {"POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true")}
    parked: list[Parked] = []
    local = embedded_aws(os.environ, dry_run=dry_run) if args.local else nullcontext()
    with functions_environment(quiet), local, jira_mode(dry_run) as sent, reporting_parks(parked.append):
        result = load_handler(function)(event, LocalContext(function))
        issues = _issues() if args.local else []
    invocation = Invocation(function, result, issues, parked, sent if dry_run else None)
    if args.json:
        print_json(invocation.to_dict(with_requests=args.show_requests))
    else:
        print(render(invocation, show_requests=args.show_requests))
    return FAILED if invocation.failed else DONE


def render(invocation: Invocation, *, show_requests: bool) -> str:
    """The outcome first (issues, what was parked, the handler's counts); then a dry run's requests, if asked."""
    lines = [f"issue {i['key']} ({i['status']}) for {i['dedupeKey']}" for i in invocation.issues]
    lines += [f"parked ({p.reason}): {p.title or '-'}: {p.error}" for p in invocation.parked]
    lines.append(f"{invocation.function}: {_counts(invocation.result)}")
    if invocation.requests is not None:
        count = len(invocation.requests)
        lines.append(
            f"dry run: {count} Jira request(s) answered in-process by a stand-in Jira, none sent"
            + ("" if show_requests else "; --show-requests prints them")
        )
        if show_requests:
            lines.append(_requests(invocation.requests))
    return "\n".join(lines)


def _counts(result: Any) -> str:
    if isinstance(result, Mapping) and "batchItemFailures" in result:
        failures = [str(f.get("itemIdentifier")) for f in result["batchItemFailures"]]
        return f"{len(failures)} record(s) handed back: {', '.join(failures)}" if failures else "every record handled"
    counts = result if isinstance(result, Mapping) else {}
    return ", ".join(f"{action} {count}" for action, count in sorted(counts.items())) or "nothing to do"


def _requests(sent: Sequence[RecordedRequest]) -> str:
    parts = ["\nJira requests (Authorization: Basic <email:token>, not shown):"]
    for number, request in enumerate(sent, 1):
        parts.append(f"\n[{number}] {request.method} {request.url}")
        if request.body is not None:
            parts.append(json.dumps(request.body, indent=2, ensure_ascii=False))
    return "\n".join(parts)


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
def jira_mode(dry_run: bool) -> Iterator[list[RecordedRequest]]:
    """In a dry run, route Jira calls to the recording adapter; always start from fresh adapters."""
    import requests

    from jira_notifier.cli.embedded import DryRunAdapter
    from jira_notifier.entry import wiring

    sent: list[RecordedRequest] = []

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


@contextmanager
def reporting_parks(report: Callable[[Parked], None]) -> Iterator[None]:
    """Tell ``report`` of each alert the handler parks while the block runs."""
    from jira_notifier.entry import wiring

    wiring.report_parks(report)
    try:
        yield
    finally:
        wiring.report_parks(None)


def _issues() -> list[dict[str, str | None]]:
    """Every issue the (embedded) state table holds: key, status and the alert's dedupe key."""
    import boto3

    items = boto3.client("dynamodb").scan(TableName=os.environ["STATE_TABLE"]).get("Items", [])
    return [
        {
            "key": item["issueKey"]["S"],
            "status": item.get("issueStatus", {}).get("S"),
            "dedupeKey": item.get("dedupeKey", {}).get("S"),
        }
        for item in items
        if "issueKey" in item
    ]
