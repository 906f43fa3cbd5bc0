"""Every port the use cases (``app/``) stand on, and the data that crosses them.

A port is a ``Protocol`` named for what the use case needs (``LeaseStorage``, ``JiraPort``, ``SyncBackPort``);
``adapters/`` implements them against AWS and Jira, ``tests/support/fakes.py`` in memory, and ``entry/wiring.py``
(or the CLI) picks which. Nothing here does I/O; the few classes with a body are the null objects a use case falls
back on when a capability is off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from jira_notifier.core.budgets import DEFAULT_REMAINING_SECONDS

if TYPE_CHECKING:
    from jira_notifier.core.alert import Alert, ChildAlarm, GraphImage
    from jira_notifier.core.config import JiraSecret, ProviderConfig
    from jira_notifier.core.errors import JiraNotifierError, JiraRequestError
    from jira_notifier.core.state import IssueState

Clock = Callable[[], float]  # epoch seconds
Sleep = Callable[[float], None]
Remaining = Callable[[], float] | None  # seconds left of the invocation; None: no deadline (the CLI)
Countdown = Callable[[], float]  # seconds left of the invocation, always there (``no_deadline`` stands in for none)


def no_deadline() -> float:
    """The countdown of a run with no deadline of its own (the CLI, a test): a Lambda timeout's worth, always."""
    return DEFAULT_REMAINING_SECONDS


# ---- observing ----------------------------------------------------------------------------------------------


class Recorder(Protocol):
    """Counts a metric (``MetricsRecorder`` in Lambda)."""

    def count(self, name: str, value: float = 1) -> None: ...


class Log(Protocol):
    """Structured log lines: a constant message and keyword context (Powertools' logger)."""

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None: ...
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None: ...
    def error(self, msg: str, *args: Any, **kwargs: Any) -> None: ...


class SilentLog:
    """No log (the fast tests)."""

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        return None

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        return None

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:
        return None


# ---- configuration ------------------------------------------------------------------------------------------


class ProviderSource(Protocol):
    """The providers of a notification group, and the routes to groups (the providers table)."""

    def group_providers(self, group: str) -> list[ProviderConfig]: ...
    def route(self, route: str) -> str | None: ...
    def alarm_tag_routes(self) -> Mapping[tuple[str, str], str]: ...


class SecretSource(Protocol):
    """ "Jira Token" secrets by name, cached; ``forget`` drops the cache (a token may have been rotated)."""

    def get(self, name: str) -> JiraSecret: ...
    def forget(self) -> None: ...


class Parker(Protocol):
    """The dead-letter queue: an alert that cannot succeed by retrying, with the reason."""

    def park(self, *, event: Any, error: JiraNotifierError, alert: Alert | None, provider: str | None) -> None: ...


# ---- the state table ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Acquired:
    """A lease as the storage granted it: its owner token, the state as it was (with any write-ahead mark an earlier
    holder left), when the durable mark was set, and whether this acquisition wrote it."""

    owner: str
    state: IssueState
    mark_at: float | None = None
    mark_written: bool = False


class LeaseStorage(Protocol):
    """Where issue states live, each written only under its lease (``StateStore``; in memory in the fast tests).
    The unit of work over it is ``app.lease``."""

    def acquire(
        self, pk: str, provider: str, dedupe_key: str, *, deadline: float, wait_seconds: float, mark: bool = True
    ) -> Acquired: ...
    def write(self, owner: str, state: IssueState, *, release: bool, deadline: float) -> None: ...
    def release(self, pk: str, owner: str, *, clear_mark: bool, deadline: float) -> None: ...


class LinkScan(Protocol):
    """The alert-to-issue links the scheduled run checks against their sources: open issues, and firing alerts whose
    issue a person closed or deleted, or that are storm members."""

    def links(self, pk_prefix: str = "") -> Iterable[IssueState]: ...


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a provider's read-back stands: when its last completed run searched, and last swept for deletions."""

    read_at: float
    swept_at: float | None = None


class OwnedIssues(Protocol):
    """The state table as Jira talking back reads it: states by key, a provider's open ones, the read-back's cursor,
    and the webhook deliveries already seen (``OwnedIssueStore``)."""

    def states(self, pks: Iterable[str]) -> dict[str, IssueState]: ...
    def open_states(self, provider_id: str) -> list[IssueState]: ...
    def cursor(self, provider_id: str) -> Cursor | None: ...
    def save_cursor(self, provider_id: str, cursor: Cursor) -> None: ...
    def claim_delivery(self, identifier: str) -> bool: ...
    def forget_delivery(self, identifier: str) -> None: ...


# ---- Jira ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreatedIssue:
    id: str
    key: str


@dataclass(frozen=True, slots=True)
class JiraIssue:
    """What the product reads of an issue (what was asked for; the rest is empty): no Jira JSON leaves the Jira
    adapter."""

    id: str
    key: str
    status_category: str | None = None  # new | indeterminate | done
    resolution: str | None = None
    resolved_at: float | None = None  # epoch seconds
    created_at: float | None = None
    labels: tuple[str, ...] = ()
    priority: str | None = None  # its name
    updated_at: float | None = None  # epoch seconds of its last change
    project_key: str | None = None

    @property
    def done(self) -> bool:
        return self.status_category == "done"


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment Jira stored."""

    id: str
    filename: str
    size: int | None = None


@dataclass(frozen=True, slots=True)
class BulkResult:
    """One element of a bulk create, in request order: the issue, or the error that refused it."""

    issue: CreatedIssue | None
    error: JiraRequestError | None


class JiraPort(Protocol):
    """The Jira calls the use cases make (``JiraClient`` in Lambda; in-memory fakes in fast tests)."""

    @property
    def base_url(self) -> str: ...
    @property
    def timeout(self) -> float: ...
    def create_meta_issue_types(self, project: str) -> list[dict[str, Any]]: ...
    def create_meta_fields(self, project: str, issue_type_id: str) -> list[dict[str, Any]]: ...
    def create_issue(self, body: Mapping[str, Any]) -> CreatedIssue: ...
    def bulk_create(self, bodies: Sequence[Mapping[str, Any]]) -> list[BulkResult]: ...
    def get_issue(self, issue: str, fields: Iterable[str]) -> JiraIssue: ...
    def search_jql(
        self,
        jql: str,
        fields: Sequence[str],
        *,
        reconcile_ids: Sequence[int] = (),
        max_results: int = 50,
        all_pages: bool = True,
    ) -> list[JiraIssue]: ...
    def add_comment(self, issue: str, body: Mapping[str, Any]) -> None: ...
    def add_attachment(self, issue: str, file_name: str, content: bytes, content_type: str) -> list[Attachment]: ...
    def edit_issue(self, issue: str, fields: Mapping[str, Any]) -> None: ...
    def get_transitions(self, issue: str) -> list[dict[str, Any]]: ...
    def transition(
        self, issue: str, transition_id: str, *, comment: Mapping[str, Any] | None = None, resolution: str | None = None
    ) -> None: ...
    def gateway_accepts(self) -> bool: ...


JiraFor = Callable[["JiraSecret", Remaining], JiraPort]  # a client for a secret, carrying the invocation's deadline


# ---- what a new issue shows ---------------------------------------------------------------------------------


class AccountNamer(Protocol):
    """Gives an alert's account its name (Organizations, or the operator's names)."""

    def named(self, alert: Alert) -> Alert: ...


class NoAccountNames:
    def named(self, alert: Alert) -> Alert:
        return alert


class ResourceTags(Protocol):
    """The tags of the resources behind an alert (``tag:GetResources``), merged."""

    def tags(self, arns: Sequence[str]) -> dict[str, str]: ...


class NoResourceTags:
    def tags(self, arns: Sequence[str]) -> dict[str, str]:
        return {}


class Insights(Protocol):
    """What a new alarm issue shows beyond its event: prepared before the create, attached right after it."""

    def prepare(
        self, alert: Alert, provider: ProviderConfig, remaining: Remaining
    ) -> tuple[Alert, GraphImage | None]: ...
    def attach(self, client: JiraPort, issue_key: str, image: GraphImage) -> None: ...


@dataclass(frozen=True, slots=True)
class MetricFilter:
    log_group: str
    pattern: str


@dataclass(frozen=True, slots=True)
class LogEvent:
    timestamp_ms: int
    message: str
    stream: str = ""  # events of several streams come interleaved; a key logged line by line is in one


class AlarmReader(Protocol):
    """CloudWatch for the insights: a metric widget's PNG (``GetMetricWidgetImage``), and alarms by name."""

    def render(self, widget_json: str) -> bytes: ...
    def alarms(self, names: Sequence[str]) -> list[ChildAlarm]: ...


class LogReader(Protocol):
    """CloudWatch Logs for the log evidence: the metric filter behind a metric, and the events it matches."""

    def metric_filter(self, namespace: str, metric: str) -> MetricFilter | None: ...
    def events(
        self, found: MetricFilter, start_ms: int, end_ms: int, limit: int, has_time: Callable[[], bool]
    ) -> tuple[list[LogEvent], bool]: ...


# ---- what a source says now (the scheduled reconcile) ------------------------------------------------------

# Sources that keep no state to ask: their issues are left to their own notifications (and to people).
NO_STATE_SOURCES = ("cost-anomaly", "budget", "notification", "generic")


class Truth(StrEnum):
    ACTIVE = "active"  # the source still has it firing (or cannot say it is over): nothing to do
    CLEARED = "cleared"  # the source says it is over
    GONE = "gone"  # the source no longer has it at all (a deleted alarm)
    UNCHECKED = "unchecked"  # cannot be told from here: another account or region, not visible, the call failed


@dataclass(frozen=True, slots=True)
class Answer:
    truth: Truth
    detail: str  # what the source said, in a sentence: goes into the comment, or says why it was not checked
    at: int | None = None  # epoch ms of the source's last transition, when it gives one
    reason: str = ""  # the source's own reason text (an alarm's StateReason)
    wont_fix: bool = False  # cleared by a decision not to act (a suppressed finding): the issue resolves as won't-fix


@dataclass(frozen=True, slots=True)
class SourceRef:
    """An alert as its source names it."""

    source: str  # cloudwatch-alarm | cloudwatch-contributor | securityhub | securityhub-v2 | guardduty | health
    name: str  # what the API takes: alarm name, finding id (uid), event ARN
    account: str | None = None
    region: str | None = None
    product_arn: str | None = None  # Security Hub: a finding is (ProductArn, Id); OCSF: (account, product uid, uid)
    part: str | None = None  # what within ``name`` the alert is: a contributor's id

    @property
    def key(self) -> tuple[str, str, str | None]:
        """What one answer is for: links with the same key share it (Health: the entities of one event). An OCSF
        finding is named by its account and product as well as its uid."""
        if self.part is not None:
            return self.source, self.name, self.part
        if self.account is not None and self.product_arn is not None:
            return self.source, self.name, f"{self.account}|{self.product_arn}"
        return self.source, self.name, self.product_arn


class SourceTruth(Protocol):
    """One source's adapter: which refs it can see from here, and their answers, one API call per batch."""

    source: str
    batch_size: int

    def out_of_reach(self, ref: SourceRef) -> str | None: ...
    def ask(self, refs: Sequence[SourceRef]) -> dict[tuple[str, str, str | None], Answer]: ...


KeyReader = Callable[[str], "SourceRef | None"]  # a link's dedupe key read back into its source's name for it


# ---- back to AWS --------------------------------------------------------------------------------------------


class SyncBackPort(Protocol):
    """Tells an alert's source what became of its issue (opt-in per provider). Never raises: a failure is counted,
    and remembered for the scheduled run when it may pass."""

    def issue_created(self, provider: ProviderConfig, alert: Alert, state: IssueState) -> None: ...
    def issue_resolved(self, provider: ProviderConfig, alert: Alert, state: IssueState) -> None: ...
    def sync_resolution(self, provider: ProviderConfig, state: IssueState, resolution: str | None) -> None: ...
    def retry_due(self, providers: ProviderSource) -> RetryReport:
        """Send again the sync-backs that failed in a way that may pass, as remembered; the scheduled run's last
        step."""
        ...


@dataclass
class RetryReport:
    sent: int = 0
    failed: int = 0  # still due: tried again by the next run
    given_up: int = 0
    dropped: int = 0  # no longer fits: the provider stopped asking, or the issue moved on since


class NoSyncBack:
    """No stack capability at all (and the fast tests): nothing goes back to AWS."""

    def issue_created(self, provider: ProviderConfig, alert: Alert, state: IssueState) -> None:
        return None

    def issue_resolved(self, provider: ProviderConfig, alert: Alert, state: IssueState) -> None:
        return None

    def sync_resolution(self, provider: ProviderConfig, state: IssueState, resolution: str | None) -> None:
        return None

    def retry_due(self, providers: ProviderSource) -> RetryReport:
        return RetryReport()


__all__ = [
    "Acquired",
    "AccountNamer",
    "AlarmReader",
    "Attachment",
    "BulkResult",
    "Clock",
    "Countdown",
    "CreatedIssue",
    "Cursor",
    "Insights",
    "KeyReader",
    "NO_STATE_SOURCES",
    "Answer",
    "SourceRef",
    "SourceTruth",
    "Truth",
    "JiraFor",
    "JiraIssue",
    "JiraPort",
    "LeaseStorage",
    "LinkScan",
    "LogEvent",
    "LogReader",
    "Log",
    "MetricFilter",
    "NoAccountNames",
    "NoResourceTags",
    "NoSyncBack",
    "no_deadline",
    "OwnedIssues",
    "Parker",
    "ProviderSource",
    "Recorder",
    "Remaining",
    "RetryReport",
    "ResourceTags",
    "SecretSource",
    "SilentLog",
    "Sleep",
    "SyncBackPort",
]
