"""The stand-in Jira (``jira_model``) served over plain HTTP on loopback: ``jira-notifier local jira``, the benchmark
and the built-stack tests use it to try the CLI and the functions without a Jira site.

By default the project starts with one resolved example issue, so the preflight can read the workflow's transitions
(it looks at an existing issue) as it would in a real project. Over HTTP, a lost answer is a connection closed
without one, and a cut-off answer is a body shorter than its Content-Length.

    with LocalJira(port=0, log=print) as jira:
        jira.url  # http://127.0.0.1:<port>
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from jira_standin.model import DEFAULT_EMAIL, DEFAULT_TOKEN, JiraStandIn

__all__ = ["DEFAULT_EMAIL", "DEFAULT_TOKEN", "LocalJira"]


class LocalJira(JiraStandIn):
    """One stand-in Jira site on ``host:port``: ``start()``, then ``url``; ``stop()`` when done (or use it as a
    context manager)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, example_issue: bool = True, **site: Any) -> None:
        """``site``: the stand-in's settings (project, issue_types, email, api_token, delay, log)."""
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))  # binds now: a busy port fails here
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        bound_host = self._server.server_address[0]
        assert isinstance(bound_host, str)  # an AF_INET server's bound address (getsockname) names its host as text
        base_url = f"http://{bound_host}:{self._server.server_port}"
        super().__init__(base_url=base_url, example_issue=example_issue, **site)

    @property
    def url(self) -> str:
        return self.base_url

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


def _handler_for(jira: JiraStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Jira Cloud
        disable_nagle_algorithm = True
        wbufsize = 1 << 16  # headers and body leave in one write: no delayed-ACK stall on loopback
        timeout = 30  # an idle keep-alive connection closes by itself

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def log_message(self, format: str, *args: Any) -> None:  # the stand-in logs each request itself
            return None

        def _serve(self, method: str) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = jira.answer(method, self.path, self.headers.get("Authorization"), raw, dict(self.headers.items()))
            if answer.lost == "timeout":
                self.close_connection = True
                return
            body = answer.text.encode()
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            if answer.lost == "cut":  # promise more than is sent, then hang up
                self.close_connection = True
                self.send_header("Content-Length", str(len(body) + 1))
                body = body[: len(body) // 2]
            else:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
