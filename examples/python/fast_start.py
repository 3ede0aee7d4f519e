"""The fast-start bonus as a reward rule written in Python.

The same rule as the C plugin (examples/plugin-c/fast-start.c) and the Lua
script (examples/lua/fast-start.lua), line for line, so that the three give
identical ledgers (bindings/python/tests/test_three_languages.py checks it).

A new member's sponsor earns `bonus` on each of the member's first `orders`
orders placed within `periods` period closes of joining (0 = no limit).

Importing this module registers rule type "py_fast_start"; a scheme then
uses it like any other rule type (see fast-start.ini):

    [rule fast]
    type = py_fast_start
    bonus = 10.00
    orders = 2
    periods = 1

Run as a program, it applies an events file (by default the C example's
examples/plugin-c/fast-start.jsonl) under fast-start.ini and prints the
balances like `referral run --balances -`:

    PYTHONPATH=BUILD/bindings/python python3 examples/python/fast_start.py
"""

import json
import pathlib
import sys

import referral

HERE = pathlib.Path(__file__).resolve().parent


@referral.register_rule
class FastStart(referral.Rule):
    """A bonus to the sponsor on a new member's first orders."""

    # Not "fast_start": the C plugin registers that name, and one process
    # may hold both (rule type names are process-wide).
    name = "py_fast_start"
    params = [
        referral.Param("bonus", "money", None, "paid to the sponsor per qualifying order"),
        referral.Param("orders", "int", "3", "how many of the member's first orders qualify"),
        referral.Param("periods", "int", "1",
                       "qualifying window in period closes after joining (0: none)"),
        referral.Param("kind", "string", "fast_start", "posting kind of the bonus"),
    ]

    def init(self, setup, params):
        # Configuration only: what changes with events lives in the field.
        self.bonus = params["bonus"]          # int, minor units
        self.orders = params["orders"]
        self.periods = params["periods"]
        if self.bonus <= 0:
            raise referral.SchemeError("fast_start: bonus must be more than 0")
        self.kind = setup.kind(params["kind"])
        # word 0: the period the member joined in; word 1: bonuses paid for it.
        self.field = setup.field("fast_start", 2)

    def on_join(self, ctx, member):
        ctx.field_set(self.field, member, 0, ctx.period)

    def on_order(self, ctx, order):
        sponsor = ctx.sponsor(order.buyer)
        if sponsor is None:
            return
        joined = ctx.field_get(self.field, order.buyer, 0)
        paid = ctx.field_get(self.field, order.buyer, 1)
        if paid >= self.orders:
            return
        if self.periods > 0 and ctx.period - joined >= self.periods:
            return
        ctx.post(referral.ACCOUNT_PLATFORM, ctx.member_account(sponsor), self.bonus, self.kind)
        ctx.field_set(self.field, order.buyer, 1, paid + 1)


def main(argv=None):
    """Apply an events file under fast-start.ini; print the balances as JSON lines."""
    args = sys.argv[1:] if argv is None else argv
    events = args[0] if args else HERE.parent / "plugin-c" / "fast-start.jsonl"
    engine = referral.Engine(referral.Scheme(HERE / "fast-start.ini"))
    summary = engine.apply_jsonl(events, keep_going=True)
    for message in summary.messages:
        print(message, file=sys.stderr)
    for line in engine.balances():
        print(json.dumps(line, separators=(",", ":")))
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
