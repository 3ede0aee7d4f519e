"""Rules written in Python."""

import gc
import weakref

import pytest

import referral
from conftest import apply_all
from streams import chain21_stream


@referral.register_rule
class PyDirectAward(referral.Rule):
    """The built-in direct_award, written in Python (same parameters)."""

    name = "py_direct_award"
    params = [
        referral.Param("sku", "string", "", "only orders of this sku"),
        referral.Param("amounts", "list", "", "fixed award per sponsor rank"),
        referral.Param("rates", "list", "", "award as a rate of the order, per rank"),
        referral.Param("kind", "string", "direct", "posting kind"),
    ]

    def init(self, setup, params):
        n = setup.n_ranks
        amounts, rates = params["amounts"], params["rates"]
        if amounts and len(amounts) != n:
            raise referral.SchemeError(f"amounts needs {n} entries")
        if rates and len(rates) != n:
            raise referral.SchemeError(f"rates needs {n} entries")
        self.amounts = [referral.parse_money(a, setup.decimals) for a in amounts] or [0] * n
        self.rates = [referral.Rate(r) for r in rates] or [referral.Rate("0")] * n
        self.sku = params["sku"]
        self.kind = setup.kind(params["kind"])

    def on_order(self, ctx, order):
        if self.sku and order.sku != self.sku:
            return
        sponsor = ctx.sponsor(order.buyer)
        if sponsor is None:
            return
        rank = ctx.rank(sponsor)
        award = self.amounts[rank] + self.rates[rank].apply(order.amount)
        if award > 0:
            ctx.post(referral.ACCOUNT_PLATFORM, ctx.member_account(sponsor), award, self.kind)


def scheme_with(direct_type):
    return referral.Scheme.build("t", ranks=["user", "agent", "partner"], rules=[
        {"name": "direct", "type": direct_type,
         "params": {"amounts": ["1.00", "2.00", "3.00"], "rates": ["5%", "7.5%", "10%"]}},
        {"name": "unilevel", "type": "unilevel",
         "params": {"levels": 2, "rates": ["2%", "1%"], "min_rank": "agent"}},
    ])


def test_python_rule_gives_the_same_ledger_as_the_c_rule():
    events = chain21_stream(3, 3000)
    c_engine = referral.Engine(scheme_with("direct_award"))
    py_engine = referral.Engine(scheme_with("py_direct_award"))
    c_msgs = apply_all(c_engine, events)
    py_msgs = apply_all(py_engine, events)
    assert c_msgs == py_msgs
    assert c_engine.n_postings == py_engine.n_postings > 1000
    assert c_engine.postings() == py_engine.postings()
    assert c_engine.balances() == py_engine.balances()
    assert c_engine.members() == py_engine.members()
    for m in c_engine.members()[:50]:
        assert (c_engine.rank(m), c_engine.parent(m)) == (py_engine.rank(m), py_engine.parent(m))
    # (The state hashes differ: they include the scheme's identity, which
    # names the rule types.)
    # ...and through the bulk path, with the GIL released around the engine.
    from streams import to_columns
    bulk = referral.Engine(scheme_with("py_direct_award"))
    bulk.apply_columns(to_columns(events), keep_going=True)
    assert bulk.state_hash() == py_engine.state_hash()


def test_registration_facts():
    assert "py_direct_award" in referral.rule_types()
    assert referral.python_rule_types()["py_direct_award"] is PyDirectAward
    info = referral.rule_type_info("py_direct_award")
    assert info["description"] == "The built-in direct_award, written in Python (same parameters)."
    assert [p["name"] for p in info["params"]] == ["sku", "amounts", "rates", "kind"]
    assert info["params"][3]["default"] == "direct"
    # Same name, same hooks and parameters: accepted (replaces the class).
    assert referral.register_rule(PyDirectAward) is PyDirectAward

    class Other(referral.Rule):
        name = "py_direct_award"

        def on_join(self, ctx, member):
            pass

    with pytest.raises(referral.SchemeError, match="registered already"):
        referral.register_rule(Other)

    class ClashesWithC(referral.Rule):
        name = "direct_award"

    with pytest.raises(referral.SchemeError, match="registered already"):
        referral.register_rule(ClashesWithC)

    class BadName(referral.Rule):
        name = "Bad-Name"

    with pytest.raises(referral.SchemeError, match="a-z"):
        referral.register_rule(BadName)

    class BadParam(referral.Rule):
        name = "test_bad_param"
        params = [referral.Param("x", "float")]

    with pytest.raises(referral.SchemeError, match="float"):
        referral.register_rule(BadParam)

    class NoName:
        pass

    with pytest.raises(referral.SchemeError, match="name"):
        referral.register_rule(NoName)
    with pytest.raises(TypeError):
        referral.register_rule(PyDirectAward())


def test_reregistering_a_class_applies_to_later_schemes():
    def make(amount):
        class Flat(referral.Rule):
            name = "test_flat_rereg"
            params = [referral.Param("amount", "money", "1.00")]

            def init(self, setup, params):
                self.amount = params["amount"] * amount
                self.kind = setup.kind("flat")

            def on_join(self, ctx, member):
                ctx.post(referral.ACCOUNT_PLATFORM, ctx.member_account(member), self.amount,
                         self.kind)
        return Flat

    referral.register_rule(make(1))
    s1 = referral.Scheme.build("a", rules=[{"name": "f", "type": "test_flat_rereg"}])
    referral.register_rule(make(3))
    s3 = referral.Scheme.build("a", rules=[{"name": "f", "type": "test_flat_rereg"}])
    e1, e3 = referral.Engine(s1), referral.Engine(s3)
    e1.join("A")
    e3.join("A")
    assert e1.available_minor("A") == 100 and e3.available_minor("A") == 300


class Recorder(referral.Rule):
    """Records every hook call (test only: real rules keep no mutable state)."""

    name = "test_recorder"
    params = [referral.Param("label", "string", "r"),
              referral.Param("bonus", "money", "0.50"),
              referral.Param("rate", "rate", "10%"),
              referral.Param("count", "int", "2"),
              referral.Param("top", "rank", "partner"),
              referral.Param("flag", "bool", "false"),
              referral.Param("words", "list", "a, b")]
    calls = []

    def init(self, setup, params):
        self.values = {k: params[k] for k in params.keys()}
        self.set = {k: params.is_set(k) for k in params.keys()}
        self.kind = setup.kind("recorded")
        self.field = setup.field("test_counter", 1)
        self.list = setup.list("test_log", 2)
        self.pool = setup.pool("test_pool")
        setup.command("transpose")
        assert setup.decimals == 2 and setup.n_ranks == 3
        assert setup.lookup_rank("agent") == 1 and setup.lookup_rank("nope") is None

    def on_join(self, ctx, member):
        self.calls.append(("join", ctx.key(member), ctx.event["type"], ctx.event_seq))

    def on_order(self, ctx, order):
        self.calls.append(("order", order.key, ctx.key(order.buyer), order.amount, order.sku))
        n = ctx.field_get(self.field, order.buyer) + 1
        ctx.field_set(self.field, order.buyer, 0, n)
        ctx.list_push(self.list, (order.buyer, order.amount))
        if n == 2:  # a bonus on a member's second order
            ctx.post(referral.ACCOUNT_PLATFORM, ctx.member_account(order.buyer),
                     self.values["bonus"], self.kind)

    def on_refund(self, ctx, order):
        self.calls.append(("refund", order.key, order.refunded))

    def on_period_close(self, ctx, period):
        self.calls.append(("period_close", period, ctx.period,
                           ctx.list_length(self.list)))
        for i in range(ctx.list_length(self.list)):
            buyer, amount = ctx.list_get(self.list, i)
            share = self.values["rate"].apply(amount)
            if share:
                ctx.post(referral.ACCOUNT_PLATFORM, self.pool, share, self.kind)
        ctx.list_clear(self.list)

    def on_withdraw(self, ctx, member, amount):
        self.calls.append(("withdraw", ctx.key(member), amount))

    def on_command(self, ctx, event):
        self.calls.append(("command", event))

    def on_rank_change(self, ctx, member, old, new):
        self.calls.append(("rank", ctx.key(member), ctx.rank_name(old), ctx.rank_name(new)))

    def on_posting(self, ctx, posting, index):
        self.calls.append(("posting", ctx.kind_name(posting.kind), posting.amount,
                           ctx.account_name(posting.to_account), index))

    def on_reverse(self, ctx, original, index, reversal):
        self.calls.append(("reverse", ctx.kind_name(original.kind), index))
        if ctx.kind_name(original.kind) == "recorded":
            reversal.skip = True          # keep the bonus even after a refund

    def on_event_end(self, ctx):
        self.calls.append(("end", ctx.changed()))


referral.register_rule(Recorder)


@pytest.fixture
def recorder():
    Recorder.calls.clear()
    scheme = referral.Scheme.build("rec", ranks=["user", "agent", "partner"], rules=[
        {"name": "rec", "type": "test_recorder", "params": {"label": "x", "flag": True}}])
    yield referral.Engine(scheme)
    Recorder.calls.clear()


def calls(kind):
    return [c for c in Recorder.calls if c[0] == kind]


def test_every_hook(recorder):
    e = recorder
    e.join("A")
    e.join("B", "A")
    assert calls("join") == [("join", "A", "join", 0), ("join", "B", "join", 1)]
    e.order("o1", "B", "10.00", sku="s")
    e.order("o2", "B", "20.00")
    assert calls("order") == [("order", "o1", "B", 1000, "s"), ("order", "o2", "B", 2000, None)]
    # The bonus on B's second order, and the posting hook saw it.
    assert e.available_minor("B") == 50
    assert ("posting", "recorded", 50, "B:available", 2) in calls("posting")
    e.refund("o2")
    assert calls("refund") == [("refund", "o2", True)]
    assert ("reverse", "recorded", 2) in calls("reverse")
    assert e.available_minor("B") == 50          # the reversal was skipped
    e.close_period("p1")
    assert calls("period_close") == [("period_close", "p1", 0, 2)]
    assert e.balance("pool:test_pool", minor=True) == 100 + 200
    e.withdraw("B", "0.25")
    assert calls("withdraw") == [("withdraw", "B", 25)]
    e.promote("A", "partner")
    assert calls("rank") == [("rank", "A", "user", "agent"), ("rank", "A", "agent", "partner")]
    e.transpose("A", "B", "B")
    assert calls("command") == [("command", {"type": "transpose", "id": "transpose:A:8",
                                             "member": "A", "old": "B", "new": "B"})]
    ends = calls("end")
    assert len(ends) == e.n_events
    assert ends[2] == ("end", [1])               # B's counter field changed
    assert ("end", [0]) in ends                  # A's rank changed


def test_params_are_typed(recorder):
    from decimal import Decimal  # noqa: F401
    rule_values = None
    # Read back through a hook: the instance is the rule's configuration.

    class Peek(referral.Rule):
        name = "test_peek_params"
        params = Recorder.params

        def init(self, setup, params):
            nonlocal rule_values
            rule_values = ({k: params[k] for k in params.keys()},
                           {k: params.is_set(k) for k in params.keys()}, len(params))
            with pytest.raises(KeyError):
                params["nope"]

    referral.register_rule(Peek)
    referral.Scheme.build("p", ranks=["user", "agent", "partner"], rules=[
        {"name": "p", "type": "test_peek_params", "params": {"count": 5, "words": ["x"]}}])
    values, is_set, n = rule_values
    assert values == {"label": "r", "bonus": 50, "rate": referral.Rate("10%"), "count": 5,
                      "top": 2, "flag": False, "words": ["x"]}
    assert is_set == {"label": False, "bonus": False, "rate": False, "count": True,
                      "top": False, "flag": False, "words": True}
    assert n == 7


def test_library_validates_python_rule_params():
    with pytest.raises(referral.SchemeError, match="bonus"):
        referral.Scheme.build("p", ranks=["user", "agent", "partner"], rules=[
            {"name": "p", "type": "test_recorder", "params": {"bonus": "1.234"}}])
    with pytest.raises(referral.SchemeError, match="top"):
        referral.Scheme.build("p", ranks=["user", "agent", "partner"], rules=[
            {"name": "p", "type": "test_recorder", "params": {"top": "emperor"}}])


def test_python_rule_in_a_scheme_file_beside_builtin_rules():
    text = """
[scheme]
name = mixed
ranks = user, member

[rule direct]
type = direct_award
rates = 5%, 10%

[rule mine]
type = py_direct_award
rates = 1%, 2%
kind = mine
"""
    e = referral.Engine(referral.Scheme.from_text(text))
    e.join("A")
    e.join("B", "A")
    e.order("o1", "B", "100.00")
    kinds = [(p.kind, p.rule, p.amount_minor) for p in e.postings()]
    assert kinds == [("sale", "engine", 10000), ("direct", "direct", 500), ("mine", "mine", 100)]


class Exploding(referral.Rule):
    name = "test_exploding"

    def init(self, setup, params):
        self.kind = setup.kind("boom")

    def on_order(self, ctx, order):
        # Propose something first: it must be undone with the event.
        ctx.post(referral.ACCOUNT_PLATFORM, ctx.member_account(order.buyer), 100, self.kind)
        if order.key.startswith("bad"):
            raise ValueError("no orders called " + order.key)
        if order.key.startswith("funds"):
            raise referral.InsufficientFundsError("not enough, says the rule")
        if order.key.startswith("stop"):
            raise KeyboardInterrupt
        if order.key.startswith("nested"):
            ctx.post(referral.ACCOUNT_PLATFORM, ctx.member_account(order.buyer), -5, self.kind)


referral.register_rule(Exploding)


@pytest.fixture
def exploding():
    e = referral.Engine(referral.Scheme.build(
        "x", rules=[{"name": "x", "type": "test_exploding"}]))
    e.join("A")
    e.order("ok1", "A", "1.00")
    return e


def test_exception_rejects_with_traceback(exploding):
    e = exploding
    before, n_events, n_postings = e.state_hash(), e.n_events, e.n_postings
    with pytest.raises(referral.RejectedError) as info:
        e.order("bad1", "A", "1.00")
    message = str(info.value)
    assert message.startswith('order "bad1": Python rule type "test_exploding" raised in '
                              "on_order:\nTraceback (most recent call last):")
    assert "in on_order" in message and "ValueError: no orders called bad1" in message
    assert (e.state_hash(), e.n_events, e.n_postings) == (before, n_events, n_postings)
    assert e.lookup_order("bad1") is None
    # The id was not recorded: the same id can be used again.
    e.order("ok2", "A", "1.00", id="order:bad1")


def test_referral_error_keeps_its_class(exploding):
    with pytest.raises(referral.InsufficientFundsError, match="not enough, says the rule"):
        exploding.order("funds1", "A", "1.00")


def test_refused_proposal_inside_a_rule(exploding):
    with pytest.raises(referral.InvalidEventError, match="Traceback"):
        exploding.order("nested1", "A", "1.00")
    assert exploding.lookup_order("nested1") is None


def test_keyboard_interrupt_propagates(exploding):
    before = exploding.state_hash()
    with pytest.raises(KeyboardInterrupt):
        exploding.order("stop1", "A", "1.00")
    assert exploding.state_hash() == before
    exploding.order("ok3", "A", "1.00")     # and the engine is still usable
    with pytest.raises(KeyboardInterrupt):
        exploding.apply_columns({"type": ["order"], "id": ["s2"], "order": ["stop2"],
                                 "member": ["A"], "amount": ["1"]})
    assert exploding.lookup_order("stop2") is None


def test_errors_in_bulk_paths(exploding, tmp_path):
    s = exploding.apply_columns({"type": ["order", "order"], "id": ["b1", "b2"],
                                 "order": ["bad2", "ok4"], "member": ["A", "A"],
                                 "amount": ["1", "1"]}, keep_going=True)
    assert s.applied == 1 and s.errors == 1
    assert "ValueError: no orders called bad2" in s.messages[0]
    f = tmp_path / "e.jsonl"
    f.write_text('{"type":"order","id":"b3","order":"bad3","member":"A","amount":"1"}\n')
    s = exploding.apply_jsonl(f)
    assert s.errors == 1 and "ValueError" in s.messages[0]


def test_init_errors_are_scheme_errors():
    class BadInit(referral.Rule):
        name = "test_bad_init"

        def init(self, setup, params):
            raise RuntimeError("cannot configure")

    class BadCtor(referral.Rule):
        name = "test_bad_ctor"

        def __init__(self):
            raise RuntimeError("cannot construct")

    class NoInit(referral.Rule):
        name = "test_no_init"

    referral.register_rule(BadInit)
    referral.register_rule(BadCtor)
    referral.register_rule(NoInit)
    with pytest.raises(referral.SchemeError, match="RuntimeError: cannot configure"):
        referral.Scheme.build("b", rules=[{"name": "b", "type": "test_bad_init"}])
    with pytest.raises(referral.SchemeError, match="RuntimeError: cannot construct"):
        referral.Scheme.build("b", rules=[{"name": "b", "type": "test_bad_ctor"}])
    e = referral.Engine(referral.Scheme.build("b", rules=[{"name": "b", "type": "test_no_init"}]))
    e.join("A")


def test_setup_errors_and_undeclared_ids():
    seen = {}

    class Checks(referral.Rule):
        name = "test_checks"

        def init(self, setup, params):
            self.field = setup.field("test_wide", 2)
            with pytest.raises(referral.SchemeError):
                setup.field("test_wide", 3)
            with pytest.raises(referral.SchemeError):
                setup.field("x", 0)
            with pytest.raises(referral.SchemeError):
                setup.kind("")
            seen["setup"] = setup

        def on_join(self, ctx, member):
            with pytest.raises(ValueError, match="not declared"):
                ctx.field_get(self.field + 1, member)
            with pytest.raises(IndexError):
                ctx.field_get(self.field, member, 2)
            with pytest.raises(referral.UnknownMemberError):
                ctx.rank(ctx.n_members)
            with pytest.raises(TypeError):
                ctx.rank("A")
            with pytest.raises(referral.InvalidEventError, match="kind 99 does not exist"):
                ctx.post(0, 1, 5, 99)
            with pytest.raises(ValueError, match="kind 99 does not exist"):
                ctx.kind_name(99)
            with pytest.raises(referral.InvalidEventError, match="does not exist"):
                ctx.post(0, 9999, 5, referral.KIND_SALE)
            with pytest.raises(referral.InvalidRankError):
                ctx.set_rank(member, 7)
            with pytest.raises(ValueError, match="not declared"):
                ctx.list_length(0)
            assert ctx.field_get(self.field, member, 1) == 0
            ctx.field_set(self.field, member, 1, -7)
            assert ctx.field_get(self.field, member, 1) == -7
            seen["ctx"] = ctx

    referral.register_rule(Checks)
    e = referral.Engine(referral.Scheme.build("c", rules=[{"name": "c", "type": "test_checks"}]))
    e.join("A")
    with pytest.raises(RuntimeError, match="only valid during"):
        seen["ctx"].rank(0)
    with pytest.raises(RuntimeError, match="only valid during"):
        seen["setup"].kind("late")


def test_posting_kinds_filter_on_posting():
    """A rule that declares posting kinds sees only those postings; one that
    declares none sees every posting."""
    seen = {"only": [], "all": []}

    def make(label, declare):
        class Watcher(referral.Rule):
            name = f"test_kinds_{label}"

            def init(self, setup, params):
                if declare:
                    with pytest.raises(referral.SchemeError, match="not a kind"):
                        setup.posting_kind(999)
                    with pytest.raises(referral.SchemeError):
                        setup.posting_kind(-1)
                    setup.posting_kind(setup.kind("direct"))
                    setup.posting_kind(setup.kind("direct"))  # twice: harmless

            def on_posting(self, ctx, posting, index):
                seen[label].append(ctx.kind_name(posting.kind))
        return Watcher

    referral.register_rule(make("only", True))
    referral.register_rule(make("all", False))
    scheme = referral.Scheme.build("k", ranks=["user", "agent"], rules=[
        {"name": "only", "type": "test_kinds_only"},
        {"name": "direct", "type": "direct_award", "params": {"rates": ["5%", "10%"]}},
        {"name": "all", "type": "test_kinds_all"},
    ])
    e = referral.Engine(scheme)
    e.join("A")
    e.join("B", sponsor="A")
    e.order("o1", "B", "100.00")
    assert seen["all"] == ["sale", "direct"]
    assert seen["only"] == ["direct"]


def test_ctx_tree_and_ledger_reads():
    seen = []

    class Reader(referral.Rule):
        name = "test_reader"

        def on_order(self, ctx, order):
            b = order.buyer
            s = ctx.sponsor(b)
            with pytest.raises(IndexError):
                ctx.event_postings(ctx.event_seq)   # not applied yet
            seen.append({
                "lookup": ctx.lookup("A"), "missing": ctx.lookup("Z"),
                "key": ctx.key(b), "parent": ctx.parent(b), "sponsor": s,
                "rank": ctx.rank(b), "depth": ctx.depth(b),
                "children": ctx.children(s), "sponsored": ctx.sponsored(s),
                "n_children": ctx.n_children(s), "n_sponsored": ctx.n_sponsored(s),
                "ancestor": ctx.is_ancestor(s, b), "nearest": ctx.nearest_at_rank(b, 0),
                "lookup_rank": ctx.lookup_rank("member"),
                "acct": ctx.member_account(b), "held_acct": ctx.member_account(b, held=True),
                "owner": ctx.account_member(ctx.member_account(b, held=True)),
                "platform_owner": ctx.account_member(referral.ACCOUNT_PLATFORM),
                "sale": ctx.posting(ctx.n_postings - 1),
                "platform": ctx.balance(referral.ACCOUNT_PLATFORM),
                "kind": ctx.lookup_kind("sale"), "nokind": ctx.lookup_kind("zzz"),
                "order": ctx.lookup_order(order.key),
                "range": ctx.event_postings(ctx.event_seq - 1),
                "decimals": ctx.decimals, "n_ranks": ctx.n_ranks, "period": ctx.period,
                "pool": ctx.pool_account("nope"),
            })

    referral.register_rule(Reader)
    e = referral.Engine(referral.Scheme.build("r", ranks=["user", "member"], rules=[
        {"name": "r", "type": "test_reader"}]))
    e.join("A")
    e.join("B", "A")
    e.order("o1", "B", "5.00", sku="k")
    got = seen[0]
    assert got["lookup"] == 0 and got["missing"] is None
    assert (got["key"], got["parent"], got["sponsor"], got["rank"], got["depth"]) == \
        ("B", 0, 0, 0, 1)
    assert got["children"] == [1] and got["sponsored"] == [1]
    assert got["n_children"] == 1 and got["n_sponsored"] == 1
    assert got["ancestor"] is True and got["nearest"] == 0 and got["lookup_rank"] == 1
    assert got["held_acct"] == got["acct"] + 1
    assert got["owner"] == (1, True) and got["platform_owner"] == (None, False)
    assert got["sale"] == (500, referral.ACCOUNT_OUTSIDE, referral.ACCOUNT_PLATFORM, 2, None,
                           referral.KIND_SALE, 0, False)
    assert got["platform"] == 500
    assert got["kind"] == referral.KIND_SALE and got["nokind"] is None
    assert got["order"] == ("o1", 1, 500, "k", 2, 0, False)
    assert got["range"] == (0, 0)           # the join of B made no posting
    assert (got["decimals"], got["n_ranks"], got["period"], got["pool"]) == (2, 2, 0, None)


def test_python_rule_moves_and_ranks():
    class Mover(referral.Rule):
        """Places every new member under the first member; rank up on join."""

        name = "test_mover"

        def on_join(self, ctx, member):
            if member > 1:
                ctx.move(member, 0)
            if member == 3:
                ctx.set_rank(member, 1)
            if member == 4:
                ctx.move(0, member)            # a cycle

    referral.register_rule(Mover)
    e = referral.Engine(referral.Scheme.build("m", ranks=["user", "member"], rules=[
        {"name": "m", "type": "test_mover"}]))
    e.join("A")
    e.join("B", "A")
    e.join("C", "B")
    e.join("D", "C")
    assert e.parent("C") == "A" and e.parent("D") == "A" and e.sponsor("D") == "C"
    assert e.rank("D") == "member"
    with pytest.raises(referral.CycleError):
        e.join("E", "D")
    assert "E" not in e


def test_hold_and_release_from_python():
    class Holder(referral.Rule):
        name = "test_holder"

        def init(self, setup, params):
            self.kind = setup.kind("pay")

        def on_order(self, ctx, order):
            i = ctx.post(referral.ACCOUNT_PLATFORM, ctx.member_account(order.buyer), 1000,
                         self.kind)
            ctx.hold(order.buyer, 400, cause=i)
            if order.key == "release":
                assert ctx.release(order.buyer) == 800

    referral.register_rule(Holder)
    e = referral.Engine(referral.Scheme.build("h", rules=[{"name": "h", "type": "test_holder"}]))
    e.join("A")
    e.order("o1", "A", "1.00")
    assert (e.available_minor("A"), e.held_minor("A")) == (600, 400)
    hold = [p for p in e.postings() if p.kind == "hold"][0]
    assert e.posting(hold.cause).kind == "pay"
    e.order("release", "A", "1.00")
    assert (e.available_minor("A"), e.held_minor("A")) == (2000, 0)


def test_rule_instances_are_freed_with_their_scheme():
    alive = weakref.WeakSet()

    class Tracked(referral.Rule):
        name = "test_tracked"

        def __init__(self):
            alive.add(self)

        def on_join(self, ctx, member):
            pass

    referral.register_rule(Tracked)
    scheme = referral.Scheme.build("t", rules=[{"name": "a", "type": "test_tracked"},
                                               {"name": "b", "type": "test_tracked"}])
    engine = referral.Engine(scheme)
    engine.join("A")
    gc.collect()
    assert len(alive) == 2
    del scheme
    gc.collect()
    assert len(alive) == 2          # the engine still holds the scheme
    del engine
    gc.collect()
    assert len(alive) == 0
