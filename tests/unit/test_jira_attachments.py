"""The attachment call: the typed client against the Jira stand-in, which answers uploads as Jira does."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests
from jira_standin.model import JiraStandIn

from jira_notifier.adapters.jira.client import JiraClient
from jira_notifier.core.config import JiraSecret
from jira_notifier.core.errors import JiraRequestError
from jira_notifier.ports import Attachment
from tests.support.fake_jira import EMAIL, SITE, TOKEN

SECRET = JiraSecret(name="jira-notifier/ops", email=EMAIL, api_token=TOKEN, server_url=SITE)


def create(client: JiraClient) -> str:
    return client.create_issue(
        {"fields": {"project": {"key": "OPS"}, "issuetype": {"id": "10001"}, "summary": "s"}}
    ).key


def test_an_attachment_is_stored_and_answered_like_jira(jira: Any) -> None:
    client = JiraClient.connect(SECRET)
    key = create(client)

    assert client.add_attachment(key, "graph.png", b"\x89PNG-data", "image/png") == [
        Attachment(id="20000", filename="graph.png", size=9)
    ]
    [stored] = jira.by_key(key).attachments
    assert (stored.filename, stored.mime_type, stored.content) == ("graph.png", "image/png", b"\x89PNG-data")


@pytest.mark.parametrize(
    ("setup", "status"),
    [
        (lambda jira: setattr(jira, "attachment_limit", 4), 413),
        (lambda jira: setattr(jira, "attachments_enabled", False), 403),
    ],
    ids=["too-large", "attachments-off"],
)
def test_a_refused_attachment_raises_the_status(jira: Any, setup: Any, status: int) -> None:
    client = JiraClient.connect(SECRET)
    key = create(client)
    setup(jira)

    with pytest.raises(JiraRequestError) as raised:
        client.add_attachment(key, "graph.png", b"\x89PNG-data", "image/png")
    assert raised.value.status == status
    assert jira.by_key(key).attachments == []


def test_an_attachment_to_a_missing_issue_is_404(jira: Any) -> None:
    with pytest.raises(JiraRequestError) as raised:
        JiraClient.connect(SECRET).add_attachment("OPS-99", "graph.png", b"\x89PNG", "image/png")
    assert raised.value.status == 404


@pytest.mark.parametrize(
    ("files", "headers", "status"),
    [
        ({"file": ("g.png", b"x", "image/png")}, {}, 403),  # Jira blocks uploads without the XSRF header
        ({"image": ("g.png", b"x", "image/png")}, {"X-Atlassian-Token": "no-check"}, 400),
    ],
    ids=["no-xsrf-header", "wrong-part-name"],
)
def test_the_stand_in_checks_the_header_and_the_part_name(files: Any, headers: Any, status: int) -> None:
    jira = JiraStandIn(base_url=SITE)
    jira.answer("POST", "/rest/api/3/issue", _auth(jira), b'{"fields": {"project": {"key": "OPS"}, '
                b'"issuetype": {"id": "10001"}, "summary": "s"}}')  # fmt: skip
    prepared = requests.Request("POST", f"{SITE}/rest/api/3/issue/OPS-1/attachments", files=files, headers=headers)
    request = prepared.prepare()
    body = request.body if isinstance(request.body, bytes) else b""
    answer = jira.answer("POST", request.path_url, _auth(jira), body, request.headers)
    assert answer.status == status
    assert jira.by_key("OPS-1").attachments == []


def _auth(jira: JiraStandIn) -> str:
    return "Basic " + base64.b64encode(f"{jira.email}:{jira.token}".encode()).decode()
