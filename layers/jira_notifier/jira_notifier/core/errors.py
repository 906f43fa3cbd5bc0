"""The product's own errors.

Each carries ``retryable`` (Lambda should try again) and ``reason`` (a short machine-readable code used for
the dead-letter record and metrics). Messages say what to fix and never contain a secret.
"""

from __future__ import annotations

from collections.abc import Callable


class JiraNotifierError(Exception):
    retryable: bool = False
    reason: str = "error"


class ConfigError(JiraNotifierError):
    """A setting, secret or provider is missing or invalid."""

    reason = "config"


class SecretError(ConfigError):
    """The Jira secret is missing, malformed, or points somewhere Jira may not be reached."""

    reason = "bad-secret"


class EventParseError(JiraNotifierError):
    """The event is not something the product can read at all (not even as a generic alert)."""

    reason = "malformed-event"


class RoutingError(JiraNotifierError):
    """No notification group, or a group with no provider."""

    reason = "unroutable"


class JiraRequestError(JiraNotifierError):
    """Jira refused the request (4xx): retrying the same request will not help."""

    reason = "jira-rejected"

    def __init__(
        self, message: str, *, status: int | None = None, body: str = "", fields: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body[:500]
        self.fields = fields  # the fields Jira named in its answer (``errors``), e.g. a value it refused


class JiraAuthError(JiraRequestError):
    """401/403: the credentials are wrong, expired, or lack a permission."""

    reason = "jira-auth"


class ScopedTokenOnSiteError(JiraAuthError):
    """401 at the site URL from a token that works through api.atlassian.com: a scoped or service-account token."""

    reason = "jira-scoped-token-on-site"


class JiraUnavailableError(JiraNotifierError):
    """429, 5xx, timeout or connection failure: try again later."""

    retryable = True
    reason = "jira-unavailable"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: str = "",
        retry_after: float | None = None,
        rate_limit_reason: str | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body[:500]
        self.retry_after = retry_after
        self.rate_limit_reason = rate_limit_reason
        # True when the request may have reached Jira (timeout, 5xx): a create must be checked before retrying.
        self.ambiguous = ambiguous


class SecretFetchError(JiraNotifierError):
    """Secrets Manager could not be reached (throttled, network)."""

    retryable = True
    reason = "secret-unavailable"


class StoreError(JiraNotifierError):
    """DynamoDB could not be reached or throttled."""

    retryable = True
    reason = "store-unavailable"


class BusyError(JiraNotifierError):
    """Another invocation holds this alert's lock; try again shortly."""

    retryable = True
    reason = "busy"


class CreateUnconfirmedError(JiraNotifierError):
    """A create for this alert may have reached Jira and its search cannot show it yet: look again later."""

    retryable = True
    reason = "create-unconfirmed"


class HeldBackError(JiraNotifierError):
    """A coalesced change is stored but this invocation has no time left to write it: the retry writes it."""

    retryable = True
    reason = "held-back"


class DeadlineError(JiraNotifierError):
    """Too little of the invocation is left to start (or go on with) this work: Lambda's retry does it."""

    retryable = True
    reason = "deadline"


class UnexpectedError(JiraNotifierError):
    """An exception the product does not know: retried, so a passing fault heals and a lasting one ends in the
    dead-letter queue by the retry policy, never taking other alerts or providers down with it."""

    retryable = True
    reason = "internal-error"


def _ignore(raised: Exception) -> None:
    return None


_report_unexpected: Callable[[Exception], None] = _ignore


def report_unexpected_with(report: Callable[[Exception], None]) -> None:
    """Who hears of an exception the product does not know, while it is being handled (the logger, with its
    traceback: ``adapters.observability`` sets it when it is imported)."""
    global _report_unexpected
    _report_unexpected = report


def refused_outright(error: JiraNotifierError) -> bool:
    """Whether Jira certainly did not carry the request out: it refused it (4xx) or rate limited it (429)."""
    return isinstance(error, JiraRequestError) or (isinstance(error, JiraUnavailableError) and not error.ambiguous)


def as_product_error(raised: Exception) -> JiraNotifierError:
    """The product's own errors as they are; any other exception as a retryable ``UnexpectedError`` (logged
    with its traceback)."""
    if isinstance(raised, JiraNotifierError):
        return raised
    _report_unexpected(raised)
    error = UnexpectedError(f"unexpected {type(raised).__name__}; will retry")
    error.__cause__ = raised
    return error
