"""Sync-back facts on the state table: a GuardDuty finding's detector, and the sync-back remembered for a retry."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from jira_notifier.adapters.aws.sync_requests import Detector, SyncRequest
from jira_notifier.adapters.aws.syncback import DueSyncBack
from jira_notifier.core.findingnotes import Decision

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class StateItemLedger:
    """Sync-back facts as attributes of the alert's state item, outside what the lease writes (``state._ATTRS``):
    ``syncBackDetector`` (JSON) and ``syncBackDue`` (JSON: the request, its provider, attempts, last reason)."""

    def __init__(self, client: DynamoDBClient, table: str, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table
        self.clock = clock

    def keep_detector(self, pk: str, detector: Detector) -> None:
        value = json.dumps({"detectorId": detector.detector_id, "region": detector.region})
        self._update(pk, "SET syncBackDetector = :v", {":v": {"S": value}})

    def detector(self, pk: str) -> Detector | None:
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": pk}}, ProjectionExpression="syncBackDetector"
        ).get("Item", {})
        stored = item.get("syncBackDetector", {}).get("S")
        if not stored:
            return None
        data = json.loads(stored)
        return Detector(data["detectorId"], data["region"])

    def remember(
        self,
        pk: str,
        provider: str,
        request: SyncRequest,
        reason: str,
        attempts: int = 1,
        *,
        decision: Decision | None = None,
        issue_key: str | None = None,
    ) -> None:
        due: dict[str, Any] = {
            "provider": provider,
            "request": request.to_json(),
            "attempts": attempts,
            "reason": reason,
        }
        due["at"] = round(self.clock(), 3)
        if decision is not None:
            due["decision"], due["issueKey"] = decision.value, issue_key
        self._update(pk, "SET syncBackDue = :v", {":v": {"S": json.dumps(due, sort_keys=True)}})

    def settled(self, pk: str, raw: str | None = None) -> None:
        """Forget the remembered sync-back (only ``raw`` when given: a newer one stays)."""
        condition = "syncBackDue = :raw" if raw is not None else "attribute_exists(syncBackDue)"
        values = {":raw": {"S": raw}} if raw is not None else None
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._update(pk, "REMOVE syncBackDue", values, condition=condition)  # else none, or a newer one: it stays

    def due(self) -> Iterator[DueSyncBack]:
        """Every remembered sync-back (a scan filtered on the attribute: the reconcile run's pace, not the hot path)."""
        pages = self._client.get_paginator("scan").paginate(
            TableName=self._table,
            FilterExpression="attribute_exists(syncBackDue)",
            ProjectionExpression="pk, syncBackDue, issueKey, issueStatus, personDecision",
        )
        for page in pages:
            for item in page.get("Items", []):
                raw = item["syncBackDue"]["S"]
                data = json.loads(raw)
                yield DueSyncBack(
                    item["pk"]["S"],
                    data["provider"],
                    SyncRequest.from_json(data["request"]),
                    data["attempts"],
                    raw,
                    decision=Decision(data["decision"]) if data.get("decision") else None,
                    for_issue=data.get("issueKey"),
                    issue_key=item.get("issueKey", {}).get("S"),
                    resolved=item.get("issueStatus", {}).get("S") == "resolved",
                    wont_fix=item.get("personDecision", {}).get("S") == "wont-fix",
                )

    def _update(
        self, pk: str, expression: str, values: dict[str, Any] | None, condition: str = "attribute_exists(pk)"
    ) -> None:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"pk": {"S": pk}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        self._client.update_item(**request)
