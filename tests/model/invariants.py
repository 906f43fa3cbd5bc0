"""What must hold of the product after any interleaving of inputs and faults (product.md, "One lifecycle, every
path"), checked against the world's own records (``world.py``): Jira's issues and writes, the people's actions, the
source's episodes and what was sent back to AWS.

``always`` holds after every step; ``at_rest`` once the faults are over, every notification still in flight has
been delivered and one scheduled run has passed.

Known defects make some of these fail. ``Known`` names them; a check given a set of them sets aside the cases they
explain, counting each (``Known.set_aside``), so that a long run can look past them for new ones. Without it (the
default) every case counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from jira_standin.model import Issue

from tests.model.world import SCHEDULED, Delivery, Episode, PersonAction, Source, World


class KnownDefect(StrEnum):
    """Defects known to break the invariants, not fixed yet (each has its xfail(strict=True) regression tests in
    test_one_lifecycle.py and test_model_examples.py)."""

    NOTIFIED_OVER_SUPPRESSION = "a new issue's NOTIFIED undoes a suppression made after the finding's NEW event"
    RESOLVED_OVER_LATER_SUPPRESSION = "a remembered RESOLVED is sent over a suppression a person made since"
    REOPEN_OUTLIVES_UNHEARD_CLEAR = "reconcile leaves a reopened issue open though its source cleared again since"
    RESOLVE_BETWEEN_EPISODES_HOLDS = (
        "a resolve made while the alert was clear, read back after the next episode's firing, holds that episode"
    )


@dataclass
class Known:
    """The known defects whose cases the checks set aside, and how often each was."""

    defects: frozenset[KnownDefect] = frozenset()
    set_aside: Counter[KnownDefect] = field(default_factory=Counter)

    def explains(self, defect: KnownDefect, case: bool) -> bool:
        """Whether ``case`` (a case of ``defect``) is set aside."""
        if case and defect in self.defects:
            self.set_aside[defect] += 1
            return True
        return False


NOTHING_KNOWN = Known()
DECIDING = ("resolve", "wont-fix", "reopen", "delete")  # what a person does to an issue's status


# ---- after every step ----------------------------------------------------------------------------------------


def always(world: World, known: Known = NOTHING_KNOWN) -> list[str]:
    """What holds after any step, whatever is still in flight."""
    return [
        *one_open_issue_per_alert(world),
        *nothing_created_outside_alert_deliveries(world),
        *decisions_stand(world),
        *deleted_issues_stay_deleted(world),
        *priorities_people_set_stand(world),
        *nothing_sent_to_aws_contradicts(world, known),
    ]


def one_open_issue_per_alert(world: World) -> list[str]:
    """At most one open issue per alert (and per storm parent) in the provider: by their ``jn-`` label."""
    open_by_label: dict[str, list[Issue]] = {}
    for issue in world.issues():
        for label in issue.labels:
            if issue.status != "Done" and label.startswith("jn-"):
                open_by_label.setdefault(label, []).append(issue)
    found = []
    for label, issues in open_by_label.items():
        if len(issues) < 2:
            continue
        found.append(f"duplicate: {len(issues)} open issues carry {label}: {[i.key for i in issues]}")
    return found


def nothing_created_outside_alert_deliveries(world: World) -> list[str]:
    """Reconcile, the read-back and the webhook never create an issue."""
    return [
        f"created-outside: issue {', '.join(w.issues)} created by the {by}"
        for w in world.created_outside_alerts
        for by in ["scheduled run" if SCHEDULED in w.context else "webhook"]
    ]


def decisions_stand(world: World) -> list[str]:
    """A person's won't-fix is never undone by the product; a person's resolve stands while the episodes it was
    made in go on (every alert it covers still firing in that episode)."""
    found = []
    for issue in world.issues():
        decision = last_decision(world, issue.id)
        if decision is None or decision.action not in ("resolve", "wont-fix") or issue.status == "Done":
            continue
        if decision.action == "wont-fix":
            found.append(
                f"person-overruled: {issue.key}: resolved as won't-fix by a person, reopened ({issue.transitions})"
            )
        elif decision.covers and all(still_in(world.sources[name], episode) for name, episode in decision.covers):
            found.append(
                f"person-overruled: {issue.key}: resolved by a person while {decision.covers} fired, reopened within it"
            )
    return found


def deleted_issues_stay_deleted(world: World) -> list[str]:
    """An issue a person deleted is not made again while the episodes it was deleted in go on."""
    found = []
    for decision in world.people:
        if decision.action != "delete" or not covers_now(world, decision):
            continue
        gone = world.jira.deleted[decision.issue_id]
        labels = {label for label in gone.labels if label.startswith("jn-")}
        again = [
            i.key for i in world.issues() if i.status != "Done" and labels & set(i.labels) and i.created > gone.created
        ]
        if again:
            found.append(
                f"person-overruled: {gone.key}: deleted by a person while {decision.covers} fired, made again: {again}"
            )
    return found


def priorities_people_set_stand(world: World) -> list[str]:
    """A priority a person set is never changed by the product."""
    found = []
    for issue in world.issues():
        set_by_hand = [p for p in world.people if p.issue_id == issue.id and p.action == "priority"]
        if not set_by_hand:
            continue
        wanted = set_by_hand[-1].detail
        now = (issue.fields.get("priority") or {}).get("name")
        if now == wanted:
            continue
        found.append(f"person-overruled: {issue.key}: a person set priority {wanted}, the product changed it to {now}")
    return found


def nothing_sent_to_aws_contradicts(world: World, known: Known) -> list[str]:
    """What went back to Security Hub agreed with the finding's issue, and never undid a person's suppression."""
    found = []
    for sent in world.sent:
        if sent.status in ("RESOLVED", "SUPPRESSED") and sent.issue_done is False:
            found.append(f"aws-contradicted: {sent.status} sent while the finding's issue is open ({sent.step})")
        if sent.status == "RESOLVED" and sent.suppressed_by_person:
            if known.explains(KnownDefect.RESOLVED_OVER_LATER_SUPPRESSION, sent.step == "scheduled"):
                continue
            found.append(f"aws-contradicted: RESOLVED sent over a person's SUPPRESSED ({sent.step})")
        if sent.status == "NOTIFIED" and sent.suppressed_by_person:
            if known.explains(KnownDefect.NOTIFIED_OVER_SUPPRESSION, True):
                continue
            found.append(f"aws-contradicted: NOTIFIED sent over a person's SUPPRESSED ({sent.step})")
        if sent.status == "NOTIFIED" and sent.issue_done:
            found.append(f"aws-contradicted: NOTIFIED sent while the finding's issue is resolved ({sent.step})")
    return found


# ---- at rest -----------------------------------------------------------------------------------------------------


def at_rest(world: World, left: Sequence[Delivery] = (), known: Known = NOTHING_KNOWN) -> list[str]:
    """What holds once the faults are over, a scheduled run has passed and nothing is in flight but ``left``
    (deliveries that failed every time they were delivered again)."""
    found = always(world, known)
    found += [f"stuck: {d.alert}: delivery {d.number} ({d.channel}) failed every time" for d in left]
    stuck = {d.alert for d in left}
    if world.grouped:
        found += storms_follow_their_members(world, stuck)
        members = members_in_their_parents(world, known)
        found += [why.replace(": ", f": {name}: ", 1) for name, why in members if name not in stuck]
    else:
        for source in world.sources.values():
            if source.name not in stuck:
                found += [
                    f"{why.replace(': ', f': {source.name}: ', 1)}" for why in follows_its_source(world, source, known)
                ]
    return found


def follows_its_source(world: World, source: Source, known: Known = NOTHING_KNOWN) -> list[str]:
    """With no person's decision holding, the alert's issue is open exactly while it fires (and the product heard
    it fire); every episode it heard of left a trace in Jira, unless a person's decision covered that episode."""
    found = []
    open_issues = [i.key for i in world.issues_of(source) if i.status != "Done"]
    decision = last_alert_decision(world, source)
    current = source.current
    if decision is not None and decision.action == "wont-fix":
        expected: int | None = 0
    elif decision is not None and decision.action in ("resolve", "delete") and covers_now(world, decision):
        expected = 0
    elif decision is not None and decision.action in ("resolve", "delete") and still_during(world, decision):
        expected = None  # made while the alert fired in an episode the product had not heard yet: either holds
    elif source.firing:
        expected = 1 if current is not None and current.firing_taken is not None else None
    elif decision is not None and decision.action == "reopen" and not ended_since(source, decision.at):
        expected = None  # reopened by a person after the alert's last clear: theirs until it fires and clears again
    elif (
        decision is not None
        and decision.action == "reopen"
        and known.explains(KnownDefect.REOPEN_OUTLIVES_UNHEARD_CLEAR, unheard_clear_since(source, decision.at))
    ):
        expected = None
    else:
        expected = 0
    if expected == 1 and not open_issues and resolved_between_episodes(source, decision):
        expected = None if known.explains(KnownDefect.RESOLVE_BETWEEN_EPISODES_HOLDS, True) else expected
    if expected is not None and len(open_issues) != expected:
        state = "fires" if source.firing else "is clear"
        found.append(
            f"wrong-state: {state}, {len(open_issues)} open issue(s) {open_issues}, last decision {describe(decision)}"
        )
    for episode in source.episodes:
        if episode.firing_taken is None or covered(world, source, episode.number):
            continue
        # What its firing wrote, or the comment its clear wrote on a resolved issue for a firing not heard before it
        traced = any(
            (w.context & episode.firing_deliveries and w.kind in ("create", "comment", "transition"))
            or (w.context & episode.clear_deliveries and w.kind == "comment")
            for w in world.writes
            if any(issue_id in ids_of(world, source) for issue_id in w.issues)
        )
        if not traced:
            found.append(f"lost: episode {episode.number} (fired at {episode.started_at:.0f}) left no trace in Jira")
    return found


def storms_follow_their_members(world: World, stuck: set[str]) -> list[str]:
    """An open storm parent lists a member that still fires (else every member cleared and it resolves)."""
    found = []
    for parent in world.parents():
        if parent.status == "Done" or stuck & set(world.members(parent)):
            continue
        decided = last_decision(world, parent.id)
        if decided is not None and decided.action == "reopen":
            continue
        members = world.members(parent)
        if any(world.sources[name].firing for name in members if name in world.sources):
            continue
        found.append(f"wrong-state: {parent.key}: open, and none of its members {members} fires")
    return found


def members_in_their_parents(world: World, known: Known = NOTHING_KNOWN) -> Iterable[tuple[str, str]]:
    """A member that fires (and whose firing the product heard) is listed as firing in an open parent; every
    episode the product heard of is listed in a parent."""
    parents, everywhere = world.parents(), world.parents(deleted=True)
    for source in world.sources.values():
        decided_on = [p for p in parents if source.name in world.members(p) and last_decision(world, p.id)]
        if any(last_decision(world, p.id).action == "wont-fix" for p in decided_on):  # type: ignore[union-attr]
            continue
        current = source.current
        if source.firing and current is not None and current.firing_taken is not None:
            listed = [p.key for p in parents if p.status != "Done" and world.members(p).get(source.name) == "Firing"]
            between = not listed and any(
                resolved_between_episodes(source, last_decision(world, p.id)) for p in decided_on
            )
            if between and known.explains(KnownDefect.RESOLVE_BETWEEN_EPISODES_HOLDS, True):
                continue
            if len(listed) != 1 and not covered(world, source, current.number):
                yield source.name, f"wrong-state: fires, listed as firing in {len(listed)} open parents {listed}"
        for episode in source.episodes:
            if episode.firing_taken is None or any(source.name in world.members(p) for p in everywhere):
                continue
            if covered(world, source, episode.number):  # joined a parent a person deleted, in the storm it was in
                continue
            yield source.name, f"lost: episode {episode.number} is listed in no parent"


# ---- reading the records --------------------------------------------------------------------------------------


def last_decision(world: World, issue_id: str) -> PersonAction | None:
    """The last thing a person did to the issue's status."""
    return next((p for p in reversed(world.people) if p.issue_id == issue_id and p.action in DECIDING), None)


def last_alert_decision(world: World, source: Source) -> PersonAction | None:
    """The last thing a person did to the status of any issue of the alert (a deleted one included)."""
    ids = ids_of(world, source)
    return next((p for p in reversed(world.people) if p.issue_id in ids and p.action in DECIDING), None)


def ids_of(world: World, source: Source) -> set[str]:
    """The ids of every issue the alert ever had, deleted ones included."""
    issues: list[Issue] = [*world.jira.issues.values(), *world.jira.deleted.values()]
    return {issue.id for issue in issues if source.label in issue.labels}


def still_in(source: Source, episode: int) -> bool:
    return source.firing and source.current is not None and source.current.number == episode


def covers_now(world: World, decision: PersonAction) -> bool:
    return bool(decision.covers) and all(still_in(world.sources[n], e) for n, e in decision.covers)


def still_during(world: World, decision: PersonAction) -> bool:
    return bool(decision.during) and all(still_in(world.sources[n], e) for n, e in decision.during)


def covered(world: World, source: Source, episode: int) -> bool:
    """Whether a person's decision covers the episode: one made in it, or a won't-fix made before it; for a storm's
    member, one made on its parent in the storm the member's firing joined (the parent's episode)."""
    parents = world.parents(deleted=True)
    parent_ids = {p.id for p in parents if source.name in world.members(p)}
    ids = ids_of(world, source) | parent_ids
    for decision in world.people:
        if decision.issue_id not in ids or decision.action not in ("resolve", "wont-fix", "delete"):
            continue
        if (source.name, episode) in decision.covers or (source.name, episode) in decision.during:
            return True
        if decision.action == "wont-fix" and decision.at <= source.episodes[episode].started_at:
            return True
        if decision.issue_id in parent_ids and joined_while_it_stood(world, source.episodes[episode], decision):
            return True
    return any(
        joined_while_it_stood(world, source.episodes[episode], decision)
        for decision in world.people
        if decision.action == "delete" and decision.issue_id in group_parents(world, source)
    )


def group_parents(world: World, source: Source) -> set[str]:
    """The ids of the parents of the alert's storm group (deleted ones included), whether or not their table (as
    Jira last showed it) lists it: a member that joins a deleted parent is listed nowhere in Jira."""
    group = f"prefix {world.shown_as[source.name].split('-', 1)[0]}"
    return {p.id for p in world.parents(deleted=True) if p.summary.endswith(group)}


def joined_while_it_stood(world: World, episode: Episode, decision: PersonAction) -> bool:
    """Whether the product heard the member's firing after a person's decision on its parent, while the storm that
    decision was made in went on without a break (some member of the parent firing at every moment since): the
    parent's same episode, which the decision stands for."""
    heard = episode.firing_taken
    if heard is None or heard < decision.at or not decision.covers:
        return False
    parent = next(p for p in world.parents(deleted=True) if p.id == decision.issue_id)
    spans = sorted(
        (e.started_at, e.ended_at if e.ended_at is not None else float("inf"))
        for name in world.members(parent)
        if name in world.sources
        for e in world.sources[name].episodes
    )
    reached = decision.at  # the storm has gone on without a break from the decision to here
    for start, end in spans:
        if start > reached:
            break
        reached = max(reached, end)
    return reached >= heard


def unheard_clear_since(source: Source, at: float) -> bool:
    """Whether an episode ended after ``at`` with its clear unheard."""
    return any(e.ended_at is not None and e.ended_at > at and e.clear_taken is None for e in source.episodes)


def resolved_between_episodes(source: Source, decision: PersonAction | None) -> bool:
    """Whether the last decision is a resolve made while the alert was clear, before the episode it fires in now."""
    current = source.current
    return (
        decision is not None
        and decision.action == "resolve"
        and not decision.during
        and current is not None
        and current.started_at > decision.at
    )


def ended_since(source: Source, at: float) -> bool:
    """Whether an episode of the alert ended after ``at``."""
    return any(e.ended_at is not None and e.ended_at > at for e in source.episodes)


def tally(found: Iterable[str]) -> Counter[str]:
    """How many of each kind of failure (the word each message starts with: duplicate, lost, wrong-state, ...)."""
    return Counter(message.split(":", 1)[0] for message in found)


def describe(decision: PersonAction | None) -> str:
    return "none" if decision is None else f"{decision.action} at {decision.at:.0f} covering {decision.covers}"
