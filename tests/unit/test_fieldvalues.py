"""Resource tags coerced to Jira field types from create metadata (``fieldvalues.py``): each type, and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from jira_notifier.render.fields import Unfit, coerce, merged, tag_fields

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
        ("2026-12-01", meta("date"), "type \\(date\\) is not one a tag can fill"),
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
