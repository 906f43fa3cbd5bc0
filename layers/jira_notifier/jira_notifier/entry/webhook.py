"""The Jira webhook receiver behind a Lambda Function URL: Jira admin webhooks, signed with a shared secret, tell the
product at once what people did to its issues (the scheduled read-back finds the same later).

Every request is judged on its raw bytes before anything is parsed: too large → 413; no valid ``X-Hub-Signature:
sha256=<hex HMAC-SHA256 of the body keyed with the shared secret>`` (compared in constant time) → 401; not
``application/json``, not JSON, or without ``X-Atlassian-Webhook-Identifier`` → 400. Then, answered 200 with no
effect: an event about something else; a body not raised within ``MAX_AGE_SECONDS`` (or dated ahead by more than
``MAX_AHEAD_SECONDS``, or not dated); an issue on a site no provider uses, or that no provider's state follows; a body
seen before (remembered by its hash: the signature covers the body, not the headers). What is left goes through
``app.readback.apply_jira_view``, the read-back's own way of recording "Jira says issue X is now Y", always confirmed by
reading the issue from the provider's own site: what is recorded is what Jira says now, never what a body says.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jira_notifier.adapters.jira.issue_events import read_issue_event
from jira_notifier.adapters.observability import logger
from jira_notifier.app.readback import Recorded, apply_jira_view, find_state
from jira_notifier.core.errors import JiraNotifierError, SecretError

if TYPE_CHECKING:
    from jira_notifier.adapters.jira.issue_events import IssueEvent
    from jira_notifier.app.lease import Leases
    from jira_notifier.core.config import JiraSecret, ProviderConfig
    from jira_notifier.core.state import IssueState
    from jira_notifier.ports import JiraIssue, OwnedIssues, Recorder, SyncBackPort

MAX_BODY_BYTES = 1024 * 1024  # an issue payload with its fields is tens of kilobytes; this is far beyond a real one
SIGNATURE_HEADER = "x-hub-signature"
DELIVERY_HEADER = "x-atlassian-webhook-identifier"
DEFAULT_REMAINING_SECONDS = 30.0
# How old a delivery's body ``timestamp`` may be. Atlassian's retry policy (developer.atlassian.com/cloud/jira/
# platform/webhooks/#retry-policy, announced at community.developer.atlassian.com/t/30554): a delivery answered with
# 408, 409, 425, 429 or 5xx, or not answered, is retried, so it "might be delivered later than usually (up to 30
# minutes, subject to change)", and receivers are told to check the timestamp. Twice that bound keeps Jira's own
# retries; anything older is a replay, or left to the read-back, which finds the same decision by reading Jira.
MAX_AGE_SECONDS = 3600
MAX_AHEAD_SECONDS = 60  # clock skew between Jira and Lambda (both keep NTP time): a body dated later is not Jira's


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    result: str  # a word for the log and the sender: "recorded", "ignored", "duplicate", "bad-signature", ...

    def response(self) -> dict[str, Any]:
        """The Function URL response."""
        return {
            "statusCode": self.status,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"result": self.result}),
        }


@dataclass
class WebhookReceiver:
    """Judges one Function URL request and records what it says of an owned issue."""

    shared_secret: Callable[[], bytes]  # the key Jira signs with (read from Secrets Manager, cached)
    providers: Callable[[], Sequence[ProviderConfig]]
    secret: Callable[[str], JiraSecret]  # a provider's Jira Token secret by name (cached): its site
    owned: OwnedIssues
    leases: Leases
    read_issue: Callable[[ProviderConfig, str, Callable[[], float] | None], JiraIssue | None]  # by id; None: 404
    recorder: Recorder
    sync_back: SyncBackPort  # a resolution a person chose goes back to AWS
    clock: Callable[[], float] = time.time

    def handle(self, event: Mapping[str, Any], remaining: Callable[[], float] | None = None) -> Answer:
        """The answer to one request (the caller logs it; nothing here logs the body, the secret or the signature).

        Failures of its own (the shared secret, the state, Jira) are answered with 5xx, so Jira tries again.
        """
        if _method(event) != "POST":
            return self._refused(405, "method-not-allowed")
        headers = _headers(event)
        if len(str(event.get("body") or "")) > 2 * MAX_BODY_BYTES:  # too large even as base64: not decoded at all
            return self._refused(413, "too-large")
        try:
            body = _raw_body(event)
        except ValueError:
            return self._refused(400, "body-not-base64")
        if len(body) > MAX_BODY_BYTES:
            return self._refused(413, "too-large")
        try:
            secret = self.shared_secret()
        except JiraNotifierError as error:
            logger.error("the webhook's shared secret cannot be read", reason=error.reason, error=str(error))
            return Answer(503 if error.retryable else 500, "retry-later" if error.retryable else "failed")
        if not signature_valid(secret, body, headers.get(SIGNATURE_HEADER)):
            return self._refused(401, "bad-signature")
        if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return self._refused(400, "not-json-content-type")
        try:
            payload = json.loads(body)
        except ValueError:  # UnicodeDecodeError included
            return self._refused(400, "not-json")
        delivery = headers.get(DELIVERY_HEADER, "").strip()
        if not delivery:
            return self._refused(400, "no-delivery-identifier")
        issue_event = read_issue_event(payload)
        if issue_event is None:
            return Answer(200, "ignored")
        if not fresh(issue_event.at, self.clock()):
            self.recorder.count("WebhookDeliveriesStale")
            logger.info("webhook delivery outside its time window", delivery=delivery[:80], raised_at=issue_event.at)
            return Answer(200, "stale")
        try:
            owner = self._owner(issue_event)
            if owner is None:
                return Answer(200, "ignored")
            seen = body_key(body)
            if not self.owned.claim_delivery(seen):
                return Answer(200, "duplicate")
            try:
                recorded = self._apply(issue_event, *owner, remaining)
            except Exception:
                self.owned.forget_delivery(seen)  # not applied: Jira's retry of this delivery is applied then
                raise
        except JiraNotifierError as error:
            logger.warning("webhook delivery not applied; the sender may retry", reason=error.reason, error=str(error))
            return Answer(503 if error.retryable else 500, "retry-later" if error.retryable else "failed")
        if recorded is None:
            return Answer(200, "unchanged")
        self.recorder.count("HumanDecisionsRecorded", len(recorded.changes))
        logger.info("human decision recorded", issue_key=recorded.issue_key, changes=list(recorded.changes))
        return Answer(200, "recorded")

    def _owner(self, issue_event: IssueEvent) -> tuple[ProviderConfig, IssueState] | None:
        """The provider on the issue's site whose state follows this issue, and that state, if any (read only).

        Raises:
            JiraNotifierError: the providers, a secret or the state could not be read (retryable).
        """
        if issue_event.issue_url is None:
            return None
        for provider in self.providers():
            if self._on_site(provider, issue_event.issue_url):
                found = find_state(self.owned, provider, issue_event.issue)
                if found is not None:
                    return provider, found
        return None

    def _on_site(self, provider: ProviderConfig, issue_url: str) -> bool:
        """Whether the provider's Jira site holds the issue at ``issue_url``; a provider whose secret is missing or
        malformed holds nothing (its own deliveries are parked with the reason).

        Raises:
            SecretFetchError: Secrets Manager did not answer (retryable).
        """
        try:
            return self.secret(provider.secret).holds(issue_url)
        except SecretError as error:
            logger.warning("provider skipped: unreadable secret", provider=provider.provider_id, error=str(error))
            return False

    def _apply(
        self,
        issue_event: IssueEvent,
        provider: ProviderConfig,
        found: IssueState,
        remaining: Callable[[], float] | None,
    ) -> Recorded | None:
        """Record what the event says of the issue ``found`` follows.

        Raises:
            JiraNotifierError: the lease, the write, or the confirming read failed.
        """
        issue = issue_event.issue
        return apply_jira_view(
            self.leases,
            provider,
            found,
            issue.id,
            None if issue_event.deleted else issue,
            seen_at=issue_event.at,
            read=self._reader(provider, remaining),
            clock=self.clock,
            deadline=self.clock() + (remaining() if remaining else DEFAULT_REMAINING_SECONDS),
            sync_back=self.sync_back,
            confirm=True,  # a signed body may be an old one sent again: record what Jira says now
        )

    def _reader(
        self, provider: ProviderConfig, remaining: Callable[[], float] | None
    ) -> Callable[[str], JiraIssue | None]:
        return lambda issue_id: self.read_issue(provider, issue_id, remaining)

    def _refused(self, status: int, result: str) -> Answer:
        self.recorder.count("WebhookRequestsRefused")
        return Answer(status, result)


def fresh(raised_at: float | None, now: float) -> bool:
    """Whether a delivery raised at ``raised_at`` (its body's ``timestamp``) may still be one Jira sent just now, or
    retried: not older than ``MAX_AGE_SECONDS``, not ahead by more than ``MAX_AHEAD_SECONDS``. An undated body is
    not: Jira dates every delivery."""
    return raised_at is not None and now - MAX_AGE_SECONDS <= raised_at <= now + MAX_AHEAD_SECONDS


def body_key(body: bytes) -> str:
    """What a delivery is remembered by: the hash of its signed body. Jira's retries of a delivery carry the same
    body; the identifier header is not signed, so a body sent again under a new one is still the same delivery."""
    return hashlib.sha256(body).hexdigest()


def signature_valid(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is ``sha256=`` and the hex HMAC-SHA256 of ``body`` keyed with ``secret`` (constant time)."""
    if not secret or not header:
        return False
    expected = b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode("ascii")
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature`` value Jira sends with ``body`` (for the CLI's test delivery and the tests)."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def _method(event: Mapping[str, Any]) -> str:
    http = event.get("requestContext", {}).get("http", {}) if isinstance(event.get("requestContext"), Mapping) else {}
    return str(http.get("method") or "").upper() if isinstance(http, Mapping) else ""


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    """Header names in lower case (Function URLs send them so; a test or a proxy may not)."""
    headers = event.get("headers")
    if not isinstance(headers, Mapping):
        return {}
    return {str(name).lower(): str(value) for name, value in headers.items()}


def _raw_body(event: Mapping[str, Any]) -> bytes:
    """The body's bytes as the sender sent them: Function URLs base64-encode bodies they do not take for text.

    Raises:
        ValueError: ``isBase64Encoded`` and the body is not base64.
    """
    body = event.get("body")
    text = body if isinstance(body, str) else ""
    if event.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as error:
            raise ValueError("not base64") from error
    return text.encode("utf-8", "surrogateescape")
