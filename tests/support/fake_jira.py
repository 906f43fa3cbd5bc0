"""A stateful stand-in for Jira Cloud, served through ``responses``: issues, comments, a small workflow, search.

It checks the credentials of every request, keeps what it was sent for assertions, and can be told to fail
as Jira does: 429 with Retry-After, 5xx or a timeout (before or after acting), an answer cut off mid-body after
acting, and a search that trails writes by ``search_lag`` seconds of its clock (``reconcileIssues`` sees through).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses

SITE = "https://example.atlassian.net"
EMAIL = "svc-jira@example.com"
TOKEN = "test-token-0123456789abcdef"  # a test double, never a real credential  # pragma: allowlist secret

STATUSES = {
    "To Do": {"id": "10000", "name": "To Do", "statusCategory": {"key": "new", "name": "To Do"}},
    "In Progress": {
        "id": "3",
        "name": "In Progress",
        "statusCategory": {"key": "indeterminate", "name": "In Progress"},
    },
    "Done": {"id": "10001", "name": "Done", "statusCategory": {"key": "done", "name": "Done"}},
}
RESOLUTION_NOT_ON_SCREEN = "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown."
# transition id -> (name, from statuses, to status)
WORKFLOW = {
    "21": ("Start Progress", ("To Do",), "In Progress"),
    "31": ("Done", ("To Do", "In Progress"), "Done"),
    "11": ("Reopen", ("Done",), "To Do"),
}


@dataclass
class FakeIssue:
    id: str
    key: str
    fields: dict[str, Any]
    status: str = "To Do"
    resolution: str | None = None
    resolved_at: datetime | None = None
    comments: list[dict[str, Any]] = field(default_factory=list)
    transitions: list[str] = field(default_factory=list)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int | None  # None: raise a timeout
    headers: dict[str, str]
    body: Any
    times: int
    after: bool = False  # True: carry the request out, then lose the answer (a timeout after Jira acted)
    cut: bool = False  # True: carry the request out, then break the answer off mid-body


class FakeJira:
    def __init__(self, mock: responses.RequestsMock, base_url: str = SITE, project: str = "OPS") -> None:
        self.mock = mock
        self.base_url = base_url.rstrip("/")
        self.project = project
        self.issue_types = [
            {"id": "10001", "name": "Task", "subtask": False},
            {"id": "10002", "name": "Bug", "subtask": False},
            {"id": "10003", "name": "Sub-task", "subtask": True},
        ]
        self.issues: dict[str, FakeIssue] = {}
        self.resolution_on_screen = True
        self.required_fields: dict[str, str] = {}  # field id -> error text when missing on create
        self.refused_summaries: set[str] = set()  # creates with a summary containing one of these get a 400
        self.faults: list[Fault] = []
        self.search_lag = 0.0  # seconds after its creation before an issue shows in search results
        self.token = TOKEN  # the API token Jira accepts; a test may rotate it
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._lock = threading.Lock()
        self._next = 1
        self._register()

    # ---- test controls ------------------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path: str,
        status: int | None,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        after: bool = False,
        cut: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (None = a timeout); with ``after``, the
        request takes effect first and only its answer is lost; with ``cut``, it takes effect and its answer
        breaks off mid-body."""
        self.faults.append(Fault(method, re.compile(path), status, headers or {}, body, times, after or cut, cut))

    def resolve_by_hand(self, key: str, resolution: str, *, when: datetime | None = None) -> None:
        issue = self.by_key(key)
        issue.status, issue.resolution, issue.resolved_at = "Done", resolution, when or self.now()

    def by_key(self, key: str) -> FakeIssue:
        return next(i for i in self.issues.values() if i.key == key)

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request received, in order."""
        return [(c.request.method, urlsplit(c.request.url).path) for c in self.mock.calls]

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] in ("POST", "PUT", "DELETE")]

    # ---- the API ------------------------------------------------------------------------------------------

    def _register(self) -> None:
        routes: list[tuple[str, str, Callable[..., tuple[int, dict[str, str], str]]]] = [
            ("POST", r"/rest/api/3/issue/bulk", self._bulk),
            ("POST", r"/rest/api/3/issue", self._create),
            ("GET", r"/rest/api/3/issue/createmeta/[^/]+/issuetypes", self._issue_types),
            ("GET", r"/rest/api/3/issue/createmeta/[^/]+/issuetypes/[^/]+", self._fields),
            ("POST", r"/rest/api/3/issue/[^/]+/comment", self._comment),
            ("GET", r"/rest/api/3/issue/[^/]+/transitions", self._get_transitions),
            ("POST", r"/rest/api/3/issue/[^/]+/transitions", self._transition),
            ("GET", r"/rest/api/3/issue/[^/]+", self._get_issue),
            ("POST", r"/rest/api/3/search/jql", self._search),
        ]
        for method, path, handler in routes:
            self.mock.add_callback(
                method, re.compile(re.escape(self.base_url) + path + r"(\?.*)?$"), callback=self._guard(method, handler)
            )

    def _guard(self, method: str, handler: Callable[..., tuple[int, dict[str, str], str]]) -> Callable[..., Any]:
        def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            path = urlsplit(request.url).path
            with self._lock:
                fault = next(
                    (f for f in self.faults if f.times > 0 and f.method == method and f.path.search(path)), None
                )
                if fault is not None:
                    fault.times -= 1
                    if fault.after:
                        handler(request, path, json.loads(request.body) if request.body else None)
                    if fault.cut:
                        raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")
                    if fault.status is None:
                        raise requests.ReadTimeout("stand-in Jira timed out")
                    return fault.status, fault.headers, json.dumps(fault.body) if fault.body is not None else ""
                expected = "Basic " + base64.b64encode(f"{EMAIL}:{self.token}".encode()).decode()
                if request.headers.get("Authorization") != expected:
                    return (
                        401,
                        {},
                        json.dumps(
                            {"message": "Client must be authenticated to access this resource.", "status-code": 401}
                        ),
                    )
                body = json.loads(request.body) if request.body else None
                return handler(request, path, body)

        return callback

    def _json(self, status: int, data: Any = None) -> tuple[int, dict[str, str], str]:
        return status, {"Content-Type": "application/json"}, "" if data is None else json.dumps(data)

    def _new_issue(self, fields: dict[str, Any]) -> FakeIssue:
        number, self._next = self._next, self._next + 1
        issue = FakeIssue(id=str(10000 + number), key=f"{self.project}-{number}", fields=fields, created=self.now())
        self.issues[issue.id] = issue
        return issue

    def _create_errors(self, fields: dict[str, Any]) -> dict[str, str]:
        errors = {fid: text for fid, text in self.required_fields.items() if fid not in fields}
        if any(word in fields.get("summary", "") for word in self.refused_summaries):
            errors["summary"] = "The summary was refused by a validator in this project's workflow."
        if fields.get("issuetype", {}).get("id") not in {t["id"] for t in self.issue_types}:
            errors["issuetype"] = "valid issue type is required"
        return errors

    def _create(self, request: Any, path: str, body: Any) -> tuple[int, dict[str, str], str]:
        fields = body["fields"]
        errors = self._create_errors(fields)
        if errors:
            return self._json(400, {"errorMessages": [], "errors": errors})
        issue = self._new_issue(fields)
        return self._json(
            201, {"id": issue.id, "key": issue.key, "self": f"{self.base_url}/rest/api/3/issue/{issue.id}"}
        )

    def _bulk(self, request: Any, path: str, body: Any) -> tuple[int, dict[str, str], str]:
        created, failed = [], []
        for index, update in enumerate(body["issueUpdates"]):
            errors = self._create_errors(update["fields"])
            if errors:
                failed.append(
                    {
                        "status": 400,
                        "failedElementNumber": index,
                        "elementErrors": {"errorMessages": [], "errors": errors},
                    }
                )
                continue
            issue = self._new_issue(update["fields"])
            created.append({"id": issue.id, "key": issue.key, "self": f"{self.base_url}/rest/api/3/issue/{issue.id}"})
        return self._json(201 if created else 400, {"issues": created, "errors": failed})

    def _issue_types(self, request: Any, path: str, body: Any) -> tuple[int, dict[str, str], str]:
        return self._json(
            200, {"issueTypes": self.issue_types, "startAt": 0, "maxResults": 200, "total": len(self.issue_types)}
        )

    def _fields(self, request: Any, path: str, body: Any) -> tuple[int, dict[str, str], str]:
        return self._json(200, {"fields": [], "startAt": 0, "maxResults": 200, "total": 0})

    def _find(self, path: str) -> FakeIssue | None:
        ref = path.split("/rest/api/3/issue/", 1)[1].split("/", 1)[0]
        return next((i for i in self.issues.values() if ref in (i.id, i.key)), None)

    def _not_found(self) -> tuple[int, dict[str, str], str]:
        return self._json(
            404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}
        )

    def _comment(self, request: Any, path: str, body: Any) -> tuple[int, dict[str, str], str]:
        issue = self._find(path)
        if issue is None:
            return self._not_found()
        issue.comments.append(body["body"])
        return self._json(201, {"id": str(len(issue.comments)), "body": body["body"]})

    def _available(self, issue: FakeIssue) -> list[dict[str, Any]]:
        return [
            {"id": tid, "name": name, "to": STATUSES[to], "hasScreen": False, "isAvailable": True}
            for tid, (name, sources, to) in WORKFLOW.items()
            if issue.status in sources
        ]

    def _get_transitions(self, request: Any, path: str, body: Any) -> tuple[int, dict[str, str], str]:
        issue = self._find(path)
        return self._not_found() if issue is None else self._json(200, {"transitions": self._available(issue)})

    def _transition(self, request: Any, path: str, body: Any) -> tuple[int, dict[str, str], str]:
        issue = self._find(path)
        if issue is None:
            return self._not_found()
        tid = body["transition"]["id"]
        if tid not in {t["id"] for t in self._available(issue)}:
            return self._json(
                400, {"errorMessages": [f"Transition id '{tid}' is not valid for this issue."], "errors": {}}
            )
        resolution = (body.get("fields") or {}).get("resolution")
        if resolution and not self.resolution_on_screen:
            return self._json(
                400,
                {
                    "errorMessages": [],
                    "errors": {"resolution": RESOLUTION_NOT_ON_SCREEN},
                },
            )
        name, _, to = WORKFLOW[tid]
        issue.status = to
        issue.transitions.append(name)
        if to == "Done":
            issue.resolution = (resolution or {}).get("name") or "Done"
            issue.resolved_at = self.now()
        else:
            issue.resolution, issue.resolved_at = None, None
        for update in (body.get("update") or {}).get("comment", []):
            issue.comments.append(update["add"]["body"])
        return 204, {}, ""

    def _issue_json(self, issue: FakeIssue) -> dict[str, Any]:
        resolved = issue.resolved_at.strftime("%Y-%m-%dT%H:%M:%S.000%z") if issue.resolved_at else None
        return {
            "id": issue.id,
            "key": issue.key,
            "fields": {
                "status": STATUSES[issue.status],
                "resolution": {"name": issue.resolution} if issue.resolution else None,
                "resolutiondate": resolved,
                "labels": issue.fields.get("labels", []),
                "summary": issue.fields.get("summary"),
                "created": issue.created.strftime("%Y-%m-%dT%H:%M:%S.")
                + f"{issue.created.microsecond // 1000:03d}+0000",
            },
        }

    def _get_issue(self, request: Any, path: str, body: Any) -> tuple[int, dict[str, str], str]:
        issue = self._find(path)
        return self._not_found() if issue is None else self._json(200, self._issue_json(issue))

    def _search(self, request: Any, path: str, body: Any) -> tuple[int, dict[str, str], str]:
        labels = re.findall(r'labels\s*=\s*"([^"]+)"', body.get("jql", ""))
        query = parse_qs(urlsplit(request.url).query)
        assert not query, "search parameters belong in the POST body"
        indexed_before = self.now() - timedelta(seconds=self.search_lag)
        reconciled = {str(i) for i in body.get("reconcileIssues") or []}
        found = [
            self._issue_json(issue)
            for issue in sorted(self.issues.values(), key=lambda i: -int(i.id))
            if all(label in issue.fields.get("labels", []) for label in labels)
            and (issue.created <= indexed_before or issue.id in reconciled)
        ]
        return self._json(200, {"issues": found, "isLast": True})
