#!/usr/bin/env bash
# Checks bench/nexmark: on small generated event streams (two seeds), the hand-written programs of
# bench/nexmark_baseline.cpp write byte for byte what the Kiln binary writes for q0, q1, q2, q3,
# q4 and q9, and every query's accumulated changes equal PostgreSQL's views of the same models
# at sampled ticks (compared by value: PostgreSQL prints a quotient's scale per value).
#
#   bash bench/check_nexmark.sh [--no-pg] [--events N]
#
# Exits non-zero on any difference. Environment: BUILD_DIR (default build-bench), PG_PORT.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PG=1
EVENTS=4000
while [ $# -gt 0 ]; do
  case $1 in
    --no-pg) PG=0 ;;
    --events) EVENTS=$2; shift ;;
    *) echo "usage: $0 [--no-pg] [--events N]" >&2; exit 1 ;;
  esac
  shift
done

bench_build
WORK=$(mktemp -d /tmp/kiln-bench-nexmark-check.XXXXXX)
cleanup() { pg_stop; rm -rf "$WORK"; }
trap cleanup EXIT

cp -r "$ROOT/bench/nexmark" "$WORK/project"
rm -rf "$WORK/project/target"
"$KILN" build -o "$WORK/nexmark" "$WORK/project"
SINKS=$(sinks_of "$WORK/nexmark")
status=0
[ $PG = 1 ] && pg_start && "$KILN" compile "$WORK/project" > "$WORK/compiled.sql"
for seed in 1 2; do
  input=$WORK/in.$seed.jsonl
  "$BUILD_DIR/bench/nexmark_gen" --events "$EVENTS" --commit-every 250 --seed $seed -o "$input"
  args=()
  for s in $SINKS; do args+=(--sink "$s=file:$WORK/kiln.$s"); done
  "$WORK/nexmark" --input "$input" "${args[@]}"
  for q in q0 q1 q2 q3 q4 q9; do
    "$BUILD_DIR/bench/nexmark_baseline" --query $q --input "$input" --sink "$q=file:$WORK/hand.$q"
    if cmp -s "$WORK/kiln.$q" "$WORK/hand.$q"; then
      echo "seed $seed, $q: the hand-written program wrote the same $(wc -l < "$WORK/kiln.$q") changes"
    else
      echo "seed $seed, $q: the hand-written program's output differs (< kiln, > hand-written):"
      diff "$WORK/kiln.$q" "$WORK/hand.$q" | head -10
      status=1
    fi
  done
  if [ $PG = 1 ]; then
    "$BUILD_DIR/bench/pg_replay" --conninfo "$PG_CONNINFO" --compile "$WORK/compiled.sql" \
      --input "$input" --every 5 --snapshots "$WORK/pg.$seed.jsonl" >/dev/null
    files=()
    for s in $SINKS; do files+=("$WORK/kiln.$s"); done
    echo -n "seed $seed, every query vs PostgreSQL: "
    python3 "$BENCH_DIR/check_contract.py" --by-value "$WORK/pg.$seed.jsonl" "${files[@]}" || status=1
  fi
done
[ $status = 0 ] && echo "check_nexmark: OK" || echo "check_nexmark: FAILED"
exit $status
