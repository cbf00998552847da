#!/usr/bin/env bash
# delivered-ticks.test's steps, beside the mock cluster ($KAFKA_BROKERS).
set -euo pipefail
t=$1
B=$KAFKA_BROKERS
kcat -b "$B" -t in -P -l "$t/input.jsonl"
quiet=()
for sink in customer_lifetime_value product_sales revenue_by_region_day top_categories; do
  quiet+=(--sink "$sink=file:/dev/null")
done
run() { # run GROUP TOPIC
  (cd "$t" && ./shop --input "kafka://$B/in" --stop-at-end --tick-interval 3600 --kafka-group "$1" \
    --kafka-transactional-id "txn-$1" "${quiet[@]}" --sink "customer_open_orders=kafka://$B/$2")
}
run reference ref
# The input's offset after tick 40's commit record.
n=$(grep -n '"op":"commit"' "$t/input.jsonl" | sed -n 40p | cut -d: -f1)
timeout 30 kcat -b "$B" -G delivered -o beginning -c "$n" -q in > /dev/null
run delivered run
kcat -b "$B" -t ref -C -e -q -o beginning |
  python3 -c 'import json,sys; [print(l, end="") for l in sys.stdin if json.loads(l)["tick"] > 40]' |
  sort > "$t/expected"
kcat -b "$B" -t run -C -e -q -o beginning | sort > "$t/got"
echo "reference messages after tick 40: $(wc -l < "$t/expected")"
echo "resumed run's messages: $(wc -l < "$t/got")"
