#!/usr/bin/env bash
# Usage: bench/decode.sh [DIR] [SIZE_MB] [N]  (LEADEY_BIN=path/to/leadey-scan to choose the
# binary; else a fresh release build)
#
# Decoders on a base64-heavy tree (#14): builds DIR (default target/bench/b64-corpus, about
# SIZE_MB MB, default 200) of what real trees hold a lot of base64 in (a large package-lock.json
# full of integrity hashes, source maps with base64 `mappings` and inlined `sourcesContent`,
# PEM certificate bundles, a log of base64 payloads, data: URIs in CSS), plants 20 keys in it
# in encoded forms, and times `leadey-scan` with decoding on (the default) and off
# (`--max-decode-depth 0`), and `rg -F` on the same tree, interleaved N times (default 7).
# Prints medians, MB/s, the on/off ratio and peak RSS, and checks that decoding on finds the
# 20 planted keys and decoding off finds none of them. Exit 0: counts OK; 1: count mismatch;
# 2: setup error.
set -euo pipefail
NAME=decode
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DIR=${1:-$(bench_dir b64-corpus)}; SIZE_MB=${2:-200}; N=${3:-7}
BIN="$(leadey_bin)"
command -v rg >/dev/null || die "rg (ripgrep) is needed: apt-get install ripgrep"

if [ ! -f "$DIR/.built-$SIZE_MB" ]; then
  log "building $DIR (~$SIZE_MB MB)"
  rm -rf "$DIR"; mkdir -p "$DIR"
  python3 - "$DIR" "$SIZE_MB" <<'EOF'
import base64, json, os, random, sys
out, size_mb = sys.argv[1], int(sys.argv[2])
rng = random.Random(14)
A62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
def rand_bytes(n): return rng.randbytes(n)
def b64(b): return base64.b64encode(b).decode()
def key(): return "leadey_sk_live_" + "".join(rng.choice(A62) for _ in range(32))
budget = size_mb * 1_000_000
per_kind = budget // 5
def write(rel, text):
    path = os.path.join(out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f: f.write(text)
# package-lock.json files: integrity hashes (sha512 base64) and resolved URLs.
n = 0; i = 0
while n < per_kind:
    deps = {f"node_modules/pkg-{i}-{j}": {"version": f"1.{j}.0",
            "resolved": f"https://registry.npmjs.org/pkg-{i}-{j}/-/pkg-{i}-{j}-1.{j}.0.tgz",
            "integrity": "sha512-" + b64(rand_bytes(64))} for j in range(2000)}
    text = json.dumps({"name": f"app{i}", "lockfileVersion": 3, "packages": deps}, indent=2)
    write(f"lock/{i}/package-lock.json", text); n += len(text); i += 1
# Source maps: base64 VLQ-like mappings and inlined sources.
n = 0; i = 0
while n < per_kind:
    text = json.dumps({"version": 3, "sources": [f"src/m{i}.ts"],
                       "mappings": ";".join(b64(rand_bytes(30)).rstrip("=") for _ in range(3000)),
                       "sourcesContent": [b64(rand_bytes(60000))]})
    write(f"dist/bundle{i}.js.map", text); n += len(text); i += 1
# PEM certificate bundles.
n = 0; i = 0
while n < per_kind:
    certs = []
    for _ in range(200):
        e = b64(rand_bytes(1200))
        certs.append("-----BEGIN CERTIFICATE-----\n" + "\n".join(e[k:k+64] for k in range(0, len(e), 64)) + "\n-----END CERTIFICATE-----\n")
    text = "".join(certs); write(f"certs/bundle{i}.pem", text); n += len(text); i += 1
# Logs of base64 payloads.
n = 0; i = 0
while n < per_kind:
    lines = [f"2026-11-30T12:00:{k%60:02d}Z INFO payload={b64(rand_bytes(rng.randrange(40, 400)))}" for k in range(20000)]
    text = "\n".join(lines) + "\n"; write(f"logs/app{i}.log", text); n += len(text); i += 1
# CSS with data: URIs.
n = 0; i = 0
while n < per_kind:
    rules = [f".i{k}{{background:url(data:image/png;base64,{b64(rand_bytes(rng.randrange(100, 2000)))})}}" for k in range(3000)]
    text = "\n".join(rules) + "\n"; write(f"css/icons{i}.css", text); n += len(text); i += 1
# 20 keys in encoded forms, one per file, in the middle of existing files.
forms = [
    lambda k: f"auth: {b64(('user:' + k).encode())}",
    lambda k: f"LEADEY={b64(('LEADEY_API_KEY=' + k).encode())}",
    lambda k: f"k={b64(k.encode())}",
    lambda k: f"secret: {b64(b64(('u:' + k).encode()).encode())}",
    lambda k: f"u=leadey%5Fsk%5Flive%5F{k[15:]}",
]
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(out) for f in fs)
for n, path in enumerate(rng.sample(files, 20)):
    with open(path) as f: text = f.read()
    cut = text.find("\n", len(text) // 2) + 1 or len(text)
    line = forms[n % len(forms)](key())
    if cut == len(text) and not text.endswith("\n"):
        line = "\n" + line
    with open(path, "w") as f: f.write(text[:cut] + line + "\n" + text[cut:])
EOF
  touch "$DIR/.built-$SIZE_MB"
fi
MB=$(du -sm --apparent-size --exclude='.built-*' "$DIR" | cut -f1)
FILES=$(find "$DIR" -type f ! -name '.built-*' | wc -l)
log "$DIR: $MB MB, $FILES files; warming the page cache"
find "$DIR" -type f -exec cat -- {} + >/dev/null

for i in $(seq "$N"); do
  s=$(date +%s%N); rg --hidden -a -F -c leadey_sk_live_ "$DIR" >/dev/null || true; e=$(date +%s%N); echo "rg $(( (e-s)/1000000 ))"
  s=$(date +%s%N); "$BIN" --no-timing --format json -q "$DIR" >/dev/null || true; e=$(date +%s%N); echo "on $(( (e-s)/1000000 ))"
  s=$(date +%s%N); "$BIN" --max-decode-depth 0 --no-timing --format json -q "$DIR" >/dev/null || true; e=$(date +%s%N); echo "off $(( (e-s)/1000000 ))"
done | python3 -c "
import statistics, sys
mb = $MB
d = {}
for line in sys.stdin:
    k, v = line.split(); d.setdefault(k, []).append(int(v))
for k in ('rg', 'on', 'off'):
    m = statistics.median(d[k])
    print(f'{k:>3}: median {m:.0f} ms ({mb / (m / 1000):.0f} MB/s)  runs {sorted(d[k])}')
print(f'decoding on/off: {statistics.median(d[\"on\"]) / statistics.median(d[\"off\"]):.2f}x;'
      f' on/rg: {statistics.median(d[\"on\"]) / statistics.median(d[\"rg\"]):.2f}x')
"
RSS=$( { /usr/bin/time -f "%M" "$BIN" --no-timing --format json -q "$DIR" >/dev/null || true; } 2>&1 | tail -1)
echo "peak RSS, decoding on: $((RSS / 1024)) MiB"
ON=$("$BIN" --no-timing --format json "$DIR" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))' || true)
OFF=$("$BIN" --max-decode-depth 0 --no-timing --format json "$DIR" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))' || true)
echo "findings: decoding on $ON (want 16 encoded + 4 percent = 20), off $OFF (want 0)"
[ "$ON" = 20 ] && [ "$OFF" = 0 ] || exit 1
