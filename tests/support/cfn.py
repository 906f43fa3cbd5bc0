"""CloudFormation's intrinsic functions, evaluated offline for a set of stack parameters.

Enough of them to read what a template deploys for given parameters: ``Ref`` to parameters and
``AWS::NoValue``, ``Fn::If`` (dropping ``AWS::NoValue``), ``Fn::FindInMap``, ``Fn::Join`` and the condition
functions. Anything else (``Fn::GetAtt``, ``Fn::Sub``, pseudo parameters) is left as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_NO_VALUE = object()


class Stack:
    """A template with parameter values (the template's defaults for those not given)."""

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, Any] | None = None) -> None:
        self.template = template
        declared = template.get("Parameters", {})
        self.parameters = {name: spec.get("Default") for name, spec in declared.items()} | dict(parameters or {})
        unknown = set(self.parameters) - set(declared)
        if unknown:
            raise KeyError(f"not parameters of the template: {sorted(unknown)}")

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self.template["Conditions"][name]))

    def deployed(self, resource: Mapping[str, Any]) -> bool:
        """Whether a resource's Condition (if any) holds."""
        return "Condition" not in resource or self.condition(resource["Condition"])

    def resolve(self, value: Any) -> Any:
        """The value with the intrinsics above evaluated."""
        resolved = self._evaluate(value)
        return None if resolved is _NO_VALUE else resolved

    def _evaluate(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self._evaluate, value) if item is not _NO_VALUE]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            [(function, argument)] = value.items()
            if function == "Ref":
                if argument == "AWS::NoValue":
                    return _NO_VALUE
                return self.parameters.get(argument, value)
            if function == "Condition":
                return self.condition(argument)
            if function == "Fn::If":
                name, when_true, when_false = argument
                return self._evaluate(when_true if self.condition(name) else when_false)
            if function == "Fn::FindInMap":
                mapping, key, attribute = (self._evaluate(part) for part in argument)
                return self.template["Mappings"][mapping][key][attribute]
            if function == "Fn::Equals":
                left, right = (self._evaluate(part) for part in argument)
                return str(left) == str(right)
            if function == "Fn::Not":
                return not self._evaluate(argument[0])
            if function == "Fn::And":
                return all(self._evaluate(part) for part in argument)
            if function == "Fn::Or":
                return any(self._evaluate(part) for part in argument)
            if function == "Fn::Join":
                separator, parts = argument
                return separator.join(str(part) for part in _as_list(self._evaluate(parts)))
        evaluated = {key: self._evaluate(item) for key, item in value.items()}
        return {key: item for key, item in evaluated.items() if item is not _NO_VALUE}


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return value.split(",") if isinstance(value, str) else [value]
