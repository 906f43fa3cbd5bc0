# jira-notifier: every target sets up what it needs (a virtual environment with the package) on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.ready
SAM_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin) /usr/bin)
EVENT  ?= events/sns_cloudwatch_alarm.json

.PHONY: run test lint typecheck validate build lock requirements bench scan imports deploy invoke-sns invoke-eb clean

$(READY): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "jira-notifier needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

## run: the main job with no AWS account: an alarm through the real handler against an embedded AWS (dry run
##      unless JIRA_SERVER_URL, JIRA_EMAIL, JIRA_API_TOKEN and JIRA_PROJECT are set)
run: $(READY)
	$(BIN)/jira-notifier invoke $(EVENT) --local

## test: the whole suite (unit, integration, CLI, template, reliability, and the built stack: sam build, then each
##       function in a fresh Python 3.13 with only the runtime's SDK), on every core
test: $(READY)
	$(BIN)/python -m pytest -n auto --dist loadgroup

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

## lock: pin the layer's dependencies (pyproject.toml) and the runtime's SDK (layers/jira_notifier/runtime.txt),
##       with hashes, for Python 3.13 on arm64; then regenerate the layer's requirements.txt from the lock
LOCK_DIR := layers/jira_notifier
lock: $(READY)
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
	rm -rf .aws-sam $(VENV) .venv-lambda .pytest_cache .ruff_cache .mypy_cache .hypothesis
