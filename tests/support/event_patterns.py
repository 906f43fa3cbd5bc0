"""EventBridge event pattern matching, for checking the rules of template.yaml against the samples in events/.

Pure and small: the comparison operators the AWS documentation describes for event buses ("Event patterns" and
"Comparison operators for use in event patterns"), with EventBridge's semantics:

- every field of a pattern must match (AND); a field's list of values matches when any one of them does (OR);
- a pattern object is matched field by field into the event's nested objects;
- an event array of values matches when any element matches; an array of objects matches when one element matches
  the whole sub-pattern (EventBridge keeps the fields of one match within one array element);
- only ``exists: false`` matches a field the event lacks;
- ``$or`` holds alternative patterns for the same object.

An operator outside that set raises ``ValueError``, so a rule using it cannot pass unnoticed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

_MISSING = object()
_NUMERIC_OPERATORS = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether the event (a decoded JSON object) matches the event pattern.

    Raises:
        ValueError: the pattern is malformed or uses an operator this matcher does not know.
    """
    if not isinstance(pattern, Mapping):
        raise ValueError(f"a pattern is a JSON object, not {type(pattern).__name__}")
    return _object_matches(pattern, event)


def _object_matches(pattern: Mapping[str, Any], node: Any) -> bool:
    if isinstance(node, list):
        elements = [element for element in node if isinstance(element, Mapping)]
        return any(_object_matches(pattern, element) for element in elements or [{}])
    if not isinstance(node, Mapping):
        node = {}  # no field below a missing object or a plain value: only ``exists: false`` can match there
    for name, expected in pattern.items():
        if name == "$or":
            if not isinstance(expected, list) or not expected:
                raise ValueError("$or takes a non-empty list of patterns")
            if not any(_object_matches(alternative, node) for alternative in expected):
                return False
        elif isinstance(expected, Mapping):
            if not _object_matches(expected, node.get(name)):
                return False
        elif isinstance(expected, list):
            if not _field_matches(expected, node.get(name, _MISSING)):
                return False
        else:
            raise ValueError(f"the pattern for {name!r} must be a list of values or an object, not {expected!r}")
    return True


def _field_matches(matchers: Sequence[Any], value: Any) -> bool:
    """A leaf: any matcher against any value (an array gives all its elements)."""
    if not matchers:
        raise ValueError("a field's list of values may not be empty")
    values = _leaf_values(value)
    return any(_one_matches(matcher, values) for matcher in matchers)


def _leaf_values(value: Any) -> list[Any] | None:
    """The values at a leaf, or None when the field is absent."""
    if value is _MISSING:
        return None
    if isinstance(value, list):
        return [v for v in value if not isinstance(v, Mapping | list)]
    return [value]


def _one_matches(matcher: Any, values: list[Any] | None) -> bool:
    if isinstance(matcher, Mapping):
        if len(matcher) != 1:
            raise ValueError(f"a matcher object has exactly one operator: {matcher!r}")
        [(operator, argument)] = matcher.items()
        if operator == "exists":
            if not isinstance(argument, bool):
                raise ValueError("exists takes true or false")
            return (values is not None and values != []) is argument
        if values is None:
            return False
        return any(_operator_matches(operator, argument, value) for value in values)
    if values is None:
        return False
    return any(_equal(matcher, value) for value in values)


def _operator_matches(operator: str, argument: Any, value: Any) -> bool:
    if operator == "prefix":
        return _string_test(argument, value, str.startswith)
    if operator == "suffix":
        return _string_test(argument, value, str.endswith)
    if operator == "equals-ignore-case":
        _need_string(operator, argument)
        return isinstance(value, str) and value.casefold() == argument.casefold()
    if operator == "anything-but":
        return _anything_but(argument, value)
    if operator == "numeric":
        return _numeric(argument, value)
    raise ValueError(f"unsupported pattern operator {operator!r}")


def _string_test(argument: Any, value: Any, test: Any) -> bool:
    if isinstance(argument, Mapping) and set(argument) == {"equals-ignore-case"}:
        _need_string("equals-ignore-case", argument["equals-ignore-case"])
        return isinstance(value, str) and test(value.casefold(), argument["equals-ignore-case"].casefold())
    _need_string("prefix/suffix", argument)
    return isinstance(value, str) and test(value, argument)


def _anything_but(argument: Any, value: Any) -> bool:
    if isinstance(argument, Mapping):
        if len(argument) != 1:
            raise ValueError(f"anything-but takes one operator: {argument!r}")
        [(operator, inner)] = argument.items()
        if operator not in ("prefix", "suffix", "equals-ignore-case"):
            raise ValueError(f"unsupported anything-but operator {operator!r}")
        if not isinstance(value, str):
            return False
        return not _operator_matches(operator, inner, value)
    excluded = argument if isinstance(argument, list) else [argument]
    if not excluded or any(isinstance(v, Mapping | list) for v in excluded):
        raise ValueError(f"anything-but takes a value, a list of values or one operator: {argument!r}")
    return not any(_equal(v, value) for v in excluded)


def _numeric(argument: Any, value: Any) -> bool:
    if not isinstance(argument, list) or len(argument) not in (2, 4):
        raise ValueError(f"numeric takes one or two (operator, number) pairs: {argument!r}")
    pairs = list(zip(argument[::2], argument[1::2], strict=True))
    for operator, bound in pairs:
        if operator not in _NUMERIC_OPERATORS or not _is_number(bound):
            raise ValueError(f"numeric needs an operator and a number, got {operator!r} {bound!r}")
    if len(pairs) == 2 and (pairs[0][0] not in (">", ">=") or pairs[1][0] not in ("<", "<=")):
        raise ValueError(f"a numeric range is a lower bound then an upper bound: {argument!r}")
    if not _is_number(value):
        return False
    number = Decimal(str(value))
    return all(_NUMERIC_OPERATORS[op](number, Decimal(str(bound))) for op, bound in pairs)


def _equal(expected: Any, value: Any) -> bool:
    """Exact matching: strings, numbers (5 and 5.0 alike), booleans and null, never across types."""
    if _is_number(expected) and _is_number(value):
        return Decimal(str(expected)) == Decimal(str(value))
    if isinstance(expected, Mapping | list):
        raise ValueError(f"an exact value is a string, number, boolean or null: {expected!r}")
    return type(expected) is type(value) and expected == value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _need_string(operator: str, argument: Any) -> None:
    if not isinstance(argument, str):
        raise ValueError(f"{operator} takes a string, not {argument!r}")
