"""``jira-notifier state rebuild GROUP NAME``: restore a provider's state table entries from Jira's labels."""

from __future__ import annotations

import argparse
import os

from jira_notifier.cli import aws
from jira_notifier.cli.output import print_json
from jira_notifier.cli.provider import load_provider, read_secret


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "The state table links each alert to its issue. If it was lost, rebuild it from the issues jira-notifier "
        "created (they carry their alert's jn-<hash> label), so the next alert comments on its issue instead of "
        "opening a duplicate. Entries that still exist are left as they are."
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    rebuild = actions.add_parser(
        "rebuild",
        help="restore a provider's entries from its project's issues",
        description="Search the provider's project for the issues jira-notifier created (label jira-notifier), and "
        "write a state entry for each alert whose jn-<hash> label has none: the open issue wins over a resolved "
        "one, else the newest. Entries that exist are left as they are, so it is safe to run again.",
    )
    rebuild.add_argument("group", metavar="GROUP")
    rebuild.add_argument("name", metavar="NAME")
    rebuild.add_argument("--json", action="store_true", help="print the counts as JSON")
    aws.add_stack_option(rebuild)
    rebuild.set_defaults(run=run_rebuild)


def run_rebuild(args: argparse.Namespace) -> int:
    from jira_notifier.adapters.dynamodb.state import StateStore
    from jira_notifier.adapters.jira.client import JiraClient
    from jira_notifier.cli.recovery import rebuild_state

    session = aws.session()
    found = aws.resources(args.stack, os.environ, session)
    provider = load_provider(session.client("dynamodb"), found.require_providers_table(), args.group, args.name)
    secret = read_secret(session, provider.secret, found.allowed_hosts)
    store = StateStore(session.client("dynamodb"), found.require_state_table())
    report = rebuild_state(JiraClient.connect(secret), store, provider)
    if args.json:
        print_json(
            {
                "provider": provider.provider_id,
                "issuesSeen": report.issues_seen,
                "restored": report.restored,
                "alreadyKnown": report.already_known,
            }
        )
    else:
        print(
            f"{provider.provider_id}: {report.issues_seen} issue(s) in {provider.project} carry jira-notifier labels; "
            f"restored {report.restored} alert(s), {report.already_known} already known"
        )
    return 0
