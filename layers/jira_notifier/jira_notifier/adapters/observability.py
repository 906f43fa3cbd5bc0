"""The one place that creates the logger, tracer and metrics (Powertools), and the recorders built on them."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

from jira_notifier.core.errors import report_unexpected_with

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

    from jira_notifier.adapters.jira.transport import CallRecord

SERVICE = "jira-notifier"
NAMESPACE = "JiraNotifier"

Handler = Callable[[Any, Any], Any]


def tracing_enabled(environ: Mapping[str, str]) -> bool:
    """Whether X-Ray tracing is on, by Powertools' own rule: in a Lambda container (not an emulator), unless
    ``POWERTOOLS_TRACE_DISABLED`` is true. The stack sets that variable from its ``Tracing`` parameter."""
    if resolve_truthy_env_var_choice(env=environ.get("POWERTOOLS_TRACE_DISABLED", "false")):
        return False
    return bool(environ.get("LAMBDA_TASK_ROOT")) and not (
        environ.get("AWS_SAM_LOCAL") or environ.get("AWS_CHALICE_CLI_MODE")
    )


class LazyTracer:
    """Powertools' Tracer, created on first use and only where tracing is on.

    Creating a Tracer imports the X-Ray SDK (about 100 ms of a cold start, mostly ``wrapt``) even when tracing is
    disabled, so a function with tracing off never creates one: its handler runs undecorated.
    """

    def __init__(self, service: str) -> None:
        self._service = service
        self._tracer: Tracer | None = None

    def _get(self) -> Tracer:
        if self._tracer is None:
            from aws_lambda_powertools import Tracer

            # Patching for X-Ray loads botocore: done when the first clients are built (trace_sdk_calls).
            self._tracer = Tracer(service=self._service, auto_patch=False)
        return self._tracer

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        """``Tracer.capture_lambda_handler`` when tracing is on at the call; the bare handler otherwise."""
        traced: Handler | None = None

        @functools.wraps(handler)
        def run(event: Any, context: Any) -> Any:
            nonlocal traced
            if not tracing_enabled(os.environ):
                return handler(event, context)
            if traced is None:
                traced = self._get().capture_lambda_handler(handler)
            return traced(event, context)

        return run

    def patch(self, modules: list[str]) -> None:
        if tracing_enabled(os.environ):
            self._get().patch(modules)


logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = LazyTracer(SERVICE)


def _log_unexpected(raised: Exception) -> None:
    logger.exception("unexpected error; will retry", error_type=type(raised).__name__)


report_unexpected_with(_log_unexpected)


class LogStream(Protocol):
    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


def log_to(stream: LogStream) -> LogStream | None:
    """Write the logs to ``stream`` from now on; returns the stream they went to (None: it was ``stream``).

    The functions log to stdout, which Lambda sends to CloudWatch Logs; the CLI moves them to stderr, so that its
    stdout carries its results alone.
    """
    handler = logger.registered_handler
    if not isinstance(handler, logging.StreamHandler):
        return None
    previous: LogStream = handler.stream
    with contextlib.suppress(ValueError):  # a stream closed meanwhile has nothing left to write
        handler.flush()
    handler.stream = stream
    return previous


def trace_sdk_calls() -> None:
    """Record AWS SDK and Jira calls as X-Ray subsegments (a no-op when tracing is off)."""
    tracer.patch(["botocore", "requests"])


class MetricsRecorder:
    """Counts lifecycle outcomes as CloudWatch metrics (EMF, flushed by ``@metrics.log_metrics``)."""

    def count(self, name: str, value: float = 1) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def record_jira_call(call: CallRecord) -> None:
    """Latency of every Jira call, 429s by reason, authentication failures, and for the heartbeat alarm whether
    Jira refused the call (401/403) or answered it otherwise (a call with no answer is neither)."""
    metrics.add_metric(name="JiraLatency", unit=MetricUnit.Milliseconds, value=round(call.elapsed_ms, 1))
    if call.status is not None:
        refused = call.status in (401, 403)
        metrics.add_metric(name="JiraRefused" if refused else "JiraAnswered", unit=MetricUnit.Count, value=1)
    if call.status == 429:
        metrics.add_metric(name="JiraRateLimited", unit=MetricUnit.Count, value=1)
        logger.warning("jira rate limited", endpoint=call.endpoint, rate_limit_reason=call.rate_limit_reason)
    elif call.status == 401:
        metrics.add_metric(name="JiraAuthFailures", unit=MetricUnit.Count, value=1)
        logger.error("jira rejected the credentials", endpoint=call.endpoint)


def record_token_expiry(days_left: int) -> None:
    metrics.add_metric(name="JiraTokenDaysLeft", unit=MetricUnit.Count, value=days_left)
