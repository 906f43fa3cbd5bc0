"""Reconcile through its handler as Lambda calls it: alerts whose clear never arrived, asked of their sources.

CloudWatch and Security Hub are moto's; GuardDuty's GetFindings and AWS Health are not in moto, so those clients are
botocore ``Stubber``s (which check every call's parameters against the service model). Jira is the stand-in; every
request it received is validated against Atlassian's spec.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from functions.reconcile.handler import lambda_handler as reconcile_handler
from functions.sns_to_jira.handler import lambda_handler as sns_handler
from jira_notifier.adapters.dynamodb.state import state_from_item
from jira_notifier.core.alert import AlertState
from jira_notifier.core.state import PersonDecision
from jira_notifier.entry import wiring
from tests.support.builders import alarm_event
from tests.support.clocks import on_clock
from tests.support.lambda_sim import Context, LambdaTime
from tests.support.links import open_link, put_alarm

ACCOUNT, REGION = "123456789012", "us-east-1"
RESOLVE = ("POST", "/rest/api/3/issue/{key}/transitions")
SCHEDULE_EVENT: dict[str, Any] = {}  # EventBridge Scheduler's default target input: nothing the run reads


def alarm_arn(name: str) -> str:
    return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"


@dataclass
class World:
    aws: Any
    jira: Any
    clock: LambdaTime
    stubs: dict[str, Stubber] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (operation, params) of AWS calls
    minutes: float = 0.0

    @property
    def cloudwatch(self) -> Any:
        return self.aws.session.client("cloudwatch")

    def alarm(self, name: str, state: str = "ALARM") -> None:
        """An alarm in CloudWatch, in ``state``."""
        put_alarm(self.cloudwatch, name, state)

    def fire(self, name: str, state: str = "ALARM") -> dict[str, int]:
        """The alarm's notification through the SNS function (the event path), one minute after the last."""
        self.minutes += 1
        self.clock.now += 60
        return self.invoke(sns_handler, "sns", alarm_event(state, self.minutes, name=name, arn=alarm_arn(name)))

    def reconcile(self, seconds: float = 300.0) -> dict[str, Any]:
        self.clock.now += 60
        return self.invoke(reconcile_handler, "reconcile", SCHEDULE_EVENT, seconds)

    def invoke(self, handler: Any, function: str, event: Any, seconds: float = 60.0) -> Any:
        notifier = wiring.get_notifier(function)
        on_clock(notifier, self.clock.time, self.clock.sleep)
        self.clock.deadline = self.clock.now + seconds
        return handler(event, Context(self.clock))

    def issue(self, number: int) -> Any:
        return self.jira.by_key(f"OPS-{number}")


@pytest.fixture
def world(aws: Any, jira: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    clock = LambdaTime()
    jira.now = lambda: datetime.fromtimestamp(clock.now, UTC)
    jira.sleep = clock.sleep
    found = World(aws, jira, clock)
    real_client = boto3.session.Session.client

    def client(self: Any, service: str, *args: Any, **kwargs: Any) -> Any:
        made = real_client(self, service, *args, **kwargs)
        made.meta.events.register(
            "provide-client-params", lambda params, model, **_: found.calls.append((model.name, params))
        )
        if service in ("guardduty", "health"):  # not in moto (GuardDuty's GetFindings, Health): stubbed
            if service not in found.stubs:
                found.stubs[service] = Stubber(made)
                found.stubs[service].activate()
            return found.stubs[service].client
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)
    yield found
    for stub in found.stubs.values():
        stub.assert_no_pending_responses()


def writes_since(jira: Any, start: int) -> list[tuple[str, str]]:
    return [r for r in beyond_read_back(jira, start) if r[0] in ("POST", "PUT", "DELETE")]


def beyond_read_back(jira: Any, start: int) -> list[tuple[str, str]]:
    """The requests since ``start`` other than the run's read-back searches (its first step)."""
    return [r for r in jira.requests[start:] if r != ("POST", "/rest/api/3/search/jql")]


def comment_text(body: Any) -> str:
    return json.dumps(body)


# ---- CloudWatch ----------------------------------------------------------------------------------------------


def test_an_alarm_now_ok_resolves_its_issue_with_a_comment_saying_reconcile_found_it(world: World) -> None:
    world.alarm("api-5xx")
    assert world.fire("api-5xx") == {"created": 1}
    world.alarm("api-5xx", "OK")  # cleared, and its OK notification was lost

    result = world.reconcile()

    counts = result["reconcile"]
    assert counts["links"] == 1 and counts["checked"] == 1 and counts["resolved"] == 1 and counts["unchecked"] == 0
    issue = world.issue(1)
    assert issue.status == "Done" and issue.transitions == ["Done"]
    last = comment_text(issue.comments[-1])
    assert "reconcile" in last and "OK notification never arrived" in last and "Alarm api-5xx is OK" in last


def test_a_deleted_alarm_is_commented_and_resolved(world: World) -> None:
    world.alarm("gone-alarm")
    world.fire("gone-alarm")
    world.cloudwatch.delete_alarms(AlarmNames=["gone-alarm"])

    start = len(world.jira.requests)
    assert world.reconcile()["reconcile"]["gone"] == 1

    assert writes_since(world.jira, start) == [("POST", "/rest/api/3/issue/OPS-1/transitions")]
    issue = world.issue(1)
    assert issue.status == "Done"
    assert "no longer exists" in comment_text(issue.comments[-1])
    assert "alarm was deleted" in comment_text(issue.comments[-1])


def test_an_alarm_still_firing_costs_no_jira_request(world: World) -> None:
    world.alarm("still-bad")
    world.fire("still-bad")
    start = len(world.jira.requests)

    counts = world.reconcile()["reconcile"]

    assert counts["active"] == 1 and counts["resolved"] == 0
    assert beyond_read_back(world.jira, start) == []
    assert world.issue(1).status == "To Do"


def test_alarms_of_another_account_or_region_are_counted_unchecked(world: World) -> None:
    other = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:elsewhere"
    world.invoke(sns_handler, "sns", alarm_event("ALARM", 1, name="elsewhere", arn=other))
    start = len(world.jira.requests)

    counts = world.reconcile()["reconcile"]

    assert counts["unchecked"] == 1 and counts["checked"] == 0
    assert beyond_read_back(world.jira, start) == []
    assert any("outside this stack's account and region" in note for note in world.reconcile()["reconcile"]["notes"])


def linked_alarm(world: World, name: str) -> None:
    """An alarm in ALARM with an open issue and its state, as the event path leaves them (written directly: the
    event path itself is covered above, and 250 of them through it would take most of a minute)."""
    world.alarm(name)
    open_link(
        world.aws.session.client("dynamodb"), "jira-notifier-state", world.jira, f"cloudwatch-alarm:{alarm_arn(name)}"
    )


def test_250_alarms_are_described_in_three_calls_and_only_the_cleared_resolve(world: World) -> None:
    names = [f"alarm-{n:03d}" for n in range(250)]
    for name in names:
        linked_alarm(world, name)
    for name in names[::50]:  # five cleared without a notification
        world.alarm(name, "OK")
    world.calls.clear()
    start = len(world.jira.requests)

    counts = world.reconcile()["reconcile"]

    assert counts["checked"] == 250 and counts["resolved"] == 5 and counts["active"] == 245
    calls = [params for operation, params in world.calls if operation == "DescribeAlarms"]
    assert len(calls) == 3 and sorted(len(c["AlarmNames"]) for c in calls) == [50, 100, 100]
    resolved = {path for method, path in writes_since(world.jira, start)}
    assert resolved == {f"/rest/api/3/issue/OPS-{n}/transitions" for n in (1, 51, 101, 151, 201)}


# ---- ownership, dry run, concurrency -------------------------------------------------------------------------


def test_issues_the_product_does_not_own_are_never_touched(world: World) -> None:
    world.alarm("owned")
    world.fire("owned")
    stranger = world.jira._new_issue({"issuetype": world.jira.issue_types[0], "summary": "CloudWatch alarm owned"})
    world.alarm("owned", "OK")

    world.reconcile()

    assert world.issue(1).status == "Done"
    assert stranger.status == "To Do" and stranger.comments == [] and stranger.transitions == []


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(world: World) -> None:
    from jira_notifier.adapters.observability import MetricsRecorder
    from jira_notifier.app.run import run_steps
    from jira_notifier.entry.scheduled import scheduled_steps

    world.alarm("quiet")
    world.fire("quiet")
    world.alarm("quiet", "OK")
    items_before = world.aws.state_items()
    start = len(world.jira.requests)

    wiring.get_notifier("reconcile").deps.clock = world.clock.time
    steps = scheduled_steps(ACCOUNT, REGION, dry_run=True)
    summary = run_steps(steps, lambda: 300.0, MetricsRecorder())

    step = next(step for step in summary.steps if step.step == "reconcile")
    assert step.counts()["wouldResolve"] == 1 and step.counts()["resolved"] == 0
    assert [r.action for r in step.results] == ["would-resolve"]
    assert beyond_read_back(world.jira, start) == []
    assert world.aws.state_items() == items_before
    assert world.issue(1).status == "To Do"


def test_an_ok_delivered_while_reconcile_runs_resolves_the_issue_once(world: World) -> None:
    """The OK notification arrives between reconcile's DescribeAlarms and its lease: the lease's fresh state
    shows it resolved, so reconcile writes nothing."""
    from jira_notifier.sources.truth import AlarmTruth

    world.alarm("racing")
    world.fire("racing")
    world.alarm("racing", "OK")
    ask = AlarmTruth.ask

    def ask_then_deliver(self: AlarmTruth, refs: Any) -> Any:
        answers = ask(self, refs)
        assert world.fire("racing", "OK") == {"resolved": 1}  # the event path, in the middle of the run
        return answers

    pytest.MonkeyPatch().setattr(AlarmTruth, "ask", ask_then_deliver)
    try:
        counts = world.reconcile()["reconcile"]
    finally:
        AlarmTruth.ask = ask  # type: ignore[method-assign]

    assert counts["cleared"] == 1 and counts["resolved"] == 0
    issue = world.issue(1)
    assert issue.transitions == ["Done"] and len(issue.comments) == 1  # one resolve, one comment: the event path's


def test_two_runs_at_once_resolve_once(world: World) -> None:
    world.alarm("twice")
    world.fire("twice")
    world.alarm("twice", "OK")

    first, second = world.reconcile()["reconcile"], world.reconcile()["reconcile"]

    assert first["resolved"] == 1 and second["links"] == 0
    assert world.issue(1).transitions == ["Done"]


def test_a_run_short_of_time_stops_starting_work_and_says_so(world: World) -> None:
    world.jira.delay = 0.1  # each Jira answer takes 100 ms of the simulated clock
    names = [f"slow-{n}" for n in range(30)]
    for name in names:
        world.alarm(name)
        world.fire(name)
        world.alarm(name, "OK")

    result = world.reconcile(seconds=17.0)["reconcile"]

    assert result["stoppedEarly"] is True
    assert 0 < result["resolved"] < 30
    assert any("next run" in note for note in result["notes"])
    assert world.clock.now <= world.clock.deadline
    assert world.reconcile()["reconcile"]["resolved"] == 30 - result["resolved"]


# ---- Security Hub, GuardDuty, Health -------------------------------------------------------------------------

PRODUCT = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"  # a made-up detector id  # pragma: allowlist secret
HEALTH_ARN = f"arn:aws:health:{REGION}::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_7f35c8ae"


def securityhub_finding(finding_id: str, workflow: str = "NEW", **extra: Any) -> dict[str, Any]:
    return {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id,
        "ProductArn": PRODUCT,
        "GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/S3.1",
        "AwsAccountId": ACCOUNT,
        "Region": REGION,
        "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2026-11-01T08:00:00.000Z",
        "UpdatedAt": "2026-11-01T09:00:00.000Z",
        "Severity": {"Label": "HIGH"},
        "Title": f"Finding {finding_id}",
        "Description": "A finding.",
        "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::example"}],
        "Workflow": {"Status": workflow},
        "RecordState": "ACTIVE",
        **extra,
    }


def eventbridge(source: str, detail_type: str, detail: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": "2026-11-01T09:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def open_issues_for_findings(world: World, findings: list[dict[str, Any]]) -> None:
    from functions.eventbridge_to_jira.handler import lambda_handler as eventbridge_handler

    for finding in findings:
        event = eventbridge(
            "aws.securityhub", "Security Hub Findings - Imported", {"findings": [finding]}, f"sh-{finding['Id']}"
        )
        world.invoke(eventbridge_handler, "eventbridge", event)


def test_security_hub_findings_resolved_suppressed_archived_or_passed_resolve_and_active_ones_stay(
    world: World,
) -> None:
    hub = world.aws.session.client("securityhub")
    hub.enable_security_hub()
    ids = ["f-resolved", "f-suppressed", "f-archived", "f-passed", "f-active"]
    open_issues_for_findings(world, [securityhub_finding(i) for i in ids])
    later = {"UpdatedAt": "2026-11-01T10:00:00.000Z"}
    hub.batch_import_findings(
        Findings=[
            securityhub_finding("f-resolved", "RESOLVED", **later),
            securityhub_finding("f-suppressed", "SUPPRESSED", **later),
            securityhub_finding("f-archived", **later, RecordState="ARCHIVED"),
            securityhub_finding("f-passed", **later, Compliance={"Status": "PASSED"}),
            securityhub_finding("f-active", **later),
        ]
    )

    counts = world.reconcile()["reconcile"]

    assert counts["checked"] == 5 and counts["resolved"] == 4 and counts["active"] == 1
    statuses = {issue.summary.split()[3]: issue.status for issue in world.jira.issues.values()}
    assert statuses == {
        "f-resolved": "Done",
        "f-suppressed": "Done",
        "f-archived": "Done",
        "f-passed": "Done",
        "f-active": "To Do",
    }


def guardduty_event(finding_id: str) -> dict[str, Any]:
    return eventbridge(
        "aws.guardduty",
        "GuardDuty Finding",
        {
            "id": finding_id,
            "accountId": ACCOUNT,
            "region": REGION,
            "type": "Recon:EC2/PortProbeUnprotectedPort",
            "title": f"Port probe {finding_id}",
            "severity": 5,
            "updatedAt": "2026-11-01T09:00:00.000Z",
            "arn": f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/{DETECTOR}/finding/{finding_id}",
        },
        f"gd-{finding_id}",
    )


def guardduty_finding(finding_id: str, *, archived: bool) -> dict[str, Any]:
    return {
        "AccountId": ACCOUNT,
        "Arn": f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/{DETECTOR}/finding/{finding_id}",
        "CreatedAt": "2026-11-01T08:00:00.000Z",
        "Id": finding_id,
        "Region": REGION,
        "Resource": {"ResourceType": "Instance"},
        "SchemaVersion": "2.0",
        "Severity": 5.0,
        "Type": "Recon:EC2/PortProbeUnprotectedPort",
        "UpdatedAt": "2026-11-01T10:00:00.000Z",
        "Service": {"Archived": archived, "ServiceName": "guardduty"},
    }


def test_guardduty_archived_findings_resolve_through_this_accounts_detector(world: World) -> None:
    from functions.eventbridge_to_jira.handler import lambda_handler as eventbridge_handler

    for finding_id in ("gd-archived", "gd-active", "gd-elsewhere"):
        world.invoke(eventbridge_handler, "eventbridge", guardduty_event(finding_id))
    guardduty = boto3.session.Session().client("guardduty")  # the stub the run will use
    stub = world.stubs["guardduty"]
    stub.add_response("list_detectors", {"DetectorIds": [DETECTOR]}, {})
    stub.add_response(
        "get_findings",
        {
            "Findings": [
                guardduty_finding("gd-archived", archived=True),
                guardduty_finding("gd-active", archived=False),
            ]
        },
        {"DetectorId": DETECTOR, "FindingIds": ["gd-archived", "gd-active", "gd-elsewhere"]},
    )
    assert guardduty is stub.client

    counts = world.reconcile()["reconcile"]

    assert counts["resolved"] == 1 and counts["active"] == 1 and counts["unchecked"] == 1
    by_summary = {issue.summary: issue.status for issue in world.jira.issues.values()}
    assert by_summary == {
        "GuardDuty: Port probe gd-archived": "Done",
        "GuardDuty: Port probe gd-active": "To Do",
        "GuardDuty: Port probe gd-elsewhere": "To Do",
    }


def health_event(status: str, event_id: str) -> dict[str, Any]:
    return eventbridge(
        "aws.health",
        "AWS Health Event",
        {
            "eventArn": HEALTH_ARN,
            "service": "EC2",
            "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE",
            "eventTypeCategory": "issue",
            "statusCode": status,
            "eventRegion": REGION,
            "affectedAccount": ACCOUNT,
            "startTime": "Sun, 01 Nov 2026 08:00:00 GMT",
            "lastUpdatedTime": "Sun, 01 Nov 2026 09:00:00 GMT",
            "eventDescription": [{"language": "en_US", "latestDescription": "Increased error rates."}],
            "affectedEntities": [{"entityValue": "i-0001"}, {"entityValue": "i-0002"}],
        },
        event_id,
    )


def test_a_closed_health_event_resolves_every_entity_issue_in_one_call(world: World) -> None:
    from functions.eventbridge_to_jira.handler import lambda_handler as eventbridge_handler

    world.invoke(eventbridge_handler, "eventbridge", health_event("open", "health-1"))
    boto3.session.Session().client("health", region_name="us-east-1")
    world.stubs["health"].add_response(
        "describe_events",
        {
            "events": [
                {
                    "arn": HEALTH_ARN,
                    "service": "EC2",
                    "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE",
                    "statusCode": "closed",
                    "lastUpdatedTime": datetime(2026, 11, 1, 11, tzinfo=UTC),
                }
            ]
        },
        {"filter": {"eventArns": [HEALTH_ARN]}, "maxResults": 100},
    )

    counts = world.reconcile()["reconcile"]

    assert counts["links"] == 2 and counts["resolved"] == 2
    assert {issue.status for issue in world.jira.issues.values()} == {"Done"}


def test_sources_with_no_state_are_left_alone_and_said_so(world: World) -> None:
    from tests.support.builders import notification_event

    world.invoke(sns_handler, "sns", notification_event("firing", message_id="n-1"))
    start = len(world.jira.requests)

    counts = world.reconcile()["reconcile"]

    assert counts["noSource"] == 1 and counts["unchecked"] == 0 and counts["checked"] == 0
    assert beyond_read_back(world.jira, start) == []


def test_the_run_reads_back_a_persons_decision_first_and_reconcile_then_leaves_the_issue_alone(world: World) -> None:
    world.alarm("api-5xx")
    world.fire("api-5xx")
    world.clock.now += 60
    world.jira.resolve_by_hand("OPS-1", "Done")  # a person resolves it while the alarm still fires
    world.alarm("api-5xx", "OK")  # then the alarm clears, and its OK notification is lost
    start = len(world.jira.requests)

    result = world.reconcile()

    assert list(result) == ["readback", "reconcile", "sync-back"]
    assert result["readback"]["links"] == 1  # one decision recorded
    # The person's decision holds while the alarm fires: reconcile asks its source, finds it cleared, and records
    # the clear that ends that episode (the next firing is a new one), without a write to the issue
    assert result["reconcile"]["links"] == 1 and result["reconcile"]["cleared"] == 1
    assert writes_since(world.jira, start) == []
    [state] = [state_from_item(item["pk"]["S"], item) for item in world.aws.state_items() if item.get("issueKey")]
    assert state.person_decision == PersonDecision.RESOLVED and state.person_resolution == "Done"
    assert state.alert_state is AlertState.RESOLVED
    assert world.issue(1).status == "Done" and world.issue(1).transitions == []


def test_the_run_emits_its_metrics(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.alarm("metered")
    world.fire("metered")
    world.alarm("metered", "OK")
    capsys.readouterr()

    world.reconcile()

    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    values = {k: v for blob in emitted for k, v in blob.items() if k.startswith("Reconcile")}
    assert values == {
        "ReconcileCompleted": [1.0],
        "ReconcileLinksChecked": [1.0],
        "ReconcileResolved": [1.0],
        "ReconcileUnchecked": [0.0],
    }


def test_a_run_and_ok_deliveries_at_the_same_moment_resolve_once(aws: Any, jira: Any, lambda_context: Any) -> None:
    """Real threads: a scheduled run and three deliveries of the lost OK, all released at once."""
    import threading

    cloudwatch = aws.session.client("cloudwatch")
    put_alarm(cloudwatch, "api-5xx", state=None)
    assert sns_handler(alarm_event("ALARM", 1, name="api-5xx", arn=alarm_arn("api-5xx")), lambda_context) == {
        "created": 1
    }
    # The issue was created a minute ago (the real clock runs here): the clears are not coalesced with the create
    dynamodb = aws.session.client("dynamodb")
    [item] = dynamodb.scan(TableName="jira-notifier-state")["Items"]
    dynamodb.update_item(
        TableName="jira-notifier-state",
        Key={"pk": item["pk"]},
        UpdateExpression="SET lastWriteAt = :then",
        ExpressionAttributeValues={":then": {"N": str(float(item["lastWriteAt"]["N"]) - 60)}},
    )
    cloudwatch.set_alarm_state(AlarmName="api-5xx", StateValue="OK", StateReason="cleared")
    ok = alarm_event("OK", 2, name="api-5xx", arn=alarm_arn("api-5xx"))
    calls = [lambda: reconcile_handler(SCHEDULE_EVENT, lambda_context)] + [lambda: sns_handler(ok, lambda_context)] * 3
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def call(target: Any) -> None:
        barrier.wait()
        try:
            target()
        except BaseException as error:  # collected, asserted below
            errors.append(error)

    threads = [threading.Thread(target=call, args=(target,)) for target in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == [] and not any(thread.is_alive() for thread in threads)
    assert jira.requests.count(("POST", "/rest/api/3/issue/OPS-1/transitions")) == 1, jira.requests
    assert jira.by_key("OPS-1").status == "Done" and jira.by_key("OPS-1").transitions == ["Done"]


def test_a_resolve_jira_refuses_is_reported_and_the_next_run_does_it(world: World) -> None:
    world.alarm("flaky")
    world.fire("flaky")
    world.alarm("flaky", "OK")
    world.jira.fail("POST", r"/rest/api/3/issue/OPS-1/transitions$", 503, times=20)

    failed = world.reconcile()["reconcile"]

    assert failed["failed"] == 1 and failed["resolved"] == 0
    assert any("jira-unavailable" in note for note in failed["notes"])
    world.jira.faults.clear()
    assert world.reconcile()["reconcile"]["resolved"] == 1
    assert world.issue(1).status == "Done" and world.issue(1).transitions == ["Done"]
