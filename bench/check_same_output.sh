#!/usr/bin/env bash
# Checks that bench/shop_baseline computes exactly what the Kiln binary of examples/shop computes:
# on small generated inputs (several seeds, dense enough that groups, joins and MIN/MAX see many
# retractions), both write the same changes per tick and sink (compared after sorting; byte
# equality is reported too). Then, unless --no-pg, both are checked against PostgreSQL: the sum
# of the changes up to a tick must equal the sink views recomputed by PostgreSQL at that tick.
#
#   bash bench/check_same_output.sh [--no-pg] [--records N]
#
# Exits non-zero on any difference. Environment: BUILD_DIR (default build-bench), PG_PORT.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PG=1
RECORDS=30000
while [ $# -gt 0 ]; do
  case $1 in
    --no-pg) PG=0 ;;
    --records) RECORDS=$2; shift ;;
    *) echo "usage: $0 [--no-pg] [--records N]" >&2; exit 1 ;;
  esac
  shift
done

bench_build
WORK=$(mktemp -d /tmp/kiln-bench-check.XXXXXX)
cleanup() { pg_stop; rm -rf "$WORK"; }
trap cleanup EXIT

"$KILN" build -o "$WORK/shop" "$ROOT/examples/shop"
SINKS=$(sinks_of "$WORK/shop")

# run NAME PROGRAM INPUT [FLAGS...]: each sink into $WORK/NAME.SINK
run() {
  local name=$1 program=$2 input=$3
  shift 3
  local args=()
  for s in $SINKS; do args+=(--sink "$s=file:$WORK/$name.$s"); done
  "$program" --input "$input" "${args[@]}" "$@"
}

status=0
compare() {  # compare LABEL
  local label=$1 same=1 exact=1 lines=0
  for s in $SINKS; do
    lines=$((lines + $(wc -l < "$WORK/kiln.$s")))
    if ! cmp -s "$WORK/kiln.$s" "$WORK/base.$s"; then
      exact=0
      if ! diff <(sort "$WORK/kiln.$s") <(sort "$WORK/base.$s") > "$WORK/diff.$s"; then
        same=0
        echo "$label: $s differs (< kiln, > baseline):"
        head -10 "$WORK/diff.$s"
      fi
    fi
  done
  if [ $same = 1 ]; then
    echo "$label: same output ($lines changes$([ $exact = 1 ] && echo ', byte for byte'))"
  else
    status=1
  fi
}

for seed in 1 2 3; do
  "$GEN" --records "$RECORDS" --commit-every 500 --customers 300 --products 60 --seed $seed \
    -o "$WORK/in.$seed.jsonl"
  run kiln "$WORK/shop" "$WORK/in.$seed.jsonl"
  run base "$BASELINE" "$WORK/in.$seed.jsonl"
  compare "seed $seed"
done
# Ticks cut by --tick-size as well as by commit records.
run kiln "$WORK/shop" "$WORK/in.1.jsonl" --tick-size 333
run base "$BASELINE" "$WORK/in.1.jsonl" --tick-size 333
compare "seed 1, --tick-size 333"
# The example's own change stream.
run kiln "$WORK/shop" "$ROOT/examples/shop/data/changes.jsonl"
run base "$BASELINE" "$ROOT/examples/shop/data/changes.jsonl"
compare "examples/shop/data/changes.jsonl"

if [ $PG = 1 ]; then
  pg_start
  "$KILN" compile "$ROOT/examples/shop" > "$WORK/compiled.sql"
  for seed in 1 2; do
    "$PG_REPLAY" --conninfo "$PG_CONNINFO" --compile "$WORK/compiled.sql" \
      --input "$WORK/in.$seed.jsonl" --every 7 --snapshots "$WORK/pg.$seed.jsonl" >/dev/null
    run kiln "$WORK/shop" "$WORK/in.$seed.jsonl"
    run base "$BASELINE" "$WORK/in.$seed.jsonl"
    for who in kiln base; do
      files=()
      for s in $SINKS; do files+=("$WORK/$who.$s"); done
      echo -n "seed $seed, $who vs PostgreSQL: "
      python3 "$BENCH_DIR/check_contract.py" "$WORK/pg.$seed.jsonl" "${files[@]}" || status=1
    done
  done
fi

[ $status = 0 ] && echo "check_same_output: OK" || echo "check_same_output: FAILED"
exit $status
