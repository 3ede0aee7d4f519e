#!/bin/bash
# The whole comparison, in one run: the library and both baselines on the
# same chain21 stream, one after another, then the ratios.
#
#   bench/compare.sh [--members N] [--runs K] [--seed S] [--dir DIR] [--full] [--huge]
#
#   --members N  members of the compared stream (default 100000: 10^6 events);
#                the baselines run once on it, the library K times (median)
#   --full       also every referral-bench workload at its default size
#                (10^6 members), the chain21 scaling curve 10^4..10^6 and
#                `referral run` on a 10^7-line file
#   --huge       with --full: the scaling curve goes on to 10^7 members
#
# Tools: $REFERRAL_BENCH, $REFERRAL_CLI (default build-bench/...), $BENCH_PYTHON
# (default /usr/bin/python3).  Use a release build:
#   meson setup build-bench --buildtype=release -Dtests=false
#   meson compile -C build-bench bench          (this script)
#   meson compile -C build-bench bench-full     (this script with --full)
# Results also go to DIR/results.jsonl (default: a new directory in /tmp).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bench=${REFERRAL_BENCH:-$root/build-bench/bench/referral-bench}
cli=${REFERRAL_CLI:-$root/build-bench/tools/referral/referral}
python=${BENCH_PYTHON:-/usr/bin/python3}
members=100000
runs=5
seed=1
dir=
full=0
huge=0

while [ $# -gt 0 ]; do
  case $1 in
    --members) members=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --full) full=1; shift ;;
    --huge) huge=1; shift ;;
    *) echo "usage: $0 [--members N] [--runs K] [--seed S] [--dir DIR] [--full] [--huge]" >&2
       exit 2 ;;
  esac
done
[ -n "$dir" ] || dir=$(mktemp -d /tmp/referral-bench.XXXXXX)
mkdir -p "$dir"
results=$dir/results.jsonl
: > "$results"

say() { printf '%s\n' "$*" >&2; }

# timed CMD...: runs CMD with stdout to $out, prints "wall_s cpu_s".
timed() {
  /usr/bin/time -f '%e %U %S' -o "$dir/time.txt" "$@" > "$out"
  awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$dir/time.txt"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

say "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
"$(awk '/MemTotal/ { printf " %.1f GiB", $2 / 1048576 }' /proc/meminfo); load $(cut -d' ' -f1-3 /proc/loadavg)"
say "== results in $dir"

say "== 1. the baselines agree with the library (small stream)"
"$here/check-baselines.sh" --members 3000 --seed "$seed" >&2

say "== 2. the compared stream: chain21, $members members, seed $seed"
"$bench" --workload chain21 --members "$members" --seed "$seed" --quiet \
  --write-jsonl "$dir/events.jsonl"
events=$(wc -l < "$dir/events.jsonl")
say "   $events events"

say "== 3. library, in memory (referral-bench, median of $runs fresh engines)"
"$bench" --workload chain21 --members "$members" --seed "$seed" --runs "$runs" --json --quiet \
  | tee -a "$results" > "$dir/library-memory.json"
lib_mem_s=$(jq -r '.seconds_median' "$dir/library-memory.json")
lib_mem_cpu=$(jq -r '.cpu_ns_per_event * .events / 1e9' "$dir/library-memory.json")

say "== 4. library, end to end: referral run on the JSONL file (median of $runs)"
: > "$dir/run-times.txt"
for i in $(seq "$runs"); do
  out=/dev/null timed "$cli" run --scheme chain21 --balances "$dir/library.jsonl" \
    "$dir/events.jsonl" 2> /dev/null >> "$dir/run-times.txt"
done
lib_run_s=$(cut -d' ' -f1 "$dir/run-times.txt" | median)
lib_run_cpu=$(cut -d' ' -f2 "$dir/run-times.txt" | median)

say "== 5. pure-Python baseline (one run)"
read -r py_s py_cpu < <(out=$dir/python.jsonl timed "$python" "$here/baselines/chain21.py" "$dir/events.jsonl")
say "== 6. SQLite baseline (one run)"
read -r sql_s sql_cpu < <(out=$dir/sqlite.jsonl timed "$python" "$here/baselines/chain21_sqlite.py" "$dir/events.jsonl")

status=0
for b in python sqlite; do
  if ! cmp -s "$dir/library.jsonl" "$dir/$b.jsonl"; then
    say "MISMATCH: the $b baseline's balances differ from referral run on the compared stream"
    status=1
  fi
done

awk -v ev="$events" -v m="$members" \
    -v lm="$lib_mem_s" -v lmc="$lib_mem_cpu" -v lr="$lib_run_s" -v lrc="$lib_run_cpu" \
    -v py="$py_s" -v pyc="$py_cpu" -v sq="$sql_s" -v sqc="$sql_cpu" 'BEGIN {
  printf "\nchain21, %d members, %d events (same stream, same balances)\n", m, ev
  printf "%-34s %10s %14s %10s\n", "", "wall s", "events/s", "cpu s"
  printf "%-34s %10.3f %14.0f %10.3f\n", "library in memory (referral-bench)", lm, ev / lm, lmc
  printf "%-34s %10.3f %14.0f %10.3f\n", "library end to end (referral run)", lr, ev / lr, lrc
  printf "%-34s %10.3f %14.0f %10.3f\n", "pure Python", py, ev / py, pyc
  printf "%-34s %10.3f %14.0f %10.3f\n", "SQLite (Python sqlite3)", sq, ev / sq, sqc
  printf "\nratios (baseline time / library time; wall, cpu in brackets)\n"
  printf "  pure Python / library in memory : %8.1f x  (%.1f x)\n", py / lm, pyc / lmc
  printf "  SQLite      / library in memory : %8.1f x  (%.1f x)\n", sq / lm, sqc / lmc
  printf "  pure Python / referral run      : %8.1f x  (%.1f x)\n", py / lr, pyc / lrc
  printf "  SQLite      / referral run      : %8.1f x  (%.1f x)\n", sq / lr, sqc / lrc
}'
jq -cn --argjson ev "$events" --argjson m "$members" --argjson lm "$lib_mem_s" \
  --argjson lr "$lib_run_s" --argjson py "$py_s" --argjson sq "$sql_s" \
  --argjson lrc "$lib_run_cpu" --argjson pyc "$py_cpu" --argjson sqc "$sql_cpu" --argjson lmc "$lib_mem_cpu" \
  '{comparison: "chain21", members: $m, events: $ev, library_memory_s: $lm, library_memory_cpu_s: $lmc,
    referral_run_s: $lr, referral_run_cpu_s: $lrc, referral_run_lines_per_s: ($ev / $lr),
    python_s: $py, python_cpu_s: $pyc, sqlite_s: $sq, sqlite_cpu_s: $sqc,
    python_over_library: ($py / $lm), sqlite_over_library: ($sq / $lm),
    python_over_referral_run: ($py / $lr), sqlite_over_referral_run: ($sq / $lr)}' >> "$results"

if [ "$full" = 1 ]; then
  say "== 7. every workload at its default size (median of $runs)"
  "$bench" --runs "$runs" --seed "$seed" --json | tee -a "$results" > "$dir/workloads.jsonl"
  say "== 8. scaling: chain21 from 10^4 members"
  sizes=10000,100000,1000000
  [ "$huge" = 1 ] && sizes=$sizes,10000000
  "$bench" --workload chain21 --members "$sizes" --runs "$runs" --seed "$seed" --json \
    | tee -a "$results" > "$dir/scaling.jsonl"
  say "== 9. referral run on a 10^7-line file (10^6 members)"
  "$bench" --workload chain21 --members 1000000 --seed "$seed" --quiet --write-jsonl "$dir/big.jsonl"
  big=$(wc -l < "$dir/big.jsonl")
  : > "$dir/big-times.txt"
  for i in 1 2 3; do
    out=/dev/null timed "$cli" run --scheme chain21 "$dir/big.jsonl" 2> /dev/null >> "$dir/big-times.txt"
  done
  big_s=$(cut -d' ' -f1 "$dir/big-times.txt" | median)
  jq -cn --argjson l "$big" --argjson s "$big_s" \
    '{jsonl_end_to_end: "chain21", lines: $l, seconds_median: $s, lines_per_s: ($l / $s)}' \
    | tee -a "$results"
  rm -f "$dir/big.jsonl"
  echo
  jq -r '"\(.workload)\t\(.members)\t\(.events)\t\(.events_per_s)\t\(.ns_per_event)\t\(.postings_per_s)\t\(.peak_rss_bytes)\t\(.bytes_per_member)"' \
    "$dir/workloads.jsonl" "$dir/scaling.jsonl" \
    | awk -F'\t' 'BEGIN { printf "%-12s %9s %10s %12s %9s %12s %10s %8s\n", "workload", "members",
                          "events", "events/s", "ns/event", "postings/s", "peak MiB", "B/member" }
                  { printf "%-12s %9d %10d %12.0f %9.1f %12.0f %10.1f %8.0f\n", $1, $2, $3, $4, $5, $6,
                          $7 / 1048576, $8 }'
fi
say "== results: $results"
exit $status
