#!/usr/bin/env python3
"""Upgrades of random projects: a checkpoint of one build resumed by another must leave every
sink holding what an uninterrupted run of the new build holds.

Per seed: a generated project (difftest's generator: sources, staging views and random sink
models) is the new build; the old build drops some of its sink models (new in the upgrade),
replaces others by other random queries (changed) and has one more (dropped). The old build runs
over the first ticks of random changes with a checkpoint after every tick; the new build resumes
from that checkpoint over all ticks; a fresh run of the new build over all ticks is the oracle.
The accumulated sink contents must be equal, row for row. Seeds where a build rejects a generated
model or a run stops on a SQL runtime error are skipped (and counted).

  tests/upgrade/upgrade_fuzz.py --seed 1 2 3 [--models 12] [--ticks 12]
"""
import argparse
import random
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
import json

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'difftest'))
import difftest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def sink_sums(paths):
    """Every sink's changes summed by row (what a reader who applies them all holds)."""
    totals = Counter()
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(encoding='utf-8').splitlines():
            if line.strip():
                change = json.loads(line)
                totals[(change['sink'], json.dumps(change['row'], sort_keys=True))] += change['weight']
    return {k: v for k, v in totals.items() if v != 0}


def run_binary(binary, input_path, sinks, outdir, prefix, checkpoint_dir=None):
    cmd = [binary, '--input', input_path]
    for sink in sinks:
        cmd += ['--sink', f'{sink}=file:{outdir / (prefix + sink)}']
    if checkpoint_dir:
        cmd += ['--checkpoint-dir', checkpoint_dir, '--checkpoint-every', '1']
    return difftest.run(cmd, timeout=300)


def one_seed(kiln, seed, args, workdir):
    """'pass', 'skip: why' or 'FAIL: why'."""
    rng = random.Random(seed)
    gen_dir = workdir / 'gen'
    gen_dir.mkdir()
    src = difftest.generate_project(rng, args.models, gen_dir)
    try:
        new = difftest.build_project(kiln, src, workdir / 'new', drop_failing=True)
    except difftest.SetupError as e:
        return f'skip: {e}'
    sinks = [name for name, mat, _ in new.models if mat == 'sink']
    if len(sinks) < 3:
        return 'skip: fewer than 3 sink models'

    # The old build: some sinks missing, some with other queries, one more.
    old_dir = workdir / 'old' / new.dir.name
    shutil.copytree(new.dir, old_dir, ignore=shutil.ignore_patterns('target'))
    shuffled = sinks[:]
    rng.shuffle(shuffled)
    missing, changed = shuffled[:len(sinks) // 4 or 1], shuffled[len(sinks) // 4 or 1:][:len(sinks) // 4 or 1]
    query = difftest.QueryGen(rng)
    for name in missing:
        (old_dir / 'models' / f'{name}.sql').unlink()
    for name in changed:
        sql, _ = query.select()
        (old_dir / 'models' / f'{name}.sql').write_text(f"{{{{ config(materialized='sink') }}}}\n{sql}\n")
    sql, _ = query.select()
    (old_dir / 'models' / 'gone.sql').write_text(f"{{{{ config(materialized='sink') }}}}\n{sql}\n")
    built = difftest.run([kiln, 'build', old_dir])
    if built.returncode != 0:
        return 'skip: the old build rejects a generated model'
    old_binary = old_dir / 'target' / new.name
    old_sinks = [s for s in sinks if s not in missing] + ['gone']

    changes = difftest.ChangeGen(rng, new.tables, new.sql)
    ticks = [changes.tick(args.changes_per_tick, initial=i == 0) for i in range(args.ticks)]
    cut = rng.randrange(1, len(ticks))
    input_path = workdir / 'in.jsonl'
    checkpoint_dir = workdir / 'ck'
    out = workdir / 'out'
    out.mkdir()

    input_path.write_text(difftest.changes_text(ticks[:cut]), encoding='utf-8')
    first = run_binary(old_binary, input_path, old_sinks, out, 'run.', checkpoint_dir)
    if first.returncode == 3:
        return 'skip: a SQL runtime error in the old build'
    if first.returncode != 0:
        return f'FAIL: the old build exited with {first.returncode}: {first.stderr[-2000:]}'

    input_path.write_text(difftest.changes_text(ticks), encoding='utf-8')
    resumed = run_binary(new.binary, input_path, sinks, out, 'run.', checkpoint_dir)
    reference = run_binary(new.binary, input_path, sinks, out, 'ref.')
    if reference.returncode == 3 or resumed.returncode == 3:
        if reference.returncode == resumed.returncode:
            return 'skip: a SQL runtime error in the new build'
    if resumed.returncode != 0 or reference.returncode != 0:
        return (f'FAIL: resumed run exited with {resumed.returncode}, fresh run with '
                f'{reference.returncode}:\n{resumed.stderr[-2000:]}\n{reference.stderr[-2000:]}')
    got = sink_sums([out / f'run.{s}' for s in sinks])
    want = sink_sums([out / f'ref.{s}' for s in sinks])
    if got != want:
        diff = sorted(set(got.items()) ^ set(want.items()))[:10]
        return (f'FAIL: the sinks differ after the upgrade (tick {cut} of {len(ticks)}; new '
                f'{missing}, changed {changed}):\n' + '\n'.join(map(str, diff)) +
                f'\nupgrade plan:\n{resumed.stderr[-3000:]}')
    verdicts = Counter(line.split(': ')[1].split(':')[0].split(' ')[0].rstrip(',')
                       for line in resumed.stderr.splitlines() if line.startswith('  '))
    return 'pass (' + ', '.join(f'{n} {what}' for what, n in sorted(verdicts.items())) + ')'


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seed', type=int, nargs='+', required=True)
    parser.add_argument('--models', type=int, default=12, help='sink models per project')
    parser.add_argument('--ticks', type=int, default=12)
    parser.add_argument('--changes-per-tick', type=int, default=4)
    parser.add_argument('--kiln', type=Path, default=ROOT / 'build' / 'tools' / 'kiln' / 'kiln')
    parser.add_argument('--keep', action='store_true', help='keep the folders of failing seeds')
    args = parser.parse_args()
    kiln = args.kiln.resolve()
    outcomes = Counter()
    for seed in args.seed:
        workdir = Path(tempfile.mkdtemp(prefix=f'kiln-upgrade-{seed}-'))
        outcome = one_seed(kiln, seed, args, workdir)
        outcomes[outcome.split()[0].rstrip(':')] += 1
        log(f'seed {seed}: {outcome}')
        if outcome.startswith('FAIL') and args.keep:
            log(f'kept {workdir}')
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    log(f'{outcomes["pass"]} passed, {outcomes["skip"]} skipped, {outcomes["FAIL"]} failed')
    sys.exit(1 if outcomes['FAIL'] else 0)


if __name__ == '__main__':
    main()
