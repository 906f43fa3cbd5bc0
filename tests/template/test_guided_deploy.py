"""``sam deploy --guided`` answered with Enter throughout, as a new user would, gets to the changeset.

SAM CLI asks to confirm every function whose ``FunctionUrlConfig`` has ``AuthType: NONE``, whatever the function's
Condition, and stops when the answer is the default "no". The webhook's URL is therefore a resource of its own,
which SAM CLI does not ask about: the first test asks SAM CLI's own check, the others run ``sam deploy`` against a
local AWS (moto) with dummy credentials. Creating the changeset is where it stops: that needs CloudFormation
itself (moto reads no template from a local S3 URL and runs no SAM transform).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import cfn_yaml

from tests.support.built_stack import FUNCTIONS
from tests.support.markdown import section, shell_commands, split_fences
from tests.support.sam_cli import find_sam, offline_environment

ROOT = Path(__file__).resolve().parents[2]
STACK_NAME = "jira-notifier"  # samconfig.toml
MANAGED_STACK = "aws-sam-cli-managed-default"
DEPLOY_TIMEOUT = 240  # seconds; about 15 s on an idle machine
ENTER_ONLY = "\n" * 100  # more than there are questions: an unexpected one is answered with its default too


def template_parameters() -> dict[str, Any]:
    return dict(cfn_yaml.load(str(ROOT / "template.yaml"))["Parameters"])


def default_answer(spec: dict[str, Any]) -> str:
    """What Enter answers to a parameter's question: its default, as SAM CLI prints it."""
    return str(spec.get("Default", ""))


# ---------------------------------------------------------------- SAM CLI's own check, offline


@pytest.mark.parametrize("parameters", [{}, {"JiraWebhook": "Enabled"}], ids=["default", "webhook"])
def test_sam_cli_finds_no_function_url_to_ask_about(parameters: dict[str, str]) -> None:
    from samcli.commands.deploy.auth_utils import auth_per_resource
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    stacks, _ = SamLocalStackProvider.get_stacks(
        str(ROOT / "template.yaml"),
        parameter_overrides=parameters,
        global_parameter_overrides={"AWS::Region": "us-east-1"},
        language_extensions_enabled=True,
    )

    # SAM CLI reads every function, the webhook's included: it does not evaluate Conditions
    seen = {function.name for function in SamFunctionProvider(stacks, ignore_code_extraction_warnings=True).get_all()}
    assert seen == set(FUNCTIONS)
    assert auth_per_resource(stacks) == []


# ---------------------------------------------------------------- sam deploy against a local AWS


@dataclass(frozen=True)
class Deploy:
    returncode: int
    output: str
    project: Path  # the copy of the project it ran in
    uploaded: dict[str, bytes]  # what it put in the managed bucket, by key


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    """moto, holding the stack SAM CLI keeps its artifacts bucket in, as in an account where SAM was used before.

    (SAM CLI makes that stack with a change set when it is missing; moto then leaves out its outputs.)
    """
    from moto.server import ThreadedMotoServer
    from samcli.lib.bootstrap.bootstrap import _get_stack_template

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    cloudformation = aws_client("cloudformation", endpoint)
    cloudformation.create_stack(
        StackName=MANAGED_STACK,
        TemplateBody=_get_stack_template(),
        Tags=[{"Key": "ManagedStackSource", "Value": "AwsSamCli"}],
        Capabilities=["CAPABILITY_IAM"],
    )
    yield endpoint
    server.stop()


def aws_client(service: str, endpoint: str) -> Any:
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106
    return session.client(service, region_name="us-east-1", endpoint_url=endpoint)


def sam_deploy(arguments: list[str], stdin: str, endpoint: str, tmp_path: Path) -> Deploy:
    """``sam deploy ARGUMENTS`` in a fresh copy of the project (guided mode rewrites samconfig.toml)."""
    sam = find_sam()
    assert sam is not None, "SAM CLI (aws-sam-cli, a dev dependency) is not installed: run make test"
    project = tmp_path / "project"
    no_bytecode = shutil.ignore_patterns("__pycache__")
    project.mkdir()
    for name in ("template.yaml", "samconfig.toml"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "functions", project / "functions", ignore=no_bytecode)
    shutil.copytree(ROOT / "layers" / "jira_notifier", project / "layers" / "jira_notifier", ignore=no_bytecode)
    s3 = aws_client("s3", endpoint)
    [bucket] = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(MANAGED_STACK)]
    for stale in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=stale["Key"])

    done = subprocess.run(  # noqa: S603 - our own arguments
        [sam, "deploy", *arguments],
        cwd=project,
        env=offline_environment(home=tmp_path / "home", aws_endpoint=endpoint),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=DEPLOY_TIMEOUT,
        check=False,
    )

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    uploaded = {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}
    return Deploy(done.returncode, done.stdout + done.stderr, project, uploaded)


def assert_reached_the_changeset(deploy: Deploy) -> None:
    """Packaged, uploaded the template, and asked CloudFormation for the changeset (which moto cannot make)."""
    assert "Security Constraints Not Satisfied" not in deploy.output
    assert "has no authentication" not in deploy.output
    assert "Initiating deployment" in deploy.output, deploy.output
    assert f"Failed to create changeset for the stack: {STACK_NAME}" in deploy.output, deploy.output
    [packaged] = [body for key, body in deploy.uploaded.items() if key.endswith(".template")]
    template = packaged.decode()
    for function_id in FUNCTIONS:
        assert f"\n  {function_id}:\n" in template  # every function, packaged
    assert "FunctionUrlConfig" not in template


@pytest.mark.slow
def test_guided_deploy_answered_with_enter_throughout_reaches_the_changeset(aws_endpoint: str, tmp_path: Path) -> None:
    # Given the project as cloned, with nothing built
    parameters = template_parameters()

    # When every question is answered with Enter
    deploy = sam_deploy(["--guided"], ENTER_ONLY, aws_endpoint, tmp_path)

    # Then it asked for the stack, the region and each parameter (at its default), and nothing about a URL
    questions = re.findall(r"(Stack Name|AWS Region|Parameter \w+) \[([^\]]*)\]:", deploy.output)
    assert questions == [
        ("Stack Name", STACK_NAME),
        ("AWS Region", "us-east-1"),
        *((f"Parameter {name}", default_answer(spec)) for name, spec in parameters.items()),
    ]
    assert_reached_the_changeset(deploy)
    # and it saved the answers: every parameter at its default, the webhook off
    saved = tomllib.loads((deploy.project / "samconfig.toml").read_text(encoding="utf-8"))["default"]["deploy"]
    overrides = dict(item.split("=", 1) for item in shlex.split(saved["parameters"]["parameter_overrides"]))
    assert overrides == {name: default_answer(spec) for name, spec in parameters.items()}
    assert overrides["JiraWebhook"] == "Disabled"
    assert saved["parameters"]["capabilities"] == "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"


def readme_first_deploy() -> list[str]:
    """The arguments of the `sam deploy` in the README's "First deploy" block (after its `make build`)."""
    readme = ROOT / "README.md"
    _, [block] = split_fences(readme, section(readme, "### First deploy"))
    build, deploy = shell_commands(block)
    assert build == ["make", "build"]
    assert deploy[:2] == ["sam", "deploy"], deploy
    return deploy[2:]


@pytest.mark.slow
def test_the_readmes_first_deploy_asks_nothing_and_reaches_the_changeset_with_its_parameters(
    aws_endpoint: str, tmp_path: Path
) -> None:
    # Given the README's command, with its parameters
    arguments = readme_first_deploy()
    given = dict(item.split("=", 1) for item in arguments[arguments.index("--parameter-overrides") + 1 :])
    assert set(given) <= set(template_parameters())

    # When it runs with no answers to give
    deploy = sam_deploy(arguments, "", aws_endpoint, tmp_path)

    # Then it asked nothing, and the changeset it asked for carries the parameters as given
    assert "Parameter " not in deploy.output.split("Deploying with following values", 1)[0]
    assert_reached_the_changeset(deploy)
    [overrides] = re.findall(r"Parameter overrides\s+:\s+(\{.*\})", deploy.output)
    assert json.loads(overrides) == given
