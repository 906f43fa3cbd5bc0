"""Answers for the few operations moto lacks, on clients that moto serves otherwise (botocore's ``Stubber`` takes a
client whole: every other operation of it would then need an answer too).

Each stubbed operation still goes through botocore's parameter validation (the ``before-call`` hook runs after it);
the expected parameters are compared with what the code asked, and every answer is checked against the
operation's output shape, as the ``Stubber`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters


@dataclass
class OperationStubs:
    """Queued answers per (service, operation), each for the parameters it expects (any, when None), used once;
    ``asked`` holds every call's parameters."""

    queued: dict[tuple[str, str], list[tuple[dict[str, Any] | None, dict[str, Any] | str]]] = field(
        default_factory=dict
    )
    asked: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def add(self, service: str, operation: str, answer: dict[str, Any], expected: dict[str, Any] | None = None) -> None:
        """Answer the next ``operation`` call with ``answer`` (checked against the output shape when it is used)."""
        self.queued.setdefault((service, operation), []).append((expected, answer))

    def add_error(self, service: str, operation: str, code: str, expected: dict[str, Any] | None = None) -> None:
        self.queued.setdefault((service, operation), []).append((expected, code))

    def assert_all_used(self) -> None:
        left = {key: len(answers) for key, answers in self.queued.items() if answers}
        assert left == {}, f"answers never asked for: {left}"

    @contextmanager
    def on(self, session_class: Any) -> Iterator[OperationStubs]:
        """Every client ``session_class`` makes from now on answers the stubbed operations from the queue."""
        original = session_class.client
        stubs = self

        def client(session: Any, service: str, *args: Any, **kwargs: Any) -> Any:
            made = original(session, service, *args, **kwargs)
            stubs.attach(made)
            return made

        session_class.client = client
        try:
            yield self
        finally:
            session_class.client = original

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        pending: dict[str, dict[str, Any]] = {}

        def remember(params: dict[str, Any], model: Any, **_: Any) -> None:
            if (service, model.name) in self.queued:
                pending[model.name] = dict(params)

        def answer(model: Any, **_: Any) -> Any:
            key = (service, model.name)
            if key not in self.queued:
                return None  # moto answers it
            params = pending.pop(model.name)
            self.asked.append((service, model.name, params))
            queue = self.queued[key]
            # The first answer queued for these parameters (or for any): calls may come in any order.
            found = next((n for n, (expected, _) in enumerate(queue) if expected in (None, params)), None)
            assert found is not None, f"{model.name} asked {params}; answers queued for {[e for e, _ in queue]}"
            _, response = queue.pop(found)
            if isinstance(response, str):
                error = {"Error": {"Code": response, "Message": response}, "ResponseMetadata": {"HTTPStatusCode": 404}}
                raise ClientError(error, model.name)  # type: ignore[arg-type]
            validate_parameters(response, model.output_shape)
            return AWSResponse(None, 200, {}, None), response

        client.meta.events.register(f"before-parameter-build.{service}", remember)
        client.meta.events.register(f"before-call.{service}", answer)
