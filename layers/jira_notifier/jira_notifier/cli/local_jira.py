"""A stand-in Jira Cloud over plain HTTP on loopback, for trying the CLI and the functions without a Jira site.

It answers what ``jira-notifier provider test`` and the functions call (REST v3: myself, project, statuses,
createmeta, mypermissions, resolutions, create, bulk create, comment, get issue, transitions, JQL search) and
``/_edge/tenant_info``. It keeps issues in memory with a small workflow: To Do -> In Progress -> Done, with the
transitions "Start Progress", "Done" and "Reopen".

Every request must carry Basic credentials matching the e-mail and API token it was started with, as Jira checks
them: anything else gets 401. The project starts with one resolved example issue, so the preflight can read the
workflow's transitions (it looks at an existing issue) as it would in a real project.

    with LocalJira(port=0, log=print) as jira:
        jira.url  # http://127.0.0.1:<port>
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
PERMISSIONS = ("BROWSE_PROJECTS", "CREATE_ISSUES", "ADD_COMMENTS", "TRANSITION_ISSUES", "RESOLVE_ISSUES")
# The create screen: (field id, name, required, has a default value).
CREATE_SCREEN = (
    ("summary", "Summary", True, False),
    ("issuetype", "Issue Type", True, False),
    ("project", "Project", True, False),
    ("reporter", "Reporter", True, True),
    ("description", "Description", False, False),
    ("labels", "Labels", False, False),
    ("priority", "Priority", False, True),
    ("components", "Components", False, False),
)
NOT_AUTHENTICATED = {"message": "Client must be authenticated to access this resource.", "status-code": 401}


@dataclass
class StandInIssue:
    id: str
    key: str
    issue_type_id: str
    summary: str
    labels: tuple[str, ...]
    created: str
    status: str = "To Do"
    resolution: str | None = None
    resolved_at: str | None = None
    comments: int = 0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    note: str = ""  # what happened, for the request log (e.g. "created OPS-2")


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]  # the full path
    template: str  # e.g. /issue/{key}/comment: requests are counted by it
    endpoint: str  # the LocalJira method that answers
    public: bool  # answered without a login


Endpoint = Callable[["LocalJira", dict[str, str], dict[str, list[str]], Any], Answer]
ROUTES: list[Route] = []


def _route(method: str, template: str, *, public: bool = False) -> Callable[[Endpoint], Endpoint]:
    """Register an endpoint by its path template below /rest/api/3 (a placeholder matches one path segment);
    a public one is a site path instead, answered without a login."""
    full = ("" if public else API) + template
    pattern = re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(full)))

    def register(endpoint: Endpoint) -> Endpoint:
        ROUTES.append(Route(method, pattern, template, endpoint.__name__, public))
        return endpoint

    return register


class LocalJira:
    """One stand-in Jira site: ``start()``, then ``url``; ``stop()`` when done (or use it as a context manager).

    ``delay`` seconds pass before each answer (a slow site); ``log`` receives one line per request.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        project: str = "OPS",
        issue_types: Iterable[str] = ("Task", "Bug"),
        email: str = DEFAULT_EMAIL,
        api_token: str = DEFAULT_TOKEN,
        delay: float = 0.0,
        log: Callable[[str], None] | None = None,
        example_issue: bool = True,
    ) -> None:
        self.project = project
        self.issue_types = _issue_types(issue_types)
        self.delay = delay
        self.email = email
        self._expected_auth = "Basic " + base64.b64encode(f"{email}:{api_token}".encode()).decode()
        self._log = log
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._issues: dict[str, StandInIssue] = {}  # key -> issue
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))  # binds now: a busy port fails here
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        if example_issue:
            self._example_issue()

    # ---- lifecycle and inspection ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = self._server.server_address[0]
        assert isinstance(host, str)  # an AF_INET server's bound address (getsockname) names its host as text
        return f"http://{host}:{self._server.server_port}"

    def start(self) -> LocalJira:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LocalJira:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def counts(self) -> Counter[tuple[str, str]]:
        """Requests received by (method, path template), e.g. ``("POST", "/issue")``."""
        with self._lock:
            return Counter(self._counts)

    def issues(self) -> list[StandInIssue]:
        """A snapshot of the issues, oldest first."""
        with self._lock:
            return [StandInIssue(**vars(issue)) for issue in self._issues.values()]

    # ---- one request ----------------------------------------------------------------------------------------

    def answer(self, method: str, target: str, authorization: str | None, raw_body: bytes) -> Answer:
        """The answer to one request; counts it and writes the log line."""
        parts = urlsplit(target)
        route, params = _match(method, parts.path)
        with self._lock:
            self._counts[(method, route.template if route else "(unknown)")] += 1
        if self.delay:
            time.sleep(self.delay)
        if route is None:
            answer = Answer(404, _errors(f"the stand-in Jira does not implement {method} {parts.path}"))
        elif not route.public and authorization != self._expected_auth:
            answer = _unauthenticated(authorization)
        else:
            answer = self._call(route.endpoint, params, parse_qs(parts.query), raw_body)
        if self._log is not None:
            note = f"  {answer.note}" if answer.note else ""
            self._log(f"{datetime.now().strftime('%H:%M:%S')}  {method} {parts.path}  {answer.status}{note}")
        return answer

    def _call(self, endpoint: str, params: dict[str, str], query: dict[str, list[str]], raw_body: bytes) -> Answer:
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            return Answer(400, _errors("The request body is not valid JSON."))
        handler: Callable[[dict[str, str], dict[str, list[str]], Any], Answer] = getattr(self, endpoint)
        with self._lock:
            return handler(params, query, body)

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
            {"fieldId": fid, "key": fid, "name": name, "required": required, "hasDefaultValue": default}
            for fid, name, required, default in CREATE_SCREEN
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
        fields = (body or {}).get("fields") or {}
        errors = self._create_errors(fields)
        if errors:
            return Answer(400, _field_errors(errors), note=f"refused: {_sentence(errors)}")
        issue = self._new_issue(fields)
        return Answer(201, self._created(issue), note=f'created {issue.key}: "{issue.summary}"')

    @_route("POST", "/issue/bulk")
    def bulk_create(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        created, failed = [], []
        for index, update in enumerate((body or {}).get("issueUpdates") or []):
            errors = self._create_errors(update.get("fields") or {})
            if errors:
                failed.append({"status": 400, "failedElementNumber": index, "elementErrors": _field_errors(errors)})
            else:
                created.append(self._new_issue(update["fields"]))
        notes = [f'created {issue.key}: "{issue.summary}"' for issue in created]
        if failed:
            notes.append(f"{len(failed)} refused")
        answer = {"issues": [self._created(issue) for issue in created], "errors": failed}
        return Answer(201 if created else 400, answer, note="; ".join(notes))

    @_route("GET", "/issue/{key}")
    def get_issue(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        issue = self._find(params["key"])
        return _issue_missing() if issue is None else Answer(200, self._issue_json(issue))

    @_route("POST", "/issue/{key}/comment")
    def add_comment(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        issue = self._find(params["key"])
        if issue is None:
            return _issue_missing()
        if not isinstance((body or {}).get("body"), dict):
            return Answer(400, _field_errors({"comment": "Comment body can not be empty!"}))
        issue.comments += 1
        return Answer(201, {"id": str(issue.comments), "body": body["body"]}, note=f"commented on {issue.key}")

    @_route("GET", "/issue/{key}/transitions")
    def get_transitions(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        issue = self._find(params["key"])
        return _issue_missing() if issue is None else Answer(200, {"transitions": _available(issue)})

    @_route("POST", "/issue/{key}/transitions")
    def do_transition(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        issue = self._find(params["key"])
        if issue is None:
            return _issue_missing()
        body = body or {}
        transition_id = str((body.get("transition") or {}).get("id"))
        if transition_id not in {t["id"] for t in _available(issue)}:
            return Answer(400, _errors(f"Transition id '{transition_id}' is not valid for this issue."))
        resolution = ((body.get("fields") or {}).get("resolution") or {}).get("name")
        if resolution is not None and resolution not in RESOLUTIONS:
            return Answer(400, _field_errors({"resolution": f"Resolution '{resolution}' is not valid"}))
        name, _, target = WORKFLOW[transition_id]
        before, issue.status = issue.status, target
        issue.resolution = (resolution or "Done") if target == "Done" else None
        issue.resolved_at = _now() if target == "Done" else None
        issue.comments += len((body.get("update") or {}).get("comment") or [])
        return Answer(204, note=f"{issue.key}: {before} -> {target} ({name})")

    @_route("POST", "/search/jql")
    def search_jql(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        jql = str((body or {}).get("jql") or "")
        limit = int((body or {}).get("maxResults") or 50)
        found = [self._issue_json(issue) for issue in reversed(self._issues.values()) if self._matches(jql, issue)]
        return Answer(200, {"issues": found[:limit], "isLast": True})

    # ---- helpers (lock held) --------------------------------------------------------------------------------

    def _is_project(self, ref: str) -> bool:
        return ref in (self.project, PROJECT_ID)

    def _create_errors(self, fields: Mapping[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        project = fields.get("project") or {}
        if not self._is_project(str(project.get("key") or project.get("id") or "")):
            errors["project"] = "valid project is required"
        if str((fields.get("issuetype") or {}).get("id")) not in {t["id"] for t in self.issue_types}:
            errors["issuetype"] = "valid issue type is required"
        if not str(fields.get("summary") or "").strip():
            errors["summary"] = "You must specify a summary of the issue."
        priority = (fields.get("priority") or {}).get("name")
        if priority is not None and priority not in PRIORITIES:
            errors["priority"] = f"Priority name '{priority}' is not valid"
        on_screen = {fid for fid, *_ in CREATE_SCREEN}
        for fid in sorted(set(fields) - on_screen):
            errors[fid] = f"Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."
        return errors

    def _new_issue(self, fields: Mapping[str, Any]) -> StandInIssue:
        number = len(self._issues) + 1
        issue = StandInIssue(
            id=str(10000 + number),
            key=f"{self.project}-{number}",
            issue_type_id=str(fields["issuetype"]["id"]),
            summary=str(fields["summary"]),
            labels=tuple(str(label) for label in fields.get("labels") or ()),
            created=_now(),
        )
        self._issues[issue.key] = issue
        return issue

    def _example_issue(self) -> None:
        fields = {"issuetype": self.issue_types[0], "summary": "Example: an issue resolved earlier"}
        issue = self._new_issue(fields)
        issue.status, issue.resolution, issue.resolved_at = "Done", "Done", issue.created

    def _created(self, issue: StandInIssue) -> dict[str, str]:
        return {"id": issue.id, "key": issue.key, "self": f"{self.url}{API}/issue/{issue.id}"}

    def _find(self, ref: str) -> StandInIssue | None:
        return next((issue for issue in self._issues.values() if ref in (issue.key, issue.id)), None)

    def _matches(self, jql: str, issue: StandInIssue) -> bool:
        """The clauses the callers use: project, issuetype (id) and labels; the rest of the JQL is ignored."""
        projects = re.findall(r'project\s*=\s*"?([^"\s]+)"?', jql)
        types = re.findall(r'issuetype\s*=\s*"?(\d+)"?', jql)
        labels = re.findall(r'labels\s*=\s*"([^"]+)"', jql)
        return (
            all(self._is_project(p) for p in projects)
            and all(t == issue.issue_type_id for t in types)
            and all(label in issue.labels for label in labels)
        )

    def _issue_json(self, issue: StandInIssue) -> dict[str, Any]:
        issue_type = next((t for t in self.issue_types if t["id"] == issue.issue_type_id), None)
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.url}{API}/issue/{issue.id}",
            "fields": {
                "summary": issue.summary,
                "issuetype": issue_type,
                "project": {"id": PROJECT_ID, "key": self.project},
                "status": STATUSES[issue.status],
                "resolution": {"name": issue.resolution} if issue.resolution else None,
                "resolutiondate": issue.resolved_at,
                "labels": list(issue.labels),
                "created": issue.created,
            },
        }


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


def _available(issue: StandInIssue) -> list[dict[str, Any]]:
    return [
        {"id": tid, "name": name, "to": STATUSES[target], "hasScreen": False, "isAvailable": True}
        for tid, (name, sources, target) in WORKFLOW.items()
        if issue.status in sources
    ]


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


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _handler_for(jira: LocalJira) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Jira Cloud
        disable_nagle_algorithm = True
        wbufsize = 1 << 16  # headers and body leave in one write: no delayed-ACK stall on loopback
        timeout = 30  # an idle keep-alive connection closes by itself

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:  # LocalJira logs each request itself
            return None

        def _serve(self, method: str) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = jira.answer(method, self.path, self.headers.get("Authorization"), raw)
            body = b"" if answer.body is None else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
