"""The bulk path stays within 2x of the C engine (issue 7).

Compared with referral-bench on the same chain 2+1 stream: its CPU time per
event applying prebuilt ReferralEvents in C, against this thread's CPU time
per event in Engine.apply_columns() (amounts as an int64 minor-units column,
so that the events, and the final state hash, are exactly referral-bench's).
Only meaningful in builds without -Dinvariants (which check the whole
ledger after every event) and without sanitizers: skipped elsewhere.
"""

import json
import os
import subprocess
import time

import numpy as np
import pytest

import referral
from conftest import SANITIZED, read_jsonl

BENCH = os.environ.get("REFERRAL_BENCH")
INVARIANTS = os.environ.get("REFERRAL_INVARIANTS") == "1"

pytestmark = pytest.mark.skipif(
    BENCH is None or SANITIZED or INVARIANTS,
    reason="needs referral-bench in a build without -Dinvariants and sanitizers")


def bench(*args):
    out = subprocess.run([BENCH, "--workload", "chain21", "--members", "20000", "-q", *args],
                         capture_output=True, text=True, check=True)
    return out.stdout


def test_bulk_path_within_twice_the_c_engine(tmp_path):
    path = tmp_path / "stream.jsonl"
    bench("--write-jsonl", str(path))
    events = read_jsonl(path)
    names = sorted({k for e in events for k in e} - {"amount"})
    cols = {name: [e.get(name) for e in events] for name in names}
    cols["amount_minor"] = np.array(
        [referral.parse_money(e["amount"]) if "amount" in e else 0 for e in events],
        dtype=np.int64)

    c = json.loads(bench("--runs", "3", "--json"))
    best = None
    for _ in range(3):
        engine = referral.Engine("chain21")
        start = time.thread_time()
        engine.apply_columns(cols)
        cpu = (time.thread_time() - start) * 1e9 / len(events)
        best = cpu if best is None else min(best, cpu)
    assert f"{engine.state_hash():016x}" == c["state_hash"]
    ratio = best / c["cpu_ns_per_event"]
    print(f"C {c['cpu_ns_per_event']:.0f} ns/event, Python columns {best:.0f} ns/event, "
          f"ratio {ratio:.2f}")
    assert ratio < 2.0
