#!/usr/bin/env python3
"""Writes the jaffle shop's change stream (deterministic): 12 ticks of customers signing up,
orders placed and moving through their statuses, payments and refunds. A few changes break a
data test for some ticks, so that `kiln test` and the running program have something to report:
an order of a customer not yet known, a status outside the accepted values (fixed by an upsert),
and a refund larger than its payment (deleted later).

    python3 data/gen.py > data/changes.jsonl
"""
import json
import random

rng = random.Random(7)
FIRST = ["Michael", "Shawn", "Kathleen", "Jimmy", "Katherine", "Sarah", "Martin", "Frank",
         "Jennifer", "Henry", "Fred", "Amy", "Kathleen", "Steve", "Teresa", "Amanda"]
LAST = ["P.", "M.", "H.", "C.", "R.", "W.", "G.", "B.", "A.", "L."]
METHODS = ["credit_card", "coupon", "bank_transfer", "gift_card"]
STATUSES = ["placed", "shipped", "completed"]

out = []
def change(table, op, row):
    out.append(json.dumps({"table": "jaffle." + table, "op": op, "row": row}))
def commit():
    out.append(json.dumps({"op": "commit"}))

customers, orders, payments = 0, {}, 0
for tick in range(1, 13):
    for _ in range(3):
        customers += 1
        change("customers", "insert", {"id": customers, "first_name": rng.choice(FIRST),
                                       "last_name": rng.choice(LAST)})
    for _ in range(5):
        order = len(orders) + 1
        # Tick 4 places an order for a customer who signs up only at tick 5.
        customer = customers + 1 if tick == 4 and order % 5 == 0 else rng.randint(1, customers)
        status = "lost" if tick == 6 and order % 5 == 1 else "placed"
        orders[order] = {"id": order, "user_id": customer,
                         "order_date": f"2024-01-{tick:02d}", "status": status}
        change("orders", "insert", orders[order])
        for _ in range(rng.randint(1, 2)):
            payments += 1
            change("payments", "insert", {"id": payments, "order_id": order,
                                          "payment_method": rng.choice(METHODS),
                                          "amount": rng.randint(100, 3000)})
    # Orders move on: placed -> shipped -> completed; the lost status is corrected.
    for order in rng.sample(sorted(orders), min(6, len(orders))):
        row = orders[order]
        if row["status"] in STATUSES[:-1]:
            row["status"] = STATUSES[STATUSES.index(row["status"]) + 1]
        change("orders", "upsert", row)
    if tick == 9:  # the lost orders are found to have been returned
        for row in orders.values():
            if row["status"] == "lost":
                row["status"] = "returned"
                change("orders", "upsert", row)
    if tick == 8:  # a refund larger than what was paid
        payments += 1
        refund = payments
        change("payments", "insert", {"id": refund, "order_id": 1, "payment_method": "coupon",
                                      "amount": -100000})
    if tick == 10:
        change("payments", "delete", {"id": refund})
    commit()

print("\n".join(out))
