#!/usr/bin/python3
"""Chain 2+1 on SQLite: the baseline an order service would write with SQL.

Reads a JSON Lines event stream (shared/spec/events.md) and applies the
chain 2+1 scheme of shared/spec/chain21.md (default parameters).  All state
lives in tables (members, seeds, orders, postings, balances, performance
entries, event ids); the program keeps nothing between events but the
current period number.  Statements are parameterised (the sqlite3 module
prepares each once and keeps it in its statement cache); the superior is a
recursive query; events are committed in transactions of --batch events.

    /usr/bin/python3 bench/baselines/chain21_sqlite.py [--db FILE] [--batch N] EVENTS.jsonl

The database is in memory unless --db is given (the library keeps its state
in memory too).  Prints the same balances as
`referral run --scheme chain21 --balances - EVENTS`.  Stops at the first
invalid event (message on stderr, exit 1).  Standard library only.

Why Python's sqlite3 module and not a C program: it is how most order
services reach SQLite (through a driver, from a high-level language), it
ships with Debian's python3, and the time spent inside SQLite itself is
measured separately (see docs/performance.md) so the Python share is known.
"""

import argparse
import json
import sqlite3
import sys

GIFT_SKU = "gift"
AGENT_AWARD = 10000
PARTNER_AWARD = 30000
TEAM_AWARD = 20000
PARTNER_AFTER = 2
PASS_UP = 2
PEER_RATE = (10, 100)
POOL_RATE = (5, 100)
HOLD_RATE = (20, 100)

USER, AGENT, PARTNER = 0, 1, 2
RANK_NAMES = ["user", "agent", "partner"]
OUTSIDE, PLATFORM, POOL = 0, 1, 2

SCHEMA = """
CREATE TABLE members (
  id INTEGER PRIMARY KEY,          -- join order, from 1
  key TEXT NOT NULL UNIQUE,
  sponsor INTEGER REFERENCES members(id),
  parent INTEGER REFERENCES members(id),
  rank INTEGER NOT NULL DEFAULT 0,
  released INTEGER NOT NULL DEFAULT 0,
  agents_sponsored INTEGER NOT NULL DEFAULT 0,
  counted INTEGER NOT NULL DEFAULT 0,
  perf INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE seeds (
  member INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  seed INTEGER NOT NULL,
  PRIMARY KEY (member, slot)
) WITHOUT ROWID;
-- accounts: 0 outside, 1 platform, 2 pool, 3 + 2m available, 4 + 2m held
CREATE TABLE balances (account INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  buyer INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  event INTEGER NOT NULL,
  period INTEGER NOT NULL,
  refunded INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE postings (
  id INTEGER PRIMARY KEY,
  event INTEGER NOT NULL,
  kind TEXT NOT NULL,
  from_account INTEGER NOT NULL,
  to_account INTEGER NOT NULL,
  amount INTEGER NOT NULL
);
CREATE INDEX postings_by_event ON postings(event);
CREATE TABLE perf_entries (event INTEGER NOT NULL, member INTEGER NOT NULL, amount INTEGER NOT NULL);
CREATE INDEX perf_entries_by_event ON perf_entries(event);
CREATE TABLE events (key TEXT PRIMARY KEY, content TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO balances VALUES (0, 0), (1, 0), (2, 0);
"""

SUPERIOR = """
WITH RECURSIVE up(id, rank, parent) AS (
  SELECT p.id, p.rank, p.parent FROM members p
   WHERE p.id = (SELECT parent FROM members WHERE id = ?)
  UNION ALL
  SELECT p.id, p.rank, p.parent FROM members p JOIN up ON p.id = up.parent
   WHERE up.rank < 2
)
SELECT id FROM up WHERE rank >= 2 LIMIT 1
"""


class Reject(Exception):
    pass


def rate(amount, r):
    return amount * r[0] // r[1]


def parse_money(value):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise Reject('field "amount" must be a decimal string or an integer')
    if isinstance(value, int):
        return value * 100
    whole, dot, frac = value.partition(".")
    if not whole.isdigit() or (dot and (not frac.isdigit() or len(frac) > 2)):
        raise Reject('amount "%s" is not a valid amount' % value)
    return int(whole) * 100 + int((frac + "00")[:2])


def format_money(minor):
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return "%s%d.%02d" % (sign, minor // 100, minor % 100)


class Chain21Sql:
    def __init__(self, db):
        self.db = db
        db.executescript(SCHEMA)
        self.period = 0
        self.seq = 0
        self.promoting = None
        self.changed = None
        self.perf_added = None

    def one(self, sql, *args):
        return self.db.execute(sql, args).fetchone()

    def run(self, sql, *args):
        self.db.execute(sql, args)

    # --- money ---

    def post(self, kind, frm, to, amount):
        self.run("INSERT INTO postings (event, kind, from_account, to_account, amount)"
                 " VALUES (?, ?, ?, ?, ?)", self.seq, kind, frm, to, amount)
        self.run("UPDATE balances SET balance = balance - ? WHERE account = ?", amount, frm)
        self.run("UPDATE balances SET balance = balance + ? WHERE account = ?", amount, to)

    def hold(self, m, credit):
        if self.one("SELECT released FROM members WHERE id = ?", m)[0]:
            return
        h = rate(credit, HOLD_RATE)
        if h > 0:
            self.post("hold", 3 + 2 * m, 4 + 2 * m, h)

    def credit(self, m, amount, kind, order_amount):
        self.post(kind, PLATFORM, 3 + 2 * m, amount)
        rank, sponsor = self.one("SELECT rank, sponsor FROM members WHERE id = ?", m)
        if kind in ("direct", "rebate", "team") and rank >= PARTNER and m not in self.perf_added:
            self.perf_added.add(m)
            self.run("UPDATE members SET perf = perf + ? WHERE id = ?", order_amount, m)
            self.run("INSERT INTO perf_entries VALUES (?, ?, ?)", self.seq, m, order_amount)
        self.hold(m, amount)
        if kind in ("direct", "team") and rank >= PARTNER and sponsor is not None:
            if self.one("SELECT rank FROM members WHERE id = ?", sponsor)[0] >= PARTNER:
                peer = rate(amount, PEER_RATE)
                if peer > 0:
                    self.post("peer", PLATFORM, 3 + 2 * sponsor, peer)
                    self.hold(sponsor, peer)

    # --- tree ---

    def superior(self, m):
        row = self.one(SUPERIOR, m)
        return row[0] if row else None

    def seeds(self, m):
        return [r[0] for r in self.db.execute(
            "SELECT seed FROM seeds WHERE member = ? ORDER BY slot", (m,))]

    def rank(self, m):
        return self.one("SELECT rank FROM members WHERE id = ?", m)[0]

    def set_rank(self, m, r):
        old, s = self.one("SELECT rank, sponsor FROM members WHERE id = ?", m)
        if old == r:
            return
        self.run("UPDATE members SET rank = ? WHERE id = ?", r, m)
        self.changed.append(m)
        if old < AGENT <= r and s is not None:
            seeds = self.seeds(s)
            if m not in seeds and len(seeds) < 2:
                self.run("INSERT INTO seeds VALUES (?, ?, ?)", s, len(seeds), m)
                self.changed.append(s)
        if old < PARTNER <= r:
            boss = self.superior(m)
            if boss is not None:
                self.run("UPDATE members SET parent = ? WHERE id IN"
                         " (SELECT seed FROM seeds WHERE member = ? AND slot < ?) AND parent = ?",
                         boss, m, PASS_UP, m)
        if s is not None:
            counted, now = self.one("SELECT counted, rank FROM members WHERE id = ?", m)
            counts = 1 if now >= AGENT else 0
            if counted != counts:
                self.run("UPDATE members SET agents_sponsored = agents_sponsored + ? WHERE id = ?",
                         1 if counts else -1, s)
                self.run("UPDATE members SET counted = ? WHERE id = ?", counts, m)
        self.check_partner(m)
        now = self.rank(m)
        if now < AGENT:
            return
        if self.promoting is not None and self.promoting[0] == m and self.promoting[1] > now:
            return
        self.check_partner(s)

    def check_partner(self, m):
        if m is None:
            return
        rank, n = self.one("SELECT rank, agents_sponsored FROM members WHERE id = ?", m)
        if rank == AGENT and n >= PARTNER_AFTER:
            self.set_rank(m, PARTNER)

    def check_releases(self):
        done = set()
        for m in self.changed:
            for x in (m, self.one("SELECT sponsor FROM members WHERE id = ?", m)[0]):
                if x is None or x in done:
                    continue
                done.add(x)
                # locked, two seeds, both partners?
                row = self.one(
                    "SELECT m.released, count(s.seed), sum(p.rank >= 2) FROM members m"
                    " LEFT JOIN seeds s ON s.member = m.id LEFT JOIN members p ON p.id = s.seed"
                    " WHERE m.id = ?", x)
                if row[0] or row[1] < 2 or row[2] < 2:
                    continue
                amount = self.one("SELECT balance FROM balances WHERE account = ?", 4 + 2 * x)[0]
                if amount > 0:
                    self.post("release", 4 + 2 * x, 3 + 2 * x, amount)
                self.run("UPDATE members SET released = 1 WHERE id = ?", x)

    # --- events ---

    def member(self, ev, field="member"):
        key = ev.get(field)
        if not isinstance(key, str) or not key:
            raise Reject('field "%s" is missing or empty' % field)
        row = self.one("SELECT id FROM members WHERE key = ?", key)
        if row is None:
            raise Reject('%s "%s" does not exist' % (field, key))
        return row[0]

    def join(self, ev):
        key = ev.get("member")
        if not isinstance(key, str) or not key:
            raise Reject('field "member" is missing or empty')
        if self.one("SELECT 1 FROM members WHERE key = ?", key):
            raise Reject('member "%s" exists already' % key)
        s = self.member(ev, "sponsor") if "sponsor" in ev else None
        # ids are given in join order (rowid: the largest so far plus one)
        cur = self.db.execute("INSERT INTO members (key, sponsor, parent) VALUES (?, ?, ?)",
                              (key, s, s))
        m = cur.lastrowid
        self.run("INSERT INTO balances VALUES (?, 0), (?, 0)", 3 + 2 * m, 4 + 2 * m)

    def order(self, ev):
        oid = ev.get("order")
        if not isinstance(oid, str) or not oid:
            raise Reject('field "order" is missing or empty')
        amount = parse_money(ev.get("amount"))
        if amount <= 0:
            raise Reject("amount %s is not positive" % format_money(amount))
        if self.one("SELECT 1 FROM orders WHERE key = ?", oid):
            raise Reject('order "%s" exists already' % oid)
        b = self.member(ev)
        self.run("INSERT INTO orders (key, buyer, amount, event, period) VALUES (?, ?, ?, ?, ?)",
                 oid, b, amount, self.seq, self.period)
        self.perf_added = set()
        self.post("sale", OUTSIDE, PLATFORM, amount)
        pool = rate(amount, POOL_RATE)
        if pool > 0:
            self.post("pool_contribution", PLATFORM, POOL, pool)
        if ev.get("sku") == GIFT_SKU:
            brank, bsponsor = self.one("SELECT rank, sponsor FROM members WHERE id = ?", b)
            seller = b if brank >= AGENT else bsponsor
            if seller is not None:
                srank = self.rank(seller)
                if srank >= AGENT:
                    award = AGENT_AWARD if srank == AGENT else PARTNER_AWARD
                    self.credit(seller, award, "rebate" if seller == b else "direct", amount)
                    if srank == AGENT:
                        boss = self.superior(seller)
                        if boss is not None:
                            self.credit(boss, TEAM_AWARD, "team", amount)
            if brank < AGENT:
                self.set_rank(b, AGENT)

    def refund(self, ev):
        oid = ev.get("order")
        if not isinstance(oid, str) or not oid:
            raise Reject('field "order" is missing or empty')
        row = self.one("SELECT id, event, period, refunded FROM orders WHERE key = ?", oid)
        if row is None:
            raise Reject('order "%s" does not exist' % oid)
        o, event, period, refunded = row
        if refunded:
            raise Reject('order "%s" was already refunded' % oid)
        self.run("UPDATE orders SET refunded = 1 WHERE id = ?", o)
        moves = self.db.execute("SELECT kind, from_account, to_account, amount FROM postings"
                                " WHERE event = ? ORDER BY id DESC", (event,)).fetchall()
        for kind, frm, to, amount in moves:
            if kind in ("hold", "release"):
                m = (frm - 3) // 2
                if self.one("SELECT released FROM members WHERE id = ?", m)[0]:
                    continue
            self.post(kind, to, frm, amount)
        if period == self.period:
            self.run("UPDATE members SET perf = perf - (SELECT sum(amount) FROM perf_entries e"
                     " WHERE e.event = ? AND e.member = members.id)"
                     " WHERE id IN (SELECT member FROM perf_entries WHERE event = ?)", event, event)

    def period_close(self, ev):
        if not isinstance(ev.get("period"), str) or not ev["period"]:
            raise Reject('field "period" is missing or empty')
        pool = self.one("SELECT balance FROM balances WHERE account = ?", POOL)[0]
        earners = self.db.execute(
            "SELECT id, perf FROM members WHERE id IN (SELECT DISTINCT member FROM perf_entries)"
            " AND perf > 0 ORDER BY id").fetchall()
        if pool > 0 and earners:
            total = sum(p for _, p in earners)
            shares = {}
            remainders = []
            left = pool
            for m, perf in earners:
                shares[m] = pool * perf // total
                left -= shares[m]
                remainders.append((-(pool * perf % total), m))
            remainders.sort()
            for _, m in remainders[:left]:
                shares[m] += 1
            for m, _ in earners:
                if shares[m] > 0:
                    self.post("pool", POOL, 3 + 2 * m, shares[m])
                    self.hold(m, shares[m])
        self.run("UPDATE members SET perf = 0 WHERE id IN (SELECT DISTINCT member FROM perf_entries)")
        self.run("DELETE FROM perf_entries")
        self.period += 1

    def transpose(self, ev):
        m = self.member(ev)
        o = self.member(ev, "old")
        n = self.member(ev, "new")
        seeds = self.seeds(m)
        if o not in seeds:
            raise Reject('old "%s" is not a seed of "%s"' % (ev["old"], ev["member"]))
        if self.rank(o) >= PARTNER:
            raise Reject('old "%s" is a partner' % ev["old"])
        nrank, nsponsor = self.one("SELECT rank, sponsor FROM members WHERE id = ?", n)
        if nrank < PARTNER:
            raise Reject('new "%s" is not a partner' % ev["new"])
        if nsponsor != m:
            raise Reject('new "%s" was not sponsored by "%s"' % (ev["new"], ev["member"]))
        if n in seeds:
            raise Reject('new "%s" is already a seed of "%s"' % (ev["new"], ev["member"]))
        self.run("UPDATE seeds SET seed = ? WHERE member = ? AND seed = ?", n, m, o)
        self.changed.append(m)

    def withdraw(self, ev):
        m = self.member(ev)
        amount = parse_money(ev.get("amount"))
        if amount <= 0:
            raise Reject("amount %s is not positive" % format_money(amount))
        have = self.one("SELECT balance FROM balances WHERE account = ?", 3 + 2 * m)[0]
        if amount > have:
            raise Reject("amount %s exceeds available %s" % (format_money(amount), format_money(have)))
        self.post("withdraw", 3 + 2 * m, OUTSIDE, amount)

    def promote(self, ev):
        m = self.member(ev)
        name = ev.get("rank")
        if name not in RANK_NAMES:
            raise Reject('rank "%s" is not a rank of scheme chain21' % name)
        target = RANK_NAMES.index(name)
        cur = self.rank(m)
        if target <= cur:
            raise Reject('rank "%s" is not higher than "%s"' % (name, RANK_NAMES[cur]))
        self.promoting = (m, target)
        for r in range(cur + 1, target + 1):
            if self.rank(m) < r:
                self.set_rank(m, r)
        self.promoting = None

    FIELDS = {
        "join": ({"member"}, {"sponsor"}),
        "order": ({"order", "member", "amount"}, {"sku"}),
        "refund": ({"order"}, set()),
        "period_close": ({"period"}, set()),
        "transpose": ({"member", "old", "new"}, set()),
        "withdraw": ({"member", "amount"}, set()),
        "promote": ({"member", "rank"}, set()),
    }

    def apply(self, ev):
        eid = ev.get("id")
        if not isinstance(eid, str) or not eid:
            raise Reject('field "id" is missing or empty')
        content = json.dumps(ev, sort_keys=True)
        row = self.one("SELECT content FROM events WHERE key = ?", eid)
        if row is not None:
            if row[0] != content:
                raise Reject('event id "%s" was already used for a different event' % eid)
            return
        kind = ev.get("type")
        if kind not in self.FIELDS:
            raise Reject('unknown type "%s"' % kind)
        required, optional = self.FIELDS[kind]
        for field in ev:
            if field not in required and field not in optional and field not in ("type", "id", "time"):
                raise Reject('unknown field "%s"' % field)
        self.changed = []
        getattr(self, kind)(ev)
        self.check_releases()
        self.run("INSERT INTO events VALUES (?, ?)", eid, content)
        self.seq += 1

    def write_balances(self, out):
        rows = self.db.execute(
            "SELECT m.key, m.rank, a.balance, h.balance FROM members m"
            " JOIN balances a ON a.account = 3 + 2 * m.id"
            " JOIN balances h ON h.account = 4 + 2 * m.id ORDER BY m.id")
        for key, rank, available, held in rows:
            out.write('{"member":%s,"rank":"%s","available":"%s","held":"%s"}\n'
                      % (json.dumps(key, ensure_ascii=False), RANK_NAMES[rank],
                         format_money(available), format_money(held)))
        pool = self.one("SELECT balance FROM balances WHERE account = ?", POOL)[0]
        out.write('{"account":"pool","balance":"%s"}\n' % format_money(pool))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=":memory:", help="database file (default: in memory)")
    ap.add_argument("--batch", type=int, default=1000, help="events per transaction")
    ap.add_argument("events")
    args = ap.parse_args()
    db = sqlite3.connect(args.db, isolation_level=None, cached_statements=256)
    if args.db != ":memory:":
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
    scheme = Chain21Sql(db)
    status = 0
    in_batch = 0
    db.execute("BEGIN")
    with open(args.events, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            # Each event is checked before it changes anything, so a rejected
            # event leaves no trace and needs no savepoint.
            try:
                scheme.apply(json.loads(line))
            except (Reject, ValueError) as e:
                sys.stderr.write("%s:%d: %s\n" % (args.events, lineno, e))
                status = 1
                break
            in_batch += 1
            if in_batch == args.batch:
                db.execute("COMMIT")
                db.execute("BEGIN")
                in_batch = 0
    db.execute("COMMIT")
    scheme.write_balances(sys.stdout)
    db.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
