"""The Jira calls the functions make (``ports.JiraPort``), with typed answers: no Jira JSON leaves the Jira adapter.

A ``JiraClient`` is one invocation's view of a ``JiraTransport``: the transport (connections, pacing) lives as long
as the warm container; the client carries the invocation's deadline to every call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

import requests

from jira_notifier.adapters.jira.transport import CallRecord, JiraTransport, Remaining, cut_off, request_error
from jira_notifier.ports import Attachment, BulkResult, CreatedIssue, JiraIssue

if TYPE_CHECKING:
    from jira_notifier.core.config import JiraSecret


class JiraClient:
    """The narrow set of Jira calls jira-notifier makes at run time."""

    def __init__(self, transport: JiraTransport, remaining: Remaining = None) -> None:
        self.transport = transport
        self.remaining = remaining

    @classmethod
    def connect(
        cls,
        secret: JiraSecret,
        *,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        observer: Callable[[CallRecord], None] | None = None,
        sleep: Callable[[float], None] | None = None,
        remaining: Remaining = None,
        **transport: Any,
    ) -> Self:
        """A client on a transport of its own (the CLI, one-off runs)."""
        return cls(
            JiraTransport(secret, session=session, timeout=timeout, observer=observer, sleep=sleep, **transport),
            remaining,
        )

    @property
    def secret(self) -> JiraSecret:
        return self.transport.secret

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    @property
    def timeout(self) -> float:
        return self.transport.timeout

    # ---- issues -------------------------------------------------------------------------------------------

    def create_issue(self, body: Mapping[str, Any]) -> CreatedIssue:
        """Create one issue.

        Raises:
            JiraRequestError: Jira refused it (field errors explained).
            JiraUnavailableError: retryable; ``ambiguous`` when it may have been created.
        """
        data = self._call("POST", "/rest/api/3/issue", json=body, idempotent=False, pace="endpoint:create")
        if not data.get("id") or not data.get("key"):
            raise cut_off("POST /issue")
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
            raise cut_off("POST /issue/bulk")
        created = iter(issues)
        results: list[BulkResult] = []
        for index in range(len(bodies)):
            if index in errors:
                element = errors[index]
                results.append(
                    BulkResult(
                        None, request_error(int(element.get("status") or 400), element.get("elementErrors") or {})
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
        return issue_from_json(self._call("GET", f"/rest/api/3/issue/{issue}", params={"fields": ",".join(fields)}))

    def add_comment(self, issue: str, body: Mapping[str, Any]) -> None:
        """Add an ADF comment.

        Raises:
            JiraRequestError, JiraUnavailableError.
        """
        self._call(
            "POST", f"/rest/api/3/issue/{issue}/comment", json={"body": body}, idempotent=False, pace=f"issue:{issue}"
        )

    def add_attachment(self, issue: str, file_name: str, content: bytes, content_type: str) -> list[Attachment]:
        """Attach one file (multipart/form-data, part ``file``, with the ``X-Atlassian-Token: no-check`` header Jira
        requires). Not resent after an answer is lost: a second copy is worse than none.

        Raises:
            JiraRequestError: e.g. 413 (too large for the site's limit), 403 (attachments off, or no permission),
                404 (no such issue).
            JiraUnavailableError: retryable.
        """
        data = self._call(
            "POST",
            f"/rest/api/3/issue/{issue}/attachments",
            files={"file": (file_name, content, content_type)},
            headers={"X-Atlassian-Token": "no-check"},
            idempotent=False,
            pace=f"issue:{issue}",
        )
        stored = [item for item in data.get("values") or [] if isinstance(item, Mapping) and item.get("id")]
        if not stored:
            raise cut_off(f"POST /issue/{issue}/attachments")
        return [
            Attachment(
                id=str(item["id"]),
                filename=str(item.get("filename") or ""),
                size=item["size"] if isinstance(item.get("size"), int) else None,
            )
            for item in stored
        ]

    def edit_issue(self, issue: str, fields: Mapping[str, Any]) -> None:
        """Set these fields of the issue, and nothing else (``PUT /issue/{key}``: one write on the issue).

        Raises:
            JiraRequestError: e.g. a value Jira refuses, or no permission to edit.
            JiraUnavailableError: retryable.
        """
        self._call("PUT", f"/rest/api/3/issue/{issue}", json={"fields": dict(fields)}, pace=f"issue:{issue}")

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
            issues.extend(issue_from_json(issue) for issue in data.get("issues") or [] if isinstance(issue, Mapping))
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
        """The fields of the issue type's create screen, with their schema and allowed values (all pages).

        Raises:
            JiraRequestError, JiraUnavailableError.
        """
        return self._paged(f"/rest/api/3/issue/createmeta/{project}/issuetypes/{issue_type_id}", "fields")

    def gateway_accepts(self) -> bool:
        """After a 401 at the site URL: do the same credentials work through api.atlassian.com? Never raises."""
        return self.transport.gateway_accepts(self.remaining)

    # ---- plumbing ----------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, **request: Any) -> dict[str, Any]:
        return self.transport.call(method, path, remaining=self.remaining, **request)

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


def issue_from_json(data: Mapping[str, Any]) -> JiraIssue:
    """An issue as Jira sends it (an answer, a search result, a webhook payload's ``issue``)."""
    fields = _mapping(data.get("fields"))
    labels = fields.get("labels")
    return JiraIssue(
        id=str(data.get("id")),
        key=str(data.get("key")),
        status_category=_mapping(_mapping(fields.get("status")).get("statusCategory")).get("key"),
        resolution=_mapping(fields.get("resolution")).get("name"),
        resolved_at=_jira_time(fields.get("resolutiondate")),
        created_at=_jira_time(fields.get("created")),
        updated_at=_jira_time(fields.get("updated")),
        labels=tuple(label for label in labels if isinstance(label, str)) if isinstance(labels, list) else (),
        project_key=_mapping(fields.get("project")).get("key"),
        priority=_mapping(fields.get("priority")).get("name"),
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
