#!/usr/bin/env python3
"""Sums the changes of sink output files (JSON lines the host writes) by sink and row: what a
reader who applies every change holds. Prints `sink weight row` lines, sorted, zero sums left
out, so that two runs whose outputs differ in how they got there compare by what they hold."""
import json
import sys
from collections import Counter

totals = Counter()
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                change = json.loads(line)
                row = json.dumps(change["row"], sort_keys=True)
                totals[(change["sink"], row)] += change["weight"]
for (sink, row), weight in sorted(totals.items()):
    if weight != 0:
        print(sink, weight, row)
