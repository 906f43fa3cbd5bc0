"""What an alert looks like in Jira: summary, ADF description and comments, labels and priority.

Pure functions. Every text from the world (title, reasons, messages, facts, links, the raw event) goes through
``render.redact`` first: no secret an event carries reaches Jira. Every document stays valid ADF and within
``ADF_BUDGET`` serialized characters, well under Jira's 32,767-character field limit (how Jira counts ADF is not
documented, so the margin is wide). When an alert is too big, content is cut at node boundaries in a fixed order:
the raw event first, then long texts, then fact rows, then links.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from jira_notifier.core.alert import Alert, AlertState, Link, Severity
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.impact import wanted_priority
from jira_notifier.core.state import IssueState
from jira_notifier.render import adf
from jira_notifier.render import insight as insight_blocks
from jira_notifier.render.fields import merged

ADF_BUDGET = 30_000  # max len(json.dumps(doc)) of any description or comment
JIRA_TEXT_LIMIT = 255  # summary and each label
FACT_ROWS = 50  # fact rows shown in a description
COMMENT_FACT_ROWS = 12
LINKS = 20
FACT_NAME_MAX = 200
FACT_VALUE_MAX = 1_000
LINK_LABEL_MAX = 200
LINK_URL_MAX = 2_000
HEADER_VALUE_MAX = 100  # account, region in the header line
DEDUPE_KEY_MAX = 500
ELLIPSIS = "…"
TOOL_LABEL = "jira-notifier"

_TEMPLATE_KEYS = ("title", "source", "severity", "state", "account", "region", "dedupe_hash")
_LARGE_NUMBER = re.compile(r"\d{4,}")  # a width like {title:>99999} only produces junk
_WHITESPACE = re.compile(r"\s+")

_PANEL_BY_SEVERITY = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "info",
}
_CLOUDWATCH_SOURCE = "cloudwatch-alarm"


# Summary -------------------------------------------------------------------------------------------------


def summary(alert: Alert, template: str | None = None) -> str:
    """The issue summary: one line of at most 255 characters.

    ``template`` (a provider's ``summaryTemplate``) may use ``{title}``, ``{source}``, ``{severity}``,
    ``{state}``, ``{account}``, ``{region}`` and ``{dedupe_hash}``; unknown keys render empty and a
    malformed template falls back to the title. An empty result becomes "Alert from <source>".
    """
    line = _single_line(_apply_template(template, alert)) if template else ""
    line = line or _single_line(alert.title) or f"Alert from {_single_line(alert.source) or 'an unknown source'}"
    from jira_notifier.render.redact import redact  # compiled on the first issue written, not at every cold start

    return _cut_with_ellipsis(redact(line), JIRA_TEXT_LIMIT)


class _TemplateFormatter(string.Formatter):
    """str.format restricted to plain named fields: no attribute access, indexing or positional fields."""

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[Any, str]:
        if not field_name.isidentifier():
            raise ValueError(f"unsupported template field {field_name!r}")
        return kwargs.get(field_name, ""), field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        if _LARGE_NUMBER.search(format_spec):
            raise ValueError("template width too large")
        return str(super().format_field(value, format_spec))


def _apply_template(template: str, alert: Alert) -> str:
    values = {key: _template_value(alert, key) for key in _TEMPLATE_KEYS}
    try:
        return _TemplateFormatter().vformat(template, (), values)
    except (ValueError, TypeError, KeyError, IndexError):
        return ""


def _template_value(alert: Alert, key: str) -> str:
    value = getattr(alert, key)
    if isinstance(value, AlertState | Severity):
        return value.value
    return "" if value is None else str(value)


def _single_line(s: str) -> str:
    return _WHITESPACE.sub(" ", adf.clean(s)).strip()


def _jira_length(s: str) -> int:
    """Length as Jira (Java) counts it: UTF-16 code units, never fewer than code points."""
    return len(s.encode("utf-16-le")) // 2


def _cut(s: str, limit: int) -> str:
    """The longest prefix of ``s`` within ``limit`` in both code points and UTF-16 units."""
    units = 0
    for index, ch in enumerate(s):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return s[:index]
    return s


def _cut_with_ellipsis(s: str, limit: int) -> str:
    if _jira_length(s) <= limit:
        return s
    return _cut(s, limit - len(ELLIPSIS)).rstrip() + ELLIPSIS


# Labels and priority -------------------------------------------------------------------------------------


def labels(alert: Alert, provider_labels: Sequence[str] = ()) -> list[str]:
    """Issue labels: the tool, the source, the dedupe label, then provider and alert labels.

    Each is made valid for Jira (whitespace runs become "-", at most 255 characters); empty labels are
    dropped and duplicates removed, keeping the first occurrence.
    """
    candidates = [TOOL_LABEL, alert.source, alert.dedupe_label, *provider_labels, *alert.extra_labels]
    sanitized = (_cut(_WHITESPACE.sub("-", adf.clean(label).strip()), JIRA_TEXT_LIMIT) for label in candidates)
    return list(dict.fromkeys(label for label in sanitized if label))


# Description and comments --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cuts:
    """How much of each shrinkable part is kept: code points of raw event and long texts, rows, links, log evidence
    lines and child-alarm rows."""

    raw: int
    text: int
    facts: int
    links: int
    evidence: int = 0
    children: int = 0


# The order parts are shrunk in, each down to a floor: the raw event goes first; then log evidence, long texts,
# fact rows, links and child alarms are cut to a readable minimum before any of them is cut further.
_DESCRIPTION_STAGES = (
    ("raw", 0),
    ("evidence", 5),
    ("text", 2_000),
    ("facts", 10),
    ("links", 5),
    ("children", 10),
    ("evidence", 0),
    ("text", 0),
    ("facts", 0),
    ("links", 0),
    ("children", 0),
)
_COMMENT_STAGES = (("text", 2_000), ("facts", 3), ("text", 0), ("facts", 0))


def description(alert: Alert) -> dict[str, Any]:
    """The issue description as an ADF document.

    Sections: a header panel (state, severity, where, when), what happened, why, the insights (the graph's
    attachment, a composite's children, log evidence), a facts table, links, the raw event, and a footer naming
    the dedupe key and label so related issues can be found.
    """
    from jira_notifier.render.redact import head, redact

    full_raw = _raw_text(alert.raw)
    read_raw = head(full_raw, ADF_BUDGET)  # more could never be shown: a 256 KB event costs no more than this
    raw, unread = redact(read_raw), len(full_raw) - len(read_raw)
    alert = _redacted(alert)
    cuts = _Cuts(
        raw=min(len(raw), ADF_BUDGET),  # more could never fit: starting lower keeps the search cheap
        text=min(max(len(alert.what), len(alert.why)), ADF_BUDGET),
        facts=FACT_ROWS,
        links=LINKS,
        evidence=insight_blocks.EVIDENCE_LINES,
        children=insight_blocks.CHILD_ROWS,
    )

    def build(c: _Cuts) -> dict[str, Any]:
        blocks = [_header_panel(alert)]
        blocks += _text_section("What happened", alert.what, c.text)
        blocks += _text_section("Why", alert.why, c.text)
        if alert.insight is not None:
            blocks += insight_blocks.sections(alert.insight, evidence_lines=c.evidence, child_rows=c.children)
        blocks += _facts_table(alert.facts, c.facts)
        blocks += _links_section(alert.links, c.links)
        if alert.raw is not None:
            blocks += [adf.heading("Raw event", 3), _raw_block(alert.raw, raw, c.raw, unread)]
        blocks += [adf.rule(), _footer(alert)]
        return adf.doc(*blocks)

    return _fit(build, cuts, _DESCRIPTION_STAGES)


def comment(alert: Alert, *, note: str | None = None) -> dict[str, Any]:
    """A lifecycle comment: state and time, what happened, why, a short facts table, and ``note``."""
    alert = _redacted(alert)
    note = note or ""
    longest = max(len(alert.what), len(alert.why), len(note))
    cuts = _Cuts(raw=0, text=min(longest, ADF_BUDGET), facts=COMMENT_FACT_ROWS, links=0)

    def build(c: _Cuts) -> dict[str, Any]:
        blocks = [adf.paragraph(*_state_line(alert))]
        blocks += [adf.paragraph(*adf.text(_shorten(s, c.text))) for s in (alert.what, alert.why) if s]
        blocks += _facts_table(alert.facts, c.facts)
        if note:
            blocks.append(adf.paragraph(*adf.text(_shorten(note, c.text), adf.em())))
        return adf.doc(*blocks)

    return _fit(build, cuts, _COMMENT_STAGES)


def _redacted(alert: Alert) -> Alert:
    """The alert with what the world wrote in it redacted: title, what happened, why, facts and links. A link whose
    address held a secret keeps the redacted address, shown as text."""
    from jira_notifier.render.redact import redact, redact_field

    return replace(
        alert,
        title=redact(alert.title),
        what=_redacted_text(alert.what),
        why=_redacted_text(alert.why),
        facts=tuple((name, redact_field(name, value)) for name, value in alert.facts),
        links=tuple(Link(redact(link.label), redact(link.url)) for link in alert.links),
    )


def _redacted_text(text: str) -> str:
    """``text`` redacted, read no further than a document can show (a 256 KB message costs no more than that)."""
    from jira_notifier.render.redact import head, redact

    read = head(text, ADF_BUDGET)
    unread = len(text) - len(read)
    return redact(read) + (f"{ELLIPSIS} (truncated, {unread:,} characters omitted)" if unread else "")


def _fit(build: Callable[[_Cuts], dict[str, Any]], cuts: _Cuts, stages: Sequence[tuple[str, int]]) -> dict[str, Any]:
    """Build the document, then shrink one part after another until it fits ``ADF_BUDGET``."""
    document = build(cuts)
    for part, floor in stages:
        if _serialized_size(document) <= ADF_BUDGET:
            break
        if getattr(cuts, part) > floor:
            cuts = _shrink(build, cuts, part, floor)
            document = build(cuts)
    return document


def _shrink(build: Callable[[_Cuts], dict[str, Any]], cuts: _Cuts, part: str, floor: int) -> _Cuts:
    """``cuts`` with ``part`` lowered to the largest value whose document fits, or to ``floor`` if none does.

    A binary search: the document grows with the amount kept, and the current amount is already too big.
    """
    low, high = floor, getattr(cuts, part) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if _serialized_size(build(replace(cuts, **{part: middle}))) <= ADF_BUDGET:
            low = middle
        else:
            high = middle - 1
    return replace(cuts, **{part: low})


def _serialized_size(document: dict[str, Any]) -> int:
    # json.dumps defaults (ASCII escapes) count every non-ASCII character as 6 or 12: the widest measure.
    return len(json.dumps(document))


def _shorten(s: str, keep: int) -> str:
    """``s`` cut to ``keep`` code points with a note of how much was left out."""
    if len(s) <= keep:
        return s
    return f"{s[:keep]}{ELLIPSIS} (truncated, {len(s) - keep:,} characters omitted)"


def _clip(s: str, most: int) -> str:
    """``s`` cut to at most ``most`` code points, ending in an ellipsis when cut."""
    return s if len(s) <= most else s[: most - 1] + ELLIPSIS


def _state_name(alert: Alert) -> str:
    if alert.source == _CLOUDWATCH_SOURCE:
        names = {AlertState.FIRING: "ALARM", AlertState.RESOLVED: "OK", AlertState.UNKNOWN: "Insufficient data"}
    else:
        names = {AlertState.FIRING: "Firing", AlertState.RESOLVED: "Resolved", AlertState.UNKNOWN: "State unknown"}
    return names[alert.state]


def _comment_state_name(alert: Alert) -> str:
    # A comment only ever follows an existing issue, so a firing alert is firing again.
    if alert.state is AlertState.FIRING:
        return f"{_state_name(alert)} again"
    if alert.state is AlertState.RESOLVED:
        return "Resolved"
    return _state_name(alert)


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _header_panel(alert: Alert) -> dict[str, Any]:
    panel_type = "success" if alert.state is AlertState.RESOLVED else _PANEL_BY_SEVERITY[alert.severity]
    details = [f"severity {alert.severity.value}"]
    if alert.account:
        account = _clip(_single_line(alert.account), HEADER_VALUE_MAX)
        name = _clip(_single_line(alert.account_name), HEADER_VALUE_MAX) if alert.account_name else ""
        details.append(f"account {account} ({name})" if name else f"account {account}")
    if alert.region:
        details.append(f"region {_clip(_single_line(alert.region), HEADER_VALUE_MAX)}")
    if alert.occurred_at:
        details.append(f"since {_when(alert.occurred_at)}")
    line = [*adf.text(_state_name(alert), adf.strong()), *adf.text(" · " + " · ".join(details))]
    return adf.panel(panel_type, adf.paragraph(*line))


def _state_line(alert: Alert) -> list[dict[str, Any]]:
    line = adf.text(_comment_state_name(alert), adf.strong())
    if alert.occurred_at:
        line += adf.text(f" at {_when(alert.occurred_at)}")
    return line


def _text_section(title: str, body: str, keep: int) -> list[dict[str, Any]]:
    if not body:
        return []
    return [adf.heading(title, 3), adf.paragraph(*adf.text(_shorten(body, keep)))]


def _facts_table(facts: Sequence[tuple[str, str]], rows: int) -> list[dict[str, Any]]:
    if not facts:
        return []
    shown = [(_clip(str(name), FACT_NAME_MAX), _clip(str(value), FACT_VALUE_MAX)) for name, value in facts[:rows]]
    if len(facts) > rows:
        shown.append((f"{ELLIPSIS} {len(facts) - rows:,} more facts", ""))
    return [adf.table(("Fact", "Value"), shown)]


def _links_section(links: Sequence[Link], count: int) -> list[dict[str, Any]]:
    if not links:
        return []
    items = [_link_item(link) for link in links[:count]]
    if len(links) > count:
        items.append(adf.text(f"{ELLIPSIS} {len(links) - count:,} more links"))
    return [adf.heading("Links", 3), adf.bullet_list(items)]


def _link_item(link: Link) -> list[dict[str, Any]]:
    from jira_notifier.render.redact import REDACTED

    label = _clip(_single_line(link.label), LINK_LABEL_MAX)
    if adf.is_web_url(link.url) and len(link.url) <= LINK_URL_MAX and REDACTED not in link.url:
        return adf.text(label or _clip(link.url, LINK_LABEL_MAX), adf.link(link.url))
    # Not a web link, absurdly long, or redacted: show it as text, never clickable.
    url = _clip(_single_line(link.url), LINK_LABEL_MAX)
    return adf.text(f"{label} ({url})" if label else url)


def _raw_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return adf.clean(raw)
    try:
        return json.dumps(raw, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # e.g. a circular structure
        return repr(raw)


def _raw_block(raw: Any, full_text: str, keep: int, unread: int) -> dict[str, Any]:
    """The raw event's text, ``keep`` characters of it; ``unread``: characters beyond ``full_text`` never read."""
    shown = full_text
    if len(full_text) > keep or unread:
        kept_lines = [full_text[:keep]] if keep else []
        omitted = len(full_text) - min(keep, len(full_text)) + unread
        shown = "\n".join([*kept_lines, f"{ELLIPSIS} (truncated, {omitted:,} characters omitted)"])
    return adf.code_block(shown, None if isinstance(raw, str) else "json")


def _footer(alert: Alert) -> dict[str, Any]:
    return adf.paragraph(
        *adf.text("Dedupe key: "),
        *adf.text(_clip(alert.dedupe_key, DEDUPE_KEY_MAX), adf.code()),
        *adf.text(" · related issues carry the label "),
        *adf.text(alert.dedupe_label, adf.code()),
        *adf.text(" · sent by jira-notifier"),
    )


# Notes ----------------------------------------------------------------------------------------------------


def coalesced_note(state: IssueState) -> str | None:
    if not state.coalesced:
        return None
    total = sum(state.coalesced.values())
    parts = ", ".join(f"{name} ×{count}" for name, count in sorted(state.coalesced.items()))
    return (
        f"{total} state change(s) arrived too fast to post one by one and were coalesced into this update "
        f"({parts}); Jira limits writes per issue."
    )


# Request bodies --------------------------------------------------------------------------------------------


def create_priority(alert: Alert, provider: ProviderConfig) -> str | None:
    """The priority a new issue gets: its severity's, or its impact's when that is higher (``impact.py``)."""
    return wanted_priority(alert, provider, None)


def create_body(
    alert: Alert, provider: ProviderConfig, issue_type_id: str, tag_fields: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``IssueUpdateDetails`` for ``POST /rest/api/3/issue`` (and each element of a bulk create); ``tag_fields``:
    values from the resources' tags, already fitted to the create screen (``fieldvalues.py``)."""
    fields: dict[str, Any] = {
        "project": provider.project_ref,
        "issuetype": {"id": issue_type_id},
        "summary": summary(alert, provider.summary_template),
        "description": description(alert),
        "labels": labels(alert, provider.labels),
    }
    priority = create_priority(alert, provider)
    if priority:
        fields["priority"] = {"name": priority}
    if provider.components:
        fields["components"] = [{"name": name} for name in provider.components]
    fields.update(provider.fields)  # validated: never project, issuetype, summary or description
    return {"fields": merged(fields, tag_fields) if tag_fields else fields}
