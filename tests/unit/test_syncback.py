"""What goes back to AWS for each source and decision (pure), checked against botocore's service models."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters

from jira_notifier.adapters.aws.sync_requests import (
    Capability,
    Detector,
    SyncRequest,
    capabilities_needed,
    decision_for,
    detector_of,
    parse_capabilities,
    request_for,
)
from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.findingnotes import NOTE_LIMIT, Decision, IssueRef
from jira_notifier.sources import read_eventbridge

PRODUCT = "arn:aws:securityhub:eu-west-1::product/aws/securityhub"
FINDING = "arn:aws:securityhub:eu-west-1:123456789012:security-control/S3.8/finding/4a6c8e0b"
FINDING_KEY = f"securityhub:{PRODUCT}:{FINDING}"
ISSUE = IssueRef("OPS-7", "https://example.atlassian.net/browse/OPS-7")
DETECTOR = Detector("6ab6e6ee780ed494f3b7ca56acdc74df", "eu-west-1")
PROVIDER = ProviderConfig(
    group="ops",
    name="jira",
    project="OPS",
    issue_type="Task",
    secret="jira-notifier/ops",
    wont_fix_resolution="Won't Do",
    sync_back=True,
    archive_wont_fix=True,
)


def valid_for_aws(request: SyncRequest) -> SyncRequest:
    """The request as botocore would send it: its parameters checked against the service model."""
    model = botocore.session.get_session().get_service_model(request.service)
    validate_parameters(dict(request.params), model.operation_model(request.operation).input_shape)
    return request


def alert(raw: Any, source: str = "securityhub") -> Alert:
    return Alert(source=source, dedupe_key="k", delivery_key="d", state=AlertState.RESOLVED, title="t", raw=raw)


@pytest.mark.parametrize(
    ("resolution", "decision"),
    [("Won't Do", Decision.WONT_FIX), ("WON'T DO", Decision.WONT_FIX), ("Done", Decision.DONE), (None, Decision.DONE)],
)
def test_the_won_t_fix_resolution_in_any_case_is_won_t_fix_and_anything_else_done(
    resolution: str | None, decision: Decision
) -> None:
    assert decision_for(resolution, PROVIDER) is decision
    assert decision_for(resolution, replace(PROVIDER, wont_fix_resolution=None)) is Decision.DONE


@pytest.mark.parametrize(
    ("decision", "status", "note"),
    [
        (Decision.NOTIFIED, "NOTIFIED", "Tracked in Jira issue OPS-7: https://example.atlassian.net/browse/OPS-7"),
        (Decision.DONE, "RESOLVED", "Resolved in Jira issue OPS-7: https://example.atlassian.net/browse/OPS-7"),
        (
            Decision.WONT_FIX,
            "SUPPRESSED",
            "Resolved as Won't Do in Jira issue OPS-7: https://example.atlassian.net/browse/OPS-7",
        ),
    ],
)
def test_security_hub_workflow_follows_the_issue_in_the_finding_s_region(
    decision: Decision, status: str, note: str
) -> None:
    request = valid_for_aws(request_for(FINDING_KEY, decision, PROVIDER, ISSUE))  # type: ignore[arg-type]

    assert (request.capability, request.service, request.region) == (
        Capability.SECURITY_HUB,
        "securityhub",
        "eu-west-1",
    )
    assert request.params == {
        "FindingIdentifiers": [{"Id": FINDING, "ProductArn": PRODUCT}],
        "Workflow": {"Status": status},
        "Note": {"Text": note, "UpdatedBy": "jira-notifier"},
    }


def test_a_note_never_exceeds_security_hub_s_limit() -> None:
    long_link = IssueRef("OPS-7", "https://example.atlassian.net/browse/" + "x" * 600)
    request = valid_for_aws(request_for(FINDING_KEY, Decision.DONE, PROVIDER, long_link))  # type: ignore[arg-type]

    assert len(request.params["Note"]["Text"]) == NOTE_LIMIT


@pytest.mark.parametrize(
    ("decision", "feedback"), [(Decision.NOTIFIED, None), (Decision.DONE, "YES"), (Decision.WONT_FIX, "NO")]
)
def test_a_cost_anomaly_gets_feedback_only_once_resolved(decision: Decision, feedback: str | None) -> None:
    request = request_for("cost-anomaly:3f9c2b71", decision, PROVIDER, ISSUE)

    if feedback is None:
        assert request is None
    else:
        assert request is not None
        assert valid_for_aws(request).params == {"AnomalyId": "3f9c2b71", "Feedback": feedback}
        assert (request.service, request.region) == ("ce", "us-east-1")


def test_a_guardduty_finding_is_archived_only_as_won_t_fix_when_asked_and_its_detector_is_known() -> None:
    archive = request_for("guardduty:0ec6b8f1", Decision.WONT_FIX, PROVIDER, ISSUE, DETECTOR)

    assert archive is not None
    assert valid_for_aws(archive).params == {"DetectorId": DETECTOR.detector_id, "FindingIds": ["0ec6b8f1"]}
    assert (archive.capability, archive.region) == (Capability.GUARDDUTY_ARCHIVE, "eu-west-1")
    assert request_for("guardduty:0ec6b8f1", Decision.DONE, PROVIDER, ISSUE, DETECTOR) is None
    assert request_for("guardduty:0ec6b8f1", Decision.WONT_FIX, PROVIDER, ISSUE, None) is None
    not_asked = replace(PROVIDER, archive_wont_fix=False)
    assert request_for("guardduty:0ec6b8f1", Decision.WONT_FIX, not_asked, ISSUE, DETECTOR) is None


@pytest.mark.parametrize(
    "dedupe_key",
    [
        "cloudwatch-alarm:arn:aws:cloudwatch:eu-west-1:123456789012:alarm:cpu",  # no workflow to tell
        "health:arn:aws:health:eu-west-1::event/EC2/x",
        "securityhub:not-an-arn:id",  # a key that cannot name the finding
        f"securityhub:{PRODUCT}:",
    ],
)
def test_nothing_is_sent_for_other_sources_or_keys_that_name_no_finding(dedupe_key: str) -> None:
    assert all(request_for(dedupe_key, decision, PROVIDER, ISSUE, DETECTOR) is None for decision in Decision)


def test_a_provider_without_sync_back_sends_nothing_to_security_hub_or_cost_explorer() -> None:
    off = replace(PROVIDER, sync_back=False, archive_wont_fix=False)

    assert capabilities_needed(off) == set()
    assert request_for(FINDING_KEY, Decision.NOTIFIED, off, ISSUE) is None
    assert request_for("cost-anomaly:3f9c2b71", Decision.DONE, off, ISSUE) is None
    assert capabilities_needed(PROVIDER) == set(Capability)


def test_the_detector_comes_from_the_finding_s_arn() -> None:
    arn = "arn:aws:guardduty:eu-west-1:123456789012:detector/6ab6e6ee780ed494f3b7ca56acdc74df/finding/0ec6b8f1"

    assert detector_of(alert({"detail": {"arn": arn}}, "guardduty")) == DETECTOR
    assert detector_of(alert({"detail": {"arn": "arn:aws:guardduty:eu-west-1:123456789012:detector/x"}})) is None
    assert detector_of(alert("plain text")) is None


def test_a_suppressed_finding_is_read_as_the_source_s_own_won_t_fix() -> None:
    # The sync-back decides from what the source says now (the reader's ``wont_fix``), never from the raw event
    finding = {"Id": FINDING, "ProductArn": PRODUCT, "Workflow": {"Status": "SUPPRESSED"}, "RecordState": "ACTIVE"}
    event = {"detail-type": "Security Hub Findings - Imported", "source": "aws.securityhub", "id": "e-1"}
    [read] = read_eventbridge({**event, "detail": {"findings": [finding]}})
    assert read.wont_fix and read.state is AlertState.RESOLVED


def test_the_stack_s_capabilities_are_read_from_its_variable() -> None:
    assert parse_capabilities("securityhub,,guardduty-archive") == {
        Capability.SECURITY_HUB,
        Capability.GUARDDUTY_ARCHIVE,
    }
    assert parse_capabilities(",,") == parse_capabilities("") == frozenset()
    assert parse_capabilities("securityhub, unknown") == {Capability.SECURITY_HUB}


def test_a_remembered_request_reads_back_as_it_was_written() -> None:
    request = request_for(FINDING_KEY, Decision.DONE, PROVIDER, ISSUE)
    assert request is not None

    assert SyncRequest.from_json(request.to_json()) == request


def test_the_provider_keeps_its_sync_back_settings_and_older_providers_have_none() -> None:
    stored = PROVIDER.to_item()
    older = {k: v for k, v in stored.items() if k not in ("syncBack", "archiveWontFix")}

    assert (stored["syncBack"], stored["archiveWontFix"]) == (True, True)
    assert ProviderConfig.from_item(stored) == PROVIDER
    assert ProviderConfig.from_item(older) == replace(PROVIDER, sync_back=False, archive_wont_fix=False)
