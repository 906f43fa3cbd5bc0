"""The secret, the provider and where Jira may be reached: validation with errors that say what to fix."""

from __future__ import annotations

import json
from datetime import date

import pytest

from jira_notifier.core.config import (
    JiraSecret,
    ProviderConfig,
    check_jira_url,
    parse_secret,
    secret_string,
)
from jira_notifier.core.errors import ConfigError, SecretError
from jira_notifier.core.units import parse_duration
from jira_notifier.entry.settings import DEFAULT_ALLOWED_HOSTS, Settings

TOKEN = "secret-token-value-123"  # pragma: allowlist secret


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://acme.atlassian.net", DEFAULT_ALLOWED_HOSTS),
        ("https://acme.atlassian.net/", DEFAULT_ALLOWED_HOSTS),
        ("http://127.0.0.1:8080", ("127.0.0.1",)),
        ("http://localhost:9000", ("localhost", "*.atlassian.net")),
        ("https://jira.example.com", ("jira.example.com",)),
    ],
    ids=["site", "trailing-slash", "loopback-named", "localhost-named", "custom-host-allowed"],
)
def test_allowed_urls(url: str, allowed: tuple[str, ...]) -> None:
    assert check_jira_url(url, allowed) == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "allowed", "message"),
    [
        ("http://acme.atlassian.net", DEFAULT_ALLOWED_HOSTS, "must use https"),
        ("https://evil.example.com", DEFAULT_ALLOWED_HOSTS, "not allowed by JIRA_ALLOWED_HOSTS"),
        ("https://169.254.169.254/latest/meta-data", ("*",), "IP address"),
        ("https://10.0.0.5", ("*",), "IP address"),
        ("https://[fd00::1]", ("*",), "IP address"),
        ("http://127.0.0.1:8080", DEFAULT_ALLOWED_HOSTS, "name it in JIRA_ALLOWED_HOSTS"),
        ("http://127.0.0.1:8080", ("*",), "name it in JIRA_ALLOWED_HOSTS"),
        ("https://user:pw@acme.atlassian.net", DEFAULT_ALLOWED_HOSTS, "no credentials"),
        ("https://acme.atlassian.net?x=1", DEFAULT_ALLOWED_HOSTS, "no credentials, query"),
        ("not a url", DEFAULT_ALLOWED_HOSTS, "https://yourdomain.atlassian.net"),
        ("ftp://acme.atlassian.net", DEFAULT_ALLOWED_HOSTS, "must use https"),
        ("https://acme.atlassian.net.evil.com", DEFAULT_ALLOWED_HOSTS, "not allowed"),
    ],
    ids=[
        "http-site",
        "other-host",
        "metadata",
        "private-v4",
        "private-v6",
        "loopback-not-named",
        "loopback-by-wildcard",
        "userinfo",
        "query",
        "garbage",
        "ftp",
        "suffix-trick",
    ],
)
def test_refused_urls(url: str, allowed: tuple[str, ...], message: str) -> None:
    with pytest.raises(SecretError, match=message):
        check_jira_url(url, allowed)


def test_secret_round_trip_and_gateway() -> None:
    text = secret_string("svc@example.com", TOKEN, "https://acme.atlassian.net", "0123456789abcdef", date(2027, 1, 31))
    secret = parse_secret("jira-notifier/ops", text, DEFAULT_ALLOWED_HOSTS)
    assert secret.api_base_url == "https://api.atlassian.com/ex/jira/0123456789abcdef"
    assert secret.days_until_expiry(date(2027, 1, 1)) == 30
    assert TOKEN not in repr(secret)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("not json", "not JSON"),
        (json.dumps(["a"]), "JSON object"),
        (json.dumps({"email": "a@b.c", "serverUrl": "https://a.atlassian.net"}), "missing apiToken"),
        (
            json.dumps(
                {"email": "a@b.c", "apiToken": TOKEN, "serverUrl": "https://a.atlassian.net", "expiresAt": "next year"}
            ),
            "YYYY-MM-DD",
        ),
        (
            json.dumps(
                {"email": "a@b.c", "apiToken": TOKEN, "serverUrl": "https://a.atlassian.net", "type": "github-token"}
            ),
            "not of type 'jira-token'",
        ),
        (
            json.dumps(
                {"email": "a@b.c", "apiToken": TOKEN, "serverUrl": "https://a.atlassian.net", "cloudId": "x/../y"}
            ),
            "malformed cloudId",
        ),
    ],
    ids=["not-json", "not-object", "missing-token", "bad-expiry", "wrong-type", "bad-cloud-id"],
)
def test_bad_secrets_say_what_is_wrong_without_the_token(data: str, message: str) -> None:
    with pytest.raises(SecretError, match=message) as caught:
        parse_secret("jira-notifier/ops", data, DEFAULT_ALLOWED_HOSTS)
    assert TOKEN not in str(caught.value)


SITE_SECRET = JiraSecret("s", "a@b.c", TOKEN, "https://acme.atlassian.net")
CLOUD_SECRET = JiraSecret("s", "a@b.c", TOKEN, "https://acme.atlassian.net", cloud_id="0123456789abcdef")
LOCAL_SECRET = JiraSecret("s", "a@b.c", TOKEN, "http://127.0.0.1:8081/jira")


@pytest.mark.parametrize(
    ("secret", "url", "holds"),
    [
        (SITE_SECRET, "https://acme.atlassian.net/rest/api/2/issue/10001", True),
        (SITE_SECRET, "https://ACME.atlassian.net:443/rest/api/3/issue/10001", True),
        (SITE_SECRET, "https://other.atlassian.net/rest/api/2/issue/10001", False),
        (SITE_SECRET, "https://acme.atlassian.net.evil.example/rest/api/2/issue/10001", False),
        (SITE_SECRET, "https://acme.atlassian.net@evil.example/rest/api/2/issue/10001", False),
        (SITE_SECRET, "https://evil@acme.atlassian.net/rest/api/2/issue/10001", False),
        (SITE_SECRET, "http://acme.atlassian.net/rest/api/2/issue/10001", False),
        (SITE_SECRET, "https://acme.atlassian.net:8443/rest/api/2/issue/10001", False),
        (SITE_SECRET, "https://acme.atlassian.net:99999/rest", False),
        (SITE_SECRET, "https://api.atlassian.com/ex/jira/0123456789abcdef/rest/api/3/issue/10001", False),
        (SITE_SECRET, "/rest/api/2/issue/10001", False),
        (CLOUD_SECRET, "https://api.atlassian.com/ex/jira/0123456789abcdef/rest/api/3/issue/10001", True),
        (CLOUD_SECRET, "https://acme.atlassian.net/rest/api/2/issue/10001", True),
        (CLOUD_SECRET, "https://api.atlassian.com/ex/jira/fedcba9876543210/rest/api/3/issue/10001", False),
        (CLOUD_SECRET, "https://api.atlassian.com/ex/jira/0123456789abcdef0/rest/api/3/issue/10001", False),
        (LOCAL_SECRET, "http://127.0.0.1:8081/jira/rest/api/2/issue/10001", True),
        (LOCAL_SECRET, "http://127.0.0.1:8081/jira-other/rest/api/2/issue/10001", False),
    ],
    ids=[
        "site",
        "host-case-and-default-port",
        "another-site",
        "site-name-as-a-prefix",
        "site-name-as-userinfo",
        "userinfo-before-the-site",
        "plain-http",
        "another-port",
        "malformed-port",
        "gateway-without-a-cloud-id",
        "relative",
        "gateway-of-its-cloud",
        "site-of-a-cloud-secret",
        "gateway-of-another-cloud",
        "cloud-id-as-a-prefix",
        "under-the-site-path",
        "path-as-a-prefix",
    ],
)
def test_a_secret_holds_the_urls_of_its_own_site_only(secret: JiraSecret, url: str, holds: bool) -> None:
    assert secret.holds(url) is holds


def test_cloud_id_needs_the_gateway_allowed() -> None:
    text = secret_string("a@b.c", TOKEN, "https://acme.atlassian.net", cloud_id="0123456789abcdef")
    with pytest.raises(SecretError, match="api.atlassian.com"):
        parse_secret("s", text, ("*.atlassian.net",))


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800), ("2w", 1209600), (3600, 3600), (None, None)],
    ids=["seconds", "minutes", "hours", "days", "weeks", "stored-seconds", "unset"],
)
def test_durations(value: str | int | None, seconds: int | None) -> None:
    assert parse_duration(value, what="reopen window") == seconds


@pytest.mark.parametrize("value", ["5", "45", " 300 "])
def test_a_written_duration_without_a_unit_is_refused_with_the_units(value: str) -> None:
    # "--cooldown 5" would otherwise be five seconds where five minutes may be meant
    amount = value.strip()
    with pytest.raises(ConfigError, match=rf"has no unit; write {amount}s, {amount}m, {amount}h or {amount}d"):
        parse_duration(value, what="--cooldown")


def test_bad_duration() -> None:
    with pytest.raises(ConfigError, match="use e.g. 90s, 30m, 24h or 7d"):
        parse_duration("soon", what="cool-down")


def provider(**changes: object) -> ProviderConfig:
    settings: dict[str, object] = {
        "group": "ops",
        "name": "jira",
        "project": "OPS",
        "issue_type": "Task",
        "secret": "jira-notifier/ops",
    }
    settings.update(changes)
    return ProviderConfig(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"project": "ops"}, "neither a project key"),
        ({"project": "OPS KEY"}, "neither a project key"),
        ({"issue_type": " "}, "exactly as in Jira"),
        ({"secret": ""}, "name the secret"),
        ({"priority_map": {"urgent": "Highest"}}, "unknown severities"),
        ({"fields": {"summary": "x"}}, "set by jira-notifier itself"),
    ],
    ids=["lower-case-key", "key-with-space", "blank-issue-type", "no-secret", "unknown-severity", "reserved-field"],
)
def test_invalid_providers(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        provider(**changes).validate()


def test_provider_item_round_trip() -> None:
    original = provider(
        project="10042",
        resolve_transition="Done",
        reopen_transition="Reopen",
        reopen_window=86400,
        wont_fix_resolution="Won't Do",
        cooldown=600,
        labels=("a", "b"),
        components=("API",),
        priority_map={"critical": "Highest"},
        fields={"customfield_10010": {"value": "Ops"}},
        summary_template="[{severity}] {title}",
        resolve_resolution="Done",
    ).validate()
    assert ProviderConfig.from_item(json.loads(json.dumps(original.to_item()))) == original
    assert original.project_ref == {"id": "10042"}
    assert provider().project_ref == {"key": "OPS"}


def test_settings_name_the_missing_variable() -> None:
    with pytest.raises(ConfigError, match="STATE_TABLE"):
        Settings.from_env({"PROVIDERS_TABLE": "p"})
    with pytest.raises(ConfigError, match="CONFIG_CACHE_SECONDS"):
        Settings.from_env({"PROVIDERS_TABLE": "p", "STATE_TABLE": "s", "CONFIG_CACHE_SECONDS": "five"})
    settings = Settings.from_env({"PROVIDERS_TABLE": "p", "STATE_TABLE": "s", "JIRA_ALLOWED_HOSTS": " A.example ,"})
    assert settings.allowed_hosts == ("a.example",) and settings.config_cache_seconds == 300
