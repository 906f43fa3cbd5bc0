"""Storms as one issue: which alerts share a parent issue, and how the parent's membership changes. Pure: no I/O.

A provider with ``groupBy`` folds the alerts of one group (for example one account and namespace, or one alarm-name
prefix) that fire within one window into a parent issue. The parent is an ``IssueState`` item of its own (keyed by
provider, group key and window start) holding a ``Group``: each member's name, state and since when. A member keeps
its own item, with its dedupe key and a pointer to its parent, so late and repeated deliveries find the parent.
``storm_service.py`` carries this out against Jira; ``storm_render.py`` draws the member table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.errors import ConfigError

# What groupBy may name, besides prefix:<n or separator>. "alarm": an alarm over many time series gathers its
# contributors under one parent (each is a member of its own, listed by its attributes).
DIMENSIONS = ("account", "region", "namespace", "source", "alarm")
PREFIX = "prefix:"
DEFAULT_WINDOW_SECONDS = 600
# A parent item holds every member (about 150 bytes each) within DynamoDB's 400 KB item limit; a member beyond
# this is handled as an alert of its own (its own issue) rather than lost.
MAX_MEMBERS = 1000
NAME_LIMIT = 120  # characters of a member's name kept in the parent's table


def check_group_by(group_by: Sequence[str], window: int) -> None:
    """Raises ConfigError unless every part is a known dimension or ``prefix:<n>`` / ``prefix:<separator>``."""
    for part in group_by:
        if part in DIMENSIONS:
            continue
        if not part.startswith(PREFIX) or not part[len(PREFIX) :]:
            raise ConfigError(
                f"--group-by {part!r} is not one of {', '.join(DIMENSIONS)}, prefix:<n> or prefix:<separator>"
            )
        size = part[len(PREFIX) :]
        if size.isdigit() and int(size) == 0:
            raise ConfigError(f"--group-by {part!r}: a prefix needs at least one character")
    if len(set(group_by)) != len(group_by):
        raise ConfigError(f"--group-by {','.join(group_by)} names a part twice")
    if group_by and window <= 0:
        raise ConfigError("--group-window must be a positive duration, e.g. 10m")


def member_name(alert: Alert) -> str:
    """The name a member is listed under: the alarm's name where the alert has one (with a contributor's attributes),
    else its title."""
    found = dict(alert.facts)
    named = found.get("Alarm")
    if named and found.get("Contributor"):
        named = f"{named} ({found['Contributor']})"
    return (named or alert.title)[:NAME_LIMIT]


def group_key(alert: Alert, group_by: Sequence[str]) -> str:
    """The group the alert belongs to, e.g. ``account=123456789012|namespace=AWS/EC2`` (``-`` for a missing part)."""
    return "|".join(f"{part}={_part_value(alert, part) or '-'}" for part in group_by)


def _part_value(alert: Alert, part: str) -> str | None:
    if part == "account":
        return alert.account
    if part == "region":
        return alert.region
    if part == "namespace":
        return dict(alert.facts).get("Namespace")
    if part == "source":
        return alert.source
    if part == "alarm":
        return dict(alert.facts).get("Alarm")
    size = part[len(PREFIX) :]
    name = (dict(alert.facts).get("Alarm") or alert.title)[:NAME_LIMIT]  # an alarm's own name, not its contributor
    if size.isdigit():
        return name[: int(size)]
    return name.split(size, 1)[0]


def window_start(at: float, window: int) -> int:
    """Windows are aligned to the clock (a 10m window runs :00-:10, :10-:20, ...), so every invocation seeing an
    alert of the group at the same time names the same parent without asking anyone."""
    return int(at // window) * window


def alert_time(alert: Alert, now: float) -> float:
    """When the alert's state changed, by the source's clock when it says (a redelivery lands in the same window)."""
    return alert.transition_at / 1000 if alert.transition_at is not None else now


PARENT_SOURCE = "alert-group"


@dataclass(frozen=True, slots=True)
class ParentRef:
    """Which parent: a group's key and window start in one provider; its dedupe key names its state item and label."""

    provider_id: str
    group_key: str
    window_start: int

    @property
    def dedupe_key(self) -> str:
        return f"{PARENT_SOURCE}:{self.provider_id}:{self.group_key}:{self.window_start}"

    @classmethod
    def of(cls, provider_id: str, dedupe_key: str) -> ParentRef:
        """The parent a member's pointer (the parent's dedupe key) names."""
        rest = dedupe_key.removeprefix(f"{PARENT_SOURCE}:{provider_id}:")
        key, _, start = rest.rpartition(":")
        return cls(provider_id, key, int(start))

    @classmethod
    def for_alert(cls, provider_id: str, alert: Alert, group_by: Sequence[str], window: int, now: float) -> ParentRef:
        """The parent of the alert's group in the window its state change falls in."""
        return cls(provider_id, group_key(alert, group_by), window_start(alert_time(alert, now), window))


@dataclass(frozen=True, slots=True)
class Member:
    key: str  # the member alert's dedupe hash
    name: str
    state: AlertState
    since: float  # epoch seconds of its last state change


@dataclass(frozen=True, slots=True)
class Group:
    """A parent's membership. ``unwritten``: it changed since the table Jira shows was written."""

    key: str
    window_start: int
    members: tuple[Member, ...] = ()
    unwritten: bool = False

    def member(self, key: str) -> Member | None:
        return next((m for m in self.members if m.key == key), None)

    def with_member(self, key: str, name: str, state: AlertState, since: float) -> Group:
        """The member added, or its state changed; unchanged (and not unwritten) when it already stands so."""
        known = self.member(key)
        if known is not None and known.state is state:
            return self
        if known is not None and since < known.since:  # older than what the table shows
            return self
        updated = Member(key, name, state, since)
        members = tuple(updated if m.key == key else m for m in self.members) if known else (*self.members, updated)
        return replace(self, members=members, unwritten=True)

    def written(self) -> Group:
        return replace(self, unwritten=False)

    @property
    def full(self) -> bool:
        return len(self.members) >= MAX_MEMBERS

    @property
    def all_cleared(self) -> bool:
        return bool(self.members) and all(m.state is AlertState.RESOLVED for m in self.members)

    @property
    def any_firing(self) -> bool:
        return any(m.state is AlertState.FIRING for m in self.members)

    def counts(self) -> dict[AlertState, int]:
        counts = dict.fromkeys(AlertState, 0)
        for m in self.members:
            counts[m.state] += 1
        return counts


class ParentStep(StrEnum):
    NONE = "none"
    RESOLVE = "resolve"  # every member has cleared
    REOPEN = "reopen"  # a member fired again after the parent was resolved


def parent_step(open_: bool, group: Group) -> ParentStep:
    """What the parent's workflow status should do after its membership changed."""
    if open_ and group.all_cleared:
        return ParentStep.RESOLVE
    if not open_ and group.any_firing:
        return ParentStep.REOPEN
    return ParentStep.NONE
