#!/usr/bin/env python3
"""Differential test of Kiln against PostgreSQL (DESIGN.md, sections 2 and 8).

For each project: build it with `kiln build`, create its source tables and every model (as a view)
in PostgreSQL, generate random ticks of inserts, upserts and deletes, apply each tick to PostgreSQL
in one transaction and feed the same change records to the Kiln binary, then after every tick
compare each sink view with the sum of the changes Kiln emitted so far. A mismatch is shrunk by
delta debugging to a small change sequence, printed and saved under /tmp.

Besides examples/, each seed generates a project of random sink models (QueryGen) over a fixed
schema. When a model fails, the run goes on without it; a model that crashes Kiln is found by
rebuilding the project with halves of its sinks.

  tests/difftest/run.sh                                  everything, as CI runs it
  tests/difftest/pg.sh start                             or by hand: a server, then
  tests/difftest/difftest.py --seed 7 --projects examples/shop --generated 0
  tests/difftest/difftest.py --seed 7 --projects --generated 30 --ticks 40 --keep

Needs a running server (pg.sh start; run.sh does it all). Standard library only; PostgreSQL is
reached through psql, in a database of its own per project and process.
"""
import argparse
import csv
import decimal
import io
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
decimal.getcontext().prec = 200

KEYS = 8           # integer key columns take values 1..KEYS, so joins on keys match
NULL_RATE = 0.15   # share of NULLs in nullable columns
EDGE_DATES = ['1999-12-31', '2000-02-29', '1900-03-01', '1970-01-01', '2100-12-31', '0001-01-01']
GENERIC_WORDS = ['a', 'b', 'B', 'ab', 'abc', 'x y', '', "O'b", 'é', 'Éa', 'a"b\\c']  # quotes, UTF-8, escapes


def log(*parts):
    print(*parts, flush=True)


def run(cmd, **kwargs):
    env = dict(os.environ, PGCLIENTENCODING='UTF8')
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, encoding='utf-8',
                          errors='replace', env=env, **kwargs)


# ---------------------------------------------------------------------------------------------
# Types and values

INT_TYPES = {'smallint', 'int2', 'int', 'integer', 'int4', 'bigint', 'int8'}
FLOAT_TYPES = {'real', 'float4', 'double precision', 'float8', 'float'}


@dataclass(frozen=True)
class Kind:
    name: str                # int numeric float bool date timestamp text
    precision: int = 0       # numeric(p,s); 0 when unconstrained
    scale: int = 2


def kind_of(sql_type):
    t = ' '.join(sql_type.lower().split())
    if t in INT_TYPES:
        return Kind('int')
    if m := re.fullmatch(r'(?:numeric|decimal)(?: ?\((\d+)(?:, ?(\d+))?\))?', t):
        return Kind('numeric', int(m[1]), int(m[2] or 0)) if m[1] else Kind('numeric')
    if t in FLOAT_TYPES:
        return Kind('float')
    if t in ('bool', 'boolean'):
        return Kind('bool')
    if t == 'date' or t.startswith('timestamp'):
        return Kind(t.split()[0].split('(')[0])
    return Kind('text')


def scale_of(d):
    return max(0, -d.as_tuple().exponent)


# A number with decimals in an array's or a JSON value's text.
DECIMAL_IN_TEXT = re.compile(r'(?<![\w.])-?\d+\.\d+(?![\w.])')


def without_trailing_zeros(text):
    return DECIMAL_IN_TEXT.sub(lambda m: m.group(0).rstrip('0').rstrip('.'), text)


def values_match(a, b):
    """Equal, or numerics equal after rounding both to the smaller scale, or floats close, or
    texts of arrays or JSON (array_agg, jsonb_agg) whose numbers differ in trailing zeros only:
    a numeric's scale is its column's in Kiln, each value's own in PostgreSQL (README)."""
    if a == b:
        return True
    if isinstance(a, str) and isinstance(b, str) and a[:1] in ('{', '[') and b[:1] in ('{', '['):
        return without_trailing_zeros(a) == without_trailing_zeros(b)
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, Decimal) and isinstance(b, Decimal) and a.is_finite() and b.is_finite():
        q = Decimal(1).scaleb(-min(scale_of(a), scale_of(b)))
        return a.quantize(q, ROUND_HALF_UP) == b.quantize(q, ROUND_HALF_UP)
    return False


def from_pg(text, kind):
    """A value of PostgreSQL's CSV output (NULL as \\N) as a comparable Python value."""
    if text == '\\N':
        return None
    k = kind.name
    return (int(text) if k == 'int' else Decimal(text) if k == 'numeric' else
            float(text) if k == 'float' else text == 't' if k == 'bool' else text)


def from_kiln(value, kind):
    """A value of Kiln's JSON output as a comparable Python value; unexpected JSON is kept as a
    ('json', text) pair, which matches nothing."""
    k = kind.name
    if value is None:
        return None
    number = isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
    if k == 'int' and number and value == int(value):
        return int(value)
    if k == 'numeric' and number:
        return Decimal(str(value))
    if k == 'float' and (number or value in ('NaN', 'Infinity', '-Infinity')):
        return float(value)
    if k == 'bool' and isinstance(value, bool):
        return value
    if k in ('text', 'date', 'timestamp') and isinstance(value, str):
        return value
    return ('json', json.dumps(value, default=str))


def show_value(v):
    return ('NULL' if v is None else repr(v) if isinstance(v, str) else f'<JSON {v[1]}>' if isinstance(v, tuple)
            else str(v).lower() if isinstance(v, bool) else str(v))


def show_row(names, row):
    return '(' + ', '.join(f'{n}={show_value(v)}' for n, v in zip(names, row)) + ')'


def json_value(v):
    return str(v) if isinstance(v, Decimal) else json.dumps(v)


def sql_literal(v):
    if v is None:
        return 'NULL'
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, (int, float, Decimal)):
        return str(v) if v >= 0 else f'({v})'
    return "'" + v.replace("'", "''") + "'"


def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------------------------
# Projects

@dataclass
class Column:
    name: str
    type: str
    not_null: bool

    @property
    def kind(self):
        return kind_of(self.type)


@dataclass
class Table:
    name: str                      # source.table
    columns: list
    key: list                      # primary key column names

    @property
    def sql_name(self):
        return '.'.join(quote_ident(p) for p in self.name.split('.', 1))


@dataclass
class Project:
    name: str
    dir: Path                      # the built copy
    binary: Path
    tables: list
    models: list                   # (name, materialization, sql) in dependency order
    sinks: dict = field(default_factory=dict)   # sink -> [(column, Kind)], filled from PostgreSQL
    db: str = ''
    generated: bool = False

    @property
    def sql(self):
        return '\n'.join(m[2] for m in self.models)


class SetupError(Exception):
    pass


def split_top(text):
    """Splits on the commas outside parentheses."""
    parts, depth, cur = [], 0, ''
    for ch in text:
        if ch == ',' and depth == 0:
            parts.append(cur.strip())
            cur = ''
            continue
        depth += (ch == '(') - (ch == ')')
        cur += ch
    return [p for p in parts + [cur.strip()] if p]


def parse_compile_output(text):
    """Source tables and models from `kiln compile`."""
    tables, models = [], []
    for line in text.splitlines():
        if m := re.fullmatch(r'-- source: (\S+) \((.*)\)', line):
            columns, key = [], []
            for part in split_top(m[2]):
                if k := re.fullmatch(r'primary key \((.*)\)', part, re.I):
                    key = [c.strip() for c in k[1].split(',')]
                else:
                    name, _, rest = part.partition(' ')
                    not_null = rest.endswith(' not null')
                    columns.append(Column(name, rest[:-9] if not_null else rest, not_null))
            for c in columns:
                c.not_null |= c.name in key
            tables.append(Table(m[1], columns, key))
        elif m := re.fullmatch(r'-- model: (\S+) \((\w+)\)', line):
            models.append([m[1], m[2], []])
        elif models:
            models[-1][2].append(line)
    return tables, [(n, mat, '\n'.join(lines).strip().rstrip(';')) for n, mat, lines in models]


def failing_models(stderr):
    """Model files named by error diagnostics of `kiln build`."""
    return sorted({Path(m[1]).stem for m in re.finditer(r'([^\s:]+\.sql):\d+:\d+: error', stderr)})


def build_project(kiln, src, workdir, drop_failing=False):
    """Copies the project to `workdir`, builds it; with drop_failing, models that Kiln rejects
    are printed and removed (generated projects only)."""
    project_dir = workdir / src.name
    shutil.copytree(src, project_dir, ignore=shutil.ignore_patterns('target', 'data'))
    for _ in range(5):
        compiled = run([kiln, 'compile', project_dir])
        if compiled.returncode != 0:
            raise SetupError(f'kiln compile {src} failed:\n{compiled.stderr}')
        project_file = next(project_dir / f for f in ('dbt_project.yml', 'kiln_project.yml')
                            if (project_dir / f).exists())
        name = re.search(r'^name:\s*["\']?([\w-]+)', project_file.read_text(), re.M)[1]
        binary = project_dir / 'target' / name
        built = run([kiln, 'build', project_dir])
        if built.returncode == 0 and binary.exists():
            tables, models = parse_compile_output(compiled.stdout)
            return Project(name, project_dir, binary, tables, models)
        rejected = failing_models(built.stderr) if drop_failing else []
        if not rejected:
            raise SetupError(f'kiln build {src} failed:\n{built.stderr}')
        for model in rejected:
            path = next(project_dir.glob(f'models/**/{model}.sql'))
            log(f'generator bug: kiln rejects generated model {model}, skipped:\n'
                f'{path.read_text().strip()}')
            path.unlink()
        log(built.stderr.strip())
    raise SetupError(f'kiln build {src} kept failing')


# ---------------------------------------------------------------------------------------------
# PostgreSQL

class Postgres:
    def __init__(self, url):
        self.url = url

    def psql(self, script, db=None):
        url = self.url if db is None else self.url.rsplit('/', 1)[0] + '/' + db
        return run(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', '-'], input=script)

    def check(self, script, db=None):
        result = self.psql(script, db)
        if result.returncode != 0:
            raise SetupError(f'PostgreSQL: {result.stderr.strip()}\nin:\n{script}')
        return result.stdout

    def setup(self, project, skip_bad_models):
        """A fresh database with the project's tables and views; fills project.sinks."""
        project.db = 'kiln_' + re.sub(r'\W', '_', project.name.lower()) + f'_{os.getpid()}'
        self.check(f'DROP DATABASE IF EXISTS {project.db};\nCREATE DATABASE {project.db};')
        ddl = [f'CREATE SCHEMA IF NOT EXISTS {quote_ident(s)};'
               for s in dict.fromkeys(t.name.split('.')[0] for t in project.tables)]
        for t in project.tables:
            cols = [f'{quote_ident(c.name)} {c.type}{" NOT NULL" if c.not_null else ""}'
                    for c in t.columns]
            if t.key:
                cols.append(f'PRIMARY KEY ({", ".join(map(quote_ident, t.key))})')
            ddl.append(f'CREATE TABLE {t.sql_name} ({", ".join(cols)});')
        self.check('\n'.join(ddl), project.db)
        sinks = []
        for name, materialization, sql in project.models:
            result = self.psql(f'CREATE VIEW {name} AS\n{sql}\n;', project.db)
            if result.returncode != 0:
                message = f'PostgreSQL rejects model {name}, which Kiln accepts:\n{sql}\n{result.stderr.strip()}'
                if not skip_bad_models:
                    raise SetupError(message)
                log('generator bug: ' + message)
            elif materialization == 'sink':
                sinks.append(name)
        types = self.check(
            "COPY (SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY c.relname, a.attnum) TO STDOUT WITH (FORMAT csv)", project.db)
        columns = defaultdict(list)
        for view, column, sql_type in csv.reader(io.StringIO(types)):
            columns[view].append((column, kind_of(sql_type)))
        project.sinks = {s: columns[s] for s in sinks}

    def drop(self, project):
        self.psql(f'DROP DATABASE IF EXISTS {project.db};')

    def evaluate(self, project, ticks):
        """Applies the ticks, one transaction each, and reads every sink view after each.
        Returns ({(tick, sink): [row of CSV fields]}, SideError or None)."""
        tables = {t.name: t for t in project.tables}
        lines = ['TRUNCATE ' + ', '.join(t.sql_name for t in project.tables) + ';']
        for i, tick in enumerate(ticks, 1):
            lines += [f'\\echo @@tick {i}', 'BEGIN;']
            lines += [record_sql(r, tables[r[0]]) for r in tick]
            lines.append('COMMIT;')
            for sink in project.sinks:
                lines += [f'\\echo @@view {i} {sink}',
                          f"COPY (SELECT * FROM {sink}) TO STDOUT WITH (FORMAT csv, NULL '\\N');"]
        result = self.psql('\n'.join(lines) + '\n', project.db)
        chunks, current, tick = defaultdict(list), None, 0
        for line in result.stdout.splitlines(keepends=True):
            if line.startswith('@@tick '):
                tick = int(line.split()[1])
            elif line.startswith('@@view '):
                current = (int(line.split()[1]), line.split()[2].strip())
                chunks[current] = []
            elif current:
                chunks[current].append(line)
        views = {k: list(csv.reader(io.StringIO(''.join(v)))) for k, v in chunks.items()}
        error = None
        if result.returncode != 0:
            view = current[1] if current and current[0] == tick else ''
            error = SideError(tick, view, 'runtime', result.stderr.strip())
            views = {k: v for k, v in views.items() if k[0] < tick}
        return views, error


def record_sql(record, table):
    _, op, row = record
    if op == 'delete':
        if table.key:
            cond = ' AND '.join(f'{quote_ident(k)} = {sql_literal(row[k])}' for k in table.key)
            return f'DELETE FROM {table.sql_name} WHERE {cond};'
        cond = ' AND '.join(f'{quote_ident(c)} IS NOT DISTINCT FROM {sql_literal(v)}' for c, v in row.items())
        return (f'DELETE FROM {table.sql_name} WHERE ctid = '
                f'(SELECT ctid FROM {table.sql_name} WHERE {cond} LIMIT 1);')
    sql = (f'INSERT INTO {table.sql_name} ({", ".join(map(quote_ident, row))}) '
           f'VALUES ({", ".join(map(sql_literal, row.values()))})')
    if op == 'upsert':
        sets = [f'{quote_ident(c)} = EXCLUDED.{quote_ident(c)}' for c in row if c not in table.key]
        sql += (f' ON CONFLICT ({", ".join(map(quote_ident, table.key))}) DO '
                + ('UPDATE SET ' + ', '.join(sets) if sets else 'NOTHING'))
    return sql + ';'


# ---------------------------------------------------------------------------------------------
# Kiln

def record_json(record):
    table, op, row = record
    fields = ','.join(f'{json.dumps(k)}:{json_value(v)}' for k, v in row.items())
    return f'{{"table":{json.dumps(table)},"op":"{op}","row":{{{fields}}}}}'


def changes_text(ticks):
    return ''.join(''.join(record_json(r) + '\n' for r in tick) + '{"op":"commit"}\n' for tick in ticks)


@dataclass
class SideError:
    tick: int                      # None when unknown (a crash)
    model: str                     # '' when unknown
    kind: str                      # runtime (SQL error), input (a rejected record), crash
    message: str


def run_kiln(project, ticks, workdir):
    """Runs the binary over the ticks. Returns ({(tick, sink): [(weight, row)]}, SideError or
    None)."""
    changes = workdir / 'changes.jsonl'
    changes.write_text(changes_text(ticks), encoding='utf-8')
    outputs = {s: workdir / f'out-{s}.jsonl' for s in project.sinks}
    for path in outputs.values():
        path.unlink(missing_ok=True)
    cmd = [project.binary, '--input', changes, '--on-bad-record=fail']
    for sink, path in outputs.items():
        cmd += ['--sink', f'{sink}=file:{path}']
    try:
        result = run(cmd, timeout=120)
    except subprocess.TimeoutExpired:
        return {}, SideError(None, '', 'crash', 'kiln timed out after 120 s')
    changes_out = defaultdict(list)
    for sink, path in outputs.items():
        for line in path.read_text(encoding='utf-8').split('\n')[:-1] if path.exists() else []:
            obj = json.loads(line, parse_float=Decimal)
            changes_out[(obj['tick'], obj['sink'])].append((obj['weight'], obj['row']))
    rc, stderr = result.returncode, result.stderr.strip()[:2000]
    message = f'kiln exited with status {rc}' + (f': {stderr}' if stderr else '')
    if rc == 0:
        return changes_out, None
    if rc == 3 and (m := re.search(r'tick (\d+)', stderr)):  # a SQL runtime error
        model = re.search(r'(\w+)\.sql:\d+:\d+: error', stderr)
        return changes_out, SideError(int(m[1]), model[1] if model else '', 'runtime', message)
    if rc == 2 and (m := re.search(r'changes\.jsonl:(\d+):', stderr)):  # a rejected record
        ends = [sum(len(t) + 1 for t in ticks[:i + 1]) for i in range(len(ticks))]
        tick = next(i + 1 for i, end in enumerate(ends) if int(m[1]) <= end)
        return changes_out, SideError(tick, '', 'input', message)
    return changes_out, SideError(None, '', 'crash', message)


# ---------------------------------------------------------------------------------------------
# Comparison

@dataclass
class Failure:
    tick: int
    sink: str                      # the model, or '' when unknown
    kind: str                      # rows, crash, kiln-error, pg-error, input
    message: str
    columns: list = field(default_factory=list)
    pg_only: list = field(default_factory=list)
    kiln_only: list = field(default_factory=list)

    def signature(self):
        return self.sink, self.kind

    def report(self):
        lines = [f'tick {self.tick}, model {self.sink or "-"}: {self.message}']
        lines += [f'  only in PostgreSQL: {show_row(self.columns, r)}' for r in self.pg_only]
        lines += [f'  only in Kiln:       {show_row(self.columns, r)}' for r in self.kiln_only]
        return '\n'.join(lines)


def multiset_difference(expected, actual):
    """Rows of each side without an equal row on the other (numerics and floats compared
    with values_match)."""
    only_e, only_a = list((expected - actual).elements()), []
    for row in (actual - expected).elements():
        match = next((i for i, e in enumerate(only_e)
                      if all(values_match(x, y) for x, y in zip(e, row))), None)
        if match is None:
            only_a.append(row)
        else:
            del only_e[match]
    return only_e, only_a


def compare(project, nticks, pg_views, pg_error, kiln_changes, kiln_error):
    """The first difference between PostgreSQL's views and Kiln's accumulated changes."""
    only_sink = next(iter(project.sinks)) if len(project.sinks) == 1 else ''
    if kiln_error is not None and kiln_error.tick is None:  # a crash that no tick explains
        return Failure(nticks, only_sink, 'crash', f'Kiln crashed: {kiln_error.message}')
    totals = {s: Counter() for s in project.sinks}
    for tick in range(1, nticks + 1):
        pg_fails = pg_error is not None and pg_error.tick == tick
        kiln_fails = kiln_error is not None and kiln_error.tick == tick
        if kiln_fails and kiln_error.kind == 'input':
            return Failure(tick, '', 'input', f'Kiln rejects an input record: {kiln_error.message}')
        if pg_fails and kiln_fails:
            return None  # both raise an error in this tick: nothing more to compare
        if pg_fails or kiln_fails:
            error = pg_error if pg_fails else kiln_error
            side = 'PostgreSQL' if pg_fails else 'Kiln'
            return Failure(tick, error.model or only_sink, 'pg-error' if pg_fails else 'kiln-error',
                           f'only {side} raises an error: {error.message}')
        for sink, columns in project.sinks.items():
            names = [c for c, _ in columns]
            fail = lambda message, **rows: Failure(tick, sink, 'rows', message, names, **rows)
            in_tick = Counter()
            for weight, row in kiln_changes.get((tick, sink), []):
                if sorted(row) != sorted(names):
                    return fail(f'Kiln emits columns {list(row)}, PostgreSQL has {names}')
                key = tuple(from_kiln(row[c], k) for c, k in columns)
                if key in in_tick:
                    both = (in_tick[key] > 0) != (weight > 0)
                    return fail('tick not consolidated: ' + ('both +r and -r' if both else 'row emitted twice'),
                                kiln_only=[key])
                in_tick[key] = weight
                totals[sink][key] += weight
            negative = [r for r, w in totals[sink].items() if w < 0]
            if negative:
                return fail('negative accumulated weight', kiln_only=negative)
            expected = Counter(tuple(from_pg(v, k) for v, (_, k) in zip(r, columns))
                               for r in pg_views.get((tick, sink), []))
            pg_only, kiln_only = multiset_difference(expected, +totals[sink])
            if pg_only or kiln_only:
                return fail('results differ', pg_only=pg_only, kiln_only=kiln_only)
    return None


# ---------------------------------------------------------------------------------------------
# Change generation

LITERAL = r"'((?:[^']|'')*)'"


def as_word(lit):
    """A string literal as a value, LIKE patterns turned into a string they match."""
    return lit.replace("''", "'").replace('%', 'x').replace('_', 'y')


def harvest(sql, columns):
    """String and number literals of the models' SQL, used as value domains: (all words, {text
    column: words compared with a column of its name}, numbers)."""
    sql = re.sub(r'--[^\n]*', '', sql)
    words = {as_word(lit) for lit in re.findall(LITERAL, sql)
             if len(lit) <= 24 and not re.match(r'\d{4}-\d\d-\d\d', lit)}
    near = {}
    for c in columns:  # e.g. status in ('placed', 'shipped'), lower(name) not like 'test%'
        ops = r'(?:=|<>|!=|<=?|>=?|(?:not\s+)?(?:in|like))'
        lists = re.findall(rf"\b{re.escape(c)}\b\)?\s*{ops}\s*\(?\s*((?:{LITERAL}\s*,?\s*)+)", sql, re.I)
        near[c] = sorted({as_word(lit) for found in lists for lit in re.findall(LITERAL, found[0])})
    numbers = {Decimal(n) for n in re.findall(r"(?<![\w.'])(\d+(?:\.\d+)?)(?![\w.'])", sql)}
    return sorted(words | set(GENERIC_WORDS)), near, sorted(numbers)


class ChangeGen:
    """Random change records that keep a consistent picture of every table (keys exist before
    they are updated or deleted), with values from small domains."""

    def __init__(self, rng, tables, sql):
        self.rng, self.tables = rng, tables
        columns = {c.name for t in tables for c in t.columns if c.kind.name == 'text'}
        self.words, self.near, self.numbers = harvest(sql, columns)
        self.state = {t.name: {} if t.key else Counter() for t in tables}
        self.targets = {c.name: self.referenced(c.name) for t in tables for c in t.columns}

    def referenced(self, column):
        """The table with a one-column key that a column named like <table>_id refers to."""
        m = re.fullmatch(r'(\w+?)_?id', column)
        return next((t for t in self.tables if m and len(t.key) == 1 and
                     t.name.split('.')[-1] in (m[1], m[1] + 's', m[1] + 'es')), None)

    def key_kind(self, table):
        return next(c.kind for c in table.columns if c.name == table.key[0])

    def value(self, column, in_key):
        r, kind = self.rng, column.kind
        if not column.not_null and r.random() < NULL_RATE:
            return None
        k = kind.name
        target = self.targets[column.name]
        if target and self.state[target.name] and kind == self.key_kind(target) and r.random() < 0.9:
            # the key of a present row
            return r.choice(list(self.state[target.name]))[0]
        if k == 'int':
            return r.randint(1, KEYS) if in_key else r.randint(-1, KEYS + 1)
        if k == 'numeric':
            if in_key:
                return Decimal(r.randint(1, KEYS))
            unit = Decimal(1).scaleb(-kind.scale)
            if self.numbers and r.random() < 0.2:  # at and around the models' constants
                v = r.choice(self.numbers) + r.choice((-1, 0, 1)) * unit
            else:
                v = Decimal(r.randint(-2, 24)) / 4
            v = v.quantize(unit, ROUND_HALF_UP)
            if kind.precision:
                v = (v % Decimal(10) ** (kind.precision - kind.scale)).quantize(unit)
            return v
        if k == 'float':
            return r.randint(1, KEYS) + 0.0 if in_key else r.randint(-4, 60) / 4
        if k == 'bool':
            return r.random() < 0.5
        if k == 'date':
            return f'2024-01-0{r.randint(1, 7)}' if r.random() < 0.95 else r.choice(EDGE_DATES)
        if k == 'timestamp':
            if r.random() < 0.05:
                return r.choice(EDGE_DATES) + r.choice([' 00:00:00', ' 23:59:59.999999', ' 12:00:00.5'])
            hour, minute = r.choice(['00', '09', '12', '23']), r.choice(['00', '30'])
            return f'2024-01-0{r.randint(1, 4)} {hour}:{minute}:00' + ('.5' if r.random() < 0.1 else '')
        near = self.near.get(column.name)
        word = r.choice(near if near and r.random() < 0.6 else self.words[:KEYS] if in_key else self.words)
        return r.choice([word.upper(), word.capitalize()]) if not in_key and r.random() < 0.2 else word

    def row(self, table):
        return {c.name: self.value(c, c.name in table.key) for c in table.columns}

    def change(self, table):
        """One change; deletes get likelier as the table fills up (to 3/4 of its key domain)."""
        r, state, row = self.rng, self.state[table.name], self.row(table)
        size = sum(state.values()) if not table.key else len(state)
        delete = 0.4 * size / (KEYS if len(table.key) == 1 else 2 * KEYS)
        x = r.random()
        if not table.key:
            if state and x < delete:
                old = r.choice(list(state.elements()))
                state[old] -= 1
                state += Counter()
                return (table.name, 'delete', dict(old))
            if state and x < delete + 0.2:  # a copy of a present row
                row = dict(r.choice(list(state)))
            state[tuple(row.items())] += 1
            return (table.name, 'insert', row)
        live = list(state)
        if live and x < delete:
            key = r.choice(live)
            old = state.pop(key)
            return (table.name, 'delete', old if r.random() < 0.5 else dict(zip(table.key, key)))
        if live and x < delete + 0.35:  # update a present row
            row.update(zip(table.key, r.choice(live)))
        else:  # insert, under a new key if one comes up
            for _ in range(5):
                if tuple(row[k] for k in table.key) not in state:
                    break
                row.update({c.name: self.value(c, True) for c in table.columns if c.name in table.key})
        key = tuple(row[k] for k in table.key)
        op = 'upsert' if key in state or r.random() < 0.2 else 'insert'
        state[key] = row
        return (table.name, op, row)

    def tick(self, per_table, initial=False):
        """A tick's changes: up to `per_table` per table (more in the first tick), interleaved."""
        picks = [t for t in self.tables
                 for _ in range(self.rng.randint(0, per_table) + (KEYS // 2 if initial else 0))]
        self.rng.shuffle(picks)
        return [self.change(t) for t in picks]


def normalize(ticks, tables):
    """Makes a reduced change sequence consistent again: drops deletes of absent rows and turns
    inserts of present keys into upserts."""
    tables = {t.name: t for t in tables}
    state = defaultdict(Counter)
    out = []
    for tick in ticks:
        kept = []
        for name, op, row in tick:
            t = tables[name]
            ident = tuple(row[k] for k in t.key) if t.key else tuple(row.items())
            if op == 'delete':
                if state[name][ident] == 0:
                    continue
                state[name][ident] -= 1
            elif t.key:
                op = 'upsert' if state[name][ident] else op
                state[name][ident] = 1
            else:
                state[name][ident] += 1
            kept.append((name, op, row))
        out.append(kept)
    return out


# ---------------------------------------------------------------------------------------------
# Shrinking

def ddmin(items, fails):
    """Delta debugging: a smaller list on which `fails` still holds."""
    n = 2
    while len(items) >= 2:
        size = math.ceil(len(items) / n)
        for start in range(0, len(items), size):
            candidate = items[:start] + items[start + size:]
            if fails(candidate):
                items, n = candidate, max(n - 1, 2)
                break
        else:
            if n >= len(items):
                break
            n = min(2 * n, len(items))
    return items


def shrink(check, ticks, failure, budget_seconds):
    """Drops ticks, then records, while the same model keeps failing."""
    deadline = time.monotonic() + budget_seconds
    runs = 0

    def fails(candidate):
        nonlocal runs
        if time.monotonic() > deadline:
            return False
        runs += 1
        f = check(candidate)
        return f is not None and f.signature() == failure.signature()

    ticks = ticks[:failure.tick]
    for _ in range(3):
        before = sum(map(len, ticks)) + len(ticks)
        ticks = ddmin(ticks, fails)
        flat = [(i, r) for i, tick in enumerate(ticks) for r in tick]
        regroup = lambda flat: [[r for j, r in flat if j == i] for i in range(len(ticks))]
        ticks = regroup(ddmin(flat, lambda c: fails(regroup(c))))
        if sum(map(len, ticks)) + len(ticks) == before:
            break
    return ticks, runs, time.monotonic() > deadline


# ---------------------------------------------------------------------------------------------
# Generated projects

GEN_PROJECT = 'name: generated\nversion: "1.0"\nmodel-paths: [models]\n'
GEN_SOURCES = """version: 2
sources:
  - name: gen
    tables:
      - name: t1
        primary_key: [id]
        columns:
          - {name: id, data_type: int}
          - {name: a, data_type: int}
          - {name: b, data_type: bigint}
          - {name: n, data_type: 'numeric(10,2)'}
          - {name: s, data_type: text}
          - {name: d, data_type: date}
          - {name: f, data_type: boolean}
      - name: t2
        primary_key: [id]
        columns:
          - {name: id, data_type: bigint}
          - {name: t1_id, data_type: int}
          - {name: x, data_type: int, nullable: false}
          - {name: m, data_type: 'numeric(8,3)'}
          - {name: s, data_type: text}
          - {name: d, data_type: date}
          - {name: ts, data_type: timestamp}
      - name: t3
        primary_key: [k, line]
        columns:
          - {name: k, data_type: int}
          - {name: line, data_type: int}
          - {name: v, data_type: int}
          - {name: w, data_type: 'numeric(6,1)'}
          - {name: tag, data_type: text}
          - {name: r, data_type: double precision}
      - name: t4
        description: no primary key, so rows repeat and a delete takes away one copy
        columns:
          - {name: t1_id, data_type: int}
          - {name: kind, data_type: text}
          - {name: amount, data_type: 'numeric(8,2)'}
"""
GEN_TABLES = {  # column types of GEN_SOURCES as the generator's types
    't1': [('id', 'int'), ('a', 'int'), ('b', 'int'), ('n', 'num'), ('s', 'text'), ('d', 'date'), ('f', 'bool')],
    't2': [('id', 'int'), ('t1_id', 'int'), ('x', 'int'), ('m', 'num'), ('s', 'text'), ('d', 'date'), ('ts', 'ts')],
    't3': [('k', 'int'), ('line', 'int'), ('v', 'int'), ('w', 'num'), ('tag', 'text'), ('r', 'float')],
    't4': [('t1_id', 'int'), ('kind', 'text'), ('amount', 'num')],
}
TEXT_LITERALS = ['a', 'b', 'ab', 'B', 'x y', '', 'é']
TYPES = ['int', 'num', 'float', 'text', 'date', 'ts', 'bool']  # of the query generator
# to_char templates for numbers: digits, zeros, FM, points, groups, signs, Roman numerals and
# scientific notation, as dbt models format amounts.
NUMBER_TEMPLATES = ['999', 'FM999', '0000', '999.99', 'FM999,990.00', 'S99.9', '99.9MI', 'FM9.999',
                    '999PR', 'PL99', 'SG9.9', '9.99EEEE', 'FMRN', '99th', '99V9', '"n="FM90.0', '9G999D99']
ARRAY_ELEMENT_TYPES = ['int', 'num', 'text', 'date', 'float']  # compared as arrays
LIKE_PATTERNS = ['a%', '%b', '_b%', 'A%', '%', 'x_y', '_', '%a%']


def select_list(items):
    return ', '.join(f'{e} AS c{i}' for i, (e, _) in enumerate(items, 1))


class QueryGen:
    """Random queries in the SQL Kiln supports, typed with int, num, float, text, date, ts and bool,
    over small values (no overflow), dividing only by non-zero constants; floats are multiples of
    1/4 that add up exactly."""

    def __init__(self, rng):
        self.rng = rng
        self.views = {}   # name -> columns, for {{ ref() }}
        self.aliases = 0

    def alias(self, prefix):
        self.aliases += 1
        return f'{prefix}{self.aliases}'

    def literal_value(self, ty):
        """A value for a literal of `ty`, from the change generator's domains."""
        r = self.rng
        return {'int': lambda: r.randint(-1, 9), 'num': lambda: Decimal(r.randint(0, 24)) / 4,
                'float': lambda: r.randint(0, 40) / 4, 'text': lambda: r.choice(TEXT_LITERALS),
                'date': lambda: f'2024-01-0{r.randint(1, 7)}',
                'ts': lambda: f'2024-01-0{r.randint(1, 4)} {r.choice(["00", "09", "12"])}:{r.choice(["00", "30"])}:00',
                'bool': lambda: r.random() < 0.5}[ty]()

    def literal(self, ty, value=None):
        v = self.literal_value(ty) if value is None else value
        if ty == 'float' and self.rng.random() < 0.5:
            return f'CAST({v} AS double precision)'
        forms = {'date': f"DATE '{v}'", 'ts': f"TIMESTAMP '{v}'", 'num': str(v), 'bool': str(v).upper()}
        return forms.get(ty) or sql_literal(v)

    def in_list(self, scope, e):
        t = self.ordered_type(scope)
        items = [self.literal(t) if self.rng.random() < 0.9 else 'NULL' for _ in range(self.rng.randint(1, 3))]
        return f'({e(t)} {self.rng.choice(["IN", "NOT IN"])} ({", ".join(items)}))'

    def between(self, scope, e):
        """BETWEEN with bounds in order, mostly."""
        t = self.ordered_type(scope)
        low, high = (self.literal_value(t) for _ in range(2))
        if self.rng.random() < 0.8:
            low, high = min(low, high), max(low, high)
        return f'({e(t)} BETWEEN {self.literal(t, low)} AND {self.literal(t, high)})'

    def expr(self, ty, scope, depth=0):
        r = self.rng
        cols = [c for c, t in scope if t == ty]
        if depth >= 2 or r.random() < 0.45:
            if ty == 'bool' and (not cols or r.random() < 0.8):  # few bool columns: compare others
                return self.comparison_form(scope, 2)()
            return r.choice(cols) if cols and r.random() < 0.9 else self.literal(ty)
        e = lambda t=ty: self.expr(t, scope, depth + 1)
        lit = self.literal
        forms = {
            'int': [lambda: f'({e()} + {e()})', lambda: f'({e()} - {e()})', lambda: f'({e()} * {r.randint(-2, 3)})',
                    lambda: f'abs({e()})', lambda: f'({e()} / {r.choice([2, 3, -4])})', lambda: f'mod({e()}, 3)',
                    lambda: f'({e()} % -3)', lambda: f'(-{e()})', lambda: f'length({e("text")})',
                    lambda: f'COALESCE({e()}, {lit("int")})', lambda: f'NULLIF({e()}, {lit("int")})',
                    lambda: f'{r.choice(["GREATEST", "LEAST"])}({e()}, {e()})', lambda: f'CAST({e("num")} AS int)',
                    lambda: f'({e("date")} - {e("date")})'],
            'num': [lambda: f'({e()} + {e()})', lambda: f'({e()} - {e()})', lambda: f'({e()} * {e("int")})',
                    lambda: f'round({e()}, {r.randint(0, 1)})', lambda: f'round({e()})', lambda: f'trunc({e()}, 1)',
                    lambda: f'{r.choice(["floor", "ceil"])}({e()})', lambda: f'abs({e()})', lambda: f'({e()} / 4)',
                    lambda: f'({e("int")} / 2.0)', lambda: f'COALESCE({e()}, {lit("num")})',
                    lambda: f'CAST({e("int")} AS numeric(10,2))',
                    lambda: f'{r.choice(["GREATEST", "LEAST"])}({e()}, {e()})',
                    lambda: f'extract({r.choice(["epoch", "hour", "day", "minute"])} FROM {self.interval(e)})'],
            'float': [lambda: f'({e()} + {e()})', lambda: f'({e()} - {e(r.choice(["float", "int"]))})',
                      lambda: f'({e()} * 2)', lambda: f'abs({e()})', lambda: f'COALESCE({e()}, {lit("float")})',
                      lambda: f'CAST({e(r.choice(["int", "num"]))} AS double precision)'],
            'text': [lambda: f'lower({e()})', lambda: f'upper({e()})', lambda: f'({e()} || {e()})',
                     lambda: f'({e()} || {e("int")})', lambda: f'COALESCE({e()}, {lit("text")})',
                     lambda: f'substr({e()}, {r.randint(1, 2)}, 2)',
                     lambda: f'{r.choice(["btrim", "ltrim", "rtrim"])}({e()})',
                     lambda: f"replace({e()}, 'a', 'b')", lambda: f'CAST({e("int")} AS text)',
                     lambda: f'CAST({self.interval(e)} AS text)',
                     lambda: (f'to_char({e(r.choice(["int", "num", "float"]))}, '
                              f"'{r.choice(NUMBER_TEMPLATES)}')"),
                     lambda: (lambda t: f'CAST({r.choice(["GREATEST", "LEAST"])}({self.array_expr(e, t)}, '
                                        f'{self.array_expr(e, t)}) AS text)')(r.choice(ARRAY_ELEMENT_TYPES))],
            'date': [lambda: f'COALESCE({e()}, {lit("date")})', lambda: f'({e()} + {r.randint(-2, 2)})',
                     lambda: f'CAST({e("ts")} AS date)'],
            'ts': [lambda: f"date_trunc('{r.choice(['day', 'hour'])}', {e()})",
                   lambda: f'CAST({e("date")} AS timestamp)',
                   lambda: f'COALESCE({e()}, {lit("ts")})',
                   lambda: (f'({e(r.choice(["ts", "date"]))} {r.choice(["+", "-"])} interval '
                            f"'{r.choice(['1 month', '2 days', '3 hours', '1 year 1 day', '90 minutes', '1.5 days'])}')"),
                   lambda: f'({e(r.choice(["ts", "date"]))} {r.choice(["+", "-"])} {self.interval(e)})'],
            'bool': [self.comparison_form(scope, depth), lambda: f'({e()} AND {e()})', lambda: f'({e()} OR {e()})',
                     lambda: f'(NOT {e()})', lambda: f'({e(self.ordered_type(scope))} IS NULL)',
                     lambda: f'({e(self.ordered_type(scope))} IS NOT NULL)',
                     lambda: (lambda t: f'({e(t)} IS {r.choice(["", "NOT "])}DISTINCT FROM {e(t)})')(
                         self.ordered_type(scope)),
                     lambda: f'({e()} IS {r.choice(["", "NOT "])}{r.choice(["TRUE", "FALSE"])})',
                     lambda: self.between(scope, e),
                     lambda: f'({self.interval(e)} {r.choice(["<", ">=", "=", "<>"])} {self.interval(e)})',
                     lambda: self.in_list(scope, e),
                     lambda: f'({e("text")} {r.choice(["LIKE", "NOT LIKE"])} {sql_literal(r.choice(LIKE_PATTERNS))})',
                     lambda: self.container_comparison(e)],
        }[ty]
        forms += [lambda: f'CASE WHEN {e("bool")} THEN {e()} ELSE {e()} END',
                  lambda: f'CASE WHEN {e("bool")} THEN {e()} WHEN {e("bool")} THEN {e()} END',
                  lambda: f'CASE {e("int")} WHEN 1 THEN {e()} WHEN {lit("int")} THEN {e()} ELSE {e()} END',
                  lambda: f'COALESCE({e()}, {e()}, {lit(ty)})']
        return r.choice(forms)()

    def array_expr(self, e, t):
        """ARRAY[...] of one to three values of `t` (the first typed), sometimes ending in NULL."""
        r = self.rng
        items = [e(t) if r.random() < 0.7 else self.literal(t) for _ in range(r.randint(1, 3))]
        if r.random() < 0.2:
            items.append('NULL')
        return f'ARRAY[{", ".join(items)}]'

    def container_comparison(self, e):
        """Arrays compared (element by element, a NULL element last, the shorter first) or jsonb
        values compared (by kind, then by value: numbers whatever their scales)."""
        r = self.rng
        op = r.choice(['=', '<>', '<', '<=', '>', '>='])
        if r.random() < 0.5:
            t = r.choice(ARRAY_ELEMENT_TYPES)
            # integer[] and bigint[] have no comparison in PostgreSQL: both sides as bigint[].
            typed = (lambda a: f'CAST({a} AS bigint[])') if t == 'int' else (lambda a: a)
            return f'({typed(self.array_expr(e, t))} {op} {typed(self.array_expr(e, t))})'

        def doc():
            t = r.choice(['int', 'num', 'text', 'bool', 'float'])
            return r.choice([lambda: f'to_jsonb({e(t)})',
                             lambda: f'jsonb_build_array({e(t)}, {e(r.choice(["int", "text"]))})',
                             lambda: f"jsonb_build_object('k', {e(t)})"])()
        return f'({doc()} {op} {doc()})'

    def interval(self, e):
        """An interval: of timestamps subtracted, or a count of a unit (dbt's dateadd), or scaled."""
        r = self.rng
        return r.choice([
            lambda: f'({e("ts")} - {e("ts")})',
            lambda: f"({e('int')} * interval '{r.choice(['1 hour', '1 day', '1 month', '90 minutes'])}')",
            lambda: f"(({e('ts')} - {e('ts')}) {r.choice(['*', '/'])} {r.choice(['2', '3', '1.5', '-4'])})",
            lambda: f"(interval '{r.choice(['1 day', '36 hours', '1 mon 2 days'])}' - ({e('ts')} - {e('ts')}))"])()

    def comparison_form(self, scope, depth):
        def form():
            t = self.ordered_type(scope)
            op = self.rng.choice(['=', '<>', '<', '<=', '>', '>='])
            cols = [c for c, ty in scope if ty == t]
            left = self.rng.choice(cols) if cols and self.rng.random() < 0.7 else self.expr(t, scope, depth + 1)
            if t in ('int', 'num', 'float') and self.rng.random() < 0.2:
                t = self.rng.choice(['int', 'num', 'float'])  # mixed numeric types
            if self.rng.random() < 0.1:  # ANY or ALL over ARRAY[...] (the OR or AND of each)
                # (the first item typed, so that a NULL literal after it takes its type)
                items = ', '.join([left] + [self.literal(t) if self.rng.random() < 0.6 else self.expr(t, scope, depth + 1)
                                            for _ in range(self.rng.randint(0, 2))])
                return f'({left} {op} {self.rng.choice(["ANY", "ALL"])} (ARRAY[{items}]))'
            right = self.literal(t) if self.rng.random() < 0.6 else self.expr(t, scope, depth + 1)
            return f'({left} {op} {right})'
        return form

    def scope_type(self, scope):
        """A type for an expression, mostly one of the scope's columns."""
        present = [t for _, t in scope]
        return self.rng.choice(present if self.rng.random() < 0.85 else TYPES)

    def ordered_type(self, scope=()):
        """A type to compare, preferring those of the scope's columns."""
        present = [t for _, t in scope if t != 'bool']
        return self.rng.choice(present if present and self.rng.random() < 0.9 else TYPES[:-1])

    def from_item(self, depth):
        """(SQL, scope) of a table, a view or a subquery, under a fresh alias."""
        r = self.rng
        choice = r.random()
        if depth < 1 and choice < 0.2:
            sql, cols = self.select(depth + 1, top=False)
            alias = self.alias('q')
            return f'({sql}) AS {alias}', [(f'{alias}.{c}', t) for c, t in cols]
        if choice > 0.93:  # a constant relation: VALUES rows of int, text and date columns
            alias = self.alias('c')
            types = [r.choice(['int', 'int', 'text', 'date']) for _ in range(r.randint(1, 3))]
            rows = []
            for _ in range(r.randint(1, 4)):
                # The first row types each column (a NULL there would be text).
                values = [self.literal(t) if not rows or r.random() < 0.85 else 'NULL' for t in types]
                rows.append('(' + ', '.join(values) + ')')
            names = [f'k{i}' for i in range(len(types))]
            return (f'(VALUES {", ".join(rows)}) AS {alias}({", ".join(names)})',
                    [(f'{alias}.{n}', t) for n, t in zip(names, types)])
        if self.views and choice < 0.4:
            name = r.choice(sorted(self.views))
            alias = self.alias('v')
            return f"{{{{ ref('{name}') }}}} AS {alias}", [(f'{alias}.{c}', t) for c, t in self.views[name]]
        table = r.choice(sorted(GEN_TABLES))
        alias = self.alias(table[:2])
        return f"{{{{ source('gen', '{table}') }}}} AS {alias}", [(f'{alias}.{c}', t) for c, t in GEN_TABLES[table]]

    def from_clause(self, depth):
        """One item, or inner or outer (LEFT, RIGHT, FULL) joins of up to three on equal columns,
        sometimes with a residual condition, or on comparisons only (one, or a band)."""
        sql, scope = self.from_item(depth)
        for _ in range(self.rng.choice([0, 0, 1, 1, 2])):
            right, rscope = self.from_item(depth)
            ty = self.rng.choice(['int', 'int', 'int', 'text', 'date'])
            lk = [c for c, t in scope if t == ty]
            rk = [c for c, t in rscope if t == ty]
            if not lk or not rk:
                break
            kind = self.rng.choice(['JOIN', 'JOIN', 'LEFT JOIN', 'LEFT JOIN', 'RIGHT JOIN', 'FULL JOIN'])
            # PostgreSQL runs a FULL JOIN on equalities only (merge- or hash-joinable).
            full = kind == 'FULL JOIN'
            op = '=' if full or self.rng.random() < 0.85 else self.rng.choice(['<', '>=', 'band'])
            if op == 'band':  # a band: the left value between two right ones (a range join)
                l, r1, r2 = self.rng.choice(lk), self.rng.choice(rk), self.rng.choice(rk)
                cond = (f'{l} BETWEEN {r1} AND {r2}' if self.rng.random() < 0.5
                        else f'{r1} <= {l} AND {l} < {r2}')
            else:
                cond = f'{self.rng.choice(lk)} {op} {self.rng.choice(rk)}'
            if not full and self.rng.random() < 0.3:
                cond += f' AND {self.expr("bool", scope + rscope, 1)}'
            sql, scope = f'{sql}\n  {kind} {right} ON {cond}', scope + rscope
        if self.rng.random() < 0.15:
            sql, scope = self.lateral_function(sql, scope)
        elif self.rng.random() < 0.1:
            sql, scope = self.lateral_subquery(sql, scope)
        return sql, scope

    def lateral_subquery(self, sql, scope):
        """The FROM clause with a LATERAL subquery over a source correlated with its columns by
        an equality: its top rows per outer row, its aggregates (one row per outer row), or its
        rows, sometimes also compared with the outer row by <."""
        r = self.rng
        table = r.choice(sorted(GEN_TABLES))
        alias, sub = self.alias('l'), self.alias('x')
        inner = [(f'{alias}.{c}', t) for c, t in GEN_TABLES[table]]
        pairs = [(c, ic) for c, t in scope for ic, it in inner if t == it and t in ('int', 'text', 'date')]
        if not pairs:
            return sql, scope
        outer, col = r.choice(pairs)
        cond, tail = f'{col} = {outer}', ''
        shape = r.choice(['top', 'aggregate', 'rows'])
        if shape == 'aggregate':
            value, ty = r.choice([(c, t) for c, t in inner if t in ('int', 'num', 'text', 'date')])
            select = f'count(*) AS n, max({value}) AS m'
            cols = [(f'{sub}.n', 'int'), (f'{sub}.m', ty)]
        else:
            picks = r.sample(inner, k=2)
            select = ', '.join(f'{c} AS v{i}' for i, (c, _) in enumerate(picks))
            cols = [(f'{sub}.v{i}', t) for i, (_, t) in enumerate(picks)]
            if shape == 'top':  # every column ordered: only equal rows tie
                order = ', '.join(f'{c}{r.choice(["", " DESC"])}' for c, _ in inner)
                tail = f' ORDER BY {order} LIMIT {r.randint(1, 2)}'
            else:
                less = [(c, ic) for c, t in scope for ic, it in inner if t == it == 'int']
                if less and r.random() < 0.5:
                    o, i = r.choice(less)
                    cond += f' AND {i} < {o}'
        source = f"{{{{ source('gen', '{table}') }}}} AS {alias}"
        item = f'LATERAL (SELECT {select} FROM {source} WHERE {cond}{tail}) AS {sub}'
        kind = r.choice([',', 'CROSS JOIN', 'LEFT JOIN'])
        if kind == 'LEFT JOIN':
            on = 'true' if r.random() < 0.5 else self.expr('bool', scope + cols, 1)
            return f'{sql}\n  LEFT JOIN {item} ON {on}', scope + cols
        return f'{sql}{"," if kind == "," else chr(10) + "  " + kind} {item}', scope + cols

    def lateral_function(self, sql, scope):
        """The FROM clause with a set-returning function of its columns after it: a comma item,
        CROSS JOIN LATERAL or LEFT JOIN LATERAL ... ON (an unnest operator)."""
        r = self.rng
        alias = self.alias('f')
        ints = [c for c, t in scope if t == 'int']
        texts = [c for c, t in scope if t == 'text']
        forms = []
        if ints:  # a short series per row: empty for a NULL or negative bound
            forms.append((f'generate_series(0, {r.choice(ints)} % 4)', [(f'{alias}.{alias}', 'int')]))
            forms.append((f'generate_series({r.choice(ints)} % 3, 2, {r.choice([1, 2, -1])})',
                          [(f'{alias}.{alias}', 'int')]))
            forms.append((f'unnest(ARRAY[{r.choice(ints)}, {self.expr("int", scope, 1)}, NULL])',
                          [(f'{alias}.{alias}', 'int')]))
        stamps = [c for c, t in scope if t == 'ts']
        if stamps:  # a series of timestamps stepped by an interval (months clamp at a month's end)
            start, step = r.choice(stamps), r.choice(["'1 day'", "'12 hours'", "'1 month'", "'-1 day'"])
            stop = f"{start} + interval '2 days'" if not step.startswith("'-") else f"{start} - interval '2 days'"
            forms.append((f'generate_series({start}, {stop}, interval {step})', [(f'{alias}.{alias}', 'ts')]))
        if texts:
            forms.append((f'unnest(ARRAY[{r.choice(texts)}, {self.literal("text")}])',
                          [(f'{alias}.{alias}', 'text')]))
            # jsonb: the elements of an array built from the row, as text; a NULL is JSON null
            forms.append((f'jsonb_array_elements_text(jsonb_build_array({r.choice(texts)}, {r.choice(texts)}))',
                          [(f'{alias}.value', 'text')]))
        if not forms:
            return sql, scope
        call, cols = r.choice(forms)
        ordinality = r.random() < 0.3
        if ordinality:
            names = [c.split('.')[1] for c, _ in cols] + ['o']
            cols = [(f'{alias}.{n}', t) for n, (_, t) in zip(names, cols)] + [(f'{alias}.o', 'int')]
            call += ' WITH ORDINALITY'
            alias_sql = f'{alias}({", ".join(names)})'
        else:
            alias_sql = alias
        kind = r.choice([',', 'CROSS JOIN LATERAL', 'LEFT JOIN LATERAL'])
        if kind == 'LEFT JOIN LATERAL':
            cond = 'true' if r.random() < 0.5 else self.expr('bool', scope + cols, 1)
            return f'{sql}\n  LEFT JOIN LATERAL {call} AS {alias_sql} ON {cond}', scope + cols
        joiner = ',' if kind == ',' else f'\n  {kind}'
        return f'{sql}{joiner} {call} AS {alias_sql}', scope + cols

    def where(self, scope):
        r = self.rng
        conds = [f'({self.expr("bool", scope)})'] if r.random() < 0.5 else []
        if r.random() < 0.15:
            conds.append(self.semi_join(scope))
        return '\nWHERE ' + ' AND '.join(conds) if conds else ''

    def semi_join(self, scope):
        """`col [NOT] IN (SELECT ...)`, `[NOT] EXISTS (SELECT ...)` or `col < (SELECT max(..) ...)`
        over a source, uncorrelated, or [NOT] EXISTS and IN correlated by an equality."""
        r = self.rng
        no = 'NOT ' if r.random() < 0.35 else ''
        table = r.choice(sorted(GEN_TABLES))
        alias = self.alias('s')
        inner = [(f'{alias}.{c}', t) for c, t in GEN_TABLES[table]]
        source = f"{{{{ source('gen', '{table}') }}}} AS {alias}"
        cond = f' WHERE {self.expr("bool", inner, 1)}' if r.random() < 0.5 else ''
        pairs = [(c, ic) for c, t in scope for ic, it in inner if t == it and t in ('int', 'text', 'date')]
        if pairs and r.random() < 0.25:  # a scalar subquery: one aggregate, so one row
            outer, col = r.choice(pairs)
            op = r.choice(['<', '<=', '>', '>=', '=', '<>'])
            if r.random() < 0.4:  # correlated: one row per key, NULL for a key without rows
                key_outer, key_col = r.choice(pairs)
                cond = f' WHERE {key_col} = {key_outer}' + (f' AND {self.expr("bool", inner, 1)}' if r.random() < 0.5 else '')
            return f'{outer} {op} (SELECT {r.choice(["min", "max"])}({col}) FROM {source}{cond})'
        if pairs and r.random() < 0.3:  # correlated by an equality, unnested into a join
            outer, col = r.choice(pairs)
            cond = f' WHERE {col} = {outer}' + (f' AND {self.expr("bool", inner, 1)}' if r.random() < 0.5 else '')
            if r.random() < 0.5 or no:
                return f'{no}EXISTS (SELECT 1 FROM {source}{cond})'
            outer, col = r.choice(pairs)
            return f'{outer} IN (SELECT {col} FROM {source}{cond})'
        if pairs and r.random() < 0.75:
            outer, col = r.choice(pairs)
            return f'{outer} {no}IN (SELECT {col} FROM {source}{cond})'
        return f'{no}EXISTS (SELECT 1 FROM {source}{cond})'

    def select(self, depth=0, top=True):
        """(SQL, [(column, type)]) of a random query, sometimes a top-k of one."""
        shape = self.rng.choice(['project', 'project', 'aggregate', 'aggregate', 'distinct', 'union'])
        sql, cols = getattr(self, 'select_' + shape)(depth, top)
        choice = self.rng.random()
        if choice < 0.15:
            sql = self.top_k(sql, cols)
        elif choice < 0.22:
            sql = self.distinct_on(sql, cols)
        elif choice < 0.30:
            sql, cols = self.windowed(sql, cols, top)
        elif choice < 0.34:
            sql = self.top_per_group(sql, cols)
        return sql, cols

    def window_clause(self, cols):
        """OVER (PARTITION BY some columns ORDER BY every other column): only equal rows tie, so
        every function's results over the partition are PostgreSQL's whichever way it orders them."""
        r = self.rng
        keys = r.sample(range(len(cols)), r.randint(0, len(cols) - 1)) if r.random() < 0.8 else []
        rest = [i for i in r.sample(range(len(cols)), len(cols)) if i not in keys]
        direction = lambda: r.choice(['', ' DESC']) + r.choice(['', '', ' NULLS FIRST', ' NULLS LAST'])
        partition = f'PARTITION BY {", ".join(cols[i][0] for i in keys)} ' if keys else ''
        return f'{partition}ORDER BY {", ".join(cols[i][0] + direction() for i in rest)}'

    def window_function(self, cols, top):
        """(call, type) of a random window function over `cols` (its OVER clause comes after)."""
        r = self.rng
        typed = [(c, t) for c, t in cols if t != 'avg']
        forms = [('row_number()', 'int'), ('rank()', 'int'), ('dense_rank()', 'int'),
                 (f'ntile({r.randint(1, 4)})', 'int'), ('count(*)', 'int'),
                 ('percent_rank()', 'float'), ('cume_dist()', 'float')]
        if typed:
            c, t = r.choice(typed)
            offset = r.randint(0, 3)
            fallback = f', {self.literal(t)}' if r.random() < 0.5 else ''
            forms += [(f'lag({c})', t), (f'lead({c}, {offset}{fallback})', t),
                      (f'lag({c}, {offset}{fallback})', t), (f'first_value({c})', t),
                      (f'last_value({c})', t), (f'nth_value({c}, {r.randint(1, 3)})', t),
                      (f'count({c})', 'int')]
            if t != 'bool':  # PostgreSQL has no min or max of booleans
                forms += [(f'min({c})', t), (f'max({c})', t)]
            if t in ('int', 'num', 'float'):
                forms += [(f'sum({c})', t)] * 2
                if top:
                    forms.append((f'avg({c})', 'avg'))
        return r.choice(forms)

    def frame(self, offset=lambda r: str(r.randint(0, 2)), units=('ROWS', 'GROUPS')):
        """A frame in one of `units` with bounds at `offset()`s, and maybe an EXCLUDE clause."""
        r = self.rng
        bound = lambda: r.choice(['UNBOUNDED PRECEDING', f'{offset(r)} PRECEDING', 'CURRENT ROW',
                                  f'{offset(r)} FOLLOWING', 'UNBOUNDED FOLLOWING'])
        order = ['UNBOUNDED PRECEDING', 'PRECEDING', 'CURRENT ROW', 'FOLLOWING', 'UNBOUNDED FOLLOWING']
        rank = lambda b: order.index(b if b in order else b.rsplit(' ', 1)[1])
        while True:
            start, end = bound(), bound()
            if start != 'UNBOUNDED FOLLOWING' and end != 'UNBOUNDED PRECEDING' and rank(start) <= rank(end):
                break
        exclude = r.choice(['', '', '', ' EXCLUDE CURRENT ROW', ' EXCLUDE GROUP', ' EXCLUDE TIES',
                            ' EXCLUDE NO OTHERS'])
        if 'RANGE' not in units and r.random() < 0.3:  # RANGE with UNBOUNDED and CURRENT ROW
            start, end = r.choice([('UNBOUNDED PRECEDING', 'CURRENT ROW'), ('CURRENT ROW', 'UNBOUNDED FOLLOWING'),
                                   ('UNBOUNDED PRECEDING', 'UNBOUNDED FOLLOWING')])
            return f' RANGE BETWEEN {start} AND {end}{exclude}'
        return f' {r.choice(units)} BETWEEN {start} AND {end}{exclude}'

    # Offsets for a RANGE frame over an ORDER BY column of each type.
    RANGE_OFFSETS = {
        'int': lambda r: str(r.randint(0, 3)),
        'num': lambda r: str(Decimal(r.randint(0, 8)) / 4),
        'float': lambda r: str(r.randint(0, 8) / 4),
        'date': lambda r: f"INTERVAL '{r.randint(0, 3)} days'",
        'ts': lambda r: r.choice(["INTERVAL '1 hour'", "INTERVAL '1 day'", "INTERVAL '90 minutes'",
                                  "INTERVAL '12 hours'", "INTERVAL '0 seconds'"]),
    }

    def range_window(self, cols):
        """OVER (PARTITION BY ... ORDER BY one column RANGE|GROUPS frame): frames of whole peer
        groups, so an aggregate over one is one answer whatever order the peers are in; or None."""
        r = self.rng
        ordered = [i for i, (_, t) in enumerate(cols) if t in self.RANGE_OFFSETS]
        if not ordered:
            return None
        o = r.choice(ordered)
        keys = [i for i in r.sample(range(len(cols)), r.randint(0, len(cols) - 1)) if i != o]
        partition = f'PARTITION BY {", ".join(cols[i][0] for i in keys)} ' if keys and r.random() < 0.6 else ''
        direction = r.choice(['', ' DESC']) + r.choice(['', '', ' NULLS FIRST', ' NULLS LAST'])
        name, ty = cols[o]
        if r.random() < 0.7:
            frame = self.frame(self.RANGE_OFFSETS[ty], ('RANGE',))
        else:
            frame = self.frame(units=('GROUPS',))
        return f'{partition}ORDER BY {name}{direction}{frame}'

    def windowed(self, sql, cols, top):
        """A query's columns and one to three window functions over them."""
        r = self.rng
        names = ', '.join(c for c, _ in cols)
        items = []
        # One window per query: rows equal in every column may be numbered either way, and two
        # windows of different orders would pair their numbers differently in each system.
        over = self.window_clause(cols)
        # Or aggregates over peer groups of one ORDER BY column.
        range_over = self.range_window(cols) if r.random() < 0.35 else None
        for _ in range(r.randint(1, 3)):
            call, ty = self.window_function(cols, top)
            name = call.split('(')[0]
            if range_over:
                while name not in ('count', 'min', 'max', 'sum', 'avg'):
                    call, ty = self.window_function(cols, top)
                    name = call.split('(')[0]
                items.append((f'{call} OVER ({range_over})', ty))
                continue
            framed = name in ('first_value', 'last_value', 'nth_value', 'count', 'min', 'max', 'sum', 'avg')
            frame = self.frame() if framed and r.random() < 0.5 else ''
            items.append((f'{call} OVER ({over}{frame})', ty))
        out = cols + [(f'w{i}', t) for i, (_, t) in enumerate(items, 1)]
        calls = ', '.join(f'{e} AS w{i}' for i, (e, _) in enumerate(items, 1))
        return f'SELECT {names}, {calls} FROM (\n{sql}\n) AS windowed', out

    def top_per_group(self, sql, cols):
        """The top-k per group pattern: row_number() over a partition, bounded by a filter."""
        r = self.rng
        names = ', '.join(c for c, _ in cols)
        bound = r.choice(['rn <= {k}', 'rn < {k}', 'rn = 1', '{k} >= rn']).format(k=r.randint(1, 3))
        return (f'SELECT {names} FROM (SELECT {names}, row_number() OVER ({self.window_clause(cols)}) AS rn '
                f'FROM (\n{sql}\n) AS numbered) AS ranked WHERE {bound}')

    def distinct_on(self, sql, cols):
        """DISTINCT ON some columns, ordered by them and then by every other column, so that the
        row each group keeps is the one possible row."""
        r = self.rng
        keys = r.sample(range(len(cols)), r.randint(1, len(cols)))
        rest = [i for i in r.sample(range(len(cols)), len(cols)) if i not in keys]
        direction = lambda: r.choice(['', ' DESC']) + r.choice(['', '', ' NULLS FIRST', ' NULLS LAST'])
        order = [cols[i][0] + direction() for i in keys] + [cols[i][0] + direction() for i in rest]
        names = ', '.join(c for c, _ in cols)
        on = ', '.join(cols[i][0] for i in keys)
        return (f'SELECT DISTINCT ON ({on}) {names} FROM (\n{sql}\n) AS grouped\n'
                f'ORDER BY {", ".join(order)}')

    def top_k(self, sql, cols):
        """ORDER BY ... LIMIT ... OFFSET over a query's result. The order takes every column, so
        that only equal rows tie and PostgreSQL's window is the one possible window."""
        r = self.rng
        keys = []
        for i in r.sample(range(len(cols)), len(cols)):
            # An `avg` column's scale may differ from PostgreSQL's, but not its order.
            key = str(i + 1) if r.random() < 0.3 else cols[i][0]
            key += r.choice(['', '', ' DESC', ' ASC'])
            key += r.choice(['', '', '', ' NULLS FIRST', ' NULLS LAST'])
            keys.append(key)
        limit = f'\nLIMIT {r.randint(0, 6)}' if r.random() < 0.9 else ''
        offset = f'\nOFFSET {r.randint(1, 3)}' if r.random() < 0.3 or not limit else ''
        names = ', '.join(c for c, _ in cols)
        return f'SELECT {names} FROM (\n{sql}\n) AS ranked\nORDER BY {", ".join(keys)}{limit}{offset}'

    def projection(self, scope, types):
        items = [(self.expr(t, scope), t) for t in types]
        return select_list(items), [(f'c{i}', t) for i, (_, t) in enumerate(items, 1)]

    def scalar_item(self, scope):
        """A scalar subquery for a select list: min or max of a source's column, uncorrelated or
        correlated by an equality; (SQL, type) or None."""
        r = self.rng
        table = r.choice(sorted(GEN_TABLES))
        alias = self.alias('q')
        inner = [(f'{alias}.{c}', t) for c, t in GEN_TABLES[table]]
        pairs = [(c, ic) for c, t in scope for ic, it in inner if t == it and t in ('int', 'text', 'date')]
        value, ty = r.choice([(c, t) for c, t in inner if t in ('int', 'num', 'text', 'date')])
        cond = ''
        if pairs and r.random() < 0.6:
            outer, col = r.choice(pairs)
            cond = f' WHERE {col} = {outer}'
        return f"(SELECT {r.choice(['min', 'max'])}({value}) FROM {{{{ source('gen', '{table}') }}}} AS {alias}{cond})", ty

    def select_project(self, depth, top, types=None, distinct=False):
        frm, scope = self.from_clause(depth)
        free_width = types is None  # not a branch of a set operation, whose widths must agree
        types = types or [self.scope_type(scope) for _ in range(self.rng.randint(1, 4))]
        cols, out = self.projection(scope, types)
        if free_width and not distinct and top and self.rng.random() < 0.15:
            sql, ty = self.scalar_item(scope)
            cols += f', {sql} AS c{len(out) + 1}'
            out = out + [(f'c{len(out) + 1}', ty)]
        elif free_width and self.rng.random() < 0.08:  # set-returning functions in the list, zipped
            ty = self.rng.choice(['int', 'text'])
            calls = [f'unnest(ARRAY[{self.expr(ty, scope, 1)}, {self.expr(ty, scope, 1)}])']
            if self.rng.random() < 0.5:
                calls.append(f'generate_series(1, {self.rng.randint(1, 3)})')
            for call in calls:
                cols += f', {call} AS c{len(out) + 1}'
                out = out + [(f'c{len(out) + 1}', ty if call.startswith('unnest') else 'int')]
        return f'SELECT {"DISTINCT " if distinct else ""}{cols}\nFROM {frm}{self.where(scope)}', out

    def select_distinct(self, depth, top):
        return self.select_project(depth, top, distinct=True)

    def select_union(self, depth, top):
        first, cols = self.select_project(depth, top)
        second, _ = self.select_project(depth, top, types=[t for _, t in cols])
        op = self.rng.choice(['UNION ALL', 'UNION ALL', 'UNION', 'INTERSECT', 'EXCEPT', 'INTERSECT ALL', 'EXCEPT ALL'])
        return f'{first}\n{op}\n{second}', cols

    def select_aggregate(self, depth, top):
        r = self.rng
        frm, scope = self.from_clause(depth)
        keys = [] if r.random() < 0.1 else [self.group_key(scope) for _ in range(r.randint(1, 2))]
        items = keys + [self.aggregate(scope, top) for _ in range(r.randint(1, 3))]
        sql = f'SELECT {select_list(items)}\nFROM {frm}{self.where(scope)}'
        if keys:
            listed = ', '.join(e for e, _ in keys)
            shape = r.random()
            if shape < 0.1:
                listed = f'ROLLUP ({listed})'
            elif shape < 0.15:
                listed = f'CUBE ({listed})'
            elif shape < 0.2:
                listed = f'GROUPING SETS (({listed}), ({keys[0][0]}), ())'
            sql += '\nGROUP BY ' + listed
        if r.random() < 0.35:
            agg, ty = self.aggregate(scope, top=False, types=['int', 'num'])
            sql += f'\nHAVING {agg} {r.choice([">", ">=", "<", "<>"])} {self.literal(ty)}'
        return sql, [(f'c{i}', t) for i, (_, t) in enumerate(items, 1)]

    def group_key(self, scope):
        """A column, or an expression over columns (a constant would be a GROUP BY position)."""
        if self.rng.random() < 0.7:
            return self.rng.choice(scope)
        while True:
            ty = self.scope_type(scope)
            e = self.expr(ty, scope, 1)
            if any(c in e for c, _ in scope):
                return e, ty

    def aggregate(self, scope, top, types=None):
        r = self.rng
        ty = r.choice(types) if types else self.ordered_type(scope)
        arg = self.expr(ty, scope, 1)
        forms = [('count(*)', 'int'), (f'count({arg})', 'int'), (f'min({arg})', ty), (f'max({arg})', ty)]
        if ty in ('int', 'num', 'float'):
            forms += [(f'sum({arg})', ty)] * 3
            forms.append((f'sum(DISTINCT {arg})', ty))
            if top:  # avg's scale may legitimately differ: never fed into other expressions
                forms.append((f'avg({arg})', 'avg'))
        if top and ty in ('int', 'num'):
            forms.append((f'avg(DISTINCT {arg})', 'avg'))
        columns = [c for c, t in scope if t in ('int', 'num')]
        if top and columns:
            # Of a column: exact sums, equal to PostgreSQL's to its scale. (Of a quotient,
            # PostgreSQL's scale grows past the 38 digits of Kiln's NUMERIC.)
            fn = r.choice(['stddev', 'stddev_pop', 'variance', 'var_pop'])
            forms.append((f'{fn}({r.choice(columns)})', 'avg'))
        if top and ty in ('int', 'text', 'date'):
            # Ordered by the value (and maybe a column first): equal sort keys then have equal
            # values, so the text is PostgreSQL's whatever order it meets ties in.
            value = f'({arg})::text'
            order = f'{value}{r.choice(["", " DESC"])}'
            if r.random() < 0.5:
                col, _ = r.choice(scope)
                order = f'{col}{r.choice(["", " DESC", " NULLS FIRST", " DESC NULLS LAST"])}, {order}'
                forms.append((f"string_agg({value}, '{r.choice([',', ' | ', ''])}' ORDER BY {order})", 'text'))
            else:
                distinct = r.choice(['', 'DISTINCT '])
                forms.append((f"string_agg({distinct}{value}, ',' ORDER BY {order})", 'text'))
        if top and ty in ('int', 'num', 'text', 'date'):
            # Ordered by the value: tied elements are equal (NULLs too, as null elements). A
            # string literal is typed: PostgreSQL takes no unknown in a polymorphic argument.
            if ty == 'text':
                arg = f'({arg})::text'
            # A NUMERIC quotient's text has Kiln's scale, not PostgreSQL's (README): of numbers,
            # a column.
            if ty == 'num':
                arg = r.choice([c for c, t in scope if t == 'num'] or ['1.5'])
            direction = r.choice(['', ' DESC', ' NULLS FIRST', ' DESC NULLS LAST'])
            distinct = r.choice(['', 'DISTINCT '])
            forms.append((f'(jsonb_agg({distinct}{arg} ORDER BY {arg}{direction}))::text', 'text'))
            forms.append((f'(array_agg({distinct}{arg} ORDER BY {arg}{direction}))::text', 'text'))
            # One member per key: a duplicate key keeps the value last in the order.
            key = f"coalesce(({r.choice(scope)[0]})::text, 'none')"
            forms.append((f'(jsonb_object_agg({key}, {arg} ORDER BY {key}, {arg}{direction}))'
                          '::text', 'text'))
        return r.choice(forms)

    def view(self, name):
        """A staging view over one table: all its columns, one derived column and a filter."""
        table = self.rng.choice(sorted(GEN_TABLES))
        scope = GEN_TABLES[table]
        ty = self.scope_type(scope)
        sql = (f"SELECT *, {self.expr(ty, scope)} AS e\nFROM {{{{ source('gen', '{table}') }}}}"
               f"{self.where(scope)}")
        self.views[name] = scope + [('e', ty)]
        return sql


def generate_project(rng, count, workdir):
    """A project over GEN_SOURCES with two staging views and `count` random sink models."""
    root = workdir / 'generated'
    (root / 'models').mkdir(parents=True)
    (root / 'kiln_project.yml').write_text(GEN_PROJECT)
    (root / 'models' / 'sources.yml').write_text(GEN_SOURCES)
    gen = QueryGen(rng)
    for i, materialization in enumerate(['view', 'ephemeral'], 1):
        sql = gen.view(f'v{i}')
        (root / 'models' / f'v{i}.sql').write_text(f"{{{{ config(materialized='{materialization}') }}}}\n{sql}\n")
    for i in range(1, count + 1):
        sql, _ = gen.select()
        (root / 'models' / f'g{i:02}.sql').write_text(f"{{{{ config(materialized='sink') }}}}\n{sql}\n")
    return root


# ---------------------------------------------------------------------------------------------
# Driver

def self_test():
    """Checks that compare() and the value rules catch what they must, on made-up outputs."""
    columns = [('a', Kind('int')), ('x', Kind('numeric')), ('f', Kind('float'))]
    p = Project('selftest', Path(), Path(), [], [], {'s': columns})
    row = lambda a, x, f='0.5': {'a': a, 'x': Decimal(x), 'f': Decimal(f)}  # as json.loads makes them
    cases = [  # (expected failure kind or None, PostgreSQL rows per tick, Kiln changes per tick, errors)
        (None, [[['1', '2.50', '0.5']]], [[(1, row(1, '2.5'))]]),
        (None, [[['1', '0.33333333333333333333', '0.5']]], [[(1, row(1, '0.333333'))]]),
        (None, [[['1', '2', '0.30000000000000004']]], [[(1, row(1, '2', '0.3'))]]),
        (None, [[['1', '2', '0.5']], [['1', '2', '0.5']]], [[(1, row(1, '2'))], []]),
        (None, [[['1', '2', '0.5']], []], [[(1, row(1, '2'))], [(-1, row(1, '2.00'))]]),
        ('rows', [[['1', '2.50', '0.5']]], [[(1, row(1, '2.51'))]]),
        ('rows', [[['1', '0.33333333333333333333', '0.5']]], [[(1, row(1, '0.333334'))]]),
        ('rows', [[['1', '2', '0.5'], ['1', '2', '0.5']]], [[(1, row(1, '2'))]]),
        ('rows', [[['1', '2', '0.5']]], [[(1, row(1, '2', '0.5000001'))]]),
        ('rows', [[['1', '\\N', '0.5']]], [[(1, row(1, '0'))]]),
        ('rows', [[['1', '2', '0.5']]], [[(1, {'a': 1, 'x': '2', 'f': 0.5})]]),  # a string for a number
        ('rows', [[]], [[(1, {'a': 1, 'x': 2})]]),
        ('rows', [[['1', '2', '0.5']]], [[(1, row(1, '2')), (-1, row(1, '2.0'))]]),
        ('rows', [[['1', '2', '0.5']], [['1', '2', '0.5']]],
         [[(1, row(1, '2'))], [(-1, row(1, '2')), (1, row(1, '2'))]]),
        ('rows', [[], []], [[(1, row(1, '2'))], [(-2, row(1, '2'))]]),
        (None, [[], []], [[], []], SideError(2, '', 'runtime', 'x'), SideError(2, '', 'runtime', 'y')),
        ('pg-error', [[], []], [[], []], SideError(2, '', 'runtime', 'x'), None),
        ('kiln-error', [[], []], [[], []], None, SideError(1, 's', 'runtime', 'y')),
        ('crash', [[]], [[]], None, SideError(None, '', 'crash', 'z')),
    ]
    bad = 0
    # Aggregated texts: numbers equal but for trailing zeros match, other numbers do not.
    texts = [('{"k": 2.5}', '{"k": 2.50}', True), ('{1.50,NULL}', '{1.5,NULL}', True),
             ('[10, 2.0]', '[1, 2]', False), ('{1.51}', '{1.5}', False),
             ('2.50', '2.5', False)]  # a text that is not an array or JSON: exact
    for a, b, same in texts:
        if values_match(a, b) != same:
            bad += 1
            log(f'self-test: values_match({a!r}, {b!r}) is not {same}')
    cases_checked = len(cases) + len(texts)
    for expected, pg_ticks, kiln_ticks, *errors in cases:
        pg_errors = errors or [None, None]
        views = {(t, 's'): rows for t, rows in enumerate(pg_ticks, 1)}
        changes = {(t, 's'): rows for t, rows in enumerate(kiln_ticks, 1)}
        failure = compare(p, len(pg_ticks), views, pg_errors[0], changes, pg_errors[1])
        if (failure and failure.kind) != expected:
            bad += 1
            log(f'self-test: expected {expected}, got {failure and failure.report()}: {pg_ticks} {kiln_ticks}')
    log(f'self-test: {cases_checked - bad} of {cases_checked} cases behave')
    return bad == 0


def build_variant(kiln, project, keep, workdir):
    """The project rebuilt with only the sink models in `keep` (plus every model they, or the
    other models, ref), comparing only those sinks."""
    files = {p.stem: p for p in project.dir.rglob('*.sql') if 'target' not in p.relative_to(project.dir).parts}
    refs = {name: re.findall(r"ref\(\s*['\"](\w+)['\"]\s*\)", path.read_text()) for name, path in files.items()}
    needed, todo = set(), list(keep) + [m for m in files if m not in project.sinks]
    while todo:
        model = todo.pop()
        if model not in needed:
            needed.add(model)
            todo += refs.get(model, [])
    dest = Path(tempfile.mkdtemp(dir=workdir, prefix='variant-')) / project.dir.name
    shutil.copytree(project.dir, dest, ignore=shutil.ignore_patterns('target'))
    for name, path in files.items():
        if name not in needed:
            (dest / path.relative_to(project.dir)).unlink()
    built = run([kiln, 'build', dest])
    if built.returncode != 0:
        raise SetupError(f'kiln build of {project.name} with sinks {keep} failed:\n{built.stderr}')
    return replace(project, dir=dest, binary=dest / 'target' / project.name,
                   sinks={s: project.sinks[s] for s in keep})


def isolate_crash(kiln, variant, check, ticks, workdir):
    """Bisects the sink models for one that crashes Kiln on its own: (name, variant with only
    it), or ('', None)."""
    def crashes(sinks):
        single = build_variant(kiln, variant, sinks, workdir)
        failure = check(single, ticks)
        return single if failure is not None and failure.kind == 'crash' else None

    candidates = list(variant.sinks)
    while len(candidates) > 1:
        half = len(candidates) // 2
        candidates = candidates[:half] if crashes(candidates[:half]) else candidates[half:]
    single = crashes(candidates)
    return (candidates[0], single) if single else ('', None)


def run_project(args, pg, project, seed, workdir, shrunk):
    """One (project, seed) run; True if Kiln agrees with PostgreSQL after every tick. After a
    failure of one model, testing goes on without it (up to --max-failures)."""
    start = time.monotonic()
    rng = random.Random(f'{seed}/{project.name}')
    gen = ChangeGen(rng, project.tables, project.sql)
    ticks = [gen.tick(args.changes_per_tick, initial=i == 0) for i in range(args.ticks)]
    records = sum(map(len, ticks))

    def check(variant, candidate):
        candidate = normalize(candidate, project.tables)
        pg_views, pg_error = pg.evaluate(variant, candidate)
        kiln_changes, kiln_error = run_kiln(variant, candidate, workdir)
        return compare(variant, len(candidate), pg_views, pg_error, kiln_changes, kiln_error)

    variant, failures = project, []
    while variant.sinks and len(failures) < args.max_failures:
        failure = check(variant, ticks)
        if failure is None:
            break
        failures.append(failure)
        log(f'FAIL {project.name} seed={seed} ({len(ticks)} ticks, {records} records)\n{failure.report()}')
        single = replace(variant, sinks={failure.sink: variant.sinks[failure.sink]}) if failure.sink else variant
        if failure.kind == 'crash' and not failure.sink:
            log('looking for the model that crashes Kiln...')
            failure.sink, found = isolate_crash(args.kiln, variant, check, ticks, workdir)
            log(f'model {failure.sink} alone crashes Kiln' if found else 'no single model crashes Kiln')
            single = found or variant
        if model := next((m for m in project.models if m[0] == failure.sink), None):
            log(f'model {model[0]} ({model[1]}):\n{model[2]}')
        key = (project.name, seed if project.generated else None, failure.signature())
        if key in shrunk:
            log('(the same model failed the same way with an earlier seed: not shrunk again)')
        else:
            shrunk.add(key)
            shrink_and_report(args, project, seed, single, ticks, failure, check)
        if not failure.sink:
            break
        rest = [s for s in variant.sinks if s != failure.sink]
        if failure.kind in ('crash', 'kiln-error'):  # Kiln stopped: rebuild without the model
            variant = build_variant(args.kiln, variant, rest, workdir) if rest else replace(variant, sinks={})
        else:
            variant = replace(variant, sinks={s: variant.sinks[s] for s in rest})
    elapsed = f'{time.monotonic() - start:.1f}s'
    if not failures:
        log(f'PASS {project.name} seed={seed}: {len(ticks)} ticks, {records} records, '
            f'{len(project.sinks)} sinks ({elapsed})')
    else:
        untested = '' if failure is None or not variant.sinks else ', untested: ' + ' '.join(variant.sinks)
        log(f'FAIL {project.name} seed={seed}: failing models: '
            f'{" ".join(f.sink or "?" for f in failures)}{untested} ({elapsed})')
    return not failures


def shrink_and_report(args, project, seed, variant, ticks, failure, check):
    log(f'shrinking (at most {args.shrink_seconds:g} s)...')
    small, runs, timed_out = shrink(lambda c: check(variant, c), ticks, failure, args.shrink_seconds)
    small = normalize(small, project.tables)
    final = check(variant, small)
    path = Path(tempfile.gettempdir()) / f'kiln-difftest-{project.name}-{seed}-{failure.sink or "all"}.jsonl'
    path.write_text(changes_text(small), encoding='utf-8')
    log(f'smallest failing sequence after {runs} runs{" (time budget reached)" if timed_out else ""}: '
        f'{len(small)} ticks, {sum(map(len, small))} records, saved to {path}:')
    log(changes_text(small).rstrip())
    log(final.report() if final else '(it no longer fails on its own: flaky?)')


def prepare(args, pg, source_dir, workdir, generated):
    project = build_project(args.kiln, source_dir, workdir, drop_failing=generated)
    project.generated = generated
    pg.setup(project, skip_bad_models=generated)
    if not project.sinks:
        raise SetupError(f'{project.name} has no sink models')
    return project


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seed', type=int, nargs='+', help='seeds (default: one random seed)')
    parser.add_argument('--ticks', type=int, default=20)
    parser.add_argument('--changes-per-tick', type=int, default=4,
                        help='at most this many changes per source and tick')
    parser.add_argument('--projects', type=Path, nargs='*',
                        help='project folders (default: every folder of examples/; none if given empty)')
    parser.add_argument('--generated', type=int, default=20,
                        help='sink models of the generated project, one per seed (0: none)')
    parser.add_argument('--kiln', type=Path, default=ROOT / 'build' / 'tools' / 'kiln' / 'kiln')
    parser.add_argument('--pg-url', default=None, help='default: the URL of pg.sh')
    parser.add_argument('--shrink-seconds', type=float, default=60)
    parser.add_argument('--max-failures', type=int, default=3,
                        help='failing models after which a (project, seed) run stops')
    parser.add_argument('--keep', action='store_true', help='keep the temporary folders')
    parser.add_argument('--self-test', action='store_true', help='check the comparison on made-up outputs, then exit')
    args = parser.parse_args()
    if args.self_test:
        sys.exit(0 if self_test() else 1)
    args.kiln = args.kiln.resolve()
    seeds = args.seed or [random.randrange(1, 1 << 31)]
    log(f'seeds: {" ".join(map(str, seeds))}')
    projects = args.projects if args.projects is not None else sorted(
        p for p in (ROOT / 'examples').iterdir()
        if (p / 'kiln_project.yml').exists() or (p / 'dbt_project.yml').exists())
    url = args.pg_url or run([Path(__file__).parent / 'pg.sh', 'url']).stdout.strip()
    pg = Postgres(url)
    if pg.psql('SELECT 1;').returncode != 0:
        sys.exit(f'difftest: PostgreSQL is not reachable at {url} (start it with pg.sh start)')

    workdir = Path(tempfile.mkdtemp(prefix='kiln-difftest-'))
    results, shrunk = [], set()

    def run_seeds(source_dir, seeds, generated):
        run_dir = Path(tempfile.mkdtemp(dir=workdir, prefix=source_dir.name + '-'))
        try:
            project = prepare(args, pg, source_dir, run_dir, generated)
        except SetupError as e:
            log(f'FAIL {source_dir.name} (seeds {" ".join(map(str, seeds))}): {e}')
            results.extend([False] * len(seeds))
            return
        results.extend(run_project(args, pg, project, seed, run_dir, shrunk) for seed in seeds)
        pg.drop(project)

    try:
        for source_dir in projects:  # built once, run with every seed
            run_seeds(source_dir, seeds, False)
        for seed in seeds if args.generated > 0 else []:  # a new project per seed
            gen_dir = workdir / f'gen-{seed}'
            gen_dir.mkdir()
            run_seeds(generate_project(random.Random(seed), args.generated, gen_dir), [seed], True)
    finally:
        if args.keep:
            log(f'kept {workdir}')
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    passed, failed = results.count(True), results.count(False)
    log(f'{passed} passed, {failed} failed')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
