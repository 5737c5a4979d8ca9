#!/usr/bin/env bash
# Terraform wrapper for this project: one place that knows how to run terraform/tflocal on infra/.
#
# Why a wrapper: (1) provider installation must work offline where a filesystem mirror exists, so
# we write a project-local CLI config instead of touching ~/.terraformrc; (2) local (LocalStack)
# and AWS states must never mix, so each environment gets its own data dir and state file;
# (3) tools read names from .local/outputs.json, which is refreshed after every local apply.
#
# Usage: scripts/tf.sh <command> [extra terraform args]
#   init-local | plan-local | apply-local | destroy-local | outputs | reset-local   LocalStack (env "local")
#   init-aws   | plan-aws   | apply-aws   | destroy-aws   | outputs-aws  AWS (TF_ENV, default "dev")
#   fmt | fmt-check | validate | test                                  no cloud, no credentials
#
# Environment:
#   LOCALSTACK_PORT   LocalStack edge port (wins over AWS_ENDPOINT_URL; make always sets it)
#   AWS_ENDPOINT_URL  LocalStack endpoint when LOCALSTACK_PORT is unset; with neither, the port
#                     this checkout's LocalStack runs on (`scripts/stack.sh port`), else 4566
#   TF_ENV            AWS environment / tfvars name (default dev -> infra/envs/dev.tfvars)
#   LOCAL_TFVARS      tfvars applied to LocalStack by the *-local commands (default local; dev =
#                     the AWS configuration with only the endpoints changed: `make up ENV=dev`)
#   TF_PLUGIN_MIRROR  provider mirror directory (default /opt/tf-plugins, used only if present)
#   CLICKSTREAM_OUTPUTS  where local outputs are written (default .local/outputs.json)
#
# State: .local/terraform/<env>/ for AWS; .local/terraform/local[-<tfvars>][-<port>]/ for LocalStack.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INFRA="$ROOT/infra"
STATE_ROOT="$ROOT/.local/terraform"
MIRROR="${TF_PLUGIN_MIRROR:-/opt/tf-plugins}"
# Where local outputs go: the file clickstream_common.outputs reads (CLICKSTREAM_OUTPUTS overrides).
LOCAL_OUTPUTS="${CLICKSTREAM_OUTPUTS:-$ROOT/.local/outputs.json}"

die() {
  echo "tf.sh: $*" >&2
  exit 1
}

# --- provider installation ----------------------------------------------------------------------

# Providers found in the mirror come only from the mirror (works offline); everything else is
# downloaded directly from its registry.
write_cli_config() {
  local rc="$ROOT/.local/terraformrc" includes="" dir host ns type
  mkdir -p "$ROOT/.local"
  if [[ -d "$MIRROR" ]]; then
    for dir in "$MIRROR"/*/*/*/; do
      [[ -d "$dir" ]] || continue
      dir="${dir%/}"
      type="${dir##*/}"
      ns="$(basename "$(dirname "$dir")")"
      host="$(basename "$(dirname "$(dirname "$dir")")")"
      includes+="\"$host/$ns/$type\", "
    done
  fi
  if [[ -n "$includes" ]]; then
    includes="[${includes%, }]"
    cat >"$rc" <<EOF
# Written by scripts/tf.sh: providers present in $MIRROR install from it (offline), the rest directly.
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = $includes
  }
  direct {
    exclude = $includes
  }
}
EOF
  else
    cat >"$rc" <<EOF
# Written by scripts/tf.sh: no provider mirror at $MIRROR, so providers install from the registry.
provider_installation {
  direct {}
}
EOF
  fi
  export TF_CLI_CONFIG_FILE="$rc"
  # No version check against checkpoint-api.hashicorp.com: it fails offline and leaks nothing useful.
  export CHECKPOINT_DISABLE=1
}

# --- environments -------------------------------------------------------------------------------

TF_BIN=terraform
TFLOCAL=""
LOCAL_MODE=""
ENV_NAME=""
VAR_FILE=""
LOCAL_VARS=()

tflocal_bin() {
  if [[ -x "$ROOT/.venv/bin/tflocal" ]]; then
    echo "$ROOT/.venv/bin/tflocal"
  elif command -v tflocal >/dev/null 2>&1; then
    command -v tflocal
  else
    die "tflocal not found: install the dev requirements into .venv (requirements/dev.txt)"
  fi
}

use_env() { # use_env <env-name> <terraform binary>
  ENV_NAME="$1"
  TF_BIN="$2"
  VAR_FILE="envs/$ENV_NAME.tfvars"
  [[ -f "$INFRA/$VAR_FILE" ]] || die "no variables file infra/$VAR_FILE"
  export TF_DATA_DIR="$STATE_ROOT/$ENV_NAME/data"
  STATE_FILE="$STATE_ROOT/$ENV_NAME/terraform.tfstate"
  mkdir -p "$TF_DATA_DIR"
}

use_local() {
  local endpoint
  if [[ -n "${LOCALSTACK_PORT:-}" ]]; then
    endpoint="http://localhost:$LOCALSTACK_PORT"
  elif [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
    endpoint="$AWS_ENDPOINT_URL"
  else # run by hand: the port this checkout remembers (the Makefile's rule)
    endpoint="http://localhost:$("$ROOT/scripts/stack.sh" port)"
  fi
  endpoint="${endpoint%/}"
  # tflocal derives LOCALSTACK_HOSTNAME/EDGE_PORT from AWS_ENDPOINT_URL; S3_HOSTNAME=localhost
  # makes it generate path-style S3 (no *.localhost.localstack.cloud DNS needed offline).
  export AWS_ENDPOINT_URL="$endpoint"
  LOCALSTACK_HOSTNAME="$(python3 -c 'import sys, urllib.parse as u; print(u.urlparse(sys.argv[1]).hostname)' "$endpoint")"
  EDGE_PORT="$(python3 -c 'import sys, urllib.parse as u; print(u.urlparse(sys.argv[1]).port or 4566)' "$endpoint")"
  export LOCALSTACK_HOSTNAME EDGE_PORT
  export S3_HOSTNAME="$LOCALSTACK_HOSTNAME"
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
  export AWS_REGION=us-east-1
  unset AWS_PROFILE AWS_SESSION_TOKEN
  export DISABLE_DEPRECATION_NOTICE=1
  TFLOCAL="$(tflocal_bin)"
  use_env "${LOCAL_TFVARS:-local}" terraform # with tflocal's provider override: see tf_init
  LOCAL_MODE=1
  # A state belongs to one LocalStack instance and one tfvars file: another env's tfvars applied
  # to LocalStack (LOCAL_TFVARS=dev: the AWS configuration, only the endpoints changed) or a second
  # instance on another port gets its own state, and never the AWS state of that env.
  local key=local
  [[ "$ENV_NAME" == local ]] || key="local-$ENV_NAME"
  [[ "$EDGE_PORT" == 4566 ]] || key="$key-$EDGE_PORT"
  export TF_DATA_DIR="$STATE_ROOT/$key/data"
  STATE_FILE="$STATE_ROOT/$key/terraform.tfstate"
  mkdir -p "$TF_DATA_DIR"
  prepare_local_workdir
}

use_aws() {
  # A LocalStack endpoint left in the shell (the Makefile sets one) must never redirect AWS calls.
  unset AWS_ENDPOINT_URL S3_HOSTNAME LOCALSTACK_HOSTNAME EDGE_PORT
  use_env "${TF_ENV:-dev}" terraform
  [[ "$ENV_NAME" != local ]] || die "TF_ENV=local is the LocalStack environment: use the *-local commands"
}

TF_WORKDIR="$INFRA"

tf() { # run terraform in the working directory (locally with tflocal's provider override in it)
  (cd "$TF_WORKDIR" && "$TF_BIN" "$@")
}

# The LocalStack provider override (see provider_override) lives in a directory of symlinks to
# infra/*.tf: infra/ stays pristine, so fmt-check, validate, terraform test and checkov never see
# that file, even while `make up` is applying.
prepare_local_workdir() {
  local work f
  work="$(dirname "$STATE_FILE")/work"
  mkdir -p "$work"
  rm -f "$work"/*.tf
  for f in "$INFRA"/*.tf; do
    ln -s "$f" "$work/$(basename "$f")"
  done
  ln -sfn "$INFRA/envs" "$work/envs"
  ln -sfn "$INFRA/catalog" "$work/catalog" # generated table definition, crawler settings
  TF_WORKDIR="$work"
  # path.module is now the work dir: hand the repo paths over explicitly. The endpoint becomes
  # the endpoint_url output: the outputs then say which stack holds what they name, and the
  # tools talk to it from any shell (clickstream_common.target).
  LOCAL_VARS=(
    -var="lambda_zip_path=$ROOT/build/lambda/transformer.zip"
    -var="compactor_zip_path=$ROOT/build/lambda/compactor.zip" -var="queries_dir=$ROOT/queries"
    -var="endpoint_url=$AWS_ENDPOINT_URL"
  )
}

# `terraform init` is skipped when nothing it reads changed since it last succeeded here (the
# configuration, the lock file, the CLI config with the provider mirror, the state path and the
# data dir's backend record): `make up` inits in one step and applies in the next, and each init
# costs a second or more of provider checks.
init_key() { # init_key [init args...]
  {
    cat "$INFRA"/*.tf "$TF_WORKDIR/.terraform.lock.hcl" "${TF_CLI_CONFIG_FILE:-/dev/null}" 2>/dev/null || true
    cat "$TF_DATA_DIR/terraform.tfstate" 2>/dev/null || echo "no backend record"
    find "$TF_DATA_DIR/providers" 2>/dev/null | sort # the installed providers (links into the mirror)
    echo "$STATE_FILE $TF_WORKDIR $* $("$TF_BIN" version)"
  } | sha256sum | cut -d' ' -f1
}

tf_init() {
  local log dir
  dir="$(dirname "$STATE_FILE")"
  log="$dir/init.log"
  if [[ "$(cat "$dir/init.key" 2>/dev/null)" != "$(init_key "$@")" ]]; then
    rm -f "$dir/init.key"
    tf init -input=false -no-color -backend-config="path=$STATE_FILE" "$@" >"$log" 2>&1 ||
      {
        cat "$log" >&2
        die "terraform init failed for $ENV_NAME"
      }
    init_key "$@" >"$dir/init.key" # what init left behind: its lock file and backend record
  fi
  [[ -z "$LOCAL_MODE" ]] || provider_override
}

# tflocal's one job here is localstack_providers_override.tf: the AWS provider pointed at
# LocalStack for every service, derived from the *.tf files, the provider version in the lock
# file and the endpoint variables. Running terraform through tflocal regenerated it on every
# command, which costs seconds of Python (it parses all the HCL) per init, apply and output. So
# tflocal generates it (DRY_RUN=1) only when those inputs change, it is kept beside the state, and
# plain terraform runs with a copy of it in the work dir (never in infra/).
provider_override() {
  local dir key name=localstack_providers_override.tf
  dir="$(dirname "$STATE_FILE")"
  key="$({
    cat "$INFRA"/*.tf "$TF_WORKDIR/.terraform.lock.hcl" 2>/dev/null || true
    env | grep -E '^(AWS_ENDPOINT_URL|AWS_DEFAULT_REGION|AWS_ACCESS_KEY_ID|S3_HOSTNAME|LOCALSTACK_HOSTNAME|EDGE_PORT|CUSTOMIZE_ACCESS_KEY|SKIP_ALIASES|ADDITIONAL_TF_OVERRIDE_LOCATIONS)=' | sort
    cat "$TFLOCAL"
  } | sha256sum | cut -d' ' -f1)"
  if [[ ! -f "$dir/$name" || "$(cat "$dir/$name.key" 2>/dev/null)" != "$key" ]]; then
    rm -f "$TF_WORKDIR/$name" "$dir/$name.key"
    (cd "$TF_WORKDIR" && DRY_RUN=1 "$TFLOCAL" plan >"$dir/override.log" 2>&1) && [[ -f "$TF_WORKDIR/$name" ]] ||
      {
        cat "$dir/override.log" >&2
        die "tflocal could not generate the LocalStack provider override"
      }
    mv "$TF_WORKDIR/$name" "$dir/$name"
    echo "$key" >"$dir/$name.key"
  fi
  cp "$dir/$name" "$TF_WORKDIR/$name"
}

write_outputs() { # write_outputs <file>
  local tmp
  tmp="$(mktemp "$1.XXXXXX")"
  tf output -json >"$tmp"
  mv "$tmp" "$1"
  echo "tf.sh: outputs written to ${1#"$ROOT/"}"
}

require_zip() {
  [[ -f "$ROOT/build/lambda/transformer.zip" ]] ||
    die "build/lambda/transformer.zip is missing: run 'make build' (scripts/build_lambda.py) first"
}

check_localstack() { # the project's one health check: clickstream_common.localstack
  PYTHONPATH="$ROOT/services/common" "$ROOT/.venv/bin/python" -m clickstream_common.localstack "$AWS_ENDPOINT_URL" ||
    die "LocalStack is not healthy at $AWS_ENDPOINT_URL: start it first (make up)"
}

# LocalStack keeps nothing across restarts (PERSISTENCE=0, scripts/stack.py), and every new
# instance (host process or container) rewrites its pid file: a local state older than that file
# describes resources that no longer exist. Refreshing them one by one costs ~20 s more than creating
# everything afresh, so such a state is dropped, as `make down` (reset-local) does.
drop_state_of_a_previous_localstack() {
  local pid_file="$ROOT/.local/localstack/localstack.pid"
  if [[ -f "$STATE_FILE" && -f "$pid_file" && "$pid_file" -nt "$STATE_FILE" ]]; then
    rm -f "$STATE_FILE" "$STATE_FILE.backup"
    echo "tf.sh: LocalStack restarted since the last apply and keeps no state: the local state is dropped"
  fi
}

# Catalog-free, credential-free init for fmt/validate/test: its own data dir, no backend.
init_offline() {
  export TF_DATA_DIR="$STATE_ROOT/offline/data"
  mkdir -p "$TF_DATA_DIR"
  unset AWS_ENDPOINT_URL
  tf init -input=false -no-color -backend=false >"$STATE_ROOT/offline/init.log" 2>&1 ||
    {
      cat "$STATE_ROOT/offline/init.log" >&2
      die "terraform init (offline) failed"
    }
}

# --- commands -----------------------------------------------------------------------------------

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  write_cli_config
  mkdir -p "$STATE_ROOT"
  case "$cmd" in
  init-local)
    use_local
    tf_init "$@"
    ;;
  plan-local)
    use_local
    check_localstack
    tf_init
    tf plan -input=false -var-file="$VAR_FILE" ${LOCAL_VARS[@]+"${LOCAL_VARS[@]}"} "$@"
    ;;
  apply-local)
    use_local
    require_zip
    check_localstack
    drop_state_of_a_previous_localstack
    tf_init
    tf apply -input=false -auto-approve -var-file="$VAR_FILE" ${LOCAL_VARS[@]+"${LOCAL_VARS[@]}"} "$@"
    write_outputs "$LOCAL_OUTPUTS"
    ;;
  destroy-local)
    use_local
    check_localstack
    tf_init
    tf destroy -input=false -auto-approve -var-file="$VAR_FILE" ${LOCAL_VARS[@]+"${LOCAL_VARS[@]}"} "$@"
    rm -f "$LOCAL_OUTPUTS"
    ;;
  outputs)
    use_local
    tf_init
    write_outputs "$LOCAL_OUTPUTS"
    cat "$LOCAL_OUTPUTS"
    ;;
  reset-local)
    # LocalStack runs without persistence: after it stops, the local state describes nothing.
    # Dropping it makes the next apply-local a plain create instead of a slow refresh of 43
    # missing resources (which also works, just ~40 s slower).
    use_local
    rm -f "$STATE_FILE" "$STATE_FILE.backup" "$LOCAL_OUTPUTS"
    echo "tf.sh: local state ${STATE_FILE#"$ROOT/"} removed"
    ;;
  init-aws)
    use_aws
    tf_init "$@"
    ;;
  plan-aws)
    use_aws
    tf_init
    tf plan -input=false -var-file="$VAR_FILE" ${LOCAL_VARS[@]+"${LOCAL_VARS[@]}"} "$@"
    ;;
  apply-aws)
    use_aws
    require_zip
    tf_init
    tf apply -var-file="$VAR_FILE" ${LOCAL_VARS[@]+"${LOCAL_VARS[@]}"} "$@"
    write_outputs "$ROOT/.local/outputs-$ENV_NAME.json"
    echo "tf.sh: point the tools at it with CLICKSTREAM_OUTPUTS=.local/outputs-$ENV_NAME.json"
    ;;
  destroy-aws)
    use_aws
    tf_init
    tf destroy -var-file="$VAR_FILE" ${LOCAL_VARS[@]+"${LOCAL_VARS[@]}"} "$@"
    ;;
  outputs-aws)
    use_aws
    tf_init
    write_outputs "$ROOT/.local/outputs-$ENV_NAME.json"
    cat "$ROOT/.local/outputs-$ENV_NAME.json"
    ;;
  fmt)
    tf fmt -recursive "$@"
    ;;
  fmt-check)
    tf fmt -check -recursive -diff "$@"
    ;;
  validate)
    init_offline
    tf validate -no-color "$@"
    ;;
  test)
    init_offline
    if [[ $# -gt 0 ]]; then
      tf test -no-color "$@"
    else
      # Each test file proves one environment's tfvars against the mocked AWS provider.
      tf test -no-color -var-file=envs/dev.tfvars -filter=tests/aws_dev.tftest.hcl
      tf test -no-color -var-file=envs/local.tfvars -filter=tests/local.tftest.hcl
    fi
    ;;
  *)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    [[ -z "$cmd" || "$cmd" == help || "$cmd" == -h ]] && exit 0
    die "unknown command: $cmd"
    ;;
  esac
}

main "$@"
