# Shared by up.sh and down.sh. Sourced, not run.
# shellcheck shell=bash disable=SC2034

E2E_STATE="${IMAGESPEC_E2E_STATE:-/tmp/imagespec-e2e}"
[[ $E2E_STATE == /* ]] || E2E_STATE="$PWD/$E2E_STATE"
E2E_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/imagespec-action"

E2E_ECR_HOST=123456789012.dkr.ecr.us-east-1.amazonaws.com
E2E_GAR_HOST=us-east1-docker.pkg.dev

# Everything up.sh adds outside its own directories, so that down.sh can take exactly that away again.
E2E_HOSTS_BEGIN='# BEGIN imagespec-action e2e (added by scripts/e2e/up.sh, removed by scripts/e2e/down.sh)'
E2E_HOSTS_END='# END imagespec-action e2e'
E2E_SYSTEM_CA=/usr/local/share/ca-certificates/imagespec-action-e2e-ca.crt
E2E_TRUST_LIST="$E2E_STATE/trust-installed" # files up.sh created under /etc/docker/certs.d

# Servers up.sh starts: name -> the process's command line (also how a stray one is recognised).
e2e_registry_cmd() { echo "docker-registry serve $E2E_STATE/registry/$1.yml"; }
e2e_pypi_cmd() { echo "/usr/bin/python3 -m http.server 8081 --bind 127.0.0.1 --directory $E2E_STATE/pypi"; }

e2e_log() { printf '[e2e] %s\n' "$*" >&2; }

# Microseconds since the epoch, without forking.
e2e_now() { E2E_NOW="${EPOCHREALTIME//[!0-9]/}"; }

# The command line of PID joined with spaces, in E2E_CMDLINE; fails when there is no such process.
e2e_cmdline() {
  local -a argv
  [[ -r /proc/$1/cmdline ]] || return 1
  mapfile -d '' -t argv <"/proc/$1/cmdline" 2>/dev/null || return 1
  ((${#argv[@]})) || return 1
  E2E_CMDLINE="${argv[*]}"
}

# True when PID is alive and its command line ends with PATTERN (the program may be named by a full path).
e2e_pid_is() {
  local pid="$1" pattern="$2"
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  e2e_cmdline "$pid" || return 1
  [[ $E2E_CMDLINE == "$pattern" || $E2E_CMDLINE == */"$pattern" || $E2E_CMDLINE == *" $pattern" ]]
}

# PIDs of processes whose command line matches PATTERN as in e2e_pid_is.
e2e_pids_matching() {
  local p out=()
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    [[ $p == "$$" || $p == "$BASHPID" ]] && continue
    e2e_pid_is "$p" "$1" && out+=("$p")
  done
  E2E_PIDS=("${out[@]}")
}

# Stops PID (TERM, then KILL after TIMEOUT seconds) if it still runs PATTERN.
e2e_stop_pid() {
  local pid="$1" pattern="$2" timeout="${3:-10}" i
  e2e_pid_is "$pid" "$pattern" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < timeout * 10; i++)); do
    e2e_pid_is "$pid" "$pattern" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 30; i++)); do
    e2e_pid_is "$pid" "$pattern" || return 0
    sleep 0.1
  done
  return 1
}

# Stops the server recorded in $E2E_STATE/pids/NAME.pid, plus any process still running its exact command line
# (e.g. when a pid file was lost), and removes the pid file.
e2e_stop_server() {
  local name="$1" pattern="$2" timeout="${3:-10}" pidf="$E2E_STATE/pids/$1.pid" pid
  if [[ -f $pidf ]]; then
    pid="$(<"$pidf")"
    e2e_stop_pid "$pid" "$pattern" "$timeout" || e2e_log "warning: $name (pid $pid) did not stop"
  fi
  e2e_pids_matching "$pattern"
  for pid in "${E2E_PIDS[@]}"; do
    e2e_stop_pid "$pid" "$pattern" "$timeout" || e2e_log "warning: $name (pid $pid) did not stop"
  done
  rm -f "$pidf"
}

# Writes FILE's new content (from stdin) in place, keeping its inode: /etc/hosts is often a bind mount.
e2e_rewrite_in_place() {
  local file="$1" tmp
  tmp="$(mktemp)"
  cat >"$tmp"
  cat "$tmp" >"$file"
  rm -f "$tmp"
}

e2e_remove_hosts_block() {
  [[ -f /etc/hosts ]] && grep -qxF "$E2E_HOSTS_BEGIN" /etc/hosts || return 0
  awk -v b="$E2E_HOSTS_BEGIN" -v e="$E2E_HOSTS_END" '
    $0 == b { skip = 1; next }
    skip && $0 == e { skip = 0; next }
    !skip
  ' /etc/hosts | e2e_rewrite_in_place /etc/hosts
}
