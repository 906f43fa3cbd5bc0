"""Inputs AWS added in 2025-26, read and ruled on without I/O: contributors of alarms over many time series, alarm
tags, Security Hub (OCSF) findings; and what the notifier asks and tells their sources (botocore's models and
Stubber check every request)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from botocore.validate import validate_parameters

from jira_notifier.adapters.aws.sync_requests import request_for
from jira_notifier.app.reconcile import batches
from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.findingnotes import Decision, IssueRef, is_own_update, note_decision
from jira_notifier.core.routing import choose_group
from jira_notifier.sources.cloudwatch import MANY_SERIES_IGNORED, contributor_key, read_contributor_key
from jira_notifier.sources.findings import (
    OWN_UPDATE,
    product_of,
    read_securityhub_v2_key,
    securityhub_v2_key,
)
from jira_notifier.sources.truth import (
    ContributorTruth,
    HealthTruth,
    SecurityHubV2Truth,
    SourceRef,
    Truth,
    source_ref,
)
from tests.support.builders import alerts_in

EVENTS = Path(__file__).resolve().parents[2] / "events"
ACCOUNT, REGION = "123456789012", "eu-west-1"
ALARM = "dynamodb-throttles-by-table"
ALARM_ARN = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{ALARM}"
ORDERS = "5f2c8e1a9b3d7046"  # the contributor TableName=orders  # pragma: allowlist secret
CARTS = "0a1b2c3d4e5f6789"  # the contributor TableName=carts  # pragma: allowlist secret
ORDERS_KEY = f"cloudwatch-contributor:{ALARM_ARN}:{ORDERS}"
STAMP, STAMP_MS = "2026-11-18T10:02:41.307+0000", 1794996161307
GUARDDUTY_V2 = f"arn:aws:securityhub:{REGION}::productv2/aws/guardduty"
ISSUE = IssueRef("OPS-7", "https://example.atlassian.net/browse/OPS-7")
PROVIDER = ProviderConfig(
    group="ops",
    name="jira",
    project="OPS",
    issue_type="Task",
    secret="jira-notifier/ops",
    wont_fix_resolution="Won't Do",
    sync_back=True,
)


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def only(alerts: list[Alert]) -> Alert:
    [alert] = alerts
    return alert


def sns_message(name: str = "sns_cloudwatch_contributor.json") -> dict[str, Any]:
    return json.loads(load(name)["Records"][0]["Sns"]["Message"])


def sns_event(message: dict[str, Any], message_id: str = "m-1") -> dict[str, Any]:
    event = copy.deepcopy(load("sns_cloudwatch_contributor.json"))
    event["Records"][0]["Sns"].update(Message=json.dumps(message), MessageId=message_id)
    return event


def contributor_event(contributor: str, attributes: dict[str, str], state: str = "ALARM", **detail: Any) -> Any:
    event = copy.deepcopy(load("eventbridge_cloudwatch_contributor.json"))
    event["detail"]["alarmContributor"] = {"id": contributor, "attributes": attributes}
    event["detail"]["state"]["value"] = state
    event["detail"].update(detail)
    return event


def alarm_level(reason: str, state: str = "ALARM", expression: str | None = None) -> Any:
    event = copy.deepcopy(load("eventbridge_cloudwatch_multi_series_alarm.json"))
    event["detail"]["state"].update(value=state, reason=reason)
    if expression is not None:
        event["detail"]["configuration"]["metrics"][0]["expression"] = expression
    return event


# ---- contributors ------------------------------------------------------------------------------------------------


def test_one_contributor_transition_has_one_key_and_time_on_every_channel() -> None:
    # Given the same contributor transition over EventBridge, SNS, the alarm action and SNS buffered in SQS
    sns = load("sns_cloudwatch_contributor.json")
    sqs = {
        "Records": [
            {
                "messageId": "q-1",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:jira-notifier-buffer",
                "body": json.dumps({"Type": "Notification", "TopicArn": "arn:t", **sns["Records"][0]["Sns"]}),
                "attributes": {"SentTimestamp": "1794996161600"},
                "messageAttributes": {},
            }
        ]
    }
    alerts = [
        only(alerts_in(load(name)))
        for name in ("eventbridge_cloudwatch_contributor.json", "alarm_action_cloudwatch_contributor.json")
    ]
    alerts += [only(alerts_in(sns)), only(alerts_in(sqs))]

    # Then the issue key and the transition time agree, so the lifecycle's duplicate-transition rule makes one issue
    assert {(a.dedupe_key, a.transition_at, a.state) for a in alerts} == {(ORDERS_KEY, STAMP_MS, AlertState.FIRING)}
    assert len({a.delivery_key for a in alerts}) == 3  # SNS and SNS-in-SQS share the SNS MessageId


def test_each_contributor_is_an_alert_of_its_own_and_an_id_names_a_series_only_within_its_alarm() -> None:
    orders = only(alerts_in(contributor_event(ORDERS, {"TableName": "orders"})))
    carts = only(alerts_in(contributor_event(CARTS, {"TableName": "carts"})))
    elsewhere = copy.deepcopy(load("eventbridge_cloudwatch_contributor.json"))
    elsewhere["resources"] = [ALARM_ARN + "-eu-central"]

    assert orders.dedupe_key != carts.dedupe_key
    assert only(alerts_in(elsewhere)).dedupe_key == contributor_key(ALARM_ARN + "-eu-central", ORDERS)
    assert (orders.title, carts.title) == (
        f"CloudWatch alarm {ALARM} (TableName=orders)",
        f"CloudWatch alarm {ALARM} (TableName=carts)",
    )
    assert "Contributor TableName=carts of alarm" in carts.what


def test_a_contributor_s_ok_resolves_and_two_contributors_at_the_same_instant_are_two_deliveries() -> None:
    ok = contributor_event(ORDERS, {"TableName": "orders"}, "OK")
    action = load("alarm_action_cloudwatch_contributor.json")
    other = copy.deepcopy(action)
    other["alarmData"]["alarmContributor"] = {"id": CARTS, "attributes": {"TableName": "carts"}}

    assert only(alerts_in(ok)).state is AlertState.RESOLVED
    assert only(alerts_in(action)).delivery_key != only(alerts_in(other)).delivery_key


def test_a_contributor_id_missing_from_a_message_is_stood_in_for_by_its_attributes() -> None:
    message = sns_message()
    message.pop("AlarmContributorId")

    first = only(alerts_in(sns_event(message)))
    again = only(alerts_in(sns_event(message, "m-2")))

    assert first.dedupe_key == again.dedupe_key != ORDERS_KEY
    assert first.dedupe_key.startswith(f"cloudwatch-contributor:{ALARM_ARN}:attributes-")


@pytest.mark.parametrize(
    ("reason", "state", "expression"),
    [
        ("1 out of 3 time series evaluated to ALARM", "ALARM", None),
        ("100+ time series evaluated to ALARM", "ALARM", None),
        ("3 time series evaluated to OK", "OK", None),
        ("No time series were returned by the query. Treat missing data is configured as [Breaching].", "ALARM", None),
    ],
    ids=["some", "more-than-100", "all-ok", "none-returned"],
)
def test_the_alarm_level_state_of_an_alarm_over_many_series_opens_nothing(
    reason: str, state: str, expression: str | None
) -> None:
    alert = only(alerts_in(alarm_level(reason, state, expression)))

    assert alert.ignore_reason == MANY_SERIES_IGNORED
    assert alert.dedupe_key == f"cloudwatch-alarm:{ALARM_ARN}"  # an OK still closes an issue opened before this
    assert alert.state is (AlertState.RESOLVED if state == "OK" else AlertState.FIRING)


def test_an_alarm_over_one_series_saying_its_query_returned_none_still_fires() -> None:
    single = 'SELECT AVG(CPUUtilization) FROM SCHEMA("AWS/EC2", InstanceId)'  # no GROUP BY: one series
    reason = "No time series were returned by the query. Treat missing data is configured as [Breaching]."

    alert = only(alerts_in(alarm_level(reason, "ALARM", single)))

    assert alert.ignore_reason is None and alert.state is AlertState.FIRING


def test_the_same_alarm_over_sns_without_contributor_fields_counts_its_series_too() -> None:
    message = sns_message()
    for key in ("AlarmContributorId", "AlarmContributorAttributes"):
        message.pop(key)
    message["NewStateReason"] = "2 out of 5 time series evaluated to ALARM"

    alert = only(alerts_in(sns_event(message)))

    assert (alert.dedupe_key, alert.ignore_reason) == (f"cloudwatch-alarm:{ALARM_ARN}", MANY_SERIES_IGNORED)


def test_contributor_keys_read_back_even_when_the_alarm_name_holds_a_colon() -> None:
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:team:orders"

    assert read_contributor_key(contributor_key(arn, ORDERS)) == (arn, ORDERS)
    assert read_contributor_key(f"cloudwatch-alarm:{arn}") is None
    assert read_contributor_key("cloudwatch-contributor:garbage") is None


# ---- alarm tags --------------------------------------------------------------------------------------------------


def tagged(tags: Any, status: Any = "SUCCESS") -> Alert:
    event = copy.deepcopy(load("eventbridge_cloudwatch_alarm_tagged.json"))
    event["detail"]["alarmTags"] = tags
    event["detail"]["alarmTagsStatus"] = status
    return only(alerts_in(event))


@pytest.mark.parametrize(
    ("tags", "status", "read"),
    [
        ({"team": "payments", "env": "prod"}, "SUCCESS", (("env", "prod"), ("team", "payments"))),
        ({"team": "payments", "aws:cloudformation:stack-name": "x"}, "SUCCESS", (("team", "payments"),)),
        ([{"Key": "team", "Value": "payments"}], "SUCCESS", (("team", "payments"),)),
        ({}, "SUCCESS", ()),
        (None, "SUCCESS", ()),
        ({"team": "payments"}, "FAILED", None),  # any status but SUCCESS: unavailable, never an error
        ({"team": "payments"}, None, (("team", "payments"),)),
        (None, None, None),
    ],
    ids=["object", "aws-keys-dropped", "key-value-list", "none-read", "null-read", "not-read", "no-status", "absent"],
)
def test_alarm_tags_are_read_when_the_event_says_they_were(tags: Any, status: Any, read: Any) -> None:
    alert = tagged(tags, status)

    assert alert.alarm_tags == read
    assert alert.dedupe_key == "cloudwatch-alarm:arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-latency-p99"


def test_alarm_tags_travel_on_sns_and_the_alarm_action_too() -> None:
    sns = only(alerts_in(load("sns_cloudwatch_contributor.json")))
    action = copy.deepcopy(load("alarm_action_cloudwatch_alarm.json"))
    action["alarmData"].update(alarmTags={"team": "payments"}, alarmTagsStatus="SUCCESS")
    top_level = copy.deepcopy(load("alarm_action_cloudwatch_alarm.json"))
    top_level.update(alarmTags={"team": "search"}, alarmTagsStatus="SUCCESS")

    assert sns.alarm_tags == (("env", "prod"), ("team", "storage"))
    assert only(alerts_in(action)).alarm_tags == (("team", "payments"),)
    assert only(alerts_in(top_level)).alarm_tags == (("team", "search"),)


class Routes:
    def __init__(self, plain: dict[str, str], by_tag: dict[tuple[str, str], str]) -> None:
        self.plain, self.by_tag, self.tag_reads = plain, by_tag, 0

    def route(self, route: str) -> str | None:
        return self.plain.get(route)

    def alarm_tag_routes(self) -> dict[tuple[str, str], str]:
        self.tag_reads += 1
        return self.by_tag


def test_an_alarm_tag_route_comes_after_the_alert_s_own_group_and_before_its_account_and_topic() -> None:
    alert = tagged({"team": "payments", "env": "prod"})
    routes = Routes(
        {f"account:{ACCOUNT}": "by-account", "aws.cloudwatch": "by-source"},
        {("team", "payments"): "payments", ("env", "prod"): "prod-oncall", ("team", "search"): "search"},
    )

    assert choose_group(alert, routes, "default") == "prod-oncall"  # keys in order: env before team
    assert choose_group(replace(alert, notification_group="own"), routes, "default") == "own"
    assert choose_group(tagged({"team": "other"}), routes, "default") == "by-account"
    assert choose_group(replace(alert, alarm_tags=None), routes, "default") == "by-account"


def test_alerts_without_alarm_tags_read_no_tag_route() -> None:
    routes = Routes({}, {("team", "payments"): "payments"})

    choose_group(tagged(None, None), routes, "default")

    assert routes.tag_reads == 0


# ---- Security Hub (OCSF) -----------------------------------------------------------------------------------------


def v2_event(**changes: Any) -> Any:
    event = copy.deepcopy(load("eventbridge_securityhub_v2_finding.json"))
    event["detail"]["findings"][0].update(changes)
    return event


V2_KEY = securityhub_v2_key(
    ACCOUNT,
    GUARDDUTY_V2,
    f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/3ec8b1f07a2d4c96e5b0a1d2c3e4f5a6/finding/8ac6f0e2b4d1c3a5e7f9b0d2c4e6a8f1",
)
OURS_RESOLVED = "Resolved in Jira issue OPS-7: https://example.atlassian.net/browse/OPS-7"
OURS_WONT_FIX = "Resolved as Won't Do in Jira issue OPS-7: https://example.atlassian.net/browse/OPS-7"
OURS_TRACKED = "Tracked in Jira issue OPS-7: https://example.atlassian.net/browse/OPS-7"


@pytest.mark.parametrize(
    ("changes", "state", "wont_fix"),
    [
        ({}, AlertState.FIRING, False),
        ({"activity_id": 2, "activity_name": "Update"}, AlertState.FIRING, False),
        ({"status_id": 2, "status": "In Progress"}, AlertState.FIRING, False),
        ({"activity_id": 3, "activity_name": "Close"}, AlertState.RESOLVED, False),  # status still New
        ({"status_id": 4, "status": "Resolved"}, AlertState.RESOLVED, False),
        ({"status_id": 5, "status": "Archived"}, AlertState.RESOLVED, False),  # the resource was deleted
        ({"status_id": 3, "status": "Suppressed"}, AlertState.RESOLVED, True),
        ({"compliance": {"status": "Pass"}}, AlertState.RESOLVED, False),
        ({"compliance": {"status": "Fail", "status_id": 3}}, AlertState.FIRING, False),
        ({"status_id": None, "status": "Suppressed", "activity_id": None}, AlertState.RESOLVED, True),  # names only
    ],
    ids=["new", "update", "in-progress", "close", "resolved", "archived", "suppressed", "pass", "fail", "names"],
)
def test_an_ocsf_finding_fires_until_closed_resolved_archived_suppressed_or_passed(
    changes: dict[str, Any], state: AlertState, wont_fix: bool
) -> None:
    alert = only(alerts_in(v2_event(**changes)))

    assert (alert.dedupe_key, alert.state, alert.wont_fix) == (V2_KEY, state, wont_fix)
    assert alert.transition_at == 1795000805000  # finding_info.modified_time, which the notifier's updates never move


@pytest.mark.parametrize(
    ("comment", "changes", "echo"),
    [
        (OURS_RESOLVED, {"status_id": 4, "status": "Resolved", "activity_id": 2}, True),
        (OURS_WONT_FIX, {"status_id": 3, "status": "Suppressed", "activity_id": 2}, True),
        (OURS_RESOLVED, {"status_id": 1, "status": "New", "activity_id": 2}, False),  # a person set it New again
        (OURS_RESOLVED, {"status_id": 3, "status": "Suppressed", "activity_id": 2}, False),  # a person suppressed it
        ("Accepted risk, see RISK-12", {"status_id": 4, "status": "Resolved", "activity_id": 2}, False),
        (OURS_RESOLVED, {"status_id": 4, "status": "Resolved", "activity_id": 3}, False),  # the provider's Close
        (OURS_TRACKED, {"status_id": 1, "status": "New", "activity_id": 2}, False),  # a plain duplicate transition
    ],
    ids=["our-resolved", "our-wont-fix", "set-new", "suppressed-by-hand", "someone-else", "provider-close", "tracked"],
)
def test_only_the_notifier_s_own_status_update_echoed_back_is_acknowledged_and_changes_nothing(
    comment: str, changes: dict[str, Any], echo: bool
) -> None:
    alert = only(alerts_in(v2_event(comment=comment, **changes)))

    assert (alert.ignore_reason == OWN_UPDATE) is echo
    if echo:
        assert alert.state is AlertState.UNKNOWN and not alert.wont_fix  # ignored whole: not even a clear


def test_the_notes_the_notifier_writes_are_the_ones_it_knows_again() -> None:
    for decision in Decision:
        request = request_for(V2_KEY, decision, PROVIDER, ISSUE)
        assert request is not None
        comment, status = request.params["Comment"], request.params.get("StatusId")
        assert note_decision(comment) is decision
        assert is_own_update(comment, status) is (decision is not Decision.NOTIFIED)
    assert note_decision("Resolved in Jira soon") is None


def test_an_ocsf_key_names_account_product_and_finding_and_reads_back() -> None:
    finding = "arn:aws:securityhub:eu-west-1:123456789012:security-control/S3.8/finding/2b4d"

    key = securityhub_v2_key(ACCOUNT, GUARDDUTY_V2, finding)

    assert read_securityhub_v2_key(key) == (ACCOUNT, GUARDDUTY_V2, finding)
    assert read_securityhub_v2_key(f"securityhub-v2:{ACCOUNT}:not-an-arn:x") is None
    assert read_securityhub_v2_key(f"securityhub:{GUARDDUTY_V2}:{finding}") is None


@pytest.mark.parametrize(
    ("arn", "product"),
    [
        ("arn:aws:securityhub:eu-west-1::product/aws/guardduty", "aws/guardduty"),
        ("arn:aws:securityhub:eu-west-1::productv2/aws/inspector", "aws/inspector"),
        ("arn:aws:securityhub:eu-west-1::product/crowdstrike/crowdstrike-falcon", "crowdstrike/crowdstrike-falcon"),
        ("arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default", "123456789012/default"),
        ("not-an-arn", None),
    ],
)
def test_a_finding_s_product_is_what_its_product_arn_names(arn: str, product: str | None) -> None:
    assert product_of(arn) == product


def test_every_finding_source_names_its_product_and_alarms_name_none() -> None:
    assert only(alerts_in(load("eventbridge_securityhub_v2_finding.json"))).product == "aws/guardduty"
    assert only(alerts_in(load("eventbridge_securityhub_finding.json"))).product == "aws/securityhub"
    assert only(alerts_in(load("eventbridge_guardduty_finding.json"))).product == "aws/guardduty"
    assert only(alerts_in(load("eventbridge_cloudwatch_alarm.json"))).product is None


@pytest.mark.parametrize(
    ("products", "product", "takes"),
    [
        ((), "aws/guardduty", True),
        (("guardduty",), "aws/guardduty", True),
        (("GuardDuty",), "aws/guardduty", True),
        (("aws/guardduty",), "aws/guardduty", True),
        (("inspector",), "aws/guardduty", False),
        (("inspector",), None, True),  # an alarm is no finding: the filter is not for it
    ],
)
def test_a_provider_s_products_filter_takes_only_findings_of_those_products(
    products: tuple[str, ...], product: str | None, takes: bool
) -> None:
    assert replace(PROVIDER, products=products).takes(product) is takes


def test_a_provider_s_products_are_kept() -> None:
    provider = replace(PROVIDER, products=("guardduty", "inspector"))

    assert ProviderConfig.from_item(provider.to_item()) == provider
    assert "products" not in PROVIDER.to_item()


def test_a_suppressed_asff_finding_is_a_won_t_fix_too() -> None:
    event = copy.deepcopy(load("eventbridge_securityhub_finding.json"))
    event["detail"]["findings"][0]["Workflow"]["Status"] = "SUPPRESSED"

    alert = only(alerts_in(event))

    assert (alert.state, alert.wont_fix) == (AlertState.RESOLVED, True)


# ---- sync-back to Security Hub (OCSF) ----------------------------------------------------------------------------


def valid_for_aws(service: str, operation: str, params: dict[str, Any]) -> None:
    model = botocore.session.get_session().get_service_model(service)
    validate_parameters(params, model.operation_model(operation).input_shape)


@pytest.mark.parametrize(
    ("decision", "status", "comment"),
    [
        (Decision.NOTIFIED, None, OURS_TRACKED),
        (Decision.DONE, 4, OURS_RESOLVED),
        (Decision.WONT_FIX, 3, OURS_WONT_FIX),
    ],
)
def test_an_ocsf_finding_is_told_with_batch_update_findings_v2_in_its_product_s_region(
    decision: Decision, status: int | None, comment: str
) -> None:
    request = request_for(V2_KEY, decision, PROVIDER, ISSUE)

    assert request is not None
    valid_for_aws("securityhub", "BatchUpdateFindingsV2", dict(request.params))
    assert (request.service, request.region, request.operation) == ("securityhub", REGION, "BatchUpdateFindingsV2")
    identity = read_securityhub_v2_key(V2_KEY)
    assert identity is not None
    expected: dict[str, Any] = {
        "FindingIdentifiers": [
            {"CloudAccountUid": ACCOUNT, "MetadataProductUid": GUARDDUTY_V2, "FindingInfoUid": identity[2]}
        ],
        "Comment": comment,
    }
    if status is not None:
        expected["StatusId"] = status
    assert request.params == expected


def test_nothing_goes_to_security_hub_ocsf_without_sync_back_or_for_a_key_naming_no_finding() -> None:
    assert request_for(V2_KEY, Decision.DONE, replace(PROVIDER, sync_back=False), ISSUE) is None
    assert request_for(f"securityhub-v2:{ACCOUNT}:nothing", Decision.DONE, PROVIDER, ISSUE) is None


# ---- what the sources say now (reconcile) ------------------------------------------------------------------------


def test_contributor_and_ocsf_keys_name_what_their_apis_take_and_one_answer_each() -> None:
    contributor = source_ref(ORDERS_KEY)
    other = source_ref(contributor_key(ALARM_ARN, CARTS))
    finding = source_ref(V2_KEY)
    same_uid_elsewhere = source_ref(V2_KEY.replace(ACCOUNT, "444455556666", 1))

    assert contributor == SourceRef("cloudwatch-contributor", ALARM, ACCOUNT, REGION, part=ORDERS)
    assert other is not None and finding is not None and same_uid_elsewhere is not None
    assert contributor.key != other.key  # each contributor gets its own answer
    assert (finding.source, finding.account, finding.region, finding.product_arn) == (
        "securityhub-v2",
        ACCOUNT,
        REGION,
        GUARDDUTY_V2,
    )
    assert finding.key != same_uid_elsewhere.key
    assert [len(b) for b in batches([contributor, other, contributor], 100)] == [2]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def stubbed(service: str, region: str = "us-east-1") -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=region)  # type: ignore[call-overload]
    stub = Stubber(client)
    stub.activate()
    return client, stub


def contributor_ref(alarm: str, contributor: str) -> SourceRef:
    return SourceRef("cloudwatch-contributor", alarm, ACCOUNT, REGION, part=contributor)


def test_a_contributor_no_longer_listed_in_alarm_has_cleared_and_a_deleted_alarm_takes_all_its_contributors() -> None:
    client, stub = stubbed("cloudwatch", REGION)
    in_alarm = {
        "ContributorId": ORDERS,
        "ContributorAttributes": {"TableName": "orders"},
        "StateReason": "Threshold Crossed",
        "StateTransitionedTimestamp": datetime(2026, 11, 18, 10, 2, 41, tzinfo=UTC),
    }
    stub.add_response(
        "describe_alarm_contributors", {"AlarmContributors": [], "NextToken": "page-2"}, {"AlarmName": ALARM}
    )
    stub.add_response(
        "describe_alarm_contributors",
        {"AlarmContributors": [in_alarm]},
        {"AlarmName": ALARM, "NextToken": "page-2"},
    )
    stub.add_client_error(
        "describe_alarm_contributors",
        service_error_code="ResourceNotFoundException",
        http_status_code=404,
        expected_params={"AlarmName": "deleted-alarm"},
    )
    truth = ContributorTruth(lambda: client, ACCOUNT, REGION, clock=Clock(1795000000.0))
    orders, carts, gone = (
        contributor_ref(ALARM, ORDERS),
        contributor_ref(ALARM, CARTS),
        contributor_ref("deleted-alarm", ORDERS),
    )

    answers = truth.ask([orders, carts, gone])
    again = truth.ask([carts])  # a later batch: the alarm is not asked twice in a run

    stub.assert_no_pending_responses()
    assert answers[orders.key].truth is Truth.ACTIVE and answers[orders.key].at == 1794996161000
    assert answers[carts.key] == again[carts.key]
    assert (answers[carts.key].truth, answers[carts.key].at) == (Truth.CLEARED, 1795000000000)  # when it was asked
    assert (answers[gone.key].truth, answers[gone.key].at) == (Truth.GONE, 1795000000000)
    assert truth.out_of_reach(replace(orders, region="us-west-2")) is not None


def v2_finding(uid: str, account: str = ACCOUNT, **changes: Any) -> dict[str, Any]:
    finding = copy.deepcopy(load("eventbridge_securityhub_v2_finding.json")["detail"]["findings"][0])
    finding["finding_info"]["uid"] = uid
    finding["cloud"]["account"]["uid"] = account
    finding.update(changes)
    return finding


def test_ocsf_findings_are_asked_200_uids_a_call_in_pages_and_matched_on_account_product_and_uid() -> None:
    client, stub = stubbed("securityhub", REGION)
    uids = [f"finding-{n:03d}" for n in range(201)]
    refs = [SourceRef("securityhub-v2", uid, ACCOUNT, REGION, GUARDDUTY_V2) for uid in uids]

    def filters(chunk: list[str]) -> dict[str, Any]:
        return {
            "CompositeFilters": [
                {
                    "StringFilters": [
                        {"FieldName": "finding_info.uid", "Filter": {"Value": uid, "Comparison": "EQUALS"}}
                        for uid in chunk[start : start + 20]
                    ],
                    "Operator": "OR",
                }
                for start in range(0, len(chunk), 20)
            ],
            "CompositeOperator": "OR",
        }

    closed = v2_finding(uids[0], activity_id=3, activity_name="Close")
    suppressed = v2_finding(uids[1], status_id=3, status="Suppressed")
    other_account = v2_finding(uids[2], "444455556666", status_id=4)
    stub.add_response(
        "get_findings_v2",
        {"Findings": [closed, suppressed, other_account], "NextToken": "more"},
        {"Filters": filters(uids[:200]), "MaxResults": 100},
    )
    stub.add_response(
        "get_findings_v2",
        {"Findings": [v2_finding(uid) for uid in uids[3:200]]},
        {"Filters": filters(uids[:200]), "MaxResults": 100, "NextToken": "more"},
    )
    stub.add_response(
        "get_findings_v2", {"Findings": [v2_finding(uids[200])]}, {"Filters": filters(uids[200:]), "MaxResults": 100}
    )
    truth = SecurityHubV2Truth(lambda: client)

    answers: dict[Any, Any] = {}
    for batch in batches(refs, truth.batch_size):
        answers.update(truth.ask(batch))

    stub.assert_no_pending_responses()
    assert answers[refs[0].key].truth is Truth.CLEARED and not answers[refs[0].key].wont_fix
    assert answers[refs[1].key].truth is Truth.CLEARED and answers[refs[1].key].wont_fix
    assert answers[refs[2].key].truth is Truth.UNCHECKED  # only another account's finding has that uid
    assert {answers[ref.key].truth for ref in refs[3:]} == {Truth.ACTIVE}


def health_ref(n: int, service: str = "EC2") -> SourceRef:
    arn = f"arn:aws:health:us-east-1::event/{service}/AWS_{service}_OPERATIONAL_ISSUE/AWS_{service}_ISSUE_{n:04d}"
    return SourceRef("health", arn, ACCOUNT, "us-east-1")


def test_more_than_ten_health_events_are_asked_in_one_paged_query_for_closed_events() -> None:
    client, stub = stubbed("health")
    refs = [health_ref(n) for n in range(30)] + [health_ref(n, "RDS") for n in range(5)]
    event = {"arn": refs[3].name, "statusCode": "closed", "lastUpdatedTime": datetime(2026, 11, 1, 11, tzinfo=UTC)}
    wanted = {"eventStatusCodes": ["closed"], "services": ["EC2", "RDS"]}
    stub.add_response(
        "describe_events",
        {
            "events": [{"arn": "arn:aws:health:us-east-1::event/EC2/X/OTHER", "statusCode": "closed"}],
            "nextToken": "page-2",
        },
        {"filter": wanted, "maxResults": 100},
    )
    stub.add_response(
        "describe_events", {"events": [event]}, {"filter": wanted, "maxResults": 100, "nextToken": "page-2"}
    )
    truth = HealthTruth(lambda: client, ACCOUNT)

    [batch] = batches(refs, truth.batch_size)
    answers = truth.ask(batch)

    stub.assert_no_pending_responses()
    assert answers[refs[3].key].truth is Truth.CLEARED
    assert {answers[ref.key].truth for ref in refs if ref != refs[3]} == {Truth.ACTIVE}


def test_ten_health_events_or_fewer_are_asked_by_arn() -> None:
    client, stub = stubbed("health")
    refs = [health_ref(n) for n in range(10)]
    stub.add_response(
        "describe_events",
        {"events": [{"arn": refs[0].name, "statusCode": "open"}]},
        {"filter": {"eventArns": sorted(ref.name for ref in refs)}, "maxResults": 100},
    )

    answers = HealthTruth(lambda: client, ACCOUNT).ask(refs)

    stub.assert_no_pending_responses()
    assert answers[refs[0].key].truth is Truth.ACTIVE
    assert {answers[ref.key].truth for ref in refs[1:]} == {Truth.UNCHECKED}


# ---- the graph of a contributor, and contributors as storm members -----------------------------------------------

GROUPED = 'SELECT SUM(ThrottledRequests) FROM SCHEMA("AWS/DynamoDB", TableName, Operation) GROUP BY TableName'


@pytest.mark.parametrize(
    ("expression", "attributes", "drawn"),
    [
        (
            GROUPED + " ORDER BY SUM() DESC LIMIT 50",
            {"TableName": "orders"},
            'SELECT SUM(ThrottledRequests) FROM SCHEMA("AWS/DynamoDB", TableName, Operation) '
            "WHERE TableName = 'orders' GROUP BY TableName ORDER BY SUM() DESC LIMIT 50",
        ),
        (
            GROUPED.replace(" GROUP BY", " WHERE Operation = 'PutItem' GROUP BY"),
            {"TableName": "orders"},
            'SELECT SUM(ThrottledRequests) FROM SCHEMA("AWS/DynamoDB", TableName, Operation) '
            "WHERE Operation = 'PutItem' AND TableName = 'orders' GROUP BY TableName",
        ),
        (
            'SELECT AVG(CPUUtilization) FROM SCHEMA("AWS/EC2", InstanceId) GROUP BY InstanceId, "tag.team"',
            {"InstanceId": "i-0abc", "tag.team": "search"},
            'SELECT AVG(CPUUtilization) FROM SCHEMA("AWS/EC2", InstanceId) '
            "WHERE InstanceId = 'i-0abc' AND \"tag.team\" = 'search' GROUP BY InstanceId, \"tag.team\"",
        ),
        (GROUPED, {"TableName": "o'rders"}, None),  # a quote could end the literal: not put in a query
        (GROUPED, {"TableName": "Other"}, None),  # the series of values lacking the dimension
        (GROUPED, {"Operation": "PutItem"}, None),  # the attributes name another key than the query groups by
        (GROUPED.replace(" GROUP BY", " WHERE Operation = 'A' OR Operation = 'B' GROUP BY"), {"TableName": "x"}, None),
        ("SEARCH('{AWS/DynamoDB,TableName} ThrottledRequests', 'Sum')", {"TableName": "orders"}, None),
    ],
    ids=["order-limit", "and-where", "quoted-key", "quote", "other", "other-key", "or-where", "no-select"],
)
def test_a_contributor_is_drawn_alone_when_its_query_allows_it(
    expression: str, attributes: dict[str, str], drawn: str | None
) -> None:
    from jira_notifier.core.alert import AlarmDefinition, MetricQuery
    from jira_notifier.render.widget import file_name, for_contributor, graph_note, metric_widget

    alarm = AlarmDefinition(
        arn=ALARM_ARN,
        name=ALARM,
        account=ACCOUNT,
        region=REGION,
        changed_at=datetime(2026, 11, 18, 10, 2, 41, tzinfo=UTC),
        queries=(MetricQuery(id="q1", expression=expression, period=60),),
        contributor=tuple(sorted(attributes.items())),
    )

    narrowed = for_contributor(alarm)
    widget = metric_widget(alarm, "ALARM")

    assert (narrowed.queries[0].expression if narrowed else None) == drawn
    assert widget["metrics"] == [[{"expression": drawn or expression, "id": "q1"}]]
    assert widget["title"].startswith(f"{ALARM} (")
    assert graph_note(alarm).startswith("the contributor's own series" if drawn else "every series of the alarm's")
    assert file_name(alarm).startswith(ALARM + "-")


def test_an_alarm_s_contributors_share_a_storm_group_by_alarm_and_are_listed_by_their_series() -> None:
    from jira_notifier.core.storm import check_group_by, group_key, member_name

    orders = only(alerts_in(contributor_event(ORDERS, {"TableName": "orders"})))
    carts = only(alerts_in(contributor_event(CARTS, {"TableName": "carts"})))
    check_group_by(("alarm",), 600)

    assert group_key(orders, ("alarm",)) == group_key(carts, ("alarm",)) == f"alarm={ALARM}"
    assert group_key(orders, ("prefix:8",)) == "prefix:8=dynamodb"  # of the alarm's name, not its series
    assert (member_name(orders), member_name(carts)) == (f"{ALARM} (TableName=orders)", f"{ALARM} (TableName=carts)")


def test_a_finding_suppressed_at_its_source_is_a_won_t_fix_for_reconcile_in_both_generations() -> None:
    from jira_notifier.sources.truth import _securityhub_answer, _securityhub_v2_answer

    suppressed = {"Workflow": {"Status": "SUPPRESSED"}, "RecordState": "ACTIVE", "UpdatedAt": "2026-11-01T10:00:00Z"}
    resolved = {**suppressed, "Workflow": {"Status": "RESOLVED"}}

    assert (_securityhub_answer(suppressed).truth, _securityhub_answer(suppressed).wont_fix) == (Truth.CLEARED, True)
    assert (_securityhub_answer(resolved).truth, _securityhub_answer(resolved).wont_fix) == (Truth.CLEARED, False)
    assert _securityhub_v2_answer(v2_finding("f", status_id=3, status="Suppressed")).wont_fix is True
    assert _securityhub_v2_answer(v2_finding("f", activity_id=3)).wont_fix is False
