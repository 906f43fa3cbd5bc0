"""The layer's dependencies are reproducible: requirements.lock pins them with hashes for the runtime, agrees with
pyproject.toml and runtime.txt, and requirements.txt is exactly what ``make requirements`` makes of it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import layer_lock
import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
LAYER_DIR = ROOT / "layers" / "jira_notifier"


@pytest.fixture(scope="module")
def pins() -> dict[str, layer_lock.Pin]:
    return layer_lock.read_lock(layer_lock.LOCK.read_text(encoding="utf-8"))  # raises on a pin without hashes


def _requirements(lines: list[str]) -> list[Requirement]:
    return [Requirement(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_lock_pins_every_project_dependency_within_its_bounds(pins: dict[str, layer_lock.Pin]) -> None:
    dependencies = _requirements(
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    )

    locked_directly = {name for name, pin in pins.items() if layer_lock.PROJECT in pin.via}
    assert locked_directly == {layer_lock.normalize(r.name) for r in dependencies}, "run make lock"
    for requirement in dependencies:
        assert pins[layer_lock.normalize(requirement.name)].version in requirement.specifier, "run make lock"


def test_lock_pins_the_runtime_sdk_of_runtime_txt(pins: dict[str, layer_lock.Pin]) -> None:
    runtime = _requirements((LAYER_DIR / "runtime.txt").read_text(encoding="utf-8").splitlines())

    assert runtime, "runtime.txt names the runtime's SDK"
    for requirement in runtime:
        assert pins[layer_lock.normalize(requirement.name)].version in requirement.specifier, "run make lock"


def test_layer_requirements_are_generated_from_the_lock(pins: dict[str, layer_lock.Pin]) -> None:
    generated = layer_lock.render(layer_lock.layer_pins(pins))

    assert layer_lock.REQUIREMENTS.read_text(encoding="utf-8") == generated, "run make requirements"


def test_layer_requirements_leave_the_runtime_sdk_out_and_keep_what_the_package_needs(
    pins: dict[str, layer_lock.Pin],
) -> None:
    layer = {pin.name for pin in layer_lock.layer_pins(pins)}
    runtime = {pin.name for pin in layer_lock.runtime_pins(pins)}

    assert not layer & layer_lock.RUNTIME_PROVIDED
    assert {"boto3", "botocore", "s3transfer"} <= runtime
    # Shared with the SDK, but required by the package's own dependencies: shipped in the layer too
    assert {"aws-lambda-powertools", "requests", "urllib3", "jmespath", "aws-xray-sdk"} <= layer
    assert "python-dateutil" not in layer  # needed by botocore only
