"""``jira-notifier provider add|list|remove|test``: the Jira providers of notification groups."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from jira_notifier.adapters.aws.sync_requests import STACK_PARAMETERS, Capability, capabilities_needed
from jira_notifier.adapters.dynamodb.providers import GROUP_PREFIX, PROVIDER_PREFIX, provider_item, provider_key
from jira_notifier.cli import aws
from jira_notifier.cli.exits import checking_arguments
from jira_notifier.cli.options import add_json_option, duration
from jira_notifier.cli.output import paint, print_json, print_result, table, use_colour, warn
from jira_notifier.cli.preflight import FAIL, WARN, Check, Preflight
from jira_notifier.cli.secret import outside_prefix
from jira_notifier.core.config import JiraSecret, ProviderConfig, parse_secret
from jira_notifier.core.errors import ConfigError
from jira_notifier.core.units import parse_steps

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

PREFLIGHT_TIMEOUT_SECONDS = 10.0


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = "Manage Jira providers."
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    _register_add(actions)

    listing = actions.add_parser("list", help="list providers", description="List providers, of one group or all.")
    listing.add_argument("group", metavar="GROUP", nargs="?", help="only this notification group")
    listing.add_argument("--json", action="store_true", help="print JSON")
    aws.add_stack_option(listing)
    listing.set_defaults(run=run_list)

    remove = actions.add_parser("remove", help="remove a provider", description="Remove a provider from a group.")
    remove.add_argument("group", metavar="GROUP")
    remove.add_argument("name", metavar="NAME")
    add_json_option(remove)
    aws.add_stack_option(remove)
    remove.set_defaults(run=run_remove)

    test = actions.add_parser(
        "test",
        help="check a provider against Jira",
        description="Check a provider against the real Jira: credentials, project, issue type, required fields, "
        "permissions, transitions, resolutions and token expiry. Exits 1 when a check fails.",
    )
    test.add_argument("group", metavar="GROUP")
    test.add_argument("name", metavar="NAME")
    test.add_argument("--json", action="store_true", help="print the checks as JSON")
    aws.add_stack_option(test)
    test.set_defaults(run=run_test)


def _register_add(actions: Any) -> None:
    add = actions.add_parser(
        "add",
        help="add or update a provider",
        description="Add a Jira provider to a notification group (or update it): every alert routed to the group "
        "becomes an issue in the project.",
    )
    add.add_argument("group", metavar="GROUP", help="notification group, e.g. finops")
    add.add_argument("name", metavar="NAME", help="provider name within the group, e.g. jira")
    add.add_argument("--project", required=True, metavar="KEY_OR_ID", help="Jira Project ID or Key, e.g. OPS")
    add.add_argument("--issue-type", required=True, metavar="TYPE", help="issue type name exactly as in Jira")
    add.add_argument("--secret", required=True, metavar="SECRET", help="name of the Jira Token secret")
    add.add_argument("--resolve-transition", metavar="NAME", help="transition (or its status) when the alert clears")
    add.add_argument("--resolve-resolution", metavar="NAME", help="resolution set by the resolve transition")
    add.add_argument("--reopen-transition", metavar="NAME", help="transition when a resolved alert fires again")
    add.add_argument(
        "--reopen-window",
        type=duration("--reopen-window"),
        metavar="DURATION",
        help="reopen only within this time, e.g. 24h or 7d",
    )
    add.add_argument("--wont-fix-resolution", metavar="NAME", help="issues resolved so are never reopened")
    add.add_argument(
        "--cooldown",
        type=duration("--cooldown"),
        metavar="DURATION",
        help="identical repeats are not commented within it, e.g. 30m (default 1h)",
    )
    add.add_argument("--label", action="append", default=[], metavar="L", help="extra label (repeatable)")
    add.add_argument("--component", action="append", default=[], metavar="C", help="component (repeatable)")
    add.add_argument(
        "--priority-map", action="append", default=[], metavar="SEVERITY=PRIORITY", help="e.g. critical=Highest"
    )
    add.add_argument(
        "--field", action="append", default=[], metavar="FIELD_ID=JSON", help="e.g. customfield_10010='\"prod\"'"
    )
    add.add_argument("--summary-template", metavar="T", help="e.g. '[{severity}] {title}'")
    add.add_argument(
        "--sync-back",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="tell Security Hub (workflow NOTIFIED, RESOLVED, SUPPRESSED, with a note) and Cost Anomaly Detection "
        "(feedback) what became of the issue; needs the stack's SyncBackSecurityHub / SyncBackCostAnomaly",
    )
    add.add_argument(
        "--archive-wont-fix",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="archive a GuardDuty finding whose issue is resolved as the won't-fix resolution; needs the stack's "
        "ArchiveGuardDutyFindings",
    )
    add.add_argument(
        "--no-graph", dest="graph", action="store_false", help="new metric-alarm issues get no PNG of the metric"
    )
    add.add_argument(
        "--no-log-evidence",
        dest="log_evidence",
        action="store_false",
        help="new issues of log-based alarms show no matching log events",
    )
    add.add_argument(
        "--tag-field",
        action="append",
        default=[],
        metavar="TAG=FIELD_ID",
        help="fill a field from the resources' tag, e.g. team=components or owner=customfield_10031 (repeatable)",
    )
    add.add_argument(
        "--impact-steps",
        action="append",
        default=[],
        metavar="USD:PRIORITY,...",
        help="cost anomaly, e.g. 1000:Highest",
    )
    add.add_argument(
        "--budget-steps",
        action="append",
        default=[],
        metavar="PCT:PRIORITY,...",
        help="budget threshold, e.g. 100:High",
    )
    add.add_argument(
        "--escalate-after",
        action="append",
        default=[],
        metavar="DURATION:PRIORITY,...",
        help="raise the priority of an alert firing this long, e.g. 4h:High",
    )
    add.add_argument(
        "--group-by",
        metavar="PARTS",
        help="storms as one issue: alerts sharing these parts share a parent issue, e.g. account,namespace or "
        "prefix:12 or prefix:- (alarm-name prefix of 12 characters, or up to the first '-'), or alarm (the "
        "contributors of an alarm over many time series under one parent)",
    )
    add.add_argument(
        "--group-window",
        type=duration("--group-window"),
        metavar="DURATION",
        help="with --group-by: the window of one parent, e.g. 15m (default 10m)",
    )
    add.add_argument(
        "--products",
        metavar="NAMES",
        help="security findings (Security Hub, GuardDuty) only of these products, comma-separated, e.g. "
        "guardduty,inspector (the last part of the finding's product ARN, or company/product); other alerts pass",
    )
    add_json_option(add, "print the stored provider as JSON")
    aws.add_stack_option(add)
    add.set_defaults(run=run_add)


# ---- add ---------------------------------------------------------------------------------------------------


def provider_from_args(args: argparse.Namespace) -> ProviderConfig:
    """The validated provider the options describe.

    Raises:
        ConfigError: an option is malformed or a setting is unusable (named, with the fix).
    """
    cooldown, group_window = args.cooldown, args.group_window  # seconds: argparse read them (options.duration)
    if group_window is not None and not args.group_by:
        raise ConfigError("--group-window needs --group-by")
    provider = ProviderConfig(
        group=args.group.strip(),
        name=args.name.strip(),
        project=args.project.strip(),
        issue_type=args.issue_type.strip(),
        secret=args.secret.strip(),
        resolve_transition=args.resolve_transition or None,
        resolve_resolution=args.resolve_resolution or None,
        reopen_transition=args.reopen_transition or None,
        reopen_window=args.reopen_window,
        wont_fix_resolution=args.wont_fix_resolution or None,
        labels=tuple(args.label),
        components=tuple(args.component),
        priority_map=parse_priority_map(args.priority_map),
        fields=parse_fields(args.field),
        summary_template=args.summary_template or None,
        sync_back=args.sync_back,
        archive_wont_fix=args.archive_wont_fix,
        graph=args.graph,
        log_evidence=args.log_evidence,
        tag_fields=parse_tag_fields(args.tag_field),
        impact_steps=parse_steps(args.impact_steps, what="--impact-steps"),
        budget_steps=parse_steps(args.budget_steps, what="--budget-steps"),
        escalate_after=parse_steps(args.escalate_after, what="--escalate-after", durations=True),
        group_by=tuple(part.strip() for part in (args.group_by or "").split(",") if part.strip()),
        products=tuple(
            dict.fromkeys(name.strip().lower() for name in (args.products or "").split(",") if name.strip())
        ),
    )
    if cooldown is not None:
        provider = replace(provider, cooldown=cooldown)
    if group_window is not None:
        provider = replace(provider, group_window=group_window)
    return provider.validate()


def parse_priority_map(pairs: Sequence[str]) -> dict[str, str]:
    """``["critical=Highest", ...]`` as ``{"critical": "Highest"}``.

    Raises:
        ConfigError: a pair lacks ``=`` or a side is empty.
    """
    return {
        severity.lower(): priority
        for severity, priority in _key_values(pairs, "--priority-map", "SEVERITY=PRIORITY, e.g. critical=Highest")
    }


def parse_tag_fields(pairs: Sequence[str]) -> dict[str, str]:
    """``["team=components", ...]`` as ``{"team": "components"}`` (tag key -> Jira field id).

    Raises:
        ConfigError: a pair lacks ``=`` or a side is empty.
    """
    return dict(_key_values(pairs, "--tag-field", "TAG=FIELD_ID, e.g. team=components"))


def _key_values(pairs: Sequence[str], option: str, form: str) -> list[tuple[str, str]]:
    """``KEY=VALUE`` pairs, each side stripped. Raises: ConfigError naming ``option`` and its ``form``."""
    split = [(key.strip(), value.strip()) for key, _, value in (pair.partition("=") for pair in pairs)]
    for pair, (key, value) in zip(pairs, split, strict=True):
        if not key or not value:
            raise ConfigError(f"{option} {pair!r} must be {form}")
    return split


def parse_fields(pairs: Sequence[str]) -> dict[str, Any]:
    """``["customfield_10010={\"value\": \"prod\"}", ...]`` as a dict of decoded JSON values.

    Raises:
        ConfigError: a pair lacks ``=`` or its value is not JSON.
    """
    fields: dict[str, Any] = {}
    for pair in pairs:
        field_id, _, value = pair.partition("=")
        if not field_id.strip() or not value.strip():
            raise ConfigError(f'--field {pair!r} must be FIELD_ID=JSON, e.g. customfield_10010=\'{{"value": "prod"}}\'')
        try:
            fields[field_id.strip()] = json.loads(value)
        except ValueError:
            raise ConfigError(
                f"--field {field_id.strip()}: the value must be JSON, e.g. '\"text\"' for a text field or "
                '\'{"value": "prod"}\' for a select list'
            ) from None
    return fields


def run_add(args: argparse.Namespace) -> int:
    with checking_arguments():
        provider = provider_from_args(args)
    session = aws.session()
    found = aws.resources(args.stack, os.environ, session)
    table_name = found.require_providers_table()
    _require_secret(session.client("secretsmanager"), provider.secret)
    prefix_warning = outside_prefix(provider.secret, found.secret_prefix)
    if prefix_warning:
        warn(prefix_warning)
    for sync_back_warning in check_sync_back(provider, found):
        warn(sync_back_warning)
    with aws.aws_errors(f"write provider {provider.provider_id} to table {table_name}"):
        answer = session.client("dynamodb").put_item(
            TableName=table_name, Item=aws.string_item(provider_item(provider)), ReturnValues="ALL_OLD"
        )
    verb = "updated" if answer.get("Attributes") else "added"
    print_result(
        args.json,
        {"provider": provider.provider_id, "action": verb, "settings": provider.to_item()},
        f"{verb} provider {provider.provider_id}: project {provider.project}, issue type {provider.issue_type}, "
        f"secret {provider.secret}",
        f"next: jira-notifier provider test {provider.group} {provider.name}",
    )
    return 0


def check_sync_back(provider: ProviderConfig, found: aws.Resources) -> list[str]:
    """Whether the stack allows what the provider's sync-back asks for: the warnings to print.

    Raises:
        ConfigError: the stack allows none of it (the provider would never reach AWS).
    """
    needed = capabilities_needed(provider)
    if not needed:
        return []
    if found.sync_back is None:
        return [
            "could not check that the stack allows sync-back (pass --stack NAME); without its parameters "
            + " / ".join(f"{STACK_PARAMETERS[c]}=true" for c in sorted(needed))
            + " each attempt is counted as SyncBackFailed and logged"
        ]
    missing = sorted(needed - found.sync_back)
    if not missing:
        return []
    message = (
        f"provider {provider.provider_id}: {found.origin} was deployed with "
        + ", ".join(f"{STACK_PARAMETERS[c]}=false" for c in missing)
        + "; redeploy with "
        + ", ".join(f"{STACK_PARAMETERS[c]}=true" for c in missing)
    )
    useless = [  # a flag none of whose capabilities the stack allows
        flag
        for flag, capabilities in (
            ("--sync-back", {Capability.SECURITY_HUB, Capability.COST_ANOMALY}),
            ("--archive-wont-fix", {Capability.GUARDDUTY_ARCHIVE}),
        )
        if capabilities <= needed and not capabilities & found.sync_back
    ]
    if useless:
        raise ConfigError(f"{message}, or leave out {' and '.join(useless)}")
    return [f"{message} (until then those sources get no sync-back)"]


def _require_secret(secretsmanager: SecretsManagerClient, name: str) -> None:
    from botocore.exceptions import ClientError

    with aws.aws_errors(f"check secret {name!r}"):
        try:
            secretsmanager.describe_secret(SecretId=name)
        except ClientError as error:
            if aws.error_code(error) != "ResourceNotFoundException":
                raise
            raise ConfigError(
                f"secret {name!r} does not exist (in this account and region); create it first: "
                f"jira-notifier secret put {name} --email E --server-url https://yourdomain.atlassian.net"
            ) from None


# ---- list and remove ---------------------------------------------------------------------------------------


def stored_providers(dynamodb: DynamoDBClient, table_name: str, group: str | None) -> list[dict[str, Any]]:
    """The stored providers (their settings as stored), by group and name; an unreadable one is marked so."""
    with aws.aws_errors(f"read table {table_name}"):
        if group:
            items = aws.items_in_partition(dynamodb, table_name, GROUP_PREFIX + group)
        else:
            items = aws.items_with_prefix(dynamodb, table_name, GROUP_PREFIX)
    providers = []
    for item in items:
        if not item.get("sk", "").startswith(PROVIDER_PREFIX):
            continue
        try:
            value = json.loads(item.get("value", ""))
        except ValueError:
            value = {"error": "not valid JSON; add it again with 'jira-notifier provider add'"}
        providers.append(
            {"group": item["pk"].removeprefix(GROUP_PREFIX), "name": item["sk"].removeprefix(PROVIDER_PREFIX), **value}
        )
    return sorted(providers, key=lambda p: (p["group"], p["name"]))


def run_list(args: argparse.Namespace) -> int:
    session = aws.session()
    table_name = aws.resources(args.stack, os.environ, session).require_providers_table()
    providers = stored_providers(session.client("dynamodb"), table_name, args.group)
    if args.json:
        print_json(providers)
        return 0
    if not providers:
        where = f"in group {args.group!r}" if args.group else "yet"
        print(f"no providers {where}; add one with 'jira-notifier provider add GROUP NAME ...'")
        return 0
    headers = ("GROUP", "NAME", "PROJECT", "ISSUE TYPE", "SECRET", "RESOLVE", "REOPEN")
    print(table(headers, [_row(provider) for provider in providers]))
    return 0


def _row(provider: Mapping[str, Any]) -> tuple[str, ...]:
    reopen = provider.get("reopenTransition") or "-"
    window = provider.get("reopenWindowSeconds")
    if provider.get("reopenTransition") and window:
        reopen += f" (within {_duration(int(window))})"
    return (
        provider["group"],
        provider["name"],
        str(provider.get("project", "?")),
        str(provider.get("issueType", "?")),
        str(provider.get("secret", "?")),
        str(provider.get("resolveTransition") or "-"),
        reopen,
    )


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def run_remove(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError

    session = aws.session()
    table_name = aws.resources(args.stack, os.environ, session).require_providers_table()
    dynamodb = session.client("dynamodb")
    with aws.aws_errors(f"remove provider {args.group}/{args.name} from table {table_name}"):
        try:
            dynamodb.delete_item(
                TableName=table_name,
                Key=aws.string_item(provider_key(args.group, args.name)),
                ConditionExpression="attribute_exists(pk)",
            )
        except ClientError as error:
            if aws.error_code(error) != "ConditionalCheckFailedException":
                raise
            raise ConfigError(
                f"no provider {args.name!r} in group {args.group!r}; see 'jira-notifier provider list {args.group}'"
            ) from None
    left = stored_providers(dynamodb, table_name, args.group)
    print_result(
        args.json,
        {"removed": f"{args.group}/{args.name}", "providersLeftInGroup": len(left)},
        f"removed provider {args.group}/{args.name}",
    )
    if not left:
        warn(f"group {args.group!r} has no provider left: alerts routed to it will be parked in the dead-letter queue")
    return 0


# ---- test --------------------------------------------------------------------------------------------------


def run_test(args: argparse.Namespace) -> int:
    import requests

    from jira_notifier.cli.jira_admin import JiraAdmin

    session = aws.session()
    found = aws.resources(args.stack, os.environ, session)
    provider = load_provider(session.client("dynamodb"), found.require_providers_table(), args.group, args.name)
    secret = read_secret(session, provider.secret, found.allowed_hosts)
    with requests.Session() as http:
        client = JiraAdmin.connect(secret, session=http, timeout=PREFLIGHT_TIMEOUT_SECONDS)
        checks = Preflight(provider, secret, client, today=date.today(), secret_prefix=found.secret_prefix).run()
    failed = any(check.status == FAIL for check in checks)
    if args.json:
        print_json({"provider": provider.provider_id, "ok": not failed, "checks": [c.to_dict() for c in checks]})
    else:
        print_checks(provider, checks, colour=use_colour(sys.stdout))
    return 1 if failed else 0


def load_provider(dynamodb: DynamoDBClient, table_name: str, group: str, name: str) -> ProviderConfig:
    """Raises: ConfigError when the provider does not exist or is invalid."""
    with aws.aws_errors(f"read table {table_name}"):
        item = dynamodb.get_item(TableName=table_name, Key=aws.string_item(provider_key(group, name))).get("Item")
    if not item:
        raise ConfigError(f"no provider {name!r} in group {group!r}; see 'jira-notifier provider list'")
    try:
        value = json.loads(aws.plain_item(item).get("value", ""))
    except ValueError:
        raise ConfigError(f"provider {group}/{name} is not valid JSON; add it again with 'provider add'") from None
    return ProviderConfig.from_item(value)


def read_secret(session: Session, name: str, allowed_hosts: Sequence[str]) -> JiraSecret:
    """The provider's Jira Token secret, validated as the functions validate it.

    Raises:
        ConfigError: the secret is missing, unreadable or invalid.
    """
    from botocore.exceptions import ClientError

    with aws.aws_errors(f"read secret {name!r}"):
        try:
            value = session.client("secretsmanager").get_secret_value(SecretId=name).get("SecretString")
        except ClientError as error:
            if aws.error_code(error) != "ResourceNotFoundException":
                raise
            raise ConfigError(
                f"secret {name!r} does not exist; create it with 'jira-notifier secret put {name}'"
            ) from None
    if not value:
        raise ConfigError(f"secret {name!r} has no SecretString; store it again with 'jira-notifier secret put {name}'")
    return parse_secret(name, str(value), allowed_hosts)


def print_checks(provider: ProviderConfig, checks: Sequence[Check], *, colour: bool) -> None:
    print(f"provider {provider.provider_id}: project {provider.project}, issue type {provider.issue_type}")
    width = max(len(check.name) for check in checks)
    for check in checks:
        print(f"{paint(check.status, check.status, enabled=colour)}  {check.name.ljust(width)}  {check.detail}")
        if check.fix:
            print(f"{'':4}  {'':{width}}  {paint('fix:', 'dim', enabled=colour)} {check.fix}")
    failures = sum(check.status == FAIL for check in checks)
    warnings = sum(check.status == WARN for check in checks)
    verdict = "not ready" if failures else "ready"
    print(f"\n{verdict}: {failures} failed, {warnings} warning(s)")
