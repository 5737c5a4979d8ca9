# clickstream-local — one entry point for the local stack, the tests and AWS.
# `make help` lists the targets. Everything the project needs is installed by these targets.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ROOT        := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV        := $(ROOT)/.venv
PY          := $(VENV)/bin/python
PYTEST      := $(VENV)/bin/pytest
RUFF        := $(VENV)/bin/ruff
STACK       := $(ROOT)/scripts/stack.sh
TF          := $(ROOT)/scripts/tf.sh
LOCALSTACK_PORT ?= 4566
ENV         ?= local
Q           ?= top_pages
COUNT       ?= 20000
START       ?= 2024-12-23
END         ?= 2024-12-26
BAD_RATIO   ?= 0.01

# Local tools reach LocalStack through the standard AWS variables (boto3, AWS CLI and tflocal honour them).
export AWS_ENDPOINT_URL      ?= http://localhost:$(LOCALSTACK_PORT)
export AWS_ACCESS_KEY_ID     ?= test
export AWS_SECRET_ACCESS_KEY ?= test
export AWS_DEFAULT_REGION    ?= us-east-1
export AWS_REGION            ?= $(AWS_DEFAULT_REGION)
export LOCALSTACK_PORT
# Seconds between LocalStack's async Lambda retries (AWS: about a minute). Short locally so a failed
# object reaches the on-failure queue in seconds; read when LocalStack starts.
export LAMBDA_RETRY_BASE_DELAY ?= 2
# Seconds the local Firehose retries a failed S3 delivery before writing the records to the error
# output prefix (AWS: 24 h, then it drops them). Short locally so a broken destination shows in
# seconds; read when LocalStack starts.
export FIREHOSE_RETRY_SECONDS ?= 10

# Docker engine present -> docker compose; otherwise LocalStack as a host process (this is the CI path).
STACK_MODE ?= $(shell docker info >/dev/null 2>&1 && echo docker || echo host)

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  stack mode: $(STACK_MODE) (STACK_MODE=host|docker to override)"

# ---------------------------------------------------------------- install
$(VENV)/.stamp: requirements/dev.txt pyproject.toml emulator/pyproject.toml
	@py=$$(command -v python3.12 || command -v python3.13 || ls -d $$HOME/.pyenv/versions/3.1[23]*/bin/python 2>/dev/null | head -1); \
	  [ -n "$$py" ] || { echo "error: Python >= 3.12 not found (pyenv install 3.12, or put python3.12 on PATH)"; exit 1; }; \
	  [ -x $(PY) ] || $$py -m venv $(VENV)
	$(PY) -m pip install -q -r requirements/dev.txt
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m pip install -q --no-deps -e emulator  # pure parts of the LocalStack extensions, for unit tests
	@touch $@

.PHONY: venv
venv: $(VENV)/.stamp ## Create the project virtualenv (Python 3.12) from the lock files

# ---------------------------------------------------------------- local stack
.PHONY: up
up: venv start build deploy ## Start LocalStack, build the Lambda, apply the Terraform (idempotent)
	@echo "stack is up: outputs in .local/outputs.json"

.PHONY: start
start: venv
ifeq ($(STACK_MODE),docker)
	docker compose up -d --wait
else
	$(STACK) install
	$(STACK) start
endif

.PHONY: down
down: ## Stop LocalStack (state is not kept: `make up` redeploys)
ifeq ($(STACK_MODE),docker)
	docker compose down
else
	$(STACK) stop
endif
	$(TF) reset-local

.PHONY: build
build: venv ## Build the Lambda deployment zip (build/lambda/transformer.zip)
	$(PY) scripts/build_lambda.py

.PHONY: deploy
deploy: venv build ## Apply the Terraform to LocalStack with tflocal (envs/local.tfvars)
	$(TF) apply-local

.PHONY: destroy
destroy: venv ## Destroy the local deployment (buckets are force-destroyed locally)
	$(TF) destroy-local

.PHONY: outputs
outputs: venv ## Write `terraform output -json` to .local/outputs.json
	$(TF) outputs

.PHONY: logs
logs: ## Follow the LocalStack log (make status shows the transformer's errors)
ifeq ($(STACK_MODE),docker)
	docker compose logs -f localstack
else
	$(STACK) logs
endif

.PHONY: status
status: venv ## Counts at each stage: raw objects, Parquet rows, quarantine by reason, Lambda errors
	@$(STACK) status || true
	$(PY) scripts/status.py

# ---------------------------------------------------------------- pipeline
.PHONY: generate
generate: venv ## Send COUNT events (START..END, BAD_RATIO malformed) to Firehose; manifest in .local/
	$(VENV)/bin/clickstream-generate --count $(COUNT) --start $(START) --end $(END) --seed 42 \
	  --bad-ratio $(BAD_RATIO) --manifest .local/manifest.json

.PHONY: demo
demo: up generate ## Bring the stack up, send events, wait for Parquet, run the five queries
	$(PY) scripts/wait_for_pipeline.py --manifest .local/manifest.json
	$(VENV)/bin/clickstream-query --all

.PHONY: query
query: venv ## Run one query on the local Parquet: make query Q=top_pages
	$(VENV)/bin/clickstream-query $(Q)

.PHONY: queries
queries: venv ## Run all five queries
	$(VENV)/bin/clickstream-query --all

.PHONY: report
report: venv ## Render the five query results as an HTML report (build/report/index.html)
	$(VENV)/bin/clickstream-query --all --report build/report/index.html

.PHONY: replay
replay: venv ## Re-process raw objects: make replay ARGS="--prefix raw/2024/12/25/"
	$(VENV)/bin/clickstream-replay $(ARGS)

# ---------------------------------------------------------------- quality
.PHONY: lint
lint: venv ## ruff check + format check, terraform fmt check
	$(RUFF) check .
	$(RUFF) format --check .
	$(TF) fmt-check

.PHONY: fmt
fmt: venv ## Format Python (ruff) and Terraform
	$(RUFF) format .
	$(RUFF) check --fix .
	terraform fmt -recursive infra

.PHONY: unit
unit: venv ## Fast tests: unit + infra checks (no LocalStack needed)
	$(PYTEST) -m "not e2e" -q

.PHONY: e2e
e2e: venv ## End-to-end tests against the running local stack (run `make up` first)
	$(PYTEST) -m e2e -q

.PHONY: e2e-fast
e2e-fast: venv ## End-to-end tests without the slow LocalStack-restart test
	$(PYTEST) -m "e2e and not slow" -q

.PHONY: test
test: lint unit up e2e ## Everything CI runs: lint, unit + infra checks, stack up, end-to-end tests

.PHONY: bench
bench: venv ## Benchmarks (transformer, generator, queries, freshness) with baselines from the same run
	$(PY) -m bench.run $(BENCH_ARGS)

.PHONY: clean
clean: ## Remove build output and local state (keeps the virtualenvs)
	rm -rf build .local/outputs.json .pytest_cache .ruff_cache
