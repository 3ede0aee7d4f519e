"""examples/python/compare_schemes.py keeps working (small population)."""

import importlib.util
import os
import subprocess
import sys

import pytest

import referral
from conftest import SANITIZED, SOURCE_DIR

SCRIPT = SOURCE_DIR / "examples" / "python" / "compare_schemes.py"
SMALL = ["--members", "300" if SANITIZED else "1500", "--days", "20", "--seed", "5"]


def load():
    spec = importlib.util.spec_from_file_location("compare_schemes", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_runs_and_writes_plots(tmp_path):
    pytest.importorskip("matplotlib")
    env = dict(os.environ, MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, str(SCRIPT), *SMALL, "--out", str(tmp_path)],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    header = lines[1].split()
    assert header == ["chain21", "chain21-no-help-fund", "chain21-pass-up-1"]
    labels = [line[:18].strip() for line in lines[2:12]]
    assert labels == ["members", "entry buyers", "sales", "rewards paid", "payout ratio",
                      "loss share", "Gini of rewards", "recruitment share", "top 10% share",
                      "held at the end"]
    for name in ("earnings_by_rank.png", "ranks_over_time.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000


def test_table_shows_the_simulation_figures(tmp_path):
    pytest.importorskip("matplotlib")
    module = load()
    sims = module.main([*SMALL, "--variant", "pass_up_1", "--out", str(tmp_path)])
    assert list(sims) == ["chain21", "chain21-pass-up-1"]
    # The same seed and settings as referral.simulate directly.
    direct = referral.simulate("chain21", members=int(SMALL[1]), days=20, seed=5)
    assert sims["chain21"].summary() == direct.summary()
    lines = module.table(sims)
    loss = next(line for line in lines if line.startswith("loss share")).split()[-2:]
    assert loss == [module.show(s.summary()["loss_share"], "percent") for s in sims.values()]
    # The variant changes the outcome, the market does not.
    a, b = (s.summary() for s in sims.values())
    assert a["market"] == b["market"]
    assert a != b


def test_fast_start_example_prints_the_hand_worked_balances():
    # examples/python/fast_start.py: the fast-start rule in Python, run as a
    # program on the C plugin example's events; the same balances as the C
    # plugin and the Lua script give (examples/plugin-c/fast-start.balances.jsonl).
    script = SOURCE_DIR / "examples" / "python" / "fast_start.py"
    expected = SOURCE_DIR / "examples" / "plugin-c" / "fast-start.balances.jsonl"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == expected.read_text()
