"""Resource tags coerced to Jira field types from create metadata (``render/fields.py``): each type, and refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jira_notifier.render.fields import Unfit, coerce, merged, tag_fields
from tests.support.fake_jira import SITE
from tests.support.jira_spec import validate_jira_request

CUSTOM = "com.atlassian.jira.plugin.system.customfieldtypes"
ACCOUNT = "5b10ac8d82e05b22cc7d4ef5"  # the shape of an Atlassian account id  # pragma: allowlist secret


def meta(kind: str, *, items: str | None = None, custom: str | None = None, allowed: Any = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind}
    if items:
        schema["items"] = items
    if custom:
        schema["custom"] = f"{CUSTOM}:{custom}"
    field: dict[str, Any] = {"fieldId": "f", "key": "f", "name": "F", "operations": ["set"], "schema": schema}
    if allowed is not None:
        field["allowedValues"] = allowed
    return field


OPTIONS = [{"id": "1", "value": "prod"}, {"id": "2", "value": "staging"}]
COMPONENTS = [{"id": "10", "name": "Payments"}, {"id": "11", "name": "platform"}]


@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        ("payments-api", meta("string", custom="textfield"), "payments-api"),
        (
            "Owned by payments",
            meta("string", custom="textarea"),
            {
                "type": "doc",
                "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Owned by payments"}]}],
            },
        ),
        ("42", meta("number"), 42),
        ("4.5", meta("number"), 4.5),
        ("PROD", meta("option", allowed=OPTIONS), {"value": "prod"}),
        ("staging", meta("array", items="option", allowed=OPTIONS), [{"value": "staging"}]),
        ("cost centre", meta("array", items="string", custom="labels"), ["cost_centre"]),
        (ACCOUNT, meta("user"), {"accountId": ACCOUNT}),
        ("payments", meta("array", items="component", allowed=COMPONENTS), [{"name": "Payments"}]),
        ("High", meta("priority", allowed=[{"id": "2", "name": "High"}]), {"name": "High"}),
        ("anything", meta("option"), {"value": "anything"}),  # no allowed values listed: Jira decides
    ],
    ids=[
        "string",
        "paragraph-as-adf",
        "number",
        "decimal",
        "option-by-value-any-case",
        "array-of-options",
        "labels-without-spaces",
        "user-by-account-id",
        "component-by-name",
        "priority-by-name",
        "option-unlisted",
    ],
)
def test_a_value_takes_its_fields_type(value: str, field: dict[str, Any], expected: Any) -> None:
    assert coerce(value, field) == expected


@pytest.mark.parametrize(
    ("value", "field", "why"),
    [
        ("lots", meta("number"), "not a number"),
        ("nan", meta("number"), "not a number"),
        ("qa", meta("option", allowed=OPTIONS), "no option 'qa'"),
        ("qa", meta("array", items="option", allowed=OPTIONS), "no option 'qa'"),
        ("billing", meta("array", items="component", allowed=COMPONENTS), "no component 'billing'"),
        ("jane@example.com", meta("user"), "not an Atlassian account id"),
        ("x" * 256, meta("string"), "longer than 255"),
        ("x" * 256, meta("array", items="string", custom="labels"), "longer than 255"),
        ("next week", meta("date"), "not a date \\(YYYY-MM-DD\\)"),
        ("2026-02-30", meta("date"), "not a date"),
        ("20261201", meta("date"), "not a date"),
        ("2026-12-01T09:30:00", meta("datetime"), "not a date and time with its offset"),
        ("2026-12-01", meta("datetime"), "not a date and time with its offset"),
    ],
)
def test_a_value_jira_would_refuse_is_unfit(value: str, field: dict[str, Any], why: str) -> None:
    with pytest.raises(Unfit, match=why):
        coerce(value, field)


def test_tags_become_fields_and_refusals_become_warnings() -> None:
    screen = {
        "components": meta("array", items="component", allowed=COMPONENTS),
        "customfield_10031": meta("user"),
        "customfield_10040": meta("number"),
    }
    mapping = {
        "team": "components",
        "squad": "components",
        "owner": "customfield_10031",
        "cost-centre": "customfield_10040",
        "env": "customfield_10099",
        "absent": "customfield_10031",
    }
    tags = {
        "team": "payments",
        "squad": "platform",
        "owner": ACCOUNT,
        "cost-centre": "CC-7",
        "env": "prod",
    }

    result = tag_fields(tags, mapping, screen)

    assert result.fields == {
        "components": [{"name": "Payments"}, {"name": "platform"}],
        "customfield_10031": {"accountId": ACCOUNT},
    }
    assert result.warnings == (
        "Tag cost-centre='CC-7' was not set in customfield_10040: not a number.",
        "Tag env='prod' was not set in customfield_10099: field customfield_10099 is not on the create screen.",
    )


def test_tag_values_join_the_providers_fixed_values() -> None:
    fixed = {"components": [{"name": "platform"}], "customfield_10070": "fixed"}
    tagged = {"components": [{"name": "Payments"}, {"name": "platform"}], "customfield_10070": "from-tag"}

    assert merged(fixed, tagged) == {
        "components": [{"name": "platform"}, {"name": "Payments"}],
        "customfield_10070": "from-tag",
    }


# Every type a create screen lists, against Atlassian's spec and each type's input format -----------------------

SYSTEM_SCREEN = {
    "project": {"schema": {"type": "project", "system": "project"}},
    "issuetype": {"schema": {"type": "issuetype", "system": "issuetype"}},
    "summary": {"schema": {"type": "string", "system": "summary"}},
}
VERSIONS = [{"id": "20", "name": "2.4.0"}, {"id": "21", "name": "2.5.0"}]


def system(kind: str, name: str, *, items: str | None = None, allowed: Any = None) -> dict[str, Any]:
    field = meta(kind, items=items, allowed=allowed)
    field["schema"]["system"] = name
    return field


ADF = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "prod eu-west-1"}]}],
}
FITTING = {
    # field id: (its createmeta, a tag value, what the create carries)
    "customfield_10070": (meta("string", custom="textfield"), "payments-api", "payments-api"),
    "customfield_10071": (
        meta("string", custom="url"),
        "https://runbooks.example.com/a",
        "https://runbooks.example.com/a",
    ),
    "customfield_10072": (meta("string", custom="textarea"), "prod eu-west-1", ADF),
    "environment": (system("string", "environment"), "prod eu-west-1", ADF),
    "description": (system("string", "description"), "prod eu-west-1", ADF),
    "labels": (system("array", "labels", items="string"), "cost centre", ["cost_centre"]),
    "customfield_10080": (meta("array", items="string", custom="labels"), "team\ta", ["team_a"]),
    "customfield_10040": (meta("number", custom="float"), "4711", 4711),
    "customfield_10041": (meta("number", custom="float"), "-0.25", -0.25),
    "duedate": (system("date", "duedate"), "2026-12-01", "2026-12-01"),
    "customfield_10090": (meta("date", custom="datepicker"), "2026-02-28", "2026-02-28"),
    "customfield_10091": (
        meta("datetime", custom="datetime"),
        "2026-12-01T09:30:00+01:00",
        "2026-12-01T09:30:00.000+0100",
    ),
    "customfield_10092": (meta("datetime", custom="datetime"), "2026-12-01T09:30Z", "2026-12-01T09:30:00.000+0000"),
    "customfield_10050": (meta("option", custom="select", allowed=OPTIONS), "PROD", {"value": "prod"}),
    "customfield_10051": (meta("option", custom="radiobuttons", allowed=OPTIONS), "staging", {"value": "staging"}),
    "customfield_10060": (
        meta("array", items="option", custom="multiselect", allowed=OPTIONS),
        "staging",
        [{"value": "staging"}],
    ),
    "customfield_10061": (
        meta("array", items="option", custom="multicheckboxes", allowed=OPTIONS),
        "prod",
        [{"value": "prod"}],
    ),
    "components": (
        system("array", "components", items="component", allowed=COMPONENTS),
        "payments",
        [{"name": "Payments"}],
    ),
    "fixVersions": (system("array", "fixVersions", items="version", allowed=VERSIONS), "2.4.0", [{"name": "2.4.0"}]),
    "customfield_10100": (meta("version", custom="version", allowed=VERSIONS), "2.5.0", {"name": "2.5.0"}),
    "customfield_10101": (
        meta("array", items="version", custom="multiversion", allowed=VERSIONS),
        "2.5.0",
        [{"name": "2.5.0"}],
    ),
    "customfield_10031": (meta("user", custom="userpicker"), ACCOUNT, {"accountId": ACCOUNT}),
    "customfield_10032": (meta("array", items="user", custom="multiuserpicker"), ACCOUNT, [{"accountId": ACCOUNT}]),
    "assignee": (system("user", "assignee"), ACCOUNT, {"accountId": ACCOUNT}),
    "priority": (system("priority", "priority", allowed=[{"id": "2", "name": "High"}]), "high", {"name": "High"}),
}
NOT_FOR_TAGS = {
    # field id: (its createmeta, the type the reason names)
    "customfield_10120": (meta("group", custom="grouppicker"), "group"),
    "customfield_10121": (meta("array", items="group", custom="multigrouppicker"), "group"),
    "customfield_10122": (meta("option-with-child", custom="cascadingselect"), "option-with-child"),
    "customfield_10123": (meta("project", custom="project"), "project"),
    "customfield_10124": (meta("any"), "any"),
    "issuelinks": (system("array", "issuelinks", items="issuelinks"), "issuelinks"),
    "timetracking": (system("timetracking", "timetracking"), "timetracking"),
}


def create(field_id: str, value: Any) -> str:
    fields = {"project": {"key": "OPS"}, "issuetype": {"id": "10001"}, "summary": "An alarm", field_id: value}
    return json.dumps({"fields": fields})


@pytest.mark.parametrize(("field_id", "case"), FITTING.items(), ids=list(FITTING))
def test_each_type_takes_the_input_format_jira_validates(field_id: str, case: tuple[Any, str, Any]) -> None:
    field, tag, expected = case

    value = coerce(tag, field)

    assert value == expected
    screen = {**SYSTEM_SCREEN, field_id: field}
    assert validate_jira_request("POST", f"{SITE}/rest/api/3/issue", create(field_id, value), screen=screen) == (
        "createIssue"
    )


@pytest.mark.parametrize(("field_id", "case"), NOT_FOR_TAGS.items(), ids=list(NOT_FOR_TAGS))
def test_a_type_a_tag_cannot_fill_is_left_out_with_its_name(field_id: str, case: tuple[Any, str]) -> None:
    field, kind = case

    with pytest.raises(Unfit, match=f"its type \\({kind}\\) is not one a tag can fill"):
        coerce("payments", field)


TAG_VALUES = st.text(min_size=1, max_size=256).map(str.strip).filter(bool)  # what tag_fields hands over


@settings(max_examples=300, deadline=None)
@given(
    field_id=st.sampled_from(sorted(FITTING)),
    tag=st.one_of(TAG_VALUES, st.sampled_from([c[1] for c in FITTING.values()])),
)
def test_any_tag_value_is_either_left_out_or_what_jira_takes(field_id: str, tag: str) -> None:
    field = FITTING[field_id][0]
    try:
        value = coerce(tag, field)
    except Unfit:
        return
    screen = {**SYSTEM_SCREEN, field_id: field}
    validate_jira_request("POST", f"{SITE}/rest/api/3/issue", create(field_id, value), screen=screen)
