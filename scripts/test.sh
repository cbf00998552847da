#!/usr/bin/env bash
# Sets everything up, builds Kiln and runs every test suite: GoogleTest unit tests and the lit
# suite (front end, IR passes, code generation, end-to-end runs, sqllogictest files) through
# ctest, the libFuzzer targets for 20 seconds each, the formatting check (scripts/format.sh
# --check), then the differential test against a private PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
ctest --test-dir build --output-on-failure -j2 || status=1
# The fuzz targets, briefly (tests/fuzz/run.sh SECONDS runs them longer).
bash tests/fuzz/run.sh 20 || status=1
bash scripts/format.sh --check || status=1
if [ -f tests/difftest/run.sh ]; then
  bash tests/difftest/run.sh || status=1
fi
exit $status
