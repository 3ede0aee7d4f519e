"""Event dicts are held to the events.md format, like a JSON Lines line."""

from decimal import Decimal

import pytest

import referral


@pytest.fixture
def engine():
    e = referral.Engine("demo")
    e.join("A")
    return e


def order(**fields):
    e = {"type": "order", "id": "x", "order": "o1", "member": "A", "amount": "10.00"}
    e.update(fields)
    return {k: v for k, v in e.items() if v is not ...}


@pytest.mark.parametrize("event, cls, message", [
    ({"id": "x", "member": "A"}, referral.ParseError, 'missing field "type"'),
    ({"type": 3, "id": "x"}, referral.ParseError, 'field "type" must be a string, not an int'),
    ({"type": "bogus", "id": "x"}, referral.ParseError, 'unknown type "bogus"'),
    ({"type": "join", "id": "x", "member": "B", "colour": "red"}, referral.ParseError,
     'join "B": unknown field "colour"'),
    ({"type": "join", "id": "x", "member": 7}, referral.ParseError,
     'join event "x": field "member" must be a string, not an int'),
    ({"type": "join", "id": "x", "member": "B", "sponsor": None}, referral.ParseError,
     'field "sponsor" must be a string, not None'),
    ({"type": "join", "id": "x", "member": "B", 1: "a"}, referral.ParseError,
     "field names are strings"),
    ({"type": "join", "id": "x", "member": "B\0C"}, referral.ParseError, "NUL"),
    (order(amount=10.5), referral.InvalidMoneyError,
     'order "o1": amount 10.5 is a float; write amounts as decimal strings ("10.5")'),
    (order(amount="10.555"), referral.InvalidMoneyError, "more than 2 decimals"),
    (order(amount="1e3"), referral.InvalidMoneyError, None),
    (order(amount=" 10"), referral.InvalidMoneyError, None),
    (order(amount=-5), referral.InvalidMoneyError, "amount -5 has a sign"),
    (order(amount="-5"), referral.InvalidMoneyError, None),
    (order(amount=True), referral.ParseError, "not a bool"),
    (order(amount=[1]), referral.ParseError, "not a list"),
    (order(amount=10 ** 30), referral.InvalidMoneyError, "too large"),
    (order(amount=...), referral.InvalidEventError, "amount 0.00 is not positive"),
    (order(member=...), referral.InvalidEventError, '"member"'),
    (order(sponsor="A"), referral.InvalidEventError, 'field "sponsor" does not belong'),
    (order(period="p"), referral.InvalidEventError, "does not belong"),
    ({"type": "join", "id": "x", "member": "B", "amount": "1"}, referral.InvalidEventError,
     'field "amount" does not belong'),
    ({"type": "join", "id": "x", "member": ""}, referral.InvalidEventError, "empty"),
    ({"type": "join", "member": "B"}, referral.InvalidEventError, '"id"'),
])
def test_bad_events(engine, event, cls, message):
    before = engine.state_hash()
    with pytest.raises(cls) as info:
        engine.apply(event)
    if message is not None:
        assert message in str(info.value)
    assert engine.state_hash() == before
    assert engine.n_events == 1


def test_not_a_dict(engine):
    with pytest.raises(TypeError):
        engine.apply([("type", "join")])
    with pytest.raises(TypeError):
        engine.apply(None)


def test_good_amount_forms(engine):
    engine.join("B", "A")
    engine.apply(order(id="a1", order="o1", member="B", amount="10"))
    engine.apply(order(id="a2", order="o2", member="B", amount="10.5"))
    engine.apply(order(id="a3", order="o3", member="B", amount=10))
    engine.apply(order(id="a4", order="o4", member="B", amount=Decimal("1E+1")))
    engine.apply(order(id="a5", order="o5", member="B", amount="0.01"))
    amounts = [engine.lookup_order(f"o{i}").amount_minor for i in range(1, 6)]
    assert amounts == [1000, 1050, 1000, 1000, 1]


def test_every_type_through_apply():
    e = referral.Engine("chain21")
    events = [
        {"type": "join", "id": "1", "member": "A", "time": "2024-01-01T00:00:00Z"},
        {"type": "promote", "id": "2", "member": "A", "rank": "partner"},
        {"type": "join", "id": "3", "member": "B", "sponsor": "A"},
        {"type": "order", "id": "4", "order": "o1", "member": "B", "amount": "699.00",
         "sku": "gift"},
        {"type": "withdraw", "id": "5", "member": "A", "amount": "1.00"},
        {"type": "refund", "id": "6", "order": "o1"},
        {"type": "period_close", "id": "7", "period": "2024-01"},
    ]
    for ev in events:
        e.apply(ev)
    assert e.n_events == len(events)
    # transpose is a command of the chain21 scheme; here it is refused.
    with pytest.raises(referral.RejectedError, match="transpose"):
        e.apply({"type": "transpose", "id": "8", "member": "A", "old": "B", "new": "B"})


def test_mutating_event_in_a_rule_is_harmless():
    # apply() keeps the dict and its strings alive while the event runs.
    event = {"type": "join", "id": "m1", "member": "A" * 50}

    @referral.register_rule
    class Mutator(referral.Rule):
        name = "test_mutator"

        def on_join(self, ctx, member):
            event.clear()
            assert ctx.key(member) == "A" * 50
            assert ctx.event["member"] == "A" * 50

    e = referral.Engine(referral.Scheme.build("m", rules=[{"name": "m", "type": "test_mutator"}]))
    e.apply(event)
    assert e.members() == ["A" * 50]
