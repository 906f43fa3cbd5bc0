"""How every AWS SDK client of the functions is configured: each call fits inside the invocation.

botocore's defaults (60 s connect and read timeouts, legacy retries up to 10 times for DynamoDB) let one slow
call outlive the function's 60 s timeout while it holds a lease. These bound one call to
``AWS_CALL_WORST_SECONDS``; the product's own retry loops check the invocation's deadline against that figure
before trying again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.config import Config

AWS_CONNECT_TIMEOUT = 1.0  # seconds: an AWS endpoint in the same region answers a connect in milliseconds
AWS_READ_TIMEOUT = 3.0  # seconds: DynamoDB, SQS and Secrets Manager answer well within this at p99.9
AWS_MAX_ATTEMPTS = 2  # standard retry mode: the first try and one retry (throttling, 5xx, timeouts)
# Standard mode sleeps a random 0-1 s, then 0-2 s, ... between attempts.
AWS_CALL_WORST_SECONDS = AWS_MAX_ATTEMPTS * (AWS_CONNECT_TIMEOUT + AWS_READ_TIMEOUT) + sum(
    2.0**attempt for attempt in range(AWS_MAX_ATTEMPTS - 1)
)


def client_config() -> Config:
    from botocore.config import Config

    return Config(
        connect_timeout=AWS_CONNECT_TIMEOUT,
        read_timeout=AWS_READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": AWS_MAX_ATTEMPTS},
    )
