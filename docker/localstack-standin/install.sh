#!/bin/bash
# Builds the stand-in for localstack/localstack:4.14.0 inside a container of the Debian 13 base
# (debootstrap), with this checkout mounted at its own path: scripts/docker_engine.py runs it and
# commits the result. Test scaffolding for machines without a container registry: the layout is
# the official image's (LocalStack's Dockerfile at v4.14.0): LocalStack's venv at
# /opt/code/localstack/.venv with pip, setuptools and wheel, installed from
# requirements/localstack-lock.txt by the installer host mode uses (scripts/venv_install.py, uv
# from its cache); the localstack user; /var/lib/localstack, /usr/lib/localstack and
# /tmp/localstack; the .pth files that put LocalStack's package-installer directories on the
# venv's path; the service catalog cache; bytecode; docker-entrypoint.sh on PATH.
#   install.sh CHECKOUT
set -euo pipefail
root="$1"
here="$root/docker/localstack-standin"
venv=/opt/code/localstack/.venv

mkdir -p /opt/code/localstack
python3.13 "$root/scripts/venv_install.py" --create "$venv"
python3.13 "$root/scripts/venv_install.py" "$venv" \
  -r "$root/requirements/localstack-lock.txt" -r "$here/requirements.txt"

useradd --create-home --shell /bin/bash localstack
mkdir -p /var/lib/localstack /usr/lib/localstack /tmp/localstack /.npm
chmod 777 /opt/code/localstack
chmod -R 777 /var/lib/localstack /tmp/localstack /.npm
touch /tmp/localstack/.marker /usr/lib/localstack/.community-version
chmod 755 /root

site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
echo /var/lib/localstack/lib/python-packages/lib/python3.13/site-packages \
  >"$site/localstack-var-python-packages-venv.pth"
echo /usr/lib/localstack/python-packages/lib/python3.13/site-packages \
  >"$site/localstack-static-python-packages-venv.pth"
"$venv/bin/python" -m localstack.aws.spec >/dev/null # LocalStack's service catalog cache
# bytecode, as pip leaves it in the official image: a container starts in seconds instead of
# compiling LocalStack afresh at every start (a file that does not compile compiles on import)
"$venv/bin/python" -m compileall -q -j0 "$site" >/dev/null 2>&1 || true

install -m 0755 "$here/docker-entrypoint.sh" /usr/local/bin/docker-entrypoint.sh
