# jira-notifier: every target sets up what it needs on first use. The development tools come from uv.lock: the
# virtual environment is made with the Python you name, uv (the version uv.lock pins) is put in it with pip, and
# `uv sync --locked` installs exactly the lock (it fails when pyproject.toml changed without `make lock`).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.ready
UV_VERSION := $(shell sed -n '/^name = "uv"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' uv.lock)
SAM_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin) /usr/bin)
EVENT  ?= events/sns_cloudwatch_alarm.json
# make run's own small environment: the package with its [local] extra (the embedded AWS), no development tools.
RUN_VENV ?= .venv-run

.PHONY: run test test-fast soak dist lint typecheck validate build lock requirements bench scan imports deploy
.PHONY: invoke-sns invoke-eb clean

define check_python
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "jira-notifier needs Python 3.11 or newer")'
endef

$(READY): pyproject.toml uv.lock
	$(check_python)
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --locked --all-extras --inexact --quiet
	@touch $@

# uv installs the lock's runtime packages and the [local] extra (no dev group), then leaves with pip: the demo needs
# neither.
$(RUN_VENV)/.ready: pyproject.toml uv.lock
	$(check_python)
	$(PYTHON) -m venv --clear $(RUN_VENV)
	$(RUN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	UV_PROJECT_ENVIRONMENT=$(RUN_VENV) $(RUN_VENV)/bin/uv sync --locked --no-dev --extra local --quiet
	$(RUN_VENV)/bin/uv pip uninstall --quiet --python $(RUN_VENV)/bin/python pip uv
	@touch $@

## run: the main job with no AWS account: an alarm through the real handler against an embedded AWS (dry run
##      unless JIRA_SERVER_URL, JIRA_EMAIL, JIRA_API_TOKEN and JIRA_PROJECT are set). It prints the outcome;
##      `make run ARGS=--show-requests` adds the Jira requests, `make run EVENT=events/sns_budget.json` another event
run: $(RUN_VENV)/.ready
	$(RUN_VENV)/bin/jira-notifier invoke $(EVENT) --local $(ARGS)

## test: the whole suite (unit, integration, CLI, template, reliability, and the built stack: sam build, then each
##       function in a fresh Python 3.13 with only the runtime's SDK), on every core
test: $(READY)
	$(BIN)/python -m pytest -n auto --dist loadgroup

## test-fast: the inner loop: the unit tests and the use cases on in-memory fakes (no moto, no build), on every core
test-fast: $(READY)
	$(BIN)/python -m pytest -n auto -q tests/unit

## dist: the wheel (dist/*.whl) that pipx installs: the CLI with boto3, [local] for the embedded AWS (docs/cli.md)
dist: $(READY)
	$(BIN)/uv build --wheel --out-dir dist

## soak: the lifecycle model (tests/model) far longer than make test, on fresh random examples: at least 100,000
##       steps (MODEL_EXAMPLES examples, 1500 by default, of up to 100 steps); prints the steps it ran. Then the
##       seeded fault runs of tests/reliability at their full size (300 alerts where make test takes 120 or 150)
soak: $(READY)
	MODEL_PROFILE=soak $(BIN)/python -m pytest tests/model -p no:cacheprovider -q
	MODEL_PROFILE=soak $(BIN)/python -m pytest tests/reliability -n auto --dist loadgroup -p no:cacheprovider -q

## lint: ruff's checks and its formatting check, over the whole tree
lint: $(READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## typecheck: mypy --strict over the shipped code (package, layer build script, functions), with boto3's stubs
typecheck: $(READY)
	$(BIN)/mypy

## validate: SAM's and cfn-lint's checks of template.yaml
validate: $(READY)
	$(BIN)/sam validate --lint

## build: sam build (needs a python3.13 on PATH for the python3.13 runtime)
build: $(READY)
	PATH="$(SAM_PYTHON):$$PATH" $(BIN)/sam build

## lock: pin the development and CI tools (uv.lock, from pyproject.toml's [dependency-groups] and extras); pin the
##       layer's dependencies (pyproject.toml) and the runtime's SDK (layers/jira_notifier/runtime.txt), with hashes,
##       for Python 3.13 on arm64; then regenerate the layer's requirements.txt from that lock
LOCK_DIR := layers/jira_notifier
lock: $(READY)
	$(BIN)/uv lock
	$(BIN)/uv pip compile pyproject.toml $(LOCK_DIR)/runtime.txt --quiet --generate-hashes --python-version 3.13 \
		--python-platform aarch64-manylinux_2_28 --custom-compile-command "make lock" -o $(LOCK_DIR)/requirements.lock
	$(MAKE) requirements

## requirements: the layer's requirements.txt from the lock (its packages less the SDK the runtime provides)
requirements: $(READY)
	$(BIN)/python $(LOCK_DIR)/layer_lock.py

## bench: Jira and AWS calls per alert, handler overhead, cold start and memory (see BENCHMARKS.md)
bench: $(READY)
	$(BIN)/python bench/run.py

# The scanners get virtual environments of their own, apart from $(VENV) and from each other: checkov pins many
# packages and bundles a fork of detect-secrets. Pinned: a checkov release may add checks, and .secrets.baseline
# records the detect-secrets version (change both together).
SCAN_VENV ?= .venv-scan
SCANNERS  := checkov==3.3.30 detect-secrets==1.5.0 import-linter==2.17

$(SCAN_VENV)/checkov/.ready $(SCAN_VENV)/detect-secrets/.ready $(SCAN_VENV)/import-linter/.ready: Makefile
	$(PYTHON) -m venv $(@D)
	$(@D)/bin/python -m pip install --quiet $(filter $(notdir $(@D))==%,$(SCANNERS))
	@touch $@

## scan: checkov over template.yaml (each skip is in the template, with its reason) and a secret scan of the
##       files git tracks or would add (mark a false positive `# pragma: allowlist secret`, or add it to
##       .secrets.baseline)
scan: SHELL := /bin/bash
scan: .SHELLFLAGS := -euo pipefail -c
scan: $(SCAN_VENV)/checkov/.ready $(SCAN_VENV)/detect-secrets/.ready
	$(SCAN_VENV)/checkov/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download
	git ls-files -z --cached --others --exclude-standard \
		| xargs -0 $(SCAN_VENV)/detect-secrets/bin/detect-secrets-hook --baseline .secrets.baseline

## imports: the layers' boundaries and no import cycles (import-linter's contracts in pyproject.toml, explained in
##          docs/architecture.md); in a virtual environment of its own, as its click clashes with aws-sam-cli's pin
imports: $(SCAN_VENV)/import-linter/.ready
	PYTHONPATH=layers/jira_notifier $(SCAN_VENV)/import-linter/bin/lint-imports --config pyproject.toml

deploy: build
	$(BIN)/sam deploy --guided

invoke-sns invoke-eb: $(READY)
	$(BIN)/sam local invoke $(if $(filter invoke-sns,$@),SnsToJiraFunction -e events/sns_cloudwatch_alarm.json,EventBridgeToJiraFunction -e events/eventbridge_cloudwatch_alarm.json) --env-vars events/env.json

clean:
	rm -rf .aws-sam $(VENV) $(RUN_VENV) .venv-lambda .pytest_cache .ruff_cache .mypy_cache .hypothesis
