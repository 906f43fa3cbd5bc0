"""The unit of work: one holder's exclusive hold on an alert's state, and the only way the state is written.

``with leases.hold(pk, ...) as lease:`` takes the alert's lease (``LeaseStorage.acquire``) and gives it back on exit,
whatever happens inside. Within it the state changes only through the named transitions below, each the pure
transition of ``core.state`` it names, written while the lease is held. The last write of a unit usually gives the
lease back with it (one write instead of two); a unit that ends without one is released on exit.

It keeps the write-ahead rule of exactly once (``core.state``): ``begin_create`` before a create request is sent,
``record_created`` (or ``record_adopted``) once its issue is known, ``create_refused`` when Jira certainly did not
act. Whatever else happens, the exit never clears a mark whose create may have reached Jira.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace

from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.budgets import AWS_CALL_WORST_SECONDS
from jira_notifier.core.lifecycle import JiraView, jira_says
from jira_notifier.core.state import CREATE_SEND_WINDOW, IssueState, IssueStatus, PersonDecision
from jira_notifier.core.storm import Group
from jira_notifier.ports import Acquired, Clock, LeaseStorage


class Leases:
    """Hands out units of work on the states of one storage."""

    def __init__(self, storage: LeaseStorage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock

    @contextlib.contextmanager
    def hold(
        self, pk: str, provider: str, dedupe_key: str, *, deadline: float, wait_seconds: float, mark: bool = True
    ) -> Iterator[Lease]:
        """The alert's lease until ``deadline``, released on exit (keeping a mark whose create may have landed).
        ``mark``: set the write-ahead mark with the lease write (a holder that may create).

        Raises:
            BusyError: another invocation held it for longer than ``wait_seconds`` (retryable).
            StoreError: the storage failed (retryable).
        """
        lease = Lease(
            self.storage,
            self.storage.acquire(pk, provider, dedupe_key, deadline=deadline, wait_seconds=wait_seconds, mark=mark),
            deadline,
        )
        try:
            yield lease
        finally:
            lease.close()


class Lease:
    """One holder's hold on one alert's state (see the module docstring)."""

    def __init__(self, storage: LeaseStorage, acquired: Acquired, deadline: float) -> None:
        self._storage = storage
        self._owner = acquired.owner
        self._state = acquired.state  # as read, then as changed by this holder
        self._stored = acquired.state  # as the storage holds it: as read, then as last written
        self.deadline = deadline  # the invocation's end (clock seconds): no write is started that could outlive it
        self._mark_at = acquired.mark_at  # when the durable mark was set (by this holder or an earlier one)
        self._mark_written = acquired.mark_written  # this holder wrote it, so it may clear it when no create left
        self._create_in_doubt = False  # a create request was sent and its outcome is not recorded
        self._held = True

    # ---- reading ---------------------------------------------------------------------------------------------

    @property
    def state(self) -> IssueState:
        return self._state

    @property
    def held(self) -> bool:
        return self._held

    @property
    def mark_at(self) -> float | None:
        return self._mark_at

    @property
    def earlier_mark(self) -> float | None:
        """The mark an earlier holder left: a create that may have reached Jira, to settle before anything else."""
        return self._state.pending_create_at

    def has_time_for_a_write(self, at: float) -> bool:
        """Whether a state write started at ``at`` ends before the deadline even at the SDK's slowest."""
        return at + AWS_CALL_WORST_SECONDS <= self.deadline

    # ---- the write-ahead rule --------------------------------------------------------------------------------

    def begin_create(self, now: float) -> None:
        """Call right before sending a create: makes sure a durable mark at most ``CREATE_SEND_WINDOW`` old stands
        for it (writing a new one if not), and from then on keeps it.

        Raises:
            BusyError, StoreError: the mark could not be written; nothing may be sent.
        """
        if self._mark_at is None or now - self._mark_at > CREATE_SEND_WINDOW:
            self._write(self._state.marked(now))
            self._mark_at, self._mark_written = now, True
        else:
            self._state = self._state.marked(self._mark_at)
        self._create_in_doubt = True

    def create_refused(self) -> None:
        """Jira answered that it did not create the issue (4xx, 429): the mark may go with the lease."""
        self._create_in_doubt = False
        self._state = self._state.marked(None)

    def no_create_landed(self) -> None:
        """An earlier holder's create was proven not to have landed: its mark holds nothing back any more (cleared
        by this holder's next write, or left for the next holder to prove again)."""
        self._state = self._state.marked(None)
        self._mark_at = None

    def record_created(
        self,
        alert: Alert,
        issue_id: str,
        issue_key: str,
        now: float,
        *,
        priority: str | None = None,
        group: Group | None = None,
        release: bool = True,
    ) -> None:
        """Jira confirmed the create for ``alert``: the issue is recorded and the mark cleared (a clear newer than
        that firing, recorded while the alert had no issue, is kept to be written next: ``IssueState.created``).

        Raises:
            BusyError, StoreError: not recorded; the mark stays, so the next holder looks for the issue.
        """
        state = self._state.created(alert, issue_id, issue_key, now, priority=priority)
        self._write(state.with_group(group.written()) if group is not None else state, release=release)
        self._create_in_doubt = False

    def record_adopted(
        self,
        alert: Alert,
        issue_id: str,
        issue_key: str,
        *,
        done: bool,
        applied: bool,
        release: bool,
        group: Group | None = None,
    ) -> None:
        """The issue an unconfirmed create made, found in Jira, is the alert's; ``applied``: the alert is the firing
        that create was for (its delivery recorded with it).

        Raises:
            BusyError, StoreError: not recorded; the mark stays.
        """
        before = self._state
        state = before.adopted(alert, issue_id, issue_key, done=done, created_at=self._mark_at)
        state = state.with_group(group.written()) if group is not None else state
        if applied:  # the firing its create was for: recorded, with a clear that came first held back for next
            state = state.remembered(alert).keeping_clear_of(before, alert)
        self._write(state, release=release)
        self._create_in_doubt = False

    # ---- what the holder learned, kept for its next write ------------------------------------------------------

    def supersede_pending(self) -> None:
        """A newer alert arrived: what was held back is never written after it (the counts stay for the note)."""
        self._state = self._state.without_pending()

    def take_pending(self) -> tuple[AlertState, int | None]:
        """The held-back state to write now, taken out of the state this holder works on."""
        pending = self._state.pending_state
        if pending is None:
            raise ValueError("nothing is held back")
        taken = pending, self._state.pending_transition_at
        self._state = self._state.without_pending()
        return taken

    def note_person_notice(self, now: float) -> None:
        """The comment about to be written says why the product holds back for a person's decision."""
        self._state = self._state.person_noticed(now)

    def learned_status(self, done: bool | None) -> None:
        """Jira said where the issue is (``None``: deleted) after a transition whose answer was lost."""
        self._state = self._state.as_jira_has_it(done)

    # ---- the transitions that end a unit of work (each releases the lease with its write, unless told not to) --

    def record_skip(self, alert: Alert, *, applied: bool) -> None:
        """Nothing to do in Jira: the delivery is remembered (and the alert's state when ``applied``)."""
        self._write(self._state.remembered(alert, applied=applied), release=True)

    def record_held_back(self, alert: Alert, now: float) -> None:
        """The issue was written moments ago: ``alert`` is kept as the change to write next."""
        self._write(self._state.held_back(alert, now), release=True)

    def record_commented(
        self, alert: Alert, now: float, *, status: IssueStatus | None = None, wont_fix: str | None = None
    ) -> None:
        """A comment written (finding the issue ``status``, when it says); ``wont_fix``: the source itself decided not
        to act (a suppressed finding), recorded as that decision under this resolution name."""
        state = self._state.written(alert, now, commented=True, status=status)
        self._write(_as_wont_fix(state, wont_fix, now), release=True)

    def record_resolved(self, alert: Alert, now: float, *, wont_fix: str | None = None) -> None:
        """The issue resolved on the alert's clear (``wont_fix``: the source's won't-fix, see ``record_commented``)."""
        state = self._state.resolved(now).written(alert, now, commented=True)
        self._write(_as_wont_fix(state, wont_fix, now), release=True)

    def record_reopened(self, alert: Alert, now: float) -> None:
        self._write(self._state.reopened().written(alert, now, commented=True), release=True)

    def record_deleted_by_person(self, alert: Alert, now: float) -> None:
        """A write found the issue gone (404): a person deleted it or moved it out of reach."""
        self._write(self._state.decided_by_person(PersonDecision.DELETED, now).remembered(alert), release=True)

    def record_jira_view(self, view: JiraView, now: float) -> tuple[str, ...]:
        """What Jira says of the issue now (``core.lifecycle.jira_says``), recorded when it changes anything; what
        changed (empty: nothing, and nothing written)."""
        state, changes = jira_says(self._state, view, now)
        if changes:
            self._write(state, release=True)
        return changes

    def record_joined(self, alert: Alert, parent: str) -> None:
        """A storm member applied to its parent (``parent``: the parent's dedupe key)."""
        self._write(self._state.joined(alert, parent), release=True)

    def record_parent(self, group: Group, now: float, *, wrote_table: bool, moved: IssueStatus | None) -> None:
        """A storm parent's table (and status) as this holder left them."""
        self._write(self._state.parent_written(group, now, wrote_table=wrote_table, moved=moved), release=True)

    # ---- writes that keep the lease --------------------------------------------------------------------------

    def record_status_unsure(self, now: float) -> None:
        """A transition's answer was lost: record, on the state as stored, that the issue must be read before the
        next decision (in-memory changes not yet written, such as a held-back change being flushed, stay unwritten).

        Raises:
            BusyError, StoreError.
        """
        self._write(self._stored.status_unsure(now), keep_working_state=True)

    def record_priority_intent(self, priority: str) -> None:
        """The product is about to set the issue's priority to ``priority``: recorded first, so an edit whose answer
        is lost is known as the product's own (and a person's choice is never taken for it)."""
        self._write(self._state.priority_intended(priority))

    def record_priority(self, priority: str) -> None:
        self._write(self._state.priority_raised(priority))

    def leave_priority_to_people(self) -> None:
        self._write(self._state.priority_left_to_people())

    # ---- the end ---------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Give the lease back if no write did. The mark stays while a create may have reached Jira; a mark this
        holder set and never sent a create under goes with it."""
        if not self._held:
            return
        self._held = False
        clear = self._mark_written and not self._create_in_doubt and self._state.pending_create_at is None
        self._storage.release(self._state.pk, self._owner, clear_mark=clear, deadline=self.deadline)

    def _write(self, state: IssueState, *, release: bool = False, keep_working_state: bool = False) -> None:
        if not self._held:
            raise RuntimeError("the lease was already given back")
        if self._create_in_doubt and state.pending_create_at is None and not _records_issue(state, self._state):
            raise AssertionError("a create in doubt keeps its mark until its issue is recorded")
        self._storage.write(self._owner, state, release=release, deadline=self.deadline)
        self._stored = state
        if not keep_working_state:
            self._state = state
        if release:
            self._held = False


def _as_wont_fix(state: IssueState, resolution: str | None, now: float) -> IssueState:
    """A won't-fix from the source, recorded as the decision it is, so the lifecycle never reopens the issue for a
    later firing (``core.lifecycle``); None: unchanged."""
    return state if resolution is None else state.decided_by_person(PersonDecision.WONT_FIX, now, resolution=resolution)


def _records_issue(state: IssueState, before: IssueState) -> bool:
    """Whether ``state`` records an issue the holder's create made (which is what may clear a mark in doubt)."""
    return state.issue_id is not None and state.issue_id != before.issue_id


__all__ = ["Lease", "Leases", "replace"]
