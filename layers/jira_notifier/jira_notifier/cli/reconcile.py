"""``jira-notifier reconcile [GROUP] [--dry-run] [--json]``: the scheduled run, now, from this machine.

It runs the functions' own steps (``jira_notifier.app.reconcile``) in this process against the stack's tables (or the
environment's, e.g. ``jira-notifier local aws``), with this machine's credentials: open issues are checked against
their alarms, findings and Health events, and those whose source says the alert is over are resolved through the
same lease and lifecycle as the event path. ``--dry-run`` reads the sources and says what it would do; it writes
nothing to Jira or the state table.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TextIO

from jira_notifier.cli import aws
from jira_notifier.cli.dlq import functions_env
from jira_notifier.cli.environment import functions_environment
from jira_notifier.cli.exits import UsageError
from jira_notifier.cli.options import add_json_option
from jira_notifier.cli.output import print_json, table

# A lease taken by this process is held at most this long (the event path waits, then retries, behind it), and
# a command run from a terminal is never cut short.
LEASE_SECONDS = 60.0
COLUMNS = ("SOURCE", "LINKS", "CHECKED", "STILL ACTIVE", "CLEARED", "GONE", "UNCHECKED", "RESOLVED", "FAILED")


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run the scheduled reconcile now: every open issue's alarm, Security Hub or GuardDuty finding or AWS Health "
        "event is read from its source, and an issue whose source says the alert is over (its clear never arrived, "
        "or the alarm was deleted) is resolved with a comment saying so. Cost anomalies, budgets, Notifications and "
        "generic alerts have no state to ask and are left alone."
    )
    parser.add_argument("group", nargs="?", metavar="GROUP", help="only the providers of this notification group")
    parser.add_argument("--dry-run", action="store_true", help="say what would be done; change nothing")
    add_json_option(parser, "print the run's summary as JSON")
    parser.add_argument(
        "--local",
        action="store_true",
        help="use an embedded AWS (moto) with the demo provider, as 'invoke --local' does (a dry run unless "
        "JIRA_SERVER_URL, JIRA_EMAIL, JIRA_API_TOKEN and JIRA_PROJECT are set)",
    )
    parser.add_argument(
        "--event",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="with --local: an event file run through its handler first, to give the run something to check "
        "(repeatable)",
    )
    aws.add_stack_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.event and not args.local:
        raise UsageError("--event needs --local: against a real stack, the alerts are already in its state table")
    if args.local and args.stack:
        raise UsageError("--local runs on the embedded AWS, which has no stack: leave out --stack or --local")
    with _where(args) as dry_run:
        session = aws.session()
        with aws.aws_errors("read this account's id"):
            account = session.client("sts").get_caller_identity()["Account"]
        summary = _run(args.group, dry_run, account, session.region_name, session)
    if args.json:
        print_json(summary.to_dict())
    else:
        print(render(summary))
    failed = sum(step.count(action="failed") for step in summary.steps)
    return 1 if failed else 0


@contextmanager
def _where(args: argparse.Namespace) -> Iterator[bool]:
    """The AWS and Jira the run works on; yields whether it is a dry run."""
    if not args.local:
        session = aws.session()
        env = functions_env(aws.resources(args.stack, os.environ, session), session.region_name)
        with functions_environment(env):
            yield args.dry_run
        return
    from jira_notifier.cli.embedded import embedded_aws, real_jira_settings
    from jira_notifier.cli.invoke import LocalContext, function_for, jira_mode, load_event, load_handler

    dry_run = args.dry_run or real_jira_settings(os.environ) is None
    quiet = {  # for this command only: the handlers' logs and metrics stay off the terminal
        name: os.environ.get(name, value)
        for name, value in (("POWERTOOLS_LOG_LEVEL", "WARNING"), ("POWERTOOLS_METRICS_DISABLED", "true"))
    }
    with (
        functions_environment(quiet),
        embedded_aws(os.environ, dry_run=dry_run),
        jira_mode(dry_run) if args.event else nullcontext(),
    ):
        for path in args.event:
            event = load_event(path)
            function = function_for(event)
            load_handler(function)(event, LocalContext(function))
        yield dry_run


def _run(group: str | None, dry_run: bool, account: str, region: str | None, session: Any) -> Any:
    from jira_notifier.adapters.observability import MetricsRecorder
    from jira_notifier.app.run import run_steps
    from jira_notifier.entry.scheduled import scheduled_steps

    steps = scheduled_steps(account, region, group=group, dry_run=dry_run, session=session)
    progress = Progress(sys.stderr)
    try:
        return run_steps(steps, lambda: LEASE_SECONDS, MetricsRecorder(), progress)
    finally:
        progress.close()


class Progress:
    """A one-line progress bar on stderr, only when it is a terminal."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._shown = bool(getattr(stream, "isatty", lambda: False)())

    def __call__(self, step: str, done: int, total: int) -> None:
        if not self._shown:
            return
        filled = self.WIDTH * done // total if total else self.WIDTH
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self._stream.write(f"\r{step} [{bar}] {done}/{total} open issues")
        self._stream.flush()

    def close(self) -> None:
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()


def render(summary: Any) -> str:
    """Per step: a table by source, the issues acted on, and the notes (what was not checked, and why)."""
    parts: list[str] = []
    for step in summary.steps:
        title = f"{step.step}{' (dry run: nothing was changed)' if step.dry_run else ''}"
        if not step.results:
            parts.append(f"{title}: no open issues")
            continue
        sources = sorted({r.source for r in step.results})
        rows = [_row(step, source) for source in sources]
        rows.append(_row(step, None))
        acted = [
            (r.issue_key or "?", r.source, r.action, r.detail)
            for r in step.results
            if r.action not in ("none", "unchecked")
        ]
        parts.append(title)
        parts.append(table(COLUMNS, rows))
        if acted:
            parts.append("\n" + table(("ISSUE", "SOURCE", "ACTION", "DETAIL"), acted))
        if step.notes:
            parts.append("\nnotes:\n" + "\n".join(f"  {note}" for note in step.notes))
    return "\n".join(parts)


def _row(step: Any, source: str | None) -> tuple[str, ...]:
    results = [r for r in step.results if source is None or r.source == source]
    resolved = sum(1 for r in results if r.action in ("resolved", "would-resolve"))
    if results and all(r.truth == "no-source" for r in results):
        return (source or "total", str(len(results)), "-", "-", "-", "-", "-", "-", "-")
    counts = [sum(1 for r in results if r.truth == truth) for truth in ("active", "cleared", "gone", "unchecked")]
    checked = counts[0] + counts[1] + counts[2]
    failed = sum(1 for r in results if r.action == "failed")
    return (source or "total", str(len(results)), str(checked), *map(str, counts), str(resolved), str(failed))
