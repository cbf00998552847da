#!/usr/bin/env python3
"""Change records (the Kiln binary's input, as shop_gen writes them) as Debezium change events:
per table, a file OUTDIR/SCHEMA.TABLE.keyed of "KEY<TAB>EVENT" lines (the key the JSON object of the table's primary-key
columns, as Debezium keys messages), for kcat -K'<TAB>'. With --transactions PREFIX, each
commit group of the input is one upstream transaction: every event carries its id, and
OUTDIR/transactions.jsonl holds their END events, counting each table's events under data
collection SCHEMA.TABLE (the table's qualified name), as Debezium's transaction topic
PREFIX.transaction would; the data topics are then PREFIX.SCHEMA.TABLE.

  to_debezium.py INPUT OUTDIR --key TABLE=COL[,COL...]... [--transactions PREFIX]

Without --key, a table's key is its whole row. Prints the tables' qualified names."""
import argparse
import json


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("outdir")
    parser.add_argument("--key", action="append", default=[])
    parser.add_argument("--transactions")
    args = parser.parse_args()
    keys = dict((table, columns.split(",")) for table, columns in
                (item.split("=", 1) for item in args.key))
    compact = dict(separators=(",", ":"))
    files = {}
    ends = open(f"{args.outdir}/transactions.jsonl", "w") if args.transactions else None
    transaction, counts = 1, {}

    def end_transaction():
        collections = [{"data_collection": table, "event_count": n} for table, n in counts.items()]
        ends.write(json.dumps({"status": "END", "id": f"tx{transaction}",
                               "event_count": sum(counts.values()),
                               "data_collections": collections}, **compact) + "\n")

    for line in open(args.input):
        record = json.loads(line)
        table = record.get("table")
        if table is None:  # a commit: the upstream transaction ends
            if ends and counts:
                end_transaction()
                transaction, counts = transaction + 1, {}
            continue
        if table not in files:
            files[table] = open(f"{args.outdir}/{table}.keyed", "w")
        op, row = record["op"], record["row"]
        event = {"before": row if op == "delete" else None,
                 "after": None if op == "delete" else row,
                 "op": {"insert": "c", "upsert": "u", "delete": "d"}[op]}
        if ends:
            event["transaction"] = {"id": f"tx{transaction}"}
            counts[table] = counts.get(table, 0) + 1
        key = json.dumps({k: row[k] for k in keys.get(table, row.keys())}, **compact)
        files[table].write(key + "\t" + json.dumps(event, **compact) + "\n")
    if ends and counts:
        end_transaction()
    print(" ".join(sorted(files)))


if __name__ == "__main__":
    main()
