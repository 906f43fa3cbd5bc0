"""Options the commands share. A value argparse refuses ends the command with exit 2 and the reason."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from jira_notifier.core.errors import ConfigError
from jira_notifier.core.units import parse_duration


def duration(option: str) -> Callable[[str], int]:
    """An argparse type for ``option``: a duration with its unit (``5m``, ``300s``, ``24h``, ``7d``) as seconds, by
    the package's one rule (``config.parse_duration``); a bare number is refused with the units to choose from."""

    def seconds(value: str) -> int:
        try:
            parsed = parse_duration(value, what=option)
        except ConfigError as error:
            raise argparse.ArgumentTypeError(str(error).removeprefix(f"{option} ")) from None
        if parsed is None:
            raise argparse.ArgumentTypeError("give a duration, e.g. 30m, 24h or 7d")
        return parsed

    seconds.__name__ = "duration"  # argparse names the type in its messages
    return seconds


def add_json_option(parser: argparse.ArgumentParser, help: str = "print the result as JSON") -> None:  # noqa: A002
    parser.add_argument("--json", action="store_true", help=help)
