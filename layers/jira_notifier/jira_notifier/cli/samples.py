"""``jira-notifier events list|show``: the sample events, one of every input the functions take.

They ship in the package (the wheel carries the repository's ``events/`` as ``jira_notifier/cli/sample_events``),
so ``invoke --sample NAME`` works wherever the CLI is installed; from a checkout they are read from ``events/``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from jira_notifier.cli.exits import UsageError
from jira_notifier.cli.options import add_json_option
from jira_notifier.cli.output import print_result, table
from jira_notifier.core.errors import ConfigError

PACKAGED = "sample_events"
CHECKOUT = Path(__file__).resolve().parents[4] / "events"  # layers/jira_notifier/jira_notifier/cli -> the root


@dataclass(frozen=True, slots=True)
class Sample:
    name: str  # the file's name without .json
    function: str  # the function whose envelope it has
    event: Any


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "The sample events: one of every input the functions take (SNS, EventBridge, alarm actions, SQS). "
        "Run one with 'jira-notifier invoke --sample NAME --local'."
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list", help="list the sample events", description="List the sample events and the function each is for."
    )
    add_json_option(listing)
    listing.set_defaults(run=run_list)
    show = actions.add_parser(
        "show",
        help="print a sample event",
        description="Print a sample event as JSON, e.g. to edit it: jira-notifier events show sns_budget > my.json",
    )
    show.add_argument("name", metavar="NAME", help="a name that 'events list' shows")
    show.set_defaults(run=run_show)


def run_list(args: argparse.Namespace) -> int:
    found = samples()
    print_result(
        args.json,
        [{"name": sample.name, "function": sample.function} for sample in found],
        table(("NAME", "FUNCTION"), [(sample.name, sample.function) for sample in found]),
    )
    return 0


def run_show(args: argparse.Namespace) -> int:
    print(json.dumps(sample(args.name).event, indent=2, ensure_ascii=False))
    return 0


def sample(name: str) -> Sample:
    """Raises: UsageError naming the samples there are, when there is none of that name."""
    found = {s.name: s for s in samples()}
    chosen = found.get(name.removesuffix(".json"))
    if chosen is None:
        raise UsageError(f"no sample event {name!r}; 'jira-notifier events list' shows them: {', '.join(found)}")
    return chosen


def samples() -> list[Sample]:
    """Every sample, by name: the JSON files of the samples' folder that a function takes (not env.json).

    Raises:
        ConfigError: the installation carries no samples.
    """
    from jira_notifier.sources import function_for

    found = []
    for entry in sorted(_folder().iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".json"):
            continue
        event = json.loads(entry.read_text(encoding="utf-8"))
        function = function_for(event)
        if function is not None:
            found.append(Sample(entry.name.removesuffix(".json"), function, event))
    return found


def _folder() -> Traversable:
    packaged = resources.files("jira_notifier.cli").joinpath(PACKAGED)
    if packaged.is_dir():
        return packaged
    if CHECKOUT.is_dir():
        return CHECKOUT
    raise ConfigError("this installation carries no sample events; reinstall jira-notifier from its wheel")
