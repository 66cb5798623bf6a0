#!/usr/bin/env bash
# Brings up the end-to-end test environment on a Debian bookworm machine: a Docker engine with buildx, three
# loopback registries (open, password-protected, and a TLS one answering to ECR- and Artifact Registry-looking
# host names), a Python base image built without Docker Hub, a loopback Python package index, and Node 24.
# Idempotent: each piece is checked first and only brought up (or repaired) when it does not work, so a run
# with everything up takes about a second. Writes the state file "$E2E_STATE/env" (see README.md).
# Needs root for the first run; needs only Debian's apt repositories and the npm registry.
set -Eeuo pipefail
umask 022

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR
source "$HERE/lib.sh"

BASE_IMAGE=127.0.0.1:5000/python:3.11-bookworm
PIP_INDEX=http://127.0.0.1:8081/simple
HOST_PACKAGES=(docker-registry apache2-utils debootstrap zstd openssl curl ca-certificates python3 python3-pip
  python3-wheel python3-setuptools python3-yaml)
# Bump when the base image or the package index recipe changes, so cached artefacts are rebuilt.
ROOTFS_RECIPE=1
PYPI_RECIPE=2
PATH_IN_IMAGE=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
MANIFEST_ACCEPT=(
  -H 'Accept: application/vnd.oci.image.index.v1+json'
  -H 'Accept: application/vnd.oci.image.manifest.v1+json'
  -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json'
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json'
)

STEP=start
STEP_LOG=
STEP_T0=0
POLICY_RC_ADDED=0
STARTED=() # servers (re)started by this run

# ---------------------------------------------------------------------------------------------------- plumbing

die() {
  e2e_log "FAILED in step '$STEP': $*"
  if [[ -n $STEP_LOG && -s $STEP_LOG ]]; then
    e2e_log "log: $STEP_LOG (last lines:)"
    tail -n 15 "$STEP_LOG" | sed 's/^/[e2e]   | /' >&2
  fi
  exit 1
}
on_err() {
  local rc="$1" line="$2" cmd="$3"
  cmd="$(tr -s ' \n' ' ' <<<"$cmd")"
  # A failing command substitution reports in its parent as well; say it once.
  ((BASH_SUBSHELL == 0)) || exit "$rc"
  trap - ERR
  die "command failed (exit $rc, up.sh line $line): $cmd"
}
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR
cleanup() {
  if ((POLICY_RC_ADDED)); then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT

step() {
  STEP="$1"
  STEP_LOG="$E2E_STATE/logs/$2.log"
  e2e_now
  STEP_T0=$E2E_NOW
}
step_done() {
  e2e_now
  local dt=$(((E2E_NOW - STEP_T0) / 100000))
  e2e_log "$1 ($((dt / 10)).$((dt % 10)) s)"
}
# Runs a command with its output appended to the step's log.
run() { "$@" >>"$STEP_LOG" 2>&1; }
# Retries a check for up to SECONDS seconds.
wait_for() {
  local secs="$1" i
  shift
  for ((i = 0; i < secs * 5; i++)); do
    "$@" && return 0
    sleep 0.2
  done
  "$@"
}
need_root() {
  ((EUID == 0)) || die "root is needed $1 (run this script as root once; later runs as any user only check)"
}
http_code() { curl -s --noproxy '*' --max-time 5 -o /dev/null -w '%{http_code}' "$@" || true; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts a server detached from this script (own session, no inherited descriptors, output to its log) and
# records its PID.
spawn() {
  local name="$1" pattern="$2" log="$E2E_STATE/logs/$1.log"
  shift 2
  printf '\n==== %s: %s\n' "$(date -u +%FT%TZ)" "$*" >>"$log"
  (cd / && exec setsid "$@" </dev/null >>"$log" 2>&1 9>&-) &
  local pid=$!
  sleep 0.05
  if ! e2e_pid_is "$pid" "$pattern"; then
    e2e_pids_matching "$pattern"
    [[ ${#E2E_PIDS[@]} -gt 0 ]] && pid="${E2E_PIDS[0]}"
  fi
  echo "$pid" >"$E2E_STATE/pids/$name.pid"
}

# Makes sure the server NAME (command PATTERN, started by the remaining arguments) runs and passes HEALTH.
# RESTART=1 restarts it even when healthy (its configuration changed).
ensure_server() {
  local name="$1" port="$2" health="$3" restart="$4" pattern="$5" pidf="$E2E_STATE/pids/$1.pid" pid=""
  shift 5
  [[ -f $pidf ]] && pid="$(<"$pidf")"
  if [[ $restart == 0 ]] && e2e_pid_is "$pid" "$pattern" && wait_for 5 "$health"; then
    return 0
  fi
  e2e_stop_server "$name" "$pattern"
  if port_open "$port"; then
    STEP_LOG=
    die "127.0.0.1:$port is taken by another process; stop it and run again: $(ss -Hltnp "sport = :$port" 2>/dev/null || true)"
  fi
  spawn "$name" "$pattern" "$@"
  STARTED+=("$name")
  pid="$(<"$pidf")"
  if ! wait_for 15 "$health"; then
    STEP_LOG="$E2E_STATE/logs/$name.log"
    e2e_pid_is "$pid" "$pattern" || die "$name exited right after starting"
    die "$name started (pid $pid) but does not answer on 127.0.0.1:$port"
  fi
}

# The Debian mirror the machine's own apt configuration uses (MIRROR), and its security mirror
# (SECURITY_MIRROR, may be empty). E2E_DEBIAN_MIRROR overrides the first.
MIRROR=
SECURITY_MIRROR=
detect_mirror() {
  [[ -n $MIRROR ]] && return 0
  local codename out
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
  local files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f $f && -r $f ]] && files+=("$f")
  done
  ((${#files[@]})) || die "no apt sources found under /etc/apt; set E2E_DEBIAN_MIRROR"
  # Prints "main URI" for the stanza or line serving the release, "security URI" for its security suite.
  out="$(awk -v rel="$codename" '
    function emit(uris, suites,   n, s, i, kind, u) {
      n = split(suites, s, /[ \t]+/)
      kind = ""
      for (i = 1; i <= n; i++) {
        if (s[i] == rel) kind = "main"
        else if (s[i] == rel "-security" || s[i] == rel "/updates") kind = "security"
      }
      if (kind == "") return
      split(uris, u, /[ \t]+/)
      if (u[1] ~ /^https?:\/\//) print kind, u[1]
    }
    function flush() { if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") emit(uris, suites); types = uris = suites = ""; enabled = "" }
    FNR == 1 { flush(); deb822 = (FILENAME ~ /\.sources$/) }
    deb822 && /^[ \t]*$/ { flush(); next }
    deb822 && /^[ \t]*#/ { next }
    deb822 {
      key = tolower($1); sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
      if (key == "types") types = val
      else if (key == "uris") uris = val
      else if (key == "suites") suites = val
      else if (key == "enabled") enabled = tolower(val)
      next
    }
    /^[ \t]*deb[ \t]/ {
      line = $0; sub(/^[ \t]*deb[ \t]+/, "", line); sub(/^\[[^]]*\][ \t]*/, "", line)
      split(line, f, /[ \t]+/)
      emit(f[1], f[2])
    }
    END { flush() }
  ' "${files[@]}" 2>/dev/null || true)"
  MIRROR="${E2E_DEBIAN_MIRROR:-$(awk '$1 == "main" { print $2; exit }' <<<"$out")}"
  SECURITY_MIRROR="$(awk '$1 == "security" { print $2; exit }' <<<"$out")"
  MIRROR="${MIRROR%/}"
  SECURITY_MIRROR="${SECURITY_MIRROR%/}"
  [[ -n $MIRROR ]] || die "could not find the Debian mirror in /etc/apt/sources.list{,.d}; set E2E_DEBIAN_MIRROR"
}

DOCKER_OK=0
BUILDX_OK=0
docker_usable() {
  ((DOCKER_OK)) && return 0
  timeout 20 docker info >/dev/null 2>&1 && DOCKER_OK=1
}
buildx_usable() {
  ((BUILDX_OK)) && return 0
  timeout 20 docker buildx version >/dev/null 2>&1 && BUILDX_OK=1
}
engine_binary_ok() {
  local v
  command -v dockerd >/dev/null || return 1
  v="$(dockerd --version 2>/dev/null | sed -n 's/^Docker version \([0-9]*\)\..*/\1/p')"
  [[ -n $v ]] && ((v >= 25))
}

# --------------------------------------------------------------------------------------------------- packages

APT_UPDATED=0
apt_update() {
  ((APT_UPDATED)) && return 0
  run apt-get update
  APT_UPDATED=1
}

# Downloads the newest docker.io (trixie) and/or docker-buildx (sid) .debs with a private apt lists directory,
# leaving the system's sources untouched. Prints their paths.
fetch_newer_debs() {
  local a="$E2E_CACHE/apt" key=/usr/share/keyrings/debian-archive-keyring.gpg
  mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/parts" "$a/debs"
  detect_mirror
  printf 'deb [signed-by=%s] %s %s main\n' "$key" "$MIRROR" trixie "$key" "$MIRROR" sid >"$a/sources.list"
  local o=(-o "Dir::State::Lists=$a/lists" -o "Dir::Etc::SourceList=$a/sources.list" -o "Dir::Etc::SourceParts=$a/parts"
    -o "Dir::Cache=$a/cache" -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$a/parts"
    -o Acquire::Languages=none)
  run apt-get "${o[@]}" update
  rm -f "$a/debs"/*.deb
  (cd "$a/debs" && run apt-get "${o[@]}" download "$@")
  ls "$a/debs"/*.deb
}

ensure_packages() {
  step "host packages" packages
  local installed missing=() p want_engine=0 want_buildx=0
  installed="$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${HOST_PACKAGES[@]}" 2>/dev/null || true)"
  for p in "${HOST_PACKAGES[@]}"; do
    grep -qx "$p installed" <<<"$installed" || missing+=("$p")
  done
  if ! docker_usable && ! engine_binary_ok; then want_engine=1; fi
  if ! buildx_usable; then want_buildx=1; fi
  if ((${#missing[@]} == 0 && want_engine == 0 && want_buildx == 0)); then
    step_done "host packages present"
    return 0
  fi
  if ((want_engine)); then need_root "to install the Docker engine"; fi
  local what="${missing[*]}"
  if ((want_buildx)); then what+=" docker-buildx"; fi
  need_root "to install packages:${what:+ }$what"
  export DEBIAN_FRONTEND=noninteractive
  apt_update
  local debs=() names=()
  detect_mirror
  ((want_engine)) && names+=(docker.io/trixie)
  ((want_buildx)) && names+=(docker-buildx/sid)
  if ((${#names[@]})); then
    mapfile -t debs < <(fetch_newer_debs "${names[@]}")
    ((${#debs[@]} == ${#names[@]})) || die "could not download ${names[*]} from the Debian mirror"
  fi
  # Keep package scripts from starting services (a stock docker-registry on :5000, a dockerd without our
  # configuration): this script starts what it needs itself.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    POLICY_RC_ADDED=1
  fi
  run apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold "${debs[@]}" "${missing[@]}"
  if ((POLICY_RC_ADDED)); then
    rm -f /usr/sbin/policy-rc.d
    POLICY_RC_ADDED=0
  fi
  hash -r
  step_done "host packages installed (${missing[*]} ${debs[*]##*/})"
}

# -------------------------------------------------------------------------------------------------- secrets

load_secrets() {
  local f="$E2E_STATE/secrets.env" changed=0
  if [[ -r $f ]]; then
    # shellcheck source=/dev/null
    source "$f"
  elif [[ -e $f && -r $E2E_STATE/env ]]; then
    # Not root: the same values, from the world-readable state file.
    AUTH_USER="$(sed -n 's/^E2E_AUTH_USER=//p' "$E2E_STATE/env")"
    AUTH_PASSWORD="$(sed -n 's/^E2E_AUTH_PASSWORD=//p' "$E2E_STATE/env")"
    ECR_PASSWORD="$(sed -n 's/^E2E_ECR_PASSWORD=//p' "$E2E_STATE/env")"
    GAR_TOKEN="$(sed -n 's/^E2E_GAR_TOKEN=//p' "$E2E_STATE/env")"
  fi
  : "${AUTH_USER:=e2e}"
  if [[ -z ${AUTH_PASSWORD:-} ]]; then AUTH_PASSWORD="$(openssl rand -hex 20)" changed=1; fi
  if [[ -z ${ECR_PASSWORD:-} ]]; then ECR_PASSWORD="$(openssl rand -hex 20)" changed=1; fi
  if [[ -z ${GAR_TOKEN:-} ]]; then GAR_TOKEN="ya29.e2e-$(openssl rand -hex 24)" changed=1; fi
  if ((changed)); then
    (
      umask 077
      printf 'AUTH_USER=%s\nAUTH_PASSWORD=%s\nECR_PASSWORD=%s\nGAR_TOKEN=%s\n' \
        "$AUTH_USER" "$AUTH_PASSWORD" "$ECR_PASSWORD" "$GAR_TOKEN" >"$f.tmp"
      mv "$f.tmp" "$f"
    )
  fi
}

# Makes FILE an htpasswd file holding exactly the USER PASSWORD pairs given; returns 0 if it had to change it.
ensure_htpasswd() {
  local file="$1" ok=1 user pass
  shift
  if [[ -f $file ]] && (($(grep -c . "$file") == $# / 2)); then
    local args=("$@") i
    for ((i = 0; i < ${#args[@]}; i += 2)); do
      htpasswd -vb "$file" "${args[i]}" "${args[i + 1]}" >/dev/null 2>&1 || ok=0
    done
  else
    ok=0
  fi
  ((ok)) && return 1
  : >"$file.tmp"
  while (($#)); do
    user="$1" pass="$2"
    shift 2
    htpasswd -Bbn "$user" "$pass" | grep . >>"$file.tmp"
  done
  mv "$file.tmp" "$file"
  return 0
}

# ------------------------------------------------------------------------------------------------------ TLS

ensure_tls() {
  step "TLS certificates and trust" tls
  local d="$E2E_STATE/tls" changed=0
  mkdir -p "$d"
  # The CA is trusted system-wide while the environment is up, so it may only vouch for the test names.
  if ! [[ -s $d/ca.crt && -s $d/ca.key ]] || ! openssl x509 -in "$d/ca.crt" -noout -checkend 86400 >/dev/null 2>&1 ||
    ! openssl x509 -in "$d/ca.crt" -noout -ext nameConstraints 2>/dev/null | grep -q "DNS:$E2E_GAR_HOST"; then
    run openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -keyout "$d/ca.key" -out "$d/ca.crt" -subj "/CN=imagespec-action e2e test CA" \
      -addext basicConstraints=critical,CA:TRUE,pathlen:0 -addext keyUsage=critical,keyCertSign,cRLSign \
      -addext "nameConstraints=critical,permitted;DNS:$E2E_ECR_HOST,permitted;DNS:$E2E_GAR_HOST,permitted;IP:127.0.0.1/255.255.255.255"
    rm -f "$d/server.crt"
  fi
  chmod 600 "$d/ca.key"
  if ! [[ -s $d/server.crt && -s $d/server.key ]] ||
    ! openssl verify -CAfile "$d/ca.crt" "$d/server.crt" >/dev/null 2>&1 ||
    ! openssl x509 -in "$d/server.crt" -noout -checkend 86400 >/dev/null 2>&1 ||
    ! openssl x509 -in "$d/server.crt" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:$E2E_GAR_HOST"; then
    printf '%s\n' "subjectAltName=DNS:$E2E_ECR_HOST,DNS:$E2E_GAR_HOST,IP:127.0.0.1" \
      basicConstraints=CA:FALSE keyUsage=critical,digitalSignature,keyEncipherment extendedKeyUsage=serverAuth \
      subjectKeyIdentifier=hash authorityKeyIdentifier=keyid,issuer >"$d/server.ext"
    run openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/server.key" \
      -out "$d/server.csr" -subj "/CN=$E2E_ECR_HOST"
    run openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 825 \
      -extfile "$d/server.ext" -out "$d/server.crt"
    changed=1
  fi
  chmod 600 "$d/server.key"
  TLS_CHANGED=$changed

  # Host names -> 127.0.0.1, in a marked block of /etc/hosts.
  local want
  want="$(printf '%s\n127.0.0.1 %s %s\n%s' "$E2E_HOSTS_BEGIN" "$E2E_ECR_HOST" "$E2E_GAR_HOST" "$E2E_HOSTS_END")"
  if [[ "$(awk -v b="$E2E_HOSTS_BEGIN" -v e="$E2E_HOSTS_END" '$0 == b { p = 1 } p { print } $0 == e { p = 0 }' /etc/hosts)" != "$want" ]]; then
    need_root "to add the registry host names to /etc/hosts"
    e2e_remove_hosts_block
    { cat /etc/hosts; printf '%s\n' "$want"; } | e2e_rewrite_in_place /etc/hosts
  fi

  # The engine's trust (certs.d) and the system store (buildx's own client, curl).
  local h f
  for h in "$E2E_ECR_HOST" "$E2E_GAR_HOST"; do
    f="/etc/docker/certs.d/$h/ca.crt"
    if ! cmp -s "$d/ca.crt" "$f"; then
      need_root "to install the test CA in /etc/docker/certs.d"
      mkdir -p "${f%/*}"
      cp "$d/ca.crt" "$f"
      grep -qxF "$f" "$E2E_TRUST_LIST" 2>/dev/null || echo "$f" >>"$E2E_TRUST_LIST"
    fi
  done
  if ! cmp -s "$d/ca.crt" "$E2E_SYSTEM_CA" ||
    ! openssl verify -CAfile /etc/ssl/certs/ca-certificates.crt "$d/server.crt" >/dev/null 2>&1; then
    need_root "to add the test CA to the system trust store"
    cp "$d/ca.crt" "$E2E_SYSTEM_CA"
    run update-ca-certificates
    openssl verify -CAfile /etc/ssl/certs/ca-certificates.crt "$d/server.crt" >/dev/null 2>&1 ||
      die "the test CA is not in /etc/ssl/certs/ca-certificates.crt after update-ca-certificates"
  fi
  step_done "TLS certificates, /etc/hosts and trust stores ready"
}

# ----------------------------------------------------------------------------------------------- Docker engine

ensure_daemon_json() {
  local f=/etc/docker/daemon.json
  if [[ -s $f ]] && grep -Eq '"containerd-snapshotter"[[:space:]]*:[[:space:]]*true' "$f"; then return 0; fi
  mkdir -p /etc/docker
  /usr/bin/python3 - "$f" <<'PY'
import json, os, sys
path = sys.argv[1]
conf = {}
if os.path.exists(path) and os.path.getsize(path):
    with open(path) as fh:
        conf = json.load(fh)
conf.setdefault("features", {})["containerd-snapshotter"] = True
with open(path + ".tmp", "w") as fh:
    json.dump(conf, fh, indent=2)
    fh.write("\n")
os.replace(path + ".tmp", path)
PY
}

ensure_docker() {
  step "docker engine" dockerd
  if docker_usable; then
    ENGINE_NOTE="reused"
    [[ -f $E2E_STATE/pids/dockerd.pid ]] && e2e_pid_is "$(<"$E2E_STATE/pids/dockerd.pid")" dockerd &&
      ENGINE_NOTE="running"
  else
    need_root "to install and start the Docker engine (no usable Docker engine found)"
    engine_binary_ok || die "dockerd 25 or newer is not installed (the package step should have installed it)"
    local pid
    e2e_pids_matching dockerd
    if ((${#E2E_PIDS[@]})); then
      # Never start a second daemon beside a running one: wait for it instead.
      wait_for 30 docker_usable ||
        die "a dockerd (pid ${E2E_PIDS[*]}) runs but does not answer 'docker info'; stop it and run again"
      ENGINE_NOTE="reused"
    else
      ensure_daemon_json
      spawn dockerd dockerd "$(command -v dockerd)"
      pid="$(<"$E2E_STATE/pids/dockerd.pid")"
      STEP_LOG="$E2E_STATE/logs/dockerd.log"
      if ! wait_for 60 docker_usable; then
        e2e_pid_is "$pid" dockerd && die "dockerd (pid $pid) did not answer 'docker info' within 60 s"
        die "dockerd exited while starting"
      fi
      ENGINE_NOTE="started"
    fi
  fi
  DOCKER_VERSION="$(docker version -f '{{.Server.Version}}' 2>/dev/null)"
  DOCKER_CLIENT_VERSION="$(docker version -f '{{.Client.Version}}' 2>/dev/null || true)"
  if docker info -f '{{json .DriverStatus}}' 2>/dev/null | grep -q 'io.containerd.snapshotter'; then
    CONTAINERD_STORE=true
  else
    CONTAINERD_STORE=false
    e2e_log "note: this engine does not use the containerd image store (registry cache export and attestations will not work)"
  fi
  step_done "docker engine $DOCKER_VERSION $ENGINE_NOTE"
}

ensure_buildx() {
  step "buildx" packages
  buildx_usable || die "'docker buildx version' fails (see the package log)"
  BUILDX_VERSION="$(docker buildx version | awk '{ print $2; exit }')"
  BUILDX_VERSION="${BUILDX_VERSION#v}"
  step_done "buildx $BUILDX_VERSION ready"
}

# ------------------------------------------------------------------------------------------------- registries

write_if_changed() { # FILE < content; returns 0 if it changed. MODE may set the new file's mode.
  local file="$1" content
  content="$(cat)"
  [[ -f $file && "$(<"$file")" == "$content" ]] && return 1
  printf '%s\n' "$content" >"$file.tmp"
  chmod "${MODE:-644}" "$file.tmp"
  mv "$file.tmp" "$file"
  return 0
}

registry_config() { # PORT [auth] [tls]
  local port="$1" auth="${2:-}" tls="${3:-}"
  printf 'version: 0.1\nlog:\n  level: info\n  fields:\n    service: registry-%s\n' "$port"
  printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$E2E_STATE/registry/data-$port"
  printf 'http:\n  addr: 127.0.0.1:%s\n  headers:\n    X-Content-Type-Options: [nosniff]\n' "$port"
  if [[ -n $tls ]]; then
    printf '  tls:\n    certificate: %s\n    key: %s\n' "$E2E_STATE/tls/server.crt" "$E2E_STATE/tls/server.key"
  fi
  if [[ -n $auth ]]; then
    printf 'auth:\n  htpasswd:\n    realm: imagespec-e2e-%s\n    path: %s\n' "$port" "$auth"
  fi
}

health_5000() { [[ $(http_code http://127.0.0.1:5000/v2/) == 200 ]]; }
health_5001() {
  [[ $(http_code -u "$AUTH_USER:$AUTH_PASSWORD" http://127.0.0.1:5001/v2/) == 200 &&
    $(http_code http://127.0.0.1:5001/v2/) == 401 ]]
}
health_443() {
  [[ $(http_code --cacert "$E2E_STATE/tls/ca.crt" --resolve "$E2E_ECR_HOST:443:127.0.0.1" \
    -u "AWS:$ECR_PASSWORD" "https://$E2E_ECR_HOST/v2/") == 200 &&
    $(http_code --cacert "$E2E_STATE/tls/ca.crt" --resolve "$E2E_GAR_HOST:443:127.0.0.1" \
      -u "oauth2accesstoken:$GAR_TOKEN" "https://$E2E_GAR_HOST/v2/") == 200 ]]
}

ensure_registries() {
  step "registries" registries
  local r="$E2E_STATE/registry" restart bin
  mkdir -p "$r/data-5000" "$r/data-5001" "$r/data-443"
  bin="$(command -v docker-registry)"
  REGISTRY_VERSION="$(docker-registry --version 2>/dev/null | awk '{ print $NF }')"
  REGISTRY_VERSION="${REGISTRY_VERSION#v}"

  restart=0
  registry_config 5000 | write_if_changed "$r/5000.yml" && restart=1
  ensure_server registry-5000 5000 health_5000 $restart "$(e2e_registry_cmd 5000)" "$bin" serve "$r/5000.yml"

  restart=0
  ensure_htpasswd "$r/htpasswd-5001" "$AUTH_USER" "$AUTH_PASSWORD" && restart=1
  registry_config 5001 "$r/htpasswd-5001" | write_if_changed "$r/5001.yml" && restart=1
  ensure_server registry-5001 5001 health_5001 $restart "$(e2e_registry_cmd 5001)" "$bin" serve "$r/5001.yml"

  restart=$TLS_CHANGED
  ensure_htpasswd "$r/htpasswd-443" AWS "$ECR_PASSWORD" oauth2accesstoken "$GAR_TOKEN" && restart=1
  registry_config 443 "$r/htpasswd-443" tls | write_if_changed "$r/443.yml" && restart=1
  ensure_server registry-443 443 health_443 $restart "$(e2e_registry_cmd 443)" "$bin" serve "$r/443.yml"

  # The same request through /etc/hosts and the system trust store, as buildx and the action make it.
  [[ $(http_code -u "AWS:$ECR_PASSWORD" "https://$E2E_ECR_HOST/v2/") == 200 ]] ||
    die "https://$E2E_ECR_HOST/v2/ does not answer through /etc/hosts and the system trust store"
  local note="ready"
  ((${#STARTED[@]})) && note="started: ${STARTED[*]}"
  step_done "registries $note (127.0.0.1:5000 open, :5001 login, :443 TLS as $E2E_ECR_HOST and $E2E_GAR_HOST)"
}

# ----------------------------------------------------------------------------------------------- base image

# Unmounts anything left mounted below DIR (an interrupted debootstrap) and removes it.
remove_tree() {
  local dir="$1" m
  [[ -e $dir ]] || return 0
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$dir/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

write_image_sources() { # ROOTFS
  local f="$1/etc/apt/sources.list.d/debian.sources"
  rm -f "$1/etc/apt/sources.list"
  mkdir -p "${f%/*}"
  {
    printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' "$MIRROR"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [[ -n $SECURITY_MIRROR ]]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' "$SECURITY_MIRROR"
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
  } >"$f"
}

build_rootfs_tarball() { # TARBALL
  local tarball="$1" root="$E2E_STATE/work/rootfs"
  need_root "to build the base image's root file system with debootstrap"
  remove_tree "$root"
  mkdir -p "$root" "${tarball%/*}"
  e2e_log "building the base image's root file system with debootstrap (about a minute; log: $STEP_LOG)"
  run debootstrap --variant=minbase --components=main \
    --include=python3,python3-pip,python3-venv,ca-certificates bookworm "$root" "$MIRROR"
  write_image_sources "$root"
  # Slim it: package caches and lists, documentation, manual pages, translations, logs.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/usr/share/lintian \
    "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/var/log/*.log "$root"/var/log/apt/* \
    "$root"/usr/lib/python3.11/EXTERNALLY-MANAGED
  find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  mkdir -p "$root/var/lib/apt/lists/partial"
  ln -sfn /usr/bin/python3 "$root/usr/local/bin/python"
  ln -sfn /usr/bin/python3 "$root/usr/local/bin/python3"
  ln -sfn /usr/bin/pip3 "$root/usr/local/bin/pip"
  ln -sfn /usr/bin/pip3 "$root/usr/local/bin/pip3"
  : >"$root/etc/resolv.conf"
  echo localhost >"$root/etc/hostname"
  rm -f "$tarball.tmp"
  tar --numeric-owner --xattrs -C "$root" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . |
    zstd -q -T0 -10 -o "$tarball.tmp"
  mv "$tarball.tmp" "$tarball"
  remove_tree "$root"
}

ensure_base_image() {
  step "base image" base-image
  local stamp="$E2E_STATE/base-image.stamp" digest recipe tarball meta
  digest="$(curl -sI --noproxy '*' --max-time 5 "${MANIFEST_ACCEPT[@]}" \
    "http://127.0.0.1:5000/v2/python/manifests/3.11-bookworm" | tr -d '\r' |
    awk 'tolower($1) == "docker-content-digest:" { print $2 }' || true)"
  if [[ -n $digest && -f $stamp && "$(<"$stamp")" == *" $digest" ]]; then
    BASE_DIGEST="$digest"
    step_done "base image $BASE_IMAGE present"
    return 0
  fi
  detect_mirror
  recipe="rootfs=$ROOTFS_RECIPE mirror=$MIRROR security=$SECURITY_MIRROR"
  tarball="$E2E_CACHE/rootfs/python-3.11-bookworm.tar.zst"
  meta="$tarball.recipe"
  if ! [[ -s $tarball && -f $meta && "$(<"$meta")" == "$recipe" ]]; then
    build_rootfs_tarball "$tarball"
    echo "$recipe" >"$meta"
  fi
  zstd -dcq "$tarball" | docker import -c "ENV LANG=C.UTF-8" -c "ENV PATH=$PATH_IN_IMAGE" \
    -c 'CMD ["python3"]' -c "LABEL org.opencontainers.image.description=Debian-bookworm-python3-for-e2e-tests" \
    - "$BASE_IMAGE" >>"$STEP_LOG" 2>&1
  run docker push "$BASE_IMAGE"
  digest="$(curl -sI --noproxy '*' --max-time 5 "${MANIFEST_ACCEPT[@]}" \
    "http://127.0.0.1:5000/v2/python/manifests/3.11-bookworm" | tr -d '\r' |
    awk 'tolower($1) == "docker-content-digest:" { print $2 }' || true)"
  [[ -n $digest ]] || die "$BASE_IMAGE is not in the registry after docker push"
  echo "$recipe $digest" >"$stamp"
  BASE_DIGEST="$digest"
  step_done "base image $BASE_IMAGE pushed ($digest)"
}

# ------------------------------------------------------------------------------------------- package index

# name version module requirement(s, comma separated, may be empty)
PYPI_PACKAGES=(
  "ispec-demo-a 1.0 ispec_demo_a -"
  "ispec-demo-a 2.0 ispec_demo_a -"
  "ispec-demo-b 1.0 ispec_demo_b -"
  "ispec-demo-c 0.1 ispec_demo_c ispec-demo-b>=1.0"
  "flytekit 0.0.0+e2e flytekit -"
)

# The benchmark's realistic packages (bench/README.md): name version module installed-MB. Written directly as
# wheels by bench_wheels (pip wheel would copy ~100 MB twice), with real files inside: Python modules, binary
# "extension" blobs that compress about as well as real shared objects do, and data files.
BENCH_PACKAGES=(
  "ispec-bench-arrays 1.0 ispec_bench_arrays 34"
  "ispec-bench-frames 1.0 ispec_bench_frames 24"
  "ispec-bench-learn 1.0 ispec_bench_learn 18"
  "ispec-bench-plots 1.0 ispec_bench_plots 14"
  "ispec-bench-http 1.0 ispec_bench_http 5"
  "ispec-bench-util 1.0 ispec_bench_util 4"
  "ispec-bench-util 1.1 ispec_bench_util 4"
)

bench_wheels() { # OUTDIR
  /usr/bin/python3 - "$1" "${BENCH_PACKAGES[@]}" >>"$STEP_LOG" 2>&1 <<'EOF'
import base64, hashlib, io, random, sys, zipfile

out, specs = sys.argv[1], sys.argv[2:]
WORDS = ("array frame index value result buffer column shape dtype axis reduce apply merge group filter "
         "transform fit predict score render figure request session header payload").split()

def py_module(rng, i, target):
    # Plausible source text: functions and docstrings, so it compresses as real code does (about 4:1).
    lines = [f'"""Module {i}: generated stand-in source for a benchmark package."""', "", "import math", ""]
    size = 0
    while size < target:
        a, b, c = rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)
        fn = f"def {a}_{b}_{rng.randrange(10**6)}({c}, {b}=None, *, {a}_scale={rng.random():.4f}):"
        body = [fn, f'    """Return the {a} of the {b} along the {c} (step {rng.randrange(1000)})."""',
                f"    if {b} is None:", f"        {b} = math.sqrt(abs({c}) + {rng.randrange(100)})",
                f"    return {c} * {a}_scale + {b}", ""]
        lines += body
        size += sum(len(l) + 1 for l in body)
    return ("\n".join(lines) + "\n").encode()

def blob(rng, size):
    # Half random bytes, half repeated patterns: compresses about 2:1, like stripped shared objects.
    parts, n = [], 0
    while n < size:
        chunk = rng.randbytes(2048) + bytes([rng.randrange(256)]) * 1024 + rng.randbytes(512) * 2
        parts.append(chunk)
        n += len(chunk)
    return b"".join(parts)[:size]

def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"

for spec in specs:
    name, version, module, mb = spec.split()
    rng = random.Random(f"{name}-{version}")
    total = int(mb) * 1024 * 1024
    files = {f"{module}/__init__.py": f'"""{name} {version}: a benchmark stand-in package."""\n\n__version__ = "{version}"\n'.encode()}
    # About 30 % source (modules of 8 to 40 kB), 60 % binaries (1 to 8 MB), 10 % data files.
    size, i = 0, 0
    while size < total * 0.3:
        data = py_module(rng, i, rng.randrange(8000, 40000))
        files[f"{module}/{rng.choice(WORDS)}/m{i:04d}.py"] = data
        size, i = size + len(data), i + 1
    j = 0
    while size < total * 0.9:
        data = blob(rng, min(rng.randrange(1, 9) * 1024 * 1024, int(total * 0.9 - size) + 4096))
        files[f"{module}/_lib/_ext{j}.cpython-311-x86_64-linux-gnu.so"] = data
        size, j = size + len(data), j + 1
    k = 0
    while size < total:
        data = "\n".join(f"{x},{rng.random():.6f},{rng.choice(WORDS)}" for x in range(2000)).encode()
        files[f"{module}/data/table{k:03d}.csv"] = data
        size, k = size + len(data), k + 1
    dist = f"{name.replace('-', '_')}-{version}"
    files[f"{dist}.dist-info/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        "Summary: Benchmark stand-in package of realistic size\nRequires-Python: >=3.8\n").encode()
    files[f"{dist}.dist-info/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: imagespec-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    records = [record_line(p, d) for p, d in files.items()] + [f"{dist}.dist-info/RECORD,,"]
    files[f"{dist}.dist-info/RECORD"] = ("\n".join(records) + "\n").encode()
    with zipfile.ZipFile(f"{out}/{dist}-py3-none-any.whl", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data, compresslevel=1)
EOF
}

wheel_build() { # WORKDIR SRC...
  local work="$1" v
  shift
  (
    while read -r v; do unset "$v"; done < <(compgen -e | grep '^PIP_' || true)
    export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
    cd "$work"
    /usr/bin/python3 -m pip wheel --no-deps --no-build-isolation --no-index -w "$work/wheels" "$@"
  ) >>"$STEP_LOG" 2>&1
}

build_index() {
  local idx="$E2E_STATE/pypi" work="$E2E_STATE/work/pypi" name version module req srcs=() line deps f src
  rm -rf "$work" "$idx.new"
  mkdir -p "$work/src" "$work/wheels" "$idx.new/simple" "$idx.new/files"
  for line in "${PYPI_PACKAGES[@]}"; do
    read -r name version module req <<<"$line"
    src="$work/src/$name-$version"
    mkdir -p "$src/$module"
    deps=""
    [[ $req != - ]] && deps="\"${req//,/\", \"}\""
    cat >"$src/pyproject.toml" <<EOF
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "$name"
version = "$version"
description = "Tiny offline test package for imagespec-action's end-to-end tests"
requires-python = ">=3.8"
dependencies = [$deps]

[tool.setuptools]
packages = ["$module"]
EOF
    printf '"""%s %s: a stand-in package for end-to-end tests."""\n\n__version__ = "%s"\n' \
      "$name" "$version" "$version" >"$src/$module/__init__.py"
    srcs+=("$src")
  done
  # One pip run per round, each with at most one version of a project (pip refuses two in one run); the host's
  # pip configuration is ignored.
  local round rest seen
  while ((${#srcs[@]})); do
    round=() rest=() seen=" "
    for src in "${srcs[@]}"; do
      name="${src##*/}"
      name="${name%-*}"
      if [[ $seen == *" $name "* ]]; then rest+=("$src"); else round+=("$src") seen+="$name "; fi
    done
    wheel_build "$work" "${round[@]}"
    srcs=("${rest[@]}")
  done
  bench_wheels "$work/wheels"
  cp "$work"/wheels/*.whl "$idx.new/files/"
  # PEP 503 simple index.
  local projects=()
  {
    printf '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0"><title>Simple index</title></head><body>\n'
    for line in "${PYPI_PACKAGES[@]}" "${BENCH_PACKAGES[@]}"; do
      read -r name _ <<<"$line"
      [[ " ${projects[*]} " == *" $name "* ]] && continue
      projects+=("$name")
      printf '<a href="%s/">%s</a>\n' "$name" "$name"
    done
    printf '</body></html>\n'
  } >"$idx.new/simple/index.html"
  for name in "${projects[@]}"; do
    mkdir -p "$idx.new/simple/$name"
    {
      printf '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0"><title>Links for %s</title></head><body>\n' "$name"
      for f in "$idx.new/files/${name//-/_}"-*.whl; do
        [[ -e $f ]] || die "no wheel was built for $name"
        printf '<a href="../../files/%s#sha256=%s">%s</a>\n' "${f##*/}" "$(sha256sum "$f" | awk '{ print $1 }')" "${f##*/}"
      done
      printf '</body></html>\n'
    } >"$idx.new/simple/$name/index.html"
  done
  echo "$PYPI_RECIPE" >"$idx.new/.recipe"
  rm -rf "$idx"
  mv "$idx.new" "$idx"
  rm -rf "$work"
}

health_pypi() {
  curl -s --noproxy '*' --max-time 5 "$PIP_INDEX/flytekit/" 2>/dev/null | grep -q 'flytekit-0.0.0+e2e-py3-none-any.whl'
}

ensure_pypi() {
  step "package index" pypi-build
  local idx="$E2E_STATE/pypi" rebuilt=0
  if ! [[ -f $idx/.recipe && "$(<"$idx/.recipe")" == "$PYPI_RECIPE" ]]; then
    build_index
    rebuilt=1
  fi
  ensure_server pypi 8081 health_pypi 0 "$(e2e_pypi_cmd)" \
    /usr/bin/python3 -m http.server 8081 --bind 127.0.0.1 --directory "$idx"
  if ((rebuilt)); then
    step_done "package index built and served at $PIP_INDEX"
  elif [[ " ${STARTED[*]} " == *" pypi "* ]]; then
    step_done "package index started at $PIP_INDEX"
  else
    step_done "package index ready at $PIP_INDEX"
  fi
}

# ------------------------------------------------------------------------------------------------------ Node 24

ensure_node24() {
  step "node 24" node24
  local arch dir bin v
  if command -v node >/dev/null && [[ "$(node -v 2>/dev/null)" == v24.* ]]; then
    NODE24="$(command -v node)"
  else
    case "$(uname -m)" in
      x86_64) arch=x64 ;;
      aarch64) arch=arm64 ;;
      *) die "no Node 24 binary package for $(uname -m)" ;;
    esac
    dir="$E2E_CACHE/node24"
    bin="$dir/node_modules/node-linux-$arch/bin/node"
    if ! [[ -x $bin && "$("$bin" -v 2>/dev/null)" == v24.* ]]; then
      command -v npm >/dev/null || die "npm is needed to fetch Node 24 (node-linux-$arch@24)"
      mkdir -p "$dir"
      run npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "node-linux-$arch@24"
      [[ "$("$bin" -v 2>/dev/null)" == v24.* ]] || die "$bin is not a working Node 24 after npm install"
    fi
    NODE24="$bin"
  fi
  v="$("$NODE24" -v)"
  step_done "node $v ready ($NODE24)"
}

# ------------------------------------------------------------------------------------------------------- main

write_env() {
  local f="$E2E_STATE/env"
  {
    echo "E2E_STATE_DIR=$E2E_STATE"
    echo "E2E_REGISTRY=127.0.0.1:5000"
    echo "E2E_AUTH_REGISTRY=127.0.0.1:5001"
    echo "E2E_AUTH_USER=$AUTH_USER"
    echo "E2E_AUTH_PASSWORD=$AUTH_PASSWORD"
    echo "E2E_TLS_REGISTRY=127.0.0.1:443"
    echo "E2E_TLS_CA=$E2E_STATE/tls/ca.crt"
    echo "E2E_ECR_HOST=$E2E_ECR_HOST"
    echo "E2E_ECR_USER=AWS"
    echo "E2E_ECR_PASSWORD=$ECR_PASSWORD"
    echo "E2E_GAR_HOST=$E2E_GAR_HOST"
    echo "E2E_GAR_USER=oauth2accesstoken"
    echo "E2E_GAR_TOKEN=$GAR_TOKEN"
    echo "E2E_BASE_IMAGE=$BASE_IMAGE"
    echo "E2E_BASE_IMAGE_DIGEST=$BASE_DIGEST"
    echo "E2E_PIP_INDEX=$PIP_INDEX"
    echo "E2E_NODE24=$NODE24"
    echo "E2E_DOCKER_VERSION=$DOCKER_VERSION"
    echo "E2E_DOCKER_CLIENT_VERSION=$DOCKER_CLIENT_VERSION"
    echo "E2E_CONTAINERD_STORE=$CONTAINERD_STORE"
    echo "E2E_BUILDX_VERSION=$BUILDX_VERSION"
    echo "E2E_REGISTRY_VERSION=$REGISTRY_VERSION"
  } | write_if_changed "$f" || true
  if [[ -O $f ]]; then chmod 644 "$f"; fi
}

main() {
  mkdir -p "$E2E_STATE/logs" "$E2E_STATE/pids" "$E2E_STATE/registry" "$E2E_STATE/work"
  e2e_now
  local t0=$E2E_NOW
  [[ -e $E2E_STATE/.lock ]] || (umask 0 && : >>"$E2E_STATE/.lock")
  exec 9<"$E2E_STATE/.lock"
  flock -w 900 9 || die "another up.sh or down.sh holds $E2E_STATE/.lock"

  if ((EUID != 0)) && ! docker_usable; then
    die "root is needed to install the Docker engine: no usable Docker engine was found (run: sudo bash $HERE/up.sh)"
  fi
  ensure_packages
  step "secrets" registries
  load_secrets
  ensure_tls
  ensure_docker
  ensure_buildx
  ensure_registries
  ensure_base_image
  ensure_pypi
  ensure_node24
  write_env
  e2e_now
  local dt=$(((E2E_NOW - t0) / 100000))
  e2e_log "environment up in $((dt / 10)).$((dt % 10)) s; state: $E2E_STATE/env"
}

main "$@"
