"""Account names for new issues: from AWS Organizations (``organizations:DescribeAccount``) when the stack reads
them, else (or when Organizations cannot tell) from the names the operator set (``jira-notifier account name``).

Optional and soft: only the management account or a delegated administrator may read Organizations, so any failure
leaves the name out (an issue without a name is better than no issue). Names, and failures, are cached per warm
container for ``max_age`` seconds, so a storm from one account costs at most one call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from jira_notifier.adapters.observability import logger
from jira_notifier.core.alert import Alert
from jira_notifier.core.routing import ACCOUNT_ID

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_organizations import OrganizationsClient

LOOKUP_TIMEOUT_SECONDS = 2  # connect and read: the name is a courtesy, the issue must not wait for it


class AccountNamer(Protocol):
    def named(self, alert: Alert) -> Alert: ...


NameLookup = Callable[[str], str | None]  # account id -> its name (may raise: any failure only leaves it out)


class NoAccountNames:
    """No account names: alerts go out as they are, with no AWS call (tests, tools)."""

    def named(self, alert: Alert) -> Alert:
        return alert


class OperatorAccountNames:
    """The names the operator set, only (the stack does not read Organizations)."""

    def __init__(self, lookup: NameLookup) -> None:
        self._lookup = lookup

    def named(self, alert: Alert) -> Alert:
        return with_name(alert, lambda account: soft_lookup(self._lookup, account))


class OrganizationAccountNames:
    """Account names read from AWS Organizations, cached."""

    def __init__(
        self,
        client_factory: Callable[[], OrganizationsClient],
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
        fallback: NameLookup | None = None,
    ) -> None:
        self._fallback = fallback
        self._client_factory = client_factory
        self._client: OrganizationsClient | None = None
        self._max_age = max_age
        self._clock = clock
        self._names: dict[str, tuple[str | None, float]] = {}

    def named(self, alert: Alert) -> Alert:
        """The alert with its account's name, when there is an account id and its name can be read."""
        return with_name(alert, self.name)

    def name(self, account_id: str) -> str | None:
        now = self._clock()
        cached = self._names.get(account_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        name = self._describe(account_id)
        if name is None and self._fallback is not None:
            name = soft_lookup(self._fallback, account_id)
        self._names[account_id] = (name, now + self._max_age)
        return name

    def _describe(self, account_id: str) -> str | None:
        try:
            if self._client is None:
                self._client = self._client_factory()
            account = self._client.describe_account(AccountId=account_id)["Account"]
        except Exception as error:  # noqa: BLE001 - any failure only leaves the name out
            logger.warning("account name not read", account=account_id, error=type(error).__name__)
            return None
        name = account.get("Name")
        return (name.strip() or None) if isinstance(name, str) else None


def with_name(alert: Alert, name_of: Callable[[str], str | None]) -> Alert:
    """The alert with its account's name, when there is an account id and a name for it."""
    if not alert.account or not ACCOUNT_ID.fullmatch(alert.account):
        return alert
    name = name_of(alert.account)
    return replace(alert, account_name=name) if name else alert


def soft_lookup(lookup: NameLookup, account_id: str) -> str | None:
    try:
        return lookup(account_id)
    except Exception as error:  # noqa: BLE001 - a name is a courtesy: any failure only leaves it out
        logger.warning(
            "account name not read from the operator's names", account=account_id, error=type(error).__name__
        )
        return None


def organizations_client(session: Session) -> OrganizationsClient:
    """An Organizations client that gives up quickly: two attempts, short timeouts."""
    from botocore.config import Config

    config = Config(
        connect_timeout=LOOKUP_TIMEOUT_SECONDS,
        read_timeout=LOOKUP_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": 2},
    )
    return session.client("organizations", config=config)
