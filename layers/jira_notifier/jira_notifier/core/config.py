"""The user's configuration: the Jira Token secret and the Jira provider, validated.

Pure: parsing and validation only. Where they are stored is the business of ``secrets.py`` and ``providers.py``.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import SplitResult, urlsplit

from jira_notifier.core.errors import ConfigError, SecretError
from jira_notifier.core.storm import DEFAULT_WINDOW_SECONDS, check_group_by
from jira_notifier.core.units import Step

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
GATEWAY_HOST = "api.atlassian.com"
CLOUD_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,254}$")
PROJECT_ID = re.compile(r"^[0-9]{1,18}$")
SEVERITIES = ("critical", "high", "medium", "low", "info")


def check_jira_url(url: str, allowed_hosts: Iterable[str]) -> str:
    """Return the URL without a trailing slash if Jira may be reached there.

    ``https`` on a host matching ``allowed_hosts``; plain ``http`` only for a loopback host that is named
    explicitly. IP literals other than an explicitly named loopback address are refused, so metadata
    endpoints and private ranges can never be reached.

    Raises:
        SecretError: the URL is malformed or its host is not allowed.
    """
    allowed = [h.strip().lower() for h in allowed_hosts if h.strip()]
    shown = _without_credentials(url)  # a URL pasted with user:token@ must not carry the token into an error
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise SecretError(f"Server URL {shown!r} is not a valid URL") from None
    if not host or parts.username or parts.password or parts.query or parts.fragment:
        raise SecretError(
            f"Server URL {shown!r} must look like https://yourdomain.atlassian.net (no credentials, query or fragment)"
        )
    if host in LOOPBACK_HOSTS:
        if host not in allowed:
            raise SecretError(
                f"Server URL host {host!r} is a loopback address; name it in JIRA_ALLOWED_HOSTS to allow it"
            )
        if parts.scheme not in ("http", "https"):
            raise SecretError(f"Server URL {shown!r} must use https:// (or http:// for a loopback host)")
        return url.strip().rstrip("/")
    if _is_ip_literal(host):
        raise SecretError(f"Server URL host {host!r} is an IP address; Jira Cloud is reached by its site name")
    if parts.scheme != "https":
        raise SecretError(f"Server URL {shown!r} must use https://")
    if not any(fnmatchcase(host, pattern) for pattern in allowed if pattern not in LOOPBACK_HOSTS):
        raise SecretError(
            f"Server URL host {host!r} is not allowed by JIRA_ALLOWED_HOSTS ({', '.join(allowed) or 'empty'})"
        )
    return url.strip().rstrip("/")


def _is_ip_literal(host: str) -> bool:
    """Any spelling of an IP address, including the ones resolvers accept (``2852039166``, ``0xa9fea9fe``,
    ``127.1``), since each of them reaches the address without a name."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        try:
            socket.inet_aton(host)
        except OSError:
            return False
    return True


def _under(url: str, base: str) -> bool:
    """Whether ``url`` is ``base`` or below it: same scheme, host (in any case) and port, and below its path."""
    try:
        target, root = urlsplit(url.strip()), urlsplit(base)
        same_origin = root.hostname is not None and _origin(target) == _origin(root)
    except ValueError:  # a malformed port
        return False
    prefix = root.path.rstrip("/")
    below = target.path == prefix or target.path.startswith(prefix + "/")
    return same_origin and below and target.username is None


def _origin(parts: SplitResult) -> tuple[str, str | None, int | None]:
    """Raises: ValueError: a malformed port."""
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, parts.port or {"https": 443, "http": 80}.get(scheme)


def _without_credentials(url: str) -> str:
    return re.sub(r"//[^/?#]*@", "//***@", url)


@dataclass(frozen=True, slots=True)
class JiraSecret:
    """A "Jira Token" secret. ``repr`` never shows the token."""

    name: str
    email: str
    api_token: str = field(repr=False)
    server_url: str
    cloud_id: str | None = None
    expires_at: date | None = None

    @property
    def api_base_url(self) -> str:
        """Where REST calls go: the site, or the api.atlassian.com gateway for scoped tokens."""
        if self.cloud_id:
            return f"https://{GATEWAY_HOST}/ex/jira/{self.cloud_id}"
        return self.server_url

    def days_until_expiry(self, today: date) -> int | None:
        return None if self.expires_at is None else (self.expires_at - today).days

    def holds(self, url: str) -> bool:
        """Whether a Jira resource URL (an issue's ``self``) is on this secret's site: under its server URL, or, for
        a secret with a cloudId, under that cloud's gateway address (``https://api.atlassian.com/ex/jira/{cloudId}``).
        Two sites may hold issues with the same id: what one says must never be taken for the other's."""
        bases = [self.server_url, *([self.api_base_url] if self.cloud_id else [])]
        return any(_under(url, base) for base in bases)


def parse_secret(name: str, secret_string: str, allowed_hosts: Iterable[str]) -> JiraSecret:
    """Parse and validate a SecretString in the product's format.

    Raises:
        SecretError: the secret is not JSON, lacks a field, or its URL is not allowed. The message names the
            field and never contains the token.
    """
    try:
        data = json.loads(secret_string)
    except ValueError:
        raise SecretError(f"secret {name!r} is not JSON in the Jira Token format") from None
    if not isinstance(data, dict):
        raise SecretError(f"secret {name!r} must be a JSON object in the Jira Token format")
    missing = [key for key in ("email", "apiToken", "serverUrl") if not _text(data.get(key))]
    if missing:
        raise SecretError(f"secret {name!r} is missing {', '.join(missing)}")
    for key, label in (("email", "email"), ("apiToken", "API token")):
        if not _basic_auth_safe(str(data[key]).strip()):
            raise SecretError(
                f"secret {name!r}: the {label} holds a character HTTP Basic authentication cannot carry (often a "
                f"typographic quote or a non-breaking space pasted with it); store it again as plain text"
            )
    if data.get("type", "jira-token") != "jira-token":
        raise SecretError(f"secret {name!r} is not of type 'jira-token'; store it with 'jira-notifier secret put'")
    allowed = list(allowed_hosts)
    server_url = check_jira_url(str(data["serverUrl"]), allowed)
    cloud_id = _text(data.get("cloudId")) or None
    if cloud_id is not None:
        if not CLOUD_ID.fullmatch(cloud_id):
            raise SecretError(f"secret {name!r} has a malformed cloudId")
        if not any(fnmatchcase(GATEWAY_HOST, pattern) for pattern in allowed):
            raise SecretError(f"secret {name!r} sets cloudId but JIRA_ALLOWED_HOSTS does not allow {GATEWAY_HOST}")
    return JiraSecret(
        name=name,
        email=str(data["email"]).strip(),
        api_token=str(data["apiToken"]).strip(),
        server_url=server_url,
        cloud_id=cloud_id,
        expires_at=_date(name, data.get("expiresAt")),
    )


def _basic_auth_safe(text: str) -> bool:
    """Printable ASCII: what Jira's Basic authentication takes (requests would fail on the rest when sending)."""
    return text.isascii() and text.isprintable()


def secret_string(
    email: str, api_token: str, server_url: str, cloud_id: str | None = None, expires_at: date | None = None
) -> str:
    """The SecretString for a Jira Token secret, in the product's format."""
    data: dict[str, str] = {"type": "jira-token", "email": email, "apiToken": api_token, "serverUrl": server_url}
    if cloud_id:
        data["cloudId"] = cloud_id
    if expires_at:
        data["expiresAt"] = expires_at.isoformat()
    return json.dumps(data)


def _date(name: str, value: Any) -> date | None:
    if not _text(value):
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise SecretError(f"secret {name!r} has an expiresAt that is not a date; expected YYYY-MM-DD") from None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _stored_steps(value: Any) -> tuple[Step, ...]:
    return tuple((float(at), str(priority)) for at, priority in value or ())


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """A "Jira" provider in a notification group."""

    group: str
    name: str
    project: str  # Project ID or Key
    issue_type: str  # the name exactly as in Jira
    secret: str  # the Secrets Manager name of its Jira Token
    resolve_transition: str | None = None
    resolve_resolution: str | None = None  # set on the resolve transition when its screen has the field
    reopen_transition: str | None = None
    reopen_window: int | None = None  # seconds; None = always reopen while a reopen transition is set
    wont_fix_resolution: str | None = None
    cooldown: int = 3600  # seconds an identical repeat is not commented again
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    priority_map: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict)
    summary_template: str | None = None
    sync_back: bool = False  # tell Security Hub and Cost Anomaly Detection what became of the issue (syncback.py)
    archive_wont_fix: bool = False  # archive a GuardDuty finding whose issue is resolved as won't-fix
    graph: bool = True  # a new metric-alarm issue carries a PNG of the alarm's metrics
    log_evidence: bool = True  # a new issue of a log-based alarm shows the matching log events
    group_by: tuple[str, ...] = ()  # storms as one issue (storm.py): alerts of a group share a parent issue
    group_window: int = DEFAULT_WINDOW_SECONDS  # seconds; a group's alerts within one window share the parent
    tag_fields: Mapping[str, str] = field(default_factory=dict)  # resource tag key -> Jira field id
    impact_steps: tuple[Step, ...] = ()  # a cost anomaly's total impact (USD) -> priority
    budget_steps: tuple[Step, ...] = ()  # a budget alert's threshold (% of the budget) -> priority
    escalate_after: tuple[Step, ...] = ()  # seconds an open issue's alert has been firing -> priority
    products: tuple[str, ...] = ()  # security findings only of these products (e.g. guardduty); empty = all

    def takes(self, product: str | None) -> bool:
        """Whether the provider takes an alert of ``product`` (a finding's, e.g. ``aws/guardduty``; None for what
        is no finding): a name matches the whole product or its last part, ignoring case."""
        if not self.products or product is None:
            return True
        wanted = {name.casefold() for name in self.products}
        return product.casefold() in wanted or product.rsplit("/", 1)[-1].casefold() in wanted

    @property
    def provider_id(self) -> str:
        return f"{self.group}/{self.name}"

    @property
    def syncs_back(self) -> bool:
        """Whether anything of this provider's issues goes back to AWS (``--sync-back``, ``--archive-wont-fix``)."""
        return self.sync_back or self.archive_wont_fix

    @property
    def project_ref(self) -> dict[str, str]:
        return {"id": self.project} if PROJECT_ID.match(self.project) else {"key": self.project}

    def validate(self) -> ProviderConfig:
        """Return self if every setting is usable.

        Raises:
            ConfigError: naming the setting and how to fix it.
        """
        where = f"provider {self.provider_id!r}"
        if not self.group.strip() or not self.name.strip():
            raise ConfigError("a provider needs a notification group and a name")
        if not (PROJECT_KEY.match(self.project) or PROJECT_ID.match(self.project)):
            raise ConfigError(
                f"{where}: project {self.project!r} is neither a project key (e.g. OPS: upper-case letters, "
                "digits, _) nor a numeric project id"
            )
        if not self.issue_type.strip():
            raise ConfigError(f"{where}: the issue type must be the name exactly as in Jira, e.g. Task")
        if not self.secret.strip():
            raise ConfigError(f"{where}: name the secret holding its Jira Token")
        unknown = sorted(set(self.priority_map) - set(SEVERITIES))
        if unknown:
            raise ConfigError(f"{where}: priority map has unknown severities {unknown}; use {', '.join(SEVERITIES)}")
        reserved = sorted({"project", "issuetype", "summary", "description"} & set(self.fields))
        if reserved:
            raise ConfigError(f"{where}: fields {reserved} are set by jira-notifier itself; remove them")
        try:
            check_group_by(self.group_by, self.group_window)
        except ConfigError as error:
            raise ConfigError(f"{where}: {error}") from None
        taken = sorted(
            set(self.tag_fields.values()) & {"project", "issuetype", "summary", "description", "labels", "priority"}
        )
        if taken:
            raise ConfigError(f"{where}: tag fields may not fill {taken}; they are set by jira-notifier itself")
        return self

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item (without keys) in the stored, user-facing names."""
        item: dict[str, Any] = {
            "type": "jira",
            "name": self.name,
            "group": self.group,
            "project": self.project,
            "issueType": self.issue_type,
            "secret": self.secret,
            "cooldownSeconds": self.cooldown,
        }
        optional = {
            "resolveTransition": self.resolve_transition,
            "resolveResolution": self.resolve_resolution,
            "reopenTransition": self.reopen_transition,
            "reopenWindowSeconds": self.reopen_window,
            "wontFixResolution": self.wont_fix_resolution,
            "labels": list(self.labels) or None,
            "components": list(self.components) or None,
            "priorityMap": dict(self.priority_map) or None,
            "fields": json.dumps(dict(self.fields)) if self.fields else None,
            "summaryTemplate": self.summary_template,
            "syncBack": self.sync_back or None,
            "archiveWontFix": self.archive_wont_fix or None,
            "graph": False if not self.graph else None,  # stored only when turned off
            "logEvidence": False if not self.log_evidence else None,
            "groupBy": list(self.group_by) or None,
            "groupWindowSeconds": self.group_window if self.group_by else None,
            "tagFields": dict(self.tag_fields) or None,
            "impactSteps": [list(step) for step in self.impact_steps] or None,
            "budgetSteps": [list(step) for step in self.budget_steps] or None,
            "escalateAfter": [list(step) for step in self.escalate_after] or None,
            "products": list(self.products) or None,
        }
        item.update({key: value for key, value in optional.items() if value is not None})
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ProviderConfig:
        """Read a stored provider.

        Raises:
            ConfigError: the item is incomplete or invalid.
        """
        try:
            fields = json.loads(item["fields"]) if item.get("fields") else {}
            provider = cls(
                group=str(item["group"]),
                name=str(item["name"]),
                project=str(item["project"]),
                issue_type=str(item["issueType"]),
                secret=str(item["secret"]),
                resolve_transition=item.get("resolveTransition") or None,
                resolve_resolution=item.get("resolveResolution") or None,
                reopen_transition=item.get("reopenTransition") or None,
                reopen_window=_opt_int(item.get("reopenWindowSeconds")),
                wont_fix_resolution=item.get("wontFixResolution") or None,
                cooldown=_opt_int(item.get("cooldownSeconds")) or 0,
                labels=tuple(item.get("labels") or ()),
                components=tuple(item.get("components") or ()),
                priority_map=dict(item.get("priorityMap") or {}),
                fields=fields if isinstance(fields, dict) else {},
                summary_template=item.get("summaryTemplate") or None,
                sync_back=item.get("syncBack") is True,
                archive_wont_fix=item.get("archiveWontFix") is True,
                graph=item.get("graph") is not False,
                log_evidence=item.get("logEvidence") is not False,
                group_by=tuple(item.get("groupBy") or ()),
                group_window=_opt_int(item.get("groupWindowSeconds")) or DEFAULT_WINDOW_SECONDS,
                tag_fields=dict(item.get("tagFields") or {}),
                impact_steps=_stored_steps(item.get("impactSteps")),
                budget_steps=_stored_steps(item.get("budgetSteps")),
                escalate_after=_stored_steps(item.get("escalateAfter")),
                products=tuple(str(name) for name in item.get("products") or ()),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(f"stored provider {item.get('group')}/{item.get('name')} is incomplete: {exc}") from None
        return provider.validate()


def _opt_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)
