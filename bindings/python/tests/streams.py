"""Seeded random event streams for the tests (plain Python, no library code).

The streams mix valid events with events the engine must reject
(withdrawals beyond the funds, bad promotions and transpositions, unknown
members, id conflicts) and duplicates, with amounts written every way the
event format allows, so that two ways of applying them can be compared.
"""

import random


def chain21_stream(seed, n, *, errors=True):
    rng = random.Random(seed)
    events = []
    members = []
    orders = []
    refunded = set()
    ranks = ["agent", "partner"]
    next_id = 0

    def new_id():
        nonlocal next_id
        next_id += 1
        return f"e{next_id}"

    def amount(text):
        # "699.00", "699" or 699 for whole amounts; decimals as text.
        if text.endswith(".00") and rng.random() < 0.3:
            return int(text[:-3]) if rng.random() < 0.5 else text[:-3]
        return text

    for i in range(4):
        key = f"F{i}"
        members.append(key)
        events.append({"type": "join", "id": new_id(), "member": key})
    events.append({"type": "promote", "id": new_id(), "member": "F0", "rank": "partner"})
    period = 0
    while len(events) < n:
        r = rng.random()
        if r < 0.30:
            key = f"m{len(members)}"
            e = {"type": "join", "id": new_id(), "member": key}
            if rng.random() < 0.97:
                e["sponsor"] = rng.choice(members[-50:] if rng.random() < 0.7 else members)
            members.append(key)
        elif r < 0.55:
            o = f"o{len(orders)}"
            orders.append(o)
            e = {"type": "order", "id": new_id(), "order": o,
                 "member": rng.choice(members), "amount": amount("699.00"), "sku": "gift"}
        elif r < 0.68:
            o = f"o{len(orders)}"
            orders.append(o)
            cents = rng.randint(1, 50000)
            e = {"type": "order", "id": new_id(), "order": o, "member": rng.choice(members),
                 "amount": amount(f"{cents // 100}.{cents % 100:02d}")}
            if rng.random() < 0.5:
                e["sku"] = "retail"
        elif r < 0.73 and orders:
            o = rng.choice(orders)
            if o in refunded and not errors:
                continue
            refunded.add(o)
            e = {"type": "refund", "id": new_id(), "order": o}
        elif r < 0.80:
            cents = rng.randint(1, 20000)
            e = {"type": "withdraw", "id": new_id(), "member": rng.choice(members),
                 "amount": amount(f"{cents // 100}.{cents % 100:02d}")}
            if not errors:
                continue
        elif r < 0.83:
            period += 1
            e = {"type": "period_close", "id": new_id(), "period": f"p{period}"}
        elif r < 0.86:
            if not errors:
                continue
            e = {"type": "promote", "id": new_id(), "member": rng.choice(members),
                 "rank": rng.choice(ranks)}
        elif r < 0.89:
            if not errors:
                continue
            e = {"type": "transpose", "id": new_id(), "member": rng.choice(members),
                 "old": rng.choice(members), "new": rng.choice(members)}
        elif r < 0.94 and events:
            events.append(dict(rng.choice(events)))  # a duplicate: same id, same content
            continue
        elif r < 0.96 and errors:
            e = {"type": "join", "id": rng.choice(events)["id"], "member": f"x{len(events)}"}
        elif errors:
            e = {"type": "order", "id": new_id(), "order": f"bad{len(events)}",
                 "member": "nobody", "amount": "1.00"}
        else:
            continue
        if rng.random() < 0.05:
            e["time"] = f"2024-01-{1 + len(events) % 28:02d}T00:00:00Z"
        events.append(e)
    return events


def to_columns(events):
    """The events as columns (lists with None where a row has no field)."""
    names = ["type", "id", "time", "member", "sponsor", "order", "amount", "sku", "period",
             "old", "new", "rank"]
    return {name: [e.get(name) for e in events] for name in names}
