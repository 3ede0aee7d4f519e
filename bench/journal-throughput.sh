#!/bin/bash
# The journal's throughput for each sync policy (docs/durability.md):
# `referral run` on a chain21 stream, every configuration once per round,
# 5 interleaved rounds (so that the machine's load hits them alike),
# median wall time of each.  Not a test.
#
#   bench/journal-throughput.sh REFERRAL EVENTS SHM_DIR DISK_DIR
#
# REFERRAL: the referral tool of a release build; EVENTS: e.g.
#   referral-bench --workload chain21 --members 20000 --write-jsonl EVENTS
# SHM_DIR, DISK_DIR: scratch directories on tmpfs and on the disk (a
# journal `tj` is created and removed in each).
set -u
if [ $# -ne 4 ]; then
  echo "usage: $0 REFERRAL EVENTS SHM_DIR DISK_DIR" >&2
  exit 2
fi
R=$1 EV=$2 S=$3 D=$4
mkdir -p "$S" "$D"
EV20=$S/first20k.jsonl
head -n 20000 "$EV" > "$EV20"
declare -A T
names=(no-journal none-shm none-disk group64-shm group64-disk every-shm every-disk-20k none-shm-snap50k)
args() {
  case $1 in
    no-journal) echo "$EV";;
    none-shm) echo "--journal $S/tj --sync none $EV";;
    none-disk) echo "--journal $D/tj --sync none $EV";;
    group64-shm) echo "--journal $S/tj --sync group $EV";;
    group64-disk) echo "--journal $D/tj --sync group $EV";;
    every-shm) echo "--journal $S/tj --sync every $EV";;
    every-disk-20k) echo "--journal $D/tj --sync every $EV20";;
    none-shm-snap50k) echo "--journal $S/tj --sync none --snapshot-every 50000 $EV";;
  esac
}
err=$(mktemp)
echo "== $(date -u +%H:%M:%S) load: $(cut -d' ' -f1-3 /proc/loadavg) :: $R run --scheme chain21 ARGS, 5 interleaved rounds"
for r in 1 2 3 4 5; do
  for n in "${names[@]}"; do
    rm -rf "$S/tj" "$D/tj"
    s=$(date +%s.%N)
    # shellcheck disable=SC2046
    "$R" run --scheme chain21 $(args $n) > /dev/null 2> "$err" || { echo "FAIL $n"; cat "$err"; }
    e=$(date +%s.%N)
    T[$n]="${T[$n]:-} $(echo "$e - $s" | bc)"
  done
done
rm -rf "$S/tj" "$D/tj" "$EV20" "$err"
for n in "${names[@]}"; do
  # shellcheck disable=SC2086
  med=$(printf '%s\n' ${T[$n]} | sort -n | sed -n 3p)
  echo "$n | $(args $n) | runs${T[$n]} | median $med s"
done
echo "== $(date -u +%H:%M:%S) load: $(cut -d' ' -f1-3 /proc/loadavg) :: done"
