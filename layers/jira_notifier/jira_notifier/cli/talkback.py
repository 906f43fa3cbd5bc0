"""``jira-notifier readback [GROUP [NAME]]``: record what people did in Jira to the product's issues; and
``jira-notifier webhook setup``: the steps to have Jira tell the product at once."""

from __future__ import annotations

import argparse
import os
import time
from typing import TYPE_CHECKING

from jira_notifier.cli import aws
from jira_notifier.cli.output import print_json, table
from jira_notifier.core.errors import ConfigError

if TYPE_CHECKING:
    from boto3.session import Session

    from jira_notifier.app.readback import ReadBackReport

WEBHOOK_JQL = 'labels = "jira-notifier"'
WEBHOOK_EVENTS = ("Issue: updated", "Issue: deleted")


def register_readback(readback: argparse.ArgumentParser) -> None:
    readback.description = (
        "Read back the issues jira-notifier owns that changed since the last read-back (JQL on its label, updated "
        "since then) and record what people did: resolved (and how), reopened, deleted, moved. The lifecycle honours "
        "it: an issue a person resolved while its alert fires is not reopened until the alert clears and fires "
        "again; a won't-fix is never reopened; a deleted one is recreated only by a later firing."
    )
    readback.add_argument("group", metavar="GROUP", nargs="?", help="only this notification group's providers")
    readback.add_argument("name", metavar="NAME", nargs="?", help="only this provider of the group")
    readback.add_argument("--dry-run", action="store_true", help="show what would be recorded; change nothing")
    readback.add_argument("--json", action="store_true", help="print the result as JSON")
    aws.add_stack_option(readback)
    readback.set_defaults(run=run_readback)


def register_webhook(webhook: argparse.ArgumentParser) -> None:
    webhook.description = (
        "The stack's JiraWebhook=Enabled deploys a function URL that receives Jira admin webhooks signed with a "
        "shared secret. 'webhook setup' prints the URL and what a Jira admin enters."
    )
    actions = webhook.add_subparsers(dest="action", metavar="ACTION", required=True)
    setup = actions.add_parser(
        "setup",
        help="print the webhook URL and the steps for the Jira admin",
        description="Print the URL of the stack's webhook function and the steps a Jira administrator follows to "
        "create the webhook: the URL, the shared secret (how to read it, never its value), the events and the JQL "
        "filter. It reads the stack's outputs (--stack), or takes --url and --secret.",
    )
    setup.add_argument("--url", help="the function URL (default: the stack's JiraWebhookUrl output)")
    setup.add_argument("--secret", metavar="NAME", help="the shared secret (default: the stack's JiraWebhookSecretArn)")
    setup.add_argument("--json", action="store_true", help="print the settings as JSON")
    aws.add_stack_option(setup)
    setup.set_defaults(run=run_webhook_setup)


def run_readback(args: argparse.Namespace) -> int:
    from jira_notifier.adapters.dynamodb.owned import OwnedIssueStore
    from jira_notifier.adapters.dynamodb.providers import scan_providers
    from jira_notifier.adapters.dynamodb.state import StateStore
    from jira_notifier.adapters.jira.client import JiraClient
    from jira_notifier.app.lease import Leases
    from jira_notifier.app.readback import read_back
    from jira_notifier.cli.provider import load_provider, read_secret
    from jira_notifier.ports import NoSyncBack

    session = aws.session()
    found = aws.resources(args.stack, os.environ, session)
    dynamodb = session.client("dynamodb")
    table_name = found.require_providers_table()
    if args.group and args.name:
        providers = [load_provider(dynamodb, table_name, args.group, args.name)]
    else:
        with aws.aws_errors(f"read table {table_name}"):
            providers = [p for p in scan_providers(dynamodb, table_name) if args.group in (None, p.group)]
    if not providers:
        raise ConfigError("no providers to read back; add one with 'jira-notifier provider add GROUP NAME ...'")
    state_table = found.require_state_table()
    reports = []
    for provider in providers:
        client = JiraClient.connect(read_secret(session, provider.secret, found.allowed_hosts))
        with aws.aws_errors(f"update table {state_table}"):
            reports.append(
                read_back(
                    provider,
                    client,
                    Leases(StateStore(dynamodb, state_table), time.time),
                    OwnedIssueStore(dynamodb, state_table),
                    _NoMetrics(),
                    sync_back=NoSyncBack(),  # the stack's functions hold the sync-back grants, not the terminal
                    dry_run=args.dry_run,
                )
            )
    _print_reports(reports, as_json=args.json, dry_run=args.dry_run)
    return 0


class _NoMetrics:
    """The CLI reports on the terminal; metrics come from the functions."""

    def count(self, name: str, value: float = 1) -> None:
        return None


def _print_reports(reports: list[ReadBackReport], *, as_json: bool, dry_run: bool) -> None:
    from jira_notifier.app.readback import summary_rows

    if as_json:
        print_json(
            [
                {
                    "provider": report.provider,
                    "dryRun": dry_run,
                    "issuesRead": report.issues_read,
                    "swept": report.swept,
                    "recorded": [{"issue": done.issue_key, "changes": list(done.changes)} for done in report.recorded],
                }
                for report in reports
            ]
        )
        return
    rows = summary_rows(reports)
    if rows:
        print(table(("PROVIDER", "ISSUE", "WHAT PEOPLE DID"), rows))
    verb = "would record" if dry_run else "recorded"
    for report in reports:
        swept = "; checked open issues for deletions" if report.swept else ""
        print(
            f"{report.provider}: {report.issues_read} changed issue(s) read, {verb} {len(report.recorded)} "
            f"decision(s){swept}"
        )


def run_webhook_setup(args: argparse.Namespace) -> int:
    outputs = _stack_outputs(args.stack, aws.session()) if args.stack else {}
    url = args.url or outputs.get("JiraWebhookUrl")
    secret = args.secret or outputs.get("JiraWebhookSecretArn")
    if not url or not secret:
        where = f"stack {args.stack!r} has no JiraWebhookUrl output" if args.stack else "no --stack given"
        raise ConfigError(
            f"{where}: deploy with JiraWebhook=Enabled, or pass --url URL and --secret NAME of the shared secret"
        )
    if args.json:
        print_json({"url": url, "secret": secret, "jql": WEBHOOK_JQL, "events": list(WEBHOOK_EVENTS)})
        return 0
    print(
        "\n".join(
            [
                "Jira admin webhook for jira-notifier (needs Jira administrator rights):",
                "  1. In Jira: Settings (cog) > System > WebHooks > Create a WebHook.",
                f"  2. URL:    {url}",
                "  3. Secret: the value of the shared secret, which only you should read:",
                f"               aws secretsmanager get-secret-value --secret-id {secret} "
                "--query SecretString --output text",
                f"  4. Events: {', '.join(WEBHOOK_EVENTS)}, with the JQL filter: {WEBHOOK_JQL}",
                "  5. Leave 'Exclude body' off, and save. Jira signs each delivery with the secret "
                "(X-Hub-Signature); deliveries without a valid signature are refused with 401.",
                "The scheduled read-back keeps working without the webhook; the webhook only makes it immediate.",
                "To change the secret: put a new value in the secret, then paste it into the webhook in Jira; "
                "deliveries in between are refused and found by the next read-back.",
            ]
        )
    )
    return 0


def _stack_outputs(stack: str, session: Session) -> dict[str, str]:
    """Raises: ConfigError when the stack cannot be read."""
    with aws.aws_errors(f"read stack {stack!r}"):
        found = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o.get("OutputValue", "") for o in found.get("Outputs") or []}
