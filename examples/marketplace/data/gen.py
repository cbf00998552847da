#!/usr/bin/env python3
"""Writes changes.jsonl: a deterministic change stream for the marketplace example.

One JSON object per line: {"table": "market.leads", "op": "insert"|"upsert"|"delete", "row": {...}},
and {"op": "commit"} at the end of each tick. Upserts replace a row by primary key; some deletes
give only the key. Numerics are strings ("12.50"), timestamps "YYYY-MM-DD HH:MM:SS".

Run from anywhere: python3 gen.py > changes.jsonl
"""
import datetime
import json
import random
import sys
from decimal import Decimal

rng = random.Random(20240501)
out = sys.stdout

VERTICALS = ["solar", "roofing", "insurance", "Mortgage", "HVAC"]  # some spelled with capitals
REGIONS = ["ca", "tx", "ny", "fl", "wa"]
BUYERS = ["Sunrise Installers", "Peak Roofing Co", "Shield Insurance", "HomeLoan Direct",
          "CoolAir Services", "Bright Solar", "Summit Roofers", "Harbor Mutual", "Keystone Lending",
          "Polar HVAC", "Evergreen Energy", "Atlas Insurance", "Test Buyer", "test-acme"]


def money(value):
    return str(Decimal(value).quantize(Decimal("0.01")))


def stamp(moment):
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def emit(table, op, row):
    out.write(json.dumps({"table": "market." + table, "op": op, "row": row},
                         separators=(",", ":")) + "\n")


def commit():
    out.write('{"op":"commit"}\n')


buyers, leads, purchases = {}, {}, {}
sold_to = {}  # lead id -> buyer ids
next_lead, next_purchase = 1, 1
now = datetime.datetime(2024, 5, 1, 8, 0, 0)

for buyer_id, name in enumerate(BUYERS, start=1):
    row = {"id": buyer_id, "name": name, "vertical": VERTICALS[(buyer_id - 1) % len(VERTICALS)],
           "region": None if buyer_id % 6 == 0 else rng.choice(REGIONS),
           "max_price": money(rng.randint(25, 80)), "active": buyer_id != 9}
    buyers[buyer_id] = row
    emit("buyers", "insert", row)


def new_lead():
    global next_lead
    row = {"id": next_lead, "vertical": rng.choice(VERTICALS), "region": rng.choice(REGIONS),
           "created_at": stamp(now + datetime.timedelta(minutes=rng.randint(0, 59))),
           "price": money(Decimal(rng.randint(1000, 7000)) / 100)}
    leads[next_lead] = row
    sold_to[next_lead] = []
    next_lead += 1
    emit("leads", "insert", row)


def purchase(lead):
    """A buyer of the lead's vertical buys it, usually within budget; a lead sells up to 3 times."""
    global next_purchase
    candidates = [b for b in buyers.values()
                  if b["vertical"].lower() == lead["vertical"].lower()
                  and b["id"] not in sold_to[lead["id"]]]
    if not candidates or len(sold_to[lead["id"]]) >= 3:
        return
    buyer = rng.choice(candidates)
    amount = Decimal(lead["price"]) * Decimal(rng.choice(["1.10", "1.25", "1.50"]))
    if amount > Decimal(buyer["max_price"]) and rng.random() < 0.85:
        amount = Decimal(buyer["max_price"])  # buyers mostly pay no more than their budget
    if rng.random() < 0.06:
        amount = Decimal(0)  # a free replacement for a bad lead
    row = {"id": next_purchase, "lead_id": lead["id"], "buyer_id": buyer["id"],
           "purchased_at": stamp(now + datetime.timedelta(minutes=rng.randint(60, 600))),
           "amount": money(amount)}
    purchases[next_purchase] = row
    sold_to[lead["id"]].append(buyer["id"])
    next_purchase += 1
    emit("purchases", "insert", row)


for _ in range(25):
    new_lead()
commit()

for tick in range(1, 19):
    now += datetime.timedelta(hours=rng.choice([6, 12, 18]))
    for _ in range(rng.randint(5, 10)):
        new_lead()
    recent = sorted(leads)[-40:]
    for lead_id in rng.sample(recent, k=min(9, len(recent))):
        purchase(leads[lead_id])

    # Refunds: a purchase is withdrawn (key-only delete).
    if tick % 3 == 0 and purchases:
        refunded = rng.choice(sorted(purchases))
        row = purchases.pop(refunded)
        sold_to[row["lead_id"]].remove(row["buyer_id"])
        emit("purchases", "delete", {"id": refunded})

    # Buyers change budgets and pause or resume.
    if tick % 2 == 1:
        buyer = buyers[rng.choice(sorted(buyers))]
        buyer["max_price"] = money(Decimal(buyer["max_price"]) + rng.choice([-10, -5, 5, 15]))
        emit("buyers", "upsert", dict(buyer))
    if tick % 5 == 0:
        buyer = buyers[rng.choice(sorted(buyers))]
        buyer["active"] = not buyer["active"]
        emit("buyers", "upsert", dict(buyer))

    # A lead's price is corrected, or a spam lead is removed with its purchases.
    if tick % 4 == 2:
        lead = leads[rng.choice(sorted(leads))]
        lead["price"] = money(Decimal(lead["price"]) * Decimal("0.8"))
        emit("leads", "upsert", dict(lead))
    if tick % 6 == 5:
        spam = rng.choice(sorted(leads))
        for purchase_id in sorted(p for p, row in purchases.items() if row["lead_id"] == spam):
            emit("purchases", "delete", purchases.pop(purchase_id))
        del leads[spam], sold_to[spam]
        emit("leads", "delete", {"id": spam})
    commit()
