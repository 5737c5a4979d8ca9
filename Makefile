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
Q           ?= top_pages
COUNT       ?= 20000
START       ?= 2024-12-23
END         ?= 2024-12-26
BAD_RATIO   ?= 0.01
KEEP_DATA   ?= 1

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

# Which tfvars `make up`/`deploy` apply to LocalStack: `make up ENV=dev` deploys the AWS
# configuration (infra/envs/dev.tfvars) with only the endpoints changed. Only a command-line ENV
# counts: POSIX shells use an ENV environment variable for something else.
ifneq ($(origin ENV),command line)
ENV := local
endif
export LOCAL_TFVARS := $(ENV)

# Docker engine present -> docker compose; otherwise LocalStack as a host process (this is the CI path).
STACK_MODE ?= $(shell docker info >/dev/null 2>&1 && echo docker || echo host)

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  stack mode: $(STACK_MODE) (STACK_MODE=host|docker to override)"

# ---------------------------------------------------------------- install
$(VENV)/.stamp: requirements/dev.txt pyproject.toml emulator/pyproject.toml .python-version
	@py=$$(scripts/python.sh); want=$$(cat .python-version); \
	  if [ -x $(PY) ] && [ "$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$$want" ]; then \
	    echo "$(VENV) is not Python $$want: recreating it"; rm -rf $(VENV); fi; \
	  [ -x $(PY) ] || $$py -m venv $(VENV)
	$(PY) -m pip install -q -r requirements/dev.txt
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m pip install -q --no-deps -e emulator  # pure parts of the LocalStack extensions, for unit tests
	@touch $@

.PHONY: venv
venv: $(VENV)/.stamp ## Create the project virtualenv (Python of .python-version) from the lock files

# ---------------------------------------------------------------- local stack
.PHONY: up
up: prereqs venv start build deploy ## Start LocalStack, build the Lambda, apply the Terraform, restore saved data (idempotent)
	$(PY) scripts/snapshot.py restore
	@echo "stack is up: outputs in .local/outputs.json"

.PHONY: prereqs
prereqs: ## Check the tools `make up` needs (terraform, Python 3.13, the Lambda runtime's Python)
	@$(ROOT)/scripts/prereqs.sh

.PHONY: start
start: venv
ifeq ($(STACK_MODE),docker)
	docker compose up -d --wait
else
	$(STACK) install
	$(STACK) start
endif

.PHONY: down
down: ## Save the local buckets' data under .local/snapshot (KEEP_DATA=0: discard it), stop LocalStack
ifneq ($(KEEP_DATA),0)
	@[ ! -x $(PY) ] || $(PY) scripts/snapshot.py save
else
	@[ ! -x $(PY) ] || $(PY) scripts/snapshot.py discard
endif
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
deploy: venv build ## Apply the Terraform to LocalStack with tflocal (envs/$(ENV).tfvars; ENV=dev: the AWS config)
	$(TF) apply-local

.PHONY: destroy
destroy: venv ## Destroy the local deployment and discard the saved local data
	$(TF) destroy-local
	$(PY) scripts/snapshot.py discard

.PHONY: clean-data
clean-data: venv ## Discard the local data saved by `make down` (the next `make up` starts empty)
	$(PY) scripts/snapshot.py discard

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
lint: venv ## ruff check + format check, mypy (strict for services/), terraform fmt, infra/README.md tables
	$(RUFF) check .
	$(RUFF) format --check .
	$(VENV)/bin/mypy
	$(TF) fmt-check
	$(PY) scripts/tf_docs.py --check

.PHONY: fmt
fmt: venv ## Format Python (ruff) and Terraform, regenerate infra/README.md's tables
	$(RUFF) format .
	$(RUFF) check --fix .
	terraform fmt -recursive infra
	$(PY) scripts/tf_docs.py

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
	rm -rf build .local/outputs.json .pytest_cache .ruff_cache .mypy_cache
