#!/usr/bin/env bash
# The shop example fed through Kafka in Debezium's JSON envelope (each table a topic of the
# mock cluster, tools/kiln-kafka-mock) and written to Kafka sinks (a transaction per tick),
# against the same binary reading the same envelopes from files and writing files. Prints
# records per CPU-second of the Kiln binary (user + system; the mock broker and kcat run beside
# it and are not counted) and the ratio. A third Kafka run takes its ticks from Debezium's
# transaction metadata instead (the generator's commit groups as upstream transactions, their
# END events on a transaction topic, data topics named after it), the way a Debezium pipeline
# with provide.transaction.metadata runs. No PostgreSQL or C++ baseline here: run_shop.sh
# compares those on the same workload.
#
#   bash bench/run_kafka.sh [--records N] [--repeat R]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
RECORDS=1000000
REPEAT=3
PARTITIONS=64
while [ $# -gt 0 ]; do
  case $1 in
    --records) RECORDS=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
bench_build
ninja -C "$BUILD_DIR" -j"$JOBS" kiln-kafka-mock >/dev/null
MOCK=$BUILD_DIR/tools/kiln-kafka-mock/kiln-kafka-mock
WORK=$(mktemp -d /tmp/kiln-bench-kafka.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT

"$KILN" build "$ROOT/examples/shop" -o "$WORK/shop" >/dev/null
"$GEN" --records "$RECORDS" --commit-every 1000 --seed 1 --customers $((RECORDS / 50 + 1)) \
  --products $((RECORDS / 500 + 1)) -o "$WORK/changes.jsonl"
# Each table's change records as Debezium envelopes, keyed by primary key (so that a key's events
# stay in one partition, in order): in plain/ as they are, in tx/ with transaction metadata.
KEYS=(--key shop.customers=id --key shop.products=id --key shop.orders=id
      --key shop.order_items=order_id,line)
mkdir -p "$WORK/plain" "$WORK/tx"
TABLES=$(python3 "$ROOT/tests/kafka/to_debezium.py" "$WORK/changes.jsonl" "$WORK/plain" "${KEYS[@]}")
python3 "$ROOT/tests/kafka/to_debezium.py" "$WORK/changes.jsonl" "$WORK/tx" "${KEYS[@]}" \
  --transactions dbz >/dev/null
for t in $TABLES; do cut -f2- "$WORK/plain/$t.keyed" > "$WORK/$t.dbz"; done
SINKS=$(sinks_of "$WORK/shop")
records=$(cat "$WORK"/*.dbz | wc -l)
bytes=$(cat "$WORK"/*.dbz | wc -c)

cpu_of() { # the time file: "user system elapsed"
  awk '{ printf "%.3f", $1 + $2 }' "$1"
}
run_files() {
  local args=(--tick-size 1000)
  for t in $TABLES; do args+=(--source "$t=file:$WORK/$t.dbz?format=debezium"); done
  for s in $SINKS; do args+=(--sink "$s=file:$WORK/file.$s"); done
  /usr/bin/time -f "%U %S %e" -o "$WORK/time" "$WORK/shop" "${args[@]}" \
    --stats-json "$WORK/file.stats" 2>>"$WORK/stderr"
}
run_kafka() { # RUN [extra flags...]
  local args=(--tick-size 1000 --stop-at-end --kafka-group "bench-$1" "${@:2}")
  for t in $TABLES; do args+=(--source "$t=kafka://$KAFKA_BROKERS/$t?format=debezium"); done
  for s in $SINKS; do args+=(--sink "$s=kafka://$KAFKA_BROKERS/out_$s"); done
  /usr/bin/time -f "%U %S %e" -o "$WORK/time" "$WORK/shop" "${args[@]}" \
    --kafka-transactional-id "bench-$1" --stats-json "$WORK/kafka.stats" 2>>"$WORK/stderr"
}
run_transactions() { # RUN
  local args=(--stop-at-end --kafka-group "bench-tx-$1")
  for t in $TABLES; do
    args+=(--source "$t=kafka://$KAFKA_BROKERS/dbz.$t?format=debezium&transactions=dbz.transaction")
  done
  for s in $SINKS; do args+=(--sink "$s=kafka://$KAFKA_BROKERS/out_$s"); done
  /usr/bin/time -f "%U %S %e" -o "$WORK/time" "$WORK/shop" "${args[@]}" \
    --kafka-transactional-id "bench-tx-$1" --stats-json "$WORK/tx.stats" 2>>"$WORK/stderr"
}
export -f run_kafka run_transactions cpu_of
export WORK TABLES SINKS PARTITIONS

# The mock cluster keeps only the last few megabytes of a partition (older segments go, as
# retention would): many partitions keep every message of the input.
topics=()
for t in $TABLES; do topics+=(--topic "$t:$PARTITIONS" --topic "dbz.$t:$PARTITIONS"); done
topics+=(--topic dbz.transaction:1)
for s in $SINKS; do topics+=(--topic "out_$s:1"); done
bash "$ROOT/tests/kafka/with-mock.sh" "$MOCK" "${topics[@]}" -- bash -c '
  set -euo pipefail
  for t in $TABLES; do
    kcat -b "$KAFKA_BROKERS" -t "$t" -P -K "	" -l "$WORK/plain/$t.keyed"
    kcat -b "$KAFKA_BROKERS" -t "dbz.$t" -P -K "	" -l "$WORK/tx/$t.keyed"
  done
  kcat -b "$KAFKA_BROKERS" -t dbz.transaction -P -l "$WORK/tx/transactions.jsonl"
  for i in $(seq '"$REPEAT"'); do
    run_kafka "$i"
    cpu_of "$WORK/time" >> "$WORK/kafka.cpu"; echo >> "$WORK/kafka.cpu"
    awk "{print \$3}" "$WORK/time" >> "$WORK/kafka.wall"
    run_kafka "alo-$i" --kafka-at-least-once
    cpu_of "$WORK/time" >> "$WORK/alo.cpu"; echo >> "$WORK/alo.cpu"
    awk "{print \$3}" "$WORK/time" >> "$WORK/alo.wall"
    run_transactions "$i"
    cpu_of "$WORK/time" >> "$WORK/tx.cpu"; echo >> "$WORK/tx.cpu"
    awk "{print \$3}" "$WORK/time" >> "$WORK/tx.wall"
  done'
for i in $(seq "$REPEAT"); do
  run_files
  cpu_of "$WORK/time" >> "$WORK/file.cpu"; echo >> "$WORK/file.cpu"
  awk '{print $3}' "$WORK/time" >> "$WORK/file.wall"
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
kafka_cpu=$(median "$WORK/kafka.cpu"); file_cpu=$(median "$WORK/file.cpu")
kafka_wall=$(median "$WORK/kafka.wall"); file_wall=$(median "$WORK/file.wall")
alo_cpu=$(median "$WORK/alo.cpu"); alo_wall=$(median "$WORK/alo.wall")
tx_cpu=$(median "$WORK/tx.cpu"); tx_wall=$(median "$WORK/tx.wall")
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
printf '\nshop in Debezium JSON: %d records (%.1f MB) in %d topics/files, ticks of 1000 records, median of %d\n' \
  "$records" "$(calc "$bytes / 1000000")" "$(echo $TABLES | wc -w)" "$REPEAT"
printf '%-34s %12s %12s %16s\n' "input -> output" "cpu s" "wall s" "records/cpu-s"
printf '%-34s %12s %12s %16.0f\n' "files -> files" "$file_cpu" "$file_wall" "$(calc "$records / $file_cpu")"
printf '%-34s %12s %12s %16.0f\n' "Kafka (mock) -> Kafka, exactly-once" "$kafka_cpu" "$kafka_wall" "$(calc "$records / $kafka_cpu")"
printf '%-34s %12s %12s %16.0f\n' "Kafka (mock) -> Kafka, at least once" "$alo_cpu" "$alo_wall" "$(calc "$records / $alo_cpu")"
printf '%-34s %12s %12s %16.0f\n' "Kafka -> Kafka, upstream tx ticks" "$tx_cpu" "$tx_wall" "$(calc "$records / $tx_cpu")"
read_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$1"; }
file_read=$(read_of "$WORK/file.stats"); kafka_read=$(read_of "$WORK/kafka.stats")
tx_read=$(read_of "$WORK/tx.stats")
printf 'records read: files %s, Kafka %s, Kafka with transactions %s (%d partitions per topic)\n' \
  "$file_read" "$kafka_read" "$tx_read" "$PARTITIONS"
if [ "$file_read" != "$kafka_read" ] || [ "$file_read" != "$tx_read" ]; then
  echo "run_kafka: the Kafka run read fewer records (the mock cluster dropped old segments?): its figures are not comparable" >&2
fi
printf 'Kafka / files, records per CPU-second: %.2f exactly-once, %.2f at least once, %.2f with upstream transactions as ticks\n' \
  "$(calc "$file_cpu / $kafka_cpu")" "$(calc "$file_cpu / $alo_cpu")" "$(calc "$file_cpu / $tx_cpu")"
