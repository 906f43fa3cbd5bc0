"""Jira Cloud over one ``requests.Session`` for one credential: authentication, retries, pacing, the deadline.

Retries follow Atlassian's guidance: on 429 wait at least ``Retry-After``; otherwise back off from about 2 s,
doubling, with 0.7-1.3 jitter, about 4 tries. ``RateLimit-Reason`` decides what waits: a per-issue write limit
delays only that issue, a burst limit only that endpoint, a quota everything. A request that might have reached
Jira (timeout, 5xx) is never retried here when it is not idempotent: the caller checks before creating again.
No wait ever runs past the invocation's remaining time, given with each call; the error goes back to Lambda's
retry instead. A transport lives as long as the warm container (pooled connections, pacing); the deadline does not.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import requests

from jira_notifier.core.budgets import AWS_CALL_WORST_SECONDS
from jira_notifier.core.config import CLOUD_ID, GATEWAY_HOST
from jira_notifier.core.errors import JiraAuthError, JiraRequestError, JiraUnavailableError

if TYPE_CHECKING:
    from jira_notifier.core.config import JiraSecret

Remaining = Callable[[], float] | None  # seconds left in the invocation; None outside Lambda
Files = Mapping[str, tuple[str, bytes, str]]  # multipart part name -> (file name, content, content type)

USER_AGENT = "jira-notifier/0.1 (+python-requests)"
MAX_TRIES = 4
BASE_DELAY = 2.0
MAX_DELAY = 30.0
# Seconds kept back from the invocation's deadline after a Jira call: room for the state write that records it.
SAFETY_MARGIN = AWS_CALL_WORST_SECONDS + 1.0


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What one HTTP exchange with Jira cost; fed to metrics and benchmarks, never containing secrets."""

    endpoint: str
    status: int | None
    elapsed_ms: float
    rate_limit_reason: str | None = None


class JiraTransport:
    """One credential's connection to Jira."""

    def __init__(
        self,
        secret: JiraSecret,
        *,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        observer: Callable[[CallRecord], None] | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.secret = secret
        self.base_url = secret.api_base_url
        self.timeout = timeout
        self._session = session or requests.Session()
        self._session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        self._auth = (secret.email, secret.api_token)
        self._observer = observer
        self._sleep = sleep or time.sleep
        self._clock = clock
        self._not_before: dict[str, float] = {}  # pacing key -> monotonic time before which we must not call

    def gateway_accepts(self, remaining: Remaining = None) -> bool:
        """After a 401 at the site URL: do the same credentials work through api.atlassian.com? True means a
        scoped or service-account token was configured without its cloudId. Never raises."""
        if self.secret.cloud_id:
            return False
        try:
            tenant = self._session.get(
                self.secret.server_url + "/_edge/tenant_info", timeout=self._timeout(remaining), allow_redirects=False
            )
            cloud_id = json_or_empty(tenant).get("cloudId") if tenant.status_code == 200 else None
            if not isinstance(cloud_id, str) or not CLOUD_ID.fullmatch(cloud_id):
                return False
            answer = self._session.get(
                f"https://{GATEWAY_HOST}/ex/jira/{cloud_id}/rest/api/3/myself",
                auth=self._auth,
                timeout=self._timeout(remaining),
                allow_redirects=False,
            )
        except (requests.RequestException, JiraUnavailableError):
            return False
        return answer.status_code == 200

    def call(
        self,
        method: str,
        path: str,
        *,
        remaining: Remaining = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Files | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
        pace: str | None = None,
        bulk_ok: bool = False,
    ) -> dict[str, Any]:
        endpoint = f"{method} {_template(path)}"
        pace_keys = [key for key in ("all", f"endpoint:{endpoint}", pace) if key]
        for attempt in range(1, MAX_TRIES + 1):
            self._wait_for(pace_keys, remaining)
            try:
                response = self.send(
                    method,
                    path,
                    endpoint=endpoint,
                    remaining=remaining,
                    params=params,
                    json=json,
                    files=files,
                    headers=headers,
                )
            except JiraUnavailableError as exc:
                if (exc.ambiguous and not idempotent) or attempt == MAX_TRIES:
                    raise
                self._backoff(attempt, None, pace_keys[-1], remaining)
                continue
            status = response.status_code
            if status < 300 or (bulk_ok and status == 400 and _is_bulk_body(response)):
                data = json_body(response)
                if data is not None:
                    return data
                error: Exception = cut_off(endpoint)  # a success whose body cannot be read
            else:
                error = error_for(response, ambiguous=not idempotent)
            if not isinstance(error, JiraUnavailableError):
                raise error
            retry_ok = status == 429 or idempotent  # a 429 was refused outright: safe to resend even a create
            if not retry_ok or attempt == MAX_TRIES:
                raise error
            key = _pace_key(error.rate_limit_reason, endpoint, pace)
            self._backoff(attempt, error.retry_after, key, remaining, error)
        raise AssertionError("unreachable")  # pragma: no cover

    def send(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        remaining: Remaining = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Files | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        started = self._clock()
        status: int | None = None
        reason: str | None = None
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                params=params,
                json=json,
                files=files,
                headers=headers,
                auth=self._auth,
                timeout=self._timeout(remaining),
                allow_redirects=False,  # a redirect could carry the credentials to another host
            )
            status = response.status_code
            reason = response.headers.get("RateLimit-Reason")
        except requests.Timeout as exc:
            raise JiraUnavailableError(f"Jira did not answer {endpoint} in time", ambiguous=True) from exc
        except requests.ConnectionError as exc:
            # A refused or reset connection before a response: the request may still have been sent.
            raise JiraUnavailableError(f"could not reach Jira for {endpoint}", ambiguous=True) from exc
        except requests.RequestException as exc:  # e.g. a body cut off mid-answer: Jira may have acted
            raise cut_off(endpoint) from exc
        finally:
            if self._observer is not None:
                self._observer(CallRecord(endpoint, status, (self._clock() - started) * 1000, reason))
        if 300 <= response.status_code < 400:
            raise JiraRequestError(
                f"Jira answered {endpoint} with a redirect ({response.status_code}); redirects are not followed. "
                "Check the Server URL (use https://yourdomain.atlassian.net).",
                status=response.status_code,
            )
        return response

    def _timeout(self, remaining: Remaining) -> float:
        if remaining is None:
            return self.timeout
        left = remaining() - SAFETY_MARGIN
        if left <= 0.5:
            raise JiraUnavailableError("no time left in this invocation to call Jira")
        return min(self.timeout, left)

    def _wait_for(self, keys: Sequence[str], remaining: Remaining) -> None:
        until = max((self._not_before.get(key, 0.0) for key in keys), default=0.0)
        delay = until - self._clock()
        if delay > 0:
            self._sleep_within_deadline(delay, remaining, None)

    def _backoff(
        self,
        attempt: int,
        retry_after: float | None,
        key: str,
        remaining: Remaining,
        error: JiraUnavailableError | None = None,
    ) -> None:
        delay = min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1)) * random.uniform(0.7, 1.3)  # noqa: S311 - jitter
        if retry_after is not None:
            delay = max(delay, retry_after)
        self._not_before[key] = self._clock() + delay
        self._sleep_within_deadline(delay, remaining, error)

    def _sleep_within_deadline(self, delay: float, remaining: Remaining, error: JiraUnavailableError | None) -> None:
        if remaining is not None and remaining() - SAFETY_MARGIN - self.timeout < delay:
            raise error or JiraUnavailableError("Jira asked to wait longer than this invocation has left")
        self._sleep(delay)


def cut_off(endpoint: str) -> JiraUnavailableError:
    return JiraUnavailableError(
        f"Jira's answer to {endpoint} was cut off or unreadable; it may have acted", ambiguous=True
    )


def _template(path: str) -> str:
    """``/rest/api/3/issue/OPS-1/comment`` -> ``/issue/{id}/comment``: a stable endpoint name for metrics/pacing."""
    parts = path.removeprefix("/rest/api/3").split("/")
    if len(parts) > 2 and parts[1] == "issue" and parts[2] not in ("bulk", "createmeta"):
        parts[2] = "{id}"
    if len(parts) > 2 and parts[1] == "project":
        parts[2] = "{id}"
    if len(parts) > 3 and parts[1] == "issue" and parts[2] == "createmeta":
        parts[3] = "{project}"
        if len(parts) > 5:
            parts[5] = "{type}"
    return "/".join(parts)


def _pace_key(reason: str | None, endpoint: str, pace: str | None) -> str:
    if reason == "jira-per-issue-on-write" and pace and pace.startswith("issue:"):
        return pace
    if reason in ("jira-quota-global-based", "jira-quota-tenant-based"):
        return "all"
    return f"endpoint:{endpoint}"


def _is_bulk_body(response: requests.Response) -> bool:
    data = json_or_empty(response)
    return "errors" in data and isinstance(data.get("errors"), list)


# ---- what Jira's answers mean: their JSON bodies, and errors explained so that a person can act on them ----------
# The one place that turns Jira's status codes and ErrorCollections into the product's errors and sentences.


def json_or_empty(response: requests.Response) -> dict[str, Any]:
    data = json_body(response)
    return {} if data is None else data


def json_body(response: requests.Response) -> dict[str, Any] | None:
    """The answer's JSON object ({} for no body); None when a body is there but cannot be read."""
    if not response.content:
        return {}
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else {"values": data}


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def error_for(response: requests.Response, *, ambiguous: bool) -> Exception:
    status = response.status_code
    if status == 429 or status >= 500 or status == 409:
        return JiraUnavailableError(
            f"Jira answered {status} ({'rate limited' if status == 429 else 'temporarily unavailable'})",
            status=status,
            body=body_snippet(response),
            retry_after=_retry_after(response.headers.get("Retry-After")),
            rate_limit_reason=response.headers.get("RateLimit-Reason"),
            ambiguous=ambiguous and status != 429,
        )
    return request_error(status, json_or_empty(response), raw=body_snippet(response))


def request_error(status: int, data: Mapping[str, Any], raw: str = "") -> JiraRequestError:
    detail = explain_errors(data) or raw or "no detail given"
    if status == 401:
        return JiraAuthError(
            "Jira rejected the credentials (401): the API token is wrong, expired or revoked, the e-mail does not "
            "own it, or a scoped token was sent to the site URL (set cloudId in the secret to use "
            "api.atlassian.com). Create a new token and update the secret.",
            status=status,
            body=raw,
        )
    if status == 403:
        return JiraAuthError(
            f"Jira refused the request (403): the account lacks a permission in this project. {detail}",
            status=status,
            body=raw,
        )
    if status == 404:
        return JiraRequestError(
            f"Jira answered 404: not found, or not visible to this account. {detail}", status=status, body=raw
        )
    if status == 413:
        return JiraRequestError(
            f"Jira refused the write (413): the issue reached a per-issue limit. {detail}", status=status, body=raw
        )
    errors = data.get("errors")
    fields = tuple(str(name) for name in errors) if isinstance(errors, Mapping) else ()
    return JiraRequestError(f"Jira refused the request ({status}): {detail}", status=status, body=raw, fields=fields)


def explain_errors(data: Mapping[str, Any]) -> str:
    """Turn an ErrorCollection into sentences a user can act on."""
    messages = [_explain_message(str(m)) for m in data.get("errorMessages") or [] if m]
    found = data.get("errors")
    errors: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    messages += [_explain_field_error(str(field_id), str(text)) for field_id, text in errors.items()]
    return " ".join(messages)


def _explain_message(message: str) -> str:
    # e.g. "Field 'priority' is required"
    if message.startswith("Field '") and "' is required" in message:
        field_id = message.split("'", 2)[1]
        return f"{message}. {_required_fix(field_id)}"
    return message


def _explain_field_error(field_id: str, text: str) -> str:
    lowered = text.lower()
    if "is required" in lowered:
        return f"field {field_id!r} is required in this project ({text}). {_required_fix(field_id)}"
    if "cannot be set" in lowered or "not on the appropriate screen" in lowered:
        return (
            f"field {field_id!r} cannot be set: it is not on the project's create/transition screen, or the "
            f"account may not edit it ({text}). Add it to the screen or stop setting it."
        )
    if field_id == "issuetype":
        return f"issue type: {text} Use the issue type's name exactly as Jira shows it for this project."
    if field_id == "project":
        return f"project: {text} Check the provider's Project ID or Key and the account's access."
    return f"{field_id}: {text}"


def _required_fix(field_id: str) -> str:
    return (
        f"Remove the requirement in Jira's field configuration, or set it in the provider's fields "
        f"(jira-notifier provider add ... --field {field_id}=<JSON>)."
    )


def body_snippet(response: requests.Response) -> str:
    try:
        return response.text[:300]
    except (ValueError, UnicodeDecodeError):
        return ""
