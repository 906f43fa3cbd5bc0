"""``jira-notifier secret put NAME``: store a "Jira Token" secret in Secrets Manager.

The API token is read from standard input (one line) or a hidden prompt, never from the command line, where it
would land in the shell history and the process list.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import date
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from jira_notifier.cli import aws
from jira_notifier.cli.exits import UsageError
from jira_notifier.cli.options import add_json_option
from jira_notifier.cli.output import print_result, warn
from jira_notifier.core.config import GATEWAY_HOST, check_jira_url, parse_secret, secret_string
from jira_notifier.core.errors import ConfigError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

TENANT_INFO_PATH = "/_edge/tenant_info"
LOOKUP_TIMEOUT_SECONDS = 10.0
MAX_TOKEN_DAYS = 366  # Atlassian API tokens last at most one year


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = "Manage Jira Token secrets."
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    put = actions.add_parser(
        "put",
        help="create or update a Jira Token secret",
        description="Create or update a Jira Token secret in Secrets Manager. The API token is read from standard "
        "input (e.g. 'pass show jira | jira-notifier secret put ...') or a hidden prompt; never pass it as an "
        "argument.",
    )
    put.add_argument(
        "name", metavar="NAME", help="secret name, e.g. jira-notifier/ops (the stack may read jira-notifier/*)"
    )
    put.add_argument("--email", required=True, help="e-mail of the Jira account that owns the token")
    put.add_argument("--server-url", required=True, metavar="URL", help="https://yourdomain.atlassian.net")
    cloud = put.add_mutually_exclusive_group()
    cloud.add_argument("--cloud-id", metavar="ID", help="site cloudId: scoped and service-account tokens need it")
    cloud.add_argument(
        "--lookup-cloud-id", action="store_true", help=f"read the cloudId from <URL>{TENANT_INFO_PATH} and store it"
    )
    put.add_argument("--expires", type=expiry_date, metavar="YYYY-MM-DD", help="the expiry chosen for the token")
    add_json_option(put, "print what was stored as JSON (never the token)")
    aws.add_stack_option(put)
    put.set_defaults(run=run_put)


def expiry_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


def run_put(args: argparse.Namespace) -> int:
    session = aws.session()
    found = aws.resources(args.stack, os.environ, session)
    hosts = found.allowed_hosts
    server_url = check_jira_url(args.server_url, hosts)  # refused before anything is read, fetched or written
    email = args.email.strip()
    if "@" not in email:
        raise UsageError(f"--email {email!r} is not an e-mail address; use the Jira account's e-mail")
    _check_expiry(args.expires, date.today())
    cloud_id = args.cloud_id.strip() if args.cloud_id else None
    if args.lookup_cloud_id:
        cloud_id = lookup_cloud_id(server_url)
    prefix_warning = outside_prefix(args.name, found.secret_prefix)
    token = read_token(sys.stdin)
    value = secret_string(email, token, server_url, cloud_id, args.expires)
    parse_secret(args.name, value, hosts)  # exactly the checks the functions apply when they read it
    if prefix_warning:
        warn(prefix_warning)
    created = store(session.client("secretsmanager"), args.name, value)
    via = f" via {GATEWAY_HOST} (cloudId {cloud_id})" if cloud_id else ""
    expires = f", expires {args.expires.isoformat()}" if args.expires else ", expiry unknown (set --expires)"
    print_result(
        args.json,
        {
            "secret": args.name,
            "created": created,
            "email": email,
            "serverUrl": server_url,
            "cloudId": cloud_id,
            "expires": args.expires.isoformat() if args.expires else None,
        },
        f"{'created' if created else 'updated'} secret {args.name}: {email} at {server_url}{via}{expires}",
        f"next: jira-notifier provider add GROUP NAME --project KEY --issue-type Task --secret {args.name}",
    )
    return 0


def read_token(stream: TextIO) -> str:
    """The API token: one line of a piped standard input, else typed at a hidden prompt.

    Raises:
        ConfigError: nothing was given, or more than a token (whitespace inside).
    """
    typed = stream.isatty()
    token = (getpass.getpass("Jira API token (input hidden): ") if typed else stream.readline()).strip()
    if not token:
        raise ConfigError("no API token given: pipe it on standard input or type it at the prompt")
    if any(character.isspace() for character in token):
        raise ConfigError("the API token contains whitespace; give the token alone, on one line")
    return token


def lookup_cloud_id(server_url: str) -> str:
    """The site's cloudId from its unauthenticated tenant_info endpoint.

    Raises:
        ConfigError: the site did not answer with a cloudId.
    """
    import requests

    if (urlsplit(server_url).hostname or "") == GATEWAY_HOST:
        raise ConfigError(
            f"--lookup-cloud-id needs the site URL (https://yourdomain.atlassian.net), not {GATEWAY_HOST}"
        )
    url = server_url + TENANT_INFO_PATH
    fix = "pass --cloud-id ID instead (admin.atlassian.com shows it after /s/ in the address)"
    try:
        response = requests.get(url, timeout=LOOKUP_TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as exc:
        raise ConfigError(f"could not read {url} ({type(exc).__name__}); check --server-url or {fix}") from None
    try:
        cloud_id = response.json().get("cloudId") if response.status_code == 200 else None
    except (ValueError, AttributeError):
        cloud_id = None
    if not isinstance(cloud_id, str) or not cloud_id.strip():
        raise ConfigError(f"{url} answered {response.status_code} without a cloudId; check --server-url or {fix}")
    return cloud_id.strip()


def outside_prefix(name: str, prefix: str) -> str | None:
    """A warning when the functions cannot read a secret of this name (their policy covers ``prefix*`` only)."""
    if name.startswith(prefix):
        return None
    return (
        f"secret {name!r} does not start with the stack's SecretNamePrefix {prefix!r}: the functions may not read "
        f"it. Use a name like {prefix}{name.rsplit('/', 1)[-1]}"
    )


def store(secretsmanager: SecretsManagerClient, name: str, value: str) -> bool:
    """Create the secret, or put a new value into it when it exists; True when created.

    Raises:
        ConfigError: Secrets Manager refused (the message says why).
    """
    from botocore.exceptions import ClientError

    with aws.aws_errors(f"write secret {name!r}"):
        try:
            secretsmanager.create_secret(Name=name, SecretString=value, Description="Jira Token for jira-notifier")
        except ClientError as error:
            if aws.error_code(error) != "ResourceExistsException":
                raise
            secretsmanager.put_secret_value(SecretId=name, SecretString=value)
            return False
    return True


def _check_expiry(expires: date | None, today: date) -> None:
    if expires is None:
        return
    if expires < today:
        raise ConfigError(
            f"--expires {expires.isoformat()} is in the past: that token no longer works; create a new one "
            "at https://id.atlassian.com/manage-profile/security/api-tokens"
        )
    if (expires - today).days > MAX_TOKEN_DAYS:
        warn(f"--expires {expires.isoformat()} is more than a year away; Atlassian API tokens last at most one year")
