#!/usr/bin/env python3
"""Prints a sqllogictest file up to (not including) its (N+1)-th query record, so a test can run
a quick prefix of a long corpus file: first-queries.py FILE N"""
import sys

path, limit = sys.argv[1], int(sys.argv[2])
queries = 0
with open(path) as f:
    records = f.read().split("\n\n")
out = []
for record in records:
    if record.lstrip("\n").startswith("query"):
        queries += 1
        if queries > limit:
            break
    out.append(record)
sys.stdout.write("\n\n".join(out) + "\n")
