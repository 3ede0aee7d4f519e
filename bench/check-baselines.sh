#!/bin/bash
# Checks that both baselines print, byte for byte, the balances that
# `referral run --scheme chain21` prints, on a generated chain21 stream.
#
#   bench/check-baselines.sh [--members N] [--seed S] [--keep DIR]
#
# Tools: $REFERRAL_BENCH, $REFERRAL_CLI (default: build-bench/...),
# $BENCH_PYTHON (default /usr/bin/python3).  Exit 0 when all agree.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bench=${REFERRAL_BENCH:-$root/build-bench/bench/referral-bench}
cli=${REFERRAL_CLI:-$root/build-bench/tools/referral/referral}
python=${BENCH_PYTHON:-/usr/bin/python3}
members=3000
seed=1
keep=

while [ $# -gt 0 ]; do
  case $1 in
    --members) members=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "usage: $0 [--members N] [--seed S] [--keep DIR]" >&2; exit 2 ;;
  esac
done

if [ -n "$keep" ]; then
  dir=$keep
  mkdir -p "$dir"
else
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
fi

"$bench" --workload chain21 --members "$members" --seed "$seed" --quiet \
  --write-jsonl "$dir/events.jsonl"
"$cli" run --scheme chain21 --balances "$dir/library.jsonl" "$dir/events.jsonl" 2> "$dir/library.log"
"$python" "$here/baselines/chain21.py" "$dir/events.jsonl" > "$dir/python.jsonl"
"$python" "$here/baselines/chain21_sqlite.py" "$dir/events.jsonl" > "$dir/sqlite.jsonl"

lines=$(wc -l < "$dir/events.jsonl")
status=0
for b in python sqlite; do
  if cmp -s "$dir/library.jsonl" "$dir/$b.jsonl"; then
    echo "ok: $b baseline = referral run ($lines events, $members members, seed $seed)"
  else
    echo "MISMATCH: $b baseline differs from referral run ($lines events, seed $seed):"
    diff "$dir/library.jsonl" "$dir/$b.jsonl" | head -20
    status=1
  fi
done
# The stream must exercise every part of the scheme, or agreement means little.
for t in join order refund period_close transpose withdraw promote; do
  if ! grep -q "\"type\":\"$t\"" "$dir/events.jsonl"; then
    echo "the stream has no $t event: too small to check the baselines" >&2
    status=1
  fi
done
if ! grep -q '"held":"[1-9]' "$dir/library.jsonl" || ! grep -q '"rank":"partner"' "$dir/library.jsonl"; then
  echo "the stream holds no funds or makes no partner: too small to check the baselines" >&2
  status=1
fi
exit $status
