"""The spec validators themselves: what they accept, and that they catch what Jira would refuse."""

from __future__ import annotations

import copy
import hashlib
import json
import re

import pytest
import requests
import responses

from tests.support import jira_spec
from tests.support.jira_spec import validate_adf, validate_calls, validate_jira_request

SITE = "https://example.atlassian.net"
GATEWAY = "https://api.atlassian.com/ex/jira/11111111-2222-3333-4444-555555555555"


def adf_doc(*inlines: dict) -> dict:
    return {"version": 1, "type": "doc", "content": [{"type": "paragraph", "content": list(inlines)}]}


def text(s: str, *marks: dict) -> dict:
    return {"type": "text", "text": s, **({"marks": list(marks)} if marks else {})}


VALID_CREATE = {
    "fields": {
        "project": {"key": "OPS"},
        "issuetype": {"id": "10001"},
        "summary": "CPU alarm on i-123",
        "labels": ["jira-notifier", "jn-3f2a9c"],
        "priority": {"name": "High"},
        "description": adf_doc(text("Alarm entered "), text("ALARM", {"type": "strong"}), text(" state")),
    }
}


def with_fields(**fields) -> str:
    body = copy.deepcopy(VALID_CREATE)
    body["fields"].update(fields)
    return json.dumps(body)


def test_fixtures_are_the_pinned_unmodified_specs():
    sources = (jira_spec.FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    for path in (jira_spec.OPENAPI_PATH, jira_spec.ADF_SCHEMA_PATH):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert f"`{digest}`" in sources, f"{path.name} differs from the copy recorded in SOURCES.md"


@pytest.mark.parametrize("prefix", [SITE, GATEWAY, ""], ids=["site", "scoped-token-gateway", "path-only"])
def test_valid_create_passes(prefix):
    body = json.dumps(VALID_CREATE).encode()

    assert validate_jira_request("POST", f"{prefix}/rest/api/3/issue?updateHistory=false", body) == "createIssue"


@pytest.mark.parametrize(
    ("method", "path", "body", "operation_id"),
    [
        ("POST", "/rest/api/3/issue/OPS-1/comment", {"body": adf_doc(text("again"))}, "addComment"),
        ("GET", "/rest/api/3/issue/OPS-1/transitions?expand=transitions.fields", None, "getTransitions"),
        (
            "POST",
            "/rest/api/3/issue/OPS-1/transitions",
            {"transition": {"id": "5"}, "fields": {"resolution": {"name": "Done"}},
             "update": {"comment": [{"add": {"body": adf_doc(text("Resolved"))}}]}},
            "doTransition",
        ),
        ("POST", "/rest/api/3/issue/bulk", {"issueUpdates": [VALID_CREATE, VALID_CREATE]}, "createIssues"),
        (
            "GET",
            "/rest/api/3/search/jql?jql=project%20%3D%20OPS&fields=summary,status&maxResults=50&reconcileIssues=10001",
            None,
            "searchAndReconsileIssuesUsingJql",
        ),
        ("POST", "/rest/api/3/search/jql", {"jql": "labels = x", "fields": ["status"]},
         "searchAndReconsileIssuesUsingJqlPost"),
        ("GET", "/rest/api/3/issue/OPS-1?fields=status,labels", None, "getIssue"),
        ("GET", "/rest/api/3/issue/createmeta/OPS/issuetypes?startAt=0&maxResults=200", None,
         "getCreateIssueMetaIssueTypes"),
        ("GET", "/rest/api/3/myself", None, "getCurrentUser"),
        ("GET", "/rest/api/3/mypermissions?projectKey=OPS&permissions=CREATE_ISSUES", None, "getMyPermissions"),
        ("PUT", "/rest/api/3/issue/OPS-1", {"update": {"labels": [{"add": "jn-1"}]}}, "editIssue"),
    ],
    ids=["add-comment", "get-transitions", "transition-with-comment", "bulk-create", "search-jql-get",
         "search-jql-post", "get-issue", "createmeta-issuetypes", "myself", "mypermissions", "edit-labels"],
)  # fmt: skip
def test_valid_requests_return_their_operation(method, path, body, operation_id):
    payload = None if body is None else json.dumps(body)

    assert validate_jira_request(method, SITE + path, payload) == operation_id


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("GET", "/rest/api/3/nothing/here", None, "no such path"),
        ("GET", "/wiki/api/v2/pages", None, "not a Jira REST URL"),
        ("PATCH", "/rest/api/3/issue/OPS-1", None, "no such operation"),
        ("GET", "/rest/api/3/search?jql=project%3DOPS", None, "searchForIssuesUsingJql.* is deprecated"),
        ("POST", "/rest/api/3/search", json.dumps({"jql": "project = OPS"}), "is deprecated"),
        ("GET", "/rest/api/3/issue/createmeta?projectKeys=OPS", None, "getCreateIssueMeta.* is deprecated"),
        ("GET", "/rest/api/3/search/jql?jql=x&startAt=0", None, r"unknown query parameter\(s\) \['startAt'\]"),
        ("GET", "/rest/api/3/search/jql?jql=x&maxResults=many", None, "maxResults='many': not an integer"),
        ("GET", "/rest/api/3/issue/createmeta/OPS/issuetypes?maxResults=500", None, "above the maximum 200"),
        ("GET", "/rest/api/3/issue/OPS-1/transitions?includeUnavailableTransitions=yes", None, "not 'true' or 'false'"),
        ("POST", "/rest/api/3/issue", None, "requires a request body"),
        ("GET", "/rest/api/3/myself", "{}", "takes no request body"),
        ("POST", "/rest/api/3/issue", "{not json", "not UTF-8 JSON"),
        ("POST", "/rest/api/3/issue", b'{"fields": {"summary": "\xff"}}', "not UTF-8 JSON"),
        ("POST", "/rest/api/3/issue/OPS-1/transitions", json.dumps({"transition": {"id": 5}}),
         "5 is not of type 'string'"),
        ("POST", "/rest/api/3/issue/OPS-1/transitions", json.dumps({"transition": {"id": "5", "name": "Done"}}),
         "read-only property"),
        ("POST", "/rest/api/3/issue/OPS-1/transitions",
         json.dumps({"transition": {"id": "5"}, "update": {"labels": [{"append": "x"}]}}), "'append' was unexpected"),
        ("POST", "/rest/api/3/issue/OPS-1/comment", json.dumps({"body": "plain text"}), "must be an ADF document"),
        ("POST", "/rest/api/3/issue/OPS-1/comment", json.dumps({"body": adf_doc(text(""))}), "empty text node"),
        ("POST", "/rest/api/3/issue/OPS-1/transitions",
         json.dumps({"transition": {"id": "5"}, "update": {"comment": [{"add": {"body": adf_doc(text(""))}}]}}),
         r"(?s)update\.comment\[0\]\.add\.body.*empty text node"),
    ],
    ids=["unknown-path", "not-jira", "unknown-method", "deprecated-search-get", "deprecated-search-post",
         "deprecated-createmeta", "unknown-query-param", "bad-integer", "over-maximum", "bad-boolean", "missing-body",
         "unexpected-body", "not-json", "not-utf8", "wrong-type", "read-only", "unknown-update-verb", "plain-comment",
         "empty-text-comment", "empty-text-transition-comment"],
)  # fmt: skip
def test_invalid_requests_fail(method, path, body, message):
    with pytest.raises(AssertionError, match=message):
        validate_jira_request(method, SITE + path, body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (with_fields(description=adf_doc(text(""))), "empty text node"),
        (with_fields(description="Alarm entered ALARM"), "must be an ADF document in API v3"),
        (with_fields(environment=adf_doc({"type": "mention", "attrs": {"id": "1"}})), "node type 'mention'"),
        (with_fields(summary="CPU alarm\non i-123"), "single line"),
        (with_fields(summary="x" * 256), "256 characters, over Jira's 255"),
        (with_fields(summary="   "), "non-empty string"),
        (with_fields(labels=["Severity: high"]), "contains whitespace"),
        (with_fields(labels=["x" * 256]), "over Jira's 255"),
        (with_fields(labels=[""]), "non-empty string"),
        (with_fields(labels="one-label"), "must be a list"),
        (json.dumps({"fields": {"project": {"key": "OPS"}, "summary": "no type"}}), r"needs \['issuetype'\]"),
        (json.dumps({**VALID_CREATE, "update": {"labels": [{"add": "x"}]}}), "in both 'fields' and 'update'"),
        (json.dumps({"fields": {"summary": float("nan")}}), "not UTF-8 JSON"),
    ],
    ids=["empty-text-node", "plain-description", "unsupported-node", "summary-newline", "summary-too-long",
         "blank-summary", "label-with-space", "label-too-long", "empty-label", "labels-not-list", "missing-issuetype",
         "field-in-both", "nan"],
)  # fmt: skip
def test_invalid_create_bodies_fail(body, message):
    with pytest.raises(AssertionError, match=message):
        validate_jira_request("POST", f"{SITE}/rest/api/3/issue", body)


def test_bulk_create_checks_every_issue():
    bad = copy.deepcopy(VALID_CREATE)
    bad["fields"]["description"] = adf_doc(text(""))
    body = json.dumps({"issueUpdates": [VALID_CREATE, bad]})

    with pytest.raises(AssertionError, match=r"(?s)issueUpdates\[1\]\.fields\.description.*empty text node"):
        validate_jira_request("POST", f"{SITE}/rest/api/3/issue/bulk", body)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not a doc", "not an ADF document"),
        ({"type": "doc", "content": []}, "'version' is a required property"),
        (adf_doc(text("")), "empty text node"),
        (adf_doc(text("bell\x07")), "control character"),
        (adf_doc(text("x", {"type": "code"}, {"type": "strong"})), "code mark cannot be combined"),
        (adf_doc(text("x", {"type": "link", "attrs": {"href": "javascript:alert(1)"}})), "only http"),
        (adf_doc(text("x", {"type": "underline"})), "mark .*underline.* is not one the project sends"),
        ({"version": 1, "type": "doc", "content": [{"type": "bulletList", "content": []}]}, "should be non-empty"),
        ({"version": 1, "type": "doc", "content": [{"type": "heading", "content": []}]}, "'attrs' is a required"),
        ({"version": 1, "type": "doc", "content": [text("bare text")]}, r"\$\.content\[0\]"),
        (
            {"version": 1, "type": "doc", "content": [{"type": "codeBlock", "content": [text("x", {"type": "em"})]}]},
            "expected to be empty",
        ),
        (adf_doc(text("x" * 40_000)), "over Jira's 32,767"),
    ],
    ids=["not-a-dict", "no-version", "empty-text", "control-char", "code-with-strong", "javascript-link",
         "unsupported-mark", "empty-list", "heading-without-level", "text-at-root", "marks-in-code-block", "too-big"],
)  # fmt: skip
def test_invalid_adf_fails_with_a_readable_message(document, message):
    with pytest.raises(AssertionError, match=message):
        validate_adf(document)


def test_large_valid_adf_validates_quickly_enough():
    row = {"type": "tableRow", "content": [{"type": "tableCell", "content": [adf_doc(text("v"))["content"][0]]}] * 2}
    document = {"version": 1, "type": "doc", "content": [{"type": "table", "content": [row] * 120}]}

    validate_adf(document)  # a plain schema walk of this table takes many seconds


def test_validate_calls_checks_every_recorded_request():
    with responses.RequestsMock() as mock:
        mock.post(f"{SITE}/rest/api/3/issue", json={"id": "10000", "key": "OPS-1"}, status=201)
        mock.post(f"{SITE}/rest/api/3/issue/OPS-1/comment", json={"id": "1"}, status=201)
        mock.get(re.compile(rf"{re.escape(SITE)}/rest/api/3/search/jql.*"), json={"issues": []})
        requests.post(f"{SITE}/rest/api/3/issue", json=VALID_CREATE, timeout=5)
        requests.get(f"{SITE}/rest/api/3/search/jql", params={"jql": "labels = jn-1", "fields": "status"}, timeout=5)
        requests.post(f"{SITE}/rest/api/3/issue/OPS-1/comment", json={"body": adf_doc(text("again"))}, timeout=5)

        assert validate_calls(mock.calls) == [
            ("POST", "/rest/api/3/issue"),
            ("GET", "/rest/api/3/search/jql"),
            ("POST", "/rest/api/3/issue/OPS-1/comment"),
        ]


@pytest.mark.parametrize(
    ("send", "message"),
    [
        (lambda: requests.post(f"{SITE}/rest/api/3/issue", data=json.dumps(VALID_CREATE), timeout=5), "Content-Type"),
        (lambda: requests.get(f"{SITE}/rest/api/3/search", params={"jql": "x"}, timeout=5), "deprecated"),
        (
            lambda: requests.post(f"{SITE}/rest/api/3/issue", json={**VALID_CREATE, "fields": {
                **VALID_CREATE["fields"], "labels": ["has space"]}}, timeout=5),
            "contains whitespace",
        ),
    ],
    ids=["json-without-content-type", "deprecated-endpoint", "bad-label"],
)  # fmt: skip
def test_validate_calls_fails_on_a_bad_request(send, message):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(f"{SITE}/rest/api/3/issue", json={}, status=201)
        mock.get(re.compile(rf"{re.escape(SITE)}/rest/api/3/search.*"), json={})
        send()

        with pytest.raises(AssertionError, match=message):
            validate_calls(mock.calls)


ATTACH = f"{SITE}/rest/api/3/issue/OPS-1/attachments"
NO_CHECK = {"X-Atlassian-Token": "no-check"}


def test_an_upload_is_checked_against_add_attachment():
    with responses.RequestsMock() as mock:
        mock.post(ATTACH, json=[{"id": "1"}])
        requests.post(ATTACH, files={"file": ("g.png", b"\x89PNG", "image/png")}, headers=NO_CHECK, timeout=5)

        assert validate_calls(mock.calls) == [("POST", "/rest/api/3/issue/OPS-1/attachments")]


@pytest.mark.parametrize(
    ("files", "headers", "url", "message"),
    [
        ({"file": ("g.png", b"\x89PNG", "image/png")}, {}, ATTACH, "X-Atlassian-Token: no-check"),
        ({"image": ("g.png", b"\x89PNG", "image/png")}, NO_CHECK, ATTACH, "parts named 'file'"),
        ({"file": ("g.png", b"", "image/png")}, NO_CHECK, ATTACH, "is empty"),
        ({"file": ("g.png", b"\x89PNG", "image/png")}, NO_CHECK, f"{SITE}/rest/api/3/issue/OPS-1/comment", "multipart"),
    ],
    ids=["no-xsrf-header", "wrong-part-name", "empty-file", "operation-takes-json"],
)
def test_a_bad_upload_fails(files, headers, url, message):
    with responses.RequestsMock() as mock:
        mock.post(url, json={})
        requests.post(url, files=files, headers=headers, timeout=5)

        with pytest.raises(AssertionError, match=message):
            validate_calls(mock.calls)


# Field values against the create screen's schema ------------------------------------------------------------

SCREEN = {
    "project": {"schema": {"type": "project", "system": "project"}},
    "issuetype": {"schema": {"type": "issuetype", "system": "issuetype"}},
    "summary": {"schema": {"type": "string", "system": "summary"}},
    "labels": {"schema": {"type": "array", "items": "string", "system": "labels"}},
    "priority": {"schema": {"type": "priority", "system": "priority"}},
    "description": {"schema": {"type": "string", "system": "description"}},
    "environment": {"schema": {"type": "string", "system": "environment"}},
    "duedate": {"schema": {"type": "date", "system": "duedate"}},
    "customfield_1": {"schema": {"type": "number", "custom": "x:float"}},
    "customfield_2": {"schema": {"type": "option", "custom": "x:select"}},
    "customfield_3": {"schema": {"type": "array", "items": "user", "custom": "x:multiuserpicker"}},
    "customfield_4": {"schema": {"type": "datetime", "custom": "x:datetime"}},
    "customfield_5": {"schema": {"type": "string", "custom": "x:textfield"}},
    "customfield_6": {"schema": {"type": "string", "custom": "x:textarea"}},
}


def test_a_create_in_each_fields_input_format_passes():
    body = with_fields(
        environment=adf_doc(text("prod")),
        duedate="2026-12-01",
        customfield_1=4.5,
        customfield_2={"value": "prod"},
        customfield_3=[{"accountId": "5b10ac8d82e05b22cc7d4ef5"}],  # pragma: allowlist secret
        customfield_4="2026-12-01T09:30:00.000+0100",
        customfield_5="payments-api",
        customfield_6=adf_doc(text("Owned by payments")),
    )

    assert validate_jira_request("POST", f"{SITE}/rest/api/3/issue", body, screen=SCREEN) == "createIssue"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"environment": "prod"}, r"fields.environment \(string, environment\): rich text takes an ADF document"),
        ({"customfield_6": "text"}, r"customfield_6 \(string, textarea\): rich text takes an ADF document"),
        ({"customfield_5": adf_doc(text("x"))}, "a text field takes a string"),
        ({"customfield_5": "x" * 256}, "over a text field's 255 characters"),
        ({"customfield_1": "42"}, "a number field takes a JSON number"),
        ({"customfield_1": True}, "a number field takes a JSON number"),
        ({"duedate": "01/12/2026"}, "a date takes 'YYYY-MM-DD'"),
        ({"duedate": "2026-02-30"}, "a date takes 'YYYY-MM-DD'"),
        ({"customfield_4": "2026-12-01T09:30:00"}, "a date-time takes"),
        ({"customfield_2": "prod"}, r"takes an object with one of \['value', 'id'\]"),
        ({"customfield_2": {"value": "prod", "extra": 1}}, "takes an object with one of"),
        ({"customfield_2": {"value": ""}}, "value must be a non-empty string"),
        ({"customfield_3": {"accountId": "5b10"}}, r"array of user\) must be a list"),
        ({"customfield_3": [{"name": "jane"}]}, r"customfield_3\[0\] \(user, multiuserpicker\)"),
        ({"priority": "High"}, r"takes an object with one of \['name', 'id'\]"),
        ({"customfield_9": "x"}, "customfield_9 is not on the create screen"),
    ],
    ids=[
        "environment-as-text",
        "textarea-as-text",
        "textfield-as-adf",
        "textfield-too-long",
        "number-as-text",
        "number-as-bool",
        "date-in-another-form",
        "date-not-in-the-calendar",
        "datetime-without-offset",
        "option-as-text",
        "option-with-more",
        "option-empty",
        "array-as-one",
        "user-by-name",
        "priority-as-text",
        "not-on-the-screen",
    ],
)
def test_a_field_value_jira_would_refuse_fails(fields, message):
    with pytest.raises(AssertionError, match=message):
        validate_jira_request("POST", f"{SITE}/rest/api/3/issue", with_fields(**fields), screen=SCREEN)


def test_without_a_screen_field_values_are_checked_as_before():
    assert validate_jira_request("POST", f"{SITE}/rest/api/3/issue", with_fields(customfield_1="42")) == "createIssue"
