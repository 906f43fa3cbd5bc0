"""The pure parts of the insights: the alarm's definition as events carry it, the widget JSON, the evaluation
window, redaction, and the description's sections within Jira's limits."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from jira_notifier.core.alert import AlarmDefinition, ChildAlarm, Insight, LogEvidence, MetricQuery
from jira_notifier.core.config import ProviderConfig
from jira_notifier.render import insight as blocks
from jira_notifier.render import issue as render
from jira_notifier.render import widget
from jira_notifier.render.redact import LINE_MAX, REDACTED, log_line, redact
from tests.conftest import load_event
from tests.support.builders import alerts_in
from tests.support.jira_spec import JIRA_TEXT_FIELD_LIMIT, validate_adf

AT = datetime(2026, 11, 18, 9, 14, 27, 512000, tzinfo=UTC)


def alarm_of(sample: str) -> AlarmDefinition:
    [alert] = alerts_in(load_event(sample))
    assert alert.alarm is not None
    return alert.alarm


# ---- the definition the events carry --------------------------------------------------------------------


def test_an_sns_metric_alarm_carries_its_metric_threshold_and_evaluation() -> None:
    alarm = alarm_of("sns_cloudwatch_alarm.json")
    assert alarm.queries == (
        MetricQuery(
            namespace="AWS/ApplicationELB",
            name="HTTPCode_Target_5XX_Count",
            stat="SUM",
            period=60,
            dimensions=(("LoadBalancer", "app/api-prod/50dc6c495c0c9188"),),
        ),
    )
    assert (alarm.threshold, alarm.comparison, alarm.evaluation_periods) == (10.0, "GreaterThanThreshold", 3)
    assert (alarm.account, alarm.region, alarm.changed_at) == ("123456789012", "eu-west-1", AT)


def test_an_sns_metric_math_alarm_carries_its_expression_and_inputs() -> None:
    alarm = alarm_of("sns_cloudwatch_alarm_metric_math.json")
    assert [(q.id, q.expression, q.returned, q.name) for q in alarm.queries] == [
        ("e1", "100*(m1/m2)", True, ""),
        ("m1", "", False, "Errors"),
        ("m2", "", False, "Invocations"),
    ]
    assert alarm.threshold == 5.0


def test_an_eventbridge_alarm_carries_its_metrics_and_the_evaluated_range() -> None:
    alarm = alarm_of("eventbridge_cloudwatch_alarm.json")
    assert alarm.queries[0].dimensions == (("LoadBalancer", "app/api-prod/50dc6c495c0c9188"),)
    assert alarm.threshold == 10.0  # from reasonData
    assert alarm.evaluated_from == datetime(2026, 11, 18, 9, 11, tzinfo=UTC)


def test_a_composite_alarm_names_its_children_from_the_rule() -> None:
    alarm = alarm_of("sns_cloudwatch_composite_alarm.json")
    assert alarm.composite and not widget.can_draw(alarm)
    assert alarm.child_names() == ("api-5xx-high", "api-latency-p99-high")
    quoted = replace(alarm, rule='ALARM("a b") OR (OK(arn:aws:cloudwatch:eu-west-1:1:alarm:c) AND ALARM("a b"))')
    assert quoted.child_names() == ("a b", "c")


# ---- the widget -------------------------------------------------------------------------------------------


def test_the_widget_draws_the_metric_the_threshold_and_the_transition() -> None:
    sent = widget.metric_widget(alarm_of("sns_cloudwatch_alarm.json"), "ALARM")
    assert sent["metrics"] == [
        [
            "AWS/ApplicationELB",
            "HTTPCode_Target_5XX_Count",
            "LoadBalancer",
            "app/api-prod/50dc6c495c0c9188",
            {"stat": "Sum", "period": 60},
        ]
    ]
    assert sent["annotations"] == {
        "vertical": [{"label": "ALARM 2026-11-18T09:14:27Z", "value": "2026-11-18T09:14:27Z"}],
        "horizontal": [{"label": "Threshold > 10", "value": 10.0}],
    }
    # three hours of one-minute data before the transition, a tenth of that after it
    assert (sent["start"], sent["end"], sent["period"]) == ("2026-11-18T06:14:27Z", "2026-11-18T09:32:27Z", 60)
    assert sent["region"] == "eu-west-1" and sent["title"] == "api-5xx-high"


def test_a_metric_math_widget_draws_the_expression_and_hides_its_inputs() -> None:
    sent = widget.metric_widget(alarm_of("sns_cloudwatch_alarm_metric_math.json"), "ALARM")
    assert sent["metrics"][0] == [{"expression": "100*(m1/m2)", "id": "e1", "label": "Error rate (%)"}]
    assert sent["metrics"][1] == [
        "AWS/Lambda",
        "Errors",
        "FunctionName",
        "orders-api",
        {"id": "m1", "visible": False, "stat": "Sum", "period": 60},
    ]
    assert sent["annotations"]["horizontal"] == [{"label": "Threshold > 5", "value": 5.0}]


def test_an_anomaly_band_is_drawn_instead_of_a_threshold() -> None:
    alarm = AlarmDefinition(
        arn="arn:aws:cloudwatch:eu-west-1:123456789012:alarm:latency-anomaly",
        name="latency-anomaly",
        account="123456789012",
        region="eu-west-1",
        changed_at=AT,
        queries=(
            MetricQuery(id="m1", namespace="AWS/ApiGateway", name="Latency", stat="p99", period=300),
            MetricQuery(id="ad1", expression="ANOMALY_DETECTION_BAND(m1, 2)", label="Expected"),
        ),
        threshold=None,
    )
    sent = widget.metric_widget(alarm, "ALARM")
    assert sent["metrics"][1] == [{"expression": "ANOMALY_DETECTION_BAND(m1, 2)", "id": "ad1", "label": "Expected"}]
    assert "horizontal" not in sent["annotations"]
    assert sent["metrics"][0][-1] == {"id": "m1", "stat": "p99", "period": 300}
    # 60 five-minute periods: five hours before the transition
    assert sent["start"] == "2026-11-18T04:14:27Z"


def test_the_evaluation_window_ends_at_the_transition() -> None:
    sns = alarm_of("sns_cloudwatch_alarm.json")  # 3 periods of 60 s, counted from the transition's minute
    assert widget.evaluation_window(sns) == (datetime(2026, 11, 18, 9, 11, tzinfo=UTC), AT)
    eventbridge = alarm_of("eventbridge_cloudwatch_alarm.json")  # reasonData's startDate
    assert widget.evaluation_window(eventbridge) == (datetime(2026, 11, 18, 9, 11, tzinfo=UTC), AT)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("api-5xx-high", "api-5xx-high-20261118T091427Z.png"),
        ("prod / payments: p99 > 2s", "prod-payments-p99-2s-20261118T091427Z.png"),
        ("../..", "alarm-20261118T091427Z.png"),
    ],
    ids=["plain", "unsafe-characters", "nothing-safe"],
)
def test_the_file_name_is_safe(name: str, expected: str) -> None:
    assert widget.file_name(replace(alarm_of("sns_cloudwatch_alarm.json"), name=name)) == expected


# ---- redaction --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("login failed password=hunter2 user=bob", f"login failed password={REDACTED} user=bob"),
        ('{"apiKey": "abc123def", "n": 1}', f'{{"apiKey": "{REDACTED}", "n": 1}}'),  # pragma: allowlist secret
        ("Authorization: Bearer abcdefgh12345678", f"Authorization: {REDACTED}"),
        ("auth header Basic dXNlcjpwYXNzd29yZA==", f"auth header {REDACTED}"),
        ("jwt eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.sig_x", f"jwt {REDACTED}"),
        ("key AKIAIOSFODNN7EXAMPLE used", f"key {REDACTED} used"),  # pragma: allowlist secret
        ("secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end", f"secret {REDACTED} end"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", f"aws_secret_access_key = {REDACTED}"),
        ("db postgres://app:s3cr3t@db:5432/x", f"db postgres://app:{REDACTED}@db:5432/x"),  # pragma: allowlist secret
        ("client_secret: 'x1y2'", f"client_secret: '{REDACTED}'"),  # pragma: allowlist secret
        ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", f"token {REDACTED}"),  # pragma: allowlist secret
        ("-----BEGIN RSA PRIVATE KEY-----MIIE...-----END RSA PRIVATE KEY-----", REDACTED),  # pragma: allowlist secret
        ("ERROR timeout after 30s calling payments (req 3f786850e387550fdab8)", None),
        ("commit 3f786850e387550fdab836ed7e6dc881de23001b deployed", None),
    ],
    ids=[
        "password",
        "json-api-key",
        "bearer",
        "basic",
        "jwt",
        "access-key-id",
        "secret-access-key",
        "named-secret-access-key",
        "url-password",
        "client-secret",
        "github-token",
        "private-key",
        "ordinary-line",
        "hex-hash-kept",
    ],
)
def test_secret_looking_strings_are_redacted(line: str, expected: str | None) -> None:
    assert redact(line) == (line if expected is None else expected)


def test_a_log_line_is_redacted_before_it_is_capped_and_kept_on_one_line() -> None:
    secret_at_the_cut = "x" * (LINE_MAX - 10) + " password=" + "p" * 50
    shown = log_line(secret_at_the_cut)
    assert "ppp" not in shown and len(shown) == LINE_MAX and shown.endswith("…")
    assert log_line("two\nlines\t here") == "two lines here"


# ---- the description's sections -------------------------------------------------------------------------


def evidence(lines: int, width: int, text: str = "x") -> LogEvidence:
    return LogEvidence(
        log_group="/aws/lambda/orders-api",
        filter_pattern='"ERROR"',
        region="eu-west-1",
        start=datetime(2026, 11, 18, 9, 11, tzinfo=UTC),
        end=AT,
        lines=tuple(blocks.evidence_line(1795000000000 + n, log_line(text * width)) for n in range(lines)),
        more=True,
    )


def description_of(insight: Insight, sample: str = "sns_cloudwatch_alarm.json") -> dict[str, Any]:
    [alert] = alerts_in(load_event(sample))
    document = render.description(replace(alert, insight=insight))
    validate_adf(document)
    return document


def texts(node: Any) -> str:
    if isinstance(node, dict):
        return node.get("text", "") + "".join(texts(child) for child in node.get("content", []))
    return ""


def test_the_description_names_the_graph_and_shows_the_evidence_with_a_console_link() -> None:
    document = description_of(Insight(graph_file="api-5xx-high-20261118T091427Z.png", evidence=evidence(3, 40)))
    headings = [texts(b) for b in document["content"] if b["type"] == "heading"]
    assert headings[:4] == ["What happened", "Why", "Graph", "Log evidence"]
    assert "api-5xx-high-20261118T091427Z.png" in texts(document)
    [code] = [b for b in document["content"] if b["type"] == "codeBlock" and "xxxx" in texts(b)]
    assert texts(code).count("\n") == 3  # three events and the note that more matched
    links = [
        mark["attrs"]["href"]
        for block in document["content"]
        for node in block.get("content", [])
        for mark in node.get("marks", [])
        if mark["type"] == "link"
    ]
    assert (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#logsV2:log-groups/log-group/$252Faws$252Flambda$252Forders-api" in links
    )


@pytest.mark.parametrize("text", ["x", "é", "😀"], ids=["ascii", "accented", "astral"])
def test_the_largest_evidence_stays_valid_adf_within_jiras_limit(text: str) -> None:
    # 20 lines of the longest size kept, in characters JSON escapes widest, on the largest alarm event
    document = description_of(Insight(graph_file="g.png", evidence=evidence(20, LINE_MAX, text)))
    size = len(json.dumps(document))
    assert size <= render.ADF_BUDGET < JIRA_TEXT_FIELD_LIMIT
    assert "Log evidence" in texts(document)


def test_a_composite_lists_its_children_and_those_not_found() -> None:
    children = tuple(
        ChildAlarm(f"child-{n}", "ALARM" if n % 2 else "OK", AT, "Threshold Crossed: " + "r" * 400) for n in range(100)
    )
    document = description_of(
        Insight(children=children, missing_children=("gone-alarm",)), "sns_cloudwatch_composite_alarm.json"
    )
    [table] = [b for b in document["content"] if b["type"] == "table" and "child-0" in texts(b)]
    header = texts(table["content"][0])
    assert header == "AlarmStateSinceReason"
    assert texts(table["content"][1]).startswith("child-0OK2026-11-18 09:14:27 UTC")
    assert "Not found by DescribeAlarms: gone-alarm." in texts(document)
    assert len(json.dumps(document)) <= render.ADF_BUDGET


def test_providers_keep_the_graph_and_evidence_settings() -> None:
    provider = ProviderConfig("ops", "jira", "OPS", "Task", "s", graph=False, log_evidence=False)
    item = provider.to_item()
    assert (item["graph"], item["logEvidence"]) == (False, False)
    assert ProviderConfig.from_item(item) == provider
    default = ProviderConfig("ops", "jira", "OPS", "Task", "s")
    assert "graph" not in default.to_item() and ProviderConfig.from_item(default.to_item()).graph
