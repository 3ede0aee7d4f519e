#!/bin/bash
# Counts what one timed run of referral-bench costs per event, under
# callgrind: instructions, data reads and writes, and the misses of a
# simulated first-level data cache and last-level cache.  Unlike the time,
# these counts do not move with the load of a shared machine, so they show
# small changes of the engine that timings on this machine cannot (see
# docs/performance.md, "Counting instead of timing").
#
# Only the timed apply is counted (callgrind's --toggle-collect on
# referral_engine_apply_many, or on referral_engine_apply with
# --one-by-one); the generator and the oracle run under valgrind too, uncounted.
# The simulated caches ignore prefetch instructions, so the miss counts are
# the misses the engine's reads would cause without prefetching: an upper
# bound of the stalls, not a measure of them.
#
# Usage: bench/callgrind.sh [-w WORKLOAD] [-n MEMBERS] [--one-by-one]
#   REFERRAL_BENCH: the referral-bench binary (default build-rel/bench/referral-bench)
# Prints one JSON object.  About 2 minutes at 10^5 members.
set -euo pipefail

workload=chain21
members=100000
one_by_one=
while [ $# -gt 0 ]; do
  case "$1" in
    -w|--workload) workload=$2; shift 2 ;;
    -n|--members) members=$2; shift 2 ;;
    --one-by-one) one_by_one=--one-by-one; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "callgrind.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

bench=${REFERRAL_BENCH:-build-rel/bench/referral-bench}
if [ ! -x "$bench" ]; then
  echo "callgrind.sh: no referral-bench at $bench (set REFERRAL_BENCH)" >&2
  exit 2
fi
if ! command -v valgrind >/dev/null; then
  echo "callgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2
  exit 2
fi

# The simulated last-level cache: this machine's L3 when the kernel says,
# else 32 MiB.
ll=33554432
if [ -r /sys/devices/system/cpu/cpu0/cache/index3/size ]; then
  size=$(cat /sys/devices/system/cpu/cpu0/cache/index3/size)
  case "$size" in
    *K) ll=$(( ${size%K} * 1024 )) ;;
    *M) ll=$(( ${size%M} * 1024 * 1024 )) ;;
  esac
fi
toggle=referral_engine_apply_many
[ -n "$one_by_one" ] && toggle=referral_engine_apply

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "callgrind.sh: $workload, $members members, counting in $toggle (LL $ll bytes)..." >&2
valgrind --tool=callgrind --cache-sim=yes --LL=$ll,16,64 \
  --callgrind-out-file="$dir/out.%p" --toggle-collect=$toggle \
  "$bench" -w "$workload" -n "$members" --runs 1 -q --json $one_by_one \
  >"$dir/bench.json" 2>"$dir/valgrind.log"

# The forked run process is the one that collected anything.
collected=$(grep -h "Collected :" "$dir/valgrind.log" | awk '{ if ($4 > 0) print }' | tail -1)
if [ -z "$collected" ]; then
  echo "callgrind.sh: nothing was collected; valgrind said:" >&2
  tail -20 "$dir/valgrind.log" >&2
  exit 1
fi
/usr/bin/python3 - "$dir/bench.json" "$collected" "$ll" "$toggle" <<'EOF'
import json, sys
bench = json.loads(open(sys.argv[1]).read().splitlines()[-1])
# Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
f = [int(x) for x in sys.argv[2].split(":", 1)[1].split()]
ev = bench["events"]
out = {
    "workload": bench["workload"], "members": bench["members"], "events": ev,
    "counted": sys.argv[4], "ll_bytes": int(sys.argv[3]),
    "state_hash": bench["state_hash"],
    "instructions_per_event": round(f[0] / ev, 1),
    "data_reads_per_event": round(f[1] / ev, 1),
    "data_writes_per_event": round(f[2] / ev, 1),
    "d1_misses_per_event": round((f[4] + f[5]) / ev, 2),
    "ll_misses_per_event": round((f[7] + f[8]) / ev, 2),
    "ll_read_misses_per_event": round(f[7] / ev, 2),
}
print(json.dumps(out))
EOF
