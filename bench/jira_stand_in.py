"""A stand-in Jira Cloud served over loopback HTTP, answering each request after a fixed delay.

It implements only what the functions call (createmeta, create, bulk create, comment, transitions, get issue,
search), keeps just enough state for the lifecycle to work, and counts requests by method and path template.
It stops by itself after ``max_lifetime`` seconds even if nobody stops it.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

API = "/rest/api/3"
ISSUE_TYPES = [
    {"id": "10001", "name": "Task", "subtask": False},
    {"id": "10003", "name": "Sub-task", "subtask": True},
]
STATUSES = {
    "To Do": {"id": "10000", "name": "To Do", "statusCategory": {"key": "new", "name": "To Do"}},
    "Done": {"id": "10001", "name": "Done", "statusCategory": {"key": "done", "name": "Done"}},
}
WORKFLOW = {"31": ("Done", "To Do", "Done"), "11": ("Reopen", "Done", "To Do")}  # id -> (name, from, to)

# (method, compiled path, template): the first match names the endpoint.
ROUTES = [
    ("GET", re.compile(r"/issue/createmeta/[^/]+/issuetypes"), "GET /issue/createmeta/{project}/issuetypes"),
    ("POST", re.compile(r"/issue/bulk"), "POST /issue/bulk"),
    ("POST", re.compile(r"/issue"), "POST /issue"),
    ("POST", re.compile(r"/issue/[^/]+/comment"), "POST /issue/{key}/comment"),
    ("GET", re.compile(r"/issue/[^/]+/transitions"), "GET /issue/{key}/transitions"),
    ("POST", re.compile(r"/issue/[^/]+/transitions"), "POST /issue/{key}/transitions"),
    ("GET", re.compile(r"/issue/[^/]+"), "GET /issue/{key}"),
    ("POST", re.compile(r"/search/jql"), "POST /search/jql"),
]


@dataclass
class Issue:
    id: str
    key: str
    labels: tuple[str, ...]
    status: str = "To Do"
    comments: int = 0


@dataclass
class JiraState:
    """What the stand-in remembers; guarded by ``lock`` because requests arrive on several threads."""

    project: str
    expected_auth: str
    delay: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: Counter[str] = field(default_factory=Counter)
    issues: dict[str, Issue] = field(default_factory=dict)  # key -> issue
    last_body: dict[str, bytes] = field(default_factory=dict)  # template -> last request body

    def new_issue(self, fields: dict[str, Any]) -> dict[str, str]:
        number = len(self.issues) + 1
        issue = Issue(str(10000 + number), f"{self.project}-{number}", tuple(fields.get("labels") or ()))
        self.issues[issue.key] = issue
        return {"id": issue.id, "key": issue.key, "self": f"{API}/issue/{issue.id}"}


class JiraStandIn:
    """``with JiraStandIn(delay=0.1) as jira: jira.base_url`` -> ``http://127.0.0.1:<port>``."""

    def __init__(
        self, *, email: str, api_token: str, project: str = "OPS", delay: float = 0.1, max_lifetime: float = 900.0
    ) -> None:
        auth = "Basic " + base64.b64encode(f"{email}:{api_token}".encode()).decode()
        self.state = JiraState(project=project, expected_auth=auth, delay=delay)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self.state))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._watchdog = threading.Timer(max_lifetime, self.stop)
        self._watchdog.daemon = True
        self._stopped = threading.Event()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> JiraStandIn:
        self._thread.start()
        self._watchdog.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._watchdog.cancel()
        self._server.shutdown()
        self._server.server_close()

    def counts(self) -> Counter[str]:
        with self.state.lock:
            return Counter(self.state.counts)

    def issue_labels(self) -> list[tuple[str, ...]]:
        with self.state.lock:
            return [issue.labels for issue in self.state.issues.values()]

    def last_body(self, template: str) -> bytes:
        with self.state.lock:
            return self.state.last_body[template]


def template_of(method: str, path: str) -> str:
    relative = path.removeprefix(API)
    for route_method, pattern, template in ROUTES:
        if route_method == method and pattern.fullmatch(relative):
            return template
    return f"{method} (unknown)"


def _handler_for(state: JiraState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as with Jira Cloud
        disable_nagle_algorithm = True
        wbufsize = 1 << 16  # headers and body leave in one write (no Nagle / delayed-ACK stall on loopback)
        timeout = 30  # an idle keep-alive connection closes by itself

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            return None

        def _serve(self, method: str) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = urlsplit(self.path).path
            template = template_of(method, path)
            with state.lock:
                state.counts[template] += 1
                state.last_body[template] = raw
            time.sleep(state.delay)
            if self.headers.get("Authorization") != state.expected_auth:
                status, payload = 401, {"errorMessages": ["not authenticated"]}
            else:
                with state.lock:
                    status, payload = _answer(state, template, path, json.loads(raw) if raw else None)
            body = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _issue_key(path: str) -> str:
    return path.removeprefix(API + "/issue/").split("/", 1)[0]


def _answer(state: JiraState, template: str, path: str, body: Any) -> tuple[int, Any]:
    if template == "GET /issue/createmeta/{project}/issuetypes":
        return 200, {"issueTypes": ISSUE_TYPES, "startAt": 0, "maxResults": 200, "total": len(ISSUE_TYPES)}
    if template == "POST /issue/bulk":
        return 201, {"issues": [state.new_issue(u["fields"]) for u in body["issueUpdates"]], "errors": []}
    if template == "POST /issue":
        return 201, state.new_issue(body["fields"])
    if template == "POST /search/jql":
        wanted = set(re.findall(r'labels\s*=\s*"([^"]+)"', body.get("jql", "")))
        found = [_issue_json(i) for i in reversed(state.issues.values()) if wanted <= set(i.labels)]
        return 200, {"issues": found, "isLast": True}
    issue = state.issues.get(_issue_key(path))
    if issue is None:
        return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}
    if template == "POST /issue/{key}/comment":
        issue.comments += 1
        return 201, {"id": str(issue.comments)}
    if template == "GET /issue/{key}/transitions":
        return 200, {"transitions": _available(issue)}
    if template == "POST /issue/{key}/transitions":
        transition = WORKFLOW.get(body["transition"]["id"])
        if transition is None or transition[1] != issue.status:
            return 400, {"errorMessages": ["Transition is not valid for this issue."], "errors": {}}
        issue.status = transition[2]
        issue.comments += len((body.get("update") or {}).get("comment") or [])
        return 204, None
    if template == "GET /issue/{key}":
        return 200, _issue_json(issue)
    return 404, {"errorMessages": [f"the stand-in does not implement {template}"], "errors": {}}


def _available(issue: Issue) -> list[dict[str, Any]]:
    return [
        {"id": tid, "name": name, "to": STATUSES[to], "hasScreen": False, "isAvailable": True}
        for tid, (name, source, to) in WORKFLOW.items()
        if source == issue.status
    ]


def _issue_json(issue: Issue) -> dict[str, Any]:
    done = issue.status == "Done"
    return {
        "id": issue.id,
        "key": issue.key,
        "fields": {
            "status": STATUSES[issue.status],
            "resolution": {"name": "Done"} if done else None,
            "resolutiondate": time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime()) if done else None,
            "labels": list(issue.labels),
            "created": "2026-11-01T00:00:00.000+0000",
        },
    }
