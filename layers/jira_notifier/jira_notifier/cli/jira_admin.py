"""Jira calls only the preflight makes (project, permissions, statuses, resolutions): on the tooling side, so the
functions' layer does not carry them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from jira_notifier.adapters.jira.client import JiraClient


class JiraAdmin(JiraClient):
    """The runtime calls, and those the preflight needs to check a provider."""

    def myself(self) -> requests.Response:
        """``GET /myself`` as a raw response: the preflight reads headers (X-Seraph-LoginReason) too.

        Raises:
            JiraUnavailableError: unreachable.
        """
        return self.transport.send("GET", "/rest/api/3/myself", endpoint="GET /myself", remaining=self.remaining)

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
