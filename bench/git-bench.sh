#!/usr/bin/env bash
# Benchmarks of the git scopes (#5).
#
#   bench/git-bench.sh [DIR]          (default DIR: target/bench/git-bench)
#
# 1. --staged: a repository of 20,000 files (200 folders x 100 files, one commit), then one
#    file changed and staged. Times `leadey-scan --staged` (hyperfine median, or a loop of
#    `date +%s%N` when hyperfine is missing). Goal: under 50 ms.
# 2. --history: a repository of COMMITS (default 10,000) commits built with `git fast-import`
#    from a seeded generator: edits to ~600 text files, renames, topic branches merged with
#    --no-ff, binary blobs, and keys added then deleted. Times
#    `leadey-scan --history` against the naive `git log -p --all | leadey-scan -` in the same
#    run, and reports MB of unique blob content per second. Goal: 5x faster than the naive way.
#
# Env knobs: RUNS (staged runs, 30), HRUNS (history runs, 3), COMMITS (10000), LEADEY_BIN
# (use this binary, skip `cargo build --release`). Repositories are reused when present; delete
# DIR to rebuild them. Exit 0 when both scans ran and found the planted keys, 1 otherwise.
set -euo pipefail

NAME=git-bench
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DIR="${1:-$(bench_dir git-bench)}"
RUNS="${RUNS:-30}"
HRUNS="${HRUNS:-3}"
COMMITS="${COMMITS:-10000}"
command -v git >/dev/null || die "git is required"
command -v python3 >/dev/null || die "python3 is required (it generates the repositories)"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"

# Pinned identity and config: the benchmark must not depend on the machine's git setup.
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE

BIN="$(leadey_bin)"

# "MEDIAN_WALL MEAN_CPU" in seconds for a command run in the current folder (CPU: user + system,
# children included; empty without hyperfine). SHELL_MODE=none runs a plain command without a
# shell (no shell start-up in the number); pipelines need the default.
median() {
  local cmd="$1" runs="$2" warmup="$3" shell_args=()
  [ "${SHELL_MODE:-}" = none ] && shell_args=(-N)
  if command -v hyperfine >/dev/null; then
    # -i: leadey-scan exits 1 when it finds keys, which these repositories hold.
    hyperfine --style none --warmup "$warmup" --runs "$runs" -i "${shell_args[@]}" \
      --export-json "$DIR/hf.json" "$cmd" >/dev/null 2>&1 || die "hyperfine failed on: $cmd"
    python3 -c "import json; r=json.load(open('$DIR/hf.json'))['results'][0]; print(r['median'], r['user'] + r['system'])"
  else
    local times=() i t0 t1
    for ((i = 0; i < warmup; i++)); do bash -c "$cmd" >/dev/null 2>&1 || true; done
    for ((i = 0; i < runs; i++)); do
      t0=$(date +%s%N)
      bash -c "$cmd" >/dev/null 2>&1 || true
      t1=$(date +%s%N)
      times+=($((t1 - t0)))
    done
    printf '%s\n' "${times[@]}" | sort -n |
      python3 -c "import sys; v=[int(x) for x in sys.stdin]; print(v[len(v)//2]/1e9, '')"
  fi
}

status=0

# --- 1. --staged on 20,000 files -----------------------------------------------------------
STAGED="$DIR/staged"
if [ ! -f "$STAGED/.git/bench-ready" ]; then
  log "building $STAGED (20,000 files)"
  rm -rf "$STAGED"
  mkdir -p "$STAGED"
  python3 - "$STAGED" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(5)
words = "alpha beta gamma delta config value name port host user path token mode".split()
for d in range(200):
    folder = os.path.join(root, f"pkg{d:03}", "src")
    os.makedirs(folder, exist_ok=True)
    for f in range(100):
        lines = [" ".join(rnd.choice(words) for _ in range(8)) for _ in range(rnd.randint(5, 40))]
        with open(os.path.join(folder, f"file{f:03}.txt"), "w") as fh:
            fh.write("\n".join(lines) + "\n")
PY
  (cd "$STAGED" && git init -q -b main && git add -A && git commit -qm "20k files")
  touch "$STAGED/.git/bench-ready"
fi
(
  cd "$STAGED"
  git reset -q --hard
  key="leadey_sk_live_$(python3 -c "import random; r=random.Random(9); print(''.join(r.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789') for _ in range(32)))")"
  echo "token = $key" >>pkg100/src/file050.txt
  git add pkg100/src/file050.txt
)
files=$(cd "$STAGED" && git ls-files | wc -l)
found=$(cd "$STAGED" && "$BIN" --staged --format json --no-timing -q |
  python3 -c "import json,sys; print(len(json.load(sys.stdin)['findings']))" || true)
[ "$found" = 1 ] || { log "--staged found $found keys, expected 1"; status=1; }
read -r staged_s _ < <(cd "$STAGED" && SHELL_MODE=none median "$BIN --staged -q --no-timing" "$RUNS" 3)

# --- 2. --history on COMMITS commits -------------------------------------------------------
HIST="$DIR/history-$COMMITS"
if [ ! -f "$HIST/.git/bench-ready" ]; then
  log "building $HIST ($COMMITS commits with git fast-import)"
  rm -rf "$HIST"
  mkdir -p "$HIST"
  (cd "$HIST" && git init -q -b main)
  python3 - "$COMMITS" "$HIST/.git/planted" <<'PY' | (cd "$HIST" && git fast-import --quiet)
import random, sys
commits, planted_path = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(42)
B62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
WORDS = ("let const fn return if else match struct impl pub use mod self value config "
         "port host user token retry timeout buffer index cache error result").split()
out = sys.stdout.buffer
planted = set()

def key():
    k = "leadey_sk_live_" + "".join(rnd.choice(B62) for _ in range(32))
    planted.add(k)
    return k

def line():
    return " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(4, 12)))

def text(n):
    return "\n".join(line() for _ in range(n)) + "\n"

def data(b):
    out.write(b"data %d\n" % len(b))
    out.write(b)
    out.write(b"\n")

mark = 0
def new_mark():
    global mark
    mark += 1
    return mark

t = 1_600_000_000
def commit(ref, msg, parent, changes, merge=None):
    """changes: list of ('M', path, bytes) | ('D', path) | ('R', old, new)"""
    global t
    t += 37
    m = new_mark()
    out.write(b"commit %s\nmark :%d\n" % (ref.encode(), m))
    out.write(b"author Bench <bench@example.com> %d +0000\n" % t)
    out.write(b"committer Bench <bench@example.com> %d +0000\n" % t)
    data(msg.encode())
    if parent:
        out.write(b"from :%d\n" % parent)
    if merge:
        out.write(b"merge :%d\n" % merge)
    for c in changes:
        if c[0] == "M":
            out.write(b"M 100644 inline %s\n" % c[1].encode())
            data(c[2])
        elif c[0] == "D":
            out.write(b"D %s\n" % c[1].encode())
        else:
            out.write(b"R %s %s\n" % (c[1].encode(), c[2].encode()))
    return m

files = {}
for d in range(30):
    for f in range(20):
        files[f"src/mod{d:02}/file{f:02}.rs"] = text(rnd.randint(40, 400)).encode()
head = commit("refs/heads/main", "initial import", None,
              [("M", p, c) for p, c in files.items()])
n = 1
pending_delete = []  # (commit number, path, content without key)
while n < commits:
    # A topic branch of 5 commits, merged with --no-ff, every 100 commits.
    if n % 100 == 0 and n + 7 < commits:
        topic = dict(files)
        tip = head
        own = [p for p in files if p.startswith(f"src/mod{(n // 100) % 30:02}/")]
        changed = set()
        for i in range(5):
            p = rnd.choice(own)
            body = topic[p] + text(rnd.randint(1, 10)).encode()
            if i == 2:
                body += f"// topic key {key()}\n".encode()
            topic[p] = body
            changed.add(p)
            tip = commit("refs/heads/topic", f"topic work {n}-{i}", tip, [("M", p, body)])
            n += 1
        # Main moves on in other folders before the merge.
        p = rnd.choice([q for q in files if q not in own])
        files[p] = files[p] + text(3).encode()
        head = commit("refs/heads/main", f"main work {n}", head, [("M", p, files[p])])
        n += 1
        for p in changed:
            files[p] = topic[p]
        head = commit("refs/heads/main", f"Merge topic {n}", head,
                      [("M", p, files[p]) for p in sorted(changed)], merge=tip)
        n += 1
        continue
    changes = []
    r = n % 1000
    if n % 250 == 0:
        # A rename of a file (with its history).
        old = rnd.choice(sorted(files))
        new = old.replace(".rs", f"_r{n}.rs")
        files[new] = files.pop(old)
        changes.append(("R", old, new))
    elif n % 200 == 0:
        # A binary blob, one in two with a key inside.
        blob = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(2000, 60000)))
        if n % 400 == 0:
            blob = blob[:1000] + key().encode() + b"\0" + blob[1000:]
        changes.append(("M", f"assets/blob{n}.bin", blob))
    elif n % 50 == 0:
        # A key committed, then deleted ten commits later.
        p = rnd.choice(sorted(files))
        clean = files[p]
        files[p] = clean + f'const KEY: &str = "{key()}";\n'.encode()
        changes.append(("M", p, files[p]))
        pending_delete.append((n + 10, p, clean))
    else:
        for _ in range(rnd.randint(1, 3)):
            p = rnd.choice(sorted(files))
            lines = files[p].split(b"\n")
            i = rnd.randrange(len(lines))
            lines[i:i + rnd.randint(0, 3)] = [line().encode() for _ in range(rnd.randint(1, 6))]
            files[p] = b"\n".join(lines)
            changes.append(("M", p, files[p]))
    for due, p, clean in [d for d in pending_delete if d[0] <= n]:
        if p in files:
            files[p] = clean
            changes.append(("M", p, clean))
    pending_delete = [d for d in pending_delete if d[0] > n]
    head = commit("refs/heads/main", f"change {n}", head, changes)
    n += 1
out.write(b"reset refs/heads/topic\nfrom :%d\n" % head)
with open(planted_path, "w") as fh:
    fh.write("\n".join(sorted(planted)) + "\n")
PY
  # A repository as a server or a clone holds it: one pack, deltas recomputed.
  (cd "$HIST" && git checkout -q main && git repack -adfq --window=10 --depth=50)
  touch "$HIST/.git/bench-ready"
fi
hist_commits=$(cd "$HIST" && git rev-list --all | wc -l)
hist_merges=$(cd "$HIST" && git rev-list --all --merges | wc -l)
planted=$(grep -c . "$HIST/.git/planted")
pack_mb=$(du -sm "$HIST/.git/objects" | cut -f1)

json=$(cd "$HIST" && "$BIN" --history --format json --no-timing -q || true)
read -r hist_found hist_keys hist_bytes hist_blobs < <(printf '%s' "$json" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(len(r["findings"]), len({f["key_sha256"] for f in r["findings"]}),
      r["stats"]["bytes_scanned"], r["stats"]["files_scanned"])')
naive_keys=$(cd "$HIST" && git log -p --all | "$BIN" - --format json --no-timing -q |
  python3 -c 'import json,sys; print(len({f["key_sha256"] for f in json.load(sys.stdin)["findings"]}))' || true)
[ "$hist_keys" = "$planted" ] || { log "--history found $hist_keys distinct keys, $planted planted"; status=1; }

load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
log "timing --history ($HRUNS runs) and the naive pipeline ($HRUNS runs)"
read -r hist_s hist_cpu < <(cd "$HIST" && SHELL_MODE=none median "$BIN --history -q --no-timing" "$HRUNS" 1)
read -r naive_s naive_cpu < <(cd "$HIST" && median "git log -p --all | $BIN - -q --no-timing" "$HRUNS" 1)
naive_bytes=$(cd "$HIST" && git log -p --all | wc -c)

python3 - "$files" "$staged_s" "$hist_commits" "$hist_merges" "$pack_mb" "$hist_blobs" \
  "$hist_bytes" "$hist_s" "$naive_s" "$naive_bytes" "$planted" "$hist_keys" "$hist_found" \
  "$naive_keys" "$RUNS" "$HRUNS" "${hist_cpu:-}" "${naive_cpu:-}" "$load" "$(nproc)" <<'PY'
import sys
(files, staged_s, commits, merges, pack_mb, blobs, hbytes, hist_s, naive_s, nbytes, planted,
 hkeys, hfound, nkeys, runs, hruns, hist_cpu, naive_cpu, load, cpus) = sys.argv[1:]
staged_s, hist_s, naive_s = float(staged_s), float(hist_s), float(naive_s)
mb = int(hbytes) / 1e6
print(f"--staged, {files} files, one staged change:   median {staged_s*1000:.1f} ms over {runs} runs (goal < 50 ms)")
print(f"--history, {commits} commits ({merges} merges), .git/objects {pack_mb} MB:")
print(f"  leadey-scan --history:            {hist_s:.2f} s median of {hruns}; {blobs} unique blobs, "
      f"{mb:.1f} MB -> {mb/hist_s:.1f} MB/s; {hkeys}/{planted} planted keys ({hfound} path findings)")
print(f"  git log -p --all | leadey-scan -: {naive_s:.2f} s median of {hruns}; "
      f"{int(nbytes)/1e6:.1f} MB of patch text; {nkeys}/{planted} planted keys")
print(f"  speed-up: {naive_s/hist_s:.1f}x wall (goal >= 5x)", end="")
if hist_cpu and naive_cpu:
    print(f"; CPU (user+sys) {float(hist_cpu):.2f} s vs {float(naive_cpu):.2f} s = "
          f"{float(naive_cpu)/float(hist_cpu):.1f}x", end="")
print(f"\n  machine: {cpus} CPUs, load average {load} (before the timings)")
PY
exit "$status"
