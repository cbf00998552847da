#!/usr/bin/env python3
"""Writes changes.jsonl: a deterministic change stream for the shop example.

One JSON object per line: {"table": "shop.orders", "op": "insert"|"upsert"|"delete", "row": {...}},
and {"op": "commit"} at the end of each tick. Upserts replace a row by primary key; some deletes
give only the key columns. Numerics are strings ("12.50"), dates "YYYY-MM-DD".

Run from anywhere: python3 gen.py > changes.jsonl
"""
import datetime
import json
import random
import sys
from decimal import Decimal

rng = random.Random(20240301)
out = sys.stdout

REGIONS = ["north", "south", "east", "west", "North", "West"]  # some spelled with capitals
CATEGORIES = ["Books", "Games", "Garden", "Kitchen", "Toys"]
FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jon", "Kemal",
         "Lena", "Milo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tess"]
LAST = ["Alvarez", "Brown", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito",
        "Jones", "Kowalski", "Lopez", "Müller", "Nakamura", "O'Brien", "Patel"]
PRODUCTS = {
    "Books": ["Field Guide to Birds", "Sourdough Basics", "The Long Winter", "SQL in Practice"],
    "Games": ["Harbour Tiles", "Star Traders", "Pocket Chess"],
    "Garden": ["Pruning Shears", "Seed Starter Kit", "Rain Barrel"],
    "Kitchen": ["Cast Iron Pan", "Chef's Knife", "Pour-Over Kettle"],
    "Toys": ["Wooden Train", "Kite", "Puzzle Cube"],
}


def money(value):
    return str(Decimal(value).quantize(Decimal("0.01")))


def emit(table, op, row):
    out.write(json.dumps({"table": "shop." + table, "op": op, "row": row},
                         ensure_ascii=False, separators=(",", ":")) + "\n")


def commit():
    out.write('{"op":"commit"}\n')


customers, products, orders, items = {}, {}, {}, {}  # key -> row
next_customer, next_order = 1, 1001
day = datetime.date(2024, 3, 1)


def new_customer(signup):
    global next_customer
    row = {"id": next_customer, "name": rng.choice(FIRST) + " " + rng.choice(LAST),
           "region": None if rng.random() < 0.07 else rng.choice(REGIONS),
           "signup_date": signup.isoformat()}
    customers[next_customer] = row
    next_customer += 1
    emit("customers", "insert", row)


def new_order(date):
    global next_order
    order = {"id": next_order, "customer_id": rng.choice(list(customers)),
             "order_date": date.isoformat(), "status": "placed"}
    orders[next_order] = order
    emit("orders", "insert", order)
    for line in range(1, rng.randint(1, 4) + 1):
        product = products[rng.choice(list(products))]
        discount = rng.choice([Decimal("1"), Decimal("1"), Decimal("1"), Decimal("0.9"),
                               Decimal("0.8")])
        item = {"order_id": next_order, "line": line, "product_id": product["id"],
                "quantity": rng.choice([1, 1, 1, 2, 2, 3, 5]),
                "unit_price": money(Decimal(product["price"]) * discount)}
        items[(next_order, line)] = item
        emit("order_items", "insert", item)
    next_order += 1


# Tick 0: the initial snapshot of customers and products, and the first orders.
for _ in range(30):
    new_customer(day - datetime.timedelta(days=rng.randint(30, 400)))
product_id = 1
for category, names in PRODUCTS.items():
    for name in names:
        price = money(Decimal(rng.randint(500, 9000)) / 100)
        products[product_id] = {"id": product_id, "name": name, "category": category,
                                "price": price}
        emit("products", "insert", products[product_id])
        product_id += 1
for _ in range(12):
    new_order(day)
commit()

NEXT_STATUS = {"placed": "shipped", "shipped": "delivered"}
for tick in range(1, 15):
    day += datetime.timedelta(days=1)
    if rng.random() < 0.5:
        new_customer(day)
    for _ in range(rng.randint(4, 8)):
        new_order(day)

    # Orders move on: shipped, delivered, or (rarely) cancelled before shipping.
    for order in rng.sample(sorted(orders.values(), key=lambda o: o["id"]), k=min(6, len(orders))):
        if order["status"] == "placed" and rng.random() < 0.12:
            order["status"] = "cancelled"
        elif order["status"] in NEXT_STATUS:
            order["status"] = NEXT_STATUS[order["status"]]
        else:
            continue
        emit("orders", "upsert", dict(order))

    # Corrections to open orders: a quantity changes, or a line is removed (key-only delete).
    open_lines = sorted(k for k, v in items.items() if orders[k[0]]["status"] == "placed")
    for key in rng.sample(open_lines, k=min(2, len(open_lines))):
        if rng.random() < 0.5:
            items[key]["quantity"] += 1
            emit("order_items", "upsert", dict(items[key]))
        else:
            del items[key]
            emit("order_items", "delete", {"order_id": key[0], "line": key[1]})

    # Now and then a price change or a customer moving region.
    if tick % 3 == 0:
        product = products[rng.choice(list(products))]
        product["price"] = money(Decimal(product["price"]) * Decimal("1.05"))
        emit("products", "upsert", dict(product))
    if tick % 4 == 1:
        customer = customers[rng.choice(list(customers))]
        customer["region"] = rng.choice(["north", "south", "east", "west"])
        emit("customers", "upsert", dict(customer))

    # A fraudulent order is removed entirely: its lines (full rows) then the order (key only).
    if tick % 5 == 2:
        victim = rng.choice(sorted(orders))
        for key in sorted(k for k in items if k[0] == victim):
            emit("order_items", "delete", items.pop(key))
        del orders[victim]
        emit("orders", "delete", {"id": victim})
    commit()
