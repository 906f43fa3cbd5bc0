"""The ports every use case stands on, in one small bundle the composition root fills (``entry/wiring.py``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from jira_notifier.app.catalog import JiraCatalog
from jira_notifier.app.lease import Leases
from jira_notifier.core.config import ProviderConfig
from jira_notifier.ports import (
    AccountNamer,
    Clock,
    Insights,
    JiraFor,
    JiraPort,
    Log,
    NoAccountNames,
    NoResourceTags,
    NoSyncBack,
    Recorder,
    Remaining,
    ResourceTags,
    SecretSource,
    SilentLog,
    Sleep,
    SyncBackPort,
)


@dataclass
class Deps:
    """What the use cases reach the world through. ``clock`` and ``sleep`` are the one clock every use case reads
    (tests inject theirs); the rest are ports (``ports.py``)."""

    leases: Leases
    secrets: SecretSource
    connect: JiraFor  # a Jira client for a secret, carrying the invocation's deadline
    recorder: Recorder
    clock: Clock = time.time
    sleep: Sleep = time.sleep
    log: Log = field(default_factory=SilentLog)
    catalog: JiraCatalog = field(default_factory=JiraCatalog)
    accounts: AccountNamer = field(default_factory=NoAccountNames)  # names accounts in new issues
    sync_back: SyncBackPort = field(default_factory=NoSyncBack)  # tells AWS what became of the issue
    insights: Insights | None = None  # graphs, log evidence and child alarms in new alarm issues
    tags: ResourceTags = field(default_factory=NoResourceTags)  # resource tags for providers' tag fields
    gateway_allowed: bool = False  # JIRA_ALLOWED_HOSTS lets a 401 be checked against api.atlassian.com

    def jira(self, provider: ProviderConfig, remaining: Remaining) -> JiraPort:
        """A client for the provider's Jira, carrying the invocation's deadline."""
        return self.connect(self.secrets.get(provider.secret), remaining)
