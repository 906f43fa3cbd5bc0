"""Priority follows impact: the pure decision (``impact.py``)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from jira_notifier.core.alert import Alert, AlertState, Severity
from jira_notifier.core.config import ConfigError, ProviderConfig
from jira_notifier.core.impact import higher, priority_to_raise, wanted_priority
from jira_notifier.core.state import IssueState, IssueStatus
from jira_notifier.core.units import parse_steps

PROVIDER = ProviderConfig(
    group="ops",
    name="jira",
    project="OPS",
    issue_type="Task",
    secret="s",
    priority_map={"critical": "Highest", "high": "High", "medium": "Medium"},
    impact_steps=((100.0, "High"), (1000.0, "Highest")),
    budget_steps=((100.0, "Highest"),),
    escalate_after=((4 * 3600.0, "High"), (24 * 3600.0, "Highest")),
)
NOW = 1_800_000_000.0


def alert(source: str = "cost-anomaly", *, impact: float | None = None, severity: Severity = Severity.MEDIUM) -> Alert:
    return Alert(source, "k", "d", AlertState.FIRING, "t", severity=severity, impact=impact)


def open_issue(priority_set: str | None = "Medium", *, firing_since: float = NOW) -> IssueState:
    return IssueState(
        pk="ops/jira#k",
        provider="ops/jira",
        dedupe_key="k",
        issue_id="10001",
        issue_key="OPS-1",
        issue_status=IssueStatus.OPEN,
        alert_state=AlertState.FIRING,
        transition_at=int(firing_since * 1000),
        priority_set=priority_set,
    )


@pytest.mark.parametrize(
    ("impact", "wanted"), [(None, "Medium"), (99.99, "Medium"), (100, "High"), (999, "High"), (1000, "Highest")]
)
def test_an_anomaly_calls_for_the_step_its_total_impact_reached(impact: float | None, wanted: str) -> None:
    assert wanted_priority(alert(impact=impact), PROVIDER, None) == wanted


def test_a_budget_calls_for_the_step_of_its_threshold_percentage() -> None:
    assert wanted_priority(alert("budget", impact=80, severity=Severity.HIGH), PROVIDER, None) == "High"
    assert wanted_priority(alert("budget", impact=100, severity=Severity.HIGH), PROVIDER, None) == "Highest"


def test_steps_of_one_source_never_apply_to_another() -> None:
    assert wanted_priority(alert("generic", impact=5000), PROVIDER, None) == "Medium"


def test_severity_wins_when_higher_than_the_step() -> None:
    assert wanted_priority(alert(impact=150, severity=Severity.CRITICAL), PROVIDER, None) == "Highest"


def test_a_growing_anomaly_raises_one_step() -> None:
    assert priority_to_raise(open_issue(), alert(impact=150), PROVIDER, NOW, fresh=True) == "High"


def test_a_shrinking_anomaly_never_lowers() -> None:
    assert priority_to_raise(open_issue("Highest"), alert(impact=150), PROVIDER, NOW, fresh=True) is None


def test_the_same_priority_is_not_set_again() -> None:
    assert priority_to_raise(open_issue("High"), alert(impact=150), PROVIDER, NOW, fresh=True) is None


def test_a_priority_the_product_does_not_hold_is_never_raised() -> None:
    assert priority_to_raise(open_issue(None), alert(impact=5000), PROVIDER, NOW, fresh=True) is None


@pytest.mark.parametrize("status", [IssueStatus.NONE, IssueStatus.RESOLVED])
def test_only_an_open_issue_is_raised(status: IssueStatus) -> None:
    state = replace(open_issue(), issue_status=status)
    assert priority_to_raise(state, alert(impact=5000), PROVIDER, NOW, fresh=True) is None


def test_a_stale_delivery_counts_only_the_time_firing() -> None:
    assert priority_to_raise(open_issue(), alert(impact=5000), PROVIDER, NOW, fresh=False) is None
    long_ago = open_issue(firing_since=NOW - 5 * 3600)
    assert priority_to_raise(long_ago, alert(impact=5000), PROVIDER, NOW, fresh=False) == "High"


@pytest.mark.parametrize(
    ("hours", "wanted"), [(3.9, None), (4, "High"), (23.9, "High"), (24, "Highest"), (100, "Highest")]
)
def test_an_alarm_firing_longer_escalates(hours: float, wanted: str | None) -> None:
    state = open_issue(firing_since=NOW - hours * 3600)
    alarm = alert("cloudwatch-alarm")
    assert priority_to_raise(state, alarm, PROVIDER, NOW, fresh=True) == wanted


def test_a_cleared_alert_does_not_escalate_by_time() -> None:
    state = replace(open_issue(firing_since=NOW - 30 * 3600), alert_state=AlertState.UNKNOWN)
    assert priority_to_raise(state, alert("cloudwatch-alarm"), PROVIDER, NOW, fresh=True) is None


def test_a_finding_whose_severity_rises_raises() -> None:
    finding = alert("securityhub", severity=Severity.CRITICAL)
    assert priority_to_raise(open_issue("High"), finding, PROVIDER, NOW, fresh=True) == "Highest"


def test_priorities_compare_by_jiras_default_order_or_the_priority_map() -> None:
    custom = replace(PROVIDER, priority_map={"critical": "P1", "high": "P2", "low": "P4"})
    assert higher("Highest", "high", custom) and not higher("Low", "Medium", custom)
    assert higher("P1", "P2", custom) and not higher("P4", "P2", custom)
    assert not higher("P1", "Low", custom)  # two schemes: never compared
    assert not higher("Urgent", "Low", custom)  # unknown: never compared


def test_an_unknown_step_priority_is_never_raised_to() -> None:
    odd = replace(PROVIDER, impact_steps=((100.0, "Urgent"),))
    assert priority_to_raise(open_issue(), alert(impact=150), odd, NOW, fresh=True) is None


@pytest.mark.parametrize(
    ("values", "durations", "steps"),
    [
        (["100:High,1000:Highest"], False, ((100.0, "High"), (1000.0, "Highest"))),
        (["1000:Highest", "100:High"], False, ((100.0, "High"), (1000.0, "Highest"))),
        (["4h:High", "1d:Highest"], True, ((14400.0, "High"), (86400.0, "Highest"))),
        ([], False, ()),
    ],
)
def test_steps_parse(values: list[str], durations: bool, steps: tuple[tuple[float, str], ...]) -> None:
    assert parse_steps(values, what="--x", durations=durations) == steps


@pytest.mark.parametrize(("value", "durations"), [("High", False), ("x:High", False), ("4q:High", True), ("4h:", True)])
def test_malformed_steps_are_refused(value: str, durations: bool) -> None:
    with pytest.raises(ConfigError, match="--x"):
        parse_steps([value], what="--x", durations=durations)


def test_steps_and_tag_fields_survive_the_stored_item() -> None:
    provider = replace(PROVIDER, tag_fields={"team": "components"})
    assert ProviderConfig.from_item(provider.to_item()) == provider


def test_a_tag_may_not_fill_a_field_the_product_sets() -> None:
    with pytest.raises(ConfigError, match="priority"):
        replace(PROVIDER, tag_fields={"urgency": "priority"}).validate()
