"""Rebuild a provider's state from Jira: every issue jira-notifier created carries its alert's ``jn-<hash>`` label,
so losing the state table does not mean duplicate issues."""

from __future__ import annotations

from dataclasses import dataclass

from jira_notifier.adapters.dynamodb.state import StateStore
from jira_notifier.adapters.jira.client import JiraClient
from jira_notifier.core.alert import DEDUPE_LABEL_PREFIX, AlertState
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.state import IssueState, IssueStatus, WorkflowPhase, state_pk
from jira_notifier.ports import JiraIssue

SEARCH_FIELDS = ("labels", "status", "created")


@dataclass(frozen=True, slots=True)
class RebuildReport:
    issues_seen: int
    restored: int
    already_known: int


def rebuild_state(client: JiraClient, store: StateStore, provider: ProviderConfig) -> RebuildReport:
    """Write a state item for every alert that has an issue in the provider's project and none in the table.

    For an alert with several issues (re-fired after the reopen window), the open one wins, else the newest.

    Raises:
        JiraRequestError, JiraUnavailableError: the search failed.
        StoreError: the state table could not be written.
    """
    issues = client.search_jql(
        f'project = "{provider.project}" AND labels = "jira-notifier" ORDER BY created DESC', list(SEARCH_FIELDS)
    )
    chosen: dict[str, JiraIssue] = {}
    for issue in issues:  # newest first
        dedupe_hash = _dedupe_hash(issue)
        if dedupe_hash is None:
            continue
        current = chosen.get(dedupe_hash)
        if current is None or (current.done and not issue.done):
            chosen[dedupe_hash] = issue
    restored = sum(store.put_recovered(_state(provider, dedupe_hash, issue)) for dedupe_hash, issue in chosen.items())
    return RebuildReport(issues_seen=len(issues), restored=restored, already_known=len(chosen) - restored)


def _state(provider: ProviderConfig, dedupe_hash: str, issue: JiraIssue) -> IssueState:
    done = issue.done
    return IssueState(
        pk=state_pk(provider.provider_id, dedupe_hash),
        provider=provider.provider_id,
        dedupe_key=f"(rebuilt from {issue.key})",
        issue_id=issue.id,
        issue_key=issue.key,
        issue_status=IssueStatus.RESOLVED if done else IssueStatus.OPEN,
        alert_state=AlertState.RESOLVED if done else AlertState.FIRING,
        workflow_phase=WorkflowPhase.RESOLVED if done else WorkflowPhase.CREATED,
    )


def _dedupe_hash(issue: JiraIssue) -> str | None:
    for label in issue.labels:
        if label.startswith(DEDUPE_LABEL_PREFIX):
            return label.removeprefix(DEDUPE_LABEL_PREFIX)
    return None
