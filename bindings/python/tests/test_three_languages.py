"""One custom rule in C, Lua and Python: identical ledgers.

The fast-start bonus exists three times: the C plugin
examples/plugin-c/fast-start.c (fast-start.so), the sandboxed Lua script
examples/lua/fast-start.lua (run by the referral-lua-rules.so plugin) and the
Python rule examples/python/fast_start.py.  Each example's own scheme file
runs the same seeded random streams; every posting (amount, accounts, kind,
event, rule, cause, reversal), every rejection message, balance, rank,
parent and sponsor must be the same.

Needs the plugins, which are built after the Python binding: meson runs this
file as its own test, `python-plugins` (registered in
examples/plugin-c/meson.build, with REFERRAL_PLUGIN_PATH naming the build
directories of both plugins and examples/lua for the script); the `python`
test leaves it out.
"""

import importlib.util
import os

import pytest

import referral
from conftest import SANITIZED, SOURCE_DIR, apply_all

EXAMPLES = SOURCE_DIR / "examples"


def import_python_rule():
    """Imports examples/python/fast_start.py, which registers py_fast_start."""
    spec = importlib.util.spec_from_file_location(
        "fast_start", EXAMPLES / "python" / "fast_start.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def schemes():
    assert os.environ.get("REFERRAL_PLUGIN_PATH"), "run through meson test (python-plugins)"
    import_python_rule()
    # The C and Lua schemes name their plugin (`plugins = ...`): loading the
    # scheme file loads it from REFERRAL_PLUGIN_PATH.
    return {
        "C": referral.Scheme(EXAMPLES / "plugin-c" / "fast-start.ini"),
        "Lua": referral.Scheme(EXAMPLES / "lua" / "fast-start.ini"),
        "Python": referral.Scheme(EXAMPLES / "python" / "fast-start.ini"),
    }


def stream(seed, n):
    """A seeded stream of joins (25%), orders (59%), refunds (some of an
    order refunded already, which all three reject alike), promotions,
    period closes (2%) and a few orders of an unknown member.  A 64-bit LCG, not `random`, so that the
    stream is easy to reproduce in any language."""
    state = seed

    def rand(k):
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
        return (state >> 33) % k

    events, members, orders = [], 0, 0
    for i in range(1, n + 1):
        r = rand(100)
        ev = {"id": f"e{i}"}
        if members < 2 or r < 25:
            members += 1
            ev.update(type="join", member=f"m{members}")
            if members > 1 and rand(30) != 0:     # a few new roots: no sponsor
                ev["sponsor"] = f"m{1 + rand(members - 1)}"
        elif r < 84:
            orders += 1
            # Half of the orders from the 20 newest members, so that many
            # fall in the bonus window.
            newest = members - rand(min(members, 20))
            buyer = f"m{newest if rand(2) else 1 + rand(members)}" if rand(200) else "nobody"
            ev.update(type="order", order=f"o{orders}", member=buyer,
                      amount=f"{1 + rand(500)}.{rand(100):02d}")
        elif r < 92 and orders:
            ev.update(type="refund", order=f"o{1 + rand(orders)}")
        elif r < 98:
            ev.update(type="promote", member=f"m{1 + rand(members)}", rank="member")
        else:
            ev.update(type="period_close", period=f"p{i}")
        events.append(ev)
    return events


def ledger(engine):
    """Everything the rules produced, in comparable form."""
    members = engine.members()
    return {
        "postings": engine.postings(),
        "balances": engine.balances(),
        "tree": [(m, engine.rank(m), engine.parent(m), engine.sponsor(m)) for m in members],
        "counts": (engine.n_events, engine.n_postings, engine.n_periods),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_identical_ledgers(schemes, seed):
    events = stream(seed, 1500 if SANITIZED else 4000)
    results = {}
    for language, scheme in schemes.items():
        engine = referral.Engine(scheme)
        messages = apply_all(engine, events)
        results[language] = (messages, ledger(engine))
    c_messages, c_ledger = results["C"]
    # The stream is worth comparing: bonuses paid, windows and caps hit,
    # refunds reversing bonuses, some events rejected.
    bonuses = [p for p in c_ledger["postings"] if p.kind == "fast_start"]
    assert len(bonuses) > 100
    assert any(p.reversal for p in bonuses)
    assert 0 < len(c_messages) < len(events) // 5
    assert all(p.rule == "fast" for p in bonuses)
    for language in ("Lua", "Python"):
        messages, got = results[language]
        assert messages == c_messages, language
        for key in ("counts", "balances", "tree"):
            assert got[key] == c_ledger[key], (language, key)
        # Posting by posting, for a readable failure.
        for mine, theirs in zip(got["postings"], c_ledger["postings"]):
            assert mine == theirs, language
        assert got["postings"] == c_ledger["postings"], language


def test_the_rule_is_the_examples(schemes):
    # Three rule types, one rule: the scheme files differ only in the type.
    assert schemes["C"].rules == [("fast", "fast_start")]
    assert schemes["Lua"].rules == [("fast", "lua")]
    assert schemes["Python"].rules == [("fast", "py_fast_start")]
    for s in schemes.values():
        assert s.ranks == ("user", "member") and s.decimals == 2


def test_load_plugin(schemes):
    # Loaded by the schemes already: loading again is a no-op, by name or path.
    referral.load_plugin("fast-start")
    referral.load_plugin("referral-lua-rules")
    assert {"fast_start", "lua", "py_fast_start"} <= set(referral.rule_types())
    info = referral.rule_type_info("fast_start")
    assert [p["name"] for p in info["params"]] == ["bonus", "orders", "periods", "kind"]
    # Schemes built from dicts can use the plugins' rule types as well.
    lua = referral.Scheme.build("lua_inline", ranks=["user", "member"], rules=[{
        "name": "fast", "type": "lua",
        "params": {"script": str(EXAMPLES / "lua" / "fast-start.lua"),
                   "config": ["bonus=10.00", "orders=2", "periods=1"]}}])
    e = referral.Engine(lua)
    e.join("A")
    e.join("B", "A")
    e.order("o1", "B", "5.00")
    assert e.available_minor("A") == 1000


def test_load_plugin_errors(schemes):
    plugin_dirs = os.environ["REFERRAL_PLUGIN_PATH"].split(os.pathsep)
    with pytest.raises(referral.FileError, match="not found"):
        referral.load_plugin("no-such-plugin")
    with pytest.raises(TypeError):
        referral.load_plugin(42)
    # Built beside fast-start.so by examples/plugin-c/meson.build.
    future = next(p for d in plugin_dirs if os.path.exists(p := os.path.join(d, "future-abi.so")))
    no_entry = next(p for d in plugin_dirs if os.path.exists(p := os.path.join(d, "no-entry.so")))
    with pytest.raises(referral.AbiError, match="built for rule ABI version"):
        referral.load_plugin(future)
    with pytest.raises(referral.AbiError, match="not a libreferral plugin"):
        referral.load_plugin(no_entry)
