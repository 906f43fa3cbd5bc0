"""What ``sam build`` produces, run the way Lambda runs it: the built-stack tests and ``make bench`` stand on this.

- ``build()``: ``sam build`` (with python3.13 on PATH), skipped while its inputs are unchanged since the last one.
- ``runtime_python()``: a virtual environment of the runtime's Python (3.13) holding only the AWS SDK, at the
  versions of ``layers/jira_notifier/requirements.lock`` (what the Lambda runtime provides), kept in
  ``.venv-lambda`` until the lock changes.
- ``lambda_command()``: the command and environment of a fresh interpreter that sees a function's code and the
  layer as Lambda lays them out (``/var/task``, then ``/opt/python``, then the runtime's site-packages), writes
  no bytecode, and writes nowhere in the build.

Each step takes a file lock: parallel test workers build once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
BUILD_LOG = ROOT / ".aws-sam" / "build.log"  # what the last sam build printed
LAYER_DIR = ROOT / "layers" / "jira_notifier"
LAYER = BUILD / "JiraNotifierLayer" / "python"  # /opt/python on Lambda
LAMBDA_VENV = ROOT / ".venv-lambda"
RUNTIME_VERSION = "3.13"  # template.yaml: Globals.Function.Runtime python3.13
# template.yaml's functions: logical id -> CodeUri folder.
FUNCTIONS = {
    "SnsToJiraFunction": "sns_to_jira",
    "EventBridgeToJiraFunction": "eventbridge_to_jira",
    "AlarmActionToJiraFunction": "alarm_action_to_jira",
    "SqsToJiraFunction": "sqs_to_jira",
    "ReconcileFunction": "reconcile",
    "JiraWebhookFunction": "jira_webhook",
}
BUILD_INPUTS = ("template.yaml", "samconfig.toml", "functions", "layers/jira_notifier")
BUILD_TIMEOUT = 600  # seconds: a first build downloads the layer's wheels


class RuntimeMissingError(RuntimeError):
    """The runtime's Python is not installed here."""


def find_runtime_interpreter() -> Path:
    """A python3.13: ``LAMBDA_PYTHON``, else on PATH, else the newest of pyenv's.

    Raises:
        RuntimeMissingError: none found.
    """
    named = os.environ.get("LAMBDA_PYTHON")
    candidates = [Path(named)] if named else []
    on_path = shutil.which(f"python{RUNTIME_VERSION}")
    if on_path:
        candidates.append(Path(on_path))
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates += sorted(pyenv.glob(f"{RUNTIME_VERSION}.*/bin/python{RUNTIME_VERSION}"), reverse=True)
    for candidate in candidates:
        if _runs_as_runtime(candidate):
            return candidate
    raise RuntimeMissingError(
        f"the built-stack tests need Python {RUNTIME_VERSION}, the functions' runtime, and found none "
        f"(LAMBDA_PYTHON, python{RUNTIME_VERSION} on PATH, {pyenv}/{RUNTIME_VERSION}.*): "
        f"install it, e.g. `pyenv install {RUNTIME_VERSION}`"
    )


def _runs_as_runtime(candidate: Path) -> bool:
    """True for a working python3.13 (a pyenv shim on PATH may fail when no 3.13 is selected)."""
    if not (candidate.is_file() and os.access(candidate, os.X_OK)):
        return False
    done = subprocess.run(  # noqa: S603 - asking an interpreter its version
        [str(candidate), "-c", "import sys; print(sys.version)"], capture_output=True, text=True, check=False
    )
    return done.returncode == 0 and done.stdout.startswith(f"{RUNTIME_VERSION}.")


@contextmanager
def _locked(name: str) -> Iterator[None]:
    BUILD.parent.mkdir(exist_ok=True)
    with (BUILD.parent / f".{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def inputs_digest() -> str:
    """A digest of every file ``sam build`` reads (caches and bytecode left out)."""
    digest = hashlib.sha256()
    for name in BUILD_INPUTS:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def build() -> Path:
    """``sam build``, unless the last one had the same inputs. Returns the build folder.

    Raises:
        RuntimeMissingError: no python3.13 (sam build needs it for the python3.13 runtime).
        RuntimeError: the build failed.
    """
    stamp = BUILD / ".inputs-sha256"
    with _locked("build"):
        digest = inputs_digest()
        if stamp.is_file() and stamp.read_text() == digest:
            return BUILD
        interpreter = find_runtime_interpreter()
        env = {**os.environ, "PATH": f"{interpreter.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        if interpreter.name != f"python{RUNTIME_VERSION}":  # sam looks for python3.13 on PATH
            raise RuntimeMissingError(f"{interpreter}: sam build needs it named python{RUNTIME_VERSION}")
        sam = Path(sys.executable).with_name("sam")
        done = subprocess.run(  # noqa: S603 - the project's own build
            [str(sam), "build", "--no-cached"],
            cwd=ROOT,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"sam build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        BUILD_LOG.write_text(done.stdout + done.stderr, encoding="utf-8")
        stamp.write_text(digest)
    return BUILD


def runtime_requirements() -> str:
    """The runtime's SDK and its dependencies, pinned with hashes from the lock."""
    sys.path.insert(0, str(LAYER_DIR))
    try:
        import layer_lock
    finally:
        sys.path.remove(str(LAYER_DIR))
    pins = layer_lock.read_lock((LAYER_DIR / "requirements.lock").read_text(encoding="utf-8"))
    return layer_lock.render(layer_lock.runtime_pins(pins), header="")


def runtime_python() -> Path:
    """The interpreter of ``.venv-lambda``: Python 3.13 with the runtime's SDK and nothing else.

    Raises:
        RuntimeMissingError: no python3.13.
        RuntimeError: the SDK could not be installed.
    """
    python = LAMBDA_VENV / "bin" / "python"
    stamp = LAMBDA_VENV / ".requirements.txt"
    requirements = runtime_requirements()
    with _locked("lambda-venv"):
        if stamp.is_file() and stamp.read_text() == requirements and python.is_file():
            return python
        shutil.rmtree(LAMBDA_VENV, ignore_errors=True)
        interpreter = find_runtime_interpreter()
        subprocess.run([str(interpreter), "-m", "venv", str(LAMBDA_VENV)], check=True)  # noqa: S603
        pending = LAMBDA_VENV / "requirements.pending"
        pending.write_text(requirements)
        pip = [str(python), "-m", "pip", "--quiet", "--disable-pip-version-check"]
        for command in (
            ["install", "--no-deps", "--require-hashes", "--only-binary=:all:", "-r", str(pending)],
            ["uninstall", "--yes", "pip"],  # then the SDK is all it holds, as in the runtime
        ):
            done = subprocess.run([*pip, *command], capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)  # noqa: S603
            if done.returncode != 0:
                raise RuntimeError(f"pip {command[0]} in {LAMBDA_VENV} failed:\n{done.stderr[-3000:]}")
        pending.rename(stamp)
    return python


def lambda_command(
    function_id: str, code: list[str], environment: Mapping[str, str], python: Path
) -> tuple[list[str], dict[str, str], Path]:
    """(argv, env, cwd) of a fresh interpreter laid out like the function's Lambda container."""
    task_root = BUILD / function_id
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        # Lambda's order: /var/task, /opt/python, then the runtime's own packages (this venv's site-packages).
        "PYTHONPATH": f"{task_root}{os.pathsep}{LAYER}",
        "LAMBDA_TASK_ROOT": str(task_root),
        "AWS_LAMBDA_FUNCTION_NAME": f"jira-notifier-{FUNCTIONS[function_id]}",
        **environment,
    }
    return [str(python), *code], env, task_root
