"""referral.Scheme and the module-level functions."""

from decimal import Decimal

import pytest

import referral
from conftest import SOURCE_DIR

DEMO_INI = SOURCE_DIR / "examples" / "schemes" / "demo.ini"


def test_builtin_and_file_and_text_are_the_same():
    builtin = referral.Scheme("demo")
    from_file = referral.Scheme(DEMO_INI)
    from_text = referral.Scheme.from_text(referral.builtin_scheme_text("demo"))
    assert builtin == from_file == from_text
    assert hash(builtin) == hash(from_file)
    assert builtin.identity == from_text.identity
    assert builtin.name == "demo"
    assert builtin.decimals == 2
    assert builtin.ranks == ("user", "member")
    assert builtin.rules == [("direct", "direct_award"), ("unilevel", "unilevel")]
    assert builtin.rank_index("member") == 1
    with pytest.raises(referral.InvalidRankError):
        builtin.rank_index("boss")
    assert "demo" in repr(builtin)
    assert referral.Scheme("chain21") != builtin


def test_builtin_lists():
    assert {"demo", "chain21"} <= set(referral.builtin_schemes())
    assert "[scheme]" in referral.builtin_scheme_text("chain21")
    with pytest.raises(referral.SchemeError):
        referral.builtin_scheme_text("nope")
    types = referral.rule_types()
    assert types == sorted(types)
    assert {"direct_award", "unilevel", "seller_award", "help_fund"} <= set(types)
    info = referral.rule_type_info("direct_award")
    assert info["name"] == "direct_award" and info["description"]
    params = {p["name"]: p for p in info["params"]}
    assert params["kind"] == {"name": "kind", "type": "string", "default": "direct",
                              "description": params["kind"]["description"]}
    assert params["amounts"]["type"] == "list"
    with pytest.raises(referral.UnknownRuleTypeError):
        referral.rule_type_info("nope")


def test_build_matches_the_file():
    built = referral.Scheme.build("demo", ranks=["user", "member"], decimals=2, rules=[
        {"name": "direct", "type": "direct_award",
         "params": {"rates": ["5%", "10%"], "kind": "direct"}},
        {"name": "unilevel", "type": "unilevel",
         "params": {"levels": 3, "rates": "5%, 3%, 1%", "min_rank": "member",
                    "kind": "unilevel"}},
    ])
    assert built == referral.Scheme("demo")


def test_build_value_types():
    s = referral.Scheme.build("t", ranks=["user", "member"], rules=[
        {"name": "d", "type": "direct_award",
         "params": {"amounts": [Decimal("1.50"), 2], "rates": [referral.Rate("5%"), "0.1"]}},
        {"name": "u", "type": "unilevel", "params": {"levels": 1, "rates": ["1%"],
                                                     "compress": True}},
    ])
    e = referral.Engine(s)
    e.join("A")
    e.join("B", "A")
    e.order("o1", "B", "100.00")
    assert e.available("A") == Decimal("1.50") + Decimal("5.00") + Decimal("1.00")


@pytest.mark.parametrize("kwargs, cls, text", [
    ({"rules": [{"name": "d", "type": "nope"}]}, referral.UnknownRuleTypeError, "nope"),
    ({"rules": [{"name": "d", "type": "direct_award", "params": {"bogus": "1"}}]},
     referral.SchemeError, "bogus"),
    ({"rules": [{"name": "d", "type": "direct_award", "params": {"rates": 0.05}}]},
     referral.SchemeError, "float"),
    ({"rules": [{"name": "d", "type": "direct_award", "params": {"rates": [[1]]}}]},
     referral.SchemeError, "nest"),
    ({"rules": [{"name": "d", "type": "direct_award", "params": {"rates": object()}}]},
     referral.SchemeError, "must be a str"),
    ({"rules": [{"name": "d"}]}, referral.SchemeError, 'missing "type"'),
    ({"rules": [{"name": "d", "type": "direct_award", "extra": 1}]}, referral.SchemeError,
     "unknown key"),
    ({"rules": [{"name": "d", "type": "direct_award"}, {"name": "d", "type": "unilevel"}]},
     referral.SchemeError, None),
    ({"rules": [], "ranks": ["a", "a"]}, referral.SchemeError, None),
    ({"rules": [], "decimals": 10}, referral.SchemeError, None),
])
def test_build_errors(kwargs, cls, text):
    with pytest.raises(cls) as info:
        referral.Scheme.build("bad", **kwargs)
    if text:
        assert text in str(info.value)


def test_build_type_errors():
    with pytest.raises(TypeError):
        referral.Scheme.build("bad", rules=[("d", "direct_award")])
    with pytest.raises(TypeError):
        referral.Scheme.build("bad", rules=[], ranks="user")
    with pytest.raises(TypeError):
        referral.Scheme.build("bad", rules=[{"name": "d", "type": "direct_award",
                                             "params": [("a", 1)]}])


def test_from_text_errors():
    with pytest.raises(referral.SchemeError, match="mine.ini"):
        referral.Scheme.from_text("[scheme]\nname = x\nbogus = 1\n", source="mine.ini")
    with pytest.raises(referral.FileError):
        referral.Scheme("/no/such/scheme.ini")


def test_variant():
    base = referral.Scheme("chain21")
    v = referral.Scheme.variant("chain21", {"break_away": {"pass_up": 1}})
    assert v != base and v.name == "chain21" and v.rules == base.rules
    same = referral.Scheme.variant("chain21", {"break_away": {"pass_up": 2}})
    assert same == base
    no_fund = referral.Scheme.variant("chain21", remove_rules=["help_fund"], name="nofund")
    assert no_fund.name == "nofund"
    assert "help_fund" not in [name for name, _ in no_fund.rules]
    from_path = referral.Scheme.variant(DEMO_INI, {"direct": {"rates": ["1%", "2%"]}})
    assert from_path != referral.Scheme("demo")
    with pytest.raises(referral.SchemeError, match='no rule "nope"'):
        referral.Scheme.variant("chain21", {"nope": {"x": 1}})
    with pytest.raises(referral.SchemeError, match='no rule "nope"'):
        referral.Scheme.variant("chain21", remove_rules=["nope"])
    with pytest.raises(referral.SchemeError, match="pass_up"):
        referral.Scheme.variant("chain21", {"break_away": {"pass_up": "many"}})


def test_variant_changes_behaviour():
    # pass_up = 1: only the first seed of a new partner is handed up.
    events = [
        ("join", "A", None), ("join", "B", "A"), ("join", "C", "B"), ("join", "D", "B"),
    ]
    results = {}
    for label, scheme in (("2", referral.Scheme("chain21")),
                          ("1", referral.Scheme.variant("chain21",
                                                        {"break_away": {"pass_up": 1}}))):
        e = referral.Engine(scheme)
        for _, m, s in events:
            e.join(m, s)
        e.promote("A", "partner")
        e.order("o1", "B", "699.00", sku="gift")
        e.order("o2", "C", "699.00", sku="gift")
        e.order("o3", "D", "699.00", sku="gift")
        results[label] = (e.parent("C"), e.parent("D"))
    assert results["2"] == ("A", "A")
    assert results["1"] == ("A", "B")


def test_money_functions():
    assert referral.parse_money("699.00") == 69900
    assert referral.parse_money("699") == 69900
    assert referral.parse_money(699) == 69900
    assert referral.parse_money(Decimal("0.05")) == 5
    assert referral.parse_money("5", decimals=0) == 5
    assert referral.parse_money("-1.50", allow_negative=True) == -150
    with pytest.raises(referral.InvalidMoneyError, match="sign"):
        referral.parse_money("-1.50")
    with pytest.raises(referral.InvalidMoneyError, match="decimals"):
        referral.parse_money("1.005")
    with pytest.raises(referral.MoneyOverflowError):
        referral.parse_money("99999999999999999999")
    with pytest.raises(TypeError, match="floating point"):
        referral.parse_money(1.5)
    with pytest.raises(ValueError):
        referral.parse_money("1", decimals=10)
    assert referral.format_money(69900) == "699.00"
    assert referral.format_money(-5) == "-0.05"
    assert referral.format_money(5, decimals=0) == "5"
    assert referral.version() == referral.__version__


def test_rate():
    r = referral.Rate("5%")
    assert (r.num, r.den) == (5, 100)
    assert str(r) == "5%"
    assert repr(r) == "referral.Rate('5%')"
    assert r == referral.Rate("0.05") == referral.Rate("0.050")
    assert hash(r) == hash(referral.Rate("0.050"))
    assert r != referral.Rate("6%")
    assert r.apply(69900) == 3495
    assert referral.Rate("12.5%").apply(1001) == 125
    assert r.apply(-101) == -5            # toward zero
    with pytest.raises(referral.InvalidRateError):
        referral.Rate("five")
    with pytest.raises(referral.MoneyOverflowError):
        referral.Rate("1000%").apply(2 ** 62)
