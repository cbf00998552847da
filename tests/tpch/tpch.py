#!/usr/bin/env python3
"""TPC-H's 22 queries as a Kiln project, checked against DuckDB's answers.

Builds a dbt-style project from the corpus (../shared/corpora/tpch, see its README): the eight
tables as sources (CHAR(n) and VARCHAR(n) as text, DECIMAL as numeric), and each query of
queries-sf0.01-std/ as a sink model, unchanged but for its tables named with source() and its
final ORDER BY dropped (a maintained view has no order; ORDER BY with LIMIT stays, a top-k).
Q15's view becomes a model of its own. Then, for the queries that compile, the executable reads
the sf0.01 tables (tick 1) and refresh set 1 (tick 2: orders and line items inserted, the
orders of delete.1 deleted with their line items), and after each the accumulated sinks must
equal DuckDB's answers (answers-sf0.01-duckdb/base, after-rf1-rf2-set1): same rows, numbers
equal to the precision DuckDB printed or to a relative 1e-9 for averages and quotients.

  tpch.py --kiln PATH [--corpus DIR] [--work DIR] [--queries q1,q3,...] [--expect-compiled N]

Prints one line per query (compiled or the first error; equal or how it differs) and a summary.
Exits non-zero if a compiled query differs from DuckDB, or if fewer than --expect-compiled
queries compile.
"""
import argparse, collections, json, os, re, shutil, subprocess, sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TABLES = ["nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"]
KEYS = {"nation": ["n_nationkey"], "region": ["r_regionkey"], "part": ["p_partkey"],
        "supplier": ["s_suppkey"], "partsupp": ["ps_partkey", "ps_suppkey"],
        "customer": ["c_custkey"], "orders": ["o_orderkey"],
        "lineitem": ["l_orderkey", "l_linenumber"]}


def schema(corpus):
    """{table: [(column, kiln type)]} from dss.ddl."""
    ddl = (corpus / "schema" / "dss.ddl").read_text()
    tables = {}
    for name, body in re.findall(r"CREATE TABLE\s+(\w+)\s*\((.*?)\);", ddl, re.S | re.I):
        columns = []
        for line in body.splitlines():  # one column per line
            m = re.match(r"\s*(\w+)\s+(\w+)(?:\s*\(([\d,\s]+)\))?", line)
            if not m:
                continue
            column, ty, args = m.group(1).lower(), m.group(2).upper(), m.group(3)
            if ty in ("CHAR", "VARCHAR"):
                ty = "text"
            elif ty == "DECIMAL":
                ty = f"numeric({args.replace(' ', '')})"
            else:
                ty = ty.lower()
            columns.append((column, ty))
        tables[name.lower()] = columns
    return tables


def with_sources(sql):
    """The query with its tables named by source(): a table name that follows FROM, JOIN or a
    comma of a FROM list (not a column alias such as Q9's `as nation`)."""
    names = "|".join(TABLES)
    pattern = re.compile(rf"(\b(?:from|join)\s+|,\s*)({names})\b(?=\s*(?:\w+\s*)?(?:,|\n|$|\)|where\b|join\b|on\b|left\b))",
                         re.I)
    return pattern.sub(lambda m: f"{m.group(1)}{{{{ source('tpch', '{m.group(2).lower()}') }}}}", sql)


def drop_order_by(sql):
    """The query without a final ORDER BY (kept when LIMIT follows)."""
    m = re.search(r"\border\s+by\b[^()]*$", sql, re.I | re.S)
    if m and not re.search(r"\blimit\b", m.group(0), re.I):
        return sql[:m.start()].rstrip()
    return sql


def make_project(corpus, work, queries):
    project = work / "project"
    shutil.rmtree(project, ignore_errors=True)
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: tpch\nversion: '1.0'\nmodel-paths: [models]\n")
    lines = ["version: 2", "sources:", "  - name: tpch", "    tables:"]
    for table, columns in schema(corpus).items():
        lines += [f"      - name: {table}", f"        primary_key: [{', '.join(KEYS[table])}]",
                  "        columns:"]
        lines += [f"          - {{name: {c}, data_type: \"{t}\"}}" for c, t in columns]
    (project / "models" / "sources.yml").write_text("\n".join(lines) + "\n")
    for q in queries:
        sql = (corpus / "queries-sf0.01-std" / f"{q}.sql").read_text()
        sql = "\n".join(l for l in sql.splitlines() if not l.strip().startswith("--"))
        view = re.search(r"create view (\w+)\s*\(([^)]*)\)\s*as(.*?);", sql, re.S | re.I)
        if view:  # Q15: the view as a model the query refers to with ref()
            name, columns, body = view.groups()
            (project / "models" / f"{name}.sql").write_text(
                f"select * from ({with_sources(body.strip())}) as v ({columns})\n")
            sql = sql[view.end():]
            sql = re.sub(r"drop view \w+;", "", sql, flags=re.I)
            sql = re.sub(rf"\b{name}\b", f"{{{{ ref('{name}') }}}}", sql)
        sql = drop_order_by(with_sources(sql.strip().rstrip(";").strip()))
        (project / "models" / f"{q}.sql").write_text(
            "{{ config(materialized='sink') }}\n" + sql + "\n")
    return project


def build(kiln, project, queries):
    """Builds the project without the queries that do not compile: {query: first error}."""
    failed = {}
    while True:
        out = subprocess.run([kiln, "build", project, "-o", project / "prog"], capture_output=True,
                             text=True)
        if out.returncode == 0:
            return failed
        errors = re.findall(r"^(?:.*/)?models/(\w+)\.sql:\d+:\d+: error: (.*)$", out.stderr, re.M)
        if not errors:
            raise SystemExit(f"kiln build failed:\n{out.stderr[-3000:]}")
        for model, message in errors:
            if model not in failed:
                failed[model] = message
            for path in [project / "models" / f"{model}.sql"]:
                if path.exists():
                    path.unlink()
            if model == "revenue0":
                failed.setdefault("q15", message)
                (project / "models" / "q15.sql").unlink(missing_ok=True)
        if not any((project / "models" / f"{q}.sql").exists() for q in queries):
            return failed


def records(corpus, columns, table, path, op="insert"):
    for line in open(path):
        values = line.rstrip("\n").split("|")[:len(columns)]
        row = {c: v for (c, _), v in zip(columns, values)}
        yield json.dumps({"table": f"tpch.{table}", "op": op, "row": row})


def write_inputs(corpus, work):
    tables = schema(corpus)
    with open(work / "input.jsonl", "w") as out:
        for table in TABLES:
            for r in records(corpus, tables[table], table, corpus / "sf0.01" / f"{table}.tbl"):
                out.write(r + "\n")
        out.write('{"op":"commit"}\n')
        updates = corpus / "sf0.01-updates"
        for table in ("orders", "lineitem"):
            for r in records(corpus, tables[table], table, updates / f"{table}.tbl.u1"):
                out.write(r + "\n")
        deleted = {line.split("|")[0] for line in open(updates / "delete.1")}
        for table, key in (("orders", 0), ("lineitem", 0)):
            for line in open(corpus / "sf0.01" / f"{table}.tbl"):
                if line.split("|")[key] in deleted:
                    values = line.split("|")[:len(tables[table])]
                    row = {c: v for (c, _), v in zip(tables[table], values)}
                    out.write(json.dumps({"table": f"tpch.{table}", "op": "delete", "row": row}) + "\n")
        out.write('{"op":"commit"}\n')


def same_value(got, want):
    if got is None or want == "NULL":
        return got is None and want == "NULL"
    if isinstance(got, bool):
        return str(got).lower() == want.lower()
    try:
        g, w = Decimal(str(got)), Decimal(want)
    except InvalidOperation:
        return str(got) == want
    if g == w:
        return True
    # DuckDB prints doubles and quotients with its own precision.
    return abs(g - w) <= abs(w) * Decimal("1e-9") + Decimal("1e-9")


def compare(rows, answer):
    """Whether the multiset `rows` (tuples of JSON values) equals the answer file's rows."""
    lines = answer.read_text().splitlines()[1:]
    want = [line.split("|") for line in lines]
    if len(want) != len(rows):
        return f"{len(rows)} rows, DuckDB {len(want)}"
    unmatched = list(rows)
    for w in want:
        for i, g in enumerate(unmatched):
            if len(g) == len(w) and all(same_value(a, b) for a, b in zip(g, w)):
                del unmatched[i]
                break
        else:
            return f"DuckDB's row {'|'.join(w)} is not among Kiln's"
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "tpch"))
    parser.add_argument("--work", default="/tmp/kiln-tpch")
    parser.add_argument("--queries", default=",".join(f"q{i}" for i in range(1, 23)))
    parser.add_argument("--expect-compiled", type=int, default=0)
    args = parser.parse_args()
    corpus, work = Path(args.corpus), Path(args.work)
    queries = args.queries.split(",")
    work.mkdir(parents=True, exist_ok=True)
    project = make_project(corpus, work, queries)
    failed = build(args.kiln, project, queries)
    compiled = [q for q in queries if q not in failed]
    differ = 0
    results = {q: [] for q in compiled}
    if compiled:
        write_inputs(corpus, work)
        sinks = work / "sinks.jsonl"
        with open(sinks, "w") as out:  # every sink's change records, on stdout
            run = subprocess.run([project / "prog", work / "input.jsonl"], stdout=out,
                                 stderr=subprocess.PIPE, text=True)
        if run.returncode != 0:
            print(run.stderr[-2000:])
            return 1
        state = collections.defaultdict(collections.Counter)
        by_tick = collections.defaultdict(list)
        for line in open(sinks):
            change = json.loads(line)
            by_tick[change["tick"]].append(change)
        for tick, answers in ((1, "base"), (2, "after-rf1-rf2-set1")):
            for change in by_tick.get(tick, []):
                state[change["sink"]][json.dumps(list(change["row"].values()))] += change["weight"]
            for q in compiled:
                rows = [tuple(json.loads(r)) for r, n in state[q].items() for _ in range(n)]
                results[q].append(compare(rows, corpus / "answers-sf0.01-duckdb" / answers / f"{q}.out"))
    for q in queries:
        if q in failed:
            print(f"{q}: does not compile: {failed[q]}")
        elif any(results[q]):
            differ += 1
            print(f"{q}: differs from DuckDB: " + "; ".join(
                f"{when}: {r}" for when, r in zip(("base", "after refresh 1"), results[q]) if r))
        else:
            print(f"{q}: equals DuckDB's answers (base and after refresh 1)")
    print(f"tpch: {len(compiled)} of {len(queries)} queries compile, "
          f"{len(compiled) - differ} equal DuckDB's answers")
    if differ or len(compiled) < args.expect_compiled:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
