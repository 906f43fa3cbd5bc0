"""New alarm issues with their graph, log evidence and child alarms, through the handlers as Lambda calls them.

GetMetricWidgetImage through botocore's Stubber (moto lacks it; the stub checks the parameters against the
service model); DescribeMetricFilters, FilterLogEvents and DescribeAlarms against moto; Jira is the stand-in, every
request validated against the OpenAPI spec (the attachment's multipart body included).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from functions.sns_to_jira.handler import lambda_handler as sns_handler
from functions.sqs_to_jira.handler import lambda_handler as sqs_handler
from tests.conftest import DEFAULT_PROVIDER
from tests.integration.test_sqs_batch import batch
from tests.support.builders import alarm_message, sns_event
from tests.support.png import png

ACCOUNT = "123456789012"
REGION = "eu-west-1"
CREATE = ("POST", "/rest/api/3/issue")
BULK = ("POST", "/rest/api/3/issue/bulk")
STATE_CHANGE = "2026-11-02T09:00:00.000+0000"
PNG = png()


class Sent:
    """Equal to anything: keeps what the stub was given, to assert on afterwards."""

    value: Any = None

    def __eq__(self, other: object) -> bool:
        self.value = other
        return True

    def __hash__(self) -> int:
        return 0


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stack with the insights on, in the account and region of the alarms below."""
    monkeypatch.setenv("ALARM_INSIGHTS", "true")
    monkeypatch.setenv("STACK_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the metrics the functions counted."""
    from jira_notifier.adapters.observability import MetricsRecorder

    names: list[str] = []
    original = MetricsRecorder.count

    def count(self: Any, name: str, value: float = 1) -> None:
        names.append(name)
        original(self, name, value)

    monkeypatch.setattr(MetricsRecorder, "count", count)
    return names


@pytest.fixture
def cloudwatch(stack: None, aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The functions' CloudWatch client, stubbed; every other client is moto's."""
    client = aws.session.client("cloudwatch", region_name=REGION)
    original = boto3.session.Session.client

    def make(self: Any, service: str, *args: Any, **kwargs: Any) -> Any:
        return client if service == "cloudwatch" else original(self, service, *args, **kwargs)

    monkeypatch.setattr(boto3.session.Session, "client", make)
    with Stubber(client) as stub:
        yield stub


def alarm(name: str = "api-5xx-high", state: str = "ALARM", minutes: float = 0, **trigger: Any) -> dict[str, Any]:
    message = alarm_message(state, minutes, name=name, arn=f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}")
    message["Trigger"].update(trigger)
    return message


def expect_render(stub: Stubber) -> Sent:
    sent = Sent()
    stub.add_response(
        "get_metric_widget_image", {"MetricWidgetImage": PNG}, {"MetricWidget": sent, "OutputFormat": "png"}
    )
    return sent


def description(issue: Any) -> str:
    return json.dumps(issue.fields["description"])


def test_a_new_metric_alarm_issue_carries_its_graph(
    cloudwatch: Stubber, jira: Any, lambda_context: Any, counted: list
) -> None:
    # Given a stack with the insights on
    sent = expect_render(cloudwatch)

    # When a metric alarm fires
    assert sns_handler(sns_event(alarm()), lambda_context) == {"created": 1}

    # Then Jira received two requests: the create, naming the file, and the attachment
    assert jira.writes() == [CREATE, ("POST", "/rest/api/3/issue/OPS-1/attachments")]
    [issue] = jira.issues.values()
    assert "api-5xx-high-20261102T090000Z.png" in description(issue)
    [stored] = issue.attachments
    assert (stored.filename, stored.mime_type, stored.content) == (
        "api-5xx-high-20261102T090000Z.png",
        "image/png",
        PNG,
    )
    [headers] = jira.headers_of("POST", "/rest/api/3/issue/OPS-1/attachments")
    assert headers["X-Atlassian-Token"] == "no-check" and headers["Content-Type"].startswith("multipart/form-data")
    # And the widget drew the alarm's metric around the transition, with its threshold
    widget = json.loads(sent.value)
    assert widget["metrics"] == [["AWS/ApiGateway", "5XXError", "ApiName", "public-api", {"stat": "Sum", "period": 60}]]
    assert widget["annotations"]["horizontal"] == [{"label": "Threshold > 10", "value": 10.0}]
    assert widget["annotations"]["vertical"][0]["value"] == "2026-11-02T09:00:00Z"
    assert (widget["start"], widget["end"]) == ("2026-11-02T06:00:00Z", "2026-11-02T09:18:00Z")
    cloudwatch.assert_no_pending_responses()
    assert "GraphsAttached" in counted and "GraphMissed" not in counted


def test_a_repeat_comment_and_resolve_make_no_extra_request(
    cloudwatch: Stubber, jira: Any, lambda_context: Any
) -> None:
    expect_render(cloudwatch)
    sns_handler(sns_event(alarm()), lambda_context)
    writes = len(jira.writes())

    # The same transition delivered again, a new firing reason (a comment), then the clear (a resolve)
    sns_handler(sns_event(alarm()), lambda_context)
    sns_handler(sns_event(alarm(minutes=1) | {"NewStateReason": "still above"}), lambda_context)
    sns_handler(sns_event(alarm(state="OK", minutes=90)), lambda_context)

    # Then nothing was rendered again (the stub holds no response for it) and no attachment was sent
    attachments = [w for w in jira.writes() if w[1].endswith("/attachments")]
    assert len(attachments) == 1 and len(jira.writes()) > writes
    cloudwatch.assert_no_pending_responses()


def test_a_render_failure_still_creates_the_issue_and_counts_the_miss(
    cloudwatch: Stubber, jira: Any, lambda_context: Any, counted: list
) -> None:
    cloudwatch.add_client_error("get_metric_widget_image", "InternalServiceError", http_status_code=500)

    assert sns_handler(sns_event(alarm()), lambda_context) == {"created": 1}

    assert jira.writes() == [CREATE]
    [issue] = jira.issues.values()
    assert ".png" not in description(issue) and issue.attachments == []
    assert counted.count("GraphMissed") == 1


def test_an_attachment_jira_refuses_keeps_the_issue_and_counts_the_miss(
    cloudwatch: Stubber, jira: Any, lambda_context: Any, counted: list, aws: Any
) -> None:
    # Given a site whose attachment limit is smaller than the graph
    jira.attachment_limit = len(PNG) - 1
    expect_render(cloudwatch)

    assert sns_handler(sns_event(alarm()), lambda_context) == {"created": 1}

    # Then Jira answered 413, the issue stays (named in state) and nothing is parked
    assert jira.writes() == [CREATE, ("POST", "/rest/api/3/issue/OPS-1/attachments")]
    assert [c.response.status_code for c in jira.mock.calls][-1] == 413
    assert jira.by_key("OPS-1").attachments == []
    assert counted.count("GraphMissed") == 1 and aws.dead_letters() == []


def test_an_alarm_of_another_account_gets_no_graph_and_no_call(
    cloudwatch: Stubber, jira: Any, lambda_context: Any, counted: list
) -> None:
    other = alarm_message("ALARM", 0, arn="arn:aws:cloudwatch:eu-west-1:444455556666:alarm:api-5xx-high")

    assert sns_handler(sns_event(other), lambda_context) == {"created": 1}

    assert jira.writes() == [CREATE]
    assert counted.count("GraphMissed") == 1
    cloudwatch.assert_no_pending_responses()


def test_a_provider_without_graphs_gets_none(cloudwatch: Stubber, aws: Any, jira: Any, lambda_context: Any) -> None:
    aws.put_provider(**{**DEFAULT_PROVIDER, "graph": False})

    assert sns_handler(sns_event(alarm()), lambda_context) == {"created": 1}

    assert jira.writes() == [CREATE]
    assert ".png" not in description(jira.by_key("OPS-1"))


def test_too_little_time_left_skips_the_render_not_the_create(
    cloudwatch: Stubber, jira: Any, lambda_context: Any, counted: list
) -> None:
    lambda_context.remaining_ms = 18_000  # enough to start the alert, not to render first

    assert sns_handler(sns_event(alarm()), lambda_context) == {"created": 1}

    assert jira.writes() == [CREATE]
    assert counted.count("GraphMissed") == 1


def test_the_buffered_path_attaches_each_new_issues_graph(cloudwatch: Stubber, jira: Any, lambda_context: Any) -> None:
    for _ in range(3):
        expect_render(cloudwatch)

    response = sqs_handler(batch(*(alarm(f"storm-{n}") for n in range(3))), lambda_context)

    assert response == {"batchItemFailures": []}
    assert jira.writes() == [BULK] + [("POST", f"/rest/api/3/issue/OPS-{n}/attachments") for n in (1, 2, 3)]
    for issue in jira.issues.values():
        [stored] = issue.attachments
        assert stored.filename in description(issue)
    cloudwatch.assert_no_pending_responses()


# ---- log evidence --------------------------------------------------------------------------------------


@pytest.fixture
def log_metric(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A log group with a metric filter publishing OrdersApp/ErrorCount, and events inside and outside the window."""
    # moto takes only events of its last 14 days, by its own clock: that clock reads the scenario's time
    monkeypatch.setattr("moto.logs.models.utcnow", lambda: datetime(2026, 11, 2, 9, 5))
    logs = aws.session.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/aws/lambda/orders-api")
    logs.create_log_stream(logGroupName="/aws/lambda/orders-api", logStreamName="2026/11/02/[$LATEST]abc")
    logs.put_metric_filter(
        logGroupName="/aws/lambda/orders-api",
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=[{"metricName": "ErrorCount", "metricNamespace": "OrdersApp", "metricValue": "1"}],
    )
    window_start = int(datetime(2026, 11, 2, 8, 59, tzinfo=UTC).timestamp() * 1000)
    logs.put_log_events(
        logGroupName="/aws/lambda/orders-api",
        logStreamName="2026/11/02/[$LATEST]abc",
        logEvents=[
            {"timestamp": window_start - 600_000, "message": "ERROR too early to be evidence"},
            {"timestamp": window_start + 1_000, "message": "ERROR payment declined password=hunter2"},
            {"timestamp": window_start + 2_000, "message": "INFO all good"},
            {"timestamp": window_start + 3_000, "message": "ERROR Authorization: Bearer abcdef1234567890"},
        ],
    )
    return logs


def log_alarm() -> dict[str, Any]:
    return alarm("orders-errors", MetricName="ErrorCount", Namespace="OrdersApp", Dimensions=[], Threshold=1.0)


def test_a_log_based_alarm_shows_the_matching_events_redacted(
    cloudwatch: Stubber, log_metric: Any, jira: Any, lambda_context: Any
) -> None:
    expect_render(cloudwatch)

    assert sns_handler(sns_event(log_alarm()), lambda_context) == {"created": 1}

    shown = description(jira.by_key("OPS-1"))
    assert "Log evidence" in shown and "/aws/lambda/orders-api" in shown
    assert "ERROR payment declined password=[REDACTED]" in shown
    assert "Authorization: [REDACTED]" in shown
    assert "hunter2" not in shown and "abcdef1234567890" not in shown  # pragma: allowlist secret
    assert "too early" not in shown and "all good" not in shown
    assert "logsV2:log-groups/log-group/$252Faws$252Flambda$252Forders-api" in shown
    # The evidence costs no Jira request: create and attachment only
    assert jira.writes() == [CREATE, ("POST", "/rest/api/3/issue/OPS-1/attachments")]


def test_an_alarm_on_a_metric_no_filter_publishes_shows_no_evidence(
    cloudwatch: Stubber, log_metric: Any, jira: Any, lambda_context: Any, counted: list
) -> None:
    expect_render(cloudwatch)

    sns_handler(sns_event(alarm()), lambda_context)

    assert "Log evidence" not in description(jira.by_key("OPS-1"))
    assert "EvidenceMissed" not in counted


# ---- composite alarms ----------------------------------------------------------------------------------


def test_a_composite_alarm_lists_its_children_now(stack: None, aws: Any, jira: Any, lambda_context: Any) -> None:
    # Given two child alarms in moto, one in ALARM
    cloudwatch = aws.session.client("cloudwatch", region_name=REGION)
    for name in ("api-5xx-high", "api-latency-p99-high"):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="5XXError",
            Namespace="AWS/ApiGateway",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=10,
            ComparisonOperator="GreaterThanThreshold",
        )
    cloudwatch.set_alarm_state(AlarmName="api-latency-p99-high", StateValue="ALARM", StateReason="p99 above 2 s")
    composite = {
        "AlarmName": "checkout-degraded",
        "AWSAccountId": ACCOUNT,
        "NewStateValue": "ALARM",
        "OldStateValue": "OK",
        "NewStateReason": "api-latency-p99-high transitioned to ALARM",
        "StateChangeTime": STATE_CHANGE,
        "Region": "EU (Ireland)",
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:checkout-degraded",
        "AlarmRule": "ALARM(api-5xx-high) AND ALARM(api-latency-p99-high) AND ALARM(retired-alarm)",
    }

    assert sns_handler(sns_event(composite), lambda_context) == {"created": 1}

    # Then the issue lists each child's state now, and the one DescribeAlarms no longer knows; no attachment
    shown = description(jira.by_key("OPS-1"))
    assert "Child alarms now" in shown
    assert "api-latency-p99-high" in shown and "p99 above 2 s" in shown
    assert "Not found by DescribeAlarms: retired-alarm." in shown
    assert jira.writes() == [CREATE]
