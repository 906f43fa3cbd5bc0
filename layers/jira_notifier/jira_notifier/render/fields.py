"""Resource tags as Jira field values: each value coerced to its field's type from create metadata. Pure.

A provider maps tag keys to field ids (``--tag-field team=components``). Each value takes the input format of its
field's schema type (Atlassian, "Field input formats"; rich text as ADF in REST v3). A value Jira would refuse (an
option or component it does not have, text where a number goes, a field missing from the create screen, a type not
handled here) is left out with a warning line for the description: a tag never costs the issue.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from jira_notifier.render import adf

ACCOUNT_ID = re.compile(r"^[A-Za-z0-9:_-]{1,128}$")  # e.g. 5b10ac8d82e05b22cc7d4ef5 or 712020:2f0c...
WHITESPACE = re.compile(r"\s")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})", re.ASCII)
TEXT_LIMIT = 255  # a single-line text field's limit, and a label's
NAMED_TYPES = {"component", "priority", "version"}  # set by name, among the allowed values
RICH_TEXT_SYSTEM_FIELDS = {"description", "environment"}  # Jira's own paragraph fields (custom ones: ``textarea``)


class Unfit(ValueError):
    """The value cannot go in the field; the message says why, for the warning line."""


@dataclass(frozen=True, slots=True)
class TagFields:
    """What the tags add to a create: field values, and a warning per value left out."""

    fields: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def tag_fields(
    tags: Mapping[str, str], mapping: Mapping[str, str], screen: Mapping[str, Mapping[str, Any]]
) -> TagFields:
    """The field values the resource ``tags`` give through the provider's ``mapping`` (tag key -> field id), for a
    create screen described by ``screen`` (field id -> ``FieldCreateMetadata``). Tags that are absent add nothing;
    several tags filling one array field add up; for a single-value field the first tag mapped to it wins."""
    fields: dict[str, Any] = {}
    warnings: list[str] = []
    for tag, field_id in mapping.items():
        raw = tags.get(tag)
        if raw is None or not raw.strip():
            continue
        try:
            meta = screen.get(field_id)
            if meta is None:
                raise Unfit(f"field {field_id} is not on the create screen")
            value = coerce(raw.strip(), meta)
        except Unfit as unfit:
            warnings.append(f"Tag {tag}={raw.strip()!r} was not set in {field_id}: {unfit}.")
            continue
        if isinstance(value, list) and isinstance(fields.get(field_id), list):
            fields[field_id] = _unique([*fields[field_id], *value])
        else:
            fields.setdefault(field_id, value)
    return TagFields(fields, tuple(warnings))


def coerce(value: str, meta: Mapping[str, Any]) -> Any:
    """``value`` as the JSON Jira takes for the field ``meta`` describes (``FieldCreateMetadata``).

    Raises:
        Unfit: Jira would refuse it, or the field's type is not one a tag can fill.
    """
    schema = _mapping(meta.get("schema"))
    kind = str(schema.get("type") or "")
    if kind == "array":
        return [_single(value, str(schema.get("items") or ""), schema, meta)]
    return _single(value, kind, schema, meta)


def merged(fields: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with ``extra`` added: arrays are joined (each value once), other values are ``extra``'s."""
    out = dict(fields)
    for field_id, value in extra.items():
        before = out.get(field_id)
        out[field_id] = _unique([*before, *value]) if isinstance(before, list) and isinstance(value, list) else value
    return out


def _single(value: str, kind: str, schema: Mapping[str, Any], meta: Mapping[str, Any]) -> Any:
    if kind == "string":
        custom = str(schema.get("custom") or "")
        system = str(schema.get("system") or "")
        if custom.endswith(":textarea") or system in RICH_TEXT_SYSTEM_FIELDS:  # rich text takes ADF in REST v3
            return adf.doc(adf.paragraph(*adf.text(value)))
        if custom.endswith(":labels") or system == "labels":
            value = WHITESPACE.sub("_", value)  # a label has no spaces
        if len(value) > TEXT_LIMIT:
            raise Unfit(f"longer than {TEXT_LIMIT} characters")
        return value
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            raise Unfit("not a number") from None
        if not math.isfinite(number):
            raise Unfit("not a number")
        return int(number) if number.is_integer() else number
    if kind == "option":
        return {"value": _allowed(value, meta, "value", "option")}
    if kind in NAMED_TYPES:
        return {"name": _allowed(value, meta, "name", kind)}
    if kind == "user":
        if not ACCOUNT_ID.fullmatch(value):
            raise Unfit("not an Atlassian account id")
        return {"accountId": value}
    if kind == "date":
        return _date(value)
    if kind == "datetime":
        return _datetime(value)
    raise Unfit(f"its type ({kind or 'unknown'}) is not one a tag can fill")


def _date(value: str) -> str:
    """A date as Jira takes it: ``YYYY-MM-DD``.

    Raises:
        Unfit: not a calendar date in that form.
    """
    try:
        if DATE.fullmatch(value):
            return date.fromisoformat(value).isoformat()
    except ValueError:  # e.g. 2026-02-30
        pass
    raise Unfit("not a date (YYYY-MM-DD)")


def _datetime(value: str) -> str:
    """A date and time as Jira takes it: ``YYYY-MM-DDThh:mm:ss.sss+hhmm``, from ISO 8601 with its offset (or ``Z``).

    Raises:
        Unfit: not such a date and time, or without an offset (the time it means is not known).
    """
    try:
        when = datetime.fromisoformat(value) if DATETIME.fullmatch(value) else None
    except ValueError:
        when = None
    if when is None or when.utcoffset() is None:
        raise Unfit("not a date and time with its offset (e.g. 2026-12-01T09:30:00+01:00)")
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}" + when.strftime("%z")


def _allowed(value: str, meta: Mapping[str, Any], key: str, kind: str) -> str:
    """Jira's spelling of ``value`` among the field's allowed values (matched ignoring case); without a list of
    them, the value as it is."""
    allowed = meta.get("allowedValues")
    if not isinstance(allowed, list):
        return value
    names = [str(item.get(key)) for item in allowed if isinstance(item, Mapping) and item.get(key) is not None]
    for name in names:
        if name.casefold() == value.casefold():
            return name
    raise Unfit(f"no {kind} {value!r} in Jira")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _unique(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out
