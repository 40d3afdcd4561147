#!/usr/bin/env bash
# Push protection (#21): how long `leadey-scan --pre-receive` takes to decide, with real
# `git push` into bare repositories, next to the naive hook (`git log -p … | leadey-scan -`).
#
#   bench/push.sh [BIG_SRC [LARGE_SRC]]
#
# BIG_SRC (default rust-lang/cargo) and LARGE_SRC (default git/git) are git repositories to
# clone (a path or a URL; MIRRORS=DIR takes DIR/<owner>+<name>/repo as the search tool's
# `fetch` lays mirrors out, else the GitHub URLs).
#
#   1. whole history: BIG_SRC's default branch plus one commit planting 4 synthetic keys,
#      pushed to an empty bare server. The hook must reject, naming the 4 keys.
#   2. one commit: LARGE_SRC cloned bare with `--shared` (its objects borrowed through
#      objects/info/alternates, as forks are), one commit on top planting 1 key, pushed.
#   3. each push again with the naive hook, which reads `git log -p` of the pushed commits.
#
# Every push is rejected, so the server is unchanged and each run sees the same push. The hook
# times itself (from its start to its exit, inside git's pre-receive); the push's own cost
# (pack-objects, index-pack) is not in that number. The hook's CPU seconds (user + system, its
# children's, from the shell's `times`) are printed too: on a shared, loaded machine they move
# less than the wall time. RUNS (default 3) pushes per case; the
# median and the slowest are printed. The hook runs with `--timeout 600` so that the time to
# decide is measured instead of the policy; the default `--timeout 4` is what a server uses.
# Env: LEADEY_BIN (else `cargo build --release`), WORK (default target/bench/push), RUNS.
# Output: a Markdown table on stdout. Exit 0 when every leadey-scan hook rejected its push and
# named every planted key, 1 otherwise, 2 on setup errors.
set -euo pipefail

NAME=push
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

RUNS="${RUNS:-3}"
WORK="${WORK:-$(bench_dir push)}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
check_untracked WORK "$WORK"
BIN="$(leadey_bin)"

src_of() { # src_of OWNER+NAME URL
  if [ -n "${MIRRORS:-}" ] && [ -d "$MIRRORS/$1/repo" ]; then echo "$MIRRORS/$1/repo"; else echo "$2"; fi
}
BIG_SRC="${1:-$(src_of rust-lang+cargo https://github.com/rust-lang/cargo)}"
LARGE_SRC="${2:-$(src_of git+git https://github.com/git/git)}"

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com

# fake_key SEED: a synthetic key with a random-looking 32-character base62 body.
fake_key() {
  python3 -c 'import random,sys; r=random.Random(int(sys.argv[1])); a="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"; print("leadey_sk_live_"+"".join(r.choice(a) for _ in range(32)))' "$1"
}

# plant CLONE N SEED: one commit on top of HEAD adding N keys (plumbing, no checkout); prints
# the keys' last four characters (what the dashboard mask shows).
plant() {
  local clone="$1" n="$2" seed="$3" idx blob tree commit i key tails=()
  idx="$(mktemp)"
  rm -f "$idx"
  GIT_INDEX_FILE="$idx" git -C "$clone" read-tree HEAD
  for ((i = 0; i < n; i++)); do
    key="$(fake_key $((seed + i)))"
    tails+=("${key: -4}")
    blob="$(printf 'LEADEY_KEY=%s\n' "$key" | git -C "$clone" hash-object -w --stdin)"
    GIT_INDEX_FILE="$idx" git -C "$clone" update-index --add --cacheinfo "100644,$blob,bench-planted/key$i.env"
  done
  tree="$(GIT_INDEX_FILE="$idx" git -C "$clone" write-tree)"
  rm -f "$idx"
  commit="$(git -C "$clone" commit-tree "$tree" -p HEAD -m "bench: planted keys")"
  git -C "$clone" update-ref refs/heads/bench "$commit"
  printf '%s\n' "${tails[@]}"
}

# hook SERVER KIND: installs a self-timing pre-receive hook: KIND leadey or naive.
hook() {
  local server="$1" kind="$2" cmd
  case "$kind" in
    leadey) cmd="'$BIN' --pre-receive --timeout 600" ;;
    naive) cmd="while read -r old new ref; do
  case \$new in *[!0]*) ;; *) continue ;; esac
  case \$old in *[!0]*) git log -p \"\$old..\$new\" ;; *) git log -p \"\$new\" --not --all ;; esac
done | '$BIN' - --quiet --format short" ;;
  esac
  cat >"$server/hooks/pre-receive" <<EOF
#!/bin/sh
start=\$(date +%s.%N)
$cmd
rc=\$?
# CPU seconds of the hook's children (user + system), from the shell's own \`times\`.
# (\`times\` in a command substitution would report the subshell's children, none.)
times >"$WORK/hook-cpu"
cpu=\$(tail -n 1 "$WORK/hook-cpu" | awk '{t = 0; for (i = 1; i <= 2; i++) { split(\$i, p, "m"); t += p[1] * 60 + p[2] } printf "%.3f", t}')
echo "\$start \$(date +%s.%N) \$rc \$cpu" >>"$WORK/hook-times"
exit \$rc
EOF
  chmod +x "$server/hooks/pre-receive"
}

# measure NAME CLIENT SERVER KIND TAILS...: RUNS pushes of refs/heads/bench; prints a table row.
measure() {
  local name="$1" client="$2" server="$3" kind="$4" i times median max cpu rc named=0 tail
  shift 4
  hook "$server" "$kind"
  rm -f "$WORK/hook-times"
  for ((i = 0; i < RUNS; i++)); do
    git -C "$client" push -q "$server" bench:refs/heads/main >/dev/null 2>"$WORK/push-$name-$kind.err" || true
  done
  times="$(awk '{printf "%.3f\n", $2 - $1}' "$WORK/hook-times" | sort -n)"
  median="$(echo "$times" | awk -v n="$RUNS" 'NR == int((n + 1) / 2)')"
  max="$(echo "$times" | tail -n 1)"
  cpu="$(awk '{print $4}' "$WORK/hook-times" | sort -n | awk -v n="$RUNS" 'NR == int((n + 1) / 2)')"
  rc="$(awk 'END {print $3}' "$WORK/hook-times")"
  for tail in "$@"; do
    grep -q "••••$tail" "$WORK/push-$name-$kind.err" && named=$((named + 1))
  done
  echo "| $name | $kind | $median | $max | $cpu | $rc | $named/$# |"
  if [ "$kind" = leadey ] && { [ "$rc" = 0 ] || [ "$named" != "$#" ]; }; then STATUS=1; fi
}

STATUS=0
log "load average: $(cut -d' ' -f1-3 /proc/loadavg); binary: $BIN ($("$BIN" --version))"

# 1. Whole history onto an empty server.
big="$WORK/big.git"
[ -d "$big" ] || git clone -q --bare --no-local "$BIG_SRC" "$big"
mapfile -t big_tails < <(plant "$big" 4 2100)
rm -rf "$WORK/empty.git" && git init -q --bare -b main "$WORK/empty.git"
commits="$(git -C "$big" rev-list --count refs/heads/bench)"

# 2. One commit onto a large server that borrows its objects.
large="$WORK/large.git"
[ -d "$large" ] || git clone -q --bare --no-local "$LARGE_SRC" "$large"
rm -rf "$WORK/fork.git" "$WORK/client.git"
git clone -q --bare --shared "$large" "$WORK/fork.git"
# The client's new objects are its own, not the server's pool's.
git clone -q --bare --shared "$large" "$WORK/client.git"
mapfile -t large_tails < <(plant "$WORK/client.git" 1 2200)
large_commits="$(git -C "$large" rev-list --count HEAD)"

echo "| push | hook | median s | slowest s | median CPU s | exit | planted keys named |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for kind in leadey naive; do
  measure "history ($commits commits) to an empty server" "$big" "$WORK/empty.git" "$kind" "${big_tails[@]}"
  measure "1 commit onto $large_commits (alternates)" "$WORK/client.git" "$WORK/fork.git" "$kind" "${large_tails[@]}"
done
exit "$STATUS"
