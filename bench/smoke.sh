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
