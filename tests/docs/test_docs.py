"""The README and docs/ as a reader meets them: a README that fits on a page, links that lead somewhere, and
commands that exist as written (each ``jira-notifier`` command is parsed by the CLI's own parser, each ``make``
target asked of make). The first-deploy command is run in ``tests/template/test_guided_deploy.py``."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from jira_notifier.cli.main import build_parser
from tests.support.markdown import (
    LINK,
    Block,
    anchors,
    inline_code,
    section,
    shell_commands,
    simple_commands,
    slug,
    split_fences,
    text,
)

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
MAX_README_LINES = 250
# The design chapters the README points to instead of holding them.
CHAPTERS = ["exactly-once", "storms", "reconcile", "webhook", "evidence", "back-to-aws"]
# The module-by-module guide the README's Layout links to; its anchors are checked once it is there.
ARCHITECTURE = ROOT / "docs" / "architecture.md"
# What "..." stands for in `jira-notifier provider add GROUP NAME ... --option`: the options every provider needs.
ELIDED_PROVIDER_OPTIONS = ["--project", "OPS", "--issue-type", "Task", "--secret", "jira-notifier/ops"]
NUMBER_WORDS = {4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight"}


def shell_blocks() -> list[Block]:
    return [block for page in PAGES for block in split_fences(page)[1] if block.language in {"sh", "bash"}]


# ---------------------------------------------------------------- the README's shape


def test_the_readme_fits_on_a_page() -> None:
    assert len(text(README).splitlines()) < MAX_README_LINES


def test_the_readme_opens_with_contents_linking_every_section() -> None:
    prose, _ = split_fences(README)
    before_first_section = prose.split("\n## ", 1)[0]
    [contents] = [line for line in before_first_section.split("\n\n") if line.startswith("**Contents:**")]
    sections = {slug(heading) for heading in re.findall(r"^## (.+)$", prose, flags=re.MULTILINE)}
    targets = {target.removeprefix("#") for target in LINK.findall(contents)}

    assert sections <= targets <= anchors(README)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_design_chapter_is_a_page_of_docs_the_readme_links(chapter: str) -> None:
    page = ROOT / "docs" / f"{chapter}.md"

    assert page in DOCS
    assert f"(docs/{chapter}.md)" in text(README)
    assert text(page).startswith("# ")


def test_every_page_of_docs_is_linked_from_the_readme() -> None:
    linked = {ROOT / target for target in LINK.findall(split_fences(README)[0]) if target.startswith("docs/")}

    assert set(DOCS) <= linked


def test_the_deploy_section_names_every_function_of_the_template() -> None:
    template = cfn_yaml.load(str(ROOT / "template.yaml"))
    resources = template["Resources"].items()
    functions = [n for n, r in resources if isinstance(r, dict) and r["Type"] == "AWS::Serverless::Function"]
    deploy = section(README, "## Deploy")

    assert f"{NUMBER_WORDS[len(functions)]} functions" in deploy
    assert all(f"`{name}`" in deploy for name in functions), functions


def test_the_parameters_table_holds_every_parameter_with_its_default() -> None:
    template = cfn_yaml.load(str(ROOT / "template.yaml"))
    expected = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    rows = re.findall(r"^\| `(\w+)` \| (empty|`[^`]*`) \|", text(ROOT / "docs" / "deploy.md"), flags=re.MULTILINE)

    assert {name: "" if default == "empty" else default.strip("`") for name, default in rows} == expected
    assert len(rows) == len(expected)  # each once


def test_the_exit_codes_are_a_table() -> None:
    codes = re.findall(r"^\| (\d) \| (\w+)", section(README, "### Exit codes"), flags=re.MULTILINE)

    assert codes == [("0", "done"), ("1", "failed"), ("2", "usage")]


# ---------------------------------------------------------------- links


def relative_links() -> list[Any]:
    return [
        pytest.param(page, target, id=f"{page.relative_to(ROOT)}:{target}")
        for page in PAGES
        for target in LINK.findall(split_fences(page)[0])
        if "://" not in target
    ]


@pytest.mark.parametrize(("page", "target"), relative_links())
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path, target: str) -> None:
    path, _, anchor = target.partition("#")
    destination = (page.parent / path).resolve() if path else page
    if destination == ARCHITECTURE and not destination.exists():
        return
    assert destination.exists(), f"{page.name}: {target} leads nowhere"
    assert destination.is_relative_to(ROOT)
    if anchor:
        assert anchor in anchors(destination), f"{page.name}: no heading #{anchor} in {destination.name}"


# ---------------------------------------------------------------- commands


def parse(argv: list[str]) -> tuple[int, str]:
    """The CLI's parser on ``argv``: 0 when it accepts them, else argparse's exit code and its message."""
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0), errors.getvalue()
    return 0, ""


def expand(argv: list[str]) -> list[str]:
    """``provider add GROUP NAME ... --flag`` with the options "..." stands for."""
    if "..." not in argv:
        return argv
    assert argv[:2] == ["provider", "add"], f"'...' stands for nothing in {argv}"
    return [arg for arg in argv if arg != "..."] + ELIDED_PROVIDER_OPTIONS


def as_params(commands: list[tuple[str, list[str]]]) -> list[Any]:
    return [pytest.param(page, argv, id=f"{page}:{shlex.join(argv)}") for page, argv in commands]


def jira_notifier_commands() -> list[tuple[str, list[str]]]:
    found = []
    for block in shell_blocks():
        for command in shell_commands(block):
            if command[0] == "jira-notifier":
                found.append((block.page.name, command[1:]))
    return found


@pytest.mark.parametrize(("page", "argv"), as_params(jira_notifier_commands()))
def test_every_jira_notifier_command_in_a_code_block_parses(page: str, argv: list[str]) -> None:
    code, message = parse(expand(argv))

    assert code == 0, f"{page}: jira-notifier {shlex.join(argv)}: {message}"


def before_a_pipe(words: list[str]) -> list[str]:
    """The command's own words of ``jira-notifier ... | jq``: what the shell hands the CLI."""
    return words[: words.index("|")] if "|" in words else words


def inline_jira_notifier_commands() -> list[tuple[str, list[str]]]:
    return [
        (page.name, before_a_pipe(shlex.split(code)[1:]))
        for page in PAGES
        for code in inline_code(page)
        if code.startswith("jira-notifier ") and "<" not in code
    ]


@pytest.mark.parametrize(("page", "argv"), as_params(inline_jira_notifier_commands()))
def test_every_jira_notifier_command_in_the_text_names_a_command_and_options_that_exist(
    page: str, argv: list[str]
) -> None:
    # Prose may name a command without its arguments ("`jira-notifier dlq list`", "`jira-notifier reconcile`")
    code, message = parse(expand(argv))

    assert code == 0 or "the following arguments are required" in message, f"{page}: {shlex.join(argv)}: {message}"


def make_targets() -> list[tuple[str, str]]:
    """(page, target) for each `make TARGET...` in code blocks and in the text."""
    found: list[tuple[str, str]] = []
    commands: list[tuple[Path, list[str]]] = [(b.page, c) for b in shell_blocks() for c in shell_commands(b)]
    in_text = [(page, code) for page in PAGES for code in inline_code(page) if code.startswith("make ")]
    commands += [(page, command) for page, code in in_text for command in simple_commands(code)]
    for page, command in commands:
        if command[0] == "make":
            found += [(page.name, word) for word in command[1:] if "=" not in word and not word.startswith("-")]
    return sorted(set(found))


@cache
def make_knows(target: str) -> tuple[int, str]:
    done = subprocess.run(  # noqa: S603 - a dry run of our own Makefile
        ["make", "--dry-run", "--no-print-directory", target],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize(("page", "target"), [pytest.param(*found, id=":".join(found)) for found in make_targets()])
def test_every_make_target_in_the_docs_exists(page: str, target: str) -> None:
    code, errors = make_knows(target)

    assert code == 0 and "No rule to make target" not in errors, f"{page}: make {target}: {errors}"


def test_the_readme_puts_the_cli_on_path_before_its_first_jira_notifier_command() -> None:
    readme = text(README)
    first_command = readme.index("jira-notifier ", readme.index("## Try it"))

    assert readme.index('export PATH="$PWD/.venv/bin:$PATH"') < first_command
    assert "make .venv/.ready" in readme


def readme_shell_first_words() -> Any:
    return {command[0] for block in shell_blocks() if block.page == README for command in shell_commands(block)}


def test_the_readme_runs_only_commands_a_fresh_clone_has() -> None:
    # make and what make installs (the CLI, SAM CLI), plus the shell's own
    assert readme_shell_first_words() <= {"make", "jira-notifier", "sam", "export", "read"}
