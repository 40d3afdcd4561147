#!/usr/bin/env bash
# Usage: bench/interleaved.sh [DIR] [N]  (LEADEY_BIN=path/to/leadey-scan to choose the binary;
# else a fresh release build)
# Interleaved timing: alternates rg and leadey-scan (with decoders, the default, and without)
# so machine noise hits all alike.
set -euo pipefail
NAME=interleaved
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DIR=${1:-/work/corpus}; N=${2:-10}; BIN="$(leadey_bin)"
for i in $(seq $N); do
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
