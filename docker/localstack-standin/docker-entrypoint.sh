#!/bin/bash
# Entrypoint of the stand-in LocalStack image (test scaffolding, see install.sh): it starts
# LocalStack the way the official image's entrypoint does, written here in this project's own
# words. LOCALSTACK_<NAME> settings are also exported as <NAME> (LOCALSTACK_HOST[NAME] are
# LocalStack settings of their own and stay as they are), the log directory exists, the boot-time
# init hooks (/etc/localstack/init/boot.d) run, then LocalStack's supervisor replaces this shell
# so that `docker stop`'s signal reaches it directly.
set -eo pipefail
shopt -s nullglob

for name in $(compgen -e); do
  case "$name" in
  LOCALSTACK_HOST* | LOCALSTACK_[0-9]*) ;;
  LOCALSTACK_?*) export "${name#LOCALSTACK_}=${!name}" ;;
  esac
done

mkdir -p /var/lib/localstack/logs

# shellcheck disable=SC1091
source /opt/code/localstack/.venv/bin/activate
if [[ -d /etc/localstack/init/boot.d ]]; then
  python -m localstack.runtime.init BOOT
fi
exec localstack-supervisor
