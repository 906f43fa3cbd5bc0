"""Resource tags of an alert's resources, from the Resource Groups Tagging API (``tag:GetResources``).

Read only for providers that map tags to fields, only when an issue is created, and soft: any failure leaves the
tags out (the issue is created without them). The API is regional, so each resource is asked for in the region its
ARN names (one client per region, created on first use), up to 100 ARNs per call. Tags change, so they are kept
only about as long as one invocation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from jira_notifier.adapters.observability import logger

ARNS_PER_CALL = 100  # GetResources' ResourceARNList limit
MAX_AGE_SECONDS = 60.0  # about one invocation (the functions' timeout): a tag changed since is read again


class TaggingClient(Protocol):
    def get_resources(self, **kwargs: Any) -> Mapping[str, Any]: ...


class ResourceTags(Protocol):
    def tags(self, arns: Sequence[str]) -> dict[str, str]: ...


class NoResourceTags:
    """The stack does not read tags: no AWS call, no tags."""

    def tags(self, arns: Sequence[str]) -> dict[str, str]:
        return {}


class TaggingApiTags:
    """Tags read with ``GetResources``; ``client_for`` makes a client for a region (called once per region)."""

    def __init__(self, client_for: Callable[[str], TaggingClient], clock: Callable[[], float] = time.monotonic) -> None:
        self._client_for = client_for
        self._clients: dict[str, TaggingClient] = {}
        self._clock = clock
        self._known: dict[str, tuple[dict[str, str], float]] = {}  # ARN -> (its tags, read at)

    def tags(self, arns: Sequence[str]) -> dict[str, str]:
        """The resources' tags together (for a key on several resources, the first resource's value wins)."""
        now = self._clock()
        self._known = {arn: known for arn, known in self._known.items() if now - known[1] < MAX_AGE_SECONDS}
        unread = [arn for arn in dict.fromkeys(arns) if arn not in self._known]
        by_region: dict[str, list[str]] = {}
        for arn in unread:
            by_region.setdefault(_region(arn), []).append(arn)
        for region, region_arns in by_region.items():
            read = self._read(region, region_arns)
            for arn in region_arns:
                self._known[arn] = (read.get(arn, {}), now)
        merged: dict[str, str] = {}
        for arn in arns:
            for key, value in self._known.get(arn, ({}, now))[0].items():
                merged.setdefault(key, value)
        return merged

    def _read(self, region: str, arns: list[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        try:
            client = self._clients.get(region)
            if client is None:
                client = self._clients[region] = self._client_for(region)
            for start in range(0, len(arns), ARNS_PER_CALL):
                request: dict[str, Any] = {"ResourceARNList": arns[start : start + ARNS_PER_CALL]}
                while True:
                    page = client.get_resources(**request)
                    for resource in page.get("ResourceTagMappingList") or []:
                        found[str(resource.get("ResourceARN"))] = {
                            str(tag["Key"]): str(tag.get("Value") or "") for tag in resource.get("Tags") or []
                        }
                    token = page.get("PaginationToken")
                    if not token:
                        break
                    request["PaginationToken"] = token
        except Exception as error:  # noqa: BLE001 - tags are a courtesy: any failure only leaves them out
            logger.warning("resource tags not read", region=region, error=type(error).__name__)
        return found


def tagging_client_factory(session: Any) -> Callable[[str], TaggingClient]:
    """Tagging API clients that give up quickly (two attempts, short timeouts): the issue must not wait for tags."""
    from botocore.config import Config

    from jira_notifier.adapters.aws.accounts import LOOKUP_TIMEOUT_SECONDS

    config = Config(
        connect_timeout=LOOKUP_TIMEOUT_SECONDS,
        read_timeout=LOOKUP_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": 2},
    )

    def client_for(region: str) -> TaggingClient:
        client: TaggingClient = session.client("resourcegroupstaggingapi", region_name=region or None, config=config)
        return client

    return client_for


def _region(arn: str) -> str:
    """The region an ARN names (``arn:partition:service:region:account:...``); empty for global resources."""
    parts = arn.split(":", 5)
    return parts[3] if len(parts) > 3 else ""
