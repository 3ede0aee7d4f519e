#!/bin/bash
# Smoke test (not a timing): every workload runs at a tiny size, prints one
# JSON object with the documented keys, rejects no event, and two runs end in
# the same state (referral-bench checks that itself).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=${REFERRAL_BENCH:-$(dirname "$here")/build-bench/bench/referral-bench}
python=${BENCH_PYTHON:-/usr/bin/python3}
"$bench" --members 2000 --runs 2 --json --quiet | "$python" -c '
import json, sys
names = set()
keys = ["workload", "members", "events", "events_per_s", "ns_per_event", "postings",
        "postings_per_s", "peak_rss_bytes", "bytes_per_member", "bytes_per_posting", "rejected"]
for line in sys.stdin:
    o = json.loads(line)
    missing = [k for k in keys if k not in o]
    assert not missing, "%s: missing %s" % (o.get("workload"), missing)
    assert o["members"] == 2000 and o["events"] >= 2000 * 9, o
    assert o["postings"] > 0 and o["events_per_s"] > 0 and o["peak_rss_bytes"] > 0, o
    assert o["rejected"] == 0, o
    names.add(o["workload"])
want = {"chain21", "bare", "deep_chain", "wide_star", "deep_binary", "unilevel"}
assert names == want, names
print("ok: %d workloads" % len(names))
'

# The spill path (the stream written to a file while generated, read back a
# window at a time; the default above 2,000,000 members) must end in the
# same state as the stream held in memory (and as the oracle: referral-bench
# checks that itself), and leave no file behind.  Small windows, not a
# multiple of the batches, so that the generator writes and the run reads
# the file many times over (20 windows per stream).  5,000 members, one run:
# a few seconds here, about 13 s in a build with sanitizers and invariants.
spill=$(mktemp -d "${TMPDIR:-/tmp}/referral-bench-smoke.XXXXXX")
trap 'rm -rf "$spill"' EXIT
for mode in "--in-memory" "--spill $spill --spill-window 2500 --chunk 700"; do
  # shellcheck disable=SC2086
  "$bench" --workload chain21,deep_binary --members 5000 --runs 1 --json --quiet $mode
done | "$python" -c '
import json, sys
seen = {}
for line in sys.stdin:
    o = json.loads(line)
    assert o["members"] == 5000 and o["rejected"] == 0, o
    seen[(o["workload"], o["spill"])] = (o["state_hash"], o["events"], o["postings"])
assert len(seen) == 4, seen
for w in ("chain21", "deep_binary"):
    assert seen[(w, False)] == seen[(w, True)], (w, seen)
print("ok: spill file and memory give the same state (%s)" %
      ", ".join("%s %s" % (w, seen[(w, True)][0]) for w in ("chain21", "deep_binary")))
'
leftover=$(find "$spill" -mindepth 1 | head -1)
[ -z "$leftover" ] || { echo "spill file left behind: $leftover" >&2; exit 1; }
