"""Builds the real adapters once per warm container, lazily: nothing touches AWS or the network at import."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jira_notifier.core.config import GATEWAY_HOST, JiraSecret, ProviderConfig
from jira_notifier.entry.settings import Settings

if TYPE_CHECKING:
    import boto3
    import requests
    from boto3.session import Session
    from mypy_boto3_dynamodb import DynamoDBClient

    from jira_notifier.adapters.aws.deadletters import Parked
    from jira_notifier.adapters.aws.secrets import SecretStore
    from jira_notifier.adapters.jira.client import JiraClient
    from jira_notifier.app.insight import AlarmInsights
    from jira_notifier.app.notify import Notify
    from jira_notifier.entry.webhook import WebhookReceiver
    from jira_notifier.ports import JiraIssue, Parker, Recorder, SyncBackPort


_jira_session_factory: Callable[[], requests.Session] | None = None
_park_report: Callable[[Parked], None] | None = None


def use_jira_session(factory: Callable[[], requests.Session] | None) -> None:
    """Make Jira calls through sessions from ``factory`` (dry runs and benchmarks); None restores the default."""
    global _jira_session_factory
    _jira_session_factory = factory
    get_notifier.cache_clear()


def report_parks(report: Callable[[Parked], None] | None) -> None:
    """Tell ``report`` of every alert parked from now on (``jira-notifier invoke`` shows them and exits 1); None
    stops it."""
    global _park_report
    _park_report = report
    get_notifier.cache_clear()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Raises: ConfigError naming a missing or malformed variable."""
    return Settings.from_env(os.environ)


_clock: tuple[Callable[[], float], Callable[[float], None]] | None = None


def use_clock(clock: Callable[[], float] | None, sleep: Callable[[float], None] | None = None) -> None:
    """Build every use case and adapter on this clock (tests, benchmarks); None restores the system's."""
    global _clock
    _clock = (clock, sleep or time.sleep) if clock is not None else None
    reset()


def clock() -> tuple[Callable[[], float], Callable[[float], None]]:
    """The clock (and its sleep) every use case and adapter reads."""
    return _clock or (time.time, time.sleep)


@lru_cache(maxsize=4)
def get_notifier(function: str) -> Notify:
    """The event path for one function, with its adapters (built on first use, then reused while warm)."""
    import boto3
    from aws_lambda_powertools.utilities.parameters import DynamoDBProvider, SecretsProvider

    from jira_notifier.adapters.aws.accounts import OperatorAccountNames, OrganizationAccountNames, organizations_client
    from jira_notifier.adapters.aws.config import client_config
    from jira_notifier.adapters.aws.deadletters import DeadLetterQueue, RaiseInsteadOfParking, ReportingParker
    from jira_notifier.adapters.aws.secrets import SecretStore
    from jira_notifier.adapters.aws.tags import TaggingApiTags, tagging_client_factory
    from jira_notifier.adapters.dynamodb.providers import ProviderRepo
    from jira_notifier.adapters.dynamodb.state import StateStore
    from jira_notifier.adapters.observability import MetricsRecorder, logger, trace_sdk_calls
    from jira_notifier.app.deps import Deps
    from jira_notifier.app.lease import Leases
    from jira_notifier.app.notify import AlertFlow, Notify
    from jira_notifier.ports import NoResourceTags

    settings = get_settings()
    now, sleep = clock()
    recorder = MetricsRecorder()
    trace_sdk_calls()
    session = boto3.session.Session()
    config = client_config()
    dynamodb = session.client("dynamodb", config=config)
    secrets = SecretStore(
        SecretsProvider(boto_config=config, boto3_session=session),
        settings.allowed_hosts,
        settings.config_cache_seconds,
        on_read=report_token_expiry,
    )
    parker: Parker = (
        DeadLetterQueue(session.client("sqs", config=config), settings.dead_letter_queue_url, function)
        if settings.dead_letter_queue_url
        else RaiseInsteadOfParking()
    )
    if _park_report is not None:
        parker = ReportingParker(parker, _park_report)
    providers = ProviderRepo(
        DynamoDBProvider(
            settings.providers_table, key_attr="pk", sort_attr="sk", boto_config=config, boto3_session=session
        ),
        settings.config_cache_seconds,
    )
    deps = Deps(
        leases=Leases(StateStore(dynamodb, settings.state_table, clock=now, sleep=sleep), now),
        secrets=secrets,
        connect=jira_client_factory(settings.jira_timeout_seconds, _jira_session_factory),
        recorder=recorder,
        clock=now,
        sleep=sleep,
        log=logger,
        gateway_allowed=any(fnmatchcase(GATEWAY_HOST, pattern) for pattern in settings.allowed_hosts),
        accounts=(
            OrganizationAccountNames(
                lambda: organizations_client(session), settings.config_cache_seconds, fallback=providers.account_name
            )
            if settings.read_account_names
            else OperatorAccountNames(providers.account_name)
        ),
        sync_back=sync_back(settings, session, dynamodb, secrets),
        insights=alarm_insights(settings, session, recorder) if settings.alarm_insights else None,
        tags=TaggingApiTags(tagging_client_factory(session)) if settings.read_resource_tags else NoResourceTags(),
    )
    return Notify(AlertFlow(deps), providers, parker, settings.default_notification_group)


def sync_back(settings: Settings, session: Session, dynamodb: DynamoDBClient, secrets: SecretStore) -> SyncBackPort:
    """Back to AWS for the providers that ask, as far as the stack allows (a provider asking for more gets a logged
    reason and ``SyncBackFailed``); its clients are created on the first call that needs one."""
    from jira_notifier.adapters.aws.sync_requests import parse_capabilities
    from jira_notifier.adapters.aws.syncback import AwsSyncBack
    from jira_notifier.adapters.dynamodb.ledger import StateItemLedger
    from jira_notifier.adapters.observability import MetricsRecorder, logger

    return AwsSyncBack(
        lambda service, region: sync_back_client(session, service, region),
        StateItemLedger(dynamodb, settings.state_table, clock=clock()[0]),
        MetricsRecorder(),
        logger,
        parse_capabilities(settings.sync_back),
        site_of=lambda secret: secrets.get(secret).server_url,
        clock=clock()[0],
    )


def sync_back_client(session: Session, service: str, region: str) -> Any:
    """One AWS client for sync-back calls, bounded like every other (``aws.py``)."""
    from jira_notifier.adapters.aws.config import client_config

    return session.client(service, region_name=region, config=client_config())  # type: ignore[call-overload]


def alarm_insights(settings: Settings, session: boto3.session.Session, recorder: Recorder) -> AlarmInsights:
    """Graphs, log evidence and child alarms for new alarm issues; their clients are made on first use, so an
    invocation that creates no alarm issue pays nothing for them."""
    from jira_notifier.adapters.aws.insight import CloudWatchReader, LogsReader, insight_client_config
    from jira_notifier.adapters.observability import logger
    from jira_notifier.app.insight import AlarmInsights
    from jira_notifier.core.budgets import START_BUDGET_SECONDS

    return AlarmInsights(
        cloudwatch=CloudWatchReader(lambda: session.client("cloudwatch", config=insight_client_config())),
        logs=LogsReader(lambda: session.client("logs", config=insight_client_config())),
        recorder=recorder,
        account=settings.stack_account,
        region=settings.stack_region,
        reserve_seconds=START_BUDGET_SECONDS,
        log=logger,
    )


def jira_client_factory(
    timeout: float, session_factory: Callable[[], requests.Session] | None = None
) -> Callable[[JiraSecret, Callable[[], float] | None], JiraClient]:
    """One ``requests.Session`` per warm container, one transport per distinct credential (a rotated token gets a
    fresh one, keeping the pooled connections), and per invocation a client carrying its deadline."""
    import requests

    from jira_notifier.adapters.jira.client import JiraClient
    from jira_notifier.adapters.jira.transport import JiraTransport
    from jira_notifier.adapters.observability import record_jira_call

    session = (session_factory or requests.Session)()
    transports: dict[tuple[str, str], JiraTransport] = {}

    def jira_for(secret: JiraSecret, remaining: Callable[[], float] | None) -> JiraClient:
        fingerprint = hashlib.sha256(f"{secret.email}\0{secret.api_token}\0{secret.api_base_url}".encode()).hexdigest()
        transport = transports.get((secret.name, fingerprint))
        if transport is None:
            transport = JiraTransport(secret, session=session, timeout=timeout, observer=record_jira_call)
            transports[(secret.name, fingerprint)] = transport
        return JiraClient(transport, remaining)

    return jira_for


def report_token_expiry(secret: JiraSecret) -> None:
    from jira_notifier.adapters.observability import record_token_expiry

    days = secret.days_until_expiry(datetime.now(UTC).date())
    if days is not None:
        record_token_expiry(days)


@lru_cache(maxsize=1)
def get_webhook_receiver() -> WebhookReceiver:
    """The Jira webhook receiver: the notifier's state, secrets and Jira adapters, the providers of every group and
    the shared secret (cached for CONFIG_CACHE_SECONDS, as the providers' Jira Token secrets are).

    Raises:
        ConfigError: WEBHOOK_SECRET_NAME is not set.
    """
    import time

    import boto3
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    from jira_notifier.adapters.aws.config import client_config
    from jira_notifier.adapters.dynamodb.owned import OwnedIssueStore
    from jira_notifier.adapters.dynamodb.providers import scan_providers
    from jira_notifier.app.readback import read_issue
    from jira_notifier.core.errors import ConfigError, SecretError, SecretFetchError
    from jira_notifier.entry.webhook import WebhookReceiver

    settings = get_settings()
    secret_name = settings.webhook_secret_name
    if not secret_name:
        raise ConfigError("environment variable WEBHOOK_SECRET_NAME must be set (the template sets it)")
    deps = get_notifier("webhook").deps
    session = boto3.session.Session()
    config = client_config()
    dynamodb = session.client("dynamodb", config=config)
    secrets = SecretsProvider(boto_config=config, boto3_session=session)
    cached: dict[str, tuple[float, list[ProviderConfig]]] = {}

    def shared_secret() -> bytes:
        try:
            value = secrets.get(secret_name, max_age=settings.config_cache_seconds)
        except GetParameterError:
            raise SecretFetchError("the webhook's shared secret could not be read; will retry") from None
        if not isinstance(value, str) or not value:
            raise SecretError("the webhook's shared secret must be a non-empty SecretString")
        return value.encode("utf-8")

    def providers() -> list[ProviderConfig]:
        now = time.monotonic()
        if "all" not in cached or now - cached["all"][0] > settings.config_cache_seconds:
            cached["all"] = (now, scan_providers(dynamodb, settings.providers_table))
        return cached["all"][1]

    def read(provider: ProviderConfig, issue_id: str, remaining: Callable[[], float] | None) -> JiraIssue | None:
        return read_issue(deps.jira(provider, remaining), issue_id)

    return WebhookReceiver(
        shared_secret=shared_secret,
        providers=providers,
        secret=deps.secrets.get,
        owned=OwnedIssueStore(dynamodb, settings.state_table),
        leases=deps.leases,
        read_issue=read,
        recorder=deps.recorder,
        sync_back=deps.sync_back,
        clock=deps.clock,
    )


def reset() -> None:
    """Forget every cached adapter (tests; a new configuration in a long-running process)."""
    get_settings.cache_clear()
    get_notifier.cache_clear()
    get_webhook_receiver.cache_clear()


def remaining_from(context: Any) -> Callable[[], float] | None:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    return (lambda: getter() / 1000.0) if callable(getter) else None
