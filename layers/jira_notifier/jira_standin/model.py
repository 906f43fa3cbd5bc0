"""The stand-in Jira Cloud: one in-memory site that answers requests as Jira does, with faults on demand.

It answers what ``jira-notifier provider test`` and the functions call (REST v3: myself, project, statuses,
createmeta (the create screen with each field's schema and allowed values), mypermissions, resolutions, create, bulk
create, edit (``PUT /issue/{key}``), comment, attachments, get issue, transitions, JQL search paged by
``nextPageToken``) and ``/_edge/tenant_info``. Creates and edits are checked as Jira checks them: fields on the
screen, options, components and priorities it has, numbers, users it knows. It keeps issues in memory with a small
workflow: To Do -> In Progress -> Done, with the transitions "Start Progress", "Done" and "Reopen". Every request
must carry Basic credentials matching its e-mail and API token, as Jira checks them: anything else gets 401. Uploads
(attachments) need ``X-Atlassian-Token: no-check`` and parts named ``file``, and answer 413 over
``attachment_limit``.

It can be told to fail as Jira does (:meth:`JiraStandIn.fail`): a status such as 429 with ``Retry-After`` and
``RateLimit-Reason``, or 5xx; an answer lost (a timeout) or cut off mid-body, before or after acting. With
``write_limit`` it answers 429 ``jira-per-issue-on-write`` to writes on one issue beyond a rate; with
``search_lag`` its search trails writes (``reconcileIssues`` sees through). Times come from ``now``.

People act on it as they do in Jira: ``resolve_by_hand``, ``reopen_by_hand``, ``move_by_hand`` (to another project:
new key, same id, the old key still finds it) and ``delete_by_hand``; ``webhook_payload`` is what an admin webhook
would send about an issue.

Its front ends: ``local_jira.LocalJira`` serves it over HTTP (``jira-notifier local jira``, the benchmark, the
built-stack tests); :func:`answer_request` answers a ``requests`` request in-process (the dry run of
``invoke --local``, and the test suite through ``responses``).
"""

from __future__ import annotations

import base64
import email.policy
import json
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import requests

API = "/rest/api/3"
DEFAULT_EMAIL = "svc-jira@example.com"
DEFAULT_TOKEN = "local-jira-token"  # noqa: S105 - the stand-in's well-known demo token  # pragma: allowlist secret
CLOUD_ID = "5a4e1b0c-7f3d-4c2a-9b8e-0c1a2b3c4d5e"
PROJECT_ID = "10000"
ACCOUNT_ID = "5b10ac8d82e05b22cc7d4ef5"  # the shape of an Atlassian account id  # pragma: allowlist secret
STATUSES = {
    "To Do": {"id": "10000", "name": "To Do", "statusCategory": {"id": 2, "key": "new", "name": "To Do"}},
    "In Progress": {
        "id": "3",
        "name": "In Progress",
        "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress"},
    },
    "Done": {"id": "10001", "name": "Done", "statusCategory": {"id": 3, "key": "done", "name": "Done"}},
}
# transition id -> (name, statuses it starts from, status it leads to)
WORKFLOW = {
    "21": ("Start Progress", ("To Do",), "In Progress"),
    "31": ("Done", ("To Do", "In Progress"), "Done"),
    "11": ("Reopen", ("Done",), "To Do"),
}
RESOLUTIONS = ("Done", "Won't Do", "Duplicate")
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
_CUSTOM = "com.atlassian.jira.plugin.system.customfieldtypes"
PERMISSIONS = ("BROWSE_PROJECTS", "CREATE_ISSUES", "ADD_COMMENTS", "TRANSITION_ISSUES", "RESOLVE_ISSUES")
COMPONENTS = ("payments", "platform")
OPTIONS = ("prod", "staging")
# The create screen: (field id, name, required, has a default value, schema).
CREATE_SCREEN: tuple[tuple[str, str, bool, bool, dict[str, Any]], ...] = (
    ("summary", "Summary", True, False, {"type": "string", "system": "summary"}),
    ("issuetype", "Issue Type", True, False, {"type": "issuetype", "system": "issuetype"}),
    ("project", "Project", True, False, {"type": "project", "system": "project"}),
    ("reporter", "Reporter", True, True, {"type": "user", "system": "reporter"}),
    ("description", "Description", False, False, {"type": "string", "system": "description"}),
    ("environment", "Environment", False, False, {"type": "string", "system": "environment"}),
    ("labels", "Labels", False, False, {"type": "array", "items": "string", "system": "labels"}),
    ("priority", "Priority", False, True, {"type": "priority", "system": "priority"}),
    ("components", "Components", False, False, {"type": "array", "items": "component", "system": "components"}),
    ("customfield_10031", "Owner", False, False, {"type": "user", "custom": f"{_CUSTOM}:userpicker"}),
    ("customfield_10040", "Cost centre", False, False, {"type": "number", "custom": f"{_CUSTOM}:float"}),
    ("customfield_10050", "Environment", False, False, {"type": "option", "custom": f"{_CUSTOM}:select"}),
    (
        "customfield_10060",
        "Environments",
        False,
        False,
        {"type": "array", "items": "option", "custom": f"{_CUSTOM}:multiselect"},
    ),
    ("customfield_10070", "Service", False, False, {"type": "string", "custom": f"{_CUSTOM}:textfield"}),
    ("customfield_10080", "Tags", False, False, {"type": "array", "items": "string", "custom": f"{_CUSTOM}:labels"}),
    ("customfield_10090", "Due", False, False, {"type": "date", "custom": f"{_CUSTOM}:datepicker"}),
)
NOT_AUTHENTICATED = {"message": "Client must be authenticated to access this resource.", "status-code": 401}
RESOLUTION_NOT_ON_SCREEN = "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown."
PER_ISSUE_ON_WRITE = "jira-per-issue-on-write"
SEARCH_PAGE_LIMIT = 100  # issues per search page at most: Jira "may return fewer" than maxResults
ID_PAGE_LIMIT = 5000  # ids-only searches return up to this many per page
ATTACHMENT_LIMIT = 10 * 1024 * 1024  # bytes a site takes in one attachment (an admin setting in Jira)

Lost = Literal["timeout", "cut"]


@dataclass
class Issue:
    id: str
    key: str
    fields: dict[str, Any]  # as sent on create
    created: datetime
    status: str = "To Do"
    resolution: str | None = None
    resolved_at: datetime | None = None
    comments: list[Any] = field(default_factory=list)  # ADF bodies, oldest first
    transitions: list[str] = field(default_factory=list)  # names of the transitions made, in order
    project: str = "OPS"
    updated: datetime | None = None  # the last change (create, comment, transition, move); None: when created
    old_keys: list[str] = field(default_factory=list)  # keys before moves: Jira still finds the issue by them
    attachments: list[StoredFile] = field(default_factory=list)  # oldest first

    @property
    def summary(self) -> str:
        return str(self.fields.get("summary") or "")

    @property
    def labels(self) -> list[str]:
        return [str(label) for label in self.fields.get("labels") or ()]


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An attachment: what Jira keeps of an uploaded file (its content only with ``keep_content``)."""

    id: str
    filename: str
    size: int
    mime_type: str
    content: bytes = field(default=b"", repr=False)


@dataclass(frozen=True, slots=True)
class Upload:
    """A multipart/form-data request body: part name -> (file name, content type, bytes) of each part."""

    parts: dict[str, list[tuple[str, str, bytes]]]
    xsrf_checked: bool  # the request carried X-Atlassian-Token: no-check


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int | None  # None: the answer is lost (a timeout)
    headers: dict[str, str]
    body: Any
    times: int
    after: bool = False  # True: carry the request out, then answer with the fault (e.g. a timeout after acting)
    cut: bool = False  # True: carry the request out, then break the answer off mid-body


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    note: str = ""  # what happened, for the request log (e.g. "created OPS-2")
    lost: Lost | None = None  # the answer never arrives whole: a timeout, or cut off mid-body

    @property
    def text(self) -> str:
        return "" if self.body is None else json.dumps(self.body)


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]  # the full path
    template: str  # e.g. /issue/{key}/comment: requests are counted by it
    endpoint: str  # the JiraStandIn method that answers
    public: bool  # answered without a login
    multipart: bool = False  # the body is multipart/form-data (an ``Upload``), not JSON


Endpoint = Callable[["JiraStandIn", dict[str, str], dict[str, list[str]], Any], Answer]
ROUTES: list[Route] = []


def _route(
    method: str, template: str, *, public: bool = False, multipart: bool = False
) -> Callable[[Endpoint], Endpoint]:
    """Register an endpoint by its path template below /rest/api/3 (a placeholder matches one path segment);
    a public one is a site path instead, answered without a login."""
    full = ("" if public else API) + template
    pattern = re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(full)))

    def register(endpoint: Endpoint) -> Endpoint:
        ROUTES.append(Route(method, pattern, template, endpoint.__name__, public, multipart))
        return endpoint

    return register


class JiraStandIn:
    """One stand-in Jira site at ``base_url``, project ``project``; answer requests with :meth:`answer`.

    ``delay`` seconds pass before each answer (a slow site); ``log`` receives one line per request.
    ``required_fields`` (field id -> error text) and ``refused_summaries`` make creates fail validation;
    ``resolution_on_screen`` False refuses a resolution on a transition.
    """

    def __init__(
        self,
        *,
        base_url: str = "",
        project: str = "OPS",
        issue_types: Iterable[str] = ("Task", "Bug"),
        email: str = DEFAULT_EMAIL,
        api_token: str = DEFAULT_TOKEN,
        delay: float = 0.0,
        log: Callable[[str], None] | None = None,
        example_issue: bool = False,
        keep_content: bool = True,
    ) -> None:
        """``keep_content=False``: an issue keeps only the fields search reads (issue type, summary, labels), so a
        long benchmark measures the functions' memory rather than the stand-in's."""
        self.keep_content = keep_content
        self.base_url = base_url.rstrip("/")
        self.project = project
        self.issue_types = _issue_types(issue_types)
        self.email = email
        self.token = api_token  # the API token it accepts; may be rotated
        self.delay = delay
        self.issues: dict[str, Issue] = {}  # id -> issue, oldest first
        self.required_fields: dict[str, str] = {}
        self.refused_summaries: set[str] = set()
        self.resolution_on_screen = True
        self.faults: list[Fault] = []
        self.search_lag = 0.0  # seconds after its creation before an issue shows in search results
        self.attachment_limit = ATTACHMENT_LIMIT
        self.attachments_enabled = True
        self.write_limit: tuple[int, float] | None = None  # (writes, seconds) allowed to one issue
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.sleep: Callable[[float], None] = time.sleep  # how ``delay`` passes: a test's clock, not a real sleep
        self._log = log
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._writes: dict[str, deque[datetime]] = {}  # issue id -> times of its recent writes
        self._write_log: dict[str, list[datetime]] = {}  # issue id -> times of every write it took, create included
        self._next = 1
        if example_issue:
            issue = self._new_issue({"issuetype": self.issue_types[0], "summary": "Example: an issue resolved earlier"})
            issue.status, issue.resolution, issue.resolved_at = "Done", "Done", issue.created

    # ---- controls and inspection ----------------------------------------------------------------------------

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
        """Answer the next ``times`` requests whose path matches the regex ``path`` with ``status`` (None: the
        answer is lost, a timeout); with ``after``, the request takes effect first; with ``cut``, it takes effect
        and its answer breaks off mid-body."""
        self.faults.append(Fault(method, re.compile(path), status, headers or {}, body, times, after or cut, cut))

    def set_priority_by_hand(self, key: str, priority: str) -> None:
        self.by_key(key).fields["priority"] = {"name": priority}

    def resolve_by_hand(self, key: str, resolution: str, *, when: datetime | None = None) -> None:
        issue = self.by_key(key)
        issue.status, issue.resolution, issue.resolved_at = "Done", resolution, when or self.now()
        issue.updated = when or self.now()

    def reopen_by_hand(self, key: str) -> None:
        issue = self.by_key(key)
        issue.status, issue.resolution, issue.resolved_at, issue.updated = "To Do", None, None, self.now()

    def move_by_hand(self, key: str, project: str) -> Issue:
        """Move the issue to ``project``: a new key there, the same id."""
        issue = self.by_key(key)
        issue.old_keys.append(issue.key)
        number = 1 + sum(1 for other in self.issues.values() if other.project == project)
        issue.project, issue.key, issue.updated = project, f"{project}-{number}", self.now()
        return issue

    def delete_by_hand(self, key: str) -> Issue:
        return self.issues.pop(self.by_key(key).id)

    def webhook_payload(self, issue: Issue, event: str = "jira:issue_updated") -> dict[str, Any]:
        """An admin webhook's body about ``issue`` (``jira:issue_updated``, ``jira:issue_deleted``)."""
        return {
            "timestamp": int(self.now().timestamp() * 1000),
            "webhookEvent": event,
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": "557058:person", "displayName": "A person"},
            "issue": self._issue_json(issue),
        }

    def by_key(self, key: str) -> Issue:
        return next(issue for issue in self.issues.values() if issue.key == key)

    def busiest_writes(self, seconds: float) -> int:
        """The most writes any one issue took within ``seconds`` (Jira's per-issue limits: 20 per 2 s, 100 per 30 s)."""
        busiest = 0
        with self._lock:
            logs = [list(times) for times in self._write_log.values()]
        for times in logs:
            start = 0
            for end, at in enumerate(times):
                while (at - times[start]).total_seconds() >= seconds:
                    start += 1
                busiest = max(busiest, end - start + 1)
        return busiest

    def counts(self) -> Counter[tuple[str, str]]:
        """Requests received by (method, path template), e.g. ``("POST", "/issue")``."""
        with self._lock:
            return Counter(self._counts)

    # ---- one request ----------------------------------------------------------------------------------------

    def answer(
        self,
        method: str,
        target: str,
        authorization: str | None,
        raw_body: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """The answer to one request (``target``: path and query); counts it and writes the log line. ``headers``
        matter to uploads: their Content-Type (the multipart boundary) and X-Atlassian-Token."""
        parts = urlsplit(target)
        route, params = _match(method, parts.path)
        with self._lock:
            self._counts[(method, route.template if route else "(unknown)")] += 1
        if self.delay:
            self.sleep(self.delay)
        with self._lock:
            answer = self._answer(
                method, parts.path, route, params, parse_qs(parts.query), authorization, raw_body, headers or {}
            )
        if self._log is not None:
            note = f"  {answer.note}" if answer.note else ""
            self._log(f"{self.now().astimezone().strftime('%H:%M:%S')}  {method} {parts.path}  {answer.status}{note}")
        return answer

    def _answer(
        self,
        method: str,
        path: str,
        route: Route | None,
        params: dict[str, str],
        query: dict[str, list[str]],
        authorization: str | None,
        raw_body: bytes,
        headers: Mapping[str, str],
    ) -> Answer:
        fault = next((f for f in self.faults if f.times > 0 and f.method == method and f.path.search(path)), None)
        if fault is not None:
            fault.times -= 1
            if fault.after and route is not None:
                self._call(route, params, query, raw_body, headers)
            lost: Lost | None = "cut" if fault.cut else ("timeout" if fault.status is None else None)
            return Answer(
                fault.status or 200, fault.body, fault.headers, note=f"fault: {lost or fault.status}", lost=lost
            )
        if route is None:
            return Answer(404, _errors(f"the stand-in Jira does not implement {method} {path}"))
        expected = "Basic " + base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        if not route.public and authorization != expected:
            return _unauthenticated(authorization)
        return self._call(route, params, query, raw_body, headers)

    def _call(
        self,
        route: Route,
        params: dict[str, str],
        query: dict[str, list[str]],
        raw_body: bytes,
        headers: Mapping[str, str],
    ) -> Answer:
        body: Any
        if route.multipart:
            body = _upload(raw_body, headers)
        else:
            try:
                body = json.loads(raw_body) if raw_body else None
            except ValueError:
                return Answer(400, _errors("The request body is not valid JSON."))
        if route.method in ("POST", "PUT") and "key" in params:
            limited = self._write_limited(params["key"])
            if limited is not None:
                return limited
        endpoint: Callable[[dict[str, str], dict[str, list[str]], Any], Answer] = getattr(self, route.endpoint)
        answer = endpoint(params, query, body)
        written = self._find(params["key"]) if route.method in ("POST", "PUT") and "key" in params else None
        if written is not None and answer.status < 300:
            self._write_log.setdefault(written.id, []).append(self.now())
        return answer

    def _write_limited(self, ref: str) -> Answer | None:
        """429 when this write to the issue would exceed ``write_limit`` (by the stand-in's clock); else counts it."""
        issue = self._find(ref)
        if self.write_limit is None or issue is None:
            return None
        allowed, seconds = self.write_limit
        now = self.now()
        recent = self._writes.setdefault(issue.id, deque())
        while recent and recent[0] <= now - timedelta(seconds=seconds):
            recent.popleft()
        if len(recent) < allowed:
            recent.append(now)
            return None
        wait = math.ceil((recent[0] + timedelta(seconds=seconds) - now).total_seconds())
        headers = {"Retry-After": str(max(1, wait)), "RateLimit-Reason": PER_ISSUE_ON_WRITE}
        return Answer(429, _errors("Rate limit exceeded."), headers, note=f"{issue.key}: too many writes")

    # ---- the API (called with the lock held) ----------------------------------------------------------------

    @_route("GET", "/_edge/tenant_info", public=True)
    def tenant_info(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        return Answer(200, {"cloudId": CLOUD_ID})

    @_route("GET", "/myself")
    def myself(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        me = {"accountId": ACCOUNT_ID, "accountType": "atlassian", "emailAddress": self.email}
        return Answer(200, {**me, "displayName": "Alert Bot", "active": True, "timeZone": "UTC"})

    @_route("GET", "/project/{project}")
    def project_details(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        if not self._is_project(params["project"]):
            return _no_project(params["project"])
        return Answer(200, {"id": PROJECT_ID, "key": self.project, "name": "Stand-in project"})

    @_route("GET", "/project/{project}/statuses")
    def project_statuses(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        if not self._is_project(params["project"]):
            return _no_project(params["project"])
        statuses = list(STATUSES.values())
        return Answer(200, [{**issue_type, "statuses": statuses} for issue_type in self.issue_types])

    @_route("GET", "/issue/createmeta/{project}/issuetypes")
    def create_meta_issue_types(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        if not self._is_project(params["project"]):
            return _no_project(params["project"])
        return Answer(200, _page("issueTypes", self.issue_types))

    @_route("GET", "/issue/createmeta/{project}/issuetypes/{issueTypeId}")
    def create_meta_fields(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        if not self._is_project(params["project"]):
            return _no_project(params["project"])
        if params["issueTypeId"] not in {issue_type["id"] for issue_type in self.issue_types}:
            return Answer(404, _errors(f"Issue type with id '{params['issueTypeId']}' does not exist."))
        fields = [
            {
                "fieldId": fid,
                "key": fid,
                "name": name,
                "required": required,
                "hasDefaultValue": default,
                "operations": ["set"],
                "schema": schema,
                **({"allowedValues": _ALLOWED[fid]} if fid in _ALLOWED else {}),
            }
            for fid, name, required, default, schema in self._screen()
        ]
        return Answer(200, _page("fields", fields))

    @_route("GET", "/mypermissions")
    def my_permissions(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        project = (query.get("projectKey") or query.get("projectId") or [""])[0]
        if project and not self._is_project(project):
            return _no_project(project)
        wanted = [name for name in (query.get("permissions") or [""])[0].split(",") if name]
        if not wanted:
            return Answer(400, _errors("The permissions query parameter is required."))
        held = {
            name: {"id": str(n), "key": name, "name": name.title(), "type": "PROJECT", "havePermission": True}
            for n, name in enumerate(wanted)
            if name in PERMISSIONS
        }
        return Answer(200, {"permissions": held})

    @_route("GET", "/resolution/search")
    def resolutions(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        values = [{"id": str(n), "name": name, "isDefault": n == 1} for n, name in enumerate(RESOLUTIONS, 1)]
        return Answer(200, {**_page("values", values), "isLast": True})

    @_route("POST", "/issue")
    def create_issue(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        fields = _mapping(_mapping(body).get("fields"))
        errors = self._create_errors(fields)
        if errors:
            return Answer(400, _field_errors(errors), note=f"refused: {_sentence(errors)}")
        issue = self._new_issue(fields)
        return Answer(201, self._created(issue), note=f'created {issue.key}: "{issue.summary}"')

    @_route("POST", "/issue/bulk")
    def bulk_create(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        created, failed = [], []
        for index, update in enumerate(_mapping(body).get("issueUpdates") or []):
            fields = _mapping(_mapping(update).get("fields"))
            errors = self._create_errors(fields)
            if errors:
                failed.append({"status": 400, "failedElementNumber": index, "elementErrors": _field_errors(errors)})
            else:
                created.append(self._new_issue(fields))
        notes = [f'created {issue.key}: "{issue.summary}"' for issue in created]
        if failed:
            notes.append(f"{len(failed)} refused")
        answer = {"issues": [self._created(issue) for issue in created], "errors": failed}
        return Answer(201 if created else 400, answer, note="; ".join(notes))

    @_route("GET", "/issue/{key}")
    def get_issue(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        issue = self._find(params["key"])
        return _issue_missing() if issue is None else Answer(200, self._issue_json(issue))

    @_route("PUT", "/issue/{key}")
    def edit_issue(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        """Edits the fields sent (priority, components, labels and the custom fields), each checked as on create."""
        issue = self._find(params["key"])
        if issue is None:
            return _issue_missing()
        fields = dict(_mapping(_mapping(body).get("fields")))
        screen = {fid: schema for fid, _, _, _, schema in self._screen()}
        editable = set(screen) - {"project", "issuetype", "reporter"}
        errors = {
            fid: f"Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."
            for fid in sorted(set(fields) - editable)
        }
        errors.update(
            {fid: p for fid, v in fields.items() if (p := _value_problem(v, screen.get(fid, {}), _ALLOWED.get(fid)))}
        )
        if errors:
            return Answer(400, _field_errors(errors), note=f"refused: {_sentence(errors)}")
        issue.fields.update(fields)
        return Answer(204, note=f"{issue.key}: edited {', '.join(sorted(fields))}")

    @_route("POST", "/issue/{key}/comment")
    def add_comment(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        issue = self._find(params["key"])
        if issue is None:
            return _issue_missing()
        comment = _mapping(body).get("body")
        if not isinstance(comment, dict):
            return Answer(400, _field_errors({"comment": "Comment body can not be empty!"}))
        issue.comments.append(comment)
        issue.updated = self.now()
        return Answer(201, {"id": str(len(issue.comments)), "body": comment}, note=f"commented on {issue.key}")

    @_route("POST", "/issue/{key}/attachments", multipart=True)
    def add_attachment(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        if not isinstance(body, Upload) or not body.xsrf_checked:  # Jira blocks uploads without the header
            return Answer(403, _errors("XSRF check failed"), note="upload without X-Atlassian-Token: no-check")
        issue = self._find(params["key"])
        if issue is None:
            return _issue_missing()
        if not self.attachments_enabled:
            return Answer(403, _errors("Attachments are disabled."))
        files = body.parts.get("file") or []
        if not files:
            named = ", ".join(sorted(body.parts)) or "none"
            return Answer(400, _errors(f"The multipart part must be named 'file' (got {named})."))
        too_large = [name for name, _, content in files if len(content) > self.attachment_limit]
        if too_large:
            return Answer(413, _errors(f"The file {too_large[0]} exceeds the attachment size limit."))
        stored = []
        for name, mime_type, content in files:
            attachment_id = str(20000 + sum(len(i.attachments) for i in self.issues.values()))
            kept = content if self.keep_content else b""
            stored.append(StoredFile(attachment_id, name, len(content), mime_type, kept))
            issue.attachments.append(stored[-1])
        answer = [
            {
                "id": f.id,
                "filename": f.filename,
                "size": f.size,
                "mimeType": f.mime_type,
                "created": _jira_time(self.now()),
                "self": f"{self.base_url}{API}/attachments/{f.id}",
                "content": f"{self.base_url}{API}/attachment/content/{f.id}",
            }
            for f in stored
        ]
        return Answer(200, answer, note=f"attached {', '.join(f.filename for f in stored)} to {issue.key}")

    @_route("GET", "/issue/{key}/transitions")
    def get_transitions(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        issue = self._find(params["key"])
        return _issue_missing() if issue is None else Answer(200, {"transitions": _available(issue)})

    @_route("POST", "/issue/{key}/transitions")
    def do_transition(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        issue = self._find(params["key"])
        if issue is None:
            return _issue_missing()
        body = _mapping(body)
        transition_id = str(_mapping(body.get("transition")).get("id"))
        if transition_id not in {t["id"] for t in _available(issue)}:
            return Answer(400, _errors(f"Transition id '{transition_id}' is not valid for this issue."))
        resolution = _mapping(_mapping(body.get("fields")).get("resolution")).get("name")
        if resolution is not None and not self.resolution_on_screen:
            return Answer(400, _field_errors({"resolution": RESOLUTION_NOT_ON_SCREEN}))
        if resolution is not None and resolution not in RESOLUTIONS:
            return Answer(400, _field_errors({"resolution": f"Resolution '{resolution}' is not valid"}))
        name, _, target = WORKFLOW[transition_id]
        before, issue.status = issue.status, target
        issue.transitions.append(name)
        issue.resolution = (resolution or "Done") if target == "Done" else None
        issue.resolved_at = self.now() if target == "Done" else None
        for update in _mapping(body.get("update")).get("comment") or []:
            issue.comments.append(_mapping(_mapping(update).get("add")).get("body"))
        issue.updated = self.now()
        return Answer(204, note=f"{issue.key}: {before} -> {target} ({name})")

    @_route("POST", "/search/jql")
    def search_jql(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        if query:
            return Answer(400, _errors("The search parameters belong in the request body."))
        body = _mapping(body)
        jql = str(body.get("jql") or "")
        ids_only = body.get("fields") == ["id"]
        limit = min(int(body.get("maxResults") or 50), ID_PAGE_LIMIT if ids_only else SEARCH_PAGE_LIMIT)
        indexed_before = self.now() - timedelta(seconds=self.search_lag)
        reconciled = {str(issue_id) for issue_id in body.get("reconcileIssues") or []}
        found = [
            {"id": issue.id} if ids_only else self._issue_json(issue)
            for issue in self._ordered(jql)
            if self._matches(jql, issue) and (issue.created <= indexed_before or issue.id in reconciled)
        ]
        start = _page_start(body.get("nextPageToken"))
        if start is None:
            return Answer(400, _errors("The provided next page token is invalid or expired."))
        page: dict[str, Any] = {"issues": found[start : start + limit], "isLast": start + limit >= len(found)}
        if not page["isLast"]:
            page["nextPageToken"] = _page_token(start + limit)
        return Answer(200, page)

    # ---- helpers (lock held) --------------------------------------------------------------------------------

    def _is_project(self, ref: str) -> bool:
        return ref in (self.project, PROJECT_ID)

    def _screen(self) -> list[tuple[str, str, bool, bool, dict[str, Any]]]:
        """The create screen, with the fields this project requires."""
        required = ((fid, fid, True, False, {"type": "string"}) for fid in self.required_fields)
        return [*CREATE_SCREEN, *required]

    def _create_errors(self, fields: Mapping[str, Any]) -> dict[str, str]:
        errors = {fid: text for fid, text in self.required_fields.items() if fid not in fields}
        project = _mapping(fields.get("project"))
        if not self._is_project(str(project.get("key") or project.get("id") or "")):
            errors["project"] = "valid project is required"
        if str(_mapping(fields.get("issuetype")).get("id")) not in {t["id"] for t in self.issue_types}:
            errors["issuetype"] = "valid issue type is required"
        summary = str(fields.get("summary") or "")
        if not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif any(word in summary for word in self.refused_summaries):
            errors["summary"] = "The summary was refused by a validator in this project's workflow."
        on_screen = {fid: schema for fid, _, _, _, schema in self._screen()}
        for fid in sorted(set(fields) - set(on_screen)):
            errors[fid] = f"Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."
        for fid, value in fields.items():
            problem = _value_problem(value, on_screen.get(fid, {}), _ALLOWED.get(fid))
            if problem:
                errors[fid] = problem
        return errors

    def _new_issue(self, fields: Mapping[str, Any]) -> Issue:
        number, self._next = self._next, self._next + 1
        kept = (
            dict(fields)
            if self.keep_content
            else {k: fields[k] for k in ("issuetype", "summary", "labels") if k in fields}
        )
        issue = Issue(
            id=str(10000 + number),
            key=f"{self.project}-{number}",
            fields=kept,
            created=self.now(),
            project=self.project,
        )
        self.issues[issue.id] = issue
        self._write_log[issue.id] = [issue.created]
        return issue

    def _created(self, issue: Issue) -> dict[str, str]:
        return {"id": issue.id, "key": issue.key, "self": f"{self.base_url}{API}/issue/{issue.id}"}

    def _find(self, ref: str) -> Issue | None:
        return next(
            (issue for issue in self.issues.values() if ref in (issue.key, issue.id) or ref in issue.old_keys), None
        )

    def _matches(self, jql: str, issue: Issue) -> bool:
        """The clauses the callers use: project, issuetype (id), labels, ``updated >= "-Nm"`` (relative minutes)
        and ``statusCategory != Done``; the rest of the JQL is ignored."""
        projects = re.findall(r'project\s*=\s*"?([^"\s]+)"?', jql)
        types = re.findall(r'issuetype\s*=\s*"?(\d+)"?', jql)
        labels = re.findall(r'labels\s*=\s*"([^"]+)"', jql)
        updated = re.findall(r'updated\s*>=\s*"?-(\d+)m"?', jql)
        open_only = re.search(r"statusCategory\s*!=\s*Done", jql) is not None
        issue_type = str(_mapping(issue.fields.get("issuetype")).get("id"))
        last_change = issue.updated or issue.created
        return (
            all(p in (issue.project, PROJECT_ID if issue.project == self.project else None) for p in projects)
            and all(t == issue_type for t in types)
            and all(label in issue.labels for label in labels)
            and all(last_change >= self.now() - timedelta(minutes=int(minutes)) for minutes in updated)
            and not (open_only and issue.status == "Done")
        )

    def _ordered(self, jql: str) -> list[Issue]:
        """Newest first, or by last change with ``ORDER BY updated ASC``."""
        if re.search(r"ORDER BY updated ASC", jql, re.IGNORECASE):
            return sorted(self.issues.values(), key=lambda issue: issue.updated or issue.created)
        return list(reversed(self.issues.values()))

    def _issue_json(self, issue: Issue) -> dict[str, Any]:
        type_id = str(_mapping(issue.fields.get("issuetype")).get("id"))
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.base_url}{API}/issue/{issue.id}",
            "fields": {
                "summary": issue.summary,
                "issuetype": next((t for t in self.issue_types if t["id"] == type_id), None),
                "project": {"key": issue.project, **({"id": PROJECT_ID} if issue.project == self.project else {})},
                "status": STATUSES[issue.status],
                "resolution": {"name": issue.resolution} if issue.resolution else None,
                "resolutiondate": _jira_time(issue.resolved_at) if issue.resolved_at else None,
                "labels": issue.labels,
                "priority": issue.fields.get("priority") or {"name": "Medium"},  # the project's default
                "created": _jira_time(issue.created),
                "updated": _jira_time(issue.updated or issue.created),
            },
        }


def answer_request(jira: JiraStandIn, request: requests.PreparedRequest) -> Answer:
    """The stand-in's answer to a ``requests`` request, in-process.

    Raises:
        requests.ReadTimeout: the answer is lost.
        requests.exceptions.ChunkedEncodingError: the answer is cut off mid-body.
    """
    raw = request.body.encode() if isinstance(request.body, str) else request.body or b""
    authorization = request.headers.get("Authorization")
    base = urlsplit(jira.base_url).path  # a site served under a path, e.g. the gateway's /ex/jira/{cloudId}
    target = request.path_url[len(base) :] if base and request.path_url.startswith(base + "/") else request.path_url
    answer = jira.answer(request.method or "GET", target, authorization, raw, request.headers)
    if answer.lost == "cut":
        raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")
    if answer.lost == "timeout":
        raise requests.ReadTimeout("the stand-in Jira did not answer in time")
    return answer


def _upload(raw: bytes, headers: Mapping[str, str]) -> Upload | None:
    """The parts of a multipart/form-data body; None when the body is not one."""
    lowered = {name.lower(): value for name, value in headers.items()}
    content_type = lowered.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        return None
    parts: dict[str, list[tuple[str, str, bytes]]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        parts.setdefault(str(name or ""), []).append((part.get_filename() or "", part.get_content_type(), content))
    return Upload(parts, lowered.get("x-atlassian-token", "").lower() == "no-check")


def _issue_types(names: Iterable[str]) -> list[dict[str, Any]]:
    """The project's issue types (ids from 10001), and a sub-task type as every project has."""
    types = [{"id": str(10001 + n), "name": name, "subtask": False} for n, name in enumerate(names)]
    return [*types, {"id": str(10001 + len(types)), "name": "Sub-task", "subtask": True}]


def _match(method: str, path: str) -> tuple[Route | None, dict[str, str]]:
    """The route of a request and its path parameters; None when the stand-in does not implement it."""
    for route in ROUTES:
        found = route.pattern.fullmatch(path) if route.method == method else None
        if found:
            return route, found.groupdict()
    return None, {}


def _available(issue: Issue) -> list[dict[str, Any]]:
    return [
        {"id": tid, "name": name, "to": STATUSES[target], "hasScreen": False, "isAvailable": True}
        for tid, (name, sources, target) in WORKFLOW.items()
        if issue.status in sources
    ]


_ALLOWED: dict[str, list[dict[str, str]]] = {  # allowed values by field id, as createmeta lists them
    "priority": [{"id": str(n), "name": name} for n, name in enumerate(PRIORITIES, 1)],
    "components": [{"id": str(10000 + n), "name": name} for n, name in enumerate(COMPONENTS)],
    "customfield_10050": [{"id": str(10100 + n), "value": value} for n, value in enumerate(OPTIONS)],
    "customfield_10060": [{"id": str(10100 + n), "value": value} for n, value in enumerate(OPTIONS)],
}
KNOWN_USERS = frozenset({ACCOUNT_ID, "712020:2f0c8e9a-5b1d-4c3e-9f7a-0123456789ab"})


def _value_problem(value: Any, schema: Mapping[str, Any], allowed: list[dict[str, str]] | None) -> str | None:
    """Jira's complaint about a field value of the given schema, or None when it would take it."""
    kind = schema.get("type")
    if kind == "array":
        if not isinstance(value, list):
            return "Field value must be an array."
        return next((p for v in value if (p := _value_problem(v, {"type": schema.get("items")}, allowed))), None)
    if kind in ("priority", "component", "version", "option"):
        key = "value" if kind == "option" else "name"
        wanted = _mapping(value).get(key)
        names = {item.get(key) for item in allowed or []}
        if allowed is not None and wanted not in names:
            return (
                f"{kind.title()} name '{wanted}' is not valid" if key == "name" else f"Option '{wanted}' is not valid"
            )
        return None
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return "Operation value must be a number."
    if kind == "user" and _mapping(value).get("accountId") not in KNOWN_USERS:
        return f"User '{_mapping(value).get('accountId')}' does not exist."
    if kind == "string" and _rich_text(schema) and _mapping(value).get("type") != "doc":
        return "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
    if kind == "string" and not _rich_text(schema) and not isinstance(value, str):
        return "Operation value must be a string."
    return None


def _rich_text(schema: Mapping[str, Any]) -> bool:
    """Fields REST v3 takes as ADF only: the description, the environment, paragraph (textarea) custom fields."""
    return schema.get("system") in ("description", "environment") or str(schema.get("custom", "")).endswith(":textarea")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _jira_time(when: datetime) -> str:
    """Jira's timestamp format, in UTC: 2026-05-01T10:07:12.345+0000."""
    utc = when.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def _page_token(start: int) -> str:
    return base64.urlsafe_b64encode(f"start={start}".encode()).decode()


def _page_start(token: Any) -> int | None:
    """Where a search page starts (0 without a token); None for a token the stand-in did not hand out."""
    if token is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(str(token)).decode()
    except ValueError:
        return None
    return int(text[6:]) if text.startswith("start=") and text[6:].isdigit() else None


def _page(key: str, values: list[Any]) -> dict[str, Any]:
    return {key: values, "startAt": 0, "maxResults": max(50, len(values)), "total": len(values)}


def _errors(message: str) -> dict[str, Any]:
    return {"errorMessages": [message], "errors": {}}


def _field_errors(errors: Mapping[str, str]) -> dict[str, Any]:
    return {"errorMessages": [], "errors": dict(errors)}


def _no_project(ref: str) -> Answer:
    return Answer(404, _errors(f"No project could be found with key '{ref}'."))


def _issue_missing() -> Answer:
    return Answer(404, _errors("Issue does not exist or you do not have permission to see it."))


def _unauthenticated(authorization: str | None) -> Answer:
    """Jira's answer to missing or wrong credentials; a failed Basic login is flagged in X-Seraph-LoginReason."""
    headers = {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"} if authorization else {}
    return Answer(401, NOT_AUTHENTICATED, headers, note="wrong e-mail or API token" if authorization else "no login")


def _sentence(errors: Mapping[str, str]) -> str:
    return "; ".join(f"{fid}: {text}" for fid, text in errors.items())
