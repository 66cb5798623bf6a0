#!/usr/bin/env bash
# Takes down what scripts/e2e/up.sh brought up: stops the servers it started (by their recorded PIDs), removes
# its /etc/hosts block and the test CA from the trust stores. Idempotent.
#   --keep-docker  leave the Docker engine running (it is stopped only if up.sh started it)
#   --purge        also delete the state directory (registry contents, generated passwords, certificates)
# Installed packages, /etc/docker/daemon.json and the cache (base image root file system, Node 24) stay.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR
source "$HERE/lib.sh"

keep_docker=0
purge=0
for arg in "$@"; do
  case "$arg" in
    --keep-docker) keep_docker=1 ;;
    --purge) purge=1 ;;
    -h | --help)
      sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      e2e_log "unknown argument: $arg (see --help)"
      exit 2
      ;;
  esac
done

if [[ -d $E2E_STATE ]]; then
  [[ -e $E2E_STATE/.lock ]] || (umask 0 && : >>"$E2E_STATE/.lock")
  exec 9<"$E2E_STATE/.lock"
  flock -w 900 9 || {
    e2e_log "another up.sh or down.sh holds $E2E_STATE/.lock"
    exit 1
  }
fi

e2e_now
t0=$E2E_NOW

e2e_stop_server pypi "$(e2e_pypi_cmd)"
for port in 443 5001 5000; do
  e2e_stop_server "registry-$port" "$(e2e_registry_cmd "$port")"
done
e2e_log "registries and package index stopped"

if ((!keep_docker)) && [[ -f $E2E_STATE/pids/dockerd.pid ]]; then
  pid="$(<"$E2E_STATE/pids/dockerd.pid")"
  if e2e_pid_is "$pid" dockerd; then
    e2e_stop_pid "$pid" dockerd 30 || e2e_log "warning: dockerd (pid $pid) did not stop"
    e2e_log "docker engine stopped (pid $pid)"
  fi
  rm -f "$E2E_STATE/pids/dockerd.pid"
fi

if [[ -f /etc/hosts ]] && grep -qxF "$E2E_HOSTS_BEGIN" /etc/hosts; then
  e2e_remove_hosts_block
  e2e_log "/etc/hosts block removed"
fi

if [[ -f $E2E_TRUST_LIST ]]; then
  while read -r f; do
    [[ $f == /etc/docker/certs.d/*/ca.crt ]] || continue
    rm -f "$f"
    rmdir "${f%/*}" 2>/dev/null || true
  done <"$E2E_TRUST_LIST"
  rm -f "$E2E_TRUST_LIST"
  e2e_log "test CA removed from /etc/docker/certs.d"
fi
if [[ -e $E2E_SYSTEM_CA ]]; then
  rm -f "$E2E_SYSTEM_CA"
  update-ca-certificates >/dev/null 2>&1 || e2e_log "warning: update-ca-certificates failed"
  e2e_log "test CA removed from the system trust store"
fi

if ((purge)) && [[ -d $E2E_STATE ]]; then
  rm -rf --one-file-system "$E2E_STATE"
  e2e_log "state directory $E2E_STATE removed"
fi

e2e_now
dt=$(((E2E_NOW - t0) / 100000))
e2e_log "environment down ($((dt / 10)).$((dt % 10)) s)"
