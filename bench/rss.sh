#!/usr/bin/env bash
# Peak memory (RSS) of the release binary on inputs that must not make it grow (#8):
#
#   bench/rss.sh [WORKDIR]        (default: target/bench/rss; the large files are removed
#                                  after their case, the tree is kept for the next run)
#
#   tree-1gib      a 1 GiB tree of real source (bench/make-corpus.sh, 1024 MB target)
#   sparse-4gib    one 4 GiB sparse file with a key near its end
#   real-4gib      one 4 GiB file of real source text (the tree's files concatenated), a key
#                  near its end; only when the disk has 12 GiB free (set REAL=0 to skip)
#   findings-100k  100,000 keys in 1,000 files (100,000 findings)
#   history-NAME   `--history` on a bare clone of HISTORY_SRC (any git path or URL, e.g.
#                  https://github.com/rust-lang/cargo; default MIRRORS/rust-lang+cargo/repo
#                  when MIRRORS is set, as bench/history-real.sh; skipped with a message when
#                  neither is set or the repository is missing). Goal (#15): at most 128 MiB
#                  on cargo, not growing with the pack.
#
# Each input is scanned once as a warm-up, then measured with `/usr/bin/time -v`, with JSON
# output to /dev/null. Memory may grow with the number of findings, never with file or tree
# size. Env: LEADEY_BIN (binary to measure; else `cargo build --release`), CORPUS (a tree to
# use instead of building one), THREADS (default: leadey-scan's default).
set -euo pipefail
# WORKDIR and CORPUS as given, relative to the caller's folder; the script then runs from the
# repository root.
if [ -n "${1:-}" ]; then mkdir -p "$1" && set -- "$(cd "$1" && pwd)"; fi
if [ -n "${CORPUS:-}" ] && [ -d "$CORPUS" ]; then CORPUS="$(cd "$CORPUS" && pwd)"; fi
cd "$(dirname "$0")/.."

NAME=rss
# shellcheck source=bench/common.sh
. bench/common.sh
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"

LEADEY_BIN="$(leadey_bin)"
WORK="${1:-$(bench_dir rss)}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
check_untracked WORKDIR "$WORK"
THREAD_ARGS=()
[ -n "${THREADS:-}" ] && THREAD_ARGS=(--threads "$THREADS")

# A synthetic key (random base62 body); the scanner itself checks it is accepted.
key() {
  python3 - "$1" <<'EOF'
import random, string, sys
r = random.Random(int(sys.argv[1]))
print("leadey_sk_live_" + "".join(r.choice(string.ascii_letters + string.digits) for _ in range(32)))
EOF
}

# measure NAME PATH...: prints name, findings, bytes scanned, wall seconds, peak RSS (MiB).
measure() {
  local name="$1"; shift
  "$LEADEY_BIN" --format json --no-timing -q "${THREAD_ARGS[@]}" "$@" >/dev/null || true
  local stats="$WORK/time-$name.txt" report="$WORK/report-$name.json"
  /usr/bin/time -v -o "$stats" "$LEADEY_BIN" --format json --no-timing -q "${THREAD_ARGS[@]}" \
    "$@" >"$report" || true
  python3 - "$name" "$stats" "$report" <<'EOF'
import json, re, sys
name, stats, report = sys.argv[1:]
t = open(stats).read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall.split(":"))))
s = json.load(open(report))["stats"]
print(f"{name:<14} findings {s['findings']:>7}  scanned {s['bytes_scanned'] / 2**30:7.2f} GiB"
      f" in {s['files_scanned']:>6} files  {secs:7.1f} s  peak RSS {rss_kb / 1024:7.1f} MiB")
EOF
}

echo "rss: binary $LEADEY_BIN; work dir $WORK" >&2

# 1 GiB tree of real source.
CORPUS="${CORPUS:-$WORK/corpus}"
if [ ! -d "$CORPUS/vendor" ]; then
  NUM_KEYS=50 bench/make-corpus.sh "$CORPUS" 1024 >&2
fi
measure tree-1gib "$CORPUS"

# One 4 GiB sparse file, a key 1 KiB before its end.
SPARSE="$WORK/sparse.img"
python3 - "$SPARSE" "$(key 1)" <<'EOF'
import sys
path, k = sys.argv[1], sys.argv[2]
with open(path, "wb") as f:
    f.truncate(4 << 30)
    f.seek((4 << 30) - 1024)
    f.write(f" {k} ".encode())
EOF
measure sparse-4gib "$SPARSE"
rm -f "$SPARSE"

# One 4 GiB file of real text.
free_kb=$(df -Pk "$WORK" | awk 'NR==2 {print $4}')
if [ "${REAL:-1}" = 1 ] && [ "$free_kb" -gt $((12 << 20)) ]; then
  REALF="$WORK/real.txt"
  : >"$REALF"
  while [ "$(stat -c %s "$REALF")" -lt $((4 << 30)) ]; do
    find "$CORPUS/vendor" -type f -name '*.rs' -print0 | xargs -0 cat -- >>"$REALF"
  done
  truncate -s $((4 << 30)) "$REALF"
  printf '\n%s\n' "$(key 2)" >>"$REALF"
  measure real-4gib "$REALF"
  rm -f "$REALF"
else
  echo "real-4gib      skipped (REAL=0 or less than 12 GiB free)"
fi

# 100,000 findings: 1,000 files of 100 keys each.
FIND="$WORK/findings"
mkdir -p "$FIND"
python3 - "$FIND" <<'EOF'
import os, random, string, sys
r = random.Random(7)
alphabet = string.ascii_letters + string.digits
for f in range(1000):
    with open(os.path.join(sys.argv[1], f"f{f:04}.env"), "w") as out:
        for _ in range(100):
            out.write("KEY=leadey_sk_live_" + "".join(r.choice(alphabet) for _ in range(32)) + "\n")
EOF
measure findings-100k "$FIND"

# Full history of a real repository.
HISTORY_SRC="${HISTORY_SRC:-${MIRRORS:+$MIRRORS/rust-lang+cargo/repo}}"
if [ -n "$HISTORY_SRC" ] && git ls-remote "$HISTORY_SRC" HEAD >/dev/null 2>&1; then
  hname="$(basename "${HISTORY_SRC%/}" .git)"
  [ "$hname" = repo ] && hname="$(basename "$(dirname "${HISTORY_SRC%/}")")"
  hname="${hname#*+}"
  HREPO="$WORK/history-$hname.git"
  [ -d "$HREPO" ] || git clone -q --bare --no-local "$HISTORY_SRC" "$HREPO"
  measure "history-$hname" --history "$HREPO"
else
  echo "history-*      skipped (${HISTORY_SRC:+no git repository at HISTORY_SRC=$HISTORY_SRC}${HISTORY_SRC:-set HISTORY_SRC or MIRRORS})"
fi
