"""One lifecycle, every path: the ways a newer path (storms, reconcile, read-back, sync-back retries, escalation, the
bulk create) broke the rules of one alert's lifecycle, each beside a control where the same rule holds.

Through the handlers as Lambda calls them, on a simulated clock shared by the functions and the stand-in Jira:
moto for CloudWatch, Security Hub, DynamoDB and SQS; botocore ``Stubber``s for what moto lacks (Security Hub's
``BatchUpdateFindings``, CloudWatch's ``GetMetricWidgetImage``), which check every call against the service model.
Every request Jira received is checked against Atlassian's spec by the ``jira`` fixture. The bulk create's timing
case runs on the in-memory ports (``tests.support.fakes``): it needs a Jira that acts and then answers 502, and a
graph render that takes the time it takes in AWS.

Each known defect's case is marked ``xfail(strict=True)`` with its cause; the fix removes the marker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from functions.eventbridge_to_jira.handler import lambda_handler as eventbridge_handler
from functions.reconcile.handler import lambda_handler as reconcile_handler
from functions.sns_to_jira.handler import lambda_handler as sns_handler
from jira_notifier.entry import wiring
from tests.conftest import DEFAULT_PROVIDER, SECRET_NAME
from tests.support.builders import START, alarm_event
from tests.support.clocks import on_clock
from tests.support.fake_jira import SITE
from tests.support.lambda_sim import Context, LambdaTime
from tests.support.links import put_alarm

ACCOUNT, REGION = "123456789012", "us-east-1"  # the stack's, as the reconcile function's ARN names them
PRODUCT = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
FINDING_ID = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:security-control/S3.8/finding/5c1f0a7e-3b2d-4e6f-8a9b"
PROCESSED = {"ProcessedFindings": [{"Id": FINDING_ID, "ProductArn": PRODUCT}], "UnprocessedFindings": []}


def alarm_arn(name: str) -> str:
    return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"


@dataclass
class BackToAws:
    """The sync-back clients, stubbed; every call they were asked to make, in order, as (operation, params)."""

    stubbers: dict[tuple[str, str], Stubber] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def stub(self, service: str, region: str = REGION) -> Stubber:
        if (service, region) not in self.stubbers:
            client = boto3.client(service, region_name=region)  # type: ignore[call-overload]
            client.meta.events.register(
                "provide-client-params", lambda params, model, **_: self.calls.append((model.name, dict(params)))
            )
            self.stubbers[(service, region)] = Stubber(client)
            self.stubbers[(service, region)].activate()
        return self.stubbers[(service, region)]

    def client(self, session: Any, service: str, region: str) -> Any:
        return self.stub(service, region).client

    def workflows(self, since: int = 0) -> list[str]:
        """The Security Hub workflow statuses the product asked for, from call ``since`` on."""
        return [
            params["Workflow"]["Status"]
            for operation, params in self.calls[since:]
            if operation == "BatchUpdateFindings"
        ]


@dataclass
class Stack:
    """The deployed stack's functions on one simulated clock, with the alerts' sources in moto."""

    aws: Any
    jira: Any
    back: BackToAws
    clock: LambdaTime = field(default_factory=LambdaTime)

    def invoke(self, handler: Any, function: str, event: Any, *, after: float = 60.0) -> Any:
        """One invocation of ``function`` ``after`` seconds after the previous step; its result."""
        self.clock.now += after
        on_clock(wiring.get_notifier(function), self.clock.time, self.clock.sleep)
        self.clock.deadline = self.clock.now + (300.0 if function == "reconcile" else 60.0)
        return handler(event, Context(self.clock))

    # ---- CloudWatch alarms -------------------------------------------------------------------------------------

    def alarm(self, name: str, state: str, minutes: float) -> None:
        """The alarm as CloudWatch has it now, in ``state`` since ``minutes`` (the time its notification names, if
        one is sent; moto would stamp the machine's clock)."""
        from moto.cloudwatch.models import cloudwatch_backends

        put_alarm(self.aws.session.client("cloudwatch"), name, state)
        changed = (START + timedelta(minutes=minutes)).replace(tzinfo=None)  # moto keeps naive UTC
        cloudwatch_backends[ACCOUNT][REGION].alarms[name].state_updated_timestamp = changed

    def notify(self, name: str, state: str, minutes: float, *, after: float = 60.0) -> Any:
        """The alarm's notification of its change to ``state`` at ``minutes``, through the SNS function."""
        return self.invoke(sns_handler, "sns", alarm_event(state, minutes, name=name, arn=alarm_arn(name)), after=after)

    def scheduled_run(self, *, after: float = 900.0) -> dict[str, Any]:
        """One scheduled run (read-back, reconcile, sync-back), an interval after the previous step."""
        return dict(self.invoke(reconcile_handler, "reconcile", {}, after=after))

    # ---- Security Hub --------------------------------------------------------------------------------------------

    def finding_in_security_hub(self, **changes: Any) -> None:
        """The finding as Security Hub has it now (its events for other than NEW findings reach no function)."""
        self.aws.session.client("securityhub").batch_import_findings(Findings=[finding(**changes)])

    def finding_event(self, event_id: str, **changes: Any) -> Any:
        """A NEW finding's "Security Hub Findings - Imported" event, through the EventBridge function."""
        event = {
            "version": "0",
            "id": event_id,
            "detail-type": "Security Hub Findings - Imported",
            "source": "aws.securityhub",
            "account": ACCOUNT,
            "time": "2026-11-01T09:00:00Z",
            "region": REGION,
            "resources": [FINDING_ID],
            "detail": {"findings": [finding(**changes)]},
        }
        return self.invoke(eventbridge_handler, "eventbridge", event)

    def issue(self, number: int = 1) -> Any:
        return self.jira.by_key(f"OPS-{number}")

    def issues_naming(self, name: str) -> list[Any]:
        """The issues that carry an alert named ``name``: in their summary, or listed in a storm's member table."""
        return [i for i in self.jira.issues.values() if name in i.summary or name in member_table(i)]


def finding(**changes: Any) -> dict[str, Any]:
    """The Security Hub finding this file follows, failing, NEW; ``changes`` override its fields."""
    return {
        "SchemaVersion": "2018-10-08",
        "Id": FINDING_ID,
        "ProductArn": PRODUCT,
        "GeneratorId": "security-control/S3.8",
        "AwsAccountId": ACCOUNT,
        "Region": REGION,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "CreatedAt": "2026-11-01T08:00:00.000Z",
        "UpdatedAt": "2026-11-01T09:00:00.000Z",
        "Severity": {"Label": "HIGH"},
        "Title": "S3 general purpose buckets should block public access",
        "Description": "A bucket allows public access.",
        "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::example-public-bucket"}],
        "Compliance": {"Status": "FAILED"},
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
        **changes,
    }


def workflow_request(status: str, text: str) -> dict[str, Any]:
    """The BatchUpdateFindings request the finding's issue OPS-1 calls for."""
    return {
        "FindingIdentifiers": [{"Id": FINDING_ID, "ProductArn": PRODUCT}],
        "Workflow": {"Status": status},
        "Note": {"Text": f"{text} Jira issue OPS-1: {SITE}/browse/OPS-1", "UpdatedBy": "jira-notifier"},
    }


def member_table(issue: Any) -> str:
    """The text of a storm parent's member table (empty for any other issue)."""
    description = issue.fields.get("description") or {}
    tables = [block for block in description.get("content", []) if block.get("type") == "table"]
    return json.dumps(tables)


@pytest.fixture
def stack(aws: Any, jira: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    back = BackToAws()
    monkeypatch.setattr(wiring, "sync_back_client", back.client)
    monkeypatch.setenv("SYNC_BACK", "securityhub")
    found = Stack(aws, jira, back)
    jira.now = found.clock.jira_now
    jira.sleep = found.clock.sleep
    yield found
    for stubber in back.stubbers.values():
        stubber.deactivate()


def known_defect(reason: str) -> pytest.MarkDecorator:
    """A case that fails on today's code for ``reason``, and only by failing its assertions."""
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


def provider(aws: Any, **settings: Any) -> None:
    """The "ops" group's provider, as the tests of this file need it."""
    aws.put_provider(**{**DEFAULT_PROVIDER, **settings})
    wiring.reset()


# ---- 1. A person's decision plus one lost clear ------------------------------------------------------------------


@pytest.mark.parametrize(
    "clear_delivered",
    [
        pytest.param(True, id="control-the-ok-notification-arrives"),
        pytest.param(
            False,
            id="no-ok-notification",
        ),
    ],
)
@pytest.mark.parametrize("person", ["resolves", "deletes"])
def test_a_persons_decision_ends_with_its_episode_even_when_no_ok_notification_arrives(
    stack: Stack, person: str, clear_delivered: bool
) -> None:
    # Given an alarm whose issue a person resolves (or deletes) while it fires, recorded by the scheduled run
    stack.alarm("api-5xx", "ALARM", 1)
    assert stack.notify("api-5xx", "ALARM", 1) == {"created": 1}
    if person == "resolves":
        stack.jira.resolve_by_hand("OPS-1", "Done")
    else:
        stack.jira.delete_by_hand("OPS-1")
    assert stack.scheduled_run()["readback"]["links"] == 1

    # When the alarm clears (an alarm without an OK action sends no notification) and a run passes
    stack.alarm("api-5xx", "OK", 2)
    if clear_delivered:
        assert stack.notify("api-5xx", "OK", 2) == {"skipped": 1}
    stack.scheduled_run()

    # Then its next episode, whose own event says it came from OK, is followed again
    stack.alarm("api-5xx", "ALARM", 40)
    result = stack.notify("api-5xx", "ALARM", 40)
    if person == "resolves":
        assert result == {"reopened": 1}
        assert stack.issue(1).status == "To Do"
    else:
        assert result == {"created": 1}
        assert [issue.status for issue in stack.jira.issues.values()] == ["To Do"]


# ---- 2. Sync-back over a person's suppression ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("in_security_hub", "sent"),
    [
        pytest.param({"Compliance": {"Status": "PASSED"}}, ["NOTIFIED", "RESOLVED"], id="control-the-control-passes"),
        pytest.param(
            {"Workflow": {"Status": "SUPPRESSED"}},
            ["NOTIFIED"],
            id="a-person-suppressed-it",
        ),
    ],
)
def test_a_finding_cleared_by_the_scheduled_run_goes_back_to_aws_only_as_what_it_is(
    aws: Any, stack: Stack, in_security_hub: dict[str, Any], sent: list[str]
) -> None:
    provider(aws, sync_back=True)
    aws.session.client("securityhub").enable_security_hub()
    stack.finding_in_security_hub()
    securityhub = stack.back.stub("securityhub")
    securityhub.add_response("batch_update_findings", PROCESSED, workflow_request("NOTIFIED", "Tracked in"))
    securityhub.add_response("batch_update_findings", PROCESSED, workflow_request("RESOLVED", "Resolved in"))
    assert stack.finding_event("sh-1") == {"created": 1}

    # The finding changes in Security Hub; only the scheduled run can see it (the stack's rule passes NEW ones)
    stack.finding_in_security_hub(UpdatedAt="2026-11-01T10:00:00.000Z", **in_security_hub)
    counts = stack.scheduled_run()["reconcile"]

    assert counts["resolved"] == 1 and stack.issue(1).status == "Done"
    assert stack.back.workflows() == sent


@pytest.mark.parametrize(
    ("in_security_hub", "sent"),
    [
        pytest.param({}, ["NOTIFIED"], id="control-the-finding-is-still-new"),
        pytest.param(
            {"Workflow": {"Status": "SUPPRESSED"}},
            [],
            id="a-person-suppressed-it-since",
            marks=known_defect(
                "AwsSyncBack.issue_created sends NOTIFIED whatever the finding's workflow became since its NEW "
                "event, undoing a person's (or an automation rule's) SUPPRESSED"
            ),
        ),
    ],
)
def test_a_new_findings_issue_goes_back_to_aws_only_over_what_it_still_is(
    aws: Any, stack: Stack, in_security_hub: dict[str, Any], sent: list[str]
) -> None:
    provider(aws, sync_back=True)
    aws.session.client("securityhub").enable_security_hub()
    stack.back.stub("securityhub").add_response(
        "batch_update_findings", PROCESSED, workflow_request("NOTIFIED", "Tracked in")
    )
    # The finding as Security Hub has it when its NEW event reaches the function, moments after it left
    stack.finding_in_security_hub(UpdatedAt="2026-11-01T09:00:05.000Z", **in_security_hub)

    assert stack.finding_event("sh-1") == {"created": 1}

    assert stack.back.workflows() == sent


# ---- 3. A stale sync-back after a reopen -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fails_again",
    [
        pytest.param(False, id="control-the-finding-stays-passed"),
        pytest.param(
            True,
            id="the-finding-fails-again",
        ),
    ],
)
def test_a_remembered_sync_back_is_not_sent_once_the_issue_was_reopened(
    aws: Any, stack: Stack, fails_again: bool
) -> None:
    provider(aws, sync_back=True)
    aws.session.client("securityhub").enable_security_hub()
    stack.finding_in_security_hub()
    securityhub = stack.back.stub("securityhub")
    securityhub.add_response("batch_update_findings", PROCESSED, workflow_request("NOTIFIED", "Tracked in"))
    securityhub.add_client_error("batch_update_findings", "ThrottlingException", "Rate exceeded", 429)
    securityhub.add_response("batch_update_findings", PROCESSED)
    assert stack.finding_event("sh-1") == {"created": 1}

    # Given the finding passed, its issue was resolved by the scheduled run, and the RESOLVED was throttled
    stack.finding_in_security_hub(UpdatedAt="2026-11-01T10:00:00.000Z", Compliance={"Status": "PASSED"})
    assert stack.scheduled_run()["reconcile"]["resolved"] == 1
    assert stack.back.workflows() == ["NOTIFIED", "RESOLVED"]  # the second throttled, and remembered

    if fails_again:  # When the control fails again: a NEW finding, and its issue reopened
        stack.finding_in_security_hub(UpdatedAt="2026-11-01T11:00:00.000Z")
        assert stack.finding_event("sh-2", UpdatedAt="2026-11-01T11:00:00.000Z") == {"reopened": 1}
    since = len(stack.back.calls)
    stack.scheduled_run()

    # Then the next run sends the remembered RESOLVED only while it is still true
    if fails_again:
        assert "RESOLVED" not in stack.back.workflows(since)
        assert stack.issue(1).status == "To Do"
    else:
        assert stack.back.workflows(since) == ["RESOLVED"]


# ---- 4. A storm's parent and people ------------------------------------------------------------------------------

GROUPED = {"group_by": ("prefix:-",), "group_window": 600}


@pytest.mark.parametrize(
    "grouped",
    [
        pytest.param(False, id="control-an-issue-of-its-own"),
        pytest.param(
            True,
            id="a-storms-parent",
        ),
    ],
)
@pytest.mark.parametrize(
    ("resolution", "then"),
    [
        pytest.param("Won't Do", [("OK", 2), ("ALARM", 3)], id="wont-fix-then-cleared-and-fired-again"),
        pytest.param("Done", [("ALARM", 3)], id="resolved-while-firing-then-a-repeat"),
    ],
)
def test_an_issue_a_person_resolved_stays_resolved_for_what_their_decision_covers(
    aws: Any, stack: Stack, grouped: bool, resolution: str, then: list[tuple[str, float]]
) -> None:
    provider(aws, **(GROUPED if grouped else {}))
    assert stack.notify("orders-latency", "ALARM", 1) == ({"grouped": 1} if grouped else {"created": 1})
    stack.jira.resolve_by_hand("OPS-1", resolution)
    assert stack.scheduled_run()["readback"]["links"] == 1

    for state, minutes in then:
        stack.notify("orders-latency", state, minutes)

    assert stack.issue(1).status == "Done"
    assert stack.issue(1).transitions == []
    assert [issue.key for issue in stack.jira.issues.values()] == ["OPS-1"]


# ---- 5. Reconciling a storm's parent -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "grouped",
    [
        pytest.param(False, id="control-an-issue-of-its-own"),
        pytest.param(
            True,
            id="a-storms-parent",
        ),
    ],
)
def test_alarms_that_cleared_without_notification_have_their_issue_resolved_by_the_scheduled_run(
    aws: Any, stack: Stack, grouped: bool
) -> None:
    provider(aws, **(GROUPED if grouped else {}))
    for minutes, name in enumerate(("queue-depth", "queue-age"), 1):
        stack.alarm(name, "ALARM", minutes)
        stack.notify(name, "ALARM", minutes)
    open_before = [issue.key for issue in stack.jira.issues.values() if issue.status != "Done"]
    assert open_before == (["OPS-1"] if grouped else ["OPS-1", "OPS-2"])

    # Both clear, and no OK notification arrives
    stack.alarm("queue-depth", "OK", 3)
    stack.alarm("queue-age", "OK", 4)
    counts = stack.scheduled_run()["reconcile"]

    assert {issue.status for issue in stack.jira.issues.values()} == {"Done"}
    assert counts["unchecked"] == 0


@pytest.mark.parametrize(
    "grouped",
    [
        pytest.param(False, id="control-an-issue-of-its-own"),
        pytest.param(
            True,
            id="a-storms-parent",
        ),
    ],
)
def test_a_late_firing_never_makes_a_second_open_issue_beside_one_a_person_reopened(
    aws: Any, stack: Stack, grouped: bool
) -> None:
    provider(aws, **(GROUPED if grouped else {}))
    stack.notify("orders-latency", "ALARM", 1)
    stack.notify("orders-latency", "OK", 2)
    assert stack.issue(1).status == "Done"
    stack.jira.reopen_by_hand("OPS-1")  # a person thinks it is not over

    # A firing of the same minutes, replayed from the dead-letter queue eight days later (past the reopen window)
    name = "orders-errors" if grouped else "orders-latency"
    stack.notify(name, "ALARM", 3, after=8 * 86400)

    assert [issue.key for issue in stack.jira.issues.values() if issue.status != "Done"] == ["OPS-1"]


# ---- 6. A storm member whose clear arrives before its firing -----------------------------------------------------


@pytest.mark.parametrize(
    "grouped",
    [
        pytest.param(False, id="control-an-issue-of-its-own"),
        pytest.param(
            True,
            id="a-storm-member",
        ),
    ],
)
def test_a_firing_delivered_after_its_clear_still_leaves_its_episode_in_jira(
    aws: Any, stack: Stack, grouped: bool
) -> None:
    provider(aws, **(GROUPED if grouped else {}))

    # SNS and EventBridge keep no order: the clear arrives first, then the firing it ends
    stack.notify("disk-full", "OK", 2)
    stack.notify("disk-full", "ALARM", 1, after=1.0)

    carrying = stack.issues_naming("disk-full")
    assert [issue.status for issue in carrying] == ["Done"]


# ---- A clear after a person reopened the issue ---------------------------------------------------------------


@pytest.mark.parametrize(
    "firing_heard",
    [
        pytest.param(True, id="control-the-firing-is-notified-too"),
        pytest.param(
            False,
            id="only-the-clear-is-notified",
        ),
    ],
)
def test_a_clear_after_a_person_reopened_the_issue_resolves_it(stack: Stack, firing_heard: bool) -> None:
    stack.alarm("api-5xx", "ALARM", 1)
    stack.notify("api-5xx", "ALARM", 1)
    stack.alarm("api-5xx", "OK", 2)
    assert stack.notify("api-5xx", "OK", 2) == {"resolved": 1}
    stack.jira.reopen_by_hand("OPS-1")  # a person thinks it is not over

    # The alarm fires and clears again before the next scheduled run
    stack.alarm("api-5xx", "ALARM", 3)
    if firing_heard:
        assert stack.notify("api-5xx", "ALARM", 3) == {"commented": 1}
    stack.alarm("api-5xx", "OK", 4)
    assert stack.notify("api-5xx", "OK", 4) is not None
    stack.scheduled_run()

    assert stack.issue(1).status == "Done"


def test_a_firing_delivered_after_its_clear_leaves_its_episode_on_the_resolved_issue(stack: Stack) -> None:
    from jira_notifier.core.lifecycle import RECLEAR_NOTE

    assert stack.notify("disk-full", "ALARM", 1) == {"created": 1}
    assert stack.notify("disk-full", "OK", 2) == {"resolved": 1}
    comments = len(stack.issue(1).comments)

    # It fires and clears again: the clear arrives first, then the firing it ends
    assert stack.notify("disk-full", "OK", 4) == {"commented": 1}
    assert stack.notify("disk-full", "ALARM", 3, after=1.0) == {"skipped": 1}

    issue = stack.issue(1)
    assert [i.key for i in stack.jira.issues.values()] == ["OPS-1"] and issue.status == "Done"
    [trace] = issue.comments[comments:]
    assert RECLEAR_NOTE in json.dumps(trace)


@pytest.mark.parametrize("deleted", [False, True], ids=["control-the-reopened-issue-is-there", "a-person-deleted-it"])
def test_a_new_episode_finding_the_issue_deleted_after_a_reopen_opens_a_new_one(stack: Stack, deleted: bool) -> None:
    stack.alarm("orders-latency", "ALARM", 1)
    stack.notify("orders-latency", "ALARM", 1)
    stack.alarm("orders-latency", "OK", 2)
    assert stack.notify("orders-latency", "OK", 2) == {"resolved": 1}
    stack.jira.reopen_by_hand("OPS-1")  # the alarm is OK: a person reopens it all the same
    assert stack.scheduled_run()["readback"]["links"] == 1
    if deleted:  # and later deletes it; no read-back or webhook told the product yet
        stack.jira.delete_by_hand("OPS-1")

    # The alarm fires again: a new episode, by its own event (from OK, at a newer time)
    stack.alarm("orders-latency", "ALARM", 30)
    result = stack.notify("orders-latency", "ALARM", 30)

    assert result == ({"created": 1} if deleted else {"commented": 1})
    assert [issue.status for issue in stack.issues_naming("orders-latency")] == ["To Do"]
    assert stack.aws.dead_letters() == []


@pytest.mark.parametrize(
    "read_back_first",
    [
        pytest.param(True, id="control-the-resolve-is-read-back-before-the-next-firing"),
        pytest.param(
            False,
            id="the-next-firing-comes-first",
            marks=known_defect(
                "the read-back records a resolve as made while the alert fires (lifecycle.jira_says), though Jira's "
                "resolution date is before the firing that started the episode the state now follows, and the "
                "scheduled run never reopens an issue whose source is active"
            ),
        ),
    ],
)
def test_a_resolve_made_while_the_alarm_was_ok_does_not_hold_its_next_episode(
    stack: Stack, read_back_first: bool
) -> None:
    stack.clock.now = alarm_time_of(1)  # Jira's clock and the alarm's agree
    stack.alarm("api-5xx", "ALARM", 1)
    assert stack.notify("api-5xx", "ALARM", 1, after=0) == {"created": 1}
    stack.alarm("api-5xx", "OK", 2)  # it clears, and no OK notification comes
    stack.clock.now = alarm_time_of(5)
    stack.jira.resolve_by_hand("OPS-1", "Done")  # a person resolves its issue: the alarm is OK
    if read_back_first:
        stack.scheduled_run(after=60)

    # The alarm fires again: a new episode, by its own event (from OK, at a newer time)
    stack.clock.now = alarm_time_of(40)
    stack.alarm("api-5xx", "ALARM", 40)
    stack.notify("api-5xx", "ALARM", 40, after=0)
    stack.scheduled_run()

    assert stack.issue(1).status == "To Do"


# ---- An issue a person deleted, and the changes that follow ------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "grouped"),
    [
        pytest.param("resolves", False, id="control-a-person-resolved-it"),
        pytest.param(
            "deletes",
            False,
            id="a-person-deleted-it",
        ),
        pytest.param(
            "deletes",
            True,
            id="a-person-deleted-a-storms-parent",
        ),
    ],
)
def test_a_clear_after_a_person_closed_the_issue_is_recorded_and_the_next_episode_followed(
    aws: Any, stack: Stack, person: str, grouped: bool
) -> None:
    provider(aws, **(GROUPED if grouped else {}))
    stack.notify("orders-latency", "ALARM", 1)
    if person == "resolves":
        stack.jira.resolve_by_hand("OPS-1", "Done")
    else:
        stack.jira.delete_by_hand("OPS-1")

    # The alarm clears: the OK notification arrives before any read-back saw what the person did
    cleared = stack.notify("orders-latency", "OK", 2)
    assert stack.aws.dead_letters() == [], cleared

    # Then the next episode is followed again: reopened, or in a new issue
    stack.notify("orders-latency", "ALARM", 3)
    [following] = [issue for issue in stack.issues_naming("orders-latency") if issue.status != "Done"]
    assert following.key == ("OPS-1" if person == "resolves" else "OPS-2")


@pytest.mark.parametrize(
    "grouped",
    [
        pytest.param(False, id="control-issues-of-their-own"),
        pytest.param(
            True,
            id="a-storms-parent",
        ),
    ],
)
def test_an_issue_a_person_deleted_is_not_made_again_while_its_alerts_fire(
    aws: Any, stack: Stack, grouped: bool
) -> None:
    provider(aws, **(GROUPED if grouped else {}))
    for minutes, name in enumerate(("orders-latency", "orders-errors"), 1):
        stack.alarm(name, "ALARM", minutes)  # as CloudWatch has it: the scheduled run asks
        stack.notify(name, "ALARM", minutes)
    for key in [issue.key for issue in stack.jira.issues.values()]:  # a person deletes what was made
        stack.jira.delete_by_hand(key)
    assert stack.scheduled_run()["readback"]["links"] == (1 if grouped else 2)  # the deletions, read back

    # One alarm clears while the other goes on firing, its notification repeated
    stack.alarm("orders-latency", "OK", 3)
    stack.notify("orders-latency", "OK", 3)
    repeat = alarm_event("ALARM", 2, name="orders-errors", arn=alarm_arn("orders-errors"))
    stack.invoke(sns_handler, "sns", repeat)

    assert list(stack.jira.issues.values()) == []
    assert stack.aws.dead_letters() == []


# ---- 7. A buffered bulk create whose marks aged while graphs were drawn ------------------------------------------


LAMBDA_RETRIES = (60.0, 120.0, 240.0)  # seconds after the first attempt: the delivery, then Lambda's two retries


def bulk_world(graph_seconds: float) -> Any:
    """A notifier on the in-memory ports whose new alarm issues carry a graph that takes ``graph_seconds`` to draw
    (``GetMetricWidgetImage``, stubbed: each call takes that long on the shared clock)."""
    from jira_notifier.adapters.aws.insight import CloudWatchReader, LogsReader
    from jira_notifier.app.insight import AlarmInsights
    from jira_notifier.core.budgets import START_BUDGET_SECONDS
    from jira_notifier.core.config import JiraSecret, ProviderConfig
    from tests.support.fakes import in_memory
    from tests.support.png import png

    settings = {**DEFAULT_PROVIDER, "log_evidence": False}
    ports = in_memory(ProviderConfig(**settings), JiraSecret(SECRET_NAME, "svc@example.com", "fake-token", SITE))
    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
    cloudwatch.meta.events.register(
        "before-parameter-build.cloudwatch.GetMetricWidgetImage", lambda **_: ports.clock.sleep(graph_seconds)
    )
    stubber = Stubber(cloudwatch)
    for _ in range(60):
        stubber.add_response("get_metric_widget_image", {"MetricWidgetImage": png()})
    stubber.activate()
    ports.deps.insights = AlarmInsights(
        cloudwatch=CloudWatchReader(lambda: cloudwatch),
        logs=LogsReader(lambda: None),  # type: ignore[arg-type, return-value]
        recorder=ports.deps.recorder,
        account=ACCOUNT,
        region="eu-west-1",
        reserve_seconds=START_BUDGET_SECONDS,
    )
    return ports


@pytest.mark.parametrize(
    "buffered",
    [
        pytest.param(False, id="control-a-single-create"),
        pytest.param(
            True,
            id="a-bulk-create-of-50",
        ),
    ],
)
def test_a_create_answered_502_after_jira_acted_makes_one_issue_even_with_a_lagging_search(buffered: bool) -> None:
    from jira_notifier.app.batch import Batch
    from jira_notifier.core.errors import CreateUnconfirmedError, JiraUnavailableError
    from jira_notifier.sources import normalize_sqs_record, read_sns
    from tests.integration.test_sqs_batch import alarm, sqs_record
    from tests.support.builders import sns_event

    ports = bulk_world(graph_seconds=0.7)  # GetMetricWidgetImage's usual second or less
    ports.jira.search_lag = 30.0  # within what recovery allows for (SEARCH_SETTLE_SECONDS)
    messages = [alarm(n) for n in range(50 if buffered else 1)]
    bad_gateway = JiraUnavailableError("Jira answered 502", status=502, ambiguous=True)
    started = ports.clock.now

    # Jira creates the issues, then answers 502
    if buffered:
        ports.jira.fail("bulk", bad_gateway, acted=True)
        records = [sqs_record(message) for message in messages]
        result = Batch(ports.notify, normalize_sqs_record).process(records, lambda: started + 240 - ports.clock.now)
        assert len(result.failed) == 50
    else:
        ports.jira.fail("create", bad_gateway, acted=True)
        with pytest.raises(JiraUnavailableError):
            ports.notify.process(read_sns(sns_event(messages[0]))[0], event={}, remaining=lambda: 60.0)
    assert len(ports.jira.issues) == len(messages)

    # When the first alarm's transition arrives on its second channel, a minute after its lease was busy, and is
    # retried as Lambda retries it while the product cannot yet tell whether the create landed
    [second] = read_sns(sns_event(messages[0]))
    for retried_after in LAMBDA_RETRIES:
        ports.clock.now = started + retried_after
        try:
            ports.notify.process(second, event={}, remaining=lambda: 60.0)
        except CreateUnconfirmedError:
            continue
        break
    else:
        pytest.fail("the delivery was still unconfirmed after Lambda's last retry")

    # Then its issue is found, not made again
    label = second.dedupe_label
    assert [issue.key for issue in ports.jira.issues.values() if label in issue.labels] == ["OPS-1"]


# ---- 8. Escalation and a person's priority -----------------------------------------------------------------------

ESCALATING = {
    "priority_map": {"critical": "Highest", "high": "Medium", "medium": "Low"},
    "escalate_after": ((4 * 3600.0, "High"), (24 * 3600.0, "Highest")),
}


@pytest.mark.parametrize(
    "set_by_hand",
    [
        pytest.param("Low", id="control-a-priority-no-step-names"),
        pytest.param(
            "High",
            id="the-priority-of-the-next-step",
        ),
    ],
)
def test_a_priority_a_person_set_is_never_raised(aws: Any, stack: Stack, set_by_hand: str) -> None:
    provider(aws, **ESCALATING)
    stack.clock.now = alarm_time_of(0)  # the alarm fires now
    assert stack.notify("api-5xx", "ALARM", 0, after=0) == {"created": 1}
    assert stack.issue(1).fields["priority"] == {"name": "Medium"}
    stack.clock.now += 3600
    stack.jira.set_priority_by_hand("OPS-1", set_by_hand)

    # The alarm repeats past each escalation step (CloudWatch repeats an alarm action, a message is re-published)
    for hours in (5, 25):
        stack.clock.now = alarm_time_of(0) + hours * 3600
        stack.notify("api-5xx", "ALARM", 0, after=0)

    assert stack.issue(1).fields["priority"] == {"name": set_by_hand}
    assert not [c for c in stack.jira.mock.calls if c.request.method == "PUT"]


def test_control_an_edit_of_the_priority_whose_answer_was_lost_is_recognised_as_the_products_own(
    aws: Any, stack: Stack
) -> None:
    provider(aws, **ESCALATING)
    stack.clock.now = alarm_time_of(0)
    assert stack.notify("api-5xx", "ALARM", 0, after=0) == {"created": 1}

    # Past the first step, Jira applies the edit but every answer is lost; Lambda retries the delivery
    stack.clock.now = alarm_time_of(0) + 5 * 3600
    stack.jira.fail("PUT", r"/rest/api/3/issue/OPS-1$", 502, after=True, times=4)
    with pytest.raises(Exception, match="502"):
        stack.notify("api-5xx", "ALARM", 0, after=0)
    stack.notify("api-5xx", "ALARM", 0, after=60)
    assert stack.issue(1).fields["priority"] == {"name": "High"}

    # Past the second step, the product raises its own priority again
    stack.clock.now = alarm_time_of(0) + 25 * 3600
    stack.notify("api-5xx", "ALARM", 0, after=0)
    assert stack.issue(1).fields["priority"] == {"name": "Highest"}


def alarm_time_of(minutes: float) -> float:
    """The epoch seconds of the alarm's state change at ``minutes`` (``builders.alarm_time``)."""
    return START.timestamp() + minutes * 60
