#!/usr/bin/env bash
# Runs a command beside a mock Kafka cluster (tools/kiln-kafka-mock), with KAFKA_BROKERS set to
# its bootstrap servers; stops the cluster afterwards. Exits with the command's status.
#   with-mock.sh MOCK [--topic NAME[:PARTITIONS]]... -- COMMAND [ARGS...]
set -uo pipefail
mock=$1
shift
args=()
while [[ $# -gt 0 && $1 != -- ]]; do
  args+=("$1")
  shift
done
shift
dir=$(mktemp -d)
"$mock" "${args[@]}" --bootstrap-file "$dir/boot" >/dev/null 2>"$dir/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 200); do
  [[ -s $dir/boot ]] && break
  kill -0 $pid 2>/dev/null || { echo "with-mock.sh: the mock cluster did not start:" >&2; cat "$dir/log" >&2; exit 1; }
  sleep 0.05
done
KAFKA_BROKERS=$(cat "$dir/boot")
export KAFKA_BROKERS
"$@"
