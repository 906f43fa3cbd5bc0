"""Account names for new issues, from AWS Organizations (``organizations:DescribeAccount``), when the stack reads them.

Optional and soft: only the management account or a delegated administrator may read them, so any failure leaves
the name out (an issue without a name is better than no issue). Names, and failures, are cached per warm container
for ``max_age`` seconds, so a storm from one account costs at most one call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from jira_notifier.models import Alert
from jira_notifier.observability import logger
from jira_notifier.routing import ACCOUNT_ID

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_organizations import OrganizationsClient

LOOKUP_TIMEOUT_SECONDS = 2  # connect and read: the name is a courtesy, the issue must not wait for it


class AccountNamer(Protocol):
    def named(self, alert: Alert) -> Alert: ...


class NoAccountNames:
    """The stack does not read account names: alerts go out as they are, with no AWS call."""

    def named(self, alert: Alert) -> Alert:
        return alert


class OrganizationAccountNames:
    """Account names read from AWS Organizations, cached."""

    def __init__(
        self,
        client_factory: Callable[[], OrganizationsClient],
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_factory = client_factory
        self._client: OrganizationsClient | None = None
        self._max_age = max_age
        self._clock = clock
        self._names: dict[str, tuple[str | None, float]] = {}

    def named(self, alert: Alert) -> Alert:
        """The alert with its account's name, when there is an account id and its name can be read."""
        if not alert.account or not ACCOUNT_ID.fullmatch(alert.account):
            return alert
        name = self.name(alert.account)
        return replace(alert, account_name=name) if name else alert

    def name(self, account_id: str) -> str | None:
        now = self._clock()
        cached = self._names.get(account_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        name = self._describe(account_id)
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


def organizations_client(session: Session) -> OrganizationsClient:
    """An Organizations client that gives up quickly: two attempts, short timeouts."""
    from botocore.config import Config

    config = Config(
        connect_timeout=LOOKUP_TIMEOUT_SECONDS,
        read_timeout=LOOKUP_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": 2},
    )
    return session.client("organizations", config=config)
