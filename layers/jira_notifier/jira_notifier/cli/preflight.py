"""``jira-notifier provider test``: check a provider against the real Jira before an alert depends on it.

Every check ends PASS, WARN or FAIL, and a FAIL says what to change. The checks follow what the functions do:
the fields they send must be on the create screen, the required fields must be set, and the account must hold the
permissions the lifecycle uses (create, comment, transition).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

import requests

from jira_notifier.app.catalog import pick_issue_type
from jira_notifier.cli.jira_admin import JiraAdmin
from jira_notifier.core.alert import Alert, AlertState, Severity
from jira_notifier.core.config import JiraSecret, ProviderConfig
from jira_notifier.core.errors import ConfigError, JiraNotifierError, JiraRequestError, JiraUnavailableError
from jira_notifier.render.issue import create_body

PASS, WARN, FAIL, SKIP = "PASS", "WARN", "FAIL", "SKIP"
REQUIRED_PERMISSIONS = ("BROWSE_PROJECTS", "CREATE_ISSUES", "ADD_COMMENTS", "TRANSITION_ISSUES")
DENIED_LOGINS = ("AUTHENTICATED_FAILED", "AUTHENTICATION_DENIED")  # X-Seraph-LoginReason on a failed login
SERVICE_ACCOUNT_DOMAIN = "@serviceaccount.atlassian.com"
TOKEN_PAGE = "https://id.atlassian.com/manage-profile/security/api-tokens"  # noqa: S105 - a web page
EXPIRY_WARNING_DAYS = 30
SAMPLE_ISSUES = 20  # recent issues looked at for the workflow's transition names
ALWAYS_ACCEPTED = frozenset({"project", "issuetype"})  # accepted even when createmeta does not list them
FILLED_BY_JIRA = frozenset({"reporter"})  # Jira makes the calling account the reporter


@dataclass(frozen=True, slots=True)
class Check:
    status: str  # PASS | WARN | FAIL | SKIP
    name: str
    detail: str
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def fields_sent(provider: ProviderConfig) -> set[str]:
    """Every field a create may send for this provider, from the same code that builds the request."""
    sample = Alert(
        source="preflight", dedupe_key="preflight", delivery_key="preflight", state=AlertState.FIRING, title="preflight"
    )
    sent: set[str] = set()
    for severity in Severity:
        sent |= set(create_body(replace(sample, severity=severity), provider, "0")["fields"])
    return sent


class Preflight:
    """The checks of one provider, in order; a check that makes later ones pointless stops them."""

    def __init__(
        self,
        provider: ProviderConfig,
        secret: JiraSecret,
        client: JiraAdmin,
        *,
        today: date,
        secret_prefix: str,
    ) -> None:
        self.provider = provider
        self.secret = secret
        self.client = client
        self._today = today
        self._secret_prefix = secret_prefix
        self._issue_type_id: str | None = None
        self._statuses: list[str] | None = None

    def run(self) -> list[Check]:
        checks = [self.secret_check()]
        steps: list[tuple[str, Callable[[], list[Check]]]] = [
            ("credentials", self.credentials),
            ("project", self.project),
            ("issue type", self.issue_type),
            ("fields", self.fields),
            ("permissions", self.permissions),
            ("transitions", self.transitions),
            ("resolutions", self.resolutions),
        ]
        for index, (name, step) in enumerate(steps):
            unreachable = False
            try:
                found = step()
            except JiraUnavailableError as error:  # every later call would wait out the same retries
                unreachable = True
                found = [Check(FAIL, name, str(error), "check the network and the Server URL, then test again")]
            except JiraNotifierError as error:
                found = [Check(FAIL, name, str(error))]
            checks.extend(found)
            if unreachable or (name in ("credentials", "project") and any(check.status == FAIL for check in found)):
                checks.extend(
                    Check(SKIP, later, "not checked: fix the failure above first") for later, _ in steps[index + 1 :]
                )
                break
        checks.append(self.expiry())
        return checks

    # ---- the checks --------------------------------------------------------------------------------------

    def secret_check(self) -> Check:
        where = f"{self.secret.email} at {self.secret.api_base_url}"
        if not self.secret.name.startswith(self._secret_prefix):
            return Check(
                WARN,
                "secret",
                f"{self.secret.name} ({where}) is outside the stack's SecretNamePrefix {self._secret_prefix!r}: "
                "the functions may not read it",
                f"store it as {self._secret_prefix}{self.secret.name.rsplit('/', 1)[-1]} with 'jira-notifier secret "
                "put' and point the provider at that name",
            )
        return Check(PASS, "secret", f"{self.secret.name}: {where}")

    def credentials(self) -> list[Check]:
        response = self.client.myself()
        login = response.headers.get("X-Seraph-LoginReason", "")
        if response.status_code == 200 and login not in DENIED_LOGINS:
            me = _json(response)
            who = f"{me.get('displayName') or 'unnamed account'} (accountId {me.get('accountId') or '?'})"
            return [Check(PASS, "credentials", f"signed in as {who}")]
        if login == "AUTHENTICATION_DENIED":
            return [
                Check(
                    FAIL,
                    "credentials",
                    "Jira asks for a CAPTCHA after failed logins (X-Seraph-LoginReason: AUTHENTICATION_DENIED)",
                    f"log in once in a browser as {self.secret.email}, then test again",
                )
            ]
        if response.status_code == 401 or login == "AUTHENTICATED_FAILED":
            return [self._rejected(response)]
        if response.status_code == 404 and self.secret.cloud_id:
            return [
                Check(
                    FAIL,
                    "credentials",
                    f"api.atlassian.com knows no Jira site with cloudId {self.secret.cloud_id} (404)",
                    f"store the site's cloudId: {self._put_command('--lookup-cloud-id')}",
                )
            ]
        return [
            Check(
                FAIL,
                "credentials",
                f"Jira answered {response.status_code} to GET /rest/api/3/myself at {self.client.base_url}",
                f"check that {self.secret.email} has access to Jira on this site and that the Server URL is right",
            )
        ]

    def project(self) -> list[Check]:
        try:
            project = self.client.get_project(self.provider.project)
        except JiraRequestError as error:
            if error.status != 404:
                raise
            return [
                Check(
                    FAIL,
                    "project",
                    f"project {self.provider.project} was not found, or {self.secret.email} may not browse it",
                    "check --project (keys are case sensitive, e.g. OPS) and grant the account Browse projects there",
                )
            ]
        return [Check(PASS, "project", f"{project.get('key')} ({project.get('name')})")]

    def issue_type(self) -> list[Check]:
        types = self.client.create_meta_issue_types(self.provider.project)
        try:
            self._issue_type_id = pick_issue_type(types, self.provider)
        except ConfigError as error:
            return [
                Check(
                    FAIL,
                    "issue type",
                    str(error),
                    f"set --issue-type to one of the available names ({self._add_command()} --issue-type NAME); "
                    "when none is available the account lacks Create issues in the project",
                )
            ]
        name = next(str(t.get("name")) for t in types if str(t.get("id")) == self._issue_type_id)
        return [Check(PASS, "issue type", f"{name} (id {self._issue_type_id})")]

    def fields(self) -> list[Check]:
        if self._issue_type_id is None:
            return [Check(SKIP, "fields", "not checked: the issue type is unknown")]
        screen = self.client.create_meta_fields(self.provider.project, self._issue_type_id)
        on_screen = {str(field.get("fieldId")) for field in screen}
        sent = fields_sent(self.provider)
        set_anyway = sent | FILLED_BY_JIRA | ALWAYS_ACCEPTED
        problems = [
            _required_field_unset(field, self._add_command())
            for field in screen
            if field.get("required")
            and not field.get("hasDefaultValue")
            and str(field.get("fieldId")) not in set_anyway
        ]
        problems += [self._field_not_on_screen(field_id) for field_id in sorted(sent - on_screen - ALWAYS_ACCEPTED)]
        unfilled = [
            self._tag_field_not_on_screen(f) for f in sorted(set(self.provider.tag_fields.values()) - on_screen)
        ]
        if problems:
            return problems + unfilled
        return [
            Check(PASS, "fields", f"every required field is set; the {len(sent)} fields sent are on the create screen"),
            *unfilled,
        ]

    def permissions(self) -> list[Check]:
        held = self.client.my_permissions(self.provider.project, REQUIRED_PERMISSIONS)
        missing = [name for name in REQUIRED_PERMISSIONS if not held.get(name)]
        if missing:
            return [
                Check(
                    FAIL,
                    "permissions",
                    f"{self.secret.email} lacks {', '.join(missing)} in project {self.provider.project}",
                    "grant them in the project's permission scheme (Project settings > Permissions), e.g. by adding "
                    "the account to a project role that holds them",
                )
            ]
        return [Check(PASS, "permissions", ", ".join(REQUIRED_PERMISSIONS))]

    def transitions(self) -> list[Check]:
        configured = {
            "resolve": self.provider.resolve_transition,
            "reopen": self.provider.reopen_transition,
        }
        if not any(configured.values()):
            return [
                Check(PASS, "transitions", "none set: a cleared alert takes the first transition into a Done status")
            ]
        if self._issue_type_id is None:
            return [Check(SKIP, "transitions", "not checked: the issue type is unknown")]
        return [self._transition(purpose, name) for purpose, name in configured.items() if name]

    def resolutions(self) -> list[Check]:
        configured = {
            "--resolve-resolution": self.provider.resolve_resolution,
            "--wont-fix-resolution": self.provider.wont_fix_resolution,
        }
        if not any(configured.values()):
            return []
        names = self.client.resolutions()
        known = {name.casefold() for name in names}
        checks = []
        for option, wanted in configured.items():
            if not wanted:
                continue
            if wanted.casefold() in known:
                checks.append(Check(PASS, "resolutions", f"{option} {wanted!r} exists"))
            else:
                checks.append(
                    Check(
                        FAIL,
                        "resolutions",
                        f"{option} {wanted!r} is not a resolution of this site (available: {', '.join(names)})",
                        f"use one of the available names: {self._add_command()} {option} NAME",
                    )
                )
        return checks

    def expiry(self) -> Check:
        days = self.secret.days_until_expiry(self._today)
        renew = f"create a new token at {TOKEN_PAGE} and run {self._put_command('--expires YYYY-MM-DD')}"
        if days is None:
            return Check(
                WARN, "expiry", "unknown expiry; set --expires", f"run {self._put_command('--expires YYYY-MM-DD')}"
            )
        assert self.secret.expires_at is not None
        when = self.secret.expires_at.isoformat()
        if days < 0:
            return Check(FAIL, "expiry", f"the API token expired on {when}", renew)
        if days < EXPIRY_WARNING_DAYS:
            return Check(WARN, "expiry", f"the API token expires on {when}, in {days} day(s)", renew)
        return Check(PASS, "expiry", f"the API token expires on {when}, in {days} days")

    # ---- helpers -----------------------------------------------------------------------------------------

    def _rejected(self, response: requests.Response) -> Check:
        email = self.secret.email
        renew = f"create a new API token for {email} at {TOKEN_PAGE} and run {self._put_command()}"
        if self.secret.cloud_id:
            if "scope does not match" in response.text.lower():
                return Check(
                    FAIL,
                    "credentials",
                    "the scoped token lacks a scope jira-notifier needs (401: scope does not match)",
                    f"create a token with the scopes read:jira-user, read:jira-work and write:jira-work, then {renew}",
                )
            return Check(
                FAIL,
                "credentials",
                f"Jira rejected the credentials (401) at {self.client.base_url}: the token is expired or revoked, "
                f"or {email} does not own it",
                renew,
            )
        gateway = self._put_command("--lookup-cloud-id")
        if email.lower().endswith(SERVICE_ACCOUNT_DOMAIN):
            return Check(
                FAIL,
                "credentials",
                f"Jira rejected the service account's token (401) at the site URL {self.client.base_url}",
                f"service-account tokens must go through api.atlassian.com: run {gateway}",
            )
        return Check(
            FAIL,
            "credentials",
            f"Jira rejected the credentials (401) at the site URL {self.client.base_url}: a scoped token sent to "
            f"the site, or a classic token that is expired, revoked or not owned by {email}",
            "scoped and service-account tokens must go through api.atlassian.com: run secret put with "
            f"--cloud-id/--lookup-cloud-id, e.g. {gateway}; for a classic token, {renew}",
        )

    def _transition(self, purpose: str, name: str) -> Check:
        option = f"--{purpose}-transition"
        statuses = self._status_names()
        if statuses is not None and _matches(name, statuses):
            return Check(PASS, "transitions", f"{option} {name!r}: the transition into status {name!r} is used")
        sample = self._sample_transitions(purpose)
        if sample is not None and _matches(name, sample[1] + sample[2]):
            return Check(PASS, "transitions", f"{option} {name!r} is a transition of {sample[0]}")
        if statuses is None and sample is None:
            return Check(
                WARN,
                "transitions",
                f"{option} {name!r} could not be checked: the project's statuses could not be read",
                "make sure the name matches a transition or status of the workflow exactly",
            )
        seen = f"statuses: {', '.join(statuses or []) or 'unknown'}"
        if sample is not None:
            seen += f"; transitions of {sample[0]}: {', '.join(sample[1]) or 'none'}"
        else:
            seen += "; no issue to read the workflow's transitions from"
        return Check(
            FAIL,
            "transitions",
            f"{option} {name!r} is neither a status nor a transition of {self.provider.issue_type} issues in "
            f"{self.provider.project} ({seen})",
            f"use the name of a transition or of the status it leads to: {self._add_command()} {option} NAME",
        )

    def _status_names(self) -> list[str] | None:
        """The statuses of the provider's issue type in its project (``GET /project/{key}/statuses``)."""
        if self._statuses is None:
            try:
                data = self.client.project_statuses(self.provider.project)
            except JiraNotifierError:
                return None
            types = [t for t in data if isinstance(t, Mapping)]
            mine = [t for t in types if str(t.get("id")) == self._issue_type_id] or types
            self._statuses = _unique(str(s.get("name")) for t in mine for s in t.get("statuses") or [])
        return self._statuses

    def _sample_transitions(self, purpose: str) -> tuple[str, list[str], list[str]] | None:
        """A recent issue of the type in a state the transition starts from, the names of the transitions it
        offers, and the statuses they lead to (either name selects a transition)."""
        jql = f'project = "{self.provider.project}" AND issuetype = {self._issue_type_id} ORDER BY created DESC'
        try:
            issues = self.client.search_jql(jql, ["status"], max_results=SAMPLE_ISSUES, all_pages=False)
        except JiraNotifierError:
            return None
        for issue in issues:
            if issue.done == (purpose == "reopen"):
                transitions = self.client.get_transitions(issue.key)
                names = _unique(str(transition.get("name")) for transition in transitions)
                targets = _unique(str((transition.get("to") or {}).get("name")) for transition in transitions)
                return issue.key, names, targets
        return None

    def _field_not_on_screen(self, field_id: str) -> Check:
        options = {"priority": "--priority-map", "components": "--component"}
        option = f"--field {field_id}" if field_id in self.provider.fields else options.get(field_id)
        fix = f"add {field_id} to the create screen of {self.provider.issue_type} in {self.provider.project}"
        return Check(
            FAIL,
            "fields",
            f"field {field_id} is sent on create but is not on the create screen: Jira would refuse every issue",
            f"{fix}, or remove {option} ({self._add_command()})" if option else fix,
        )

    def _tag_field_not_on_screen(self, field_id: str) -> Check:
        tags = ", ".join(tag for tag, field in self.provider.tag_fields.items() if field == field_id)
        return Check(
            WARN,
            "fields",
            f"field {field_id} (from tag {tags}) is not on the create screen: its tags are always left out",
            f"add {field_id} to the create screen of {self.provider.issue_type} in {self.provider.project}, or map "
            f"the tag to another field ({self._add_command()})",
        )

    def _add_command(self) -> str:
        return f"jira-notifier provider add {self.provider.group} {self.provider.name} ..."

    def _put_command(self, option: str = "") -> str:
        command = (
            f"'jira-notifier secret put {self.secret.name} --email {self.secret.email} "
            f"--server-url {self.secret.server_url}"
        )
        return f"{command} {option}'" if option else f"{command}'"


def _required_field_unset(field: Mapping[str, Any], add_command: str) -> Check:
    field_id = field.get("fieldId")
    return Check(
        FAIL,
        "fields",
        f"required field {field_id} ({field.get('name')}) has no default and jira-notifier does not set it",
        f"remove the requirement in Jira or add --field {field_id}=<JSON> ({add_command})",
    )


def _matches(name: str, names: Iterable[str]) -> bool:
    return name.casefold() in {candidate.casefold() for candidate in names}


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(name for name in names if name and name != "None"))


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}
