"""The state table's items for Jira talking back: the states issues are matched to (read in batches or by a scan),
the read-back's cursor per provider, and the webhook deliveries already seen (by the hash of their signed body).

The cursor and delivery items live beside the issue states under keys of their own (``readback#…``,
``webhook-delivery#…``); they carry no ``provider`` attribute, so scans for states never see them.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from typing import Any

from jira_notifier.adapters.dynamodb.state import StateTable, state_from_item
from jira_notifier.core.errors import StoreError
from jira_notifier.core.state import IssueState, IssueStatus
from jira_notifier.ports import Cursor

CURSOR_PREFIX = "readback#"
DELIVERY_PREFIX = "webhook-delivery#"
DELIVERY_TTL_SECONDS = 7 * 86400  # far beyond the hour a delivery is taken at all (entry.webhook.MAX_AGE_SECONDS)
BATCH_GET_LIMIT = 100  # BatchGetItem's keys per request
UNPROCESSED_TRIES = 4  # rounds for keys BatchGetItem hands back unprocessed (throttling) before giving up


class OwnedIssueStore(StateTable):
    """DynamoDB reads and writes of the read-back and the webhook (``ports.OwnedIssues``; issue states change only
    under a lease)."""

    def states(self, pks: Iterable[str]) -> dict[str, IssueState]:
        """The stored states of these keys (absent keys are left out).

        Raises:
            StoreError: DynamoDB failed, or kept keys unprocessed.
        """
        wanted = sorted(set(pks))
        found: dict[str, IssueState] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            keys: list[dict[str, Any]] = [{"pk": {"S": pk}} for pk in wanted[start : start + BATCH_GET_LIMIT]]
            for attempt in range(UNPROCESSED_TRIES):
                response = self._call(
                    "batch read", self._client.batch_get_item, RequestItems={self._table: {"Keys": keys}}
                )
                for item in response.get("Responses", {}).get(self._table, []):
                    found[item["pk"]["S"]] = state_from_item(item["pk"]["S"], item)
                keys = response.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
                if not keys:
                    break
                self.sleep(0.05 * 2**attempt)
            if keys:
                raise StoreError("the state table kept keys unprocessed (throttled); will retry")
        return found

    def open_states(self, provider_id: str) -> list[IssueState]:
        """Every state of the provider whose issue the product holds open (a scan: used by the hourly sweep).

        Raises:
            StoreError: DynamoDB failed.
        """
        states: list[IssueState] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "provider = :provider AND issueStatus = :open AND attribute_exists(issueId)",
            "ExpressionAttributeValues": {":provider": {"S": provider_id}, ":open": {"S": IssueStatus.OPEN.value}},
        }
        while True:
            page = self._call("scan", self._client.scan, **request)
            states.extend(state_from_item(item["pk"]["S"], item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return states
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def cursor(self, provider_id: str) -> Cursor | None:
        """Raises: StoreError."""
        item = self._call(
            "read", self._client.get_item, TableName=self._table, Key={"pk": {"S": CURSOR_PREFIX + provider_id}}
        ).get("Item")
        if not item:
            return None
        swept = item.get("sweptAt")
        return Cursor(read_at=float(item["readAt"]["N"]), swept_at=float(swept["N"]) if swept else None)

    def save_cursor(self, provider_id: str, cursor: Cursor) -> None:
        """Raises: StoreError."""
        item: dict[str, Any] = {"pk": {"S": CURSOR_PREFIX + provider_id}, "readAt": {"N": _num(cursor.read_at)}}
        if cursor.swept_at is not None:
            item["sweptAt"] = {"N": _num(cursor.swept_at)}
        self._call("write", self._client.put_item, TableName=self._table, Item=item)

    def claim_delivery(self, identifier: str) -> bool:
        """Remember a webhook delivery by ``identifier`` (the hash of its body); False when it was seen before
        (within its time to live).

        Raises:
            StoreError.
        """
        now = self.clock()
        try:
            self._client.put_item(
                TableName=self._table,
                Item={"pk": {"S": _delivery_pk(identifier)}, "ttl": {"N": _num(now + DELIVERY_TTL_SECONDS)}},
                # DynamoDB deletes expired items only eventually: an expired claim counts as absent.
                ConditionExpression="attribute_not_exists(pk) OR #ttl < :now",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={":now": {"N": _num(now)}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        except Exception as exc:  # botocore errors: throttling, network
            raise StoreError(f"state table write failed: {type(exc).__name__}") from exc
        return True

    def forget_delivery(self, identifier: str) -> None:
        """Drop a claim whose delivery could not be applied, so Jira's retry of it is applied (best effort)."""
        with contextlib.suppress(Exception):  # the error that brought us here is the one to report
            self._client.delete_item(TableName=self._table, Key={"pk": {"S": _delivery_pk(identifier)}})


def _delivery_pk(identifier: str) -> str:
    """Hashed, so any identifier makes a key of one short length."""
    return DELIVERY_PREFIX + hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _num(value: float) -> str:
    return str(round(value, 3))
