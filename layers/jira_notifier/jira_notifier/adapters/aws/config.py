"""How every AWS SDK client of the functions is configured: each call fits inside the invocation.

botocore's defaults (60 s connect and read timeouts, legacy retries up to 10 times for DynamoDB) let one slow
call outlive the function's 60 s timeout while it holds a lease. These bound one call to
``AWS_CALL_WORST_SECONDS``; the product's own retry loops check the invocation's deadline against that figure
before trying again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jira_notifier.core.budgets import AWS_CALL_WORST_SECONDS, AWS_CONNECT_TIMEOUT, AWS_MAX_ATTEMPTS, AWS_READ_TIMEOUT

if TYPE_CHECKING:
    from botocore.config import Config

__all__ = ["AWS_CALL_WORST_SECONDS", "client_config"]


def client_config() -> Config:
    from botocore.config import Config

    return Config(
        connect_timeout=AWS_CONNECT_TIMEOUT,
        read_timeout=AWS_READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": AWS_MAX_ATTEMPTS},
    )
