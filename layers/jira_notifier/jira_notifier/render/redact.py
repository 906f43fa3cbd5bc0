"""Secrets in text from the world, hidden before it reaches Jira: the one rule every log line and every event text an
issue shows goes through. Pure.

What is replaced by ``[REDACTED]``:

- private keys in PEM form, from ``-----BEGIN … PRIVATE KEY-----`` to its END over any number of lines (to the end
  of the text when the END is missing, from its start when only the END is there);
- the password in a URL's ``user:password@`` part;
- tokens known by their shape: AWS access key ids and secret keys, GitHub, Slack, Stripe, npm, Atlassian and Google
  API keys, JWTs, ``Bearer`` / ``Basic`` credentials, Azure SAS signatures;
- the whole value of a secret-named key (``is_secret_name``) in JSON, YAML, query strings, ``key=value`` text and
  headers: a quoted value to its closing quote, an object or a list to its closing bracket, a bare value to the
  next key or the end of the line; the value of an ``Authorization`` or ``Cookie`` header to the end of the line,
  whatever its scheme;
- long random strings (``_looks_random``); hex strings (hashes, trace, request and finding ids) and UUIDs are kept.

``log_lines`` also withholds whole log events that may hold part of a secret it cannot delimit: the lines of a
private key logged one event at a time, and a line of nothing but encoded data. Err on the side of hiding: a hash
shown as ``[REDACTED]`` costs little, a token in an issue a lot.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

REDACTED = "[REDACTED]"
LINE_MAX = 500  # characters of one log line shown
SCAN_MAX = 4 * LINE_MAX  # characters of one log event read: whitespace runs shrink, and no more is ever shown
ELLIPSIS = "…"

# ---- private keys ------------------------------------------------------------------------------------------

# Every quantifier is bounded or possessive, and repeated starts are anchored: no text makes a pattern slower than
# linear (a log event may hold 256 KB). The key markers start with a word the search skips to; their dashes are
# taken by _marker.
_KEY_BEGIN = re.compile(r"BEGIN [A-Z0-9 ]{0,24}PRIVATE KEY(?: BLOCK)?[ \t]{0,3}-{0,10}")
_KEY_END = re.compile(r"END [A-Z0-9 ]{0,24}PRIVATE KEY(?: BLOCK)?[ \t]{0,3}-{0,10}")
_MARKER_LEAD = 13  # "-----" and a space or two before BEGIN or END


def _marker(pattern: re.Pattern[str], text: str, start: int, end: int | None = None) -> tuple[int, int] | None:
    """Where the first BEGIN or END marker from ``start`` is, its leading dashes included."""
    found = pattern.search(text, start, len(text) if end is None else end)
    if found is None:
        return None
    lead = found.start()
    while lead > max(start, found.start() - _MARKER_LEAD) and text[lead - 1] in "- \t":
        lead -= 1
    return lead, found.end()


def _private_keys(text: str, inside: bool = False) -> tuple[str, bool]:
    """``text`` with every private key hidden, and whether it ends inside one.

    ``inside``: the text starts inside a key (its BEGIN came in an earlier log event). An END before any BEGIN
    means the same: what precedes it is the key's end.
    """
    if "PRIVATE KEY" not in text:
        return (REDACTED, True) if inside else (text, False)
    parts: list[str] = []
    at = 0
    while True:
        if inside or _starts_inside_key(text, at):
            end = _marker(_KEY_END, text, at)
            parts.append(REDACTED)
            if end is None:
                return "".join(parts), True
            at, inside = end[1], False
            continue  # another END may follow before any BEGIN
        begin = _marker(_KEY_BEGIN, text, at)
        if begin is None:
            parts.append(text[at:])
            return "".join(parts), False
        parts.append(text[at : begin[0]])
        at, inside = begin[1], True


def _starts_inside_key(text: str, start: int = 0) -> bool:
    """Whether ``text`` from ``start`` holds the END of a private key before any BEGIN: it starts in the middle of
    the key."""
    end = _marker(_KEY_END, text, start)
    return end is not None and _marker(_KEY_BEGIN, text, start, end[0]) is None


# ---- credentials in URLs and tokens known by their shape ---------------------------------------------------

# The password runs to the last "@" before the host: a password may hold "@" itself.
_URL_PASSWORD = re.compile(
    r"""(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s/:@"'<>]{0,256}:(?P<s>[^\s/"'<>]{1,256})@"""
)


@dataclass(frozen=True, slots=True)
class _Shape:
    """A token known by its shape. ``clues``: one of them, in lower case, is in any text holding the token, so that
    most texts skip the pattern. A group named ``secret`` is what is hidden, and the rest of the match (a prefix
    saying what it is) stays readable; without one the whole match is hidden."""

    name: str
    clues: tuple[str, ...]
    pattern: re.Pattern[str]

    def hide(self, text: str, folded: str) -> str:
        if not any(clue in folded for clue in self.clues):
            return text
        return self.pattern.sub(self._hidden, text)

    def _hidden(self, match: re.Match[str]) -> str:
        if self.name == "basic" and not _encoded(match["credentials"][1:]):
            return match[0]  # "Basic information", "basic Authentication": words, not base64
        if "secret" not in self.pattern.groupindex:
            return REDACTED
        whole, at = match[0], match.start()
        return whole[: match.start("secret") - at] + REDACTED + whole[match.end("secret") - at :]


def _shape(name: str, clues: tuple[str, ...], pattern: str, flags: int = 0) -> _Shape:
    return _Shape(name, clues, re.compile(pattern, flags))


_SHAPES = (
    _shape("aws-access-key-id", ("akia", "asia", "abia", "acca"),
           r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
    _shape("github", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
           r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    _shape("slack", ("xox", "xapp-"), r"(?<![A-Za-z0-9])(?:xox[abposre]|xapp)-[A-Za-z0-9-]{10,}"),
    _shape("slack-webhook", ("hooks.slack.com",), r"hooks\.slack\.com/services/(?P<secret>[A-Za-z0-9/]{20,})"),
    _shape("stripe", ("_live_", "_test_", "whsec_"),
           r"(?<![A-Za-z0-9_])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9+/=]{20,})"),
    _shape("atlassian", ("atatt",), r"(?<![A-Za-z0-9])ATATT[A-Za-z0-9_=-]{20,}"),
    _shape("google-api-key", ("aiza",), r"(?<![A-Za-z0-9])AIza[A-Za-z0-9_-]{35}"),
    _shape("npm", ("npm_",), r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}"),
    _shape("jwt", ("eyj",), r"(?<![A-Za-z0-9_])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    _shape("azure-sas", ("sig=",), r"[?&;]sig=(?P<secret>[^&\s\"';]{8,})", re.IGNORECASE),
    _shape("bearer", ("bearer",), r"\bbearer\s++[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE),
    _shape("basic", ("basic",),
           r"\bbasic\s++(?P<credentials>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])", re.IGNORECASE),
)  # fmt: skip
_ANY_CLUE = re.compile("|".join(re.escape(clue) for shape in _SHAPES for clue in shape.clues))
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _folded(text: str) -> str:
    """``text`` with its ASCII letters in lower case: as long as ``text``, so a position in one is one in the other
    (``str.lower`` may change the length of other text)."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def _encoded(s: str) -> bool:
    return any(c.isdigit() or c.isupper() or c in "+/=" for c in s)


# ---- values of secret-named keys ---------------------------------------------------------------------------

# A key, its closing quote and its separator, matched where the key starts (never in the middle of a word). A
# command-line flag (--password VALUE) has a space for a separator.
_IDENTIFIER = re.compile(r"[\w$.-]+")
_KEY = re.compile(r"""(?P<key>[A-Za-z_$][\w$.-]*+)(?P<quote>\\*+["']?)[ \t]*+(?P<sep>=>|:=|==|[:=])[ \t]*+""")
_FLAG = re.compile(r"""(?P<key>[A-Za-z_$][\w$.-]*+)(?P<quote>)(?P<sep>[ \t]++)(?=[^\s-])""")
_SECRET_STEM = re.compile(r"pas|pwd|secret|token|key|cred|session|cookie|auth|signature|conn")  # in _folded text
_WORD_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# A word part that ends with one of these names a secret: pgpassword, csrftoken, jsessionid, client_secret.
_SECRET_ENDINGS = (
    "password", "passwd", "passphrase", "secret", "secrets", "token", "credential", "credentials", "cookie",
    "cookies", "signature", "apikey", "privatekey", "accountkey", "accesskey", "sessionid", "sessionkey",
    "connectionstring", "connstring", "connstr", "authorization", "authentication", "authtoken",
)  # fmt: skip
# Short words that name a secret only as a word part of their own: DB_PASS, authToken, but not bypass or passed.
_SECRET_WORDS = frozenset({"pass", "pwd", "auth", "session"})
# A last word part that says the value is about the secret, not the secret: secret_arn, token_type, password_length.
_ABOUT_THE_SECRET = frozenset(
    {
        "arn", "name", "names", "type", "types", "kind", "length", "len", "count", "size", "ttl", "version",
        "expiry", "expires", "expiration", "expired", "in", "at", "age", "duration", "timeout", "status", "state",
        "format", "policy", "url", "uri", "endpoint", "path", "file", "dir", "used", "provider", "rotation",
    }
)  # fmt: skip
# Values that run to the end of the line: they hold "k=v" parts of their own (cookies, SigV4, Digest, connection
# strings).
_WHOLE_LINE_NAMES = ("authorization", "cookie", "cookies", "connectionstring", "connstring", "connstr")
_HARMLESS_VALUE = re.compile(
    r"(?i)(?:true|false|null|none|nil|undefined|yes|no|\*+|x{3,}|\?|%s|\[REDACTED\]|<[^<>\s]*>|\$\{[^}]*\}|\{\{[^}]*\}\})"
)
_QUOTE = re.compile(r"""\\*["']""")
_BARE_VALUE_END = re.compile(
    r"""[\r\n]
    | (?<![ \t,;])(?:[ \t]*+[,;])?[ \t]++                                # the next key, or a flag
      (?=\\*+["']?[A-Za-z_$][\w$.-]*+\\*+["']?[ \t]*+(?:=>|[:=]) | --?[A-Za-z])
    | [,;&](?=\\*+["']?[A-Za-z_$][\w$.-]*+\\*+["']?[ \t]*+[:=])         # the next key or query parameter
    | ["'](?=[\s,;:)}\]]|$)                                              # the end of the string it is in
    | [)}\]](?=[\s,;]|$)                                                 # the end of the object it is in
    """,
    re.VERBOSE,
)
_LINE_END = re.compile(r"[\r\n]")
_LINE = re.compile(r"([^\r\n]*+)(?:\r?\n)?")
_VALUE_BELOW = frozenset({"", "|", ">", "|-", ">-", "|+", ">+"})  # nothing on the key's line: the value is below


def is_secret_name(name: str) -> bool:
    """Whether a key, field or header named ``name`` holds a secret: any of pass, passwd, password, secret, token,
    api key, credential, private key, session, cookie, auth, signature, connection string as a part of the name,
    whatever its case or separators, unless the name ends in a word saying it is about the secret (``_arn``,
    ``_type``, ``_length``, ...)."""
    parts = [part.lower() for part in _WORD_PARTS.findall(name)]
    if not parts or parts[-1] in _ABOUT_THE_SECRET:
        return False
    joined = [a + b for a, b in zip(parts, parts[1:], strict=False)]
    return any(part in _SECRET_WORDS for part in parts) or any(
        part.endswith(_SECRET_ENDINGS) for part in (*parts, *joined)
    )


def _named_values(text: str) -> str:
    folded = _folded(text)
    out: list[str] = []
    at = 0
    search_from = 0
    while stem := _SECRET_STEM.search(folded, search_from):  # keys are many, secret-named ones few: find those
        start = _key_start(text, stem.start())
        key = _KEY.match(text, start) or (_FLAG.match(text, start) if text.startswith("--", start - 2) else None)
        if key is None:
            identifier = _IDENTIFIER.match(text, stem.start())
            search_from = identifier.end() if identifier else stem.end()
            continue
        search_from = key.end()
        if key["sep"] == ":" and start and text[start - 1] in ":/":  # arn:…:secret:name, a path
            continue
        if not is_secret_name(key["key"]):
            continue
        whole_line = "".join(_WORD_PARTS.findall(key["key"])).lower().endswith(_WHOLE_LINE_NAMES)
        value_start, value_end = _value_span(text, key.end(), whole_line=whole_line)
        if value_start == value_end or _HARMLESS_VALUE.fullmatch(text[value_start:value_end].strip()):
            continue
        out += [text[at:value_start], REDACTED]
        at = search_from = value_end
    out.append(text[at:])
    return "".join(out)


def _key_start(text: str, at: int) -> int:
    """Where the key holding position ``at`` starts: the start of its identifier, past any leading dashes, dots or
    digits (--password, -Dspring.datasource.password)."""
    start = at
    while start and (text[start - 1].isalnum() or text[start - 1] in "_$.-"):
        start -= 1
    while start < at and not (text[start].isalpha() or text[start] in "_$"):
        start += 1
    return start


def _value_span(text: str, start: int, *, whole_line: bool) -> tuple[int, int]:
    """Where the value starting at ``start`` is: inside its quotes, its brackets included, or up to what ends it.
    A value whose end cannot be found runs to the end of the text."""
    quote = _QUOTE.match(text, start)
    if quote:
        return quote.end(), _closing_quote(text, quote.end(), quote[0])
    if text.startswith(("{", "["), start):
        return start, _closing_bracket(text, start)
    found = (_LINE_END if whole_line else _BARE_VALUE_END).search(text, start)
    end = found.start() if found else len(text)
    if text[start:end].strip() in _VALUE_BELOW and end < len(text) and text[end] in "\r\n":
        return _value_below(text, end)  # password:\n  hunter2, token: |\n  ...
    return start, end


def _value_below(text: str, at: int) -> tuple[int, int]:
    """The value on the lines after the line break at ``at``: the indented lines that follow, or the next line
    when none is indented; without their indentation and last line break. Nothing when the next line is blank."""
    lines = _LINE.finditer(text, at + 1 + (text[at : at + 2] == "\r\n"))
    first = next(lines)
    if not first[1].strip():
        return at, at
    start, end = first.start(1) + len(first[1]) - len(first[1].lstrip()), first.end(1)
    if first[1][:1] in (" ", "\t"):
        for line in lines:
            if line[1][:1] not in (" ", "\t") or not line[1].strip():
                break
            end = line.end(1)
    return start, end


def _closing_quote(text: str, start: int, quote: str) -> int:
    at = start
    while (at := text.find(quote, at)) >= 0:
        if text[at - 1] != "\\":  # an escaped quote is part of the value
            return at
        at += 1
    return len(text)


def _closing_bracket(text: str, start: int) -> int:
    depth = 0
    at = start
    while at < len(text):
        char = text[at]
        if char == '"':
            at = _closing_quote(text, at + 1, '"')
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return at + 1
        at += 1
    return len(text)


# ---- long random strings -----------------------------------------------------------------------------------

RANDOM_MIN = 20  # characters of random-looking parts that make a string a secret
PART_MIN = 6  # characters a part needs to be judged at all
WORD_MAX = 4.5  # mean word length of a random-looking part: names and words run longer
ENTROPY_SLACK = 1.0  # bits per character a random-looking part may have below log2 of its length (at most 5)
_ENTROPY_CEILING = 5.0  # the most entropy asked of a long part: random ones of 64 characters have about 4.9
_RUN = re.compile(rf"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{{{RANDOM_MIN},}}")
_HEX = re.compile(r"[0-9a-fA-F_=-]+")
_AWS_SECRET_KEY = re.compile(r"[A-Za-z0-9+/]{40}")
_SEPARATORS = re.compile(r"[/+=_-]+")
_WORD = re.compile(r"(?:[A-Z]?[a-z]{2,})+")  # a part made of words: orders, api, ProcessFunction
_WORDS = re.compile(r"[A-Z]*[a-z]+|[A-Z]+|[0-9]+")  # a capital starts a word, a change to digits or capitals ends it
_MIXED = re.compile(r"(?=[^A-Z]*[A-Z])(?=[^a-z]*[a-z])(?=[^0-9]*[0-9])")


def _looks_random(run: str) -> bool:
    """Whether a run of token characters is a secret: an AWS secret access key (40 characters of base64 mixing
    cases and digits), a run that reads as one random part without its separators (base64's ``+`` and ``/`` are
    part of it; ``-`` and ``_`` are, unless they join words, as in a name), or a run whose random-looking parts
    (``_random_part``) add up to ``RANDOM_MIN`` characters. Hex (hashes, trace, request and finding ids, UUIDs),
    names and paths are not."""
    if _HEX.fullmatch(run):
        return False
    if _AWS_SECRET_KEY.fullmatch(run) and _mixed(run):
        return True
    parts = [part for part in _SEPARATORS.split(run) if part]
    if not parts:  # "////////////////////", "++++++++++++++++++++": a rule drawn in a log
        return False
    joined = "".join(parts)
    if _both_cases(max(parts, key=len)) and not _named(run, parts, len(joined)) and _random_part(joined):
        return True  # read whole; not db-7T2E6BFWGWLQEXS8ZPKWVSM8CF, whose longest part is in one case
    return sum(len(part) for part in parts if _random_part(part)) >= RANDOM_MIN


def _named(run: str, parts: list[str], length: int) -> bool:
    """Whether ``-`` or ``_`` join words in ``run`` (orders-api-ProcessFunction-1A2B3C4D5E6F): a third of it or more
    is parts made of words. Random base64url has few such parts, and short ones."""
    if "-" not in run and "_" not in run:
        return False
    return 3 * sum(len(part) for part in parts if _WORD.fullmatch(part)) >= length


def _random_part(part: str) -> bool:
    """Upper and lower case letters and digits, in short words (``ProcessPaymentFunction`` has long ones), about as
    varied as random text of its length (``ENTROPY_SLACK``)."""
    if len(part) < PART_MIN or not _mixed(part):
        return False
    words = len(_WORDS.findall(part))
    wanted = min(math.log2(len(part)), _ENTROPY_CEILING) - ENTROPY_SLACK
    return len(part) / words < WORD_MAX and _entropy(part) >= wanted


def _both_cases(s: str) -> bool:
    return s.lower() != s != s.upper()


def _mixed(s: str) -> bool:
    return _MIXED.match(s) is not None


def _entropy(s: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(s)
    return -sum(count / n * math.log2(count / n) for count in Counter(s).values())


def _random_strings(text: str) -> str:
    return _RUN.sub(lambda m: REDACTED if _looks_random(m[0]) else m[0], text)


# ---- the rule ----------------------------------------------------------------------------------------------


def redact(text: str) -> str:
    """``text`` (one line or many) with every secret-looking string replaced by ``[REDACTED]``; names of named
    secrets, quotes and separators are kept."""
    return _redact_rest(_private_keys(text)[0])


def _redact_rest(text: str) -> str:
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: m[0][: m.start("s") - m.start()] + REDACTED + "@", text)
    folded = _folded(text)
    if _ANY_CLUE.search(folded):
        for shape in _SHAPES:
            text = shape.hide(text, folded)
    return _random_strings(_named_values(text))


def redact_field(name: str, value: str) -> str:
    """A named value (a fact, a notification's field): hidden whole when its name names a secret, else redacted."""
    return REDACTED if value and is_secret_name(name) else redact(value)


_SPACE = re.compile(r"\s")


def head(text: str, most: int) -> str:
    """What to read of ``text`` when no more than ``most`` characters of it are ever shown: that many, and the rest
    of the word they end in (a token cut in two might no longer look like one, and its first part would show), up
    to as many again (a longer word is a blob, random in any part of it)."""
    if len(text) <= most:
        return text
    space = _SPACE.search(text, most, 2 * most)
    return text[: space.start() if space else 2 * most]


# ---- log events --------------------------------------------------------------------------------------------

_ENCODED_LINE = re.compile(r"[A-Za-z0-9+/]{2,}={0,2}")
ENCODED_LINE_MIN = 24  # a line of nothing but this much base64 is withheld: a key or certificate without its header


def log_line(message: str, limit: int = LINE_MAX) -> str:
    """A log event's message for the issue: its private keys hidden, then on one line and redacted as it is shown
    (a value on the line after its key is still found), then capped at ``limit`` characters (a secret cut in two is
    still found)."""
    return _shown(_private_keys(message)[0], limit)


def log_lines(events: Iterable[tuple[str, str]], limit: int = LINE_MAX) -> list[str | None]:
    """Log events, as ``(log stream, message)`` oldest first, as the issue shows them: each redacted, on one line,
    capped at ``limit``; or None for an event withheld whole because it may hold part of a secret.

    Withheld: the events of a private key logged one line at a time (from its BEGIN to its END in the same stream,
    or to the last event read when its END is not among them; an END without its BEGIN also takes the lines of
    encoded data just before it in its stream), an event that is nothing but a private key, and an event of nothing
    but encoded data (``ENCODED_LINE_MIN`` characters or more: a key or a certificate without its header).
    """
    shown: list[str | None] = []
    in_key: set[str] = set()  # the streams whose next event is inside a private key
    encoded: dict[str, list[int]] = {}  # per stream, the lines of encoded data just read
    for stream, message in events:
        inside = stream in in_key
        if not inside and _starts_inside_key(message):
            for index in encoded.get(stream, ()):
                shown[index] = None
        text, inside = _private_keys(message, inside)
        (in_key.add if inside else in_key.discard)(stream)
        bare = message.strip()
        if _ENCODED_LINE.fullmatch(bare):
            encoded.setdefault(stream, []).append(len(shown))
        else:
            encoded.pop(stream, None)
        if text.strip() == REDACTED or _encoded_data(bare):
            shown.append(None)
        else:
            shown.append(_shown(text, limit))
    return shown


def _encoded_data(line: str) -> bool:
    return len(line) >= ENCODED_LINE_MIN and _ENCODED_LINE.fullmatch(line) is not None and _mixed(line)


def _shown(text: str, limit: int) -> str:
    read = head(text, SCAN_MAX)
    cut = len(read) < len(text)
    line = _redact_rest(" ".join(read.split()))  # judged as shown: on one line
    if len(line) > limit or cut:
        return line[: limit - 1] + ELLIPSIS
    return line
