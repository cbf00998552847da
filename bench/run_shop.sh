#!/usr/bin/env bash
# The shop benchmark (bench/README.md): examples/shop's Kiln binary against hand-written C++
# (bench/shop_baseline.cpp) and PostgreSQL recomputing the sink views, on one generated change
# stream, in one run. Prints ratios; absolute seconds depend on the machine and its load.
#
#   bash bench/run_shop.sh [--records N] [--commit-every T] [--seed S] [--repeat R]
#                          [--kiln-repeat R] [--pg-every K] [--no-pg] [--callgrind N]
#
#   --records N       change records (default 1000000); --commit-every T: a tick every T (10000)
#   --repeat R        runs of the Kiln binary, the baseline and each `kiln build` (default 3);
#                     the median is reported; --kiln-repeat R: runs of the Kiln binary only
#   --pg-every K      PostgreSQL recomputes the views after every K-th tick (default 10); the time
#                     per tick is extrapolated to every tick (see the output)
#   --callgrind N     also count instructions (valgrind --tool=callgrind) of the Kiln binary and
#                     the baseline on an N-record input of the same shape (customers, products and
#                     tick size scaled down with N): stable on a busy machine
#
# Environment: BUILD_DIR (default build-bench), PG_PORT (default 55433), JOBS (default 2),
# KEEP=1 keeps the input and every output in /tmp/kiln-bench-shop.*.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RECORDS=1000000
COMMIT_EVERY=10000
SEED=1
REPEAT=3
PG_EVERY=10
PG=1
CALLGRIND=0
KILN_REPEAT=
while [ $# -gt 0 ]; do
  case $1 in
    --records) RECORDS=$2; shift ;;
    --commit-every) COMMIT_EVERY=$2; shift ;;
    --seed) SEED=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    --kiln-repeat) KILN_REPEAT=$2; shift ;;
    --pg-every) PG_EVERY=$2; shift ;;
    --no-pg) PG=0 ;;
    --callgrind) CALLGRIND=$2; shift ;;
    *) sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 1 ;;
  esac
  shift
done
KILN_REPEAT=${KILN_REPEAT:-$REPEAT}

echo "== building (ninja -j$JOBS)"
bench_build
WORK=$(mktemp -d /tmp/kiln-bench-shop.XXXXXX)
cleanup() { pg_stop; if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT


echo "== kiln build (median of $REPEAT)"
for project in shop marketplace; do
  repeat_timed "$REPEAT" "$WORK/build.$project" "$KILN" build -o "$WORK/$project" "$ROOT/examples/$project"
done

echo "== generating $RECORDS change records, a commit every $COMMIT_EVERY (seed $SEED)"
INPUT=$WORK/shop-$RECORDS.jsonl
"$GEN" --records "$RECORDS" --commit-every "$COMMIT_EVERY" --seed "$SEED" -o "$INPUT"
TICKS=$(grep -c '"op":"commit"' "$INPUT")
echo "   $(du -h "$INPUT" | cut -f1) in $INPUT, $TICKS ticks"

SINKS=$(sinks_of "$WORK/shop")
sink_args() {  # sink_args PREFIX: every sink into PREFIX.SINK
  for s in $SINKS; do echo "--sink" "$s=file:$1.$s"; done
}

echo "== Kiln binary (examples/shop), $KILN_REPEAT runs, and hand-written C++ (bench/shop_baseline.cpp), $REPEAT runs, alternating"
# Alternating runs meet the same minutes of a shared machine, whose speed drifts by tens of
# percent: the ratio of the medians is then steadier than when one program runs after the other.
: > "$WORK/t.kiln"
: > "$WORK/t.base"
for i in $(seq "$(( KILN_REPEAT > REPEAT ? KILN_REPEAT : REPEAT ))"); do
  if [ "$i" -le "$KILN_REPEAT" ]; then
    # shellcheck disable=SC2046
    timed "$WORK/shop" --input "$INPUT" $(sink_args "$WORK/out.kiln") >> "$WORK/t.kiln"
  fi
  if [ "$i" -le "$REPEAT" ]; then
    # shellcheck disable=SC2046
    timed "$BASELINE" --input "$INPUT" $(sink_args "$WORK/out.base") >> "$WORK/t.base"
  fi
done
SAME=yes
for s in $SINKS; do cmp -s "$WORK/out.kiln.$s" "$WORK/out.base.$s" || SAME=NO; done
CHANGES_OUT=$(cat "$WORK"/out.kiln.* | wc -l)

if [ $PG = 1 ]; then
  echo "== PostgreSQL $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1 | grep -o '[0-9]*' | head -1): load every tick, recompute the sink views after every ${PG_EVERY}th"
  pg_start
  "$KILN" compile "$ROOT/examples/shop" > "$WORK/compiled.sql"
  PG_LINE=$("$PG_REPLAY" --conninfo "$PG_CONNINFO" --compile "$WORK/compiled.sql" \
    --input "$INPUT" --every "$PG_EVERY" --output "$WORK/out.pg")
  pg_stop
  pg_field() { echo "$PG_LINE" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
fi

if [ "$CALLGRIND" -gt 0 ]; then
  echo "== callgrind, $CALLGRIND records"
  # The same shape as the full stream: customers and products scale with the records.
  "$GEN" --records "$CALLGRIND" --commit-every "$(( COMMIT_EVERY * CALLGRIND / RECORDS > 100 ? COMMIT_EVERY * CALLGRIND / RECORDS : 100 ))" \
    --customers "$(( CALLGRIND / 100 > 50 ? CALLGRIND / 100 : 50 ))" \
    --products "$(( CALLGRIND / 1000 > 10 ? CALLGRIND / 1000 : 10 ))" --seed "$SEED" -o "$WORK/small.jsonl"
  instructions() {  # instructions NAME PROGRAM
    # shellcheck disable=SC2046
    valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$1" "$2" --input "$WORK/small.jsonl" \
      $(sink_args "$WORK/cg-out.$1") >/dev/null 2>&1
    sed -n 's/^totals: //p;s/^summary: //p' "$WORK/cg.$1" | head -1 | awk '{ print $1 }'
  }
  IR_KILN=$(instructions kiln "$WORK/shop")
  IR_BASE=$(instructions base "$BASELINE")
fi

# ---- report ----
KW=$(col "$WORK/t.kiln" 1); KC=$(col "$WORK/t.kiln" 2); KM=$(col "$WORK/t.kiln" 3)
BW=$(col "$WORK/t.base" 1); BC=$(col "$WORK/t.base" 2); BM=$(col "$WORK/t.base" 3)
echo
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD -- compiler runtime stdlib 2>/dev/null || COMMIT="$COMMIT + uncommitted changes"
echo "examples/shop: $RECORDS change records in $TICKS ticks ($CHANGES_OUT changes out), Kiln at $COMMIT"
echo "$(nproc) cores shared with other work"
echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo
PW=0; PC=0
if [ $PG = 1 ]; then PW=$(pg_field est_wall); PC=$(pg_field est_cpu); fi
awk -v n="$RECORDS" -v kw="$KW" -v kc="$KC" -v bw="$BW" -v bc="$BC" -v r="$REPEAT" -v kr="$KILN_REPEAT" \
    -v km="$KM" -v bm="$BM" -v pg="$PG" -v pw="$PW" -v pc="$PC" 'BEGIN {
  printf "%-34s %10s %10s %14s %14s %12s\n", "", "wall s", "CPU s", "changes/s wall", "changes/s CPU", "max RSS MB"
  printf "%-34s %10.2f %10.2f %14.0f %14.0f %12.0f\n", "Kiln binary (median of " kr ")", kw, kc, n / kw, n / kc, km
  printf "%-34s %10.2f %10.2f %14.0f %14.0f %12.0f\n", "hand-written C++ (median of " r ")", bw, bc, n / bw, n / bc, bm
  if (pg == 1)
    printf "%-34s %10.2f %10.2f %14.0f %14.0f\n", "PostgreSQL (extrapolated)", pw, pc, n / pw, n / pc
  print ""
  printf "Kiln / hand-written C++ throughput: %.3f wall, %.3f CPU (Kiln takes %.1fx the CPU time)\n", bw / kw, bc / kc, kc / bc
  printf "Kiln / hand-written C++ max RSS:    %.2fx\n", km / bm
  if (pg == 1)
    printf "Kiln / PostgreSQL throughput:       %.3f wall, %.3f CPU\n", pw / kw, pc / kc
}'
echo "Kiln and hand-written outputs identical: $SAME"
echo
echo "Kiln's state at the end of the input (--stats: the operators' state descriptors):"
# shellcheck disable=SC2046
"$WORK/shop" --input "$INPUT" $(sink_args "$WORK/out.stats") --stats 2>&1 >/dev/null | sed 's/^/  /'

if [ $PG = 1 ]; then
  echo "PostgreSQL: $(pg_field ticks) ticks loaded in $(pg_field load_wall) s wall ($(pg_field load_cpu) s CPU);"
  echo "  recomputing the 5 sink views took $(pg_field query_wall_mean) s wall ($(pg_field query_cpu_mean) s CPU) per tick,"
  echo "  mean of $(pg_field samples) sampled ticks (every ${PG_EVERY}th and the last); extrapolated: load + ticks x mean."
  echo "  CPU: the server backend's plus the client's; parallel query off (one core, like Kiln)."
fi
if [ "$CALLGRIND" -gt 0 ]; then
  awk -v k="$IR_KILN" -v b="$IR_BASE" -v n="$CALLGRIND" 'BEGIN {
    printf "callgrind, %d records: Kiln %.0f instructions (%.0f per change), hand-written %.0f (%.0f per change): ratio %.2f\n", n, k, k / n, b, b / n, k / b }'
fi
echo
printf "kiln build examples/shop:        %.2f s wall, %.2f s CPU (median of %d)\n" "$(col "$WORK/build.shop" 1)" "$(col "$WORK/build.shop" 2)" "$REPEAT"
printf "kiln build examples/marketplace: %.2f s wall, %.2f s CPU (median of %d)\n" "$(col "$WORK/build.marketplace" 1)" "$(col "$WORK/build.marketplace" 2)" "$REPEAT"
