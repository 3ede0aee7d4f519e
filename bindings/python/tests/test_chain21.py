"""The chain 2+1 worked examples and random streams: the binding and the
`referral run` tool must agree exactly."""

import csv
import io
import json

import pytest

import referral
from conftest import EVENTS_DIR, SANITIZED, apply_all, read_jsonl, run_cli, write_jsonl
from streams import chain21_stream, to_columns

EXAMPLES = sorted(p.name[:-len(".balances.jsonl")]
                  for p in EVENTS_DIR.glob("chain21-*.balances.jsonl"))


def test_there_are_examples():
    assert {"chain21-example1", "chain21-example2", "chain21-example3"} <= set(EXAMPLES)


@pytest.mark.parametrize("name", EXAMPLES)
def test_worked_example_every_way(name):
    events = read_jsonl(EVENTS_DIR / f"{name}.jsonl")
    expected = read_jsonl(EVENTS_DIR / f"{name}.balances.jsonl")

    by_file = referral.Engine("chain21")
    summary = by_file.apply_jsonl(EVENTS_DIR / f"{name}.jsonl")
    assert summary.ok, summary.messages
    assert by_file.balances() == expected

    by_dict = referral.Engine("chain21")
    for e in events:
        by_dict.apply(e)
    assert by_dict.balances() == expected

    by_columns = referral.Engine("chain21")
    by_columns.apply_columns(to_columns(events))
    assert by_columns.balances() == expected

    assert by_file.state_hash() == by_dict.state_hash() == by_columns.state_hash()


def test_worked_example_3_pool_numbers():
    e = referral.Engine("chain21")
    assert e.apply_jsonl(EVENTS_DIR / "chain21-example3.jsonl").ok
    pool_shares = {p.to_account: p.amount for p in e.postings() if p.kind == "pool"}
    assert str(pool_shares["A:available"]) == "104.85"
    assert str(pool_shares["B:available"]) == "34.95"


def ledger_rows(engine):
    """The ledger as `referral run --ledger x.csv` writes it."""
    rows = []
    for p in engine.postings():
        rows.append([str(p.index), str(p.event), p.event_id, p.kind, p.rule, p.from_account,
                     p.to_account, str(p.amount), "" if p.cause is None else str(p.cause),
                     "1" if p.reversal else "0"])
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_stream_same_as_referral_run(tmp_path, seed):
    n = 1500 if SANITIZED else 4000
    events = chain21_stream(seed, n)
    path = tmp_path / "events.jsonl"
    write_jsonl(path, events)
    balances_out = tmp_path / "balances.jsonl"
    ledger_out = tmp_path / "ledger.csv"
    cli = run_cli("run", "--keep-going", "--scheme", "chain21", "--balances", balances_out,
                  "--ledger", ledger_out, path)
    assert cli.returncode in (0, 1), cli.stderr
    cli_messages = [line.split(": ", 1)[1] for line in cli.stderr.splitlines()
                    if line.startswith(f"{path}:")]
    assert cli_messages, "the stream should contain rejected events"

    engine = referral.Engine("chain21")
    messages = apply_all(engine, events)
    assert engine.balances() == read_jsonl(balances_out)
    assert messages == cli_messages
    with open(ledger_out, newline="") as f:
        cli_rows = list(csv.reader(f))
    assert cli_rows[0] == ["index", "event", "event_id", "kind", "rule", "from", "to", "amount",
                           "cause", "reversal"]
    assert ledger_rows(engine) == cli_rows[1:]

    # The file path and the bulk path land in the same state.
    by_file = referral.Engine("chain21")
    s = by_file.apply_jsonl(path, keep_going=True)
    assert s.errors == len(messages)
    by_columns = referral.Engine("chain21")
    summary = by_columns.apply_columns(to_columns(events), keep_going=True)
    assert summary.errors == len(messages)
    assert [m.split(": ", 1)[1] for m in summary.messages] == messages
    assert summary.applied + summary.duplicates + summary.errors == len(events)
    assert engine.state_hash() == by_file.state_hash() == by_columns.state_hash()


def test_clean_stream_balances_and_conservation():
    events = chain21_stream(7, 2000, errors=False)
    engine = referral.Engine("chain21")
    assert apply_all(engine, events) == []
    cols = engine.member_columns()
    total = int(cols["available"].sum() + cols["held"].sum())
    total += sum(engine.balance(a, minor=True) for a in ("outside", "platform", "pool:pool"))
    assert total == 0
    assert (cols["held"] >= 0).all()
    ranks = engine.scheme.ranks
    assert [ranks[r] for r in cols["rank"].tolist()] == [engine.rank(m) for m in
                                                          engine.members()]


def test_cli_reads_what_python_wrote(tmp_path):
    # A stream built with the conveniences, written as JSON Lines by Python,
    # replays through the tool to the same balances.
    engine = referral.Engine("chain21")
    log = []
    for e in chain21_stream(11, 800, errors=False):
        engine.apply(e)
        log.append(e)
    path = tmp_path / "log.jsonl"
    write_jsonl(path, log)
    out = run_cli("run", "--scheme", "chain21", "--balances", "-", path)
    assert out.returncode == 0, out.stderr
    assert [json.loads(line) for line in io.StringIO(out.stdout)] == engine.balances()
