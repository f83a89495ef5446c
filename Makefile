# One entry point per workflow. `make run` and `make test` are the two a newcomer needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Lambda runtime is python3.13; use the same interpreter locally when the machine has it.
PYTHON ?= $(shell for p in python3.13 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) python3.12 python3; do \
	$$p -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
PY := $(VENV)/bin/python
LAYER_SITE := .aws-sam/build/SharedLayer/python
LAYER_LOCK := layers/shared/requirements.lock
# What the Lambda python3.13 runtime provides itself (boto3 and what it needs): never in the lock, nor the layer.
RUNTIME_PACKAGES := boto3 botocore s3transfer jmespath python-dateutil six
SAM := $(SAM_VENV)/bin/sam
export AWS_DEFAULT_REGION ?= us-east-1
# sam validate and cfn-lint read no credentials, but botocore insists on a region.
export SAM_CLI_TELEMETRY := 0

FN ?=
EVENT ?=

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# pip says each package it collects (its errors in full, on stderr), so a first run is never silent.
PIP_INSTALL = -m pip install --progress-bar off --disable-pip-version-check

$(VENV)/.installed: requirements-dev.txt layers/shared/requirements.txt $(LAYER_LOCK) pyproject.toml
	@echo "First run: installing the project and its tools into $(VENV) (a few minutes, once)..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) $(PIP_INSTALL) --quiet --upgrade pip
	@# The layer's locked set first, each file checked against its hash: the tests run the versions Lambda gets.
	@set -o pipefail; $(PY) $(PIP_INSTALL) --no-deps --require-hashes -r $(LAYER_LOCK) | { grep --line-buffered -E '^(Collecting|Successfully installed)' || true; }
	@set -o pipefail; $(PY) $(PIP_INSTALL) -r requirements-dev.txt | { grep --line-buffered -E '^(Collecting|Successfully installed)' || true; }
	@# The project itself, editable: the listrak-sam command (.venv/bin/listrak-sam) runs this checkout's code.
	@$(PY) $(PIP_INSTALL) --quiet --no-deps -e .
	@touch $@
	@echo "Installed into $(VENV)."

$(SAM_VENV)/.installed: requirements-sam.txt
	@echo "Installing the SAM CLI into $(SAM_VENV) (once)..."
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/python $(PIP_INSTALL) --quiet --upgrade pip
	@set -o pipefail; $(SAM_VENV)/bin/python $(PIP_INSTALL) -r requirements-sam.txt | { grep --line-buffered -E '^(Collecting|Successfully installed)' || true; }
	@touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@echo "Installing checkov into $(CHECKOV_VENV) (once)..."
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/python $(PIP_INSTALL) --quiet --upgrade pip
	@set -o pipefail; $(CHECKOV_VENV)/bin/python $(PIP_INSTALL) -r requirements-checkov.txt | { grep --line-buffered -E '^(Collecting|Successfully installed)' || true; }
	@touch $@

.PHONY: install
install: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed ## Install everything into local venvs

.PHONY: run
run: $(VENV)/.installed ## Run every sample in events/ through the real handlers on the local stack
	$(PY) -m local_stack.run

.PHONY: api
# Fixed ports so that `sam local invoke --env-vars env.json` (with Docker) can reach the same stack.
api: export LOCAL_AWS_PORT ?= 5000
api: export LOCAL_LISTRAK_PORT ?= 8025
PORT ?= 3000
api: $(VENV)/.installed ## Serve the template's API routes against the local stack: make api [PORT=3000]
	$(PY) -m local_stack.api_server --port $(PORT)

.PHONY: invoke
invoke: $(VENV)/.installed ## Invoke one function with one event: make invoke FN=SendApiFunction EVENT=events/x.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<LogicalId> EVENT=events/<file>.json"; exit 2; }
	$(PY) -m local_stack.invoke $(FN) $(EVENT)

ENTITY ?=
FILE ?=

.PHONY: import
import: $(VENV)/.installed ## Import one local file on the local stack: make import ENTITY=orders FILE=path [RESUME=1]
	@test -n "$(ENTITY)" -a -n "$(FILE)" || { echo "usage: make import ENTITY=<customers|orders|products|reviews|rating-summaries|contacts> FILE=<path> [RESUME=1]"; exit 2; }
	$(PY) -m local_stack.import_file --entity $(ENTITY) $(if $(RESUME),--resume) $(FILE)

.PHONY: lock
lock: $(VENV)/.installed ## Pin the layer's every package, with hashes, for python3.13 on arm64 (after editing its requirements.txt)
	cd layers/shared && ../../$(VENV)/bin/uv pip compile requirements.txt --quiet --generate-hashes \
		--python-version 3.13 --python-platform aarch64-manylinux_2_28 $(if $(UPGRADE),--upgrade) \
		$(addprefix --no-emit-package ,$(RUNTIME_PACKAGES)) --custom-compile-command "make lock" -o requirements.lock

.PHONY: check
check: $(VENV)/.installed ## Check your catalog (functions/send/catalog.toml) against template.yaml's rules
	@$(PY) -m local_stack.check

.PHONY: lint
lint: $(VENV)/.installed ## Ruff lint and format check, and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

.PHONY: typecheck
typecheck: $(VENV)/.installed ## mypy over the layer, the functions and listrak-sam (pyproject.toml [tool.mypy])
	$(VENV)/bin/mypy

.PHONY: format
format: $(VENV)/.installed ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: validate
validate: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed ## cfn-lint, sam validate, checkov
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml --region $(AWS_DEFAULT_REGION)
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -f template.yaml

.PHONY: build
build: $(SAM_VENV)/.installed ## sam build (needs python3.13 on PATH, which the venv provides)
	PATH="$(abspath $(SAM_VENV))/bin:$$PATH" $(SAM) build --template template.yaml
	@test -f $(LAYER_SITE)/listrak_kit/__init__.py || { echo "layer lacks listrak_kit"; exit 1; }
	@ls $(LAYER_SITE)/pydantic_core/*aarch64*.so >/dev/null || { echo "layer is not arm64"; exit 1; }
	@# The runtime's boto3 and botocore, never a copy of the layer's own that would shadow them.
	@own=$$(cd $(LAYER_SITE) && ls -d *.dist-info | grep -iE '^($(subst $(eval) ,|,$(subst -,_,$(RUNTIME_PACKAGES))))-' || true); \
	test -z "$$own" || { echo "layer holds what the runtime provides:" $$own; exit 1; }
	@# Every module needs its cpython-313 bytecode: /opt is read-only, so what is missing compiles in every container.
	@missing=$$(cd $(LAYER_SITE) && find . -name '*.py' -not -path '*/__pycache__/*' \
		| sed -E 's#^(.*)/([^/]+)\.py$$#\1/__pycache__/\2.cpython-313.pyc#' \
		| while read -r pyc; do test -f "$$pyc" || echo "$$pyc"; done); \
	test -z "$$missing" || { echo "layer lacks bytecode:"; echo "$$missing" | head; exit 1; }
	@# ... as unchecked-hash files (flags word 1), which load without a look at the source's timestamp.
	@sample=$(LAYER_SITE)/listrak_kit/__pycache__/__init__.cpython-313.pyc; \
	test "$$(od -An -tu4 -j4 -N4 $$sample | tr -d ' ')" = 1 || { echo "layer bytecode is not unchecked-hash"; exit 1; }
	@echo "layer: $$(find $(LAYER_SITE) -name '*.py' | wc -l) modules, $$(find $(LAYER_SITE) -name '*.cpython-313.pyc' | wc -l) compiled"

.PHONY: quick
quick: $(VENV)/.installed ## The layer's and the template's tests (under a minute): the inner loop
	$(PY) -m pytest -q -p no:cacheprovider tests/layer tests/template

.PHONY: unit
unit: $(VENV)/.installed $(SAM_VENV)/.installed ## Every test (tests/template translates with the SAM CLI's transform), and coverage
	$(PY) -m pytest --cov --cov-report=
	@echo "coverage: $$($(PY) -m coverage report --format=total)% of the lines in layers/shared, functions/ and listrak_ops/"

.PHONY: test
test: lint check validate build unit ## Lint, your catalog, template checks, sam build, and every test (the built layer's too)

.PHONY: bench
bench: $(VENV)/.installed build ## Benchmarks (cold start, warm send, token economy, imports, sizes) into docs/benchmarks.md
	$(PY) -m bench.run --update-docs

.PHONY: deploy
deploy: build ## sam deploy with samconfig.toml (CONFIG_ENV=default|prod)
	$(SAM) deploy --config-env $(CONFIG_ENV)

CONFIG_ENV ?= default

.PHONY: sync
sync: $(SAM_VENV)/.installed ## sam sync --watch: code changes reach the deployed development stack in seconds
	@test "$(CONFIG_ENV)" != prod || { echo "sam sync bypasses change sets: not for prod"; exit 2; }
	PATH="$(abspath $(SAM_VENV))/bin:$$PATH" $(SAM) sync --watch --template template.yaml --config-env $(CONFIG_ENV)

.PHONY: logs
logs: $(SAM_VENV)/.installed ## Tail the deployed stack's logs and traces, or one function's: make logs FN=SendApiFunction
	$(SAM) logs --config-env $(CONFIG_ENV) $(if $(FN),--name $(FN)) --tail

.PHONY: delete
delete: $(SAM_VENV)/.installed ## sam delete the deployed stack (asks first; the table and drop bucket are kept)
	$(SAM) delete --config-env $(CONFIG_ENV)

.PHONY: clean
clean: ## Remove build output and virtual environments
	rm -rf .aws-sam $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .pytest_cache .ruff_cache

.PHONY: openapi
openapi: $(VENV)/.installed ## Regenerate openapi.json from the code
	$(PY) -m local_stack.openapi
