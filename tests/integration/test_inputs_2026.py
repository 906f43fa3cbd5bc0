"""The inputs AWS added in 2025-26 through the handlers as Lambda calls them, against moto and the stand-in Jira
(every request it received is checked against Atlassian's spec): contributors of alarms over many time series on
every channel, alarm tags routing and filling fields, Security Hub OCSF findings and the ASFF edge cases, sync-back
and its echo, and reconcile asking DescribeAlarmContributors and GetFindingsV2 (answered through
``tests.support.operation_stubs``, validated against botocore's models, where moto has neither).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.client
import pytest
from botocore.stub import Stubber

from jira_notifier.adapters.dynamodb.state import state_from_item
from jira_notifier.cli.invoke import load_handler
from jira_notifier.core.state import PersonDecision
from jira_notifier.entry import wiring
from tests.conftest import DEFAULT_PROVIDER, load_event
from tests.support.builders import START, alarm_time
from tests.support.clocks import on_clock
from tests.support.fake_jira import SITE
from tests.support.lambda_sim import Context, LambdaTime
from tests.support.operation_stubs import OperationStubs

ACCOUNT, REGION = "123456789012", "eu-west-1"
ALARM = "dynamodb-throttles-by-table"
ALARM_ARN = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{ALARM}"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:cloudwatch-alarms"
ORDERS = ("5f2c8e1a9b3d7046", "orders")  # a contributor: its id and TableName  # pragma: allowlist secret
CARTS = ("0a1b2c3d4e5f6789", "carts")  # pragma: allowlist secret
QUERY = 'SELECT SUM(ThrottledRequests) FROM SCHEMA("AWS/DynamoDB", TableName) GROUP BY TableName'
CREATE = ("POST", "/rest/api/3/issue")
CREATEMETA = ("GET", "/rest/api/3/issue/createmeta/OPS/issuetypes")


def transitions(key: str) -> list[tuple[str, str]]:
    return [("GET", f"/rest/api/3/issue/{key}/transitions"), ("POST", f"/rest/api/3/issue/{key}/transitions")]


def comment(key: str) -> tuple[str, str]:
    return ("POST", f"/rest/api/3/issue/{key}/comment")


@dataclass
class Deliver:
    """Each function's handler on one simulated clock; a call returns the result and the Jira requests it cost."""

    jira: Any
    clock: LambdaTime
    seen: int = 0
    ids: int = 0

    def __call__(self, function: str, event: Any, after: float = 60.0) -> tuple[Any, list[tuple[str, str]]]:
        self.clock.now += after
        on_clock(wiring.get_notifier(function), self.clock.time, self.clock.sleep)
        self.clock.deadline = self.clock.now + 60
        try:
            result = load_handler(function)(event, Context(self.clock))
        finally:
            cost = self.jira.requests[self.seen :]
            self.seen = len(self.jira.requests)
        return result, cost

    def next_id(self) -> str:
        self.ids += 1
        return f"00000000-0000-4000-8000-{self.ids:012d}"


@pytest.fixture
def deliver(aws: Any, jira: Any) -> Deliver:
    clock = LambdaTime()
    jira.now = lambda: datetime.fromtimestamp(clock.now, UTC)
    return Deliver(jira, clock)


# ---- the three channels of a contributor -------------------------------------------------------------------------


def eventbridge_contributor(deliver: Deliver, series: tuple[str, str], state: str, minutes: float) -> Any:
    event = copy.deepcopy(load_event("eventbridge_cloudwatch_contributor.json"))
    event["id"] = deliver.next_id()
    event["resources"] = [ALARM_ARN]
    event["detail"]["alarmContributor"] = {"id": series[0], "attributes": {"TableName": series[1]}}
    event["detail"]["state"].update(value=state, reason=f"{state} for {series[1]}", timestamp=alarm_time(minutes))
    return event


def sns_contributor(deliver: Deliver, series: tuple[str, str], state: str, minutes: float) -> Any:
    event = copy.deepcopy(load_event("sns_cloudwatch_contributor.json"))
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message.update(
        AlarmArn=ALARM_ARN,
        AlarmContributorId=series[0],
        AlarmContributorAttributes={"TableName": series[1]},
        NewStateValue=state,
        OldStateValue="ALARM" if state == "OK" else "OK",
        NewStateReason=f"{state} for {series[1]}",
        StateChangeTime=alarm_time(minutes),
    )
    event["Records"][0]["Sns"].update(Message=json.dumps(message), MessageId=deliver.next_id())
    return event


def action_contributor(series: tuple[str, str], state: str, minutes: float) -> Any:
    event = copy.deepcopy(load_event("alarm_action_cloudwatch_contributor.json"))
    event.update(alarmArn=ALARM_ARN, time=alarm_time(minutes))
    event["alarmData"]["alarmContributor"] = {"id": series[0], "attributes": {"TableName": series[1]}}
    event["alarmData"]["state"].update(value=state, reason=f"{state} for {series[1]}", timestamp=alarm_time(minutes))
    return event


def alarm_level(deliver: Deliver, state: str, reason: str, minutes: float) -> Any:
    event = copy.deepcopy(load_event("eventbridge_cloudwatch_multi_series_alarm.json"))
    event["id"] = deliver.next_id()
    event["resources"] = [ALARM_ARN]
    event["detail"]["state"].update(value=state, reason=reason, timestamp=alarm_time(minutes))
    return event


def test_each_contributor_has_its_own_issue_whatever_channel_tells_it_and_clears_alone(
    deliver: Deliver, jira: Any, aws: Any
) -> None:
    # Given the contributor TableName=orders goes to ALARM, told by EventBridge first
    result, cost = deliver("eventbridge", eventbridge_contributor(deliver, ORDERS, "ALARM", 0))
    assert (result, cost) == ({"created": 1}, [CREATEMETA, CREATE])
    assert jira.by_key("OPS-1").summary == f"CloudWatch alarm {ALARM} (TableName=orders)"

    # When the same transition arrives over SNS and the alarm action, nothing more happens
    assert deliver("sns", sns_contributor(deliver, ORDERS, "ALARM", 0)) == ({"skipped": 1}, [])
    assert deliver("alarm-action", action_contributor(ORDERS, "ALARM", 0)) == ({"skipped": 1}, [])

    # When a second contributor fires (over SNS, whose warm function reads the create screen once), it gets its own
    assert deliver("sns", sns_contributor(deliver, CARTS, "ALARM", 1)) == ({"created": 1}, [CREATEMETA, CREATE])
    assert jira.by_key("OPS-2").summary == f"CloudWatch alarm {ALARM} (TableName=carts)"

    # When the alarm itself goes to ALARM ("2 out of 3"), that opens nothing: its contributors have the issues
    level = alarm_level(deliver, "ALARM", "2 out of 3 time series evaluated to ALARM", 1)
    assert deliver("eventbridge", level) == ({"ignored": 1}, [])

    # When the first contributor clears (the alarm action tells it), only its issue resolves
    assert deliver("alarm-action", action_contributor(ORDERS, "OK", 5)) == ({"resolved": 1}, transitions("OPS-1"))
    assert (jira.by_key("OPS-1").status, jira.by_key("OPS-2").status) == ("Done", "To Do")

    # When the second clears, and then the alarm itself, the second resolves and the alarm's OK finds nothing open
    assert deliver("eventbridge", eventbridge_contributor(deliver, CARTS, "OK", 6)) == (
        {"resolved": 1},
        transitions("OPS-2"),
    )
    ok = alarm_level(deliver, "OK", "3 time series evaluated to OK", 6)
    assert deliver("eventbridge", ok) == ({"skipped": 1}, [])

    # When the first fires again, its own issue reopens
    result, cost = deliver("sns", sns_contributor(deliver, ORDERS, "ALARM", 10))
    assert result == {"reopened": 1} and jira.by_key("OPS-1").status == "To Do"
    assert len(jira.issues) == 2 and aws.dead_letters() == []


def test_the_alarm_level_ok_closes_an_issue_opened_for_the_alarm_before_its_contributors_were_told_apart(
    deliver: Deliver, jira: Any
) -> None:
    # Given an issue keyed on the alarm itself (as a contributor notification made one before)
    plain = json.loads(load_event("sns_cloudwatch_contributor.json")["Records"][0]["Sns"]["Message"])
    for key in ("AlarmContributorId", "AlarmContributorAttributes"):
        plain.pop(key)
    plain.update(AlarmArn=ALARM_ARN, StateChangeTime=alarm_time(0), NewStateReason="Threshold Crossed")
    event = copy.deepcopy(load_event("sns_cloudwatch_contributor.json"))
    event["Records"][0]["Sns"]["Message"] = json.dumps(plain)
    assert deliver("sns", event)[0] == {"created": 1}

    # When the alarm goes OK as a whole
    result, cost = deliver("eventbridge", alarm_level(deliver, "OK", "3 time series evaluated to OK", 5))

    # Then that issue resolves
    assert (result, cost) == ({"resolved": 1}, transitions("OPS-1"))


def test_contributors_of_one_alarm_under_one_parent_with_group_by_alarm(aws: Any, deliver: Deliver, jira: Any) -> None:
    aws.put_provider(**{**DEFAULT_PROVIDER, "group_by": ("alarm",), "group_window": 3600})

    results = [
        deliver("eventbridge", eventbridge_contributor(deliver, s, "ALARM", n))[0]
        for n, s in enumerate((ORDERS, CARTS))
    ]

    [parent] = jira.issues.values()
    assert results == [{"grouped": 1}, {"grouped": 1}]
    assert parent.summary == f"Alert storm: alarm {ALARM}"
    table = json.dumps(parent.fields["description"])
    assert f"{ALARM} (TableName=orders)" in table and f"{ALARM} (TableName=carts)" in table


# ---- alarm tags --------------------------------------------------------------------------------------------------


def put_route(aws: Any, key: dict[str, str], group: str) -> None:
    item = {**key, "type": "route", "value": json.dumps(group)}  # as ``route add`` stores it (tests/cli)
    aws.session.client("dynamodb").put_item(
        TableName="jira-notifier-providers", Item={name: {"S": value} for name, value in item.items()}
    )


def tagged_alarm(deliver: Deliver, **tags: str) -> Any:
    event = copy.deepcopy(load_event("eventbridge_cloudwatch_alarm_tagged.json"))
    event["id"] = deliver.next_id()
    event["detail"]["alarmTags"] = tags
    return event


def test_an_alarm_tag_s_route_wins_over_its_account_s(aws: Any, deliver: Deliver, jira: Any) -> None:
    # Given routes for the account and for the tag team=payments, each to a group with a provider labelled its own
    aws.put_provider(**{**DEFAULT_PROVIDER, "group": "payments", "labels": ("payments-team",)})
    aws.put_provider(**{**DEFAULT_PROVIDER, "group": "by-account", "labels": ("by-account",)})
    put_route(aws, {"pk": "ROUTE#alarm-tag", "sk": json.dumps(["team", "payments"])}, "payments")
    put_route(aws, {"pk": f"ROUTE#account:{ACCOUNT}", "sk": "ROUTE"}, "by-account")

    # When an alarm tagged team=payments fires, and another tagged team=search
    deliver("eventbridge", tagged_alarm(deliver, team="payments", env="prod"))
    other = tagged_alarm(deliver, team="search")
    other["resources"] = [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:search-latency"]
    other["detail"]["alarmName"] = "search-latency"
    deliver("eventbridge", other)

    # Then the first goes to the tag's group, the second to the account's
    assert "payments-team" in jira.by_key("OPS-1").labels
    assert "by-account" in jira.by_key("OPS-2").labels


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    calls: list[tuple[str, str]] = []
    original = botocore.client.BaseClient._make_api_call

    def counted(client: Any, operation: str, params: Any) -> Any:
        calls.append((client.meta.service_model.service_name, operation))
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted)
    yield calls


def test_tag_fields_come_from_the_alarm_s_own_tags_first(
    aws: Any, deliver: Deliver, jira: Any, monkeypatch: pytest.MonkeyPatch, aws_calls: list[tuple[str, str]]
) -> None:
    monkeypatch.setenv("READ_RESOURCE_TAGS", "true")
    aws.put_provider(**{**DEFAULT_PROVIDER, "tag_fields": {"team": "components", "env": "customfield_10050"}})

    # When an alarm carrying both mapped tags fires: no tag read at all
    deliver("eventbridge", tagged_alarm(deliver, team="payments", env="prod"))
    created = json.loads(jira.mock.calls[-1].request.body)["fields"]
    assert created["components"] == [{"name": "payments"}]
    assert ("resourcegroupstaggingapi", "GetResources") not in aws_calls

    # When an alarm carries only one of them: the resource's tags are read for the other
    other = tagged_alarm(deliver, team="platform")
    other["resources"] = [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:search-latency"]
    other["detail"]["alarmName"] = "search-latency"
    deliver("eventbridge", other)
    assert aws_calls.count(("resourcegroupstaggingapi", "GetResources")) == 1
    assert jira.by_key("OPS-2").fields["components"] == [{"name": "platform"}]


# ---- Security Hub (OCSF) -----------------------------------------------------------------------------------------


def v2(deliver: Deliver, minutes: float, **changes: Any) -> Any:
    """The OCSF sample (GuardDuty, High, New, Create), ``minutes`` after the scenario start, with changes."""
    event = copy.deepcopy(load_event("eventbridge_securityhub_v2_finding.json"))
    event["id"] = deliver.next_id()
    finding = event["detail"]["findings"][0]
    finding["finding_info"]["modified_time"] = int(START.timestamp() * 1000 + minutes * 60_000)
    finding.pop("time", None)
    finding["finding_info"].pop("modified_time_dt", None)
    finding.update(changes)
    return event


def test_an_ocsf_finding_opens_comments_and_resolves_on_its_provider_s_close(deliver: Deliver, jira: Any) -> None:
    assert deliver("eventbridge", v2(deliver, 0))[0] == {"created": 1}
    assert deliver("eventbridge", v2(deliver, 0)) == ({"skipped": 1}, [])  # the same update again
    updated = v2(deliver, 5, activity_id=2, activity_name="Update", severity_id=5, severity="Critical")
    raised = [("GET", "/rest/api/3/issue/OPS-1"), ("PUT", "/rest/api/3/issue/OPS-1")]  # High -> Highest
    assert deliver("eventbridge", updated) == ({"commented": 1}, [*raised, comment("OPS-1")])
    closed = v2(deliver, 9, activity_id=3, activity_name="Close", severity_id=1, severity="Informational")
    assert deliver("eventbridge", closed) == ({"resolved": 1}, transitions("OPS-1"))  # status still reads New
    assert jira.by_key("OPS-1").resolution == "Done"


def test_a_suppressed_ocsf_finding_resolves_as_won_t_fix_and_is_never_reopened(deliver: Deliver, jira: Any) -> None:
    deliver("eventbridge", v2(deliver, 0))

    result, cost = deliver("eventbridge", v2(deliver, 5, status_id=3, status="Suppressed", activity_id=2))
    assert (result, cost) == ({"resolved": 1}, transitions("OPS-1"))
    issue = jira.by_key("OPS-1")
    assert (issue.status, issue.resolution) == ("Done", "Won't Do")
    assert "suppressed in Security Hub" in json.dumps(issue.comments[-1])

    # A later repeat of the same finding, active again, is told once and reopens nothing
    assert deliver("eventbridge", v2(deliver, 30, status_id=1, status="New", activity_id=2)) == (
        {"commented": 1},
        [comment("OPS-1")],
    )
    assert deliver("eventbridge", v2(deliver, 40, status_id=1, status="New", activity_id=2)) == ({"skipped": 1}, [])
    assert (issue.status, len(jira.issues)) == ("Done", 1)


def test_a_passed_control_resolves_its_issue_and_one_never_failed_opens_nothing(deliver: Deliver, jira: Any) -> None:
    passed = load_event("eventbridge_securityhub_v2_control_passed.json")

    def later(minutes: int, *, failing: bool) -> Any:
        event = copy.deepcopy(passed)
        event["id"] = deliver.next_id()
        finding = event["detail"]["findings"][0]
        finding["finding_info"]["modified_time"] += minutes * 60_000
        if failing:
            finding.update(status_id=1, status="New", severity_id=4, severity="High")
            finding["compliance"].update(status="Fail", status_id=3)
        return event

    assert deliver("eventbridge", passed) == ({"skipped": 1}, [])  # nothing open: nothing to resolve
    assert deliver("eventbridge", later(60, failing=True))[0] == {"created": 1}
    # Passed again: Informational, status Resolved; the rule's $or lets it through, and it resolves the issue
    assert deliver("eventbridge", later(120, failing=False)) == ({"resolved": 1}, transitions("OPS-1"))


def test_findings_of_products_a_provider_does_not_take_open_nothing(aws: Any, deliver: Deliver, jira: Any) -> None:
    aws.put_provider(**{**DEFAULT_PROVIDER, "products": ("inspector", "securityhub")})

    assert deliver("eventbridge", v2(deliver, 0)) == ({"ignored": 1}, [])  # GuardDuty's, through Security Hub
    assert deliver("eventbridge", load_event("eventbridge_guardduty_finding.json")) == ({"ignored": 1}, [])
    assert deliver("eventbridge", load_event("eventbridge_securityhub_finding.json"))[0] == {"created": 1}
    assert deliver("eventbridge", load_event("eventbridge_cloudwatch_alarm.json"))[0] == {"created": 1}


# ---- sync-back to Security Hub (OCSF), and its echo ---------------------------------------------------------------


@dataclass
class SecurityHubStub:
    stubber: Stubber | None = None
    made: list[str] = field(default_factory=list)

    def client(self, session: Any, service: str, region: str) -> Any:
        self.made.append(f"{service}/{region}")
        if self.stubber is None:
            self.stubber = Stubber(boto3.client("securityhub", region_name=region))
            self.stubber.activate()
        return self.stubber.client


def identity(event: Any) -> dict[str, str]:
    finding = event["detail"]["findings"][0]
    return {
        "CloudAccountUid": finding["cloud"]["account"]["uid"],
        "FindingInfoUid": finding["finding_info"]["uid"],
        "MetadataProductUid": finding["metadata"]["product"]["uid"],
    }


def test_sync_back_tells_the_ocsf_finding_and_its_echoes_change_nothing(
    aws: Any, deliver: Deliver, jira: Any, monkeypatch: pytest.MonkeyPatch, aws_calls: list[tuple[str, str]]
) -> None:
    monkeypatch.setenv("SYNC_BACK", "securityhub")
    hub = SecurityHubStub()
    monkeypatch.setattr(wiring, "sync_back_client", hub.client)
    aws.put_provider(**{**DEFAULT_PROVIDER, "sync_back": True})
    created = v2(deliver, 0)
    url = f"{SITE}/browse/OPS-1"
    hub.client(None, "securityhub", REGION)
    assert hub.stubber is not None
    processed = {"ProcessedFindings": [{"FindingIdentifier": identity(created)}], "UnprocessedFindings": []}
    tracked = f"Tracked in Jira issue OPS-1: {url}"
    resolved = f"Resolved in Jira issue OPS-1: {url}"
    hub.stubber.add_response(
        "batch_update_findings_v2", processed, {"FindingIdentifiers": [identity(created)], "Comment": tracked}
    )
    hub.stubber.add_response(
        "batch_update_findings_v2",
        processed,
        {"FindingIdentifiers": [identity(created)], "Comment": resolved, "StatusId": 4},
    )

    # The issue is created, and the finding told (a comment, its status left as it is)
    assert deliver("eventbridge", created)[0] == {"created": 1}
    # Security Hub echoes that comment as an update: the same transition, nothing to do
    assert deliver("eventbridge", v2(deliver, 0, comment=tracked, activity_id=2)) == ({"skipped": 1}, [])

    # A person resolves the issue in Jira, and the read-back tells the finding: Resolved, with a comment
    jira.resolve_by_hand("OPS-1", "Done")
    from jira_notifier.app.readback import apply_jira_view, read_issue

    [item] = [i for i in aws.state_items() if i["dedupeKey"]["S"].startswith("securityhub-v2:")]
    state = state_from_item(item["pk"]["S"], item)
    notifier = wiring.get_notifier("eventbridge")
    client = notifier.deps.connect(notifier.deps.secrets.get(DEFAULT_PROVIDER["secret"]), None)
    provider = notifier.providers.group_providers("ops")[0]
    assert apply_jira_view(
        notifier.deps.leases,
        provider,
        state,
        str(state.issue_id),
        read_issue(client, str(state.issue_id)),
        seen_at=deliver.clock.now + 600,
        read=lambda ref: read_issue(client, ref),
        clock=deliver.clock.time,
        deadline=deliver.clock.now + 60,
        sync_back=notifier.deps.sync_back,
    )
    hub.stubber.assert_no_pending_responses()

    # Security Hub echoes the Resolved it was told: the finding is still active at its source, and the person's
    # decision stands (the alert is not recorded as cleared, so its next firing would not reopen the issue)
    echo = v2(deliver, 0, comment=resolved, status_id=4, status="Resolved", activity_id=2)
    deliver.seen = len(jira.requests)
    assert deliver("eventbridge", echo) == ({"ignored": 1}, [])
    [item] = [i for i in aws.state_items() if i["dedupeKey"]["S"].startswith("securityhub-v2:")]
    after = state_from_item(item["pk"]["S"], item)
    assert after.person_decision is PersonDecision.RESOLVED and after.alert_state is not None
    assert after.alert_state.value == "firing"
    assert aws_calls.count(("securityhub", "BatchUpdateFindingsV2")) == 2  # nothing sent for the echoes


# ---- Security Hub (ASFF): the same edge cases ---------------------------------------------------------------------


def asff(deliver: Deliver, minutes: float, **finding: Any) -> Any:
    event = copy.deepcopy(load_event("eventbridge_securityhub_finding.json"))
    event["id"] = deliver.next_id()
    found = event["detail"]["findings"][0]
    found["UpdatedAt"] = datetime.fromtimestamp(START.timestamp() + minutes * 60, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )
    for key, value in finding.items():
        if isinstance(value, dict):
            found.setdefault(key, {}).update(value)
        else:
            found[key] = value
    return event


def test_an_asff_finding_set_notified_then_new_again_keeps_its_one_issue(deliver: Deliver, jira: Any) -> None:
    assert deliver("eventbridge", asff(deliver, 0))[0] == {"created": 1}
    assert deliver("eventbridge", asff(deliver, 1, Workflow={"Status": "NOTIFIED"}))[0] == {"commented": 1}
    assert deliver("eventbridge", asff(deliver, 2, Workflow={"Status": "NEW"}))[0] == {"commented": 1}
    assert len(jira.issues) == 1


@pytest.mark.parametrize(
    "closing",
    [{"RecordState": "ARCHIVED"}, {"Workflow": {"Status": "RESOLVED"}}, {"Compliance": {"Status": "PASSED"}}],
    ids=["resource-deleted", "resolved", "passed"],
)
def test_an_archived_resolved_or_passed_asff_finding_resolves_its_issue(
    deliver: Deliver, jira: Any, closing: dict[str, Any]
) -> None:
    deliver("eventbridge", asff(deliver, 0))

    assert deliver("eventbridge", asff(deliver, 5, **closing)) == ({"resolved": 1}, transitions("OPS-1"))
    assert jira.by_key("OPS-1").resolution == "Done"


def test_a_suppressed_asff_finding_resolves_as_won_t_fix_and_is_never_reopened(deliver: Deliver, jira: Any) -> None:
    deliver("eventbridge", asff(deliver, 0))

    assert deliver("eventbridge", asff(deliver, 5, Workflow={"Status": "SUPPRESSED"}))[0] == {"resolved": 1}
    assert jira.by_key("OPS-1").resolution == "Won't Do"
    assert deliver("eventbridge", asff(deliver, 30, Workflow={"Status": "NEW"}))[0] == {"commented": 1}
    assert jira.by_key("OPS-1").status == "Done" and len(jira.issues) == 1


# ---- reconcile ---------------------------------------------------------------------------------------------------


@pytest.fixture
def stubs() -> Iterator[OperationStubs]:
    found = OperationStubs()
    with found.on(boto3.session.Session):
        yield found
    found.assert_all_used()


def run_reconcile(deliver: Deliver) -> dict[str, Any]:
    deliver.clock.now += 600
    on_clock(wiring.get_notifier("reconcile"), deliver.clock.time, deliver.clock.sleep)
    deliver.clock.deadline = deliver.clock.now + 240
    context = Context(deliver.clock, invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:reconcile")
    from functions.reconcile.handler import lambda_handler

    result: dict[str, Any] = lambda_handler({}, context)
    deliver.seen = len(deliver.jira.requests)
    return result["reconcile"]


def test_reconcile_resolves_a_contributor_no_longer_in_alarm_and_every_contributor_of_a_deleted_alarm(
    deliver: Deliver, jira: Any, stubs: OperationStubs
) -> None:
    # Given two contributors of one alarm, and one of another alarm, each with an open issue
    other_arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:deleted-alarm"
    deliver("eventbridge", eventbridge_contributor(deliver, ORDERS, "ALARM", 0))
    deliver("eventbridge", eventbridge_contributor(deliver, CARTS, "ALARM", 1))
    event = eventbridge_contributor(deliver, ORDERS, "ALARM", 2)
    event["resources"] = [other_arn]
    deliver("eventbridge", event)
    # When only TableName=carts is still in ALARM, and the other alarm was deleted
    listed = {
        "AlarmContributors": [
            {"ContributorId": CARTS[0], "ContributorAttributes": {"TableName": "carts"}, "StateReason": "breaching"}
        ]
    }
    stubs.add("cloudwatch", "DescribeAlarmContributors", listed, {"AlarmName": ALARM})
    stubs.add_error(
        "cloudwatch", "DescribeAlarmContributors", "ResourceNotFoundException", {"AlarmName": "deleted-alarm"}
    )

    counts = run_reconcile(deliver)

    # Then the cleared contributor and the deleted alarm's resolve, each alarm asked once, carts stays open
    assert (counts["cleared"], counts["gone"], counts["active"], counts["resolved"]) == (1, 1, 1, 2)
    assert [jira.by_key(f"OPS-{n}").status for n in (1, 2, 3)] == ["Done", "To Do", "Done"]
    assert "no longer in ALARM" in json.dumps(jira.by_key("OPS-1").comments[-1])
    assert "no longer exists" in json.dumps(jira.by_key("OPS-3").comments[-1])


def test_reconcile_resolves_ocsf_findings_closed_or_suppressed_at_their_source(
    deliver: Deliver, jira: Any, stubs: OperationStubs
) -> None:
    events = []
    for n in range(3):
        event = v2(deliver, n)
        event["detail"]["findings"][0]["finding_info"]["uid"] = f"finding-{n}"
        events.append(event)
        deliver("eventbridge", event)
    findings = [copy.deepcopy(e["detail"]["findings"][0]) for e in events]
    findings[0].update(activity_id=3, activity_name="Close")
    findings[1].update(status_id=3, status="Suppressed")
    for finding in findings:
        finding["finding_info"]["modified_time"] += 600_000
    composite = {
        "StringFilters": [
            {"FieldName": "finding_info.uid", "Filter": {"Value": f"finding-{n}", "Comparison": "EQUALS"}}
            for n in range(3)
        ],
        "Operator": "OR",
    }
    stubs.add(
        "securityhub",
        "GetFindingsV2",
        {"Findings": findings},
        {"Filters": {"CompositeFilters": [composite], "CompositeOperator": "OR"}, "MaxResults": 100},
    )

    counts = run_reconcile(deliver)

    assert (counts["cleared"], counts["active"], counts["resolved"]) == (2, 1, 2)
    assert [(jira.by_key(f"OPS-{n}").status, jira.by_key(f"OPS-{n}").resolution) for n in (1, 2, 3)] == [
        ("Done", "Done"),
        ("Done", "Won't Do"),
        ("To Do", None),
    ]
