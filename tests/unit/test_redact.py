"""Redaction, the one rule every text from the world goes through before Jira sees it: the five leaks the first list
of patterns let through, the corpora (no generated secret shown, few ordinary lines touched), the log events
withheld whole, and the texts of events that descriptions, comments and storm tables show.

Every secret here is generated at run time (``tests.support.log_corpus``): none is in the repository.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jira_notifier.app.insight import AlarmInsights
from jira_notifier.core.alert import AlertState, Insight, LogEvidence
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.storm import Group, Member
from jira_notifier.ports import LogEvent, MetricFilter
from jira_notifier.render import insight as blocks
from jira_notifier.render import issue as render
from jira_notifier.render import storm as storm_render
from jira_notifier.render.redact import (
    REDACTED,
    SCAN_MAX,
    is_secret_name,
    log_line,
    log_lines,
    redact,
    redact_field,
)
from tests.conftest import EVENTS, load_event
from tests.support.builders import alarm_message, alerts_in, notification_event, sns_event
from tests.support.jira_spec import validate_adf
from tests.support.log_corpus import (
    ALNUM,
    B64,
    B64URL,
    SecretMaker,
    SecretSample,
    leaked,
    ordinary_lines,
    secret_samples,
)

SECRETS = secret_samples()
ORDINARY = ordinary_lines()
STARTED = datetime(2026, 11, 2, 8, 59, tzinfo=UTC)
FALSE_REDACTION_GOAL = 0.05


@pytest.fixture
def make() -> SecretMaker:
    return SecretMaker(7)


def pem(make: SecretMaker, label: str = "RSA PRIVATE KEY") -> tuple[str, tuple[str, ...]]:
    body = tuple(make.mixed(B64, 64) for _ in range(4)) + (make.mixed(B64, 20) + "==",)
    return "\n".join((f"-----BEGIN {label}-----", *body, f"-----END {label}-----")), body


def assert_hidden(secret: str, output: str) -> None:
    assert leaked(secret, output) is None, f"{leaked(secret, output)!r} of the secret is in {output!r}"


# ---- the five leaks --------------------------------------------------------------------------------------


def test_a_private_key_logged_as_one_event_over_several_lines_is_hidden_to_its_end(make: SecretMaker) -> None:
    block, body = pem(make)
    shown = log_line(f"ERROR could not load the signing key:\n{block}\nfalling back to the default key")
    assert shown == f"ERROR could not load the signing key: {REDACTED} falling back to the default key"
    for line in body:
        assert_hidden(line, shown)


def test_a_private_key_logged_one_line_per_event_is_withheld_line_by_line(make: SecretMaker) -> None:
    block, body = pem(make, "PRIVATE KEY")
    events = ["ERROR loading the signing key", *block.splitlines(), "using the default key"]

    shown = log_lines(("stream-a", message) for message in events)

    assert shown == ["ERROR loading the signing key", *[None] * (len(body) + 2), "using the default key"]


def test_a_json_password_holding_a_space_and_a_comma_is_hidden_whole(make: SecretMaker) -> None:
    phrase = make.password(spaced=True)
    assert " " in phrase and "," in phrase
    shown = log_line(json.dumps({"user": "bob", "password": phrase, "attempt": 3}))
    assert shown == f'{{"user": "bob", "password": "{REDACTED}", "attempt": 3}}'


@pytest.mark.parametrize("scheme", ["Token", "ApiKey", "SSWS", "Bearer", "Negotiate"])
def test_an_authorization_header_is_hidden_whatever_its_scheme(make: SecretMaker, scheme: str) -> None:
    for token in (make.hex(40), make.mixed(ALNUM, 32)):
        for header in ("Authorization", "Proxy-Authorization", "authorization"):
            assert log_line(f"{header}: {scheme} {token}") == f"{header}: {REDACTED}"


def test_a_github_fine_grained_token_is_hidden(make: SecretMaker) -> None:
    token = "github_pat_" + make.mixed(ALNUM, 22) + "_" + make.mixed(ALNUM, 59)
    assert log_line(f"push rejected for {token} on acme/orders") == f"push rejected for {REDACTED} on acme/orders"


@pytest.mark.parametrize("name", ["DB_PASS", "db_pass", "dbPass", "SMTP_PASS", "PGPASSWORD", "MYSQL_PWD"])
def test_a_pass_variable_is_hidden(make: SecretMaker, name: str) -> None:
    value = make.password(spaced=False)
    shown = log_line(f"env: DB_HOST=db.internal {name}={value} DB_PORT=5432")
    assert shown == f"env: DB_HOST=db.internal {name}={REDACTED} DB_PORT=5432"


# ---- the corpora -----------------------------------------------------------------------------------------


def test_the_corpora_cover_every_shape_in_every_form() -> None:
    assert len(SECRETS) >= 150 and len(ORDINARY) >= 150
    forms = {sample.form for sample in SECRETS}
    assert forms == {"plain", "json", "logfmt", "stack", "url", "events"}
    kinds = {sample.kind.partition(":")[0] for sample in SECRETS}
    assert kinds >= {
        "pem", "json-password-spaced", "authorization-token", "github-pat", "db-pass", "named", "header",
        "aws-access-key-id", "aws-secret-access-key", "github-ghp", "github-gho", "github-ghs", "slack", "stripe",
        "jwt", "atlassian", "google-api-key", "azure-storage", "azure-sas", "npm", "url-credentials",
        "high-entropy-base64", "high-entropy-base64url",
    }  # fmt: skip
    # Generated at run time, the same on every run: a failure names a sample that fails again
    assert secret_samples() == SECRETS and ordinary_lines() == ORDINARY


def evidence_description(
    events: list[str], *, streams: list[str] | None = None, validate: bool = True
) -> tuple[str, LogEvidence]:
    """The description of a new alarm issue whose metric filter matched ``events``: read through ``AlarmInsights``
    as the handler reads them, drawn by ``render.description`` as Jira receives it (checked against the ADF schema
    unless ``validate`` is off: the schema check costs a hundred times the render)."""
    [alert] = alerts_in(sns_event(alarm_message("ALARM", 0, arn="arn:aws:cloudwatch:eu-west-1:123456789012:alarm:x")))
    streams = streams or [""] * len(events)
    logs = EventsOf([LogEvent(1_794_000_000_000 + n, e, streams[n]) for n, e in enumerate(events)])
    insights = AlarmInsights(None, logs, Counted(), "123456789012", "eu-west-1", 0.0)  # type: ignore[arg-type]
    provider = evidence_provider()
    prepared, _ = insights.prepare(alert, provider, None)
    assert prepared.insight is not None and prepared.insight.evidence is not None
    document = render.description(prepared)
    if validate:
        validate_adf(document)
    return json.dumps(document, ensure_ascii=False), prepared.insight.evidence


class EventsOf:
    """A LogsReader whose metric filter matched ``events``."""

    def __init__(self, events: list[LogEvent]) -> None:
        self.found = events

    def metric_filter(self, namespace: str, metric: str) -> MetricFilter:
        return MetricFilter("/aws/lambda/orders-api", "")

    def events(self, *args: Any) -> tuple[list[LogEvent], bool]:
        return self.found, False


class Counted:
    def __init__(self) -> None:
        self.names: list[str] = []

    def count(self, name: str, value: float = 1) -> None:
        self.names.append(name)


def evidence_provider() -> ProviderConfig:
    return ProviderConfig("ops", "jira", "OPS", "Task", "s", graph=False, log_evidence=True)


def test_no_generated_secret_reaches_the_description() -> None:
    leaks = []
    checked: set[str] = set()
    for sample in SECRETS:
        # Every description is searched for the secrets; the first of each form is also checked against the schema
        first_of_its_kind = sample.form not in checked
        checked.add(sample.form)
        shown, _ = evidence_description(list(sample.events), validate=first_of_its_kind)
        leaks += [(sample.kind, sample.form, piece) for s in sample.secrets if (piece := leaked(s, shown))]
    assert leaks == []


def test_few_ordinary_lines_are_touched_and_their_ids_all_stay() -> None:
    touched = []
    for line in ORDINARY:
        [shown] = log_lines([("s", line)], limit=SCAN_MAX)
        if shown != " ".join(line.split()):
            touched.append(shown)
    assert len(touched) / len(ORDINARY) <= FALSE_REDACTION_GOAL, touched
    # Request and trace ids, UUIDs, ARNs, hashes and GuardDuty finding ids: every one is still there
    ids = re.compile(
        r"arn:aws:[^\s\"',]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{32,64}\b"
    )
    for line in ORDINARY:
        [shown] = log_lines([("s", line)], limit=SCAN_MAX)
        assert shown is not None
        for found in ids.findall(line):
            assert found in shown, (found, shown)


def test_ordinary_lines_reach_the_description_as_they_were() -> None:
    lines = [line for line in ORDINARY if "\n" not in line and len(line) < 300][:20]
    shown, evidence = evidence_description(lines)
    assert evidence.withheld == 0 and len(evidence.lines) == 20
    for line in lines:
        if redact(line) == line:
            assert json.dumps(" ".join(line.split()), ensure_ascii=False)[1:-1] in shown


@pytest.mark.parametrize("length", [20, 24, 32, 64])
@pytest.mark.parametrize("alphabet", [B64, B64URL, ALNUM], ids=["base64", "base64url", "alphanumeric"])
def test_unnamed_random_tokens_of_20_characters_and_more_are_hidden(length: int, alphabet: str) -> None:
    make = SecretMaker(length)
    tokens = [make.mixed(alphabet, length) for _ in range(40)]
    shown = [token for token in tokens if leaked(token, log_line(f"cached {token} for tenant acme"))]
    # A "-" or "_" between a piece that reads as a word (Oicl) and a piece under 20 characters reads as a name
    assert len(shown) <= (1 if alphabet == B64URL else 0), shown


# ---- log events withheld whole ---------------------------------------------------------------------------


def test_a_key_logged_line_by_line_is_withheld_while_other_streams_interleave(make: SecretMaker) -> None:
    block, _ = pem(make)
    key_lines = block.splitlines()
    events, streams = [], []
    for n, line in enumerate(key_lines):  # another stream writes between each line of the key
        events += [line, f"INFO request {n} served"]
        streams += ["a", "b"]

    shown = log_lines(zip(streams, events, strict=True))

    assert [line for line in shown if line is not None] == [f"INFO request {n} served" for n in range(len(key_lines))]


def test_a_key_whose_end_was_not_read_withholds_its_stream_to_the_last_event(make: SecretMaker) -> None:
    block, _ = pem(make)
    events = [("a", "ERROR dumping key"), *(("a", line) for line in block.splitlines()[:3]), ("b", "INFO ok"),
              ("a", "INFO after the window")]  # fmt: skip
    shown = log_lines(events)
    assert shown == ["ERROR dumping key", None, None, None, "INFO ok", None]


def test_a_key_whose_begin_was_not_read_withholds_the_encoded_lines_before_its_end(make: SecretMaker) -> None:
    _, body = pem(make)
    events = [("a", "INFO starting"), *(("a", line) for line in body[-2:]), ("a", "-----END EC PRIVATE KEY-----"),
              ("a", "INFO key loaded")]  # fmt: skip
    assert log_lines(events) == ["INFO starting", None, None, None, "INFO key loaded"]


def test_a_line_of_nothing_but_encoded_data_is_withheld_and_short_words_are_not(make: SecretMaker) -> None:
    assert log_lines([("a", make.mixed(B64, 64)), ("a", "OK"), ("a", "ProcessPaymentFunctionHandler")]) == [
        None,
        "OK",
        "ProcessPaymentFunctionHandler",
    ]


def test_the_description_says_how_many_lines_were_withheld(make: SecretMaker) -> None:
    block, body = pem(make)
    shown, evidence = evidence_description(["ERROR loading key", *block.splitlines(), "INFO default key used"])
    withheld = len(body) + 2
    assert (evidence.withheld, len(evidence.lines)) == (withheld, 2)
    assert f"{withheld + 2} log events matching the metric filter" in shown
    assert f"and {withheld} lines that may hold part of a private key or other encoded data are withheld." in shown
    for line in body:
        assert_hidden(line, shown)


def test_evidence_with_every_event_withheld_has_no_code_block(make: SecretMaker) -> None:
    block, _ = pem(make)
    document = render.description(
        replace(
            alerts_in(load_event("sns_cloudwatch_alarm.json"))[0],
            insight=Insight(evidence=LogEvidence("/aws/x", "", "eu-west-1", STARTED, STARTED, (), withheld=7)),
        )
    )
    validate_adf(document)
    text = json.dumps(document)
    assert "7 log events matching" in text and "and 7 lines that may hold" in text
    assert '"codeBlock"' not in text.partition("Log evidence")[2].partition("Raw event")[0]


# ---- how values of secret-named keys are found -----------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"db": {"password": "a b, c", "host": "db"}}',  # pragma: allowlist secret
         '{"db": {"password": "[R]", "host": "db"}}'),  # pragma: allowlist secret
        ('{"credentials": {"user": "bob", "key": "k1"}, "n": 1}', '{"credentials": [R], "n": 1}'),
        ('{"msg": "{\\"token\\": \\"a b c\\"}"}', '{"msg": "{\\"token\\": \\"[R]\\"}"}'),
        ("password: correct horse battery", "password: [R]"),
        ("GET /cb?code=1&access_token=a%20b&state=x", "GET /cb?code=1&access_token=[R]&state=x"),
        ("User{name='bob', password='p w'}", "User{name='bob', password='[R]'}"),  # pragma: allowlist secret
        ("Config(secret=abc)", "Config(secret=[R])"),
        ("{'api_key': 'k k', 'region': 'eu'}", "{'api_key': '[R]', 'region': 'eu'}"),  # pragma: allowlist secret
        ("Cookie: theme=dark; sessionid=abc; lang=en", "Cookie: [R]"),
        ("Set-Cookie: sid=abc; Path=/; HttpOnly", "Set-Cookie: [R]"),
        ("Authorization: AWS4-HMAC-SHA256 Credential=x/y, SignedHeaders=host, Signature=ab", "Authorization: [R]"),
        ("spring.datasource.password=s3", "spring.datasource.password=[R]"),
        ("X-Api-Key: k1 X-Request-Id: 42", "X-Api-Key: [R] X-Request-Id: 42"),
        (":password => 'x'", ":password => '[R]'"),
        ("connectionString=Server=db;Uid=app;Pwd=x;", "connectionString=[R]"),
        ("worker --password p1 --user bob", "worker --password [R] --user bob"),
        ("java -Dspring.datasource.password=p1 -jar app.jar", "java -Dspring.datasource.password=[R] -jar app.jar"),
        ("password:\n  p1 x\nuser: bob", "password:\n  [R]\nuser: bob"),
        ("token: |\n  abc\n  def\nnext: 1", "token: |\n  [R]\nnext: 1"),
    ],
    ids=[
        "json-nested", "json-object-value", "escaped-json", "yaml-to-line-end", "query-string", "java-tostring",
        "closing-bracket", "python-repr", "cookie-header", "set-cookie", "sigv4", "dotted-key", "next-header",
        "ruby-hash", "connection-string", "command-line-flag", "java-system-property", "yaml-value-below",
        "yaml-block",
    ],
)  # fmt: skip
def test_the_whole_value_of_a_secret_named_key_is_hidden(line: str, expected: str) -> None:
    assert redact(line) == expected.replace("[R]", REDACTED)


@pytest.mark.parametrize(
    "line",
    [
        '{"secretArn": "arn:aws:secretsmanager:eu-west-1:1234:secret:prod/db-Ab12Cd"}',  # pragma: allowlist secret
        '{"token_type": "Bearer", "expires_in": 3600, "password_length": 12}',
        "Access denied for user 'app'@'10.0.0.1' (using password: YES)",
        '{"password": "********", "token": null, "auth": true, "secret": "${DB_SECRET}"}',
        "42 tests passed, bypassing cache, tokens_used=812 max_tokens=4096",
        "author: jane, authenticated: yes",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-Ab12Cd",
    ],
    ids=["about-the-secret", "type-and-length", "mysql-using-password", "placeholders", "words", "author", "arn"],
)
def test_what_only_sounds_secret_stays(line: str) -> None:
    assert redact(line) == line


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True), ("DB_PASS", True), ("dbPassword", True), ("PGPASSWORD", True), ("passwd", True),
        ("client_secret", True), ("x-auth-token", True), ("csrftoken", True), ("apiKey", True), ("API_KEY", True),
        ("X-Api-Key", True), ("credentials", True), ("privateKey", True), ("JSESSIONID", True), ("session", True),
        ("Cookie", True), ("auth", True), ("Proxy-Authorization", True), ("X-Amz-Signature", True),
        ("ConnectionString", True), ("AccountKey", True), ("DB connection string", True),
        ("passed", False), ("bypass", False), ("author", False), ("secretArn", False), ("token_type", False),
        ("SignatureVersion", False), ("session_count", False), ("tokens_used", False), ("key", False),
        ("secretsmanager", False), ("Account", False),
    ],
)  # fmt: skip
def test_secret_names_are_parts_of_a_name_in_any_case(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


@pytest.mark.parametrize(
    "event",
    ["password:\n  p1 x\nuser: bob", "worker --token\n  p1 x --user bob", "Authorization:\n  Token p1 x"],
    ids=["yaml-value-below", "flag-value-below", "header-value-below"],
)
def test_a_value_below_its_key_is_hidden_in_the_line_that_shows_them_together(event: str) -> None:
    assert "p1" not in log_line(event) and REDACTED in log_line(event)


def test_a_field_named_as_a_secret_is_hidden_whole_and_others_are_redacted(make: SecretMaker) -> None:
    token = "ghp_" + make.mixed(ALNUM, 36)
    assert redact_field("DB password", "correct horse") == REDACTED
    assert redact_field("Runbook", f"use {token}") == f"use {REDACTED}"
    assert redact_field("Account", "123456789012") == "123456789012"


# ---- properties ------------------------------------------------------------------------------------------


# Text made mostly of what the rules look at: token characters, separators, quotes, brackets, line breaks, markers
TOKENISH = st.lists(
    st.sampled_from(
        [*"aZ9+/=_-:;,&?@ \n\t\"'{}[]()\\", "password", "Token",
         "-----BEGIN RSA PRIVATE KEY-----", "END PRIVATE KEY",  # pragma: allowlist secret
         "https://", "AKIA", "ghp_", "eyJ", "xoxb-", "Bearer ", "Basic ", "sig="]
    ),
    max_size=80,
).map("".join)  # fmt: skip


@settings(max_examples=300)
@given(st.text())
def test_redaction_of_any_text_is_stable(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
    assert log_line(text) == log_line(log_line(text))


@settings(max_examples=500)
@given(TOKENISH)
def test_redaction_never_fails_and_reads_a_lone_event_as_log_line_does(text: str) -> None:
    redact(text)
    [shown] = log_lines([("a", text)])
    assert shown is None or shown == log_line(text)


@pytest.mark.parametrize(
    "rule", ["/" * 30, "+" * 30, "=-" * 15, "_" * 40], ids=["slashes", "pluses", "mixed", "underscores"]
)
def test_a_rule_drawn_with_separators_stays(rule: str) -> None:
    line = f"==== deploy ==== {rule} done"
    assert redact(line) == line and log_line(line) == line


TOKENS = [sample for sample in SECRETS if sample.form == "plain" and sample.kind.startswith(("aws", "github", "high"))]


@settings(max_examples=100)
@given(before=st.text(), after=st.text(), sample=st.sampled_from(TOKENS))
def test_a_token_is_hidden_whatever_surrounds_it(before: str, after: str, sample: SecretSample) -> None:
    [secret] = sample.secrets
    assert_hidden(secret, redact(f"{before} {secret} {after}"))
    assert_hidden(secret, log_line(f"{before} {secret} {after}"))


def test_a_long_event_is_read_to_a_bound_and_never_cut_inside_a_token(make: SecretMaker) -> None:
    # Whitespace shrinks when the line is shown: a token across the bound comes first, and is read whole
    token = "ghp_" + make.mixed(ALNUM, 36)
    shown = log_line("ERROR\n" + "\n" * (SCAN_MAX - 20) + token + " and more" * 10_000)
    assert shown == f"ERROR {REDACTED}…"


# ---- texts of events in descriptions, comments and storm tables ------------------------------------------


@pytest.mark.parametrize("sample", sorted(p.name for p in EVENTS.glob("*.json") if p.name != "env.json"))
def test_sample_events_keep_their_ids_arns_and_raw_event_readable(sample: str) -> None:
    for alert in alerts_in(load_event(sample)):
        document = render.description(alert)
        shown = texts(document)
        assert all(value in shown for _, value in alert.facts)
        assert all(part in shown for part in (alert.what, alert.why))
        assert alert.title in render.summary(alert) or len(alert.title) > 200
        [raw] = [b for b in document["content"] if b["type"] == "codeBlock" and b is document["content"][-3]]
        expected = alert.raw if isinstance(alert.raw, str) else json.dumps(alert.raw, indent=2, ensure_ascii=False)
        assert texts(raw) == expected


def texts(node: Any) -> str:
    if isinstance(node, dict):
        return node.get("text", "") + "".join(texts(child) for child in node.get("content", []))
    return ""


def test_a_raw_event_is_read_to_what_can_be_shown_and_never_cut_inside_a_token(make: SecretMaker) -> None:
    # A text message whose token starts just before the most a description can show, and runs past it
    token = "ghp_" + make.mixed(ALNUM, 36)
    text = "deploy log\n" + "ok " * ((render.ADF_BUDGET - 20) // 3) + token + " done" * 50_000
    [alert] = alerts_in(sns_event(text))

    document = render.description(alert)

    validate_adf(document)
    shown = json.dumps(document)
    assert_hidden(token, shown)
    omitted = re.search(r"truncated, ([0-9,]+) characters omitted", shown)
    assert omitted is not None and int(omitted[1].replace(",", "")) > 250_000


def test_a_notification_shows_no_secret_in_its_message_fields_link_or_summary(make: SecretMaker) -> None:
    token = "xoxb-" + make.chars("0123456789", 12) + "-" + make.mixed(ALNUM, 24)
    password = make.password(spaced=True)  # pragma: allowlist secret
    event = notification_event(
        "firing",
        title=f"deploy failed: token={token}",
        message=f"The deploy job logged DB_PASS={password.replace(' ', '_')} and {token}.",
        fields={"Account": "111122223333", "DB password": password, "Runbook": f"call with {token}"},
    )
    body = json.loads(event["Records"][0]["Sns"]["Message"])
    body["link"] = f"https://ci.example.com/jobs/42?token={make.mixed(ALNUM, 30)}"
    event["Records"][0]["Sns"]["Message"] = json.dumps(body)
    [alert] = alerts_in(event)

    description = render.description(alert)
    comment = render.comment(replace(alert, state=AlertState.FIRING))
    validate_adf(description)
    shown = json.dumps([render.summary(alert), description, comment], ensure_ascii=False)

    for secret in (token, password, password.replace(" ", "_"), body["link"].rpartition("=")[2]):
        assert_hidden(secret, shown)
    assert "111122223333" in shown and "cost-spike-1" in shown
    assert render.summary(alert) == f"deploy failed: token={REDACTED}"
    # The link whose address held a secret is text, never clickable
    assert "https://ci.example.com/jobs/42?token=" in shown and '"href": "https://ci.example.com' not in shown


def test_an_unknown_event_shows_its_payload_redacted_and_its_ids(make: SecretMaker) -> None:
    key_id, secret_key = "AKIA" + make.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), make.mixed(B64, 40)
    detail = {"jobId": make.uuid(), "settings": {"aws_access_key_id": key_id, "aws_secret_access_key": secret_key},
              "log": f"connecting with {key_id}:{secret_key}"}  # fmt: skip
    event = {"version": "0", "id": make.uuid(), "detail-type": "Job Failed", "source": "acme.ci",
             "account": "123456789012", "time": "2026-11-02T09:00:00Z", "region": "eu-west-1",
             "resources": ["arn:aws:codebuild:eu-west-1:123456789012:build/orders:1"], "detail": detail}  # fmt: skip
    [alert] = alerts_in(event)

    shown = json.dumps(render.description(alert))

    assert_hidden(key_id, shown)
    assert_hidden(secret_key, shown)
    assert detail["jobId"] in shown and event["id"] in shown and event["resources"][0] in shown


def test_a_storm_table_shows_member_names_redacted(make: SecretMaker) -> None:
    token = "ghp_" + make.mixed(ALNUM, 36)
    members = (
        Member("k1", f"deploy with {token} failed", AlertState.FIRING, 1.0),
        Member("k2", "api-5xx", AlertState.FIRING, 2.0),
    )
    document = storm_render.description(Group(f"prefix:12=deploy with {token}", 0.0, members), 600)
    shown = json.dumps([document, storm_render.summary_title(f"prefix:12=deploy with {token}")])
    assert_hidden(token, shown)
    assert "api-5xx" in shown


def test_an_evidence_line_is_the_time_then_the_redacted_message() -> None:
    assert blocks.evidence_line(1_794_000_000_000, log_line("login password=x1\tuser=bob")) == (
        f"2026-11-06 21:20:00.000Z login password={REDACTED} user=bob"
    )
