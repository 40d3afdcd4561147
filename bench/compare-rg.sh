#!/usr/bin/env bash
# Compare leadey-scan against ripgrep on a corpus made by bench/make-corpus.sh.
#
#   bench/compare-rg.sh [DIR]          (default DIR: target/bench/corpus)
#
# Env knobs: RUNS (10), WARMUP (1), LEADEY_BIN (skip the cargo build and use
# this binary instead).
#
# Steps: install rg/hyperfine/GNU time if missing (apt), `cargo build
# --release` in the repo this script lives in, check that leadey-scan accepts
# the flags used, warm the page cache with one run of each tool, check the
# counts (leadey-scan JSON `findings` length == lines in DIR/planted.txt; rg's
# matching-line count >= that), time both tools with hyperfine (default
# threads and 2 threads), measure peak RSS with /usr/bin/time -v, and print a
# table. Exit 0 when the counts check out, 1 otherwise.
set -euo pipefail

NAME=compare-rg
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DIR="${1:-$(bench_dir corpus)}"
RUNS="${RUNS:-10}"
WARMUP="${WARMUP:-1}"
PATTERN="leadey_sk_live_"

[ -d "$DIR" ] || die "corpus dir $DIR missing; run bench/make-corpus.sh first"
DIR="$(cd "$DIR" && pwd)"
[ -s "$DIR/planted.txt" ] || die "$DIR/planted.txt missing; run bench/make-corpus.sh first"
PLANTED="$(grep -c . "$DIR/planted.txt")"

# --- tools -----------------------------------------------------------------
need_pkgs=()
command -v rg >/dev/null || need_pkgs+=(ripgrep)
command -v hyperfine >/dev/null || need_pkgs+=(hyperfine)
[ -x /usr/bin/time ] || need_pkgs+=(time)
command -v python3 >/dev/null || need_pkgs+=(python3)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "need ${need_pkgs[*]} but not root; install them first"
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y "${need_pkgs[@]}" >/dev/null; then
    apt-get update >/dev/null
    apt-get install -y "${need_pkgs[@]}" >/dev/null || die "apt-get install ${need_pkgs[*]} failed"
  fi
fi

TMP="$(mktemp -d -t leadey-bench.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

# --- build -----------------------------------------------------------------
BIN="$(leadey_bin)"

# --- flag preflight on a tiny tree: fail clearly on an unsupported flag -----
mkdir -p "$TMP/probe"
# Random body: placeholder-looking bodies (sequences, low entropy) are rightly not findings.
PROBE_BODY="$(python3 -c 'import secrets,string;a=string.ascii_letters+string.digits;print("".join(secrets.choice(a) for _ in range(32)))')"
printf 'x = "%s%s"\n' "$PATTERN" "$PROBE_BODY" >"$TMP/probe/k.txt"
for flags in "--no-timing" "--format json" "--threads 2" "--no-timing --format json --threads 2"; do
  rc=0
  # shellcheck disable=SC2086
  "$BIN" $flags "$TMP/probe" >"$TMP/probe.out" 2>"$TMP/probe.err" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
    sed 's/^/  | /' "$TMP/probe.err" | head -15 >&2
    die "leadey-scan rejected '$flags' (exit $rc; want 0 or 1)"
  fi
  [ "$rc" -eq 1 ] || die "leadey-scan '$flags' exited $rc on a tree holding one key (want 1)"
done
python3 - "$TMP/probe.out" <<'PY' || die "leadey-scan --format json did not print JSON with a 'findings' array"
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, dict) and isinstance(d.get("findings"), list) and len(d["findings"]) == 1, d
PY

q() { printf '%q' "$1"; }
RG_CMD="rg --hidden -a -F -c $PATTERN $(q "$DIR")"
RG2_CMD="rg -j2 --hidden -a -F -c $PATTERN $(q "$DIR")"
LS_CMD="$(q "$BIN") --no-timing --format json $(q "$DIR")"
LS2_CMD="$(q "$BIN") --no-timing --format json --threads 2 $(q "$DIR")"

# --- warm cache + correctness ----------------------------------------------
log "warming page cache and checking counts"
rc=0; bash -c "$RG_CMD" >"$TMP/rg.out" 2>"$TMP/rg.err" || rc=$?
[ "$rc" -le 1 ] || { cat "$TMP/rg.err" >&2; die "rg failed (exit $rc)"; }
rc=0; bash -c "$LS_CMD" >"$TMP/ls.json" 2>"$TMP/ls.err" || rc=$?
[ "$rc" -le 1 ] || { head -20 "$TMP/ls.err" >&2; die "leadey-scan failed on corpus (exit $rc)"; }
LS_RC="$rc"

RG_LINES="$(awk -F: '{s += $NF} END {print s + 0}' "$TMP/rg.out")"
LS_FINDINGS="$(python3 - "$TMP/ls.json" "$DIR/planted.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["findings"]
planted = {l.strip() for l in open(sys.argv[2]) if l.strip()}
# Best effort: report planted files with no finding, if findings name a path.
def path(x):
    for k in ("path", "file", "filename"):
        if isinstance(x, dict) and isinstance(x.get(k), str):
            return x[k]
seen = {path(x) for x in f} - {None}
if seen:
    import os
    seen = {os.path.abspath(p) for p in seen}
    for p in sorted(planted - seen)[:10]:
        print("compare-rg: no finding for planted file " + p, file=sys.stderr)
print(len(f))
PY
)"

# --- timing ----------------------------------------------------------------
# CPU busy share over 1 s, right before timing: other work skews results.
cpu_busy_pct() {
  local a b
  a="$(head -1 /proc/stat)"; sleep 1; b="$(head -1 /proc/stat)"
  printf '%s\n%s\n' "$a" "$b" | awk '{idle = $5 + $6; tot = 0; for (i = 2; i <= NF; i++) tot += $i;
    if (NR == 1) {i0 = idle; t0 = tot} else {d = tot - t0; print (d > 0 ? int(100 * (1 - (idle - i0) / d)) : 0)}}'
}
BUSY_BEFORE="$(cpu_busy_pct)"
log "hyperfine: warmup $WARMUP, runs $RUNS"
hyperfine -i -N --warmup "$WARMUP" --runs "$RUNS" --style basic \
  --export-json "$TMP/hf.json" \
  -n rg "$RG_CMD" -n "rg -j2" "$RG2_CMD" \
  -n leadey-scan "$LS_CMD" -n "leadey-scan --threads 2" "$LS2_CMD" \
  >"$TMP/hf.log" 2>&1 || { cat "$TMP/hf.log" >&2; die "hyperfine failed"; }

rss_kb() {
  /usr/bin/time -v -o "$TMP/time.txt" bash -c "$1" >/dev/null 2>&1 || true
  awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$TMP/time.txt"
}
RSS_RG="$(rss_kb "exec $RG_CMD")"
RSS_RG2="$(rss_kb "exec $RG2_CMD")"
RSS_LS="$(rss_kb "exec $LS_CMD")"
RSS_LS2="$(rss_kb "exec $LS2_CMD")"

# --- report ----------------------------------------------------------------
python3 - "$TMP/hf.json" "$RSS_RG" "$RSS_RG2" "$RSS_LS" "$RSS_LS2" <<'PY'
import json, statistics, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
rss = dict(zip(["rg", "rg -j2", "leadey-scan", "leadey-scan --threads 2"],
               (int(x) / 1024 if x else float("nan") for x in sys.argv[2:6])))
med = {k: statistics.median(v["times"]) for k, v in res.items()}
print(f"{'command':<26}{'median s':>10}{'mean s':>10}{'stddev':>9}{'peak RSS MiB':>14}")
for k in ["rg", "rg -j2", "leadey-scan", "leadey-scan --threads 2"]:
    r = res[k]
    print(f"{k:<26}{med[k]:>10.3f}{r['mean']:>10.3f}{r['stddev'] or 0:>9.3f}{rss[k]:>14.1f}")
print(f"ratio leadey/rg (default threads): {med['leadey-scan'] / med['rg']:.2f}x")
print(f"ratio leadey/rg (2 threads):       {med['leadey-scan --threads 2'] / med['rg -j2']:.2f}x")
PY

echo "cpu busy before timing (other processes): ${BUSY_BEFORE}% of $(nproc) cores"
if [ "$BUSY_BEFORE" -gt 20 ]; then
  echo "WARNING: machine was busy with other work; timings are noisy, re-run when idle"
fi
echo "corpus: $DIR ($(du -sm "$DIR" | awk '{print $1}') MB, $(find "$DIR" -type f | wc -l) files)"
echo "planted keys: $PLANTED; leadey-scan findings: $LS_FINDINGS (exit $LS_RC); rg matching lines: $RG_LINES"
ok=1
[ "$LS_FINDINGS" -eq "$PLANTED" ] || { echo "FAIL: leadey-scan found $LS_FINDINGS, planted $PLANTED"; ok=0; }
[ "$LS_RC" -eq 1 ] || { echo "FAIL: leadey-scan exit $LS_RC with keys present (want 1)"; ok=0; }
[ "$RG_LINES" -ge "$PLANTED" ] || { echo "FAIL: rg counted $RG_LINES lines < $PLANTED planted"; ok=0; }
[ "$ok" -eq 1 ] && echo "counts: OK" || exit 1
