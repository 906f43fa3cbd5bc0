"""Jira Cloud REST API v3 over one ``requests.Session``: typed errors, rate-limit pacing, retries.

Retries follow Atlassian's guidance: on 429 wait at least ``Retry-After``; otherwise back off from about 2 s,
doubling, with 0.7-1.3 jitter, about 4 tries. ``RateLimit-Reason`` decides what waits: a per-issue write limit
delays only that issue, a burst limit only that endpoint, a quota everything. A request that might have reached
Jira (timeout, 5xx) is never retried here when it is not idempotent: the caller checks before creating again.
No wait ever runs past the invocation's remaining time; the error goes back to Lambda's retry instead.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import requests

from jira_notifier.aws import AWS_CALL_WORST_SECONDS
from jira_notifier.config import CLOUD_ID, GATEWAY_HOST
from jira_notifier.errors import JiraAuthError, JiraRequestError, JiraUnavailableError

if TYPE_CHECKING:
    from jira_notifier.config import JiraSecret

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


@dataclass(frozen=True, slots=True)
class CreatedIssue:
    id: str
    key: str


@dataclass(frozen=True, slots=True)
class JiraIssue:
    """What the product reads of an issue (what was asked for; the rest is empty): no Jira JSON leaves ``jira/``."""

    id: str
    key: str
    status_category: str | None = None  # new | indeterminate | done
    resolution: str | None = None
    resolved_at: float | None = None  # epoch seconds
    created_at: float | None = None
    labels: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return self.status_category == "done"


@dataclass(frozen=True, slots=True)
class BulkResult:
    """One element of a bulk create, in request order: the issue, or the error that refused it."""

    issue: CreatedIssue | None
    error: JiraRequestError | None


class JiraClient:
    """The narrow set of Jira calls jira-notifier makes."""

    def __init__(
        self,
        secret: JiraSecret,
        *,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        observer: Callable[[CallRecord], None] | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        remaining_seconds: Callable[[], float] | None = None,
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
        self.remaining_seconds = remaining_seconds
        self._not_before: dict[str, float] = {}  # pacing key -> monotonic time before which we must not call

    # ---- issues -------------------------------------------------------------------------------------------

    def create_issue(self, body: Mapping[str, Any]) -> CreatedIssue:
        """Create one issue.

        Raises:
            JiraRequestError: Jira refused it (field errors explained).
            JiraUnavailableError: retryable; ``ambiguous`` when it may have been created.
        """
        data = self._call("POST", "/rest/api/3/issue", json=body, idempotent=False, pace="endpoint:create")
        if not data.get("id") or not data.get("key"):
            raise _cut_off("POST /issue")
        return CreatedIssue(id=str(data["id"]), key=str(data["key"]))

    def bulk_create(self, bodies: Sequence[Mapping[str, Any]]) -> list[BulkResult]:
        """Create up to 50 issues in one request; partial failures map back to their position.

        Raises:
            JiraRequestError: every element was refused, or the request itself was.
            JiraUnavailableError: retryable; ``ambiguous`` when some may have been created.
        """
        if not 0 < len(bodies) <= 50:
            raise ValueError("bulk create takes 1 to 50 issues")
        data = self._call(
            "POST",
            "/rest/api/3/issue/bulk",
            json={"issueUpdates": list(bodies)},
            idempotent=False,
            pace="endpoint:bulk",
            bulk_ok=True,
        )
        errors = {int(e.get("failedElementNumber", -1)): e for e in data.get("errors") or []}
        issues = [issue for issue in data.get("issues") or [] if issue.get("id") and issue.get("key")]
        if len(issues) + len(errors) != len(bodies):
            raise _cut_off("POST /issue/bulk")
        created = iter(issues)
        results: list[BulkResult] = []
        for index in range(len(bodies)):
            if index in errors:
                element = errors[index]
                results.append(
                    BulkResult(
                        None, _request_error(int(element.get("status") or 400), element.get("elementErrors") or {})
                    )
                )
            else:
                issue = next(created)
                results.append(BulkResult(CreatedIssue(id=str(issue["id"]), key=str(issue["key"])), None))
        return results

    def get_issue(self, issue: str, fields: Iterable[str]) -> JiraIssue:
        """Read one issue with the given fields.

        Raises:
            JiraRequestError: 404 when it was deleted or is not visible.
            JiraUnavailableError: retryable.
        """
        return _issue(self._call("GET", f"/rest/api/3/issue/{issue}", params={"fields": ",".join(fields)}))

    def add_comment(self, issue: str, body: Mapping[str, Any]) -> None:
        """Add an ADF comment.

        Raises:
            JiraRequestError, JiraUnavailableError.
        """
        self._call(
            "POST", f"/rest/api/3/issue/{issue}/comment", json={"body": body}, idempotent=False, pace=f"issue:{issue}"
        )

    def get_transitions(self, issue: str) -> list[dict[str, Any]]:
        """The transitions available to this user on the issue (empty without *Transition issues*).

        Raises:
            JiraRequestError, JiraUnavailableError.
        """
        data = self._call("GET", f"/rest/api/3/issue/{issue}/transitions")
        return list(data.get("transitions") or [])

    def transition(
        self,
        issue: str,
        transition_id: str,
        *,
        comment: Mapping[str, Any] | None = None,
        resolution: str | None = None,
    ) -> None:
        """Move the issue through a transition, with the comment in the same request (one write, not two).

        Raises:
            JiraRequestError: e.g. the transition is no longer valid or a field is not on its screen.
            JiraUnavailableError: retryable.
        """
        body: dict[str, Any] = {"transition": {"id": transition_id}}
        if resolution:
            body["fields"] = {"resolution": {"name": resolution}}
        if comment is not None:
            body["update"] = {"comment": [{"add": {"body": comment}}]}
        self._call("POST", f"/rest/api/3/issue/{issue}/transitions", json=body, idempotent=False, pace=f"issue:{issue}")

    def search_jql(
        self,
        jql: str,
        fields: Sequence[str],
        *,
        reconcile_ids: Sequence[int] = (),
        max_results: int = 50,
        all_pages: bool = True,
    ) -> list[JiraIssue]:
        """Issues matching a bounded JQL query (every page, or the first); ``reconcile_ids`` for read-after-write.

        Raises:
            JiraRequestError, JiraUnavailableError.
        """
        issues: list[JiraIssue] = []
        body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": max_results}
        if reconcile_ids:
            body["reconcileIssues"] = list(reconcile_ids)[:50]
        while True:
            data = self._call("POST", "/rest/api/3/search/jql", json=body)
            issues.extend(_issue(issue) for issue in data.get("issues") or [] if isinstance(issue, Mapping))
            token = data.get("nextPageToken")
            if not token or not all_pages:
                return issues
            body["nextPageToken"] = token

    # ---- metadata and preflight --------------------------------------------------------------------------

    def create_meta_issue_types(self, project: str) -> list[dict[str, Any]]:
        """Issue types the user may create in the project (createmeta, all pages).

        Raises:
            JiraRequestError, JiraUnavailableError.
        """
        return self._paged(f"/rest/api/3/issue/createmeta/{project}/issuetypes", "issueTypes")

    def create_meta_fields(self, project: str, issue_type_id: str) -> list[dict[str, Any]]:
        """Fields of the create screen for one issue type (all pages).

        Raises:
            JiraRequestError, JiraUnavailableError.
        """
        return self._paged(f"/rest/api/3/issue/createmeta/{project}/issuetypes/{issue_type_id}", "fields")

    def myself(self) -> requests.Response:
        """``GET /myself`` as a raw response: the preflight reads headers (X-Seraph-LoginReason) too.

        Raises:
            JiraUnavailableError: unreachable.
        """
        return self._send("GET", "/rest/api/3/myself", endpoint="GET /myself")

    def gateway_accepts(self) -> bool:
        """After a 401 at the site URL: do the same credentials work through api.atlassian.com? True means a
        scoped or service-account token was configured without its cloudId. Never raises."""
        if self.secret.cloud_id:
            return False
        try:
            tenant = self._session.get(
                self.secret.server_url + "/_edge/tenant_info", timeout=self._timeout(), allow_redirects=False
            )
            cloud_id = _json_or_empty(tenant).get("cloudId") if tenant.status_code == 200 else None
            if not isinstance(cloud_id, str) or not CLOUD_ID.fullmatch(cloud_id):
                return False
            answer = self._session.get(
                f"https://{GATEWAY_HOST}/ex/jira/{cloud_id}/rest/api/3/myself",
                auth=self._auth,
                timeout=self._timeout(),
                allow_redirects=False,
            )
        except (requests.RequestException, JiraUnavailableError):
            return False
        return answer.status_code == 200

    def get_project(self, project: str) -> dict[str, Any]:
        """Raises: JiraRequestError (404: not found or not visible), JiraUnavailableError."""
        return self._call("GET", f"/rest/api/3/project/{project}")

    def my_permissions(self, project: str, permissions: Sequence[str]) -> dict[str, bool]:
        """Which of ``permissions`` the user holds in the project.

        Raises:
            JiraRequestError, JiraUnavailableError.
        """
        key = "projectId" if project.isdigit() else "projectKey"
        data = self._call(
            "GET", "/rest/api/3/mypermissions", params={key: project, "permissions": ",".join(permissions)}
        )
        held = data.get("permissions") or {}
        return {name: bool((held.get(name) or {}).get("havePermission")) for name in permissions}

    def project_statuses(self, project: str) -> list[dict[str, Any]]:
        """The statuses of each issue type of the project (``[{"id", "name", "statuses": [...]}]``).

        Raises:
            JiraRequestError, JiraUnavailableError.
        """
        return list(self._call("GET", f"/rest/api/3/project/{project}/statuses").get("values") or [])

    def resolutions(self) -> list[str]:
        """Names of the site's resolutions.

        Raises:
            JiraRequestError, JiraUnavailableError.
        """
        return [str(r.get("name")) for r in self._paged("/rest/api/3/resolution/search", "values")]

    # ---- plumbing ----------------------------------------------------------------------------------------

    def _paged(self, path: str, items_key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        start = 0
        while True:
            data = self._call("GET", path, params={"startAt": start, "maxResults": 200 if "createmeta" in path else 50})
            page = list(data.get(items_key) or [])
            items.extend(page)
            start += len(page)
            total = data.get("total")
            if not page or data.get("isLast") is True or (isinstance(total, int) and start >= total):
                return items
            if total is None and data.get("isLast") is None:
                return items

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
        pace: str | None = None,
        bulk_ok: bool = False,
    ) -> dict[str, Any]:
        endpoint = f"{method} {_template(path)}"
        pace_keys = [key for key in ("all", f"endpoint:{endpoint}", pace) if key]
        for attempt in range(1, MAX_TRIES + 1):
            self._wait_for(pace_keys)
            try:
                response = self._send(method, path, endpoint=endpoint, params=params, json=json)
            except JiraUnavailableError as exc:
                if (exc.ambiguous and not idempotent) or attempt == MAX_TRIES:
                    raise
                self._backoff(attempt, None, pace_keys[-1])
                continue
            status = response.status_code
            if status < 300 or (bulk_ok and status == 400 and _is_bulk_body(response)):
                data = _json_body(response)
                if data is not None:
                    return data
                error: Exception = _cut_off(endpoint)  # a success whose body cannot be read
            else:
                error = _error_for(response, ambiguous=not idempotent)
            if not isinstance(error, JiraUnavailableError):
                raise error
            retry_ok = status == 429 or idempotent  # a 429 was refused outright: safe to resend even a create
            if not retry_ok or attempt == MAX_TRIES:
                raise error
            key = _pace_key(error.rate_limit_reason, endpoint, pace)
            self._backoff(attempt, error.retry_after, key, error)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
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
                auth=self._auth,
                timeout=self._timeout(),
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
            raise _cut_off(endpoint) from exc
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

    def _timeout(self) -> float:
        if self.remaining_seconds is None:
            return self.timeout
        left = self.remaining_seconds() - SAFETY_MARGIN
        if left <= 0.5:
            raise JiraUnavailableError("no time left in this invocation to call Jira")
        return min(self.timeout, left)

    def _wait_for(self, keys: Sequence[str]) -> None:
        until = max((self._not_before.get(key, 0.0) for key in keys), default=0.0)
        delay = until - self._clock()
        if delay > 0:
            self._sleep_within_deadline(delay, None)

    def _backoff(
        self, attempt: int, retry_after: float | None, key: str, error: JiraUnavailableError | None = None
    ) -> None:
        delay = min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1)) * random.uniform(0.7, 1.3)  # noqa: S311 - jitter
        if retry_after is not None:
            delay = max(delay, retry_after)
        self._not_before[key] = self._clock() + delay
        self._sleep_within_deadline(delay, error)

    def _sleep_within_deadline(self, delay: float, error: JiraUnavailableError | None) -> None:
        if self.remaining_seconds is not None and self.remaining_seconds() - SAFETY_MARGIN - self.timeout < delay:
            raise error or JiraUnavailableError("Jira asked to wait longer than this invocation has left")
        self._sleep(delay)


def _issue(data: Mapping[str, Any]) -> JiraIssue:
    fields = _mapping(data.get("fields"))
    labels = fields.get("labels")
    return JiraIssue(
        id=str(data.get("id")),
        key=str(data.get("key")),
        status_category=_mapping(_mapping(fields.get("status")).get("statusCategory")).get("key"),
        resolution=_mapping(fields.get("resolution")).get("name"),
        resolved_at=_jira_time(fields.get("resolutiondate")),
        created_at=_jira_time(fields.get("created")),
        labels=tuple(label for label in labels if isinstance(label, str)) if isinstance(labels, list) else (),
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _jira_time(value: Any) -> float | None:
    """Jira's timestamps (``2026-11-02T09:00:01.000+0000``) as epoch seconds."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None


def _cut_off(endpoint: str) -> JiraUnavailableError:
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
    data = _json_or_empty(response)
    return "errors" in data and isinstance(data.get("errors"), list)


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    data = _json_body(response)
    return {} if data is None else data


def _json_body(response: requests.Response) -> dict[str, Any] | None:
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


def _error_for(response: requests.Response, *, ambiguous: bool) -> Exception:
    status = response.status_code
    if status == 429 or status >= 500 or status == 409:
        return JiraUnavailableError(
            f"Jira answered {status} ({'rate limited' if status == 429 else 'temporarily unavailable'})",
            status=status,
            body=_body_snippet(response),
            retry_after=_retry_after(response.headers.get("Retry-After")),
            rate_limit_reason=response.headers.get("RateLimit-Reason"),
            ambiguous=ambiguous and status != 429,
        )
    return _request_error(status, _json_or_empty(response), raw=_body_snippet(response))


def _request_error(status: int, data: Mapping[str, Any], raw: str = "") -> JiraRequestError:
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
    return JiraRequestError(f"Jira refused the request ({status}): {detail}", status=status, body=raw)


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


def _body_snippet(response: requests.Response) -> str:
    try:
        return response.text[:300]
    except (ValueError, UnicodeDecodeError):
        return ""
