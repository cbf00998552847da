#!/usr/bin/env bash
# Sets everything up, compiles the bundled shop example into one executable, runs it on the
# example's change stream and shows the maintained output of every sink.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
example=examples/shop
echo "== kiln build $example"
build/tools/kiln/kiln build "$example" --timings
echo "== $example/target/shop --input $example/data/changes.jsonl"
# The whole output goes to a file first: `| head` would close the pipe early, and with pipefail
# the program's SIGPIPE would fail the demo.
"$example/target/shop" --input "$example/data/changes.jsonl" --stats > /tmp/kiln-demo-output.jsonl
head -40 /tmp/kiln-demo-output.jsonl
echo "(full output: /tmp/kiln-demo-output.jsonl, $(wc -l < /tmp/kiln-demo-output.jsonl) changes)"
