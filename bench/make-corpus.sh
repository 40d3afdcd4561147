#!/usr/bin/env bash
# Build a benchmark corpus of real Rust source code plus a known set of planted
# synthetic Leadey keys.
#
#   bench/make-corpus.sh [DIR] [TARGET_MB]     (defaults: target/bench/corpus 600)
#
# DIR defaults to target/bench/corpus in this repository; the numbers in
# docs/performance.md come from a DIR outside any git repository (see
# bench/README.md). Temporary projects go to a mktemp dir under TMPDIR.
#
# How: throwaway Cargo projects (in a temp dir) depend on big, popular crates
# (windows, windows-sys, aws-sdk-*, tokio, syn, serde, regex, ...), and
# `cargo vendor` copies every crate's source into DIR/vendor/<set>. Sets are
# vendored one after another until DIR/vendor holds at least TARGET_MB.
# Then NUM_KEYS (env, default 50) keys `leadey_sk_live_<32 base62>` are
# appended, one per file, to randomly chosen existing text files as a line
# `// leadey_sk_live_<body>`; the planted file paths go to DIR/planted.txt.
#
# Idempotent: a set already vendored (DIR/vendor/<set>.done) is skipped,
# vendoring stops once the size target is met, and keys are not planted
# again when DIR/planted.txt is present and every listed file still holds
# exactly one planted key. Never commit the corpus.
set -euo pipefail

NAME=make-corpus
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DIR="${1:-$(bench_dir corpus)}"
TARGET_MB="${2:-600}"
NUM_KEYS="${NUM_KEYS:-50}"
KEY_PREFIX="leadey_sk_live_"

case "$TARGET_MB" in ''|*[!0-9]*) die "TARGET_MB must be an integer, got '$TARGET_MB'";; esac
command -v cargo >/dev/null || die "cargo not found in PATH"
command -v python3 >/dev/null || die "python3 not found in PATH"

mkdir -p "$DIR/vendor"
DIR="$(cd "$DIR" && pwd)"
VENDOR="$DIR/vendor"

vendor_mb() { du -sm "$VENDOR" | awk '{print $1}'; }

# ---------------------------------------------------------------------------
# Dependency sets. Each prints the [dependencies] body of one throwaway
# project. Renamed deps (`alias = { package = "...", version = "..." }`) let
# one project pull several major versions of the same crate. Every crate is
# vendored in full (all platforms, all features' sources).
# ---------------------------------------------------------------------------
SETS=(mixed windows_old aws_more windows_older)

deps_mixed() {
  cat <<'EOF'
tokio = { version = "1", features = ["full"] }
syn = { version = "2", features = ["full"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
regex = "1"
clap = { version = "4", features = ["derive"] }
hyper = "1"
reqwest = { version = "0.12", default-features = false, features = ["rustls-tls", "json"] }
rustls = "0.23"
tracing = "0.1"
tracing-subscriber = "0.3"
rand = "0.9"
chrono = "0.4"
uuid = { version = "1", features = ["v4"] }
anyhow = "1"
futures = "0.3"
bytes = "1"
itertools = "0.14"
rayon = "1"
nom = "8"
toml = "0.9"
libc = "0.2"
nix = "0.30"
windows = "0.62"
windows-sys = "0.61"
aws-config = "1"
aws-sdk-ec2 = "1"
aws-sdk-s3 = "1"
aws-sdk-iam = "1"
aws-sdk-sagemaker = "1"
EOF
}

deps_windows_old() {
  cat <<'EOF'
windows_058 = { package = "windows", version = "0.58" }
windows_056 = { package = "windows", version = "0.56" }
windows_052 = { package = "windows", version = "0.52" }
windows-sys_052 = { package = "windows-sys", version = "0.52" }
windows-sys_048 = { package = "windows-sys", version = "0.48" }
EOF
}

deps_aws_more() {
  cat <<'EOF'
aws-sdk-glue = "1"
aws-sdk-quicksight = "1"
aws-sdk-connect = "1"
aws-sdk-ssm = "1"
aws-sdk-rds = "1"
aws-sdk-cloudformation = "1"
aws-sdk-lambda = "1"
aws-sdk-dynamodb = "1"
EOF
}

deps_windows_older() {
  cat <<'EOF'
windows_048 = { package = "windows", version = "0.48" }
windows_044 = { package = "windows", version = "0.44" }
windows-sys_045 = { package = "windows-sys", version = "0.45" }
windows-sys_042 = { package = "windows-sys", version = "0.42" }
EOF
}

TMP="$(mktemp -d -t leadey-corpus.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

vendor_set() {
  local set="$1" proj="$TMP/$1" out="$VENDOR/$1"
  log "vendoring set '$set' into $out"
  mkdir -p "$proj/src"
  : >"$proj/src/lib.rs"
  {
    printf '[package]\nname = "corpus-%s"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n' "${set//_/-}"
    printf '[workspace]\n\n[dependencies]\n'
    "deps_$set"
  } >"$proj/Cargo.toml"
  rm -rf "$out" "$out.tmp"
  # Own target dir so nothing touches the caller's; vendor never compiles.
  (cd "$proj" && CARGO_TARGET_DIR="$TMP/target" cargo vendor --quiet --versioned-dirs "$out.tmp" >/dev/null) \
    || die "cargo vendor failed for set '$set'"
  mv "$out.tmp" "$out"
  touch "$VENDOR/$set.done"
  log "set '$set' done; vendor now $(vendor_mb) MB"
}

have="$(vendor_mb)"
if [ "$have" -ge "$TARGET_MB" ]; then
  log "vendor already holds ${have} MB >= ${TARGET_MB} MB; skipping cargo vendor"
else
  for set in "${SETS[@]}"; do
    [ "$(vendor_mb)" -ge "$TARGET_MB" ] && break
    if [ -f "$VENDOR/$set.done" ]; then
      log "set '$set' already vendored; skipping"
      continue
    fi
    vendor_set "$set"
  done
  have="$(vendor_mb)"
  [ "$have" -ge "$TARGET_MB" ] \
    || die "all dependency sets vendored but only ${have} MB < ${TARGET_MB} MB; add a set to SETS"
fi

# ---------------------------------------------------------------------------
# Plant keys.
# ---------------------------------------------------------------------------
log "planting $NUM_KEYS keys (or verifying earlier ones)"
python3 - "$DIR" "$NUM_KEYS" "$KEY_PREFIX" <<'PY'
import math, os, random, re, secrets, string, sys
from collections import Counter

root, num, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
vendor = os.path.join(root, "vendor")
planted_txt = os.path.join(root, "planted.txt")
alphabet = string.ascii_letters + string.digits
planted_line = re.compile(rb"^// " + re.escape(prefix.encode()) + rb"[A-Za-z0-9]{32}$", re.M)
any_key = re.compile(re.escape(prefix.encode()) + rb"[A-Za-z0-9]{20,64}(?![A-Za-z0-9])")

def log(msg):
    print("make-corpus: " + msg, file=sys.stderr)

PLACEHOLDER_WORDS = ("example", "placeholder", "redacted", "yourkey", "sample", "changeme",
                     "fakekey", "dummykey", "insertkey", "notarealkey", "test", "xxxx")
SEQS = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiop", "asdfghjkl", "zxcvbnm")

def realistic(body):
    # Keep planted keys clearly random so no placeholder/entropy filter of
    # the scanner may (rightly) drop one: entropy >= 4.0 bits/char, no
    # placeholder word, no run of 3+ sequential/keyboard-row characters.
    n = len(body)
    ent = -sum(c / n * math.log2(c / n) for c in Counter(body).values())
    low = body.lower()
    if ent < 4.0 or any(w in low for w in PLACEHOLDER_WORDS):
        return False
    for seq in SEQS:
        for s in (seq, seq[::-1]):
            if any(s[i:i + 3] in low for i in range(len(s) - 2)):
                return False
    return True

def new_body():
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(32))
        if realistic(body):
            return body

# Reuse an earlier planting when it is intact.
if os.path.exists(planted_txt):
    paths = [p for p in open(planted_txt).read().splitlines() if p]
    ok = len(paths) == num and len(set(paths)) == num
    for p in paths if ok else []:
        try:
            data = open(p, "rb").read()
        except OSError:
            ok = False
            break
        found = planted_line.findall(data)
        if len(found) != 1 or not realistic(found[0][3 + len(prefix):].decode()):
            ok = False
            break
    if ok:
        log(f"planted.txt intact ({num} keys); not planting again")
        sys.exit(0)
    log("planted.txt stale or incomplete; removing old planted lines and re-planting")
    for p in paths:
        try:
            data = open(p, "rb").read()
        except OSError:
            continue
        # Remove exactly the lines we appended (they are whole lines).
        lines = [l for l in data.split(b"\n") if not planted_line.fullmatch(l)]
        open(p, "wb").write(b"\n".join(lines))
    os.remove(planted_txt)

# Candidates: ordinary text files that any scanner will read. Skip hidden
# path components and any directory tree holding ignore files (a scanner
# honoring .gitignore/.ignore could then legitimately skip the file), tiny or
# huge files, and anything with NUL bytes or invalid UTF-8.
TEXT_EXT = {".rs", ".md", ".toml", ".txt", ".json", ".yml", ".yaml", ".c", ".h", ".py", ".sh"}
IGNORE_FILES = {".gitignore", ".ignore", ".rgignore"}
cands = []
for dirpath, dirnames, filenames in os.walk(vendor):
    dirnames[:] = [d for d in dirnames if not d.startswith(".")]
    if IGNORE_FILES & set(filenames):
        dirnames[:] = []   # prune whole subtree
        continue
    for f in filenames:
        if f.startswith("."):
            continue
        if os.path.splitext(f)[1] not in TEXT_EXT:
            continue
        p = os.path.join(dirpath, f)
        try:
            st = os.lstat(p)
        except OSError:
            continue
        if not os.path.isfile(p) or os.path.islink(p) or not (1024 <= st.st_size <= 1 << 20):
            continue
        cands.append(p)

cands.sort()
rng = random.Random(secrets.randbits(64))
rng.shuffle(cands)
chosen = []
for p in cands:
    if len(chosen) == num:
        break
    data = open(p, "rb").read()
    if b"\0" in data or any_key.search(data):
        continue
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        continue
    chosen.append((p, data))
if len(chosen) < num:
    sys.exit(f"make-corpus: error: only {len(chosen)} candidate files for {num} keys")

out = []
for p, data in chosen:
    body = new_body()
    sep = b"" if data.endswith(b"\n") or not data else b"\n"
    with open(p, "ab") as fh:
        fh.write(sep + f"// {prefix}{body}\n".encode())
    out.append(p)
with open(planted_txt, "w") as fh:
    fh.write("\n".join(out) + "\n")
log(f"planted {len(out)} keys; paths in {planted_txt}")
PY

size_mb="$(du -sm "$DIR" | awk '{print $1}')"
files="$(find "$DIR" -type f | wc -l)"
planted="$(grep -c . "$DIR/planted.txt")"
echo "corpus: $DIR"
echo "size_mb: $size_mb"
echo "files: $files"
echo "planted_keys: $planted"
