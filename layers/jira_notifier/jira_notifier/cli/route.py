"""``jira-notifier route add|list|remove``: which notification group an alarm tag, account, SNS topic or EventBridge
source feeds."""

from __future__ import annotations

import argparse
import json
import os
import re
from dataclasses import dataclass

from jira_notifier.adapters.dynamodb.providers import (
    ALARM_TAG_ROUTES,
    ROUTE_PREFIX,
    ROUTE_SORT,
    alarm_tag_route_key,
    read_alarm_tag,
    route_item,
    route_key,
)
from jira_notifier.cli import aws
from jira_notifier.cli.exits import checking_arguments
from jira_notifier.cli.options import add_json_option
from jira_notifier.cli.output import print_json, print_result, table, warn
from jira_notifier.cli.provider import stored_providers
from jira_notifier.core.errors import ConfigError
from jira_notifier.core.routing import ACCOUNT_ID, ACCOUNT_ROUTE_PREFIX, account_route

TOPIC_ARN = re.compile(r"^arn:aws[-a-z]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
SOURCE = re.compile(r"^\S{1,256}$")
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256  # CloudWatch's limits on a tag


@dataclass(frozen=True, slots=True)
class Route:
    """A route as stored (its item's key) and as the operator names it."""

    key: dict[str, str]
    kind: str  # alarm-tag, account, topic or source
    shown: str

    def item(self, group: str) -> dict[str, str]:
        return route_item(self.key, group)


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Manage routes. An alert goes to the group it names itself, else its alarm's tag's route, else its account's "
        "route, else its topic's or source's route, else the default group."
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="route an alarm tag, account, topic or source to a group",
        description="Send the alerts of alarms with a tag, of an AWS account, an SNS topic or an EventBridge source "
        "to a notification group (unless the alert names its own group; an alarm tag's route comes before an "
        "account's, and an account's before a topic's or source's).",
    )
    _add_route_options(add)
    add.add_argument("group", metavar="GROUP")
    add_json_option(add)
    aws.add_stack_option(add)
    add.set_defaults(run=run_add)

    listing = actions.add_parser("list", help="list routes", description="List routes.")
    add_json_option(listing)
    aws.add_stack_option(listing)
    listing.set_defaults(run=run_list)

    remove = actions.add_parser(
        "remove", help="remove a route", description="Remove the route of an alarm tag, account, topic or source."
    )
    _add_route_options(remove)
    add_json_option(remove)
    aws.add_stack_option(remove)
    remove.set_defaults(run=run_remove)


def _add_route_options(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--alarm-tag",
        metavar="KEY=VALUE",
        help="a CloudWatch alarm's tag, e.g. team=payments (the alarm must propagate its tags into its events)",
    )
    which.add_argument("--account", metavar="ID", help="an AWS account id (12 digits), e.g. a member account")
    which.add_argument("--topic-arn", metavar="ARN", help="an SNS topic ARN")
    which.add_argument("--source", metavar="SOURCE", help="an EventBridge source, e.g. aws.cloudwatch or my.app")


def route_from_args(args: argparse.Namespace) -> Route:
    """The route the options name: an alarm tag, an account (``account:<id>``), a topic ARN or a source.

    Raises:
        ConfigError: the tag, account id, ARN or source is malformed.
    """
    if args.alarm_tag is not None:
        key, value = _alarm_tag(args.alarm_tag)
        return Route(alarm_tag_route_key(key, value), "alarm-tag", f"{key}={value}")
    if args.account is not None:
        account = args.account.strip()
        if not ACCOUNT_ID.fullmatch(account):
            raise ConfigError(f"--account {account!r} is not an AWS account id; expected 12 digits, e.g. 111122223333")
        return _plain(account_route(account))
    if args.topic_arn is not None:
        arn: str = args.topic_arn.strip()
        if not TOPIC_ARN.match(arn):
            raise ConfigError(
                f"--topic-arn {arn!r} is not an SNS topic ARN; expected arn:aws:sns:REGION:ACCOUNT_ID:TOPIC_NAME"
            )
        return _plain(arn)
    source: str = args.source.strip()
    if not SOURCE.match(source):
        raise ConfigError(f"--source {source!r} must be an EventBridge source without spaces, e.g. aws.cloudwatch")
    if source.startswith(ACCOUNT_ROUTE_PREFIX):
        raise ConfigError(f"--source {source!r}: to route an account, use --account ID")
    if source == ALARM_TAG_ROUTES:
        raise ConfigError(f"--source {source!r}: to route an alarm tag, use --alarm-tag KEY=VALUE")
    return _plain(source)


def _alarm_tag(pair: str) -> tuple[str, str]:
    """``KEY=VALUE`` (split at the first ``=``), as CloudWatch allows a tag. Raises: ConfigError."""
    key, equals, value = pair.partition("=")
    key, value = key.strip(), value.strip()
    if not equals or not key:
        raise ConfigError(f"--alarm-tag {pair!r} must be KEY=VALUE, e.g. team=payments")
    if key.lower().startswith("aws:"):
        raise ConfigError(f"--alarm-tag {pair!r}: tags beginning aws: are AWS's own and never reach alarm events")
    if len(key) > TAG_KEY_MAX or len(value) > TAG_VALUE_MAX:
        raise ConfigError(
            f"--alarm-tag {pair!r}: a tag key has at most {TAG_KEY_MAX} characters, a value {TAG_VALUE_MAX}"
        )
    return key, value


def _plain(route: str) -> Route:
    """A route stored as ``ROUTE#<route>``: an account's, a topic's or a source's."""
    kinds = (("account", route.startswith(ACCOUNT_ROUTE_PREFIX)), ("topic", route.startswith("arn:")))
    kind = next((name for name, matched in kinds if matched), "source")
    return Route(route_key(route), kind, route.removeprefix(ACCOUNT_ROUTE_PREFIX))


def run_add(args: argparse.Namespace) -> int:
    with checking_arguments():
        route = route_from_args(args)
        group = args.group.strip()
        if not group:
            raise ConfigError("name the notification group the route leads to")
    session = aws.session()
    table_name = aws.resources(args.stack, os.environ, session).require_providers_table()
    dynamodb = session.client("dynamodb")
    with aws.aws_errors(f"write the route to table {table_name}"):
        dynamodb.put_item(TableName=table_name, Item=aws.string_item(route.item(group)))
    print_result(
        args.json,
        {"route": route.shown, "kind": route.kind, "group": group},
        f"routed {route.kind} {route.shown} to group {group}",
    )
    if not stored_providers(dynamodb, table_name, group):
        warn(f"group {group!r} has no provider yet; add one with 'jira-notifier provider add {group} NAME ...'")
    if route.kind == "alarm-tag":
        warn("only alarms that propagate their tags into their events carry them (see docs/aws-inputs-2026.md)")
    return 0


def run_list(args: argparse.Namespace) -> int:
    session = aws.session()
    table_name = aws.resources(args.stack, os.environ, session).require_providers_table()
    with aws.aws_errors(f"read table {table_name}"):
        items = aws.items_with_prefix(session.client("dynamodb"), table_name, ROUTE_PREFIX)
    routes = []
    for item in items:
        route = _stored(item)
        if route is not None:
            routes.append({"route": route.shown, "kind": route.kind, "group": _group(item.get("value"))})
    routes.sort(key=lambda r: (r["group"], r["route"]))
    if args.json:
        print_json(routes)
    elif not routes:
        print(
            "no routes yet; add one with 'jira-notifier route add "
            "(--alarm-tag KEY=VALUE | --account ID | --topic-arn ARN | --source SOURCE) GROUP'"
        )
    else:
        print(table(("GROUP", "KIND", "ROUTE"), [(r["group"], r["kind"], r["route"]) for r in routes]))
    return 0


def _stored(item: dict[str, str]) -> Route | None:
    """The route an item of the providers table holds, if it is one."""
    if item.get("pk") == ROUTE_PREFIX + ALARM_TAG_ROUTES:
        tag = read_alarm_tag(item.get("sk", ""))
        return Route(alarm_tag_route_key(*tag), "alarm-tag", "=".join(tag)) if tag else None
    if item.get("sk") == ROUTE_SORT:
        return _plain(item["pk"].removeprefix(ROUTE_PREFIX))
    return None


def run_remove(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError

    with checking_arguments():
        route = route_from_args(args)
    session = aws.session()
    table_name = aws.resources(args.stack, os.environ, session).require_providers_table()
    with aws.aws_errors(f"remove the route from table {table_name}"):
        try:
            session.client("dynamodb").delete_item(
                TableName=table_name, Key=aws.string_item(route.key), ConditionExpression="attribute_exists(pk)"
            )
        except ClientError as error:
            if aws.error_code(error) != "ConditionalCheckFailedException":
                raise
            raise ConfigError(f"no route for {route.shown}; see 'jira-notifier route list'") from None
    print_result(
        args.json,
        {"removed": route.shown, "kind": route.kind},
        f"removed the route of {route.kind} {route.shown}",
    )
    return 0


def _group(value: str | None) -> str:
    try:
        group = json.loads(value or "")
    except ValueError:
        return "?"
    return group if isinstance(group, str) else "?"
