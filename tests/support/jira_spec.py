"""Check Jira requests against Atlassian's own specs (copies in tests/fixtures, see SOURCES.md there).

- ``validate_adf(doc)``: an ADF document against the ADF JSON schema, plus the rules Jira adds (non-empty text,
  the node and mark types this project may send, http(s) links, Jira's 32,767-character limit).
- ``validate_jira_request(method, url, body)``: the operation exists in the Jira Cloud platform OpenAPI spec and
  is not deprecated, query parameters are known, the JSON body matches the request schema, and every ADF
  document, summary and label inside it is acceptable to Jira. Given the create screen (``screen=``, createmeta's
  fields), every field an issue is created or edited with must be on it, in its type's input format
  (``check_field_value``).
- ``validate_calls(calls)``: the same for every call a ``responses`` mock recorded.
- A multipart/form-data body (``addAttachment``) is checked against what the spec's operation says: the
  content type is one the operation takes, the parts are named ``file`` and carry a file name and content, and
  the request has the ``X-Atlassian-Token: no-check`` header the operation requires.

Every failure is an ``AssertionError`` with a message that names the problem.
"""

from __future__ import annotations

import email.policy
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from email.parser import BytesParser
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jsonschema import Draft4Validator, validators
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT4

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
OPENAPI_PATH = FIXTURES / "jira-cloud-platform-openapi.json"
ADF_SCHEMA_PATH = FIXTURES / "adf-schema-full.json"
_SPEC_URI = "urn:jira-cloud-platform-openapi"

JIRA_TEXT_FIELD_LIMIT = 32_767  # "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
JIRA_SUMMARY_LIMIT = 255
JIRA_LABEL_LIMIT = 255

# Nodes and marks the project may send: all in the ADF schema and known to render in Jira Cloud.
ADF_NODE_TYPES = frozenset(
    {
        "doc", "paragraph", "heading", "text", "hardBreak", "bulletList", "orderedList", "listItem", "codeBlock",
        "table", "tableRow", "tableHeader", "tableCell", "panel", "rule",
    }
)  # fmt: skip
ADF_MARK_TYPES = frozenset({"strong", "em", "code", "link"})

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile("[\n\r\v\f\x85\u2028\u2029]")
_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# Operations whose body is an IssueUpdateDetails, and those carrying a comment body.
_ISSUE_DETAILS_OPERATIONS = frozenset({"createIssue", "editIssue", "doTransition"})
_COMMENT_OPERATIONS = frozenset({"addComment", "updateComment"})
_ADF_FIELDS = ("description", "environment")


# ADF -----------------------------------------------------------------------------------------------------


def validate_adf(doc: Any) -> None:
    """Assert ``doc`` is an ADF document Jira accepts.

    Raises:
        AssertionError: naming the first problems found, with their JSON paths.
    """
    if not isinstance(doc, dict) or doc.get("type") != "doc":
        raise AssertionError(f"not an ADF document (expected an object with type 'doc'): {_snippet(doc)}")
    problems = list(_adf_problems(doc, "$"))
    if problems:
        raise AssertionError("invalid ADF document:\n  " + "\n  ".join(problems[:10]))
    error = best_match(_adf_validator().iter_errors(doc))
    if error is not None:
        error = _most_specific(error)
        raise AssertionError(f"ADF schema violation at {error.json_path}: {_error_text(error)}")
    size = len(json.dumps(doc))
    if size > JIRA_TEXT_FIELD_LIMIT:
        raise AssertionError(f"ADF document is {size:,} characters serialized, over Jira's {JIRA_TEXT_FIELD_LIMIT:,}")


@lru_cache(maxsize=1)
def _adf_validator() -> Draft4Validator:
    schema = json.loads(ADF_SCHEMA_PATH.read_text(encoding="utf-8"))
    return _AdfValidator(schema)


# ADF nodes are told apart by "type", and the schema lists every node kind in big anyOf lists. Plain
# validation walks the whole subtree under every wrong kind too (a 50-row table takes seconds). Stopping a
# branch as soon as its "type" rejects the node keeps the same verdict and makes it about 100 times faster.


def _properties_type_first(
    validator: Any, properties: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    type_schema = properties.get("type")
    if _is_other_node_type(instance, type_schema):
        yield from validator.descend(instance["type"], type_schema, path="type", schema_path="type")
        return
    yield from Draft4Validator.VALIDATORS["properties"](validator, properties, instance, schema)


def _all_of_type_first(
    validator: Any, all_of: list[Any], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    for index, subschema in enumerate(all_of):
        errors = list(validator.descend(instance, subschema, schema_path=index))
        yield from errors
        if any(_rejects_node_type(error) for error in errors):
            return


def _is_other_node_type(instance: Any, type_schema: Any) -> bool:
    return (
        isinstance(instance, dict)
        and "type" in instance
        and isinstance(type_schema, dict)
        and "enum" in type_schema
        and instance["type"] not in type_schema["enum"]
    )


_AdfValidator = validators.extend(Draft4Validator, {"properties": _properties_type_first, "allOf": _all_of_type_first})


def _most_specific(error: ValidationError) -> ValidationError:
    """Follow "not valid under any of the given schemas" into the branches meant for the node's own type."""
    while error.context:
        # A branch whose "type" enum rejects the node describes another kind of node: not the problem.
        other_types = {e.relative_schema_path[0] for e in error.context if _rejects_node_type(e)}
        relevant = [e for e in error.context if e.relative_schema_path[0] not in other_types]
        if not relevant:
            break
        error = best_match(relevant)
    return error


def _rejects_node_type(error: ValidationError) -> bool:
    return error.validator == "enum" and list(error.path) == ["type"]


def _adf_problems(node: Any, path: str) -> Iterator[str]:
    """Rules the schema leaves out or words badly: these get a clear message before the schema runs."""
    if not isinstance(node, dict):
        yield f"{path}: a node must be an object, got {_snippet(node)}"
        return
    node_type = node.get("type")
    if node_type not in ADF_NODE_TYPES:
        yield f"{path}: node type {node_type!r} is not one the project sends ({', '.join(sorted(ADF_NODE_TYPES))})"
    if node_type == "text":
        yield from _text_node_problems(node, path)
    content = node.get("content", [])
    if isinstance(content, list):
        for index, child in enumerate(content):
            yield from _adf_problems(child, f"{path}.content[{index}]")


def _text_node_problems(node: Mapping[str, Any], path: str) -> Iterator[str]:
    value = node.get("text")
    if not isinstance(value, str) or not value:
        yield f"{path}: empty text node (Jira rejects them: 'Empty text nodes are not permitted')"
    elif _CONTROL.search(value):
        yield f"{path}: control character in text {_snippet(value)}"
    marks = node.get("marks", [])
    mark_types = {mark.get("type") for mark in marks if isinstance(mark, dict)}
    if "code" in mark_types and mark_types & {"strong", "em"}:
        yield f"{path}: the code mark cannot be combined with strong or em"
    for mark in marks:
        mark_type = mark.get("type") if isinstance(mark, dict) else None
        if mark_type not in ADF_MARK_TYPES:
            yield f"{path}: mark {_snippet(mark)} is not one the project sends ({', '.join(sorted(ADF_MARK_TYPES))})"
        elif mark_type == "link" and not _is_web_url(mark.get("attrs", {}).get("href")):
            yield f"{path}: link to {_snippet(mark.get('attrs'))}: only http(s) links are allowed"


def _is_web_url(href: Any) -> bool:
    if not isinstance(href, str):
        return False
    parts = urlsplit(href)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# Requests ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    specificity: tuple[int, ...]  # per path segment, 0 = literal, 1 = template: the lowest wins
    spec: Mapping[str, Any]

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId", f"{self.method.upper()} {self.template}"))


def validate_jira_request(
    method: str,
    url: str,
    body: bytes | str | None,
    headers: Mapping[str, str] | None = None,
    *,
    screen: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """Assert one request is what Atlassian's Jira Cloud platform spec allows, and return its operationId.

    ``url`` may carry any prefix before ``/rest/`` (a site URL, or the ``api.atlassian.com/ex/jira/<cloudId>``
    gateway). ``headers`` are needed for a multipart body (its Content-Type carries the boundary). ``screen``
    (field id -> ``FieldCreateMetadata``, as createmeta lists them): the fields of a create or edit are checked
    against it.

    Raises:
        AssertionError: unknown or deprecated operation, unknown query parameter, a body that breaks the
            request schema, or invalid ADF / summary / labels in it.
    """
    path, query = _split_url(url)
    operation = _find_operation(method, path)
    label = f"{method.upper()} {path} ({operation.operation_id})"
    if operation.spec.get("deprecated"):
        raise AssertionError(f"{label} is deprecated: {_snippet(operation.spec.get('description', ''))}")
    _check_query(label, operation, query)
    content_type = {k.lower(): v for k, v in (headers or {}).items()}.get("content-type", "")
    if body and content_type.lower().startswith("multipart/form-data"):
        _check_multipart(label, operation, body, headers or {})
        return operation.operation_id
    payload = _parse_body(label, operation, body)
    if payload is not None:
        _check_body_schema(label, operation, payload)
        _check_jira_rules(label, operation.operation_id, payload, screen)
    return operation.operation_id


TENANT_INFO = "/_edge/tenant_info"


def validate_calls(calls: Iterable[Any]) -> list[tuple[str, str]]:
    """Validate every request recorded by ``responses`` and return their (METHOD, path) pairs, in order.

    Raises:
        AssertionError: as ``validate_jira_request``, or a JSON body sent without a JSON content type.
    """
    seen = []
    for call in calls:
        request = call.request
        if urlsplit(request.url).path == TENANT_INFO:  # the site's unauthenticated cloudId lookup, outside the API
            assert request.method == "GET" and "Authorization" not in request.headers, request.url
            continue
        validate_jira_request(request.method, request.url, request.body, request.headers)
        if request.body:
            content_type = request.headers.get("Content-Type", "")
            if "application/json" not in content_type and not content_type.startswith("multipart/form-data"):
                raise AssertionError(f"{request.method} {request.url}: body sent with Content-Type {content_type!r}")
        seen.append((request.method.upper(), _split_url(request.url)[0]))
    return seen


def _split_url(url: str) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(url)
    start = parts.path.find("/rest/")
    if start < 0:
        raise AssertionError(f"{url}: not a Jira REST URL (no '/rest/' in the path)")
    return parts.path[start:], parse_qsl(parts.query, keep_blank_values=True)


def _find_operation(method: str, path: str) -> _Operation:
    matching = [operation for operation in _operations() if operation.pattern.fullmatch(path)]
    if not matching:
        raise AssertionError(f"{method.upper()} {path}: no such path in the Jira Cloud platform OpenAPI spec")
    with_method = [operation for operation in matching if operation.method == method.lower()]
    if not with_method:
        known = sorted({f"{operation.method.upper()} {operation.template}" for operation in matching})
        raise AssertionError(f"{method.upper()} {path}: no such operation; the spec has {known}")
    return min(with_method, key=lambda operation: operation.specificity)


@lru_cache(maxsize=1)
def _operations() -> tuple[_Operation, ...]:
    operations = []
    for template, item in _openapi()["paths"].items():
        pattern = re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)))
        specificity = tuple(int("{" in segment) for segment in template.split("/"))
        for method, spec in item.items():
            if method in _HTTP_METHODS:
                operations.append(_Operation(method, template, pattern, specificity, spec))
    return tuple(operations)


@lru_cache(maxsize=1)
def _openapi() -> dict[str, Any]:
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


def _check_query(label: str, operation: _Operation, query: list[tuple[str, str]]) -> None:
    parameters = {p["name"]: p for p in operation.spec.get("parameters", []) if p.get("in") == "query"}
    unknown = sorted({name for name, _ in query} - set(parameters))
    if unknown:
        raise AssertionError(f"{label}: unknown query parameter(s) {unknown}; known: {sorted(parameters)}")
    missing = sorted(name for name, p in parameters.items() if p.get("required") and name not in dict(query))
    if missing:
        raise AssertionError(f"{label}: missing required query parameter(s) {missing}")
    for name, value in query:
        problem = _query_value_problem(parameters[name].get("schema", {}), value)
        if problem:
            raise AssertionError(f"{label}: query parameter {name}={value!r}: {problem}")


def _query_value_problem(schema: Mapping[str, Any], value: str) -> str | None:
    kind = schema.get("type")
    if kind == "array":  # Jira takes repeated parameters or comma-separated lists
        problems = (_query_value_problem(schema.get("items", {}), piece) for piece in value.split(","))
        return next((problem for problem in problems if problem), None)
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", value):
            return "not an integer"
        if "maximum" in schema and int(value) > schema["maximum"]:
            return f"above the maximum {schema['maximum']}"
        if "minimum" in schema and int(value) < schema["minimum"]:
            return f"below the minimum {schema['minimum']}"
    if kind == "boolean" and value not in ("true", "false"):
        return "not 'true' or 'false'"
    if "enum" in schema and value not in [str(choice) for choice in schema["enum"]]:
        return f"not one of {schema['enum']}"
    return None


def _parse_body(label: str, operation: _Operation, body: bytes | str | None) -> Any:
    request_body = operation.spec.get("requestBody")
    if not body:
        if request_body and request_body.get("required"):
            raise AssertionError(f"{label}: the operation requires a request body")
        return None
    if not request_body:
        raise AssertionError(f"{label}: the operation takes no request body, got {_snippet(body)}")
    if "application/json" not in request_body.get("content", {}):
        raise AssertionError(f"{label}: the operation takes no JSON body")
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise AssertionError(f"{label}: body is not UTF-8 JSON: {exc}") from exc


def _check_multipart(label: str, operation: _Operation, body: bytes | str, headers: Mapping[str, str]) -> None:
    """A multipart/form-data upload against the operation: a content type it takes, parts named ``file`` with a
    file name and content, and the ``X-Atlassian-Token: no-check`` header (without it Jira blocks the request)."""
    content = (operation.spec.get("requestBody") or {}).get("content", {})
    if "multipart/form-data" not in content:
        raise AssertionError(f"{label}: the operation takes no multipart/form-data body (it takes {sorted(content)})")
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get("x-atlassian-token", "").lower() != "no-check":
        raise AssertionError(f"{label}: an upload needs the header X-Atlassian-Token: no-check, or Jira blocks it")
    raw = body.encode() if isinstance(body, str) else body
    head = f"Content-Type: {lowered['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart() or message.defects:
        raise AssertionError(f"{label}: the body is not well-formed multipart/form-data ({message.defects})")
    parts = list(message.iter_parts())
    if not parts:
        raise AssertionError(f"{label}: the multipart body has no part")
    for part in parts:
        name = part.get_param("name", header="content-disposition")
        if name != "file":
            raise AssertionError(f"{label}: multipart part named {name!r}; Jira takes only parts named 'file'")
        if not part.get_filename():
            raise AssertionError(f"{label}: the part 'file' carries no file name")
        if not part.get_payload(decode=True):
            raise AssertionError(f"{label}: the part 'file' is empty")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _check_body_schema(label: str, operation: _Operation, payload: Any) -> None:
    pointer = "/".join(
        _escape_pointer(part)
        for part in ("paths", operation.template, operation.method, "requestBody", "content", "application/json")
    )
    validator = _OpenApiValidator({"$ref": f"{_SPEC_URI}#/{pointer}/schema"}, registry=_registry())
    error = best_match(validator.iter_errors(payload))
    if error is not None:
        raise AssertionError(f"{label}: body breaks the request schema at {error.json_path}: {_error_text(error)}")


def _escape_pointer(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry().with_resource(_SPEC_URI, DRAFT4.create_resource(_openapi()))


def _nullable_type(validator: Any, types: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    # OpenAPI 3.0: "nullable: true" adds null to the allowed types.
    if instance is None and schema.get("nullable") is True:
        return
    yield from Draft4Validator.VALIDATORS["type"](validator, types, instance, schema)


def _read_only(validator: Any, read_only: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    # OpenAPI 3.0: a readOnly property belongs in responses only.
    if read_only is True:
        yield ValidationError(f"read-only property sent in a request: {_snippet(instance)}")


_OpenApiValidator = validators.extend(Draft4Validator, {"type": _nullable_type, "readOnly": _read_only})


# Jira's own rules inside a body --------------------------------------------------------------------------


def _check_jira_rules(
    label: str, operation_id: str, payload: Any, screen: Mapping[str, Mapping[str, Any]] | None = None
) -> None:
    try:
        if operation_id in _ISSUE_DETAILS_OPERATIONS:
            _check_issue_details(payload, creating=operation_id == "createIssue", screen=screen)
        elif operation_id == "createIssues":
            for index, details in enumerate(payload.get("issueUpdates", [])):
                _check_issue_details(details, creating=True, where=f"issueUpdates[{index}].", screen=screen)
        elif operation_id in _COMMENT_OPERATIONS:
            _check_adf_value(payload.get("body"), "body")
    except AssertionError as exc:
        raise AssertionError(f"{label}: {exc}") from None


def _check_issue_details(
    details: Mapping[str, Any],
    *,
    creating: bool,
    where: str = "",
    screen: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    fields = details.get("fields") or {}
    if screen is not None:
        for name, value in fields.items():
            if name not in screen:
                raise AssertionError(f"{where}fields.{name} is not on the create screen")
            check_field_value(f"{where}fields.{name}", value, screen[name].get("schema") or {})
    update = details.get("update") or {}
    both = sorted(set(fields) & set(update))
    if both:
        raise AssertionError(f"{where}field(s) {both} are in both 'fields' and 'update'")
    if creating:
        missing = [name for name in ("project", "issuetype", "summary") if name not in fields]
        if missing:
            raise AssertionError(f"{where}fields: an issue needs {missing}")
    for name, value in fields.items():
        if name in _ADF_FIELDS or (isinstance(value, dict) and value.get("type") == "doc"):
            _check_adf_value(value, f"{where}fields.{name}")
    if "summary" in fields:
        _check_summary(fields["summary"], f"{where}fields.summary")
    if "labels" in fields:
        _check_labels(fields["labels"], f"{where}fields.labels")
    for name, operations in update.items():
        for index, operation in enumerate(operations):
            _check_update_operation(name, operation, f"{where}update.{name}[{index}]")


def _check_update_operation(name: str, operation: Mapping[str, Any], where: str) -> None:
    for verb, value in operation.items():
        if name == "comment" and verb == "add":
            _check_adf_value(value.get("body") if isinstance(value, dict) else None, f"{where}.add.body")
        elif name in _ADF_FIELDS and verb == "set":
            _check_adf_value(value, f"{where}.set")
        elif name == "summary" and verb == "set":
            _check_summary(value, f"{where}.set")
        elif name == "labels":
            _check_labels(value if isinstance(value, list) else [value], f"{where}.{verb}")


def _check_adf_value(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise AssertionError(f"{where} must be an ADF document in API v3, got {_snippet(value)}")
    try:
        validate_adf(value)
    except AssertionError as exc:
        raise AssertionError(f"{where}: {exc}") from None


def _check_summary(summary: Any, where: str) -> None:
    if not isinstance(summary, str) or not summary.strip():
        raise AssertionError(f"{where} must be a non-empty string, got {_snippet(summary)}")
    if _LINE_BREAK.search(summary) or _CONTROL.search(summary):
        raise AssertionError(f"{where} must be a single line without control characters: {summary!r}")
    if len(summary) > JIRA_SUMMARY_LIMIT:
        raise AssertionError(f"{where} is {len(summary)} characters, over Jira's {JIRA_SUMMARY_LIMIT}")


def _check_labels(labels: Any, where: str) -> None:
    if not isinstance(labels, list):
        raise AssertionError(f"{where} must be a list of strings, got {_snippet(labels)}")
    for label in labels:
        if not isinstance(label, str) or not label:
            raise AssertionError(f"{where}: a label must be a non-empty string, got {label!r}")
        if re.search(r"\s", label):
            raise AssertionError(f"{where}: label {label!r} contains whitespace (Jira: 'can't contain spaces')")
        if len(label) > JIRA_LABEL_LIMIT:
            raise AssertionError(f"{where}: label of {len(label)} characters, over Jira's {JIRA_LABEL_LIMIT}")


# A field's value in its type's input format ---------------------------------------------------------------
# As Atlassian documents each type ("Field input formats", developer.atlassian.com/server/jira-servicedesk/info/
# field-input-formats), with REST v3's rich text as ADF: the description, the environment and textarea custom
# fields (docs/jira-cloud-api.md §0).

_JIRA_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)  # "2015-11-18"
_JIRA_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}", re.ASCII)  # ...T14:39:00.000+1100
_RICH_TEXT_SYSTEM_FIELDS = frozenset({"description", "environment"})
_BY_NAME_OR_ID = frozenset({"priority", "component", "version", "resolution", "securitylevel", "issuetype"})
_SINGLE_LINE_LIMIT = 255  # a single-line text field


def check_field_value(where: str, value: Any, schema: Mapping[str, Any]) -> None:
    """Assert ``value`` is in the input format Jira takes for a field of ``schema`` (createmeta's ``schema``: its
    ``type``, ``items``, ``system`` or ``custom``).

    Raises:
        AssertionError: naming the field, its type and the value.
    """
    kind = schema.get("type")
    if kind == "array":
        if not isinstance(value, list):
            raise AssertionError(f"{where} (array of {schema.get('items')}) must be a list, got {_snippet(value)}")
        for index, item in enumerate(value):
            check_field_value(f"{where}[{index}]", item, {**schema, "type": schema.get("items")})
        return
    problem = _input_format_problem(value, str(kind), schema)
    if problem:
        shown = schema.get("system") or str(schema.get("custom") or "").rpartition(":")[2] or kind
        raise AssertionError(f"{where} ({kind}, {shown}): {problem}, got {_snippet(value)}")


def _input_format_problem(value: Any, kind: str, schema: Mapping[str, Any]) -> str | None:
    custom = str(schema.get("custom") or "")
    if kind == "string" and (schema.get("system") in _RICH_TEXT_SYSTEM_FIELDS or custom.endswith(":textarea")):
        try:
            _check_adf_value(value, "the value")
        except AssertionError as exc:
            return f"rich text takes an ADF document in REST v3 ({exc})"
        return None
    if kind == "string" and (schema.get("system") == "labels" or custom.endswith(":labels")):
        try:
            _check_labels([value], "the label")
        except AssertionError as exc:
            return str(exc)
        return None
    if kind == "string":
        if not isinstance(value, str):
            return "a text field takes a string"
        return None if len(value) <= _SINGLE_LINE_LIMIT else f"over a text field's {_SINGLE_LINE_LIMIT} characters"
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else "a number field takes a JSON number"
    if kind == "date":
        return None if isinstance(value, str) and _is_date(value) else "a date takes 'YYYY-MM-DD'"
    if kind == "datetime":
        ok = isinstance(value, str) and _JIRA_DATETIME.fullmatch(value) is not None and _is_date(value[:10])
        return None if ok else "a date-time takes 'YYYY-MM-DDThh:mm:ss.sss+hhmm'"
    if kind == "option":
        return _reference_problem(value, ("value", "id"))
    if kind == "user":
        return _reference_problem(value, ("accountId",))  # REST v3 knows users by account id alone
    if kind == "group":
        return _reference_problem(value, ("name", "groupId"))
    if kind == "project":
        return _reference_problem(value, ("key", "id"))
    if kind in _BY_NAME_OR_ID:
        return _reference_problem(value, ("name", "id"))
    return f"no input format is known for type {kind!r}"


def _reference_problem(value: Any, keys: tuple[str, ...]) -> str | None:
    """One of ``keys`` with a non-empty string (an id may be a number), and nothing else."""
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in keys:
        return f"takes an object with one of {list(keys)}"
    [(key, ref)] = value.items()
    ok = (isinstance(ref, str) and ref.strip()) or (key == "id" and isinstance(ref, int) and not isinstance(ref, bool))
    return None if ok else f"{key} must be a non-empty string"


def _is_date(text: str) -> bool:
    if not _JIRA_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# Messages ------------------------------------------------------------------------------------------------


def _error_text(error: ValidationError) -> str:
    return f"{error.message[:300]} (value: {_snippet(error.instance)})"


def _snippet(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[:limit] + "…"
