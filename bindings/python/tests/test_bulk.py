"""The bulk paths: apply_columns in, numpy columns and pandas frames out."""

import array
import threading
import time
from decimal import Decimal

import numpy as np
import pytest

import referral
from streams import chain21_stream, to_columns


def star(n, *, minor=True):
    """Columns: a root and n members under it, each buying once."""
    m = np.arange(1, n + 1, dtype=np.int64)
    types = np.concatenate([[referral.EventType.JOIN],
                            np.full(n, referral.EventType.JOIN),
                            np.full(n, referral.EventType.ORDER)]).astype(np.int64)
    member = np.concatenate([[0], m, m])
    sponsor = np.concatenate([[-1], np.zeros(n, dtype=np.int64), np.full(n, -1)])
    order = np.concatenate([[-1], np.full(n, -1), m])
    ids = np.arange(2 * n + 1, dtype=np.int64)
    cols = {"type": types, "id": ids, "member": member, "sponsor": sponsor, "order": order}
    amounts = np.concatenate([[0], np.zeros(n, dtype=np.int64), 10000 + m])
    if minor:
        cols["amount_minor"] = amounts
    else:
        cols["amount"] = [None] * (n + 1) + [f"{a // 100}.{a % 100:02d}"
                                               for a in amounts[n + 1:].tolist()]
    return cols


def test_int_columns_same_as_dicts():
    n = 300
    bulk = referral.Engine("demo")
    s = bulk.apply_columns(star(n))
    assert s.ok and s.applied == 2 * n + 1 and s.lines == 2 * n + 1 and s.messages == ()
    by_dict = referral.Engine("demo")
    by_dict.join("0", id="0")
    for i in range(1, n + 1):
        by_dict.join(str(i), "0", id=str(i))
    for i in range(1, n + 1):
        by_dict.apply({"type": "order", "id": str(n + i), "order": str(i), "member": str(i),
                       "amount": f"{(10000 + i) // 100}.{(10000 + i) % 100:02d}"})
    assert bulk.balances() == by_dict.balances()
    assert bulk.members()[:3] == ["0", "1", "2"]
    # amount_minor has no text: its fingerprint differs from the decimal text's,
    # so the same ids with text amounts are id conflicts, not duplicates...
    text = referral.Engine("demo")
    text.apply_columns(star(n, minor=False))
    assert text.balances() == bulk.balances()
    # ...and replaying the same columns is all duplicates.
    again = bulk.apply_columns(star(n))
    assert again.duplicates == 2 * n + 1 and again.applied == 0


def test_string_columns_and_mixed_forms():
    events = chain21_stream(5, 600, errors=False)
    cols = to_columns(events)
    # numpy object / unicode arrays, tuples and pandas columns are accepted too.
    cols["type"] = np.array(cols["type"])
    cols["id"] = tuple(cols["id"])
    cols["member"] = np.array(cols["member"], dtype=object)
    e1 = referral.Engine("chain21")
    assert e1.apply_columns(cols).ok
    e2 = referral.Engine("chain21")
    for ev in events:
        e2.apply(ev)
    assert e1.state_hash() == e2.state_hash()


def test_pandas_columns():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"type": ["join", "join", "order"], "id": [1, 2, 3],
                       "member": ["A", "B", "B"], "sponsor": [None, "A", None],
                       "order": [None, None, "o1"], "amount": [None, None, "100.00"]})
    e = referral.Engine("demo")
    assert e.apply_columns({c: df[c] for c in df.columns}).ok
    assert e.available("A") == Decimal("5.00")


def test_first_error_raises_with_row_and_summary():
    e = referral.Engine("demo")
    cols = {"type": ["join", "join", "join", "order"], "id": ["1", "2", "3", "4"],
            "member": ["A", "B", "A", "B"], "sponsor": [None, "A", None, None],
            "order": [None, None, None, "o1"], "amount": [None, None, None, "1.00"]}
    with pytest.raises(referral.DuplicateMemberError) as info:
        e.apply_columns(cols)
    assert str(info.value) == 'row 2: join "A": member "A" exists already'
    assert info.value.row == 2
    s = info.value.summary
    assert (s.lines, s.applied, s.duplicates, s.errors, s.ok) == (3, 2, 0, 1, False)
    assert e.members() == ["A", "B"]
    # keep_going: the bad row is reported and skipped, later rows applied.
    e2 = referral.Engine("demo")
    s = e2.apply_columns(cols, keep_going=True)
    assert (s.lines, s.applied, s.errors) == (4, 3, 1)
    assert s.messages == ('row 2: join "A": member "A" exists already',)


def test_bad_values_are_row_errors():
    cols = {"type": ["join", "bogus", "join", "order", "join"],
            "id": ["1", "2", "3", "4", "5"],
            "member": ["A", "B", 7, "A", "E"],
            "order": [None, None, None, "o1", None],
            "amount": [None, None, None, 1.5, None]}
    e = referral.Engine("demo")
    s = e.apply_columns(cols, keep_going=True)
    assert s.applied == 2 and s.errors == 3
    assert 'unknown type "bogus"' in s.messages[0] and s.messages[0].startswith("row 1:")
    assert 'field "member" must be a string, not an int' in s.messages[1]
    assert "float" in s.messages[2]
    with pytest.raises(referral.ParseError) as info:
        referral.Engine("demo").apply_columns(cols)
    assert info.value.row == 1


def test_column_shape_errors():
    e = referral.Engine("demo")
    with pytest.raises(referral.ParseError, match='column "id" is required'):
        e.apply_columns({"type": ["join"]})
    with pytest.raises(referral.ParseError, match="unknown column"):
        e.apply_columns({"type": ["join"], "id": ["1"], "colour": ["red"]})
    with pytest.raises(ValueError, match="rows"):
        e.apply_columns({"type": ["join", "join"], "id": ["1"]})
    with pytest.raises(TypeError, match="float"):
        e.apply_columns({"type": ["join"], "id": np.array([1.0])})
    with pytest.raises(TypeError):
        e.apply_columns({"type": ["join"], "id": ["1"], "sku": np.array([1])})
    with pytest.raises(ValueError, match="not both"):
        e.apply_columns({"type": ["order"], "id": ["1"], "amount": ["1"],
                         "amount_minor": np.array([100])})
    with pytest.raises(referral.ParseError, match="unknown type code 9"):
        e.apply_columns({"type": np.array([9]), "id": np.array([1])})
    assert e.n_events == 0
    # int32 arrays are widened; a plain array('q') is a buffer already.
    s = e.apply_columns({"type": array.array("q", [1]), "id": np.array([1], dtype=np.int32),
                         "member": np.array([5], dtype=np.uint16)})
    assert s.ok and e.members() == ["5"]


def test_gil_is_released_during_bulk_apply():
    n = 80000
    cols = star(n)
    e = referral.Engine("demo", check_invariants=False)
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(time.perf_counter())

    t = threading.Thread(target=count)
    t.start()
    try:
        start = time.perf_counter()
        e.apply_columns(cols)
        end = time.perf_counter()
    finally:
        done.set()
        t.join()
    inside = [x for x in ticks if start < x < end]
    # With the GIL held for the whole call the other thread could only run
    # between chunks; released, it ticks all along.
    assert len(inside) > 1000, (len(inside), end - start)


def test_member_columns(chain21):
    from test_engine import example1
    example1(chain21)
    cols = chain21.member_columns()
    assert set(cols) == {"available", "held", "rank", "sponsor", "parent", "n_children",
                         "n_sponsored"}
    assert cols["available"].dtype == np.int64 and cols["rank"].dtype == np.uint8
    assert cols["available"].tolist() == [chain21.available_minor(m) for m in "ABC"]
    assert cols["held"].tolist() == [chain21.held_minor(m) for m in "ABC"]
    assert cols["rank"].tolist() == [2, 1, 1]
    assert cols["sponsor"].tolist() == [-1, 0, 1]
    assert cols["parent"].tolist() == [-1, 0, 1]
    assert cols["n_children"].tolist() == [1, 1, 0]
    assert cols["n_sponsored"].tolist() == [1, 1, 0]
    empty = referral.Engine("demo").member_columns()
    assert all(len(v) == 0 for v in empty.values())


def test_posting_columns(chain21):
    from test_engine import example1
    example1(chain21)
    chain21.refund("o1")
    cols = chain21.posting_columns()
    postings = chain21.postings()
    n = len(postings)
    assert len(cols["amount"]) == n
    names = cols["kind_names"]
    accounts = chain21.account_names()
    rules = ["engine"] + [r for r, _ in chain21.scheme.rules]
    for i, p in enumerate(postings):
        assert cols["index"][i] == p.index
        assert cols["event"][i] == p.event
        assert names[cols["kind"][i]] == p.kind
        assert rules[cols["rule"][i]] == p.rule
        assert accounts[cols["from_account"][i]] == p.from_account
        assert accounts[cols["to_account"][i]] == p.to_account
        assert cols["amount"][i] == p.amount_minor
        assert cols["cause"][i] == (-1 if p.cause is None else p.cause)
        assert bool(cols["reversal"][i]) == p.reversal
    part = chain21.posting_columns(2, 5)
    assert part["index"].tolist() == [2, 3, 4]
    assert chain21.posting_columns(-1)["index"].tolist() == [n - 1]


def test_frames(chain21):
    pd = pytest.importorskip("pandas")
    from test_engine import example1
    example1(chain21)
    chain21.refund("o2")
    m = chain21.members_frame()
    assert list(m["member"]) == ["A", "B", "C"]
    assert list(m["rank"]) == ["partner", "agent", "agent"]
    assert list(m["sponsor"]) == [None, "A", "B"]
    assert list(m["available_minor"]) == [chain21.available_minor(k) for k in "ABC"]
    p = chain21.postings_frame()
    assert len(p) == chain21.n_postings
    assert list(p["kind"]) == [x.kind for x in chain21.postings()]
    assert list(p["from_account"]) == [x.from_account for x in chain21.postings()]
    assert list(p["event_id"]) == [x.event_id for x in chain21.postings()]
    assert p["cause"].isna().sum() == sum(x.cause is None for x in chain21.postings())
    assert p["reversal"].sum() == sum(x.reversal for x in chain21.postings())
    assert isinstance(p["kind"].dtype, pd.CategoricalDtype)
    # Totals by kind, the way a researcher would use it.
    by_kind = p[~p["reversal"]].groupby("kind", observed=True)["amount_minor"].sum()
    assert by_kind["sale"] == 2 * 69900
