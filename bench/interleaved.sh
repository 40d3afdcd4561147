#!/usr/bin/env bash
# Usage: bench/interleaved.sh [DIR] [N]   (defaults: target/bench/corpus, 10 rounds)
#
# The tree-scan benchmark of docs/performance.md: N rounds, each timing
# `rg --hidden -a -F -c leadey_sk_live_ DIR`, `leadey-scan --no-timing --format json -q DIR`
# (decoders on, the default) and the same with `--max-decode-depth 0`, one after the other, so
# that machine noise hits all alike, after one untimed run of each. DIR is a corpus of bench/make-corpus.sh. Prints each
# tool's median and sorted times (ms), the leadey-scan / ripgrep ratios, the load average before
# and after, and what was measured (binary, commit, rg version). LEADEY_BIN=path/to/leadey-scan
# measures that binary; else a fresh `cargo build --release` of this repository.
set -euo pipefail
NAME=interleaved
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DIR=${1:-$(bench_dir corpus)}; N=${2:-10}
case "$N" in '' | *[!0-9]* | 0) die "N must be a positive integer, got '$N'" ;; esac
[ -d "$DIR" ] || die "no corpus at $DIR; run bench/make-corpus.sh $DIR first"
command -v rg >/dev/null || die "rg (ripgrep) is needed: apt-get install ripgrep"
BIN="$(leadey_bin)"
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }

echo "binary $BIN ($(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$REPO" && git diff --quiet HEAD 2>/dev/null || echo ', uncommitted changes')); $(rg --version | head -1)"
echo "corpus $DIR: $(du -sm "$DIR" | cut -f1) MB, $(find "$DIR" -type f | wc -l) files"
# One untimed run of each warms the page cache, so that the first timed round is not the one
# that reads the corpus from disk.
rg --hidden -a -F -c leadey_sk_live_ "$DIR" >/dev/null || true
"$BIN" --no-timing --format json -q "$DIR" >/dev/null || true
echo "load average before: $(loadavg)"
for _ in $(seq "$N"); do
  s=$(date +%s%N); rg --hidden -a -F -c leadey_sk_live_ "$DIR" >/dev/null || true; e=$(date +%s%N); echo "rg $(( (e-s)/1000000 ))"
  s=$(date +%s%N); "$BIN" --no-timing --format json -q "$DIR" >/dev/null || true; e=$(date +%s%N); echo "ls $(( (e-s)/1000000 ))"
  # #14: the same scan without decoders, to show what decoding costs.
  s=$(date +%s%N); "$BIN" --max-decode-depth 0 --no-timing --format json -q "$DIR" >/dev/null || true; e=$(date +%s%N); echo "ls-nodecode $(( (e-s)/1000000 ))"
done | python3 -c "
import sys,statistics
d={}
for l in sys.stdin:
  k,v=l.split(); d.setdefault(k,[]).append(int(v))
for k in d: print(k,'median ms',statistics.median(d[k]), sorted(d[k]))
print('ratio', statistics.median(d['ls'])/statistics.median(d['rg']))
print('ratio without decoders (--max-decode-depth 0)', statistics.median(d['ls-nodecode'])/statistics.median(d['rg']))
"
echo "load average after: $(loadavg)"
