"""Reading a link's dedupe key back into its source's name for the alert, and batching within each API's limit."""

from __future__ import annotations

import pytest

from jira_notifier.app.reconcile import batches
from jira_notifier.sources.truth import (
    AlarmTruth,
    HealthTruth,
    SourceRef,
    Truth,
    _alarm_answer,
    _securityhub_answer,
    source_ref,
)
from tests.support.builders import alarm_event, alerts_in

HEALTH_ARN = "arn:aws:health:eu-west-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_7f35c8ae"
PRODUCT = "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"


def test_an_alarm_key_names_the_alarm_its_account_and_region() -> None:
    [alert] = alerts_in(alarm_event("ALARM", 0, name="api:5xx high"))  # a name may hold ':'

    ref = source_ref(alert.dedupe_key.replace("api-5xx-high", "api:5xx high"))

    assert ref == SourceRef("cloudwatch-alarm", "api:5xx high", "123456789012", "eu-west-1")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (
            f"securityhub:{PRODUCT}:arn:aws:securityhub:eu-west-1:123456789012:subscription/cis/v/1.2.0/1.1/finding/9",
            SourceRef(
                "securityhub",
                "arn:aws:securityhub:eu-west-1:123456789012:subscription/cis/v/1.2.0/1.1/finding/9",
                None,
                "eu-west-1",
                PRODUCT,
            ),
        ),
        ("guardduty:finding-42", SourceRef("guardduty", "finding-42")),
        (f"health:{HEALTH_ARN}:123456789012", SourceRef("health", HEALTH_ARN, "123456789012", "eu-west-1")),
        (f"health:{HEALTH_ARN}:123456789012:i-0abc", SourceRef("health", HEALTH_ARN, "123456789012", "eu-west-1")),
    ],
    ids=["securityhub", "guardduty", "health", "health-entity"],
)
def test_finding_and_event_keys_name_what_their_api_takes(key: str, expected: SourceRef) -> None:
    assert source_ref(key) == expected


@pytest.mark.parametrize(
    "key",
    [
        "cost-anomaly:abc",
        "budget:123:monthly:ACTUAL:80:2026-11",
        "notification:k",
        "generic:m-1",
        "securityhub:not-an-arn:id",
        "cloudwatch-alarm:garbage",
        "guardduty:",
    ],
)
def test_keys_with_no_source_state_or_unreadable_name_nothing_to_ask(key: str) -> None:
    assert source_ref(key) is None


def test_batches_respect_the_limit_and_share_a_slot_per_event() -> None:
    refs = [SourceRef("health", f"arn-{n // 2}", "1") for n in range(30)]  # two entities per event

    sizes = [len(batch) for batch in batches(refs, 10)]

    assert sizes == [10, 5]


def test_alarm_states() -> None:
    assert _alarm_answer("a", None).truth is Truth.GONE
    assert _alarm_answer("a", {"StateValue": "OK"}).truth is Truth.CLEARED
    assert _alarm_answer("a", {"StateValue": "ALARM"}).truth is Truth.ACTIVE
    assert _alarm_answer("a", {"StateValue": "INSUFFICIENT_DATA"}).truth is Truth.ACTIVE


@pytest.mark.parametrize(
    ("finding", "truth"),
    [
        ({"Workflow": {"Status": "RESOLVED"}}, Truth.CLEARED),
        ({"Workflow": {"Status": "SUPPRESSED"}}, Truth.CLEARED),
        ({"RecordState": "ARCHIVED"}, Truth.CLEARED),
        ({"Compliance": {"Status": "PASSED"}}, Truth.CLEARED),
        ({"Workflow": {"Status": "NOTIFIED"}, "Compliance": {"Status": "FAILED"}}, Truth.ACTIVE),
    ],
    ids=["resolved", "suppressed", "archived", "passed", "notified"],
)
def test_security_hub_states(finding: dict[str, object], truth: Truth) -> None:
    assert _securityhub_answer(finding).truth is truth


def test_reach_alarms_elsewhere_and_health_of_other_accounts_are_out_of_reach() -> None:
    alarms = AlarmTruth(lambda: None, "123456789012", "us-east-1")  # type: ignore[arg-type,return-value]
    health = HealthTruth(lambda: None, "123456789012")  # type: ignore[arg-type,return-value]

    assert alarms.out_of_reach(SourceRef("cloudwatch-alarm", "a", "123456789012", "us-east-1")) is None
    assert alarms.out_of_reach(SourceRef("cloudwatch-alarm", "a", "123456789012", "eu-west-1"))
    assert alarms.out_of_reach(SourceRef("cloudwatch-alarm", "a", "210987654321", "us-east-1"))
    assert health.out_of_reach(SourceRef("health", HEALTH_ARN, "123456789012")) is None
    assert health.out_of_reach(SourceRef("health", HEALTH_ARN, "210987654321"))
