"""The toolchain does not drift: the tools come from uv.lock, actions are pinned by commit, Dependabot proposes the
updates, pre-commit runs the locked tools, and the package says what it is (licence, URLs, classifiers)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PINNED_ACTION = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _locked() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {package["name"]: package.get("version", "") for package in lock["package"]}


def test_the_development_tools_are_locked_and_the_makefile_installs_the_lock() -> None:
    project = _pyproject()
    assert "dev" not in project["project"]["optional-dependencies"]  # dev tools are a group, not a published extra
    locked = _locked()
    for tool in ("ruff", "mypy", "pytest", "aws-sam-cli", "cfn-lint", "moto", "uv", "pre-commit"):
        assert locked.get(tool), f"{tool} is not in uv.lock"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "uv sync --locked" in makefile
    assert """UV_VERSION := $(shell sed -n '/^name = "uv"$$/""" in makefile  # the uv the lock pins


def test_the_local_extra_leaves_out_what_only_moto_cloudformation_and_server_need() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    moto = next(requirement for requirement in extras["local"] if requirement.startswith("moto["))
    services = set(moto[len("moto[") : moto.index("]")].split(","))
    assert not services & {"cloudformation", "server", "all", "proxy", "resourcegroupstaggingapi"}
    assert "boto3>=1.35" in _pyproject()["project"]["dependencies"]


def test_every_action_is_pinned_by_commit_with_its_tag_in_a_comment() -> None:
    for workflow in (ROOT / ".github" / "workflows").glob("*.yml"):
        uses = [line.split("uses:", 1)[1].strip() for line in workflow.read_text().splitlines() if "uses:" in line]
        assert uses, workflow
        for action in uses:
            assert PINNED_ACTION.match(action), f"{workflow.name}: {action} is not pinned by commit"


def test_ci_caches_the_downloads_keyed_on_the_locks() -> None:
    steps = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())["jobs"]["ci"]["steps"]
    cache = next(step for step in steps if step.get("uses", "").startswith("actions/cache@"))
    assert "~/.cache/uv" in cache["with"]["path"] and "hashFiles('uv.lock'" in cache["with"]["key"]


def test_dependabot_proposes_the_locked_tools_and_the_actions() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert {(update["package-ecosystem"], update["directory"]) for update in config["updates"]} == {
        ("uv", "/"),
        ("github-actions", "/"),
    }


def test_pre_commit_runs_the_checks_make_runs() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"check-json", "ruff", "ruff-format", "mypy", "detect-secrets"} <= set(hooks)
    # the secret scan is the version make scan runs and .secrets.baseline records
    scanner = re.search(r"detect-secrets==([\d.]+)", (ROOT / "Makefile").read_text(encoding="utf-8"))
    assert scanner and hooks["detect-secrets"]["additional_dependencies"] == [f"detect-secrets=={scanner[1]}"]
    for tool in ("ruff", "ruff-format", "mypy"):  # the locked ones, from .venv
        assert ".venv/bin/" in hooks[tool]["entry"]


def test_the_package_says_its_licence_urls_and_classifiers() -> None:
    project = _pyproject()["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    assert {"Homepage", "Source", "Issues"} <= set(project["urls"])
    assert "Programming Language :: Python :: 3.11" in project["classifiers"]
    assert "Typing :: Typed" in project["classifiers"]
