#!/usr/bin/env bash
# Makes this machine able to run Berth (`run`), its benchmarks (`bench`) or its test suite (`test`).
#
#   bash scripts/setup.sh run    # node modules, nats-server (unless BERTH_NATS_URL), Docker engine
#   bash scripts/setup.sh bench  # the same, plus nats-server and the local image the benchmarks
#                                # run on Docker (berth-test/busybox:latest)
#   bash scripts/setup.sh test   # the same, plus the AWS CLI v2, docker-registry, chromium and a
#                                # compose CLI
#
# Installs what is missing from Debian's packages when running as root; otherwise stops with one
# line that says what to install. Idempotent, and silent when nothing needed doing.
set -euo pipefail

mode="${1:-run}"
case "$mode" in
  run | bench | test) ;;
  *)
    echo "usage: bash scripts/setup.sh run|bench|test" >&2
    exit 2
    ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly TEST_IMAGE="berth-test/busybox:latest"
readonly DOCKERD_LOG="/var/log/berth-dockerd.log"
# dockerd usually answers within a few seconds; 30 s covers a cold start on a loaded machine.
readonly DOCKERD_WAIT_S=30
readonly SETUP_LOG="${TMPDIR:-/tmp}/berth-setup.log"

is_root() { [ "$(id -u)" = 0 ]; }

say() { echo "berth: $*"; }

fail() {
  echo "berth: $*" >&2
  exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# A command found on PATH or in the sbin directories a non-root PATH may lack.
have_sbin() { have "$1" || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

package_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

cleanup_files=()
cleanup() { [ "${#cleanup_files[@]}" -eq 0 ] || rm -rf "${cleanup_files[@]}"; }
trap cleanup EXIT

# Each run's log starts empty, so what a failure shows is from this run.
: >"$SETUP_LOG" 2>/dev/null || true

# Runs a command with its output in $SETUP_LOG; on failure shows the tail of that log.
quietly() {
  "$@" >>"$SETUP_LOG" 2>&1 || fail_with_log "'$*' failed"
}

# npm ends its errors with usage text, so the first error lines say more than the last lines.
fail_with_log() {
  echo "berth: $1 (full log: $SETUP_LOG):" >&2
  grep -m 8 -E '^(npm error [^ ]|E: |W: |Error|error)' "$SETUP_LOG" >&2 || tail -n 20 "$SETUP_LOG" >&2
  exit 1
}

# --- Node.js and the project's modules ------------------------------------------------------

have node && have npm || fail "install Node.js >= 20.19 with npm (https://nodejs.org)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
  fail "install Node.js >= 20.19 (found $(node --version))"

# --- Debian packages ------------------------------------------------------------------------

missing=()
need() { missing+=("$1"); }

# The tests and the benchmarks start nats-servers of their own.
if [ "$mode" != run ] || [ -z "${BERTH_NATS_URL:-}" ]; then
  have_sbin nats-server || need nats-server
fi
{ have docker && have_sbin dockerd; } || need docker.io
# The pause image that holds an awsvpc task's network namespace, and the test image, are built
# from a static busybox: the dynamic `busybox` package would not run inside them.
package_installed busybox-static || need busybox-static
if [ "$mode" = test ]; then
  [ -x /usr/bin/aws ] || need awscli
  have_sbin docker-registry || need docker-registry
  # Installed without recommends, so the fonts that pages render with are asked for by name.
  [ -x /usr/bin/chromium ] || { need chromium && need fonts-liberation; }
  # A compose CLI validates docker-compose.yml. Debian 12 ships Compose v1 (docker-compose); the
  # v2 plugin is not in its archive, so v1 is installed only when neither is present.
  if ! { have docker && timeout 10 docker compose version >/dev/null 2>&1; } && ! have docker-compose; then
    need docker-compose
  fi
fi

# jemalloc: the berth command runs on it when installed (services/cli/allocator.ts). Optional for
# running (installed when root, else Berth runs on the system's malloc); the tests check the launcher
# picks it up, so they need it.
if ! package_installed libjemalloc2; then
  if [ "$mode" = test ] || is_root; then need libjemalloc2; fi
fi

apt_install() {
  say "installing $* (apt)"
  export DEBIAN_FRONTEND=noninteractive
  # Without systemd, a package's start script (docker.io's) can fail the install; this script
  # starts dockerd itself. A policy-rc.d that denies starts is the standard way to say so.
  if [ ! -d /run/systemd/system ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    cleanup_files+=(/usr/sbin/policy-rc.d)
  fi
  quietly apt-get update -qq
  quietly apt-get install -y -qq --no-install-recommends "$@"
}

if [ "${#missing[@]}" -gt 0 ]; then
  is_root || fail "install ${missing[*]} (apt-get install ${missing[*]})"
  apt_install "${missing[@]}"
fi

# --- node_modules ---------------------------------------------------------------------------

if [ -f package-lock.json ]; then
  if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] ||
    [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing node modules (npm ci)"
    if ! npm ci --no-audit --no-fund --loglevel=error >>"$SETUP_LOG" 2>&1; then
      # npm ci can reject a lock file that npm install accepts and leaves unchanged: a lock
      # written where platform-specific optional packages (biome's per-OS binaries) are not
      # recorded. npm install still installs the locked versions.
      grep -q "can only install packages when your package.json and package-lock.json" "$SETUP_LOG" ||
        fail_with_log "'npm ci' failed"
      say "npm ci rejected package-lock.json; installing the locked versions with npm install"
      quietly npm install --no-audit --no-fund --loglevel=error
    fi
  fi
elif [ ! -d node_modules ]; then
  say "installing node modules (npm install)"
  quietly npm install --no-audit --no-fund --loglevel=error
fi

# --- Docker engine --------------------------------------------------------------------------

docker_answers() { timeout 10 docker info >/dev/null 2>&1; }

if ! docker_answers; then
  is_root || fail "start the Docker engine (dockerd) or give this user access to /var/run/docker.sock"
  # A dockerd killed without cleanup leaves its pid file behind and the next one refuses to start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  if [ ! -f /var/run/docker.pid ]; then
    dockerd_bin="$(command -v dockerd || echo /usr/sbin/dockerd)"
    # setsid: the engine outlives this script and the npm process that ran it.
    setsid "$dockerd_bin" >>"$DOCKERD_LOG" 2>&1 </dev/null &
    disown || true
    say "started dockerd (log: $DOCKERD_LOG)"
  fi
  deadline=$((SECONDS + DOCKERD_WAIT_S))
  until docker_answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "berth: the Docker engine did not answer within ${DOCKERD_WAIT_S} s; last lines of $DOCKERD_LOG:" >&2
      tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.5
  done
fi

# --- the pause image (awsvpc tasks' network namespace holder) ---------------------------------

readonly PAUSE_IMAGE="berth/pause:1"
if ! docker image inspect "$PAUSE_IMAGE" >/dev/null 2>&1; then
  pausefs="$(mktemp -d "${TMPDIR:-/tmp}/berth-pause.XXXXXX")"
  cleanup_files+=("$pausefs")
  mkdir -p "$pausefs/bin"
  cp /bin/busybox "$pausefs/bin/busybox"
  tar --numeric-owner --owner=0 --group=0 -C "$pausefs" -cf - . |
    quietly docker import -c 'CMD ["/bin/busybox","sleep","2147483647"]' - "$PAUSE_IMAGE"
  say "built $PAUSE_IMAGE"
fi

[ "$mode" = run ] && exit 0

# --- the local test image -------------------------------------------------------------------

if ! docker image inspect "$TEST_IMAGE" >/dev/null 2>&1; then
  rootfs="$(mktemp -d "${TMPDIR:-/tmp}/berth-rootfs.XXXXXX")"
  cleanup_files+=("$rootfs")
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/root" "$rootfs/tmp"
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$rootfs/etc/group"
  tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -cf - . |
    quietly docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$TEST_IMAGE"
  say "built $TEST_IMAGE"
fi
