"""Reference counts and memory: many engines, schemes and Python rule
instances created and destroyed leave nothing behind.  Under the sanitized
build (ASan preloaded, PYTHONMALLOC=malloc) the same loops check that no
object is used after it was freed."""

import gc
import os
import sys
import tracemalloc
import weakref

import pytest

import referral
from conftest import SANITIZED

N = 10_000


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


class Counted(referral.Rule):
    """A rule that counts its live instances and posts through the context."""

    name = "test_counted"
    params = [referral.Param("amount", "money", "0.01")]
    live = weakref.WeakSet()

    def __init__(self):
        Counted.live.add(self)

    def init(self, setup, params):
        self.amount = params["amount"]
        self.kind = setup.kind("counted")

    def on_join(self, ctx, member):
        ctx.post(referral.ACCOUNT_PLATFORM, ctx.member_account(member), self.amount, self.kind)

    def on_order(self, ctx, order):
        if order.key == "boom":
            raise ValueError("boom")


referral.register_rule(Counted)


def one_round(i):
    scheme = referral.Scheme.build(f"s{i}", rules=[
        {"name": "a", "type": "test_counted"},
        {"name": "b", "type": "test_counted", "params": {"amount": "0.02"}},
        {"name": "d", "type": "direct_award", "params": {"rates": ["5%"]}}])
    engine = referral.Engine(scheme)
    engine.join("A")
    engine.join("B", "A")
    engine.order("o1", "B", "10.00")
    try:
        engine.order("boom", "B", "1.00")
    except referral.RejectedError:
        pass
    engine.apply_columns({"type": ["join"], "id": ["c"], "member": ["C"]})
    assert engine.available_minor("A") == 3 + 50
    engine.balances()
    engine.postings()
    engine.member_columns()
    return engine


def test_many_engines_and_rule_instances():
    cls_refs = sys.getrefcount(Counted)
    for i in range(200):
        one_round(i)
    gc.collect()
    assert len(Counted.live) == 0
    # 10,000 rounds: every rule instance is freed with its scheme, the class
    # is not kept, and the process does not grow (C memory included).
    rss_before = rss_kib()
    for i in range(N):
        one_round(i)
    gc.collect()
    rss_after = rss_kib()
    assert len(Counted.live) == 0, "rule instances outlived their schemes"
    assert sys.getrefcount(Counted) == cls_refs
    if not SANITIZED:  # ASan's quarantine keeps freed memory on purpose
        assert rss_after - rss_before < 8 * 1024, \
            f"RSS grew by {rss_after - rss_before} KiB over {N} rounds"
    # And no Python object is left behind (tracemalloc is slow: fewer rounds).
    tracemalloc.start()
    snap_before = tracemalloc.take_snapshot()
    for i in range(N // 10):
        one_round(i)
    gc.collect()
    snap_after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in snap_after.compare_to(snap_before, "filename")
                if s.size_diff > 0)
    assert grown < 64 * 1024, f"Python allocations grew by {grown} bytes"


def test_many_engines_of_one_scheme():
    scheme = referral.Scheme("chain21")
    before = sys.getrefcount(scheme)
    engines = [referral.Engine(scheme) for _ in range(N)]
    assert sys.getrefcount(scheme) == before + N   # each Engine.scheme is this object
    for e in engines[:100]:
        e.join("A")
    del engines, e
    gc.collect()
    assert sys.getrefcount(scheme) == before


def test_result_objects_hold_no_hidden_references():
    engine = referral.Engine("chain21")
    engine.join("A")
    engine.promote("A", "partner")
    engine.join("B", "A")
    engine.order("o1", "B", "699.00", sku="gift")
    probes = [engine.balances, engine.postings, engine.member_columns, engine.posting_columns,
              lambda: engine.explain("A"), lambda: engine.lookup_order("o1"),
              lambda: engine.event_postings(3), engine.members, engine.account_names]
    for probe in probes:
        probe()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(2000):
        for probe in probes:
            probe()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename") if s.size_diff > 0)
    assert grown < 64 * 1024, f"query results leaked {grown} bytes"


@pytest.mark.parametrize("n", [N])
def test_many_failed_schemes_and_errors(n):
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    engine = referral.Engine("demo")
    for i in range(n):
        try:
            referral.Scheme.build("x", rules=[{"name": "a", "type": "test_counted",
                                               "params": {"amount": "bad"}}])
        except referral.SchemeError:
            pass
        try:
            engine.apply({"type": "join", "id": "x", "member": "A", "bogus": 1})
        except referral.ParseError:
            pass
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    assert len(Counted.live) == 0
    grown = sum(s.size_diff for s in after.compare_to(before, "filename") if s.size_diff > 0)
    assert grown < 64 * 1024, f"errors leaked {grown} bytes"
