"""The state table in DynamoDB: one item per (provider, dedupe key), written only under its lease.

``StateStore`` is the storage of ``app.lease``: ``acquire`` takes an item's lease with a conditional update (and sets
the write-ahead mark in the same write), ``write`` changes the item while the lease is held, ``release`` gives it back.
The rules of the lease (when a mark may go, what a write must carry) are the unit of work's; this module only maps
``IssueState`` to an item and keeps DynamoDB's conditions.

Assumption: leases compare the holder's clock with the next acquirer's (``lockUntil``). Lambda hosts keep NTP time; a
skew beyond the lease's slack (``LEASE_SLACK_SECONDS``) could let two holders overlap.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from jira_notifier.core.alert import AlertState
from jira_notifier.core.budgets import AWS_CALL_WORST_SECONDS
from jira_notifier.core.errors import BusyError, StoreError
from jira_notifier.core.state import IssueState, IssueStatus, PersonDecision, WorkflowPhase
from jira_notifier.core.storm import Group, Member
from jira_notifier.ports import Acquired

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ITEM_TTL_SECONDS = 400 * 86400  # an alert silent for this long starts over (DynamoDB TTL on "ttl")
LOCK_POLL_SECONDS = 0.25
SAVE_TRIES = 3  # a state write often records what Jira already did: worth a few tries beyond botocore's own
SAVE_BACKOFF_SECONDS = 0.1
LEASE_SLACK_SECONDS = 10.0  # a lease outlives its invocation by this much: clock skew and the last write


def has_time_for_a_write(at: float, deadline: float) -> bool:
    """Whether a state write started at ``at`` ends before ``deadline`` even at the SDK's slowest."""
    return at + AWS_CALL_WORST_SECONDS <= deadline


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
    "priority_intent": "priorityIntent",
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
    ) -> Acquired:
        """Take the alert's lease until ``deadline`` (plus slack), creating its item on first sight, and set the
        write-ahead mark unless one is there already (or ``mark`` is False: a holder that creates nothing); return
        the state as it was.

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
                return Acquired(owner, state, mark_at=state.pending_create_at)
            return Acquired(owner, state, mark_at=now, mark_written=True)

    def write(self, owner: str, state: IssueState, *, release: bool, deadline: float) -> None:
        """Write the state, conditional on still holding the lease; optionally release it. A failed write is
        tried again only while the lease's deadline leaves room for it.

        Raises:
            BusyError: the lease was lost (expired and taken by another invocation).
            StoreError: DynamoDB failed (retryable).
        """
        item = _to_item(state)
        item["ttl"] = {"N": _num(self.clock() + ITEM_TTL_SECONDS)}
        values: dict[str, Any] = {":owner": {"S": owner}}
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
            if not has_time_for_a_write(self.clock(), deadline):
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
                if attempt == SAVE_TRIES or not has_time_for_a_write(self.clock() + backoff, deadline):
                    raise StoreError(f"state table update failed: {type(exc).__name__}") from exc
                self.sleep(backoff)

    def release(self, pk: str, owner: str, *, clear_mark: bool, deadline: float) -> None:
        """Give the lease back without changing the state, and with ``clear_mark`` the write-ahead mark too
        (best effort: the lease expires anyway, and a mark left behind costs the next holder one search)."""
        if not has_time_for_a_write(self.clock(), deadline):
            return
        with contextlib.suppress(Exception):  # the error that brought us here matters more
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": pk}},
                UpdateExpression="REMOVE lockOwner, lockUntil" + (", pendingCreateAt" if clear_mark else ""),
                ConditionExpression="lockOwner = :owner",
                ExpressionAttributeValues={":owner": {"S": owner}},
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

    def links(self, pk_prefix: str = "") -> Iterator[IssueState]:
        """Every alert the scheduled reconcile checks against its source (of the providers whose id starts with
        ``pk_prefix``): those whose issue is open, and those still firing whose episode no open issue shows: a
        person resolved or deleted the issue meanwhile (the clear that ends their decision must be seen), or the
        alert is a storm member (its parent resolves through it).

        A filtered Scan: it reads the whole table (one item per alert, about 1 KB) to return these, which at
        thousands of alerts costs a few hundred read units per run and no write or index upkeep on the hot path.
        Past about 100,000 alerts a sparse index (an attribute set only while a link is live) would pay off.

        Raises:
            StoreError: DynamoDB failed.
        """
        values: dict[str, Any] = {":open": {"S": IssueStatus.OPEN.value}, ":firing": {"S": AlertState.FIRING.value}}
        expression = (
            "(issueStatus = :open OR (alertState = :firing AND "
            "(attribute_exists(personDecision) OR attribute_exists(parent))))"
        )
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
    item["group"] = _group_to_item(state.group) if state.group else None
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
    group = _group_from_item(item["group"]) if "group" in item else None
    return IssueState(pk=pk, deliveries=deliveries, coalesced=coalesced, group=group, **values)


def _group_to_item(group: Group) -> dict[str, Any]:
    """The DynamoDB attribute value of a parent's membership."""
    return {
        "M": {
            "key": {"S": group.key},
            "windowStart": {"N": str(group.window_start)},
            "unwritten": {"BOOL": group.unwritten},
            "members": {
                "L": [
                    {
                        "M": {
                            "k": {"S": m.key},
                            "n": {"S": m.name},
                            "s": {"S": m.state.value},
                            "t": {"N": str(round(m.since, 3))},
                        }
                    }
                    for m in group.members
                ]
            },
        }
    }


def _group_from_item(value: Mapping[str, Any]) -> Group:
    data = value["M"]
    members: Iterable[Mapping[str, Any]] = (entry["M"] for entry in data.get("members", {}).get("L", []))
    return Group(
        key=data["key"]["S"],
        window_start=int(data["windowStart"]["N"]),
        members=tuple(Member(m["k"]["S"], m["n"]["S"], AlertState(m["s"]["S"]), float(m["t"]["N"])) for m in members),
        unwritten=bool(data.get("unwritten", {}).get("BOOL", False)),
    )
