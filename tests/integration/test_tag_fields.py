"""Resource tags fill provider-mapped Jira fields, coerced to each field's type: through the SNS handler as Lambda
calls it, with moto's CloudWatch alarm tags (Resource Groups Tagging API) and the stand-in Jira's create screen."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import botocore.client
import pytest
from jira_standin.model import CREATE_SCREEN

from functions.sns_to_jira.handler import lambda_handler
from tests.conftest import DEFAULT_PROVIDER
from tests.support.builders import ALARM_ARN, alarm_event
from tests.support.jira_spec import validate_jira_request

OWNER = "5b10ac8d82e05b22cc7d4ef5"  # a user the stand-in knows  # pragma: allowlist secret
TAG_FIELDS = {
    "team": "components",
    "owner": "customfield_10031",
    "cost-centre": "customfield_10040",
    "env": "customfield_10050",
    "due": "customfield_10090",
    "runs-in": "environment",
}


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    calls: list[tuple[str, str, dict[str, Any]]] = []
    original = botocore.client.BaseClient._make_api_call

    def counted(client: Any, operation: str, params: Any) -> Any:
        calls.append((client.meta.service_model.service_name, operation, params))
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted)
    yield calls


@pytest.fixture
def tagged_alarm(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The builders' alarm (eu-west-1, api-5xx-high) exists in moto; the stack reads tags; the provider maps them."""
    monkeypatch.setenv("READ_RESOURCE_TAGS", "true")
    aws.put_provider(**{**DEFAULT_PROVIDER, "tag_fields": TAG_FIELDS, "components": ("platform",)})
    cloudwatch = aws.session.client("cloudwatch", region_name="eu-west-1")
    cloudwatch.put_metric_alarm(
        AlarmName="api-5xx-high",
        MetricName="5XXError",
        Namespace="AWS/ApiGateway",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    assert cloudwatch.describe_alarms(AlarmNames=["api-5xx-high"])["MetricAlarms"][0]["AlarmArn"] == ALARM_ARN

    def tag(**tags: str) -> None:
        cloudwatch.tag_resource(ResourceARN=ALARM_ARN, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])

    return tag


# The stand-in's create screen, as its createmeta lists it: every create is checked against each field's type.
SCREEN = {field_id: {"schema": schema} for field_id, _, _, _, schema in CREATE_SCREEN}


def creates(jira: Any) -> list[dict[str, Any]]:
    """The fields of every create request Jira received, each checked against the create screen's types."""
    sent = [c.request for c in jira.mock.calls if c.request.method == "POST" and c.request.url.endswith("/issue")]
    for request in sent:
        validate_jira_request(request.method, request.url, request.body, request.headers, screen=SCREEN)
    return [dict(json.loads(request.body)["fields"]) for request in sent]


def created_fields(jira: Any) -> dict[str, Any]:
    [create] = creates(jira)
    return create


def test_tags_fill_the_mapped_fields_coerced_to_their_types(
    tagged_alarm: Any, jira: Any, lambda_context: Any, aws_calls: list
) -> None:
    # Given an alarm tagged with its team, owner, cost centre, environment, due date and where it runs
    tagged_alarm(
        team="Payments",
        owner=OWNER,
        **{"cost-centre": "4711", "env": "PROD", "due": "2026-12-01", "runs-in": "prod eu-west-1"},
    )

    # When it fires
    assert lambda_handler(alarm_event("ALARM", 0), lambda_context) == {"created": 1}

    # Then the one create carries each tag in its field, in the field's type, beside the provider's own component
    fields = created_fields(jira)
    assert fields["components"] == [{"name": "platform"}, {"name": "payments"}]
    assert fields["customfield_10031"] == {"accountId": OWNER}
    assert fields["customfield_10040"] == 4711
    assert fields["customfield_10050"] == {"value": "prod"}
    assert fields["customfield_10090"] == "2026-12-01"
    # the system Environment field is rich text: ADF, as the description
    assert fields["environment"] == {
        "version": 1,
        "type": "doc",
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "prod eu-west-1"}]}],
    }
    assert "Not set from tags" not in json.dumps(fields["description"])
    # with one tag read, in the alarm's region, by its ARN, and the create screen read once
    reads = [
        params for service, op, params in aws_calls if (service, op) == ("resourcegroupstaggingapi", "GetResources")
    ]
    assert reads == [{"ResourceARNList": [ALARM_ARN]}]
    assert ("GET", "/rest/api/3/issue/createmeta/OPS/issuetypes/10001") in jira.requests


def test_a_value_jira_would_refuse_is_left_out_with_a_warning_and_the_issue_is_created(
    tagged_alarm: Any, jira: Any, lambda_context: Any, aws: Any
) -> None:
    # Given tags Jira would refuse: an unknown component and option, text for a number and for a date
    tagged_alarm(team="billing", owner=OWNER, **{"cost-centre": "CC-7", "env": "qa", "due": "next week"})

    # When the alarm fires, the issue is created with what fits
    assert lambda_handler(alarm_event("ALARM", 0), lambda_context) == {"created": 1}
    fields = created_fields(jira)
    assert fields["components"] == [{"name": "platform"}]
    assert fields["customfield_10031"] == {"accountId": OWNER}
    assert not {"customfield_10040", "customfield_10050", "customfield_10090"} & set(fields)

    # and the description says what was left out, and why
    text = json.dumps(fields["description"])
    assert "Tag team='billing' was not set in components: no component 'billing' in Jira." in text
    assert "Tag cost-centre='CC-7' was not set in customfield_10040: not a number." in text
    assert "Tag env='qa' was not set in customfield_10050: no option 'qa' in Jira." in text
    assert "Tag due='next week' was not set in customfield_10090: not a date (YYYY-MM-DD)." in text
    assert aws.dead_letters() == []


def test_untagged_resources_cost_no_createmeta_call(tagged_alarm: Any, jira: Any, lambda_context: Any) -> None:
    assert lambda_handler(alarm_event("ALARM", 0), lambda_context) == {"created": 1}

    assert "customfield_10031" not in created_fields(jira)
    assert ("GET", "/rest/api/3/issue/createmeta/OPS/issuetypes/10001") not in jira.requests


def test_without_tags_read_no_tagging_call_is_made(
    tagged_alarm: Any, jira: Any, lambda_context: Any, aws_calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READ_RESOURCE_TAGS", "false")
    tagged_alarm(team="payments")
    aws_calls.clear()

    assert lambda_handler(alarm_event("ALARM", 0), lambda_context) == {"created": 1}

    assert {service for service, _, _ in aws_calls} == {"dynamodb", "secretsmanager"}
    assert created_fields(jira)["components"] == [{"name": "platform"}]


STRANGER = (
    "70121:0000aaaa-1111-2222-3333-444455556666"  # an account id Jira has no user for  # pragma: allowlist secret
)


def test_a_value_jira_itself_refuses_is_left_out_on_a_second_try(
    tagged_alarm: Any, jira: Any, lambda_context: Any, aws: Any
) -> None:
    # Given an owner tag that looks like an account id but is no user of the site
    tagged_alarm(team="payments", owner=STRANGER)

    # When the alarm fires: Jira refuses the first create for that field alone, the second goes without it
    assert lambda_handler(alarm_event("ALARM", 0), lambda_context) == {"created": 1}
    assert [("customfield_10031" in fields) for fields in creates(jira)] == [True, False]
    [issue] = jira.issues.values()
    assert issue.fields["components"] == [{"name": "platform"}, {"name": "payments"}]
    assert "Jira refused the tags' value for customfield_10031." in json.dumps(issue.fields["description"])
    assert aws.dead_letters() == []


def test_in_a_bulk_create_the_refused_element_alone_is_created_again(
    tagged_alarm: Any, jira: Any, lambda_context: Any, aws: Any
) -> None:
    from functions.sqs_to_jira.handler import lambda_handler as sqs_handler
    from tests.integration.test_sqs_batch import alarm, batch
    from tests.support.builders import alarm_message

    tagged_alarm(owner=STRANGER)

    # A batch of the tagged alarm and two others: one bulk request, then one create for the refused element
    response = sqs_handler(batch(alarm_message("ALARM", 0), alarm(1), alarm(2)), lambda_context)

    assert response == {"batchItemFailures": []}
    assert len(jira.issues) == 3 and aws.dead_letters() == []
    assert [r for r in jira.requests if r[0] == "POST"] == [
        ("POST", "/rest/api/3/issue/bulk"),
        ("POST", "/rest/api/3/issue"),
    ]
