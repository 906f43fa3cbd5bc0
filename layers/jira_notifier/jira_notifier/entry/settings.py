"""Settings read once from the environment; logic receives values, never ``os.environ``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jira_notifier.core.errors import ConfigError

DEFAULT_ALLOWED_HOSTS = ("*.atlassian.net", "api.atlassian.com")


@dataclass(frozen=True, slots=True)
class Settings:
    providers_table: str
    state_table: str
    default_notification_group: str | None = None
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    dead_letter_queue_url: str | None = None
    config_cache_seconds: int = 300
    jira_timeout_seconds: float = 10.0
    read_account_names: bool = False  # name accounts in new issues, from AWS Organizations
    sync_back: str = ""  # the stack's sync-back capabilities, comma-separated (syncback.parse_capabilities)
    webhook_secret_name: str | None = None  # the Jira webhook receiver's shared secret (Secrets Manager)
    alarm_insights: bool = False  # graphs, log evidence and child alarms in new alarm issues
    stack_account: str | None = None  # the account and region whose metrics and logs the functions can read
    stack_region: str | None = None
    read_resource_tags: bool = False  # fill providers' tag fields from resource tags (tag:GetResources)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from environment variables.

        Raises:
            ConfigError: a required variable is missing or a number is malformed.
        """
        missing = [name for name in ("PROVIDERS_TABLE", "STATE_TABLE") if not environ.get(name)]
        if missing:
            raise ConfigError(f"environment variable(s) {', '.join(missing)} must be set (the template sets them)")
        hosts = tuple(h.strip().lower() for h in environ.get("JIRA_ALLOWED_HOSTS", "").split(",") if h.strip())
        return cls(
            providers_table=environ["PROVIDERS_TABLE"],
            state_table=environ["STATE_TABLE"],
            default_notification_group=environ.get("DEFAULT_NOTIFICATION_GROUP") or None,
            allowed_hosts=hosts or DEFAULT_ALLOWED_HOSTS,
            dead_letter_queue_url=environ.get("DEAD_LETTER_QUEUE_URL") or None,
            config_cache_seconds=_int(environ, "CONFIG_CACHE_SECONDS", 300),
            jira_timeout_seconds=float(_int(environ, "JIRA_TIMEOUT_SECONDS", 10)),
            read_account_names=environ.get("READ_ACCOUNT_NAMES", "").strip().lower() == "true",
            sync_back=environ.get("SYNC_BACK", ""),
            webhook_secret_name=environ.get("WEBHOOK_SECRET_NAME") or None,
            alarm_insights=environ.get("ALARM_INSIGHTS", "").strip().lower() == "true",
            stack_account=environ.get("STACK_ACCOUNT_ID") or None,
            stack_region=environ.get("AWS_REGION") or None,
            read_resource_tags=environ.get("READ_RESOURCE_TAGS", "").strip().lower() == "true",
        )


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "")
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"environment variable {name} must be a whole number, got {value!r}") from None
