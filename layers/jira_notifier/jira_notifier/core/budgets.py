"""Time budgets: how long one AWS call may take at worst, and how much of an invocation an alert needs to start.

Every figure the product's retry loops and deadlines are checked against lives here, so the rules that decide
whether to start, wait or hand back for a retry all read the same numbers.
"""

from __future__ import annotations

AWS_CONNECT_TIMEOUT = 1.0  # seconds: an AWS endpoint in the same region answers a connect in milliseconds
AWS_READ_TIMEOUT = 3.0  # seconds: DynamoDB, SQS and Secrets Manager answer well within this at p99.9
AWS_MAX_ATTEMPTS = 2  # standard retry mode: the first try and one retry (throttling, 5xx, timeouts)
# Standard mode sleeps a random 0-1 s, then 0-2 s, ... between attempts.
AWS_CALL_WORST_SECONDS = AWS_MAX_ATTEMPTS * (AWS_CONNECT_TIMEOUT + AWS_READ_TIMEOUT) + sum(
    2.0**attempt for attempt in range(AWS_MAX_ATTEMPTS - 1)
)

LOCK_WAIT_SECONDS = 20.0  # longest wait for another invocation's lease on the same alert
DEFAULT_REMAINING_SECONDS = 60.0  # an invocation with no deadline (the CLI) is given this much
# An alert (one provider) is started only with this much of the invocation left: the lease write, a Jira call of
# a few seconds and the confirming write. With less, it is handed back for a retry before Lambda cuts it off.
START_BUDGET_SECONDS = 15.0

# The insights of a new alarm issue (graph, log evidence, child alarms) are a courtesy: one attempt each, bounded.
INSIGHT_CONNECT_TIMEOUT = 1.0
INSIGHT_READ_TIMEOUT = 4.0  # a rendered graph takes a second or two; the reads well under one
INSIGHT_CALL_SECONDS = INSIGHT_CONNECT_TIMEOUT + INSIGHT_READ_TIMEOUT  # one attempt, no retry
