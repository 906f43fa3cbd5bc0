"""In-memory stand-ins for the core's ports, for fast tests of the orchestration: no moto, no HTTP.

``MemoryStateStore`` keeps the state table's contract (a conditional lease, the write-ahead mark set with it, the
item as it was returned on acquire); ``MemoryJira`` is the Jira client's surface over a few issues, with a search
that trails writes and errors to inject per call.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from jira_notifier.adapters.dynamodb.state import LEASE_SLACK_SECONDS
from jira_notifier.app.deps import Deps
from jira_notifier.app.lease import Leases
from jira_notifier.app.notify import AlertFlow, Notify
from jira_notifier.core.alert import AlertState
from jira_notifier.core.config import JiraSecret, ProviderConfig
from jira_notifier.core.errors import BusyError, JiraNotifierError
from jira_notifier.core.state import IssueState, IssueStatus
from jira_notifier.ports import Acquired, Attachment, BulkResult, CreatedIssue, JiraIssue

T = TypeVar("T")


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class _Item:
    state: IssueState
    owner: str | None = None
    until: float = 0.0


class MemoryStateStore:
    """The state table's contract in memory (see ``adapters.dynamodb.state.StateStore``)."""

    def __init__(self, clock: Clock) -> None:
        self.clock, self.sleep = clock.time, clock.sleep
        self.items: dict[str, _Item] = {}

    def acquire(
        self, pk: str, provider: str, dedupe_key: str, *, deadline: float, wait_seconds: float, mark: bool = True
    ) -> Acquired:
        item = self.items.setdefault(pk, _Item(IssueState(pk=pk, provider=provider, dedupe_key=dedupe_key)))
        now = self.clock()
        if item.owner is not None and item.until >= now:
            raise BusyError("another invocation is updating this alert's issue; will retry")
        old = item.state
        item.owner, item.until = uuid.uuid4().hex, deadline + LEASE_SLACK_SECONDS
        if old.pending_create_at is not None or not mark:
            return Acquired(item.owner, old, mark_at=old.pending_create_at)
        item.state = replace(old, pending_create_at=now)
        return Acquired(item.owner, old, mark_at=now, mark_written=True)

    def write(self, owner: str, state: IssueState, *, release: bool, deadline: float) -> None:
        item = self.items[state.pk]
        if item.owner != owner:
            raise BusyError("lost this alert's lease while updating it; will retry")
        item.state = state
        if release:
            item.owner = None

    def release(self, pk: str, owner: str, *, clear_mark: bool, deadline: float) -> None:
        item = self.items[pk]
        if item.owner == owner:
            item.owner = None
            if clear_mark:
                item.state = replace(item.state, pending_create_at=None)

    def stored(self) -> list[IssueState]:
        return [item.state for item in self.items.values()]

    def links(self, pk_prefix: str = "") -> list[IssueState]:
        """As ``StateStore.links``: open issues, and firing alerts a person's decision or a storm's parent holds."""
        return [s for s in self.stored() if s.pk.startswith(pk_prefix) and _live(s)]


def _live(state: IssueState) -> bool:
    held = state.person_decision is not None or state.parent is not None
    return state.issue_status is IssueStatus.OPEN or (state.alert_state is AlertState.FIRING and held)


@dataclass
class MemoryIssue:
    id: str
    key: str
    labels: tuple[str, ...]
    created_at: float
    done: bool = False
    resolution: str | None = None
    comments: int = 0
    attachments: list[str] = field(default_factory=list)  # file names
    priority: str | None = None


@dataclass
class MemoryJira:
    """The Jira client's surface, over issues in memory."""

    clock: Clock
    base_url: str = "https://example.atlassian.net"
    timeout: float = 10.0
    search_lag: float = 0.0
    issues: dict[str, MemoryIssue] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    errors: dict[str, list[tuple[JiraNotifierError, bool]]] = field(default_factory=dict)  # call -> (error, acted)
    _ids: Any = field(default_factory=lambda: itertools.count(10001))

    def fail(self, call: str, error: JiraNotifierError, *, acted: bool = False) -> None:
        """The next ``call`` raises ``error``; with ``acted``, Jira carried it out first."""
        self.errors.setdefault(call, []).append((error, acted))

    def _answer(self, call: str, act: Callable[[], T]) -> T:
        self.calls[call] += 1
        queued = self.errors.get(call)
        if queued:
            error, acted = queued.pop(0)
            if acted:
                act()
            raise error
        return act()

    def _new(self, body: Mapping[str, Any]) -> CreatedIssue:
        number = next(self._ids)
        fields = body["fields"]
        issue = MemoryIssue(str(number), f"OPS-{number - 10000}", tuple(fields["labels"]), self.clock.time())
        issue.priority = (fields.get("priority") or {}).get("name")
        self.issues[issue.key] = issue
        return CreatedIssue(issue.id, issue.key)

    def create_meta_issue_types(self, project: str) -> list[dict[str, Any]]:
        return self._answer("createmeta", lambda: [{"id": "10001", "name": "Task", "subtask": False}])

    def create_meta_fields(self, project: str, issue_type_id: str) -> list[dict[str, Any]]:
        return self._answer("createmeta-fields", list)

    def create_issue(self, body: Mapping[str, Any]) -> CreatedIssue:
        return self._answer("create", lambda: self._new(body))

    def bulk_create(self, bodies: Sequence[Mapping[str, Any]]) -> list[BulkResult]:
        return self._answer("bulk", lambda: [BulkResult(self._new(body), None) for body in bodies])

    def _typed(self, issue: MemoryIssue) -> JiraIssue:
        category = "done" if issue.done else "new"
        return JiraIssue(
            id=issue.id,
            key=issue.key,
            status_category=category,
            resolution=issue.resolution,
            created_at=issue.created_at,
            labels=issue.labels,
            priority=issue.priority,
        )

    def get_issue(self, issue: str, fields: Iterable[str]) -> JiraIssue:
        return self._answer("get", lambda: self._typed(self.issues[issue]))

    def search_jql(
        self,
        jql: str,
        fields: Sequence[str],
        *,
        reconcile_ids: Sequence[int] = (),
        max_results: int = 50,
        all_pages: bool = True,
    ) -> list[JiraIssue]:
        visible_before = self.clock.time() - self.search_lag
        label = jql.split('labels = "', 1)[1].split('"', 1)[0]
        return self._answer(
            "search",
            lambda: [
                self._typed(issue)
                for issue in sorted(self.issues.values(), key=lambda i: -int(i.id))
                if label in issue.labels and (issue.created_at <= visible_before or int(issue.id) in reconcile_ids)
            ],
        )

    def add_comment(self, issue: str, body: Mapping[str, Any]) -> None:
        def comment() -> None:
            self.issues[issue].comments += 1

        self._answer("comment", comment)

    def add_attachment(self, issue: str, file_name: str, content: bytes, content_type: str) -> list[Attachment]:
        def attach() -> list[Attachment]:
            self.issues[issue].attachments.append(file_name)
            return [Attachment(str(len(self.issues[issue].attachments)), file_name, len(content))]

        return self._answer("attach", attach)

    def edit_issue(self, issue: str, fields: Mapping[str, Any]) -> None:
        def edit() -> None:
            self.issues[issue].priority = fields["priority"]["name"]

        self._answer("edit", edit)

    def get_transitions(self, issue: str) -> list[dict[str, Any]]:
        done = {"statusCategory": {"key": "done"}}
        todo = {"statusCategory": {"key": "new"}}
        available = [{"id": "11", "name": "Reopen", "to": todo}] if self.issues[issue].done else []
        return self._answer("transitions", lambda: available or [{"id": "31", "name": "Done", "to": done}])

    def transition(
        self, issue: str, transition_id: str, *, comment: Mapping[str, Any] | None = None, resolution: str | None = None
    ) -> None:
        key = issue

        def move() -> None:
            issue = self.issues[key]
            issue.done = transition_id == "31"
            issue.resolution = (resolution or "Done") if issue.done else None

        self._answer("transition", move)

    def gateway_accepts(self) -> bool:
        return False


@dataclass
class Ports:
    """The event path wired to in-memory ports, and what it did."""

    clock: Clock
    store: MemoryStateStore
    jira: MemoryJira
    parked: list[str]
    counts: Counter[str]
    notify: Notify

    @property
    def deps(self) -> Deps:
        return self.notify.deps


def in_memory(provider: ProviderConfig, secret: JiraSecret, *, providers: Sequence[ProviderConfig] = ()) -> Ports:
    clock = Clock()
    store, jira = MemoryStateStore(clock), MemoryJira(clock)
    parked: list[str] = []
    counts: Counter[str] = Counter()

    class Providers:
        def group_providers(self, group: str) -> list[ProviderConfig]:
            return [provider, *providers]

        def route(self, route: str) -> str | None:
            return None

        def alarm_tag_routes(self) -> dict[tuple[str, str], str]:
            return {}

    class Secrets:
        def get(self, name: str) -> JiraSecret:
            return secret

        def forget(self) -> None:
            pass

    class Parker:
        def park(self, *, event: Any, error: JiraNotifierError, alert: Any, provider: str | None) -> None:
            parked.append(error.reason)

    class Recorder:
        def count(self, name: str, value: float = 1) -> None:
            counts[name] += int(value)

    deps = Deps(
        leases=Leases(store, clock.time),
        secrets=Secrets(),
        connect=lambda secret, remaining: jira,
        recorder=Recorder(),
        clock=clock.time,
        sleep=clock.sleep,
    )
    notify = Notify(AlertFlow(deps), Providers(), Parker(), "ops")
    return Ports(clock, store, jira, parked, counts, notify)
