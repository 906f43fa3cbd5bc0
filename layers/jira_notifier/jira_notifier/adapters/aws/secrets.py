"""Reads "Jira Token" secrets from Secrets Manager, cached across warm invocations (Powertools Parameters)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from jira_notifier.core.config import JiraSecret, parse_secret
from jira_notifier.core.errors import SecretError, SecretFetchError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

_PERMANENT = ("ResourceNotFoundException", "AccessDeniedException", "DecryptionFailure", "InvalidRequestException")


class SecretStore:
    """Secrets by name, parsed and validated, kept for ``max_age`` seconds."""

    def __init__(
        self,
        provider: SecretsProvider,
        allowed_hosts: Iterable[str],
        max_age: int,
        on_read: Callable[[JiraSecret], None] | None = None,
    ) -> None:
        self._provider = provider
        self._on_read = on_read
        self._allowed_hosts = tuple(allowed_hosts)
        self._max_age = max_age

    def get(self, name: str) -> JiraSecret:
        """The validated secret.

        Raises:
            SecretError: missing, not readable by this function, or malformed (permanent).
            SecretFetchError: Secrets Manager is throttling or unreachable (retryable).
        """
        try:
            value = self._provider.get(name, max_age=self._max_age)
        except GetParameterError as exc:
            text = str(exc)
            if any(code in text for code in _PERMANENT):
                raise SecretError(
                    f"secret {name!r} cannot be read: it does not exist, or its name does not start with the "
                    "stack's SecretNamePrefix the functions may read. Create it with 'jira-notifier secret put'."
                ) from None
            raise SecretFetchError(f"Secrets Manager did not return secret {name!r}; will retry") from None
        if not isinstance(value, str):
            raise SecretError(f"secret {name!r} must be a SecretString in the Jira Token format")
        secret = parse_secret(name, value, self._allowed_hosts)
        if self._on_read is not None:
            self._on_read(secret)
        return secret

    def forget(self) -> None:
        """Drop cached secrets, so a rotated token is read at once (called after a 401)."""
        self._provider.clear_cache()  # type: ignore[no-untyped-call]  # Powertools leaves clear_cache unannotated
