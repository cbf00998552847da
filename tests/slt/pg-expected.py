#!/usr/bin/env python3
"""Computes the expected blocks of streaming sqllogictest files with PostgreSQL as the oracle.

Runs each file's statements, views and steps against a PostgreSQL server (through psql) and
compares every step's expected changes with PostgreSQL's, or writes PostgreSQL's into the file
(--write). A step's changes are the difference of every view's contents before and after the
step's DML; the step fails ("step error <message>") if its DML or reading a view after it raises,
and is then rolled back, as Kiln rolls back a tick that raised.

Start a private server first (as root, PostgreSQL runs as the postgres user):
  runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D /tmp/pg-slt
  runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D /tmp/pg-slt \
      -o "-p 5499 -k /tmp -c listen_addresses=''" -l /tmp/pg-slt.log start
then: tests/slt/pg-expected.py [--write] tests/slt/*.slt
"""
import argparse
import collections
import os
import re
import subprocess
import sys

DML_START = re.compile(r"^(insert|delete|update)\b", re.IGNORECASE)
# SET TIME ZONE as kiln-slt takes it: every later session of the file runs in that zone.
SET_ZONE = re.compile(r"^\s*SET\s+(?:SESSION\s+)?(?:TIME\s+ZONE\s+|timezone\s*(?:=|TO)\s*)"
                      r"(?:'([^']*)'|LOCAL|DEFAULT)\s*;?\s*$", re.IGNORECASE)
session_zone = "UTC"  # Kiln's default


def psql(args, sql, database):
    """Runs `sql` in one psql session; returns (ok, stdout, the error message)."""
    result = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", args.host, "-p", str(args.port),
         "-U", args.user, "-d", database],
        input=sql, capture_output=True, text=True,
        # The session time zone is the file's (UTC unless it says SET TIME ZONE), in both.
        env={**os.environ, "PGTZ": session_zone})
    error = ""
    for line in result.stderr.splitlines():
        match = re.match(r"^(?:psql:[^:]*:\d+: )?ERROR:\s+(.*)$", line)
        if match:
            error = match.group(1)
            break
    return result.returncode == 0, result.stdout, error or result.stderr.strip()


def copy_value(field):
    """A field of COPY's text format: None for NULL, backslash escapes decoded."""
    if field == "\\N":
        return None
    escapes = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\", "b": "\b", "f": "\f", "v": "\v"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), field)


def shown(value):
    """A value as kiln-slt prints it: PostgreSQL's text, quoted unless it reads back as one word."""
    if value is None:
        return "NULL"
    if value == "" or value == "NULL" or re.search(r"[\s']", value):
        return "'" + value.replace("'", "''") + "'"
    return value


class Record:
    def __init__(self, kind, header, words, sql, expected, start, sql_end, end):
        self.kind, self.header, self.words = kind, header, words
        self.sql, self.expected = sql, expected
        self.start, self.sql_end, self.end = start, sql_end, end


def parse(lines):
    records, i = [], 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith("#"):
            i += 1
            continue
        words = line.split()
        start = i
        i += 1
        if words[0] in ("hash-threshold", "halt", "skipif", "onlyif"):
            continue
        sql = []
        results = words[0] in ("query", "step")
        while i < len(lines) and lines[i].strip() and not (results and lines[i].startswith("----")):
            sql.append(lines[i])
            i += 1
        sql_end, expected = i, None
        if results and i < len(lines) and lines[i].startswith("----"):
            i += 1
            expected = []
            while i < len(lines) and lines[i].strip():
                expected.append(lines[i].rstrip())
                i += 1
        records.append(Record(words[0], line, words, "\n".join(sql), expected, start, sql_end, i))
    return records


def split_dml(sql):
    statements, current = [], []
    for line in sql.split("\n"):
        if current and DML_START.match(line):
            statements.append("\n".join(current))
            current = []
        current.append(line)
    if current and "".join(current).strip():
        statements.append("\n".join(current))
    return [s.rstrip().rstrip(";") + ";" for s in statements]


def run_file(args, path):
    with open(path) as f:
        lines = f.read().split("\n")
    records = parse(lines)
    psql(args, "DROP DATABASE IF EXISTS kiln_slt; CREATE DATABASE kiln_slt;", "postgres")
    views, snapshot, failures, replacements = [], None, 0, []

    def read_views(prefix):
        """Runs `prefix` and reads every view in one transaction: (ok, contents, error)."""
        script = "BEGIN;\n" + prefix + "\n"
        for name in views:
            script += "\\echo @@view " + name + "\nCOPY (SELECT * FROM " + name + ") TO STDOUT;\n"
        ok, out, error = psql(args, script + "COMMIT;\n", "kiln_slt")
        if not ok:
            return False, None, error
        contents, current = {}, None
        for line in out.split("\n"):
            if line.startswith("@@view "):
                current = line[len("@@view "):]
                contents[current] = collections.Counter()
            elif line and current is not None:
                contents[current][tuple(copy_value(f) for f in line.split("\t"))] += 1
        return True, contents, ""

    global session_zone
    session_zone = "UTC"
    for record in records:
        where = "%s:%d" % (path, record.start + 1)
        zone = SET_ZONE.match(record.sql) if record.kind == "statement" else None
        if zone:
            session_zone = zone.group(1) or "UTC"
            continue
        if record.kind == "statement":
            if snapshot is None:
                ok, _, error = psql(args, record.sql + ";\n", "kiln_slt")
            else:  # after the first step, a statement is a tick too: the views must not raise
                ok, contents, error = read_views(record.sql + ";")
                snapshot = contents if ok else snapshot
            if ok != (record.words[1] == "ok"):
                print("%s: statement %s in PostgreSQL%s" % (where, "succeeded" if ok else "failed", ": " + error if error else ""))
                failures += 1
        elif record.kind == "view":
            ok, _, error = psql(args, "CREATE VIEW %s AS %s;\n" % (record.words[1], record.sql), "kiln_slt")
            if not ok:
                print("%s: PostgreSQL rejects the view: %s" % (where, error))
                failures += 1
            views.append(record.words[1])
        elif record.kind == "step":
            if snapshot is None:
                snapshot = read_views("")[1]
            ok, after, error = read_views("\n".join(split_dml(record.sql)) if record.sql.strip() else "")
            if ok:
                actual = []
                for name in views:  # by view, deletions first, then by line: as kiln-slt writes
                    delta = collections.Counter(after[name])
                    delta.subtract(snapshot[name])
                    for inserts in (False, True):
                        actual += sorted(" ".join([name, ("+" if w > 0 else "-") + str(abs(w))] + [shown(v) for v in row])
                                         for row, w in delta.items() if w != 0 and (w > 0) == inserts)
                snapshot = after
                header, block = "step", ["----"] + actual
            else:
                header, block = "step error " + error, []
            expects_error = len(record.words) > 1 and record.words[1] == "error"
            wanted = " ".join(record.words[2:]) if expects_error else ""
            if expects_error and not ok and wanted in error:
                header = record.header  # the expected error's substring matches
            same = (not ok and expects_error and wanted in error) or \
                   (ok and not expects_error and sorted(record.expected or []) == sorted(actual))
            if not same:
                failures += 1
                if not args.write:
                    print("%s: PostgreSQL gives:\n  %s" % (where, "\n  ".join([header] + block[1:])))
            new = [header] + lines[record.start + 1:record.sql_end] + block
            if new != lines[record.start:record.end]:
                replacements.append((record, new))
    if args.write and replacements:
        for record, new in reversed(replacements):
            lines[record.start:record.end] = new
        with open(path, "w") as f:
            f.write("\n".join(lines))
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="/tmp")
    parser.add_argument("--port", type=int, default=5499)
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--write", action="store_true", help="write PostgreSQL's changes into the files")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    failures = sum(run_file(args, path) for path in args.files)
    print("%d steps or statements differ from PostgreSQL" % failures)
    return 1 if failures and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
