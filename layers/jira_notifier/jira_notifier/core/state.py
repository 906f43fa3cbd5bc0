"""The state table: which Jira issue follows which alert, per provider; the source of truth of the hot path.

One item per (provider, dedupe key). Every change happens under a short lease taken with a conditional
update, so concurrent invocations for one alert are serialized and exactly one of them creates the issue.

Exactly once rests on one write-ahead rule, kept by ``Lease``: the item says "a create for this alert started at
T" (``pendingCreateAt``) durably *before* any create request leaves, and only a confirmed answer (the issue is
recorded) or a search that proves the outcome clears it. Whoever finds the mark later looks for the issue
before creating anything (``unconfirmed.recover``). The lease write itself sets the mark when the item has
none, so the rule costs no extra write: a holder that does not create clears it again with the write that
releases the lease.

Assumption: leases compare the holder's clock with the next acquirer's (``lockUntil``). Lambda hosts keep
NTP time; a skew beyond the lease's slack (``LEASE_SLACK_SECONDS``) could let two holders overlap.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from jira_notifier.adapters.aws.config import AWS_CALL_WORST_SECONDS
from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.errors import BusyError, StoreError
from jira_notifier.core.storm import Group, group_from_item, group_to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RECENT_DELIVERIES = 25  # delivery keys remembered per alert: duplicates arrive within minutes
ITEM_TTL_SECONDS = 400 * 86400  # an alert silent for this long starts over (DynamoDB TTL on "ttl")
LOCK_POLL_SECONDS = 0.25
SAVE_TRIES = 3  # a state write often records what Jira already did: worth a few tries beyond botocore's own
SAVE_BACKOFF_SECONDS = 0.1
LEASE_SLACK_SECONDS = 10.0  # a lease outlives its invocation by this much: clock skew and the last write
# A create goes out at most this long after its mark was written; later than that the mark is written anew
# first, so "mark time + this + Jira's timeout" bounds when a create that was sent can have left.
CREATE_SEND_WINDOW = 10.0


class IssueStatus(StrEnum):
    NONE = "none"
    OPEN = "open"
    RESOLVED = "resolved"


class PersonDecision(StrEnum):
    """What a person did to the issue in Jira, as read back (``talkback.py``); ``lifecycle.decide`` honours it."""

    RESOLVED = "resolved"  # resolved while the product had it open
    WONT_FIX = "wont-fix"  # resolved with the provider's won't-fix resolution: never reopened
    REOPENED = "reopened"  # reopened after it was resolved
    DELETED = "deleted"  # gone from Jira while the product had it


class WorkflowPhase(StrEnum):
    """Where the issue is in its workflow: keys the transition cache."""

    CREATED = "created"
    RESOLVED = "resolved"
    REOPENED = "reopened"


@dataclass(frozen=True, slots=True)
class IssueState:
    """What jira-notifier knows of one alert's issue in one provider, and how that knowledge changes (pure: the
    ``Lease`` writes it)."""

    pk: str
    provider: str
    dedupe_key: str
    issue_id: str | None = None
    issue_key: str | None = None
    issue_status: IssueStatus = IssueStatus.NONE
    alert_state: AlertState | None = None  # the last state applied
    transition_at: int | None = None  # epoch ms of the last state change applied
    last_fingerprint: str | None = None
    last_comment_at: float | None = None
    resolved_at: float | None = None
    created_at: float | None = None
    pending_create_at: float | None = None  # the write-ahead mark: a create started then and is not confirmed
    last_write_at: float | None = None  # last Jira write on the issue (for flap coalescing)
    coalesced: Mapping[str, int] = field(default_factory=dict)  # state -> changes held back
    coalesced_since: float | None = None
    pending_state: AlertState | None = None  # the newest state held back by coalescing, applied by the next write
    pending_transition_at: int | None = None
    deliveries: tuple[str, ...] = ()  # digests of the last delivery keys applied
    workflow_phase: WorkflowPhase = WorkflowPhase.CREATED
    status_unsure_since: float | None = None  # a transition's answer was lost: read the issue before deciding
    person_decision: PersonDecision | None = None  # what a person last did to the issue in Jira
    person_resolution: str | None = None  # the resolution a person chose
    person_decided_at: float | None = None  # when it was read back
    person_notice_at: float | None = None  # when the product last commented that it holds back for that decision
    issue_project: str | None = None  # the project key the issue is in, once it was seen to move
    parent: str | None = None  # a storm member: the dedupe key of the parent issue it is listed in (storm.py)
    group: Group | None = None  # a storm parent: its members (storm.py)
    priority_set: str | None = None  # the priority the product last gave the issue; None: not the product's to raise

    def seen(self, delivery_key: str) -> bool:
        return delivery_digest(delivery_key) in self.deliveries

    def with_delivery(self, delivery_key: str) -> IssueState:
        digest = delivery_digest(delivery_key)
        kept = tuple(d for d in self.deliveries if d != digest)[-(RECENT_DELIVERIES - 1) :]
        return replace(self, deliveries=(*kept, digest))

    def remembered(self, alert: Alert, *, applied: bool = True) -> IssueState:
        """The delivery recorded, and the alert's state when it was applied (or is simply newer than ours).

        A held-back change counts as ours: a copy of it (a retry, a second channel) is not applied by being skipped,
        and recording it so would make the write of the held-back change look like a duplicate."""
        state = self.with_delivery(alert.delivery_key)
        known = [t for t in (state.transition_at, state.pending_transition_at) if t is not None]
        newer = alert.transition_at is not None and (not known or alert.transition_at > max(known))
        if applied or newer:
            state = replace(state, alert_state=alert.state, transition_at=alert.transition_at or state.transition_at)
        return state

    def written(self, alert: Alert, now: float, *, commented: bool) -> IssueState:
        """``alert`` applied by a Jira write at ``now``: whatever was held back went with it."""
        state = replace(self.remembered(alert), last_write_at=now, coalesced={}, coalesced_since=None).without_pending()
        if commented:
            state = replace(state, last_fingerprint=alert.content_fingerprint, last_comment_at=now)
        return state

    def joined(self, alert: Alert, parent: str) -> IssueState:
        """A storm member applied to its parent: the delivery and state recorded, and which parent it is in."""
        return replace(self.remembered(alert), parent=parent)

    def with_group(self, group: Group) -> IssueState:
        """A storm parent's membership as it now stands."""
        return replace(self, group=group)

    def held_back(self, alert: Alert, now: float) -> IssueState:
        """``alert`` kept as the state to write next; it supersedes whatever was held back before it."""
        counts = dict(self.coalesced)
        counts[alert.state.value] = counts.get(alert.state.value, 0) + 1
        state = replace(
            self.with_delivery(alert.delivery_key), coalesced=counts, coalesced_since=self.coalesced_since or now
        )
        return state.with_pending(alert.state, alert.transition_at)

    def with_pending(self, alert_state: AlertState | None, transition_at: int | None) -> IssueState:
        return replace(self, pending_state=alert_state, pending_transition_at=transition_at)

    def without_pending(self) -> IssueState:
        return self.with_pending(None, None)

    def created(
        self, alert: Alert, issue_id: str, issue_key: str, now: float, *, priority: str | None = None
    ) -> IssueState:
        """Jira confirmed the create for ``alert`` (sent with ``priority``): the issue is open, this delivery done."""
        fresh = replace(
            self,
            issue_id=issue_id,
            issue_key=issue_key,
            issue_status=IssueStatus.OPEN,
            created_at=now,
            pending_create_at=None,
            last_fingerprint=alert.content_fingerprint,
            last_comment_at=None,
            resolved_at=None,
            workflow_phase=WorkflowPhase.CREATED,
            last_write_at=now,
            coalesced={},
            coalesced_since=None,
            status_unsure_since=None,
            priority_set=priority,
        )
        return fresh.without_pending().without_person_decision().remembered(alert)

    def adopted(
        self, alert: Alert, issue_id: str, issue_key: str, *, done: bool, created_at: float | None
    ) -> IssueState:
        """The issue an unconfirmed create made, found in Jira, is the alert's (its delivery not yet recorded)."""
        return replace(
            self,
            issue_id=issue_id,
            issue_key=issue_key,
            issue_status=IssueStatus.RESOLVED if done else IssueStatus.OPEN,
            created_at=created_at,
            pending_create_at=None,
            last_fingerprint=alert.content_fingerprint,
            last_comment_at=None,
            resolved_at=None,
            workflow_phase=WorkflowPhase.RESOLVED if done else WorkflowPhase.CREATED,
            status_unsure_since=None,
            priority_set=None,  # what the create sent is not known here: impact leaves this issue's priority alone
        ).without_person_decision()

    def priority_raised(self, priority: str) -> IssueState:
        """The product set the issue's priority to ``priority``. Not counted as the issue's last write: an edit of
        one field beside a comment stays far within Jira's per-issue limits, and must not hold the comment back."""
        return replace(self, priority_set=priority)

    def priority_left_to_people(self) -> IssueState:
        """A person changed the priority the product set: from now on it is theirs, never raised again."""
        return replace(self, priority_set=None)

    def resolved(self, now: float) -> IssueState:
        return replace(self, issue_status=IssueStatus.RESOLVED, resolved_at=now, workflow_phase=WorkflowPhase.RESOLVED)

    def reopened(self) -> IssueState:
        return replace(
            self, issue_status=IssueStatus.OPEN, resolved_at=None, workflow_phase=WorkflowPhase.REOPENED
        ).without_person_decision()

    def decided_by_person(self, decision: PersonDecision, at: float, *, resolution: str | None = None) -> IssueState:
        """A person's change read back from Jira at ``at``: the issue is where they left it, and the decision is
        kept so the lifecycle honours it (``lifecycle.decide``)."""
        status = {
            PersonDecision.RESOLVED: IssueStatus.RESOLVED,
            PersonDecision.WONT_FIX: IssueStatus.RESOLVED,
            PersonDecision.REOPENED: IssueStatus.OPEN,
            PersonDecision.DELETED: IssueStatus.NONE,
        }[decision]
        phase = {IssueStatus.RESOLVED: WorkflowPhase.RESOLVED, IssueStatus.OPEN: WorkflowPhase.REOPENED}
        return replace(
            self,
            issue_status=status,
            workflow_phase=phase.get(status, self.workflow_phase),
            resolved_at=None,  # the product's own resolve time; a person's is Jira's resolutiondate
            status_unsure_since=None,
            person_decision=decision,
            person_resolution=resolution if status is IssueStatus.RESOLVED else None,
            person_decided_at=at,
            person_notice_at=None,
        )

    def moved_to(self, issue_key: str, project: str | None) -> IssueState:
        """The issue moved (to another project): same id, new key; later writes go to the new key."""
        return replace(self, issue_key=issue_key, issue_project=project or self.issue_project)

    def person_noticed(self, at: float) -> IssueState:
        """The product commented once that it holds back because of the person's decision."""
        return replace(self, person_notice_at=at)

    def without_person_decision(self) -> IssueState:
        return replace(
            self, person_decision=None, person_resolution=None, person_decided_at=None, person_notice_at=None
        )

    def as_jira_has_it(self, done: bool | None) -> IssueState:
        """Where Jira says the issue is (``None``: deleted), after a transition whose answer was lost."""
        if done is None:
            return replace(self, issue_status=IssueStatus.NONE, status_unsure_since=None)
        if done:
            return replace(
                self, issue_status=IssueStatus.RESOLVED, workflow_phase=WorkflowPhase.RESOLVED, status_unsure_since=None
            )
        phase = self.workflow_phase if self.issue_status is IssueStatus.OPEN else WorkflowPhase.REOPENED
        return replace(self, issue_status=IssueStatus.OPEN, workflow_phase=phase, status_unsure_since=None)


def delivery_digest(delivery_key: str) -> str:
    """Delivery keys are kept hashed: any length of message id fits the item, and 25 of them stay small."""
    return hashlib.sha256(delivery_key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def state_pk(provider_id: str, dedupe_hash: str) -> str:
    return f"{provider_id}#{dedupe_hash}"


_ATTRS: dict[str, str] = {  # dataclass field -> DynamoDB attribute
    "provider": "provider",
    "dedupe_key": "dedupeKey",
    "issue_id": "issueId",
    "issue_key": "issueKey",
    "issue_status": "issueStatus",
    "alert_state": "alertState",
    "transition_at": "transitionAt",
    "last_fingerprint": "lastFingerprint",
    "last_comment_at": "lastCommentAt",
    "resolved_at": "resolvedAt",
    "created_at": "createdAt",
    "pending_create_at": "pendingCreateAt",
    "last_write_at": "lastWriteAt",
    "coalesced_since": "coalescedSince",
    "pending_state": "pendingState",
    "pending_transition_at": "pendingTransitionAt",
    "workflow_phase": "workflowPhase",
    "status_unsure_since": "statusUnsureSince",
    "person_decision": "personDecision",
    "person_resolution": "personResolution",
    "person_decided_at": "personDecidedAt",
    "person_notice_at": "personNoticeAt",
    "issue_project": "issueProject",
    "parent": "parent",
    "priority_set": "prioritySet",
}
_ENUMS: dict[str, type[StrEnum]] = {
    "issue_status": IssueStatus,
    "alert_state": AlertState,
    "pending_state": AlertState,
    "workflow_phase": WorkflowPhase,
    "person_decision": PersonDecision,
}
_NUMBERS = {
    "transition_at",
    "last_comment_at",
    "resolved_at",
    "created_at",
    "pending_create_at",
    "last_write_at",
    "coalesced_since",
    "pending_transition_at",
    "status_unsure_since",
    "person_decided_at",
    "person_notice_at",
}


class LeaseStore(Protocol):
    """Where states and their leases are kept (``StateStore`` in Lambda; in memory in fast tests)."""

    def acquire(
        self, pk: str, provider: str, dedupe_key: str, *, deadline: float, wait_seconds: float, mark: bool = True
    ) -> Lease: ...
    def save(self, lease: Lease, state: IssueState, *, release: bool) -> None: ...
    def release(self, lease: Lease, *, clear_mark: bool) -> None: ...


class StateTable:
    """The state table's client, name and clock, shared by its adapters (``StateStore``, ``OwnedIssueStore``)."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._table = table
        self.clock = clock
        self.sleep = sleep

    def _call(self, what: str, method: Callable[..., Any], **request: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = method(**request)
        except Exception as exc:  # botocore errors: throttling, network
            raise StoreError(f"state table {what} failed: {type(exc).__name__}") from exc
        return response


class StateStore(StateTable):
    """DynamoDB adapter for ``IssueState`` with a per-item lease."""

    def acquire(
        self, pk: str, provider: str, dedupe_key: str, *, deadline: float, wait_seconds: float, mark: bool = True
    ) -> Lease:
        """Take the alert's lease until ``deadline`` (plus slack), creating its item on first sight, and set the
        write-ahead mark unless one is there already (or ``mark`` is False: a storm member, whose holder creates
        nothing); return the state as it was.

        Raises:
            BusyError: another invocation held the lease for longer than ``wait_seconds`` (retryable).
            StoreError: DynamoDB failed (retryable).
        """
        owner = uuid.uuid4().hex
        give_up_at = self.clock() + wait_seconds
        while True:
            now = self.clock()
            try:
                response = self._client.update_item(
                    TableName=self._table,
                    Key={"pk": {"S": pk}},
                    UpdateExpression="SET lockOwner = :owner, lockUntil = :until, provider = :provider, "
                    "dedupeKey = :key" + (", pendingCreateAt = if_not_exists(pendingCreateAt, :now)" if mark else ""),
                    ConditionExpression="attribute_not_exists(lockUntil) OR lockUntil < :now",
                    ExpressionAttributeValues={
                        ":owner": {"S": owner},
                        ":until": {"N": _num(deadline + LEASE_SLACK_SECONDS)},
                        ":now": {"N": _num(now)},
                        ":provider": {"S": provider},
                        ":key": {"S": dedupe_key[:1024]},
                    },
                    ReturnValues="ALL_OLD",  # the state as it was, with any mark an earlier holder left
                )
            except self._client.exceptions.ConditionalCheckFailedException:
                if self.clock() >= give_up_at:
                    raise BusyError("another invocation is updating this alert's issue; will retry") from None
                self.sleep(LOCK_POLL_SECONDS)
                continue
            except Exception as exc:  # botocore errors: throttling, network
                raise StoreError(f"state table update failed: {type(exc).__name__}") from exc
            old = response.get("Attributes") or {}
            state = replace(_from_item(pk, old), provider=provider, dedupe_key=dedupe_key[:1024])
            if "pendingCreateAt" in old or not mark:
                return Lease(self, owner, state, state, deadline=deadline, mark_at=state.pending_create_at)
            return Lease(self, owner, state, state, deadline=deadline, mark_at=now, mark_written=True)

    def save(self, lease: Lease, state: IssueState, *, release: bool) -> None:
        """Write the state, conditional on still holding the lease; optionally release it. A failed write is
        tried again only while the lease's deadline leaves room for it.

        Raises:
            BusyError: the lease was lost (expired and taken by another invocation).
            StoreError: DynamoDB failed (retryable).
        """
        item = _to_item(state)
        item["ttl"] = {"N": _num(self.clock() + ITEM_TTL_SECONDS)}
        values: dict[str, Any] = {":owner": {"S": lease.owner}}
        sets, removes = [], []
        names: dict[str, str] = {}
        for index, (attr, value) in enumerate(sorted(item.items())):
            names[f"#a{index}"] = attr
            if value is None:
                removes.append(f"#a{index}")
            else:
                values[f":v{index}"] = value
                sets.append(f"#a{index} = :v{index}")
        if release:
            removes += ["lockOwner", "lockUntil"]
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        for attempt in range(1, SAVE_TRIES + 1):
            if not lease.has_time_for_a_write(self.clock()):
                raise StoreError("too little of this invocation is left for the state write; will retry")
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key={"pk": {"S": state.pk}},
                    UpdateExpression=expression,
                    ConditionExpression="lockOwner = :owner",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
                return
            except self._client.exceptions.ConditionalCheckFailedException:
                raise BusyError("lost this alert's lease while updating it; will retry") from None
            except Exception as exc:
                backoff = SAVE_BACKOFF_SECONDS * 4 ** (attempt - 1)
                if attempt == SAVE_TRIES or not lease.has_time_for_a_write(self.clock() + backoff):
                    raise StoreError(f"state table update failed: {type(exc).__name__}") from exc
                self.sleep(backoff)

    def release(self, lease: Lease, *, clear_mark: bool) -> None:
        """Give the lease back without changing the state, and with ``clear_mark`` the write-ahead mark too
        (best effort: the lease expires anyway, and a mark left behind costs the next holder one search)."""
        if not lease.has_time_for_a_write(self.clock()):
            return
        with contextlib.suppress(Exception):  # the error that brought us here matters more
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": lease.state.pk}},
                UpdateExpression="REMOVE lockOwner, lockUntil" + (", pendingCreateAt" if clear_mark else ""),
                ConditionExpression="lockOwner = :owner",
                ExpressionAttributeValues={":owner": {"S": lease.owner}},
            )

    def put_recovered(self, state: IssueState) -> bool:
        """Write a state rebuilt from Jira unless the alert already has one (recovery after losing the table).

        Raises:
            StoreError: DynamoDB failed.
        """
        item = {k: v for k, v in _to_item(state).items() if v is not None}
        item["ttl"] = {"N": _num(self.clock() + ITEM_TTL_SECONDS)}
        try:
            self._client.put_item(
                TableName=self._table,
                Item={"pk": {"S": state.pk}, **item},
                ConditionExpression="attribute_not_exists(issueKey)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        except Exception as exc:
            raise StoreError(f"state table write failed: {type(exc).__name__}") from exc
        return True

    def open_issues(self, pk_prefix: str = "") -> Iterator[IssueState]:
        """Every alert whose issue is open (of the providers whose id starts with ``pk_prefix``), for reconcile.

        A filtered Scan: it reads the whole table (one item per alert, about 1 KB) to return the open ones, which at
        thousands of alerts costs a few hundred read units per run and no write or index upkeep on the hot path.
        Past about 100,000 alerts a sparse index (an attribute set only while the issue is open) would pay off.

        Raises:
            StoreError: DynamoDB failed.
        """
        values: dict[str, Any] = {":open": {"S": IssueStatus.OPEN.value}}
        expression = "issueStatus = :open"
        if pk_prefix:
            values[":prefix"] = {"S": pk_prefix}
            expression += " AND begins_with(pk, :prefix)"
        try:
            for page in self._client.get_paginator("scan").paginate(
                TableName=self._table, FilterExpression=expression, ExpressionAttributeValues=values
            ):
                for item in page.get("Items", []):
                    yield _from_item(item["pk"]["S"], item)
        except Exception as exc:
            raise StoreError(f"state table scan failed: {type(exc).__name__}") from exc


@dataclass(slots=True)
class Lease:
    """One holder's exclusive hold on an alert's state item: the only way the item is written.

    It keeps the write-ahead rule (module docstring): ``begin_create`` before a create request is sent,
    ``confirm_create`` or ``adopt`` once its issue is known, ``create_refused`` when Jira certainly did not act.
    Whatever else happens, ``release`` never clears a mark whose create may have reached Jira.
    """

    store: LeaseStore
    owner: str
    state: IssueState  # as read, then as changed by this holder; written by ``save``
    stored: IssueState  # as the table holds it: as read, then as last written
    deadline: float  # the invocation's end (clock seconds): no write is started that could outlive it
    mark_at: float | None = None  # when the durable write-ahead mark was set (by this holder or an earlier one)
    mark_written: bool = False  # this holder wrote the mark, so it may clear it when no create left
    create_in_doubt: bool = False  # a create request was sent and its outcome is not recorded

    def has_time_for_a_write(self, at: float) -> bool:
        """Whether a state write started at ``at`` ends before the deadline even at the SDK's slowest."""
        return at + AWS_CALL_WORST_SECONDS <= self.deadline

    @property
    def earlier_mark(self) -> float | None:
        """The mark an earlier holder left: a create that may have reached Jira, to settle before anything else."""
        return self.state.pending_create_at

    def begin_create(self, now: float) -> None:
        """Call right before sending a create: makes sure a durable mark at most ``CREATE_SEND_WINDOW`` old
        stands for it (writing a new one if not), and from then on keeps it.

        Raises:
            BusyError, StoreError: the mark could not be written; nothing may be sent.
        """
        if self.mark_at is None or now - self.mark_at > CREATE_SEND_WINDOW:
            self.save(replace(self.state, pending_create_at=now))
            self.mark_at, self.mark_written = now, True
        else:
            self.state = replace(self.state, pending_create_at=self.mark_at)
        self.create_in_doubt = True

    def create_refused(self) -> None:
        """Jira answered that it did not create the issue (4xx, 429): the mark may go with the lease."""
        self.create_in_doubt = False
        self.state = replace(self.state, pending_create_at=None)

    def confirm_create(self, state: IssueState, *, release: bool = True) -> None:
        """Record the issue Jira confirmed (or a search found), clear the mark, and release the lease unless the
        holder goes on to apply the alert to that issue.

        Raises:
            BusyError, StoreError: not recorded; the mark stays, so the next holder looks for the issue.
        """
        self._write(replace(state, pending_create_at=None), release=release)
        self.create_in_doubt = False

    def no_create_landed(self) -> None:
        """An earlier holder's create was proven not to have landed: its mark holds nothing back any more (it is
        cleared by this holder's next write, or left for the next holder to prove again)."""
        self.state = replace(self.state, pending_create_at=None)
        self.mark_at = None

    def save(self, state: IssueState, *, release: bool = False) -> None:
        """Write ``state`` (its ``pending_create_at`` is the mark as it will stand); optionally release.

        Raises:
            BusyError, StoreError.
        """
        if self.create_in_doubt and state.pending_create_at is None:
            raise AssertionError("a create in doubt keeps its mark until confirm_create records its issue")
        self._write(state, release=release)

    def supersede_pending(self) -> None:
        """A newer alert arrived: what was held back is never written after it (the counts stay for the note)."""
        self.state = self.state.without_pending()

    def take_pending(self) -> tuple[AlertState, int | None]:
        """The held-back state to write now, taken out of the state this holder works on."""
        assert self.state.pending_state is not None
        pending = self.state.pending_state, self.state.pending_transition_at
        self.state = self.state.without_pending()
        return pending

    def note_person_notice(self, now: float) -> None:
        """The comment about to be written says why the product holds back for a person's decision."""
        self.state = self.state.person_noticed(now)

    def learned_status(self, done: bool | None) -> None:
        """Jira said where the issue is (``None``: deleted) after a transition whose answer was lost."""
        self.state = self.state.as_jira_has_it(done)

    def note_status_unsure(self, now: float) -> None:
        """A transition's answer was lost: record, on the state as stored, that the issue must be read before the
        next decision (in-memory changes not yet written, such as a held-back change being flushed, stay unwritten).

        Raises:
            BusyError, StoreError.
        """
        self._write(replace(self.stored, status_unsure_since=now), release=False)

    def _write(self, state: IssueState, *, release: bool) -> None:
        self.store.save(self, state, release=release)
        self.state = self.stored = state

    def release(self) -> None:
        """Give the lease back after a failure. The mark stays while a create may have reached Jira; a mark this
        holder set and never sent a create under goes with it."""
        clear = self.mark_written and not self.create_in_doubt and self.state.pending_create_at is None
        self.store.release(self, clear_mark=clear)


def _num(value: float) -> str:
    return str(round(value, 3))


def _to_item(state: IssueState) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name, attr in _ATTRS.items():
        value = getattr(state, name)
        if value is None:
            item[attr] = None
        elif name in _NUMBERS:
            item[attr] = {"N": _num(value)}
        else:
            item[attr] = {"S": str(value)}
    item["deliveries"] = {"L": [{"S": d} for d in state.deliveries]} if state.deliveries else None
    item["coalesced"] = {"M": {k: {"N": str(v)} for k, v in state.coalesced.items()}} if state.coalesced else None
    item["group"] = group_to_item(state.group) if state.group else None
    return item


def state_from_item(pk: str, item: Mapping[str, Any]) -> IssueState:
    """An item as read from the table (a scan or batch read), as the state it holds."""
    return _from_item(pk, item)


def _from_item(pk: str, item: Mapping[str, Any]) -> IssueState:
    values: dict[str, Any] = {}
    for name, attr in _ATTRS.items():
        raw = item.get(attr)
        if raw is None:
            continue
        if name in _NUMBERS:
            number = float(raw["N"])
            values[name] = int(number) if name.endswith("transition_at") else number
        else:
            values[name] = raw["S"]
    for name, kind in _ENUMS.items():
        if name in values:
            values[name] = kind(values[name])
    values.setdefault("provider", "")
    values.setdefault("dedupe_key", "")
    deliveries = tuple(d["S"] for d in item.get("deliveries", {}).get("L", []))
    coalesced = {k: int(v["N"]) for k, v in item.get("coalesced", {}).get("M", {}).items()}
    group = group_from_item(item["group"]) if "group" in item else None
    return IssueState(pk=pk, deliveries=deliveries, coalesced=coalesced, group=group, **values)
