"""referral.simulate / Simulation: the figures of `referral simulate`."""

import json
from decimal import Decimal

import pytest

import referral
from conftest import SANITIZED, run_cli

SMALL = {"members": 400 if SANITIZED else 1500, "days": 15, "seed": 3}


def plain(value):
    """A report value as the tool's JSON writes it: money as its decimal
    text, ratios with 6 decimals."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6f}"
    return value


def cli_report(scheme, settings):
    args = ["simulate", "--scheme", scheme, "--json", "--quiet"]
    for k, v in settings.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    out = run_cli(*args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout, parse_float=str)


@pytest.mark.parametrize("scheme", ["chain21", "demo"])
def test_report_is_the_tools_report(scheme):
    sim = referral.simulate(scheme, **SMALL)
    assert plain(sim.report()) == cli_report(scheme, SMALL)


def test_same_seed_same_run_and_stepping():
    a = referral.simulate("chain21", **SMALL)
    b = referral.Simulation("chain21", **SMALL)
    assert b.days_done == 0 and b.n_days == SMALL["days"]
    steps = 0
    while b.step():
        steps += 1
    assert steps == SMALL["days"] and not b.step()
    assert a.engine.state_hash() == b.engine.state_hash()
    assert a.summary() == b.summary()
    c = referral.simulate("chain21", **dict(SMALL, seed=4))
    assert c.engine.state_hash() != a.engine.state_hash()


def test_summary_and_days():
    sim = referral.simulate("chain21", **SMALL)
    s = sim.summary()
    assert s["days"] == SMALL["days"] and s["market"] == SMALL["members"]
    assert isinstance(s["sales"], Decimal) and isinstance(s["gini"], float)
    assert 0 <= s["loss_share"] <= 1 and 0 <= s["entry_share"] <= 1
    assert s["members"] == sum(s["by_rank"].values()) == len(sim.engine)
    assert sum(s["rewards_by_kind"].values()) == s["rewards"]
    days = sim.days()
    assert [d["day"] for d in days] == list(range(1, SMALL["days"] + 1))
    assert days[-1]["members"] == s["members"]
    assert days[-1]["rewards_total"] == s["rewards"]
    assert sim.day(3) == days[2]
    with pytest.raises(IndexError):
        sim.day(0)
    with pytest.raises(IndexError):
        sim.day(SMALL["days"] + 1)
    assert sum(r["members"] for r in sim.ranks()) == s["members"]
    assert [r["rank"] for r in sim.ranks()] == list(sim.scheme.ranks)
    assert sum(c["members"] for c in sim.cohorts()) == s["members"]
    cols = sim.member_columns()
    assert len(cols["net"]) == s["members"]
    assert (cols["net"] == cols["rewards"] - cols["paid"]).all()
    assert int((cols["net"] < 0).sum()) == s["losers"]
    assert int(cols["rewards"].sum()) == referral.parse_money(s["rewards"])
    assert sim.first_rejection is None
    assert sim.config()["members"] == str(SMALL["members"])
    assert "[sim]" in sim.config_text()
    assert "chain21" in repr(sim)


def test_frames():
    pd = pytest.importorskip("pandas")
    sim = referral.simulate("chain21", **SMALL)
    days = sim.days_frame()
    assert list(days.index) == list(range(1, SMALL["days"] + 1))
    assert {"rank:user", "rank:agent", "rank:partner", "loss_share"} <= set(days.columns)
    assert days["rank:partner"].iloc[-1] == sim.summary()["by_rank"]["partner"]
    members = sim.members_frame()
    assert len(members) == sim.summary()["members"]
    assert list(members["member"]) == sim.engine.members()
    assert isinstance(members["rank"].dtype, pd.CategoricalDtype)
    assert (members["net_minor"] < 0).sum() == sim.summary()["losers"]


def test_settings_and_config(tmp_path):
    f = tmp_path / "sim.ini"
    f.write_text("[sim]\nmembers = 300\ndays = 5\n")
    from_file = referral.Simulation("demo", config=f, seed=9)
    assert from_file.config()["members"] == "300" and from_file.config()["seed"] == "9"
    from_dict = referral.Simulation("demo", config={"members": 300, "days": 5}, seed=9)
    assert from_dict.config() == from_file.config()
    rates = referral.Simulation("chain21", recruit_rates=["1%", referral.Rate("20%")],
                                entry_price=Decimal("699.00"), recruit_saturation=False)
    assert rates.config()["recruit_rates"] == "1%, 20%"
    names = [k["name"] for k in referral.sim_settings()]
    assert names[:3] == ["seed", "members", "days"]
    assert all(k["description"] for k in referral.sim_settings())
    with pytest.raises(referral.SchemeError, match="bogus"):
        referral.Simulation("demo", bogus=1)
    with pytest.raises(referral.SchemeError, match="float"):
        referral.Simulation("demo", entry_rate=0.5)
    with pytest.raises(referral.SchemeError, match="days"):
        referral.Simulation("demo", days="many")
    with pytest.raises(referral.FileError):
        referral.Simulation("demo", config=tmp_path / "missing.ini")
    with pytest.raises(referral.SchemeError):
        referral.Simulation("demo", entry_price="1.234")   # checked against the scheme
    with pytest.raises(TypeError):
        referral.Simulation()


def test_engine_view_is_read_only_and_keeps_the_simulation():
    sim = referral.simulate("demo", **SMALL)
    engine = sim.engine
    assert isinstance(engine, referral.Engine)
    balances = engine.balances()
    with pytest.raises(RuntimeError, match="read-only"):
        engine.join("intruder")
    with pytest.raises(RuntimeError, match="read-only"):
        engine.apply_columns({"type": ["join"], "id": ["x"], "member": ["x"]})
    with pytest.raises(RuntimeError, match="read-only"):
        engine.set_check_invariants(True)
    del sim
    import gc
    gc.collect()
    assert engine.balances() == balances       # the view keeps the simulation alive
    engine.members_frame()


def test_progress_and_interruption():
    seen = []
    sim = referral.simulate("demo", progress=lambda d, n: seen.append((d, n)), **SMALL)
    assert seen == [(d, SMALL["days"]) for d in range(1, SMALL["days"] + 1)]
    assert sim.days_done == SMALL["days"]

    def stop(d, n):
        if d == 4:
            raise KeyboardInterrupt

    half = referral.Simulation("demo", **SMALL)
    with pytest.raises(KeyboardInterrupt):
        half.run(progress=stop)
    assert half.days_done == 4
    half.run()
    assert half.engine.state_hash() == sim.engine.state_hash()


def test_python_rule_in_a_simulation():
    # The hooks run in the thread that released the GIL: they take it back.
    class Tally(referral.Rule):
        name = "test_sim_tally"

        def init(self, setup, params):
            self.kind = setup.kind("tally")

        def on_join(self, ctx, member):
            sponsor = ctx.sponsor(member)
            if sponsor is not None:
                ctx.post(referral.ACCOUNT_PLATFORM, ctx.member_account(sponsor), 1, self.kind)

    referral.register_rule(Tally)
    text = referral.builtin_scheme_text("demo") + "\n[rule tally]\ntype = test_sim_tally\n"
    sim = referral.simulate(referral.Scheme.from_text(text), **SMALL)
    tallies = [p for p in sim.engine.postings() if p.kind == "tally"]
    joined_with_sponsor = sum(1 for m in sim.engine.members() if sim.engine.sponsor(m))
    assert len(tallies) == joined_with_sponsor > 0
    assert sim.summary()["rewards_by_kind"]["tally"] == Decimal(len(tallies)) / 100
