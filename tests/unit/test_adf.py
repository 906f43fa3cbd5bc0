from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jira_notifier.render import adf
from tests.support.jira_spec import validate_adf

MARKUP_LOOKALIKES = {
    "adf-json": '{"type":"doc","version":1,"content":[{"type":"mention","attrs":{"id":"x"}}]}',
    "wiki-code": "{code}rm -rf /{code}",
    "wiki-link": "[click|http://evil.example]",
    "wiki-heading": "h1. Not a heading",
    "wiki-mention": "[~accountid:123] {color:red}red{color}",
    "jql": 'project = OPS AND labels = "x" ORDER BY created DESC',
    "html": "<script>alert(1)</script><b>bold</b>",
    "markdown": "# title\n**bold** [x](http://x)",
}


@pytest.mark.parametrize(
    "block",
    [
        adf.paragraph(),
        adf.paragraph(*adf.text("plain"), adf.hard_break(), *adf.text("bold", adf.strong())),
        adf.paragraph(*adf.text("both", adf.strong(), adf.em())),
        adf.paragraph(*adf.text("code", adf.code())),
        adf.paragraph(*adf.text("code link", adf.code(), adf.link("https://example.com"))),
        adf.paragraph(*adf.text("link", adf.link("http://example.com/a?b=c#d"), adf.strong())),
        adf.heading("Title", 1),
        adf.heading("Small", 6),
        adf.bullet_list([adf.text("one"), adf.text("two", adf.link("https://example.com")), []]),
        adf.code_block('{\n  "a": 1\n}', "json"),
        adf.code_block(""),
        adf.table(("Fact", "Value"), [("a", "1"), ("", "")]),
        adf.table(("Only header",), []),
        adf.rule(),
        adf.panel("info", adf.paragraph(*adf.text("inside"))),
        adf.panel("success", adf.heading("h", 3), adf.code_block("x"), adf.rule()),
    ],
    ids=[
        "empty-paragraph", "text-break-strong", "strong-em", "code", "code-link", "link-strong", "heading-1",
        "heading-6", "bullet-list", "code-block-json", "empty-code-block", "table", "header-only-table", "rule",
        "panel", "panel-mixed",
    ],
)  # fmt: skip
def test_every_builder_produces_valid_adf(block):
    validate_adf(adf.doc(block))


def test_empty_doc_is_valid():
    assert adf.doc() == {"version": 1, "type": "doc", "content": []}
    validate_adf(adf.doc())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", []),
        ("\x00\x07", []),
        ("a", [{"type": "text", "text": "a"}]),
        ("a\nb", [{"type": "text", "text": "a"}, {"type": "hardBreak"}, {"type": "text", "text": "b"}]),
        ("a\r\nb", [{"type": "text", "text": "a"}, {"type": "hardBreak"}, {"type": "text", "text": "b"}]),
        ("\n\n", [{"type": "hardBreak"}, {"type": "hardBreak"}]),
        ("tab\there", [{"type": "text", "text": "tab\there"}]),
        ("bell\x07 nul\x00 del\x7f c1\x85 lone\ud800", [{"type": "text", "text": "bell nul del c1 lone"}]),
    ],
    ids=["empty", "only-controls", "plain", "newline", "crlf", "only-newlines", "tab-kept", "controls-removed"],
)
def test_text_splits_lines_and_never_emits_empty_nodes(raw, expected):
    nodes = adf.text(raw)

    assert nodes == expected
    validate_adf(adf.doc(adf.paragraph(*nodes)))


@pytest.mark.parametrize("markup", MARKUP_LOOKALIKES.values(), ids=MARKUP_LOOKALIKES.keys())
def test_markup_looking_text_stays_literal(markup):
    # Given text that another renderer would interpret
    # When it becomes ADF
    nodes = adf.text(markup)

    # Then every character survives as plain text, with no marks and no other node types
    assert {node["type"] for node in nodes} <= {"text", "hardBreak"}
    assert all("marks" not in node for node in nodes)
    assert _plain_text(nodes) == markup
    validate_adf(adf.doc(adf.paragraph(*nodes), adf.heading(markup, 2), adf.code_block(markup)))


def test_marks_are_copied_not_shared():
    bold = adf.strong()
    first, second = adf.text("a\nb", bold)[0], adf.text("a\nb", bold)[2]

    first["marks"][0]["type"] = "em"

    assert second["marks"] == [{"type": "strong"}]
    assert bold == {"type": "strong"}


@pytest.mark.parametrize("marks", [(adf.code(), adf.strong()), (adf.em(), adf.code())], ids=["code-strong", "em-code"])
def test_code_mark_cannot_combine_with_formatting(marks):
    with pytest.raises(ValueError, match="code mark"):
        adf.text("x", *marks)


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", "ftp://example.com/x", "/relative/path", "http://", "https://a b.com", "", "mailto:a@b"],
    ids=["javascript", "ftp", "relative", "no-host", "space", "empty", "mailto"],
)
def test_links_only_for_http_urls(href):
    assert not adf.is_web_url(href)
    with pytest.raises(ValueError, match="http"):
        adf.link(href)


@pytest.mark.parametrize(
    "href", ["https://example.com", "HTTP://EXAMPLE.COM/x", "https://a.b/c?d=%20e#f"], ids=["https", "upper", "query"]
)
def test_web_urls_become_links(href):
    assert adf.link(href) == {"type": "link", "attrs": {"href": href}}


def test_code_block_keeps_text_verbatim_in_one_unmarked_node():
    block = adf.code_block('line 1\r\n  "line 2"\x00\n', "json")

    assert block == {
        "type": "codeBlock",
        "attrs": {"language": "json"},
        "content": [{"type": "text", "text": 'line 1\n  "line 2"\n'}],
    }


def test_table_cells_hold_paragraphs_and_accept_inline_nodes():
    table = adf.table(("Name", "Link"), [("console", adf.text("open", adf.link("https://example.com")))])

    header, row = table["content"]
    assert [cell["type"] for cell in header["content"]] == ["tableHeader", "tableHeader"]
    assert [cell["type"] for cell in row["content"]] == ["tableCell", "tableCell"]
    assert row["content"][1]["content"][0]["content"][0]["marks"][0]["attrs"]["href"] == "https://example.com"
    validate_adf(adf.doc(table))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: adf.heading("x", 0), "level"),
        (lambda: adf.heading("x", 7), "level"),
        (lambda: adf.bullet_list([]), "at least one item"),
        (lambda: adf.panel("custom", adf.paragraph()), "panel type"),
        (lambda: adf.panel("info"), "at least one block"),
    ],
    ids=["heading-0", "heading-7", "empty-list", "custom-panel", "empty-panel"],
)
def test_builders_refuse_what_the_schema_rejects(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_any_text_renders_as_valid_adf_and_round_trips(s):
    nodes = adf.text(s)

    validate_adf(adf.doc(adf.paragraph(*nodes), adf.code_block(s)))
    assert _plain_text(nodes) == adf.clean(s)
    json.dumps(nodes, ensure_ascii=False).encode("utf-8")  # no lone surrogate survives


def _plain_text(nodes):
    return "".join(node["text"] if node["type"] == "text" else "\n" for node in nodes)
