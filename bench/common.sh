# shellcheck shell=bash
# Sourced by the benchmark scripts (set NAME first): messages, the repository root, where
# generated data goes by default, and the binary to measure.

die() { echo "$NAME: error: $*" >&2; exit 2; }
log() { echo "$NAME: $*" >&2; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -f "$REPO/Cargo.toml" ] || die "no Cargo.toml at the repository root $REPO"

# bench_dir NAME: the default place for what a script builds, clones or writes,
# target/bench/NAME in this repository (git-ignored; `cargo clean` removes it). Every script
# takes another place as an argument or an environment variable: no machine's paths here.
bench_dir() { echo "$REPO/target/bench/$1"; }

# check_untracked WHAT DIR: dies unless the absolute DIR is outside the repository or under
# its target/, so that generated data (clones, planted keys, reports) never lands in the
# tracked tree or in the repository's own `leadey-scan .`.
check_untracked() {
  case "$2/" in
    "$REPO"/target/*) ;;
    "$REPO"/*) die "$1 ($2) must be outside the repository or under its target/" ;;
  esac
}

# Prints the binary to measure: $LEADEY_BIN, else the one a fresh `cargo build --release
# --locked` of this repository makes (its output goes to stderr).
leadey_bin() {
  local bin
  if [ -n "${LEADEY_BIN:-}" ]; then
    bin="$LEADEY_BIN"
  else
    log "cargo build --release in $REPO"
    (cd "$REPO" && cargo build --release --locked --quiet) >&2 || die "cargo build --release failed"
    bin="${CARGO_TARGET_DIR:-$REPO/target}/release/leadey-scan"
    case "$bin" in /*) ;; *) bin="$REPO/$bin" ;; esac
  fi
  [ -x "$bin" ] || die "no leadey-scan binary at $bin"
  echo "$bin"
}

# time_runs OUT STDOUT STDERR CMD...: runs CMD $RUNS times under `/usr/bin/time -v` (removing
# the report OUT before each run; stdout to STDOUT, stderr to STDERR) and prints
# `MEDIAN_SECONDS MAX_RSS_MIB LAST_EXIT`.
time_runs() {
  local out="$1" stdout="$2" stderr="$3" i stats rows=()
  shift 3
  stats="$(mktemp)"
  for ((i = 0; i < RUNS; i++)); do
    rm -f "$out"
    /usr/bin/time -v -o "$stats" "$@" >"$stdout" 2>"$stderr" || true
    rows+=("$(python3 "$REPO/bench/time-v.py" "$stats")")
  done
  rm -f "$stats"
  printf '%s\n' "${rows[@]}" | sort -n | awk -v n="${#rows[@]}" '
    {w[NR] = $1; if ($2 > r) r = $2; c = $3}
    END {printf "%s %.1f %s\n", w[int((n + 1) / 2)], r, c}'
}
