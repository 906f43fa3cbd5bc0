"""Back to AWS through the handlers as Lambda calls them: Security Hub workflow, anomaly feedback, GuardDuty archive.

moto implements none of BatchUpdateFindings, ProvideAnomalyFeedback and ArchiveFindings' effects on a finding's
workflow: botocore's ``Stubber`` answers them instead, and checks every request against the service model.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from jira_notifier.adapters.aws.syncback import MAX_DUE_ATTEMPTS
from jira_notifier.cli.invoke import load_handler
from jira_notifier.core.state import IssueState
from jira_notifier.entry import wiring
from tests.conftest import DEFAULT_PROVIDER, load_event
from tests.support.clocks import on_clock as put_on_clock
from tests.support.emf import metrics_emitted
from tests.support.fake_jira import SITE

FINDING = (
    "arn:aws:securityhub:eu-west-1:123456789012:security-control/S3.8/finding/4a6c8e0b-2d1f-4b3a-9c5e-7f0a2b4c6d8e"
)
PRODUCT = "arn:aws:securityhub:eu-west-1::product/aws/securityhub"
FINDING_KEY = f"securityhub:{PRODUCT}:{FINDING}"
ANOMALY = "3f9c2b71-8e4d-4a6b-9c1e-5d7f2a8b6e40"
DETECTOR = "6ab6e6ee780ed494f3b7ca56acdc74df"  # pragma: allowlist secret
GUARDDUTY_FINDING = "0ec6b8f1a2d3e4c5b6a7980f1e2d3c4b"  # pragma: allowlist secret
UPDATED = {"ProcessedFindings": [{"Id": FINDING, "ProductArn": PRODUCT}], "UnprocessedFindings": []}
ALL_CAPABILITIES = "securityhub,cost-anomaly,guardduty-archive"


def workflow(status: str, text: str) -> dict[str, Any]:
    """The BatchUpdateFindings request the finding's issue OPS-1 should cause."""
    return {
        "FindingIdentifiers": [{"Id": FINDING, "ProductArn": PRODUCT}],
        "Workflow": {"Status": status},
        "Note": {"Text": f"{text} Jira issue OPS-1: {SITE}/browse/OPS-1", "UpdatedBy": "jira-notifier"},
    }


@dataclass
class BackToAws:
    """Stubbed sync-back clients per (service, region), created only when the product asks for one."""

    stubbers: dict[tuple[str, str], Stubber] = field(default_factory=dict)
    created: list[tuple[str, str]] = field(default_factory=list)

    def stub(self, service: str, region: str) -> Stubber:
        if (service, region) not in self.stubbers:
            stubber = Stubber(boto3.client(service, region_name=region))  # type: ignore[call-overload]
            stubber.activate()
            self.stubbers[(service, region)] = stubber
        return self.stubbers[(service, region)]

    def client(self, session: Any, service: str, region: str) -> Any:
        self.created.append((service, region))
        return self.stub(service, region).client

    def assert_all_called(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@dataclass
class Clock:
    now: float = field(default_factory=time.time)

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def _no_metrics_carried_over() -> Iterator[None]:
    """Calls made outside a handler (the reconcile retry here) leave their metrics unflushed: not into the next test."""
    from jira_notifier.adapters.observability import metrics

    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def logged(caplog: pytest.LogCaptureFixture, message: str) -> list[str]:
    """The reasons logged with ``message``."""
    return [str(getattr(record, "reason", "")) for record in caplog.records if record.getMessage() == message]


@pytest.fixture
def back(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[BackToAws]:
    monkeypatch.setenv("SYNC_BACK", ALL_CAPABILITIES)
    stubs = BackToAws()
    monkeypatch.setattr(wiring, "sync_back_client", stubs.client)
    aws.put_provider(**{**DEFAULT_PROVIDER, "sync_back": True, "archive_wont_fix": True})
    yield stubs
    for stubber in stubs.stubbers.values():
        stubber.deactivate()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def on_clock(clock: Clock) -> Any:
    """The EventBridge function's notifier, its state store and its sync-back on the simulated clock."""
    notifier = wiring.get_notifier("eventbridge")
    return put_on_clock(notifier, lambda: clock.now, clock.sleep)


@pytest.fixture
def eventbridge(aws: Any, jira: Any, lambda_context: Any, clock: Clock) -> Any:
    """The EventBridge handler on a simulated clock: each delivery a minute (or ``after`` seconds) after the last."""
    handler = load_handler("eventbridge")

    def deliver(event: dict[str, Any], after: float = 60.0) -> Any:
        clock.now += after
        on_clock(clock)
        return handler(event, lambda_context)

    return deliver


def reconcile_run(clock: Clock) -> Any:
    """What the scheduled reconcile run does for sync-back, one interval after the last step."""
    clock.now += 15 * 60
    notifier = on_clock(clock)
    return notifier.deps.sync_back.retry_due(notifier.providers)


def due_items(aws: Any) -> list[dict[str, Any]]:
    return [json.loads(item["syncBackDue"]["S"]) for item in aws.state_items() if "syncBackDue" in item]


def stored_state(aws: Any, dedupe_key: str) -> IssueState:
    """The alert's state as the read-back of a person's decision finds it in the table."""
    [item] = [item for item in aws.state_items() if item["dedupeKey"]["S"] == dedupe_key]
    return IssueState(item["pk"]["S"], item["provider"]["S"], dedupe_key, issue_key=item["issueKey"]["S"])


# ---------------------------------------------------------------- Security Hub through the handler


def test_security_hub_finding_is_notified_on_create_and_resolved_when_it_clears(
    back: BackToAws, eventbridge: Any, jira: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    securityhub = back.stub("securityhub", "eu-west-1")
    securityhub.add_response("batch_update_findings", UPDATED, workflow("NOTIFIED", "Tracked in"))
    securityhub.add_response("batch_update_findings", UPDATED, workflow("RESOLVED", "Resolved in"))

    created = eventbridge(load_event("eventbridge_securityhub_finding.json"))
    resolved = eventbridge(load_event("eventbridge_securityhub_finding_passed.json"))

    assert (created, resolved) == ({"created": 1}, {"resolved": 1})
    assert jira.by_key("OPS-1").status == "Done"
    back.assert_all_called()  # both requests, in order, with the parameters above (validated by the model)
    assert back.created == [("securityhub", "eu-west-1")]  # one client, created on first use, in the finding's region
    assert metrics_emitted(capsys.readouterr().out).get("SyncBacksSent") == 2


def test_a_provider_without_sync_back_causes_no_aws_call(
    aws: Any, back: BackToAws, eventbridge: Any, jira: Any
) -> None:
    aws.put_provider(**DEFAULT_PROVIDER)  # the same provider, without --sync-back

    created = eventbridge(load_event("eventbridge_securityhub_finding.json"))
    resolved = eventbridge(load_event("eventbridge_securityhub_finding_passed.json"))

    assert (created, resolved) == ({"created": 1}, {"resolved": 1})
    assert back.created == []  # no client was even created
    assert due_items(aws) == []


def test_a_finding_suppressed_in_security_hub_is_not_set_back_to_resolved(back: BackToAws, eventbridge: Any) -> None:
    back.stub("securityhub", "eu-west-1").add_response(
        "batch_update_findings", UPDATED, workflow("NOTIFIED", "Tracked in")
    )
    event = load_event("eventbridge_securityhub_finding.json")
    suppressed = copy.deepcopy(event)
    suppressed["id"] = "b1d2c3e4-0000-4000-8000-000000000001"
    suppressed["detail"]["findings"][0]["Workflow"]["Status"] = "SUPPRESSED"
    suppressed["detail"]["findings"][0]["UpdatedAt"] = "2030-01-01T00:00:00.000Z"

    assert eventbridge(event) == {"created": 1}
    assert eventbridge(suppressed) == {"resolved": 1}
    back.assert_all_called()  # the NOTIFIED only: a person's SUPPRESSED stands


def test_a_failed_sync_back_costs_neither_the_issue_nor_its_resolve_and_is_retried_by_reconcile(
    aws: Any, back: BackToAws, eventbridge: Any, jira: Any, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    securityhub = back.stub("securityhub", "eu-west-1")
    securityhub.add_client_error("batch_update_findings", "ThrottlingException", "Rate exceeded", 429)
    securityhub.add_client_error("batch_update_findings", "InternalException", "try again", 500)

    created = eventbridge(load_event("eventbridge_securityhub_finding.json"))
    remembered = due_items(aws)
    resolved = eventbridge(load_event("eventbridge_securityhub_finding_passed.json"))

    # The issue was created and resolved all the same; each failure was counted, and the newest is remembered
    assert (created, resolved) == ({"created": 1}, {"resolved": 1})
    assert jira.by_key("OPS-1").status == "Done"
    assert metrics_emitted(capsys.readouterr().out).get("SyncBackFailed") == 2
    assert [due["request"]["params"]["Workflow"] for due in remembered] == [{"Status": "NOTIFIED"}]
    [due] = due_items(aws)
    assert due["request"]["params"] == workflow("RESOLVED", "Resolved in")
    assert due["reason"].startswith("BatchUpdateFindings refused: InternalException")
    # The next reconcile run sends it again, and it is forgotten once through
    securityhub.add_response("batch_update_findings", UPDATED, workflow("RESOLVED", "Resolved in"))
    report = reconcile_run(clock)

    assert (report.sent, report.failed) == (1, 0)
    assert due_items(aws) == []
    back.assert_all_called()


def test_after_a_failure_that_may_pass_the_same_api_rests_and_later_issues_are_remembered_untried(
    aws: Any, back: BackToAws, eventbridge: Any
) -> None:
    back.stub("securityhub", "eu-west-1").add_client_error(
        "batch_update_findings", "ThrottlingException", "Rate exceeded", 429
    )
    first = load_event("eventbridge_securityhub_finding.json")
    second = copy.deepcopy(first)
    second["id"] = "b1d2c3e4-0000-4000-8000-000000000002"
    second["detail"]["findings"][0]["Id"] = FINDING.replace("4a6c8e0b", "5b7d9f1c")

    assert eventbridge(first) == {"created": 1}
    assert eventbridge(second, after=5) == {"created": 1}  # within the rest: no call

    back.assert_all_called()
    assert sorted(due["reason"].split(":")[0] for due in due_items(aws)) == [
        "BatchUpdateFindings not tried",
        "BatchUpdateFindings refused",
    ]


def test_a_refused_sync_back_is_logged_with_its_reason_and_not_remembered(
    aws: Any, back: BackToAws, eventbridge: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    back.stub("securityhub", "eu-west-1").add_client_error(
        "batch_update_findings", "AccessDeniedException", "not authorized", 403
    )

    assert eventbridge(load_event("eventbridge_securityhub_finding.json")) == {"created": 1}

    assert metrics_emitted(capsys.readouterr().out).get("SyncBackFailed") == 1
    assert logged(caplog, "sync-back failed") == ["BatchUpdateFindings refused: AccessDeniedException not authorized"]
    assert due_items(aws) == []  # the same request would be refused again


def test_a_provider_asking_for_what_the_stack_does_not_allow_gets_a_reason_and_no_call(
    back: BackToAws,
    eventbridge: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SYNC_BACK", "cost-anomaly")  # deployed with SyncBackSecurityHub=false

    assert eventbridge(load_event("eventbridge_securityhub_finding.json")) == {"created": 1}

    assert back.created == []
    assert metrics_emitted(capsys.readouterr().out).get("SyncBackFailed") == 1
    [reason] = logged(caplog, "sync-back failed")
    assert "the stack was deployed with SyncBackSecurityHub=false; redeploy with SyncBackSecurityHub=true" in reason


# ---------------------------------------------------------------- a person's resolution, read back from Jira


def test_a_person_resolving_as_wont_fix_suppresses_the_finding(aws: Any, back: BackToAws, eventbridge: Any) -> None:
    securityhub = back.stub("securityhub", "eu-west-1")
    securityhub.add_response("batch_update_findings", UPDATED, workflow("NOTIFIED", "Tracked in"))
    securityhub.add_response("batch_update_findings", UPDATED, workflow("SUPPRESSED", "Resolved as Won't Do in"))
    eventbridge(load_event("eventbridge_securityhub_finding.json"))
    notifier = wiring.get_notifier("eventbridge")
    [provider] = notifier.providers.group_providers("ops")

    notifier.deps.sync_back.sync_resolution(provider, stored_state(aws, FINDING_KEY), "won't do")  # any case

    back.assert_all_called()


@pytest.mark.parametrize(("resolution", "feedback"), [("Done", "YES"), ("Won't Do", "NO")])
def test_a_cost_anomaly_gets_feedback_when_its_issue_is_resolved(
    aws: Any, back: BackToAws, eventbridge: Any, resolution: str, feedback: str
) -> None:
    back.stub("ce", "us-east-1").add_response(
        "provide_anomaly_feedback", {"AnomalyId": ANOMALY}, {"AnomalyId": ANOMALY, "Feedback": feedback}
    )
    assert eventbridge(load_event("eventbridge_cost_anomaly.json")) == {"created": 1}
    assert back.created == []  # an anomaly has no workflow to set on create
    notifier = wiring.get_notifier("eventbridge")
    [provider] = notifier.providers.group_providers("ops")

    notifier.deps.sync_back.sync_resolution(provider, stored_state(aws, f"cost-anomaly:{ANOMALY}"), resolution)

    back.assert_all_called()


def test_a_guardduty_finding_resolved_as_wont_fix_is_archived_with_its_detector(
    aws: Any, back: BackToAws, eventbridge: Any
) -> None:
    back.stub("guardduty", "eu-west-1").add_response(
        "archive_findings", {}, {"DetectorId": DETECTOR, "FindingIds": [GUARDDUTY_FINDING]}
    )
    assert eventbridge(load_event("eventbridge_guardduty_finding.json")) == {"created": 1}
    notifier = wiring.get_notifier("eventbridge")
    [provider] = notifier.providers.group_providers("ops")
    state = stored_state(aws, f"guardduty:{GUARDDUTY_FINDING}")

    notifier.deps.sync_back.sync_resolution(provider, state, "Done")  # done: GuardDuty has nothing to hear
    notifier.deps.sync_back.sync_resolution(provider, state, "Won't Do")

    back.assert_all_called()
    assert back.created == [("guardduty", "eu-west-1")]


def test_retry_drops_what_the_provider_no_longer_asks_for_and_gives_up_after_the_limit(
    aws: Any, back: BackToAws, eventbridge: Any, clock: Clock
) -> None:
    securityhub = back.stub("securityhub", "eu-west-1")
    securityhub.add_client_error("batch_update_findings", "ThrottlingException", "Rate exceeded", 429)
    eventbridge(load_event("eventbridge_securityhub_finding.json"))
    notifier = wiring.get_notifier("eventbridge")
    ledger = notifier.deps.sync_back.ledger  # type: ignore[attr-defined]
    [due] = ledger.due()
    # Tried and failed as often as allowed: the next failure gives it up
    ledger.remember(due.pk, due.provider, due.request, "throttled", MAX_DUE_ATTEMPTS)
    securityhub.add_client_error("batch_update_findings", "ThrottlingException", "Rate exceeded", 429)

    report = reconcile_run(clock)

    assert (report.given_up, due_items(aws)) == (1, [])
    # A provider turned off meanwhile: what it left due is dropped without a call
    ledger.remember(due.pk, due.provider, due.request, "throttled")
    aws.put_provider(**DEFAULT_PROVIDER)
    wiring.reset()
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()

    report = reconcile_run(clock)

    assert (report.dropped, due_items(aws)) == (1, [])
    back.assert_all_called()
