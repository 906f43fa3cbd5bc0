"""The scheduled run as Lambda calls it (``ReconcileFunction``) and as the CLI runs it: the steps of
``app.reconcile`` (read back, reconcile, sync-back retry) wired to the real adapters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jira_notifier.app.reconcile import Reconcile
from jira_notifier.app.run import LinkAction, ReadBack, Step, SyncBackRetry, run_steps
from jira_notifier.entry import wiring
from jira_notifier.sources.truth import SourceTruth, source_ref


def scheduled_steps(
    account: str | None,
    region: str | None,
    *,
    group: str | None = None,
    dry_run: bool = False,
    session: Any = None,
) -> list[Step]:
    """The steps of a run, in order, with the real adapters (AWS clients created on first use).

    ``account`` and ``region`` are the stack's: alarms elsewhere cannot be described from here. The read-back comes
    first, so a person's decision made since the last run is recorded before the sources are asked.
    """
    import functools

    import boto3

    from jira_notifier.adapters.aws.config import client_config
    from jira_notifier.adapters.dynamodb.owned import OwnedIssueStore
    from jira_notifier.adapters.dynamodb.providers import scan_providers
    from jira_notifier.adapters.dynamodb.state import StateStore
    from jira_notifier.adapters.observability import MetricsRecorder
    from jira_notifier.sources.truth import (
        HEALTH_REGION,
        AlarmTruth,
        ContributorTruth,
        GuardDutyTruth,
        HealthTruth,
        SecurityHubTruth,
        SecurityHubV2Truth,
    )

    aws = session or boto3.session.Session()
    config = client_config()

    def lazy(service: Any, region_name: str | None = None) -> Callable[[], Any]:
        return functools.cache(lambda: aws.client(service, config=config, region_name=region_name))

    notify = wiring.get_notifier("reconcile")
    cloudwatch, securityhub = lazy("cloudwatch"), lazy("securityhub")
    truths: list[SourceTruth] = [
        AlarmTruth(cloudwatch, account, region),
        ContributorTruth(cloudwatch, account, region, clock=lambda: notify.deps.clock()),
        SecurityHubTruth(securityhub),
        SecurityHubV2Truth(securityhub),
        GuardDutyTruth(lazy("guardduty")),
        HealthTruth(lazy("health", HEALTH_REGION), account),
    ]
    dynamodb = aws.client("dynamodb", config=config)
    settings = wiring.get_settings()
    recorder = MetricsRecorder()
    return [
        ReadBack(
            lambda: scan_providers(dynamodb, settings.providers_table),
            notify.deps,
            OwnedIssueStore(dynamodb, settings.state_table),
            recorder,
            group=group,
            dry_run=dry_run,
        ),
        Reconcile(
            StateStore(dynamodb, settings.state_table),
            notify.flow,
            notify.providers,
            truths,
            recorder,
            source_ref,
            group=group,
            dry_run=dry_run,
        ),
        SyncBackRetry(notify.deps.sync_back, notify.providers, dry_run=dry_run),
    ]


def run_scheduled(context: Any) -> dict[str, Any]:
    """One scheduled run as Lambda calls it: the stack's account and region from the function's own ARN."""
    from jira_notifier.adapters.observability import MetricsRecorder, logger
    from jira_notifier.entry.wiring import remaining_from
    from jira_notifier.sources.common import arn_region_account

    region, account = arn_region_account(str(getattr(context, "invoked_function_arn", "")))
    remaining = remaining_from(context) or (lambda: 60.0)
    summary = run_steps(scheduled_steps(account, region), remaining, MetricsRecorder())
    for step in summary.steps:
        for failed in (r for r in step.results if r.action is LinkAction.FAILED):
            logger.warning("link not reconciled; the next run tries again", **failed.to_dict())
        log = logger.warning if step.stopped_early or step.count(action=LinkAction.FAILED) else logger.info
        log("run step finished", step=step.step, counts=step.counts(), notes=step.notes)
    return summary.brief()
