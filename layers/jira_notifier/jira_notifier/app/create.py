"""Creating an issue exactly once: one protocol, three senders (one alert, a bulk of alerts, a storm's parent).

Every create goes the same way:

1. ``prepare``: the request is rendered (account name, graph and log evidence, fields from resource tags, the body),
   with nothing written yet;
2. the write-ahead mark is made to stand for it right before it is sent (``Lease.begin_create``): rendering first
   keeps every mark within ``CREATE_SEND_WINDOW`` of its request's departure, for one create and for fifty;
3. the answer is recorded (``record``): the issue, and what AWS is told of it; or ``failed`` decides whether the
   mark stays (Jira may have acted) or goes (it certainly did not), a refused value from tags is left out once, and
   an answer in doubt is followed by one label search (``recover``'s ``find_created``).

A create whose answer was lost is settled by ``recover``: find the issue it made by the alert's label and adopt it,
or prove that none landed (the mark stays until one or the other).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from jira_notifier.app.deps import Deps
from jira_notifier.app.lease import Lease
from jira_notifier.core.alert import Alert, AlertState, GraphImage
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import (
    CreateUnconfirmedError,
    JiraNotifierError,
    JiraRequestError,
    as_product_error,
    refused_outright,
)
from jira_notifier.core.lifecycle import Reason
from jira_notifier.core.outcome import Outcome, OutcomeAction
from jira_notifier.core.storm import Group
from jira_notifier.ports import CreatedIssue, JiraIssue, JiraPort
from jira_notifier.render.fields import tag_fields
from jira_notifier.render.issue import create_body, create_priority

# Jira's search trails writes ("recent updates might not be immediately visible"; no bound is documented). A label
# search that finds nothing proves no create landed only this long after the request's timeout.
SEARCH_SETTLE_SECONDS = 30.0
CLOCK_SKEW_TOLERANCE = 5.0  # Jira's clock against the functions' when comparing an issue's created time with a mark
WARNING_FACT = "Not set from tags"


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """A create's body, and the graph its description names (attached right after the create)."""

    body: dict[str, Any]
    graph: GraphImage | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """One alert on its way into a bulk create, holding its lease."""

    lease: Lease
    alert: Alert
    reason: Reason


class Creates:
    """The create protocol (module docstring) over the use cases' ports."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # ---- 1. render -------------------------------------------------------------------------------------------

    def prepare(
        self,
        lease: Lease,
        alert: Alert,
        provider: ProviderConfig,
        client: JiraPort,
        refused: frozenset[str] = frozenset(),
        *,
        description: dict[str, Any] | None = None,
    ) -> CreateRequest:
        """The create request, rendered; nothing written. ``refused``: tag-filled fields Jira refused on a first try,
        left out with a warning. ``description``: a body of its own (a storm's member table) instead of the alert's.

        Raises:
            JiraNotifierError: the metadata could not be had; nothing may be sent.
        """
        deps = self.deps
        alert = deps.accounts.named(alert)
        graph = None
        if deps.insights is not None and description is None:  # within the lease's time: the rest is the create's
            alert, graph = deps.insights.prepare(alert, provider, lambda: lease.deadline - deps.clock())
        named, fields = self.owner_fields(alert, provider, client, refused)
        body = create_body(named, provider, deps.catalog.issue_type_id(client, provider), fields)
        if description is not None:
            body["fields"]["description"] = description
        return CreateRequest(body, graph)

    def owner_fields(
        self, alert: Alert, provider: ProviderConfig, client: JiraPort, refused: frozenset[str] = frozenset()
    ) -> tuple[Alert, dict[str, Any]]:
        """The field values the alert's tags give in this provider, and the alert with a warning fact for each value
        left out (shown in the description). An alarm's own tags, carried by its event, come first; the resources'
        tags are read only for a tag field they leave unfilled. No tag read without tag fields; no createmeta call
        without tags.

        Raises:
            ConfigError, JiraRequestError, JiraUnavailableError: the create screen could not be read.
        """
        if not provider.tag_fields:
            return alert, {}
        found = dict(alert.alarm_tags or ())  # an alarm's own tags, carried by its event, come first
        if alert.resources and any(not found.get(tag) for tag in provider.tag_fields):
            found = {**self.deps.tags.tags(alert.resources), **{key: value for key, value in found.items() if value}}
        if not any(found.get(tag) for tag in provider.tag_fields):
            return alert, {}
        result = tag_fields(found, provider.tag_fields, self.deps.catalog.create_screen(client, provider))
        fields = {field_id: value for field_id, value in result.fields.items() if field_id not in refused}
        warnings = [
            *result.warnings,
            *(f"Jira refused the tags' value for {f}." for f in sorted(refused & set(result.fields))),
        ]
        if warnings:
            alert = replace(alert, facts=(*alert.facts, *((WARNING_FACT, warning) for warning in warnings)))
        return alert, fields

    # ---- 2. send: the three senders ---------------------------------------------------------------------------

    def one(
        self,
        lease: Lease,
        alert: Alert,
        provider: ProviderConfig,
        client: JiraPort,
        reason: Reason,
        refused: frozenset[str] = frozenset(),
        *,
        group: Group | None = None,
        description: dict[str, Any] | None = None,
    ) -> Outcome | None:
        """Create the alert's issue (a storm's parent: with its ``group`` and member table ``description``). An answer
        that leaves the outcome in doubt (timeout, 5xx, a body cut off) is followed by one label search; when that
        cannot show the issue yet, the error goes back for a retry with the mark in place. A value from tags that
        Jira refused is left out, once: a tag never costs the issue (``refused``: the fields already left out).

        Returns:
            The outcome, or None when a search found the issue and the alert is to be decided again on it.

        Raises:
            JiraNotifierError: the create failed (its mark stays when Jira may have acted).
        """
        request = self.prepare(lease, alert, provider, client, refused, description=description)
        lease.begin_create(self.deps.clock())
        try:
            created = client.create_issue(request.body)
        except JiraNotifierError as error:
            may_exist = self.failed(lease, error)
            tagged = frozenset() if may_exist or refused else refused_tag_fields(error, provider, request.body)
            if tagged:  # Jira created nothing: once more, without the values it refused
                return self.one(lease, alert, provider, client, reason, tagged, group=group, description=description)
            if may_exist:
                with contextlib.suppress(JiraNotifierError):  # the search failing too changes nothing: retry
                    found = self.find_created(lease, alert, provider, client)
                    if found is not None:
                        return self.adopt(lease, alert, provider, found, group=group)
            raise
        outcome = self.record(lease, alert, provider, created, reason, group=group)
        self.attach_graph(client, created, request)  # after the record: the issue is safe whatever happens here
        return outcome

    def bulk(
        self, claims: Sequence[Claim], provider: ProviderConfig, client: JiraPort
    ) -> list[Outcome | JiraNotifierError]:
        """Create the claims' issues in one request (``POST /issue/bulk``, at most 50), each through the protocol:
        every request is rendered before any mark is refreshed, then the marks, then the request. One result per
        claim, in order (an error for a claim that was not created, or not recorded)."""
        results: dict[int, Outcome | JiraNotifierError] = {}
        ready: list[tuple[int, CreateRequest]] = []
        for index, claim in enumerate(claims):
            try:
                ready.append((index, self.prepare(claim.lease, claim.alert, provider, client)))
            except Exception as raised:  # noqa: BLE001 - this claim alone: nothing was sent for it
                results[index] = as_product_error(raised)
        marked: list[tuple[int, CreateRequest]] = []
        for index, request in ready:  # the marks last, right before the one request leaves
            try:
                claims[index].lease.begin_create(self.deps.clock())
            except Exception as raised:  # noqa: BLE001 - this claim alone: its mark could not be written
                results[index] = as_product_error(raised)
                continue
            marked.append((index, request))
        if marked:
            self._send_bulk(claims, marked, provider, client, results)
        return [results[index] for index in range(len(claims))]

    def _send_bulk(
        self,
        claims: Sequence[Claim],
        marked: list[tuple[int, CreateRequest]],
        provider: ProviderConfig,
        client: JiraPort,
        results: dict[int, Outcome | JiraNotifierError],
    ) -> None:
        try:
            answers = client.bulk_create([request.body for _, request in marked])
        except Exception as raised:  # noqa: BLE001 - some may exist: their marks stay and their retries search first
            error = as_product_error(raised)
            for index, _ in marked:
                self.failed(claims[index].lease, error)
                results[index] = error
            return
        attach: list[tuple[CreatedIssue, CreateRequest]] = []
        for (index, request), answer in zip(marked, answers, strict=True):
            claim = claims[index]
            try:
                if answer.issue is not None:
                    results[index] = self.record(claim.lease, claim.alert, provider, answer.issue, claim.reason)
                    attach.append((answer.issue, request))
                    continue
                assert answer.error is not None
                refused = refused_tag_fields(answer.error, provider, request.body)
                if self.failed(claim.lease, answer.error) or not refused:
                    raise answer.error
                outcome = self.one(claim.lease, claim.alert, provider, client, claim.reason, refused)
                if outcome is None:  # its issue was found after the alert moved on: its redelivery applies it
                    raise CreateUnconfirmedError("the alert's issue was found; the alert is applied on its redelivery")
                results[index] = outcome
            except Exception as raised:  # noqa: BLE001 - a mark stays: the redelivery finds the issue by its label
                results[index] = as_product_error(raised)
        for created, request in attach:  # every create is recorded before any graph is sent
            self.attach_graph(client, created, request)

    # ---- 3. the answer ----------------------------------------------------------------------------------------

    def record(
        self,
        lease: Lease,
        alert: Alert,
        provider: ProviderConfig,
        created: CreatedIssue,
        reason: Reason,
        *,
        group: Group | None = None,
    ) -> Outcome:
        """Record the issue Jira confirmed and tell AWS of it; "coalesced" when a clear that came first is to be
        written next.

        Raises:
            BusyError, StoreError: not recorded; the mark stays, so the next holder finds the issue.
        """
        self.deps.recorder.count("IssuesCreated")
        lease.record_created(
            alert,
            created.id,
            created.key,
            self.deps.clock(),
            priority=create_priority(alert, provider),
            group=group,
        )
        if provider.syncs_back:
            self.deps.sync_back.issue_created(provider, alert, lease.state)
        return _confirmed(lease, provider, OutcomeAction.CREATED, reason)

    @staticmethod
    def failed(lease: Lease, error: JiraNotifierError) -> bool:
        """After a create answered with ``error``: the mark goes when Jira certainly did not act, else it stays.
        True when the issue may exist."""
        if refused_outright(error):
            lease.create_refused()
            return False
        return True

    def attach_graph(self, client: JiraPort, created: CreatedIssue, request: CreateRequest) -> None:
        """The one extra request of a new metric-alarm issue; a failure is counted, never raised."""
        if self.deps.insights is not None and request.graph is not None:
            self.deps.insights.attach(client, created.key, request.graph)

    # ---- a create whose answer was lost -------------------------------------------------------------------------

    def recover(self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort) -> Outcome | None:
        """An earlier holder's create may have reached Jira: settle that before anything else.

        The issue it made is adopted: found by the alert's label, created at or after the mark, and not the issue the
        state already follows (an earlier episode's). Finding none proves nothing until the request can no longer
        land and Jira's search has caught up (mark + ``CREATE_SEND_WINDOW`` + Jira's timeout +
        ``SEARCH_SETTLE_SECONDS``): before then this raises a retryable error and creates nothing; after it the mark
        is dropped.

        Returns:
            The outcome, or None when the alert is to be decided again on the settled state.

        Raises:
            CreateUnconfirmedError: too early to tell (retryable).
            JiraNotifierError: the search failed.
        """
        from jira_notifier.core.state import CREATE_SEND_WINDOW

        mark = lease.earlier_mark
        assert mark is not None
        found = self.find_created(lease, alert, provider, client)
        if found is not None:
            return self.adopt(lease, alert, provider, found)
        if self.deps.clock() < mark + CREATE_SEND_WINDOW + client.timeout + SEARCH_SETTLE_SECONDS:
            raise CreateUnconfirmedError(
                "a create for this alert may still appear in Jira's search; will look again before creating"
            )
        lease.no_create_landed()
        return None

    def find_created(self, lease: Lease, alert: Alert, provider: ProviderConfig, client: JiraPort) -> JiraIssue | None:
        """The issue the create under the lease's mark made, if Jira's search shows it.

        Raises:
            JiraNotifierError: the search failed.
        """
        known = lease.state.issue_id
        since = (lease.mark_at or self.deps.clock()) - CLOCK_SKEW_TOLERANCE
        found = client.search_jql(
            f'project = "{provider.project}" AND labels = "{alert.dedupe_label}" ORDER BY created DESC',
            ["status", "created"],
            reconcile_ids=[int(known)] if known and known.isdigit() else [],
        )
        for issue in found:  # newest first
            if issue.id != known and issue.created_at is not None and issue.created_at >= since:
                return issue
        return None

    def adopt(
        self, lease: Lease, alert: Alert, provider: ProviderConfig, issue: JiraIssue, *, group: Group | None = None
    ) -> Outcome | None:
        """Make the found issue the alert's (a storm's parent: with the ``group`` its create was sent with).

        Returns:
            "recovered" when the alert is the firing that create was for; None when the alert moved on since (or the
            issue is already done): the adoption is recorded and the alert is to be applied to it (an OK resolves
            it).
        """
        self.deps.recorder.count("IssuesRecovered")
        applied = not issue.done and alert.state is AlertState.FIRING
        lease.record_adopted(alert, issue.id, issue.key, done=issue.done, applied=applied, release=applied, group=group)
        if not applied:
            return None  # recorded before anything else can fail; the lease stays for the alert's own step
        return _confirmed(lease, provider, OutcomeAction.RECOVERED, Reason.UNCONFIRMED_CREATE_FOUND)


def _confirmed(lease: Lease, provider: ProviderConfig, action: OutcomeAction, reason: Reason) -> Outcome:
    """The outcome of a create now recorded; "coalesced" when the alert's clear came first and is written next."""
    state = lease.state
    if state.pending_state is not None:
        return Outcome(provider.provider_id, OutcomeAction.COALESCED, Reason.FIRED_BEFORE_ITS_CLEAR, state.issue_key)
    return Outcome(provider.provider_id, action, reason, state.issue_key)


def refused_tag_fields(error: JiraNotifierError, provider: ProviderConfig, body: Mapping[str, Any]) -> frozenset[str]:
    """The fields filled from tags that Jira named when refusing a create (400): leave them out and create again."""
    if not isinstance(error, JiraRequestError) or error.status != 400:
        return frozenset()
    sent = set(body.get("fields") or {})
    return frozenset(set(error.fields) & set(provider.tag_fields.values()) & sent)
