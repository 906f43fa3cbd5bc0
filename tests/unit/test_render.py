from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jira_notifier.core.alert import Alert, AlertState, Link, Severity
from jira_notifier.core.impact import priority_name
from jira_notifier.render import issue as render
from tests.support.jira_spec import validate_adf, validate_jira_request

BUDGET = 30_000


def make_alert(**overrides) -> Alert:
    values = {
        "source": "cloudwatch-alarm",
        "dedupe_key": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:cpu-high",
        "delivery_key": "msg-1",
        "state": AlertState.FIRING,
        "title": "CPU high on i-0abc",
        "severity": Severity.HIGH,
        "account": "111122223333",
        "region": "eu-west-1",
        "occurred_at": datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        "what": "CPUUtilization went above 80%.",
        "why": "Threshold Crossed: 1 datapoint [95.2] was greater than the threshold (80.0).",
        "facts": (("Metric", "AWS/EC2 CPUUtilization"), ("Threshold", "> 80 for 1 x 300 s")),
        "links": (Link("Alarm in console", "https://console.aws.amazon.com/cloudwatch/home#alarm:name=cpu-high"),),
        "raw": {"AlarmName": "cpu-high", "NewStateValue": "ALARM", "Note": "Grüße 漢字"},
    }
    values.update(overrides)
    return Alert(**values)


def huge_alert() -> Alert:
    emoji_cjk = "警报 🚨 CPU 使用率过高 👩‍💻\n" * 5_000  # about 100 KB of text, 12 characters per emoji when escaped
    return make_alert(
        what="w" * 40_000,
        why=emoji_cjk,
        facts=tuple((f"fact {i}", f"value {i} " + "v" * 3_000) for i in range(5_000)),
        links=tuple(Link(f"link {i}", f"https://example.com/{i}") for i in range(500)),
        raw={"Records": [{"id": i, "payload": "x" * 180, "note": "漢字"} for i in range(1_000)]},
    )


def serialized(document: dict) -> int:
    return len(json.dumps(document))


def texts(node) -> list[str]:
    """Every text node's text, in document order."""
    if node.get("type") == "text":
        return [node["text"]]
    return [text for child in node.get("content", []) for text in texts(child)]


def blocks_of(document: dict, node_type: str) -> list[dict]:
    return [block for block in document["content"] if block["type"] == node_type]


def headings(document: dict) -> list[str]:
    return ["".join(texts(block)) for block in blocks_of(document, "heading")]


def table_rows(document: dict) -> list[list[str]]:
    (table,) = blocks_of(document, "table")
    return [["".join(texts(cell)) for cell in row["content"]] for row in table["content"]]


# Summary -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("CPU high", "CPU high"),
        ("  CPU\nhigh\r\n\ton   i-1  ", "CPU high on i-1"),
        ("nul\x00 bell\x07", "nul bell"),
        ("", "Alert from cloudwatch-alarm"),
        (" \n\t ", "Alert from cloudwatch-alarm"),
        ("a" * 255, "a" * 255),
    ],
    ids=["plain", "whitespace-collapsed", "controls-removed", "empty", "blank", "exactly-255"],
)
def test_summary_is_one_clean_line(title, expected):
    assert render.summary(make_alert(title=title)) == expected


def test_long_ascii_summary_is_cut_to_254_plus_ellipsis():
    result = render.summary(make_alert(title="x" * 1_000))

    assert len(result) == 255
    assert result == "x" * 254 + "…"


def test_long_emoji_summary_stays_within_255_even_counted_as_utf16():
    # Given a title whose characters need two UTF-16 units each (as Jira, a Java application, counts them)
    title = "🚨 disk full 漢字 " * 100

    result = render.summary(make_alert(title=title))

    assert result.endswith("…")
    assert len(result) <= 255
    assert len(result.encode("utf-16-le")) // 2 <= 255
    assert title.startswith(result[:-1])


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("[{severity}] {title} ({account})", "[high] CPU high on i-0abc (111122223333)"),
        ("{source}/{state}/{region}: {title}", "cloudwatch-alarm/firing/eu-west-1: CPU high on i-0abc"),
        ("{title} #{dedupe_hash}", f"CPU high on i-0abc #{make_alert().dedupe_hash}"),
        ("{title} {unknown_key}!", "CPU high on i-0abc !"),
        ("{title:.3}", "CPU"),
        ("{{literal}} {title}", "{literal} CPU high on i-0abc"),
        ("{account}", "CPU high on i-0abc"),  # empty result (no account): the title
    ],
    ids=["severity-account", "source-state-region", "dedupe-hash", "unknown-key-empty", "format-spec", "escaped",
         "empty-falls-back"],
)  # fmt: skip
def test_summary_templates(template, expected):
    alert = make_alert(account=None) if template == "{account}" else make_alert()

    assert render.summary(alert, template) == expected


@pytest.mark.parametrize(
    "template",
    ["{title", "title}", "{}", "{0}", "{title.__class__}", "{title[0]}", "{title:>99999}", "{title!z}", "{title:d}"],
    ids=["unclosed", "unopened", "positional", "index", "attribute", "item", "huge-width", "bad-conversion",
         "bad-spec"],
)  # fmt: skip
def test_malformed_templates_fall_back_to_the_title(template):
    assert render.summary(make_alert(), template) == "CPU high on i-0abc"


def test_template_output_is_single_line_and_capped():
    alert = make_alert(title="line one\nline two " + "y" * 400)

    result = render.summary(alert, "{title}\n{region}")

    assert "\n" not in result
    assert len(result) == 255


# Labels and priority -------------------------------------------------------------------------------------


def test_labels_carry_tool_source_dedupe_provider_and_alert_labels_in_order():
    alert = make_alert(extra_labels=("prod", "team ops"))

    assert render.labels(alert, ["finops", "prod"]) == [
        "jira-notifier",
        "cloudwatch-alarm",
        alert.dedupe_label,
        "finops",
        "prod",
        "team-ops",
    ]


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Severity: high", "Severity:-high"),
        ("  a \t b\n\nc  ", "a-b-c"),
        ("", None),
        (" \n ", None),
        ("bell\x07", "bell"),
        ("x" * 300, "x" * 255),
    ],
    ids=["space", "whitespace-runs", "empty", "blank", "control", "too-long"],
)
def test_labels_are_sanitized(label, expected):
    result = render.labels(make_alert(), [label])

    assert result[3:] == ([expected] if expected else [])
    assert all(not any(ch.isspace() for ch in item) and 0 < len(item) <= 255 for item in result)


@pytest.mark.parametrize(
    ("severity", "priority_map", "expected"),
    [
        (Severity.CRITICAL, {"critical": "Highest", "high": "High"}, "Highest"),
        (Severity.HIGH, {"HIGH": " High "}, "High"),
        ("medium", {"medium": "Medium"}, "Medium"),
        (Severity.LOW, {"critical": "Highest"}, None),
        (Severity.INFO, {}, None),
        (Severity.INFO, {"info": "  "}, None),
    ],
    ids=["mapped", "case-insensitive-trimmed", "plain-string", "unmapped", "empty-map", "blank-name"],
)
def test_priority_name(severity, priority_map, expected):
    assert priority_name(severity, priority_map) == expected


# Description ---------------------------------------------------------------------------------------------


def test_description_has_every_section_and_is_valid_adf():
    alert = make_alert()

    document = render.description(alert)

    validate_adf(document)
    assert headings(document) == ["What happened", "Why", "Links", "Raw event"]
    (panel,) = blocks_of(document, "panel")
    assert panel["attrs"]["panelType"] == "error"
    assert "".join(texts(panel)) == (
        "ALARM · severity high · account 111122223333 · region eu-west-1 · since 2024-05-01 12:30:00 UTC"
    )
    assert table_rows(document) == [
        ["Fact", "Value"],
        ["Metric", "AWS/EC2 CPUUtilization"],
        ["Threshold", "> 80 for 1 x 300 s"],
    ]
    (code,) = blocks_of(document, "codeBlock")
    assert code["attrs"] == {"language": "json"}
    assert code["content"][0]["text"] == json.dumps(alert.raw, indent=2, ensure_ascii=False)
    footer = "".join(texts(document["content"][-1]))
    assert alert.dedupe_key in footer
    assert alert.dedupe_label in footer


@pytest.mark.parametrize(
    ("account_name", "shown"),
    [
        ("Payments Prod", "account 111122223333 (Payments Prod)"),
        ("Payments\nProd  ", "account 111122223333 (Payments Prod)"),  # one line, whatever the name holds
        ("x" * 300, f"account 111122223333 ({'x' * 99}…)"),
        (None, "account 111122223333"),
    ],
    ids=["name", "multi-line", "long", "no-name"],
)
def test_description_names_the_account_when_its_name_is_known(account_name, shown):
    document = render.description(make_alert(account_name=account_name))

    validate_adf(document)
    (panel,) = blocks_of(document, "panel")
    assert f" · {shown} · region eu-west-1 · " in "".join(texts(panel))


def test_description_is_deterministic():
    assert json.dumps(render.description(huge_alert())) == json.dumps(render.description(huge_alert()))


@pytest.mark.parametrize(
    ("overrides", "panel_type", "state_text"),
    [
        ({"state": AlertState.RESOLVED}, "success", "OK"),
        ({"state": AlertState.UNKNOWN, "severity": Severity.LOW}, "note", "Insufficient data"),
        ({"source": "notification", "severity": Severity.INFO}, "info", "Firing"),
        ({"source": "budget", "severity": Severity.MEDIUM}, "warning", "Firing"),
    ],
    ids=["resolved", "insufficient-data", "info", "medium"],
)
def test_description_header_reflects_state_and_severity(overrides, panel_type, state_text):
    document = render.description(make_alert(**overrides))

    (panel,) = blocks_of(document, "panel")
    assert panel["attrs"]["panelType"] == panel_type
    assert texts(panel)[0] == state_text


def test_description_converts_timestamps_to_utc():
    alert = make_alert(occurred_at=datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2))))

    (panel,) = blocks_of(render.description(alert), "panel")

    assert "since 2024-05-01 12:30:00 UTC" in "".join(texts(panel))


def test_minimal_alert_renders_only_header_and_footer():
    alert = make_alert(account=None, region=None, occurred_at=None, what="", why="", facts=(), links=(), raw=None)

    document = render.description(alert)

    validate_adf(document)
    assert [block["type"] for block in document["content"]] == ["panel", "rule", "paragraph"]


def test_plain_text_raw_event_is_shown_as_text():
    document = render.description(make_alert(raw="Budget alert\r\nActual: $120\x00"))

    (code,) = blocks_of(document, "codeBlock")
    assert "attrs" not in code
    assert code["content"] == [{"type": "text", "text": "Budget alert\nActual: $120"}]


def test_only_http_links_are_clickable():
    alert = make_alert(
        links=(
            Link("console", "https://console.aws.amazon.com/x"),
            Link("evil", "javascript:alert(1)"),
            Link("", "http://example.com/no-label"),
            Link("too long", "https://example.com/" + "a" * 3_000),
        )
    )

    document = render.description(alert)

    validate_adf(document)
    (links,) = blocks_of(document, "bulletList")
    items = [item["content"][0]["content"] for item in links["content"]]
    assert items[0] == [{"type": "text", "text": "console", "marks": [adf_link("https://console.aws.amazon.com/x")]}]
    assert items[1] == [{"type": "text", "text": "evil (javascript:alert(1))"}]
    assert items[2][0]["marks"] == [adf_link("http://example.com/no-label")]
    assert "marks" not in items[3][0]


def adf_link(href: str) -> dict:
    return {"type": "link", "attrs": {"href": href}}


MARKUP = {
    "adf-json": '{"type":"doc","version":1,"content":[]}',
    "wiki": "{code}x{code} [link|http://x] h1. heading {color:red}",
    "jql": 'labels = "x" OR project != OPS',
    "html": '<a href="javascript:x">click</a>',
}


@pytest.mark.parametrize("markup", MARKUP.values(), ids=MARKUP.keys())
def test_markup_in_alert_text_stays_literal(markup):
    alert = make_alert(what=markup, why=markup, facts=((markup, markup),), links=(Link(markup, "https://x.example"),))

    document = render.description(alert)

    validate_adf(document)
    assert texts(document).count(markup) == 5  # what, why, fact name, fact value, link label
    marked = [node for node in _text_nodes(document) if node["text"] == markup and "marks" in node]
    assert marked == [{"type": "text", "text": markup, "marks": [adf_link("https://x.example")]}]


def _text_nodes(node):
    if node.get("type") == "text":
        yield node
    for child in node.get("content", []):
        yield from _text_nodes(child)


def test_huge_alert_is_cut_to_budget_and_stays_valid():
    # Given 5,000 facts, a raw event over 200 KB, a 100 KB why full of emoji and CJK, and 500 links
    alert = huge_alert()
    assert len(json.dumps(alert.raw)) > 200_000

    document = render.description(alert)

    # Then the document is valid ADF within budget, and every cut says what was left out
    validate_adf(document)
    assert serialized(document) <= BUDGET
    all_text = "\n".join(texts(document))
    assert "characters omitted)" in all_text
    assert table_rows(document)[-1][0].startswith("… ") and "more facts" in table_rows(document)[-1][0]
    (code,) = blocks_of(document, "codeBlock")
    assert "characters omitted)" in code["content"][0]["text"].splitlines()[-1]


def test_raw_event_is_cut_before_anything_else():
    alert = make_alert(what="w" * 5_000, why="y" * 5_000, raw={"blob": "x" * 100_000})

    document = render.description(alert)

    assert serialized(document) <= BUDGET
    what, why = (blocks_of(document, "paragraph")[i] for i in (0, 1))
    assert texts(what) == [alert.what]
    assert texts(why) == [alert.why]
    assert table_rows(document)[1:] == [list(fact) for fact in alert.facts]
    (code,) = blocks_of(document, "codeBlock")
    assert code["content"][0]["text"].startswith('{\n  "blob": "xxx')
    assert code["content"][0]["text"].endswith("characters omitted)")


def test_facts_beyond_the_row_limit_are_summarized():
    facts = tuple((f"name {i}", f"value {i}") for i in range(render.FACT_ROWS + 7))

    rows = table_rows(render.description(make_alert(facts=facts)))

    assert len(rows) == 1 + render.FACT_ROWS + 1
    assert rows[-1] == ["… 7 more facts", ""]


def test_long_fact_values_are_truncated():
    rows = table_rows(render.description(make_alert(facts=(("big", "v" * 5_000),))))

    assert rows[1][1] == "v" * (render.FACT_VALUE_MAX - 1) + "…"


def test_what_and_why_keep_a_readable_part_when_facts_are_also_large():
    alert = make_alert(what="w" * 50_000, why="y" * 50_000, facts=tuple((f"f{i}", "v" * 900) for i in range(60)))

    document = render.description(alert)

    assert serialized(document) <= BUDGET
    what, why = (blocks_of(document, "paragraph")[i] for i in (0, 1))
    assert texts(what)[0].startswith("w" * 2_000)
    assert texts(why)[0].startswith("y" * 2_000)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    what=st.text(max_size=3_000),
    why=st.text(max_size=3_000),
    facts=st.lists(st.tuples(st.text(max_size=50), st.text(max_size=2_000)), max_size=80),
    raw=st.one_of(st.none(), st.text(max_size=20_000), st.dictionaries(st.text(max_size=20), st.text(max_size=500))),
)
def test_any_alert_renders_within_budget(what, why, facts, raw):
    alert = make_alert(what=what, why=why, facts=tuple(facts), raw=raw)

    for document in (render.description(alert), render.comment(alert, note=why)):
        validate_adf(document)
        assert serialized(document) <= BUDGET


# Comments ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "first_line"),
    [
        ({}, "ALARM again at 2024-05-01 12:30:00 UTC"),
        ({"source": "notification"}, "Firing again at 2024-05-01 12:30:00 UTC"),
        ({"state": AlertState.RESOLVED}, "Resolved at 2024-05-01 12:30:00 UTC"),
        ({"state": AlertState.UNKNOWN}, "Insufficient data at 2024-05-01 12:30:00 UTC"),
        ({"state": AlertState.RESOLVED, "occurred_at": None}, "Resolved"),
    ],
    ids=["cloudwatch-firing", "generic-firing", "resolved", "insufficient-data", "no-time"],
)
def test_comment_opens_with_the_state(overrides, first_line):
    document = render.comment(make_alert(**overrides))

    validate_adf(document)
    first = document["content"][0]
    assert "".join(texts(first)) == first_line
    assert first["content"][0]["marks"] == [{"type": "strong"}]


def test_comment_has_what_why_facts_and_note():
    alert = make_alert()

    document = render.comment(alert, note="Reopened by jira-notifier.")

    validate_adf(document)
    assert [block["type"] for block in document["content"]] == ["paragraph", "paragraph", "paragraph", "table",
                                                                 "paragraph"]  # fmt: skip
    assert texts(document["content"][1]) == [alert.what]
    assert texts(document["content"][2]) == [alert.why]
    assert document["content"][-1]["content"] == [
        {"type": "text", "text": "Reopened by jira-notifier.", "marks": [{"type": "em"}]}
    ]


def test_comment_limits_facts_to_a_short_table():
    facts = tuple((f"name {i}", f"value {i}") for i in range(30))

    rows = table_rows(render.comment(make_alert(facts=facts)))

    assert len(rows) == 1 + render.COMMENT_FACT_ROWS + 1
    assert rows[-1] == [f"… {30 - render.COMMENT_FACT_ROWS} more facts", ""]


def test_huge_comment_is_cut_to_budget():
    alert = huge_alert()

    document = render.comment(alert, note="3 state changes coalesced: " + "ALARM → OK → " * 5_000)

    validate_adf(document)
    assert serialized(document) <= BUDGET
    assert "characters omitted)" in texts(document)[-1]


# Through the spec ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("alert", [make_alert(), huge_alert()], ids=["typical", "huge"])
def test_rendered_create_and_comment_requests_match_the_jira_spec(alert):
    create = {
        "fields": {
            "project": {"key": "OPS"},
            "issuetype": {"id": "10001"},
            "summary": render.summary(alert, "[{severity}] {title}"),
            "description": render.description(alert),
            "labels": render.labels(alert, ["team ops"]),
            "priority": {"name": priority_name(alert.severity, {"high": "High"})},
        }
    }
    site = "https://example.atlassian.net"

    assert validate_jira_request("POST", f"{site}/rest/api/3/issue", json.dumps(create)) == "createIssue"
    comment_body = json.dumps({"body": render.comment(alert, note="Reopened by jira-notifier.")})
    assert validate_jira_request("POST", f"{site}/rest/api/3/issue/OPS-1/comment", comment_body) == "addComment"
