#!/usr/bin/env bash
# Installs the real servers the store, shared-state and topology tests start (PostgreSQL, Redis, nginx).
# The tests start their own throwaway instances on free loopback ports; nothing here runs a service.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "installing ${need[*]} (apt)" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts the packaged services on install; the tests use their own instances.
$SUDO service redis-server stop >/dev/null 2>&1 || true
$SUDO service nginx stop >/dev/null 2>&1 || true
