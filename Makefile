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
# A checkout remembers its port: `make up LOCALSTACK_PORT=N` starts this checkout's LocalStack on
# N and scripts/stack.py records "<pid or container> <port>" in its pid file (both stack modes);
# every later target uses N until
# `make down` removes that file. A port on the command line or in the environment wins (stack.py
# then refuses to start or stop this checkout's LocalStack on it, and the tools note a stack that
# is not the one of .local/outputs.json).
ifeq ($(origin LOCALSTACK_PORT),undefined)
LOCALSTACK_PORT := $(or $(word 2,$(shell cat $(ROOT)/.local/localstack/localstack.pid 2>/dev/null)),4566)
endif
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
# Seconds the local Firehose retries a failed S3 delivery before writing the records to the error
# output prefix (AWS: 24 h, then it drops them). Short locally so a broken destination shows in
# seconds; read when LocalStack starts.
export FIREHOSE_RETRY_SECONDS ?= 10

# Bytecode of every Python process started here (LocalStack, the tools, the tests) is kept in
# .local/pycache, never beside the sources, and reused by the next process: each tool compiling
# boto3 afresh cost ~1 s, LocalStack's start 9 s instead of 3 s. Python's own switch against
# writing it (PYTHONDONTWRITEBYTECODE, set on some machines to keep source trees clean) is
# cleared for them: the prefix keeps the trees clean. The Lambda runs isolated (python -I) from its
# zip's precompiled files, as on AWS, so none of this reaches it.
export PYTHONPYCACHEPREFIX ?= $(ROOT)/.local/pycache
export PYTHONDONTWRITEBYTECODE :=

# Which tfvars `make up`/`deploy` apply to LocalStack: `make up ENV=dev` deploys the AWS
# configuration (infra/envs/dev.tfvars) with only the endpoints changed. Only a command-line ENV
# counts: POSIX shells use an ENV environment variable for something else.
ifneq ($(origin ENV),command line)
ENV := local
endif
export LOCAL_TFVARS := $(ENV)

# This checkout's own Docker engine (`make docker-engine`, scripts/docker_engine.py), while it runs:
# engine.mk names its socket.
-include .local/docker/engine.mk
ifneq ($(wildcard $(DOCKER_ENGINE_SOCKET)),)
export DOCKER_HOST   := unix://$(DOCKER_ENGINE_SOCKET)
export DOCKER_CONFIG := $(ROOT)/.local/docker/config
endif
# The stack mode: docker (docker-compose.yml) where a Docker engine answers, else LocalStack as a
# host process; the same pipeline either way. scripts/stack.py decides the same way.
ifeq ($(origin STACK_MODE),undefined)
ifeq ($(shell DOCKER_HOST=$(DOCKER_HOST) docker info >/dev/null 2>&1 && echo yes),yes)
STACK_MODE := docker
STACK_MODE_WHY := a Docker engine answers at $(if $(DOCKER_HOST),$(DOCKER_HOST),the default socket)$(if $(wildcard $(DOCKER_ENGINE_SOCKET)), (this checkout's: make docker-engine))
else
STACK_MODE := host
STACK_MODE_WHY := no Docker engine answers (make docker-engine starts one for this checkout)
endif
else
STACK_MODE_WHY := STACK_MODE=$(STACK_MODE) given ($(origin STACK_MODE))
endif
export STACK_MODE STACK_MODE_WHY

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@printf '  stack mode: %s (%s; STACK_MODE=host|docker overrides), port %s\n' '$(STACK_MODE)' '$(subst ','\'',$(STACK_MODE_WHY))' '$(LOCALSTACK_PORT)'

# ---------------------------------------------------------------- install
$(VENV)/.stamp: requirements/dev.txt requirements/uv.txt pyproject.toml emulator/pyproject.toml .python-version
	@py=$$(scripts/python.sh); want=$$(cat .python-version); \
	  if [ -x $(PY) ] && [ "$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$$want" ]; then \
	    echo "$(VENV) is not Python $$want: recreating it"; rm -rf $(VENV); fi; \
	  $$py scripts/venv_install.py --create --no-pip $(VENV)
	@# uv (requirements/uv.txt, bootstrapped with pip) from its cache; pip when uv is unavailable
	$(PY) scripts/venv_install.py $(VENV) -r requirements/dev.txt
	$(PY) scripts/venv_install.py $(VENV) --no-deps -e . -e emulator  # emulator: pure parts of the LocalStack extensions, for unit tests
	@touch $@

.PHONY: venv
venv: $(VENV)/.stamp ## Create the project virtualenv (Python of .python-version) from the lock files

# Athena clients the e2e suite runs unchanged (awswrangler, dbt-athena): their pins conflict with the
# project's (pyarrow, PyAthena), so they live in their own venv, as in a user's own environment.
CLIENTS_VENV := $(ROOT)/.venv-clients
$(CLIENTS_VENV)/.stamp: requirements/clients.txt requirements/uv.txt .python-version | $(VENV)/.stamp
	@$$(scripts/python.sh) scripts/venv_install.py --create --no-pip $(CLIENTS_VENV)
	$(PY) scripts/venv_install.py $(CLIENTS_VENV) -r requirements/clients.txt
	@touch $@

.PHONY: clients-venv
clients-venv: $(CLIENTS_VENV)/.stamp ## Create .venv-clients (awswrangler, dbt-athena) from requirements/clients.txt

# ---------------------------------------------------------------- local stack
LAMBDA_ZIP     := build/lambda/transformer.zip
SERVICE_SOURCES := $(shell find services -name '*.py' -not -path '*/__pycache__/*' 2>/dev/null)
LAMBDA_SOURCES := $(filter services/transformer/% services/common/%,$(SERVICE_SOURCES))
# What the last local apply was made from; a new LocalStack instance (process or container) rewrites
# its pid file (it keeps no state).
TF_STAMP       := .local/terraform/applied-$(ENV)-$(LOCALSTACK_PORT).stamp
TF_INPUTS      := $(wildcard infra/*.tf infra/catalog/*.json infra/envs/$(ENV).tfvars queries/*.sql .local/localstack/localstack.pid)

.PHONY: up
up: prereqs ## Start LocalStack, build the Lambda, apply the Terraform, restore saved data (steps overlap; idempotent)
	@$$(scripts/python.sh) scripts/run_steps.py --title up \
	  "python venv=$(MAKE) venv" \
	  "localstack=$(MAKE) start" \
	  "lambda zip<python venv=$(MAKE) build" \
	  "terraform init<python venv=$(MAKE) -q deploy-if-changed || $(TF) init-local" \
	  "terraform apply<localstack,lambda zip,terraform init=$(MAKE) deploy-if-changed" \
	  "tools bytecode<localstack=$(MAKE) -s tools-bytecode"
	@$(PY) scripts/snapshot.py restore
	@$(PY) scripts/hot_reload.py off
	@echo "stack is up: outputs in .local/outputs.json (step logs in .local/steps/)"

# `make up`'s "tools bytecode" step: import what the CLIs run next import (boto3, DuckDB, sqlglot,
# the services' packages), so .local/pycache holds their bytecode before `make demo` needs it
# (~3 s saved after a fresh clone). The step waits for LocalStack only to stay off the two cores
# while LocalStack compiles its own start-up; it runs while Terraform waits on the AWS provider.
# Done again only when the venv or the services' code changed since (the stamp lives with the bytecode).
.PHONY: tools-bytecode
tools-bytecode: venv $(PYTHONPYCACHEPREFIX)/.tools-imported

$(PYTHONPYCACHEPREFIX)/.tools-imported: $(VENV)/.stamp $(SERVICE_SOURCES)
	@$(PY) -c 'import boto3, athena_local.cli, generator.cli, transformer.replay, clickstream_common.inventory; boto3.client("s3", region_name="us-east-1")'
	@mkdir -p $(dir $@) && touch $@

.PHONY: dev
dev: ## `up`, then the Lambda runs services/transformer + common from this checkout (hot reload)
	@$(MAKE) up
	@$(PY) scripts/hot_reload.py on

.PHONY: docker-engine
docker-engine: venv ## Docker mode where no engine answers: this checkout's own dockerd + the LocalStack image (or its stand-in)
	@$$(scripts/python.sh) scripts/docker_engine.py start

.PHONY: docker-engine-stop
docker-engine-stop: ## `make down` of the docker-mode stack, then stop exactly what `make docker-engine` started
ifneq ($(wildcard $(DOCKER_ENGINE_SOCKET)),)
	@$(MAKE) down STACK_MODE=docker
endif
	@$$(scripts/python.sh) scripts/docker_engine.py stop

.PHONY: prereqs
prereqs: ## Check the tools `make up` needs (terraform, Python 3.13, the Lambda runtime's Python)
	@$(ROOT)/scripts/prereqs.sh

.PHONY: start
start: # no venv needed: LocalStack has its own (host: .venv-localstack; docker: the image), so both install at once
	$(STACK) install
	$(STACK) start

.PHONY: down
down: ## Save the local buckets' data under .local/snapshot (KEEP_DATA=0: discard it), stop LocalStack
ifneq ($(KEEP_DATA),0)
	@[ ! -x $(PY) ] || $(PY) scripts/snapshot.py save
else
	@[ ! -x $(PY) ] || $(PY) scripts/snapshot.py discard
endif
	$(STACK) stop $(if $(filter 0,$(KEEP_DATA)),--discard)
	@for env in $(basename $(notdir $(wildcard infra/envs/*.tfvars))); do LOCAL_TFVARS=$$env $(TF) reset-local; done
	rm -f .local/terraform/applied-*-$(LOCALSTACK_PORT).stamp

.PHONY: build
build: venv build/lambda/.built build/lambda/.built-compactor ## Build the Lambda zips (build/lambda/transformer.zip, compactor.zip) if their sources changed

# The zip is reproducible and rewritten only when its bytes change: an edit that changes nothing
# in it (or an edit undone) leaves it, and so the deployment, alone.
build/lambda/.built: $(LAMBDA_SOURCES) requirements/lambda.txt scripts/build_lambda.py
	$(PY) scripts/build_lambda.py
	@touch $@

$(LAMBDA_ZIP): build/lambda/.built

# The compactor's zip (services/compactor + the transformer's and common's code, pyarrow, DuckDB).
COMPACTOR_ZIP := build/lambda/compactor.zip
build/lambda/.built-compactor: $(filter services/compactor/% $(LAMBDA_SOURCES),$(SERVICE_SOURCES)) requirements/compactor.txt scripts/build_lambda.py
	$(PY) scripts/build_lambda.py --function compactor
	@touch $@

$(COMPACTOR_ZIP): build/lambda/.built-compactor

.PHONY: deploy
deploy: venv build ## Apply the Terraform to LocalStack with tflocal (envs/$(ENV).tfvars; ENV=dev: the AWS config)
	$(TF) apply-local
	@mkdir -p $(dir $(TF_STAMP)) && touch $(TF_STAMP)

# `make up`'s apply: skipped when nothing it depends on changed since the last local apply (the
# Terraform files and tfvars, the zip, the queries, the LocalStack process); `make deploy` always applies.
.PHONY: deploy-if-changed
deploy-if-changed: $(TF_STAMP)

$(TF_STAMP): $(TF_INPUTS) $(LAMBDA_ZIP) $(COMPACTOR_ZIP) $(if $(wildcard .local/outputs.json),,FORCE)
	$(TF) apply-local
	@mkdir -p $(dir $@) && touch $@

.PHONY: FORCE
FORCE:

.PHONY: destroy
destroy: venv ## Destroy the local deployment and discard the saved local data
	$(TF) destroy-local
	$(PY) scripts/snapshot.py discard
	rm -f $(TF_STAMP)

.PHONY: clean-data
clean-data: venv ## Discard the local data saved by `make down` (the next `make up` starts empty)
	$(PY) scripts/snapshot.py discard

.PHONY: outputs
outputs: venv ## Write `terraform output -json` to .local/outputs.json
	$(TF) outputs

.PHONY: logs
logs: ## Follow the LocalStack log (make status shows the transformer's errors)
	$(STACK) logs

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

.PHONY: sql
sql: venv ## Ad-hoc Athena SQL on the events view: make sql SQL="SELECT count(*) AS n FROM events"
	$(VENV)/bin/clickstream-query --sql "$(SQL)"

.PHONY: shell
shell: venv ## Interactive SQL prompt with <database>.events defined (Athena dialect guard + cost)
	@$(VENV)/bin/clickstream-query --shell

.PHONY: report
report: venv ## Render the five query results as an HTML report (build/report/index.html)
	$(VENV)/bin/clickstream-query --all --report build/report/index.html

.PHONY: compact
compact: venv ## Run the deployed compactor now: make compact [DAY=YYYY-MM-DD] (no DAY: yesterday + the sweep)
	$(VENV)/bin/clickstream-compact $(if $(DAY),--day $(DAY))

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
fmt: venv ## Format Python (ruff) and Terraform, regenerate infra/README.md's and docs/athena-local.md's tables
	$(RUFF) format .
	$(RUFF) check --fix .
	terraform fmt -recursive infra
	$(PY) scripts/tf_docs.py
	$(PY) -m athena_local.trino_functions

.PHONY: unit
unit: venv ## Fast tests: unit + infra checks (no LocalStack needed)
	$(PYTEST) -m "not e2e and not docker" -q

.PHONY: e2e
e2e: venv clients-venv ## End-to-end tests against the running local stack (run `make up` first)
	$(PYTEST) -m e2e -q

.PHONY: e2e-fast
e2e-fast: venv clients-venv ## End-to-end tests without the slow LocalStack-restart test
	$(PYTEST) -m "e2e and not slow" -q

.PHONY: e2e-happy
e2e-happy: venv ## The happy path and the Athena API only (CI runs them against `make up ENV=dev`)
	$(PYTEST) -m e2e -q tests/e2e/test_happy_path.py tests/e2e/test_athena_api.py

.PHONY: e2e-docker
e2e-docker: venv ## Docker mode's proof (CI, after `make up STACK_MODE=docker`): the image boots offline, happy path, Athena API, compaction, executor, hot reload, data survives `make down`
ifneq ($(STACK_MODE),docker)
	@printf 'make e2e-docker: the stack mode is %s (%s): run it with STACK_MODE=docker\n' '$(STACK_MODE)' '$(subst ','\'',$(STACK_MODE_WHY))' >&2; exit 1
endif
	@# tests/stack after tests/e2e: the slow `make down` / `make up` test runs after the other e2e
	@# tests, before those whose session fixtures (functions, roles) a restart would pull away
	$(PYTEST) -m "docker or e2e" -q tests/docker tests/e2e/test_happy_path.py tests/e2e/test_athena_api.py \
	  tests/e2e/test_compaction.py tests/e2e/test_compaction_schedule.py tests/e2e/test_dev_loop.py \
	  tests/e2e/test_data_survives_down.py tests/stack/test_lambda_executor.py

.PHONY: parity
parity: ## The AWS configuration on LocalStack: `make up ENV=dev` (fresh stack), then the happy path
	$(MAKE) down KEEP_DATA=0
	$(MAKE) up ENV=dev
	$(MAKE) e2e-happy ENV=dev
	$(MAKE) down KEEP_DATA=0 ENV=dev

.PHONY: test
test: lint unit up e2e ## lint, unit + infra checks, stack up, end-to-end tests (CI adds `make parity`)

.PHONY: bench
bench: venv ## Benchmarks (transformer, generator, queries, freshness) with baselines from the same run
	$(PY) -m bench.run $(BENCH_ARGS)

.PHONY: clean
clean: ## Remove build output and local state (keeps the virtualenvs)
	rm -rf build .local/outputs.json .local/pycache .pytest_cache .ruff_cache .mypy_cache
