#!/usr/bin/env bash
# Installs the MiniZinc tool chains hadac uses, once per machine:
#
#   native   $HADAC_HOME/minizinc-native/bin/minizinc
#            Debian's MiniZinc with Gecode and COIN-BC. Debian 13 packages it
#            with COIN-BC built in, so that binary is linked. Debian 12's
#            package lacks COIN-BC, so its source package is rebuilt against
#            Debian's COIN-OR libraries (about 3 minutes on 2 cores) and the
#            binary is kept; it uses the installed package's standard library
#            and solver configurations (/usr/share/minizinc).
#   bundled  $HADAC_HOME/bundled/bin/minizinc
#            The WebAssembly MiniZinc of the npm package `minizinc` (Gecode,
#            COIN-BC, HiGHS, Chuffed) behind hadac's Node launcher, which gives
#            it the usual `minizinc` command line.
#
# HADAC_HOME defaults to /opt/hadac. Everything is checked before it is done,
# so a second run only verifies and takes a few seconds. Nothing is downloaded
# at solve time. Needs root (apt-get).
set -euo pipefail

HADAC_HOME="${HADAC_HOME:-/opt/hadac}"
NATIVE_DIR="$HADAC_HOME/minizinc-native"
BUNDLED_DIR="$HADAC_HOME/bundled"
NPM_MINIZINC_VERSION="4.5.1"
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAUNCHER_SRC="$REPO_DIR/hadac/launcher/minizinc.js"
DEB_SRC_LIST="/etc/apt/sources.list.d/hadac-minizinc-src.sources"
BUILD_DEPS=(coinor-libcbc-dev coinor-libosi-dev coinor-libclp-dev coinor-libcoinutils-dev
  coinor-libcgl-dev cmake flex bison libgecode-dev dpkg-dev g++ make)
# Minimum is 3*1 + 2*6 = 15.
TEST_MODEL='var 1..10: x; var 1..10: y; constraint x + y >= 7; solve minimize 3*x + 2*y;'
TEST_OBJECTIVE=15

export DEBIAN_FRONTEND=noninteractive

log() { printf '[install-minizinc] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ "$(id -u)" == 0 ]] || die "must run as root (it installs Debian packages into the system)"

# One run at a time per install root (apt and the build would collide).
mkdir -p "$HADAC_HOME"
exec 9>"$HADAC_HOME/.install-minizinc.lock"
flock 9

# ---------------------------------------------------------------------------
# apt helpers

# Runs a command quietly; shows its output only if it fails.
quietly() {
  local out status=0
  out="$("$@" 2>&1)" || status=$?
  if ((status != 0)); then
    printf '%s\n' "$out" >&2
    die "failed ($status): $*"
  fi
}

APT_UPDATED=0
apt_update() {
  if [[ "$APT_UPDATED" == 0 ]]; then
    log "apt-get update"
    quietly apt-get update -q
    APT_UPDATED=1
  fi
}

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

ensure_packages() {
  local missing=() p
  for p in "$@"; do is_installed "$p" || missing+=("$p"); done
  ((${#missing[@]} == 0)) && return 0
  apt_update
  log "apt-get install ${missing[*]}"
  quietly apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Adds a deb-src entry for the suite and mirror the installed minizinc package
# comes from, with the same keyring as its deb entry, unless the machine has
# one. build_native removes the entry again once it has the source.
ensure_deb_src() {
  if [[ -n "$(apt-cache showsrc minizinc 2>/dev/null)" ]]; then
    return 0
  fi
  local version line uri suite_comp suite component signed_by
  version="$(dpkg-query -W -f='${Version}' minizinc)"
  # " minizinc | 2.6.4+dfsg1-1 | http://deb.debian.org/debian bookworm/main amd64 Packages"
  line="$(apt-cache madison minizinc | awk -F' [|] ' -v v="$version" '$2 == v && / Packages$/ { print $3; exit }')"
  [[ -n "$line" ]] || die "cannot tell which archive minizinc $version comes from (apt-cache madison)"
  read -r uri suite_comp _ <<<"$line"
  suite="${suite_comp%%/*}"
  component="${suite_comp#*/}"
  signed_by="$(find_signed_by "${uri%/}" "$suite")"
  log "adding deb-src $uri $suite $component${signed_by:+ (signed by $signed_by)}"
  {
    echo "Types: deb-src"
    echo "URIs: $uri"
    echo "Suites: $suite"
    echo "Components: $component"
    [[ -z "$signed_by" ]] || echo "Signed-By: $signed_by"
  } >"$DEB_SRC_LIST"
  ADDED_DEB_SRC=1
  APT_UPDATED=0
  apt_update
  [[ -n "$(apt-cache showsrc minizinc 2>/dev/null)" ]] || die "deb-src entry added but no source package minizinc"
}

# Prints the Signed-By keyring of the deb entry (one-line .list or deb822
# .sources) for URI and SUITE, if it has one.
find_signed_by() {
  local uri="$1" suite="$2" f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk -v uri="$uri" -v suite="$suite" '
      $1 == "deb" {
        opts = ""; i = 2
        if ($2 ~ /^\[/) { while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } i++ } }
        u = $i; sub(/\/$/, "", u)
        if (u == uri && $(i + 1) == suite && match(opts, /signed-by=[^] ]+/)) {
          print substr(opts, RSTART + 10, RLENGTH - 10); exit
        }
      }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk -v uri="$uri" -v suite="$suite" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " uris " ") ~ (" " uri "/? ") &&
            (" " suites " ") ~ (" " suite " ") && signed != "") { print signed; found = 1 }
        types = uris = suites = signed = enabled = ""
      }
      /^[ \t]*$/ { flush(); if (found) exit; next }
      /^#/ { next }
      tolower($1) == "types:"      { $1 = ""; types = $0 }
      tolower($1) == "uris:"       { $1 = ""; uris = $0 }
      tolower($1) == "suites:"     { $1 = ""; suites = $0 }
      tolower($1) == "signed-by:"  { signed = $2 }
      tolower($1) == "enabled:"    { enabled = tolower($2) }
      END { if (!found) flush() }' "$f"
  done | head -n 1
}

# ---------------------------------------------------------------------------
# native

# True when BIN runs and lists Gecode and COIN-BC.
lists_gecode_and_cbc() {
  local solvers
  solvers="$("$1" --solvers 2>/dev/null)" || return 1
  grep -q '(org\.gecode\.gecode,' <<<"$solvers" && grep -q '(org\.minizinc\.mip\.coin-bc,' <<<"$solvers"
}

verify_native() {
  local bin="$1" solver out model
  lists_gecode_and_cbc "$bin" || die "$bin does not list both Gecode and COIN-BC"
  model="$(mktemp --suffix=.mzn)"
  printf '%s\n' "$TEST_MODEL" >"$model"
  for solver in gecode cbc; do
    out="$("$bin" --solver "$solver" --output-objective "$model" 2>&1)" || {
      rm -f "$model"
      die "$bin --solver $solver failed on the test model: $out"
    }
    if ! grep -q "_objective = $TEST_OBJECTIVE;" <<<"$out" || ! grep -q '^==========$' <<<"$out"; then
      rm -f "$model"
      die "$bin --solver $solver gave an unexpected answer: $out"
    fi
  done
  rm -f "$model"
}

build_native() {
  local work status
  ensure_deb_src
  ensure_packages "${BUILD_DEPS[@]}"
  work="$(mktemp -d "${TMPDIR:-/tmp}/hadac-minizinc-build.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  log "building minizinc $DEB_VERSION with COIN-BC from the Debian source package (takes a few minutes)"
  (cd "$work" && apt-get source -qq "minizinc=$DEB_VERSION" >"$work/source.log" 2>&1) ||
    { cat "$work/source.log" >&2; die "apt-get source minizinc=$DEB_VERSION failed"; }
  if ((ADDED_DEB_SRC)); then
    rm -f "$DEB_SRC_LIST"
  fi
  local src
  src="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'minizinc-*' | head -n 1)"
  [[ -n "$src" ]] || die "apt-get source did not unpack minizinc"
  # The standard library is the installed package's, so the binary works from
  # any directory.
  cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DUSE_GECODE=ON \
    -DMZN_STATIC_STDLIB_DIR=/usr/share/minizinc >"$work/cmake.log" 2>&1 ||
    { tail -n 40 "$work/cmake.log" >&2; die "cmake failed"; }
  grep -q 'Found OsiCBC' "$work/cmake.log" ||
    { tail -n 40 "$work/cmake.log" >&2; die "cmake did not find COIN-BC (OsiCBC)"; }
  status=0
  make -C "$work/build" -j"$(nproc)" minizinc >"$work/make.log" 2>&1 || status=$?
  ((status == 0)) || { tail -n 40 "$work/make.log" >&2; die "make minizinc failed"; }
  mkdir -p "$NATIVE_DIR/bin"
  install -m 0755 "$work/build/minizinc" "$NATIVE_DIR/bin/minizinc.new"
  mv -f "$NATIVE_DIR/bin/minizinc.new" "$NATIVE_DIR/bin/minizinc"
  rm -rf "$work"
  trap - EXIT
}

install_native() {
  local bin="$NATIVE_DIR/bin/minizinc" stamp="$NATIVE_DIR/source" want
  ensure_packages minizinc
  DEB_VERSION="$(dpkg-query -W -f='${Version}' minizinc)"
  if lists_gecode_and_cbc /usr/bin/minizinc; then
    want="debian-package $DEB_VERSION linked"
  else
    want="debian-source $DEB_VERSION built with COIN-BC"
  fi
  if [[ -x "$bin" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]] && lists_gecode_and_cbc "$bin"; then
    NATIVE_ACTION="already there ($want)"
    return 0
  fi
  if [[ "$want" == *linked ]]; then
    mkdir -p "$NATIVE_DIR/bin"
    ln -sfn /usr/bin/minizinc "$bin"
  else
    local t0=$SECONDS
    build_native
    log "built in $((SECONDS - t0)) s"
  fi
  verify_native "$bin"
  echo "$want" >"$stamp"
  NATIVE_ACTION="installed ($want)"
}

# ---------------------------------------------------------------------------
# bundled

install_bundled() {
  local pkg_json="$BUNDLED_DIR/node_modules/minizinc/package.json" have changed=0
  command -v node >/dev/null || ensure_packages nodejs npm
  # worker_threads and recursive readdir as the launcher uses them.
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a == 18 && b >= 17) ? 0 : 1)' ||
    die "the launcher needs Node >= 18.17, found $(node --version)"
  have="$(node -p "require('$pkg_json').version" 2>/dev/null || true)"
  if [[ "$have" != "$NPM_MINIZINC_VERSION" ]]; then
    command -v npm >/dev/null || ensure_packages npm
    mkdir -p "$BUNDLED_DIR"
    [[ -f "$BUNDLED_DIR/package.json" ]] ||
      echo '{ "name": "hadac-bundled-minizinc", "private": true }' >"$BUNDLED_DIR/package.json"
    log "npm install minizinc@$NPM_MINIZINC_VERSION into $BUNDLED_DIR"
    quietly npm install --prefix "$BUNDLED_DIR" --save-exact --no-audit --no-fund --omit=dev \
      --loglevel=error "minizinc@$NPM_MINIZINC_VERSION"
    changed=1
  fi

  # The wrapper runs a copy of the launcher, so it does not depend on where
  # (or whether) the repository is checked out.
  [[ -f "$LAUNCHER_SRC" ]] || die "launcher not found at $LAUNCHER_SRC"
  if ! cmp -s "$LAUNCHER_SRC" "$BUNDLED_DIR/launcher.js"; then
    install -m 0644 "$LAUNCHER_SRC" "$BUNDLED_DIR/launcher.js"
    changed=1
  fi
  local wrapper="$BUNDLED_DIR/bin/minizinc" content
  content="#!/bin/sh
exec \"$(command -v node)\" \"$BUNDLED_DIR/launcher.js\" \"\$@\""
  if [[ ! -x "$wrapper" || "$(cat "$wrapper")" != "$content" ]]; then
    mkdir -p "$BUNDLED_DIR/bin"
    printf '%s\n' "$content" >"$wrapper.new"
    chmod 0755 "$wrapper.new"
    mv -f "$wrapper.new" "$wrapper"
    changed=1
  fi

  local cache="$BUNDLED_DIR/minizinc-cache.json" wasm="$BUNDLED_DIR/node_modules/minizinc/dist/minizinc.wasm"
  if ((changed)) || [[ ! "$cache" -nt "$wasm" ]]; then
    log "caching --version and --solvers-json of the WebAssembly build"
    quietly node "$BUNDLED_DIR/launcher.js" --hadac-refresh-cache
    changed=1
  fi
  if ((changed)); then
    verify_bundled "$wrapper"
    BUNDLED_ACTION="installed (npm minizinc@$NPM_MINIZINC_VERSION)"
  else
    BUNDLED_ACTION="already there (npm minizinc@$NPM_MINIZINC_VERSION)"
  fi
}

verify_bundled() {
  local bin="$1" out model
  # Looked up the way the Python package resolves a solver name: id, last
  # part of the id, or tag.
  "$bin" --solvers-json | node -e '
    const solvers = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const names = new Set(solvers.flatMap((s) => [s.id, s.id.split(".").pop(), ...(s.tags || [])]));
    const missing = ["gecode", "cbc", "highs", "chuffed"].filter((n) => !names.has(n));
    if (missing.length) { console.error("missing solvers: " + missing.join(", ")); process.exit(1); }
  ' || die "$bin does not list every expected solver"
  model="$(mktemp --suffix=.mzn)"
  printf '%s\n' "$TEST_MODEL" >"$model"
  out="$("$bin" --solver highs --output-objective "$model" 2>&1)" || { rm -f "$model"; die "$bin failed on the test model: $out"; }
  rm -f "$model"
  grep -q "_objective = $TEST_OBJECTIVE;" <<<"$out" || die "$bin gave an unexpected answer: $out"
}

# ---------------------------------------------------------------------------

NATIVE_ACTION="" BUNDLED_ACTION="" DEB_VERSION="" ADDED_DEB_SRC=0
install_native
install_bundled

summarise() {
  local name="$1" bin="$2" action="$3"
  echo "$name: $bin"
  echo "  $action"
  echo "  $("$bin" --version | head -n 1)"
  # Solvers that are usable (not plugins for absent commercial libraries).
  "$bin" --solvers | sed -n 's/^  \(.*(.*\)$/  solver: \1/p' | grep -v '<unknown version>' || true
}
summarise native "$NATIVE_DIR/bin/minizinc" "$NATIVE_ACTION"
summarise bundled "$BUNDLED_DIR/bin/minizinc" "$BUNDLED_ACTION"
