#!/usr/bin/env bash
# A band join maintained two ways by the same binary build: as a range join (the range-joins
# pass: each side ordered, a change meets the other side by a range scan) and as the cross
# product a join without equalities was before it (the same model with `price + 0`, which the
# pass does not index), on the same stream: bands [lo, hi) of varying widths inserted first,
# then bids, then bands replaced. An A/B of one plan choice: prints CPU seconds of each, their
# ratio, and checks that both sinks sum to the same rows.
#
#   bash bench/run_band_join.sh [--bids N] [--bands M] [--repeat R]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIDS=100000 BANDS=20000 REPEAT=3
while [ $# -gt 0 ]; do
  case $1 in
    --bids) BIDS=$2; shift ;;
    --bands) BANDS=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
bench_build
WORK=$(mktemp -d /tmp/kiln-bench-band.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

for form in range cross; do
  mkdir -p "$WORK/$form/models"
  echo "name: band_$form" > "$WORK/$form/kiln_project.yml"
  cat > "$WORK/$form/models/sources.yml" <<'YAML'
sources:
  - name: s
    tables:
      - name: bids
        primary_key: [id]
        columns: [{name: id, data_type: int}, {name: price, data_type: int}]
      - name: bands
        columns: [{name: lo, data_type: int}, {name: hi, data_type: int}, {name: label, data_type: text}]
YAML
  price=$([ "$form" = range ] && echo "b.price" || echo "b.price + 0")
  cat > "$WORK/$form/models/banded.sql" <<SQL
{{ config(materialized='sink') }}
select g.label, count(*) as n from {{ source('s', 'bids') }} b
join {{ source('s', 'bands') }} g on $price >= g.lo and $price < g.hi group by g.label
SQL
  "$KILN" build "$WORK/$form" -o "$WORK/$form.prog" >/dev/null
done
python3 - "$WORK/input.jsonl" "$BIDS" "$BANDS" <<'PY'
import random, sys
path, bids, bands = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(1)
def band(op, i, width, label):
    return '{"table":"s.bands","op":"%s","row":{"lo":%d,"hi":%d,"label":"%s"}}\n' % (
        op, i * 100, i * 100 + width, label)
with open(path, "w") as f:
    for i in range(bands):
        f.write(band("insert", i, 100 + (i % 7) * 50, "b%d" % i))
    f.write('{"op":"commit"}\n')
    for i in range(bids):
        f.write('{"table":"s.bids","op":"insert","row":{"id":%d,"price":%d}}\n'
                % (i, random.randrange(0, bands * 100)))
        if i % 1000 == 999:
            f.write('{"op":"commit"}\n')
    for i in range(bands // 10):
        f.write(band("delete", i, 100 + (i % 7) * 50, "b%d" % i))
        f.write(band("insert", i, 150, "c%d" % i))
        if i % 10 == 9:
            f.write('{"op":"commit"}\n')
PY
for form in range cross; do
  repeat_timed "$REPEAT" "$WORK/$form.times" "$WORK/$form.prog" --input "$WORK/input.jsonl" \
    --sink "banded=file:$WORK/$form.out"
  python3 "$ROOT/tests/e2e/sum-sinks.py" "$WORK/$form.out" | sort > "$WORK/$form.sum"
done
cmp -s "$WORK/range.sum" "$WORK/cross.sum" || { echo "run_band_join: the two forms differ" >&2; exit 1; }
range_cpu=$(col "$WORK/range.times" 2) cross_cpu=$(col "$WORK/cross.times" 2)
printf 'band join, %d bids, %d bands (then %d replaced), median of %d\n' "$BIDS" "$BANDS" \
  $((BANDS / 10)) "$REPEAT"
printf '%-28s %10s %12s\n' "plan" "cpu s" "max RSS MB"
printf '%-28s %10s %12s\n' "range join" "$range_cpu" "$(col "$WORK/range.times" 3)"
printf '%-28s %10s %12s\n' "cross product + filter" "$cross_cpu" "$(col "$WORK/cross.times" 3)"
printf 'range join / cross product, throughput: %.1f (same output)\n' \
  "$(awk -v a="$cross_cpu" -v b="$range_cpu" 'BEGIN { print a / b }')"
