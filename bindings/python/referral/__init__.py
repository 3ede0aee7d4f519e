"""libreferral for Python: referral-tree incentive schemes, exactly.

A thin binding of the C library libreferral.  An Engine folds events (joins,
orders, refunds, promotions, period closes, withdrawals) into a member tree
and an exact double-entry ledger under a Scheme of reward rules.  The same
scheme and the same events give the same state, byte for byte, in C, on the
command line (`referral run`) and here.

Quick start::

    import referral

    engine = referral.Engine("chain21")          # a built-in scheme
    engine.join("A")
    engine.promote("A", "partner")
    engine.join("B", sponsor="A")
    engine.order("o1", "B", "699.00", sku="gift")
    engine.available("A")                          # Decimal('240.00')
    engine.balances()                              # like --balances

    engine.apply({"id": "e9", "type": "join", "member": "C", "sponsor": "B"})

Money is never a float: amounts go in as decimal strings ("699.00") or ints
in major units (699), and come out as decimal.Decimal or as int minor units
(the *_minor accessors and numpy columns).

Main pieces:

* Scheme -- built-in (Scheme("chain21")), a scheme file, Scheme.from_text(),
  Scheme.build() from dicts, Scheme.variant() of another scheme.
* Engine -- apply() one event dict, join()/order()/... conveniences,
  apply_jsonl() for files, apply_columns() for large generated streams
  (runs without the GIL), queries on the tree and the ledger, numpy
  columns (member_columns(), posting_columns()) and pandas frames
  (members_frame(), postings_frame()).
* simulate() / Simulation -- the seeded population simulation of
  `referral simulate`, its metrics as dicts and DataFrames.
* Rule -- write reward rules in Python, register them with register_rule()
  and use them in schemes beside the built-in rules.
* Error -- the base of every error; one subclass per library error code.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any, Iterable, Mapping, NamedTuple, Optional, Sequence, Union

from ._referral import (  # noqa: F401  (re-exported)
    ACCOUNT_OUTSIDE,
    ACCOUNT_PLATFORM,
    KIND_HOLD,
    KIND_RELEASE,
    KIND_SALE,
    KIND_WITHDRAW,
    MAX_DECIMALS,
    MAX_RANKS,
    RULE_ABI_VERSION,
    AbiError,
    AlreadyRefundedError,
    ApplyResult,
    Ctx,
    CycleError,
    DuplicateMemberError,
    DuplicateOrderError,
    Error,
    FileError,
    IdConflictError,
    InsufficientFundsError,
    InvalidEventError,
    InvalidMoneyError,
    InvalidRankError,
    InvalidRateError,
    MoneyOverflowError,
    Order,
    Params,
    ParseError,
    Posting,
    Rate,
    RawOrder,
    RawPosting,
    RejectedError,
    Reversal,
    RunSummary,
    Scheme,
    SchemeError,
    Setup,
    UnknownCommandError,
    UnknownMemberError,
    UnknownOrderError,
    UnknownRuleTypeError,
    builtin_scheme_text,
    builtin_schemes,
    format_money,
    load_plugin,
    parse_money,
    python_rule_types,
    register_rule,
    rule_type_info,
    rule_types,
    sim_settings,
    version,
)
from . import _referral

__version__ = _referral.__version__

Amount = Union[str, int, Decimal]
"""An amount in major units: decimal text ("699.00"), an int (699) or a Decimal."""

Member = Union[str, int]
"""A member: its key, or its member number (join order, from 0)."""


class EventType(enum.IntEnum):
    """Event type codes, for the "type" column of Engine.apply_columns()."""

    JOIN = _referral.TYPE_JOIN
    ORDER = _referral.TYPE_ORDER
    REFUND = _referral.TYPE_REFUND
    PERIOD_CLOSE = _referral.TYPE_PERIOD_CLOSE
    WITHDRAW = _referral.TYPE_WITHDRAW
    PROMOTE = _referral.TYPE_PROMOTE
    TRANSPOSE = _referral.TYPE_TRANSPOSE


class Param(NamedTuple):
    """A parameter a Python rule type declares (in its `params` attribute).

    type is one of "money", "rate", "int", "string", "rank", "bool", "list";
    default is the text a scheme file would hold ("100.00", "5%", "gift"), or
    None for a required parameter.  The library parses and validates values;
    Params[name] in Rule.init() gives them typed.
    """

    name: str
    type: str
    default: Optional[str] = None
    description: str = ""


class Rule:
    """Base class of reward rules written in Python.

    Subclass it, set `name` (the rule type's name, [a-z0-9_]+), optionally
    `description` and `params` (a list of Param), define the hooks you need,
    and register the class with register_rule().  A scheme then uses it like
    a built-in rule type::

        @referral.register_rule
        class FlatBonus(referral.Rule):
            '''Pays the buyer's sponsor a flat bonus on every order.'''
            name = "flat_bonus"
            params = [referral.Param("amount", "money", "10.00")]

            def init(self, setup, params):
                self.amount = params["amount"]          # int, minor units
                self.kind = setup.kind("bonus")

            def on_order(self, ctx, order):
                sponsor = ctx.sponsor(order.buyer)
                if sponsor is not None:
                    ctx.post(referral.ACCOUNT_PLATFORM,
                             ctx.member_account(sponsor), self.amount, self.kind)

        scheme = referral.Scheme.build("mine", rules=[
            {"name": "bonus", "type": "flat_bonus", "params": {"amount": "5.00"}}])

    One instance of the class is made per rule instance of a scheme, and
    init(setup, params) runs once while the scheme is built: read parameters,
    declare kinds, pools, fields, lists and commands (see Setup).  Keep only
    configuration on `self`: state that changes with events belongs in
    member fields and lists (ctx.field_set, ctx.list_push), which the engine
    undoes with a rejected event and includes in the state hash.

    Hooks (define only those you need; the engine calls nothing else).  Each
    gets a Ctx, valid during the call, through which it reads the tree and
    the ledger and proposes effects; members, accounts, kinds and ranks are
    numbers and money is int minor units, as in the C rule API:

    * on_join(ctx, member)
    * on_order(ctx, order: RawOrder) -- after the buyer's payment was posted
    * on_refund(ctx, order: RawOrder) -- after the order's postings were reversed
    * on_period_close(ctx, period: str)
    * on_withdraw(ctx, member, amount)
    * on_command(ctx, event: dict) -- a command declared with setup.command()
    * on_rank_change(ctx, member, old_rank, new_rank)
    * on_posting(ctx, posting: RawPosting, index) -- after any posting is proposed
    * on_reverse(ctx, original: RawPosting, index, reversal: Reversal)
    * on_event_end(ctx)

    An exception in a hook rejects the event: nothing it or any other rule
    did is kept, and the caller gets RejectedError (or the raised
    referral.Error's own class) whose message holds the Python traceback.
    Rule types stay registered for the life of the process.
    """

    name: str = ""
    description: Optional[str] = None
    params: Sequence[Param] = ()


class Engine(_referral.Engine):
    """Engine(scheme, *, check_invariants=None)

    Folds events into state under one scheme.  `scheme` is a Scheme, the
    name of a built-in scheme ("chain21", "demo"), or a path to a scheme
    file.  check_invariants turns the per-event ledger/tree check on or off
    (default: on in builds configured with -Dinvariants=true).

    Each event is applied whole or not at all: a rejected event raises a
    referral.Error subclass and leaves the state exactly as it was.  An
    engine is not thread-safe; methods raise RuntimeError while it is busy
    in another thread (apply_jsonl and apply_columns release the GIL).

    Members may be named by key (str) or number (int, join order).
    """

    # -- conveniences: each builds the event dict and calls apply() --------

    def _with_id(self, event: dict, id: Optional[str], default: str,
                 time: Optional[str]) -> ApplyResult:
        event["id"] = default if id is None else id
        if time is not None:
            event["time"] = time
        return self.apply(event)

    def join(self, member: str, sponsor: Optional[str] = None, *,
             id: Optional[str] = None, time: Optional[str] = None) -> ApplyResult:
        """Apply a join event.  The id defaults to "join:MEMBER"."""
        event = {"type": "join", "member": member}
        if sponsor is not None:
            event["sponsor"] = sponsor
        return self._with_id(event, id, f"join:{member}", time)

    def order(self, order: str, member: str, amount: Amount, sku: Optional[str] = None, *,
              id: Optional[str] = None, time: Optional[str] = None) -> ApplyResult:
        """Apply an order of `amount` (major units: "699.00", 699 or a Decimal)
        bought by `member`.  The id defaults to "order:ORDER"."""
        event = {"type": "order", "order": order, "member": member,
                 "amount": _amount(amount)}
        if sku is not None:
            event["sku"] = sku
        return self._with_id(event, id, f"order:{order}", time)

    def refund(self, order: str, *, id: Optional[str] = None,
               time: Optional[str] = None) -> ApplyResult:
        """Apply a refund of `order`.  The id defaults to "refund:ORDER"."""
        return self._with_id({"type": "refund", "order": order}, id, f"refund:{order}", time)

    def close_period(self, period: str, *, id: Optional[str] = None,
                     time: Optional[str] = None) -> ApplyResult:
        """Apply a period_close event.  The id defaults to "period_close:PERIOD"."""
        return self._with_id({"type": "period_close", "period": period}, id,
                             f"period_close:{period}", time)

    def withdraw(self, member: str, amount: Amount, *, id: Optional[str] = None,
                 time: Optional[str] = None) -> ApplyResult:
        """Apply a withdrawal.  The id defaults to "withdraw:MEMBER:N" with N the
        number of events applied so far (deterministic for a given stream)."""
        return self._with_id({"type": "withdraw", "member": member, "amount": _amount(amount)},
                             id, f"withdraw:{member}:{self.n_events}", time)

    def promote(self, member: str, rank: str, *, id: Optional[str] = None,
                time: Optional[str] = None) -> ApplyResult:
        """Apply an administrator's promotion.  The id defaults to
        "promote:MEMBER:RANK" (ranks only go up, so it is unique)."""
        return self._with_id({"type": "promote", "member": member, "rank": rank}, id,
                             f"promote:{member}:{rank}", time)

    def transpose(self, member: str, old: str, new: str, *, id: Optional[str] = None,
                  time: Optional[str] = None) -> ApplyResult:
        """Apply a transpose command (chain 2+1): `new` takes `old`'s place among
        `member`'s seeds.  The id defaults to "transpose:MEMBER:N"."""
        return self._with_id({"type": "transpose", "member": member, "old": old, "new": new},
                             id, f"transpose:{member}:{self.n_events}", time)

    # -- bulk ingestion ---------------------------------------------------

    def apply_columns(self, columns: Mapping[str, Any], *,
                      keep_going: bool = False) -> RunSummary:
        """Apply a table of events given as columns, without the GIL.

        `columns` maps field names to equally long columns.  Required: "type"
        (names such as "order", or EventType codes) and "id".  Optional: the
        other fields of events.md ("member", "sponsor", "order", "sku",
        "period", "old", "new", "rank", "time", "amount") and "amount_minor".

        A column is a list (or tuple, numpy or pandas column) of str, with
        None where a row has no such field; or, for type, id, member,
        sponsor, order, period, old and new, an integer numpy array (or list
        of ints): a number n >= 0 stands for the text "n", a negative number
        for "absent".  "amount" holds amounts as events.md has them (decimal
        str or int major units); "amount_minor" is an int64 column of minor
        units for generated streams.

        Rows are applied in order.  The first rejected row raises its
        referral.Error (message "row N: ..."; attributes `row` and `summary`)
        with every earlier row applied; with keep_going=True every bad row is
        reported in the returned summary's messages and skipped.
        """
        normalized = {name: _column(name, col) for name, col in columns.items()}
        return self._apply_columns(normalized, keep_going=keep_going)

    # -- pandas ----------------------------------------------------------

    def members_frame(self):
        """A pandas DataFrame with one row per member, in join order:
        member, rank (categorical), sponsor, parent (keys or None),
        n_children, n_sponsored, available_minor, held_minor (int64 minor
        units).  Needs pandas."""
        import pandas as pd

        cols = self.member_columns()
        keys = self.members()
        ranks = self.scheme.ranks

        def key_of(index):
            return None if index < 0 else keys[index]

        return pd.DataFrame({
            "member": keys,
            "rank": pd.Categorical.from_codes(cols["rank"].astype("int64"), categories=ranks),
            "sponsor": [key_of(i) for i in cols["sponsor"].tolist()],
            "parent": [key_of(i) for i in cols["parent"].tolist()],
            "n_children": cols["n_children"],
            "n_sponsored": cols["n_sponsored"],
            "available_minor": cols["available"],
            "held_minor": cols["held"],
        })

    def postings_frame(self, start: Optional[int] = None, stop: Optional[int] = None):
        """A pandas DataFrame of the ledger (postings start..stop-1): index,
        event, event_id, kind and rule (categorical names), from_account and
        to_account (categorical account names), amount_minor (int64), cause
        (nullable Int64), reversal (bool).  Needs pandas."""
        import pandas as pd

        cols = self.posting_columns(start, stop)
        accounts = self.account_names()
        rules = ["engine"] + [name for name, _ in self.scheme.rules]
        event_ids = [self.event_id(e) for e in range(self.n_events)]
        return pd.DataFrame({
            "index": cols["index"],
            "event": cols["event"],
            "event_id": [event_ids[e] for e in cols["event"].tolist()],
            "kind": pd.Categorical.from_codes(cols["kind"].astype("int64"),
                                              categories=cols["kind_names"]),
            "rule": pd.Categorical.from_codes(cols["rule"].astype("int64"), categories=rules),
            "from_account": pd.Categorical.from_codes(cols["from_account"],
                                                      categories=accounts),
            "to_account": pd.Categorical.from_codes(cols["to_account"], categories=accounts),
            "amount_minor": cols["amount"],
            "cause": pd.array([None if c < 0 else c for c in cols["cause"].tolist()],
                              dtype="Int64"),
            "reversal": cols["reversal"],
        })


_referral._set_engine_view_class(Engine)


class Simulation(_referral.Simulation):
    """Simulation(scheme, *, config=None, **settings)

    A seeded simulation of a market of people living under `scheme`, day by
    day, exactly as `referral simulate` runs it (see docs/simulation.md and
    include/referral/sim.h): the same scheme, seed and settings give the
    same events, ledger and figures here and on the command line.

    settings are the options of `referral simulate` with "_" for "-"
    (sim_settings() lists them with their defaults): for example
    members=2000, days=90, seed=7, recruit_rates=["1%", "12%", "15%"],
    entry_price="699.00".  Values are str, int, bool, Decimal, Rate or lists
    of those; floats are refused.  config is a [sim] key file path or a dict
    of settings, applied first.

    Nothing runs until step() or run(); simulate() does both.  Figures come
    back as plain Python objects named as in the tool's JSON report
    (summary(), days(), ranks(), cohorts(), report()), per member as numpy
    columns (member_columns()), and as pandas DataFrames (days_frame(),
    members_frame()).  `engine` is the simulation's engine, read-only.
    """

    def days_frame(self):
        """A pandas DataFrame with one row per simulated day, indexed by day:
        the figures of days() (money columns hold exact Decimals; use
        .astype(float) to plot), by_rank as "rank:NAME" columns and
        rewards_by_kind as "kind:NAME" columns.  Needs pandas."""
        import pandas as pd

        rows = []
        for day in self.days():
            row = {k: v for k, v in day.items() if k not in ("by_rank", "rewards_by_kind")}
            row.update({f"rank:{r}": n for r, n in day["by_rank"].items()})
            row.update({f"kind:{k}": v for k, v in day["rewards_by_kind"].items()})
            rows.append(row)
        return pd.DataFrame(rows).set_index("day") if rows else pd.DataFrame()

    def members_frame(self):
        """A pandas DataFrame with one row per member, in join order: member,
        rank (categorical, final), join_day, active, and paid_minor,
        rewards_minor, net_minor (int64 minor units).  Needs pandas."""
        import pandas as pd

        engine = self.engine
        cols = self.member_columns()
        ranks = engine.member_columns()["rank"].astype("int64")
        return pd.DataFrame({
            "member": engine.members(),
            "rank": pd.Categorical.from_codes(ranks, categories=self.scheme.ranks),
            "join_day": cols["join_day"],
            "active": cols["active"],
            "paid_minor": cols["paid"],
            "rewards_minor": cols["rewards"],
            "net_minor": cols["net"],
        })


def simulate(scheme: Union[Scheme, str], *, config: Any = None, progress=None,
             **settings: Any) -> Simulation:
    """Run a whole simulation and return it: Simulation(scheme, config=config,
    **settings).run(progress).  progress(days_done, n_days), if given, is
    called after each day.  See Simulation for the settings and the figures::

        sim = referral.simulate("chain21", members=5000, days=60, seed=3)
        sim.summary()["loss_share"], sim.summary()["gini"]
    """
    return Simulation(scheme, config=config, **settings).run(progress=progress)


def _amount(amount: Amount) -> Union[str, int]:
    """An amount as an event dict holds it: Decimal becomes its decimal text."""
    if isinstance(amount, Decimal):
        return format(amount, "f")
    return amount


_INT_COLUMNS = frozenset({"type", "id", "member", "sponsor", "order", "period", "old", "new",
                          "amount_minor"})


def _column(name: str, col: Any):
    """A column as _apply_columns takes it: a list, or an int64 buffer."""
    import array

    if type(col).__module__.startswith("pandas") and hasattr(col, "to_numpy"):
        col = col.to_numpy()
    dtype = getattr(col, "dtype", None)
    if dtype is not None:
        if dtype.kind in "iu":
            if name not in _INT_COLUMNS:
                raise TypeError(f"column {name!r} cannot be an integer array")
            import numpy as np
            return np.ascontiguousarray(col, dtype=np.int64)
        if dtype.kind == "f":
            raise TypeError(f"column {name!r} is a float array; money and keys are never floats")
        return col.tolist()
    if isinstance(col, (list, tuple)):
        if name in _INT_COLUMNS and col and all(
                v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in col) \
                and any(v is not None for v in col):
            return array.array("q", [-1 if v is None else v for v in col])
        return col
    if isinstance(col, (str, bytes)):
        raise TypeError(f"column {name!r} must be a sequence, not {type(col).__name__}")
    return _column(name, list(col))


__all__ = [
    # engine and schemes
    "Engine", "Scheme", "ApplyResult", "RunSummary", "Posting", "Order", "EventType",
    "Amount", "Member",
    # rules in Python
    "Rule", "Param", "register_rule", "python_rule_types", "Setup", "Params", "Ctx",
    "Reversal", "RawPosting", "RawOrder", "Rate",
    # simulation
    "simulate", "Simulation", "sim_settings",
    # functions
    "parse_money", "format_money", "version", "builtin_schemes", "builtin_scheme_text",
    "rule_types", "rule_type_info", "load_plugin",
    # constants
    "ACCOUNT_OUTSIDE", "ACCOUNT_PLATFORM", "KIND_SALE", "KIND_WITHDRAW", "KIND_HOLD",
    "KIND_RELEASE", "MAX_DECIMALS", "MAX_RANKS", "RULE_ABI_VERSION",
    # errors
    "Error", "InvalidMoneyError", "InvalidRateError", "MoneyOverflowError",
    "UnknownMemberError", "DuplicateMemberError", "UnknownOrderError", "DuplicateOrderError",
    "AlreadyRefundedError", "InvalidEventError", "IdConflictError", "InsufficientFundsError",
    "InvalidRankError", "CycleError", "UnknownCommandError", "RejectedError", "SchemeError",
    "UnknownRuleTypeError", "AbiError", "ParseError", "FileError",
]
