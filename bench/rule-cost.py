#!/usr/bin/python3
"""The cost per event of one rule written as a C plugin and as a Lua rule.

Runs referral-bench's `unilevel` stream (each member joins, then 9 orders by
random members: 10% joins, 90% orders) under four scheme files: no rule,
the fast-start C plugin (examples/plugin-c/fast-start.ini), the same rule
in Lua (examples/lua/fast-start.ini) and a Lua rule whose on_join and
on_order hooks are empty (the fixed cost of a Lua hook call).  The runs
alternate, ROUNDS times, so that a change in the machine's load hits all
of them; each figure is
the median over the rounds of referral-bench's CPU time per event (the
apply loop only: stream generation and event materialisation are outside
the clock).  The rule's own cost is its scheme's figure minus the no-rule
figure.

    REFERRAL_BUILD=build-rel bench/rule-cost.py [--members N] [--rounds R]
                                                [--other-lua DIR]

REFERRAL_BUILD is a build directory with -Dlua=enabled (a release build for
figures worth quoting).  The C and Lua runs must make the same number of
postings.  --other-lua DIR adds a fourth run, "Lua'", with the
referral-lua-rules.so found in DIR (another version of the Lua rule
runtime, for before/after comparisons on the same library).
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

SOURCE = pathlib.Path(__file__).resolve().parents[1]

NO_RULE = """[scheme]
name = fast_start_none
decimals = 2
ranks = user, member
"""

# The fast-start rule's hooks, empty: what a Lua hook call costs before the
# script does anything (the lock, the protected call, the order view).
EMPTY_LUA = NO_RULE + """plugins = referral-lua-rules

[rule fast]
type = lua
source = return { on_join = function(ctx, member) end, on_order = function(ctx, order) end }
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--build", default=os.environ.get("REFERRAL_BUILD", "build-rel"))
    ap.add_argument("--other-lua", metavar="DIR",
                    help="also run the Lua rule with DIR/referral-lua-rules.so")
    args = ap.parse_args()
    build = pathlib.Path(args.build).resolve()
    bench = build / "bench" / "referral-bench"
    dirs = [str(build / "examples" / "plugin-c"), str(build / "bindings" / "lua"),
            str(SOURCE / "examples" / "lua")]
    env = dict(os.environ, REFERRAL_PLUGIN_PATH=os.pathsep.join(dirs))
    other_env = dict(env, REFERRAL_PLUGIN_PATH=os.pathsep.join([args.other_lua] + dirs)) \
        if args.other_lua else None
    with tempfile.NamedTemporaryFile("w", suffix=".ini") as none, \
            tempfile.NamedTemporaryFile("w", suffix=".ini") as empty:
        none.write(NO_RULE)
        none.flush()
        empty.write(EMPTY_LUA)
        empty.flush()
        schemes = {"none": none.name,
                   "C": str(SOURCE / "examples" / "plugin-c" / "fast-start.ini"),
                   "Lua": str(SOURCE / "examples" / "lua" / "fast-start.ini"),
                   "Lua-empty": empty.name}
        if other_env:
            schemes["Lua'"] = schemes["Lua"]
        cpu = {k: [] for k in schemes}
        postings = {}
        for r in range(args.rounds):
            for name, path in schemes.items():
                out = subprocess.run(
                    [str(bench), "--quiet", "--json", "--workload", "unilevel",
                     "--members", str(args.members), "--runs", "1", "--scheme", path],
                    env=other_env if name == "Lua'" else env,
                    capture_output=True, text=True, check=True)
                o = json.loads(out.stdout)
                if o["rejected"]:
                    sys.exit(f"{name}: {o['rejected']} events rejected: {out.stderr}")
                cpu[name].append(o["cpu_ns_per_event"])
                postings.setdefault(name, o["postings"])
                if postings[name] != o["postings"]:
                    sys.exit(f"{name}: another number of postings than in round 1")
            print(f"round {r + 1}: " + ", ".join(
                f"{k} {v[-1]:.0f}" for k, v in cpu.items()) + " ns/event", file=sys.stderr)
    for name in schemes:
        if name in ("Lua", "Lua'") and postings[name] != postings["C"]:
            sys.exit(f"C made {postings['C']} postings, {name} {postings[name]}")
    med = {k: statistics.median(v) for k, v in cpu.items()}
    c_rule, lua_rule = med["C"] - med["none"], med["Lua"] - med["none"]
    print(f"unilevel stream, {args.members} members ({o['events']} events), "
          f"{args.rounds} rounds, CPU ns/event (median; min..max):")
    for k, v in cpu.items():
        print(f"  {k:9} {med[k]:7.1f}  ({min(v):.0f}..{max(v):.0f})")
    print(f"rule cost per event: C {c_rule:.1f} ns, Lua {lua_rule:.1f} ns: "
          f"Lua/C {lua_rule / c_rule:.2f}x")
    print(f"  of which the empty Lua hook calls: {med['Lua-empty'] - med['none']:.1f} ns")
    if other_env:
        other = med["Lua'"] - med["none"]
        print(f"Lua' ({args.other_lua}): {other:.1f} ns: Lua'/C {other / c_rule:.2f}x")
    with open("/proc/loadavg") as f:
        print("load average: " + " ".join(f.read().split()[:3]))


if __name__ == "__main__":
    main()
