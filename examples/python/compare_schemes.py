#!/usr/bin/python3
"""Compare chain 2+1 with variants of it on the same simulated market.

Every scheme is simulated with the same seed and settings, so the same
people make the same choices as far as the scheme lets them (the simulator
draws each person's decisions from the seed, not from the scheme).  The
script prints a comparison table and writes two PNG plots:

  earnings_by_rank.png  rewards received per member, by final rank
  ranks_over_time.png   members of each rank, day by day

Run it with Debian's Python after `meson install` (or with PYTHONPATH set to
a build directory's bindings/python):

  /usr/bin/python3 examples/python/compare_schemes.py --members 20000 --days 90

The variants:
  pass_up_1     a new partner hands only its first seed up (break_away
                pass_up = 1 instead of 2)
  no_help_fund  no help fund: nothing of any credit is held back
"""

import argparse
import os
import sys

import referral

VARIANTS = {
    "pass_up_1": lambda: referral.Scheme.variant(
        "chain21", {"break_away": {"pass_up": 1}}, name="chain21-pass-up-1"),
    "no_help_fund": lambda: referral.Scheme.variant(
        "chain21", remove_rules=["help_fund"], name="chain21-no-help-fund"),
}

# (label, summary key, how to show it)
ROWS = [
    ("members", "members", "int"),
    ("entry buyers", "buyers", "int"),
    ("sales", "sales", "money"),
    ("rewards paid", "rewards", "money"),
    ("payout ratio", "payout_ratio", "percent"),
    ("loss share", "loss_share", "percent"),
    ("Gini of rewards", "gini", "ratio"),
    ("recruitment share", "entry_share", "percent"),
    ("top 10% share", "top10_share", "percent"),
    ("held at the end", "held", "money"),
]


def simulate_all(variants, settings):
    """{scheme name: Simulation} for chain21 and each named variant."""
    schemes = [referral.Scheme("chain21")] + [VARIANTS[v]() for v in variants]
    return {s.name: referral.simulate(s, **settings) for s in schemes}


def show(value, how):
    if how == "int":
        return f"{value:,}"
    if how == "money":
        return f"{value:,.2f}"          # a Decimal, exactly
    if how == "percent":
        return f"{100 * value:.1f}%"
    return f"{value:.3f}"


def table(sims):
    """The comparison table as text lines."""
    names = list(sims)
    summaries = {n: sims[n].summary() for n in names}
    width = max(len(label) for label, _, _ in ROWS)
    cols = [max(len(n), 14) for n in names]
    lines = ["".ljust(width) + "".join(f"  {n:>{w}}" for n, w in zip(names, cols))]
    for label, key, how in ROWS:
        cells = [show(summaries[n][key], how) for n in names]
        lines.append(label.ljust(width) + "".join(f"  {c:>{w}}" for c, w in zip(cells, cols)))
    return lines


def plot_earnings_by_rank(sims, path):
    """Box plots of rewards received per member (major units), by final rank."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sims), figsize=(5 * len(sims), 4.5), sharey=True,
                             squeeze=False)
    for ax, (name, sim) in zip(axes[0], sims.items()):
        ranks = sim.scheme.ranks
        scale = 10 ** sim.scheme.decimals
        rewards = sim.member_columns()["rewards"]
        rank_of = sim.engine.member_columns()["rank"]
        # Floats only for drawing; the figures above are exact.
        data = [rewards[rank_of == r] / scale for r in range(len(ranks))]
        ax.boxplot(data, labels=[f"{r}\n({len(d)})" for r, d in zip(ranks, data)],
                   showfliers=True)
        ax.set_yscale("symlog", linthresh=100)
        ax.set_title(name)
        ax.set_xlabel("final rank (members)")
    axes[0][0].set_ylabel("rewards received per member")
    fig.suptitle("Earnings distribution by rank")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_ranks_over_time(sims, path):
    """Members of each rank at the end of each day."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sims), figsize=(5 * len(sims), 4), sharey=True,
                             squeeze=False)
    for ax, (name, sim) in zip(axes[0], sims.items()):
        days = sim.days()
        x = [d["day"] for d in days]
        for rank in sim.scheme.ranks:
            ax.plot(x, [d["by_rank"][rank] for d in days], label=rank)
        ax.set_title(name)
        ax.set_xlabel("day")
        ax.legend()
    axes[0][0].set_ylabel("members")
    fig.suptitle("Members by rank over time")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20000, help="people in the market")
    parser.add_argument("--days", type=int, default=90, help="days to simulate")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulation")
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS),
                        help="variant(s) to compare with chain21 (default: all)")
    parser.add_argument("--out", default=".", help="directory for the PNG files")
    args = parser.parse_args(argv)

    settings = {"members": args.members, "days": args.days, "seed": args.seed}
    sims = simulate_all(args.variant or sorted(VARIANTS), settings)
    print(f"{args.members:,} people, {args.days} days, seed {args.seed}")
    for line in table(sims):
        print(line)
    os.makedirs(args.out, exist_ok=True)
    plots = [os.path.join(args.out, "earnings_by_rank.png"),
             os.path.join(args.out, "ranks_over_time.png")]
    plot_earnings_by_rank(sims, plots[0])
    plot_ranks_over_time(sims, plots[1])
    for p in plots:
        print(f"wrote {p}")
    return sims


if __name__ == "__main__":
    main()
    sys.exit(0)
