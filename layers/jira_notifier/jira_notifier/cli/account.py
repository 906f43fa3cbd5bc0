"""``jira-notifier account name|list|forget``: the names new issues give accounts when Organizations cannot tell."""

from __future__ import annotations

import argparse
import json
import os

from jira_notifier.adapters.dynamodb.providers import (
    ACCOUNT_NAME_SORT,
    ACCOUNT_PREFIX,
    account_name_item,
    account_name_key,
)
from jira_notifier.cli import aws
from jira_notifier.cli.exits import UsageError
from jira_notifier.cli.options import add_json_option
from jira_notifier.cli.output import print_json, print_result, table
from jira_notifier.core.errors import ConfigError
from jira_notifier.core.routing import ACCOUNT_ID

NAME_LIMIT = 50  # AWS account names are at most 50 characters


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Name AWS accounts. A new issue shows its account's name next to its id: from AWS Organizations when the "
        "stack reads it (ReadAccountNames), else, or when Organizations cannot tell, the name set here."
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    name = actions.add_parser("name", help="set an account's name", description="Set the name of an AWS account.")
    name.add_argument("account", metavar="ACCOUNT_ID", help="12 digits, e.g. 111122223333")
    name.add_argument("name", metavar="NAME", help="e.g. 'Payments Prod'")
    add_json_option(name)
    aws.add_stack_option(name)
    name.set_defaults(run=run_name)

    listing = actions.add_parser("list", help="list account names", description="List the account names set.")
    listing.add_argument("--json", action="store_true", help="print JSON")
    aws.add_stack_option(listing)
    listing.set_defaults(run=run_list)

    forget = actions.add_parser("forget", help="remove an account's name", description="Remove an account's name.")
    forget.add_argument("account", metavar="ACCOUNT_ID")
    add_json_option(forget)
    aws.add_stack_option(forget)
    forget.set_defaults(run=run_forget)


def account_id(value: str) -> str:
    """Raises: UsageError: not 12 digits."""
    account = value.strip()
    if not ACCOUNT_ID.fullmatch(account):
        raise UsageError(f"account {account!r} is not an AWS account id; expected 12 digits, e.g. 111122223333")
    return account


def run_name(args: argparse.Namespace) -> int:
    account, name = account_id(args.account), " ".join(args.name.split())
    if not name or len(name) > NAME_LIMIT:
        raise UsageError(f"an account name is 1 to {NAME_LIMIT} characters")
    session = aws.session()
    table_name = aws.resources(args.stack, os.environ, session).require_providers_table()
    with aws.aws_errors(f"write the account name to table {table_name}"):
        session.client("dynamodb").put_item(
            TableName=table_name, Item=aws.string_item(account_name_item(account, name))
        )
    print_result(
        args.json,
        {"account": account, "name": name},
        f"account {account} is named {name!r} in new issues (when Organizations does not name it)",
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    session = aws.session()
    table_name = aws.resources(args.stack, os.environ, session).require_providers_table()
    with aws.aws_errors(f"read table {table_name}"):
        items = aws.items_with_prefix(session.client("dynamodb"), table_name, ACCOUNT_PREFIX)
    names = sorted(
        (item["pk"].removeprefix(ACCOUNT_PREFIX), json.loads(item.get("value") or '""'))
        for item in items
        if item.get("sk") == ACCOUNT_NAME_SORT
    )
    if args.json:
        print_json([{"account": account, "name": name} for account, name in names])
    elif not names:
        print("no account names yet; set one with 'jira-notifier account name ACCOUNT_ID NAME'")
    else:
        print(table(("ACCOUNT", "NAME"), names))
    return 0


def run_forget(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError

    account = account_id(args.account)
    session = aws.session()
    table_name = aws.resources(args.stack, os.environ, session).require_providers_table()
    with aws.aws_errors(f"remove the account name from table {table_name}"):
        try:
            session.client("dynamodb").delete_item(
                TableName=table_name,
                Key=aws.string_item(account_name_key(account)),
                ConditionExpression="attribute_exists(pk)",
            )
        except ClientError as error:
            if aws.error_code(error) != "ConditionalCheckFailedException":
                raise
            raise ConfigError(f"account {account} has no name set; see 'jira-notifier account list'") from None
    print_result(args.json, {"forgotten": account}, f"removed the name of account {account}")
    return 0
