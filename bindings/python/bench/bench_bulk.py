#!/usr/bin/python3
"""Speed of the Python binding's ways in, against the C engine.

    referral-bench --workload chain21 --members 100000 --write-jsonl /tmp/s.jsonl
    referral-bench --workload chain21 --members 100000 --json      # the C figure
    PYTHONPATH=BUILD/bindings/python /usr/bin/python3 bindings/python/bench/bench_bulk.py /tmp/s.jsonl

Use a release build (meson setup --buildtype=release): -Dinvariants=true
checks the whole ledger after every event.  The stream is read into memory
first (not timed), then applied to a fresh engine in each of these ways:

  columns      Engine.apply_columns() with list-of-str columns (the engine
               runs without the GIL, events built in C chunk by chunk)
  minor        the same with amounts as an int64 numpy column of minor units
               ("amount_minor", as a generated stream would have them): the
               events then carry no amount text, exactly like referral-bench's,
               so the state hash equals referral-bench's
  ints         the same with every key column (id, member, sponsor, order,
               period) as an int64 numpy column: "m123" becomes 123, the
               way a stream generated with numpy would come
  apply_jsonl  Engine.apply_jsonl() on the file (the C reader and runner)
  apply        Engine.apply() with one dict per event (a Python loop)

For each: wall time and this thread's CPU time per event, and the final
state hash, which must equal referral-bench's for the same stream.
"""

import json
import sys
import time

import referral


def load(path):
    events = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                events.append(json.loads(line))
    return events


def columns(events):
    names = sorted({k for e in events for k in e})
    return {name: [e.get(name) for e in events] for name in names}


def minor_columns(cols):
    import numpy as np
    out = dict(cols)
    amounts = out.pop("amount")
    out["amount_minor"] = np.array([0 if a is None else referral.parse_money(a)
                                    for a in amounts], dtype=np.int64)
    return out


def int_columns(cols):
    import numpy as np
    out = minor_columns(cols)
    for name in ("id", "member", "sponsor", "order", "period", "old", "new"):
        if name in out:
            out[name] = np.array([-1 if v is None else int(v.lstrip("emopd")) for v in out[name]],
                                 dtype=np.int64)
    return out


def timed(label, n, fn):
    engine = referral.Engine("chain21", check_invariants=False)
    wall, cpu = time.perf_counter(), time.thread_time()
    fn(engine)
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    print(f"{label:12} {1e9 * wall / n:8.1f} ns/event wall {1e9 * cpu / n:8.1f} ns/event cpu"
          f"  {n / wall:10,.0f} events/s  state {engine.state_hash():016x}")
    return engine


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    path = argv[1]
    events = load(path)
    cols = columns(events)
    n = len(events)
    print(f"{n:,} events from {path}")
    timed("columns", n, lambda e: e.apply_columns(cols))
    minor = minor_columns(cols)
    timed("minor", n, lambda e: e.apply_columns(minor))
    ints = int_columns(cols)
    timed("ints", n, lambda e: e.apply_columns(ints))
    timed("apply_jsonl", n, lambda e: e.apply_jsonl(path))
    if "--no-dicts" not in argv:
        def each(e):
            apply = e.apply
            for ev in events:
                apply(ev)
        timed("apply", n, each)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
