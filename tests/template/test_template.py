"""template.yaml lints, and deploys the wiring, settings and least-privilege grants the product relies on.

Most checks read the template after the SAM transform (samtranslator, offline), which is what CloudFormation
deploys: generated event rules, subscriptions, invoke configs and event source mappings included.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import cfn_yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from tests.support.built_stack import FUNCTIONS
from tests.support.cfn import Stack
from tests.support.sam_cli import find_sam, offline_environment

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"

FUNCTION_DIRS = {
    "SnsToJiraFunction": "functions/sns_to_jira/",
    "EventBridgeToJiraFunction": "functions/eventbridge_to_jira/",
    "AlarmActionToJiraFunction": "functions/alarm_action_to_jira/",
    "SqsToJiraFunction": "functions/sqs_to_jira/",
}
ASYNC_FUNCTIONS = ["SnsToJiraFunction", "EventBridgeToJiraFunction", "AlarmActionToJiraFunction"]
ALARM_PRINCIPAL = "lambda.alarms.cloudwatch.amazonaws.com"
XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# Actions without resource-level permissions: AWS requires "*" for them.
NO_RESOURCE_LEVEL = XRAY_ACTIONS | {"cloudwatch:GetMetricWidgetImage"}
ALARM_INSIGHTS_GRANTS = {
    ("cloudwatch:GetMetricWidgetImage", "*"),
    ("cloudwatch:DescribeAlarms", "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"),
    *{
        (action, "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*")
        for action in ("logs:DescribeMetricFilters", "logs:FilterLogEvents")
    },
}
# pragma: allowlist nextline secret
SECRETS_ARN = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${SecretNamePrefix}*"
METRIC_NAMES = [
    "IssuesCreated",
    "IssuesCommented",
    "IssuesResolved",
    "IssuesReopened",
    "AlertsDeduplicated",
    "AlertsParked",
    "AlertsIgnored",
    "JiraLatency",
    "JiraRateLimited",
    "JiraAuthFailures",
    "JiraTokenDaysLeft",
    "JiraAnswered",
    "JiraRefused",
    "ReconcileCompleted",
    "ReconcileLinksChecked",
    "ReconcileResolved",
    "HumanDecisionsRecorded",
    "SyncBacksSent",
    "SyncBackFailed",
]


# ---------------------------------------------------------------- loading


def plain(node: Any) -> Any:
    """cfn-lint's YAML nodes as plain dicts, lists and strings."""
    return json.loads(json.dumps(node))


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return plain(cfn_yaml.load(str(TEMPLATE_PATH)))


def sam_translated(source: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation that SAM makes of the template with default parameters, without reaching AWS.

    The Fn::ForEach loops are left out: with the default (empty) topic lists they only yield resources their
    condition excludes. Local code paths become S3 URIs, as `sam package` would make them.
    """
    fragment = json.loads(json.dumps(source))
    fragment["Transform"] = "AWS::Serverless-2016-10-31"
    fragment["Resources"] = {k: v for k, v in fragment["Resources"].items() if not k.startswith("Fn::ForEach::")}
    for resource in fragment["Resources"].values():
        for code_property in ("CodeUri", "ContentUri"):
            if code_property in resource.get("Properties", {}):
                resource["Properties"][code_property] = "s3://artifacts/code.zip"
    translator = Translator({}, Parser(), boto_session=boto3.session.Session(region_name="us-east-1"))
    return translator.translate(fragment, parameter_values={})


@pytest.fixture(scope="module")
def translated(template: dict[str, Any]) -> dict[str, Any]:
    return sam_translated(template)


@pytest.fixture(scope="module")
def resources(translated: dict[str, Any]) -> dict[str, Any]:
    return translated["Resources"]


@pytest.fixture(scope="module")
def stack(translated: dict[str, Any]) -> Stack:
    """The translated template with its default parameters."""
    return Stack(translated)


def of_type(resources: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == resource_type}


def target(value: Any) -> str:
    """The logical ID a Ref or GetAtt points at, the text of a Sub, or the literal itself."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
        if "Fn::Sub" in value:
            return value["Fn::Sub"]
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------- linters


def test_cfn_lint_reports_nothing() -> None:
    matches = lint_file(TEMPLATE_PATH, config=ManualArgs(regions=["us-east-1"]))

    assert [str(match) for match in matches] == []


@pytest.mark.slow
def test_sam_validate_lint_passes() -> None:
    # Given SAM CLI, dummy credentials and no way out: a version check or telemetry call fails on a closed port
    sam = find_sam()
    assert sam is not None, "SAM CLI (aws-sam-cli, a dev dependency) is not installed: run make test"

    # When
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sam, "validate", "--lint", "--language-extensions", "--template-file", str(TEMPLATE_PATH)],
        cwd=ROOT,
        env=offline_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # Then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


# What `make scan` lets checkov skip, reviewed: each skip in the template says why (see its comment there).
LOG_GROUPS = {function_id.removesuffix("Function") + "LogGroup" for function_id in FUNCTION_DIRS}
CHECKOV_SKIPS = {
    # dead-letter queue: on-failure destinations, a redrive policy, or the webhook sender's retries instead; the
    # scheduled run has nothing to park
    "CKV_AWS_116": {*FUNCTION_DIRS, "ReconcileFunction", "JiraWebhookFunction"},
    "CKV_AWS_117": {*FUNCTION_DIRS, "ReconcileFunction", "JiraWebhookFunction"},  # VPC: nothing private to reach
    "CKV_AWS_119": {"ProvidersTable", "StateTable"},  # customer managed key: the AWS managed one encrypts them
    "CKV_AWS_27": {"DeadLetterQueue", "BufferQueue", "BufferDeadLetterQueue"},  # SSE-SQS, which checkov misses
    "CKV_AWS_158": {*LOG_GROUPS, "ReconcileLogGroup", "JiraWebhookLogGroup"},  # CloudWatch Logs encrypts them
    "CKV_AWS_173": {"JiraWebhookFunction"},  # its environment names a secret, holds none
    "CKV_AWS_149": {"JiraWebhookSecret"},  # customer managed key: the AWS managed one encrypts it
    "CKV_AWS_258": {"JiraWebhookFunctionUrl"},  # AuthType NONE: Jira cannot sign for IAM, the function checks HMAC
}


def checkov_skips(template: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Check ID -> {resource ID: the reason given for skipping it there}."""
    skips: dict[str, dict[str, str]] = {}
    for resource_id, resource in template["Resources"].items():
        metadata = resource.get("Metadata", {}) if isinstance(resource, dict) else {}
        for skip in metadata.get("checkov", {}).get("skip", []):
            skips.setdefault(skip["id"], {})[resource_id] = skip.get("comment", "")
    return skips


@pytest.mark.parametrize("check_id", CHECKOV_SKIPS, ids=list(CHECKOV_SKIPS))
def test_checkov_skips_only_where_reviewed_and_says_why(template: dict[str, Any], check_id: str) -> None:
    skipped = checkov_skips(template)[check_id]

    assert set(skipped) == CHECKOV_SKIPS[check_id]
    assert all(len(reason.split()) >= 12 for reason in skipped.values()), skipped


def test_checkov_skips_no_other_check(template: dict[str, Any]) -> None:
    assert set(checkov_skips(template)) == set(CHECKOV_SKIPS)


# ---------------------------------------------------------------- functions


@pytest.mark.parametrize("function_id", FUNCTION_DIRS, ids=list(FUNCTION_DIRS))
def test_function_runs_python_313_on_arm64_with_the_layer(resources: dict[str, Any], function_id: str) -> None:
    function = resources[function_id]["Properties"]

    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "handler.lambda_handler"
    assert function["TracingConfig"] == {"Mode": {"Ref": "Tracing"}}
    assert function["MemorySize"] == 512  # chosen from the benchmark's memory and CPU figures
    assert function["Timeout"] == 60
    [layer] = function["Layers"]
    assert resources[target(layer)]["Type"] == "AWS::Lambda::LayerVersion"


@pytest.mark.parametrize("function_id", FUNCTION_DIRS, ids=list(FUNCTION_DIRS))
def test_function_code_comes_from_its_folder(template: dict[str, Any], function_id: str) -> None:
    assert template["Resources"][function_id]["Properties"]["CodeUri"] == FUNCTION_DIRS[function_id]


def test_layer_is_built_by_its_makefile_for_python_313_on_arm64(template: dict[str, Any]) -> None:
    layer = template["Resources"]["JiraNotifierLayer"]

    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    # layers/jira_notifier/Makefile: runtime modules only, locked dependencies without the SDK, bytecode
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert (ROOT / "layers" / "jira_notifier" / "Makefile").read_text(encoding="utf-8").count(
        "build-JiraNotifierLayer:"
    ) == 1
    assert layer["Properties"]["ContentUri"] == "layers/jira_notifier/"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


@pytest.mark.parametrize("function_id", FUNCTION_DIRS, ids=list(FUNCTION_DIRS))
def test_function_environment_names_its_resources_and_settings(resources: dict[str, Any], function_id: str) -> None:
    variables = resources[function_id]["Properties"]["Environment"]["Variables"]

    assert variables == {
        "PROVIDERS_TABLE": {"Ref": "ProvidersTable"},
        "STATE_TABLE": {"Ref": "StateTable"},
        "DEFAULT_NOTIFICATION_GROUP": {"Ref": "DefaultNotificationGroup"},
        "JIRA_ALLOWED_HOSTS": {"Ref": "JiraAllowedHosts"},
        "DEAD_LETTER_QUEUE_URL": {"Ref": "DeadLetterQueue"},
        "CONFIG_CACHE_SECONDS": {"Ref": "ConfigCacheSeconds"},
        "READ_ACCOUNT_NAMES": {"Fn::If": ["ReadsAccountNames", "true", "false"]},
        "SYNC_BACK": {
            "Fn::Join": [
                ",",
                [
                    {"Fn::If": ["SyncsBackSecurityHub", "securityhub", ""]},
                    {"Fn::If": ["SyncsBackCostAnomaly", "cost-anomaly", ""]},
                    {"Fn::If": ["ArchivesGuardDutyFindings", "guardduty-archive", ""]},
                ],
            ]
        },
        "ALARM_INSIGHTS": {"Fn::If": ["ReadsAlarmInsights", "true", "false"]},
        "STACK_ACCOUNT_ID": {"Ref": "AWS::AccountId"},
        "READ_RESOURCE_TAGS": {"Fn::If": ["ReadsResourceTags", "true", "false"]},
        "POWERTOOLS_SERVICE_NAME": "jira-notifier",
        "POWERTOOLS_METRICS_NAMESPACE": "JiraNotifier",
        "POWERTOOLS_LOG_LEVEL": {"Ref": "LogLevel"},
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        "POWERTOOLS_TRACE_DISABLED": {"Fn::If": ["IsTracing", "false", "true"]},
    }


def test_tracing_is_off_by_default_and_the_functions_know_when_it_is_on(template: dict[str, Any]) -> None:
    # Off by default: the X-Ray SDK costs every cold start, and the metrics already time each Jira call
    assert template["Parameters"]["Tracing"]["Default"] == "PassThrough"
    assert template["Conditions"]["IsTracing"] == {"Fn::Equals": [{"Ref": "Tracing"}, "Active"]}


@pytest.mark.parametrize("function_id", FUNCTION_DIRS, ids=list(FUNCTION_DIRS))
def test_reserved_concurrency_is_a_parameter_where_zero_means_unreserved(
    template: dict[str, Any], resources: dict[str, Any], function_id: str
) -> None:
    reserved = resources[function_id]["Properties"]["ReservedConcurrentExecutions"]

    assert reserved == {"Fn::If": ["HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    assert template["Conditions"]["HasReservedConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ReservedConcurrency"}, 0]}]
    }


@pytest.mark.parametrize("function_id", ASYNC_FUNCTIONS, ids=ASYNC_FUNCTIONS)
def test_async_function_retries_twice_then_fails_over_to_the_dead_letter_queue(
    resources: dict[str, Any], function_id: str
) -> None:
    [config] = [
        r["Properties"]
        for r in of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
        if target(r["Properties"]["FunctionName"]) == function_id
    ]

    assert config["MaximumRetryAttempts"] == 2
    assert target(config["DestinationConfig"]["OnFailure"]["Destination"]) == "DeadLetterQueue"


def test_queue_driven_function_has_no_async_invoke_config(resources: dict[str, Any]) -> None:
    configured = {
        target(r["Properties"]["FunctionName"]) for r in of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
    }

    assert configured == {*ASYNC_FUNCTIONS, "ReconcileFunction"}  # the scheduled run: no retry, the next run is one


# ---------------------------------------------------------------- triggers


def triggers_of(resources: dict[str, Any], function_id: str) -> set[tuple[str, str]]:
    """What invokes the function, as (kind, source) pairs."""
    found: set[tuple[str, str]] = set()
    for resource in resources.values():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::SNS::Subscription" and target(props["Endpoint"]) == function_id:
            found.add(("sns", target(props["TopicArn"])))
        elif kind == "AWS::Events::Rule" and any(target(t["Arn"]) == function_id for t in props["Targets"]):
            found.add(("eventbridge", json.dumps(props["EventPattern"], sort_keys=True)))
        elif kind == "AWS::Lambda::EventSourceMapping" and target(props["FunctionName"]) == function_id:
            found.add(("sqs", target(props["EventSourceArn"])))
        elif kind == "AWS::Lambda::Permission" and (props["Principal"], target(props["FunctionName"])) == (
            ALARM_PRINCIPAL,
            function_id,
        ):
            found.add(("alarm-action", target(props["SourceAccount"])))
    return found


def pattern(**fields: list[str]) -> str:
    return json.dumps({k.replace("_", "-"): v for k, v in fields.items()}, sort_keys=True)


TRIGGERS = {
    "SnsToJiraFunction": {("sns", "AlertsTopic")},
    "EventBridgeToJiraFunction": {
        ("eventbridge", pattern(source=["aws.cloudwatch"], detail_type=["CloudWatch Alarm State Change"])),
        (
            "eventbridge",
            json.dumps(
                {
                    "source": ["aws.cloudwatch"],
                    "detail-type": ["CloudWatch Alarm Contributor State Change"],
                    "detail": {"state": {"value": ["ALARM", "OK"]}},
                },
                sort_keys=True,
            ),
        ),
        ("eventbridge", pattern(source=["aws.ce"], detail_type=["Anomaly Detected"])),
        ("eventbridge", pattern(detail_type=["Notification"])),
        ("eventbridge", pattern(source=["aws.health"])),
        (
            "eventbridge",
            json.dumps(
                {
                    "source": ["aws.securityhub"],
                    "detail-type": ["Security Hub Findings - Imported"],
                    "detail": {
                        "findings": {
                            "Severity": {"Label": ["MEDIUM", "HIGH", "CRITICAL"]},
                            "Workflow": {"Status": ["NEW"]},
                            "RecordState": ["ACTIVE"],
                            "$or": [
                                {"Compliance": {"Status": [{"anything-but": "PASSED"}]}},
                                {"Compliance": {"Status": [{"exists": False}]}},
                            ],
                        }
                    },
                },
                sort_keys=True,
            ),
        ),
        (
            "eventbridge",
            json.dumps(
                {
                    "source": ["aws.securityhub"],
                    "detail-type": ["Findings Imported V2"],
                    "detail": {
                        "findings": {
                            "$or": [
                                {"severity_id": [{"numeric": [">=", 3]}]},
                                {"activity_id": [3]},
                                {"status_id": [3, 4, 5]},
                                {"compliance": {"status": ["Pass"]}},
                                {"compliance": {"status_id": [1]}},
                            ]
                        }
                    },
                },
                sort_keys=True,
            ),
        ),
        (
            "eventbridge",
            json.dumps(
                {
                    "source": ["aws.guardduty"],
                    "detail-type": ["GuardDuty Finding"],
                    "detail": {"severity": [{"numeric": [">=", 4]}]},
                },
                sort_keys=True,
            ),
        ),
    },
    "AlarmActionToJiraFunction": {("alarm-action", "AWS::AccountId")},
    "SqsToJiraFunction": {("sqs", "BufferQueue")},
}


@pytest.mark.parametrize("function_id", TRIGGERS, ids=list(TRIGGERS))
def test_function_is_invoked_by_exactly_its_sources(stack: Stack, function_id: str) -> None:
    deployed = {name: r for name, r in stack.resolve(stack.template["Resources"]).items() if stack.deployed(r)}

    assert triggers_of(deployed, function_id) == TRIGGERS[function_id]


def test_alarm_action_permission_admits_only_alarms_of_this_account_and_region(resources: dict[str, Any]) -> None:
    permission = resources["AlarmActionInvokePermission"]["Properties"]

    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert permission["SourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"
    }


def test_buffer_queue_event_source_reports_partial_failures_and_is_tunable(resources: dict[str, Any]) -> None:
    [mapping] = [r["Properties"] for r in of_type(resources, "AWS::Lambda::EventSourceMapping").values()]

    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == {"Ref": "BufferBatchSize"}
    assert mapping["MaximumBatchingWindowInSeconds"] == {"Ref": "BufferBatchWindowSeconds"}
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "BufferMaxConcurrency"}}


LOOPS = [
    (
        "Fn::ForEach::ExistingTopics",
        "ExistingTopicArns",
        "HasExistingTopics",
        {
            "AWS::SNS::Subscription": {"Protocol": "lambda", "Endpoint": "SnsToJiraFunction"},
            "AWS::Lambda::Permission": {"Principal": "sns.amazonaws.com", "FunctionName": "SnsToJiraFunction"},
        },
    ),
    (
        "Fn::ForEach::BufferedTopics",
        "BufferedTopicArns",
        "HasBufferedTopics",
        {"AWS::SNS::Subscription": {"Protocol": "sqs", "Endpoint": "BufferQueue", "RawMessageDelivery": False}},
    ),
]


@pytest.mark.parametrize(("loop", "parameter", "condition", "expected"), LOOPS, ids=["existing", "buffered"])
def test_each_listed_topic_is_subscribed_and_an_empty_list_subscribes_none(
    template: dict[str, Any], loop: str, parameter: str, condition: str, expected: dict[str, dict[str, Any]]
) -> None:
    identifier, collection, fragment = template["Resources"][loop]

    # Each listed ARN gets the resources, pointed at that ARN
    assert collection == {"Ref": parameter}
    made = {body["Type"]: body for body in fragment.values()}
    assert set(made) == set(expected)
    for resource_type, properties in expected.items():
        actual = {k: target(made[resource_type]["Properties"][k]) for k in properties}
        assert actual == properties
    topic_property = {"AWS::SNS::Subscription": "TopicArn", "AWS::Lambda::Permission": "SourceArn"}
    assert all(body["Properties"][topic_property[body["Type"]]] == {"Ref": identifier} for body in fragment.values())
    # An empty list arrives as [""]: the condition drops the one empty-named copy
    assert all(body["Condition"] == condition for body in fragment.values())
    assert template["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": parameter}]}, ""]}]
    }
    assert (template["Parameters"][parameter]["Type"], template["Parameters"][parameter]["Default"]) == (
        "CommaDelimitedList",
        "",
    )


def test_buffer_queue_accepts_messages_only_from_the_buffered_topics(resources: dict[str, Any]) -> None:
    policy = resources["BufferQueuePolicy"]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]

    assert policy["Condition"] == "HasBufferedTopics"
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert target(statement["Resource"]) == "BufferQueue"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "BufferedTopicArns"}}}


def test_alerts_topic_is_encrypted_with_a_key_alarm_sources_may_use(resources: dict[str, Any]) -> None:
    topic = resources["AlertsTopic"]["Properties"]
    key_statements = resources["AlertsTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    [topic_statement] = resources["AlertsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    sources = {"cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com", "costalerts.amazonaws.com"}

    assert topic["KmsMasterKeyId"] == {"Ref": "AlertsTopicKey"}
    assert any(
        set(as_list(s["Principal"].get("Service", []))) == sources
        and set(s["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
        for s in key_statements
    )
    assert set(topic_statement["Principal"]["Service"]) == sources
    assert topic_statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


# ---------------------------------------------------------------- data and queues


@pytest.mark.parametrize(
    ("table", "key_schema"),
    [
        ("ProvidersTable", [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]),
        ("StateTable", [{"AttributeName": "pk", "KeyType": "HASH"}]),
    ],
    ids=["providers", "state"],
)
def test_table_is_on_demand_recoverable_encrypted_and_retained(
    resources: dict[str, Any], table: str, key_schema: list[dict[str, str]]
) -> None:
    resource = resources[table]
    props = resource["Properties"]

    assert resource["Type"] == "AWS::DynamoDB::Table"
    assert props["KeySchema"] == key_schema
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == {
        k["AttributeName"]: "S" for k in key_schema
    }
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_state_table_expires_items_by_their_ttl_attribute(resources: dict[str, Any]) -> None:
    assert resources["StateTable"]["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}


@pytest.mark.parametrize("queue", ["DeadLetterQueue", "BufferQueue", "BufferDeadLetterQueue"])
def test_queue_is_encrypted(resources: dict[str, Any], queue: str) -> None:
    assert resources[queue]["Properties"]["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize("queue", ["DeadLetterQueue", "BufferDeadLetterQueue"])
def test_dead_letter_queue_keeps_messages_14_days(resources: dict[str, Any], queue: str) -> None:
    assert resources[queue]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_buffer_queue_hides_messages_long_enough_and_redrives_after_5_receives(resources: dict[str, Any]) -> None:
    queue = resources["BufferQueue"]["Properties"]
    timeout = resources["SqsToJiraFunction"]["Properties"]["Timeout"]

    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert target(queue["RedrivePolicy"]["deadLetterTargetArn"]) == "BufferDeadLetterQueue"
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5


# ---------------------------------------------------------------- least privilege


def role_statements(stack: Stack, function_id: str) -> list[dict[str, Any]]:
    """Every statement of the function's role, for the stack's parameters: inline policies and the managed
    policies the stack defines."""
    resources = stack.resolve(stack.template["Resources"])
    role = resources[target(resources[function_id]["Properties"]["Role"])]
    assert role["Type"] == "AWS::IAM::Role"
    role_id = target(resources[function_id]["Properties"]["Role"])
    documents = [policy["PolicyDocument"] for policy in role["Properties"].get("Policies", [])]
    for arn in role["Properties"].get("ManagedPolicyArns", []):
        managed = resources.get(target(arn), {})
        assert managed.get("Type") == "AWS::IAM::ManagedPolicy", f"{function_id} has a policy outside the stack: {arn}"
        documents.append(managed["Properties"]["PolicyDocument"])
    for policy in of_type(resources, "AWS::IAM::ManagedPolicy").values():  # attached from the policy's side
        if stack.deployed(policy) and role_id in map(target, policy["Properties"].get("Roles", [])):
            documents.append(policy["Properties"]["PolicyDocument"])
    return [statement for document in documents for statement in document["Statement"]]


def grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {
        (action, target(resource))
        for statement in statements
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }


def expected_grants(function_id: str, *, insights: bool = True) -> set[tuple[str, str]]:
    """What a function may do; ``insights``: with AlarmInsights Enabled (the default)."""
    log_group = function_id.removesuffix("Function") + "LogGroup"
    allowed = ALARM_INSIGHTS_GRANTS if insights else set()
    allowed = allowed | {
        ("dynamodb:GetItem", "ProvidersTable"),
        ("dynamodb:Query", "ProvidersTable"),
        *{(f"dynamodb:{verb}", "StateTable") for verb in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query")},
        ("secretsmanager:GetSecretValue", SECRETS_ARN),
        ("sqs:SendMessage", "DeadLetterQueue"),
        ("logs:CreateLogStream", log_group),
        ("logs:PutLogEvents", log_group),
        *{(action, "*") for action in XRAY_ACTIONS},
    }
    if function_id == "SqsToJiraFunction":
        allowed |= {
            (f"sqs:{verb}", "BufferQueue") for verb in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
        }
    return allowed


@pytest.mark.parametrize("function_id", FUNCTION_DIRS, ids=list(FUNCTION_DIRS))
def test_function_role_grants_exactly_what_the_function_needs(stack: Stack, function_id: str) -> None:
    statements = role_statements(stack, function_id)

    assert all(s["Effect"] == "Allow" and "Condition" not in s and "NotAction" not in s for s in statements)
    assert grants(statements) == expected_grants(function_id)


@pytest.mark.parametrize("function_id", FUNCTION_DIRS, ids=list(FUNCTION_DIRS))
def test_function_role_has_no_wildcard_except_where_aws_requires_it(stack: Stack, function_id: str) -> None:
    for action, resource in grants(role_statements(stack, function_id)):
        assert "*" not in action, action
        if resource == "*":
            assert action in NO_RESOURCE_LEVEL, action


@pytest.mark.parametrize("function_id", FUNCTION_DIRS, ids=list(FUNCTION_DIRS))
def test_without_alarm_insights_no_metric_or_log_is_read(translated: dict[str, Any], function_id: str) -> None:
    stack = Stack(translated, {"AlarmInsights": "Disabled"})
    environment = stack.resolve(stack.template["Resources"][function_id])["Properties"]["Environment"]

    assert grants(role_statements(stack, function_id)) == expected_grants(function_id, insights=False)
    assert environment["Variables"]["ALARM_INSIGHTS"] == "false"
    assert stack.template["Parameters"]["AlarmInsights"]["Default"] == "Enabled"


def test_secrets_are_readable_only_under_the_prefix(template: dict[str, Any], stack: Stack) -> None:
    secret_resources = {
        resource
        for function_id in FUNCTION_DIRS
        for action, resource in grants(role_statements(stack, function_id))
        if action.startswith("secretsmanager:")
    }

    assert secret_resources == {SECRETS_ARN}
    assert SECRETS_ARN.endswith(":secret:${SecretNamePrefix}*")
    assert template["Parameters"]["SecretNamePrefix"]["Default"] == "jira-notifier/"


@pytest.mark.parametrize(
    ("prefix", "allowed"),
    [("jira-notifier/", True), ("team_a/jira+prod", True), ("", False), ("*", False), ("jira-notifier/*", False)],
    ids=["default", "other-name", "empty", "star", "trailing-star"],
)
def test_secret_prefix_cannot_widen_to_every_secret(template: dict[str, Any], prefix: str, allowed: bool) -> None:
    pattern = template["Parameters"]["SecretNamePrefix"]["AllowedPattern"]

    assert (re.fullmatch(pattern, prefix) is not None) is allowed


# ---------------------------------------------------------------- operations


ALARMS = {
    "DeadLetterQueueAlarm": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0),
    "BufferDeadLetterQueueAlarm": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0),
    "JiraAuthFailuresAlarm": ("JiraNotifier", "JiraAuthFailures", "GreaterThanOrEqualToThreshold", 1),
    "JiraTokenExpiryAlarm": ("JiraNotifier", "JiraTokenDaysLeft", "LessThanThreshold", 14),
}


@pytest.mark.parametrize("alarm_id", ALARMS, ids=list(ALARMS))
def test_alarm_watches_its_metric(resources: dict[str, Any], alarm_id: str) -> None:
    alarm = resources[alarm_id]["Properties"]
    watched = (alarm["Namespace"], alarm["MetricName"], alarm["ComparisonOperator"], alarm["Threshold"])

    assert watched == ALARMS[alarm_id]
    assert alarm["TreatMissingData"] == "notBreaching"
    if alarm["Namespace"] == "JiraNotifier":
        assert alarm["Dimensions"] == [{"Name": "service", "Value": "jira-notifier"}]


def test_token_expiry_alarm_looks_at_the_soonest_expiry(resources: dict[str, Any]) -> None:
    assert resources["JiraTokenExpiryAlarm"]["Properties"]["Statistic"] == "Minimum"


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_function_metric_alarm_covers_every_function(resources: dict[str, Any], metric: str) -> None:
    alarm = resources[f"Function{metric}Alarm"]["Properties"]
    watched = {
        target(query["MetricStat"]["Metric"]["Dimensions"][0]["Value"])
        for query in alarm["Metrics"]
        if "MetricStat" in query and query["MetricStat"]["Metric"]["MetricName"] == metric
    }

    assert watched == set(FUNCTION_DIRS)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


def test_alarms_notify_the_operator_topic_only_when_one_is_given(resources: dict[str, Any]) -> None:
    conditional = {"Fn::If": ["HasOperatorTopic", [{"Ref": "OperatorTopicArn"}], {"Ref": "AWS::NoValue"}]}

    for alarm_id, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == conditional, alarm_id
        assert alarm["Properties"]["OKActions"] == conditional, alarm_id
    assert len(of_type(resources, "AWS::CloudWatch::Alarm")) == 8


def test_dashboard_shows_the_product_metrics_dlq_depth_and_errors(resources: dict[str, Any]) -> None:
    body_template = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    body = json.loads(re.sub(r"\$\{([^}]+)\}", r"\1", body_template))
    metrics = [m for widget in body["widgets"] for m in widget["properties"]["metrics"]]

    product = {m[1] for m in metrics if m[0] == "JiraNotifier" and m[2:4] == ["service", "jira-notifier"]}
    assert product == set(METRIC_NAMES)
    assert {m[3] for m in metrics if m[1] == "ApproximateNumberOfMessagesVisible"} == {
        "DeadLetterQueue.QueueName",
        "BufferDeadLetterQueue.QueueName",
    }
    assert {m[3] for m in metrics if m[0] == "AWS/Lambda" and m[1] == "Errors"} == set(FUNCTION_DIRS)


# ---------------------------------------------------------------- interface


@pytest.mark.parametrize(
    ("parameter", "default"),
    [
        ("DefaultNotificationGroup", ""),
        ("JiraAllowedHosts", "*.atlassian.net,api.atlassian.com"),
        ("ConfigCacheSeconds", 300),
        ("LogLevel", "INFO"),
        ("SecretNamePrefix", "jira-notifier/"),
        ("ReservedConcurrency", 10),
        ("BufferBatchSize", 50),
        ("BufferBatchWindowSeconds", 5),
        ("BufferMaxConcurrency", 2),
        ("OperatorTopicArn", ""),
        ("SecurityHubFindings", "Enabled"),
        ("SecurityHubMinimumSeverity", "MEDIUM"),
        ("SecurityHubV2Findings", "Enabled"),
        ("SecurityHubV2MinimumSeverity", "MEDIUM"),
        ("GuardDutyFindings", "Enabled"),
        ("GuardDutyMinimumSeverity", "MEDIUM"),
        ("OrganizationId", ""),
        ("ReadAccountNames", "false"),
        ("SyncBackSecurityHub", "false"),
        ("SyncBackCostAnomaly", "false"),
        ("ArchiveGuardDutyFindings", "false"),
        ("ReconcileIntervalMinutes", "15"),
        ("JiraRefusedMinutes", "30"),
        ("JiraWebhook", "Disabled"),
        ("ReadResourceTags", "false"),
    ],
    ids=lambda value: str(value),
)
def test_parameter_default(template: dict[str, Any], parameter: str, default: object) -> None:
    assert template["Parameters"][parameter]["Default"] == default


def test_buffer_concurrency_cannot_go_below_the_sqs_minimum(template: dict[str, Any]) -> None:
    assert template["Parameters"]["BufferMaxConcurrency"]["MinValue"] == 2


def test_outputs_name_every_table_queue_topic_and_function(template: dict[str, Any]) -> None:
    function_outputs = {f"{fn}{kind}" for fn in FUNCTIONS for kind in ("Name", "Arn")}  # all six

    assert set(template["Outputs"]) == {
        "ProvidersTableName",
        "StateTableName",
        "AlertsTopicArn",
        "DeadLetterQueueUrl",
        "DeadLetterQueueArn",
        "BufferQueueUrl",
        "BufferQueueArn",
        "JiraWebhookUrl",
        "JiraWebhookSecretArn",
        *function_outputs,
    }


@pytest.mark.parametrize("parameters", [{}, {"JiraWebhook": "Enabled"}], ids=["default", "webhook"])
def test_every_deployed_function_is_named_in_the_outputs_and_no_output_names_a_missing_one(
    translated: dict[str, Any], parameters: dict[str, str]
) -> None:
    stack = Stack(translated, parameters)
    functions = {
        name
        for name, resource in of_type(translated["Resources"], "AWS::Lambda::Function").items()
        if stack.deployed(resource)
    }
    outputs = {name: output for name, output in translated["Outputs"].items() if stack.deployed(output)}

    named = {target(output["Value"]) for name, output in outputs.items() if name.endswith("FunctionName")}
    with_arn = {target(output["Value"]) for name, output in outputs.items() if name.endswith("FunctionArn")}
    assert named == with_arn == functions
    assert len(functions) == (6 if parameters else 5)
    assert ("JiraWebhookUrl" in outputs) is bool(parameters)


def test_the_outputs_the_cli_reads_are_there(template: dict[str, Any]) -> None:
    from jira_notifier.cli.aws import _STACK_OUTPUTS  # --stack NAME: the tables and the dead-letter queue

    assert set(_STACK_OUTPUTS) <= set(template["Outputs"])
    # jira-notifier webhook setup --stack NAME
    assert {"JiraWebhookUrl", "JiraWebhookSecretArn"} <= set(template["Outputs"])


def test_local_env_file_sets_only_variables_the_functions_declare(resources: dict[str, Any]) -> None:
    env_file = json.loads((ROOT / "events" / "env.json").read_text(encoding="utf-8"))
    declared = set(resources["SnsToJiraFunction"]["Properties"]["Environment"]["Variables"])

    assert set(env_file) == {"Parameters", *FUNCTION_DIRS}
    assert set(env_file["Parameters"]) == declared
    assert all(set(values) <= declared for values in env_file.values())
    assert all(isinstance(value, str) for values in env_file.values() for value in values.values())


# ---------------------------------------------------------------- organization


ORGANIZATION = {"OrganizationId": "o-a1b2c3d4e5"}


def bus_policies(stack: Stack) -> list[dict[str, Any]]:
    resources = stack.resolve(stack.template["Resources"])
    return [r["Properties"] for r in of_type(resources, "AWS::Events::EventBusPolicy").values() if stack.deployed(r)]


def test_without_an_organization_no_account_may_put_events(translated: dict[str, Any], stack: Stack) -> None:
    assert bus_policies(stack) == []
    assert of_type(translated["Resources"], "AWS::Events::EventBus") == {}  # no bus of its own with a policy


def test_an_organization_may_put_events_on_the_bus_of_the_rules_and_nothing_wider(
    translated: dict[str, Any],
) -> None:
    [policy] = bus_policies(Stack(translated, ORGANIZATION))
    rule_buses = {
        r["Properties"].get("EventBusName", "default")
        for r in of_type(translated["Resources"], "AWS::Events::Rule").values()
    }

    # The rules are on the default bus, and the policy is on that bus
    assert rule_buses == {"default"}
    assert policy["EventBusName"] == "default"
    statement = policy["Statement"]
    assert statement["Effect"] == "Allow" and statement["Principal"] == "*"
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"
    }
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("", True), ("o-a1b2c3d4e5", True), ("*", False), ("o-*", False), ("123456789012", False)],
    ids=["empty", "org-id", "star", "org-star", "account"],
)
def test_organization_id_cannot_widen_the_bus_policy(template: dict[str, Any], value: str, allowed: bool) -> None:
    pattern = template["Parameters"]["OrganizationId"]["AllowedPattern"]

    assert (re.fullmatch(pattern, value) is not None) is allowed


ACCOUNT_NAMES_GRANT = (
    "organizations:DescribeAccount",
    "arn:${AWS::Partition}:organizations::*:account/${OrganizationId}/*",
)


@pytest.mark.parametrize(
    ("parameters", "granted", "variable"),
    [
        ({}, False, "false"),
        (ORGANIZATION, False, "false"),
        ({"ReadAccountNames": "true"}, False, "false"),  # needs an organization to name its accounts
        ({**ORGANIZATION, "ReadAccountNames": "true"}, True, "true"),
    ],
    ids=["default", "organization", "names-without-organization", "organization-and-names"],
)
@pytest.mark.parametrize("function_id", FUNCTION_DIRS, ids=list(FUNCTION_DIRS))
def test_account_names_are_read_only_when_asked_for_and_only_in_the_organization(
    translated: dict[str, Any], function_id: str, parameters: dict[str, str], granted: bool, variable: str
) -> None:
    stack = Stack(translated, parameters)
    statements = role_statements(stack, function_id)
    environment = stack.resolve(stack.template["Resources"][function_id])["Properties"]["Environment"]

    assert grants(statements) == expected_grants(function_id) | ({ACCOUNT_NAMES_GRANT} if granted else set())
    assert all("Condition" not in s for s in statements)
    assert environment["Variables"]["READ_ACCOUNT_NAMES"] == variable


@pytest.mark.parametrize(("value", "granted"), [("false", False), ("true", True)], ids=["default", "tags"])
@pytest.mark.parametrize("function_id", FUNCTION_DIRS, ids=list(FUNCTION_DIRS))
def test_resource_tags_are_read_only_when_asked_for(
    translated: dict[str, Any], function_id: str, value: str, granted: bool
) -> None:
    stack = Stack(translated, {"ReadResourceTags": value})
    statements = role_statements(stack, function_id)
    environment = stack.resolve(stack.template["Resources"][function_id])["Properties"]["Environment"]

    # tag:GetResources takes no resource-level permission: "*", and only with the parameter set
    assert grants(statements) == expected_grants(function_id) | ({("tag:GetResources", "*")} if granted else set())
    assert environment["Variables"]["READ_RESOURCE_TAGS"] == value


# ---------------------------------------------------------------- the scheduled reconcile run


def test_the_run_is_scheduled_at_the_interval_parameter_default_15_minutes(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    parameter = template["Parameters"]["ReconcileIntervalMinutes"]
    assert int(parameter["Default"]) == 15
    assert min(map(int, parameter["AllowedValues"])) >= 5  # "rate(1 minutes)" would be invalid

    [schedule] = of_type(resources, "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == {"Fn::Sub": "rate(${ReconcileIntervalMinutes} minutes)"}
    assert props["Target"]["Arn"] == {"Fn::GetAtt": ["ReconcileFunction", "Arn"]}
    assert props["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0  # a failed run is the next run's work
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}


def test_the_function_runs_one_at_a_time_within_the_interval(template: dict[str, Any]) -> None:
    function = template["Resources"]["ReconcileFunction"]["Properties"]

    assert function["CodeUri"] == "functions/reconcile/"
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["Timeout"] < min(map(int, template["Parameters"]["ReconcileIntervalMinutes"]["AllowedValues"])) * 60
    assert function["EventInvokeConfig"]["MaximumRetryAttempts"] == 0


def test_the_role_grants_exactly_what_reconcile_uses(stack: Stack) -> None:
    statements = role_statements(stack, "ReconcileFunction")

    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)
    assert grants(statements) == {
        ("dynamodb:Query", "ProvidersTable"),
        ("dynamodb:Scan", "ProvidersTable"),  # the read-back reads every provider
        *{(f"dynamodb:{verb}", "StateTable") for verb in ("Scan", "UpdateItem", "GetItem", "BatchGetItem", "PutItem")},
        ("secretsmanager:GetSecretValue", SECRETS_ARN),
        ("logs:CreateLogStream", "ReconcileLogGroup"),
        ("logs:PutLogEvents", "ReconcileLogGroup"),
        *{
            (f"cloudwatch:{action}", "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*")
            for action in ("DescribeAlarms", "DescribeAlarmContributors")
        },
        # GetFindings authorizes GetFindingsV2 too (Security Hub's OCSF findings)
        ("securityhub:GetFindings", "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:hub/default"),
        ("guardduty:GetFindings", "arn:${AWS::Partition}:guardduty:${AWS::Region}:${AWS::AccountId}:detector/*"),
        ("guardduty:ListDetectors", "*"),
        ("health:DescribeEvents", "*"),
        *{(action, "*") for action in XRAY_ACTIONS},
    }


def test_only_the_schedule_invokes_it(resources: dict[str, Any]) -> None:
    [schedule_role] = [
        role
        for role in of_type(resources, "AWS::IAM::Role").values()
        if role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": ["scheduler.amazonaws.com"]}
    ]
    [policy] = schedule_role["Properties"]["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert target(statement["Resource"]) == "ReconcileFunction"


# ---------------------------------------------------------------- Jira webhook (opt-in)

WEBHOOK = {"JiraWebhook": "Enabled"}
WEBHOOK_RESOURCES = {
    "JiraWebhookFunction",
    "JiraWebhookFunctionUrl",
    "JiraWebhookFunctionUrlPublicPermissions",
    "JiraWebhookFunctionURLInvokeAllowPublicAccess",
    "JiraWebhookSecret",
    "JiraWebhookRole",
    "JiraWebhookLogGroup",
}


@pytest.mark.parametrize(("parameters", "deployed"), [({}, False), (WEBHOOK, True)], ids=["default", "enabled"])
def test_the_webhook_receiver_is_deployed_only_when_asked_for(
    translated: dict[str, Any], parameters: dict[str, str], deployed: bool
) -> None:
    stack = Stack(translated, parameters)
    resources = translated["Resources"]
    webhook = {name for name, resource in resources.items() if name.startswith("JiraWebhook")}

    assert webhook >= WEBHOOK_RESOURCES
    assert all(stack.deployed(resources[name]) is deployed for name in webhook)
    assert all(
        stack.deployed(output) is deployed for name, output in translated["Outputs"].items() if "Webhook" in name
    )


def test_the_webhook_url_is_public_and_its_function_checks_each_signature_with_its_own_secret(
    translated: dict[str, Any],
) -> None:
    resources = Stack(translated, WEBHOOK).resolve(translated["Resources"])
    url = resources["JiraWebhookFunctionUrl"]["Properties"]
    function = resources["JiraWebhookFunction"]["Properties"]
    invoke = [
        r["Properties"]
        for r in of_type(resources, "AWS::Lambda::Permission").values()
        if target(r["Properties"]["FunctionName"]) == "JiraWebhookFunction"
    ]

    assert url["AuthType"] == "NONE" and target(url["TargetFunctionArn"]) == "JiraWebhookFunction"
    # Anyone may call the URL, and only the URL: the public InvokeFunction holds only for calls through it.
    assert {
        (p["Action"], p["Principal"], p.get("FunctionUrlAuthType"), p.get("InvokedViaFunctionUrl")) for p in invoke
    } == {
        ("lambda:InvokeFunctionUrl", "*", "NONE", None),
        ("lambda:InvokeFunction", "*", None, True),
    }
    assert function["Environment"]["Variables"]["WEBHOOK_SECRET_NAME"] == {"Ref": "JiraWebhookSecret"}
    assert function["ReservedConcurrentExecutions"] == 5  # a public URL never takes the alert path's concurrency
    assert resources["JiraWebhookSecret"]["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32


def test_the_webhook_role_grants_exactly_what_the_receiver_needs(translated: dict[str, Any]) -> None:
    statements = role_statements(Stack(translated, WEBHOOK), "JiraWebhookFunction")

    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)
    assert grants(statements) == {
        ("logs:CreateLogStream", "JiraWebhookLogGroup"),
        ("logs:PutLogEvents", "JiraWebhookLogGroup"),
        ("dynamodb:Scan", "ProvidersTable"),
        *{
            (f"dynamodb:{verb}", "StateTable")
            for verb in ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem")
        },
        ("secretsmanager:GetSecretValue", "JiraWebhookSecret"),
        ("secretsmanager:GetSecretValue", SECRETS_ARN),
        *{(action, "*") for action in XRAY_ACTIONS},
    }
