"""``jira-notifier``: set up secrets, providers and routes, check them against Jira, and run handlers locally.

The parser is built from ``COMMANDS``, a table of names and one-line helps: only the module of the command being
run (or whose ``--help`` is asked for) is imported, so ``jira-notifier --help`` loads neither boto3 nor Powertools.
Every command keeps to the exit codes of ``jira_notifier.cli.exits``; its results go to stdout, its logs, warnings
and errors to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any, NamedTuple, TextIO, cast

from jira_notifier.cli.exits import DONE, FAILED, INTERRUPTED, USAGE, UsageError
from jira_notifier.core.errors import JiraNotifierError

PROG = "jira-notifier"
DISTRIBUTION = "jira-notifier"


class Command(NamedTuple):  # not a dataclass: importing dataclasses would cost --help a fifth of its time
    """One top-level command: ``module.register(parser)`` adds its arguments and sets ``run``."""

    name: str
    help: str
    module: str
    register: str = "register"

    def load(self, parser: argparse.ArgumentParser) -> None:
        getattr(importlib.import_module(self.module), self.register)(parser)


COMMANDS = (
    Command("secret", "store Jira Token secrets", "jira_notifier.cli.secret"),
    Command("provider", "add, list, remove and test Jira providers", "jira_notifier.cli.provider"),
    Command("route", "route accounts, SNS topics and EventBridge sources to groups", "jira_notifier.cli.route"),
    Command("account", "name AWS accounts for new issues", "jira_notifier.cli.account"),
    Command("invoke", "run a handler in-process on an event", "jira_notifier.cli.invoke"),
    Command("events", "list and show the sample events", "jira_notifier.cli.samples"),
    Command("dlq", "list and replay the dead-letter queue", "jira_notifier.cli.dlq"),
    Command(
        "reconcile",
        "check open issues against their alerts' sources and resolve what has cleared",
        "jira_notifier.cli.reconcile",
    ),
    Command("state", "recover the state table from Jira", "jira_notifier.cli.state"),
    Command(
        "readback",
        "record what people did in Jira to jira-notifier's issues",
        "jira_notifier.cli.talkback",
        "register_readback",
    ),
    Command(
        "webhook",
        "have Jira tell jira-notifier at once what people do (admin webhook)",
        "jira_notifier.cli.talkback",
        "register_webhook",
    ),
    Command("local", "run a local AWS or a stand-in Jira to try jira-notifier", "jira_notifier.cli.local"),
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser: every command by name and help; the arguments of the one ``argv`` names (all, when None)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Turn AWS alerts into Jira Cloud issues: configure, check and run jira-notifier.",
        epilog="Exit codes: 0 done, 1 failed or parked, 2 usage. 'jira-notifier COMMAND --help' shows a command.",
    )
    parser.add_argument("--version", action=_Version, help="show the installed version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _command_named(argv)
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        if argv is None or command.name == chosen:
            command.load(sub)
    return parser


def _command_named(argv: Sequence[str] | None) -> str | None:
    """The command ``argv`` names: its first word that is not an option (the top level has no valued option)."""
    return next((word for word in argv or () if not word.startswith("-")), None)


class _Version(argparse.Action):
    """``--version``: read from the installed distribution only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:  # noqa: A002
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(f"{PROG} {installed_version()}")
        parser.exit()


def installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    with _stdout_for_a_reader_that_may_leave():
        args = build_parser(words).parse_args(words)  # exits 2 on a command line it refuses, 0 on --help
        try:
            with _logs_on_stderr():
                return int(args.run(args) or DONE)
        except UsageError as error:
            print(f"error: {error}", file=sys.stderr)
            return USAGE
        except JiraNotifierError as error:
            print(f"error: {error}", file=sys.stderr)
            return FAILED
        except KeyboardInterrupt:
            return INTERRUPTED


@contextmanager
def _logs_on_stderr() -> Iterator[None]:
    """The handlers' structured logs go to stderr while the command runs (stdout is for its results), at WARNING
    unless POWERTOOLS_LOG_LEVEL says otherwise; both are set back after, for whoever runs the next command."""
    from jira_notifier.adapters.observability import log_to, logger

    level = logger.log_level
    logger.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL") or "WARNING")
    previous = log_to(_Current("stderr"))
    try:
        yield
    finally:
        if previous is None or isinstance(previous, _LeavingReader):  # made during this command: on its stdout
            previous = _Current("stdout")
        log_to(previous)
        logger.setLevel(level)


class _Current:
    """Whatever ``sys.stdout`` or ``sys.stderr`` is at each write (a test's capture, a redirected stream)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def write(self, text: str) -> int:
        return int(getattr(sys, self._name).write(text))

    def flush(self) -> None:
        getattr(sys, self._name).flush()


@contextmanager
def _stdout_for_a_reader_that_may_leave() -> Iterator[None]:
    """A reader that stops reading (``jira-notifier reconcile --json | head``) ends the output, not the command:
    what is left to print is dropped, the command finishes and its exit code stands. No traceback."""
    guarded = _LeavingReader(sys.stdout)
    sys.stdout = cast(TextIO, guarded)
    try:
        yield
    finally:
        guarded.flush()
        sys.stdout = guarded.stream


class _LeavingReader:
    """stdout, until its reader leaves; then nothing."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.left = False

    def write(self, text: str) -> int:
        if not self.left:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._reader_left()
        return len(text)

    def flush(self) -> None:
        if not self.left:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._reader_left()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def _reader_left(self) -> None:
        self.left = True
        _point_at_devnull(self.stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _point_at_devnull(stream: IO[str]) -> None:
    """The interpreter flushes stdout once more at exit: let that flush find /dev/null, not the closed pipe."""
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError):  # not a file (a test's capture): nothing is flushed at exit
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, descriptor)
    finally:
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
