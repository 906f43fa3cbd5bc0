from __future__ import annotations

import json

import pytest
import responses

from tests.cli.conftest import CLOUD_ID, SECRET_NAME, SITE, TOKEN, days_from_today


def stored(cloud, name: str = SECRET_NAME) -> dict:
    return json.loads(cloud.secretsmanager.get_secret_value(SecretId=name)["SecretString"])


def test_put_reads_the_token_from_stdin_and_creates_the_secret(cli, cloud):
    # Given a token piped on standard input
    expires = days_from_today(200)
    # When
    result = cli(
        "secret", "put", SECRET_NAME, "--email", "bot@example.com", "--server-url", SITE + "/",
        "--expires", expires.isoformat(), stdin=f"  {TOKEN}  \n",
    )  # fmt: skip
    # Then
    assert result.code == 0, result.err
    assert stored(cloud) == {
        "type": "jira-token",
        "email": "bot@example.com",
        "apiToken": TOKEN,
        "serverUrl": SITE,
        "expiresAt": expires.isoformat(),
    }
    assert f"created secret {SECRET_NAME}: bot@example.com at {SITE}" in result.out
    assert TOKEN not in result.out + result.err


def test_put_again_updates_the_secret(cli, cloud):
    cli("secret", "put", SECRET_NAME, "--email", "bot@example.com", "--server-url", SITE, stdin="old-token\n")

    result = cli("secret", "put", SECRET_NAME, "--email", "bot@example.com", "--server-url", SITE, stdin=TOKEN)

    assert result.code == 0, result.err
    assert result.out.startswith(f"updated secret {SECRET_NAME}")
    assert "expiry unknown (set --expires)" in result.out
    assert stored(cloud)["apiToken"] == TOKEN


def test_put_prompts_without_echo_on_a_terminal(cli, cloud, monkeypatch):
    prompts = []

    class Terminal:
        def isatty(self) -> bool:
            return True

        def readline(self) -> str:
            raise AssertionError("a terminal is never read directly: the token would be echoed")

    def getpass(prompt: str) -> str:
        prompts.append(prompt)
        return TOKEN

    monkeypatch.setattr("getpass.getpass", getpass)
    monkeypatch.setattr("sys.stdin", Terminal())
    from jira_notifier.cli.main import main

    code = main(["secret", "put", SECRET_NAME, "--email", "bot@example.com", "--server-url", SITE])

    assert code == 0
    assert prompts == ["Jira API token (input hidden): "]
    assert stored(cloud)["apiToken"] == TOKEN


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://acme.atlassian.net", "must use https://"),
        ("https://10.0.0.8", "is an IP address"),
        ("https://169.254.169.254/latest/meta-data", "is an IP address"),
        ("https://jira.example.com", "is not allowed by JIRA_ALLOWED_HOSTS"),
        ("http://127.0.0.1:8080", "name it in JIRA_ALLOWED_HOSTS"),
        ("https://user:pw@acme.atlassian.net", "no credentials"),  # pragma: allowlist secret
    ],
    ids=["http-not-loopback", "private-ip", "metadata-address", "other-host", "loopback-not-named", "userinfo"],
)
def test_put_refuses_a_server_url_jira_may_not_be_reached_at(cli, cloud, url, complaint):
    result = cli("secret", "put", SECRET_NAME, "--email", "bot@example.com", "--server-url", url, stdin=TOKEN)

    assert result.code == 1
    assert result.err.startswith("error: ") and complaint in result.err
    assert cloud.secretsmanager.list_secrets()["SecretList"] == []
    assert TOKEN not in result.out + result.err


def test_put_accepts_a_loopback_jira_named_in_allowed_hosts(cli, cloud, monkeypatch):
    monkeypatch.setenv("JIRA_ALLOWED_HOSTS", "127.0.0.1")

    result = cli("secret", "put", SECRET_NAME, "--email", "bot@example.com", "--server-url", "http://127.0.0.1:8080",
                 stdin=TOKEN)  # fmt: skip

    assert result.code == 0, result.err
    assert stored(cloud)["serverUrl"] == "http://127.0.0.1:8080"


def test_put_looks_up_the_cloud_id_for_scoped_tokens(cli, cloud, jira_api):
    jira_api.get(f"{SITE}/_edge/tenant_info", json={"cloudId": CLOUD_ID})

    result = cli("secret", "put", SECRET_NAME, "--email", "bot@example.com", "--server-url", SITE,
                 "--lookup-cloud-id", stdin=TOKEN)  # fmt: skip

    assert result.code == 0, result.err
    assert stored(cloud)["cloudId"] == CLOUD_ID
    assert f"via api.atlassian.com (cloudId {CLOUD_ID})" in result.out
    [call] = jira_api.calls
    assert "Authorization" not in call.request.headers  # tenant_info is public: the token is not sent


def test_put_explains_a_failed_cloud_id_lookup(cli, cloud, jira_api):
    jira_api.get(f"{SITE}/_edge/tenant_info", status=404, body="not found")

    result = cli("secret", "put", SECRET_NAME, "--email", "bot@example.com", "--server-url", SITE,
                 "--lookup-cloud-id", stdin=TOKEN)  # fmt: skip

    assert result.code == 1
    assert "without a cloudId" in result.err and "pass --cloud-id ID" in result.err
    assert cloud.secretsmanager.list_secrets()["SecretList"] == []


def test_put_refuses_a_cloud_id_when_the_gateway_is_not_allowed(cli, cloud, monkeypatch):
    monkeypatch.setenv("JIRA_ALLOWED_HOSTS", "*.atlassian.net")

    result = cli("secret", "put", SECRET_NAME, "--email", "bot@example.com", "--server-url", SITE,
                 "--cloud-id", CLOUD_ID, stdin=TOKEN)  # fmt: skip

    assert result.code == 1
    assert "JIRA_ALLOWED_HOSTS does not allow api.atlassian.com" in result.err
    assert TOKEN not in result.err


@pytest.mark.parametrize(
    ("extra", "stdin", "complaint"),
    [
        ((), "", "no API token given"),
        ((), "bot@example.com " + TOKEN, "contains whitespace"),
        (("--expires", days_from_today(-1).isoformat()), TOKEN, "is in the past"),
        (("--cloud-id", "not/a/cloud id"), TOKEN, "malformed cloudId"),
        ((), TOKEN + "\u201d", "HTTP Basic authentication cannot carry"),
    ],
    ids=["empty-stdin", "more-than-a-token", "expired", "malformed-cloud-id", "typographic-quote-pasted"],
)
def test_put_refuses_unusable_input(cli, cloud, extra, stdin, complaint):
    result = cli("secret", "put", SECRET_NAME, "--email", "bot@example.com", "--server-url", SITE, *extra, stdin=stdin)

    assert result.code == 1
    assert complaint in result.err
    assert TOKEN not in result.out + result.err
    assert cloud.secretsmanager.list_secrets()["SecretList"] == []


def test_put_warns_when_the_functions_may_not_read_the_name(cli, cloud):
    result = cli("secret", "put", "ops-token", "--email", "bot@example.com", "--server-url", SITE, stdin=TOKEN)

    assert result.code == 0
    assert "does not start with the stack's SecretNamePrefix 'jira-notifier/'" in result.err
    assert "jira-notifier/ops-token" in result.err
    assert stored(cloud, "ops-token")["apiToken"] == TOKEN


def test_put_without_aws_credentials_says_how_to_fix_it(cli, monkeypatch):
    # Given no credentials at all (and no moto): the CLI must say so before anything else happens
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    with responses.RequestsMock():
        result = cli("secret", "put", SECRET_NAME, "--email", "bot@example.com", "--server-url", SITE, stdin=TOKEN)

    assert result.code == 1
    assert "no AWS credentials" in result.err and "AWS_PROFILE" in result.err
