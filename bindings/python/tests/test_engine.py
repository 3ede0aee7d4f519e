"""referral.Engine: apply, conveniences, every query, error mapping."""

import json
import threading
from decimal import Decimal

import pytest

import referral
from conftest import EVENTS_DIR, read_jsonl


def example1(engine):
    """Worked example 1 of the chain 2+1 spec, through the conveniences."""
    engine.join("A")
    engine.promote("A", "partner")
    engine.join("B", sponsor="A")
    engine.join("C", sponsor="B")
    engine.order("o1", "B", "699.00", sku="gift")
    engine.order("o2", "C", "699.00", sku="gift")


def test_engine_from_name_path_and_scheme(tmp_path):
    by_name = referral.Engine("chain21")
    by_path = referral.Engine(str(referral_scheme_file("chain21")))
    by_pathlike = referral.Engine(referral_scheme_file("chain21"))
    by_object = referral.Engine(referral.Scheme("chain21"))
    for e in (by_name, by_path, by_pathlike, by_object):
        example1(e)
    hashes = {e.state_hash() for e in (by_name, by_path, by_pathlike, by_object)}
    assert len(hashes) == 1
    assert by_object.scheme == referral.Scheme("chain21")
    assert by_name.scheme.name == "chain21"


def referral_scheme_file(name):
    from conftest import SOURCE_DIR
    return SOURCE_DIR / "examples" / "schemes" / f"{name}.ini"


def test_engine_bad_scheme_arguments(tmp_path):
    with pytest.raises(referral.FileError):
        referral.Engine(str(tmp_path / "missing.ini"))
    with pytest.raises(TypeError):
        referral.Engine(42)
    bad = tmp_path / "bad.ini"
    bad.write_text("[scheme]\nname = x\n[rule r]\ntype = no_such_type\n")
    with pytest.raises(referral.UnknownRuleTypeError, match="no_such_type"):
        referral.Engine(bad)


def test_worked_example_1_through_conveniences(chain21):
    example1(chain21)
    assert chain21.balances() == read_jsonl(EVENTS_DIR / "chain21-example1.balances.jsonl")
    assert chain21.available("A") == Decimal("400.00")
    assert chain21.held("A") == Decimal("100.00")
    assert chain21.available_minor("B") == 8000
    assert chain21.held_minor("B") == 2000
    assert isinstance(chain21.available("A"), Decimal)
    assert chain21.balance("pool:pool") == Decimal("69.90")
    assert chain21.balance("A:held", minor=True) == 10000
    assert chain21.balance("platform") + chain21.balance("outside") + sum(
        chain21.available(m) + chain21.held(m) for m in chain21.members()
    ) + chain21.balance("pool:pool") == 0
    assert chain21.is_balanced()
    chain21.check_invariants()


def test_apply_result_and_duplicates(chain21):
    r = chain21.apply({"id": "e1", "type": "join", "member": "A"})
    assert r == (False, 0, 0, 0)
    assert not r.duplicate and r.seq == 0 and r.n_postings == 0
    again = chain21.apply({"type": "join", "member": "A", "id": "e1"})  # key order is no content
    assert again.duplicate and again.seq == 0
    chain21.apply({"id": "e2", "type": "join", "member": "B", "sponsor": "A"})
    r = chain21.apply({"id": "e3", "type": "order", "order": "o1", "member": "B",
                       "amount": "699.00"})
    assert r.seq == 2 and r.first_posting == 0 and r.n_postings >= 2
    assert chain21.n_events == 3
    with pytest.raises(referral.IdConflictError, match='event id "e1"'):
        chain21.apply({"id": "e1", "type": "join", "member": "Z"})
    # "699" and 699 and "699.00" are different content.
    with pytest.raises(referral.IdConflictError):
        chain21.apply({"id": "e3", "type": "order", "order": "o1", "member": "B",
                       "amount": 699})
    assert chain21.n_events == 3


def test_rejection_leaves_state_unchanged(chain21):
    example1(chain21)
    before = chain21.state_hash()
    n = chain21.n_postings
    cases = [
        ({"id": "x1", "type": "order", "order": "o9", "member": "X", "amount": "1"},
         referral.UnknownMemberError, 'order "o9": member "X" does not exist'),
        ({"id": "x2", "type": "join", "member": "A"}, referral.DuplicateMemberError,
         'join "A": member "A" exists already'),
        ({"id": "x3", "type": "join", "member": "Q", "sponsor": "Z"},
         referral.UnknownMemberError, 'sponsor "Z" does not exist'),
        ({"id": "x4", "type": "refund", "order": "o77"}, referral.UnknownOrderError, "o77"),
        ({"id": "x5", "type": "order", "order": "o1", "member": "A", "amount": "1"},
         referral.DuplicateOrderError, "o1"),
        ({"id": "x6", "type": "withdraw", "member": "B", "amount": "1000.00"},
         referral.InsufficientFundsError, "exceeds available"),
        ({"id": "x7", "type": "promote", "member": "A", "rank": "agent"},
         referral.InvalidRankError, None),
        ({"id": "x8", "type": "promote", "member": "A", "rank": "emperor"},
         referral.InvalidRankError, None),
        ({"id": "x9", "type": "order", "order": "o10", "member": "A", "amount": "0"},
         referral.InvalidEventError, "not positive"),
        ({"id": "x10", "type": "join"}, referral.InvalidEventError, '"member"'),
        ({"id": "", "type": "join", "member": "Q"}, referral.InvalidEventError, '"id"'),
        ({"id": "x11", "type": "refund", "order": "o1", "sku": "gift"},
         referral.InvalidEventError, "does not belong"),
        ({"id": "x12", "type": "transpose", "member": "A", "old": "B", "new": "C"},
         referral.RejectedError, None),
    ]
    for event, cls, text in cases:
        with pytest.raises(cls) as info:
            chain21.apply(event)
        assert isinstance(info.value, referral.Error)
        assert info.value.code == cls.code
        if text is not None:
            assert text in str(info.value), (event, str(info.value))
    chain21.refund("o1")
    with pytest.raises(referral.AlreadyRefundedError, match="already refunded"):
        chain21.refund("o1", id="again")
    assert chain21.n_postings > n
    # Nothing rejected changed anything: replaying the good events matches.
    other = referral.Engine("chain21")
    example1(other)
    other.refund("o1")
    assert other.state_hash() == chain21.state_hash() != before


def test_unknown_command_error():
    # The demo scheme has no transpose rule.
    demo = referral.Engine("demo")
    demo.join("A")
    with pytest.raises(referral.UnknownCommandError):
        demo.transpose("A", "A", "A")


def test_error_classes_map_every_code():
    classes = [getattr(referral, name) for name in referral.__all__
               if name.endswith("Error") and name != "Error"]
    codes = sorted(c.code for c in classes)
    assert codes == list(range(20))          # every REFERRAL_ERROR code, once
    names = {c.code_name for c in classes}
    assert {"INVALID_MONEY", "UNKNOWN_MEMBER", "IO", "PARSE", "REJECTED"} <= names
    for c in classes:
        assert issubclass(c, referral.Error) and c.__module__ == "referral"
        assert c.__doc__
    assert issubclass(referral.InvalidMoneyError, ValueError)
    assert issubclass(referral.UnknownMemberError, LookupError)
    assert issubclass(referral.MoneyOverflowError, OverflowError)
    assert issubclass(referral.FileError, OSError)
    assert referral.Error.code is None


def test_convenience_ids_and_time(demo):
    demo.join("A", time="2024-01-01T00:00:00Z")
    demo.join("B", "A")
    r = demo.order("o1", "B", 100)
    assert demo.event_id(r.seq) == "order:o1"
    assert demo.event_id(0) == "join:A"
    demo.promote("A", "member")
    assert demo.event_id(3) == "promote:A:member"
    demo.withdraw("A", "1.00")
    assert demo.event_id(4) == "withdraw:A:4"
    demo.close_period("p1")
    assert demo.event_id(5) == "period_close:p1"
    demo.refund("o1", id="my-refund")
    assert demo.event_id(6) == "my-refund"
    # Same content again under the generated id: a duplicate.
    assert demo.join("A", time="2024-01-01T00:00:00Z").duplicate
    # Decimal amounts are taken as their decimal text.
    demo.order("o2", "B", Decimal("12.50"))
    assert demo.lookup_order("o2").amount == Decimal("12.50")


def test_tree_queries(chain21):
    example1(chain21)
    chain21.join("D", sponsor="B")
    chain21.order("o3", "D", "699.00", sku="gift")  # B becomes partner; C, D pass up to A
    assert len(chain21) == chain21.n_members == 4
    assert "A" in chain21 and "Z" not in chain21 and 3 not in chain21
    assert chain21.members() == ["A", "B", "C", "D"]
    assert chain21.member_index("C") == 2
    assert chain21.member_key(2) == "C"
    assert chain21.member_index(3) == 3
    assert chain21.rank("B") == "partner"
    assert chain21.rank_index("B") == 2
    assert chain21.rank(0) == "partner"
    assert chain21.sponsor("C") == "B"
    assert chain21.sponsor("A") is None
    assert chain21.parent("C") == "A"       # passed up
    assert chain21.parent("A") is None
    assert chain21.children("A") == ["B", "C", "D"]
    assert chain21.sponsored("B") == ["C", "D"]
    assert chain21.children("B") == []
    assert chain21.depth("C") == 1
    assert chain21.is_ancestor("A", "C")
    assert not chain21.is_ancestor("B", "C")
    assert chain21.nearest_at_rank("C", "partner") == "A"
    assert chain21.nearest_at_rank("A", "partner") is None
    with pytest.raises(referral.InvalidRankError):
        chain21.nearest_at_rank("C", "boss")
    for bad in ("Z", 99, -1):
        with pytest.raises(referral.UnknownMemberError):
            chain21.rank(bad)
    with pytest.raises(TypeError):
        chain21.rank(1.5)


def test_ledger_queries(chain21):
    example1(chain21)
    postings = chain21.postings()
    assert len(postings) == chain21.n_postings
    first = postings[0]
    assert first.index == 0 and first.kind == "sale" and first.rule == "engine"
    assert (first.from_account, first.to_account) == ("outside", "platform")
    assert first.amount == Decimal("699.00") and first.amount_minor == 69900
    assert first.cause is None and first.reversal is False
    assert first.event_id == chain21.event_id(first.event)
    assert chain21.posting(0) == first
    assert chain21.posting(-1) == postings[-1]
    assert chain21.postings(1, 3) == postings[1:3]
    assert chain21.postings(-2) == postings[-2:]
    with pytest.raises(IndexError):
        chain21.posting(len(postings))
    holds = [p for p in postings if p.kind == "hold"]
    assert holds and all(p.cause is not None for p in holds)
    assert postings[holds[0].cause].kind in ("direct", "team")
    # explain: every posting touching A's accounts.
    explained = chain21.explain("A")
    assert explained and all("A:" in p.from_account + p.to_account for p in explained)
    assert sum(p.amount_minor for p in explained if p.to_account == "A:available") - sum(
        p.amount_minor for p in explained if p.from_account == "A:available") \
        == chain21.available_minor("A")
    # event_postings by seq and by id
    by_seq = chain21.event_postings(4)
    assert by_seq == chain21.event_postings("order:o1")
    assert all(p.event == 4 for p in by_seq)
    with pytest.raises(KeyError):
        chain21.event_postings("nope")
    assert chain21.pools() == ["pool"]
    names = chain21.account_names()
    assert names[:3] == ["outside", "platform", "pool:pool"]
    assert names[3:5] == ["A:available", "A:held"]
    for name in names:
        chain21.balance(name)
    with pytest.raises(referral.UnknownMemberError):
        chain21.balance("Z:available")
    o = chain21.lookup_order("o1")
    assert o == ("o1", "B", Decimal("699.00"), 69900, "gift", 4, 0, False)
    assert chain21.lookup_order("nope") is None
    assert chain21.n_periods == 0
    chain21.close_period("p1")
    assert chain21.n_periods == 1


def test_refund_reversals(chain21):
    example1(chain21)
    chain21.refund("o2")
    reversals = [p for p in chain21.postings() if p.reversal]
    assert reversals and all(p.cause is not None for p in reversals)
    for p in reversals:
        original = chain21.posting(p.cause)
        assert (p.from_account, p.to_account) == (original.to_account, original.from_account)
        assert p.amount == original.amount and p.kind == original.kind
    assert chain21.lookup_order("o2").refunded


def test_state_hash_and_invariant_switch():
    a = referral.Engine("chain21", check_invariants=False)
    b = referral.Engine("chain21", check_invariants=True)
    a.set_check_invariants(True)
    example1(a)
    example1(b)
    assert a.state_hash() == b.state_hash()
    b.join("Z")
    assert a.state_hash() != b.state_hash()


def test_repr_and_engine_subclass(chain21):
    assert "chain21" in repr(chain21)
    assert isinstance(chain21, referral.Engine)
    example1(chain21)
    assert "3 members" in repr(chain21)


def test_apply_jsonl_summary(tmp_path, chain21):
    summary = chain21.apply_jsonl(EVENTS_DIR / "chain21-example2.jsonl")
    assert summary.ok and summary.errors == 0 and summary.messages == ()
    assert summary.applied == chain21.n_events
    assert chain21.balances() == read_jsonl(EVENTS_DIR / "chain21-example2.balances.jsonl")
    again = chain21.apply_jsonl(str(EVENTS_DIR / "chain21-example2.jsonl"))
    assert again.applied == 0 and again.duplicates == summary.applied
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type":"join","id":"n1","member":"N"}\n'
                   '{"type":"join","id":"n2","member":"N"}\n'
                   '{"type":"join","id":"n3","member":"M"}\n'
                   '{"type":"bogus","id":"n4"}\n')
    stop = chain21.apply_jsonl(bad)
    assert not stop.ok and stop.applied == 1 and stop.errors == 1 and stop.lines == 2
    assert stop.messages == (f'{bad}:2: join "N": member "N" exists already',)
    go = chain21.apply_jsonl(bad, keep_going=True)
    assert go.applied == 1 and go.duplicates == 1 and go.errors == 2 and go.lines == 4
    assert "unknown type" in go.messages[1]
    with pytest.raises(referral.FileError):
        chain21.apply_jsonl(tmp_path / "missing.jsonl")


def test_apply_jsonl_threads(tmp_path):
    """One thread and two give the same summary and state, stopping or not."""
    lines = []
    for i in range(3000):
        lines.append(f'{{"type":"join","id":"j{i}","member":"m{i}"'
                     + (f',"sponsor":"m{i // 2}"' if i else "") + "}")
        if i % 7 == 3:
            lines.append(f'{{"type":"order","id":"o{i}","order":"o{i}","member":"m{i}",'
                         f'"amount":"699.00","sku":"gift"}}')
        if i == 1500:
            lines.append('{"type":"join","id":"bad","member":"m3"}')  # exists already
    path = tmp_path / "threads.jsonl"
    path.write_text("\n".join(lines) + "\n")
    for keep_going in (False, True):
        results = []
        for threads in (1, 2):
            e = referral.Engine("chain21")
            summary = e.apply_jsonl(path, keep_going, threads=threads)
            results.append((tuple(summary), e.state_hash()))
        assert results[0] == results[1]
        assert results[0][0][3] == 1  # one error
    with pytest.raises(ValueError, match="threads must be 1 or 2"):
        referral.Engine("chain21").apply_jsonl(path, threads=3)


def test_jsonl_and_apply_agree_on_content(tmp_path, chain21):
    # The same line through the file and through apply() is one event.
    line = {"type": "join", "id": "j1", "member": "A", "time": "2024-01-01T00:00:00Z"}
    order = {"type": "order", "id": "j2", "order": "o1", "member": "A", "amount": 699}
    chain21.apply(line)
    chain21.apply(order)
    f = tmp_path / "same.jsonl"
    f.write_text(json.dumps(line) + "\n" + json.dumps(order) + "\n")
    s = chain21.apply_jsonl(f)
    assert s.duplicates == 2 and s.applied == 0
    f.write_text(json.dumps(dict(order, amount="699")) + "\n")
    s = chain21.apply_jsonl(f)
    assert s.errors == 1 and "already used for a different event" in s.messages[0]


def test_busy_engine_refuses_reentry():
    # A rule that calls the engine it runs in gets RuntimeError, which
    # rejects the event.
    holder = {}

    @referral.register_rule
    class CallsBack(referral.Rule):
        name = "test_calls_back"

        def on_join(self, ctx, member):
            holder["engine"].members()

    scheme = referral.Scheme.build("cb", rules=[{"name": "cb", "type": "test_calls_back"}])
    engine = referral.Engine(scheme)
    holder["engine"] = engine
    with pytest.raises(referral.RejectedError, match="RuntimeError: the engine is busy"):
        engine.join("A")
    assert engine.n_members == 0
    holder.clear()


def test_engine_methods_thread_safety_guard():
    # While apply_columns runs without the GIL, other threads get RuntimeError
    # instead of reading half-updated state, and Python keeps running.
    engine = referral.Engine("chain21", check_invariants=False)
    n = 60000
    cols = {
        "type": ["join"] * n,
        "id": list(range(n)),
        "member": list(range(n)),
        "sponsor": [None] + list(range(n - 1)),
    }
    state = {"busy": 0, "ticks": 0, "done": False}

    def poke():
        while not state["done"]:
            state["ticks"] += 1
            try:
                engine.n_members
            except RuntimeError:
                state["busy"] += 1

    t = threading.Thread(target=poke)
    t.start()
    try:
        engine.apply_columns(cols)
    finally:
        state["done"] = True
        t.join()
    assert engine.n_members == n
    assert state["busy"] > 0, "the other thread never ran while the engine was busy"
