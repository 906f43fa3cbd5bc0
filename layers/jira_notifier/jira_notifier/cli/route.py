"""``jira-notifier route add|list|remove``: which notification group an account, SNS topic or EventBridge source
feeds."""

from __future__ import annotations

import argparse
import json
import os
import re
from typing import Any

from jira_notifier.adapters.dynamodb.providers import ROUTE_PREFIX, ROUTE_SORT, route_item, route_key
from jira_notifier.cli import aws
from jira_notifier.cli.output import print_json, table, warn
from jira_notifier.cli.provider import stored_providers
from jira_notifier.core.errors import ConfigError
from jira_notifier.core.routing import ACCOUNT_ID, ACCOUNT_ROUTE_PREFIX, account_route

TOPIC_ARN = re.compile(r"^arn:aws[-a-z]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
SOURCE = re.compile(r"^\S{1,256}$")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "route",
        help="route accounts, SNS topics and EventBridge sources to groups",
        description="Manage routes. An alert goes to the group it names itself, else its account's route, else "
        "its topic's or source's route, else the default group.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="route an account, topic or source to a group",
        description="Send the alerts of an AWS account, an SNS topic or an EventBridge source to a notification "
        "group (unless the alert names its own group; an account's route comes before a topic's or source's).",
    )
    _add_route_options(add)
    add.add_argument("group", metavar="GROUP")
    aws.add_stack_option(add)
    add.set_defaults(run=run_add)

    listing = actions.add_parser("list", help="list routes", description="List routes.")
    listing.add_argument("--json", action="store_true", help="print JSON")
    aws.add_stack_option(listing)
    listing.set_defaults(run=run_list)

    remove = actions.add_parser(
        "remove", help="remove a route", description="Remove the route of an account, topic or source."
    )
    _add_route_options(remove)
    aws.add_stack_option(remove)
    remove.set_defaults(run=run_remove)


def _add_route_options(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--account", metavar="ID", help="an AWS account id (12 digits), e.g. a member account")
    which.add_argument("--topic-arn", metavar="ARN", help="an SNS topic ARN")
    which.add_argument("--source", metavar="SOURCE", help="an EventBridge source, e.g. aws.cloudwatch or my.app")


def route_from_args(args: argparse.Namespace) -> str:
    """The route key: ``account:<id>``, the topic ARN or the EventBridge source.

    Raises:
        ConfigError: the account id, ARN or source is malformed.
    """
    if args.account is not None:
        account = args.account.strip()
        if not ACCOUNT_ID.fullmatch(account):
            raise ConfigError(f"--account {account!r} is not an AWS account id; expected 12 digits, e.g. 111122223333")
        return account_route(account)
    if args.topic_arn is not None:
        arn: str = args.topic_arn.strip()
        if not TOPIC_ARN.match(arn):
            raise ConfigError(
                f"--topic-arn {arn!r} is not an SNS topic ARN; expected arn:aws:sns:REGION:ACCOUNT_ID:TOPIC_NAME"
            )
        return arn
    source: str = args.source.strip()
    if not SOURCE.match(source):
        raise ConfigError(f"--source {source!r} must be an EventBridge source without spaces, e.g. aws.cloudwatch")
    if source.startswith(ACCOUNT_ROUTE_PREFIX):
        raise ConfigError(f"--source {source!r}: to route an account, use --account ID")
    return source


def run_add(args: argparse.Namespace) -> int:
    route = route_from_args(args)
    group = args.group.strip()
    if not group:
        raise ConfigError("name the notification group the route leads to")
    session = aws.session()
    table_name = aws.resources(args.stack, os.environ, session).require_providers_table()
    dynamodb = session.client("dynamodb")
    with aws.aws_errors(f"write the route to table {table_name}"):
        dynamodb.put_item(TableName=table_name, Item=aws.string_item(route_item(route, group)))
    print(f"routed {_kind(route)} {_shown(route)} to group {group}")
    if not stored_providers(dynamodb, table_name, group):
        warn(f"group {group!r} has no provider yet; add one with 'jira-notifier provider add {group} NAME ...'")
    return 0


def run_list(args: argparse.Namespace) -> int:
    session = aws.session()
    table_name = aws.resources(args.stack, os.environ, session).require_providers_table()
    with aws.aws_errors(f"read table {table_name}"):
        items = aws.items_with_prefix(session.client("dynamodb"), table_name, ROUTE_PREFIX)
    routes = []
    for item in items:
        if item.get("sk") == ROUTE_SORT:
            route = item["pk"].removeprefix(ROUTE_PREFIX)
            routes.append({"route": _shown(route), "kind": _kind(route), "group": _group(item.get("value"))})
    routes.sort(key=lambda r: (r["group"], r["route"]))
    if args.json:
        print_json(routes)
    elif not routes:
        print(
            "no routes yet; add one with "
            "'jira-notifier route add (--account ID | --topic-arn ARN | --source SOURCE) GROUP'"
        )
    else:
        print(table(("GROUP", "KIND", "ROUTE"), [(r["group"], r["kind"], r["route"]) for r in routes]))
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError

    route = route_from_args(args)
    session = aws.session()
    table_name = aws.resources(args.stack, os.environ, session).require_providers_table()
    with aws.aws_errors(f"remove the route from table {table_name}"):
        try:
            session.client("dynamodb").delete_item(
                TableName=table_name, Key=aws.string_item(route_key(route)), ConditionExpression="attribute_exists(pk)"
            )
        except ClientError as error:
            if aws.error_code(error) != "ConditionalCheckFailedException":
                raise
            raise ConfigError(f"no route for {_shown(route)}; see 'jira-notifier route list'") from None
    print(f"removed the route of {_kind(route)} {_shown(route)}")
    return 0


def _kind(route: str) -> str:
    if route.startswith(ACCOUNT_ROUTE_PREFIX):
        return "account"
    return "topic" if route.startswith("arn:") else "source"


def _shown(route: str) -> str:
    """The route as the operator names it: an account by its id."""
    return route.removeprefix(ACCOUNT_ROUTE_PREFIX)


def _group(value: str | None) -> str:
    try:
        group = json.loads(value or "")
    except ValueError:
        return "?"
    return group if isinstance(group, str) else "?"
