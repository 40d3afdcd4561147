# Sourced by the benchmark scripts (set NAME first): messages, the repository root, and the
# binary to measure.

die() { echo "$NAME: error: $*" >&2; exit 2; }
log() { echo "$NAME: $*" >&2; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -f "$REPO/Cargo.toml" ] || die "no Cargo.toml at the repository root $REPO"

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
