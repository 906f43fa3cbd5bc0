"""The stand-in Jira (``jira_standin.model``) served through ``responses``, for the test suite.

Every route the stand-in implements answers on ``SITE``; what it received stays in ``mock.calls`` for assertions.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests
import responses
from jira_standin.model import ROUTES, JiraStandIn, answer_request

SITE = "https://example.atlassian.net"
EMAIL = "svc-jira@example.com"
TOKEN = "test-token-0123456789abcdef"  # a test double, never a real credential  # pragma: allowlist secret


class FakeJira(JiraStandIn):
    def __init__(self, mock: responses.RequestsMock, base_url: str = SITE, project: str = "OPS") -> None:
        super().__init__(base_url=base_url, project=project, email=EMAIL, api_token=TOKEN)
        self.mock = mock
        for route in ROUTES:
            url = re.compile(re.escape(self.base_url) + route.pattern.pattern + r"(\?.*)?$")
            mock.add_callback(route.method, url, callback=self._respond)

    def _respond(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        answer = answer_request(self, request)
        return answer.status, {"Content-Type": "application/json", **answer.headers}, answer.text

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request received, in order."""
        return [(c.request.method, urlsplit(c.request.url).path) for c in self.mock.calls]

    def headers_of(self, method: str, path: str) -> list[dict[str, str]]:
        """The headers of every request received with this method and path."""
        return [
            dict(c.request.headers)
            for c in self.mock.calls
            if c.request.method == method and urlsplit(c.request.url).path == path
        ]

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] in ("POST", "PUT", "DELETE")]
