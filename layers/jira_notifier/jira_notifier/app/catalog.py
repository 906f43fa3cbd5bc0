"""Per-container cache of what a Jira site's configuration says: issue type ids, create screens and transition ids.

Each is looked up once and reused, so the hot path makes no createmeta or transitions call (a create screen is
read only for providers that fill fields from resource tags). A cached
transition that stops working (the workflow changed, or a person moved the issue) is looked up again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.errors import ConfigError, JiraRequestError

if TYPE_CHECKING:
    from jira_notifier.ports import JiraPort

# Which status categories a transition may lead to when no transition of the configured name exists.
TARGET_CATEGORIES = {"resolve": ("done",), "reopen": ("new", "indeterminate")}


class JiraCatalog:
    def __init__(self) -> None:
        self._issue_types: dict[tuple[str, str, str], str] = {}
        self._screens: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
        self._transitions: dict[tuple[str, ...], str] = {}
        self._resolution_refused: set[tuple[str, ...]] = set()

    def issue_type_id(self, client: JiraPort, provider: ProviderConfig) -> str:
        """The id of the provider's issue type (by its name as users see it) in its project.

        Raises:
            ConfigError: the project has no such issue type (the message lists the ones it has).
            JiraRequestError, JiraUnavailableError: from the createmeta call.
        """
        key = (client.base_url, provider.project, provider.issue_type.casefold())
        if key not in self._issue_types:
            types = client.create_meta_issue_types(provider.project)
            self._issue_types[key] = pick_issue_type(types, provider)
        return self._issue_types[key]

    def create_screen(self, client: JiraPort, provider: ProviderConfig) -> dict[str, dict[str, Any]]:
        """The fields of the provider's create screen (field id -> ``FieldCreateMetadata``: schema, allowed values).

        Raises:
            ConfigError: the project has no such issue type.
            JiraRequestError, JiraUnavailableError: from the createmeta calls.
        """
        key = (client.base_url, provider.project, provider.issue_type.casefold())
        if key not in self._screens:
            fields = client.create_meta_fields(provider.project, self.issue_type_id(client, provider))
            self._screens[key] = {str(f.get("fieldId") or f.get("key")): f for f in fields}
        return self._screens[key]

    def move(
        self,
        client: JiraPort,
        provider: ProviderConfig,
        issue_key: str,
        phase: str,
        *,
        purpose: str,
        name: str | None,
        comment: Mapping[str, Any],
        resolution: str | None = None,
    ) -> bool:
        """Transition the issue (comment in the same request); False when no fitting transition is available.

        Raises:
            JiraRequestError, JiraUnavailableError: the transition was refused for another reason.
        """
        key = (client.base_url, provider.project, provider.issue_type.casefold(), phase, purpose, name or "")
        cached = key in self._transitions
        transition_id = self._transitions.get(key) or pick_transition(client.get_transitions(issue_key), name, purpose)
        if transition_id is None:
            return False
        self._transitions[key] = transition_id
        try:
            self._transition(client, key, issue_key, transition_id, comment, resolution)
        except JiraRequestError as error:
            if error.status != 400 or not cached:
                raise
            del self._transitions[key]  # stale: the issue is not where the cache thought
            transition_id = pick_transition(client.get_transitions(issue_key), name, purpose)
            if transition_id is None:
                return False
            self._transitions[key] = transition_id
            self._transition(client, key, issue_key, transition_id, comment, resolution)
        return True

    def _transition(
        self,
        client: JiraPort,
        key: tuple[str, ...],
        issue_key: str,
        transition_id: str,
        comment: Mapping[str, Any],
        resolution: str | None,
    ) -> None:
        send_resolution = None if key in self._resolution_refused else resolution
        try:
            client.transition(issue_key, transition_id, comment=comment, resolution=send_resolution)
        except JiraRequestError as error:
            if not send_resolution or error.status != 400 or "resolution" not in str(error).lower():
                raise
            # The resolution field is not on this transition's screen: transition without it from now on.
            self._resolution_refused.add(key)
            client.transition(issue_key, transition_id, comment=comment)


def pick_issue_type(types: list[dict[str, Any]], provider: ProviderConfig) -> str:
    """Match the configured name exactly, then ignoring case.

    Raises:
        ConfigError: no match; the message lists what the project offers.
    """
    wanted = provider.issue_type.strip()
    matchers: tuple[Callable[[str], bool], ...] = (lambda n: n == wanted, lambda n: n.casefold() == wanted.casefold())
    for match in matchers:
        for issue_type in types:
            if match(str(issue_type.get("name", ""))) and not issue_type.get("subtask"):
                return str(issue_type["id"])
    offered = ", ".join(sorted(str(t.get("name")) for t in types if not t.get("subtask"))) or "none"
    raise ConfigError(
        f"provider {provider.provider_id!r}: project {provider.project} has no issue type {wanted!r} this account "
        f"may create (available: {offered}). Use the name exactly as Jira shows it."
    )


def pick_transition(transitions: list[dict[str, Any]], name: str | None, purpose: str) -> str | None:
    """The transition named ``name`` (or leading to a status of that name), else the first into the category."""
    if name:
        wanted = name.casefold()
        for transition in transitions:
            to = transition.get("to") or {}
            if wanted in (str(transition.get("name", "")).casefold(), str(to.get("name", "")).casefold()):
                return str(transition["id"])
    for transition in transitions:
        category = ((transition.get("to") or {}).get("statusCategory") or {}).get("key")
        if category in TARGET_CATEGORIES[purpose]:
            return str(transition["id"])
    return None
