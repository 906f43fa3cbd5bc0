from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses

from jira_notifier.cli.output import use_colour
from jira_notifier.cli.preflight import REQUIRED_PERMISSIONS, Check
from jira_notifier.cli.provider import print_checks
from tests.cli.conftest import CLOUD_ID, GATEWAY, SITE, TOKEN, days_from_today, provider
from tests.support.jira_spec import validate_calls

ISSUE_TYPES = [
    {"id": "10001", "name": "Task", "subtask": False},
    {"id": "10002", "name": "Bug", "subtask": False},
    {"id": "10003", "name": "Sub-task", "subtask": True},
]


def field(field_id: str, name: str, *, required: bool = False, default: bool = False) -> dict[str, Any]:
    return {"fieldId": field_id, "key": field_id, "name": name, "required": required, "hasDefaultValue": default,
            "operations": ["set"], "schema": {"type": "string"}}  # fmt: skip


CREATE_SCREEN = [
    field("summary", "Summary", required=True),
    field("issuetype", "Issue Type", required=True),
    field("project", "Project", required=True),
    field("reporter", "Reporter", required=True, default=True),
    field("description", "Description"),
    field("labels", "Labels"),
    field("priority", "Priority", default=True),
    field("components", "Components"),
    field("customfield_10050", "Environment"),
]
STATUSES = [
    {
        "id": "10001",
        "name": "Task",
        "subtask": False,
        "statuses": [{"id": "1", "name": "To Do"}, {"id": "3", "name": "In Progress"}, {"id": "4", "name": "Done"}],
    }
]
SAMPLE_ISSUES = {
    "issues": [
        {"id": "10007", "key": "OPS-7", "fields": {"status": {"name": "Done", "statusCategory": {"key": "done"}}}},
        {"id": "10008", "key": "OPS-8", "fields": {"status": {"name": "To Do", "statusCategory": {"key": "new"}}}},
    ],
    "isLast": True,
}
TRANSITIONS = {
    "OPS-7": [{"id": "11", "name": "Reopen", "to": {"name": "To Do"}}],
    "OPS-8": [{"id": "21", "name": "Start Progress", "to": {"name": "In Progress"}},
              {"id": "31", "name": "Done", "to": {"name": "Done"}}],
}  # fmt: skip
RESOLUTIONS = {"values": [{"id": "1", "name": "Done"}, {"id": "10000", "name": "Won't Do"}], "startAt": 0,
               "maxResults": 50, "total": 2, "isLast": True}  # fmt: skip


class Site:
    """A Jira site where every check passes; a test changes one answer to make one check fail."""

    def __init__(self, mock: responses.RequestsMock, base: str = SITE) -> None:
        self.mock = mock
        self.base = base
        me = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Alert Bot", "active": True}
        self.answer("/rest/api/3/myself", me)
        self.answer("/rest/api/3/project/OPS", {"id": "10000", "key": "OPS", "name": "Operations"})
        self.answer("/rest/api/3/issue/createmeta/OPS/issuetypes", paged("issueTypes", ISSUE_TYPES))
        self.answer("/rest/api/3/issue/createmeta/OPS/issuetypes/10001", paged("fields", CREATE_SCREEN))
        self.permissions()
        self.answer("/rest/api/3/project/OPS/statuses", STATUSES)
        self.answer("/rest/api/3/search/jql", SAMPLE_ISSUES)
        for key, transitions in TRANSITIONS.items():
            self.answer(f"/rest/api/3/issue/{key}/transitions", {"transitions": transitions})
        self.answer("/rest/api/3/resolution/search", RESOLUTIONS)

    def answer(self, path: str, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        method = responses.POST if path.endswith("/search/jql") else responses.GET  # search takes a POST body
        self.mock.upsert(method, self.base + path, json=body, status=status, headers=headers)

    def permissions(self, *missing: str) -> None:
        held = {
            key: {
                "id": str(n),
                "key": key,
                "name": key.title(),
                "type": "PROJECT",
                "havePermission": key not in missing,
            }
            for n, key in enumerate(REQUIRED_PERMISSIONS)
        }
        self.answer("/rest/api/3/mypermissions", {"permissions": held})

    @property
    def requests(self) -> list[str]:
        return [f"{c.request.method} {urlsplit(c.request.url).path}" for c in self.mock.calls]


def paged(key: str, values: list[Any]) -> dict[str, Any]:
    return {key: values, "startAt": 0, "maxResults": 200, "total": len(values)}


@pytest.fixture
def site(cloud, jira_api) -> Iterator[Site]:
    """The provider ops/jira and its secret, and a Jira where it passes; every request sent is checked against
    Atlassian's OpenAPI spec afterwards."""
    cloud.put_secret(expires_at=days_from_today(200))
    cloud.put_provider(READY)
    yield Site(jira_api)
    validate_calls(jira_api.calls)


READY = provider(
    resolve_transition="Done",
    reopen_transition="Reopen",
    wont_fix_resolution="Won't Do",
    priority_map={"critical": "Highest"},
    components=("Platform",),
)


def checks_of(output: str) -> list[tuple[str, str]]:
    """(status, check) of each printed check line."""
    return [tuple(line.split()[:2]) for line in output.splitlines() if line[:4] in ("PASS", "WARN", "FAIL", "SKIP")]


def test_a_ready_provider_passes_every_check(cli, site):
    result = cli("provider", "test", "ops", "jira")

    assert result.code == 0, result.out
    assert checks_of(result.out) == [
        ("PASS", "secret"), ("PASS", "credentials"), ("PASS", "project"), ("PASS", "issue"), ("PASS", "fields"),
        ("PASS", "permissions"), ("PASS", "transitions"), ("PASS", "transitions"), ("PASS", "resolutions"),
        ("PASS", "expiry"),
    ]  # fmt: skip
    assert "signed in as Alert Bot" in result.out
    assert "--reopen-transition 'Reopen' is a transition of OPS-7" in result.out
    assert result.out.rstrip().endswith("ready: 0 failed, 0 warning(s)")
    assert "\x1b[" not in result.out  # piped: no colour
    assert site.requests == [
        "GET /rest/api/3/myself",
        "GET /rest/api/3/project/OPS",
        "GET /rest/api/3/issue/createmeta/OPS/issuetypes",
        "GET /rest/api/3/issue/createmeta/OPS/issuetypes/10001",
        "GET /rest/api/3/mypermissions",
        "GET /rest/api/3/project/OPS/statuses",
        "POST /rest/api/3/search/jql",
        "GET /rest/api/3/issue/OPS-7/transitions",
        "GET /rest/api/3/resolution/search",
    ]
    authorization = site.mock.calls[0].request.headers["Authorization"]
    assert authorization.startswith("Basic ")


def test_json_output_lists_the_checks(cli, site):
    result = cli("provider", "test", "ops", "jira", "--json")

    report = json.loads(result.out)
    assert result.code == 0
    assert report["provider"] == "ops/jira" and report["ok"] is True
    assert report["checks"][1] == {"status": "PASS", "name": "credentials",
                                   "detail": "signed in as Alert Bot (accountId 5b10ac8d82e05b22cc7d4ef5)"}  # fmt: skip


CREDENTIAL_FAILURES = {
    "site-401-maybe-scoped": (
        {},
        {"status": 401, "body": {"message": "Client must be authenticated to access this resource."}},
        "Jira rejected the credentials (401) at the site URL https://acme.atlassian.net",
        "scoped and service-account tokens must go through api.atlassian.com: run secret put with "
        "--cloud-id/--lookup-cloud-id",
    ),
    "expired-token-200-login-failed": (
        {},
        {"status": 200, "body": {}, "headers": {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}},
        "Jira rejected the credentials (401) at the site URL",
        "for a classic token, create a new API token for bot@example.com",
    ),
    "service-account-on-site": (
        {"email": "alerts-bot@serviceaccount.atlassian.com"},
        {"status": 401, "body": {}},
        "Jira rejected the service account's token (401) at the site URL",
        "service-account tokens must go through api.atlassian.com: run 'jira-notifier secret put jira-notifier/ops "
        "--email alerts-bot@serviceaccount.atlassian.com --server-url https://acme.atlassian.net --lookup-cloud-id'",
    ),
    "captcha": (
        {},
        {"status": 403, "body": {}, "headers": {"X-Seraph-LoginReason": "AUTHENTICATION_DENIED"}},
        "Jira asks for a CAPTCHA after failed logins",
        "log in once in a browser as bot@example.com",
    ),
}


@pytest.mark.parametrize(
    ("secret", "answer", "detail", "fix"), CREDENTIAL_FAILURES.values(), ids=CREDENTIAL_FAILURES.keys()
)
def test_rejected_credentials_fail_and_stop_the_checks(cli, cloud, site, secret, answer, detail, fix):
    cloud.secretsmanager.delete_secret(SecretId="jira-notifier/ops", ForceDeleteWithoutRecovery=True)
    cloud.put_secret(**secret)
    site.answer("/rest/api/3/myself", **answer)

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 1
    assert ("FAIL", "credentials") in checks_of(result.out)
    assert detail in result.out and fix in result.out
    assert ("SKIP", "project") in checks_of(result.out) and ("SKIP", "resolutions") in checks_of(result.out)
    assert site.requests == ["GET /rest/api/3/myself"]
    assert TOKEN not in result.out + result.err


def test_a_bad_token_through_the_gateway_is_expired_or_revoked(cli, cloud, jira_api):
    # Given a secret with a cloudId: requests go to api.atlassian.com
    cloud.put_secret(cloud_id=CLOUD_ID, expires_at=days_from_today(100))
    cloud.put_provider(READY)
    gateway = Site(jira_api, GATEWAY)
    gateway.answer("/rest/api/3/myself", {"message": "Client must be authenticated"}, status=401)

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 1
    assert f"Jira rejected the credentials (401) at {GATEWAY}: the token is expired or revoked" in result.out
    assert "create a new API token for bot@example.com at https://id.atlassian.com" in result.out
    assert "scoped and service-account" not in result.out
    assert gateway.requests == ["GET /ex/jira/" + CLOUD_ID + "/rest/api/3/myself"]
    validate_calls(jira_api.calls)


def test_a_scoped_token_without_a_scope_says_which_scopes(cli, cloud, jira_api):
    cloud.put_secret(cloud_id=CLOUD_ID)
    cloud.put_provider(READY)
    gateway = Site(jira_api, GATEWAY)
    gateway.answer("/rest/api/3/myself", {"code": 401, "message": "Unauthorized; scope does not match"}, status=401)

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 1
    assert "read:jira-user, read:jira-work and write:jira-work" in result.out


def test_an_unknown_project_fails(cli, site):
    site.answer("/rest/api/3/project/OPS", {"errorMessages": ["No project could be found with key 'OPS'."]}, 404)

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 1
    assert "FAIL  project" in result.out
    assert "project OPS was not found, or bot@example.com may not browse it" in result.out
    assert "fix: check --project (keys are case sensitive" in result.out
    assert ("SKIP", "permissions") in checks_of(result.out)


def test_an_unknown_issue_type_fails_with_the_available_names(cli, cloud, site):
    cloud.put_provider(provider(issue_type="Incident"))

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 1
    assert "project OPS has no issue type 'Incident' this account may create (available: Bug, Task)" in result.out
    assert "set --issue-type to one of the available names" in result.out
    assert ("SKIP", "fields") in checks_of(result.out)
    assert ("PASS", "permissions") in checks_of(result.out)


def test_a_required_field_without_default_fails_naming_it(cli, site):
    site.answer(
        "/rest/api/3/issue/createmeta/OPS/issuetypes/10001",
        paged("fields", [*CREATE_SCREEN, field("customfield_10060", "Cost centre", required=True)]),
    )

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 1
    assert (
        "required field customfield_10060 (Cost centre) has no default and jira-notifier does not set it" in result.out
    )
    assert "fix: remove the requirement in Jira or add --field customfield_10060=<JSON>" in result.out


def test_a_required_field_set_by_the_provider_passes(cli, cloud, site):
    cloud.put_provider(provider(fields={"customfield_10060": {"value": "CC-1"}}))
    site.answer(
        "/rest/api/3/issue/createmeta/OPS/issuetypes/10001",
        paged("fields", [*CREATE_SCREEN, field("customfield_10060", "Cost centre", required=True)]),
    )

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 0, result.out
    assert ("PASS", "fields") in checks_of(result.out)


@pytest.mark.parametrize(
    ("settings", "absent", "fix"),
    [
        ({}, "labels", "add labels to the create screen of Task in OPS"),
        ({"priority_map": {"critical": "Highest"}}, "priority", "or remove --priority-map"),
        ({"components": ("Platform",)}, "components", "or remove --component"),
        ({"fields": {"customfield_10070": "x"}}, "customfield_10070", "or remove --field customfield_10070"),
    ],
    ids=["labels", "priority", "components", "custom-field"],
)
def test_a_field_sent_but_not_on_the_create_screen_fails(cli, cloud, site, settings, absent, fix):
    cloud.put_provider(provider(**settings))
    site.answer(
        "/rest/api/3/issue/createmeta/OPS/issuetypes/10001",
        paged("fields", [f for f in CREATE_SCREEN if f["fieldId"] != absent]),
    )

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 1
    assert f"field {absent} is sent on create but is not on the create screen" in result.out
    assert fix in result.out


def test_a_tag_field_not_on_the_create_screen_is_a_warning(cli, cloud, site):
    cloud.put_provider(provider(tag_fields={"team": "components", "owner": "customfield_10031"}))

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 0
    assert "field customfield_10031 (from tag owner) is not on the create screen: its tags are always left out" in (
        result.out
    )
    assert "field components (from tag" not in result.out


def test_a_missing_permission_fails(cli, site):
    site.permissions("TRANSITION_ISSUES")

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 1
    assert "bot@example.com lacks TRANSITION_ISSUES in project OPS" in result.out
    assert "grant them in the project's permission scheme" in result.out


def test_an_unknown_transition_fails_listing_statuses_and_transitions(cli, cloud, site):
    cloud.put_provider(provider(resolve_transition="Close Issue"))

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 1
    assert (
        "--resolve-transition 'Close Issue' is neither a status nor a transition of Task issues in OPS "
        "(statuses: To Do, In Progress, Done; transitions of OPS-8: Start Progress, Done)"
    ) in result.out
    assert "use the name of a transition or of the status it leads to" in result.out
    assert "GET /rest/api/3/issue/OPS-8/transitions" in site.requests


def test_a_transition_name_is_found_on_a_sample_issue(cli, cloud, site):
    cloud.put_provider(provider(resolve_transition="start progress"))

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 0, result.out
    assert "--resolve-transition 'start progress' is a transition of OPS-8" in result.out


def test_an_unknown_transition_without_any_issue_to_look_at_fails(cli, cloud, site):
    cloud.put_provider(provider(reopen_transition="Reopen Issue"))
    site.answer("/rest/api/3/search/jql", {"issues": [], "isLast": True})

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 1
    assert "no issue to read the workflow's transitions from" in result.out


def test_an_unknown_resolution_fails(cli, cloud, site):
    cloud.put_provider(provider(wont_fix_resolution="Wontfix", resolve_resolution="done"))

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 1
    assert "PASS  resolutions  --resolve-resolution 'done' exists" in result.out
    assert "--wont-fix-resolution 'Wontfix' is not a resolution of this site (available: Done, Won't Do)" in result.out


@pytest.mark.parametrize(
    ("expires_in", "status", "detail", "code"),
    [
        (-3, "FAIL", "the API token expired on", 1),
        (10, "WARN", "in 10 day(s)", 0),
        (None, "WARN", "unknown expiry; set --expires", 0),
    ],
    ids=["expired", "expiring-soon", "unknown"],
)
def test_token_expiry(cli, cloud, site, expires_in, status, detail, code):
    cloud.secretsmanager.delete_secret(SecretId="jira-notifier/ops", ForceDeleteWithoutRecovery=True)
    cloud.put_secret(expires_at=None if expires_in is None else days_from_today(expires_in))

    result = cli("provider", "test", "ops", "jira")

    assert result.code == code
    assert (status, "expiry") in checks_of(result.out)
    assert detail in result.out
    assert "--expires YYYY-MM-DD" in result.out


def test_a_provider_that_does_not_exist(cli, site):
    result = cli("provider", "test", "ops", "nope")

    assert result.code == 1
    assert "no provider 'nope' in group 'ops'" in result.err
    assert site.requests == []


def test_a_secret_pointing_at_a_refused_host_is_never_called(cli, cloud, site):
    cloud.secretsmanager.put_secret_value(
        SecretId="jira-notifier/ops",
        SecretString=json.dumps(
            {"email": "bot@example.com", "apiToken": TOKEN, "serverUrl": "https://169.254.169.254"}
        ),
    )

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 1
    assert "is an IP address" in result.err
    assert site.requests == []


def test_colour_only_on_a_terminal_and_never_with_no_color():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_colour(Terminal(), {}) is True
    assert use_colour(Terminal(), {"NO_COLOR": "1"}) is False
    assert use_colour(Terminal(), {"TERM": "dumb"}) is False
    assert use_colour(io.StringIO(), {}) is False


def test_checks_are_coloured_when_asked(capsys):
    checks = [Check("PASS", "project", "OPS"), Check("FAIL", "expiry", "expired", "renew it")]

    print_checks(READY, checks, colour=True)

    out = capsys.readouterr().out
    assert "\x1b[32mPASS\x1b[0m  project  OPS" in out
    assert "\x1b[31mFAIL\x1b[0m  expiry   expired" in out
    assert "not ready: 1 failed, 0 warning(s)" in out


def test_an_unreachable_jira_fails_once_and_stops(cli, site):
    site.mock.upsert(responses.GET, SITE + "/rest/api/3/myself", body=requests.ConnectionError("refused"))

    result = cli("provider", "test", "ops", "jira")

    assert result.code == 1
    assert "FAIL  credentials  could not reach Jira for GET /myself" in result.out
    assert "fix: check the network and the Server URL, then test again" in result.out
    assert ("SKIP", "project") in checks_of(result.out)
