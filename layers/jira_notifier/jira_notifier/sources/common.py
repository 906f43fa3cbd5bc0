"""Forgiving readers shared by every parser.

Any field of any input may be null, missing, empty or of the wrong type: these helpers turn all of those into
"nothing" so the parsers never branch on the difference.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from jira_notifier.core.alert import Alert, Link

_TITLE_MAX = 255
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_REGION_CODE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_EMPTY: Mapping[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the envelope says about one message; shared by every alert read from it."""

    delivery_key: str
    route_key: str | None = None
    notification_group: str | None = None  # from a message attribute: wins over the body's own group
    subject: str | None = None  # SNS Subject: shown for generic messages, never parsed
    received_at: datetime | None = None
    origin: str = "a direct invocation"  # for readable generic titles, e.g. "SNS topic alerts"
    one_alert: bool = False  # an SQS record must become exactly one alert

    def group(self, from_body: object = None) -> str | None:
        return self.notification_group or text(from_body) or None


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else _EMPTY


def items(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def text(value: object) -> str:
    """A scalar as stripped text; null, objects and lists read as empty."""
    if value is None or isinstance(value, Mapping | list | tuple):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def first_text(*values: object) -> str:
    return next((t for t in map(text, values) if t), "")


def flag(value: object) -> bool:
    """True only for a real true: Health sends "false" as a string, and bool("false") is True."""
    return value is True or text(value).lower() == "true"


def one_line(value: str, limit: int = _TITLE_MAX) -> str:
    """Whitespace collapsed to single spaces, cut on code points with a marker."""
    line = " ".join(value.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from ISO 8601 (``Z``, ``+0000``, date only) or RFC 1123 text; None otherwise."""
    raw = text(value)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_epoch_ms(value: object) -> datetime | None:
    millis = to_decimal(value)
    if millis is None:
        return None
    try:
        return _EPOCH + timedelta(milliseconds=int(millis))
    except OverflowError:
        return None


def epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else (moment - _EPOCH) // _ONE_MS


def show_time(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def show_date(value: object) -> str:
    moment = parse_time(value)
    return moment.date().isoformat() if moment else text(value)


def to_decimal(value: object) -> Decimal | None:
    """A finite number from a JSON number or text such as "$1,234.50"; None otherwise."""
    if isinstance(value, bool):
        return None
    raw = text(value).replace(",", "").replace("$", "").strip()
    try:
        number = Decimal(raw)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def money(amount: Decimal | None) -> str:
    return "" if amount is None else f"${amount:,.2f}"


def plain_number(amount: Decimal) -> str:
    """A canonical decimal string: 987.20, 987.2 and 9.872E+2 all read as "987.2"."""
    return format(amount.normalize(), "f")


def region_code(value: object) -> str | None:
    """The value if it is a region code such as eu-west-1 (never a display name such as "EU (Ireland)")."""
    candidate = text(value)
    return candidate if _REGION_CODE.fullmatch(candidate) else None


def arn_region_account(arn: str) -> tuple[str | None, str | None]:
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None, None
    account = parts[4] if parts[4].isdigit() else None
    return region_code(parts[3]), account


def alarm_name_from_arn(arn: str) -> str:
    _, marker, name = arn.partition(":alarm:")
    return name if marker else ""


def https_links(*pairs: tuple[str, object]) -> tuple[Link, ...]:
    """Links whose URL is an absolute https URL; anything else (http, javascript:, junk) is dropped."""
    links: list[Link] = []
    for label, url in pairs:
        candidate = text(url)
        if not candidate or any(ch.isspace() or ord(ch) < 32 for ch in candidate):
            continue
        try:
            parts = urlsplit(candidate)
        except ValueError:
            continue
        if parts.scheme.lower() == "https" and parts.netloc:
            links.append(Link(label, candidate))
    return tuple(links)


def facts(*pairs: tuple[str, object]) -> tuple[tuple[str, str], ...]:
    """Name/value pairs as text, leaving out the empty ones."""
    return tuple((name, value) for name, value in ((text(n), text(v)) for n, v in pairs) if name and value)


def decode_json(raw: str) -> tuple[bool, Any]:
    """(True, value) for valid JSON, (False, None) for anything else, including truncated or absurdly nested text."""
    try:
        return True, json.loads(raw)
    except (ValueError, RecursionError):
        return False, None


def digest(value: object) -> str:
    """A stable sha256 of any value: identical content, identical digest."""
    if isinstance(value, str):
        serial = value
    else:
        try:
            serial = json.dumps(value, sort_keys=True, default=str)
        except (TypeError, ValueError, RecursionError):
            serial = repr(value)
    return hashlib.sha256(serial.encode("utf-8", "surrogatepass")).hexdigest()


def last_arn_segment(arn: object) -> str:
    return text(arn).rsplit(":", 1)[-1]


# ---- reading with a fallback: an unforeseen input still becomes a readable alert --------------------------------

Reader = Callable[[Mapping[str, Any], "Delivery"], list[Alert]]


def is_eventbridge_event(value: Mapping[str, Any]) -> bool:
    """An EventBridge event, delivered directly or as the body of an SNS message or SQS record."""
    return "detail-type" in value and "source" in value


def read_or_generic(kind: str, read: Callable[[], list[Alert]], fallback: Callable[[str], Alert]) -> list[Alert]:
    """Run a reader; when it finds nothing it can use, or trips over an input nobody foresaw, fall back."""
    try:
        alerts = read()
    except Exception as exc:  # an unforeseen input must still become a readable alert, never a crash
        return [fallback(f"It looked like {kind} but could not be read ({type(exc).__name__}).")]
    return alerts or [fallback("")]


def read_known(
    found: tuple[str, Reader] | None, body: Mapping[str, Any], delivery: Delivery, fallback: Callable[[str], Alert]
) -> list[Alert]:
    """Read ``body`` with the reader found for its shape (``(kind, reader)``); with none found, fall back."""
    if found is None:
        return [fallback("")]
    kind, read = found
    return read_or_generic(kind, lambda: read(body, delivery), fallback)
