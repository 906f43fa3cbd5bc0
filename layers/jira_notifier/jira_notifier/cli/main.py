"""``jira-notifier``: set up secrets, providers and routes, check them against Jira, and run handlers locally."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from jira_notifier.cli import account, dlq, invoke, local, provider, reconcile, route, secret, state, talkback
from jira_notifier.core.errors import JiraNotifierError

COMMAND_MODULES = (secret, provider, route, account, invoke, dlq, reconcile, state, talkback, local)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jira-notifier",
        description="Turn AWS alerts into Jira Cloud issues: configure, check and run jira-notifier.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except JiraNotifierError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
