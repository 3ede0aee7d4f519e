#!/usr/bin/python3
"""Chain 2+1 in plain Python: the baseline a researcher would write.

Reads a JSON Lines event stream (shared/spec/events.md) and applies the
chain 2+1 scheme of shared/spec/chain21.md with its default parameters, with
dicts and lists and nothing else.  Prints the same balances as
`referral run --scheme chain21 --balances - EVENTS`.

    /usr/bin/python3 bench/baselines/chain21.py EVENTS.jsonl > balances.jsonl

Stops at the first invalid event (message on stderr, exit 1), like
`referral run` without --keep-going.  Standard library only.
"""

import json
import sys

# Parameters (spec defaults), money in fen.
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

# Accounts: 0 outside, 1 platform, 2 pool, then 3 + 2m available, 4 + 2m held.
OUTSIDE, PLATFORM, POOL = 0, 1, 2


class Reject(Exception):
    pass


def avail(m):
    return 3 + 2 * m


def held(m):
    return 4 + 2 * m


def rate(amount, r):
    # floor toward zero; amounts here are positive
    return amount * r[0] // r[1]


def parse_money(value, field):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise Reject('field "%s" must be a decimal string or an integer' % field)
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


class Chain21:
    def __init__(self):
        self.index = {}          # member key -> member number (join order)
        self.keys = []
        self.sponsor = []        # member number or None
        self.parent = []
        self.rank = []
        self.seeds = []          # list of up to 2 member numbers
        self.released = []       # help fund released?
        self.agents_sponsored = []  # directly sponsored members of rank >= agent
        self.counted = []        # counted in its sponsor's agents_sponsored?
        self.perf = []           # performance in the current period
        self.balance = [0, 0, 0]
        self.orders = {}         # order id -> dict
        self.event_ids = {}      # event id -> content (idempotency)
        self.period = 0
        self.perf_members = []   # members credited performance this period
        self.perf_seen = set()   # the same, as a set
        # the event being applied
        self.moves = None        # money movements of the current event
        self.changed = None      # members whose rank or seeds changed
        self.order_perf = None   # (member, amount) performance added by the order
        self.promoting = None    # (member, target rank) of an administrator's promote

    # --- money ---

    def post(self, kind, frm, to, amount):
        self.balance[frm] -= amount
        self.balance[to] += amount
        self.moves.append((kind, frm, to, amount))

    def credit(self, m, amount, kind, order_amount):
        """An award to member m: split by the help fund, counted as
        performance, and (direct and team) paid a peer award on."""
        self.post(kind, PLATFORM, avail(m), amount)
        if kind in ("direct", "rebate", "team") and self.rank[m] >= PARTNER:
            if all(p != m for p, _ in self.order_perf):
                if m not in self.perf_seen:
                    self.perf_members.append(m)
                    self.perf_seen.add(m)
                self.perf[m] += order_amount
                self.order_perf.append((m, order_amount))
        self.hold(m, amount)
        if kind in ("direct", "team") and self.rank[m] >= PARTNER:
            s = self.sponsor[m]
            if s is not None and self.rank[s] >= PARTNER:
                peer = rate(amount, PEER_RATE)
                if peer > 0:
                    self.post("peer", PLATFORM, avail(s), peer)
                    self.hold(s, peer)

    def hold(self, m, credit):
        if not self.released[m]:
            h = rate(credit, HOLD_RATE)
            if h > 0:
                self.post("hold", avail(m), held(m), h)

    # --- tree ---

    def superior(self, m):
        p = self.parent[m]
        while p is not None and self.rank[p] < PARTNER:
            p = self.parent[p]
        return p

    def set_rank(self, m, r):
        old = self.rank[m]
        if old == r:
            return
        self.rank[m] = r
        self.changed.append(m)
        # seeds: the first two sponsored members that became agents
        s = self.sponsor[m]
        if old < AGENT <= r and s is not None:
            if m not in self.seeds[s] and len(self.seeds[s]) < 2:
                self.seeds[s].append(m)
                self.changed.append(s)
        # break-away and pass-up
        if old < PARTNER <= r:
            boss = self.superior(m)
            if boss is not None:
                for seed in self.seeds[m][:PASS_UP]:
                    if self.parent[seed] == m:
                        self.parent[seed] = boss
        # promotion of an agent with 2 direct agents: m, then its sponsor
        if s is not None:
            counts = self.rank[m] >= AGENT
            if self.counted[m] != counts:
                self.agents_sponsored[s] += 1 if counts else -1
                self.counted[m] = counts
        self.check_partner(m)
        now = self.rank[m]
        if now < AGENT:
            return
        if self.promoting is not None and self.promoting[0] == m and self.promoting[1] > now:
            return  # an administrator's promote is still climbing
        self.check_partner(s)

    def check_partner(self, m):
        if m is not None and self.rank[m] == AGENT and self.agents_sponsored[m] >= PARTNER_AFTER:
            self.set_rank(m, PARTNER)

    def check_releases(self):
        done = set()
        for m in self.changed:
            for x in (m, self.sponsor[m]):
                if x is None or x in done:
                    continue
                done.add(x)
                if self.released[x] or len(self.seeds[x]) < 2:
                    continue
                if all(self.rank[seed] >= PARTNER for seed in self.seeds[x]):
                    amount = self.balance[held(x)]
                    if amount > 0:
                        self.post("release", held(x), avail(x), amount)
                    self.released[x] = True

    # --- events ---

    def member(self, ev, field="member", role=None):
        key = ev.get(field)
        if not isinstance(key, str) or not key:
            raise Reject('field "%s" is missing or empty' % field)
        m = self.index.get(key)
        if m is None:
            raise Reject('%s "%s" does not exist' % (role or field, key))
        return m

    def join(self, ev):
        key = ev.get("member")
        if not isinstance(key, str) or not key:
            raise Reject('field "member" is missing or empty')
        if key in self.index:
            raise Reject('member "%s" exists already' % key)
        s = self.member(ev, "sponsor") if "sponsor" in ev else None
        m = len(self.keys)
        self.index[key] = m
        self.keys.append(key)
        self.sponsor.append(s)
        self.parent.append(s)
        self.rank.append(USER)
        self.seeds.append([])
        self.released.append(False)
        self.agents_sponsored.append(0)
        self.counted.append(False)
        self.perf.append(0)
        self.balance += [0, 0]

    def order(self, ev, seq):
        oid = ev.get("order")
        if not isinstance(oid, str) or not oid:
            raise Reject('field "order" is missing or empty')
        amount = parse_money(ev.get("amount"), "amount")
        if amount <= 0:
            raise Reject("amount %s is not positive" % format_money(amount))
        if oid in self.orders:
            raise Reject('order "%s" exists already' % oid)
        b = self.member(ev)
        sku = ev.get("sku")
        self.order_perf = []
        self.post("sale", OUTSIDE, PLATFORM, amount)
        pool = rate(amount, POOL_RATE)
        if pool > 0:
            self.post("pool_contribution", PLATFORM, POOL, pool)
        if sku == GIFT_SKU:
            seller = b if self.rank[b] >= AGENT else self.sponsor[b]
            if seller is not None and self.rank[seller] >= AGENT:
                award = AGENT_AWARD if self.rank[seller] == AGENT else PARTNER_AWARD
                self.credit(seller, award, "rebate" if seller == b else "direct", amount)
                if self.rank[seller] == AGENT:
                    boss = self.superior(seller)
                    if boss is not None:
                        self.credit(boss, TEAM_AWARD, "team", amount)
            if self.rank[b] < AGENT:
                self.set_rank(b, AGENT)
        self.orders[oid] = {"buyer": b, "amount": amount, "period": self.period,
                            "refunded": False, "moves": self.moves,
                            "perf": self.order_perf}

    def refund(self, ev):
        oid = ev.get("order")
        if not isinstance(oid, str) or not oid:
            raise Reject('field "order" is missing or empty')
        o = self.orders.get(oid)
        if o is None:
            raise Reject('order "%s" does not exist' % oid)
        if o["refunded"]:
            raise Reject('order "%s" was already refunded' % oid)
        o["refunded"] = True
        for kind, frm, to, amount in reversed(o["moves"]):
            if kind in ("hold", "release"):
                m = (frm - 3) // 2
                if self.released[m]:
                    continue  # released since: the credit is taken from available
            self.post(kind, to, frm, amount)
        if o["period"] == self.period:
            for m, amount in o["perf"]:
                self.perf[m] -= amount

    def period_close(self, ev):
        if not isinstance(ev.get("period"), str) or not ev["period"]:
            raise Reject('field "period" is missing or empty')
        pool = self.balance[POOL]
        earners = [m for m in self.perf_members if self.perf[m] > 0]
        if pool > 0 and earners:
            total = sum(self.perf[m] for m in earners)
            shares = {}
            remainders = []
            left = pool
            for m in earners:
                shares[m] = pool * self.perf[m] // total
                left -= shares[m]
                remainders.append((-(pool * self.perf[m] % total), m))
            remainders.sort()
            for _, m in remainders[:left]:
                shares[m] += 1
            for m in sorted(earners):
                if shares[m] > 0:
                    self.post("pool", POOL, avail(m), shares[m])
                    self.hold(m, shares[m])
        for m in self.perf_members:
            self.perf[m] = 0
        self.perf_members = []
        self.perf_seen = set()
        self.period += 1

    def transpose(self, ev):
        m = self.member(ev)
        o = self.member(ev, "old")
        n = self.member(ev, "new")
        if o not in self.seeds[m]:
            raise Reject('old "%s" is not a seed of "%s"' % (ev["old"], ev["member"]))
        if self.rank[o] >= PARTNER:
            raise Reject('old "%s" is a partner' % ev["old"])
        if self.rank[n] < PARTNER:
            raise Reject('new "%s" is not a partner' % ev["new"])
        if self.sponsor[n] != m:
            raise Reject('new "%s" was not sponsored by "%s"' % (ev["new"], ev["member"]))
        if n in self.seeds[m]:
            raise Reject('new "%s" is already a seed of "%s"' % (ev["new"], ev["member"]))
        self.seeds[m][self.seeds[m].index(o)] = n
        self.changed.append(m)

    def withdraw(self, ev):
        m = self.member(ev)
        amount = parse_money(ev.get("amount"), "amount")
        if amount <= 0:
            raise Reject("amount %s is not positive" % format_money(amount))
        if amount > self.balance[avail(m)]:
            raise Reject("amount %s exceeds available %s"
                         % (format_money(amount), format_money(self.balance[avail(m)])))
        self.post("withdraw", avail(m), OUTSIDE, amount)

    def promote(self, ev):
        m = self.member(ev)
        name = ev.get("rank")
        if name not in RANK_NAMES:
            raise Reject('rank "%s" is not a rank of scheme chain21' % name)
        target = RANK_NAMES.index(name)
        if target <= self.rank[m]:
            raise Reject('rank "%s" is not higher than "%s"' % (name, RANK_NAMES[self.rank[m]]))
        self.promoting = (m, target)
        for r in range(self.rank[m] + 1, target + 1):
            if self.rank[m] < r:
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
        """Applies one event (a dict).  Returns False for a duplicate."""
        eid = ev.get("id")
        if not isinstance(eid, str) or not eid:
            raise Reject('field "id" is missing or empty')
        # "the same content": the same fields and values ("699" != 699)
        content = tuple(sorted(ev.items()))
        if eid in self.event_ids:
            if self.event_ids[eid] != content:
                raise Reject('event id "%s" was already used for a different event' % eid)
            return False
        kind = ev.get("type")
        if kind not in self.FIELDS:
            raise Reject('unknown type "%s"' % kind)
        required, optional = self.FIELDS[kind]
        for field in ev:
            if field not in required and field not in optional and field not in ("type", "id", "time"):
                raise Reject('unknown field "%s"' % field)
        self.moves = []
        self.changed = []
        if kind == "join":
            self.join(ev)
        elif kind == "order":
            self.order(ev, len(self.event_ids))
        elif kind == "refund":
            self.refund(ev)
        elif kind == "period_close":
            self.period_close(ev)
        elif kind == "transpose":
            self.transpose(ev)
        elif kind == "withdraw":
            self.withdraw(ev)
        else:
            self.promote(ev)
        self.check_releases()
        self.event_ids[eid] = content
        return True

    def write_balances(self, out):
        for m, key in enumerate(self.keys):
            out.write('{"member":%s,"rank":"%s","available":"%s","held":"%s"}\n'
                      % (json.dumps(key, ensure_ascii=False), RANK_NAMES[self.rank[m]],
                         format_money(self.balance[avail(m)]),
                         format_money(self.balance[held(m)])))
        out.write('{"account":"pool","balance":"%s"}\n' % format_money(self.balance[POOL]))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: chain21.py EVENTS.jsonl\n")
        return 2
    scheme = Chain21()
    status = 0
    with open(argv[1], encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                scheme.apply(json.loads(line))
            except (Reject, ValueError) as e:
                sys.stderr.write("%s:%d: %s\n" % (argv[1], lineno, e))
                status = 1
                break
    scheme.write_balances(sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
