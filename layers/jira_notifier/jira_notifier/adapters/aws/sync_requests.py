"""What goes back to AWS for an alert's issue: the request each decision makes, per source. Pure mapping.

- Security Hub (``SyncBackSecurityHub``): ``BatchUpdateFindings`` with workflow NOTIFIED when the issue is created,
  RESOLVED when it is resolved as done, SUPPRESSED when resolved as the provider's won't-fix resolution; each with
  a note naming the issue. Security Hub (OCSF) findings likewise with ``BatchUpdateFindingsV2`` (same parameter and
  grant): a comment naming the new issue, then status Resolved (done) or Suppressed (won't-fix) with a comment. The
  words are ``core/findingnotes.py``'s, so the readers know the update again when Security Hub echoes it as an event.
- Cost Anomaly Detection (``SyncBackCostAnomaly``): ``ProvideAnomalyFeedback``, done = YES, won't-fix = NO.
- GuardDuty (``ArchiveGuardDutyFindings``): ``ArchiveFindings`` when the issue is resolved as won't-fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from jira_notifier.core.findingnotes import OCSF_STATUS, Decision, IssueRef, note
from jira_notifier.sources.common import arn_region_account, mapping, text
from jira_notifier.sources.findings import SECURITYHUB_V2_SOURCE, read_securityhub_v2_key

if TYPE_CHECKING:
    from jira_notifier.core.alert import Alert
    from jira_notifier.core.config import ProviderConfig

UPDATED_BY = "jira-notifier"
COST_EXPLORER_REGION = "us-east-1"  # Cost Explorer has one endpoint
_GUARDDUTY_FINDING_ARN = re.compile(r"^arn:[\w-]+:guardduty:([\w-]+):\d{12}:detector/([^/]+)/finding/([^/]+)$")


class Capability(StrEnum):
    """What a stack may do back in AWS; each is a stack parameter that adds its IAM statement."""

    SECURITY_HUB = "securityhub"
    COST_ANOMALY = "cost-anomaly"
    GUARDDUTY_ARCHIVE = "guardduty-archive"


STACK_PARAMETERS = {
    Capability.SECURITY_HUB: "SyncBackSecurityHub",
    Capability.COST_ANOMALY: "SyncBackCostAnomaly",
    Capability.GUARDDUTY_ARCHIVE: "ArchiveGuardDutyFindings",
}


@dataclass(frozen=True, slots=True)
class SyncRequest:
    """One AWS call: the boto3 service, region and operation (botocore's name) with its parameters."""

    capability: Capability
    service: str
    region: str
    operation: str
    params: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "capability": self.capability.value,
            "service": self.service,
            "region": self.region,
            "operation": self.operation,
            "params": dict(self.params),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SyncRequest:
        return cls(Capability(data["capability"]), data["service"], data["region"], data["operation"], data["params"])


@dataclass(frozen=True, slots=True)
class Detector:
    """The GuardDuty detector (and its region) a finding belongs to: kept on the state item at create time, since
    the won't-fix usually comes later from Jira, with no event at hand."""

    detector_id: str
    region: str


# ---- pure: what to send ----------------------------------------------------------------------------------------


def decision_for(resolution: str | None, provider: ProviderConfig) -> Decision:
    """A resolution as the provider sees it: its won't-fix resolution (any case), or done."""
    wont_fix = provider.wont_fix_resolution
    if wont_fix and resolution and resolution.casefold() == wont_fix.casefold():
        return Decision.WONT_FIX
    return Decision.DONE


def request_for(
    dedupe_key: str,
    decision: Decision,
    provider: ProviderConfig,
    issue: IssueRef,
    detector: Detector | None = None,
) -> SyncRequest | None:
    """The AWS call that tells the alert's source about ``decision``, or None when there is none to make (the
    provider did not opt in, the source has no such call, or the key cannot name the finding)."""
    source, _, native = dedupe_key.partition(":")
    if source == "securityhub" and provider.sync_back:
        return _security_hub(native, decision, issue, provider.wont_fix_resolution)
    if source == SECURITYHUB_V2_SOURCE and provider.sync_back:
        return _security_hub_v2(dedupe_key, decision, issue, provider.wont_fix_resolution)
    if source == "cost-anomaly" and provider.sync_back and decision is not Decision.NOTIFIED and native:
        return SyncRequest(
            Capability.COST_ANOMALY,
            "ce",
            COST_EXPLORER_REGION,
            "ProvideAnomalyFeedback",
            {"AnomalyId": native, "Feedback": "YES" if decision is Decision.DONE else "NO"},
        )
    if source == "guardduty" and provider.archive_wont_fix and decision is Decision.WONT_FIX and detector and native:
        return SyncRequest(
            Capability.GUARDDUTY_ARCHIVE,
            "guardduty",
            detector.region,
            "ArchiveFindings",
            {"DetectorId": detector.detector_id, "FindingIds": [native]},
        )
    return None


_WORKFLOW = {Decision.NOTIFIED: "NOTIFIED", Decision.DONE: "RESOLVED", Decision.WONT_FIX: "SUPPRESSED"}


def _security_hub(native: str, decision: Decision, issue: IssueRef, wont_fix: str | None) -> SyncRequest | None:
    # The key is "<ProductArn>:<Id>" (events/findings.py); a product ARN has exactly six ":"-separated parts and
    # names the finding's region, where the call must go.
    parts = native.split(":", 6)
    if len(parts) < 7 or parts[0] != "arn" or not parts[3] or not parts[6]:
        return None
    product_arn, finding_id, region = ":".join(parts[:6]), parts[6], parts[3]
    return SyncRequest(
        Capability.SECURITY_HUB,
        "securityhub",
        region,
        "BatchUpdateFindings",
        {
            "FindingIdentifiers": [{"Id": finding_id, "ProductArn": product_arn}],
            "Workflow": {"Status": _WORKFLOW[decision]},
            "Note": {"Text": note(decision, issue, wont_fix), "UpdatedBy": UPDATED_BY},
        },
    )


def _security_hub_v2(dedupe_key: str, decision: Decision, issue: IssueRef, wont_fix: str | None) -> SyncRequest | None:
    """``BatchUpdateFindingsV2`` for one finding, named as the API names it (account, product uid, finding uid),
    in the region its product uid names."""
    identity = read_securityhub_v2_key(dedupe_key)
    region = arn_region_account(identity[1])[0] if identity else None
    if identity is None or region is None:
        return None
    account, product, finding = identity
    params: dict[str, Any] = {
        "FindingIdentifiers": [{"CloudAccountUid": account, "FindingInfoUid": finding, "MetadataProductUid": product}],
        "Comment": note(decision, issue, wont_fix),
    }
    if decision in OCSF_STATUS:
        params["StatusId"] = OCSF_STATUS[decision]
    return SyncRequest(Capability.SECURITY_HUB, "securityhub", region, "BatchUpdateFindingsV2", params)


def detector_of(alert: Alert) -> Detector | None:
    """The detector of a GuardDuty finding event, from the finding's ARN."""
    found = _GUARDDUTY_FINDING_ARN.match(text(mapping(mapping(alert.raw).get("detail")).get("arn")))
    return Detector(found.group(2), found.group(1)) if found else None


def capabilities_needed(provider: ProviderConfig) -> set[Capability]:
    """What a provider's sync-back settings may ask of the stack."""
    needed = {Capability.SECURITY_HUB, Capability.COST_ANOMALY} if provider.sync_back else set()
    return needed | ({Capability.GUARDDUTY_ARCHIVE} if provider.archive_wont_fix else set())


def parse_capabilities(value: str) -> frozenset[Capability]:
    """``SYNC_BACK`` as the template sets it: a comma-separated list of capabilities (unknown names ignored)."""
    known = {c.value: c for c in Capability}
    return frozenset(known[name.strip()] for name in value.split(",") if name.strip() in known)
