#!/usr/bin/env python3
"""Checks Kiln's contract against PostgreSQL snapshots.

    check_contract.py [--by-value] SNAPSHOTS CHANGES...

CHANGES are sink outputs of a Kiln binary (or of shop_baseline): JSON lines
{"tick":N,"sink":"name","weight":W,"row":{...}}. SNAPSHOTS is what pg_replay --snapshots wrote:
{"tick":N,"sink":"name","row":{...}}, every row of every sink view after some ticks. At each
snapshot tick, the sum of all changes emitted up to that tick must equal the snapshot, row for
row (rows compared as the exact JSON text both sides print). Exits 1 with a report otherwise.

--by-value compares rows by value instead: numbers as decimals of 15 significant digits
(PostgreSQL picks a quotient's display scale per value, Kiln per column, so the last digits of an
average differ), timestamps with PostgreSQL's JSON 'T' or a space.
"""
import collections
import decimal
import json
import re
import sys

ISO_TIMESTAMP = re.compile(r'^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d(\.\d+)?)$')


def by_value(row):
    """A row's JSON text as a canonical value: decimals normalized, timestamps with a space and
    no trailing zeros in their fraction."""
    def canonical(v):
        if isinstance(v, decimal.Decimal):  # 15 significant digits: scales may differ
            return format(v.normalize(decimal.Context(prec=15)), 'f') if v != 0 else '0'
        if isinstance(v, str):
            m = ISO_TIMESTAMP.match(v)
            if m:
                v = f'{m.group(1)} {m.group(2)}'
            if re.match(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+$', v):
                v = v.rstrip('0').rstrip('.')
        return v
    values = json.loads(row, parse_float=decimal.Decimal, parse_int=decimal.Decimal)
    return json.dumps({k: canonical(v) for k, v in values.items()}, sort_keys=True)


def split(line):
    # {"tick":N,"sink":"S",...,"row":ROW} -> (N, S, line, ROW)
    tick = int(line[len('{"tick":'):line.index(',')])
    sink_start = line.index('"sink":"') + len('"sink":"')
    sink = line[sink_start:line.index('"', sink_start)]
    row = line[line.index('"row":') + len('"row":'):-1]
    return tick, sink, row


def main():
    args = sys.argv[1:]
    canonical = by_value if args and args[0] == '--by-value' else (lambda row: row)
    if args and args[0] == '--by-value':
        args = args[1:]
    snapshot_path, change_paths = args[0], args[1:]
    changes = []
    for path in change_paths:
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.rstrip('\n')
                if not line:
                    continue
                tick, sink, row = split(line)
                row = canonical(row)
                weight_start = line.index('"weight":') + len('"weight":')
                weight = int(line[weight_start:line.index(',', weight_start)])
                changes.append((tick, sink, row, weight))
    changes.sort(key=lambda c: c[0])

    snapshots = collections.defaultdict(collections.Counter)  # tick -> Counter((sink, row))
    sinks = set()
    with open(snapshot_path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if line:
                tick, sink, row = split(line)
                snapshots[tick][(sink, canonical(row))] += 1
                sinks.add(sink)
    if not snapshots:
        print('check_contract: no snapshots', file=sys.stderr)
        return 1

    state = collections.Counter()
    i = 0
    failures = 0
    for tick in sorted(snapshots):
        while i < len(changes) and changes[i][0] <= tick:
            _, sink, row, weight = changes[i]
            state[(sink, row)] += weight
            i += 1
        current = +state  # drops zero (and negative) counts
        negative = [k for k, v in state.items() if v < 0]
        expected = snapshots[tick]
        missing = expected - current
        extra = current - expected
        if missing or extra or negative:
            failures += 1
            print(f'tick {tick}: {sum(missing.values())} rows missing from Kiln, '
                  f'{sum(extra.values())} extra, {len(negative)} with negative weight')
            for (sink, row), n in list(missing.items())[:5]:
                print(f'  missing {sink} x{n}: {row}')
            for (sink, row), n in list(extra.items())[:5]:
                print(f'  extra   {sink} x{n}: {row}')
    rows = sum(sum(c.values()) for c in snapshots.values())
    if failures:
        print(f'check_contract: {failures} of {len(snapshots)} snapshots differ')
        return 1
    print(f'check_contract: {len(snapshots)} snapshots ({rows} rows, sinks: '
          f'{", ".join(sorted(sinks))}) equal the accumulated changes')
    return 0


if __name__ == '__main__':
    sys.exit(main())
