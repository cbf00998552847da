#!/usr/bin/env bash
# Kills a generated executable with SIGKILL at random moments while it checkpoints, starts it
# again with the same command, and checks that the sink files of the run that finally completes
# are byte-identical to those of an uninterrupted run. Some restarts first damage the newest
# checkpoint (a flipped byte, a truncated state file), which must be detected and skipped.
#
#   crash_restart.sh --kiln PATH --gen PATH --example DIR [--kills N] [--records N] [--seed S]
#                    [--kafka TOPIC | --kafka-tables | --debezium-transactions]
#
# With --kafka, the records are produced (kcat) into TOPIC of the cluster at $KAFKA_BROKERS
# (tests/kafka/with-mock.sh) and the program reads them from there: restarts resume from the
# partitions' offsets in the checkpoint. With --kafka-tables, each table's records go to a topic
# of its own (orders, customers, ...), which the program reads together. With
# --debezium-transactions, each table's records go as Debezium events to topic dbz.SCHEMA.TABLE,
# each commit group of the input an upstream transaction whose END event goes to dbz.transaction
# (tests/kafka/to_debezium.py): ticks are those transactions, whatever order the consumer meets
# the topics in, so outputs compare byte for byte again.
#
# Prints one summary line; exits 1 at the first mismatch (the outputs are kept for a look).
set -euo pipefail

KILN="" GEN="" EXAMPLE="" KILLS=20 RECORDS=20000 SEED=1 TOPIC=""
while [ $# -gt 0 ]; do
  case "$1" in
    --kiln) KILN=$2; shift ;;
    --gen) GEN=$2; shift ;;
    --example) EXAMPLE=$2; shift ;;
    --kills) KILLS=$2; shift ;;
    --records) RECORDS=$2; shift ;;
    --seed) SEED=$2; shift ;;
    --kafka) TOPIC=$2; shift ;;
    --kafka-tables) TABLE_TOPICS=1 ;;
    --debezium-transactions) DEBEZIUM=1 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
TABLE_TOPICS=${TABLE_TOPICS:-} DEBEZIUM=${DEBEZIUM:-}
RANDOM=$SEED
WORK=$(mktemp -d /tmp/kiln-crash.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$KILN" build "$EXAMPLE" -o "$WORK/prog" >/dev/null
# Few customers and products, so that orders (and sink changes) start early even in short runs.
"$GEN" --records "$RECORDS" --commit-every 50 --seed "$SEED" --customers $((RECORDS / 20 + 1)) \
  --products $((RECORDS / 100 + 1)) -o "$WORK/input.jsonl"
SINKS=$("$WORK/prog" --help | sed -n 's/^sinks: //p' | tr -d ',')
sink_flags() {
  for sink in $SINKS; do printf -- '--sink %s=file:%s/%s.%s ' "$sink" "$WORK" "$1" "$sink"; done
}
# Ticks of 50 records, a checkpoint every 2 ticks: many checkpoints, many kills inside writes.
COMMON="--input $WORK/input.jsonl"
if [ -n "$TOPIC" ]; then
  kcat -b "$KAFKA_BROKERS" -t "$TOPIC" -P -l "$WORK/input.jsonl"
  # Ticks end at the records' commits only (no --tick-interval tick in a run of an hour), as in
  # the uninterrupted run, so outputs compare byte for byte.
  COMMON="--input kafka://$KAFKA_BROKERS/$TOPIC --stop-at-end --tick-interval 3600"
fi
if [ -n "$TABLE_TOPICS" ]; then
  # Each table's records in its own topic (named after the table), read together: their
  # interleaving, and so the ticks, differ from run to run, and the outputs are compared by their
  # sums (every change once) rather than byte for byte.
  COMMON="--stop-at-end --tick-size 50 --tick-interval 3600"
  for table in $(python3 -c 'import json,sys
print(" ".join(sorted({json.loads(l)["table"] for l in open(sys.argv[1]) if "table" in l})))' \
      "$WORK/input.jsonl"); do
    topic=${table#*.}
    grep -F "\"table\":\"$table\"" "$WORK/input.jsonl" > "$WORK/$topic.jsonl"
    kcat -b "$KAFKA_BROKERS" -t "$topic" -P -l "$WORK/$topic.jsonl"
    COMMON="$COMMON --source $table=kafka://$KAFKA_BROKERS/$topic"
  done
fi
if [ -n "$DEBEZIUM" ]; then
  COMMON="--stop-at-end --tick-interval 3600"
  tables=$(python3 "$(dirname "$0")/../kafka/to_debezium.py" "$WORK/input.jsonl" "$WORK" \
    --transactions dbz)
  kcat -b "$KAFKA_BROKERS" -t dbz.transaction -P -l "$WORK/transactions.jsonl"
  for table in $tables; do
    kcat -b "$KAFKA_BROKERS" -t "dbz.$table" -P -K "	" -l "$WORK/$table.keyed"
    COMMON="$COMMON --source $table=kafka://$KAFKA_BROKERS/dbz.$table?format=debezium&transactions=dbz.transaction"
  done
fi
same_output() { # sink
  if [ -n "$TABLE_TOPICS" ]; then
    cmp -s <(python3 "$SUM_SINKS" "$WORK/ref.$1") <(python3 "$SUM_SINKS" "$WORK/run.$1")
  else
    cmp -s "$WORK/ref.$1" "$WORK/run.$1"
  fi
}
SUM_SINKS="$(dirname "$0")/../e2e/sum-sinks.py"
seconds() { date +%s.%N; }

start=$(seconds)
# shellcheck disable=SC2046
"$WORK/prog" $COMMON $(sink_flags ref)
full=$(awk -v a="$start" -v b="$(seconds)" 'BEGIN { printf "%.4f", b - a }')
if [ "$(cat "$WORK"/ref.* | wc -l)" -eq 0 ]; then
  echo "crash_restart: the uninterrupted run wrote no changes: comparing would prove nothing" >&2
  exit 1
fi

kills=0 trials=0 damaged=0 restarts=0
while [ "$kills" -lt "$KILLS" ]; do
  trials=$((trials + 1))
  rm -rf "$WORK/ckpt" "$WORK"/run.*
  # Up to 5 kills in this trial, at random moments within an uninterrupted run's duration.
  for _ in 1 2 3 4 5; do
    [ "$kills" -ge "$KILLS" ] && break
    delay=$(awk -v f="$full" -v r=$((RANDOM % 1000)) 'BEGIN { printf "%.4f", f * r / 1000 }')
    # shellcheck disable=SC2046
    "$WORK/prog" $COMMON $(sink_flags run) --checkpoint-dir "$WORK/ckpt" --checkpoint-every 2 \
      2>>"$WORK/stderr" &
    pid=$!
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null || true
    status=0
    wait "$pid" 2>/dev/null || status=$?
    # 137: killed (128 + SIGKILL); 0: it finished first.
    [ "$status" -eq 137 ] && kills=$((kills + 1))
    restarts=$((restarts + 1))
    # Now and then, damage the newest checkpoint: the restart must fall back to the one before.
    newest=$(ls -d "$WORK"/ckpt/checkpoint-* 2>/dev/null | tail -1 || true)
    if [ -n "$newest" ] && [ -f "$newest/state.bin" ] && [ $((RANDOM % 8)) -eq 0 ]; then
      damaged=$((damaged + 1))
      if [ $((RANDOM % 2)) -eq 0 ]; then
        size=$(stat -c %s "$newest/state.bin")
        printf '\xff' | dd of="$newest/state.bin" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
      else
        truncate -s -7 "$newest/state.bin"
      fi
    fi
  done
  # shellcheck disable=SC2046
  if ! "$WORK/prog" $COMMON $(sink_flags run) --checkpoint-dir "$WORK/ckpt" \
      --checkpoint-every 2 2>>"$WORK/stderr"; then
    echo "crash_restart: the final run of trial $trials failed:" >&2
    tail -5 "$WORK/stderr" >&2
    trap - EXIT
    exit 1
  fi
  for sink in $SINKS; do
    if ! same_output "$sink"; then
      echo "crash_restart: $sink differs from the uninterrupted run after trial $trials" \
        "(kept in $WORK)" >&2
      trap - EXIT
      exit 1
    fi
  done
done
warned=$(grep -c "is damaged" "$WORK/stderr" || true)
echo "crash_restart: $kills kills in $trials trials ($restarts starts, $damaged checkpoints" \
  "damaged, $warned fallbacks): every output $([ -n "$TABLE_TOPICS" ] && echo "sums to" ||
  echo "byte-identical to") the uninterrupted run's" \
  "($RECORDS records, $(cat "$WORK"/ref.* | wc -l) changes out, uninterrupted run ${full}s)"
