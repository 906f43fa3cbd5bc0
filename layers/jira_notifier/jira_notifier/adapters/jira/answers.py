"""What Jira's answers mean: their JSON bodies, and errors explained so that a person can act on them.

The one place that turns Jira's status codes and ErrorCollections into the product's errors and sentences.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from jira_notifier.core.errors import JiraAuthError, JiraRequestError, JiraUnavailableError


def json_or_empty(response: requests.Response) -> dict[str, Any]:
    data = json_body(response)
    return {} if data is None else data


def json_body(response: requests.Response) -> dict[str, Any] | None:
    """The answer's JSON object ({} for no body); None when a body is there but cannot be read."""
    if not response.content:
        return {}
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else {"values": data}


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def error_for(response: requests.Response, *, ambiguous: bool) -> Exception:
    status = response.status_code
    if status == 429 or status >= 500 or status == 409:
        return JiraUnavailableError(
            f"Jira answered {status} ({'rate limited' if status == 429 else 'temporarily unavailable'})",
            status=status,
            body=body_snippet(response),
            retry_after=_retry_after(response.headers.get("Retry-After")),
            rate_limit_reason=response.headers.get("RateLimit-Reason"),
            ambiguous=ambiguous and status != 429,
        )
    return request_error(status, json_or_empty(response), raw=body_snippet(response))


def request_error(status: int, data: Mapping[str, Any], raw: str = "") -> JiraRequestError:
    detail = explain_errors(data) or raw or "no detail given"
    if status == 401:
        return JiraAuthError(
            "Jira rejected the credentials (401): the API token is wrong, expired or revoked, the e-mail does not "
            "own it, or a scoped token was sent to the site URL (set cloudId in the secret to use "
            "api.atlassian.com). Create a new token and update the secret.",
            status=status,
            body=raw,
        )
    if status == 403:
        return JiraAuthError(
            f"Jira refused the request (403): the account lacks a permission in this project. {detail}",
            status=status,
            body=raw,
        )
    if status == 404:
        return JiraRequestError(
            f"Jira answered 404: not found, or not visible to this account. {detail}", status=status, body=raw
        )
    if status == 413:
        return JiraRequestError(
            f"Jira refused the write (413): the issue reached a per-issue limit. {detail}", status=status, body=raw
        )
    errors = data.get("errors")
    fields = tuple(str(name) for name in errors) if isinstance(errors, Mapping) else ()
    return JiraRequestError(f"Jira refused the request ({status}): {detail}", status=status, body=raw, fields=fields)


def explain_errors(data: Mapping[str, Any]) -> str:
    """Turn an ErrorCollection into sentences a user can act on."""
    messages = [_explain_message(str(m)) for m in data.get("errorMessages") or [] if m]
    found = data.get("errors")
    errors: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    messages += [_explain_field_error(str(field_id), str(text)) for field_id, text in errors.items()]
    return " ".join(messages)


def _explain_message(message: str) -> str:
    # e.g. "Field 'priority' is required"
    if message.startswith("Field '") and "' is required" in message:
        field_id = message.split("'", 2)[1]
        return f"{message}. {_required_fix(field_id)}"
    return message


def _explain_field_error(field_id: str, text: str) -> str:
    lowered = text.lower()
    if "is required" in lowered:
        return f"field {field_id!r} is required in this project ({text}). {_required_fix(field_id)}"
    if "cannot be set" in lowered or "not on the appropriate screen" in lowered:
        return (
            f"field {field_id!r} cannot be set: it is not on the project's create/transition screen, or the "
            f"account may not edit it ({text}). Add it to the screen or stop setting it."
        )
    if field_id == "issuetype":
        return f"issue type: {text} Use the issue type's name exactly as Jira shows it for this project."
    if field_id == "project":
        return f"project: {text} Check the provider's Project ID or Key and the account's access."
    return f"{field_id}: {text}"


def _required_fix(field_id: str) -> str:
    return (
        f"Remove the requirement in Jira's field configuration, or set it in the provider's fields "
        f"(jira-notifier provider add ... --field {field_id}=<JSON>)."
    )


def body_snippet(response: requests.Response) -> str:
    try:
        return response.text[:300]
    except (ValueError, UnicodeDecodeError):
        return ""
