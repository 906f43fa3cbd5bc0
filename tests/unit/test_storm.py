"""Storms as one issue, the pure parts: which group an alert is in, how a parent's membership changes, and the
member table (valid ADF within the description budget at any size)."""

from __future__ import annotations

import json

import pytest

from jira_notifier.adapters.dynamodb.state import _group_from_item, _group_to_item
from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.errors import ConfigError
from jira_notifier.core.storm import (
    MAX_MEMBERS,
    NAME_LIMIT,
    Group,
    ParentRef,
    ParentStep,
    check_group_by,
    group_key,
    parent_step,
    window_start,
)
from jira_notifier.render import storm as storm_render
from jira_notifier.render.issue import ADF_BUDGET
from tests.support.jira_spec import validate_adf

FIRING, CLEARED, UNKNOWN = AlertState.FIRING, AlertState.RESOLVED, AlertState.UNKNOWN
T0 = 1_793_610_000.0


def alert(name: str = "orders-api-5xx", **overrides: object) -> Alert:
    values: dict[str, object] = {
        "source": "cloudwatch-alarm",
        "dedupe_key": f"cloudwatch-alarm:{name}",
        "delivery_key": "m-1",
        "state": FIRING,
        "title": f"CloudWatch alarm {name}",
        "account": "111122223333",
        "region": "eu-west-1",
        "facts": (("Alarm", name), ("Namespace", "AWS/ApiGateway")),
    }
    return Alert(**{**values, **overrides})  # type: ignore[arg-type]


def members(count: int, state: AlertState = FIRING, name: str = "alarm-{n:04d}") -> Group:
    group = Group("account=111122223333", 600)
    for n in range(count):
        group = group.with_member(f"k{n}", name.format(n=n), state, T0 + n)
    return group


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        (("account", "namespace"), "account=111122223333|namespace=AWS/ApiGateway"),
        (("region", "source"), "region=eu-west-1|source=cloudwatch-alarm"),
        (("prefix:6",), "prefix:6=orders"),
        (("prefix:-",), "prefix:-=orders"),
        (("prefix:/",), "prefix:/=orders-api-5xx"),  # no separator: the whole name
    ],
)
def test_the_group_key_names_each_part(group_by: tuple[str, ...], expected: str) -> None:
    assert group_key(alert(), group_by) == expected


def test_a_missing_part_groups_under_a_dash() -> None:
    assert group_key(alert(facts=(), account=None), ("account", "namespace")) == "account=-|namespace=-"


@pytest.mark.parametrize("group_by", [("team",), ("prefix:",), ("prefix:0",), ("account", "account")])
def test_unknown_or_empty_parts_are_refused(group_by: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError):
        check_group_by(group_by, 600)


def test_windows_are_aligned_to_the_clock() -> None:
    assert window_start(1200.0, 600) == window_start(1799.9, 600) == 1200
    assert window_start(1800.0, 600) == 1800


def test_a_parent_is_named_again_from_a_members_pointer() -> None:
    ref = ParentRef("ops:blue/jira", "account=1|namespace=AWS/EC2", 1200)
    assert ParentRef.of("ops:blue/jira", ref.dedupe_key) == ref


def test_membership_changes_only_when_a_member_does() -> None:
    group = Group("k", 0).with_member("a", "a", FIRING, T0).written()

    assert group.with_member("a", "a", FIRING, T0 + 60) is group  # a repeat: nothing to write
    assert group.with_member("a", "a", CLEARED, T0 - 60) is group  # older than what is listed
    cleared = group.with_member("a", "a", CLEARED, T0 + 60)
    assert cleared.unwritten and cleared.member("a") is not None and cleared.member("a").state is CLEARED


def test_the_parent_resolves_when_every_member_has_cleared_and_reopens_when_one_fires() -> None:
    group = members(2)
    assert parent_step(True, group) is ParentStep.NONE
    group = group.with_member("k0", "x", CLEARED, T0 + 10)
    assert parent_step(True, group) is ParentStep.NONE
    group = group.with_member("k1", "y", CLEARED, T0 + 10)
    assert parent_step(True, group) is ParentStep.RESOLVE
    assert parent_step(False, group) is ParentStep.NONE
    assert parent_step(False, group.with_member("k1", "y", FIRING, T0 + 20)) is ParentStep.REOPEN


def test_the_membership_survives_the_state_table() -> None:
    group = members(3).with_member("k1", "alarm-0001", CLEARED, T0 + 99)
    assert _group_from_item(json.loads(json.dumps(_group_to_item(group)))) == group


def test_a_parent_holds_at_most_max_members() -> None:
    assert not members(MAX_MEMBERS - 1).full and members(MAX_MEMBERS).full


def test_forty_members_are_all_listed_in_valid_adf() -> None:
    group = members(40, name="arn:aws:cloudwatch:eu-west-1:111122223333:alarm:orders-service-{n:04d}-latency-p99")
    group = group.with_member("k3", "cleared-one", CLEARED, T0 + 100)

    document = storm_render.description(group, 600)

    validate_adf(document)
    [table] = [block for block in document["content"] if block["type"] == "table"]
    assert len(table["content"]) == 41  # the header and 40 members
    assert not any("more not listed" in json.dumps(block) for block in document["content"])
    last = table["content"][-1]["content"]  # cleared members come last, marked
    assert last[1]["content"][0]["content"][0]["text"] == "✓ Cleared"
    assert last[0]["content"][0]["content"][0]["marks"] == [{"type": "em"}]


def listed_names(document: dict) -> list[str]:
    [table] = [block for block in document["content"] if block["type"] == "table"]
    cells = ("".join(n.get("text", "") for n in row["content"][0]["content"][0]["content"]) for row in table["content"])
    return [name for cell in list(cells)[1:] for name in cell.split(", ")]


def test_members_beyond_one_row_each_share_rows_by_state_and_minute() -> None:
    group = members(100, name="svc-{n:04d}").with_member("k5", "svc-0005", CLEARED, T0 + 200)

    document = storm_render.description(group, 600)

    validate_adf(document)
    assert sorted(listed_names(document)) == [f"svc-{n:04d}" for n in range(100)]
    [table] = [block for block in document["content"] if block["type"] == "table"]
    assert len(table["content"]) == 1 + 2 + 1  # the header, firing members of two minutes, the cleared one
    assert table["content"][-1]["content"][1]["content"][0]["content"][0]["text"] == "✓ Cleared"


def test_a_storm_beyond_what_fits_is_summarised_with_counts() -> None:
    group = members(MAX_MEMBERS, name="x" * NAME_LIMIT + "{n}")
    group = group.with_member("k7", "y", CLEARED, T0 + 5_000)

    document = storm_render.description(group, 600)

    validate_adf(document)
    assert len(json.dumps(document)) <= ADF_BUDGET
    listed = len(listed_names(document))
    assert 40 <= listed < MAX_MEMBERS
    rest = json.dumps(document["content"][2])
    assert f"and {MAX_MEMBERS - listed} more not listed" in rest
    assert f"{MAX_MEMBERS - listed - 1} firing, 0 unknown, 1 cleared" in rest
